// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the host needs, read from its tables under the root prefix: the PCI
 * devices under "/" and "/boot" (through dm and md stacks), under the
 * default route (through bridges and bonds), and the CPU's vendor and flags.
 */
#include <errno.h>
#include <string.h>

#include "ctx.h"
#include "hostfacts.h"
#include "lib/testroot.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "select.h"

static const char *addr(const struct av_pci_addr *a)
{
	static char buf[4][AV_ADDR_LEN];
	static unsigned i;
	char *b = buf[i++ % 4];

	av_pci_addr_format(a, b);
	return b;
}

/* A block device as sysfs shows it: by number and by name, both leading to @devpath. */
static void block_dev(const char *r, const char *majmin, const char *devpath)
{
	char *target = tu_fmt("../../devices/%s", devpath);

	tu_symlink(target, tu_fmt("%s/sys/dev/block/%s", r, majmin));
	tu_symlink(target, tu_fmt("%s/sys/class/block/%s", r, strrchr(devpath, '/') + 1));
}

/* / on an LVM volume over a partition of a disk behind 0000:02:00.1 (AHCI). */
AV_TEST_ROOTFS(hostfacts_root_through_lvm_to_ahci, "lvm-root-on-ahci")
{
	const char *r = tu_rootfs();
	struct av_pci_addr out[4];
	struct av_ctx ctx;

	tu_ctx(&ctx, r);
	CHECK_INT(av_host_disk_devices(&ctx, out, 4), 1);
	CHECK_STR(addr(&out[0]), "0000:02:00.1");

	/*
	 * /boot on NVMe behind a root port: the device nearest the disk counts,
	 * not the port; /home is no business of the host's boot.
	 */
	tu_write(tu_fmt("%s/proc/self/mountinfo", r),
		 "22 1 253:0 / / rw,relatime - ext4 /dev/mapper/vg-root rw\n"
		 "24 22 259:1 / /boot rw,relatime - ext4 /dev/nvme0n1p1 rw\n"
		 "25 22 8:17 / /home rw,relatime - ext4 /dev/sdb1 rw\n");
	block_dev(r, "259:1", "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p1");
	block_dev(r, "8:17",
		  "pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sdb/sdb1");
	CHECK_INT(av_host_disk_devices(&ctx, out, 4), 2);
	CHECK_STR(addr(&out[0]), "0000:02:00.1");
	CHECK_STR(addr(&out[1]), "0000:3d:00.0");
	/* no room for the second: the first is kept, the count says what fits */
	CHECK_INT(av_host_disk_devices(&ctx, out, 1), 1);
	CHECK_STR(addr(&out[0]), "0000:02:00.1");
}

/* btrfs reports an anonymous 0:N device: the mount's source names the disk. */
AV_TEST(hostfacts_btrfs_root_by_its_source)
{
	const char *r = tu_tmpdir();
	struct av_pci_addr out[4];
	struct av_ctx ctx;

	tu_write(tu_fmt("%s/proc/self/mountinfo", r),
		 "26 1 0:27 /@ / rw,relatime - btrfs /dev/sda3 rw,subvol=/@\n"
		 "27 26 0:27 /@boot /boot rw,relatime - btrfs /dev/sda3 rw,subvol=/@boot\n");
	tu_symlink("../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/"
		   "sda/sda3",
		   tu_fmt("%s/sys/class/block/sda3", r));
	tu_ctx(&ctx, r);
	CHECK_INT(av_host_disk_devices(&ctx, out, 4), 1);
	CHECK_STR(addr(&out[0]), "0000:00:17.0");
	/* no mount table: unknown, not "none" */
	tu_mkdirs(tu_fmt("%s/bare", r));
	tu_ctx(&ctx, tu_fmt("%s/bare", r));
	CHECK_INT(av_host_disk_devices(&ctx, out, 4), -ENOENT);
}

/* Ten dm devices each listing all ten as parts: every device is visited once. */
AV_TEST_T(hostfacts_dense_stack_visited_once, 60)
{
	const char *r = tu_tmpdir();
	struct av_pci_addr out[8];
	struct av_ctx ctx;

	tu_write(tu_fmt("%s/proc/self/mountinfo", r),
		 "22 1 253:0 / / rw,relatime - ext4 /dev/mapper/vg-root rw\n");
	tu_symlink("../../devices/virtual/block/dm-0", tu_fmt("%s/sys/dev/block/253:0", r));
	for (int i = 0; i < 10; i++) {
		tu_symlink(tu_fmt("../../devices/virtual/block/dm-%d", i),
			   tu_fmt("%s/sys/class/block/dm-%d", r, i));
		for (int k = 0; k < 10; k++)
			tu_mkdirs(
			    tu_fmt("%s/sys/devices/virtual/block/dm-%d/slaves/dm-%d", r, i, k));
	}
	/* one of them also sits on a real disk */
	tu_mkdirs(tu_fmt("%s/sys/devices/virtual/block/dm-9/slaves/sda2", r));
	tu_symlink("../../devices/pci0000:00/0000:00:01.2/0000:02:00.1/ata1/host0/target0:0:0/"
		   "0:0:0:0/block/sda/sda2",
		   tu_fmt("%s/sys/class/block/sda2", r));
	CHECK_INT(av_ctx_init(&ctx, r), 0);
	/* 10^8 paths when walked naively; a timeout here is the failure */
	CHECK_INT(av_host_disk_devices(&ctx, out, 8), 1);
	CHECK_INT(out[0].bus, 2);
	CHECK_INT(out[0].func, 1);
}

AV_TEST_ROOTFS(hostfacts_route_through_bridge, "bridge-route")
{
	const char *r = tu_rootfs();
	struct av_pci_addr out[4];
	struct av_ctx ctx;
	char ifname[32];
	char buf[16];

	CHECK_INT(av_ctx_init(&ctx, r), 0);
	CHECK_INT(av_host_route_devices(&ctx, out, 4, ifname, sizeof(ifname)), 1);
	CHECK_STR(ifname, "br0");
	av_pci_addr_format(&out[0], buf);
	CHECK_STR(buf, "0000:05:00.0");
}

/* A bond over two ports; a route that is down or not the default does not count. */
AV_TEST(hostfacts_route_bond_and_no_default)
{
	const char *r = tu_tmpdir();
	char *route = tu_fmt("%s/proc/net/route", r);
	struct av_pci_addr out[4];
	struct av_ctx ctx;
	char ifname[32];

	tu_ctx(&ctx, r);
	CHECK_INT(av_host_route_devices(&ctx, out, 4, ifname, sizeof(ifname)), -ENOENT);
	tu_write(
	    route,
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "enp9s0\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
	    "bond0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    "bond0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
	tu_symlink("../../devices/virtual/net/bond0", tu_fmt("%s/sys/class/net/bond0", r));
	tu_symlink("../enp1s0", tu_fmt("%s/sys/devices/virtual/net/bond0/lower_enp1s0", r));
	tu_symlink("../enp2s0", tu_fmt("%s/sys/devices/virtual/net/bond0/lower_enp2s0", r));
	tu_symlink("../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0/net/enp1s0",
		   tu_fmt("%s/sys/class/net/enp1s0", r));
	tu_symlink("../../devices/pci0000:00/0000:00:1c.1/0000:02:00.0/net/enp2s0",
		   tu_fmt("%s/sys/class/net/enp2s0", r));
	tu_symlink("../../devices/pci0000:00/0000:00:1c.2/0000:09:00.0/net/enp9s0",
		   tu_fmt("%s/sys/class/net/enp9s0", r));
	/* enp9s0's default route is down (no RTF_UP): bond0's is the one */
	CHECK_INT(av_host_route_devices(&ctx, out, 4, ifname, sizeof(ifname)), 2);
	CHECK_STR(ifname, "bond0");
	CHECK(strcmp(addr(&out[0]), "0000:01:00.0") == 0 ||
	      strcmp(addr(&out[1]), "0000:01:00.0") == 0);
	CHECK(strcmp(addr(&out[0]), "0000:02:00.0") == 0 ||
	      strcmp(addr(&out[1]), "0000:02:00.0") == 0);
	/* only a local network: no default route, nothing the route needs */
	tu_write(
	    route,
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "bond0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
	CHECK_INT(av_host_route_devices(&ctx, out, 4, ifname, sizeof(ifname)), 0);
	CHECK_STR(ifname, "");
}

AV_TEST(hostfacts_cpu_vendor_and_1g_pages)
{
	const char *r = tu_tmpdir();
	struct av_host_cpu cpu;
	struct av_ctx ctx;

	CHECK_INT(av_ctx_init(&ctx, r), 0);
	CHECK_INT(av_host_cpu(&ctx, &cpu), -ENOENT);
	CHECK_STR(cpu.vendor, "");
	tu_write(tu_fmt("%s/proc/cpuinfo", r),
		 "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu pdpe1gbx sse\n"
		 "processor\t: 1\nvendor_id\t: GenuineIntel\nflags\t\t: fpu pdpe1gb\n");
	CHECK_INT(av_host_cpu(&ctx, &cpu), 0);
	CHECK_STR(cpu.vendor, "AuthenticAMD");
	CHECK(!cpu.pdpe1gb);
	tu_write(tu_fmt("%s/proc/cpuinfo", r),
		 "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu pdpe1gb\n");
	CHECK_INT(av_host_cpu(&ctx, &cpu), 0);
	CHECK_STR(cpu.vendor, "GenuineIntel");
	CHECK(cpu.pdpe1gb);
}

/*
 * Lines that only look like the ones read: "vmx flags" (Intel, since Linux
 * 5.9) is not "flags", the flag may lead the list, an ARM machine has neither.
 */
AV_TEST(hostfacts_cpuinfo_lookalike_lines)
{
	const char *r = tu_tmpdir();
	char *path = tu_fmt("%s/proc/cpuinfo", r);
	struct av_host_cpu cpu;
	struct av_ctx ctx;

	tu_ctx(&ctx, r);
	tu_write(path, "processor\t: 0\nvendor_id_x\t: Other\nvendor_id\t: AuthenticAMD  \n"
		       "vmx flags\t: pdpe1gb\nflags\t\t: fpu sse\n");
	CHECK_INT(av_host_cpu(&ctx, &cpu), 0);
	CHECK_STR(cpu.vendor, "AuthenticAMD");
	CHECK(!cpu.pdpe1gb);
	tu_write(path, "processor\t: 0\nflags\t\t: pdpe1gb fpu\nvendor_id\t: HygonGenuine\n");
	CHECK_INT(av_host_cpu(&ctx, &cpu), 0);
	CHECK_STR(cpu.vendor, "HygonGenuine");
	CHECK(cpu.pdpe1gb);
	tu_write(path, "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm\n"
		       "CPU implementer\t: 0x41\n");
	CHECK_INT(av_host_cpu(&ctx, &cpu), 0);
	CHECK_STR(cpu.vendor, "");
	CHECK(!cpu.pdpe1gb);
}

/* The IOMMU parameters follow the vendor: Intel's IOMMU is off unless asked for. */
AV_TEST(hostfacts_cpu_vendor_picks_iommu_params)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx;

	tu_ctx(&ctx, r);
	CHECK_STR(av_iommu_params(&ctx), "iommu=pt");
	tu_write(tu_fmt("%s/proc/cpuinfo", r), "processor\t: 0\nvendor_id\t: GenuineIntel\n");
	CHECK_STR(av_iommu_params(&ctx), "intel_iommu=on iommu=pt");
	tu_write(tu_fmt("%s/proc/cpuinfo", r), "processor\t: 0\nvendor_id\t: AuthenticAMD\n");
	CHECK_STR(av_iommu_params(&ctx), "iommu=pt");
}
