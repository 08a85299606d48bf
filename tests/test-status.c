// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio status on hand-made machines: a healthy static setup, then one
 * fault at a time (device on the wrong driver, binder or vfio modules missing
 * from an initramfs, vfio-pci missing from the kernel, IOMMU off, a firmware
 * framebuffer over the selected GPU), with real initramfs images built by
 * cpio and zstd, and a modules index built by the real depmod.
 */
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "lib/fakesys.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "machine.h"
#include "safety.h"
#include "status.h"

#define REL "6.1.0-18-amd64"
#define GPU_SEL "0000:01:00.0@10de:1b81"

static void sh(const char *cmd)
{
	const char *argv[] = {"/bin/sh", "-ec", cmd, NULL};
	struct tu_result r;

	tu_run(&r, argv, NULL, NULL);
	CHECK_MSG(r.status == 0, "'%s' failed (%d): %s", cmd, r.status, r.err);
	tu_result_free(&r);
}

struct opts {
	const char *gpu_driver; /* driver of the passed GPU and its audio */
	bool no_binder, no_modules, no_iommu, bootfb;
	bool sdboot_dracut; /* systemd-boot + dracut: the image is the entry's, on the ESP */
	const char *cmdline_extra;
	const char *mode;
	unsigned gpu_vendor, gpu_device;
};

static void add(const char *r, const struct fakesys_dev *d)
{
	CHECK_INT(fakesys_add_device(r, d, NULL), 0);
}

/* An Intel host with its iGPU for the host and a GTX 1070 for VMs. */
static char *machine(const struct opts *o)
{
	static unsigned seq;
	char *r = tu_fmt("%s/m%u", tu_tmpdir(), seq++);
	char *ird = tu_fmt("%s/ird%u", tu_tmpdir(), seq), *img;
	const char *drv = o->gpu_driver ? o->gpu_driver : "vfio-pci";
	int g = o->no_iommu ? FAKESYS_NO_GROUP : 1;
	unsigned ven = o->gpu_vendor ? o->gpu_vendor : 0x10de,
		 dev = o->gpu_device ? o->gpu_device : 0x1b81;

	add(r, &(struct fakesys_dev){.addr = "00:00.0",
				     .vendor = 0x8086,
				     .device = 0x3e30,
				     .class = 0x060000,
				     .group = o->no_iommu ? -1 : 0});
	add(r, &(struct fakesys_dev){.addr = "00:02.0",
				     .vendor = 0x8086,
				     .device = 0x3e92,
				     .class = 0x030000,
				     .group = o->no_iommu ? -1 : 2,
				     .driver = "i915",
				     .boot_vga = !o->bootfb});
	add(r, &(struct fakesys_dev){.addr = "01:00.0",
				     .vendor = ven,
				     .device = dev,
				     .class = 0x030000,
				     .group = g,
				     .driver = drv,
				     .boot_vga = o->bootfb});
	add(r, &(struct fakesys_dev){.addr = "01:00.1",
				     .vendor = ven,
				     .device = 0x10f0,
				     .class = 0x040300,
				     .group = g,
				     .driver = drv});
	/* BAR0 registers, BAR1 the VRAM aperture, as the kernel prints them */
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/resource", r),
		 "0x00000000f6000000 0x00000000f6ffffff 0x0000000000040200\n"
		 "0x00000000e0000000 0x00000000efffffff 0x000000000014220c\n"
		 "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		 "0x000000000000e000 0x000000000000e07f 0x0000000000040101\n");
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/reset_method", r), "flr bus\n");
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.1/reset_method", r), "flr\n");
	tu_write(tu_fmt("%s/proc/iomem", r),
		 tu_fmt("00000000-00000fff : Reserved\n"
			"c0000000-fec2ffff : PCI Bus 0000:00\n"
			"  e0000000-f1ffffff : PCI Bus 0000:01\n"
			"    e0000000-efffffff : 0000:01:00.0\n%s"
			"    f6000000-f6ffffff : 0000:01:00.0\n"
			"      f6000000-f6ffffff : %s\n",
			o->bootfb ? "      e0000000-e07effff : BOOTFB\n" : "", drv));
	if (!o->no_iommu)
		tu_mkdirs(tu_fmt("%s/sys/class/iommu/dmar0", r));
	tu_write(tu_fmt("%s/proc/cpuinfo", r), "processor\t: 0\nvendor_id\t: GenuineIntel\n");
	tu_write(tu_fmt("%s/proc/sys/kernel/osrelease", r), REL "\n");
	tu_write(
	    tu_fmt("%s/proc/cmdline", r),
	    tu_fmt("BOOT_IMAGE=/vmlinuz-" REL " root=/dev/sda1 ro quiet %s\n",
		   o->cmdline_extra
		       ? o->cmdline_extra
		       : tu_fmt("intel_iommu=on iommu=pt auto_vfio.bind=0000:01:00.0@%04x:%04x",
				ven, dev)));
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", r),
		 tu_fmt("# auto-vfio\nversion = 1\nmode = %s\nselect = 0000:01:00.0@%04x:%04x\n"
			"iommu_params = intel_iommu=on iommu=pt\n",
			o->mode ? o->mode : "static", ven, dev));
	if (strcmp(drv, "vfio-pci") == 0)
		tu_write(tu_fmt("%s/sys/module/vfio_pci/initstate", r), "live\n");
	tu_write(tu_fmt("%s/boot/vmlinuz-" REL, r), "kernel");
	tu_write(tu_fmt("%s/boot/config-" REL, r),
		 "CONFIG_AMD_IOMMU=y\nCONFIG_INTEL_IOMMU=y\nCONFIG_VFIO=m\nCONFIG_VFIO_PCI=m\n");
	/* the initramfs, as mkinitramfs builds it with our hook */
	tu_write(tu_fmt("%s/early/kernel/x86/microcode/GenuineIntel.bin", ird), "ucode");
	tu_write(tu_fmt("%s/main/init", ird), "#!/bin/sh\n");
	if (o->sdboot_dracut) {
		tu_write(tu_fmt("%s/main/usr/lib/dracut/hooks/pre-udev/30-auto-vfio.sh", ird), "");
		tu_write(tu_fmt("%s/etc/kernel/postinst.d/dracut", r), "#!/bin/sh\n");
		tu_write(tu_fmt("%s/boot/efi/loader/entries/tok-" REL ".conf", r),
			 "title Debian\nversion " REL "\noptions root=/dev/sda1\n"
			 "linux /tok/" REL "/linux\ninitrd /tok/" REL "/intel-ucode.img\n"
			 "initrd /tok/" REL "/initrd\n");
		tu_mkdirs(tu_fmt("%s/boot/efi/tok/" REL, r));
	} else {
		tu_write(tu_fmt("%s/main/scripts/init-top/auto-vfio", ird), "#!/bin/sh\n");
	}
	if (!o->no_binder)
		tu_write(tu_fmt("%s/main/usr/sbin/auto-vfio-bind", ird), "\177ELF");
	if (!o->no_modules) {
		tu_write(tu_fmt("%s/main/usr/lib/modules/" REL "/kernel/drivers/vfio/vfio.ko", ird),
			 "\177ELF");
		tu_write(tu_fmt("%s/main/usr/lib/modules/" REL
				"/kernel/drivers/vfio/pci/vfio-pci.ko",
				ird),
			 "\177ELF");
	}
	img = o->sdboot_dracut ? tu_fmt("%s/boot/efi/tok/" REL "/initrd", r)
			       : tu_fmt("%s/boot/initrd.img-" REL, r);
	sh(tu_fmt("cd %s/early && find . | cpio --quiet -o -H newc > %s", ird, img));
	sh(tu_fmt("cd %s/main && find . | cpio --quiet -o -H newc | zstd -q >> %s", ird, img));
	return r;
}

static int status(struct tu_result *res, const char *r, bool json)
{
	const char *argv[] = {tu_prog("auto-vfio"),   "--root", r, "status",
			      json ? "--json" : NULL, NULL};

	tu_run(res, argv, NULL, NULL);
	return res->status;
}

static void need_tools(void)
{
	if (!tu_exists("/usr/bin/cpio") && !tu_exists("/bin/cpio"))
		av_test_skip("no cpio");
	if (!tu_exists("/usr/bin/zstd"))
		av_test_skip("no zstd");
}

AV_TEST(status_healthy_static_setup)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){0});
	CHECK_INT(status(&res, r, false), 0);
	CHECK_CONTAINS(res.out, "IOMMU on: 3 groups (units: dmar0)");
	CHECK_CONTAINS(res.out, "booted with the configured selection (1 group)");
	CHECK_CONTAINS(res.out, "vfio-pci is loaded");
	CHECK_CONTAINS(res.out, "/boot/initrd.img-" REL " carries the binder");
	CHECK_CONTAINS(res.out, "(cpio+zstd,");
	CHECK_CONTAINS(res.out, "0000:01:00.0 (group 1) is on vfio-pci");
	CHECK_CONTAINS(res.out, "0000:01:00.1 (group 1) is on vfio-pci");
	CHECK_CONTAINS(res.out, "0000:01:00.0 resets by: flr bus");
	CHECK_CONTAINS(res.out, "VFIO=m VFIO_PCI=m INTEL_IOMMU=y");
	CHECK_CONTAINS(res.out, "No problems found");
	CHECK_NOT_CONTAINS(res.out, "PROBLEM");
	tu_result_free(&res);

	CHECK_INT(status(&res, r, true), 0);
	CHECK_CONTAINS(res.out, "{\"healthy\": true, \"release\": \"" REL "\"");
	CHECK_CONTAINS(res.out, "\"booted\": [\"" GPU_SEL "\"]");
	CHECK_CONTAINS(res.out,
		       "\"mode\": \"static\", \"selected_groups\": 1, \"booted_groups\": 1");
	CHECK_CONTAINS(res.out, "\"problem\": 0");
	CHECK_CONTAINS(res.out, "{\"check\": \"driver\", \"severity\": \"ok\", \"subject\": "
				"\"0000:01:00.0\"");
	tu_result_free(&res);
}

AV_TEST(status_device_on_wrong_driver)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.gpu_driver = "nouveau"});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "0000:01:00.0 (group 1) is driven by nouveau, not vfio-pci");
	CHECK_CONTAINS(res.out, "fix: make sure the initramfs carries the binder");
	/* vfio-pci was never loaded although this boot passes the GPU */
	CHECK_CONTAINS(res.out, "vfio-pci is not loaded although this boot passes devices");
	CHECK_CONTAINS(res.out, "problems");
	tu_result_free(&res);
	CHECK_INT(status(&res, r, true), 1);
	CHECK_CONTAINS(res.out, "\"healthy\": false");
	CHECK_CONTAINS(res.out, "\"severity\": \"problem\", \"subject\": \"0000:01:00.0\", "
				"\"message\": \"0000:01:00.0 (group 1) is driven by nouveau");
	tu_result_free(&res);
}

AV_TEST(status_binder_missing_from_initramfs)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.no_binder = true});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "/boot/initrd.img-" REL " lacks the binder auto-vfio-bind\n");
	/* no hook installed under this root either: the fix says so */
	CHECK_CONTAINS(res.out, "fix: reinstall auto-vfio (its initramfs hook is missing), then "
				"update-initramfs -u -k " REL);
	tu_result_free(&res);
	tu_write(tu_fmt("%s/usr/share/initramfs-tools/hooks/auto-vfio", r), "#!/bin/sh\n");
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "fix: update-initramfs -u -k " REL "\n");
	tu_result_free(&res);
	/* a kernel without an image at all */
	tu_write(tu_fmt("%s/boot/vmlinuz-6.1.0-19-amd64", r), "kernel");
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "no initramfs image /boot/initrd.img-6.1.0-19-amd64");
	CHECK_CONTAINS(res.out, "fix: update-initramfs -c -k 6.1.0-19-amd64");
	tu_result_free(&res);
}

AV_TEST(status_vfio_modules_missing)
{
	struct tu_result res;
	char *r, *moddir;
	const char *depmod[] = {"/sbin/depmod", "-b", NULL, REL, NULL};

	need_tools();
	r = machine(&(struct opts){.no_modules = true});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "lacks vfio-pci.ko, vfio.ko");
	tu_result_free(&res);

	/* this kernel's modules index (built by the real depmod) has no vfio-pci */
	if (!tu_exists("/sbin/depmod"))
		av_test_skip("no /sbin/depmod");
	moddir = tu_fmt("%s/lib/modules/" REL, r);
	tu_write(tu_fmt("%s/modules.builtin", moddir), "kernel/drivers/ata/ahci.ko\n");
	tu_write(tu_fmt("%s/modules.order", moddir), "");
	depmod[2] = r;
	tu_run(&res, depmod, NULL, NULL);
	CHECK_MSG(res.status == 0, "depmod: %s", res.err);
	tu_result_free(&res);
	sh(tu_fmt("rm -r %s/sys/module", r));
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "kernel " REL " has no vfio-pci module");
	tu_result_free(&res);

	/* built in (as Ubuntu builds it): nothing to load, nothing needed in the image */
	tu_write(tu_fmt("%s/modules.builtin", moddir),
		 "kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/pci/vfio-pci.ko\n");
	tu_run(&res, depmod, NULL, NULL);
	CHECK_MSG(res.status == 0, "depmod: %s", res.err);
	tu_result_free(&res);
	tu_write(tu_fmt("%s/boot/config-" REL, r),
		 "CONFIG_AMD_IOMMU=y\nCONFIG_INTEL_IOMMU=y\nCONFIG_VFIO=y\nCONFIG_VFIO_PCI=y\n");
	CHECK_INT(status(&res, r, false), 0);
	CHECK_CONTAINS(res.out, "vfio-pci is built into the kernel");
	CHECK_CONTAINS(res.out, "carries the binder");
	tu_result_free(&res);
}

AV_TEST(status_iommu_off)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){
	    .no_iommu = true, .gpu_driver = "nouveau", .cmdline_extra = "intel_iommu=off"});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "no IOMMU groups: the command line switches the IOMMU off "
				"(intel_iommu=off)");
	CHECK_CONTAINS(res.out, "fix: remove intel_iommu=off from GRUB_CMDLINE_LINUX*");
	tu_result_free(&res);
	/* Intel without intel_iommu=on: Debian's kernel leaves the IOMMU off */
	tu_write(tu_fmt("%s/proc/cmdline", r), "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n");
	CHECK_INT(status(&res, r, true), 1);
	CHECK_CONTAINS(res.out, "leaves the Intel IOMMU off without intel_iommu=on");
	CHECK_CONTAINS(res.out, "\"check\": \"iommu\", \"severity\": \"problem\"");
	tu_result_free(&res);
}

AV_TEST(status_framebuffer_over_selected_gpu)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.bootfb = true});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "the firmware framebuffer BOOTFB still holds the memory of GPU "
				"0000:01:00.0");
	CHECK_CONTAINS(res.out, "initcall_blacklist=sysfb_init");
	tu_result_free(&res);
	/* where iomem shows no addresses (read as non-root), the bound platform driver tells */
	tu_write(tu_fmt("%s/proc/iomem", r), "00000000-00000000 : PCI Bus 0000:00\n"
					     "00000000-00000000 : BOOTFB\n");
	tu_mkdirs(tu_fmt("%s/sys/bus/platform/drivers/simple-framebuffer/simple-framebuffer.0", r));
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "framebuffer simple-framebuffer.0 still holds");
	tu_result_free(&res);
}

/* Which fix: the boot lacked the parameter, or the kernel ignored it. */
AV_TEST(status_framebuffer_fix_follows_the_command_line)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.bootfb = true});
	CHECK_INT(status(&res, r, true), 1);
	CHECK_CONTAINS(res.out, "\"check\": \"framebuffer\", \"severity\": \"problem\"");
	CHECK_CONTAINS(res.out, "this boot lacks initcall_blacklist=sysfb_init, which the static "
				"setup adds: run 'auto-vfio setup --static' again, then reboot");
	tu_result_free(&res);
	r = machine(&(struct opts){.bootfb = true, .mode = "multiboot"});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "every entry passing the boot GPU carries: run update-grub");
	tu_result_free(&res);
	r = machine(&(struct opts){
	    .bootfb = true,
	    .cmdline_extra = "intel_iommu=on iommu=pt auto_vfio.bind=0000:01:00.0@10de:1b81 "
			     "initcall_blacklist=sysfb_init"});
	tu_mkdirs(tu_fmt("%s/sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0", r));
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "the kernel ignored initcall_blacklist=sysfb_init");
	CHECK_CONTAINS(res.out,
		       "echo efi-framebuffer.0 > /sys/bus/platform/drivers/efi-framebuffer/unbind");
	CHECK_NOT_CONTAINS(res.out, "this boot lacks");
	tu_result_free(&res);
}

AV_TEST(status_reset_bug_warns_only)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.gpu_vendor = 0x1002, .gpu_device = 0x67df});
	CHECK_INT(status(&res, r, false), 0);
	CHECK_CONTAINS(res.out, "1002:67df is an AMD Polaris GPU: it lacks a usable reset");
	CHECK_CONTAINS(res.out, "fix: load the vendor-reset module");
	tu_result_free(&res);
}

AV_TEST(status_multiboot_plain_entry_is_fine)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.mode = "multiboot",
				   .gpu_driver = "nouveau",
				   .cmdline_extra = "intel_iommu=on iommu=pt"});
	CHECK_INT(status(&res, r, false), 0);
	CHECK_CONTAINS(res.out, "booted a plain entry: the host keeps every device this boot");
	CHECK_CONTAINS(res.out, "0000:01:00.0 (group 1) stays with the host this boot: driver "
				"nouveau");
	tu_result_free(&res);
}

AV_TEST(status_static_boot_without_selection_and_kill_switch)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.gpu_driver = "nouveau", .cmdline_extra = "intel_iommu=on"});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "this boot does not pass 1 of the 1 configured group");
	CHECK_CONTAINS(res.out, "fix: run update-grub and reboot");
	tu_result_free(&res);
	tu_write(tu_fmt("%s/proc/cmdline", r),
		 "root=/dev/sda1 intel_iommu=on auto_vfio.bind=" GPU_SEL " auto_vfio=off "
		 "auto_vfio.bind=0000:09:00.0@1234:5678 auto_vfio.bind=junk\n");
	CHECK_INT(status(&res, r, false), 0);
	CHECK_CONTAINS(res.out, "auto_vfio=off: the kill switch is on");
	CHECK_CONTAINS(res.out, "1 malformed auto_vfio.bind= selector on the command line");
	CHECK_CONTAINS(res.out, "stays with the host this boot: driver nouveau");
	tu_result_free(&res);
}

AV_TEST(status_not_configured)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.gpu_driver = "nouveau", .cmdline_extra = "intel_iommu=on"});
	CHECK(unlink(tu_fmt("%s/etc/auto-vfio.conf", r)) == 0);
	CHECK_INT(status(&res, r, false), 0);
	CHECK_CONTAINS(res.out, "auto-vfio is not set up here");
	CHECK_CONTAINS(res.out, "initramfs images not checked");
	tu_result_free(&res);
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", r), "mode = sideways\n");
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.err, "/etc/auto-vfio.conf:1");
	CHECK_CONTAINS(res.out, "/etc/auto-vfio.conf cannot be read: bad content");
	tu_result_free(&res);
}

/*
 * systemd-boot with dracut: the image that boots is the one the entry names
 * on the ESP, and every fix names kernel-install and dracut, not update-grub
 * or update-initramfs.
 */
AV_TEST(status_sdboot_dracut_reads_the_entry_initrd)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){.sdboot_dracut = true});
	CHECK_INT(status(&res, r, false), 0);
	CHECK_CONTAINS(res.out, "/boot/efi/tok/" REL "/initrd (systemd-boot entry tok-" REL
				".conf) carries the binder");
	tu_result_free(&res);

	/* the ESP's copy is stale; without /boot's image kernel-install's dracut plugin makes it */
	r = machine(&(struct opts){.sdboot_dracut = true, .no_binder = true});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "/boot/efi/tok/" REL "/initrd (systemd-boot entry tok-" REL
				".conf) lacks the binder auto-vfio-bind\n");
	CHECK_CONTAINS(res.out, "fix: reinstall auto-vfio (its dracut module is missing), then "
				"kernel-install add " REL " /boot/vmlinuz-" REL "\n");
	tu_result_free(&res);
	tu_write(tu_fmt("%s/usr/lib/dracut/modules.d/90auto-vfio/module-setup.sh", r), "");
	tu_write(tu_fmt("%s/boot/initrd.img-" REL, r), "not read: the ESP's copy boots");
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "fix: dracut --force --kver " REL ", then kernel-install add " REL
				" /boot/vmlinuz-" REL " /boot/initrd.img-" REL "\n");
	tu_result_free(&res);

	/* an entry without an initrd never runs the binder */
	tu_write(tu_fmt("%s/boot/efi/loader/entries/tok-" REL ".conf", r),
		 "title Debian\nversion " REL "\nlinux /tok/" REL "/linux\n");
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "the systemd-boot entry tok-" REL ".conf boots kernel " REL
				" without an initramfs");
	tu_result_free(&res);
}

AV_TEST(status_sdboot_fixes_name_kernel_install)
{
	struct tu_result res;
	char *r;

	need_tools();
	r = machine(&(struct opts){
	    .sdboot_dracut = true, .gpu_driver = "nouveau", .cmdline_extra = "intel_iommu=on"});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "fix: run kernel-install add (every kernel in /boot) and reboot "
				"(/etc/kernel/cmdline carries the selection)");
	CHECK_CONTAINS(res.out, "fix: make sure the initramfs carries the binder (dracut "
				"--regenerate-all --force; kernel-install add (every kernel in "
				"/boot)), then");
	CHECK_NOT_CONTAINS(res.out, "update-grub");
	CHECK_NOT_CONTAINS(res.out, "update-initramfs");
	tu_result_free(&res);

	r = machine(&(struct opts){.sdboot_dracut = true,
				   .no_iommu = true,
				   .gpu_driver = "nouveau",
				   .cmdline_extra = "intel_iommu=off"});
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "fix: remove intel_iommu=off from /etc/kernel/cmdline");
	CHECK_NOT_CONTAINS(res.out, "GRUB");
	CHECK_NOT_CONTAINS(res.out, "update-grub");
	tu_result_free(&res);

	r = machine(&(struct opts){.sdboot_dracut = true, .bootfb = true, .mode = "multiboot"});
	tu_mkdirs(tu_fmt("%s/boot/efi/loader/entries", r));
	CHECK_INT(status(&res, r, false), 1);
	CHECK_CONTAINS(res.out, "every entry passing the boot GPU carries: run kernel-install add "
				"(every kernel in /boot), then reboot");
	CHECK_NOT_CONTAINS(res.out, "update-grub");
	tu_result_free(&res);
}

/* The "iommu" finding of av_status_collect() on @r with @cmdline booted on a @cpu. */
static char *iommu_finding(const char *r, const char *cpu, const char *cmdline)
{
	struct av_machine *m;
	struct av_status st;
	struct av_ctx ctx;
	char *msg = NULL;

	tu_write(tu_fmt("%s/proc/cpuinfo", r), tu_fmt("processor\t: 0\nvendor_id\t: %s\n", cpu));
	tu_write(tu_fmt("%s/proc/cmdline", r), cmdline);
	tu_ctx(&ctx, r);
	CHECK_INT(av_machine_load(&ctx, NULL, &m), 0);
	CHECK_INT(av_analyze(&ctx, m), 0);
	CHECK_INT(av_status_collect(&ctx, m, &st), 0);
	for (size_t i = 0; i < st.n; i++)
		if (strcmp(st.items[i].check, "iommu") == 0)
			msg =
			    tu_fmt("%s: %s", av_status_sev_name(st.items[i].sev), st.items[i].msg);
	av_status_release(&st);
	av_machine_free(m);
	CHECK_MSG(msg != NULL, "no iommu finding");
	return msg;
}

/*
 * Which word switched the IOMMU off, read from the booted command line
 * directly: whole words only, and without one the CPU's vendor says why.
 */
AV_TEST(status_iommu_off_words)
{
	const char *r = tu_tmpdir();

	add(r, &(struct fakesys_dev){.addr = "01:00.0",
				     .vendor = 0x10de,
				     .device = 0x1b81,
				     .class = 0x030000,
				     .group = FAKESYS_NO_GROUP});
	CHECK_STR(iommu_finding(r, "AuthenticAMD", "root=/dev/sda1 ro amd_iommu=off quiet\n"),
		  "problem: no IOMMU groups: the command line switches the IOMMU off "
		  "(amd_iommu=off)");
	CHECK_STR(iommu_finding(r, "GenuineIntel", "iommu=off\n"),
		  "problem: no IOMMU groups: the command line switches the IOMMU off (iommu=off)");
	CHECK_STR(iommu_finding(r, "GenuineIntel", "ro intel_iommu=offx xiommu=off\n"),
		  "problem: no IOMMU groups: Debian's kernel leaves the Intel IOMMU off without "
		  "intel_iommu=on, and the firmware reports no IOMMU unit");
	CHECK_STR(iommu_finding(r, "GenuineIntel", "ro intel_iommu=on\n"),
		  "problem: no IOMMU groups: the firmware reports no IOMMU unit");
	tu_mkdirs(tu_fmt("%s/sys/class/iommu/dmar0", r));
	CHECK_STR(iommu_finding(r, "AuthenticAMD", "ro quiet\n"),
		  "problem: no IOMMU groups although the firmware reports IOMMU units");
	/* with groups, the words on the command line do not matter */
	tu_symlink("../../../../kernel/iommu_groups/1",
		   tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/iommu_group", r));
	tu_symlink("../../../../bus/pci/devices/0000:01:00.0",
		   tu_fmt("%s/sys/kernel/iommu_groups/1/devices/0000:01:00.0", r));
	CHECK_STR(iommu_finding(r, "GenuineIntel", "iommu=off\n"),
		  "ok: IOMMU on: 1 groups (units: dmar0)");
}
