// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio boot-next: the entries of a grub.cfg, and next_entry through grub-editenv. */
#include "lib/testsuite.h"
#include "lib/testutil.h"

static const char grub_cfg[] =
    "menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-x' {\n"
    "\tlinux\t/vmlinuz root=/dev/sda1\n"
    "}\n"
    "menuentry 'Linux 6.1 (auto-vfio: host keeps Bob'\\''s GPU at 0000:01:00.0)' --class os "
    "--id 'auto-vfio-6.1-host-0000:01:00.0' {\n"
    "\tlinux\t/vmlinuz-6.1 auto_vfio.bind=0000:02:00.0@10de:1b81\n"
    "}\n"
    "menuentry 'Linux 6.1 (auto-vfio: headless host)' --id 'auto-vfio-6.1-headless' {\n"
    "\tlinux\t/vmlinuz-6.1\n"
    "}\n"
    "submenu 'auto-vfio: older kernels' --id 'auto-vfio-older' {\n"
    "\tmenuentry 'Linux 6.0 (auto-vfio: headless host)' --id 'auto-vfio-6.0-headless' {\n"
    "\t\tlinux\t/vmlinuz-6.0\n"
    "\t}\n"
    "}\n";

static int run(struct tu_result *res, const char *r, const char *arg)
{
	const char *argv[] = {tu_prog("auto-vfio"), "--root", r, "boot-next", arg, NULL};

	tu_run(res, argv, NULL, NULL);
	return res->status;
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
		       "auto-vfio-6.1-host-0000:01:00.0\n"
		       "    Linux 6.1 (auto-vfio: host keeps Bob's GPU at 0000:01:00.0)\n");
	CHECK_CONTAINS(res.out, "auto-vfio-older>auto-vfio-6.0-headless\n");
	CHECK_NOT_CONTAINS(res.out, "gnulinux-simple");
	tu_result_free(&res);

	/* by the kept GPU's address, short or long */
	CHECK_INT(run(&res, r, "01:00.0"), 0);
	CHECK_CONTAINS(next_entry(r), "next_entry=auto-vfio-6.1-host-0000:01:00.0\n");
	tu_result_free(&res);
	/* headless: the newest kernel's, not the submenu's */
	CHECK_INT(run(&res, r, "headless"), 0);
	CHECK_CONTAINS(next_entry(r), "next_entry=auto-vfio-6.1-headless\n");
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
