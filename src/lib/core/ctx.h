/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The library context: the root prefix every path goes through and the
 * logging callback. The library never prints; the tools decide.
 */
#ifndef AV_CTX_H
#define AV_CTX_H

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>

#define AV_ROOT_ENV "AUTO_VFIO_ROOT"

enum av_log_prio {
	AV_LOG_ERR = 3,
	AV_LOG_WARNING = 4,
	AV_LOG_NOTICE = 5,
	AV_LOG_INFO = 6,
	AV_LOG_DEBUG = 7,
};

typedef void (*av_log_fn)(void *data, int prio, const char *fmt, va_list ap);

struct av_fault;

struct av_ctx {
	/* Root prefix without trailing slash; "" means the real "/". */
	char root[PATH_MAX];
	av_log_fn log_fn;
	void *log_data;
	int log_prio;
	/* Tests only: fail or die at a chosen file operation (fileops.h); NULL: never. */
	struct av_fault *fault;
};

/*
 * Set up @ctx for @root (NULL: $AUTO_VFIO_ROOT, else "/"). The root must
 * exist and be a directory. Returns 0 or -errno.
 */
int av_ctx_init(struct av_ctx *ctx, const char *root);
void av_ctx_set_log(struct av_ctx *ctx, av_log_fn fn, void *data, int prio);

__attribute__((format(printf, 3, 4))) void av_log(const struct av_ctx *ctx, int prio,
						  const char *fmt, ...);

#define av_err(ctx, ...) av_log(ctx, AV_LOG_ERR, __VA_ARGS__)
#define av_warn(ctx, ...) av_log(ctx, AV_LOG_WARNING, __VA_ARGS__)
#define av_info(ctx, ...) av_log(ctx, AV_LOG_INFO, __VA_ARGS__)
#define av_dbg(ctx, ...) av_log(ctx, AV_LOG_DEBUG, __VA_ARGS__)

/*
 * Join the root prefix and the absolute path @fmt into @buf.
 * Returns 0 or -ENAMETOOLONG.
 */
__attribute__((format(printf, 4, 5))) int av_path(const struct av_ctx *ctx, char *buf, size_t size,
						  const char *fmt, ...);

/* True when @ctx points at the real machine. */
static inline int av_ctx_is_real_root(const struct av_ctx *ctx)
{
	return ctx->root[0] == '\0';
}

#endif
