// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The selection engine of multi-boot mode: from the configuration and the
 * machine (or the configuration alone) to the entries every boot loader
 * renders. Moved out of the GRUB generator unchanged, so that the
 * kernel-install plugin computes the same entries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entries.h"
#include "pciclass.h"
#include "safety.h"

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x)
		x = parent[x] = parent[parent[x]];
	return x;
}

/* Is group @g cleared for passthrough: safe, or overridden by force_unsafe? */
static bool group_allowed(const struct av_machine *m, const struct av_config *cfg, size_t g)
{
	const struct av_group *grp = &m->groups[g];

	if (grp->safe)
		return true;
	for (size_t i = 0; i < grp->ndevs; i++) {
		const struct av_dev *d = &m->devs[grp->devs[i]];
		struct av_sel sel = {d->addr, d->vendor, d->device};

		if (av_config_forced(cfg, &sel))
			return true;
	}
	return false;
}

void av_entries_release(struct av_entries *p)
{
	for (size_t i = 0; i < p->nunits; i++) {
		free(p->units[i].groups);
		free(p->units[i].vga);
	}
	free(p->units);
	free(p->rep);
}

/* One selection: check it and merge its closure into the union-find. */
static int plan_select(const struct av_ctx *ctx, const struct av_machine *m,
		       const struct av_config *cfg, const struct av_sel *sel, size_t *parent,
		       bool *chosen, size_t *rep)
{
	char s[AV_SEL_LEN];
	size_t closure[64];
	const struct av_dev *d;
	int n;

	av_sel_format(sel, s);
	d = av_machine_find(m, &sel->addr);
	if (!d) {
		av_warn(ctx, "%s: selected device %s is not present; left out", AV_CONFIG_PATH, s);
		return 0;
	}
	if (d->vendor != sel->vendor || d->device != sel->device) {
		av_warn(ctx, "%s: device at %s is now %04x:%04x, not the selected %s; left out",
			AV_CONFIG_PATH, d->address, d->vendor, d->device, s);
		return 0;
	}
	if (d->group_idx == AV_NONE) {
		av_warn(ctx, "%s: %s is in no IOMMU group; left out", AV_CONFIG_PATH, s);
		return 0;
	}
	n = av_group_closure(m, d->group_idx, closure, sizeof(closure) / sizeof(closure[0]));
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		const struct av_group *g = &m->groups[closure[i]];

		if (!group_allowed(m, cfg, closure[i])) {
			av_warn(ctx,
				"%s: %s left out: IOMMU group %d is unsafe to pass through (%s); "
				"only a force_unsafe line for it would change that",
				AV_CONFIG_PATH, s, g->id,
				g->nreasons ? g->reasons[0] : "no reason recorded");
			return 0;
		}
	}
	if (rep[d->group_idx] == AV_NONE)
		rep[d->group_idx] = (size_t)(d - m->devs);
	for (int i = 0; i < n; i++) {
		chosen[closure[i]] = true;
		parent[uf_find(parent, closure[i])] = uf_find(parent, closure[0]);
	}
	return 0;
}

int av_entries_plan(const struct av_ctx *ctx, const struct av_machine *m,
		    const struct av_config *cfg, struct av_entries *p)
{
	size_t *parent = calloc(m->ngroups + 1, sizeof(*parent));
	bool *chosen = calloc(m->ngroups + 1, sizeof(*chosen));
	size_t *unit_of = calloc(m->ngroups + 1, sizeof(*unit_of));
	int err = -ENOMEM;

	memset(p, 0, sizeof(*p));
	p->rep = calloc(m->ngroups + 1, sizeof(*p->rep));
	p->units = calloc(m->ngroups + 1, sizeof(*p->units));
	if (!parent || !chosen || !unit_of || !p->rep || !p->units)
		goto out;
	for (size_t g = 0; g < m->ngroups; g++) {
		parent[g] = g;
		p->rep[g] = AV_NONE;
		unit_of[g] = AV_NONE;
	}
	for (size_t i = 0; i < cfg->nselect; i++) {
		err = plan_select(ctx, m, cfg, &cfg->select[i], parent, chosen, p->rep);
		if (err < 0)
			goto out;
	}
	/* Units in group order, which is close to address order. */
	for (size_t g = 0; g < m->ngroups; g++) {
		size_t r, u;
		struct av_unit *un;

		if (!chosen[g])
			continue;
		r = uf_find(parent, g);
		if (unit_of[r] == AV_NONE)
			unit_of[r] = p->nunits++;
		u = unit_of[r];
		un = &p->units[u];
		if (!un->groups && !(un->groups = calloc(m->ngroups, sizeof(size_t))))
			goto nomem;
		if (!un->vga && !(un->vga = calloc(m->ndevs + 1, sizeof(size_t))))
			goto nomem;
		un->groups[un->ngroups++] = g;
		for (size_t i = 0; i < m->groups[g].ndevs; i++) {
			size_t di = m->groups[g].devs[i];

			if (av_class_is_vga(m->devs[di].cls))
				un->vga[un->nvga++] = di;
		}
		if (p->rep[g] == AV_NONE) {
			/* any endpoint names the group; bridges cannot be bound */
			for (size_t i = 0; i < m->groups[g].ndevs; i++) {
				size_t di = m->groups[g].devs[i];

				if (!av_class_is_bridge(m->devs[di].cls)) {
					p->rep[g] = di;
					break;
				}
			}
		}
	}
	err = 0;
	goto out;
nomem:
	err = -ENOMEM;
out:
	free(parent);
	free(chosen);
	free(unit_of);
	if (err < 0)
		av_entries_release(p);
	return err;
}

static int addr_cmp_dev(const void *a, const void *b)
{
	return av_pci_addr_cmp(&((const struct av_dev *)a)->addr,
			       &((const struct av_dev *)b)->addr);
}

static int addr_order(const void *a, const void *b, void *m)
{
	const struct av_machine *mm = m;

	return av_pci_addr_cmp(&mm->devs[*(const size_t *)a].addr,
			       &mm->devs[*(const size_t *)b].addr);
}

/* The bind token for an entry that keeps unit @keep (AV_NONE: headless). "" when none. */
int av_entries_bind(const struct av_machine *m, const struct av_entries *p, size_t keep, char **out)
{
	size_t *devs = calloc(m->ngroups + 1, sizeof(*devs));
	size_t n = 0, size = 0;
	char *buf = NULL;
	FILE *f;

	*out = NULL;
	if (!devs)
		return -ENOMEM;
	for (size_t u = 0; u < p->nunits; u++) {
		if (u == keep)
			continue;
		for (size_t i = 0; i < p->units[u].ngroups; i++) {
			size_t g = p->units[u].groups[i];

			if (p->rep[g] != AV_NONE)
				devs[n++] = p->rep[g];
		}
	}
	qsort_r(devs, n, sizeof(*devs), addr_order, (void *)m);
	f = open_memstream(&buf, &size);
	if (!f) {
		free(devs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct av_dev *d = &m->devs[devs[i]];
		struct av_sel sel = {d->addr, d->vendor, d->device};
		char s[AV_SEL_LEN];

		av_sel_format(&sel, s);
		fprintf(f, "%s%s", i ? "," : "auto_vfio.bind=", s);
	}
	free(devs);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

bool av_entries_passes_boot_vga(const struct av_machine *m, const struct av_entries *p, size_t keep)
{
	for (size_t u = 0; u < p->nunits; u++)
		if (u != keep &&
		    av_machine_groups_take_boot_vga(m, p->units[u].groups, p->units[u].ngroups))
			return true;
	return false;
}

/* Does the word @w occur in the blank-separated @line? */
static bool has_word(const char *line, const char *w, size_t wlen)
{
	for (const char *p = line; *p;) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == wlen && strncmp(p, w, wlen) == 0)
			return true;
		p += len;
	}
	return false;
}

void av_entries_iommu_params(const struct av_ctx *ctx, const struct av_config *cfg,
			     const char *have, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (const char *p = cfg->iommu_params; *p;) {
		size_t wlen;

		p += strspn(p, " \t");
		wlen = strcspn(p, " \t");
		if (!wlen)
			break;
		if (wlen == 12 && strncmp(p, "amd_iommu=on", 12) == 0) {
			av_warn(ctx,
				"%s: iommu_params: amd_iommu=on is not a valid value (the AMD "
				"IOMMU is on by default); left out",
				AV_CONFIG_PATH);
		} else if (!has_word(have, p, wlen) && !has_word(out, p, wlen) &&
			   len + wlen + 2 < size) {
			len += (size_t)snprintf(out + len, size - len, "%s%.*s", len ? " " : "",
						(int)wlen, p);
		}
		p += wlen;
	}
}

int av_entries_config_machine(const struct av_config *cfg, const struct av_machine *live,
			      av_entries_was_host_fn was_host, void *data, struct av_machine **out)
{
	struct av_machine *m = calloc(1, sizeof(*m));
	size_t n = 0;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->boot_vga = AV_NONE;
	m->devs = calloc(cfg->nselect + 1, sizeof(*m->devs));
	m->groups = calloc(cfg->nselect + 1, sizeof(*m->groups));
	if (!m->devs || !m->groups)
		goto nomem;
	for (size_t i = 0; i < cfg->nselect; i++) {
		const struct av_sel *sel = &cfg->select[i];
		const struct av_dev *ld = live ? av_machine_find(live, &sel->addr) : NULL;
		struct av_dev *d = &m->devs[n];
		bool dup = false;

		for (size_t j = 0; j < n; j++)
			dup |= av_pci_addr_cmp(&m->devs[j].addr, &sel->addr) == 0;
		if (dup)
			continue;
		if (ld && (ld->vendor != sel->vendor || ld->device != sel->device))
			ld = NULL;
		d->addr = sel->addr;
		av_pci_addr_format(&sel->addr, d->address);
		d->vendor = sel->vendor;
		d->device = sel->device;
		d->class = ld ? ld->class : 0;
		d->cls = ld ? ld->cls : 0;
		{
			bool bv = false;

			if (!ld && was_host && was_host(data, d->address, &bv)) {
				d->class = 0x030000;
				d->cls = 0x0300;
			}
			d->boot_vga = ld ? ld->boot_vga : bv;
		}
		d->revision = -1;
		d->group = (int)n;
		d->companion_of = AV_NONE;
		d->gpu = av_class_is_gpu(d->cls);
		if (ld) {
			d->vendor_name = strdup(ld->vendor_name);
			d->device_name = strdup(ld->device_name);
		} else if (asprintf(&d->vendor_name, "device") < 0 ||
			   asprintf(&d->device_name, "%04x:%04x", d->vendor, d->device) < 0) {
			d->vendor_name = d->device_name = NULL;
		}
		d->class_name = strdup(ld ? ld->class_name : "");
		n++;
		if (!d->vendor_name || !d->device_name || !d->class_name)
			goto nomem;
	}
	qsort(m->devs, n, sizeof(*m->devs), addr_cmp_dev);
	m->ndevs = n;
	for (size_t i = 0; i < n; i++) {
		if (m->devs[i].boot_vga && m->boot_vga == AV_NONE)
			m->boot_vga = i;
		m->devs[i].group = (int)i;
		m->devs[i].group_idx = i;
		m->groups[i].id = (int)i;
		m->groups[i].safe = true;
		m->groups[i].devs = malloc(sizeof(size_t));
		if (!m->groups[i].devs)
			goto nomem_groups;
		m->groups[i].devs[0] = i;
		m->groups[i].ndevs = 1;
		m->ngroups = i + 1;
		/* the other functions of a GPU's slot go with it, as with a live model */
		for (size_t j = 0; j < n && !m->devs[i].gpu; j++)
			if (m->devs[j].gpu && m->devs[j].addr.domain == m->devs[i].addr.domain &&
			    m->devs[j].addr.bus == m->devs[i].addr.bus &&
			    m->devs[j].addr.dev == m->devs[i].addr.dev)
				m->devs[i].companion_of = j;
	}
	*out = m;
	return 0;
nomem:
	if (m->devs)
		m->ndevs = n + 1; /* the device half filled in, too */
nomem_groups:
	av_machine_free(m);
	return -ENOMEM;
}
