// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio hugepages: static hugepages through a GRUB defaults drop-in.
 * Also the file helper the host-tuning commands share: every change goes
 * through the manifest, a dry run shows the diff.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileops.h"
#include "hugepages.h"
#include "manifest.h"
#include "textdiff.h"

static void report_restore(void *data, const char *path, const char *what)
{
	const struct av_cli *cli = data;

	printf("  %s%s: %s\n", cli->ctx.root, path, what);
}

int av_cli_write_file(struct av_cli *cli, const char *path, const char *data, mode_t mode,
		      bool dry_run, bool *changed)
{
	const struct av_ctx *ctx = &cli->ctx;
	struct av_file cur, orig = {0};
	struct av_manifest man;
	const struct av_manifest_entry *e;
	const char *after;
	char *diff;
	int err;

	*changed = false;
	err = av_manifest_load(ctx, &man);
	if (err < 0)
		return err;
	err = av_file_read(ctx, path, &cur);
	if (err < 0) {
		fprintf(stderr, "%s: %s%s: %s\n", cli->prog, ctx->root, path, strerror(-err));
		goto out;
	}
	e = av_manifest_find(&man, path);
	after = data;
	if (!data) {
		if (!e) {
			printf("%s%s: auto-vfio did not change it, nothing to undo.\n", ctx->root,
			       path);
			goto out;
		}
		if (!e->created) {
			char sp[64];

			snprintf(sp, sizeof(sp), AV_STATE_DIR "/saved/%u", e->saved);
			err = av_file_read(ctx, sp, &orig);
			if (err < 0 || !orig.exists) {
				fprintf(stderr, "%s: %s%s: the saved original is missing\n",
					cli->prog, ctx->root, sp);
				err = err < 0 ? err : -ENOENT;
				goto out;
			}
			after = orig.data;
		}
	}
	diff = av_unified_diff(path, cur.exists ? cur.data : NULL, after);
	if (!diff) {
		err = -ENOMEM;
		goto out;
	}
	if (!*diff) {
		printf("%s%s: already as wanted, nothing to change.\n", ctx->root, path);
		free(diff);
		goto out;
	}
	printf("%s %s%s:\n%s", dry_run ? "Would change" : "Changing", ctx->root, path, diff);
	free(diff);
	if (dry_run)
		goto out;
	if (data)
		err = av_manifest_write(ctx, &cli->fault, &man, path, data, strlen(data), mode,
					changed);
	else
		err = av_manifest_restore_path(ctx, &cli->fault, &man, path, report_restore, cli);
	if (!err && !data) {
		bool files = false;

		for (size_t i = 0; i < man.n; i++)
			files |= !man.e[i].dir;
		/* the last file given back: the manifest and the directories we made go too */
		if (!files)
			err = av_manifest_restore(ctx, &cli->fault, &man, NULL, NULL);
	}
	if (err < 0)
		fprintf(stderr, "%s: %s%s: %s (nothing was changed)\n", cli->prog, ctx->root, path,
			strerror(-err));
	else if (!data)
		*changed = true;
out:
	av_file_release(&cur);
	av_file_release(&orig);
	av_manifest_release(&man);
	return err;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s hugepages [--size 2M|1G] [--count N | --reserve GiB] [--dry-run]\n"
		"                 [--no-update]\n"
		"       %s hugepages --off [--dry-run] [--no-update]\n",
		prog, prog);
}

static int parse_ulong(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' ? -EINVAL : 0;
}

int av_cmd_hugepages(struct av_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"size", required_argument, NULL, 's'},    {"count", required_argument, NULL, 'c'},
	    {"reserve", required_argument, NULL, 'r'}, {"off", no_argument, NULL, 'o'},
	    {"dry-run", no_argument, NULL, 'd'},       {"no-update", no_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	unsigned long count = 0, reserve = AV_HUGEPAGES_RESERVE_GIB;
	bool off = false, dry_run = false, no_update = false, changed, have_count = false,
	     have_reserve = false;
	const char *size = NULL;
	struct av_hugepages hp;
	char *text = NULL;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			size = optarg;
			break;
		case 'c':
			if (parse_ulong(optarg, &count) < 0 || count == 0) {
				fprintf(stderr,
					"%s hugepages: --count '%s' is not a positive number\n",
					cli->prog, optarg);
				return AV_EXIT_USAGE;
			}
			have_count = true;
			break;
		case 'r':
			if (parse_ulong(optarg, &reserve) < 0) {
				fprintf(stderr,
					"%s hugepages: --reserve '%s' is not a number of GiB\n",
					cli->prog, optarg);
				return AV_EXIT_USAGE;
			}
			have_reserve = true;
			break;
		case 'o':
			off = true;
			break;
		case 'd':
			dry_run = true;
			break;
		case 'U':
			no_update = true;
			break;
		case 'h':
			usage(stdout, cli->prog);
			return AV_EXIT_OK;
		default:
			usage(stderr, cli->prog);
			return AV_EXIT_USAGE;
		}
	}
	if (optind < argc || (off && (size || have_count || have_reserve))) {
		usage(stderr, cli->prog);
		return AV_EXIT_USAGE;
	}
	if (!off) {
		if (av_hugepages_plan(&cli->ctx, size, have_count ? count : 0, reserve, &hp) < 0)
			return AV_EXIT_FAIL;
		text = av_hugepages_dropin(&hp);
		if (!text)
			return AV_EXIT_FAIL;
		printf("%lu hugepages of %s (%.1f GiB) for VMs, %.1f GiB left to the host.\n",
		       hp.count, av_hugepages_size_name(hp.page_kib),
		       (double)hp.count * hp.page_kib / (1024.0 * 1024.0),
		       (double)(hp.mem_kib - (unsigned long long)hp.count * hp.page_kib) /
			   (1024.0 * 1024.0));
	}
	err = av_cli_write_file(cli, AV_HUGEPAGES_DROPIN, text, 0644, dry_run, &changed);
	free(text);
	if (err < 0)
		return AV_EXIT_FAIL;
	if (dry_run) {
		printf("Dry run: nothing was changed.\n");
		return AV_EXIT_OK;
	}
	if (changed && !no_update && av_cli_update(cli, AV_UPDATE_GRUB) < 0)
		return AV_EXIT_FAIL;
	if (changed)
		printf("%s at the next boot.\n",
		       off ? "Hugepages are no longer reserved" : "The hugepages are reserved");
	return AV_EXIT_OK;
}
