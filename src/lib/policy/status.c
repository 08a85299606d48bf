// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio status: the collector. Each check adds findings (status-internal.h
 * names the files by concern); this file runs them in order.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileops.h"
#include "hostfacts.h"
#include "kernels.h"
#include "status-internal.h"

AV_FMT(6, 7)
void av_status_add(struct coll *c, enum av_status_sev sev, const char *check, const char *subject,
		   const char *fix, const char *fmt, ...)
{
	struct av_status *st = c->st;
	struct av_status_item *it, *ni;
	va_list ap;
	int n;

	if (c->err)
		return;
	ni = realloc(st->items, (st->n + 1) * sizeof(*ni));
	if (!ni)
		goto nomem;
	st->items = ni;
	it = &st->items[st->n];
	memset(it, 0, sizeof(*it));
	it->sev = sev;
	it->check = check;
	it->subject = strdup(subject ? subject : "");
	it->fix = fix ? strdup(fix) : NULL;
	va_start(ap, fmt);
	n = vasprintf(&it->msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		it->msg = NULL;
	if (!it->subject || (fix && !it->fix) || !it->msg) {
		free(it->subject);
		free(it->fix);
		free(it->msg);
		goto nomem;
	}
	st->n++;
	st->count[sev]++;
	return;
nomem:
	c->err = -ENOMEM;
}

const char *av_status_sev_name(enum av_status_sev sev)
{
	static const char *const names[] = {"ok", "info", "warning", "problem"};

	return (unsigned)sev < AV_STATUS_NSEV ? names[sev] : "?";
}

const char *av_status_menu_cmd(const struct coll *c)
{
	return av_loader_update_cmd(c->bc.loader);
}

const char *av_status_menu_name(const struct coll *c)
{
	return c->bc.loader == AV_LOADER_BLS ? "the systemd-boot entries" : "the GRUB menu";
}

bool av_status_exists(const struct av_ctx *ctx, const char *abspath)
{
	char path[PATH_MAX];

	return av_path(ctx, path, sizeof(path), "%s", abspath) == 0 && access(path, F_OK) == 0;
}

bool av_status_cmdline_has(const char *cmdline, const char *word)
{
	return cmdline && av_cmdline_has_word(cmdline, word, strlen(word));
}

static void cpu_vendor(const struct av_ctx *ctx, char *buf, size_t size)
{
	struct av_host_cpu cpu;

	av_host_cpu(ctx, &cpu);
	snprintf(buf, size, "%s", cpu.vendor);
}

int av_status_collect(const struct av_ctx *ctx, const struct av_machine *m, struct av_status *st)
{
	struct coll c = {.ctx = ctx, .m = m, .st = st};
	struct av_kconfig kc;
	bool have_kc = false;
	char cpu[32];
	struct av_kernel *kernels;
	int nk;
	int err;

	memset(st, 0, sizeof(*st));
	av_config_init(&st->cfg);
	c.selected = calloc(m->ngroups + 1, sizeof(bool));
	c.booted = calloc(m->ngroups + 1, sizeof(bool));
	if (!c.selected || !c.booted) {
		c.err = -ENOMEM;
		goto out;
	}
	av_bootchain_detect(ctx, &c.bc);
	cpu_vendor(ctx, cpu, sizeof(cpu));
	if (av_kernel_release(ctx, st->release, sizeof(st->release)) < 0)
		st->release[0] = '\0';
	av_status_check_cmdline(&c);
	av_status_check_iommu(&c, cpu);
	av_status_check_config(&c);
	av_status_check_selection(&c);

	if (st->release[0]) {
		err = av_kconfig_load(ctx, st->release, &kc);
		have_kc = err == 0;
		if (have_kc)
			av_status_check_kconfig(&c, &kc, cpu);
		else
			av_status_add(
			    &c, AV_STATUS_INFO, "kconfig", st->release, NULL,
			    "no configuration for kernel %s (/boot/config-%s, /proc/config.gz)",
			    st->release, st->release);
	} else {
		av_status_add(
		    &c, AV_STATUS_INFO, "kconfig", "", NULL,
		    "the running kernel's release is unknown (no %s/proc/sys/kernel/osrelease)",
		    ctx->root);
	}
	av_status_check_vfio_module(&c, have_kc ? &kc : NULL);
	if (have_kc)
		av_kconfig_release(&kc);

	av_status_add(&c,
		      c.bc.gen == AV_GEN_UNKNOWN || c.bc.loader == AV_LOADER_UNKNOWN ||
			      c.bc.loader == AV_LOADER_AMBIGUOUS
			  ? AV_STATUS_WARN
			  : AV_STATUS_INFO,
		      "bootchain", "", NULL, "initramfs by %s (%s), boot loader %s (%s)",
		      av_gen_name(c.bc.gen), c.bc.gen_why, av_loader_name(c.bc.loader),
		      c.bc.loader_why);
	if (c.bc.loader == AV_LOADER_BLS && st->configured)
		av_status_check_bls(&c, &st->cfg);
	nk = av_kernels_find(ctx, &kernels);
	if (nk < 0)
		nk = 0; /* no /boot: said below as "no kernels" */
	if (!st->configured || st->cfg.mode == AV_MODE_NONE)
		av_status_add(
		    &c, AV_STATUS_INFO, "initramfs", "", NULL,
		    "initramfs images not checked: nothing is configured to pass through");
	else if (nk == 0)
		av_status_add(&c, AV_STATUS_INFO, "initramfs", "", NULL,
			      "no kernels (vmlinuz-*) under %s/boot", ctx->root);
	else
		for (int i = 0; i < nk; i++)
			av_status_check_initramfs(&c, c.bc.gen, kernels[i].version);
	av_kernels_free(kernels, (size_t)nk);

	av_status_check_groups(&c);
out:
	free(c.selected);
	free(c.booted);
	if (c.err)
		av_status_release(st);
	return c.err;
}

void av_status_release(struct av_status *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->items[i].subject);
		free(st->items[i].msg);
		free(st->items[i].fix);
	}
	free(st->items);
	free(st->cmdline);
	memset(st, 0, sizeof(*st));
}
