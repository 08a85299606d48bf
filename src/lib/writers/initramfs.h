/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Listing what an initramfs image holds, the way the kernel unpacks it: a
 * sequence of newc cpio archives ("070701"/"070702"), uncompressed (the early
 * microcode archive) or compressed (the main one). gzip goes through zlib;
 * zstd, xz, lzma, bzip2, lz4 and lzo through their command-line tools
 * (`zstd -dc`, ...), run as child processes with the image on their input.
 */
#ifndef AV_INITRAMFS_H
#define AV_INITRAMFS_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"

struct av_initramfs {
	size_t n;
	char **names; /* member paths, without a leading "./" or "/" */
	/* compressions met, in order, e.g. "cpio+zstd" */
	char format[64];
};

/*
 * List the members of the image at root-prefixed @abspath. Problems are
 * logged through @ctx with the path. Returns 0 or -errno: -ENOENT no image,
 * -EINVAL not an initramfs (or damaged), -ENOPKG the decompressor for its
 * format is not installed (the message names the package).
 */
int av_initramfs_list(const struct av_ctx *ctx, const char *abspath, struct av_initramfs *out);
void av_initramfs_release(struct av_initramfs *ir);

/* The first member matching fnmatch(3) @pattern ('*' matches '/' too), or NULL. */
const char *av_initramfs_find(const struct av_initramfs *ir, const char *pattern);

#endif
