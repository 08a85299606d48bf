// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio uninstall: every file back as it was, then the boot files rebuilt. */
#include <errno.h>
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
	    {"salvage", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct av_manifest *m;
	struct av_txn *txn;
	bool no_update = false, salvage = false;
	size_t files;
	unsigned refused;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'U':
			no_update = true;
			break;
		case 'S':
			salvage = true;
			break;
		case 'h':
			printf("Usage: %s uninstall [--no-update] [--salvage]\n", cli->prog);
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
	err = av_txn_begin(&cli->ctx, salvage ? AV_TXN_SALVAGE : 0, &txn);
	if (err == -EBADMSG) {
		fprintf(stderr,
			"%s: %s%s is damaged (see above): nothing was changed. 'auto-vfio "
			"uninstall --salvage' restores the entries that are intact and keeps the "
			"rest in %s%s\n",
			cli->prog, cli->ctx.root, AV_MANIFEST_PATH, cli->ctx.root,
			AV_MANIFEST_DAMAGED);
		return AV_EXIT_DAMAGED;
	}
	if (err < 0)
		return AV_EXIT_FAIL;
	m = av_txn_manifest(txn);
	if (m->refused)
		fprintf(stderr,
			"%s: %u line%s of the manifest refused (see above): a copy of it is in "
			"%s%s; the intact entries are restored\n",
			cli->prog, m->refused, m->refused == 1 ? "" : "s", cli->ctx.root,
			AV_MANIFEST_DAMAGED);
	files = av_manifest_files(m);
	refused = m->refused;
	if (files == 0) {
		/* also what a run killed before its first record left */
		av_txn_commit(txn);
		if (refused) {
			fprintf(stderr, "%s: no intact entry; look at the refused lines in %s%s\n",
				cli->prog, cli->ctx.root, AV_MANIFEST_DAMAGED);
			return AV_EXIT_FAIL;
		}
		printf("auto-vfio changed no files here: nothing to uninstall.\n");
		return AV_EXIT_OK;
	}
	printf("Restoring %zu file%s:\n", files, files == 1 ? "" : "s");
	err = av_txn_restore_all(txn, av_cli_report_restore, cli);
	c = av_txn_commit(txn);
	if (!err)
		err = c;
	if (err < 0) {
		fprintf(stderr,
			"%s: some files could not be restored (%s); they stay listed in %s%s, "
			"run uninstall again\n",
			cli->prog, strerror(-err), cli->ctx.root, AV_MANIFEST_PATH);
		return AV_EXIT_FAIL;
	}
	if (refused) {
		/* the refused lines' files may still hold auto-vfio's changes: not done */
		fprintf(stderr,
			"%s: the intact entries are restored; look at the refused lines in %s%s "
			"and undo those changes by hand\n",
			cli->prog, cli->ctx.root, AV_MANIFEST_DAMAGED);
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
