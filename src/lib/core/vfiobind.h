/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Binding whole IOMMU groups to vfio-pci through sysfs under the root prefix.
 * Plain sysfs reads and writes only: this runs in the initramfs, before udev.
 */
#ifndef AV_VFIOBIND_H
#define AV_VFIOBIND_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"
#include "ctx.h"

#define AV_VFIO_DRIVER "vfio-pci"
/* A group with more functions than this is a chipset group: never ours to take. */
#define AV_BIND_MAX_DEV 64
#define AV_DRVNAME_LEN 64

/* What a selector points at, found before anything is written. */
enum av_target_status {
	AV_TARGET_OK,	     /* device present with the selector's ID, in group @group */
	AV_TARGET_NO_DEVICE, /* nothing at that address */
	AV_TARGET_MISMATCH,  /* another vendor:device at that address */
	AV_TARGET_NO_GROUP,  /* no iommu_group link: IOMMU off or unsupported */
	AV_TARGET_ERROR,     /* unreadable sysfs; @err says why */
};

struct av_target {
	struct av_sel sel;
	enum av_target_status status;
	int group;		 /* -1: unknown; also set for AV_TARGET_MISMATCH */
	uint16_t vendor, device; /* what the device really is (AV_TARGET_MISMATCH) */
	int err;		 /* -errno for AV_TARGET_ERROR */
};

/* Look at the device @sel names: present, same ID, in which IOMMU group. Writes nothing. */
void av_vfio_resolve(const struct av_ctx *ctx, const struct av_sel *sel, struct av_target *t);

struct av_bind_dev {
	char addr[AV_ADDR_LEN];
	bool bridge;		     /* left alone */
	bool touched;		     /* we wrote something for it */
	char before[AV_DRVNAME_LEN]; /* driver before ("" none) */
	char after[AV_DRVNAME_LEN];  /* driver read back ("" none) */
	int err;		     /* first failed step, -errno */
	const char *step;	     /* which step failed */
};

enum av_bind_status {
	AV_BIND_BOUND,	 /* every endpoint is on vfio-pci now */
	AV_BIND_ALREADY, /* every endpoint was on vfio-pci already: nothing written */
	AV_BIND_PARTIAL, /* some endpoint is not on vfio-pci; see @dev */
	AV_BIND_FAILED,	 /* the group could not be read; nothing written; see @err */
};

struct av_bind_result {
	int group;
	enum av_bind_status status;
	int err;
	size_t ndev;
	struct av_bind_dev dev[AV_BIND_MAX_DEV];
};

/*
 * Bind every endpoint of IOMMU group @group to vfio-pci (bridges are left
 * alone): driver_override, unbind from another driver, drivers_probe, read
 * the driver link back. Idempotent. vfio-pci must already be registered.
 * Fills @res; returns 0 when every endpoint ends up on vfio-pci, else -errno.
 */
int av_vfio_bind_group(const struct av_ctx *ctx, int group, struct av_bind_result *res);

/* One human line about @res, without prefix or newline. */
void av_bind_result_format(const struct av_bind_result *res, char *buf, size_t size);
/* One human line about a target that is not AV_TARGET_OK. */
void av_target_format(const struct av_target *t, char *buf, size_t size);

#endif
