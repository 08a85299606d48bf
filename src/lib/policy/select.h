/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The selection engine: the entries of a configuration on a machine. Which
 * IOMMU groups pass through (whole groups, GPUs' companions included), the
 * device that names each group, which groups go to a VM together (units),
 * and what each multi-boot entry keeps and binds. Setup, status and every
 * boot-entry generator ask here and only render the answer.
 */
#ifndef AV_SELECT_H
#define AV_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmdline.h"
#include "config.h"
#include "ctx.h"
#include "machine.h"

struct av_resolved {
	size_t ngroups;
	size_t groups[AV_MAX_SEL]; /* indices into machine groups, by id */
	size_t rep[AV_MAX_SEL];	   /* the device that names each group */
	size_t unit[AV_MAX_SEL];   /* the unit each group belongs to, numbered in group order */
	size_t nunits;		   /* sets of groups that go to a VM together */
	bool unsafe_forced;	   /* some group is unsafe and was forced */
};

enum av_select_mode {
	/* setup and status: every selector must match, every unsafe group be overridden */
	AV_SELECT_STRICT,
	/* boot-entry generators: a selector that no longer fits is left out, with a warning */
	AV_SELECT_LENIENT,
};

/* Is machine group @g one of @r's? */
bool av_resolved_has(const struct av_resolved *r, size_t g);

/* The selector naming device @d as it is now. */
struct av_sel av_sel_of(const struct av_dev *d);

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

/*
 * The selection @cfg records, resolved on @m. AV_SELECT_STRICT: -ESTALE a
 * device whose ID changed, -ENODEV/-ENXIO as av_resolve(), -EPERM an unsafe
 * group without its own override. AV_SELECT_LENIENT: such selectors are
 * logged as warnings and left out; only -ENOMEM/-E2BIG fail.
 */
int av_select(const struct av_ctx *ctx, const struct av_machine *m, const struct av_config *cfg,
	      enum av_select_mode mode, struct av_resolved *out);

/* One multi-boot entry: the host keeps one unit's GPUs (or none), VMs get the rest. */
struct av_entry {
	size_t keep;		  /* the unit the host keeps; AV_NONE: headless */
	size_t nvga;		  /* the VGA devices of that unit, in group order */
	size_t vga[AV_MAX_SEL];	  /* (the first names the entry) */
	size_t nbind;		  /* the devices auto_vfio.bind= names, address order */
	size_t bind[AV_MAX_SEL];  /* (one per group passed) */
	bool bootfb;		  /* it passes the boot VGA device: AV_BOOTFB_PARAM on its line */
	char id[AV_ADDR_LEN + 8]; /* "host-<addr>" or "headless", without prefix or version */
};

/*
 * The entries of @r in menu order: one per unit with a VGA device, then the
 * headless one (the only one when no unit has a GPU). @out has room for
 * r->nunits + 1. Returns how many.
 */
size_t av_entries(const struct av_machine *m, const struct av_resolved *r, struct av_entry *out);

/* "auto_vfio.bind=SEL,SEL..." naming the devices @devs, in that order (nothing when @n is 0). */
void av_bind_param_put(FILE *f, const struct av_machine *m, const size_t *devs, size_t n);

/* "auto_vfio.bind=SEL,SEL..." for @e into a malloc'd string ("" when it binds nothing). */
int av_entry_bind_param(const struct av_machine *m, const struct av_entry *e, char **out);

/*
 * The configuration's IOMMU parameters that an entry adds: without
 * amd_iommu=on (warned about) and without the words @have already has.
 */
void av_entry_iommu_params(const struct av_ctx *ctx, const struct av_config *cfg, const char *have,
			   char *out, size_t size);

/* IOMMU kernel parameters for this CPU (from proc/cpuinfo): never amd_iommu=on. */
const char *av_iommu_params(const struct av_ctx *ctx);

/*
 * Is the device at @address (DDDD:BB:DD.F) a GPU the host kept in the entries
 * written last time? Lets the model from the config alone keep its entries
 * when sysfs does not show the device. *@boot_vga: was it the boot VGA device
 * then (its entries carried AV_BOOTFB_PARAM where it was passed)? Each boot
 * loader's generator reads its own last entries.
 */
typedef bool (*av_select_was_host_fn)(void *data, const char *address, bool *boot_vga);

/*
 * Without live IOMMU groups (a chroot, recovery, the IOMMU off) the config is
 * the truth: a model with one safe group per selected device, classes and
 * names from @live (may be NULL) when the device is there with the selected
 * ID, else a GPU when @was_host says so; the other selected functions of a
 * GPU's slot go with it. The binder checks every device again at boot.
 * 0 or -ENOMEM.
 */
int av_select_config_machine(const struct av_config *cfg, const struct av_machine *live,
			     av_select_was_host_fn was_host, void *data, struct av_machine **out);

#endif
