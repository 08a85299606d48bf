// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio status: the IOMMU and the running boot against the configuration. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "bls.h"
#include "plan.h"
#include "status-internal.h"

void av_status_check_iommu(struct coll *c, const char *cpu)
{
	const char *cl = c->st->cmdline;
	static const char *const offs[] = {"intel_iommu=off", "amd_iommu=off", "iommu=off"};
	char path[PATH_MAX], units[256] = "";
	size_t nunits = 0, ul = 0;
	DIR *d;

	if (av_path(c->ctx, path, sizeof(path), "/sys/class/iommu") == 0 && (d = opendir(path))) {
		struct dirent *de;

		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			nunits++;
			if (ul < sizeof(units) - 1)
				ul += (size_t)snprintf(units + ul, sizeof(units) - ul, "%s%s",
						       ul ? ", " : "", de->d_name);
		}
		closedir(d);
	}
	if (c->m->iommu) {
		av_status_add(c, AV_STATUS_OK, "iommu", "", NULL, "IOMMU on: %zu groups%s%s%s",
			      c->m->ngroups, nunits ? " (units: " : "", units, nunits ? ")" : "");
		return;
	}
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (cl && av_status_cmdline_has(cl, offs[i])) {
			char fix[320];

			/* kernel-install takes /proc/cmdline when /etc/kernel/cmdline is missing */
			if (c->bc.loader == AV_LOADER_BLS)
				snprintf(
				    fix, sizeof(fix),
				    "remove %s from " AV_KERNEL_CMDLINE " (write it from "
				    "/proc/cmdline without %s if it is missing), run %s, reboot",
				    offs[i], offs[i], av_status_menu_cmd(c));
			else
				snprintf(fix, sizeof(fix),
					 "remove %s from GRUB_CMDLINE_LINUX* in /etc/default/grub "
					 "(or /etc/default/grub.d/*.cfg), run update-grub, reboot",
					 offs[i]);
			av_status_add(
			    c, AV_STATUS_PROBLEM, "iommu", "", fix,
			    "no IOMMU groups: the command line switches the IOMMU off (%s)",
			    offs[i]);
			return;
		}
	}
	if (strcmp(cpu, "GenuineIntel") == 0 &&
	    !(cl && av_status_cmdline_has(cl, "intel_iommu=on")))
		av_status_add(c, AV_STATUS_PROBLEM, "iommu", "",
			      "enable VT-d in the firmware setup and boot with intel_iommu=on "
			      "('auto-vfio setup' adds it)",
			      "no IOMMU groups: Debian's kernel leaves the Intel IOMMU off without "
			      "intel_iommu=on%s",
			      nunits ? "" : ", and the firmware reports no IOMMU unit");
	else
		av_status_add(
		    c, AV_STATUS_PROBLEM, "iommu", "",
		    "enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware setup, then reboot",
		    "no IOMMU groups%s",
		    nunits ? " although the firmware reports IOMMU units"
			   : ": the firmware reports no IOMMU unit");
}

/* The machine group a selector names, or AV_NONE (with a finding). */
static size_t sel_group(struct coll *c, const struct av_sel *s, const char *where)
{
	char buf[AV_SEL_LEN];
	const struct av_dev *d = av_machine_find(c->m, &s->addr);

	av_sel_format(s, buf);
	if (!d || d->vendor != s->vendor || d->device != s->device) {
		av_status_add(c, AV_STATUS_WARN, "cmdline", buf,
			      "run 'auto-vfio setup' again to refresh the selection",
			      "%s names %s, but %s (the binder skipped it)", where, buf,
			      d ? "the device there has another ID now"
				: "there is no such device");
		return AV_NONE;
	}
	if (d->group_idx == AV_NONE) {
		av_status_add(c, AV_STATUS_WARN, "cmdline", buf, NULL,
			      "%s names %s, which has no IOMMU group", where, buf);
		return AV_NONE;
	}
	return d->group_idx;
}

void av_status_check_cmdline(struct coll *c)
{
	struct av_status *st = c->st;
	struct av_file f;
	char *nl, fix[128];

	if (av_file_read(c->ctx, "/proc/cmdline", &f) < 0 || !f.exists) {
		av_status_add(c, AV_STATUS_INFO, "cmdline", "", NULL,
			      "cannot read %s/proc/cmdline: the booted entry is unknown",
			      c->ctx->root);
		return;
	}
	st->cmdline = f.data;
	if ((nl = strchr(st->cmdline, '\n')))
		*nl = '\0';
	/* malformed selectors are counted and reported below; the log need not repeat them */
	av_cmdline_parse(c->ctx, st->cmdline, &st->booted);
	snprintf(fix, sizeof(fix), "run %s (the boot entry is stale or was edited)",
		 av_status_menu_cmd(c));
	if (st->booted.nbad)
		av_status_add(
		    c, AV_STATUS_WARN, "cmdline", "", fix,
		    "%u malformed auto_vfio.bind= selector%s on the command line were ignored",
		    st->booted.nbad, st->booted.nbad == 1 ? "" : "s");
	if (st->booted.off)
		av_status_add(c, AV_STATUS_WARN, "cmdline", "",
			      "boot an entry without auto_vfio=off",
			      "auto_vfio=off: the kill switch is on, nothing was bound this boot");
}

void av_status_check_config(struct coll *c)
{
	struct av_status *st = c->st;
	int err = av_config_load(c->ctx, &st->cfg);

	if (err == -ENOENT) {
		av_status_add(c, AV_STATUS_INFO, "config", "", "run 'auto-vfio setup'",
			      "auto-vfio is not set up here (no %s)", AV_CONFIG_PATH);
		return;
	}
	if (err < 0) {
		av_status_add(c, AV_STATUS_PROBLEM, "config", "",
			      "correct the line named above, or run 'auto-vfio setup' again",
			      "%s%s cannot be read: %s", c->ctx->root, AV_CONFIG_PATH,
			      err == -EINVAL ? "bad content" : strerror(-err));
		return;
	}
	st->configured = true;
	av_status_add(c, AV_STATUS_INFO, "config", "", NULL, "mode %s, %zu device%s selected",
		      av_mode_name(st->cfg.mode), st->cfg.nselect, st->cfg.nselect == 1 ? "" : "s");
}

/* Which groups the configuration selects, which this boot passes, and whether they agree. */
void av_status_check_selection(struct coll *c)
{
	struct av_status *st = c->st;
	const struct av_machine *m = c->m;
	struct av_resolved r;
	size_t extra = 0, missing = 0;
	bool any_booted = false;
	char fix[192];

	for (size_t i = 0; i < st->booted.nsel && !st->booted.off; i++) {
		size_t g = sel_group(c, &st->booted.sel[i], "the command line");

		if (g != AV_NONE) {
			c->booted[g] = true;
			any_booted = true;
		}
	}
	snprintf(fix, sizeof(fix), "run %s and reboot", av_status_menu_cmd(c));
	if (!st->configured || st->cfg.mode == AV_MODE_NONE) {
		if (any_booted)
			av_status_add(
			    c, AV_STATUS_WARN, "cmdline", "", strcat(fix, " into a plain entry"),
			    "this boot passes devices with auto_vfio.bind=, but auto-vfio is "
			    "not configured for it");
		return;
	}
	if (!m->iommu)
		return;
	if (av_select(c->ctx, m, &st->cfg, AV_SELECT_STRICT, &r) < 0) {
		av_status_add(
		    c, AV_STATUS_PROBLEM, "config", "",
		    "run 'auto-vfio setup' again to choose the devices afresh",
		    "the configuration names devices that are gone, changed or now unsafe");
		return;
	}
	for (size_t i = 0; i < r.ngroups; i++)
		c->selected[r.groups[i]] = true;
	st->nselected = r.ngroups;
	for (size_t g = 0; g < m->ngroups; g++) {
		extra += c->booted[g] && !c->selected[g];
		missing += c->selected[g] && !c->booted[g];
		st->nbooted += c->booted[g] && c->selected[g];
	}
	if (extra)
		av_status_add(c, AV_STATUS_WARN, "cmdline", "", fix,
			      "this boot passes %zu group%s the configuration does not select "
			      "(%s older than the configuration)",
			      extra, extra == 1 ? "" : "s", av_status_menu_name(c));
	if (st->booted.off)
		return;
	if (st->cfg.mode == AV_MODE_STATIC) {
		snprintf(fix + strlen(fix), sizeof(fix) - strlen(fix),
			 " (%s carries the selection)",
			 c->bc.loader == AV_LOADER_BLS ? AV_KERNEL_CMDLINE : AV_GRUB_DROPIN);
		if (missing)
			av_status_add(c, AV_STATUS_PROBLEM, "cmdline", "", fix,
				      "this boot does not pass %zu of the %zu configured group%s "
				      "(auto_vfio.bind= missing or different)",
				      missing, r.ngroups, r.ngroups == 1 ? "" : "s");
		else
			av_status_add(c, AV_STATUS_OK, "cmdline", "", NULL,
				      "booted with the configured selection (%zu group%s)",
				      r.ngroups, r.ngroups == 1 ? "" : "s");
	} else if (!any_booted) {
		av_status_add(c, AV_STATUS_INFO, "cmdline", "", NULL,
			      "booted a plain entry: the host keeps every device this boot");
	} else {
		av_status_add(
		    c, AV_STATUS_OK, "cmdline", "", NULL,
		    "booted an auto-vfio entry that passes %zu of the %zu configured group%s",
		    st->nbooted, r.ngroups, r.ngroups == 1 ? "" : "s");
	}
}
