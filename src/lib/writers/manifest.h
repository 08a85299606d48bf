/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record of every file auto-vfio changed, in /var/lib/auto-vfio:
 * "manifest" lists the files, "saved/N" holds their previous contents.
 *
 * Every change goes through a transaction whose journal is the manifest
 * itself: an entry is on disk before the change it describes (the original
 * is copied after it is listed, the file is written after that), and an
 * entry leaves the manifest only after its file is back and its copy gone.
 * An entry whose file already holds the original counts as restored. So a
 * process killed at any point leaves a manifest that 'uninstall' can
 * finish, and nothing of auto-vfio's state that the manifest does not list.
 */
#ifndef AV_MANIFEST_H
#define AV_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctx.h"
#include "fileops.h"

#define AV_STATE_DIR "/var/lib/auto-vfio"
#define AV_MANIFEST_PATH AV_STATE_DIR "/manifest"
/* Where --salvage keeps a damaged manifest for the admin to read. */
#define AV_MANIFEST_DAMAGED AV_STATE_DIR "/manifest.damaged"
/* Beside a file changed since auto-vfio wrote it: the edited copy (then .1, .2, ...). */
#define AV_KEEP_SUFFIX ".auto-vfio-saved"
/* Room for av_manifest_saved_path() */
#define AV_SAVED_PATH_LEN 64

struct av_manifest_entry {
	char *path;	/* absolute, without the root prefix */
	bool created;	/* did not exist before auto-vfio */
	bool dir;	/* a directory auto-vfio made (removed when empty) */
	unsigned saved; /* saved/N holds the original when !created */
	uint64_t hash;	/* of what auto-vfio last wrote there */
	uint64_t prev;	/* what it wrote before that (0: nothing): a killed write leaves either */
	bool has_orig;	/* orig_hash/orig_len known (older manifests lack them) */
	uint64_t orig_hash;
	size_t orig_len;
	mode_t mode; /* the original's, when !created */
	uid_t uid;
	gid_t gid;
};

struct av_manifest {
	size_t n;
	struct av_manifest_entry *e;
	unsigned next_saved;
	unsigned refused; /* entry lines a salvaging load skipped */
};

uint64_t av_hash(const void *data, size_t len);

/* "/var/lib/auto-vfio/saved/N" into @buf (AV_SAVED_PATH_LEN bytes). */
void av_manifest_saved_path(char *buf, size_t size, unsigned n);

/*
 * Missing manifest: empty, 0. Unreadable: -errno. Damaged (empty, no header,
 * cut short, a line that does not parse, a path with '.' or '..' or leaving
 * the root): -EBADMSG, each problem logged with path:line.
 */
int av_manifest_load(const struct av_ctx *ctx, struct av_manifest *m);

/*
 * Load only the intact entries of a damaged manifest: complete lines that
 * parse and name a path inside the root. Each refused line is logged (a
 * warning) and counted in m->refused. Never guesses the rest.
 */
int av_manifest_salvage(const struct av_ctx *ctx, struct av_manifest *m);

void av_manifest_release(struct av_manifest *m);
struct av_manifest_entry *av_manifest_find(const struct av_manifest *m, const char *path);

/* Number of files (not directories) listed. */
size_t av_manifest_files(const struct av_manifest *m);

/* Callback for what restore does, one line each (path, what happened). */
typedef void (*av_restore_report)(void *data, const char *path, const char *what);

/*
 * A transaction over the manifest: begin, then writes and restores (each
 * recorded in the manifest before it happens), then commit or rollback.
 * The library logs through @ctx; the caller prints what it wants.
 */
struct av_txn;

enum {
	AV_TXN_SALVAGE = 1, /* begin from the intact entries of a damaged manifest */
};

/* Load the manifest (see av_manifest_load()) and start. 0 or -errno. */
int av_txn_begin(const struct av_ctx *ctx, unsigned flags, struct av_txn **out);

/* The manifest as the transaction sees it now. */
const struct av_manifest *av_txn_manifest(const struct av_txn *t);

/*
 * Write @data to @path as auto-vfio. The first time, the entry is recorded,
 * then the original copied, then the file written. Unchanged content is not
 * written (0, *changed = false). A symlink at @path, a path with '.' or
 * '..', or one leaving the root through a symlinked directory is refused
 * (logged).
 */
int av_txn_write(struct av_txn *t, const char *path, const char *data, size_t len, mode_t mode,
		 bool *changed);

/*
 * Give @path back: its original (mode and owner included), or no file when
 * auto-vfio created it. A file changed by someone else since is kept beside
 * as PATH.auto-vfio-saved (or .1, .2, ...: an existing copy is never
 * overwritten). The entry leaves the manifest at commit. Not listed: 0.
 */
int av_txn_restore(struct av_txn *t, const char *path, av_restore_report report, void *data);

/*
 * av_txn_restore() for every file, newest first. An entry that fails stays
 * (logged); returns the first error.
 */
int av_txn_restore_all(struct av_txn *t, av_restore_report report, void *data);

/*
 * Make it final and free @t: the copies of restored entries go, then their
 * entries; when no file is left, the manifest and the directories auto-vfio
 * made go too. 0 or the first -errno (the manifest then still lists what is
 * not done).
 */
int av_txn_commit(struct av_txn *t);

/*
 * Undo everything since begin and free @t: files back exactly as they were,
 * copies made since begin removed, the manifest as it was, directories made
 * since begin removed. Best effort, never injects faults; 0 or the first -errno.
 */
int av_txn_rollback(struct av_txn *t);

#endif
