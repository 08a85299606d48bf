/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a user can give to a VM, in the order people look for it: the
 * candidates table shared by the setup picker and the listing summary, the
 * picker itself, and the preview of each boot before setup writes anything.
 */
#ifndef AV_PICKER_H
#define AV_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "cmdline.h"
#include "config.h"
#include "machine.h"
#include "plan.h"

enum av_cand_kind {
	AV_CAND_GPU,
	AV_CAND_USB,
	AV_CAND_NIC,
	AV_CAND_STORAGE,
	AV_CAND_OTHER,
	AV_CAND_NKINDS,
};

/* One line of the table: groups that go together (a GPU with its companions' groups). */
struct av_cand {
	enum av_cand_kind kind;
	size_t lead; /* the device naming it: the GPU, else the first endpoint */
	size_t ngroups;
	size_t groups[AV_MAX_SEL]; /* indices into the machine's groups, @lead's first */
	bool safe;
	const char *reason; /* first reason of an unsafe group, else NULL */
};

struct av_cands {
	size_t n;
	struct av_cand *c; /* by kind, then address */
	size_t nfolded;	   /* groups of only bridges and platform devices: not candidates */
};

/* The candidates of an analysed machine. 0 or -ENOMEM. */
int av_cands_build(const struct av_machine *m, struct av_cands *out);
void av_cands_release(struct av_cands *cs);

/* "GPUs", "USB controllers", ... */
const char *av_cand_kind_title(enum av_cand_kind k);

/*
 * One candidate as table lines: @number (0: none, -1: a dash, "not
 * selectable"), @mark a one-character flag column (' ' when none).
 */
void av_cand_print(FILE *f, const struct av_cli *cli, const struct av_machine *m,
		   const struct av_cand *c, int number, char mark);

/*
 * Ask which candidates go to VMs: numbers and ranges, Enter for none, '?'
 * for the full listing. Unsafe candidates are selectable only with
 * @force_unsafe. @old (may be NULL) marks the current selection. Fills
 * @addrs with one device per chosen candidate. 0, -ENODATA at end of input
 * (nothing chosen), -ENOMEM.
 */
int av_pick(const struct av_cli *cli, const struct av_machine *m, const struct av_config *old,
	    bool force_unsafe, struct av_pci_addr *addrs, size_t *n);

/* What each boot will look like with @r: one line per boot entry, or the one static selection. */
void av_pick_preview(FILE *f, const struct av_machine *m, const struct av_resolved *r,
		     enum av_mode mode);

#endif
