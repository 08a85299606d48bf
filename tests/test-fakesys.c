// SPDX-License-Identifier: GPL-2.0-or-later
/* Fake sysfs trees and the fixture converter, on small hand-written listings. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "lib/fakesys.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "machine.h"

static char *link_of(const char *path)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	CHECK_MSG(n >= 0, "%s is not a symlink", path);
	buf[n] = '\0';
	return buf;
}

/* Both paths name the same directory once every link is followed. */
static void check_resolves(const char *link, const char *dir)
{
	char a[PATH_MAX], b[PATH_MAX];

	CHECK_MSG(realpath(link, a) != NULL, "%s dangles", link);
	CHECK_MSG(realpath(dir, b) != NULL, "%s missing", dir);
	CHECK_STR(a, b);
}

static const char *dev_dir(const char *root, const char *addr)
{
	return tu_fmt("%s/sys/bus/pci/devices/%s", root, addr);
}

AV_TEST(fakesys_relative_links_like_kernel)
{
	const char *r = tu_tmpdir();
	struct fakesys_dev gpu = {.addr = "01:00.0",
				  .vendor = 0x10de,
				  .device = 0x1b81,
				  .class = 0x030000,
				  .revision = 0xa1,
				  .group = 5,
				  .driver = "nvidia",
				  .boot_vga = true};
	struct fakesys_dev audio = {.addr = "0000:01:00.1",
				    .vendor = 0x10de,
				    .device = 0x10f0,
				    .class = 0x040300,
				    .group = 5,
				    .driver = "snd_hda_intel"};
	const char *d = dev_dir(r, "0000:01:00.0");

	CHECK_INT(fakesys_add_device(r, &gpu, NULL), 0);
	CHECK_INT(fakesys_add_device(r, &audio, NULL), 0);

	CHECK_STR(tu_read(tu_fmt("%s/vendor", d)), "0x10de\n");
	CHECK_STR(tu_read(tu_fmt("%s/device", d)), "0x1b81\n");
	CHECK_STR(tu_read(tu_fmt("%s/class", d)), "0x030000\n");
	CHECK_STR(tu_read(tu_fmt("%s/revision", d)), "0xa1\n");
	CHECK_STR(tu_read(tu_fmt("%s/boot_vga", d)), "1\n");
	CHECK_STR(tu_read(tu_fmt("%s/driver_override", d)), "(null)\n");
	/* the kernel has no boot_vga on non-VGA functions */
	CHECK(!tu_exists(tu_fmt("%s/boot_vga", dev_dir(r, "0000:01:00.1"))));

	CHECK_STR(link_of(tu_fmt("%s/iommu_group", d)), "../../../../kernel/iommu_groups/5");
	CHECK_STR(link_of(tu_fmt("%s/driver", d)), "../../drivers/nvidia");
	CHECK_STR(link_of(tu_fmt("%s/sys/kernel/iommu_groups/5/devices/0000:01:00.1", r)),
		  "../../../../bus/pci/devices/0000:01:00.1");
	CHECK_STR(link_of(tu_fmt("%s/sys/bus/pci/drivers/nvidia/0000:01:00.0", r)),
		  "../../devices/0000:01:00.0");
	check_resolves(tu_fmt("%s/iommu_group", d), tu_fmt("%s/sys/kernel/iommu_groups/5", r));
	check_resolves(tu_fmt("%s/driver", d), tu_fmt("%s/sys/bus/pci/drivers/nvidia", r));
	check_resolves(tu_fmt("%s/sys/kernel/iommu_groups/5/devices/0000:01:00.0", r), d);
}

AV_TEST(fakesys_absolute_links_load)
{
	const char *r = tu_tmpdir();
	struct fakesys_opts opts = {.links = FAKESYS_LINKS_ABSOLUTE};
	struct fakesys_dev nic = {.addr = "0000:03:00.0",
				  .vendor = 0x8086,
				  .device = 0x1539,
				  .class = 0x020000,
				  .revision = 3,
				  .group = 12,
				  .driver = "igb"};
	struct fakesys_dev bridge = {.addr = "0000:00:1c.0",
				     .vendor = 0x8086,
				     .device = 0xa110,
				     .class = 0x060400,
				     .group = FAKESYS_NO_GROUP};
	struct av_machine *m = NULL;
	struct av_pci_addr a;
	struct av_ctx ctx;
	const struct av_dev *dv;
	const char *l;

	CHECK_INT(fakesys_add_device(r, &nic, &opts), 0);
	CHECK_INT(fakesys_add_device(r, &bridge, &opts), 0);
	l = link_of(tu_fmt("%s/iommu_group", dev_dir(r, "0000:03:00.0")));
	CHECK_MSG(l[0] == '/', "link %s is not absolute", l);
	CHECK_CONTAINS(l, "/sys/kernel/iommu_groups/12");
	check_resolves(tu_fmt("%s/iommu_group", dev_dir(r, "0000:03:00.0")),
		       tu_fmt("%s/sys/kernel/iommu_groups/12", r));
	CHECK(!tu_exists(tu_fmt("%s/iommu_group", dev_dir(r, "0000:00:1c.0"))));

	CHECK_INT(av_ctx_init(&ctx, r), 0);
	CHECK_INT(av_machine_load(&ctx, NULL, &m), 0);
	CHECK(m->iommu);
	CHECK_INT(m->ndevs, 2);
	CHECK_INT(m->ngroups, 1);
	CHECK_INT(m->groups[0].id, 12);
	av_pci_addr_parse("0000:03:00.0", false, &a);
	dv = av_machine_find(m, &a);
	CHECK(dv != NULL);
	CHECK_STR(dv->driver, "igb");
	CHECK_INT(dv->group, 12);
	CHECK_INT(dv->revision, 3);
	av_pci_addr_parse("0000:00:1c.0", false, &a);
	CHECK_INT(av_machine_find(m, &a)->group, AV_NO_GROUP);
	av_machine_free(m);
}

AV_TEST(fakesys_rejects_duplicates_and_garbage)
{
	const char *r = tu_tmpdir();
	struct fakesys_dev d = {
	    .addr = "00:02.0", .vendor = 0x8086, .device = 0x3e92, .class = 0x030000, .group = 0};

	CHECK_INT(fakesys_add_device(r, &d, NULL), 0);
	CHECK_INT(fakesys_add_device(r, &d, NULL), -EEXIST);
	d.addr = "00:02.8";
	CHECK_INT(fakesys_add_device(r, &d, NULL), -EINVAL);
	d.addr = "00:03.0";
	d.driver = "../../etc";
	CHECK_INT(fakesys_add_device(r, &d, NULL), -EINVAL);
	d.driver = NULL;
	d.vendor = 0x10000;
	CHECK_INT(fakesys_add_device(r, &d, NULL), -EINVAL);
	CHECK(!tu_exists(dev_dir(r, "0000:00:03.0")));
}

/* ---- the converter ---- */

struct conv {
	const char *dir;     /* scratch folder holding the listing */
	const char *listing; /* path of the listing */
	const char *out;     /* the tree */
	struct tu_result r;
};

static void convert(struct conv *c, const char *name, const char *text, const char *drivers)
{
	const char *argv[4];

	c->dir = tu_fmt("%s/%s", tu_tmpdir(), name);
	c->listing = tu_fmt("%s/%s.txt", c->dir, name);
	c->out = tu_fmt("%s/tree", c->dir);
	tu_write(c->listing, text);
	if (drivers)
		tu_write(tu_fmt("%s/%s.drivers.txt", c->dir, name), drivers);
	argv[0] = tu_prog("tests/fixture2sysfs");
	argv[1] = c->listing;
	argv[2] = c->out;
	argv[3] = NULL;
	tu_run(&c->r, argv, NULL, NULL);
}

static const char *attr(const struct conv *c, const char *addr, const char *name)
{
	return tu_read(tu_fmt("%s/%s", dev_dir(c->out, addr), name));
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	CHECK_MSG(d != NULL, "cannot open %s", dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

AV_TEST(fakesys_convert_header_form)
{
	struct conv c;

	convert(&c, "hdr",
		"# a comment line\n"
		"IOMMU Group 1:\n"
		"\t00:01.0 PCI bridge [0604]: Intel Corporation 6th-10th Gen Core Processor PCIe "
		"Controller (x16) [8086:1901] (rev 07)\n"
		"\t01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GP108 [GeForce GT "
		"1030] [10de:1d01] (rev a1)\n"
		"\t01:00.1 Audio device [0403]: NVIDIA Corporation GP108 High Definition Audio "
		"Controller [10de:0fb8] (rev a1)\n"
		"\n"
		"IOMMU group 7\n"
		"    0001:05:00.0 USB controller [0c03]: ASMedia Technology Inc. ASM1142 USB 3.1 "
		"Host Controller [1b21:1242] (prog-if 30 [XHCI])\n",
		"01:00.0 nvidia\n01:00.1 snd_hda_intel\n");
	CHECK_MSG(c.r.status == 0, "exit %d: %s", c.r.status, c.r.err);

	CHECK_STR(attr(&c, "0000:01:00.0", "vendor"), "0x10de\n");
	CHECK_STR(attr(&c, "0000:01:00.0", "device"), "0x1d01\n");
	CHECK_STR(attr(&c, "0000:01:00.0", "class"), "0x030000\n");
	CHECK_STR(attr(&c, "0000:01:00.0", "revision"), "0xa1\n");
	CHECK_STR(attr(&c, "0000:00:01.0", "class"), "0x060400\n");
	CHECK_STR(attr(&c, "0000:00:01.0", "revision"), "0x07\n");
	/* domain kept, prog-if in the low byte, no "(rev)" means revision 0 */
	CHECK_STR(attr(&c, "0001:05:00.0", "class"), "0x0c0330\n");
	CHECK_STR(attr(&c, "0001:05:00.0", "revision"), "0x00\n");
	CHECK_STR(link_of(tu_fmt("%s/driver", dev_dir(c.out, "0000:01:00.1"))),
		  "../../drivers/snd_hda_intel");
	CHECK(!tu_exists(tu_fmt("%s/driver", dev_dir(c.out, "0000:00:01.0"))));
	CHECK_STR(link_of(tu_fmt("%s/iommu_group", dev_dir(c.out, "0001:05:00.0"))),
		  "../../../../kernel/iommu_groups/7");
	CHECK_INT(count_entries(tu_fmt("%s/sys/kernel/iommu_groups/1/devices", c.out)), 3);
	CHECK_INT(count_entries(tu_fmt("%s/sys/kernel/iommu_groups", c.out)), 2);
	CHECK_INT(count_entries(tu_fmt("%s/sys/bus/pci/devices", c.out)), 4);
	/* the only VGA device is the boot VGA */
	CHECK_STR(attr(&c, "0000:01:00.0", "boot_vga"), "1\n");
	/* nothing left next to the tree */
	CHECK_INT(count_entries(c.dir), 3);
}

AV_TEST(fakesys_convert_one_line_form)
{
	struct conv c;

	convert(&c, "oneline",
		"IOMMU Group 0 00:00.0 Host bridge [0600]: Intel Corporation Device [8086:3ec2] "
		"(rev 07)\n"
		"IOMMU Group 2 00:01.0 PCI bridge [0604]: Intel Corporation Device [8086:1901] "
		"(rev 07)\n"
		"IOMMU Group 2 01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GP108 "
		"[GeForce GT 1030] [10de:1d01] (rev a1)\n"
		"IOMMU group 10: 00:1f.3 Audio device [0403]: Intel Corporation 200 Series PCH HD "
		"Audio [8086:a2f0]\n",
		NULL);
	CHECK_MSG(c.r.status == 0, "exit %d: %s", c.r.status, c.r.err);
	CHECK_INT(count_entries(tu_fmt("%s/sys/kernel/iommu_groups", c.out)), 3);
	CHECK_INT(count_entries(tu_fmt("%s/sys/kernel/iommu_groups/2/devices", c.out)), 2);
	CHECK_STR(link_of(tu_fmt("%s/iommu_group", dev_dir(c.out, "0000:00:1f.3"))),
		  "../../../../kernel/iommu_groups/10");
	CHECK_STR(attr(&c, "0000:00:1f.3", "class"), "0x040300\n");
	CHECK_STR(attr(&c, "0000:00:00.0", "device"), "0x3ec2\n");
	/* no drivers file: nothing bound */
	CHECK(!tu_exists(tu_fmt("%s/sys/bus/pci/drivers", c.out)));
}

AV_TEST(fakesys_convert_boot_vga_rule)
{
	struct conv c;

	/* a bus-00 VGA device (the iGPU) wins even when listed after the dGPU */
	convert(&c, "igpu",
		"IOMMU Group 1:\n"
		"\t01:00.0 VGA compatible controller [0300]: NVIDIA Corporation X [10de:1401]\n"
		"IOMMU Group 2:\n"
		"\t00:02.0 VGA compatible controller [0300]: Intel Corporation Y [8086:1912]\n",
		NULL);
	CHECK_MSG(c.r.status == 0, "exit %d: %s", c.r.status, c.r.err);
	CHECK_STR(attr(&c, "0000:00:02.0", "boot_vga"), "1\n");
	CHECK_STR(attr(&c, "0000:01:00.0", "boot_vga"), "0\n");

	/* no bus-00 VGA device: the first by address; 3D controllers never count */
	convert(&c, "dgpus",
		"IOMMU Group 3:\n"
		"\t0a:00.0 VGA compatible controller [0300]: NVIDIA Corporation X [10de:128b]\n"
		"IOMMU Group 4:\n"
		"\t00:04.0 3D controller [0302]: NVIDIA Corporation Z [10de:1eb8]\n"
		"\t04:00.0 VGA compatible controller [0300]: NVIDIA Corporation X [10de:128b]\n",
		NULL);
	CHECK_MSG(c.r.status == 0, "exit %d: %s", c.r.status, c.r.err);
	CHECK_STR(attr(&c, "0000:04:00.0", "boot_vga"), "1\n");
	CHECK_STR(attr(&c, "0000:0a:00.0", "boot_vga"), "0\n");
	CHECK(!tu_exists(tu_fmt("%s/boot_vga", dev_dir(c.out, "0000:00:04.0"))));

	/* the directive says otherwise */
	convert(&c, "directive",
		"# boot_vga: 01:00.0\n"
		"IOMMU Group 1:\n"
		"\t01:00.0 VGA compatible controller [0300]: NVIDIA Corporation X [10de:1401]\n"
		"IOMMU Group 2:\n"
		"\t00:02.0 VGA compatible controller [0300]: Intel Corporation Y [8086:1912]\n",
		NULL);
	CHECK_MSG(c.r.status == 0, "exit %d: %s", c.r.status, c.r.err);
	CHECK_STR(attr(&c, "0000:01:00.0", "boot_vga"), "1\n");
	CHECK_STR(attr(&c, "0000:00:02.0", "boot_vga"), "0\n");
}

struct bad_case {
	const char *name, *listing, *drivers;
	const char *where; /* "FILE:LINE" suffix expected in the message */
	const char *what;  /* a word of the message */
};

static const char dev_line[] =
    "\t01:00.0 VGA compatible controller [0300]: NVIDIA Corporation X [10de:1401]\n";

AV_TEST(fakesys_convert_malformed_input)
{
	const struct bad_case cases[] = {
	    {"nohdr", "\n01:00.0 VGA compatible controller [0300]: N [10de:1401]\n", NULL,
	     "nohdr.txt:2:", "header"},
	    {"badaddr",
	     "IOMMU Group 1:\n\t01:00.9 VGA compatible controller [0300]: N [10de:1401]\n", NULL,
	     "badaddr.txt:2:", "01:00.9"},
	    {"noids", "IOMMU Group 1:\n\t01:00.0 VGA compatible controller [0300]: NVIDIA\n", NULL,
	     "noids.txt:2:", "vvvv:dddd"},
	    {"shortid",
	     "IOMMU Group 1:\n\t01:00.0 VGA compatible controller [0300]: N [10de:141]\n", NULL,
	     "shortid.txt:2:", "vvvv:dddd"},
	    {"noclass", "IOMMU Group 1:\n\t01:00.0 VGA compatible controller: N [10de:1401]\n",
	     NULL, "noclass.txt:2:", "CCCC"},
	    {"badgroup", "IOMMU Group x:\n", NULL, "badgroup.txt:1:", "group number"},
	    {"dup", tu_fmt("IOMMU Group 1:\n%sIOMMU Group 2:\n%s", dev_line, dev_line), NULL,
	     "dup.txt:4:", "line 2"},
	    {"badrev",
	     "IOMMU Group 1:\n\t01:00.0 VGA compatible controller [0300]: N [10de:1401] "
	     "(rev zz)\n",
	     NULL, "badrev.txt:2:", "rev"},
	    {"drvline", tu_fmt("IOMMU Group 1:\n%s", dev_line), "01:00.0\n",
	     "drvline.drivers.txt:1:", "driver"},
	    {"drvaddr", tu_fmt("IOMMU Group 1:\n%s", dev_line), "01:00.0 nvidia\n02:00.0 igb\n",
	     "drvaddr.drivers.txt:2:", "02:00.0"},
	    {"drvname", tu_fmt("IOMMU Group 1:\n%s", dev_line), "01:00.0 ../x\n",
	     "drvname.drivers.txt:1:", "../x"},
	    {"bootvga", tu_fmt("# boot_vga: 02:00.0\nIOMMU Group 1:\n%s", dev_line), NULL,
	     "bootvga.txt:1:", "boot_vga"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *bc = &cases[i];
		struct conv c;

		convert(&c, bc->name, bc->listing, bc->drivers);
		CHECK_MSG(c.r.status == 1, "%s: exit %d", bc->name, c.r.status);
		CHECK_CONTAINS(c.r.err, bc->where);
		CHECK_CONTAINS(c.r.err, bc->what);
		/* the message names the whole path, not just the base name */
		CHECK_CONTAINS(c.r.err, c.dir);
		/* nothing half-written: no tree, no scratch folder next to it */
		CHECK_MSG(!tu_exists(c.out), "%s: tree written despite the error", bc->name);
		CHECK_INT(count_entries(c.dir), bc->drivers ? 2 : 1);
		tu_result_free(&c.r);
	}
}

AV_TEST(fakesys_convert_keeps_what_is_there)
{
	struct conv c;
	const char *argv[4];

	/* an empty listing is an error, not an empty machine */
	convert(&c, "empty", "# nothing\n\n", NULL);
	CHECK_INT(c.r.status, 1);
	CHECK_CONTAINS(c.r.err, "empty.txt");
	CHECK_CONTAINS(c.r.err, "no devices");
	CHECK(!tu_exists(c.out));

	/* a missing listing names its path */
	argv[0] = tu_prog("tests/fixture2sysfs");
	argv[1] = tu_fmt("%s/missing.txt", tu_tmpdir());
	argv[2] = tu_fmt("%s/missing-tree", tu_tmpdir());
	argv[3] = NULL;
	tu_run(&c.r, argv, NULL, NULL);
	CHECK_INT(c.r.status, 1);
	CHECK_CONTAINS(c.r.err, argv[1]);
	CHECK(!tu_exists(argv[2]));

	/* an OUTDIR with something in it is left alone */
	tu_write(tu_fmt("%s/keep/precious", tu_tmpdir()), "data\n");
	tu_write(tu_fmt("%s/ok.txt", tu_tmpdir()), tu_fmt("IOMMU Group 1:\n%s", dev_line));
	argv[1] = tu_fmt("%s/ok.txt", tu_tmpdir());
	argv[2] = tu_fmt("%s/keep", tu_tmpdir());
	tu_run(&c.r, argv, NULL, NULL);
	CHECK_INT(c.r.status, 1);
	CHECK_CONTAINS(c.r.err, "not empty");
	CHECK_STR(tu_read(tu_fmt("%s/keep/precious", tu_tmpdir())), "data\n");
	CHECK_INT(count_entries(tu_fmt("%s/keep", tu_tmpdir())), 1);

	/* an empty OUTDIR is filled */
	tu_mkdirs(tu_fmt("%s/emptydir", tu_tmpdir()));
	argv[2] = tu_fmt("%s/emptydir", tu_tmpdir());
	tu_run(&c.r, argv, NULL, NULL);
	CHECK_MSG(c.r.status == 0, "exit %d: %s", c.r.status, c.r.err);
	CHECK(tu_exists(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/class", argv[2])));
}

AV_TEST(fakesys_convert_conflicting_drivers_warn)
{
	struct conv c;

	/* one device, two drivers: the first wins and the second is reported */
	convert(&c, "conflict",
		"IOMMU Group 2:\n"
		"\t00:14.0 USB controller [0c03]: Intel Corporation X [8086:a12f] (rev 31)\n"
		"\t00:14.2 Signal processing controller [1180]: Intel Corporation Y [8086:a131]\n",
		"00:14.0 xhci_hcd\n00:14.0 xhci_hcd\n00:14.0 intel_pch_thermal\n");
	CHECK_MSG(c.r.status == 0, "exit %d: %s", c.r.status, c.r.err);
	CHECK_CONTAINS(c.r.err, "conflict.drivers.txt:3:");
	CHECK_CONTAINS(c.r.err, "intel_pch_thermal");
	CHECK_STR(link_of(tu_fmt("%s/driver", dev_dir(c.out, "0000:00:14.0"))),
		  "../../drivers/xhci_hcd");
	CHECK(!tu_exists(tu_fmt("%s/driver", dev_dir(c.out, "0000:00:14.2"))));
}

AV_TEST(fakesys_convert_absolute_links_option)
{
	const char *argv[5];
	const char *out = tu_fmt("%s/abs", tu_tmpdir());
	const char *l;
	struct tu_result r;

	tu_write(tu_fmt("%s/a.txt", tu_tmpdir()), tu_fmt("IOMMU Group 4:\n%s", dev_line));
	tu_write(tu_fmt("%s/a.drivers.txt", tu_tmpdir()), "01:00.0 nouveau\n");
	argv[0] = tu_prog("tests/fixture2sysfs");
	argv[1] = "--absolute-links";
	argv[2] = tu_fmt("%s/a.txt", tu_tmpdir());
	argv[3] = out;
	argv[4] = NULL;
	tu_run(&r, argv, NULL, NULL);
	CHECK_MSG(r.status == 0, "exit %d: %s", r.status, r.err);
	l = link_of(tu_fmt("%s/driver", dev_dir(out, "0000:01:00.0")));
	CHECK_MSG(l[0] == '/', "%s is not absolute", l);
	check_resolves(tu_fmt("%s/driver", dev_dir(out, "0000:01:00.0")),
		       tu_fmt("%s/sys/bus/pci/drivers/nouveau", out));
	check_resolves(tu_fmt("%s/sys/kernel/iommu_groups/4/devices/0000:01:00.0", out),
		       dev_dir(out, "0000:01:00.0"));
}

/* lspci (libpci's sysfs back end) reads the converted tree like a real one. */
AV_TEST(fakesys_convert_lspci_reads_tree)
{
	const char *lspci = "/usr/bin/lspci";
	const char *argv[7];
	struct conv c;

	if (access(lspci, X_OK) != 0)
		av_test_skip("no %s", lspci);
	convert(&c, "lspci",
		"IOMMU Group 14:\n"
		"\t2b:00.0 VGA compatible controller [0300]: NVIDIA Corporation TU104 [GeForce RTX "
		"2070 SUPER] [10de:1e84] (rev a1)\n"
		"\t2b:00.3 Serial bus controller [0c80]: NVIDIA Corporation TU104 USB Type-C UCSI "
		"Controller [10de:1ad9] (rev a1)\n"
		"IOMMU Group 1:\n"
		"\t00:01.2 PCI bridge [0604]: Advanced Micro Devices, Inc. [AMD] Starship/Matisse "
		"GPP Bridge [1022:1483]\n",
		"2b:00.0 nvidia\n");
	CHECK_MSG(c.r.status == 0, "exit %d: %s", c.r.status, c.r.err);
	argv[0] = lspci;
	argv[1] = "-A";
	argv[2] = "linux-sysfs";
	argv[3] = "-O";
	argv[4] = tu_fmt("sysfs.path=%s/sys/bus/pci", c.out);
	argv[5] = "-nnk";
	argv[6] = NULL;
	tu_run(&c.r, argv, NULL, NULL);
	CHECK_MSG(c.r.status == 0, "lspci exit %d: %s", c.r.status, c.r.err);
	CHECK_CONTAINS(c.r.out, "00:01.2 PCI bridge [0604]");
	CHECK_CONTAINS(c.r.out, "[1022:1483]\n");
	CHECK_CONTAINS(c.r.out, "2b:00.0 VGA compatible controller [0300]");
	CHECK_CONTAINS(c.r.out, "[10de:1e84] (rev a1)");
	CHECK_CONTAINS(c.r.out, "2b:00.3 Serial bus controller [0c80]");
	CHECK_CONTAINS(c.r.out, "Kernel driver in use: nvidia");
}
