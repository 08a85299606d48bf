// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio-grub: the GRUB menu entries of multi-boot mode, run by
 * /etc/grub.d/42_auto-vfio during update-grub. For each kernel (ordered as
 * 10_linux orders them) one entry per selected GPU the host can keep, with
 * every other selected group on auto_vfio.bind=, plus one headless entry.
 *
 * grub-mkconfig runs generators under set -e: whatever is wrong (no config,
 * no kernels, no IOMMU) this program warns on stderr and exits 0, and it
 * prints nothing until the whole menu is built, so no half entry escapes.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmdline.h"
#include "config.h"
#include "grubemit.h"
#include "kernels.h"
#include "machine.h"
#include "pciclass.h"
#include "safety.h"

#define PROG "auto-vfio-grub"

struct opts {
	const char *root;
	const char *pci_ids;
	const char *boot_dir;	/* /boot as GRUB sees it on its filesystem */
	const char *prologue;	/* GRUB script that makes that filesystem $root */
	const char *linux_root; /* value of root= */
	bool verbose;
};

/* grub-mkconfig's exported settings this generator honours. */
struct grubenv {
	const char *cmdline_linux, *cmdline_default;
	const char *distributor;
	const char *gfxpayload;
	bool disable_submenu;
	bool savedefault;
};

/* A set of IOMMU groups that go to a VM together (a selection's closure). */
struct unit {
	size_t ngroups;
	size_t *groups;
	size_t nvga;
	size_t *vga; /* VGA devices in the unit, address order */
};

struct plan {
	size_t nunits;
	struct unit *units;
	size_t *rep; /* per group: the device named on the command line, or AV_NONE */
	char params[1024];
};

static void log_stderr(void *data, int prio, const char *fmt, va_list ap)
{
	(void)data;
	fprintf(stderr, "%s: %s", PROG,
		prio <= AV_LOG_ERR ? "error: " : (prio == AV_LOG_WARNING ? "warning: " : ""));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v ? v : fallback;
}

static bool env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcmp(v, "true") || !strcmp(v, "y") || !strcmp(v, "yes"));
}

/*
 * The binder lives in the initramfs: a kernel without one gets no entries.
 * Keeps the order; returns the new count (or @n when it is an error).
 */
static int with_initrd(const struct av_ctx *ctx, struct av_kernel *k, int n)
{
	int kept = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (k[i].initrd) {
			k[kept++] = k[i];
			continue;
		}
		av_warn(ctx, "%s/boot/%s: no initramfs, no auto-vfio entries for %s", ctx->root,
			k[i].image, k[i].version);
		av_kernels_free_one(&k[i]);
	}
	return kept;
}

/* ---- the plan: which groups each entry binds ---- */

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x)
		x = parent[x] = parent[parent[x]];
	return x;
}

/* Is group @g cleared for passthrough: safe, or overridden by force_unsafe? */
static bool group_allowed(const struct av_machine *m, const struct av_config *cfg, size_t g)
{
	const struct av_group *grp = &m->groups[g];

	if (grp->safe)
		return true;
	for (size_t i = 0; i < grp->ndevs; i++) {
		const struct av_dev *d = &m->devs[grp->devs[i]];
		struct av_sel sel = {d->addr, d->vendor, d->device};

		if (av_config_forced(cfg, &sel))
			return true;
	}
	return false;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nunits; i++) {
		free(p->units[i].groups);
		free(p->units[i].vga);
	}
	free(p->units);
	free(p->rep);
}

/* One selection: check it and merge its closure into the union-find. */
static int plan_select(const struct av_ctx *ctx, const struct av_machine *m,
		       const struct av_config *cfg, const struct av_sel *sel, size_t *parent,
		       bool *chosen, size_t *rep)
{
	char s[AV_SEL_LEN];
	size_t closure[64];
	const struct av_dev *d;
	int n;

	av_sel_format(sel, s);
	d = av_machine_find(m, &sel->addr);
	if (!d) {
		av_warn(ctx, "%s: selected device %s is not present; left out", AV_CONFIG_PATH, s);
		return 0;
	}
	if (d->vendor != sel->vendor || d->device != sel->device) {
		av_warn(ctx, "%s: device at %s is now %04x:%04x, not the selected %s; left out",
			AV_CONFIG_PATH, d->address, d->vendor, d->device, s);
		return 0;
	}
	if (d->group_idx == AV_NONE) {
		av_warn(ctx, "%s: %s is in no IOMMU group; left out", AV_CONFIG_PATH, s);
		return 0;
	}
	n = av_group_closure(m, d->group_idx, closure, sizeof(closure) / sizeof(closure[0]));
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		const struct av_group *g = &m->groups[closure[i]];

		if (!group_allowed(m, cfg, closure[i])) {
			av_warn(ctx,
				"%s: %s left out: IOMMU group %d is unsafe to pass through (%s); "
				"only a force_unsafe line for it would change that",
				AV_CONFIG_PATH, s, g->id,
				g->nreasons ? g->reasons[0] : "no reason recorded");
			return 0;
		}
	}
	if (rep[d->group_idx] == AV_NONE)
		rep[d->group_idx] = (size_t)(d - m->devs);
	for (int i = 0; i < n; i++) {
		chosen[closure[i]] = true;
		parent[uf_find(parent, closure[i])] = uf_find(parent, closure[0]);
	}
	return 0;
}

static int plan_build(const struct av_ctx *ctx, const struct av_machine *m,
		      const struct av_config *cfg, struct plan *p)
{
	size_t *parent = calloc(m->ngroups + 1, sizeof(*parent));
	bool *chosen = calloc(m->ngroups + 1, sizeof(*chosen));
	size_t *unit_of = calloc(m->ngroups + 1, sizeof(*unit_of));
	int err = -ENOMEM;

	memset(p, 0, sizeof(*p));
	p->rep = calloc(m->ngroups + 1, sizeof(*p->rep));
	p->units = calloc(m->ngroups + 1, sizeof(*p->units));
	if (!parent || !chosen || !unit_of || !p->rep || !p->units)
		goto out;
	for (size_t g = 0; g < m->ngroups; g++) {
		parent[g] = g;
		p->rep[g] = AV_NONE;
		unit_of[g] = AV_NONE;
	}
	for (size_t i = 0; i < cfg->nselect; i++) {
		err = plan_select(ctx, m, cfg, &cfg->select[i], parent, chosen, p->rep);
		if (err < 0)
			goto out;
	}
	/* Units in group order, which is close to address order. */
	for (size_t g = 0; g < m->ngroups; g++) {
		size_t r, u;
		struct unit *un;

		if (!chosen[g])
			continue;
		r = uf_find(parent, g);
		if (unit_of[r] == AV_NONE)
			unit_of[r] = p->nunits++;
		u = unit_of[r];
		un = &p->units[u];
		if (!un->groups && !(un->groups = calloc(m->ngroups, sizeof(size_t))))
			goto nomem;
		if (!un->vga && !(un->vga = calloc(m->ndevs + 1, sizeof(size_t))))
			goto nomem;
		un->groups[un->ngroups++] = g;
		for (size_t i = 0; i < m->groups[g].ndevs; i++) {
			size_t di = m->groups[g].devs[i];

			if (av_class_is_vga(m->devs[di].cls))
				un->vga[un->nvga++] = di;
		}
		if (p->rep[g] == AV_NONE) {
			/* any endpoint names the group; bridges cannot be bound */
			for (size_t i = 0; i < m->groups[g].ndevs; i++) {
				size_t di = m->groups[g].devs[i];

				if (!av_class_is_bridge(m->devs[di].cls)) {
					p->rep[g] = di;
					break;
				}
			}
		}
	}
	err = 0;
	goto out;
nomem:
	err = -ENOMEM;
out:
	free(parent);
	free(chosen);
	free(unit_of);
	if (err < 0)
		plan_free(p);
	return err;
}

static int addr_order(const void *a, const void *b, void *m)
{
	const struct av_machine *mm = m;

	return av_pci_addr_cmp(&mm->devs[*(const size_t *)a].addr,
			       &mm->devs[*(const size_t *)b].addr);
}

/* The bind token for an entry that keeps unit @keep (AV_NONE: headless). "" when none. */
static int bind_token(const struct av_machine *m, const struct plan *p, size_t keep, char **out)
{
	size_t *devs = calloc(m->ngroups + 1, sizeof(*devs));
	size_t n = 0, size = 0;
	char *buf = NULL;
	FILE *f;

	*out = NULL;
	if (!devs)
		return -ENOMEM;
	for (size_t u = 0; u < p->nunits; u++) {
		if (u == keep)
			continue;
		for (size_t i = 0; i < p->units[u].ngroups; i++) {
			size_t g = p->units[u].groups[i];

			if (p->rep[g] != AV_NONE)
				devs[n++] = p->rep[g];
		}
	}
	qsort_r(devs, n, sizeof(*devs), addr_order, (void *)m);
	f = open_memstream(&buf, &size);
	if (!f) {
		free(devs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct av_dev *d = &m->devs[devs[i]];
		struct av_sel sel = {d->addr, d->vendor, d->device};
		char s[AV_SEL_LEN];

		av_sel_format(&sel, s);
		fprintf(f, "%s%s", i ? "," : "auto_vfio.bind=", s);
	}
	free(devs);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

/* Does the entry that keeps unit @keep (AV_NONE: headless) pass the boot VGA device? */
static bool passes_boot_vga(const struct av_machine *m, const struct plan *p, size_t keep)
{
	for (size_t u = 0; u < p->nunits; u++)
		if (u != keep &&
		    av_machine_groups_take_boot_vga(m, p->units[u].groups, p->units[u].ngroups))
			return true;
	return false;
}

/* Does the word @w occur in the blank-separated @line? */
static bool has_word(const char *line, const char *w, size_t wlen)
{
	for (const char *p = line; *p;) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == wlen && strncmp(p, w, wlen) == 0)
			return true;
		p += len;
	}
	return false;
}

/* The config's IOMMU parameters minus amd_iommu=on and what the line already has. */
static void iommu_params(const struct av_ctx *ctx, const struct av_config *cfg,
			 const struct grubenv *env, char *out, size_t size)
{
	char have[4096];
	size_t len = 0;

	snprintf(have, sizeof(have), "%s %s", env->cmdline_linux, env->cmdline_default);
	out[0] = '\0';
	for (const char *p = cfg->iommu_params; *p;) {
		size_t wlen;

		p += strspn(p, " \t");
		wlen = strcspn(p, " \t");
		if (!wlen)
			break;
		if (wlen == 12 && strncmp(p, "amd_iommu=on", 12) == 0) {
			av_warn(ctx,
				"%s: iommu_params: amd_iommu=on is not a valid value (the AMD "
				"IOMMU is on by default); left out",
				AV_CONFIG_PATH);
		} else if (!has_word(have, p, wlen) && !has_word(out, p, wlen) &&
			   len + wlen + 2 < size) {
			len += (size_t)snprintf(out + len, size - len, "%s%.*s", len ? " " : "",
						(int)wlen, p);
		}
		p += wlen;
	}
}

/* ---- emission ---- */

struct emitter {
	FILE *f;
	const struct opts *o;
	const struct grubenv *env;
	const struct av_machine *m;
	const struct plan *p;
	const char *os;
	const char *const *classes;
	char boot[PATH_MAX]; /* GRUB path of /boot, no trailing slash */
};

static void sanitize_line(const char *in, char *out, size_t size)
{
	/* the user's own parameters, passed as 10_linux passes them, minus line breaks */
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = (unsigned char)in[i] < 0x20 ? ' ' : in[i];
	out[i] = '\0';
}

static int emit_entry(struct emitter *e, int indent, const struct av_kernel *k, size_t keep)
{
	const struct av_machine *m = e->m;
	const struct unit *ku = keep == AV_NONE ? NULL : &e->p->units[keep];
	char title[2048], id[256], user[4096];
	char *bind = NULL;
	size_t tl;
	int err;

	tl = (size_t)snprintf(title, sizeof(title), "%s, with Linux %s (auto-vfio: ", e->os,
			      k->version);
	if (ku) {
		tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "host keeps ");
		for (size_t i = 0; i < ku->nvga && tl < sizeof(title); i++) {
			const struct av_dev *d = &m->devs[ku->vga[i]];

			tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "%s%s %s at %s",
					       i ? " and " : "", d->vendor_name, d->device_name,
					       d->address);
		}
		snprintf(id, sizeof(id), "auto-vfio-%s-host-%s", k->version,
			 m->devs[ku->vga[0]].address);
	} else {
		bool any_vga = false;

		for (size_t u = 0; u < e->p->nunits; u++)
			any_vga |= e->p->units[u].nvga > 0;
		tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "%s",
				       any_vga ? "headless host, every selected GPU to VMs"
					       : "selected devices to VMs");
		snprintf(id, sizeof(id), "auto-vfio-%s-headless", k->version);
	}
	if (tl < sizeof(title) - 1)
		strcat(title, ")");

	err = bind_token(m, e->p, keep, &bind);
	if (err < 0)
		return err;

	av_grub_menuentry_begin(e->f, indent, &(struct av_grub_entry){title, id, e->classes});
	if (e->env->savedefault)
		av_grub_block(e->f, indent + 1, "savedefault");
	if (strcmp(e->env->gfxpayload, "text") != 0)
		av_grub_block(e->f, indent + 1, "load_video");
	if (e->env->gfxpayload[0])
		av_grub_block(e->f, indent + 1, "gfxmode $linux_gfx_mode");
	av_grub_block(e->f, indent + 1,
		      "insmod gzio\n"
		      "if [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi");
	if (e->o->prologue)
		av_grub_block(e->f, indent + 1, e->o->prologue);
	/* the messages 10_linux prints, so both kinds of entry look alike */
	snprintf(user, sizeof(user), "Loading Linux %s ...", k->version);
	av_grub_echo(e->f, indent + 1, user);

	for (int i = 0; i < indent + 1; i++)
		fputc('\t', e->f);
	fputs("linux\t", e->f);
	{
		char path[PATH_MAX + NAME_MAX + 2];

		snprintf(path, sizeof(path), "%s/%s", e->boot, k->image);
		av_grub_word(e->f, path);
	}
	if (e->o->linux_root && e->o->linux_root[0]) {
		fputs(" root=", e->f);
		sanitize_line(e->o->linux_root, user, sizeof(user));
		fputs(user, e->f);
	}
	fputs(" ro", e->f);
	snprintf(title, sizeof(title), "%s %s", e->env->cmdline_linux, e->env->cmdline_default);
	sanitize_line(title, user, sizeof(user));
	if (user[strspn(user, " ")])
		fprintf(e->f, " %s", user + strspn(user, " "));
	if (e->p->params[0])
		fprintf(e->f, " %s", e->p->params);
	if (bind[0])
		fprintf(e->f, " %s", bind);
	/* only a passed boot GPU loses the firmware console (README: Binding at boot) */
	if (bind[0] && passes_boot_vga(m, e->p, keep))
		fputs(" " AV_BOOTFB_PARAM, e->f);
	fputc('\n', e->f);
	av_grub_echo(e->f, indent + 1, "Loading initial ramdisk ...");
	for (int i = 0; i < indent + 1; i++)
		fputc('\t', e->f);
	fputs("initrd\t", e->f);
	{
		char path[PATH_MAX + NAME_MAX + 2];

		snprintf(path, sizeof(path), "%s/%s", e->boot, k->initrd);
		av_grub_word(e->f, path);
	}
	fputc('\n', e->f);
	err = av_grub_end(e->f, indent);
	free(bind);
	return err;
}

/* Every entry of one kernel: one per GPU unit the host can keep, then headless. */
static int emit_kernel(struct emitter *e, int indent, const struct av_kernel *k)
{
	int err = 0;

	for (size_t u = 0; u < e->p->nunits && !err; u++)
		if (e->p->units[u].nvga)
			err = emit_entry(e, indent, k, u);
	if (!err)
		err = emit_entry(e, indent, k, AV_NONE);
	return err;
}

static int emit_menu(struct emitter *e, const struct av_kernel *k, size_t nk)
{
	char title[512];
	int err;

	fprintf(e->f, "### auto-vfio: VFIO passthrough entries, see auto-vfio.conf(5) ###\n");
	err = emit_kernel(e, 0, &k[0]);
	if (err < 0 || nk < 2)
		return err;
	if (e->env->disable_submenu) {
		for (size_t i = 1; i < nk && !err; i++)
			err = emit_kernel(e, 0, &k[i]);
		return err;
	}
	snprintf(title, sizeof(title), "Advanced options for %s (auto-vfio, older kernels)", e->os);
	av_grub_submenu_begin(e->f, 0, title, "auto-vfio-older");
	for (size_t i = 1; i < nk && !err; i++)
		err = emit_kernel(e, 1, &k[i]);
	if (!err)
		err = av_grub_end(e->f, 0);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " [OPTIONS]\n"
		   "Print the GRUB menu entries of auto-vfio's multi-boot mode (run by\n"
		   "/etc/grub.d/42_auto-vfio during update-grub).\n"
		   "\n"
		   "  --root DIR         the machine under DIR (default: $" AV_ROOT_ENV " or /)\n"
		   "  --pci-ids FILE     device names from FILE\n"
		   "  --boot-dir PATH    /boot as GRUB sees it on its filesystem (default /boot)\n"
		   "  --prologue TEXT    GRUB script that gives access to that filesystem\n"
		   "  --linux-root DEV   value of root= (as 10_linux computes it)\n"
		   "  -v, --verbose      say more\n"
		   "  -h, --help         this help\n"
		   "\n"
		   "Reads GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT, GRUB_DISTRIBUTOR,\n"
		   "GRUB_DISABLE_SUBMENU, GRUB_SAVEDEFAULT and GRUB_GFXPAYLOAD_LINUX from the\n"
		   "environment, as grub-mkconfig exports them. Always exits 0 unless out of\n"
		   "memory or misused: a failing generator would break update-grub.\n");
}

/* Nothing to add, and why: a comment in grub.cfg, a warning for the admin. */
static int nothing(const struct av_ctx *ctx, const char *why)
{
	av_warn(ctx, "no auto-vfio boot entries: %s", why);
	printf("# auto-vfio: no entries (%s)\n", why);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"pci-ids", required_argument, NULL, 'i'},
	    {"boot-dir", required_argument, NULL, 'b'},
	    {"prologue", required_argument, NULL, 'p'},
	    {"linux-root", required_argument, NULL, 'l'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.boot_dir = "/boot"};
	struct grubenv env;
	struct av_ctx ctx;
	struct av_config cfg;
	struct av_load_opts lo = {0};
	struct av_machine *m = NULL;
	struct av_kernel *k = NULL;
	struct plan plan = {0};
	struct emitter e = {0};
	char *menu = NULL;
	size_t menulen = 0, keep = 0;
	char os[512], distclass[64];
	const char *classes[5] = {NULL};
	int c, nk = 0, err, ret = 0;

	while ((c = getopt_long(argc, argv, "vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.root = optarg;
			break;
		case 'i':
			o.pci_ids = optarg;
			break;
		case 'b':
			o.boot_dir = optarg;
			break;
		case 'p':
			o.prologue = optarg;
			break;
		case 'l':
			o.linux_root = optarg;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	err = av_ctx_init(&ctx, o.root);
	if (err < 0) {
		fprintf(stderr, "%s: warning: root %s: %s; no auto-vfio entries\n", PROG,
			o.root ? o.root : env_or(AV_ROOT_ENV, "/"), strerror(-err));
		return 0;
	}
	av_ctx_set_log(&ctx, log_stderr, NULL, o.verbose ? AV_LOG_INFO : AV_LOG_WARNING);

	err = av_config_load(&ctx, &cfg);
	if (err == -ENOENT)
		return nothing(&ctx, AV_CONFIG_PATH " does not exist; run 'auto-vfio setup'");
	if (err == -ENOMEM)
		goto oom;
	if (err < 0)
		return nothing(&ctx, AV_CONFIG_PATH " is unreadable or damaged (see above)");
	if (cfg.mode != AV_MODE_MULTIBOOT)
		return 0;

	env.cmdline_linux = env_or("GRUB_CMDLINE_LINUX", "");
	env.cmdline_default = env_or("GRUB_CMDLINE_LINUX_DEFAULT", "");
	env.distributor = env_or("GRUB_DISTRIBUTOR", "");
	env.gfxpayload = env_or("GRUB_GFXPAYLOAD_LINUX", "");
	env.disable_submenu = env_true("GRUB_DISABLE_SUBMENU");
	env.savedefault = env_true("GRUB_SAVEDEFAULT");

	nk = av_kernels_find(&ctx, &k);
	if (nk == -ENOMEM)
		goto oom;
	nk = with_initrd(&ctx, k, nk);
	if (nk <= 0) {
		ret = nothing(&ctx, "no kernel with an initramfs in /boot");
		goto out;
	}

	lo.pci_ids = o.pci_ids;
	err = av_machine_load(&ctx, &lo, &m);
	if (err == -ENOMEM)
		goto oom;
	if (err < 0) {
		ret = nothing(&ctx, "cannot read the PCI devices under /sys/bus/pci");
		goto out;
	}
	if (!m->iommu) {
		ret = nothing(&ctx, "no IOMMU groups (is the IOMMU on? see iommu_params)");
		goto out;
	}
	if (av_analyze(&ctx, m) < 0)
		goto oom;
	if (plan_build(&ctx, m, &cfg, &plan) < 0)
		goto oom;
	if (!plan.nunits) {
		ret = nothing(&ctx, "no selected device can be passed through");
		goto out;
	}
	iommu_params(&ctx, &cfg, &env, plan.params, sizeof(plan.params));

	/* as 10_linux names and classes its entries */
	if (env.distributor[0] && strcmp(env.distributor, "Ubuntu") &&
	    strcmp(env.distributor, "Kubuntu"))
		snprintf(os, sizeof(os), "%s GNU/Linux", env.distributor);
	else
		snprintf(os, sizeof(os), "%s", env.distributor[0] ? env.distributor : "GNU/Linux");
	av_grub_class_name(env.distributor, distclass, sizeof(distclass));
	if (distclass[0])
		classes[keep++] = distclass;
	classes[keep++] = "gnu-linux";
	classes[keep++] = "gnu";
	classes[keep++] = "os";

	e.o = &o;
	e.env = &env;
	e.m = m;
	e.p = &plan;
	e.os = os;
	e.classes = classes;
	snprintf(e.boot, sizeof(e.boot), "%s", o.boot_dir);
	while (e.boot[0] && e.boot[strlen(e.boot) - 1] == '/')
		e.boot[strlen(e.boot) - 1] = '\0';
	e.f = open_memstream(&menu, &menulen);
	if (!e.f)
		goto oom;
	err = emit_menu(&e, k, (size_t)nk);
	if (fclose(e.f) != 0 || err < 0)
		goto oom;
	/* all or nothing: grub.cfg never gets half a menu */
	fwrite(menu, 1, menulen, stdout);
	{
		size_t nent = 0;

		for (size_t u = 0; u < plan.nunits; u++)
			nent += plan.units[u].nvga ? 1 : 0;
		fprintf(stderr, "auto-vfio: %zu VFIO entries for each of %d kernel%s\n", nent + 1,
			nk, nk == 1 ? "" : "s");
	}
	goto out;
oom:
	fprintf(stderr, "%s: out of memory\n", PROG);
	ret = 1;
out:
	free(menu);
	plan_free(&plan);
	av_machine_free(m);
	av_kernels_free(k, nk > 0 ? (size_t)nk : 0);
	return ret;
}
