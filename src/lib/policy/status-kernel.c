// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio status: the running kernel's configuration and vfio-pci. */
#include <stdio.h>
#include <string.h>

#include <libkmod.h>

#include "kmodutil.h"
#include "status-internal.h"

void av_status_check_kconfig(struct coll *c, const struct av_kconfig *kc, const char *cpu)
{
	static const char *const syms[] = {"CONFIG_VFIO", "CONFIG_VFIO_PCI", "CONFIG_INTEL_IOMMU",
					   "CONFIG_AMD_IOMMU"};
	enum av_kconfig_val v[4];
	const char *rel = c->st->release;

	for (size_t i = 0; i < 4; i++)
		v[i] = av_kconfig_get(kc, syms[i], NULL, 0);
	for (size_t i = 0; i < 2; i++)
		if (v[i] != AV_KCONFIG_MODULE && v[i] != AV_KCONFIG_BUILTIN)
			av_status_add(
			    c, AV_STATUS_PROBLEM, "kconfig", rel,
			    "boot a kernel built with VFIO, such as Debian's linux-image-amd64",
			    "kernel %s is built without %s (%s)", rel, syms[i], kc->source);
	if (strcmp(cpu, "GenuineIntel") == 0 && v[2] != AV_KCONFIG_BUILTIN)
		av_status_add(c, AV_STATUS_PROBLEM, "kconfig", rel,
			      "boot a kernel built with CONFIG_INTEL_IOMMU=y",
			      "kernel %s has no Intel IOMMU driver (CONFIG_INTEL_IOMMU=%s)", rel,
			      av_kconfig_val_name(v[2]));
	if (strcmp(cpu, "AuthenticAMD") == 0 && v[3] != AV_KCONFIG_BUILTIN)
		av_status_add(c, AV_STATUS_PROBLEM, "kconfig", rel,
			      "boot a kernel built with CONFIG_AMD_IOMMU=y",
			      "kernel %s has no AMD IOMMU driver (CONFIG_AMD_IOMMU=%s)", rel,
			      av_kconfig_val_name(v[3]));
	av_status_add(c, AV_STATUS_INFO, "kconfig", rel, NULL,
		      "%s: VFIO=%s VFIO_PCI=%s INTEL_IOMMU=%s AMD_IOMMU=%s", kc->source,
		      av_kconfig_val_name(v[0]), av_kconfig_val_name(v[1]),
		      av_kconfig_val_name(v[2]), av_kconfig_val_name(v[3]));
}

enum modstate { MOD_UNKNOWN, MOD_BUILTIN, MOD_AVAILABLE, MOD_MISSING };

/* From the root's own modules index: libkmod's initstate would ask the host's /sys. */
static enum modstate module_state(struct coll *c, const char *rel, const char *name)
{
	struct kmod_ctx *k = NULL;
	struct kmod_list *list = NULL, *l;
	enum modstate s = MOD_MISSING;
	char dep[PATH_MAX];

	snprintf(dep, sizeof(dep), "/lib/modules/%s/modules.dep.bin", rel);
	if (!av_status_exists(c->ctx, dep) || av_kmod_new(c->ctx, rel, &k) < 0)
		return MOD_UNKNOWN;
	if (kmod_module_new_from_lookup(k, name, &list) < 0) {
		kmod_unref(k);
		return MOD_UNKNOWN;
	}
	kmod_list_foreach(l, list)
	{
		struct kmod_module *mod = kmod_module_get_module(l);

		if (strcmp(kmod_module_get_name(mod), name) == 0)
			s = kmod_module_get_path(mod) ? MOD_AVAILABLE : MOD_BUILTIN;
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(list);
	kmod_unref(k);
	return s;
}

void av_status_check_vfio_module(struct coll *c, const struct av_kconfig *kc)
{
	const char *rel = c->st->release;
	bool loaded = av_status_exists(c->ctx, "/sys/module/vfio_pci");
	enum modstate s = rel[0] ? module_state(c, rel, "vfio_pci") : MOD_UNKNOWN;

	if (kc && av_kconfig_get(kc, "VFIO_PCI", NULL, 0) == AV_KCONFIG_BUILTIN)
		s = MOD_BUILTIN;
	if (s == MOD_BUILTIN)
		av_status_add(c, AV_STATUS_OK, "vfio-pci", rel, NULL,
			      "vfio-pci is built into the kernel");
	else if (loaded)
		av_status_add(c, AV_STATUS_OK, "vfio-pci", rel, NULL, "vfio-pci is loaded");
	else if (s == MOD_MISSING)
		av_status_add(
		    c, AV_STATUS_PROBLEM, "vfio-pci", rel,
		    "install the full module set of this kernel (linux-image-<release>) or boot a "
		    "kernel built with CONFIG_VFIO_PCI",
		    "kernel %s has no vfio-pci module (not in %s/lib/modules/%s)", rel,
		    c->ctx->root, rel);
	else if (c->st->nbooted)
		av_status_add(c, AV_STATUS_PROBLEM, "vfio-pci", rel, JOURNAL_HINT,
			      "vfio-pci is not loaded although this boot passes devices");
	else if (s == MOD_AVAILABLE)
		av_status_add(
		    c, AV_STATUS_INFO, "vfio-pci", rel, NULL,
		    "vfio-pci is available as a module (not loaded: nothing is passed this boot)");
	else
		av_status_add(c, AV_STATUS_INFO, "vfio-pci", rel, NULL,
			      "vfio-pci is not loaded; its module could not be looked up (no "
			      "%s/lib/modules/%s "
			      "index)",
			      c->ctx->root, rel[0] ? rel : "<release>");
}
