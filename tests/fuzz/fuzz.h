/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harnesses: one per parser of untrusted bytes. Each includes this
 * header; parsers that read files get a scratch root (the root prefix) made
 * once per process. A property that fails aborts: libFuzzer keeps the input.
 */
#ifndef AV_FUZZ_H
#define AV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* optional: libFuzzer calls it once when a harness defines it */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__,        \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* @data as a NUL-terminated string (malloc'd; stops at an inner NUL, as C readers do). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static inline int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static char fuzz_root_dir[64];

static inline void fuzz_cleanup(void)
{
	nftw(fuzz_root_dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch root for this process, with @ctx pointing at it; removed at exit. */
static inline const char *fuzz_root(struct av_ctx *ctx)
{
	char *root = fuzz_root_dir;

	if (!root[0]) {
		/* memory-backed when there is one: every input is written to a file */
		snprintf(root, sizeof(fuzz_root_dir), "%s/auto-vfio-fuzz.XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(root))
			abort();
		atexit(fuzz_cleanup);
	}
	if (av_ctx_init(ctx, root) < 0)
		abort();
	return root;
}

/* Write @data to root-prefixed @abspath, making its directories. */
static inline void fuzz_write(const struct av_ctx *ctx, const char *abspath, const void *data,
			      size_t size)
{
	char path[4096];
	FILE *f;

	if (av_path(ctx, path, sizeof(path), "%s", abspath) < 0)
		abort();
	for (char *p = path + strlen(ctx->root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

#endif
