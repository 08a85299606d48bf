// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio setup: the extras' files, the diff, and the transaction that writes the plan. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkmod.h>

#include "bls.h"
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

static void add_file(struct av_plan *plan, const char *path, char *data, mode_t mode)
{
	if (plan->n < AV_PLAN_MAX)
		plan->f[plan->n++] =
		    (struct av_plan_file){.path = path, .data = data, .mode = mode};
	else
		free(data);
}

/* The extras' files, appended to the plan. 0 or -errno (said why). */
int setup_plan_extras(struct setup *s, struct av_plan *plan)
{
	const struct av_ctx *ctx = &s->cli->ctx;
	size_t first = plan->n;
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
	for (size_t i = first; i < plan->n; i++)
		if (!plan->f[i].data)
			return -ENOMEM;
	return 0;
}

/*
 * Under systemd-boot kernel-install takes the plain entries' options from
 * /etc/kernel/cmdline, else from the running command line: write it, with
 * the user's parameters, in place of the GRUB drop-in (plan slot 1).
 */
int setup_plan_kernel_cmdline(struct setup *s, const struct av_config *cfg, struct av_plan *plan)
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

/* systemd-boot's own variable for the default entry, which overrides loader.conf. */
#define LOADER_ENTRY_DEFAULT                                                                       \
	"/sys/firmware/efi/efivars/LoaderEntryDefault-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
#define LOADER_CONF_MARK                                                                           \
	"# auto-vfio: the default entry (setup --default); 'auto-vfio uninstall' restores this "   \
	"file\n"

static bool exists(const struct av_ctx *ctx, const char *abspath)
{
	char path[PATH_MAX];

	return av_path(ctx, path, sizeof(path), "%s", abspath) == 0 && access(path, F_OK) == 0;
}

/* loader.conf on the ESP: the one there is, else where systemd-boot or the entries are. */
static const char *loader_conf_path(const struct av_ctx *ctx)
{
	static const char *const confs[] = {
	    "/efi/loader/loader.conf", "/boot/efi/loader/loader.conf", "/boot/loader/loader.conf"};
	static const char *const esps[] = {"/efi/EFI/systemd", "/boot/efi/EFI/systemd",
					   "/boot/EFI/systemd"};
	char entries[PATH_MAX];
	size_t n = sizeof(confs) / sizeof(confs[0]);

	for (size_t i = 0; i < n; i++)
		if (exists(ctx, confs[i]))
			return confs[i];
	for (size_t i = 0; i < n; i++)
		if (exists(ctx, esps[i]))
			return confs[i];
	if (av_bls_entries_dir(ctx, entries, sizeof(entries)) == 0)
		for (size_t i = 0; i < n; i++)
			if (strncmp(entries, confs[i], strlen(confs[i]) - strlen("loader.conf")) ==
			    0)
				return confs[i];
	return confs[1];
}

/* @old with its `default` lines (the last one counts) replaced by ours, marked. */
static char *loader_conf_edit(const char *old, const char *glob)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool done = false;

	if (!f)
		return NULL;
	for (const char *p = old; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p + 1) : strlen(p);
		const char *w = p + strspn(p, " \t");

		if (n == strlen(LOADER_CONF_MARK) && memcmp(p, LOADER_CONF_MARK, n) == 0) {
			/* ours from the last setup: written again with the line */
		} else if (strncmp(w, "default", 7) == 0 && strchr(" \t\n", w[7])) {
			if (!done)
				fprintf(f, LOADER_CONF_MARK "default %s\n", glob);
			done = true;
		} else {
			fwrite(p, 1, n, f);
			if (!eol)
				fputc('\n', f);
		}
		p = eol ? eol + 1 : NULL;
	}
	if (!done)
		fprintf(f, LOADER_CONF_MARK "default %s\n", glob);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Under systemd-boot the default entry is `default` in loader.conf, a glob
 * over the entries' ids (file names). Our ids carry the kernel version, so
 * the glob leaves it out: "*-auto-vfio-headless.conf" matches every kernel's
 * entry and systemd-boot takes the newest match (it sorts entries by
 * version), so the default follows every kernel upgrade. `bootctl
 * set-default` would store one fixed id in an EFI variable and go stale at
 * the next upgrade. No default (plain): loader.conf goes back to what it was.
 */
int setup_plan_loader_default(struct setup *s, const struct av_config *cfg, struct av_plan *plan)
{
	const struct av_ctx *ctx = &s->cli->ctx;
	const char *path = loader_conf_path(ctx);
	struct av_file old;
	char glob[AV_DEFAULT_LEN + 32];
	char *text = NULL;
	int err;

	if (plan->n >= AV_PLAN_MAX)
		return -E2BIG;
	err = av_file_read(ctx, path, &old);
	if (err < 0)
		return err;
	if (cfg->mode == AV_MODE_MULTIBOOT && cfg->boot_default[0]) {
		snprintf(glob, sizeof(glob), "*-" AV_ENTRY_ID_PREFIX "%s.conf", cfg->boot_default);
		for (char *c = glob; *c; c++)
			if (*c == ':') /* FAT has no ':': the entries' names use '-' */
				*c = '-';
		text = loader_conf_edit(old.exists ? old.data : "", glob);
		if (!text)
			err = -ENOMEM;
		else if (exists(ctx, LOADER_ENTRY_DEFAULT))
			printf(
			    "Note: the EFI variable LoaderEntryDefault ('bootctl set-default', 'd' "
			    "in the menu) overrides loader.conf's default; 'bootctl set-default "
			    "\"\"' clears it.\n");
	}
	plan->f[plan->n++] =
	    (struct av_plan_file){.path = path, .data = text, .mode = old.exists ? old.mode : 0644};
	av_file_release(&old);
	return err;
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
	for (const char *p = cfg.data; (p = strstr(p, "--id '" AV_ENTRY_ID_PREFIX)); p++)
		n++;
	av_file_release(&cfg);
	return n;
}

int setup_apply(struct setup *s, const struct av_plan *plan)
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
		int yes = setup_ask_yes_no("Apply these changes?", false);

		if (yes <= 0) {
			printf("Cancelled: nothing was changed.\n");
			rc = AV_EXIT_FAIL;
			goto out;
		}
	}

	/* one transaction: every file, and the updates, or nothing */
	err = av_txn_begin(ctx, 0, &txn);
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
