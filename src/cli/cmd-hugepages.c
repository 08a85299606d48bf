// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio hugepages: static hugepages through a GRUB defaults drop-in.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileops.h"
#include "hugepages.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s hugepages [--size 2M|1G] [--count N | --reserve GiB] [--dry-run]\n"
		"                 [--no-update]\n"
		"       %s hugepages --off [--dry-run] [--no-update]\n",
		prog, prog);
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
			if (av_cli_parse_num(optarg, ULONG_MAX, &count) < 0 || count == 0) {
				fprintf(stderr,
					"%s hugepages: --count '%s' is not a positive number\n",
					cli->prog, optarg);
				return AV_EXIT_USAGE;
			}
			have_count = true;
			break;
		case 'r':
			if (av_cli_parse_num(optarg, ULONG_MAX, &reserve) < 0) {
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
