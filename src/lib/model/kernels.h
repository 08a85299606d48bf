/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernels installed in /boot, found and ordered the way GRUB's 10_linux does. */
#ifndef AV_KERNELS_H
#define AV_KERNELS_H

#include <stddef.h>

#include "ctx.h"

struct av_kernel {
	char *version; /* "6.1.0-56-amd64" */
	char *image;   /* file name in /boot */
	char *initrd;  /* file name in /boot, NULL when there is none */
};

/*
 * The kernels under <root>/boot (vmlinuz-*, without 10_linux's junk such as
 * .dpkg-* or .sig), newest first in 10_linux's order (dpkg version
 * comparison, rc/pre before the release, x.old after x). Versions with
 * characters unfit for an id or a title are left out with a warning.
 * Returns the count or -errno; *out is freed with av_kernels_free().
 */
int av_kernels_find(const struct av_ctx *ctx, struct av_kernel **out);
void av_kernels_free(struct av_kernel *k, size_t n);
/* The strings of one entry (for callers that drop entries). */
void av_kernels_free_one(struct av_kernel *k);

#endif
