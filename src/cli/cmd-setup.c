// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio setup: choose the mode and the groups (asked, or from flags),
 * write the drop-ins through the manifest, run update-initramfs and
 * update-grub, and roll everything back when they fail.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkmod.h>

#include "bls.h"
#include "bootchain.h"
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
static int ask_yes_no(const char *question, bool def)
{
	char *line = NULL;
	size_t cap = 0;
	int rc;

	for (;;) {
		printf("%s [%s] ", question, def ? "Y/n" : "y/N");
		fflush(stdout);
		if (getline(&line, &cap, stdin) < 0) {
			putchar('\n');
			free(line);
			return -ENODATA;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0]) {
			rc = def;
			break;
		}
		if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0) {
			rc = 1;
			break;
		}
		if (strcasecmp(line, "n") == 0 || strcasecmp(line, "no") == 0) {
			rc = 0;
			break;
		}
		printf("Please answer y or n.\n");
	}
	free(line);
	return rc;
}

static int ask_mode(enum av_mode def, enum av_mode *out)
{
	static const char *const keys[] = {
	    [AV_MODE_NONE] = "n", [AV_MODE_MULTIBOOT] = "m", [AV_MODE_STATIC] = "s"};
	char *line = NULL;
	size_t cap = 0;

	printf("\nHow should the selected devices reach the VMs?\n"
	       "  m  Multi-boot (recommended): a GRUB entry per GPU the host keeps, the other\n"
	       "     GPUs go to VMs; plus one entry with every GPU passed through. The plain\n"
	       "     entries stay untouched.\n"
	       "  s  Static: one fixed selection at every boot.\n"
	       "  n  None: no passthrough.\n");
	for (;;) {
		printf("Mode [m/s/n, default %s]: ", keys[def]);
		fflush(stdout);
		if (getline(&line, &cap, stdin) < 0) {
			putchar('\n');
			free(line);
			return -ENODATA;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0]) {
			*out = def;
			break;
		}
		if (strcmp(line, "m") == 0 || strcmp(line, "s") == 0 || strcmp(line, "n") == 0) {
			*out = line[0] == 'm'	? AV_MODE_MULTIBOOT
			       : line[0] == 's' ? AV_MODE_STATIC
						: AV_MODE_NONE;
			break;
		}
		printf("Please answer m, s or n.\n");
	}
	free(line);
	return 0;
}

static int parse_select(const char *list, struct av_pci_addr *addrs, size_t *n)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	*n = 0;
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (*n >= AV_MAX_SEL) {
			fprintf(stderr, "auto-vfio setup: --select: more than %d devices\n",
				AV_MAX_SEL);
			err = -E2BIG;
			break;
		}
		if (av_pci_addr_parse(tok, true, &addrs[*n]) < 0) {
			fprintf(stderr,
				"auto-vfio setup: --select: '%s' is not a PCI address "
				"(DDDD:BB:DD.F or BB:DD.F)\n",
				tok);
			err = -EINVAL;
			break;
		}
		(*n)++;
	}
	free(copy);
	return err;
}

/*
 * A VFIO setup we did not make: show it; disable its file entries when
 * allowed (each file through the manifest, so uninstall restores it), then
 * the user reboots before going on, as with any hand-made setup.
 */
static int handle_foreign(struct setup *s, int *exit_code)
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
		rc = ask_yes_no("Disable these entries (commented out, restored by 'auto-vfio "
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
	err = av_txn_begin(&s->cli->ctx, &s->cli->fault, 0, &txn);
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

/* The GPUs of the selection: each is an entry "host keeps it" in multi-boot. */
static size_t kept_gpus(const struct av_machine *m, const struct av_resolved *r, size_t *out,
			size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->ngroups; i++) {
		const struct av_group *g = &m->groups[r->groups[i]];

		for (size_t k = 0; k < g->ndevs && n < max; k++)
			if (av_class_is_vga(m->devs[g->devs[k]].cls))
				out[n++] = g->devs[k];
	}
	return n;
}

/* Is @def (canonical) an entry this selection has? */
static bool default_valid(const struct av_machine *m, const struct av_resolved *r, const char *def)
{
	size_t gpus[AV_MAX_SEL], n = kept_gpus(m, r, gpus, AV_MAX_SEL);

	if (!def[0] || strcmp(def, "headless") == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(def + 5, m->devs[gpus[i]].address) == 0)
			return true;
	return false;
}

/* Multi-boot: which entry GRUB boots when nobody chooses. */
static int ask_default(const struct setup *s, const struct av_resolved *r, char *def)
{
	size_t gpus[AV_MAX_SEL], n = kept_gpus(s->m, r, gpus, AV_MAX_SEL);
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	printf("\nWhich entry should GRUB boot by default?\n"
	       "  p  the distribution's plain entry (no passthrough)\n");
	for (size_t i = 0; i < n; i++)
		printf("  %zu  host keeps %s %s at %s, the rest to VMs\n", i + 1,
		       s->m->devs[gpus[i]].vendor_name, s->m->devs[gpus[i]].device_name,
		       s->m->devs[gpus[i]].address);
	printf("  h  headless: every selected GPU to VMs\n");
	for (;;) {
		char *end;
		unsigned long k;

		printf("Default [p/%sh, default %s]: ", n ? "1.../" : "", def[0] ? def : "p");
		fflush(stdout);
		if (getline(&line, &cap, stdin) < 0) {
			putchar('\n');
			rc = -ENODATA;
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		k = strtoul(line, &end, 10);
		if (!line[0])
			break;
		if (strcmp(line, "p") == 0 || strcmp(line, "h") == 0) {
			snprintf(def, AV_DEFAULT_LEN, "%s", line[0] == 'h' ? "headless" : "");
			break;
		}
		if (line[0] >= '1' && line[0] <= '9' && !*end && k >= 1 && k <= n) {
			snprintf(def, AV_DEFAULT_LEN, "host-%s", s->m->devs[gpus[k - 1]].address);
			break;
		}
		printf("Please answer p, h or a number from the list.\n");
	}
	free(line);
	return rc;
}

/* The extras, each one question with a one-line why; everything defaults to no. */
static int ask_extras(struct setup *s)
{
	int rc;

	printf("\nRecommended extras for a VM host:\n");
	rc = ask_yes_no("Static hugepages for guest memory (fewer TLB misses; memory is reserved "
			"at boot, all but 4 GiB)?",
			false);
	if (rc < 0)
		return rc;
	s->hugepages = rc;
	rc = ask_yes_no("Evdev input: let libvirt guests take this keyboard and mouse "
			"(Ctrl+Ctrl switches)?",
			false);
	if (rc < 0)
		return rc;
	s->evdev = rc;
	rc = ask_yes_no("Compressed swap in RAM (zram: a quarter of RAM, zstd)?", false);
	if (rc < 0)
		return rc;
	s->zram = rc;
	return 0;
}

static void add_file(struct av_plan *plan, const char *path, char *data, mode_t mode)
{
	if (plan->n < AV_PLAN_MAX)
		plan->f[plan->n++] =
		    (struct av_plan_file){.path = path, .data = data, .mode = mode};
	else
		free(data);
}

/* The extras' files, appended to the plan. 0 or -errno (said why). */
static int plan_extras(struct setup *s, struct av_plan *plan)
{
	const struct av_ctx *ctx = &s->cli->ctx;
	int err;

	if (s->hugepages) {
		struct av_hugepages hp;

		err = av_hugepages_plan(ctx, s->hp_size, 0, s->hp_reserve, &hp);
		if (err < 0)
			return err;
		add_file(plan, AV_HUGEPAGES_DROPIN, av_hugepages_dropin(&hp), 0644);
	}
	if (s->evdev) {
		struct av_inputs in;
		struct av_file conf;
		char *text = NULL, *xml;

		err = av_evdev_find(ctx, &in);
		if (err < 0)
			return err;
		err = av_file_read(ctx, AV_QEMU_CONF, &conf);
		if (!err && !conf.exists)
			printf("evdev: %s%s is missing (libvirt not installed): skipped\n",
			       ctx->root, AV_QEMU_CONF);
		else if (!err && in.n == 0)
			printf("evdev: no keyboard or mouse under %s%s: skipped\n", ctx->root,
			       AV_INPUT_BY_ID);
		else if (!err)
			err = av_evdev_qemu_conf(ctx, AV_QEMU_CONF, conf.data, &in, &text);
		if (!err && text) {
			add_file(plan, AV_QEMU_CONF, text, conf.mode);
			xml = av_evdev_xml(&in);
			printf("evdev: add to each VM's <devices> (virsh edit VM):\n%s",
			       xml ? xml : "");
			free(xml);
		}
		av_file_release(&conf);
		av_evdev_release(&in);
		if (err < 0)
			return err;
	}
	if (s->zram) {
		enum av_zram_tool tool = av_zram_detect(ctx);
		struct av_zram_opts o = {.algo = "zstd", .percent = 25, .priority = -1};
		struct av_file conf;

		if (tool == AV_ZRAM_NONE) {
			printf("zram: neither zram-tools nor systemd-zram-generator is installed "
			       "(apt-get install zram-tools): skipped\n");
			return 0;
		}
		err = av_zram_check(ctx, &o);
		if (!err)
			err = av_file_read(ctx, av_zram_conf_path(tool), &conf);
		if (err < 0)
			return err;
		add_file(plan, av_zram_conf_path(tool),
			 av_zram_edit(tool, conf.exists ? conf.data : NULL, &o),
			 conf.exists ? conf.mode : 0644);
		av_file_release(&conf);
	}
	for (size_t i = AV_PLAN_OWN; i < plan->n; i++)
		if (!plan->f[i].data)
			return -ENOMEM;
	return 0;
}

/*
 * Under systemd-boot kernel-install takes the plain entries' options from
 * /etc/kernel/cmdline, else from the running command line: write it, with
 * the user's parameters, in place of the GRUB drop-in (plan slot 1).
 */
static int plan_kernel_cmdline(struct setup *s, const struct av_config *cfg, struct av_plan *plan)
{
	static const char *const bases[] = {AV_KERNEL_CMDLINE, "/usr/lib/kernel/cmdline",
					    "/proc/cmdline"};
	const struct av_ctx *ctx = &s->cli->ctx;
	struct av_file base = {0};
	char *text = NULL;
	int err = 0;

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]) && !base.exists; i++) {
		err = av_file_read(ctx, bases[i], &base);
		if (err < 0)
			return err;
	}
	if (cfg->mode != AV_MODE_NONE)
		err = av_bls_kernel_cmdline(ctx, s->m, cfg, s->static_ids,
					    base.exists ? base.data : "", &text);
	av_file_release(&base);
	if (err < 0)
		return err;
	free(plan->f[1].data);
	plan->f[1] = (struct av_plan_file){.path = AV_KERNEL_CMDLINE, .data = text, .mode = 0644};
	return 0;
}

/* Services that read what changed. */
static void restart_services(struct setup *s, const struct av_plan *plan, const bool *changed)
{
	static const char *const libvirt[] = AV_LIBVIRT_UNITS;
	enum av_zram_tool zram = av_zram_detect(&s->cli->ctx);

	/* the hugepages drop-in is read at the next boot: nothing to restart */
	for (size_t i = AV_PLAN_OWN; i < plan->n; i++) {
		if (!changed[i])
			continue;
		if (strcmp(plan->f[i].path, AV_QEMU_CONF) == 0)
			for (size_t u = 0; u < sizeof(libvirt) / sizeof(libvirt[0]); u++)
				av_cli_restart_service(s->cli, libvirt[u]);
		else if (zram != AV_ZRAM_NONE &&
			 strcmp(plan->f[i].path, av_zram_conf_path(zram)) == 0)
			av_cli_restart_service(s->cli, av_zram_service(zram));
	}
}

/* Auto-vfio entries in the regenerated grub.cfg; -1 when it was not regenerated here. */
static int grub_entries(const struct setup *s)
{
	struct av_file cfg;
	int n = 0;

	if (!av_ctx_is_real_root(&s->cli->ctx) && !getenv("AUTO_VFIO_UPDATE_GRUB"))
		return -1;
	if (av_file_read(&s->cli->ctx, "/boot/grub/grub.cfg", &cfg) < 0 || !cfg.exists)
		return -1;
	for (const char *p = cfg.data; (p = strstr(p, "--id 'auto-vfio-")); p++)
		n++;
	av_file_release(&cfg);
	return n;
}

static int apply(struct setup *s, const struct av_plan *plan)
{
	const struct av_ctx *ctx = &s->cli->ctx;
	struct av_file before[AV_PLAN_MAX] = {0};
	bool differs[AV_PLAN_MAX] = {0}, done[AV_PLAN_MAX] = {0};
	struct av_txn *txn = NULL;
	size_t nchanged = 0;
	int err = 0, rc = AV_EXIT_OK;
	bool initramfs_done = false;

	for (size_t i = 0; i < plan->n && !err; i++) {
		err = av_file_read(ctx, plan->f[i].path, &before[i]);
		if (err == -ELOOP)
			fprintf(stderr,
				"%s: %s%s is a symbolic link: auto-vfio does not write through "
				"links; put the file itself there (or remove the link) and run "
				"again\n",
				s->cli->prog, ctx->root, plan->f[i].path);
		else if (err < 0)
			fprintf(stderr, "%s: %s%s: %s\n", s->cli->prog, ctx->root, plan->f[i].path,
				strerror(-err));
		if (err < 0)
			break;
		if (av_plan_check_dropin(ctx, &s->man, plan->f[i].path, &before[i]) < 0) {
			rc = AV_EXIT_FOREIGN;
			goto out;
		}
		if (plan->f[i].data)
			differs[i] = !before[i].exists ||
				     strlen(plan->f[i].data) != before[i].len ||
				     memcmp(plan->f[i].data, before[i].data, before[i].len);
		else
			differs[i] = before[i].exists && av_manifest_find(&s->man, plan->f[i].path);
		nchanged += differs[i];
	}
	if (err < 0) {
		rc = AV_EXIT_FAIL;
		goto out;
	}
	if (nchanged == 0) {
		printf("Nothing to change: the boot configuration already matches.\n");
		goto out;
	}

	printf("\n%s:\n", s->dry_run ? "Would change" : "Changes");
	for (size_t i = 0; i < plan->n; i++) {
		char *d;

		if (!differs[i])
			continue;
		d = av_unified_diff(plan->f[i].path, before[i].exists ? before[i].data : NULL,
				    plan->f[i].data);
		fputs(d ? d : "(no memory for the diff)\n", stdout);
		free(d);
	}
	if (!s->no_update)
		printf("Then run: %s; %s\n", av_cli_update_cmd(s->cli, AV_UPDATE_INITRAMFS),
		       av_cli_update_cmd(s->cli, AV_UPDATE_GRUB));
	if (s->dry_run) {
		printf("Dry run: nothing was changed.\n");
		goto out;
	}
	if (!s->yes) {
		int yes = ask_yes_no("Apply these changes?", false);

		if (yes <= 0) {
			printf("Cancelled: nothing was changed.\n");
			rc = AV_EXIT_FAIL;
			goto out;
		}
	}

	/* one transaction: every file, and the updates, or nothing */
	err = av_txn_begin(ctx, &s->cli->fault, 0, &txn);
	for (size_t i = 0; i < plan->n && !err; i++) {
		bool changed;

		if (!differs[i])
			continue;
		done[i] = true;
		if (plan->f[i].data)
			err = av_txn_write(txn, plan->f[i].path, plan->f[i].data,
					   strlen(plan->f[i].data), plan->f[i].mode, &changed);
		else
			err = av_txn_restore(txn, plan->f[i].path, av_cli_report_restore, s->cli);
		if (err < 0)
			fprintf(stderr, "%s: %s%s: %s\n", s->cli->prog, ctx->root, plan->f[i].path,
				strerror(-err));
	}
	if (err < 0) {
		if (txn)
			av_txn_rollback(txn);
		fprintf(stderr, "%s: nothing was changed\n", s->cli->prog);
		rc = AV_EXIT_FAIL;
		goto out;
	}
	if (!s->no_update) {
		err = av_cli_update(s->cli, AV_UPDATE_INITRAMFS);
		initramfs_done = err == 0;
		if (!err)
			err = av_cli_update(s->cli, AV_UPDATE_GRUB);
		if (err < 0) {
			av_txn_rollback(txn);
			fprintf(stderr, "%s: every file is back as it was before this setup\n",
				s->cli->prog);
			/* the images were rebuilt from the new files: build them again */
			if (initramfs_done && av_cli_update(s->cli, AV_UPDATE_INITRAMFS) < 0)
				fprintf(stderr,
					"%s: rebuilding the initramfs images failed too; run "
					"'%s' by hand\n",
					s->cli->prog,
					av_cli_update_cmd(s->cli, AV_UPDATE_INITRAMFS));
			rc = AV_EXIT_ROLLBACK;
			goto out;
		}
	} else {
		printf("Not run (--no-update): %s; %s\n",
		       av_cli_update_cmd(s->cli, AV_UPDATE_INITRAMFS),
		       av_cli_update_cmd(s->cli, AV_UPDATE_GRUB));
	}
	err = av_txn_commit(txn);
	if (err < 0) {
		fprintf(stderr,
			"%s: %s%s: %s; the files are in place, 'auto-vfio uninstall' removes "
			"them\n",
			s->cli->prog, ctx->root, AV_MANIFEST_PATH, strerror(-err));
		rc = AV_EXIT_FAIL;
		goto out;
	}
	restart_services(s, plan, done);
	if (s->mode == AV_MODE_MULTIBOOT && !s->no_update && s->bc.loader == AV_LOADER_GRUB &&
	    grub_entries(s) == 0) {
		fprintf(stderr,
			"%s: update-grub made no auto-vfio entries (see its messages above); the "
			"files are in place: fix the cause and run update-grub, or 'auto-vfio "
			"uninstall'\n",
			s->cli->prog);
		rc = AV_EXIT_FAIL;
		goto out;
	}
	printf("Done. %s\n",
	       s->mode == AV_MODE_MULTIBOOT
		   ? (s->bc.loader == AV_LOADER_BLS
			  ? "Reboot and pick an auto-vfio entry in the systemd-boot menu."
			  : "Reboot and pick an auto-vfio entry in the GRUB menu.")
	       : s->mode == AV_MODE_STATIC ? "Reboot to bind the selected devices."
					   : "");
out:
	for (size_t i = 0; i < plan->n; i++)
		av_file_release(&before[i]);
	return rc;
}

/*
 * Say which boot chain this machine has; refuse, before any change, the
 * ones auto-vfio cannot write for. 0 or -EOPNOTSUPP (said why).
 */
static int check_boot_chain(struct setup *s)
{
	struct av_bootchain bc;
	const char *why = NULL;

	av_bootchain_detect(&s->cli->ctx, &bc);
	s->bc = bc;
	printf("Boot chain: initramfs by %s (%s), boot loader %s (%s).\n", av_gen_name(bc.gen),
	       bc.gen_why, av_loader_name(bc.loader), bc.loader_why);
	if (bc.gen == AV_GEN_UNKNOWN)
		why = "no initramfs generator found (initramfs-tools or dracut)";
	else if (bc.loader == AV_LOADER_UNKNOWN)
		why = "no boot loader found (GRUB, or systemd-boot through kernel-install)";
	else if (bc.loader == AV_LOADER_AMBIGUOUS)
		why = "GRUB and systemd-boot are both installed; say which one boots this machine "
		      "with " AV_BOOT_LOADER_ENV "=grub or " AV_BOOT_LOADER_ENV "=systemd-boot";
	if (!why)
		return 0;
	fprintf(stderr, "%s: %s: nothing was changed\n", s->cli->prog, why);
	return -EOPNOTSUPP;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: auto-vfio setup [--multiboot | --static | --none] [--select ADDR[,ADDR...]]\n"
	    "                       [--static-ids] [--force-unsafe] [--disable-foreign]\n"
	    "                       [--default host-ADDR|headless|plain]\n"
	    "                       [--hugepages[=2M|1G]] [--hugepages-reserve GIB]\n"
	    "                       [--evdev] [--zram] [--no-extras]\n"
	    "                       [--yes] [--dry-run] [--no-update]\n");
}

static int parse_args(struct setup *s, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"multiboot", no_argument, NULL, 'm'},
	    {"static", no_argument, NULL, 's'},
	    {"none", no_argument, NULL, 'n'},
	    {"select", required_argument, NULL, 'S'},
	    {"default", required_argument, NULL, 'B'},
	    {"static-ids", no_argument, NULL, 'I'},
	    {"force-unsafe", no_argument, NULL, 'F'},
	    {"disable-foreign", no_argument, NULL, 'D'},
	    {"yes", no_argument, NULL, 'y'},
	    {"dry-run", no_argument, NULL, 'd'},
	    {"no-update", no_argument, NULL, 'U'},
	    {"hugepages", optional_argument, NULL, 'H'},
	    {"hugepages-reserve", required_argument, NULL, 'R'},
	    {"evdev", no_argument, NULL, 'E'},
	    {"zram", no_argument, NULL, 'Z'},
	    {"no-extras", no_argument, NULL, 'X'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case 's':
		case 'n':
			if (s->mode_set) {
				fprintf(stderr,
					"auto-vfio setup: choose one of --multiboot, --static, "
					"--none\n");
				return AV_EXIT_USAGE;
			}
			s->mode_set = true;
			s->mode = c == 'm'   ? AV_MODE_MULTIBOOT
				  : c == 's' ? AV_MODE_STATIC
					     : AV_MODE_NONE;
			break;
		case 'S':
			s->select = optarg;
			break;
		case 'B': {
			static char def[AV_DEFAULT_LEN];

			if (av_config_default(optarg, def) < 0) {
				fprintf(stderr,
					"auto-vfio setup: --default takes host-ADDR, headless or "
					"plain, not '%s'\n",
					optarg);
				return AV_EXIT_USAGE;
			}
			s->boot_default = def;
			break;
		}
		case 'I':
			s->static_ids = true;
			break;
		case 'F':
			s->force_unsafe = true;
			break;
		case 'D':
			s->disable_foreign = true;
			break;
		case 'y':
			s->yes = true;
			break;
		case 'd':
			s->dry_run = true;
			break;
		case 'U':
			s->no_update = true;
			break;
		case 'H':
			s->extras_set = s->hugepages = true;
			s->hp_size = optarg;
			if (optarg && strcmp(optarg, "2M") != 0 && strcmp(optarg, "1G") != 0) {
				fprintf(stderr, "auto-vfio setup: --hugepages takes 2M or 1G\n");
				return AV_EXIT_USAGE;
			}
			break;
		case 'R': {
			if (av_cli_parse_num(optarg, 1UL << 20, &s->hp_reserve) < 0) {
				fprintf(stderr,
					"auto-vfio setup: --hugepages-reserve takes GiB, a whole "
					"number\n");
				return AV_EXIT_USAGE;
			}
			break;
		}
		case 'E':
			s->extras_set = s->evdev = true;
			break;
		case 'Z':
			s->extras_set = s->zram = true;
			break;
		case 'X':
			s->extras_set = true;
			break;
		case 'h':
			usage(stdout);
			return AV_EXIT_OK;
		default:
			usage(stderr);
			return AV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "auto-vfio setup: unexpected argument '%s'\n", argv[optind]);
		return AV_EXIT_USAGE;
	}
	if (s->static_ids && s->mode_set && s->mode != AV_MODE_STATIC) {
		fprintf(stderr, "auto-vfio setup: --static-ids goes with --static\n");
		return AV_EXIT_USAGE;
	}
	if (s->boot_default && s->mode_set && s->mode != AV_MODE_MULTIBOOT) {
		fprintf(stderr, "auto-vfio setup: --default goes with --multiboot\n");
		return AV_EXIT_USAGE;
	}
	if (s->yes && !s->mode_set) {
		fprintf(stderr, "auto-vfio setup: --yes needs --multiboot, --static or --none\n");
		return AV_EXIT_USAGE;
	}
	if (s->yes && s->mode != AV_MODE_NONE && !s->select) {
		fprintf(stderr, "auto-vfio setup: --yes needs --select\n");
		return AV_EXIT_USAGE;
	}
	if (s->mode_set && s->mode == AV_MODE_NONE && s->select) {
		fprintf(stderr, "auto-vfio setup: --none takes no --select\n");
		return AV_EXIT_USAGE;
	}
	return -1;
}

int av_cmd_setup(struct av_cli *cli, int argc, char **argv)
{
	struct setup s = {.cli = cli, .mode = AV_MODE_MULTIBOOT, .hp_reserve = 4};
	struct av_pci_addr addrs[AV_MAX_SEL];
	struct av_resolved r;
	struct av_config cfg;
	struct av_plan plan = {0};
	struct kmod_ctx *kctx = NULL;
	char def[AV_DEFAULT_LEN] = "";
	size_t naddr = 0;
	int rc, err;

	rc = parse_args(&s, argc, argv);
	if (rc >= 0)
		return rc;
	if (s.select) {
		size_t dummy;

		if (parse_select(s.select, addrs, &dummy) < 0)
			return AV_EXIT_USAGE;
	}
	s.m = av_cli_load(cli);
	if (!s.m)
		return AV_EXIT_FAIL;
	rc = AV_EXIT_FAIL;
	err = av_manifest_load(&cli->ctx, &s.man);
	if (err == -EBADMSG) {
		fprintf(stderr,
			"%s: %s%s is damaged (see above): nothing was changed; see 'auto-vfio "
			"uninstall --salvage'\n",
			cli->prog, cli->ctx.root, AV_MANIFEST_PATH);
		rc = AV_EXIT_DAMAGED;
	}
	if (err < 0)
		goto out;
	err = av_config_load(&cli->ctx, &s.old_cfg);
	s.have_old_cfg = err == 0;
	if (err < 0 && err != -ENOENT)
		fprintf(stderr, "%s: the existing configuration is damaged; it will be replaced\n",
			cli->prog);
	if (s.have_old_cfg && !s.mode_set)
		s.mode = s.old_cfg.mode;

	if (check_boot_chain(&s) < 0)
		goto out;
	if (handle_foreign(&s, &rc))
		goto out;
	if (s.have_old_cfg && s.man.n && !s.yes)
		printf("auto-vfio is set up here already (mode %s, %zu device%s selected): the "
		       "answers below replace that setup; 'auto-vfio uninstall' removes it "
		       "instead.\n",
		       av_mode_name(s.old_cfg.mode), s.old_cfg.nselect,
		       s.old_cfg.nselect == 1 ? "" : "s");
	if (!s.m->iommu) {
		fprintf(
		    stderr,
		    "%s: no IOMMU groups under %s/sys/kernel/iommu_groups: enable VT-d (Intel) or "
		    "AMD-Vi (AMD) in the firmware; on Intel also boot with intel_iommu=on. "
		    "Nothing was changed.\n",
		    cli->prog, cli->ctx.root);
		rc = AV_EXIT_NO_IOMMU;
		goto out;
	}
	if (!s.mode_set) {
		if (ask_mode(s.mode, &s.mode) < 0) {
			fprintf(stderr, "%s: no answer (end of input): nothing was changed\n",
				cli->prog);
			goto out;
		}
	}
	if (s.mode != AV_MODE_NONE) {
		if (s.select)
			parse_select(s.select, addrs, &naddr);
		else if (av_pick(cli, s.m, s.have_old_cfg ? &s.old_cfg : NULL, s.force_unsafe,
				 addrs, &naddr) < 0) {
			fprintf(stderr, "%s: no answer (end of input): nothing was changed\n",
				cli->prog);
			goto out;
		}
		if (naddr == 0) {
			fprintf(stderr, "%s: nothing selected: nothing was changed\n", cli->prog);
			goto out;
		}
		err = av_resolve(&cli->ctx, s.m, addrs, naddr, s.mode == AV_MODE_STATIC,
				 s.force_unsafe, &r);
		if (err < 0) {
			if (err == -EPERM)
				fprintf(stderr,
					"%s: refused; --force-unsafe overrides, at your own "
					"risk\n",
					cli->prog);
			rc = AV_EXIT_REFUSED;
			goto out;
		}
		if (r.unsafe_forced)
			fprintf(stderr,
				"%s: WARNING: passing unsafe groups through (--force-unsafe)\n",
				cli->prog);
		av_pick_preview(stdout, s.m, &r, s.mode);
	}
	if (s.boot_default && s.mode != AV_MODE_MULTIBOOT) {
		fprintf(stderr, "%s: --default goes with multi-boot mode\n", cli->prog);
		rc = AV_EXIT_USAGE;
		goto out;
	}
	if (s.mode == AV_MODE_MULTIBOOT) {
		/* given, asked, or kept from the last setup while its entry still exists */
		if (s.boot_default)
			snprintf(def, sizeof(def), "%s", s.boot_default);
		else if (s.have_old_cfg && default_valid(s.m, &r, s.old_cfg.boot_default))
			snprintf(def, sizeof(def), "%s", s.old_cfg.boot_default);
		if (!default_valid(s.m, &r, def)) {
			fprintf(
			    stderr,
			    "%s: --default %s: that GPU is not in the selection, so there is no "
			    "such entry\n",
			    cli->prog, def);
			rc = AV_EXIT_USAGE;
			goto out;
		}
		if (!s.yes && !s.boot_default && !(s.mode_set && s.select) &&
		    ask_default(&s, &r, def) < 0) {
			fprintf(stderr, "%s: no answer (end of input): nothing was changed\n",
				cli->prog);
			goto out;
		}
	}
	/* asked only in an interactive run: flags for mode and devices make it declarative */
	if (!s.yes && !s.extras_set && !(s.mode_set && (s.select || s.mode == AV_MODE_NONE)) &&
	    ask_extras(&s) < 0) {
		fprintf(stderr, "%s: no answer (end of input): nothing was changed\n", cli->prog);
		goto out;
	}
	av_config_init(&cfg);
	cfg.mode = s.mode;
	if (s.mode != AV_MODE_NONE)
		av_resolved_to_config(s.m, &r, s.force_unsafe, &cfg);
	if (s.mode == AV_MODE_MULTIBOOT)
		snprintf(cfg.boot_default, sizeof(cfg.boot_default), "%s", def);
	/* ids of BLS entries carry the kernel version: no default that survives upgrades */
	if (s.mode == AV_MODE_MULTIBOOT && def[0] && s.bc.loader == AV_LOADER_BLS)
		printf("Note: on systemd-boot the default entry is not set by setup; choose it in "
		       "the menu ('d') or with 'bootctl set-default ID' ('auto-vfio boot-next' "
		       "lists the ids of the %s entries).\n",
		       def);
	snprintf(cfg.iommu_params, sizeof(cfg.iommu_params), "%s", av_iommu_params(&cli->ctx));

	if (av_kmod_new(&cli->ctx, NULL, &kctx) < 0)
		kctx = NULL;
	err = av_plan_build(&cli->ctx, s.m, &cfg, kctx, s.static_ids, &plan);
	if (kctx)
		kmod_unref(kctx);
	if (err < 0) {
		rc = err == -EEXIST ? AV_EXIT_REFUSED : AV_EXIT_FAIL;
		goto out;
	}
	if (s.bc.loader == AV_LOADER_BLS)
		err = plan_kernel_cmdline(&s, &cfg, &plan);
	if (!err)
		err = plan_extras(&s, &plan);
	if (err < 0) {
		fprintf(stderr, "%s: the extras cannot be set up (%s): nothing was changed\n",
			cli->prog, strerror(-err));
		av_plan_release(&plan);
		goto out;
	}
	rc = apply(&s, &plan);
	av_plan_release(&plan);
out:
	av_manifest_release(&s.man);
	av_machine_free(s.m);
	return rc;
}
