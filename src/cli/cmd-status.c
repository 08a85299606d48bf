// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio status: is passthrough working, and if not, what to do. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "status.h"

static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		av_json_str(f, s);
	else
		fputs("null", f);
}

static void print_json(FILE *f, const struct av_status *st)
{
	fprintf(f,
		"{\"healthy\": %s, \"release\": ", st->count[AV_STATUS_PROBLEM] ? "false" : "true");
	json_str_or_null(f, st->release[0] ? st->release : NULL);
	fputs(", \"cmdline\": ", f);
	json_str_or_null(f, st->cmdline);
	fprintf(f, ", \"kill_switch\": %s, \"booted\": [", st->booted.off ? "true" : "false");
	for (size_t i = 0; i < st->booted.nsel; i++) {
		char sel[AV_SEL_LEN];

		av_sel_format(&st->booted.sel[i], sel);
		fprintf(f, "%s\"%s\"", i ? ", " : "", sel);
	}
	fprintf(f, "], \"configured\": %s, \"mode\": ", st->configured ? "true" : "false");
	json_str_or_null(f, st->configured ? av_mode_name(st->cfg.mode) : NULL);
	fprintf(f, ", \"selected_groups\": %zu, \"booted_groups\": %zu, \"counts\": {",
		st->nselected, st->nbooted);
	for (int s = 0; s < AV_STATUS_NSEV; s++)
		fprintf(f, "%s\"%s\": %zu", s ? ", " : "", av_status_sev_name(s), st->count[s]);
	fputs("},\n \"findings\": [", f);
	for (size_t i = 0; i < st->n; i++) {
		const struct av_status_item *it = &st->items[i];

		fprintf(f, "%s\n  {\"check\": \"%s\", \"severity\": \"%s\", \"subject\": ",
			i ? "," : "", it->check, av_status_sev_name(it->sev));
		av_json_str(f, it->subject);
		fputs(", \"message\": ", f);
		av_json_str(f, it->msg);
		fputs(", \"fix\": ", f);
		json_str_or_null(f, it->fix);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

static void print_human(FILE *f, const struct av_cli *cli, const struct av_status *st)
{
	static const char *const label[] = {"ok", "info", "warning", "PROBLEM"};
	static const char *const color[] = {AV_GREEN, "", AV_YELLOW, AV_RED};

	fprintf(f, "Kernel:   %s\n", st->release[0] ? st->release : "(unknown)");
	fprintf(f, "Cmdline:  %s\n", st->cmdline ? st->cmdline : "(unknown)");
	if (st->configured)
		fprintf(f, "Config:   %s, %zu group%s selected, %zu passed this boot\n",
			av_mode_name(st->cfg.mode), st->nselected, st->nselected == 1 ? "" : "s",
			st->nbooted);
	else
		fprintf(f, "Config:   not set up\n");
	fputc('\n', f);
	for (size_t i = 0; i < st->n; i++) {
		const struct av_status_item *it = &st->items[i];
		const char *c = color[it->sev];

		fprintf(f, "%s%-8s%s %-11s %s\n", *c ? av_color(cli, c) : "", label[it->sev],
			*c ? av_color(cli, AV_RESET) : "", it->check, it->msg);
		if (it->fix)
			fprintf(f, "%-8s %-11s fix: %s\n", "", "", it->fix);
	}
	fputc('\n', f);
	if (st->count[AV_STATUS_PROBLEM])
		fprintf(f, "%s%zu problem%s%s, %zu warning%s.\n", av_color(cli, AV_RED),
			st->count[AV_STATUS_PROBLEM], st->count[AV_STATUS_PROBLEM] == 1 ? "" : "s",
			av_color(cli, AV_RESET), st->count[AV_STATUS_WARN],
			st->count[AV_STATUS_WARN] == 1 ? "" : "s");
	else
		fprintf(f, "%sNo problems found%s (%zu warning%s).\n", av_color(cli, AV_GREEN),
			av_color(cli, AV_RESET), st->count[AV_STATUS_WARN],
			st->count[AV_STATUS_WARN] == 1 ? "" : "s");
}

int av_cmd_status(struct av_cli *cli, int argc, char **argv)
{
	struct av_machine *m;
	struct av_status st;
	bool json;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc, err;

	rc = av_cli_show_opts(cli, "status", argc, argv, &json);
	if (rc >= 0)
		return rc;
	m = av_cli_load(cli);
	if (!m)
		return AV_EXIT_FAIL;
	err = av_status_collect(&cli->ctx, m, &st);
	av_machine_free(m);
	if (err < 0) {
		fprintf(stderr, "%s: status: %s\n", cli->prog, strerror(-err));
		return AV_EXIT_FAIL;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		av_status_release(&st);
		return AV_EXIT_FAIL;
	}
	if (json)
		print_json(f, &st);
	else
		print_human(f, cli, &st);
	rc = st.count[AV_STATUS_PROBLEM] ? AV_EXIT_FAIL : AV_EXIT_OK;
	if (fclose(f) != 0 || fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the status\n", cli->prog);
		rc = AV_EXIT_FAIL;
	}
	free(buf);
	av_status_release(&st);
	return rc;
}
