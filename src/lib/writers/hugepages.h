/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Static hugepages for VM memory, reserved at boot by kernel parameters
 * (default_hugepagesz= hugepagesz= hugepages=) that a GRUB defaults drop-in
 * of their own adds, so they come and go independently of the passthrough.
 */
#ifndef AV_HUGEPAGES_H
#define AV_HUGEPAGES_H

#include <stdbool.h>

#include "ctx.h"

#define AV_HUGEPAGES_DROPIN "/etc/default/grub.d/auto-vfio-hugepages.cfg"
#define AV_HUGEPAGES_RESERVE_GIB 4

struct av_hugepages {
	unsigned long page_kib;	    /* 2048 or 1048576 */
	unsigned long count;	    /* pages */
	unsigned long long mem_kib; /* MemTotal */
	unsigned long long reserve_kib;
};

/* True when the CPU can map 1 GiB pages (flag pdpe1gb in proc/cpuinfo). */
bool av_hugepages_1g_capable(const struct av_ctx *ctx);

/*
 * Plan the pages: @size is "2M", "1G" or NULL (1G when the CPU can, else 2M);
 * @count > 0 takes that many pages, else all of MemTotal (proc/meminfo)
 * but @reserve_gib for the host. Problems are logged with their cause:
 * -EINVAL a bad size or unreadable meminfo, -EOPNOTSUPP 1G pages without
 * pdpe1gb, -ENOSPC when the pages would not leave the reserve to the host.
 */
int av_hugepages_plan(const struct av_ctx *ctx, const char *size, unsigned long count,
		      unsigned long reserve_gib, struct av_hugepages *out);

/* The drop-in text for @hp (malloc'd; NULL on no memory). */
char *av_hugepages_dropin(const struct av_hugepages *hp);

/* "1G" or "2M". */
const char *av_hugepages_size_name(unsigned long page_kib);

#endif
