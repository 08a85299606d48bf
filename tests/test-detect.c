// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding VFIO setups made by hand (kernel parameters in the GRUB defaults,
 * module lines for the initramfs and the boot, modprobe options, softdeps and
 * blacklists, the running command line, devices on vfio-pci) and disabling
 * them line by line, on tests/data/roots/handmade-vfio.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "detect.h"
#include "lib/testroot.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "manifest.h"

static const char *const kinds[] = {"param", "line", "cmdline", "bound"};

/* One line a finding: "KIND PATH:LINE TEXT"; devices on vfio-pci apart, counted. */
static char *render(const struct av_findings *fs, size_t *nbound)
{
	char *out = tu_fmt("%s", "");

	*nbound = 0;
	for (size_t i = 0; i < fs->n; i++) {
		const struct av_finding *f = &fs->f[i];

		if (f->kind == AV_FIND_BOUND) {
			CHECK_STR(f->text, "vfio-pci");
			CHECK(strcmp(f->path, "0000:01:00.0") == 0 ||
			      strcmp(f->path, "0000:01:00.1") == 0);
			(*nbound)++;
			continue;
		}
		out = tu_fmt("%s%s %s:%u %s\n", out, kinds[f->kind], f->path, f->line, f->text);
	}
	return out;
}

AV_TEST_ROOTFS(detect_handmade_setup_found, "handmade-vfio")
{
	struct av_manifest none = {0};
	struct av_findings fs;
	struct av_ctx ctx;
	size_t nbound;

	tu_ctx(&ctx, tu_rootfs());
	CHECK_INT(av_detect_foreign(&ctx, &none, &fs), 0);
	/*
	 * Not found: comments, a word that only ends in a parameter's name,
	 * backups (.bak, .dpkg-old), hidden files, the host's own modules and
	 * options, a blacklist of a driver no GPU needs.
	 */
	CHECK_STR(render(&fs, &nbound),
		  "param /etc/default/grub:6 vfio-pci.ids=10de:1b81,10de:10f0\n"
		  "param /etc/default/grub.d/50-vfio.cfg:1 modprobe.blacklist=nouveau,nvidiafb\n"
		  "param /etc/default/grub.d/50-vfio.cfg:1 rd.driver.pre=vfio-pci\n"
		  "line /etc/modules:3 vfio\n"
		  "line /etc/modules:4 vfio_iommu_type1\n"
		  "line /etc/modules:5 vfio_pci ids=10de:1b81,10de:10f0\n"
		  "line /etc/modules:6 vfio_virqfd\n"
		  "line /etc/modules-load.d/vfio-pci.conf:1 vfio-pci\n"
		  "line /etc/initramfs-tools/modules:3 vfio\n"
		  "line /etc/initramfs-tools/modules:4 vfio_iommu_type1\n"
		  "line /etc/initramfs-tools/modules:5 vfio_pci ids=10de:1b81,10de:10f0\n"
		  "line /etc/modprobe.d/blacklist-gpu.conf:1 blacklist nouveau\n"
		  "line /etc/modprobe.d/blacklist-gpu.conf:3 install nvidia /bin/false\n"
		  "line /etc/modprobe.d/vfio.conf:1 options vfio-pci ids=10de:1b81,10de:10f0 "
		  "disable_vga=1\n"
		  "line /etc/modprobe.d/vfio.conf:2 softdep nouveau pre: vfio-pci\n"
		  "line /etc/modprobe.d/vfio.conf:3 softdep drm pre: vfio-pci\n"
		  "cmdline /proc/cmdline:1 vfio-pci.ids=10de:1b81,10de:10f0\n");
	CHECK_INT(nbound, 2);
	CHECK_STR(tu_log(), "");
	av_findings_release(&fs);
}

/*
 * Files the manifest lists are auto-vfio's own; once it has a manifest, what
 * runs now (the command line, devices on vfio-pci) may be its doing too.
 */
AV_TEST_ROOTFS(detect_skips_what_the_manifest_lists, "handmade-vfio")
{
	struct av_manifest_entry e[] = {{.path = "/etc/modules"},
					{.path = "/etc/modprobe.d/vfio.conf"}};
	struct av_manifest m = {.n = 2, .e = e};
	struct av_findings fs;
	struct av_ctx ctx;
	size_t nbound;

	tu_ctx(&ctx, tu_rootfs());
	CHECK_INT(av_detect_foreign(&ctx, &m, &fs), 0);
	CHECK_STR(render(&fs, &nbound),
		  "param /etc/default/grub:6 vfio-pci.ids=10de:1b81,10de:10f0\n"
		  "param /etc/default/grub.d/50-vfio.cfg:1 modprobe.blacklist=nouveau,nvidiafb\n"
		  "param /etc/default/grub.d/50-vfio.cfg:1 rd.driver.pre=vfio-pci\n"
		  "line /etc/modules-load.d/vfio-pci.conf:1 vfio-pci\n"
		  "line /etc/initramfs-tools/modules:3 vfio\n"
		  "line /etc/initramfs-tools/modules:4 vfio_iommu_type1\n"
		  "line /etc/initramfs-tools/modules:5 vfio_pci ids=10de:1b81,10de:10f0\n"
		  "line /etc/modprobe.d/blacklist-gpu.conf:1 blacklist nouveau\n"
		  "line /etc/modprobe.d/blacklist-gpu.conf:3 install nvidia /bin/false\n");
	CHECK_INT(nbound, 0);
	av_findings_release(&fs);
}

/* Debian as installed, with the host's own modules and options: nothing to find. */
AV_TEST(detect_plain_debian_finds_nothing)
{
	const char *r = tu_tmpdir();
	struct av_manifest none = {0};
	struct av_findings fs;
	struct av_ctx ctx;

	tu_root_add(r, "debian-base");
	tu_root_add(r, "debian-etc");
	tu_ctx(&ctx, r);
	CHECK_INT(av_detect_foreign(&ctx, &none, &fs), 0);
	CHECK_INT(fs.n, 0);
	/* nor on a machine with no /etc at all */
	tu_mkdirs(tu_fmt("%s/empty", r));
	tu_ctx(&ctx, tu_fmt("%s/empty", r));
	CHECK_INT(av_detect_foreign(&ctx, &none, &fs), 0);
	CHECK_INT(fs.n, 0);
}

/*
 * Disabling keeps the old line: a GRUB line loses only its VFIO parameters
 * (the line as it was stays above, commented out), a module line is
 * commented out whole; the rest, a missing final newline included, stays.
 */
AV_TEST_ROOTFS(detect_disable_comments_out_and_keeps_the_rest, "handmade-vfio")
{
	const char *r = tu_rootfs();
	struct av_manifest none = {0};
	struct av_findings fs;
	struct av_ctx ctx;
	char *grub_d = tu_read(tu_fmt("%s/etc/default/grub.d/50-vfio.cfg", r));
	char *vfio = tu_read(tu_fmt("%s/etc/modprobe.d/vfio.conf", r));
	char *modules = tu_read(tu_fmt("%s/etc/modules", r));

	tu_ctx(&ctx, r);
	CHECK_INT(av_detect_foreign(&ctx, &none, &fs), 0);
	CHECK_STR(av_detect_disable(grub_d, &fs, "/etc/default/grub.d/50-vfio.cfg"),
		  "# auto-vfio-disabled: GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX "
		  "modprobe.blacklist=nouveau,nvidiafb rd.driver.pre=vfio-pci\"\n"
		  "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX\"\n");
	CHECK_STR(av_detect_disable(vfio, &fs, "/etc/modprobe.d/vfio.conf"),
		  "#auto-vfio-disabled: options vfio-pci ids=10de:1b81,10de:10f0 disable_vga=1\n"
		  "#auto-vfio-disabled: softdep nouveau pre: vfio-pci\n"
		  "#auto-vfio-disabled: softdep drm pre: vfio-pci\n"
		  "options snd_hda_intel power_save=1\n");
	/* the findings of one file do not touch another of the same lines */
	CHECK(av_detect_disable(vfio, &fs, "/etc/modprobe.d/other.conf") == NULL);
	/* no final newline: none added */
	modules[strlen(modules) - 1] = '\0';
	CHECK_STR(av_detect_disable(modules, &fs, "/etc/modules"),
		  "# /etc/modules: kernel modules to load at boot time.\nloop\n"
		  "#auto-vfio-disabled: vfio\n"
		  "#auto-vfio-disabled: vfio_iommu_type1\n"
		  "#auto-vfio-disabled: vfio_pci ids=10de:1b81,10de:10f0\n"
		  "#auto-vfio-disabled: vfio_virqfd");
	av_findings_release(&fs);
}

/* A parameter first on the line, or quoted alone, goes with its quote kept. */
AV_TEST(detect_disable_parameter_at_the_edges)
{
	const char *r = tu_tmpdir();
	struct av_manifest none = {0};
	struct av_findings fs;
	struct av_ctx ctx;
	const char *grub = "GRUB_CMDLINE_LINUX='pci-stub.ids=10de:1b81'\n"
			   "GRUB_CMDLINE_LINUX_DEFAULT=\"vfio_pci.ids=10de:1b81 quiet\"\n";

	tu_write(tu_fmt("%s/etc/default/grub", r), grub);
	tu_ctx(&ctx, r);
	CHECK_INT(av_detect_foreign(&ctx, &none, &fs), 0);
	CHECK_INT(fs.n, 2);
	CHECK_STR(fs.f[0].text, "pci-stub.ids=10de:1b81");
	CHECK_STR(fs.f[1].text, "vfio_pci.ids=10de:1b81");
	CHECK_STR(av_detect_disable(grub, &fs, "/etc/default/grub"),
		  "# auto-vfio-disabled: GRUB_CMDLINE_LINUX='pci-stub.ids=10de:1b81'\n"
		  "GRUB_CMDLINE_LINUX=''\n"
		  "# auto-vfio-disabled: GRUB_CMDLINE_LINUX_DEFAULT=\"vfio_pci.ids=10de:1b81 "
		  "quiet\"\n"
		  "GRUB_CMDLINE_LINUX_DEFAULT=\" quiet\"\n");
	av_findings_release(&fs);
}
