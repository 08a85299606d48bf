// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernels in /boot as GRUB's 10_linux lists them: its junk left out
 * (signed and package-manager copies, signatures), newest first by dpkg's
 * version order, each with the initrd found beside it or none, on
 * tests/data/roots/boot-kernels.
 */
#include <errno.h>
#include <string.h>

#include "ctx.h"
#include "kernels.h"
#include "lib/testroot.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

/* "VERSION IMAGE INITRD" a line, "-" for no initrd. */
static char *render(const struct av_kernel *k, int n)
{
	char *out = tu_fmt("%s", "");

	for (int i = 0; i < n; i++)
		out = tu_fmt("%s%s %s %s\n", out, k[i].version, k[i].image,
			     k[i].initrd ? k[i].initrd : "-");
	return out;
}

AV_TEST_ROOTFS(kernels_found_and_ordered_like_10_linux, "boot-kernels")
{
	struct av_kernel *k;
	struct av_ctx ctx;
	int n;

	tu_ctx(&ctx, tu_rootfs());
	n = av_kernels_find(&ctx, &k);
	/*
	 * 10 after 9 (numbers, not characters), a release candidate before its
	 * release, "x.old" after x; the /boot/vmlinuz link and a directory are
	 * no kernels. The initrd names of initramfs-tools come first, dracut's
	 * count too.
	 */
	CHECK_STR(render(k, n), "6.5.0-1-amd64 vmlinuz-6.5.0-1-amd64 initrd.img-6.5.0-1-amd64\n"
				"6.5.0-rc7-amd64 vmlinuz-6.5.0-rc7-amd64 "
				"initramfs-6.5.0-rc7-amd64.img\n"
				"6.1.0-10-amd64 vmlinuz-6.1.0-10-amd64 initrd.img-6.1.0-10-amd64\n"
				"6.1.0-10-amd64.old vmlinuz-6.1.0-10-amd64.old -\n"
				"6.1.0-9-amd64 vmlinuz-6.1.0-9-amd64 -\n");
	/* a name unfit for an entry's id or title is left out, and said */
	CHECK_CONTAINS(tu_log(), "vmlinuz-6.1.0-10-amd64 (copy): unusual kernel version, left out");
	av_kernels_free(k, (size_t)n);
}

/* The order does not depend on the order the directory lists the files in. */
AV_TEST(kernels_order_of_many_versions)
{
	static const char *const newest_first[] = {
	    "6.10.0-1-amd64",	"6.9.12-amd64",	   "6.9.0-1-amd64",  "6.9.0-rc1-amd64",
	    "6.9.0-pre1-amd64", "5.10.0-30-amd64", "5.10.0-9-amd64", "4.19.0-26-amd64",
	};
	static const unsigned create_order[] = {4, 0, 7, 2, 6, 1, 5, 3};
	const char *r = tu_tmpdir();
	struct av_kernel *k;
	struct av_ctx ctx;
	int n;

	for (size_t i = 0; i < 8; i++)
		tu_write(tu_fmt("%s/boot/vmlinuz-%s", r, newest_first[create_order[i]]), "k");
	tu_ctx(&ctx, r);
	n = av_kernels_find(&ctx, &k);
	CHECK_INT(n, 8);
	for (int i = 0; i < n; i++)
		CHECK_STR(k[i].version, newest_first[i]);
	av_kernels_free(k, (size_t)n);
}

/* No /boot: an error, logged; an empty one: no kernels. */
AV_TEST(kernels_missing_or_empty_boot)
{
	const char *r = tu_tmpdir();
	struct av_kernel *k;
	struct av_ctx ctx;

	tu_ctx(&ctx, r);
	CHECK_INT(av_kernels_find(&ctx, &k), -ENOENT);
	CHECK(k == NULL);
	CHECK_CONTAINS(tu_log(), "/boot: ");
	tu_mkdirs(tu_fmt("%s/boot", r));
	tu_write(tu_fmt("%s/boot/initrd.img-6.1.0-10-amd64", r), "i");
	CHECK_INT(av_kernels_find(&ctx, &k), 0);
	av_kernels_free(k, 0);
}
