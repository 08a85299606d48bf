// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostfacts.h"
#include "pciclass.h"
#include "safety.h"
#include "strv.h"

#define MAX_HOST_DEVS 16

struct host_facts {
	struct av_pci_addr disk[MAX_HOST_DEVS];
	int ndisk; /* -ENOENT: unknown */
	struct av_pci_addr net[MAX_HOST_DEVS];
	int nnet;
	char ifname[64];
};

static bool addr_in(const struct av_pci_addr *a, const struct av_pci_addr *set, int n)
{
	for (int i = 0; i < n; i++)
		if (av_pci_addr_cmp(a, &set[i]) == 0)
			return true;
	return false;
}

static void mark_gpus(struct av_machine *m)
{
	for (size_t i = 0; i < m->ndevs; i++) {
		struct av_dev *d = &m->devs[i];

		d->gpu = av_class_is_gpu(d->cls);
		d->companion_of = AV_NONE;
		d->identical_id = false;
	}
	for (size_t i = 0; i < m->ndevs; i++) {
		struct av_dev *d = &m->devs[i];

		if (!d->gpu)
			continue;
		for (size_t j = 0; j < m->ndevs; j++) {
			struct av_dev *o = &m->devs[j];

			if (j == i)
				continue;
			/*
			 * Same slot and same vendor: a card's HDMI audio, USB-C and UCSI
			 * functions. An APU's slot also holds SoC functions of the CPU
			 * vendor (PSP, USB, audio DSP) that the host needs: not companions.
			 */
			if (!o->gpu && !av_class_is_bridge(o->cls) && o->companion_of == AV_NONE &&
			    o->vendor == d->vendor && av_pci_addr_same_slot(&d->addr, &o->addr))
				o->companion_of = i;
			if (o->gpu && o->vendor == d->vendor && o->device == d->device)
				d->identical_id = true;
		}
	}
}

static const char *what(const struct av_dev *d)
{
	return d->class_name;
}

/* Another function in the slot of a GPU of @g (the card's own, or a BMC's or SoC's). */
static bool in_gpu_slot(const struct av_machine *m, const struct av_group *g,
			const struct av_dev *d)
{
	for (size_t k = 0; k < g->ndevs; k++) {
		const struct av_dev *o = &m->devs[g->devs[k]];

		if (o->gpu && av_pci_addr_same_slot(&o->addr, &d->addr))
			return true;
	}
	return false;
}

static int judge_group(struct av_machine *m, struct av_group *g, const struct host_facts *hf)
{
	char *plat = NULL;
	size_t ngpu = 0, nplat = 0, plen = 0;
	FILE *pf = open_memstream(&plat, &plen);
	int err = pf ? 0 : -ENOMEM;

	for (size_t i = 0; i < g->ndevs && !err; i++) {
		const struct av_dev *d = &m->devs[g->devs[i]];

		if (av_class_is_platform(d->cls))
			fprintf(pf, "%s%s %s", nplat++ ? ", " : "", d->address, what(d));
		else if (!av_class_is_bridge(d->cls) && addr_in(&d->addr, hf->disk, hf->ndisk))
			err = av_strv_addf(&g->reasons, &g->nreasons,
					   "%s %s holds the root or boot filesystem", d->address,
					   what(d));
		else if (!av_class_is_bridge(d->cls) && addr_in(&d->addr, hf->net, hf->nnet))
			err = av_strv_addf(&g->reasons, &g->nreasons,
					   "%s %s carries the default route (%s)", d->address,
					   what(d), hf->ifname);
		if (d->gpu)
			ngpu++;
	}
	if (pf && fclose(pf) != 0 && !err)
		err = -ENOMEM;
	if (!err && nplat)
		err = av_strv_addf(&g->reasons, &g->nreasons,
				   "holds platform device%s the host needs: %s",
				   nplat == 1 ? "" : "s", plat);
	free(plat);
	if (err)
		return err;

	if (ngpu) {
		char *list = NULL;
		size_t len = 0, nun = 0;
		FILE *f = open_memstream(&list, &len);

		if (!f)
			return -ENOMEM;
		for (size_t i = 0; i < g->ndevs; i++) {
			const struct av_dev *d = &m->devs[g->devs[i]];

			if (d->gpu || av_class_is_bridge(d->cls) || in_gpu_slot(m, g, d))
				continue;
			fprintf(f, "%s%s %s", nun ? ", " : "", d->address, what(d));
			nun++;
		}
		fclose(f);
		if (nun)
			err = av_strv_addf(
			    &g->reasons, &g->nreasons,
			    "a GPU shares this group with %zu unrelated device%s (%s): the slot is "
			    "not isolated (typically a chipset slot without ACS), so passing the "
			    "GPU through takes %s from the host",
			    nun, nun == 1 ? "" : "s", list ? list : "", nun == 1 ? "it" : "them");
		free(list);
		if (!err && ngpu > 1)
			err =
			    av_strv_addf(&g->notes, &g->nnotes,
					 "holds %zu GPUs: they can only go to VMs together", ngpu);
	}

	for (size_t i = 0; i < g->ndevs && !err; i++) {
		const struct av_dev *d = &m->devs[g->devs[i]];

		if (d->boot_vga)
			err = av_strv_addf(&g->notes, &g->nnotes,
					   "%s is the boot VGA device (firmware console)",
					   d->address);
		if (!err && d->gpu && d->identical_id)
			err =
			    av_strv_addf(&g->notes, &g->nnotes,
					 "%s has the same ID [%04x:%04x] as another GPU: bound by "
					 "address, never by ID",
					 d->address, d->vendor, d->device);
		if (!err && !d->gpu && !av_class_is_bridge(d->cls) && d->companion_of == AV_NONE &&
		    in_gpu_slot(m, g, d))
			err = av_strv_addf(
			    &g->notes, &g->nnotes,
			    "%s shares the GPU's slot but not its vendor (a BMC or SoC "
			    "function): it goes where the group goes",
			    d->address);
		if (!err && d->companion_of != AV_NONE &&
		    m->devs[d->companion_of].group != d->group)
			err = av_strv_addf(
			    &g->notes, &g->nnotes,
			    "%s belongs with GPU %s (group %d): they go to VMs together",
			    d->address, m->devs[d->companion_of].address,
			    m->devs[d->companion_of].group);
	}
	for (size_t j = 0; j < m->ndevs && !err; j++) {
		const struct av_dev *o = &m->devs[j];

		/* companions of this group's GPUs that the firmware put elsewhere */
		if (o->companion_of == AV_NONE || o->group == g->id ||
		    m->devs[o->companion_of].group != g->id)
			continue;
		err =
		    av_strv_addf(&g->notes, &g->nnotes,
				 "GPU %s has its function %s in group %d: they go to VMs together",
				 m->devs[o->companion_of].address, o->address, o->group);
	}
	g->safe = g->nreasons == 0;
	return err;
}

static int host_facts(const struct av_ctx *ctx, struct av_machine *m, struct host_facts *hf)
{
	int err = 0;

	hf->ndisk = av_host_disk_devices(ctx, hf->disk, MAX_HOST_DEVS);
	if (hf->ndisk < 0)
		err = av_strv_addf(
		    &m->notes, &m->nnotes,
		    "the disk holding / and /boot is unknown (no %s/proc/self/mountinfo): "
		    "storage controllers are not judged",
		    ctx->root);
	else if (hf->ndisk == 0)
		/* ZFS pools, network or overlay roots: nothing to follow to a controller */
		err = av_strv_addf(&m->notes, &m->nnotes,
				   "the filesystems at / and /boot were not traced to a PCI disk "
				   "controller (pooled, network or virtual storage): storage "
				   "controllers are not judged");
	hf->nnet =
	    av_host_route_devices(ctx, hf->net, MAX_HOST_DEVS, hf->ifname, sizeof(hf->ifname));
	if (!err && hf->nnet < 0)
		err =
		    av_strv_addf(&m->notes, &m->nnotes,
				 "the default-route NIC is unknown (no %s/proc/net/route): network "
				 "controllers are not judged",
				 ctx->root);
	return err;
}

int av_analyze(const struct av_ctx *ctx, struct av_machine *m)
{
	struct host_facts hf = {0};
	int err;

	mark_gpus(m);
	err = host_facts(ctx, m, &hf);
	if (err == 0 && !m->iommu)
		err =
		    av_strv_addf(&m->notes, &m->nnotes,
				 "no IOMMU groups: the IOMMU is off or missing (enable VT-d or "
				 "AMD-Vi in the firmware; on Intel also boot with intel_iommu=on)");
	for (size_t i = 0; i < m->ngroups && !err; i++) {
		struct av_group *g = &m->groups[i];

		av_strv_free(g->reasons, g->nreasons);
		av_strv_free(g->notes, g->nnotes);
		g->reasons = g->notes = NULL;
		g->nreasons = g->nnotes = 0;
		err = judge_group(m, g, &hf);
	}
	return err;
}

static int closure_add(size_t *groups, size_t *n, size_t max, size_t g)
{
	for (size_t i = 0; i < *n; i++)
		if (groups[i] == g)
			return 0;
	if (*n >= max)
		return -E2BIG;
	groups[(*n)++] = g;
	return 0;
}

int av_group_closure(const struct av_machine *m, size_t g, size_t *groups, size_t max)
{
	size_t n = 0;
	int err = closure_add(groups, &n, max, g);

	/* Grows while walking: a companion may pull its GPU's group, and so on. */
	for (size_t k = 0; k < n && !err; k++) {
		const struct av_group *grp = &m->groups[groups[k]];

		for (size_t i = 0; i < grp->ndevs && !err; i++) {
			size_t di = grp->devs[i];
			const struct av_dev *d = &m->devs[di];

			if (d->companion_of != AV_NONE &&
			    m->devs[d->companion_of].group_idx != AV_NONE)
				err = closure_add(groups, &n, max,
						  m->devs[d->companion_of].group_idx);
			if (!d->gpu)
				continue;
			for (size_t j = 0; j < m->ndevs && !err; j++)
				if (m->devs[j].companion_of == di &&
				    m->devs[j].group_idx != AV_NONE)
					err = closure_add(groups, &n, max, m->devs[j].group_idx);
		}
	}
	return err < 0 ? err : (int)n;
}
