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

/*
 * A fresh scratch directory: in a test, the one the runner removes after it
 * (however it ends); in a helper program, one removed at exit.
 */
const char *tu_tmpdir(void);

/* A new scratch directory under $TMPDIR (or /tmp), malloc'd; NULL (errno set) when none. */
char *tu_scratch_make(void);

/*
 * Remove scratch directory @dir and everything below it, best effort,
 * never crossing into a mount; kept (and said on stderr) with AV_KEEP_TMP.
 */
void tu_scratch_remove(const char *dir);

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

/*
 * Run "auto-vfio --root @root @cmd ARGS..." (@args NULL-terminated, at most
 * 12) into @r; returns its exit status. TU_CLI() takes the arguments inline.
 */
int tu_cli(struct tu_result *r, const char *root, const char *cmd, const char *const *args);
#define TU_CLI(res, root, cmd, ...) tu_cli(res, root, cmd, (const char *const[]){__VA_ARGS__ NULL})
/* The same with @env added to the environment; @args starts with the command. */
int tu_cli_env(struct tu_result *r, const char *root, const char *const *env,
	       const char *const *args);
#define TU_CLI_ENV(res, root, env, ...)                                                            \
	tu_cli_env(res, root, env, (const char *const[]){__VA_ARGS__, NULL})

struct av_ctx;
/*
 * @ctx set up for @root, logging everything into one buffer of this test
 * process, which tu_log() returns ("" when nothing was logged).
 */
void tu_ctx(struct av_ctx *ctx, const char *root);
const char *tu_log(void);

/* Path of a built program, e.g. tu_prog("auto-vfio"). */
char *tu_prog(const char *name);

/*
 * A listing of everything under @dir (paths relative to it, type, mode,
 * owner, size, a hash of the content or the link target), sorted: two listings
 * are equal when the trees are equal byte for byte.
 */
char *tu_tree_digest(const char *dir);

#endif
