/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small readers and writers for sysfs-like attribute files under the root prefix. */
#ifndef AV_SYSFS_H
#define AV_SYSFS_H

#include <stddef.h>

#include "ctx.h"

#define AV_FMT(a, b) __attribute__((format(printf, a, b)))

/* Read @fd until its end or @size bytes; *@len gets the count. 0 or -errno. */
int av_read_fd(int fd, char *buf, size_t size, size_t *len);

/* Write all @len bytes of @buf to @fd (short writes and EINTR retried). 0 or -errno. */
int av_write_fd(int fd, const void *buf, size_t len);

/*
 * Read a small text file at root-prefixed path @fmt into @buf, trailing
 * white space removed. Returns its length or -errno (-EFBIG when it does not
 * fit, -EILSEQ when it holds a NUL byte).
 */
AV_FMT(4, 5)
int av_read_attr(const struct av_ctx *ctx, char *buf, size_t size, const char *fmt, ...);

/* Read a file holding one hex number ("0x10de" or "10de"). -EINVAL on garbage. */
AV_FMT(3, 4) int av_read_hex(const struct av_ctx *ctx, unsigned long *val, const char *fmt, ...);

/*
 * Read the symlink at @fmt and store the last component of its target in
 * @buf. Returns 0, -ENOENT when there is no link, or another -errno.
 */
AV_FMT(4, 5)
int av_read_link_base(const struct av_ctx *ctx, char *buf, size_t size, const char *fmt, ...);

/* Write @value to the existing attribute at @fmt, in one write(). Returns 0 or -errno. */
AV_FMT(3, 4) int av_write_attr(const struct av_ctx *ctx, const char *value, const char *fmt, ...);

#endif
