// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The boot chain setup, status and uninstall find on a fixture machine:
 * which generator builds the images (initramfs-tools, dracut) and which
 * loader boots (GRUB, BLS entries), what they run for each, and the clear
 * refusal, before any change, where the chain is unknown or ambiguous.
 */
#include <string.h>

#include "lib/testroot.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

#define MACHINE "iommu/011-asus-z690-alderlake-rx6700xt-rx550.txt"

/* A fixture machine with nothing of a boot chain yet. */
static char *bare_machine(void)
{
	return tu_machine(MACHINE, "debian-base", NULL);
}

/* Debian with GRUB and the dracut package (its kernel hook beside dracut-core). */
static char *dracut_grub_machine(void)
{
	char *r = bare_machine();

	tu_write(tu_fmt("%s/etc/default/grub", r), "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
	tu_write(tu_fmt("%s/etc/kernel/postinst.d/dracut", r), "#!/bin/sh\n");
	tu_write(tu_fmt("%s/usr/bin/dracut", r), "#!/bin/bash\n");
	return r;
}

static char *digest(const char *r)
{
	return tu_fmt("%s--\n%s--\n%s", tu_tree_digest(tu_fmt("%s/etc", r)),
		      tu_tree_digest(tu_fmt("%s/var", r)), tu_tree_digest(tu_fmt("%s/boot", r)));
}

#define RUN(res, r, env, ...) TU_CLI_ENV(res, r, env, __VA_ARGS__)

AV_TEST(bootchain_dracut_runs_dracut)
{
	char *r = dracut_grub_machine(), *before = digest(r);
	const char *env[] = {"AUTO_VFIO_UPDATE_INITRAMFS=echo images: $0", NULL};
	struct tu_result res;

	CHECK_INT(RUN(&res, r, NULL, "setup", "--multiboot", "--select", "03:00.0", "--dry-run"),
		  0);
	CHECK_CONTAINS(res.out, "Boot chain: initramfs by dracut (/etc/kernel/postinst.d/dracut), "
				"boot loader GRUB (/etc/default/grub).\n");
	CHECK_CONTAINS(res.out, "Then run: dracut --regenerate-all --force; update-grub\n");
	CHECK_NOT_CONTAINS(res.out, "update-initramfs");
	CHECK_STR(digest(r), before);
	tu_result_free(&res);

	/* a prefixed root is not the running system: the command is named, not run */
	CHECK_INT(RUN(&res, r, NULL, "setup", "--multiboot", "--select", "03:00.0", "--yes"), 0);
	CHECK_CONTAINS(res.out, "Skipped 'dracut --regenerate-all --force'");
	tu_result_free(&res);

	CHECK_INT(RUN(&res, r, env, "uninstall"), 0);
	CHECK_CONTAINS(res.out, "Boot chain: initramfs by dracut");
	CHECK_CONTAINS(res.out, "Updating the initramfs images: echo images");
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, NULL, "uninstall", "--no-update"), 0);
	tu_result_free(&res);
}

AV_TEST(bootchain_dracut_core_beside_initramfs_tools)
{
	char *r = bare_machine();
	struct tu_result res;

	/* dracut-core alone does not build the images: initramfs-tools does */
	tu_write(tu_fmt("%s/etc/default/grub", r), "GRUB_TIMEOUT=5\n");
	tu_write(tu_fmt("%s/usr/bin/dracut", r), "#!/bin/bash\n");
	tu_write(tu_fmt("%s/usr/sbin/update-initramfs", r), "#!/bin/sh\n");
	CHECK_INT(RUN(&res, r, NULL, "setup", "--static", "--select", "03:00.0", "--dry-run"), 0);
	CHECK_CONTAINS(res.out, "initramfs by initramfs-tools (/usr/sbin/update-initramfs)");
	CHECK_CONTAINS(res.out, "Then run: update-initramfs -u -k all; update-grub\n");
	tu_result_free(&res);
}

AV_TEST(bootchain_unknown_is_refused_before_any_change)
{
	char *r = bare_machine(), *before;
	struct tu_result res;

	/* a loader but no generator */
	tu_write(tu_fmt("%s/etc/default/grub", r), "GRUB_TIMEOUT=5\n");
	before = digest(r);
	CHECK_INT(RUN(&res, r, NULL, "setup", "--multiboot", "--select", "03:00.0", "--yes"), 1);
	CHECK_CONTAINS(res.err, "no initramfs generator found (initramfs-tools or dracut): "
				"nothing was changed");
	CHECK_STR(digest(r), before);
	tu_result_free(&res);

	/* a generator but no loader */
	r = bare_machine();
	tu_write(tu_fmt("%s/etc/kernel/postinst.d/dracut", r), "#!/bin/sh\n");
	before = digest(r);
	CHECK_INT(RUN(&res, r, NULL, "setup", "--static", "--select", "03:00.0", "--yes"), 1);
	CHECK_CONTAINS(res.err, "no boot loader found");
	CHECK_STR(digest(r), before);
	tu_result_free(&res);
}

AV_TEST(bootchain_both_loaders_need_a_word)
{
	char *r = dracut_grub_machine(), *before;
	const char *grub[] = {"AUTO_VFIO_BOOT_LOADER=grub", NULL};
	const char *bad[] = {"AUTO_VFIO_BOOT_LOADER=lilo", NULL};
	struct tu_result res;

	tu_mkdirs(tu_fmt("%s/boot/efi/loader/entries", r));
	before = digest(r);
	CHECK_INT(RUN(&res, r, NULL, "setup", "--multiboot", "--select", "03:00.0", "--yes"), 1);
	CHECK_CONTAINS(res.out, "boot loader ambiguous (/etc/default/grub and "
				"/boot/efi/loader/entries)");
	CHECK_CONTAINS(res.err, "AUTO_VFIO_BOOT_LOADER=grub or AUTO_VFIO_BOOT_LOADER=systemd-boot");
	CHECK_STR(digest(r), before);
	tu_result_free(&res);
	/* an unknown name is no answer */
	CHECK_INT(RUN(&res, r, bad, "setup", "--multiboot", "--select", "03:00.0", "--yes"), 1);
	CHECK_STR(digest(r), before);
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, grub, "setup", "--multiboot", "--select", "03:00.0", "--dry-run"),
		  0);
	CHECK_CONTAINS(res.out, "boot loader GRUB ($AUTO_VFIO_BOOT_LOADER=grub)");
	tu_result_free(&res);
}

AV_TEST(bootchain_said_by_status)
{
	char *r = dracut_grub_machine();
	struct tu_result res;

	RUN(&res, r, NULL, "status");
	CHECK_CONTAINS(res.out, "bootchain   initramfs by dracut (/etc/kernel/postinst.d/dracut), "
				"boot loader GRUB (/etc/default/grub)");
	tu_result_free(&res);
	RUN(&res, bare_machine(), NULL, "status", "--json");
	CHECK_CONTAINS(res.out, "{\"check\": \"bootchain\", \"severity\": \"warning\"");
	tu_result_free(&res);
}
