/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot entries of multi-boot mode, as data: which IOMMU groups go to VMs
 * together (a selection's closure: a GPU with its companions, forced or safe
 * groups only), which of them have a GPU the host can keep (one entry each),
 * and the auto_vfio.bind= token of each entry. Every boot loader renders the
 * same entries: the GRUB generator as menu entries, the kernel-install
 * plugin as BLS files.
 */
#ifndef AV_ENTRIES_H
#define AV_ENTRIES_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "ctx.h"
#include "machine.h"

/* A set of IOMMU groups that go to a VM together (a selection's closure). */
struct av_unit {
	size_t ngroups;
	size_t *groups;
	size_t nvga;
	size_t *vga; /* VGA devices in the unit, address order */
};

struct av_entries {
	size_t nunits;
	struct av_unit *units;
	size_t *rep; /* per group: the device named on the command line, or AV_NONE */
};

/*
 * The units of @cfg's selection on @m. Selections that no longer match, lack
 * an IOMMU group or are unsafe without a force_unsafe line are left out with
 * a warning through @ctx. 0 or -ENOMEM.
 */
int av_entries_plan(const struct av_ctx *ctx, const struct av_machine *m,
		    const struct av_config *cfg, struct av_entries *p);
void av_entries_release(struct av_entries *p);

/*
 * The bind token of the entry that keeps unit @keep for the host (AV_NONE:
 * headless): "auto_vfio.bind=SEL,..." in address order, "" when nothing is
 * passed. 0 or -ENOMEM; *out is the caller's.
 */
int av_entries_bind(const struct av_machine *m, const struct av_entries *p, size_t keep,
		    char **out);

/*
 * The config's IOMMU parameters for a command line that already has the
 * words in @have: without those and without amd_iommu=on (warned: not a
 * valid value).
 */
void av_entries_iommu_params(const struct av_ctx *ctx, const struct av_config *cfg,
			     const char *have, char *out, size_t size);

/*
 * Is the device at @address (DDDD:BB:DD.F) a GPU the host kept in the entries
 * written last time? Lets the model from the config alone keep its entries
 * when sysfs does not show the device. *@boot_vga: was it the boot VGA device
 * then (its entries carried AV_BOOTFB_PARAM where it was passed)?
 */
typedef bool (*av_entries_was_host_fn)(void *data, const char *address, bool *boot_vga);

/* Does the entry that keeps unit @keep (AV_NONE: headless) pass the boot VGA device? */
bool av_entries_passes_boot_vga(const struct av_machine *m, const struct av_entries *p,
				size_t keep);

/*
 * Without live IOMMU groups (a chroot, recovery, the IOMMU off) the config is
 * the truth: a model with one safe group per selected device, classes and
 * names from @live (may be NULL) when the device is there with the selected
 * ID, else a GPU when @was_host says so; the other selected functions of a
 * GPU's slot go with it. The binder checks every device again at boot.
 * 0 or -ENOMEM.
 */
int av_entries_config_machine(const struct av_config *cfg, const struct av_machine *live,
			      av_entries_was_host_fn was_host, void *data, struct av_machine **out);

#endif
