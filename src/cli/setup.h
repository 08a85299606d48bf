/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auto-vfio setup, by concern: the questions (setup-ask.c), a VFIO setup
 * auto-vfio did not make (setup-foreign.c), the diff and the transaction
 * that writes the plan (setup-apply.c), the flags and the flow (cmd-setup.c).
 */
#ifndef AV_SETUP_H
#define AV_SETUP_H

#include <stdbool.h>

#include "bootchain.h"
#include "cli.h"
#include "config.h"
#include "manifest.h"
#include "plan.h"

struct setup {
	struct av_cli *cli;
	struct av_bootchain bc;
	enum av_mode mode;
	bool mode_set;
	const char *select;
	const char *boot_default; /* --default, canonical (see av_config_default) */
	bool force_unsafe, yes, dry_run, no_update, static_ids, disable_foreign;
	/* the recommended extras: asked, or taken from flags */
	bool extras_set, hugepages, evdev, zram;
	const char *hp_size;
	unsigned long hp_reserve;
	struct av_machine *m;
	struct av_manifest man;
	struct av_config old_cfg;
	bool have_old_cfg;
};

/* One answer from stdin. 1 yes, 0 no, -ENODATA at end of input. */
int setup_ask_yes_no(const char *question, bool def);
int setup_ask_mode(const struct setup *s, enum av_mode def, enum av_mode *out);
/* Is @def (canonical) an entry this selection has? */
bool setup_default_valid(const struct av_machine *m, const struct av_resolved *r, const char *def);
/* Multi-boot: which entry GRUB boots when nobody chooses. */
int setup_ask_default(const struct setup *s, const struct av_resolved *r, char *def);
/* The extras, each one question with a one-line why. */
int setup_ask_extras(struct setup *s);

/*
 * A VFIO setup auto-vfio did not make: shown, disabled when allowed. 1 when
 * setup stops here (*exit_code set), 0 to go on.
 */
int setup_handle_foreign(struct setup *s, int *exit_code);

/*
 * Under systemd-boot: /etc/kernel/cmdline in place of the GRUB drop-in
 * (plan slot 1).
 */
int setup_plan_kernel_cmdline(struct setup *s, const struct av_config *cfg, struct av_plan *plan);
/*
 * Under systemd-boot: loader.conf's `default`, a glob that survives kernel
 * upgrades, for @cfg's default entry; without one, loader.conf as it was.
 */
int setup_plan_loader_default(struct setup *s, const struct av_config *cfg, struct av_plan *plan);
/* The extras' files added to @plan. */
int setup_plan_extras(struct setup *s, struct av_plan *plan);
/* Show the diff, ask, and write @plan in one manifest transaction. */
int setup_apply(struct setup *s, const struct av_plan *plan);

#endif
