/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The safety policy (DESIGN.md section 5) as data: per group a verdict with
 * reasons; per device GPU companions and identical IDs. Facts the root
 * cannot provide (no mount table, no route table) are noted, not errors.
 */
#ifndef AV_SAFETY_H
#define AV_SAFETY_H

#include "ctx.h"
#include "machine.h"

/* Fill the analysis fields of @m. Returns 0 or -ENOMEM. */
int av_analyze(const struct av_ctx *ctx, struct av_machine *m);

/*
 * The devices a passthrough of group @g really takes: every endpoint of the
 * group plus the companions (same slot as a GPU) that sit in other groups,
 * whose groups come along. Fills @groups with group indices (first: @g),
 * returns how many, or -E2BIG when @max is too small.
 */
int av_group_closure(const struct av_machine *m, size_t g, size_t *groups, size_t max);

#endif
