/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record of every file auto-vfio changed, in /var/lib/auto-vfio:
 * "manifest" lists the files, "saved/N" holds their previous contents.
 * A file's original is saved and listed before the file is first touched,
 * so uninstall can restore it byte for byte even after a crash.
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

struct av_manifest_entry {
	char *path;	/* absolute, without the root prefix */
	bool created;	/* did not exist before auto-vfio */
	bool dir;	/* a directory auto-vfio made (removed when empty) */
	unsigned saved; /* saved/N holds the original when !created */
	uint64_t hash;	/* of what auto-vfio last wrote there */
	mode_t mode;	/* the original's, when !created */
	uid_t uid;
	gid_t gid;
};

struct av_manifest {
	size_t n;
	struct av_manifest_entry *e;
	unsigned next_saved;
};

uint64_t av_hash(const void *data, size_t len);

/*
 * Record the directories above @abspath that do not exist yet, so restore
 * can remove them again. Call before creating them. 0 or -ENOMEM.
 */
int av_manifest_note_dirs(const struct av_ctx *ctx, struct av_manifest *m, const char *abspath);

/* Remove the recorded directories that are empty now, deepest first. */
void av_manifest_remove_dirs(const struct av_ctx *ctx, const struct av_manifest *m);

/* Missing manifest: empty, 0. Unreadable or corrupt: -errno, logged with path:line. */
int av_manifest_load(const struct av_ctx *ctx, struct av_manifest *m);
void av_manifest_release(struct av_manifest *m);
struct av_manifest_entry *av_manifest_find(const struct av_manifest *m, const char *path);

/*
 * Write @data to @path as auto-vfio: the first time, the original is saved
 * and the manifest updated before the file changes. Unchanged content is
 * not written (returns 0 and *changed = false).
 */
int av_manifest_write(const struct av_ctx *ctx, struct av_fault *fault, struct av_manifest *m,
		      const char *path, const char *data, size_t len, mode_t mode, bool *changed);

/* Callback for what restore does, one line each (path, what happened). */
typedef void (*av_restore_report)(void *data, const char *path, const char *what);

/*
 * Restore every file of @m (originals back, created files removed) and
 * remove the manifest. A file changed by someone else since auto-vfio wrote
 * it is kept beside as PATH.auto-vfio-saved. Entries that fail stay in the
 * manifest, which is rewritten; returns the first error.
 */
int av_manifest_restore(const struct av_ctx *ctx, struct av_fault *fault, struct av_manifest *m,
			av_restore_report report, void *data);

/*
 * Restore the one file @path the way av_manifest_restore() does and drop it
 * from @m. Not listed: 0, nothing done.
 */
int av_manifest_restore_path(const struct av_ctx *ctx, struct av_fault *fault,
			     struct av_manifest *m, const char *path, av_restore_report report,
			     void *data);

#endif
