/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside auto-vfio status, shared by its files: the collector and its
 * checks, by concern: the running boot against the configuration
 * (status-boot.c), the kernel and vfio-pci (status-kernel.c), the boot
 * entries and initramfs images (status-images.c), the selected devices
 * (status-devices.c); status.c runs them in order.
 */
#ifndef AV_STATUS_INTERNAL_H
#define AV_STATUS_INTERNAL_H

#include <stdbool.h>

#include "bootchain.h"
#include "kconfig.h"
#include "sysfs.h"
#include "status.h"

#define JOURNAL_HINT "see 'journalctl -b -k | grep auto-vfio' for what the binder did"

struct coll {
	const struct av_ctx *ctx;
	const struct av_machine *m;
	struct av_status *st;
	struct av_bootchain bc;	 /* what the fixes name: update-grub or kernel-install, ... */
	int err;		 /* sticky -ENOMEM */
	bool *selected, *booted; /* per machine group */
};

/* One finding; out of memory is kept in c->err and ends the collection. */
AV_FMT(6, 7)
void av_status_add(struct coll *c, enum av_status_sev sev, const char *check, const char *subject,
		   const char *fix, const char *fmt, ...);
/* The command that rewrites the boot entries on this machine's chain. */
const char *av_status_menu_cmd(const struct coll *c);
/* The boot entries on this machine's chain, for messages: "the GRUB menu", ... */
const char *av_status_menu_name(const struct coll *c);
bool av_status_exists(const struct av_ctx *ctx, const char *abspath);
/* The kernel's words, separated by blanks; true when @word is one of them. */
bool av_status_cmdline_has(const char *cmdline, const char *word);

/* status-boot.c */
void av_status_check_iommu(struct coll *c, const char *cpu);
void av_status_check_cmdline(struct coll *c);
void av_status_check_config(struct coll *c);
void av_status_check_selection(struct coll *c);

/* status-kernel.c */
void av_status_check_kconfig(struct coll *c, const struct av_kconfig *kc, const char *cpu);
void av_status_check_vfio_module(struct coll *c, const struct av_kconfig *kc);

/* status-images.c */
void av_status_check_bls(struct coll *c, const struct av_config *cfg);
void av_status_check_initramfs(struct coll *c, enum av_initramfs_gen gen, const char *rel);

/* status-devices.c */
void av_status_check_groups(struct coll *c);

#endif
