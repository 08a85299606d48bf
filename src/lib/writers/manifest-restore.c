// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Giving files back inside a transaction: the original, or no file; an
 * edited file is kept beside, never overwritten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest-internal.h"

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
			err = av_txn_touch(t, keep, &old);
			if (!err)
				err = av_file_put(t->ctx, keep, cur->data, cur->len, cur->mode,
						  cur->uid, cur->gid);
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
	_cleanup_(av_file_release) struct av_file cur = {0}, orig = {0};
	char sp[AV_SAVED_PATH_LEN];
	bool is_orig, ours;
	uint64_t h;
	int err;

	err = av_txn_read_target(t, e->path, &cur);
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
			return err;
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
			return -ENOENT;
		}
	}
	if (is_orig &&
	    (e->created || (cur.mode == e->mode && cur.uid == e->uid && cur.gid == e->gid))) {
		t->restored[i] = true; /* done before, by a run that did not finish */
		return 0;
	}
	err = av_txn_touch(t, e->path, &cur);
	if (!err && !is_orig && cur.exists && !ours)
		err = keep_copy(t, e->path, &cur, report, data);
	if (err < 0)
		return err;
	t->dirty = true;
	if (e->created) {
		err = av_file_remove(t->ctx, e->path);
		if (!err && report)
			report(data, e->path, "removed");
	} else {
		const struct av_file *src = is_orig ? &cur : &orig;

		err = av_file_put(t->ctx, e->path, src->data, src->len, e->mode, e->uid, e->gid);
		if (!err && report)
			report(data, e->path, "restored");
	}
	if (!err)
		t->restored[i] = true;
	return err;
}

int av_txn_restore(struct av_txn *t, const char *path, av_restore_report report, void *data)
{
	struct av_manifest_entry *e = av_manifest_find(&t->m, path);
	int err = av_txn_sync_flags(t);

	if (err < 0)
		return err;
	if (!e || e->dir || t->restored[e - t->m.e])
		return 0;
	return restore_one(t, (size_t)(e - t->m.e), report, data);
}

int av_txn_restore_all(struct av_txn *t, av_restore_report report, void *data)
{
	int first = av_txn_sync_flags(t);

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
