// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libkmod.h>

#include "bls.h"
#include "bootchain.h"
#include "fileops.h"
#include "hostfacts.h"
#include "initramfs.h"
#include "kmodutil.h"
#include "pciclass.h"
#include "plan.h"
#include "kernels.h"
#include "status.h"
#include "sysfs.h"

#define JOURNAL_HINT "see 'journalctl -b -k | grep auto-vfio' for what the binder did"

struct coll {
	const struct av_ctx *ctx;
	const struct av_machine *m;
	struct av_status *st;
	int err;		 /* sticky -ENOMEM */
	bool *selected, *booted; /* per machine group */
};

AV_FMT(6, 7)
static void add(struct coll *c, enum av_status_sev sev, const char *check, const char *subject,
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

/*
 * GPUs whose reset leaves them unusable for a second VM start, from the
 * device lists of the vendor-reset module: Polaris 10/11/12, Vega 10/20,
 * Navi 10/12/14 (all vendor 1002).
 */
static const struct {
	uint16_t first, last;
	const char *family;
} reset_quirks[] = {
    {0x67c0, 0x67ff, "AMD Polaris"}, {0x6980, 0x699f, "AMD Polaris 12"},
    {0x6fdf, 0x6fdf, "AMD Polaris"}, {0x6860, 0x687f, "AMD Vega 10"},
    {0x66a0, 0x66af, "AMD Vega 20"}, {0x7310, 0x731f, "AMD Navi 10"},
    {0x7340, 0x734f, "AMD Navi 14"}, {0x7360, 0x7362, "AMD Navi 12"},
};

/*
 * The GPU family of @vendor:@device when it is known to lack a usable reset
 * (the "AMD reset bug"), else NULL.
 */
static const char *reset_quirk(uint16_t vendor, uint16_t device)
{
	if (vendor != 0x1002)
		return NULL;
	for (size_t i = 0; i < sizeof(reset_quirks) / sizeof(reset_quirks[0]); i++)
		if (device >= reset_quirks[i].first && device <= reset_quirks[i].last)
			return reset_quirks[i].family;
	return NULL;
}

static bool exists(const struct av_ctx *ctx, const char *abspath)
{
	char path[PATH_MAX];

	return av_path(ctx, path, sizeof(path), "%s", abspath) == 0 && access(path, F_OK) == 0;
}

/* The kernel's words, separated by blanks; true when @word is one of them. */
static bool cmdline_has(const char *cmdline, const char *word)
{
	return cmdline && av_cmdline_has_word(cmdline, word, strlen(word));
}

static void cpu_vendor(const struct av_ctx *ctx, char *buf, size_t size)
{
	struct av_host_cpu cpu;

	av_host_cpu(ctx, &cpu);
	snprintf(buf, size, "%s", cpu.vendor);
}

static void check_iommu(struct coll *c, const char *cpu)
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
		add(c, AV_STATUS_OK, "iommu", "", NULL, "IOMMU on: %zu groups%s%s%s", c->m->ngroups,
		    nunits ? " (units: " : "", units, nunits ? ")" : "");
		return;
	}
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (cl && cmdline_has(cl, offs[i])) {
			char fix[256];

			snprintf(fix, sizeof(fix),
				 "remove %s from GRUB_CMDLINE_LINUX* in /etc/default/grub "
				 "(or /etc/default/grub.d/*.cfg), run update-grub, reboot",
				 offs[i]);
			add(c, AV_STATUS_PROBLEM, "iommu", "", fix,
			    "no IOMMU groups: the command line switches the IOMMU off (%s)",
			    offs[i]);
			return;
		}
	}
	if (strcmp(cpu, "GenuineIntel") == 0 && !(cl && cmdline_has(cl, "intel_iommu=on")))
		add(c, AV_STATUS_PROBLEM, "iommu", "",
		    "enable VT-d in the firmware setup and boot with intel_iommu=on "
		    "('auto-vfio setup' adds it)",
		    "no IOMMU groups: Debian's kernel leaves the Intel IOMMU off without "
		    "intel_iommu=on%s",
		    nunits ? "" : ", and the firmware reports no IOMMU unit");
	else
		add(c, AV_STATUS_PROBLEM, "iommu", "",
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
		add(c, AV_STATUS_WARN, "cmdline", buf,
		    "run 'auto-vfio setup' again to refresh the selection",
		    "%s names %s, but %s (the binder skipped it)", where, buf,
		    d ? "the device there has another ID now" : "there is no such device");
		return AV_NONE;
	}
	if (d->group_idx == AV_NONE) {
		add(c, AV_STATUS_WARN, "cmdline", buf, NULL,
		    "%s names %s, which has no IOMMU group", where, buf);
		return AV_NONE;
	}
	return d->group_idx;
}

static void check_cmdline(struct coll *c)
{
	struct av_status *st = c->st;
	struct av_file f;
	char *nl;

	if (av_file_read(c->ctx, "/proc/cmdline", &f) < 0 || !f.exists) {
		add(c, AV_STATUS_INFO, "cmdline", "", NULL,
		    "cannot read %s/proc/cmdline: the booted entry is unknown", c->ctx->root);
		return;
	}
	st->cmdline = f.data;
	if ((nl = strchr(st->cmdline, '\n')))
		*nl = '\0';
	/* malformed selectors are counted and reported below; the log need not repeat them */
	av_cmdline_parse(c->ctx, st->cmdline, &st->booted);
	if (st->booted.nbad)
		add(c, AV_STATUS_WARN, "cmdline", "",
		    "run update-grub (the menu entry is stale or was edited)",
		    "%u malformed auto_vfio.bind= selector%s on the command line were ignored",
		    st->booted.nbad, st->booted.nbad == 1 ? "" : "s");
	if (st->booted.off)
		add(c, AV_STATUS_WARN, "cmdline", "", "boot an entry without auto_vfio=off",
		    "auto_vfio=off: the kill switch is on, nothing was bound this boot");
}

static void check_config(struct coll *c)
{
	struct av_status *st = c->st;
	int err = av_config_load(c->ctx, &st->cfg);

	if (err == -ENOENT) {
		add(c, AV_STATUS_INFO, "config", "", "run 'auto-vfio setup'",
		    "auto-vfio is not set up here (no %s)", AV_CONFIG_PATH);
		return;
	}
	if (err < 0) {
		add(c, AV_STATUS_PROBLEM, "config", "",
		    "correct the line named above, or run 'auto-vfio setup' again",
		    "%s%s cannot be read: %s", c->ctx->root, AV_CONFIG_PATH,
		    err == -EINVAL ? "bad content" : strerror(-err));
		return;
	}
	st->configured = true;
	add(c, AV_STATUS_INFO, "config", "", NULL, "mode %s, %zu device%s selected",
	    av_mode_name(st->cfg.mode), st->cfg.nselect, st->cfg.nselect == 1 ? "" : "s");
}

/* Which groups the configuration selects, which this boot passes, and whether they agree. */
static void check_selection(struct coll *c)
{
	struct av_status *st = c->st;
	const struct av_machine *m = c->m;
	struct av_resolved r;
	size_t extra = 0, missing = 0;
	bool any_booted = false;

	for (size_t i = 0; i < st->booted.nsel && !st->booted.off; i++) {
		size_t g = sel_group(c, &st->booted.sel[i], "the command line");

		if (g != AV_NONE) {
			c->booted[g] = true;
			any_booted = true;
		}
	}
	if (!st->configured || st->cfg.mode == AV_MODE_NONE) {
		if (any_booted)
			add(c, AV_STATUS_WARN, "cmdline", "",
			    "run update-grub and reboot into a plain entry",
			    "this boot passes devices with auto_vfio.bind=, but auto-vfio is "
			    "not configured for it");
		return;
	}
	if (!m->iommu)
		return;
	if (av_select(c->ctx, m, &st->cfg, AV_SELECT_STRICT, &r) < 0) {
		add(c, AV_STATUS_PROBLEM, "config", "",
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
		add(c, AV_STATUS_WARN, "cmdline", "", "run update-grub and reboot",
		    "this boot passes %zu group%s the configuration does not select "
		    "(the GRUB menu is older than the configuration)",
		    extra, extra == 1 ? "" : "s");
	if (st->booted.off)
		return;
	if (st->cfg.mode == AV_MODE_STATIC) {
		if (missing)
			add(c, AV_STATUS_PROBLEM, "cmdline", "",
			    "run update-grub and reboot (" AV_GRUB_DROPIN " carries the selection)",
			    "this boot does not pass %zu of the %zu configured group%s "
			    "(auto_vfio.bind= missing or different)",
			    missing, r.ngroups, r.ngroups == 1 ? "" : "s");
		else
			add(c, AV_STATUS_OK, "cmdline", "", NULL,
			    "booted with the configured selection (%zu group%s)", r.ngroups,
			    r.ngroups == 1 ? "" : "s");
	} else if (!any_booted) {
		add(c, AV_STATUS_INFO, "cmdline", "", NULL,
		    "booted a plain entry: the host keeps every device this boot");
	} else {
		add(c, AV_STATUS_OK, "cmdline", "", NULL,
		    "booted an auto-vfio entry that passes %zu of the %zu configured group%s",
		    st->nbooted, r.ngroups, r.ngroups == 1 ? "" : "s");
	}
}

static void check_kconfig(struct coll *c, const struct av_kconfig *kc, const char *cpu)
{
	static const char *const syms[] = {"CONFIG_VFIO", "CONFIG_VFIO_PCI", "CONFIG_INTEL_IOMMU",
					   "CONFIG_AMD_IOMMU"};
	enum av_kconfig_val v[4];
	const char *rel = c->st->release;

	for (size_t i = 0; i < 4; i++)
		v[i] = av_kconfig_get(kc, syms[i], NULL, 0);
	for (size_t i = 0; i < 2; i++)
		if (v[i] != AV_KCONFIG_MODULE && v[i] != AV_KCONFIG_BUILTIN)
			add(c, AV_STATUS_PROBLEM, "kconfig", rel,
			    "boot a kernel built with VFIO, such as Debian's linux-image-amd64",
			    "kernel %s is built without %s (%s)", rel, syms[i], kc->source);
	if (strcmp(cpu, "GenuineIntel") == 0 && v[2] != AV_KCONFIG_BUILTIN)
		add(c, AV_STATUS_PROBLEM, "kconfig", rel,
		    "boot a kernel built with CONFIG_INTEL_IOMMU=y",
		    "kernel %s has no Intel IOMMU driver (CONFIG_INTEL_IOMMU=%s)", rel,
		    av_kconfig_val_name(v[2]));
	if (strcmp(cpu, "AuthenticAMD") == 0 && v[3] != AV_KCONFIG_BUILTIN)
		add(c, AV_STATUS_PROBLEM, "kconfig", rel,
		    "boot a kernel built with CONFIG_AMD_IOMMU=y",
		    "kernel %s has no AMD IOMMU driver (CONFIG_AMD_IOMMU=%s)", rel,
		    av_kconfig_val_name(v[3]));
	add(c, AV_STATUS_INFO, "kconfig", rel, NULL,
	    "%s: VFIO=%s VFIO_PCI=%s INTEL_IOMMU=%s AMD_IOMMU=%s", kc->source,
	    av_kconfig_val_name(v[0]), av_kconfig_val_name(v[1]), av_kconfig_val_name(v[2]),
	    av_kconfig_val_name(v[3]));
}

enum modstate { MOD_UNKNOWN, MOD_BUILTIN, MOD_AVAILABLE, MOD_MISSING };

/* From the root's own modules index: libkmod's initstate would ask the host's /sys. */
static enum modstate module_state(struct coll *c, const char *rel, const char *name)
{
	struct kmod_ctx *k = NULL;
	struct kmod_list *list = NULL, *l;
	enum modstate s = MOD_MISSING;
	char dep[PATH_MAX];

	snprintf(dep, sizeof(dep), "/lib/modules/%s/modules.dep.bin", rel);
	if (!exists(c->ctx, dep) || av_kmod_new(c->ctx, rel, &k) < 0)
		return MOD_UNKNOWN;
	if (kmod_module_new_from_lookup(k, name, &list) < 0) {
		kmod_unref(k);
		return MOD_UNKNOWN;
	}
	kmod_list_foreach(l, list)
	{
		struct kmod_module *mod = kmod_module_get_module(l);

		if (strcmp(kmod_module_get_name(mod), name) == 0)
			s = kmod_module_get_path(mod) ? MOD_AVAILABLE : MOD_BUILTIN;
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(list);
	kmod_unref(k);
	return s;
}

static void check_vfio_module(struct coll *c, const struct av_kconfig *kc)
{
	const char *rel = c->st->release;
	bool loaded = exists(c->ctx, "/sys/module/vfio_pci");
	enum modstate s = rel[0] ? module_state(c, rel, "vfio_pci") : MOD_UNKNOWN;

	if (kc && av_kconfig_get(kc, "VFIO_PCI", NULL, 0) == AV_KCONFIG_BUILTIN)
		s = MOD_BUILTIN;
	if (s == MOD_BUILTIN)
		add(c, AV_STATUS_OK, "vfio-pci", rel, NULL, "vfio-pci is built into the kernel");
	else if (loaded)
		add(c, AV_STATUS_OK, "vfio-pci", rel, NULL, "vfio-pci is loaded");
	else if (s == MOD_MISSING)
		add(c, AV_STATUS_PROBLEM, "vfio-pci", rel,
		    "install the full module set of this kernel (linux-image-<release>) or boot a "
		    "kernel built with CONFIG_VFIO_PCI",
		    "kernel %s has no vfio-pci module (not in %s/lib/modules/%s)", rel,
		    c->ctx->root, rel);
	else if (c->st->nbooted)
		add(c, AV_STATUS_PROBLEM, "vfio-pci", rel, JOURNAL_HINT,
		    "vfio-pci is not loaded although this boot passes devices");
	else if (s == MOD_AVAILABLE)
		add(c, AV_STATUS_INFO, "vfio-pci", rel, NULL,
		    "vfio-pci is available as a module (not loaded: nothing is passed this boot)");
	else
		add(c, AV_STATUS_INFO, "vfio-pci", rel, NULL,
		    "vfio-pci is not loaded; its module could not be looked up (no "
		    "%s/lib/modules/%s "
		    "index)",
		    c->ctx->root, rel[0] ? rel : "<release>");
}

/* systemd-boot: our entries are there in multi-boot mode, no plain entry binds. */
static void check_bls(struct coll *c, const struct av_config *cfg)
{
	char rel[PATH_MAX], dir[2 * PATH_MAX];
	size_t nours, binding;

	if (av_bls_entries_dir(c->ctx, rel, sizeof(rel)) < 0 ||
	    (snprintf(dir, sizeof(dir), "%s%s", c->ctx->root, rel),
	     av_bls_count(dir, &nours, &binding) < 0)) {
		add(c, AV_STATUS_PROBLEM, "bootchain", "", "run 'auto-vfio setup' again",
		    "no systemd-boot entries directory (loader/entries) under %s/efi, /boot/efi or "
		    "/boot",
		    c->ctx->root);
		return;
	}
	if (cfg->mode == AV_MODE_MULTIBOOT && nours == 0)
		add(c, AV_STATUS_PROBLEM, "bootchain", "",
		    "kernel-install add KVER /boot/vmlinuz-KVER for each kernel (or 'auto-vfio "
		    "setup')",
		    "no auto-vfio systemd-boot entries in %s", rel);
	else if (cfg->mode == AV_MODE_MULTIBOOT)
		add(c, AV_STATUS_OK, "bootchain", "", NULL,
		    "%zu auto-vfio systemd-boot entr%s in %s", nours, nours == 1 ? "y" : "ies",
		    rel);
	if (cfg->mode == AV_MODE_MULTIBOOT && binding)
		add(c, AV_STATUS_PROBLEM, "bootchain", "",
		    "kernel-install add KVER /boot/vmlinuz-KVER for that kernel",
		    "%zu plain systemd-boot entr%s in %s pass%s devices through (auto_vfio.bind=)",
		    binding, binding == 1 ? "y" : "ies", rel, binding == 1 ? "es" : "");
}

/* Where each generator keeps the pieces our hook or module puts into an image. */
static const struct gen_layout {
	const char *script_pat, *script_what, *update_fmt, *create_fmt;
	const char *const hooks[4]; /* our build-time hook or module, any of these */
} gen_layouts[] = {
    [AV_GEN_INITRAMFS_TOOLS] = {"scripts/init-top/auto-vfio*",
				"the boot script scripts/init-top/auto-vfio",
				"update-initramfs -u -k %s",
				"update-initramfs -c -k %s",
				{"/usr/share/initramfs-tools/hooks/auto-vfio",
				 "/usr/local/share/initramfs-tools/hooks/auto-vfio",
				 "/etc/initramfs-tools/hooks/auto-vfio", NULL}},
    [AV_GEN_DRACUT] = {"*dracut/hooks/pre-udev/*auto-vfio*",
		       "the pre-udev hook of the dracut module 90auto-vfio",
		       "dracut --force --kver %s",
		       "dracut --force --kver %s",
		       {"/usr/lib/dracut/modules.d/90auto-vfio/module-setup.sh", NULL}},
};

static void check_initramfs(struct coll *c, enum av_initramfs_gen gen, const char *rel)
{
	const struct gen_layout *gl =
	    &gen_layouts[gen == AV_GEN_DRACUT ? AV_GEN_DRACUT : AV_GEN_INITRAMFS_TOOLS];
	struct av_initramfs ir;
	struct av_kconfig kc;
	char img[PATH_MAX], fix[512], missing[256] = "", pat[AV_RELEASE_LEN + 64];
	bool pci_in = false, vfio_in = false, have_kc, have_hook = false;
	size_t ml = 0;
	int err;

	av_gen_image(c->ctx, gen, rel, img, sizeof(img));
	snprintf(fix, sizeof(fix), gl->update_fmt, rel);
	err = av_initramfs_list(c->ctx, img, &ir);
	if (err == -ENOENT) {
		snprintf(fix, sizeof(fix), gl->create_fmt, rel);
		add(c, AV_STATUS_PROBLEM, "initramfs", rel, fix, "no initramfs image %s", img);
		return;
	}
	if (err == -ENOPKG) {
		add(c, AV_STATUS_WARN, "initramfs", rel,
		    "install the decompressor named in the message above",
		    "%s cannot be checked: its decompressor is not installed", img);
		return;
	}
	if (err < 0) {
		add(c, AV_STATUS_PROBLEM, "initramfs", rel, fix, "%s cannot be read: %s", img,
		    err == -EINVAL ? "damaged or unknown format" : strerror(-err));
		return;
	}
	have_kc = av_kconfig_load(c->ctx, rel, &kc) == 0;
	/* a built-in driver needs no module in the image */
	if (have_kc && av_kconfig_get(&kc, "VFIO_PCI", NULL, 0) == AV_KCONFIG_BUILTIN)
		pci_in = true;
	if (have_kc && av_kconfig_get(&kc, "VFIO", NULL, 0) == AV_KCONFIG_BUILTIN)
		vfio_in = true;
	if (have_kc)
		av_kconfig_release(&kc);
	snprintf(pat, sizeof(pat), "*lib/modules/%s/*/vfio[-_]pci.ko*", rel);
	pci_in = pci_in || av_initramfs_find(&ir, pat);
	snprintf(pat, sizeof(pat), "*lib/modules/%s/*/vfio.ko*", rel);
	vfio_in = vfio_in || av_initramfs_find(&ir, pat);
	if (!av_initramfs_find(&ir, "*bin/auto-vfio-bind"))
		ml += (size_t)snprintf(missing + ml, sizeof(missing) - ml,
				       "%sthe binder auto-vfio-bind", ml ? ", " : "");
	if (!av_initramfs_find(&ir, gl->script_pat))
		ml += (size_t)snprintf(missing + ml, sizeof(missing) - ml, "%s%s", ml ? ", " : "",
				       gl->script_what);
	if (!pci_in)
		ml += (size_t)snprintf(missing + ml, sizeof(missing) - ml, "%svfio-pci.ko",
				       ml ? ", " : "");
	if (!vfio_in)
		ml += (size_t)snprintf(missing + ml, sizeof(missing) - ml, "%svfio.ko",
				       ml ? ", " : "");
	if (ml) {
		for (size_t i = 0; gl->hooks[i]; i++)
			have_hook = have_hook || exists(c->ctx, gl->hooks[i]);
		if (!have_hook) {
			char redo[128];

			snprintf(redo, sizeof(redo), gl->update_fmt, rel);
			snprintf(fix, sizeof(fix),
				 "reinstall auto-vfio (its %s is missing), then %s",
				 gen == AV_GEN_DRACUT ? "dracut module" : "initramfs hook", redo);
		}
		add(c, AV_STATUS_PROBLEM, "initramfs", rel, fix, "%s lacks %s", img, missing);
	} else {
		add(c, AV_STATUS_OK, "initramfs", rel, NULL,
		    "%s carries the binder, its boot script and vfio-pci (%s, %zu files)", img,
		    ir.format, ir.n);
	}
	av_initramfs_release(&ir);
}

struct range {
	unsigned long long start, end;
};

/* Firmware framebuffers as /proc/iomem names them. */
static bool fb_name(const char *name)
{
	static const char *const names[] = {"BOOTFB", "efifb", "simple-framebuffer", "simplefb",
					    "vesafb"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strstr(name, names[i]))
			return true;
	return false;
}

/*
 * The framebuffer range in /proc/iomem that overlaps one of @bars. Returns
 * 1 (name in @name), 0 none, -1 when iomem shows no addresses (not root).
 */
static int iomem_fb(const struct av_ctx *ctx, const struct range *bars, size_t nbars, char *name,
		    size_t size)
{
	struct av_file f;
	bool any_addr = false;
	int found = 0;

	if (av_file_read(ctx, "/proc/iomem", &f) < 0 || !f.exists)
		return -1;
	for (char *line = f.data, *next; line && *line && !found; line = next) {
		unsigned long long s, e;
		char nm[128];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, " %llx-%llx : %127[^\n]", &s, &e, nm) != 3)
			continue;
		any_addr = any_addr || e != 0;
		if (!fb_name(nm))
			continue;
		for (size_t i = 0; i < nbars; i++) {
			if (s <= bars[i].end && e >= bars[i].start) {
				snprintf(name, size, "%s", nm);
				found = 1;
				break;
			}
		}
	}
	av_file_release(&f);
	return found ? 1 : any_addr ? 0 : -1;
}

/*
 * A platform framebuffer driver with a device bound (its name in @name, the
 * driver's in *@drv): where iomem cannot tell, and what to unbind.
 */
static bool platform_fb(const struct av_ctx *ctx, char *name, size_t size, const char **drv)
{
	static const char *const drivers[] = {"simple-framebuffer", "efi-framebuffer",
					      "vesa-framebuffer"};

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		char path[PATH_MAX];
		struct dirent *de;
		DIR *d;

		if (av_path(ctx, path, sizeof(path), "/sys/bus/platform/drivers/%s", drivers[i]) <
			0 ||
		    !(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, drivers[i], strlen(drivers[i])) == 0 &&
			    strchr(de->d_name, '.')) {
				snprintf(name, size, "%s", de->d_name);
				*drv = drivers[i];
				closedir(d);
				return true;
			}
		}
		closedir(d);
	}
	return false;
}

/*
 * A boot that passes the boot VGA device carries AV_BOOTFB_PARAM, so no
 * firmware framebuffer should ever be set up over a passed GPU: one there is
 * a fault, and the fix depends on whether the parameter was on this boot.
 */
static void check_framebuffer(struct coll *c, const struct av_dev *d)
{
	struct range bars[6];
	size_t nbars = 0;
	char path[PATH_MAX], name[300], pname[300], fix[768];
	const char *drv = NULL;
	bool have_pdev;
	FILE *f;
	int r;

	if (av_path(c->ctx, path, sizeof(path), "/sys/bus/pci/devices/%s/resource", d->address) ==
		0 &&
	    (f = fopen(path, "re"))) {
		unsigned long long s, e, flags;

		/* the six BARs; the ROM and bridge windows come after */
		for (int i = 0; i < 6 && fscanf(f, "%llx %llx %llx", &s, &e, &flags) == 3; i++)
			if ((flags & 0x200) && e > s) /* IORESOURCE_MEM */
				bars[nbars++] = (struct range){s, e};
		fclose(f);
	}
	r = nbars ? iomem_fb(c->ctx, bars, nbars, name, sizeof(name)) : -1;
	have_pdev = d->boot_vga && platform_fb(c->ctx, pname, sizeof(pname), &drv);
	if (r < 0 && have_pdev) {
		snprintf(name, sizeof(name), "%s", pname);
		r = 1;
	}
	if (r != 1)
		return;
	if (!cmdline_has(c->st->cmdline, AV_BOOTFB_PARAM))
		snprintf(fix, sizeof(fix),
			 "this boot lacks " AV_BOOTFB_PARAM ", which %s: %s, then reboot",
			 c->st->cfg.mode == AV_MODE_STATIC
			     ? "the static setup adds"
			     : "every entry passing the boot GPU carries",
			 c->st->cfg.mode == AV_MODE_STATIC ? "run 'auto-vfio setup --static' again"
							   : "run update-grub");
	else if (have_pdev)
		snprintf(fix, sizeof(fix),
			 "the kernel ignored " AV_BOOTFB_PARAM " (built without CONFIG_KALLSYMS?); "
			 "before starting the VM: echo %s > /sys/bus/platform/drivers/%s/unbind",
			 pname, drv);
	else
		snprintf(fix, sizeof(fix),
			 "something other than sysfb set up %s despite " AV_BOOTFB_PARAM
			 ": find its driver (dmesg | grep -i fb) and keep it from loading",
			 name);
	add(c, AV_STATUS_PROBLEM, "framebuffer", d->address, fix,
	    "the firmware framebuffer %s still holds the memory of GPU %s: a VM cannot map "
	    "its BARs (vfio-pci: \"BAR 0: can't reserve\")",
	    name, d->address);
}

static void check_reset(struct coll *c, const struct av_dev *d)
{
	char methods[128];
	const char *quirk = reset_quirk(d->vendor, d->device);
	int n = av_read_attr(c->ctx, methods, sizeof(methods),
			     "/sys/bus/pci/devices/%s/reset_method", d->address);

	if (quirk) {
		add(c, AV_STATUS_WARN, "reset", d->address,
		    "load the vendor-reset module, or reboot the host between VM starts",
		    "%04x:%04x is an %s GPU: it lacks a usable reset (the AMD reset bug), a second "
		    "VM start may find it hung",
		    d->vendor, d->device, quirk);
	} else if (n == 0 && d->gpu) {
		add(c, AV_STATUS_WARN, "reset", d->address,
		    "shut the VM down cleanly, or reboot the host between VM starts",
		    "%s has no reset method: it cannot be reset between VM starts", d->address);
	} else if (n == 0 || n == -ENOENT) {
		add(c, AV_STATUS_INFO, "reset", d->address, NULL, "%s: %s", d->address,
		    n == 0 ? "no reset method" : "reset methods unknown (no reset_method file)");
	}
	if (n > 0)
		add(c, AV_STATUS_OK, "reset", d->address, NULL, "%s resets by: %s", d->address,
		    methods);
}

static void check_groups(struct coll *c)
{
	const struct av_machine *m = c->m;
	bool static_mode = c->st->cfg.mode == AV_MODE_STATIC;

	for (size_t g = 0; g < m->ngroups; g++) {
		/* a static setup always means VM; a multi-boot one only in the booted entry */
		bool vm = c->booted[g] || (static_mode && !c->st->booted.off);

		if (!c->selected[g])
			continue;
		for (size_t i = 0; i < m->groups[g].ndevs; i++) {
			const struct av_dev *d = &m->devs[m->groups[g].devs[i]];

			if (av_class_is_bridge(d->cls))
				continue;
			if (!vm)
				add(c, AV_STATUS_INFO, "driver", d->address, NULL,
				    "%s (group %d) stays with the host this boot: driver %s",
				    d->address, m->groups[g].id, d->driver[0] ? d->driver : "none");
			else if (strcmp(d->driver, "vfio-pci") == 0)
				add(c, AV_STATUS_OK, "driver", d->address, NULL,
				    "%s (group %d) is on vfio-pci", d->address, m->groups[g].id);
			else if (!d->driver[0])
				add(c, AV_STATUS_WARN, "driver", d->address, JOURNAL_HINT,
				    "%s (group %d) has no driver: a VM can take it, but the binder "
				    "did not bind it",
				    d->address, m->groups[g].id);
			else
				add(c, AV_STATUS_PROBLEM, "driver", d->address,
				    "make sure the initramfs carries the binder (update-initramfs "
				    "-u), "
				    "then " JOURNAL_HINT,
				    "%s (group %d) is driven by %s, not vfio-pci", d->address,
				    m->groups[g].id, d->driver);
			if (vm && d->gpu)
				check_framebuffer(c, d);
			check_reset(c, d);
		}
	}
}

int av_status_collect(const struct av_ctx *ctx, const struct av_machine *m, struct av_status *st)
{
	struct coll c = {.ctx = ctx, .m = m, .st = st};
	struct av_kconfig kc;
	bool have_kc = false;
	char cpu[32];
	struct av_kernel *kernels;
	struct av_bootchain bc;
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
	cpu_vendor(ctx, cpu, sizeof(cpu));
	if (av_kernel_release(ctx, st->release, sizeof(st->release)) < 0)
		st->release[0] = '\0';
	check_cmdline(&c);
	check_iommu(&c, cpu);
	check_config(&c);
	check_selection(&c);

	if (st->release[0]) {
		err = av_kconfig_load(ctx, st->release, &kc);
		have_kc = err == 0;
		if (have_kc)
			check_kconfig(&c, &kc, cpu);
		else
			add(&c, AV_STATUS_INFO, "kconfig", st->release, NULL,
			    "no configuration for kernel %s (/boot/config-%s, /proc/config.gz)",
			    st->release, st->release);
	} else {
		add(&c, AV_STATUS_INFO, "kconfig", "", NULL,
		    "the running kernel's release is unknown (no %s/proc/sys/kernel/osrelease)",
		    ctx->root);
	}
	check_vfio_module(&c, have_kc ? &kc : NULL);
	if (have_kc)
		av_kconfig_release(&kc);

	av_bootchain_detect(ctx, &bc);
	add(&c,
	    bc.gen == AV_GEN_UNKNOWN || bc.loader == AV_LOADER_UNKNOWN ||
		    bc.loader == AV_LOADER_AMBIGUOUS
		? AV_STATUS_WARN
		: AV_STATUS_INFO,
	    "bootchain", "", NULL, "initramfs by %s (%s), boot loader %s (%s)", av_gen_name(bc.gen),
	    bc.gen_why, av_loader_name(bc.loader), bc.loader_why);
	if (bc.loader == AV_LOADER_BLS && st->configured)
		check_bls(&c, &st->cfg);
	nk = av_kernels_find(ctx, &kernels);
	if (nk < 0)
		nk = 0; /* no /boot: said below as "no kernels" */
	if (!st->configured || st->cfg.mode == AV_MODE_NONE)
		add(&c, AV_STATUS_INFO, "initramfs", "", NULL,
		    "initramfs images not checked: nothing is configured to pass through");
	else if (nk == 0)
		add(&c, AV_STATUS_INFO, "initramfs", "", NULL,
		    "no kernels (vmlinuz-*) under %s/boot", ctx->root);
	else
		for (int i = 0; i < nk; i++)
			check_initramfs(&c, bc.gen, kernels[i].version);
	av_kernels_free(kernels, (size_t)nk);

	check_groups(&c);
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
