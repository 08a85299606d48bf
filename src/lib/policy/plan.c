// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hugepages.h"
#include "kmodutil.h"
#include "pciclass.h"
#include "plan.h"
#include "safety.h"
#include "sysfs.h"

void av_plan_release(struct av_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->f[i].data);
	memset(p, 0, sizeof(*p));
}

static int add_unique(char (*mods)[AV_MODNAME_LEN], size_t *n, size_t max, const char *name)
{
	char norm[AV_MODNAME_LEN];

	/* modprobe treats - and _ alike; write the underscore form once */
	snprintf(norm, sizeof(norm), "%s", name);
	for (char *p = norm; *p; p++)
		if (*p == '-')
			*p = '_';
	if (strcmp(norm, "vfio_pci") == 0 || strcmp(norm, "pcieport") == 0)
		return 0;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(mods[i], norm) == 0)
			return 0;
	if (*n >= max)
		return -E2BIG;
	snprintf(mods[(*n)++], AV_MODNAME_LEN, "%s", norm);
	return 0;
}

/* The modules that would claim @d: by modalias, else its current driver's module. */
static void claimers(const struct av_ctx *ctx, struct kmod_ctx *kctx, const struct av_dev *d,
		     char (*mods)[AV_MODNAME_LEN], size_t *n, size_t max)
{
	char alias[256], mod[AV_MODNAME_LEN], found[8][AV_MODNAME_LEN];
	int k = 0;

	if (kctx && av_read_attr(ctx, alias, sizeof(alias), "/sys/bus/pci/devices/%s/modalias",
				 d->address) > 0)
		k = av_kmod_lookup_alias(ctx, kctx, alias, found, 8);
	for (int i = 0; i < k && i < 8; i++)
		add_unique(mods, n, max, found[i]);
	if (!d->driver[0] || strcmp(d->driver, "vfio-pci") == 0)
		return;
	if (av_read_link_base(ctx, mod, sizeof(mod), "/sys/bus/pci/drivers/%s/module", d->driver) ==
	    0)
		add_unique(mods, n, max, mod);
	else
		add_unique(mods, n, max, d->driver);
}

static int modprobe_dropin(const struct av_ctx *ctx, const struct av_machine *m,
			   const struct av_resolved *r, struct kmod_ctx *kctx, bool static_ids,
			   char **out)
{
	char mods[64][AV_MODNAME_LEN];
	size_t nmods = 0, len = 0;
	char *buf = NULL;
	FILE *f;
	int err = 0;

	for (size_t i = 0; i < r->ngroups; i++) {
		const struct av_group *g = &m->groups[r->groups[i]];

		for (size_t k = 0; k < g->ndevs; k++)
			if (!av_class_is_bridge(m->devs[g->devs[k]].cls))
				claimers(ctx, kctx, &m->devs[g->devs[k]], mods, &nmods, 64);
	}
	*out = NULL;
	if (nmods == 0 && !static_ids)
		return 0; /* nothing to say: no file */
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs(AV_DROPIN_HEADER, f);
	fputs("# vfio-pci loads before the drivers that would claim the selected devices.\n", f);
	for (size_t i = 0; i < nmods; i++)
		fprintf(f, "softdep %s pre: vfio-pci\n", mods[i]);
	if (static_ids) {
		const char *sep = "";

		fputs("options vfio-pci ids=", f);
		for (size_t i = 0, nid = 0; i < m->ndevs; i++) {
			const struct av_dev *d = &m->devs[i];
			bool taken = d->group_idx != AV_NONE && av_resolved_has(r, d->group_idx);

			if (!taken || av_class_is_bridge(d->cls))
				continue;
			/* the same ID kept by the host would go to vfio-pci too */
			for (size_t j = 0; j < m->ndevs; j++) {
				const struct av_dev *o = &m->devs[j];

				if (o->vendor == d->vendor && o->device == d->device &&
				    (o->group_idx == AV_NONE ||
				     !av_resolved_has(r, o->group_idx))) {
					av_err(
					    ctx,
					    "--static-ids: %s [%04x:%04x] has the same ID as %s, "
					    "which the host keeps; bind by address instead",
					    d->address, d->vendor, d->device, o->address);
					err = -EEXIST;
				}
			}
			bool dup = false;

			for (size_t j = 0; j < i; j++)
				dup |= m->devs[j].vendor == d->vendor &&
				       m->devs[j].device == d->device;
			if (!dup) {
				fprintf(f, "%s%04x:%04x", sep, d->vendor, d->device);
				sep = ",";
				nid++;
			}
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0 || err) {
		free(buf);
		return err ? err : -ENOMEM;
	}
	*out = buf;
	return 0;
}

static int grub_dropin(const struct av_machine *m, const struct av_config *cfg,
		       const struct av_resolved *r, bool static_ids, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fputs(AV_DROPIN_HEADER, f);
	/*
	 * _DEFAULT only: the recovery entries keep a plain command line, the way
	 * back when a selection goes wrong.
	 */
	fprintf(f, "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT}");
	if (cfg->iommu_params[0])
		fprintf(f, " %s", cfg->iommu_params);
	if (cfg->mode == AV_MODE_STATIC && !static_ids && r->ngroups) {
		fputc(' ', f);
		av_bind_param_put(f, m, r->rep, r->ngroups);
	}
	/* however vfio-pci takes it (selectors or IDs), its BARs must be free */
	if (cfg->mode == AV_MODE_STATIC &&
	    av_machine_groups_take_boot_vga(m, r->groups, r->ngroups))
		fputs(" " AV_BOOTFB_PARAM, f);
	fputs("\"\n", f);
	/* an id without a kernel version: it survives kernel upgrades */
	if (cfg->mode == AV_MODE_MULTIBOOT && cfg->boot_default[0])
		fprintf(f, "GRUB_DEFAULT=\"" AV_ENTRY_ID_PREFIX "%s\"\n", cfg->boot_default);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

int av_plan_build(const struct av_ctx *ctx, const struct av_machine *m, const struct av_config *cfg,
		  struct kmod_ctx *kctx, bool static_ids, struct av_plan *out)
{
	struct av_resolved r = {0};
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (cfg->mode != AV_MODE_NONE) {
		err = av_select(ctx, m, cfg, AV_SELECT_STRICT, &r);
		if (err < 0)
			return err;
	}
	out->f[0] = (struct av_plan_file){.path = AV_CONFIG_PATH, .mode = 0644};
	out->f[1] = (struct av_plan_file){.path = AV_GRUB_DROPIN, .mode = 0644};
	out->f[2] = (struct av_plan_file){.path = AV_MODPROBE_DROPIN, .mode = 0644};
	out->n = AV_PLAN_OWN;
	err = av_config_format(cfg, &out->f[0].data);
	if (!err && cfg->mode != AV_MODE_NONE) {
		err = grub_dropin(m, cfg, &r, static_ids, &out->f[1].data);
		if (!err)
			err = modprobe_dropin(ctx, m, &r, kctx,
					      static_ids && cfg->mode == AV_MODE_STATIC,
					      &out->f[2].data);
	}
	if (err < 0)
		av_plan_release(out);
	return err;
}

int av_plan_check_dropin(const struct av_ctx *ctx, const struct av_manifest *man, const char *path,
			 const struct av_file *cur)
{
	static const char *const ours[] = {AV_GRUB_DROPIN, AV_MODPROBE_DROPIN, AV_HUGEPAGES_DROPIN};
	bool dropin = false;

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		dropin |= strcmp(path, ours[i]) == 0;
	if (!dropin || !cur->exists || av_manifest_find(man, path) ||
	    strncmp(cur->data, AV_DROPIN_HEADER, strlen(AV_DROPIN_HEADER)) == 0)
		return 0;
	av_err(ctx,
	       "%s%s exists and was not written by auto-vfio (its first line is not auto-vfio's "
	       "header): it is not replaced. Move its settings to a file of another name in the "
	       "same directory, remove it, and run again",
	       ctx->root, path);
	return -EEXIST;
}
