// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostfacts.h"
#include "macro.h"
#include "pciclass.h"
#include "safety.h"
#include "select.h"
#include "sysfs.h"

struct av_sel av_sel_of(const struct av_dev *d)
{
	return (struct av_sel){.addr = d->addr, .vendor = d->vendor, .device = d->device};
}

static size_t index_of(const struct av_resolved *r, size_t g)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (r->groups[i] == g)
			return i;
	return AV_NONE;
}

/* Add group @g's closure to @out. */
static int add_closure(const struct av_machine *m, size_t g, struct av_resolved *out)
{
	size_t closure[AV_MAX_SEL];
	int nc = av_group_closure(m, g, closure, AV_MAX_SEL);

	if (nc < 0)
		return -E2BIG;
	for (int k = 0; k < nc; k++) {
		if (index_of(out, closure[k]) != AV_NONE)
			continue;
		if (out->ngroups >= AV_MAX_SEL)
			return -E2BIG;
		out->groups[out->ngroups++] = closure[k];
	}
	return 0;
}

/* The device that names a group: a GPU if there is one, else the first endpoint. */
static size_t representative(const struct av_machine *m, const struct av_group *g)
{
	size_t best = g->devs[0];

	for (size_t i = 0; i < g->ndevs; i++) {
		const struct av_dev *d = &m->devs[g->devs[i]];

		if (d->gpu)
			return g->devs[i];
		if (av_class_is_bridge(m->devs[best].cls) && !av_class_is_bridge(d->cls))
			best = g->devs[i];
	}
	return best;
}

static int group_sort(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x)
		x = parent[x] = parent[parent[x]];
	return x;
}

/*
 * Sort the groups, name each (by the device a selector named in it, when
 * @named has one, else its representative) and join the groups that go to
 * a VM together into units.
 */
static void finish(const struct av_machine *m, const size_t *named, struct av_resolved *out)
{
	size_t parent[AV_MAX_SEL], unit_of[AV_MAX_SEL];

	qsort(out->groups, out->ngroups, sizeof(out->groups[0]), group_sort);
	for (size_t i = 0; i < out->ngroups; i++) {
		size_t g = out->groups[i];

		out->rep[i] =
		    named && named[g] != AV_NONE ? named[g] : representative(m, &m->groups[g]);
		parent[i] = i;
		unit_of[i] = AV_NONE;
	}
	for (size_t i = 0; i < out->ngroups; i++) {
		size_t closure[AV_MAX_SEL];
		int nc = av_group_closure(m, out->groups[i], closure, AV_MAX_SEL);

		for (int k = 0; k < nc; k++) {
			size_t j = index_of(out, closure[k]);

			if (j != AV_NONE)
				parent[uf_find(parent, j)] = uf_find(parent, i);
		}
	}
	/* units in group order, which is close to address order */
	out->nunits = 0;
	for (size_t i = 0; i < out->ngroups; i++) {
		size_t r = uf_find(parent, i);

		if (unit_of[r] == AV_NONE)
			unit_of[r] = out->nunits++;
		out->unit[i] = unit_of[r];
	}
}

int av_resolve(const struct av_ctx *ctx, const struct av_machine *m,
	       const struct av_pci_addr *addrs, size_t n, bool static_mode, bool force,
	       struct av_resolved *out)
{
	bool host_display = false, takes_boot_vga = false;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct av_dev *d = av_machine_find(m, &addrs[i]);
		char a[AV_ADDR_LEN];

		av_pci_addr_format(&addrs[i], a);
		if (!d) {
			av_err(ctx, "%s: no such PCI device", a);
			err = err ? err : -ENODEV;
			continue;
		}
		if (d->group_idx == AV_NONE) {
			av_err(ctx, "%s: not in an IOMMU group (is the IOMMU on?)", a);
			err = err ? err : -ENXIO;
			continue;
		}
		if (add_closure(m, d->group_idx, out) < 0)
			return -E2BIG;
	}
	if (err)
		return err;
	finish(m, NULL, out);
	for (size_t i = 0; i < out->ngroups; i++) {
		const struct av_group *g = &m->groups[out->groups[i]];

		if (g->safe)
			continue;
		for (size_t k = 0; k < g->nreasons; k++)
			av_log(ctx, force ? AV_LOG_WARNING : AV_LOG_ERR,
			       "IOMMU group %d is unsafe: %s", g->id, g->reasons[k]);
		if (!force)
			err = -EPERM;
		out->unsafe_forced = force;
	}
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct av_dev *d = &m->devs[i];
		bool taken = d->group_idx != AV_NONE && av_resolved_has(out, d->group_idx);

		if (d->gpu && !taken)
			host_display = true;
	}
	takes_boot_vga = av_machine_groups_take_boot_vga(m, out->groups, out->ngroups);
	if (static_mode && takes_boot_vga && !host_display) {
		av_log(ctx, force ? AV_LOG_WARNING : AV_LOG_ERR,
		       "the selection takes the boot VGA device and leaves the host no display");
		if (!force)
			err = -EPERM;
	}
	return err;
}

bool av_resolved_has(const struct av_resolved *r, size_t g)
{
	return index_of(r, g) != AV_NONE;
}

void av_resolved_to_config(const struct av_machine *m, const struct av_resolved *r, bool force,
			   struct av_config *cfg)
{
	cfg->nselect = 0;
	cfg->nforce = 0;
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct av_dev *d = &m->devs[r->rep[i]];

		cfg->select[cfg->nselect++] = av_sel_of(d);
		if (force && !m->groups[r->groups[i]].safe)
			cfg->force_unsafe[cfg->nforce++] = av_sel_of(d);
	}
}

/* Is group @g cleared for passthrough: safe, or overridden by its own force_unsafe? */
static bool group_allowed(const struct av_machine *m, const struct av_config *cfg, size_t g)
{
	const struct av_group *grp = &m->groups[g];

	if (grp->safe)
		return true;
	for (size_t i = 0; i < grp->ndevs; i++) {
		struct av_sel s = av_sel_of(&m->devs[grp->devs[i]]);

		if (av_config_forced(cfg, &s))
			return true;
	}
	return false;
}

static int select_strict(const struct av_ctx *ctx, const struct av_machine *m,
			 const struct av_config *cfg, struct av_resolved *out)
{
	struct av_pci_addr addrs[AV_MAX_SEL];
	int err;

	for (size_t i = 0; i < cfg->nselect; i++) {
		const struct av_sel *s = &cfg->select[i];
		const struct av_dev *d = av_machine_find(m, &s->addr);
		char a[AV_ADDR_LEN];

		av_pci_addr_format(&s->addr, a);
		if (d && (d->vendor != s->vendor || d->device != s->device)) {
			av_err(ctx, "%s is now [%04x:%04x], the configuration says [%04x:%04x]", a,
			       d->vendor, d->device, s->vendor, s->device);
			return -ESTALE;
		}
		addrs[i] = s->addr;
	}
	err = av_resolve(ctx, m, addrs, cfg->nselect, cfg->mode == AV_MODE_STATIC, true, out);
	if (err < 0)
		return err;
	/* Every unsafe group needs its own recorded override. */
	for (size_t i = 0; i < out->ngroups; i++) {
		const struct av_group *g = &m->groups[out->groups[i]];

		if (group_allowed(m, cfg, out->groups[i]))
			continue;
		av_err(ctx, "IOMMU group %d is unsafe and the configuration has no override for it",
		       g->id);
		err = -EPERM;
	}
	return err;
}

/* One selector of a lenient selection: its closure, or a warning why not. */
static int select_one(const struct av_ctx *ctx, const struct av_machine *m,
		      const struct av_config *cfg, const struct av_sel *sel, size_t *named,
		      struct av_resolved *out)
{
	char s[AV_SEL_LEN];
	size_t closure[AV_MAX_SEL];
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
	n = av_group_closure(m, d->group_idx, closure, AV_MAX_SEL);
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
	if (named[d->group_idx] == AV_NONE)
		named[d->group_idx] = (size_t)(d - m->devs);
	return add_closure(m, d->group_idx, out);
}

int av_select(const struct av_ctx *ctx, const struct av_machine *m, const struct av_config *cfg,
	      enum av_select_mode mode, struct av_resolved *out)
{
	_cleanup_free_ size_t *named = NULL;
	int err = 0;

	if (mode == AV_SELECT_STRICT)
		return select_strict(ctx, m, cfg, out);
	memset(out, 0, sizeof(*out));
	named = malloc((m->ngroups + 1) * sizeof(*named));
	if (!named)
		return -ENOMEM;
	for (size_t g = 0; g < m->ngroups; g++)
		named[g] = AV_NONE;
	for (size_t i = 0; i < cfg->nselect && !err; i++)
		err = select_one(ctx, m, cfg, &cfg->select[i], named, out);
	if (!err)
		finish(m, named, out);
	return err;
}

/* ---- entries ---- */

static int addr_order(const void *a, const void *b, void *m)
{
	const struct av_machine *mm = m;

	return av_pci_addr_cmp(&mm->devs[*(const size_t *)a].addr,
			       &mm->devs[*(const size_t *)b].addr);
}

static void entry_fill(const struct av_machine *m, const struct av_resolved *r, size_t keep,
		       struct av_entry *e)
{
	size_t passed[AV_MAX_SEL];

	memset(e, 0, sizeof(*e));
	e->keep = keep;
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct av_group *g = &m->groups[r->groups[i]];

		if (r->unit[i] != keep) {
			passed[e->nbind] = r->groups[i];
			e->bind[e->nbind++] = r->rep[i];
			continue;
		}
		for (size_t k = 0; k < g->ndevs; k++)
			if (av_class_is_vga(m->devs[g->devs[k]].cls))
				e->vga[e->nvga++] = g->devs[k];
	}
	qsort_r(e->bind, e->nbind, sizeof(e->bind[0]), addr_order, (void *)m);
	/* only a passed boot GPU loses the firmware console */
	e->bootfb = av_machine_groups_take_boot_vga(m, passed, e->nbind);
	if (keep == AV_NONE)
		snprintf(e->id, sizeof(e->id), "headless");
	else
		snprintf(e->id, sizeof(e->id), "host-%s", m->devs[e->vga[0]].address);
}

size_t av_entries(const struct av_machine *m, const struct av_resolved *r, struct av_entry *out)
{
	size_t n = 0;

	for (size_t u = 0; u < r->nunits; u++) {
		entry_fill(m, r, u, &out[n]);
		n += out[n].nvga > 0;
	}
	entry_fill(m, r, AV_NONE, &out[n++]);
	return n;
}

void av_bind_param_put(FILE *f, const struct av_machine *m, const size_t *devs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct av_sel sel = av_sel_of(&m->devs[devs[i]]);
		char s[AV_SEL_LEN];

		av_sel_format(&sel, s);
		fprintf(f, "%s%s", i ? "," : "auto_vfio.bind=", s);
	}
}

int av_entry_bind_param(const struct av_machine *m, const struct av_entry *e, char **out)
{
	size_t size = 0;
	FILE *f = open_memstream(out, &size);

	if (!f) {
		*out = NULL;
		return -ENOMEM;
	}
	av_bind_param_put(f, m, e->bind, e->nbind);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

void av_entry_iommu_params(const struct av_ctx *ctx, const struct av_config *cfg, const char *have,
			   char *out, size_t size)
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
		} else if (!av_cmdline_has_word(have, p, wlen) &&
			   !av_cmdline_has_word(out, p, wlen) && len + wlen + 2 < size) {
			len += (size_t)snprintf(out + len, size - len, "%s%.*s", len ? " " : "",
						(int)wlen, p);
		}
		p += wlen;
	}
}

/* ---- the model of a machine without live IOMMU groups ---- */

static int addr_cmp_dev(const void *a, const void *b)
{
	return av_pci_addr_cmp(&((const struct av_dev *)a)->addr,
			       &((const struct av_dev *)b)->addr);
}

int av_select_config_machine(const struct av_config *cfg, const struct av_machine *live,
			     av_select_was_host_fn was_host, void *data, struct av_machine **out)
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
		d->boot_vga = ld && ld->boot_vga;
		if (!ld && was_host) {
			bool boot_vga = false;

			if (was_host(data, d->address, &boot_vga)) {
				d->class = 0x030000;
				d->cls = 0x0300;
			}
			d->boot_vga = boot_vga;
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

const char *av_iommu_params(const struct av_ctx *ctx)
{
	struct av_host_cpu cpu;

	/* Intel's IOMMU is off unless asked for; AMD's is on when present. */
	if (av_host_cpu(ctx, &cpu) == 0 && strcmp(cpu.vendor, "GenuineIntel") == 0)
		return "intel_iommu=on iommu=pt";
	return "iommu=pt";
}
