// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The manifest's format: entry lines, the strict load and the salvaging
 * one, and writing it back. The transaction that changes it is in
 * manifest-txn.c and manifest-restore.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "manifest-internal.h"

#define MANIFEST_VERSION 2

uint64_t av_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a: detects edits, not attacks */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

void av_manifest_saved_path(char *buf, size_t size, unsigned n)
{
	snprintf(buf, size, AV_STATE_DIR "/saved/%u", n);
}

void av_manifest_release(struct av_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].path);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

struct av_manifest_entry *av_manifest_find(const struct av_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].path, path) == 0)
			return &m->e[i];
	return NULL;
}

size_t av_manifest_files(const struct av_manifest *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += !m->e[i].dir;
	return n;
}

int av_manifest_add(struct av_manifest *m, const struct av_manifest_entry *src)
{
	struct av_manifest_entry *ne = realloc(m->e, (m->n + 1) * sizeof(*ne));

	if (!ne)
		return -ENOMEM;
	m->e = ne;
	ne = &m->e[m->n];
	*ne = *src;
	ne->path = strdup(src->path);
	if (!ne->path)
		return -ENOMEM;
	m->n++;
	if (src->saved >= m->next_saved)
		m->next_saved = src->saved + 1;
	return 0;
}

/*
 * Paths are written with no escaping: absolute, free of blanks, and made of
 * plain components (no "", ".", ".."), so none can climb out of the root.
 */
bool av_manifest_path_ok(const char *p)
{
	const char *c;

	if (p[0] != '/' || strlen(p) >= PATH_MAX)
		return false;
	for (c = p; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	for (c = p; *c; c = strchr(c, '/') ? strchr(c, '/') : c + strlen(c)) {
		size_t len;

		c++; /* past the '/' */
		len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

static bool under(const char *real, const char *dir)
{
	size_t n = strlen(dir);

	return strcmp(dir, "/") == 0 ||
	       (strncmp(real, dir, n) == 0 && (real[n] == '/' || real[n] == '\0'));
}

/*
 * The deepest existing directory above @path must resolve inside the root,
 * or inside what the root's top-level directory on the path resolves to: a
 * root may be composed of links at its top (etc -> /etc), but a symlinked
 * directory below would carry a write or a removal elsewhere. On refusal
 * @via names the directory that leads out.
 */
bool av_manifest_inside_root(const struct av_ctx *ctx, const char *path, char *via, size_t vsize)
{
	char root[PATH_MAX], full[PATH_MAX], real[PATH_MAX], top[PATH_MAX], rtop[PATH_MAX];
	size_t rlen;
	char *slash;
	struct stat st;

	if (av_ctx_is_real_root(ctx))
		return true;
	if (!realpath(ctx->root, root) || av_path(ctx, full, sizeof(full), "%s", path) < 0)
		return false;
	rlen = strlen(ctx->root);
	do {
		slash = strrchr(full + rlen, '/');
		if (!slash)
			return true; /* nothing of it exists: it is made inside the root */
		*slash = '\0';
	} while (full[rlen] && lstat(full, &st) < 0);
	if (!full[rlen])
		return true;
	snprintf(via, vsize, "%s", full + rlen);
	if (!realpath(full, real))
		return false;
	if (under(real, root))
		return true;
	snprintf(top, sizeof(top), "%s", full);
	slash = strchr(top + rlen + 1, '/');
	if (slash)
		*slash = '\0';
	return realpath(top, rtop) && under(real, rtop);
}

static bool parse_u64(const char *s, int base, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	n = strtoull(s, &end, base);
	if (errno || *end || n > max)
		return false;
	*v = n;
	return true;
}

/* One entry line into @e (path points into @line). 0, or -EINVAL with *why set. */
static int parse_line(char *line, struct av_manifest_entry *e, const char **why)
{
	char *tok[12], *save = NULL;
	size_t n = 0;
	uint64_t v[8];

	memset(e, 0, sizeof(*e));
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == 12) {
			*why = "too many fields";
			return -EINVAL;
		}
		tok[n++] = t;
	}
	*why = "not an entry";
	if (n < 3 || strcmp(tok[2], n == 3 || n == 4 || n == 5 ? "created" : "saved") != 0)
		return -EINVAL;
	e->path = tok[1];
	if (!av_manifest_path_ok(e->path)) {
		*why = "not a plain absolute path (no '.', '..', '//' or blanks)";
		return -EINVAL;
	}
	if (strcmp(tok[0], "dir") == 0 && n == 3) {
		e->created = e->dir = true;
		return 0;
	}
	*why = "bad fields";
	if (strcmp(tok[0], "file") != 0)
		return -EINVAL;
	if (n == 4 || n == 5) {
		/* file PATH created HASH [PREV] */
		e->created = true;
		if (!parse_u64(tok[3], 16, UINT64_MAX, &e->hash) ||
		    (n == 5 && !parse_u64(tok[4], 16, UINT64_MAX, &e->prev)))
			return -EINVAL;
		return 0;
	}
	/* file PATH saved HASH N MODE UID GID (version 1), or
	 * file PATH saved HASH PREV N MODE UID GID ORIGHASH ORIGLEN */
	if (n == 8) {
		if (!parse_u64(tok[3], 16, UINT64_MAX, &e->hash) ||
		    !parse_u64(tok[4], 10, UINT_MAX, &v[0]) ||
		    !parse_u64(tok[5], 8, 07777, &v[1]) ||
		    !parse_u64(tok[6], 10, UINT32_MAX - 1, &v[2]) ||
		    !parse_u64(tok[7], 10, UINT32_MAX - 1, &v[3]))
			return -EINVAL;
	} else if (n == 11) {
		if (!parse_u64(tok[3], 16, UINT64_MAX, &e->hash) ||
		    !parse_u64(tok[4], 16, UINT64_MAX, &e->prev) ||
		    !parse_u64(tok[5], 10, UINT_MAX, &v[0]) ||
		    !parse_u64(tok[6], 8, 07777, &v[1]) ||
		    !parse_u64(tok[7], 10, UINT32_MAX - 1, &v[2]) ||
		    !parse_u64(tok[8], 10, UINT32_MAX - 1, &v[3]) ||
		    !parse_u64(tok[9], 16, UINT64_MAX, &e->orig_hash) ||
		    !parse_u64(tok[10], 10, SIZE_MAX / 2, &v[4]))
			return -EINVAL;
		e->has_orig = true;
		e->orig_len = (size_t)v[4];
	} else {
		return -EINVAL;
	}
	if (v[0] == 0) {
		*why = "saved copy number 0";
		return -EINVAL;
	}
	e->saved = (unsigned)v[0];
	e->mode = (mode_t)v[1];
	e->uid = (uid_t)v[2];
	e->gid = (gid_t)v[3];
	return 0;
}

int av_manifest_read(const struct av_ctx *ctx, struct av_manifest *m, struct av_file *raw,
		     bool salvage)
{
	struct av_file f;
	char *p, *end;
	unsigned lineno = 0, version = 0;
	bool ended = false;
	int err = 0;

	memset(m, 0, sizeof(*m));
	m->next_saved = 1;
	err = av_file_read(ctx, AV_MANIFEST_PATH, &f);
	if (err < 0) {
		av_err(ctx, "%s%s: %s", ctx->root, AV_MANIFEST_PATH, strerror(-err));
		return err;
	}
	if (!f.exists)
		goto out;
	/* the bytes as read, for a rollback: parsing cuts the lines */
	if (raw) {
		*raw = f;
		raw->data = malloc(f.len + 1);
		if (!raw->data) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(raw->data, f.data, f.len + 1);
	}
	/* @lost: an entry is refused (salvage counts it), else the form is wrong */
#define PROBLEM(lost, fmt, ...)                                                                    \
	do {                                                                                       \
		av_log(ctx, salvage ? AV_LOG_WARNING : AV_LOG_ERR, "%s%s:%u: " fmt, ctx->root,     \
		       AV_MANIFEST_PATH, lineno, __VA_ARGS__);                                     \
		m->refused += lost;                                                                \
		if (!salvage)                                                                      \
			err = -EBADMSG;                                                            \
	} while (0)
	if (f.len == 0 || memchr(f.data, '\0', f.len)) {
		PROBLEM(f.len > 0, "%s", f.len ? "holds NUL bytes" : "is empty");
		goto out;
	}
	for (p = f.data; *p && !err; p = end + 1) {
		struct av_manifest_entry e;
		const char *why;
		char via[PATH_MAX];
		bool complete;

		lineno++;
		end = strchr(p, '\n');
		complete = end != NULL;
		if (!end)
			end = p + strlen(p) - 1; /* the loop stops at the NUL after it */
		else
			*end = '\0';
		if (!complete) {
			PROBLEM(true, "'%s': cut short (no end of line)", p);
			break;
		}
		if (p[0] == '#' || p[0] == '\0')
			continue;
		if (ended) {
			PROBLEM(true, "'%s' after the end line", p);
			continue;
		}
		if (strncmp(p, "version ", 8) == 0 && !version) {
			uint64_t v;

			if (!parse_u64(p + 8, 10, MANIFEST_VERSION, &v) || v == 0)
				PROBLEM(false, "unknown '%s'", p);
			else
				version = (unsigned)v;
			continue;
		}
		if (strcmp(p, "end") == 0) {
			ended = true;
			continue;
		}
		if (!version) {
			PROBLEM(false, "'%s' before the header (version line)", p);
			version = MANIFEST_VERSION; /* once */
			if (err)
				break;
		}
		{
			char *copy = strdup(p);

			if (!copy) {
				err = -ENOMEM;
				break;
			}
			if (parse_line(copy, &e, &why) < 0) {
				PROBLEM(true, "'%s': %s", p, why);
			} else if (!av_manifest_inside_root(ctx, e.path, via, sizeof(via))) {
				PROBLEM(true, "'%s': %s is a symlink that leaves %s", p, via,
					ctx->root);
			} else if (av_manifest_find(m, e.path)) {
				PROBLEM(true, "'%s': listed twice", p);
			} else {
				err = av_manifest_add(m, &e);
			}
			free(copy);
		}
	}
	if (!err && !version && lineno)
		PROBLEM(false, "%s", "no header (version line)");
	if (!err && version >= 2 && !ended)
		PROBLEM(false, "%s", "cut short: no end line");
#undef PROBLEM
out:
	av_file_release(&f);
	if (err < 0)
		av_manifest_release(m);
	return err;
}

int av_manifest_load(const struct av_ctx *ctx, struct av_manifest *m)
{
	return av_manifest_read(ctx, m, NULL, false);
}

int av_manifest_salvage(const struct av_ctx *ctx, struct av_manifest *m)
{
	return av_manifest_read(ctx, m, NULL, true);
}

int av_manifest_store(const struct av_ctx *ctx, const struct av_manifest *m)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# auto-vfio: files changed by 'auto-vfio setup'; 'auto-vfio uninstall'\n"
		"# restores them from saved/. Do not edit.\nversion %d\n",
		MANIFEST_VERSION);
	for (size_t i = 0; i < m->n; i++) {
		const struct av_manifest_entry *e = &m->e[i];

		if (e->dir)
			fprintf(f, "dir %s created\n", e->path);
		else if (e->created)
			fprintf(f, "file %s created %016" PRIx64 " %016" PRIx64 "\n", e->path,
				e->hash, e->prev);
		else
			fprintf(f,
				"file %s saved %016" PRIx64 " %016" PRIx64
				" %u %04o %u %u %016" PRIx64 " %zu\n",
				e->path, e->hash, e->prev, e->saved, (unsigned)e->mode,
				(unsigned)e->uid, (unsigned)e->gid, e->orig_hash, e->orig_len);
	}
	fputs("end\n", f);
	if (fclose(f) != 0)
		return -ENOMEM;
	return av_file_replace(ctx, AV_MANIFEST_PATH, buf, len, 0644, (uid_t)-1, (gid_t)-1);
}
