/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finding VFIO setups that auto-vfio did not make: kernel parameters in the
 * GRUB defaults and on the running command line, vfio/pci-stub module lines,
 * modprobe options, softdeps and GPU-driver blacklists, devices already on
 * vfio-pci. Files recorded in our manifest are ours and are skipped.
 */
#ifndef AV_DETECT_H
#define AV_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"
#include "fileops.h"
#include "manifest.h"

enum av_finding_kind {
	AV_FIND_PARAM,	 /* kernel parameter in a GRUB defaults file */
	AV_FIND_LINE,	 /* a module/modprobe line */
	AV_FIND_CMDLINE, /* on the running kernel's command line: report only */
	AV_FIND_BOUND,	 /* a device on vfio-pci now: report only */
};

struct av_finding {
	enum av_finding_kind kind;
	char *path; /* absolute without root; address for AV_FIND_BOUND */
	unsigned line;
	char *text; /* the line, or the parameter */
};

struct av_findings {
	size_t n;
	struct av_finding *f;
};

int av_detect_foreign(const struct av_ctx *ctx, const struct av_manifest *m,
		      struct av_findings *out);
void av_findings_release(struct av_findings *fs);

/*
 * The file content with our findings in it disabled: parameters taken out
 * of their GRUB line (the old line kept above as a comment), module lines
 * commented out, each marked "auto-vfio-disabled". NULL when nothing to do
 * or no memory. The caller writes it through the manifest, so uninstall
 * restores the original exactly.
 */
char *av_detect_disable(const char *content, const struct av_findings *fs, const char *path);

#endif
