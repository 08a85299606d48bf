/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for tests: scratch directories, files, running the real programs. */
#ifndef AV_TESTUTIL_H
#define AV_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#define TU_FMT(a, b) __attribute__((format(printf, a, b)))

/* Build directory of the programs under test ($AV_BUILD, default "build"). */
const char *tu_build(void);
/* Source tree ($AV_SRCDIR, default "."). */
const char *tu_srcdir(void);
/* The fixtures folder, holding iommu/ ($AV_FIXTURES, default "<srcdir>/tests/data"). */
const char *tu_fixtures(void);

/* A fresh scratch directory, removed when the test process exits. */
const char *tu_tmpdir(void);

/* printf into a malloc'd string (aborts the test on failure). */
TU_FMT(1, 2) char *tu_fmt(const char *fmt, ...);

void tu_mkdirs(const char *path);
/* Write @content to @path, creating parent directories. */
void tu_write(const char *path, const char *content);
void tu_symlink(const char *target, const char *linkpath);
/* Whole file or NULL. */
char *tu_read(const char *path);
bool tu_exists(const char *path);

struct tu_result {
	int status; /* exit code, or 128+signal */
	char *out;
	char *err;
};

/*
 * Run @argv (argv[0] is a path) with @env added to the environment (NULL or
 * a NULL-terminated "K=V" list), @input on stdin (NULL: /dev/null).
 */
void tu_run(struct tu_result *r, const char *const *argv, const char *const *env,
	    const char *input);
void tu_result_free(struct tu_result *r);

/* Path of a built program, e.g. tu_prog("auto-vfio"). */
char *tu_prog(const char *name);

/*
 * A listing of everything under @dir (paths relative to it, type, mode,
 * owner, size, a hash of the content or the link target), sorted: two listings
 * are equal when the trees are equal byte for byte.
 */
char *tu_tree_digest(const char *dir);

#endif
