/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Is passthrough working on this machine, and if not, why: the IOMMU, the
 * running command line against the configuration, vfio-pci, the kernel
 * configuration, every installed kernel's initramfs, and per selected group
 * the drivers, a firmware framebuffer in the way and the reset methods.
 * Every finding is data with a one-line fix; the tool decides how to show it.
 */
#ifndef AV_STATUS_H
#define AV_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"
#include "config.h"
#include "ctx.h"
#include "kconfig.h"
#include "machine.h"

enum av_status_sev {
	AV_STATUS_OK = 0,
	AV_STATUS_INFO,
	AV_STATUS_WARN,	   /* worth knowing; passthrough may still work */
	AV_STATUS_PROBLEM, /* passthrough as configured does not work */
};
#define AV_STATUS_NSEV 4

struct av_status_item {
	enum av_status_sev sev;
	const char *check; /* "iommu", "cmdline", "config", "vfio-pci", "kconfig", "initramfs",
			      "bootchain", "driver", "framebuffer", "reset" */
	char *subject;	   /* a kernel release or PCI address; "" when about the machine */
	char *msg;
	char *fix; /* what to do, one line; NULL when nothing */
};

struct av_status {
	char release[AV_RELEASE_LEN]; /* running kernel; "" when unknown */
	char *cmdline;		      /* NULL when unknown */
	struct av_cmdline booted;     /* our parameters on that command line */
	bool configured;	      /* /etc/auto-vfio.conf was read */
	struct av_config cfg;
	size_t nselected; /* groups the configuration selects (companions included) */
	size_t nbooted;	  /* of those, groups this boot gives to VMs */
	size_t count[AV_STATUS_NSEV];
	size_t n;
	struct av_status_item *items;
};

/*
 * Check everything on the machine under @ctx's root; @m is the loaded and
 * analysed model. Unreadable facts become findings, not failures.
 * Returns 0 or -ENOMEM.
 */
int av_status_collect(const struct av_ctx *ctx, const struct av_machine *m, struct av_status *st);
void av_status_release(struct av_status *st);

/* "ok", "info", "warning", "problem". */
const char *av_status_sev_name(enum av_status_sev sev);


#endif
