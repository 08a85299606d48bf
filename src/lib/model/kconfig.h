/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A kernel's build configuration: /boot/config-<release> as Debian installs
 * it, or /proc/config.gz (gzip, through zlib) for the running kernel when it
 * was built with CONFIG_IKCONFIG_PROC.
 */
#ifndef AV_KCONFIG_H
#define AV_KCONFIG_H

#include <limits.h>
#include <stddef.h>

#include "ctx.h"

/* Longest kernel release we handle ("6.1.0-18-amd64"). */
#define AV_RELEASE_LEN 128

enum av_kconfig_val {
	AV_KCONFIG_ABSENT = 0, /* the symbol does not appear at all */
	AV_KCONFIG_NO,	       /* "# CONFIG_X is not set" or =n */
	AV_KCONFIG_MODULE,     /* =m */
	AV_KCONFIG_BUILTIN,    /* =y */
	AV_KCONFIG_VALUE,      /* any other value (numbers, strings) */
};

struct av_kconfig {
	char *text; /* NUL-terminated */
	size_t len;
	char source[PATH_MAX]; /* the file it came from, without the root prefix */
};

/*
 * The running kernel's release: <root>/proc/sys/kernel/osrelease, and on the
 * real root uname(2) when that cannot be read. 0 or -errno.
 */
int av_kernel_release(const struct av_ctx *ctx, char *buf, size_t size);

/*
 * Load the configuration of kernel @release: boot/config-<release>, or for the
 * running kernel proc/config.gz. Returns 0, -ENOENT when neither exists (not
 * logged), or another -errno (logged with the path).
 */
int av_kconfig_load(const struct av_ctx *ctx, const char *release, struct av_kconfig *out);

/* Parse from memory (tests, other sources). 0 or -ENOMEM. */
int av_kconfig_from_text(const char *text, size_t len, const char *source, struct av_kconfig *out);

/*
 * The value of @symbol ("CONFIG_VFIO_PCI" or "VFIO_PCI"); for AV_KCONFIG_VALUE
 * the text after '=' goes to @val when given.
 */
enum av_kconfig_val av_kconfig_get(const struct av_kconfig *k, const char *symbol, char *val,
				   size_t size);

/* "y", "m", "n", "absent", "value". */
const char *av_kconfig_val_name(enum av_kconfig_val v);

void av_kconfig_release(struct av_kconfig *k);

#endif
