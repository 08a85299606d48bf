// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"

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

static int add(struct av_manifest *m, const struct av_manifest_entry *src)
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
static bool path_ok(const char *p)
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
static bool inside_root(const struct av_ctx *ctx, const char *path, char *via, size_t vsize)
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
	if (!path_ok(e->path)) {
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

static int load(const struct av_ctx *ctx, struct av_manifest *m, struct av_file *raw, bool salvage)
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
			} else if (!inside_root(ctx, e.path, via, sizeof(via))) {
				PROBLEM(true, "'%s': %s is a symlink that leaves %s", p, via,
					ctx->root);
			} else if (av_manifest_find(m, e.path)) {
				PROBLEM(true, "'%s': listed twice", p);
			} else {
				err = add(m, &e);
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
	return load(ctx, m, NULL, false);
}

int av_manifest_salvage(const struct av_ctx *ctx, struct av_manifest *m)
{
	return load(ctx, m, NULL, true);
}

static int store(const struct av_ctx *ctx, struct av_fault *fault, const struct av_manifest *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

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
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	err = av_file_replace(ctx, fault, AV_MANIFEST_PATH, buf, len, 0644, (uid_t)-1, (gid_t)-1);
	free(buf);
	return err;
}

/* Record the directories above @abspath that do not exist yet, before anything makes them. */
static int note_dirs(const struct av_ctx *ctx, struct av_manifest *m, const char *abspath)
{
	char dir[PATH_MAX], full[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", abspath);
	/* each ancestor, top down: the first missing one and all below it are new */
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (av_path(ctx, full, sizeof(full), "%s", dir) < 0)
			return -ENAMETOOLONG;
		if (lstat(full, &st) < 0 && errno == ENOENT && !av_manifest_find(m, dir)) {
			struct av_manifest_entry e = {.path = dir, .created = true, .dir = true};
			int err = add(m, &e);

			if (err < 0)
				return err;
		}
		*p = '/';
	}
	return 0;
}

/* Remove the recorded directories that are empty now, deepest first. */
static void remove_dirs(const struct av_ctx *ctx, const struct av_manifest *m,
			const struct av_manifest *keep)
{
	for (size_t i = m->n; i-- > 0;) {
		char full[PATH_MAX];

		if (!m->e[i].dir || (keep && av_manifest_find(keep, m->e[i].path)) ||
		    av_path(ctx, full, sizeof(full), "%s", m->e[i].path) < 0)
			continue;
		/* not empty: someone keeps files there now, and so does the directory */
		rmdir(full);
	}
}

/* A file touched in this transaction, as it was at begin. */
struct touched {
	char *path;
	struct av_file before;
};

struct av_txn {
	const struct av_ctx *ctx;
	struct av_fault *fault;
	struct av_manifest m;
	struct av_manifest begin;
	struct av_file raw; /* the manifest's bytes at begin */
	bool *restored;	    /* per entry of m: given back, leaves at commit */
	size_t nflags;
	struct touched *t;
	size_t nt;
	bool dirty;
};

static void txn_free(struct av_txn *t)
{
	for (size_t i = 0; i < t->nt; i++) {
		free(t->t[i].path);
		av_file_release(&t->t[i].before);
	}
	free(t->t);
	free(t->restored);
	av_file_release(&t->raw);
	av_manifest_release(&t->m);
	av_manifest_release(&t->begin);
	free(t);
}

static int copy_manifest(struct av_manifest *dst, const struct av_manifest *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->n; i++)
		if (add(dst, &src->e[i]) < 0)
			return -ENOMEM;
	dst->next_saved = src->next_saved;
	return 0;
}

/* Keep the restored flags as long as the entries. */
static int sync_flags(struct av_txn *t)
{
	bool *r;

	if (t->nflags >= t->m.n)
		return 0;
	r = realloc(t->restored, t->m.n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r + t->nflags, 0, (t->m.n - t->nflags) * sizeof(*r));
	t->restored = r;
	t->nflags = t->m.n;
	return 0;
}

int av_txn_begin(const struct av_ctx *ctx, struct av_fault *fault, unsigned flags,
		 struct av_txn **out)
{
	struct av_txn *t = calloc(1, sizeof(*t));
	int err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->ctx = ctx;
	t->fault = fault;
	err = load(ctx, &t->m, &t->raw, flags & AV_TXN_SALVAGE);
	if (!err)
		err = copy_manifest(&t->begin, &t->m);
	if (!err)
		err = sync_flags(t);
	/* what salvage cannot read stays for the admin to read */
	if (!err && t->m.refused)
		err = av_file_put(ctx, fault, AV_MANIFEST_DAMAGED, t->raw.data, t->raw.len, 0600, 0,
				  0);
	if (err < 0) {
		txn_free(t);
		return err;
	}
	/* what a run killed mid-write left behind */
	av_file_clean_temps(ctx, AV_MANIFEST_PATH);
	for (size_t i = 0; i < t->m.n; i++)
		if (!t->m.e[i].dir)
			av_file_clean_temps(ctx, t->m.e[i].path);
	for (unsigned n = 1; n <= t->m.next_saved; n++) {
		char sp[AV_SAVED_PATH_LEN];

		av_manifest_saved_path(sp, sizeof(sp), n);
		av_file_clean_temps(ctx, sp);
	}
	*out = t;
	return 0;
}

const struct av_manifest *av_txn_manifest(const struct av_txn *t)
{
	return &t->m;
}

static int touch(struct av_txn *t, const char *path, const struct av_file *cur)
{
	struct touched *nt;

	for (size_t i = 0; i < t->nt; i++)
		if (strcmp(t->t[i].path, path) == 0)
			return 0;
	nt = realloc(t->t, (t->nt + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	t->t = nt;
	nt = &t->t[t->nt];
	memset(nt, 0, sizeof(*nt));
	nt->path = strdup(path);
	if (!nt->path)
		return -ENOMEM;
	if (cur->exists) {
		nt->before = *cur;
		nt->before.data = malloc(cur->len + 1);
		if (!nt->before.data) {
			free(nt->path);
			return -ENOMEM;
		}
		memcpy(nt->before.data, cur->data, cur->len + 1);
	}
	t->nt++;
	return 0;
}

/* Read @path for a change, refusing what auto-vfio must not write through. */
static int read_target(struct av_txn *t, const char *path, struct av_file *cur)
{
	char via[PATH_MAX];
	int err;

	if (!path_ok(path)) {
		av_err(t->ctx, "%s: not a plain absolute path", path);
		return -EINVAL;
	}
	if (!inside_root(t->ctx, path, via, sizeof(via))) {
		av_err(t->ctx,
		       "%s%s: %s%s is a symlink that leaves %s: auto-vfio does not write "
		       "there",
		       t->ctx->root, path, t->ctx->root, via, t->ctx->root);
		return -EXDEV;
	}
	err = av_file_read(t->ctx, path, cur);
	if (err == -ELOOP)
		av_err(t->ctx,
		       "%s%s is a symbolic link: auto-vfio does not write through links; put the "
		       "file itself there (or remove the link) and run again",
		       t->ctx->root, path);
	else if (err == -EINVAL)
		av_err(t->ctx, "%s%s is not a regular file", t->ctx->root, path);
	else if (err < 0)
		av_err(t->ctx, "%s%s: %s", t->ctx->root, path, strerror(-err));
	return err;
}

/* A number for a new saved copy that names no file: never overwrite one. */
static unsigned free_saved(const struct av_txn *t)
{
	for (unsigned n = t->m.next_saved ? t->m.next_saved : 1;; n++) {
		char sp[AV_SAVED_PATH_LEN], full[PATH_MAX];
		struct stat st;

		av_manifest_saved_path(sp, sizeof(sp), n);
		/* taken only when something is there; any other answer lets the write say why */
		if (av_path(t->ctx, full, sizeof(full), "%s", sp) < 0 || lstat(full, &st) < 0)
			return n;
	}
}

/*
 * A listed original whose copy is gone (an uninstall killed after removing
 * it) while the file holds that original again: copy it anew before the file
 * changes, or the original would be lost.
 */
static int ensure_copy(struct av_txn *t, const struct av_manifest_entry *e,
		       const struct av_file *cur)
{
	char sp[AV_SAVED_PATH_LEN], full[PATH_MAX];
	struct stat st;

	if (e->created)
		return 0;
	av_manifest_saved_path(sp, sizeof(sp), e->saved);
	if (av_path(t->ctx, full, sizeof(full), "%s", sp) < 0)
		return -ENAMETOOLONG;
	if (lstat(full, &st) == 0 || errno != ENOENT)
		return 0;
	if (!cur->exists || !e->has_orig || cur->len != e->orig_len ||
	    av_hash(cur->data, cur->len) != e->orig_hash) {
		av_err(t->ctx,
		       "%s%s: its original %s%s is missing: run 'auto-vfio uninstall' first",
		       t->ctx->root, e->path, t->ctx->root, sp);
		return -ENOENT;
	}
	return av_file_put(t->ctx, t->fault, sp, cur->data, cur->len, 0600, 0, 0);
}

int av_txn_write(struct av_txn *t, const char *path, const char *data, size_t len, mode_t mode,
		 bool *changed)
{
	struct av_manifest_entry *e;
	uint64_t h = av_hash(data, len);
	struct av_file cur;
	int err;

	*changed = false;
	err = sync_flags(t);
	if (!err)
		err = read_target(t, path, &cur);
	if (err < 0)
		return err;
	e = av_manifest_find(&t->m, path);
	if (cur.exists && cur.len == len && memcmp(cur.data, data, len) == 0 &&
	    !(e && t->restored[e - t->m.e])) {
		av_file_release(&cur);
		return 0;
	}
	err = touch(t, path, &cur);
	if (err < 0)
		goto out;
	t->dirty = true;
	if (!e) {
		struct av_manifest_entry ne = {
		    .path = (char *)path, .created = !cur.exists, .hash = h};
		char sp[AV_SAVED_PATH_LEN];

		if (cur.exists) {
			ne.saved = free_saved(t);
			ne.has_orig = true;
			ne.orig_hash = av_hash(cur.data, cur.len);
			ne.orig_len = cur.len;
			ne.mode = cur.mode;
			ne.uid = cur.uid;
			ne.gid = cur.gid;
			av_manifest_saved_path(sp, sizeof(sp), ne.saved);
		}
		/* the journal first: directories and the entry, before anything is made */
		err = note_dirs(t->ctx, &t->m, AV_MANIFEST_PATH);
		if (!err)
			err = note_dirs(t->ctx, &t->m, path);
		if (!err && cur.exists)
			err = note_dirs(t->ctx, &t->m, sp);
		if (!err)
			err = add(&t->m, &ne);
		if (!err)
			err = sync_flags(t);
		if (!err)
			err = store(t->ctx, t->fault, &t->m);
		if (!err && cur.exists)
			err = av_file_put(t->ctx, t->fault, sp, cur.data, cur.len, 0600, 0, 0);
	} else {
		err = ensure_copy(t, e, &cur);
		if (err < 0)
			goto out;
		t->restored[e - t->m.e] = false;
		if (e->hash != h) {
			e->prev = e->hash;
			e->hash = h;
			err = store(t->ctx, t->fault, &t->m);
		}
	}
	if (!err)
		err = av_file_replace(t->ctx, t->fault, path, data, len, mode, 0, 0);
	if (!err)
		*changed = true;
out:
	av_file_release(&cur);
	return err;
}

static bool same(const struct av_file *a, const struct av_file *b)
{
	return a->exists && b->exists && a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Keep an edited @cur beside @path under a name that holds nothing else. */
static int keep_copy(struct av_txn *t, const char *path, const struct av_file *cur,
		     av_restore_report report, void *data)
{
	for (unsigned k = 0; k < 1000; k++) {
		char *keep, *what;
		struct av_file old;
		int err;

		if ((k ? asprintf(&keep, "%s" AV_KEEP_SUFFIX ".%u", path, k)
		       : asprintf(&keep, "%s" AV_KEEP_SUFFIX, path)) < 0)
			return -ENOMEM;
		err = av_file_read(t->ctx, keep, &old);
		if (err == 0 && old.exists && !same(&old, cur)) {
			/* someone's earlier copy: never overwritten */
			av_file_release(&old);
			free(keep);
			continue;
		}
		if (err == 0 && !old.exists) {
			err = touch(t, keep, &old);
			if (!err)
				err = av_file_put(t->ctx, t->fault, keep, cur->data, cur->len,
						  cur->mode, cur->uid, cur->gid);
		}
		/* else the same copy is there already: a run killed after making it */
		av_file_release(&old);
		if (!err && report &&
		    asprintf(&what, "changed since setup: kept as %s%s", t->ctx->root, keep) >= 0) {
			report(data, path, what);
			free(what);
		}
		free(keep);
		return err;
	}
	return -EEXIST;
}

static int restore_one(struct av_txn *t, size_t i, av_restore_report report, void *data)
{
	const struct av_manifest_entry *e = &t->m.e[i];
	struct av_file cur, orig = {0};
	char sp[AV_SAVED_PATH_LEN];
	bool is_orig, ours;
	uint64_t h;
	int err;

	err = read_target(t, e->path, &cur);
	if (err < 0)
		return err;
	if (!e->created) {
		av_manifest_saved_path(sp, sizeof(sp), e->saved);
		err = av_file_read(t->ctx, sp, &orig);
		if (!err && orig.exists && e->has_orig &&
		    (orig.len != e->orig_len || av_hash(orig.data, orig.len) != e->orig_hash)) {
			av_err(t->ctx, "%s%s: its original %s%s is damaged", t->ctx->root, e->path,
			       t->ctx->root, sp);
			err = -EBADMSG;
		}
		if (err < 0)
			goto out;
	}
	h = cur.exists ? av_hash(cur.data, cur.len) : 0;
	ours = cur.exists && (h == e->hash || (e->prev && h == e->prev));
	if (e->created) {
		is_orig = !cur.exists;
	} else if (orig.exists) {
		is_orig = same(&cur, &orig);
	} else {
		/* the copy is gone only once the file holds the original again */
		is_orig = cur.exists && e->has_orig && cur.len == e->orig_len && h == e->orig_hash;
		if (!is_orig) {
			av_err(t->ctx, "%s%s: its original %s%s is missing", t->ctx->root, e->path,
			       t->ctx->root, sp);
			err = -ENOENT;
			goto out;
		}
	}
	if (is_orig &&
	    (e->created || (cur.mode == e->mode && cur.uid == e->uid && cur.gid == e->gid))) {
		t->restored[i] = true; /* done before, by a run that did not finish */
		goto out;
	}
	err = touch(t, e->path, &cur);
	if (!err && !is_orig && cur.exists && !ours)
		err = keep_copy(t, e->path, &cur, report, data);
	if (err < 0)
		goto out;
	t->dirty = true;
	if (e->created) {
		err = av_file_remove(t->ctx, t->fault, e->path);
		if (!err && report)
			report(data, e->path, "removed");
	} else {
		const struct av_file *src = is_orig ? &cur : &orig;

		err = av_file_put(t->ctx, t->fault, e->path, src->data, src->len, e->mode, e->uid,
				  e->gid);
		if (!err && report)
			report(data, e->path, "restored");
	}
	if (!err)
		t->restored[i] = true;
out:
	av_file_release(&cur);
	av_file_release(&orig);
	return err;
}

int av_txn_restore(struct av_txn *t, const char *path, av_restore_report report, void *data)
{
	struct av_manifest_entry *e = av_manifest_find(&t->m, path);
	int err = sync_flags(t);

	if (err < 0)
		return err;
	if (!e || e->dir || t->restored[e - t->m.e])
		return 0;
	return restore_one(t, (size_t)(e - t->m.e), report, data);
}

int av_txn_restore_all(struct av_txn *t, av_restore_report report, void *data)
{
	int first = sync_flags(t);

	if (first < 0)
		return first;

	/* Newest first: a later change may build on an earlier one. */
	for (size_t i = t->m.n; i-- > 0;) {
		int err;

		if (t->m.e[i].dir || t->restored[i])
			continue;
		err = restore_one(t, i, report, data);
		if (err < 0) {
			av_err(t->ctx, "%s%s: %s", t->ctx->root, t->m.e[i].path, strerror(-err));
			if (!first)
				first = err;
		}
	}
	return first;
}

int av_txn_commit(struct av_txn *t)
{
	const struct av_ctx *ctx = t->ctx;
	size_t kept = 0;
	bool dropped = false;
	int first = 0, err;

	err = sync_flags(t);
	if (err < 0) {
		txn_free(t);
		return err;
	}

	/* the copies first: an entry whose file holds its original needs none */
	for (size_t i = 0; i < t->m.n; i++) {
		char sp[AV_SAVED_PATH_LEN];

		if (!t->restored[i] || t->m.e[i].created)
			continue;
		av_manifest_saved_path(sp, sizeof(sp), t->m.e[i].saved);
		err = av_file_remove(ctx, t->fault, sp);
		if (err < 0) {
			av_err(ctx, "%s%s: %s", ctx->root, sp, strerror(-err));
			t->restored[i] = false;
			if (!first)
				first = err;
		}
	}
	for (size_t i = 0; i < t->m.n; i++) {
		if (t->restored[i]) {
			free(t->m.e[i].path);
			dropped = true;
			continue;
		}
		t->m.e[kept++] = t->m.e[i];
	}
	t->m.n = kept;
	if (av_manifest_files(&t->m) == 0) {
		char dir[PATH_MAX];

		/* the directories while the manifest still lists them, then the manifest */
		remove_dirs(ctx, &t->m, NULL);
		err =
		    t->raw.exists || t->dirty ? av_file_remove(ctx, t->fault, AV_MANIFEST_PATH) : 0;
		if (!err) {
			remove_dirs(ctx, &t->m, NULL);
			/* a run killed before its first record leaves these, empty */
			if (av_path(ctx, dir, sizeof(dir), AV_STATE_DIR "/saved") == 0)
				rmdir(dir);
			if (av_path(ctx, dir, sizeof(dir), AV_STATE_DIR) == 0)
				rmdir(dir);
		}
	} else {
		err = dropped ? store(ctx, t->fault, &t->m) : 0;
	}
	if (err < 0 && !first)
		first = err;
	txn_free(t);
	return first;
}

int av_txn_rollback(struct av_txn *t)
{
	const struct av_ctx *ctx = t->ctx;
	int first = 0, err;

	/* files first, while the manifest on disk still lists every change */
	for (size_t i = t->nt; i-- > 0;) {
		const struct touched *c = &t->t[i];

		if (c->before.exists)
			err = av_file_put(ctx, NULL, c->path, c->before.data, c->before.len,
					  c->before.mode, c->before.uid, c->before.gid);
		else
			err = av_file_remove(ctx, NULL, c->path);
		if (err < 0 && !first)
			first = err;
	}
	for (size_t i = 0; i < t->m.n; i++) {
		const struct av_manifest_entry *e = &t->m.e[i];
		char sp[AV_SAVED_PATH_LEN];

		if (e->dir || e->created || av_manifest_find(&t->begin, e->path))
			continue;
		av_manifest_saved_path(sp, sizeof(sp), e->saved);
		err = av_file_remove(ctx, NULL, sp);
		if (err < 0 && !first)
			first = err;
	}
	if (t->dirty) {
		if (t->raw.exists)
			err = av_file_put(ctx, NULL, AV_MANIFEST_PATH, t->raw.data, t->raw.len,
					  t->raw.mode, t->raw.uid, t->raw.gid);
		else
			err = av_file_remove(ctx, NULL, AV_MANIFEST_PATH);
		if (err < 0 && !first)
			first = err;
		remove_dirs(ctx, &t->m, &t->begin);
	}
	txn_free(t);
	return first;
}
