// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <libkmod.h>

#include "kmodutil.h"
#include "sysfs.h"

/* libkmod's priorities are syslog's, and so are ours. */
static void kmod_log_to_ctx(void *data, int priority, const char *file, int line, const char *fn,
			    const char *format, va_list args)
{
	const struct av_ctx *ctx = data;
	char msg[512];
	size_t len;

	(void)file;
	(void)line;
	(void)fn;
	if (!ctx->log_fn || priority > ctx->log_prio)
		return;
	vsnprintf(msg, sizeof(msg), format, args);
	len = strlen(msg);
	if (len > 0 && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	av_log(ctx, priority, "libkmod: %s", msg);
}

int av_kmod_new(const struct av_ctx *ctx, const char *release, struct kmod_ctx **out)
{
	char dir[PATH_MAX], c1[PATH_MAX], c2[PATH_MAX], c3[PATH_MAX], c4[PATH_MAX];
	const char *cfg[5] = {c1, c2, c3, c4, NULL};
	struct kmod_ctx *kctx;
	struct utsname uts;
	int err;

	if (!release) {
		if (uname(&uts) < 0)
			return -errno;
		release = uts.release;
	}
	err = av_path(ctx, dir, sizeof(dir), "/lib/modules/%s", release);
	if (err < 0)
		return err;
	/* libkmod's defaults are absolute; a fake root must not read the host's. */
	if (av_path(ctx, c1, sizeof(c1), "/etc/modprobe.d") < 0 ||
	    av_path(ctx, c2, sizeof(c2), "/run/modprobe.d") < 0 ||
	    av_path(ctx, c3, sizeof(c3), "/usr/local/lib/modprobe.d") < 0 ||
	    av_path(ctx, c4, sizeof(c4), "/lib/modprobe.d") < 0)
		return -ENAMETOOLONG;
	kctx = kmod_new(dir, av_ctx_is_real_root(ctx) ? NULL : cfg);
	if (!kctx)
		return errno ? -errno : -ENOMEM;
	kmod_set_log_fn(kctx, kmod_log_to_ctx, (void *)ctx);
	kmod_set_log_priority(kctx, ctx->log_prio);
	*out = kctx;
	return 0;
}

/* Loaded as the fake root's own sysfs tells it; libkmod would ask the real /sys. */
static bool fake_root_loaded(const struct av_ctx *ctx, const char *name)
{
	char state[32];

	if (av_read_attr(ctx, state, sizeof(state), "/sys/module/%s/initstate", name) < 0)
		return false;
	return strcmp(state, "live") == 0 || strcmp(state, "coming") == 0;
}

int av_kmod_ensure(const struct av_ctx *ctx, struct kmod_ctx *kctx, const char *name)
{
	struct kmod_module *mod = NULL;
	const char *modname;
	int err, state;

	err = kmod_module_new_from_name(kctx, name, &mod);
	if (err < 0) {
		av_err(ctx, "module %s: %s", name, strerror(-err));
		return err;
	}
	modname = kmod_module_get_name(mod);
	state = kmod_module_get_initstate(mod);
	if (state == KMOD_MODULE_BUILTIN) {
		av_dbg(ctx, "module %s is built into the kernel", modname);
		goto out;
	}
	if (!av_ctx_is_real_root(ctx)) {
		if (fake_root_loaded(ctx, modname))
			goto out;
		av_warn(ctx,
			"module %s: not loaded under root %s, and a foreign root's modules are "
			"never inserted into the running kernel",
			modname, ctx->root);
		err = -EROFS;
		goto out;
	}
	if (state == KMOD_MODULE_LIVE || state == KMOD_MODULE_COMING) {
		av_dbg(ctx, "module %s is already loaded", modname);
		goto out;
	}
	if (!kmod_module_get_path(mod)) {
		av_err(ctx, "module %s: not found for this kernel", modname);
		err = -ENOENT;
		goto out;
	}
	/* Like "modprobe NAME": an explicit request ignores blacklists and loads dependencies. */
	err = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	if (err == -EEXIST)
		err = 0;
	else if (err > 0)
		err = -EPERM;
	if (err < 0)
		av_err(ctx, "module %s: cannot insert: %s", modname, strerror(-err));
	else
		av_info(ctx, "module %s inserted", modname);
out:
	kmod_module_unref(mod);
	return err;
}

int av_kmod_lookup_alias(const struct av_ctx *ctx, struct kmod_ctx *kctx, const char *modalias,
			 char (*names)[AV_MODNAME_LEN], size_t max)
{
	struct kmod_list *list = NULL, *l;
	size_t n = 0;
	int err;

	err = kmod_module_new_from_lookup(kctx, modalias, &list);
	if (err < 0) {
		av_warn(ctx, "looking up modalias %s: %s", modalias, strerror(-err));
		return err;
	}
	kmod_list_foreach(l, list)
	{
		struct kmod_module *mod = kmod_module_get_module(l);
		const char *name = kmod_module_get_name(mod);

		if (n < max) {
			snprintf(names[n], AV_MODNAME_LEN, "%s", name);
		}
		n++;
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(list);
	return n > INT_MAX ? INT_MAX : (int)n;
}
