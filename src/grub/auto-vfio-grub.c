// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio-grub: the GRUB menu entries of multi-boot mode, run by
 * /etc/grub.d/42_auto-vfio during update-grub. For each kernel (ordered as
 * 10_linux orders them) one entry per selected GPU the host can keep, with
 * every other selected group on auto_vfio.bind=, plus one headless entry.
 * Each entry boots exactly as 10_linux's advanced entry for that kernel:
 * its body is copied from 10_linux's part of the grub.cfg being written when
 * there is one, and built the way the installed 10_linux builds it otherwise.
 * Only the IOMMU parameters and one auto_vfio.bind= are added, and
 * AV_BOOTFB_PARAM where the entry passes the boot VGA device.
 *
 * Ids: the newest kernel's entries are auto-vfio-host-<DDDD:BB:DD.F> and
 * auto-vfio-headless, so GRUB_DEFAULT or a saved default survives kernel
 * upgrades; older kernels' carry the version, inside submenu auto-vfio-older.
 *
 * grub-mkconfig runs generators under set -e: whatever is wrong (no config,
 * no kernels, no IOMMU) this program warns on stderr and exits 0, and it
 * prints nothing until the whole menu is built, so no half entry escapes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auto-vfio-grub.h"
#include "cmdline.h"
#include "config.h"
#include "fileops.h"
#include "grubemit.h"
#include "pciclass.h"
#include "safety.h"

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

/* GRUB_DISABLE_SUBMENU: 10_linux takes y, yes and true alike. */
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

/*
 * Was @addr the boot VGA device when the last grub.cfg @last was written?
 * Its entry keeping @addr was then the one without AV_BOOTFB_PARAM while
 * others carried it: that parameter goes only where the boot GPU is passed.
 */
static bool last_boot_vga(const char *last, const char *addr)
{
	char id[64];
	const char *p, *line, *eol;

	if (!strstr(last, " " AV_BOOTFB_PARAM))
		return false;
	snprintf(id, sizeof(id), "-host-%s' {", addr);
	p = strstr(last, id);
	line = p ? strstr(p, "\tlinux\t") : NULL;
	if (!line)
		return false;
	eol = strchr(line, '\n');
	p = strstr(line, " " AV_BOOTFB_PARAM);
	return !p || (eol && p > eol);
}

/*
 * A GPU the host kept in the last grub.cfg (@data: that file) has an entry id
 * naming it; the boot VGA device's entry is the one without AV_BOOTFB_PARAM.
 */
static bool was_host(void *data, const char *address, bool *boot_vga)
{
	const struct av_file *last = data;
	char id[64];

	*boot_vga = last->exists && last_boot_vga(last->data, address);
	if (!last->exists)
		return false;
	snprintf(id, sizeof(id), "-host-%s' {", address);
	return strstr(last->data, id) != NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " [OPTIONS]\n"
		   "Print the GRUB menu entries of auto-vfio's multi-boot mode (run by\n"
		   "/etc/grub.d/42_auto-vfio during update-grub).\n"
		   "\n"
		   "  --root DIR         the machine under DIR (default: $" AV_ROOT_ENV " or /)\n"
		   "  --pci-ids FILE     device names from FILE\n"
		   "  --menu FILE        the grub.cfg being written: entry bodies are copied\n"
		   "                     from 10_linux's advanced entries in it\n"
		   "  --linux-gen FILE   the installed 10_linux (its build switches)\n"
		   "  --boot-dir PATH    /boot as GRUB sees it on its filesystem (default /boot)\n"
		   "  --prologue TEXT    GRUB script that gives access to that filesystem\n"
		   "  --linux-root DEV   value of root= (as 10_linux computes it)\n"
		   "  --efi              booted through EFI (prefer vmlinuz-*.efi.signed)\n"
		   "  -v, --verbose      say more\n"
		   "  -h, --help         this help\n"
		   "\n"
		   "Reads GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT, GRUB_DISTRIBUTOR,\n"
		   "GRUB_DISABLE_SUBMENU, GRUB_SAVEDEFAULT, GRUB_GFXPAYLOAD_LINUX,\n"
		   "GRUB_EARLY_INITRD_LINUX_STOCK, GRUB_EARLY_INITRD_LINUX_CUSTOM and\n"
		   "GRUB_TOP_LEVEL from the environment, as grub-mkconfig exports them.\n"
		   "Always exits 0 unless out of memory or misused: a failing generator\n"
		   "would break update-grub.\n");
}

/*
 * Nothing to add, and why: a comment in grub.cfg, a warning for the admin
 * (the shim prints a comment-only output without grub-script-check).
 */
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
	    {"menu", required_argument, NULL, 'm'},
	    {"linux-gen", required_argument, NULL, 'g'},
	    {"boot-dir", required_argument, NULL, 'b'},
	    {"prologue", required_argument, NULL, 'p'},
	    {"linux-root", required_argument, NULL, 'l'},
	    {"efi", no_argument, NULL, 'e'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.boot_dir = "/boot"};
	struct grubenv env = {0};
	struct av_ctx ctx;
	struct av_config cfg;
	struct av_load_opts lo = {0};
	struct av_machine *m = NULL, *live = NULL;
	struct av_kernel *k = NULL;
	struct av_resolved sel;
	struct av_entry *entries = NULL;
	char params[1024];
	struct emitter e = {0};
	char *menu = NULL, *sofar = NULL, note[256];
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
		case 'm':
			o.menu = optarg;
			break;
		case 'g':
			o.linux_gen = optarg;
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
		case 'e':
			o.efi = true;
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
	env.top_level = env_or("GRUB_TOP_LEVEL", "");
	env.disable_submenu = env_true("GRUB_DISABLE_SUBMENU");
	/* save_default_entry: exactly "true", nothing else */
	env.savedefault = strcmp(env_or("GRUB_SAVEDEFAULT", ""), "true") == 0;
	linux_read_gen(o.linux_gen, &env);
	{
		static char early[2048];

		snprintf(early, sizeof(early), "%s %s", env_or("GRUB_EARLY_INITRD_LINUX_STOCK", ""),
			 env_or("GRUB_EARLY_INITRD_LINUX_CUSTOM", ""));
		env.early = early;
	}
	if (o.menu && o.linux_gen && (sofar = grub_slurp(o.menu))) {
		int nb = linux_read_bodies(sofar, o.linux_gen, &e.bodies);

		if (nb == -ENOMEM)
			goto oom;
		e.nbodies = (size_t)nb;
	}

	nk = av_kernels_find(&ctx, &k);
	if (nk == -ENOMEM)
		goto oom;
	nk = with_initrd(&ctx, k, nk);
	if (nk <= 0) {
		ret = nothing(&ctx, "no kernel with an initramfs in /boot");
		goto out;
	}

	lo.pci_ids = o.pci_ids;
	err = av_machine_load(&ctx, &lo, &live);
	if (err == -ENOMEM)
		goto oom;
	if (err == 0 && live->iommu) {
		m = live;
		live = NULL;
		if (av_analyze(&ctx, m) < 0)
			goto oom;
	} else {
		/* no live model: the entries come from the config alone */
		snprintf(note, sizeof(note),
			 "no live IOMMU groups (%s): entries built from " AV_CONFIG_PATH
			 " alone; the binder checks each device at boot",
			 err < 0 ? "no PCI devices under /sys" : "IOMMU off or not visible");
		e.note = note;
		fprintf(stderr, "%s: %s\n", PROG, note);
		struct av_file last = {0};

		if (av_file_read(&ctx, "/boot/grub/grub.cfg", &last) == -ENOMEM)
			goto oom;
		err = av_select_config_machine(&cfg, live, was_host, &last, &m);
		av_file_release(&last);
		if (err < 0)
			goto oom;
	}
	err = av_select(&ctx, m, &cfg, AV_SELECT_LENIENT, &sel);
	if (err < 0)
		goto oom;
	if (!sel.nunits) {
		ret = nothing(&ctx, "no selected device can be passed through");
		goto out;
	}
	entries = calloc(sel.nunits + 1, sizeof(*entries));
	if (!entries)
		goto oom;
	e.entries = entries;
	e.nentries = av_entries(m, &sel, entries);
	{
		char have[4096];

		snprintf(have, sizeof(have), "%s %s", env.cmdline_linux, env.cmdline_default);
		av_entry_iommu_params(&ctx, &cfg, have, params, sizeof(params));
		e.params = params;
	}

	/* as 10_linux names and classes its entries */
	if (env.distributor[0] && strcmp(env.distributor, "Ubuntu") &&
	    strcmp(env.distributor, "Kubuntu"))
		snprintf(os, sizeof(os), "%s GNU/Linux", env.distributor);
	else
		snprintf(os, sizeof(os), "%s", env.distributor[0] ? env.distributor : "GNU/Linux");
	av_grub_class_name(env.distributor, distclass, sizeof(distclass));
	if (env.distributor[0])
		classes[keep++] = distclass;
	classes[keep++] = "gnu-linux";
	classes[keep++] = "gnu";
	classes[keep++] = "os";

	e.ctx = &ctx;
	e.o = &o;
	e.env = &env;
	e.m = m;
	e.os = os;
	e.classes = classes;
	snprintf(e.boot, sizeof(e.boot), "%s", o.boot_dir);
	while (e.boot[0] && e.boot[strlen(e.boot) - 1] == '/')
		e.boot[strlen(e.boot) - 1] = '\0';
	menu_kernel_order(&e, k, (size_t)nk);
	if (o.menu) {
		/* the shim computed no device access: a body comes from 10_linux or not at all */
		int kept = 0;

		for (int i = 0; i < nk; i++) {
			if (linux_body_of(e.bodies, e.nbodies, k[i].version)) {
				k[kept++] = k[i];
				continue;
			}
			av_warn(&ctx, "10_linux wrote no entry for %s; no auto-vfio entries for it",
				k[i].version);
			av_kernels_free_one(&k[i]);
		}
		nk = kept;
		if (!nk) {
			ret = nothing(&ctx, "10_linux wrote no entry for any kernel");
			goto out;
		}
	}
	e.f = open_memstream(&menu, &menulen);
	if (!e.f)
		goto oom;
	err = menu_emit(&e, k, (size_t)nk);
	if (fclose(e.f) != 0 || err < 0)
		goto oom;
	/* all or nothing: grub.cfg never gets half a menu */
	fwrite(menu, 1, menulen, stdout);
	fprintf(stderr, "auto-vfio: %zu VFIO entries for each of %d kernel%s%s\n", e.nentries, nk,
		nk == 1 ? "" : "s", e.nbodies ? " (bodies from 10_linux's entries)" : "");
	goto out;
oom:
	fprintf(stderr, "%s: out of memory\n", PROG);
	ret = 1;
out:
	free(menu);
	free(sofar);
	linux_bodies_free(e.bodies, e.nbodies);
	free(entries);
	av_machine_free(m);
	av_machine_free(live);
	av_kernels_free(k, nk > 0 ? (size_t)nk : 0);
	return ret;
}
