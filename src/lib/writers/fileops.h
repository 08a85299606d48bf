/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole-file reads and atomic replacements under the root prefix.
 * A replacement goes to a temporary file in the same directory, is synced,
 * renamed over the target and the directory is synced: after a crash the
 * file is old or new, never torn. Symlinks at the target are refused, owner
 * and mode of an existing file are kept.
 */
#ifndef AV_FILEOPS_H
#define AV_FILEOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ctx.h"

/*
 * Fault injection for tests: the Nth step that touches the disk fails with
 * @err, or the process is killed there when @kill is set. Steps are counted
 * across all calls sharing the struct. at == 0: never.
 */
struct av_fault {
	unsigned at;
	int err;
	bool kill;
	unsigned count;
};

/* Parse "N", "N:ENOSPC", "N:EIO" or "N:kill". 0 or -EINVAL. */
int av_fault_parse(const char *spec, struct av_fault *f);

struct av_file {
	bool exists;
	char *data; /* NUL-terminated for convenience; may hold NULs */
	size_t len;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* Read a regular file (symlinks refused: -ELOOP). Missing: 0 with exists=false. */
int av_file_read(const struct av_ctx *ctx, const char *abspath, struct av_file *out);
void av_file_release(struct av_file *f);

/*
 * Replace @abspath with @data. @mode/@uid/@gid apply when the file is new
 * (uid/gid -1: the caller's); an existing file keeps its own. Missing parent
 * directories are created (0755). Returns 0 or -errno; on failure the old
 * file is untouched and no temporary file is left.
 */
int av_file_replace(const struct av_ctx *ctx, const char *abspath, const void *data, size_t len,
		    mode_t mode, uid_t uid, gid_t gid);

/*
 * Like av_file_replace(), but the file ends with exactly @mode, @uid and
 * @gid even when it exists: how an original is put back.
 */
int av_file_put(const struct av_ctx *ctx, const char *abspath, const void *data, size_t len,
		mode_t mode, uid_t uid, gid_t gid);

/*
 * Remove temporary files a replacement of @abspath left behind when the
 * process died mid-way (".NAME.avXXXXXX" beside it). Never fails.
 */
void av_file_clean_temps(const struct av_ctx *ctx, const char *abspath);

/* Remove a file and sync its directory; missing is fine. 0 or -errno. */
int av_file_remove(const struct av_ctx *ctx, const char *abspath);

#endif
