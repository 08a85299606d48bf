/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Facts about what the running host needs: its root/boot disk and its route. */
#ifndef AV_HOSTFACTS_H
#define AV_HOSTFACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"
#include "pciaddr.h"

/*
 * PCI devices that hold the filesystems mounted at "/" and "/boot"
 * (proc/self/mountinfo -> block device -> sysfs -> PCI ancestors, all under
 * the root prefix). Stores up to @max addresses of the nearest PCI device of
 * each. Returns the count, or -ENOENT when the mount table is not there
 * (fact unknown).
 */
int av_host_disk_devices(const struct av_ctx *ctx, struct av_pci_addr *out, size_t max);

/*
 * PCI devices under the interface carrying the default route
 * (proc/net/route; bridges and bonds are followed to their lower devices).
 * The interface name goes to @ifname. Returns the count (0: no default
 * route, or not on PCI), or -ENOENT when the route table is not there.
 */
int av_host_route_devices(const struct av_ctx *ctx, struct av_pci_addr *out, size_t max,
			  char *ifname, size_t ifname_size);

struct av_host_cpu {
	char vendor[32]; /* vendor_id: "GenuineIntel", "AuthenticAMD"; "" when unknown */
	bool pdpe1gb;	 /* can map 1 GiB pages */
};

/* The first CPU of proc/cpuinfo. -errno when the file is not there (all unknown). */
int av_host_cpu(const struct av_ctx *ctx, struct av_host_cpu *out);

#endif
