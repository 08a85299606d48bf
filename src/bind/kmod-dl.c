// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libkmod for the binder, opened only when a module has to be loaded. Linked
 * in, libkmod makes the dynamic loader map it and what it needs (libcrypto,
 * libzstd, liblzma) at every start, which costs more than the whole binding
 * in a slow guest; most runs find vfio-pci registered already (built in, or
 * the second pass) and never need it.
 *
 * The functions below stand in for the libkmod calls the shared kmod helpers
 * make; each one finds the real function in the library. dlopen() of a
 * library already open only takes a reference, so no handle is kept.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include <libkmod.h>

#include "kmod-dl.h"

static void *sym(const char *name)
{
	void *h = dlopen(AV_LIBKMOD_SONAME, RTLD_NOW | RTLD_LOCAL);

	return h ? dlsym(h, name) : NULL;
}

/* The real @name, or NULL when the library cannot be opened. */
#define REAL(name) ((__typeof__(&name))sym(#name))

const char *av_kmod_dl_path(void)
{
	void *f = sym("kmod_new");
	Dl_info info;

	if (!f || !dladdr(f, &info))
		return NULL;
	return info.dli_fname;
}

struct kmod_ctx *kmod_new(const char *dirname, const char *const *config_paths)
{
	__typeof__(&kmod_new) f = REAL(kmod_new);

	if (!f) {
		errno = ENOENT;
		return NULL;
	}
	return f(dirname, config_paths);
}

struct kmod_ctx *kmod_unref(struct kmod_ctx *ctx)
{
	__typeof__(&kmod_unref) f = REAL(kmod_unref);

	return f ? f(ctx) : NULL;
}

void kmod_set_log_fn(struct kmod_ctx *ctx,
		     void (*log_fn)(void *log_data, int priority, const char *file, int line,
				    const char *fn, const char *format, va_list args),
		     const void *data)
{
	__typeof__(&kmod_set_log_fn) f = REAL(kmod_set_log_fn);

	if (f)
		f(ctx, log_fn, data);
}

void kmod_set_log_priority(struct kmod_ctx *ctx, int priority)
{
	__typeof__(&kmod_set_log_priority) f = REAL(kmod_set_log_priority);

	if (f)
		f(ctx, priority);
}

int kmod_module_new_from_name(struct kmod_ctx *ctx, const char *name, struct kmod_module **mod)
{
	__typeof__(&kmod_module_new_from_name) f = REAL(kmod_module_new_from_name);

	return f ? f(ctx, name, mod) : -ENOSYS;
}

int kmod_module_new_from_lookup(struct kmod_ctx *ctx, const char *given_alias,
				struct kmod_list **list)
{
	__typeof__(&kmod_module_new_from_lookup) f = REAL(kmod_module_new_from_lookup);

	return f ? f(ctx, given_alias, list) : -ENOSYS;
}

struct kmod_module *kmod_module_unref(struct kmod_module *mod)
{
	__typeof__(&kmod_module_unref) f = REAL(kmod_module_unref);

	return f ? f(mod) : NULL;
}

int kmod_module_unref_list(struct kmod_list *list)
{
	__typeof__(&kmod_module_unref_list) f = REAL(kmod_module_unref_list);

	return f ? f(list) : -ENOSYS;
}

const char *kmod_module_get_name(const struct kmod_module *mod)
{
	__typeof__(&kmod_module_get_name) f = REAL(kmod_module_get_name);

	return f ? f(mod) : NULL;
}

const char *kmod_module_get_path(const struct kmod_module *mod)
{
	__typeof__(&kmod_module_get_path) f = REAL(kmod_module_get_path);

	return f ? f(mod) : NULL;
}

int kmod_module_get_initstate(const struct kmod_module *mod)
{
	__typeof__(&kmod_module_get_initstate) f = REAL(kmod_module_get_initstate);

	return f ? f(mod) : -ENOSYS;
}

int kmod_module_probe_insert_module(
    struct kmod_module *mod, unsigned int flags, const char *extra_options,
    int (*run_install)(struct kmod_module *m, const char *cmdline, void *data), const void *data,
    void (*print_action)(struct kmod_module *m, bool install, const char *options))
{
	__typeof__(&kmod_module_probe_insert_module) f = REAL(kmod_module_probe_insert_module);

	return f ? f(mod, flags, extra_options, run_install, data, print_action) : -ENOSYS;
}

struct kmod_module *kmod_module_get_module(const struct kmod_list *entry)
{
	__typeof__(&kmod_module_get_module) f = REAL(kmod_module_get_module);

	return f ? f(entry) : NULL;
}

struct kmod_list *kmod_list_next(const struct kmod_list *list, const struct kmod_list *curr)
{
	__typeof__(&kmod_list_next) f = REAL(kmod_list_next);

	return f ? f(list, curr) : NULL;
}
