// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dracut module as dracut uses it: module-setup.sh sourced by bash with
 * dracut's functions replaced by stubs that record their calls, the hooks
 * sourced (not run) by a shell, as dracut's init does, and both read by
 * bash -n / sh -n.
 */
#include <string.h>
#include <sys/stat.h>

#include "lib/testsuite.h"
#include "lib/testutil.h"

#define MODDIR "dracut/90auto-vfio"

static char *module_dir(void)
{
	return tu_fmt("%s/" MODDIR, tu_srcdir());
}

/*
 * Source module-setup.sh (its @SBINDIR@ set to @sbindir) under bash with
 * recording stubs, call @fn, and return what was recorded; "rc=N" ends it.
 */
static char *run_module(const char *sbindir, const char *sysroot, const char *fn)
{
	const char *d = tu_tmpdir();
	char *log = tu_fmt("%s/calls-%s", d, fn), *mod = tu_fmt("%s/module-setup.sh", d);
	char *script =
	    tu_fmt("rec() { printf '%%s\\n' \"$*\" >>\"$LOG\"; }\n"
		   "inst() { rec inst \"$@\"; }\n"
		   "inst_library() { rec inst_library \"$@\"; }\n"
		   "inst_simple() { rec inst_simple \"$@\"; }\n"
		   "inst_hook() { rec inst_hook \"$@\"; [ -f \"$3\" ] || rec missing \"$3\"; }\n"
		   "instmods() { rec \"instmods hostonly=[$hostonly]\" \"$@\"; }\n"
		   "dwarn() { rec dwarn \"$@\"; }\n"
		   "hostonly=yes\n"
		   "moddir=%s\n"
		   "dracutsysrootdir=%s\n"
		   ". %s\n"
		   "%s\n"
		   "rec rc=$?\n"
		   "rec after=hostonly=[$hostonly]\n",
		   module_dir(), sysroot, mod, fn);
	const char *argv[] = {"/bin/bash", "-c", script, NULL};
	const char *env[] = {tu_fmt("LOG=%s", log), "PATH=/usr/bin:/bin", NULL};
	char *sed =
	    tu_fmt("sed 's|@SBINDIR@|%s|g' %s/module-setup.sh > %s", sbindir, module_dir(), mod);
	const char *sh[] = {"/bin/sh", "-c", sed, NULL};
	struct tu_result res;

	tu_run(&res, sh, NULL, NULL);
	CHECK_INT(res.status, 0);
	tu_result_free(&res);
	tu_write(log, "");
	tu_run(&res, argv, env, NULL);
	CHECK_MSG(res.status == 0, "bash: %s", res.err);
	tu_result_free(&res);
	return tu_read(log);
}

/* A binder stand-in that answers --print-libkmod with @lib. */
static char *fake_binder(const char *lib)
{
	char *sbin = tu_fmt("%s/sbin", tu_tmpdir()), *bin = tu_fmt("%s/auto-vfio-bind", sbin);

	tu_mkdirs(sbin);
	tu_write(bin, tu_fmt("#!/bin/sh\n[ \"$1\" = --print-libkmod ] && echo %s\n", lib));
	chmod(bin, 0755);
	return sbin;
}

AV_TEST(dracut_module_syntax)
{
	const char *bash[] = {"/bin/bash", "-n", tu_fmt("%s/module-setup.sh", module_dir()), NULL};
	const char *hooks[] = {"auto-vfio-bind.sh", "auto-vfio-late.sh"};
	struct tu_result res;

	tu_run(&res, bash, NULL, NULL);
	CHECK_MSG(res.status == 0, "bash -n module-setup.sh: %s", res.err);
	tu_result_free(&res);
	for (size_t i = 0; i < 2; i++) {
		char *path = tu_fmt("%s/%s", module_dir(), hooks[i]);
		const char *sh[] = {"/bin/sh", "-n", path, NULL};

		tu_run(&res, sh, NULL, NULL);
		CHECK_MSG(res.status == 0, "sh -n %s: %s", hooks[i], res.err);
		tu_result_free(&res);
		/* sourced by dracut's init: an exit would end the init itself */
		CHECK_NOT_CONTAINS(tu_read(path), "\texit");
		CHECK_NOT_CONTAINS(tu_read(path), "\nexit");
	}
}

AV_TEST(dracut_module_check_follows_the_binder)
{
	const char *root = tu_tmpdir();
	char *sbin = fake_binder("/lib/x86_64-linux-gnu/libkmod.so.2");

	CHECK_CONTAINS(run_module(sbin, root, "check"), "rc=0\n");
	/* without the binder the module cannot work: dracut must leave it out */
	CHECK_CONTAINS(run_module(tu_fmt("%s/nowhere", root), root, "check"), "rc=1\n");
	CHECK_CONTAINS(run_module(sbin, root, "depends"), "rc=0\n");
}

AV_TEST(dracut_module_installkernel_ignores_hostonly)
{
	const char *root = tu_tmpdir();
	char *calls = run_module(fake_binder("/x/libkmod.so.2"), root, "installkernel");

	CHECK_CONTAINS(calls,
		       "instmods hostonly=[] vfio vfio_iommu_type1 vfio_pci_core vfio_pci\n");
	/* vfio_virqfd is gone since 6.2 */
	CHECK_NOT_CONTAINS(calls, "virqfd");
	/* hostonly is back as it was for the modules after ours */
	CHECK_CONTAINS(calls, "after=hostonly=[yes]\n");
	CHECK_CONTAINS(calls, "rc=0\n");
}

AV_TEST(dracut_module_install_binder_hooks_and_options)
{
	const char *root = tu_tmpdir();
	char *lib = tu_fmt("%s/libkmod.so.2", root);
	char *sbin, *calls;

	tu_write(lib, "\177ELF");
	sbin = fake_binder(lib);
	calls = run_module(sbin, root, "install");
	CHECK_CONTAINS(calls, tu_fmt("inst %s/auto-vfio-bind /sbin/auto-vfio-bind\n", sbin));
	CHECK_CONTAINS(calls, tu_fmt("inst_library %s\n", lib));
	CHECK_CONTAINS(calls, tu_fmt("inst_hook pre-udev 00 %s/auto-vfio-bind.sh\n", module_dir()));
	CHECK_CONTAINS(calls,
		       tu_fmt("inst_hook pre-mount 00 %s/auto-vfio-late.sh\n", module_dir()));
	CHECK_NOT_CONTAINS(calls, "missing");
	/* no options file under this root: none to install */
	CHECK_NOT_CONTAINS(calls, "inst_simple");
	CHECK_CONTAINS(calls, "rc=0\n");

	tu_write(tu_fmt("%s/etc/modprobe.d/auto-vfio.conf", root),
		 "softdep amdgpu pre: vfio-pci\n");
	calls = run_module(sbin, root, "install");
	CHECK_CONTAINS(calls, "inst_simple /etc/modprobe.d/auto-vfio.conf\n");

	/* libkmod not where the binder says: a warning, and the image is still built */
	calls = run_module(fake_binder(tu_fmt("%s/gone.so", root)), root, "install");
	CHECK_CONTAINS(calls, "dwarn auto-vfio: libkmod not found");
	CHECK_NOT_CONTAINS(calls, "inst_library");
	CHECK_CONTAINS(calls, "rc=0\n");
}

/* The hooks sourced by a shell under set -e, as a failing step would stop it. */
AV_TEST(dracut_hooks_never_end_the_init)
{
	const char *hooks[] = {"auto-vfio-bind.sh", "auto-vfio-late.sh"};

	for (size_t i = 0; i < 2; i++) {
		char *script =
		    tu_fmt("set -e\n. %s/%s\necho init-goes-on\n", module_dir(), hooks[i]);
		const char *argv[] = {"/bin/sh", "-c", script, NULL};
		struct tu_result res;

		tu_run(&res, argv, NULL, NULL);
		CHECK_MSG(res.status == 0, "%s: status %d: %s", hooks[i], res.status, res.err);
		CHECK_CONTAINS(res.out, "init-goes-on\n");
		tu_result_free(&res);
	}
}
