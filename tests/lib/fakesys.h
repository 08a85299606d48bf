/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fake sysfs trees (DESIGN.md section 3): PCI devices under
 * <root>/sys/bus/pci/devices, IOMMU groups under <root>/sys/kernel/iommu_groups,
 * drivers under <root>/sys/bus/pci/drivers, with the files libpci and lspci
 * read (config, resource, irq) so the real tools work on them too.
 * Functions return 0 or -errno and never print.
 */
#ifndef AV_FAKESYS_H
#define AV_FAKESYS_H

#include <stdbool.h>

#define FAKESYS_NO_GROUP (-1)

enum fakesys_links {
	/*
	 * Up to the nearest common directory and down, as the kernel makes them:
	 * "../../../../kernel/iommu_groups/5", "../../drivers/nvidia"
	 */
	FAKESYS_LINKS_RELATIVE,
	/* "<absolute root>/sys/kernel/iommu_groups/5": absolute, inside the prefix */
	FAKESYS_LINKS_ABSOLUTE,
};

struct fakesys_opts {
	enum fakesys_links links;
};

struct fakesys_dev {
	const char *addr; /* "0000:01:00.0", or "01:00.0" for domain 0 */
	unsigned vendor, device;
	unsigned class; /* 24 bits as the kernel prints it: class, subclass, prog-if */
	unsigned subvendor, subdevice;
	unsigned revision;
	int group;	    /* IOMMU group, or FAKESYS_NO_GROUP */
	const char *driver; /* NULL or "": no driver bound */
	bool boot_vga;	    /* only written for VGA devices (class 0300), like the kernel */
};

/*
 * Add one device under @root (created when missing). @opts may be NULL
 * (relative links). -EEXIST when the address is already there, -EINVAL on a
 * bad address, group, class or driver name.
 */
int fakesys_add_device(const char *root, const struct fakesys_dev *dev,
		       const struct fakesys_opts *opts);

/* Remove a whole tree (a failed conversion); 0 or -errno. */
int fakesys_remove_tree(const char *root);

#endif
