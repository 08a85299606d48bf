// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio zram: zram swap through zram-tools or systemd-zram-generator. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileops.h"
#include "zram.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s zram [--algo NAME] [--percent P | --size MiB] [--priority N]\n"
		"                 [--dry-run] [--no-restart]\n"
		"       %s zram --off [--dry-run] [--no-restart]\n",
		prog, prog);
}

int av_cmd_zram(struct av_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"algo", required_argument, NULL, 'a'},
	    {"percent", required_argument, NULL, 'p'},
	    {"size", required_argument, NULL, 's'},
	    {"priority", required_argument, NULL, 'P'},
	    {"off", no_argument, NULL, 'o'},
	    {"dry-run", no_argument, NULL, 'd'},
	    {"no-restart", no_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct av_zram_opts o = {.algo = NULL, .priority = -1};
	bool off = false, dry_run = false, no_restart = false, changed, any = false;
	enum av_zram_tool tool;
	struct av_file cur;
	unsigned long v;
	char *text = NULL;
	const char *path;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.algo = optarg;
			any = true;
			break;
		case 'p':
			if (av_cli_parse_num(optarg, 100, &v) < 0 || v == 0)
				goto bad;
			o.percent = (unsigned)v;
			any = true;
			break;
		case 's':
			if (av_cli_parse_num(optarg, 1UL << 30, &v) < 0 || v == 0)
				goto bad;
			o.size_mib = v;
			any = true;
			break;
		case 'P':
			if (av_cli_parse_num(optarg, 32767, &v) < 0)
				goto bad;
			o.priority = (int)v;
			any = true;
			break;
		case 'o':
			off = true;
			break;
		case 'd':
			dry_run = true;
			break;
		case 'R':
			no_restart = true;
			break;
		case 'h':
			usage(stdout, cli->prog);
			return AV_EXIT_OK;
		default:
			usage(stderr, cli->prog);
			return AV_EXIT_USAGE;
		}
	}
	if (optind < argc || (off && any)) {
		usage(stderr, cli->prog);
		return AV_EXIT_USAGE;
	}
	if (!any) {
		/* a VM host keeps most memory for guests: a quarter, compressed with zstd */
		o.algo = "zstd";
		o.percent = 25;
	}
	if (av_zram_check(&cli->ctx, &o) < 0)
		return AV_EXIT_USAGE;
	tool = av_zram_detect(&cli->ctx);
	if (tool == AV_ZRAM_NONE) {
		fprintf(stderr,
			"%s: neither zram-tools nor systemd-zram-generator is installed; "
			"install one: apt-get install zram-tools\n",
			cli->prog);
		return AV_EXIT_FAIL;
	}
	path = av_zram_conf_path(tool);
	printf("zram swap through %s (%s).\n", av_zram_package(tool), path);
	if (!off) {
		err = av_file_read(&cli->ctx, path, &cur);
		if (err < 0) {
			fprintf(stderr, "%s: %s%s: %s\n", cli->prog, cli->ctx.root, path,
				strerror(-err));
			return AV_EXIT_FAIL;
		}
		text = av_zram_edit(tool, cur.exists ? cur.data : NULL, &o);
		av_file_release(&cur);
		if (!text)
			return AV_EXIT_FAIL;
	}
	err = av_cli_write_file(cli, path, text, 0644, dry_run, &changed);
	free(text);
	if (err < 0)
		return AV_EXIT_FAIL;
	if (dry_run) {
		printf("Dry run: nothing was changed.\n");
		return AV_EXIT_OK;
	}
	if (changed && !no_restart && av_cli_restart_service(cli, av_zram_service(tool)) < 0)
		return AV_EXIT_FAIL;
	return AV_EXIT_OK;
bad:
	fprintf(stderr, "%s zram: bad value '%s'\n", cli->prog, optarg);
	return AV_EXIT_USAGE;
}
