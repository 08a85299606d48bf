// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The body of an entry, as 10_linux's advanced entry for the same kernel
 * has it: copied from 10_linux's part of the grub.cfg being written, or
 * built the way the installed 10_linux builds it.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auto-vfio-grub.h"
#include "grubemit.h"

/* A whole file by its own path (not under the root prefix); NULL when unreadable. */
char *grub_slurp(const char *path)
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
void linux_read_gen(const char *path, struct grubenv *env)
{
	char *text = path ? grub_slurp(path) : NULL;

	if (!text)
		return;
	env->quick_boot = has_line(text, "quick_boot=\"1\"");
	env->gfxpayload_dynamic = has_line(text, "gfxpayload_dynamic=\"1\"");
	env->vt_handoff = has_line(text, "vt_handoff=\"1\"");
	env->gfxmode_defined = strstr(text, "function gfxmode") != NULL;
	env->top_level_known = strstr(text, "GRUB_TOP_LEVEL") != NULL;
	free(text);
}

void linux_bodies_free(struct body *b, size_t n)
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
int linux_read_bodies(const char *menu, const char *gen, struct body **out)
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
	linux_bodies_free(b, n);
	return -ENOMEM;
}

const struct body *linux_body_of(const struct body *b, size_t n, const char *version)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(b[i].version, version) == 0)
			return &b[i];
	return NULL;
}

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
char *linux_computed_body(const struct emitter *e, const struct av_kernel *k)
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
void linux_write_body(FILE *f, int ind, const char *text, const char *extra)
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
