// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio setup: a VFIO setup auto-vfio did not make. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkmod.h>

#include "cli.h"
#include "config.h"
#include "detect.h"
#include "evdev.h"
#include "hugepages.h"
#include "fileops.h"
#include "kmodutil.h"
#include "manifest.h"
#include "pciclass.h"
#include "picker.h"
#include "plan.h"
#include "safety.h"
#include "textdiff.h"
#include "zram.h"
#include "setup.h"

/*
 * A VFIO setup we did not make: show it; disable its file entries when
 * allowed (each file through the manifest, so uninstall restores it), then
 * the user reboots before going on, as with any hand-made setup.
 */
int setup_handle_foreign(struct setup *s, int *exit_code)
{
	struct av_txn *txn = NULL;
	struct av_findings fs;
	size_t nfile = 0;
	int err, rc;

	err = av_detect_foreign(&s->cli->ctx, &s->man, &fs);
	if (err < 0)
		return err;
	if (fs.n == 0)
		return 0;
	printf("Found VFIO configuration that auto-vfio did not write:\n");
	for (size_t i = 0; i < fs.n; i++) {
		const struct av_finding *f = &fs.f[i];

		switch (f->kind) {
		case AV_FIND_PARAM:
		case AV_FIND_LINE:
			nfile++;
			printf("  %s%s:%u: %s\n", s->cli->ctx.root, f->path, f->line, f->text);
			break;
		case AV_FIND_CMDLINE:
			printf("  running kernel command line: %s\n", f->text);
			break;
		case AV_FIND_BOUND:
			printf("  %s is on vfio-pci now\n", f->path);
			break;
		}
	}
	if (nfile == 0) {
		/* Only what runs now: a VM may hold the device, or the setup is gone already. */
		printf("No file carries it any more; going on.\n\n");
		av_findings_release(&fs);
		return 0;
	}
	if (s->disable_foreign) {
		rc = 1;
	} else if (s->yes || s->dry_run) {
		rc = 0;
	} else {
		rc =
		    setup_ask_yes_no("Disable these entries (commented out, restored by 'auto-vfio "
				     "uninstall')?",
				     false);
	}
	if (rc <= 0) {
		fprintf(stderr,
			"%s: an existing VFIO setup is in the way: disable it (--disable-foreign), "
			"reboot, then run setup again\n",
			s->cli->prog);
		av_findings_release(&fs);
		*exit_code = AV_EXIT_FOREIGN;
		return 1;
	}
	/* one transaction: every file disabled, or none */
	err = av_txn_begin(&s->cli->ctx, 0, &txn);
	for (size_t i = 0; i < fs.n && !err; i++) {
		const struct av_finding *f = &fs.f[i];
		struct av_file cur;
		bool changed, done = false;
		char *text;

		if (f->kind != AV_FIND_PARAM && f->kind != AV_FIND_LINE)
			continue;
		for (size_t k = 0; k < i; k++)
			done |= strcmp(fs.f[k].path, f->path) == 0;
		if (done)
			continue;
		err = av_file_read(&s->cli->ctx, f->path, &cur);
		if (err < 0 || !cur.exists)
			continue;
		text = av_detect_disable(cur.data, &fs, f->path);
		if (!text)
			err = -ENOMEM;
		else
			err = av_txn_write(txn, f->path, text, strlen(text), cur.mode, &changed);
		if (!err)
			printf("Disabled the entries in %s%s\n", s->cli->ctx.root, f->path);
		else
			fprintf(stderr, "%s: %s%s: %s\n", s->cli->prog, s->cli->ctx.root, f->path,
				strerror(-err));
		free(text);
		av_file_release(&cur);
	}
	av_findings_release(&fs);
	if (!err && !s->no_update &&
	    (av_cli_update(s->cli, AV_UPDATE_INITRAMFS) < 0 ||
	     av_cli_update(s->cli, AV_UPDATE_GRUB) < 0)) {
		av_txn_rollback(txn);
		fprintf(stderr, "%s: every file is back as it was before\n", s->cli->prog);
		*exit_code = AV_EXIT_ROLLBACK;
		return 1;
	}
	if (!err)
		err = av_txn_commit(txn);
	else if (txn)
		av_txn_rollback(txn);
	if (err < 0) {
		fprintf(stderr, "%s: cannot disable the existing setup (%s): nothing was changed\n",
			s->cli->prog, strerror(-err));
		*exit_code = AV_EXIT_FAIL;
		return 1;
	}
	printf("Reboot now, then run 'auto-vfio setup' again.\n");
	*exit_code = AV_EXIT_OK;
	return 1;
}
