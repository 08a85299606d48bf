// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio uninstall: every file back as it was, then the boot files rebuilt. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bls.h"
#include "bootchain.h"
#include "cli.h"
#include "fileops.h"
#include "manifest.h"

/*
 * systemd-boot entries are files the kernel-install plugin wrote, not in the
 * manifest; with the configuration gone the plugin writes no more of them.
 */
static void remove_bls_entries(struct av_cli *cli)
{
	struct av_bls_result res = {0};
	char rel[PATH_MAX], dir[2 * PATH_MAX];

	if (av_bls_entries_dir(&cli->ctx, rel, sizeof(rel)) < 0)
		return;
	snprintf(dir, sizeof(dir), "%s%s", cli->ctx.root, rel);
	if (av_bls_remove(&cli->ctx, dir, NULL, NULL, &res) < 0)
		fprintf(stderr, "%s: some auto-vfio entries in %s could not be removed\n",
			cli->prog, dir);
	if (res.removed)
		printf("Removed %u auto-vfio entr%s from %s\n", res.removed,
		       res.removed == 1 ? "y" : "ies", dir);
}

int av_cmd_uninstall(struct av_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"no-update", no_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct av_manifest m;
	bool no_update = false;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'U':
			no_update = true;
			break;
		case 'h':
			printf("Usage: %s uninstall [--no-update]\n", cli->prog);
			return AV_EXIT_OK;
		default:
			return AV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s uninstall: unexpected argument '%s'\n", cli->prog,
			argv[optind]);
		return AV_EXIT_USAGE;
	}
	if (av_manifest_load(&cli->ctx, &m) < 0)
		return AV_EXIT_FAIL;
	/* what a setup killed mid-write left behind */
	av_file_clean_temps(&cli->ctx, AV_MANIFEST_PATH);
	for (size_t i = 0; i < m.n; i++)
		if (!m.e[i].dir)
			av_file_clean_temps(&cli->ctx, m.e[i].path);
	for (unsigned n = 1; n <= m.next_saved; n++) {
		char sp[64];

		snprintf(sp, sizeof(sp), AV_STATE_DIR "/saved/%u", n);
		av_file_clean_temps(&cli->ctx, sp);
	}
	if (m.n == 0) {
		char dir[PATH_MAX];

		/* a setup killed before its first record may leave our empty state directory */
		if (av_path(&cli->ctx, dir, sizeof(dir), AV_STATE_DIR "/saved") == 0)
			rmdir(dir);
		if (av_path(&cli->ctx, dir, sizeof(dir), AV_STATE_DIR) == 0)
			rmdir(dir);
		printf("auto-vfio changed no files here: nothing to uninstall.\n");
		av_manifest_release(&m);
		return AV_EXIT_OK;
	}
	printf("Restoring %zu file%s:\n", m.n, m.n == 1 ? "" : "s");
	err = av_manifest_restore(&cli->ctx, &cli->fault, &m, av_cli_report_restore, cli);
	av_manifest_release(&m);
	if (err < 0) {
		fprintf(stderr,
			"%s: some files could not be restored (%s); they stay listed in %s%s, "
			"run uninstall again\n",
			cli->prog, strerror(-err), cli->ctx.root, AV_MANIFEST_PATH);
		return AV_EXIT_FAIL;
	}
	{
		struct av_bootchain bc;

		av_bootchain_detect(&cli->ctx, &bc);
		if (!no_update)
			printf("Boot chain: initramfs by %s (%s), boot loader %s (%s).\n",
			       av_gen_name(bc.gen), bc.gen_why, av_loader_name(bc.loader),
			       bc.loader_why);
		if (bc.loader == AV_LOADER_BLS)
			remove_bls_entries(cli);
	}
	if (!no_update && (av_cli_update(cli, AV_UPDATE_INITRAMFS) < 0 ||
			   av_cli_update(cli, AV_UPDATE_GRUB) < 0)) {
		fprintf(stderr,
			"%s: the files are restored; run the failed command again by hand\n",
			cli->prog);
		return AV_EXIT_FAIL;
	}
	if (no_update)
		printf("auto-vfio is uninstalled from the boot configuration (%s and %s not "
		       "run: --no-update).\n",
		       av_cli_update_cmd(cli, AV_UPDATE_INITRAMFS),
		       av_cli_update_cmd(cli, AV_UPDATE_GRUB));
	else
		printf("auto-vfio is uninstalled from the boot configuration.\n");
	return AV_EXIT_OK;
}
