// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctx.h"

int av_ctx_init(struct av_ctx *ctx, const char *root)
{
	struct stat st;
	size_t len;

	memset(ctx, 0, sizeof(*ctx));
	ctx->log_prio = AV_LOG_WARNING;
	if (!root || !*root)
		root = getenv(AV_ROOT_ENV);
	if (!root || !*root)
		root = "/";
	if (stat(root, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;

	len = strlen(root);
	while (len > 0 && root[len - 1] == '/')
		len--;
	if (len >= sizeof(ctx->root))
		return -ENAMETOOLONG;
	memcpy(ctx->root, root, len);
	ctx->root[len] = '\0';
	return 0;
}

void av_ctx_set_log(struct av_ctx *ctx, av_log_fn fn, void *data, int prio)
{
	ctx->log_fn = fn;
	ctx->log_data = data;
	ctx->log_prio = prio;
}

void av_log(const struct av_ctx *ctx, int prio, const char *fmt, ...)
{
	va_list ap;

	if (!ctx || !ctx->log_fn || prio > ctx->log_prio)
		return;
	va_start(ap, fmt);
	ctx->log_fn(ctx->log_data, prio, fmt, ap);
	va_end(ap);
}

int av_path(const struct av_ctx *ctx, char *buf, size_t size, const char *fmt, ...)
{
	size_t rlen = strlen(ctx->root);
	va_list ap;
	int n;

	if (rlen >= size)
		return -ENAMETOOLONG;
	memcpy(buf, ctx->root, rlen);
	va_start(ap, fmt);
	n = vsnprintf(buf + rlen, size - rlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - rlen)
		return -ENAMETOOLONG;
	return 0;
}
