/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From a selection to the files setup writes: whole IOMMU groups with their
 * GPUs' companion functions, checked against the safety policy, and the
 * drop-ins derived from the configuration.
 */
#ifndef AV_PLAN_H
#define AV_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "ctx.h"
#include "fileops.h"
#include "machine.h"
#include "manifest.h"

struct kmod_ctx;

#define AV_GRUB_DROPIN "/etc/default/grub.d/auto-vfio.cfg"
#define AV_MODPROBE_DROPIN "/etc/modprobe.d/auto-vfio.conf"
#define AV_DROPIN_HEADER "# Written by auto-vfio; 'auto-vfio uninstall' removes it. Do not edit.\n"

struct av_resolved {
	size_t ngroups;
	size_t groups[AV_MAX_SEL]; /* indices into machine groups, by id */
	size_t rep[AV_MAX_SEL];	   /* the device that names each group */
	bool unsafe_forced;	   /* some group is unsafe and was forced */
};

/*
 * Whole groups for the devices at @addrs, companions included. Problems are
 * logged and returned: -ENODEV an address that is no device, -ENXIO a device
 * without IOMMU group, -EPERM an unsafe group (or, for @static_mode, the
 * host's only display) without @force, -E2BIG too many groups.
 */
int av_resolve(const struct av_ctx *ctx, const struct av_machine *m,
	       const struct av_pci_addr *addrs, size_t n, bool static_mode, bool force,
	       struct av_resolved *out);

/* Record @r in @cfg as selectors (and overrides for unsafe groups when forced). */
void av_resolved_to_config(const struct av_machine *m, const struct av_resolved *r, bool force,
			   struct av_config *cfg);

/* Resolve the selection a configuration records (every selector must still match). */
int av_resolve_config(const struct av_ctx *ctx, const struct av_machine *m,
		      const struct av_config *cfg, struct av_resolved *out);

/* IOMMU kernel parameters for this CPU (from proc/cpuinfo): never amd_iommu=on. */
const char *av_iommu_params(const struct av_ctx *ctx);

struct av_plan_file {
	const char *path;
	char *data; /* NULL: the file should not exist (as far as it is ours) */
	mode_t mode;
};

/* setup's own files come first in a plan: configuration, GRUB drop-in, modprobe drop-in */
#define AV_PLAN_OWN 3
#define AV_PLAN_MAX 8

struct av_plan {
	size_t n;
	struct av_plan_file f[AV_PLAN_MAX]; /* setup's own files, then the extras */
};

/*
 * The files for @cfg: the configuration itself, the GRUB defaults drop-in,
 * the modprobe drop-in. @kctx (may be NULL) finds the drivers that would
 * claim the selected devices. With @static_ids, vfio-pci takes the devices
 * by ID: -EEXIST when the host keeps a device with the same ID (logged).
 */
int av_plan_build(const struct av_ctx *ctx, const struct av_machine *m, const struct av_config *cfg,
		  struct kmod_ctx *kctx, bool static_ids, struct av_plan *out);
void av_plan_release(struct av_plan *p);

/*
 * A drop-in auto-vfio writes whole (@path one of its names) that exists,
 * is not in @man and lacks auto-vfio's header: someone else's file, never
 * replaced. -EEXIST (logged, with the way out) or 0.
 */
int av_plan_check_dropin(const struct av_ctx *ctx, const struct av_manifest *man, const char *path,
			 const struct av_file *cur);

#endif
