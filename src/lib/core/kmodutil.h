/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Module handling through libkmod: make a module available and ask which modules claim a
 * modalias, with the modules directory (<root>/lib/modules/<release>) and
 * modprobe configuration under the root prefix.
 */
#ifndef AV_KMODUTIL_H
#define AV_KMODUTIL_H

#include <stddef.h>

#include "ctx.h"

struct kmod_ctx;

/* Longest module name we hand back (the kernel's MODULE_NAME_LEN is 56). */
#define AV_MODNAME_LEN 64

/*
 * A libkmod context for kernel @release (NULL: the running kernel's) under
 * the root of @ctx; libkmod's own messages go to @ctx's log callback, so
 * @ctx must outlive the result. Returns 0 or -errno. Free with kmod_unref().
 */
int av_kmod_new(const struct av_ctx *ctx, const char *release, struct kmod_ctx **out);

/*
 * Make sure module @name is available: already loaded, built in, or inserted
 * now with its dependencies. Under a fake root nothing is ever inserted into
 * the running kernel: there a module counts as loaded when
 * <root>/sys/module/<name>/initstate says so, and -EROFS is returned otherwise.
 * Returns 0 or -errno (-ENOENT: no such module for this kernel).
 */
int av_kmod_ensure(const struct av_ctx *ctx, struct kmod_ctx *kctx, const char *name);

/*
 * Modules that claim @modalias (as in sysfs "modalias" files), in the order
 * modprobe would try them. Stores up to @max names in @names and returns how
 * many matched in total (0: none), or -errno.
 */
int av_kmod_lookup_alias(const struct av_ctx *ctx, struct kmod_ctx *kctx, const char *modalias,
			 char (*names)[AV_MODNAME_LEN], size_t max);

#endif
