// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio boot-next: the entries of a grub.cfg, and next_entry through grub-editenv. */
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/testsuite.h"
#include "lib/testutil.h"

static const char grub_cfg[] =
    "menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-x' {\n"
    "\tlinux\t/vmlinuz root=/dev/sda1\n"
    "}\n"
    "menuentry 'Linux 6.1 (auto-vfio: host keeps Bob'\\''s GPU at 0000:01:00.0)' --class os "
    "--id 'auto-vfio-host-0000:01:00.0' {\n"
    "\tlinux\t/vmlinuz-6.1 auto_vfio.bind=0000:02:00.0@10de:1b81\n"
    "}\n"
    "menuentry 'Linux 6.1 (auto-vfio: headless host)' --id 'auto-vfio-headless' {\n"
    "\tlinux\t/vmlinuz-6.1\n"
    "}\n"
    "submenu 'auto-vfio: older kernels' --id 'auto-vfio-older' {\n"
    "\tmenuentry 'Linux 6.0 (auto-vfio: headless host)' --id 'auto-vfio-6.0-headless' {\n"
    "\t\tlinux\t/vmlinuz-6.0\n"
    "\t}\n"
    "}\n";

/*
 * A grub-probe on PATH answering --target=fs and --target=abstraction from
 * @fs and @abs ("" prints nothing; NULL: no grub-probe that works).
 */
static const char *probe_path(const char *fs, const char *abs)
{
	const char *dir = tu_fmt("%s/probe-%d", tu_tmpdir(), rand());
	const char *p = tu_fmt("%s/grub-probe", dir);

	tu_write(p, fs ? tu_fmt("#!/bin/sh\n"
				"case $1 in --target=fs) echo '%s' ;; "
				"--target=abstraction) printf '%s' ;; *) exit 1 ;; esac\n",
				fs, abs)
		       : "#!/bin/sh\necho 'grub-probe: error: failed to get canonical path' >&2\n"
			 "exit 1\n");
	chmod(p, 0755);
	return tu_fmt("PATH=%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
}

static int run_env(struct tu_result *res, const char *r, const char *arg, const char *path)
{
	const char *argv[] = {tu_prog("auto-vfio"), "--root", r, "boot-next", arg, NULL};
	const char *env[] = {path, NULL};

	tu_run(res, argv, path ? env : NULL, NULL);
	return res->status;
}

static int run(struct tu_result *res, const char *r, const char *arg)
{
	return run_env(res, r, arg, probe_path("ext2", ""));
}

static char *next_entry(const char *r)
{
	const char *argv[] = {"/usr/bin/grub-editenv", tu_fmt("%s/boot/grub/grubenv", r), "list",
			      NULL};
	struct tu_result res;

	tu_run(&res, argv, NULL, NULL);
	CHECK_INT(res.status, 0);
	return res.out;
}

AV_TEST(bootnext_lists_and_picks)
{
	const char *r = tu_tmpdir();
	struct tu_result res;

	tu_write(tu_fmt("%s/boot/grub/grub.cfg", r), grub_cfg);
	CHECK_INT(run(&res, r, NULL), 0);
	CHECK_CONTAINS(res.out,
		       "auto-vfio-host-0000:01:00.0\n"
		       "    Linux 6.1 (auto-vfio: host keeps Bob's GPU at 0000:01:00.0)\n");
	CHECK_CONTAINS(res.out, "auto-vfio-older>auto-vfio-6.0-headless\n");
	CHECK_NOT_CONTAINS(res.out, "gnulinux-simple");
	tu_result_free(&res);

	/* by the kept GPU's address, short or long */
	CHECK_INT(run(&res, r, "01:00.0"), 0);
	CHECK_CONTAINS(next_entry(r), "next_entry=auto-vfio-host-0000:01:00.0\n");
	tu_result_free(&res);
	/* headless: the newest kernel's, not the submenu's */
	CHECK_INT(run(&res, r, "headless"), 0);
	CHECK_CONTAINS(next_entry(r), "next_entry=auto-vfio-headless\n");
	tu_result_free(&res);
	/* a full id inside the submenu */
	CHECK_INT(run(&res, r, "auto-vfio-older>auto-vfio-6.0-headless"), 0);
	CHECK_CONTAINS(next_entry(r), "next_entry=auto-vfio-older>auto-vfio-6.0-headless\n");
	tu_result_free(&res);
}

AV_TEST(bootnext_errors)
{
	const char *r = tu_tmpdir();
	struct tu_result res;

	CHECK_INT(run(&res, r, NULL), 1);
	CHECK_CONTAINS(res.err, "/boot/grub/grub.cfg");
	tu_result_free(&res);
	tu_write(tu_fmt("%s/boot/grub/grub.cfg", r), grub_cfg);
	CHECK_INT(run(&res, r, "0000:09:00.0"), 2);
	CHECK_CONTAINS(res.err, "no auto-vfio entry '0000:09:00.0'");
	CHECK(!tu_exists(tu_fmt("%s/boot/grub/grubenv", r)));
	tu_result_free(&res);
	tu_write(tu_fmt("%s/boot/grub/grub.cfg", r), "menuentry 'Debian' --id 'gnulinux' {\n}\n");
	CHECK_INT(run(&res, r, NULL), 1);
	CHECK_CONTAINS(res.err, "no auto-vfio entries");
	tu_result_free(&res);
}

/* Where GRUB cannot write grubenv, next_entry would never clear: refused. */
AV_TEST(bootnext_refuses_where_grub_cannot_write)
{
	static const struct {
		const char *fs, *abs, *what;
	} no[] = {
	    {"btrfs", "", "btrfs"},
	    {"zfs", "", "zfs"},
	    {"ext2", "lvm\n", "lvm"},
	    {"ext2", "diskfilter\nmdraid1x\n", "diskfilter"},
	    {"ext2", "cryptodisk\nluks\n", "cryptodisk"},
	};
	const char *r = tu_tmpdir();
	struct tu_result res;

	tu_write(tu_fmt("%s/boot/grub/grub.cfg", r), grub_cfg);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		CHECK_INT(run_env(&res, r, "headless", probe_path(no[i].fs, no[i].abs)), 1);
		CHECK_CONTAINS(res.err, tu_fmt("/boot/grub is on %s", no[i].what));
		CHECK_CONTAINS(res.err, "cannot write its environment block");
		CHECK(!tu_exists(tu_fmt("%s/boot/grub/grubenv", r)));
		tu_result_free(&res);
	}
	/* listing still works there */
	CHECK_INT(run_env(&res, r, NULL, probe_path("btrfs", "")), 0);
	CHECK_CONTAINS(res.out, "auto-vfio-headless\n");
	tu_result_free(&res);
	/* grub-probe cannot tell (a chroot, a sandbox): said, then done */
	CHECK_INT(run_env(&res, r, "headless", probe_path(NULL, NULL)), 0);
	CHECK_CONTAINS(res.err, "grub-probe cannot tell");
	CHECK_CONTAINS(next_entry(r), "next_entry=auto-vfio-headless\n");
	tu_result_free(&res);
}
