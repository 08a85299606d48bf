/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PCI/IOMMU model of one machine (real, or a fake tree under the root
 * prefix): devices from libpci's sysfs back end, grouped by walking
 * sys/kernel/iommu_groups. Read-only once loaded and analysed.
 */
#ifndef AV_MACHINE_H
#define AV_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "pciaddr.h"

#define AV_NO_GROUP (-1)
#define AV_NONE ((size_t)-1)

struct av_dev {
	struct av_pci_addr addr;
	char address[AV_ADDR_LEN];
	uint32_t class; /* 24 bits: class, subclass, prog-if */
	uint16_t cls;	/* class + subclass */
	uint16_t vendor, device;
	uint16_t subvendor, subdevice; /* 0 when unknown */
	int revision;		       /* -1 when unknown */
	char driver[64];	       /* "" when none */
	bool boot_vga;
	int group;				      /* IOMMU group number or AV_NO_GROUP */
	size_t group_idx;			      /* index in av_machine.groups or AV_NONE */
	char *vendor_name, *device_name, *class_name; /* never NULL */

	/* Filled by av_analyze(). */
	bool gpu;
	size_t companion_of; /* index of the GPU this function goes with, or AV_NONE */
	bool identical_id;   /* another GPU has the same vendor:device */
};

struct av_group {
	int id;
	size_t ndevs;
	size_t *devs; /* indices into av_machine.devs, in address order */

	/* Filled by av_analyze(). */
	bool safe;
	size_t nreasons, nnotes;
	char **reasons; /* why passing it through would take what the host needs */
	char **notes;	/* worth knowing, not blocking */
};

struct av_machine {
	bool iommu; /* at least one IOMMU group exists */
	size_t ndevs;
	struct av_dev *devs; /* in address order */
	size_t ngroups;
	struct av_group *groups; /* in id order */
	size_t boot_vga;	 /* index or AV_NONE */
	/* machine-wide notes (facts that could not be established, ...) */
	size_t nnotes;
	char **notes;
};

struct av_load_opts {
	/* pci.ids to use; NULL: <root>/usr/share/misc/pci.ids, then libpci's default */
	const char *pci_ids;
	bool numeric; /* skip name lookup altogether */
};

/*
 * Load the model. Problems with single devices (garbage in a file, dangling
 * links) are logged through @ctx naming the path and the device is left out
 * or its field left unknown; only a missing PCI tree or no memory fail.
 * Returns 0 or -errno; *out is NULL on failure.
 */
int av_machine_load(const struct av_ctx *ctx, const struct av_load_opts *opts,
		    struct av_machine **out);
void av_machine_free(struct av_machine *m);

/* Lookups; NULL when absent. */
struct av_dev *av_machine_find(const struct av_machine *m, const struct av_pci_addr *addr);
struct av_group *av_machine_group(const struct av_machine *m, int id);

/* Do the groups @groups (@n indices into m->groups) hold the boot VGA device? */
bool av_machine_groups_take_boot_vga(const struct av_machine *m, const size_t *groups, size_t n);

#endif
