// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The transaction: the manifest is its journal (manifest.h). Begin, write,
 * commit, rollback; what each touched file held at begin is kept in memory
 * for the rollback.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "manifest-internal.h"

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
			int err = av_manifest_add(m, &e);

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
		if (av_manifest_add(dst, &src->e[i]) < 0)
			return -ENOMEM;
	dst->next_saved = src->next_saved;
	return 0;
}

/* Keep the restored flags as long as the entries. */
int av_txn_sync_flags(struct av_txn *t)
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

int av_txn_begin(const struct av_ctx *ctx, unsigned flags, struct av_txn **out)
{
	struct av_txn *t = calloc(1, sizeof(*t));
	int err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->ctx = ctx;
	err = av_manifest_read(ctx, &t->m, &t->raw, flags & AV_TXN_SALVAGE);
	if (!err)
		err = copy_manifest(&t->begin, &t->m);
	if (!err)
		err = av_txn_sync_flags(t);
	/* what salvage cannot read stays for the admin to read */
	if (!err && t->m.refused)
		err = av_file_put(ctx, AV_MANIFEST_DAMAGED, t->raw.data, t->raw.len, 0600, 0, 0);
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

int av_txn_touch(struct av_txn *t, const char *path, const struct av_file *cur)
{
	struct av_txn_touched *nt;

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
int av_txn_read_target(struct av_txn *t, const char *path, struct av_file *cur)
{
	char via[PATH_MAX];
	int err;

	if (!av_manifest_path_ok(path)) {
		av_err(t->ctx, "%s: not a plain absolute path", path);
		return -EINVAL;
	}
	if (!av_manifest_inside_root(t->ctx, path, via, sizeof(via))) {
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
	return av_file_put(t->ctx, sp, cur->data, cur->len, 0600, 0, 0);
}

int av_txn_write(struct av_txn *t, const char *path, const char *data, size_t len, mode_t mode,
		 bool *changed)
{
	struct av_manifest_entry *e;
	uint64_t h = av_hash(data, len);
	_cleanup_(av_file_release) struct av_file cur = {0};
	int err;

	*changed = false;
	err = av_txn_sync_flags(t);
	if (!err)
		err = av_txn_read_target(t, path, &cur);
	if (err < 0)
		return err;
	e = av_manifest_find(&t->m, path);
	if (cur.exists && cur.len == len && memcmp(cur.data, data, len) == 0 &&
	    !(e && t->restored[e - t->m.e]))
		return 0;
	err = av_txn_touch(t, path, &cur);
	if (err < 0)
		return err;
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
			err = av_manifest_add(&t->m, &ne);
		if (!err)
			err = av_txn_sync_flags(t);
		if (!err)
			err = av_manifest_store(t->ctx, &t->m);
		if (!err && cur.exists)
			err = av_file_put(t->ctx, sp, cur.data, cur.len, 0600, 0, 0);
	} else {
		err = ensure_copy(t, e, &cur);
		if (err < 0)
			return err;
		t->restored[e - t->m.e] = false;
		if (e->hash != h) {
			e->prev = e->hash;
			e->hash = h;
			err = av_manifest_store(t->ctx, &t->m);
		}
	}
	if (!err)
		err = av_file_replace(t->ctx, path, data, len, mode, 0, 0);
	if (!err)
		*changed = true;
	return err;
}

int av_txn_commit(struct av_txn *t)
{
	const struct av_ctx *ctx = t->ctx;
	size_t kept = 0;
	bool dropped = false;
	int first = 0, err;

	err = av_txn_sync_flags(t);
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
		err = av_file_remove(ctx, sp);
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
		err = t->raw.exists || t->dirty ? av_file_remove(ctx, AV_MANIFEST_PATH) : 0;
		if (!err) {
			remove_dirs(ctx, &t->m, NULL);
			/* a run killed before its first record leaves these, empty */
			if (av_path(ctx, dir, sizeof(dir), AV_STATE_DIR "/saved") == 0)
				rmdir(dir);
			if (av_path(ctx, dir, sizeof(dir), AV_STATE_DIR) == 0)
				rmdir(dir);
		}
	} else {
		err = dropped ? av_manifest_store(ctx, &t->m) : 0;
	}
	if (err < 0 && !first)
		first = err;
	txn_free(t);
	return first;
}

int av_txn_rollback(struct av_txn *t)
{
	const struct av_ctx *ctx = t->ctx;
	/* injected faults test the way forward; the way back is never failed on purpose */
	struct av_ctx quiet_ctx = *ctx;
	const struct av_ctx *quiet = &quiet_ctx;
	int first = 0, err;

	quiet_ctx.fault = NULL;
	/* files first, while the manifest on disk still lists every change */
	for (size_t i = t->nt; i-- > 0;) {
		const struct av_txn_touched *c = &t->t[i];

		if (c->before.exists)
			err = av_file_put(quiet, c->path, c->before.data, c->before.len,
					  c->before.mode, c->before.uid, c->before.gid);
		else
			err = av_file_remove(quiet, c->path);
		if (err < 0 && !first)
			first = err;
	}
	for (size_t i = 0; i < t->m.n; i++) {
		const struct av_manifest_entry *e = &t->m.e[i];
		char sp[AV_SAVED_PATH_LEN];

		if (e->dir || e->created || av_manifest_find(&t->begin, e->path))
			continue;
		av_manifest_saved_path(sp, sizeof(sp), e->saved);
		err = av_file_remove(quiet, sp);
		if (err < 0 && !first)
			first = err;
	}
	if (t->dirty) {
		if (t->raw.exists)
			err = av_file_put(quiet, AV_MANIFEST_PATH, t->raw.data, t->raw.len,
					  t->raw.mode, t->raw.uid, t->raw.gid);
		else
			err = av_file_remove(quiet, AV_MANIFEST_PATH);
		if (err < 0 && !first)
			first = err;
		remove_dirs(ctx, &t->m, &t->begin);
	}
	txn_free(t);
	return first;
}
