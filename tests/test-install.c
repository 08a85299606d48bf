// SPDX-License-Identifier: GPL-2.0-or-later
/* make install into a DESTDIR: every piece where initramfs-tools and GRUB look for it. */
#include <sys/stat.h>
#include <unistd.h>

#include "lib/testsuite.h"
#include "lib/testutil.h"

static void check_exec(const char *path)
{
	struct stat st;

	CHECK_MSG(stat(path, &st) == 0, "%s is missing", path);
	CHECK_MSG(S_ISREG(st.st_mode) && (st.st_mode & 0111) == 0111, "%s is not executable", path);
}

static void check_script(const char *path, const char *must)
{
	char *text = tu_read(path);
	const char *argv[] = {"/bin/sh", "-n", path, NULL};
	struct tu_result res;

	check_exec(path);
	CHECK_CONTAINS(text, must);
	/* every placeholder substituted */
	CHECK_NOT_CONTAINS(text, "@SBINDIR@");
	tu_run(&res, argv, NULL, NULL);
	CHECK_MSG(res.status == 0, "%s: sh -n: %s", path, res.err);
	tu_result_free(&res);
}

AV_TEST_T(install_into_destdir, 300)
{
	const char *d = tu_tmpdir();
	char *build = tu_fmt("BUILD=%s", tu_build()), *dest = tu_fmt("DESTDIR=%s", d);
	const char *argv[] = {"/usr/bin/make",	"-s",	   "-C", tu_srcdir(), build, dest,
			      "PREFIX=/opt/av", "install", NULL};
	struct tu_result res;

	tu_run(&res, argv, NULL, NULL);
	CHECK_MSG(res.status == 0, "make install: %s%s", res.out, res.err);
	tu_result_free(&res);
	check_exec(tu_fmt("%s/opt/av/sbin/auto-vfio", d));
	check_exec(tu_fmt("%s/opt/av/sbin/auto-vfio-bind", d));
	check_exec(tu_fmt("%s/opt/av/sbin/auto-vfio-grub", d));
	check_exec(tu_fmt("%s/opt/av/sbin/auto-vfio-bls", d));
	/* initramfs-tools and GRUB look in fixed places, whatever PREFIX is */
	check_script(tu_fmt("%s/usr/share/initramfs-tools/hooks/auto-vfio", d),
		     "BINDER=/opt/av/sbin/auto-vfio-bind");
	check_script(tu_fmt("%s/usr/share/initramfs-tools/scripts/init-top/auto-vfio", d),
		     "/sbin/auto-vfio-bind");
	check_script(tu_fmt("%s/usr/share/initramfs-tools/scripts/init-premount/auto-vfio", d),
		     "/sbin/auto-vfio-bind");
	check_script(tu_fmt("%s/etc/grub.d/42_auto-vfio", d), "/opt/av/sbin/auto-vfio-grub");
	/* dracut's modules live in one fixed place too */
	check_script(tu_fmt("%s/usr/lib/dracut/modules.d/90auto-vfio/module-setup.sh", d),
		     "AUTO_VFIO_BINDER=/opt/av/sbin/auto-vfio-bind");
	check_script(tu_fmt("%s/usr/lib/dracut/modules.d/90auto-vfio/auto-vfio-bind.sh", d),
		     "/sbin/auto-vfio-bind");
	check_script(tu_fmt("%s/usr/lib/dracut/modules.d/90auto-vfio/auto-vfio-late.sh", d),
		     "/sbin/auto-vfio-bind");
	/* kernel-install runs its plugins from here, after 90-loaderentry */
	check_script(tu_fmt("%s/usr/lib/kernel/install.d/95-auto-vfio.install", d),
		     "BACKEND=/opt/av/sbin/auto-vfio-bls");
	CHECK(tu_exists(tu_fmt("%s/opt/av/share/man/man8/auto-vfio-bls.8", d)));
	CHECK(tu_exists(tu_fmt("%s/opt/av/share/man/man8/auto-vfio.8", d)));
	CHECK(tu_exists(tu_fmt("%s/opt/av/share/man/man8/auto-vfio-bind.8", d)));
	CHECK(tu_exists(tu_fmt("%s/opt/av/share/man/man5/auto-vfio.conf.5", d)));
	CHECK(tu_exists(tu_fmt("%s/opt/av/share/bash-completion/completions/auto-vfio", d)));
}
