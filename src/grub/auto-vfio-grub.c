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
#include "fileops.h"
#include "grubemit.h"
#include "kernels.h"
#include "machine.h"
#include "pciclass.h"
#include "safety.h"
#include "select.h"

#define PROG "auto-vfio-grub"

struct opts {
	const char *root;
	const char *pci_ids;
	const char *boot_dir;	/* /boot as GRUB sees it on its filesystem */
	const char *prologue;	/* GRUB script that makes that filesystem $root */
	const char *linux_root; /* value of root= */
	const char *linux_gen;	/* the installed 10_linux, when grub-mkconfig runs it */
	const char *menu;	/* the grub.cfg being written, 10_linux's part in it */
	bool efi;		/* booted through EFI: 10_linux prefers .efi.signed */
	bool verbose;
};

/* grub-mkconfig's exported settings this generator honours. */
struct grubenv {
	const char *cmdline_linux, *cmdline_default;
	const char *distributor;
	const char *gfxpayload;
	const char *early; /* GRUB_EARLY_INITRD_LINUX_STOCK and _CUSTOM */
	const char *top_level;
	bool disable_submenu;
	bool savedefault;
	/* what the installed 10_linux was built with (Ubuntu's switches) */
	bool quick_boot, gfxpayload_dynamic, vt_handoff;
	bool gfxmode_defined; /* 10_linux runs and defines function gfxmode */
	bool top_level_known; /* 10_linux follows GRUB_TOP_LEVEL (GRUB 2.12) */
};

/* 10_linux's advanced entry for one kernel, from the grub.cfg being written. */
struct body {
	char *version;
	char *text; /* the lines inside the braces, entry indentation removed */
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

/* GRUB_DISABLE_SUBMENU: 10_linux takes y, yes and true alike. */
static bool env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcmp(v, "true") || !strcmp(v, "y") || !strcmp(v, "yes"));
}

/* A whole file by its own path (not under the root prefix); NULL when unreadable. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL, chunk[8192];
	size_t len = 0, n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		char *nb = realloc(buf, len + n + 1);

		if (!nb) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = nb;
		memcpy(buf + len, chunk, n);
		len += n;
		buf[len] = '\0';
	}
	fclose(f);
	return buf ? buf : strdup("");
}

/* Does a line of @text start with @line (then end of line)? */
static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

/*
 * The switches Ubuntu's build of 10_linux is configured with are plain
 * assignments at its top (quick_boot="1"); Debian ships them as "0".
 */
static void read_linux_gen(const char *path, struct grubenv *env)
{
	char *text = path ? slurp(path) : NULL;

	if (!text)
		return;
	env->quick_boot = has_line(text, "quick_boot=\"1\"");
	env->gfxpayload_dynamic = has_line(text, "gfxpayload_dynamic=\"1\"");
	env->vt_handoff = has_line(text, "vt_handoff=\"1\"");
	env->gfxmode_defined = strstr(text, "function gfxmode") != NULL;
	env->top_level_known = strstr(text, "GRUB_TOP_LEVEL") != NULL;
	free(text);
}

static void bodies_free(struct body *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(b[i].version);
		free(b[i].text);
	}
	free(b);
}

/*
 * The lines of an entry whose header is at @ind tabs, from @p up to its
 * closing "}" at that indentation, with the entry's indentation removed.
 * Sets *next after the "}". Returns the text, NULL when unterminated (*next
 * is then NULL too) or out of memory.
 */
static char *entry_text(const char *p, const char *end, size_t ind, const char **next)
{
	char *text = malloc(1);
	size_t tl = 0;

	*next = NULL;
	if (!text)
		return NULL;
	text[0] = '\0';
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t tabs = strspn(p, "\t"), len, skip = tabs < ind + 1 ? tabs : ind + 1;
		char *nt;

		if (!eol)
			break;
		len = (size_t)(eol - p);
		if (tabs == ind && len == ind + 1 && p[ind] == '}') {
			*next = eol + 1;
			return text;
		}
		nt = realloc(text, tl + len - skip + 2);
		if (!nt)
			break;
		text = nt;
		memcpy(text + tl, p + skip, len - skip);
		tl += len - skip;
		text[tl++] = '\n';
		text[tl] = '\0';
		p = eol + 1;
	}
	free(text);
	return NULL;
}

/*
 * 10_linux's advanced entries (id gnulinux-VERSION-advanced-DEV) inside its
 * "### BEGIN <gen> ###" section of @menu, in its order. Returns the count,
 * 0 when there is no such section, or -ENOMEM.
 */
static int read_bodies(const char *menu, const char *gen, struct body **out)
{
	char begin[PATH_MAX + 32];
	const char *p, *end;
	struct body *b = NULL;
	size_t n = 0;

	*out = NULL;
	snprintf(begin, sizeof(begin), "### BEGIN %s ###\n", gen);
	p = strstr(menu, begin);
	if (!p)
		return 0;
	p += strlen(begin);
	end = strstr(p, "### END ");
	if (!end)
		end = p + strlen(p);
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ind = strspn(p, "\t");
		const char *id = NULL, *adv = NULL, *next;
		struct body *nb;
		char *text;

		if (!eol)
			break;
		if (strncmp(p + ind, "menuentry ", 10) == 0)
			id = strstr(p, "'gnulinux-");
		if (id && id < eol)
			adv = strstr(id, "-advanced-");
		if (!adv || adv > eol) {
			p = eol + 1;
			continue;
		}
		text = entry_text(eol + 1, end, ind, &next);
		if (!text) /* unterminated (or no memory): computed bodies then */
			break;
		nb = realloc(b, (n + 1) * sizeof(*b));
		if (!nb) {
			free(text);
			goto nomem;
		}
		b = nb;
		b[n].text = text;
		b[n].version = strndup(id + 10, (size_t)(adv - id - 10));
		if (!b[n++].version)
			goto nomem;
		p = next;
	}
	*out = b;
	return (int)n;
nomem:
	bodies_free(b, n);
	return -ENOMEM;
}

static const struct body *body_of(const struct body *b, size_t n, const char *version)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(b[i].version, version) == 0)
			return &b[i];
	return NULL;
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

/* ---- emission ---- */

struct emitter {
	FILE *f;
	const struct av_ctx *ctx;
	const struct opts *o;
	const struct grubenv *env;
	const struct av_machine *m;
	const struct av_entry *entries; /* what the library selected, in menu order */
	size_t nentries;
	const char *params; /* the IOMMU parameters every entry adds */
	const char *os;
	const char *const *classes;
	const char *note;    /* a comment for the top of our part of grub.cfg, or NULL */
	struct body *bodies; /* 10_linux's entries, when its output is at hand */
	size_t nbodies;
	char boot[PATH_MAX]; /* GRUB path of /boot, no trailing slash; "" for a /boot fs */
};

static void sanitize_line(const char *in, char *out, size_t size)
{
	/* the user's own parameters, passed as 10_linux passes them, minus line breaks */
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = (unsigned char)in[i] < 0x20 ? ' ' : in[i];
	out[i] = '\0';
}

static void tabs(FILE *f, int n)
{
	for (int i = 0; i < n; i++)
		fputc('\t', f);
}

static bool exists_in_boot(const struct av_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return av_path(ctx, path, sizeof(path), "/boot/%s", name) == 0 && stat(path, &st) == 0;
}

/* "${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}" as 10_linux builds it. */
static void linux_args(const struct grubenv *env, char *out, size_t size)
{
	char def[4096];
	size_t len = (size_t)snprintf(def, sizeof(def), "%s", env->cmdline_default);

	/* Ubuntu's vt_handoff build adds $vt_handoff once per "splash" word */
	for (const char *p = env->cmdline_default; env->vt_handoff && *p;) {
		size_t wl;

		p += strspn(p, " \t\n");
		wl = strcspn(p, " \t\n");
		if (wl == 6 && strncmp(p, "splash", 6) == 0 && len + 14 < sizeof(def))
			len += (size_t)snprintf(def + len, sizeof(def) - len, " $vt_handoff");
		p += wl;
	}
	snprintf(out, size, "%s %s", env->cmdline_linux, def);
}

/*
 * The body 10_linux's linux_entry() writes for an advanced entry of @k, in
 * its order, into a malloc'd string; NULL when out of memory.
 */
static char *computed_body(const struct emitter *e, const struct av_kernel *k)
{
	const struct grubenv *env = e->env;
	char *buf = NULL, args[8192], clean[8192], image[NAME_MAX + 16];
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	if (env->quick_boot)
		fputs("recordfail\n", f);
	if (env->savedefault)
		fputs("savedefault\n", f);
	if (strcmp(env->gfxpayload, "text") != 0)
		fputs("load_video\n", f);
	if (env->gfxmode_defined && (env->gfxpayload[0] || env->gfxpayload_dynamic))
		fputs("gfxmode $linux_gfx_mode\n", f);
	fputs("insmod gzio\n"
	      "if [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi\n",
	      f);
	if (e->o->prologue)
		av_grub_block(f, 0, e->o->prologue);
	snprintf(clean, sizeof(clean), "Loading Linux %s ...", k->version);
	av_grub_echo(f, 0, clean);

	snprintf(image, sizeof(image), "%s.efi.signed", k->image);
	if (!e->o->efi || !exists_in_boot(e->ctx, image))
		snprintf(image, sizeof(image), "%s", k->image);
	fputs("linux\t", f);
	snprintf(clean, sizeof(clean), "%s/%s", e->boot, image);
	av_grub_word(f, clean);
	sanitize_line(e->o->linux_root ? e->o->linux_root : "", clean, sizeof(clean));
	linux_args(env, args, sizeof(args));
	fprintf(f, " root=%s ro ", clean);
	sanitize_line(args, clean, sizeof(clean));
	fprintf(f, "%s\n", clean);

	av_grub_echo(f, 0, "Loading initial ramdisk ...");
	fputs("initrd\t", f);
	/* early images (microcode) that exist in /boot come first, as 10_linux has them */
	for (const char *p = env->early; *p;) {
		size_t wl;

		p += strspn(p, " \t\n");
		wl = strcspn(p, " \t\n");
		if (wl && wl < sizeof(image)) {
			snprintf(image, sizeof(image), "%.*s", (int)wl, p);
			if (exists_in_boot(e->ctx, image)) {
				snprintf(clean, sizeof(clean), "%s/%s", e->boot, image);
				av_grub_word(f, clean);
				fputc(' ', f);
			}
		}
		p += wl;
	}
	snprintf(clean, sizeof(clean), "%s/%s", e->boot, k->initrd);
	av_grub_word(f, clean);
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Write @text line by line at @ind tabs; @extra goes at the end of the linux line. */
static void write_body(FILE *f, int ind, const char *text, const char *extra)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len) {
			tabs(f, ind);
			fwrite(p, 1, len, f);
			if (extra[0] && strncmp(p, "linux\t", 6) == 0)
				fputs(extra, f);
		}
		fputc('\n', f);
		p += len + (nl ? 1 : 0);
	}
}

/*
 * One entry of one kernel. The newest kernel's ids carry no version, so a
 * saved default survives an upgrade.
 */
static int emit_entry(struct emitter *e, int indent, const struct av_kernel *k, bool newest,
		      const struct av_entry *en)
{
	const struct av_machine *m = e->m;
	const struct body *b = body_of(e->bodies, e->nbodies, k->version);
	char title[2048], id[256], ver[160] = "", *bind = NULL, *extra = NULL, *text = NULL;
	size_t tl;
	int err;

	if (!newest)
		snprintf(ver, sizeof(ver), "%s-", k->version);
	tl = (size_t)snprintf(title, sizeof(title), "%s, with Linux %s (auto-vfio: ", e->os,
			      k->version);
	if (en->keep != AV_NONE) {
		tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "host keeps ");
		for (size_t i = 0; i < en->nvga && tl < sizeof(title); i++) {
			const struct av_dev *d = &m->devs[en->vga[i]];

			tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "%s%s %s at %s",
					       i ? " and " : "", d->vendor_name, d->device_name,
					       d->address);
		}
	} else {
		tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "%s",
				       e->nentries > 1 ? "headless host, every selected GPU to VMs"
						       : "selected devices to VMs");
	}
	if (tl < sizeof(title) - 1)
		strcat(title, ")");
	snprintf(id, sizeof(id), AV_ENTRY_ID_PREFIX "%s%s", ver, en->id);

	err = av_entry_bind_param(m, en, &bind);
	if (err < 0)
		return err;
	err = -ENOMEM;
	/* only a passed boot GPU loses the firmware console (README: Binding at boot) */
	if (asprintf(&extra, "%s%s%s%s%s", e->params[0] ? " " : "", e->params, bind[0] ? " " : "",
		     bind, en->bootfb ? " " AV_BOOTFB_PARAM : "") < 0) {
		extra = NULL;
		goto out;
	}
	text = b ? strdup(b->text) : computed_body(e, k);
	if (!text)
		goto out;
	av_grub_menuentry_begin(e->f, indent, &(struct av_grub_entry){title, id, e->classes});
	write_body(e->f, indent + 1, text, extra);
	err = av_grub_end(e->f, indent);
out:
	free(text);
	free(extra);
	free(bind);
	return err;
}

/* Every entry of one kernel: one per GPU unit the host can keep, then headless. */
static int emit_kernel(struct emitter *e, int indent, const struct av_kernel *k, bool newest)
{
	int err = 0;

	for (size_t i = 0; i < e->nentries && !err; i++)
		err = emit_entry(e, indent, k, newest, &e->entries[i]);
	return err;
}

static int emit_menu(struct emitter *e, const struct av_kernel *k, size_t nk)
{
	char title[512];
	int err;

	fprintf(e->f, "### auto-vfio: VFIO passthrough entries, see auto-vfio.conf(5) ###\n");
	if (e->note)
		fprintf(e->f, "# auto-vfio: %s\n", e->note);
	err = emit_kernel(e, 0, &k[0], true);
	if (err < 0 || nk < 2)
		return err;
	if (e->env->disable_submenu) {
		for (size_t i = 1; i < nk && !err; i++)
			err = emit_kernel(e, 0, &k[i], false);
		return err;
	}
	snprintf(title, sizeof(title), "Advanced options for %s (auto-vfio, older kernels)", e->os);
	av_grub_submenu_begin(e->f, 0, title, AV_ENTRY_ID_PREFIX "older");
	for (size_t i = 1; i < nk && !err; i++)
		err = emit_kernel(e, 1, &k[i], false);
	if (!err)
		err = av_grub_end(e->f, 0);
	return err;
}

/*
 * Put the kernels in the order 10_linux put them in: its own entries when
 * they are at hand, else GRUB_TOP_LEVEL (a /boot/vmlinuz-* path) first when
 * the installed 10_linux honours it.
 */
static void kernel_order(const struct emitter *e, struct av_kernel *k, size_t nk)
{
	size_t front = 0;

	for (size_t i = 0; i < e->nbodies; i++)
		for (size_t j = front; j < nk; j++)
			if (strcmp(k[j].version, e->bodies[i].version) == 0) {
				struct av_kernel t = k[j];

				memmove(&k[front + 1], &k[front], (j - front) * sizeof(*k));
				k[front++] = t;
				break;
			}
	if (e->nbodies || !e->env->top_level_known || !e->env->top_level[0])
		return;
	for (size_t j = 0; j < nk; j++) {
		char path[NAME_MAX + 8];

		snprintf(path, sizeof(path), "/boot/%s", k[j].image);
		if (strcmp(path, e->env->top_level) == 0) {
			struct av_kernel t = k[j];

			memmove(&k[1], &k[0], j * sizeof(*k));
			k[0] = t;
			break;
		}
	}
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
	read_linux_gen(o.linux_gen, &env);
	{
		static char early[2048];

		snprintf(early, sizeof(early), "%s %s", env_or("GRUB_EARLY_INITRD_LINUX_STOCK", ""),
			 env_or("GRUB_EARLY_INITRD_LINUX_CUSTOM", ""));
		env.early = early;
	}
	if (o.menu && o.linux_gen && (sofar = slurp(o.menu))) {
		int nb = read_bodies(sofar, o.linux_gen, &e.bodies);

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
	kernel_order(&e, k, (size_t)nk);
	if (o.menu) {
		/* the shim computed no device access: a body comes from 10_linux or not at all */
		int kept = 0;

		for (int i = 0; i < nk; i++) {
			if (body_of(e.bodies, e.nbodies, k[i].version)) {
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
	err = emit_menu(&e, k, (size_t)nk);
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
	bodies_free(e.bodies, e.nbodies);
	free(entries);
	av_machine_free(m);
	av_machine_free(live);
	av_kernels_free(k, nk > 0 ? (size_t)nk : 0);
	return ret;
}
