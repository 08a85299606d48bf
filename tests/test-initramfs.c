// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading initramfs images built here with the real cpio, gzip, zstd and xz,
 * laid out as Debian's mkinitramfs lays them out: an uncompressed early
 * archive (microcode) followed by the compressed main archive.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "initramfs.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

static void sh(const char *cmd)
{
	const char *argv[] = {"/bin/sh", "-ec", cmd, NULL};
	struct tu_result r;

	tu_run(&r, argv, NULL, NULL);
	CHECK_MSG(r.status == 0, "'%s' failed (%d): %s", cmd, r.status, r.err);
	tu_result_free(&r);
}

static void need(const char *tool)
{
	if (!tu_exists(tu_fmt("/usr/bin/%s", tool)) && !tu_exists(tu_fmt("/bin/%s", tool)))
		av_test_skip("no %s", tool);
}

/* A tree like the main archive of an auto-vfio initramfs for kernel @rel. */
static char *main_tree(const char *rel, bool binder)
{
	char *d = tu_fmt("%s/main", tu_tmpdir());

	tu_write(tu_fmt("%s/init", d), "#!/bin/sh\n");
	tu_write(tu_fmt("%s/scripts/init-top/auto-vfio", d), "#!/bin/sh\n");
	tu_write(tu_fmt("%s/scripts/init-top/udev", d), "#!/bin/sh\n");
	if (binder)
		tu_write(tu_fmt("%s/usr/sbin/auto-vfio-bind", d), "\177ELF");
	tu_write(tu_fmt("%s/usr/lib/modules/%s/kernel/drivers/vfio/pci/vfio-pci.ko", d, rel),
		 "\177ELF");
	tu_write(tu_fmt("%s/usr/lib/modules/%s/kernel/drivers/vfio/vfio.ko", d, rel), "\177ELF");
	tu_symlink("usr/lib", tu_fmt("%s/lib", d));
	return d;
}

static char *early_tree(void)
{
	char *d = tu_fmt("%s/early", tu_tmpdir());

	tu_write(tu_fmt("%s/kernel/x86/microcode/GenuineIntel.bin", d), "microcode");
	return d;
}

static void log_to_buf(void *data, int prio, const char *fmt, va_list ap)
{
	char **buf = data;
	char *msg, *n;

	(void)prio;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	n = tu_fmt("%s%s\n", *buf ? *buf : "", msg);
	free(msg);
	*buf = n;
}

static int list(const char *root, const char *img, struct av_initramfs *ir, char **log)
{
	struct av_ctx ctx;

	*log = NULL;
	CHECK_INT(av_ctx_init(&ctx, root), 0);
	av_ctx_set_log(&ctx, log_to_buf, log, AV_LOG_DEBUG);
	return av_initramfs_list(&ctx, img, ir);
}

AV_TEST(initramfs_gzip_main_archive)
{
	const char *t = tu_tmpdir();
	char *m = main_tree("6.1.0-18-amd64", true), *log;
	struct av_initramfs ir;

	need("cpio");
	sh(tu_fmt("cd %s && find . | LC_ALL=C sort | cpio --quiet -o -H newc | gzip -9 > "
		  "%s/boot/initrd.img",
		  m, (tu_mkdirs(tu_fmt("%s/boot", t)), t)));
	CHECK_INT(list(t, "/boot/initrd.img", &ir, &log), 0);
	CHECK_STR(ir.format, "gzip");
	CHECK_STR(av_initramfs_find(&ir, "*bin/auto-vfio-bind"), "usr/sbin/auto-vfio-bind");
	CHECK(av_initramfs_find(&ir, "scripts/init-top/auto-vfio*"));
	CHECK(av_initramfs_find(&ir, "*lib/modules/6.1.0-18-amd64/*/vfio[-_]pci.ko*"));
	CHECK(av_initramfs_find(&ir, "lib"));
	/* "." itself and the "./" of find's names are not members */
	CHECK(!av_initramfs_find(&ir, "."));
	CHECK(!av_initramfs_find(&ir, "./*"));
	CHECK(!av_initramfs_find(&ir, "*ucode*"));
	av_initramfs_release(&ir);
}

AV_TEST(initramfs_early_cpio_then_zstd_as_debian)
{
	const char *t = tu_tmpdir();
	char *m = main_tree("6.1.0-18-amd64", true), *e = early_tree(), *log;
	struct av_initramfs ir;

	need("cpio");
	need("zstd");
	tu_mkdirs(tu_fmt("%s/boot", t));
	/* what mkinitramfs does: early archive, then the compressed main one */
	sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc > %s/boot/img", e, t));
	sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc | zstd -q -19 >> %s/boot/img", m, t));
	CHECK_INT(list(t, "/boot/img", &ir, &log), 0);
	CHECK_STR(ir.format, "cpio+zstd");
	CHECK(av_initramfs_find(&ir, "kernel/x86/microcode/GenuineIntel.bin"));
	CHECK(av_initramfs_find(&ir, "usr/sbin/auto-vfio-bind"));
	CHECK(av_initramfs_find(&ir, "*lib/modules/6.1.0-18-amd64/*/vfio.ko*"));
	av_initramfs_release(&ir);
}

AV_TEST(initramfs_xz_and_padding)
{
	const char *t = tu_tmpdir();
	char *m = main_tree("6.1.0-18-amd64", false), *e = early_tree(), *log;
	struct av_initramfs ir;

	need("cpio");
	need("xz");
	tu_mkdirs(tu_fmt("%s/boot", t));
	/* the kernel skips zero padding between archives */
	sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc > %s/boot/img && "
		  "head -c 512 /dev/zero >> %s/boot/img",
		  e, t, t));
	sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc | xz --check=crc32 >> %s/boot/img", m,
		  t));
	CHECK_INT(list(t, "/boot/img", &ir, &log), 0);
	CHECK_STR(ir.format, "cpio+xz");
	CHECK(!av_initramfs_find(&ir, "*bin/auto-vfio-bind"));
	CHECK(av_initramfs_find(&ir, "scripts/init-top/udev"));
	av_initramfs_release(&ir);
}

AV_TEST(initramfs_concatenated_gzip_members)
{
	const char *t = tu_tmpdir();
	char *m = main_tree("6.1.0-18-amd64", true), *e = early_tree(), *log;
	struct av_initramfs ir;

	need("cpio");
	tu_mkdirs(tu_fmt("%s/boot", t));
	sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc | gzip > %s/boot/img", e, t));
	sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc | gzip >> %s/boot/img", m, t));
	CHECK_INT(list(t, "/boot/img", &ir, &log), 0);
	CHECK(av_initramfs_find(&ir, "kernel/x86/microcode/GenuineIntel.bin"));
	CHECK(av_initramfs_find(&ir, "usr/sbin/auto-vfio-bind"));
	av_initramfs_release(&ir);
}

AV_TEST(initramfs_missing_decompressor_names_package)
{
	const char *t = tu_tmpdir();
	char *m = main_tree("6.1.0-18-amd64", true), *log;
	struct av_initramfs ir;

	need("cpio");
	need("zstd");
	tu_mkdirs(tu_fmt("%s/boot", t));
	sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc | zstd -q > %s/boot/img", m, t));
	/* a PATH without zstd on it */
	setenv("PATH", tu_fmt("%s/empty", t), 1);
	tu_mkdirs(tu_fmt("%s/empty", t));
	CHECK_INT(list(t, "/boot/img", &ir, &log), -ENOPKG);
	CHECK_CONTAINS(log, "/boot/img: zstd-compressed");
	CHECK_CONTAINS(log, "apt-get install zstd");
}

AV_TEST(initramfs_damaged_images_are_errors)
{
	const char *t = tu_tmpdir();
	char *m = main_tree("6.1.0-18-amd64", true), *log;
	struct av_initramfs ir;

	need("cpio");
	tu_write(tu_fmt("%s/boot/garbage", t), "this is not an initramfs\n");
	CHECK_INT(list(t, "/boot/garbage", &ir, &log), -EINVAL);
	CHECK_CONTAINS(log, "/boot/garbage: not a readable initramfs");
	tu_write(tu_fmt("%s/boot/empty", t), "");
	CHECK_INT(list(t, "/boot/empty", &ir, &log), -EINVAL);
	CHECK_INT(list(t, "/boot/none", &ir, &log), -ENOENT);
	/* cut in the middle of the compressed stream, and of a plain archive */
	sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc | gzip > %s/full && "
		  "head -c 200 %s/full > %s/boot/cut-gz && "
		  "find . | cpio --quiet -o -H newc | head -c 300 > %s/boot/cut-cpio",
		  m, t, t, t, t));
	CHECK_INT(list(t, "/boot/cut-gz", &ir, &log), -EINVAL);
	CHECK_INT(list(t, "/boot/cut-cpio", &ir, &log), -EINVAL);
	/* a damaged zstd stream: the tool fails and we say so */
	if (tu_exists("/usr/bin/zstd")) {
		sh(tu_fmt("cd %s && find . | cpio --quiet -o -H newc | zstd -q > %s/z && "
			  "head -c 100 %s/z > %s/boot/cut-zst",
			  m, t, t, t));
		CHECK(list(t, "/boot/cut-zst", &ir, &log) < 0);
		CHECK_CONTAINS(log, "cut-zst");
	}
}
