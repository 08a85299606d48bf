// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio list: first what can go to a VM and what cannot, then (--all)
 * every device by IOMMU group with the safety verdicts; --json for programs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "utf8.h"
#include "pciclass.h"
#include "picker.h"

static void json_strv(FILE *f, char **v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		av_json_str(f, v[i]);
	}
	fputc(']', f);
}

static void json_dev(FILE *f, const struct av_machine *m, const struct av_dev *d)
{
	fprintf(f,
		"{\"address\": \"%s\", \"class\": \"%04x\", \"vendor\": \"%04x\", "
		"\"device\": \"%04x\", \"driver\": ",
		d->address, d->cls, d->vendor, d->device);
	if (d->driver[0])
		av_json_str(f, d->driver);
	else
		fputs("null", f);
	fprintf(f, ", \"boot_vga\": %s, \"name\": ", d->boot_vga ? "true" : "false");
	av_json_str(f, d->device_name);
	fputs(", \"vendor_name\": ", f);
	av_json_str(f, d->vendor_name);
	fputs(", \"class_name\": ", f);
	av_json_str(f, d->class_name);
	fprintf(f, ", \"subsystem_vendor\": \"%04x\", \"subsystem_device\": \"%04x\"", d->subvendor,
		d->subdevice);
	if (d->revision >= 0)
		fprintf(f, ", \"revision\": \"%02x\"", d->revision);
	fprintf(f, ", \"gpu\": %s, \"identical_id\": %s, \"companion_of\": ",
		d->gpu ? "true" : "false", d->identical_id ? "true" : "false");
	if (d->companion_of != AV_NONE)
		fprintf(f, "\"%s\"", m->devs[d->companion_of].address);
	else
		fputs("null", f);
	fputc('}', f);
}

static void print_json(FILE *f, const struct av_machine *m)
{
	fprintf(f, "{\"iommu\": %s, \"groups\": [", m->iommu ? "true" : "false");
	for (size_t gi = 0; gi < m->ngroups; gi++) {
		const struct av_group *g = &m->groups[gi];

		fprintf(f, "%s\n  {\"id\": %d, \"devices\": [", gi ? "," : "", g->id);
		for (size_t i = 0; i < g->ndevs; i++) {
			fputs(i ? ",\n    " : "\n    ", f);
			json_dev(f, m, &m->devs[g->devs[i]]);
		}
		fprintf(f, "],\n   \"safe\": %s, \"reasons\": ", g->safe ? "true" : "false");
		json_strv(f, g->reasons, g->nreasons);
		fputs(", \"notes\": ", f);
		json_strv(f, g->notes, g->nnotes);
		fputc('}', f);
	}
	fputs("],\n \"ungrouped\": [", f);
	for (size_t i = 0, n = 0; i < m->ndevs; i++) {
		if (m->devs[i].group != AV_NO_GROUP)
			continue;
		fputs(n++ ? ",\n    " : "\n    ", f);
		json_dev(f, m, &m->devs[i]);
	}
	fputs("],\n \"notes\": ", f);
	json_strv(f, m->notes, m->nnotes);
	fputs("}\n", f);
}

/*
 * Device and driver names are outside text: keep control characters (C0,
 * DEL, C1 such as CSI) and broken UTF-8 off the terminal.
 */
static void put_clean(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = av_utf8_len(p);

		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) ||
		    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
			fputc('?', f);
			p += n ? n : 1;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
}

static void print_dev(FILE *f, const struct av_cli *cli, const struct av_machine *m,
		      const struct av_dev *d)
{
	fprintf(f, "  %s  ", d->address);
	put_clean(f, d->class_name);
	fprintf(f, " [%04x]: ", d->cls);
	put_clean(f, d->vendor_name);
	fputc(' ', f);
	put_clean(f, d->device_name);
	fprintf(f, " [%04x:%04x]", d->vendor, d->device);
	if (d->revision > 0) /* as lspci: revision 0 goes unsaid */
		fprintf(f, " (rev %02x)", d->revision);
	fputs("  driver: ", f);
	put_clean(f, d->driver[0] ? d->driver : "none");
	if (d->boot_vga)
		fprintf(f, "  %s[boot VGA]%s", av_color(cli, AV_BOLD), av_color(cli, AV_RESET));
	if (d->companion_of != AV_NONE)
		fprintf(f, "  (with GPU %s)", m->devs[d->companion_of].address);
	fputc('\n', f);
}

void av_cli_print_groups(FILE *f, const struct av_cli *cli, const struct av_machine *m)
{
	size_t unsafe = 0;

	for (size_t gi = 0; gi < m->ngroups; gi++) {
		const struct av_group *g = &m->groups[gi];

		fprintf(f, "IOMMU group %d  ", g->id);
		if (g->safe)
			fprintf(f, "%s[ok]%s\n", av_color(cli, AV_GREEN), av_color(cli, AV_RESET));
		else
			fprintf(f, "%s[UNSAFE]%s\n", av_color(cli, AV_RED),
				av_color(cli, AV_RESET));
		for (size_t i = 0; i < g->ndevs; i++)
			print_dev(f, cli, m, &m->devs[g->devs[i]]);
		for (size_t i = 0; i < g->nreasons; i++) {
			fprintf(f, "    %sunsafe:%s ", av_color(cli, AV_RED),
				av_color(cli, AV_RESET));
			put_clean(f, g->reasons[i]);
			fputc('\n', f);
		}
		for (size_t i = 0; i < g->nnotes; i++) {
			fprintf(f, "    %snote:%s ", av_color(cli, AV_YELLOW),
				av_color(cli, AV_RESET));
			put_clean(f, g->notes[i]);
			fputc('\n', f);
		}
		unsafe += !g->safe;
	}
	for (size_t i = 0, n = 0; i < m->ndevs; i++) {
		if (m->devs[i].group != AV_NO_GROUP)
			continue;
		if (n++ == 0)
			fprintf(f, "Devices without an IOMMU group\n");
		print_dev(f, cli, m, &m->devs[i]);
	}
	for (size_t i = 0; i < m->nnotes; i++) {
		fprintf(f, "%snote:%s ", av_color(cli, AV_YELLOW), av_color(cli, AV_RESET));
		put_clean(f, m->notes[i]);
		fputc('\n', f);
	}
	if (m->iommu)
		fprintf(f, "%zu devices in %zu IOMMU groups, %zu unsafe to pass through\n",
			m->ndevs, m->ngroups, unsafe);
	else
		fprintf(f,
			"%zu devices, no IOMMU groups: nothing can be passed through until the "
			"IOMMU is on (see the note above)\n",
			m->ndevs);
}

/* Candidates of one verdict, by kind; returns how many. */
static size_t print_cands(FILE *f, const struct av_cli *cli, const struct av_machine *m,
			  const struct av_cands *cs, bool safe)
{
	size_t n = 0;

	for (int k = 0; k < AV_CAND_NKINDS; k++) {
		bool title = false;

		for (size_t i = 0; i < cs->n; i++) {
			const struct av_cand *c = &cs->c[i];

			if (c->kind != (enum av_cand_kind)k || c->safe != safe)
				continue;
			if (!title)
				fprintf(f, " %s\n", av_cand_kind_title(c->kind));
			title = true;
			av_cand_print(f, cli, m, c, 0, ' ');
			n++;
		}
	}
	if (!n)
		fprintf(f, "   nothing\n");
	return n;
}

/* The short answer: what can go to a VM, what cannot and why, where the firmware's console is. */
static int print_summary(FILE *f, const struct av_cli *cli, const struct av_machine *m)
{
	struct av_cands cs;
	bool *covered;
	size_t nok, nno, nfold = 0;
	int err = av_cands_build(m, &cs);

	if (err < 0)
		return err;
	covered = calloc(m->ngroups + 1, sizeof(*covered));
	if (!covered) {
		av_cands_release(&cs);
		return -ENOMEM;
	}
	fprintf(f, "%sCan go to a VM%s (each line with its whole IOMMU group):\n",
		av_color(cli, AV_GREEN), av_color(cli, AV_RESET));
	nok = print_cands(f, cli, m, &cs, true);
	fprintf(f, "%sCannot go to a VM%s (the host needs something in the group):\n",
		av_color(cli, AV_RED), av_color(cli, AV_RESET));
	nno = print_cands(f, cli, m, &cs, false);
	for (size_t i = 0; i < cs.n; i++)
		for (size_t k = 0; k < cs.c[i].ngroups; k++)
			covered[cs.c[i].groups[k]] = true;
	fprintf(f, "Stay with the host:");
	for (size_t gi = 0; gi < m->ngroups; gi++)
		if (!covered[gi])
			fprintf(f, "%s%d", nfold++ ? ", " : " groups ", m->groups[gi].id);
	fprintf(f, "%s\n", nfold ? " (only bridges and platform devices)" : " nothing");
	if (m->boot_vga != AV_NONE) {
		const struct av_dev *d = &m->devs[m->boot_vga];

		fprintf(f, "The firmware's console (boot VGA) is %s ", d->address);
		put_clean(f, d->vendor_name);
		fputc(' ', f);
		put_clean(f, d->device_name);
		fputs(".\n", f);
	} else {
		fprintf(f, "No device is marked as the firmware's console (boot VGA).\n");
	}
	for (size_t i = 0; i < m->nnotes; i++) {
		fprintf(f, "%snote:%s ", av_color(cli, AV_YELLOW), av_color(cli, AV_RESET));
		put_clean(f, m->notes[i]);
		fputc('\n', f);
	}
	fprintf(f,
		"%zu devices in %zu IOMMU groups: %zu can go to a VM, %zu cannot, %zu stay with "
		"the host; 'auto-vfio list --all' shows every group.\n",
		m->ndevs, m->ngroups, nok, nno, nfold);
	free(covered);
	av_cands_release(&cs);
	return 0;
}

static int list_opts(struct av_cli *cli, int argc, char **argv, bool *json, bool *all)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"no-color", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*json = *all = false;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			*all = true;
			break;
		case 'j':
			*json = true;
			break;
		case 'C':
			cli->color = false;
			break;
		case 'h':
			printf("Usage: %s list [--all] [--json] [--no-color]\n", cli->prog);
			return AV_EXIT_OK;
		default:
			return AV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s list: unexpected argument '%s'\n", cli->prog, argv[optind]);
		return AV_EXIT_USAGE;
	}
	return -1;
}

int av_cmd_list(struct av_cli *cli, int argc, char **argv)
{
	struct av_machine *m;
	bool json, all;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rc = list_opts(cli, argc, argv, &json, &all);
	if (rc >= 0)
		return rc;
	m = av_cli_load(cli);
	if (!m)
		return AV_EXIT_FAIL;
	/* Whole output first: an error must not leave half a listing on stdout. */
	f = open_memstream(&buf, &len);
	if (!f) {
		av_machine_free(m);
		return AV_EXIT_FAIL;
	}
	rc = m->iommu ? AV_EXIT_OK : AV_EXIT_NO_IOMMU;
	if (json)
		print_json(f, m);
	else if (all || !m->iommu)
		av_cli_print_groups(f, cli, m);
	else if (print_summary(f, cli, m) < 0)
		rc = AV_EXIT_FAIL;
	if (fclose(f) != 0 || fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the listing\n", cli->prog);
		rc = AV_EXIT_FAIL;
	}
	if (!m->iommu && !json)
		fprintf(stderr, "%s: no IOMMU groups found under %s/sys/kernel/iommu_groups\n",
			cli->prog, cli->ctx.root);
	free(buf);
	av_machine_free(m);
	return rc;
}
