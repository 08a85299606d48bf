// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "zram.h"

/* Is package @name installed according to dpkg's status file under the root? */
static bool dpkg_installed(const struct av_ctx *ctx, const char *name)
{
	struct av_file f;
	bool found = false, in_pkg = false;

	if (av_file_read(ctx, AV_DPKG_STATUS, &f) < 0 || !f.exists)
		return false;
	for (char *l = f.data, *next; l && *l != '\0' && !found; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		if (*l == '\0')
			in_pkg = false; /* stanzas end at a blank line */
		else if (strncmp(l, "Package: ", 9) == 0)
			in_pkg = strcmp(l + 9, name) == 0;
		else if (in_pkg && strncmp(l, "Status: ", 8) == 0)
			found = strcmp(l + 8, "install ok installed") == 0;
	}
	av_file_release(&f);
	return found;
}

enum av_zram_tool av_zram_detect(const struct av_ctx *ctx)
{
	if (dpkg_installed(ctx, "zram-tools"))
		return AV_ZRAM_TOOLS;
	if (dpkg_installed(ctx, "systemd-zram-generator"))
		return AV_ZRAM_GENERATOR;
	return AV_ZRAM_NONE;
}

const char *av_zram_conf_path(enum av_zram_tool tool)
{
	return tool == AV_ZRAM_GENERATOR ? AV_ZRAM_GENERATOR_CONF : AV_ZRAMSWAP_CONF;
}

const char *av_zram_service(enum av_zram_tool tool)
{
	return tool == AV_ZRAM_GENERATOR ? "systemd-zram-setup@zram0.service" : "zramswap.service";
}

const char *av_zram_package(enum av_zram_tool tool)
{
	return tool == AV_ZRAM_GENERATOR ? "systemd-zram-generator" : "zram-tools";
}

int av_zram_check(const struct av_ctx *ctx, const struct av_zram_opts *o)
{
	if (o->algo &&
	    (!o->algo[0] || strlen(o->algo) > 32 ||
	     strspn(o->algo, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(o->algo))) {
		av_err(ctx,
		       "compression algorithm '%s': use a kernel name such as zstd, lz4, lzo-rle",
		       o->algo);
		return -EINVAL;
	}
	if (o->percent > 100) {
		av_err(ctx, "zram size %u%%: use 1 to 100 percent of the memory", o->percent);
		return -EINVAL;
	}
	if (o->percent && o->size_mib) {
		av_err(ctx, "give the zram size as a percentage or in MiB, not both");
		return -EINVAL;
	}
	if (o->priority > 32767 || o->priority < -1) {
		av_err(ctx, "swap priority %d: use 0 to 32767", o->priority);
		return -EINVAL;
	}
	return 0;
}

struct lines {
	size_t n;
	char **v;
};

static int lines_split(const char *text, struct lines *ls)
{
	memset(ls, 0, sizeof(*ls));
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char **nv = realloc(ls->v, (ls->n + 1) * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		ls->v = nv;
		if (!(nv[ls->n] = strndup(p, len)))
			return -ENOMEM;
		ls->n++;
		p = eol ? eol + 1 : NULL;
	}
	return 0;
}

static int lines_set(struct lines *ls, size_t i, char *s)
{
	if (!s)
		return -ENOMEM;
	free(ls->v[i]);
	ls->v[i] = s;
	return 0;
}

static int lines_insert(struct lines *ls, size_t at, char *s)
{
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(ls->v, (ls->n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	ls->v = nv;
	memmove(nv + at + 1, nv + at, (ls->n - at) * sizeof(*nv));
	nv[at] = s;
	ls->n++;
	return 0;
}

static char *lines_join(struct lines *ls)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < ls->n; i++)
		fprintf(f, "%s\n", ls->v[i]);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void lines_free(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->v[i]);
	free(ls->v);
}

static char *xfmt(const char *fmt, const char *key, const char *val)
{
	char *s;

	return asprintf(&s, fmt, key, val) < 0 ? NULL : s;
}

/* Index of the line "KEY=" (or "#KEY=" when @commented) in a shell-style file, or -1. */
static long find_shell_key(const struct lines *ls, const char *key, bool commented)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < ls->n; i++) {
		const char *p = ls->v[i];

		p += strspn(p, " \t");
		if (commented) {
			if (*p != '#')
				continue;
			p++;
			p += strspn(p, " \t");
		}
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return (long)i;
	}
	return -1;
}

static int shell_set(struct lines *ls, const char *key, const char *val)
{
	long i = find_shell_key(ls, key, false);

	if (i < 0)
		i = find_shell_key(ls, key, true);
	if (i >= 0)
		return lines_set(ls, (size_t)i, xfmt("%s=%s", key, val));
	return lines_insert(ls, ls->n, xfmt("%s=%s", key, val));
}

static int edit_zramswap(struct lines *ls, const struct av_zram_opts *o)
{
	char num[32];
	int err = 0;

	if (o->algo)
		err = shell_set(ls, "ALGO", o->algo);
	if (!err && o->percent) {
		snprintf(num, sizeof(num), "%u", o->percent);
		err = shell_set(ls, "PERCENT", num);
	}
	if (!err && o->size_mib) {
		long i = find_shell_key(ls, "PERCENT", false);

		/* zramswap prefers PERCENT over SIZE */
		if (i >= 0)
			err = lines_set(ls, (size_t)i, xfmt("#%s%s", "", ls->v[i]));
		snprintf(num, sizeof(num), "%lu", o->size_mib);
		if (!err)
			err = shell_set(ls, "SIZE", num);
	}
	if (!err && o->priority >= 0) {
		snprintf(num, sizeof(num), "%d", o->priority);
		err = shell_set(ls, "PRIORITY", num);
	}
	return err;
}

/* Set @key in [zram0], the section starting at line @sec (its header). */
static int ini_set(struct lines *ls, size_t sec, const char *key, const char *val)
{
	size_t kl = strlen(key), end = ls->n;

	for (size_t i = sec + 1; i < ls->n; i++) {
		const char *p = ls->v[i] + strspn(ls->v[i], " \t");

		if (*p == '[') {
			end = i;
			break;
		}
		if (strncmp(p, key, kl) == 0 && (p[kl] == '=' || p[kl] == ' ' || p[kl] == '\t'))
			return lines_set(ls, i, xfmt("%s = %s", key, val));
	}
	/* after the section's last setting, before blank lines that end it */
	while (end > sec + 1 && ls->v[end - 1][strspn(ls->v[end - 1], " \t")] == '\0')
		end--;
	return lines_insert(ls, end, xfmt("%s = %s", key, val));
}

static int edit_generator(struct lines *ls, const struct av_zram_opts *o)
{
	long sec = -1;
	char num[64];
	int err = 0;

	for (size_t i = 0; i < ls->n && sec < 0; i++)
		if (strcmp(ls->v[i] + strspn(ls->v[i], " \t"), "[zram0]") == 0)
			sec = (long)i;
	if (sec < 0) {
		sec = (long)ls->n;
		err = lines_insert(ls, ls->n, strdup("[zram0]"));
	}
	if (!err && o->algo)
		err = ini_set(ls, (size_t)sec, "compression-algorithm", o->algo);
	if (!err && (o->percent || o->size_mib)) {
		/* zram-size is an expression in MiB over "ram" */
		if (o->percent)
			snprintf(num, sizeof(num), "ram * %u / 100", o->percent);
		else
			snprintf(num, sizeof(num), "%lu", o->size_mib);
		err = ini_set(ls, (size_t)sec, "zram-size", num);
	}
	if (!err && o->priority >= 0) {
		snprintf(num, sizeof(num), "%d", o->priority);
		err = ini_set(ls, (size_t)sec, "swap-priority", num);
	}
	return err;
}

char *av_zram_edit(enum av_zram_tool tool, const char *text, const struct av_zram_opts *o)
{
	struct lines ls;
	char *out = NULL;
	int err = lines_split(text ? text : "", &ls);

	if (!err)
		err = tool == AV_ZRAM_GENERATOR ? edit_generator(&ls, o) : edit_zramswap(&ls, o);
	if (!err)
		out = lines_join(&ls);
	lines_free(&ls);
	return out;
}
