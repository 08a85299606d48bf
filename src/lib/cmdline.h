/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel command line contract:
 *   auto_vfio.bind=SEL[,SEL...]   SEL = DDDD:BB:DD.F@VVVV:DDDD (lower-case hex)
 *   auto_vfio=off                 bind nothing this boot
 * Several bind tokens accumulate; malformed selectors are reported and skipped.
 */
#ifndef AV_CMDLINE_H
#define AV_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "pciaddr.h"

/*
 * What a boot that passes the boot VGA device carries besides its selectors:
 * sysfb never registers the firmware framebuffer (efifb, or simplefb and
 * simpledrm's BOOTFB), so nothing of it sits in that GPU's BARs when
 * vfio-pci takes it and a VM maps them. One word, so it is easy to spot.
 */
#define AV_BOOTFB_PARAM "initcall_blacklist=sysfb_init"

#define AV_MAX_SEL 64
/* "dddd:bb:dd.f@vvvv:dddd" plus NUL */
#define AV_SEL_LEN 23

struct av_sel {
	struct av_pci_addr addr;
	uint16_t vendor, device;
};

struct av_cmdline {
	bool off;
	size_t nsel;
	struct av_sel sel[AV_MAX_SEL];
	/* selectors rejected as malformed (each also logged) */
	unsigned nbad;
};

/*
 * Split @cmdline into words as the kernel does (double quotes group, are
 * removed, and may appear mid-word) and collect our parameters. Duplicate
 * selectors are folded. Never fails on bad input: bad selectors are logged
 * through @ctx and counted. Returns 0, or -E2BIG when more than AV_MAX_SEL
 * selectors were given (the first AV_MAX_SEL are kept).
 */
int av_cmdline_parse(const struct av_ctx *ctx, const char *cmdline, struct av_cmdline *out);

/* Parse one "DDDD:BB:DD.F@VVVV:DDDD" selector. 0 or -EINVAL. */
int av_sel_parse(const char *s, struct av_sel *out);
/* Format a selector in canonical lower-case form into @buf (AV_SEL_LEN bytes). */
void av_sel_format(const struct av_sel *sel, char buf[AV_SEL_LEN]);

#endif
