// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The candidates table, the setup picker and the boot preview. A machine
 * has dozens of groups, most of them bridges and platform devices nobody
 * passes through: the table shows what can go to a VM, GPUs first, in one
 * line each, and folds the rest into a count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grubemit.h"
#include "pciclass.h"
#include "picker.h"
#include "safety.h"

#define NAME_COLS 40
#define LINE_COLS 200

/* Bridges and platform devices never go to a VM by themselves. */
static bool is_candidate_dev(const struct av_dev *d)
{
	return !av_class_is_bridge(d->cls) && !av_class_is_platform(d->cls);
}

static enum av_cand_kind kind_of(const struct av_dev *d)
{
	if (d->gpu)
		return AV_CAND_GPU;
	if (d->cls == 0x0c03)
		return AV_CAND_USB;
	if ((d->cls >> 8) == 0x02)
		return AV_CAND_NIC;
	if ((d->cls >> 8) == 0x01)
		return AV_CAND_STORAGE;
	return AV_CAND_OTHER;
}

const char *av_cand_kind_title(enum av_cand_kind k)
{
	static const char *const t[] = {
	    [AV_CAND_GPU] = "GPUs",
	    [AV_CAND_USB] = "USB controllers",
	    [AV_CAND_NIC] = "Network controllers",
	    [AV_CAND_STORAGE] = "Storage controllers",
	    [AV_CAND_OTHER] = "Other devices",
	};

	return k < AV_CAND_NKINDS ? t[k] : "";
}

/* "03:00.0" in domain 0, as lspci shows it; the whole address elsewhere. */
static const char *short_addr(const struct av_dev *d)
{
	return strncmp(d->address, "0000:", 5) == 0 ? d->address + 5 : d->address;
}

/* "Intel Corporation" -> "Intel"; "Advanced Micro Devices, Inc. [AMD/ATI]" -> "AMD". */
static void vendor_short(const char *name, char *out, size_t size)
{
	const char *b = strchr(name, '[');
	size_t n;

	if (b && strchr(b, ']')) {
		b++;
		n = strcspn(b, "/]");
	} else {
		b = name;
		n = strcspn(b, " ,");
	}
	snprintf(out, size, "%.*s", (int)n, b);
}

/*
 * A GPU's marketing name is the bracketed part, its first alternative:
 * "Navi 22 [Radeon RX 6700/6700 XT/6750 XT / 6800M/6850M XT]" -> "Radeon RX
 * 6700/6700 XT/6750 XT".
 */
static void device_short(const struct av_dev *d, char *out, size_t size)
{
	const char *b = strrchr(d->device_name, '[');
	const char *alt;
	size_t n;

	if (d->gpu && b && b > d->device_name && (n = strcspn(b + 1, "]")) > 0 && b[1 + n] == ']') {
		alt = strstr(b + 1, " / ");
		if (alt && alt < b + 1 + n)
			n = (size_t)(alt - (b + 1));
		snprintf(out, size, "%.*s", (int)n, b + 1);
		return;
	}
	snprintf(out, size, "%s", d->device_name);
}

/* "AMD Radeon RX 6700 XT", clean for the terminal and at most @size - 1 bytes. */
static void display_name(const struct av_dev *d, bool vendor, char *out, size_t size)
{
	char v[64], dev[512], raw[600];

	vendor_short(d->vendor_name, v, sizeof(v));
	device_short(d, dev, sizeof(dev));
	if (vendor)
		snprintf(raw, sizeof(raw), "%s %s", v, dev);
	else
		snprintf(raw, sizeof(raw), "%s", dev);
	av_grub_sanitize(raw, out, size);
}

static int addr_order(const void *a, const void *b, void *data)
{
	const struct av_machine *m = data;
	const struct av_cand *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return av_pci_addr_cmp(&m->devs[x->lead].addr, &m->devs[y->lead].addr);
}

/* The GPU of the groups, else their first endpoint that is no platform device. */
static size_t pick_lead(const struct av_machine *m, const size_t *groups, size_t n)
{
	size_t lead = AV_NONE, gpu = AV_NONE;

	for (size_t k = 0; k < n; k++) {
		const struct av_group *g = &m->groups[groups[k]];

		for (size_t i = 0; i < g->ndevs; i++) {
			size_t di = g->devs[i];
			const struct av_dev *d = &m->devs[di];

			if (d->gpu &&
			    (gpu == AV_NONE || av_pci_addr_cmp(&d->addr, &m->devs[gpu].addr) < 0))
				gpu = di;
			if (is_candidate_dev(d) &&
			    (lead == AV_NONE || av_pci_addr_cmp(&d->addr, &m->devs[lead].addr) < 0))
				lead = di;
		}
	}
	return gpu != AV_NONE ? gpu : lead;
}

int av_cands_build(const struct av_machine *m, struct av_cands *out)
{
	bool *seen = calloc(m->ngroups + 1, sizeof(*seen));

	memset(out, 0, sizeof(*out));
	out->c = calloc(m->ngroups + 1, sizeof(*out->c));
	if (!seen || !out->c) {
		free(seen);
		free(out->c);
		out->c = NULL;
		return -ENOMEM;
	}
	for (size_t gi = 0; gi < m->ngroups; gi++) {
		struct av_cand *c = &out->c[out->n];
		int nc;

		if (seen[gi])
			continue;
		nc = av_group_closure(m, gi, c->groups, AV_MAX_SEL);
		if (nc < 0) {
			c->groups[0] = gi;
			nc = 1;
		}
		c->ngroups = (size_t)nc;
		c->lead = pick_lead(m, c->groups, c->ngroups);
		if (c->lead == AV_NONE) {
			/* only bridges and platform devices */
			seen[gi] = true;
			out->nfolded++;
			continue;
		}
		c->kind = kind_of(&m->devs[c->lead]);
		c->safe = true;
		for (size_t k = 0; k < c->ngroups; k++) {
			const struct av_group *g = &m->groups[c->groups[k]];

			seen[c->groups[k]] = true;
			if (!g->safe && c->safe) {
				c->safe = false;
				c->reason = g->nreasons ? g->reasons[0] : "unsafe";
			}
			/* the lead's group first: it names the line */
			if (c->groups[k] == m->devs[c->lead].group_idx && k) {
				size_t t = c->groups[0];

				c->groups[0] = c->groups[k];
				c->groups[k] = t;
			}
		}
		out->n++;
	}
	free(seen);
	qsort_r(out->c, out->n, sizeof(*out->c), addr_order, (void *)m);
	return 0;
}

void av_cands_release(struct av_cands *cs)
{
	free(cs->c);
	memset(cs, 0, sizeof(*cs));
}

/* The endpoints of @c other than its lead, as "03:00.1 Audio device, ...". */
static void others_line(const struct av_machine *m, const struct av_cand *c, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t k = 0; k < c->ngroups && len < size; k++) {
		const struct av_group *g = &m->groups[c->groups[k]];

		for (size_t i = 0; i < g->ndevs && len < size; i++) {
			const struct av_dev *d = &m->devs[g->devs[i]];
			char cls[64];

			if (g->devs[i] == c->lead || av_class_is_bridge(d->cls))
				continue;
			av_grub_sanitize(d->class_name, cls, sizeof(cls));
			len += (size_t)snprintf(out + len, size - len, "%s%s %s", len ? ", " : "",
						short_addr(d), cls);
		}
	}
}

void av_cand_print(FILE *f, const struct av_cli *cli, const struct av_machine *m,
		   const struct av_cand *c, int number, char mark)
{
	const struct av_dev *d = &m->devs[c->lead];
	char num[16] = "", name[NAME_COLS + 1], line[LINE_COLS], drv[sizeof(d->driver)];

	if (number > 0)
		snprintf(num, sizeof(num), "%d", number);
	else if (number < 0)
		snprintf(num, sizeof(num), "-");
	display_name(d, true, name, sizeof(name));
	av_grub_sanitize(d->driver[0] ? d->driver : "no driver", drv, sizeof(drv));
	fprintf(f, "%c%3s  %-7s  %-*s  %s", mark, num, short_addr(d), NAME_COLS, name, drv);
	if (d->boot_vga)
		fprintf(f, "  %s[boot VGA]%s", av_color(cli, AV_BOLD), av_color(cli, AV_RESET));
	fputc('\n', f);
	others_line(m, c, line, sizeof(line));
	if (line[0])
		fprintf(f, "%*s+ %s\n", 8, "", line);
	if (!c->safe) {
		char why[1024]; /* whole: it is the answer to "why not?" */

		av_grub_sanitize(c->reason, why, sizeof(why));
		fprintf(f, "%*s%sunsafe:%s %s\n", 8, "", av_color(cli, AV_RED),
			av_color(cli, AV_RESET), why);
	}
}

static bool cand_selected(const struct av_machine *m, const struct av_cand *c,
			  const struct av_config *old)
{
	if (!old)
		return false;
	for (size_t k = 0; k < c->ngroups; k++) {
		const struct av_group *g = &m->groups[c->groups[k]];

		for (size_t i = 0; i < g->ndevs; i++)
			for (size_t s = 0; s < old->nselect; s++)
				if (av_pci_addr_cmp(&m->devs[g->devs[i]].addr,
						    &old->select[s].addr) == 0)
					return true;
	}
	return false;
}

/* The table with numbers; @numbered[k] is the candidate behind number k + 1. Returns how many. */
static size_t print_table(const struct av_cli *cli, const struct av_machine *m,
			  const struct av_cands *cs, const struct av_config *old, bool force_unsafe,
			  size_t *numbered)
{
	size_t nnum = 0;
	bool any_unsafe = false, any_mark = false;

	printf("\nWhat goes to VMs? Each line takes its whole IOMMU group; a GPU takes its other\n"
	       "functions (HDMI audio, USB-C) along.\n");
	for (int k = 0; k < AV_CAND_NKINDS; k++) {
		bool title = false;

		for (size_t i = 0; i < cs->n; i++) {
			const struct av_cand *c = &cs->c[i];
			bool mark = cand_selected(m, c, old);
			int number = -1;

			if (c->kind != (enum av_cand_kind)k)
				continue;
			if (!title)
				printf("%s\n", av_cand_kind_title(c->kind));
			title = true;
			if (c->safe || force_unsafe) {
				numbered[nnum++] = i;
				number = (int)nnum;
			}
			any_unsafe |= !c->safe;
			any_mark |= mark;
			av_cand_print(stdout, cli, m, c, number, mark ? '*' : ' ');
		}
	}
	if (any_mark)
		printf("* selected now\n");
	if (any_unsafe && !force_unsafe)
		printf("- unsafe: not selectable (--force-unsafe overrides, at your own risk)\n");
	if (any_unsafe && force_unsafe)
		printf("WARNING: --force-unsafe: the unsafe lines take devices the host needs.\n");
	if (cs->nfolded)
		printf(
		    "Not shown: %zu IOMMU group%s of only bridges and platform devices (they stay "
		    "with the host).\n",
		    cs->nfolded, cs->nfolded == 1 ? "" : "s");
	return nnum;
}

/* "1 3-4" into @chosen. 0, or -EINVAL after saying what is wrong. */
static int parse_numbers(char *line, size_t nnum, bool *chosen)
{
	char *save = NULL;

	memset(chosen, 0, nnum * sizeof(*chosen));
	for (char *tok = strtok_r(line, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		unsigned long lo, hi;
		char *dash = strchr(tok, '-');

		if (dash)
			*dash = '\0';
		if (av_cli_parse_num(tok, 1UL << 20, &lo) < 0 ||
		    (dash && av_cli_parse_num(dash + 1, 1UL << 20, &hi) < 0)) {
			if (dash)
				*dash = '-';
			printf("'%s' is not a number or a range like 3-4.\n", tok);
			return -EINVAL;
		}
		if (!dash)
			hi = lo;
		if (lo > hi) {
			printf("%lu-%lu: a range goes from the lower number to the higher.\n", lo,
			       hi);
			return -EINVAL;
		}
		if (lo < 1 || hi > nnum) {
			printf("%lu is not in the table: choose from 1 to %zu.\n", lo < 1 ? lo : hi,
			       nnum);
			return -EINVAL;
		}
		for (unsigned long v = lo; v <= hi; v++)
			chosen[v - 1] = true;
	}
	return 0;
}

int av_pick(const struct av_cli *cli, const struct av_machine *m, const struct av_config *old,
	    bool force_unsafe, struct av_pci_addr *addrs, size_t *n)
{
	struct av_cands cs;
	size_t *numbered = NULL, nnum;
	bool *chosen = NULL;
	char *line = NULL;
	size_t cap = 0;
	int err;

	*n = 0;
	err = av_cands_build(m, &cs);
	if (err < 0)
		return err;
	numbered = calloc(cs.n + 1, sizeof(*numbered));
	chosen = calloc(cs.n + 1, sizeof(*chosen));
	if (!numbered || !chosen) {
		err = -ENOMEM;
		goto out;
	}
	nnum = print_table(cli, m, &cs, old, force_unsafe, numbered);
	if (nnum == 0) {
		printf("Nothing here can go to a VM.\n");
		goto out;
	}
	for (;;) {
		printf("Numbers or ranges (e.g. 1 3-4), Enter for none, ? for the full listing: ");
		err = av_cli_answer(&line, &cap);
		if (err < 0)
			goto out;
		if (strcmp(line, "?") == 0) {
			putchar('\n');
			av_cli_print_groups(stdout, cli, m);
			print_table(cli, m, &cs, old, force_unsafe, numbered);
			continue;
		}
		if (parse_numbers(line, nnum, chosen) == 0)
			break;
	}
	for (size_t k = 0; k < nnum && *n < AV_MAX_SEL; k++)
		if (chosen[k])
			addrs[(*n)++] = m->devs[cs.c[numbered[k]].lead].addr;
out:
	free(line);
	free(chosen);
	free(numbered);
	av_cands_release(&cs);
	return err;
}

/* ---------------------------------------------------------------- preview */

/* The groups of unit @u of @r. */
static size_t unit_groups(const struct av_resolved *r, size_t u, size_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < r->ngroups; i++)
		if (r->unit[i] == u)
			out[n++] = r->groups[i];
	return n;
}

/* "the card's audio" reads as "its audio"; a class word for anything else. */
static const char *companion_word(const struct av_dev *d)
{
	if ((d->cls >> 8) == 0x04)
		return "audio";
	if (d->cls == 0x0c03)
		return "USB";
	if (d->cls == 0x0c80)
		return "USB-C";
	return "function";
}

static const char *kind_word(const struct av_dev *d)
{
	switch (kind_of(d)) {
	case AV_CAND_USB:
		return "USB";
	case AV_CAND_NIC:
		return "NIC";
	case AV_CAND_STORAGE:
		return "storage";
	default:
		return NULL;
	}
}

static void gpu_phrase(FILE *f, const struct av_dev *d)
{
	char name[NAME_COLS + 1];

	display_name(d, false, name, sizeof(name));
	fprintf(f, "%s (%s)", name, short_addr(d));
}

/* "Radeon RX 6700 XT (03:00.0) + its audio" or "USB 0d:00.0". */
static void unit_phrase(FILE *f, const struct av_machine *m, const struct av_resolved *r, size_t u)
{
	size_t groups[AV_MAX_SEL], ngroups = unit_groups(r, u, groups);
	size_t lead = pick_lead(m, groups, ngroups);
	const struct av_dev *ld;
	char cls[64];

	if (lead == AV_NONE)
		return;
	ld = &m->devs[lead];
	if (ld->gpu) {
		gpu_phrase(f, ld);
	} else if (kind_word(ld)) {
		fprintf(f, "%s %s", kind_word(ld), short_addr(ld));
	} else {
		av_grub_sanitize(ld->class_name, cls, sizeof(cls));
		fprintf(f, "%s %s", cls, short_addr(ld));
	}
	for (size_t k = 0; k < ngroups; k++) {
		const struct av_group *g = &m->groups[groups[k]];

		for (size_t i = 0; i < g->ndevs; i++) {
			const struct av_dev *d = &m->devs[g->devs[i]];

			if (g->devs[i] == lead || av_class_is_bridge(d->cls))
				continue;
			if (d->companion_of == lead)
				fprintf(f, " + its %s", companion_word(d));
			else
				fprintf(f, " + %s", short_addr(d));
		}
	}
}

/* "host keeps ...; VMs get ..." for the boot of entry @e. */
static void boot_line(FILE *f, const struct av_machine *m, const struct av_resolved *r,
		      const struct av_entry *e)
{
	size_t nhost = 0, nvm = 0;

	fputs("host keeps ", f);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct av_group *g = &m->groups[r->groups[i]];

		if (e->keep == AV_NONE || r->unit[i] != e->keep)
			continue;
		for (size_t k = 0; k < g->ndevs; k++)
			if (m->devs[g->devs[k]].gpu) {
				fputs(nhost++ ? ", " : "", f);
				gpu_phrase(f, &m->devs[g->devs[k]]);
			}
	}
	for (size_t i = 0; i < m->ndevs; i++) {
		const struct av_dev *d = &m->devs[i];

		if (d->gpu && !(d->group_idx != AV_NONE && av_resolved_has(r, d->group_idx))) {
			fputs(nhost++ ? ", " : "", f);
			gpu_phrase(f, d);
		}
	}
	if (!nhost)
		fputs("no GPU", f);
	fputs("; VMs get ", f);
	for (size_t u = 0; u < r->nunits; u++) {
		if (u == e->keep)
			continue;
		fputs(nvm++ ? ", " : "", f);
		unit_phrase(f, m, r, u);
	}
	if (!nvm)
		fputs("nothing", f);
	fputc('\n', f);
}

void av_pick_preview(FILE *f, const struct av_machine *m, const struct av_resolved *r,
		     enum av_mode mode)
{
	struct av_entry *entries = calloc(r->nunits + 1, sizeof(*entries));
	size_t n;

	if (!entries)
		return;
	n = av_entries(m, r, entries);
	if (mode == AV_MODE_STATIC) {
		fprintf(f, "\nEvery boot (static): ");
		boot_line(f, m, r, &entries[n - 1]);
	} else if (mode == AV_MODE_MULTIBOOT) {
		fprintf(f, "\nThe boot entries (multi-boot):\n");
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "  %s",
				entries[i].keep != AV_NONE ? ""
				: n > 1			   ? "headless: "
							   : "auto-vfio entry: ");
			boot_line(f, m, r, &entries[i]);
		}
		fprintf(f, "  the distribution's own entries: nothing passed through\n");
	}
	free(entries);
}
