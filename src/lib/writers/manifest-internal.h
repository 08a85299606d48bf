/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the manifest's files share (manifest.c: the format and its loading;
 * manifest-txn.c: the transaction; manifest-restore.c: giving files back).
 * Not for use outside them: manifest.h is the interface.
 */
#ifndef AV_MANIFEST_INTERNAL_H
#define AV_MANIFEST_INTERNAL_H

#include "manifest.h"

/* A file touched in this transaction, as it was at begin. */
struct av_txn_touched {
	char *path;
	struct av_file before;
};

struct av_txn {
	const struct av_ctx *ctx;
	struct av_manifest m;
	struct av_manifest begin;
	struct av_file raw; /* the manifest's bytes at begin */
	bool *restored;	    /* per entry of m: given back, leaves at commit */
	size_t nflags;
	struct av_txn_touched *t;
	size_t nt;
	bool dirty;
};

/* Append a copy of @src (its path duplicated). 0 or -ENOMEM. */
int av_manifest_add(struct av_manifest *m, const struct av_manifest_entry *src);

/* Absolute, no blanks or control characters, no "", "." or ".." component. */
bool av_manifest_path_ok(const char *p);

/*
 * Does @path stay inside @ctx's root, symlinked directories resolved? On
 * refusal @via names the directory that leads out.
 */
bool av_manifest_inside_root(const struct av_ctx *ctx, const char *path, char *via, size_t vsize);

/*
 * av_manifest_load() (@salvage: av_manifest_salvage()), keeping the bytes
 * as read in @raw when not NULL.
 */
int av_manifest_read(const struct av_ctx *ctx, struct av_manifest *m, struct av_file *raw,
		     bool salvage);

/* Write @m as the manifest (atomically replaced). 0 or -errno. */
int av_manifest_store(const struct av_ctx *ctx, const struct av_manifest *m);

/* Keep the restored flags as long as the entries. 0 or -ENOMEM. */
int av_txn_sync_flags(struct av_txn *t);

/* Remember what @path holds (@cur) the first time the transaction touches it. */
int av_txn_touch(struct av_txn *t, const char *path, const struct av_file *cur);

/* Read @path for a change, refusing (logged) what auto-vfio must not write through. */
int av_txn_read_target(struct av_txn *t, const char *path, struct av_file *cur);

#endif
