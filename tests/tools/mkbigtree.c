// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mkbigtree OUTDIR [DEVICES [GROUPS]]: a synthetic fake sysfs tree for
 * benchmarks, 1024 devices in 256 IOMMU groups by default. Groups take turns
 * being a GPU slot, a chipset group, a storage group and a platform group,
 * so the analysis has real work to do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/fakesys.h"
#include "../lib/testsuite.h"

struct kind {
	unsigned vendor, device, class;
	const char *driver;
};

/* One row per kind of group, one column per function in it. */
static const struct kind kinds[4][4] = {
    {{0x10de, 0x1b81, 0x030000, "nouveau"},
     {0x10de, 0x10f0, 0x040300, "snd_hda_intel"},
     {0x10de, 0x1ad8, 0x0c0330, "xhci_hcd"},
     {0x10de, 0x1ad9, 0x0c8000, NULL}},
    {{0x1022, 0x43ee, 0x0c0330, "xhci_hcd"},
     {0x1022, 0x43eb, 0x010601, "ahci"},
     {0x1022, 0x43e9, 0x060400, "pcieport"},
     {0x10ec, 0x8125, 0x020000, "r8169"}},
    {{0x144d, 0xa808, 0x010802, "nvme"},
     {0x1022, 0x1483, 0x060400, "pcieport"},
     {0x8086, 0x1539, 0x020000, "igb"},
     {0x8086, 0x2723, 0x028000, "iwlwifi"}},
    {{0x1022, 0x1440, 0x060000, NULL},
     {0x1022, 0x790e, 0x060100, NULL},
     {0x1022, 0x790b, 0x0c0500, "piix4_smbus"},
     {0x8086, 0xa121, 0x058000, NULL}},
};

int main(int argc, char **argv)
{
	long ndev = 1024, ngroups = 256;
	char addr[16];

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: mkbigtree OUTDIR [DEVICES [GROUPS]]\n");
		return 2;
	}
	if (argc > 2)
		ndev = strtol(argv[2], NULL, 10);
	if (argc > 3)
		ngroups = strtol(argv[3], NULL, 10);
	if (ndev < 1 || ngroups < 1 || ngroups > ndev || ndev > 65536) {
		fprintf(stderr, "mkbigtree: need 1 <= GROUPS <= DEVICES <= 65536\n");
		return 2;
	}
	for (long i = 0; i < ndev; i++) {
		long g = i * ngroups / ndev;
		long first = (g * ndev + ngroups - 1) / ngroups; /* first device of group g */
		long fn = i - first;
		const struct kind *k = &kinds[g % 4][fn % 4];
		struct fakesys_dev d = {
		    .addr = addr,
		    .vendor = k->vendor,
		    .device = k->device,
		    .class = k->class,
		    .revision = 0xa1,
		    .group = (int)g,
		    .driver = k->driver,
		    .boot_vga = i == 0,
		};
		int err;

		/* a group is one slot (up to 8 functions) or several slots on one bus */
		snprintf(addr, sizeof(addr), "%04lx:%02lx:%02lx.%lx", (g >> 8) & 0xffff, g & 0xff,
			 (fn / 8) & 0x1f, fn % 8);
		err = fakesys_add_device(argv[1], &d, NULL);
		if (err) {
			fprintf(stderr, "mkbigtree: %s: %s: %s\n", argv[1], addr, strerror(-err));
			return 1;
		}
	}
	return 0;
}
