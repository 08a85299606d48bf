// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <zlib.h>

#include "fileops.h"
#include "kconfig.h"
#include "sysfs.h"

/* A kernel config is some 250 KiB; anything past this is not one. */
#define KCONFIG_MAX (16u << 20)

int av_kernel_release(const struct av_ctx *ctx, char *buf, size_t size)
{
	struct utsname uts;
	int n = av_read_attr(ctx, buf, size, "/proc/sys/kernel/osrelease");

	if (n > 0)
		return 0;
	if (!av_ctx_is_real_root(ctx))
		return n < 0 ? n : -ENOENT;
	if (uname(&uts) < 0)
		return -errno;
	if (strlen(uts.release) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, uts.release);
	return 0;
}

int av_kconfig_from_text(const char *text, size_t len, const char *source, struct av_kconfig *out)
{
	memset(out, 0, sizeof(*out));
	out->text = malloc(len + 1);
	if (!out->text)
		return -ENOMEM;
	memcpy(out->text, text, len);
	out->text[len] = '\0';
	out->len = len;
	snprintf(out->source, sizeof(out->source), "%s", source);
	return 0;
}

/* gzread() reads plain files too, so a config.gz that is not compressed still works. */
static int load_gz(const struct av_ctx *ctx, const char *abspath, struct av_kconfig *out)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	gzFile gz;
	int err = av_path(ctx, path, sizeof(path), "%s", abspath);

	if (err < 0)
		return err;
	gz = gzopen(path, "rb");
	if (!gz)
		return errno ? -errno : -ENOMEM;
	for (;;) {
		int n;

		if (cap - len < 65536) {
			char *nb;

			cap = cap ? cap * 2 : 262144;
			if (cap > KCONFIG_MAX) {
				err = -EFBIG;
				break;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = gzread(gz, buf + len, 65536);
		if (n < 0) {
			err = -EINVAL;
			break;
		}
		if (n == 0) {
			int zerr;

			/* a cut stream ends like a whole one, but leaves an error behind */
			gzerror(gz, &zerr);
			if (zerr != Z_OK && zerr != Z_STREAM_END)
				err = -EINVAL;
			break;
		}
		len += (size_t)n;
	}
	gzclose(gz);
	if (!err)
		err = av_kconfig_from_text(buf ? buf : "", len, abspath, out);
	if (err < 0)
		av_err(ctx, "%s: %s", path, err == -EINVAL ? "damaged gzip data" : strerror(-err));
	free(buf);
	return err;
}

int av_kconfig_load(const struct av_ctx *ctx, const char *release, struct av_kconfig *out)
{
	char abspath[PATH_MAX], running[AV_RELEASE_LEN];
	struct av_file f;
	int err;

	memset(out, 0, sizeof(*out));
	if (strchr(release, '/') || !release[0])
		return -EINVAL;
	snprintf(abspath, sizeof(abspath), "/boot/config-%s", release);
	err = av_file_read(ctx, abspath, &f);
	if (err < 0) {
		av_err(ctx, "%s%s: %s", ctx->root, abspath, strerror(-err));
		return err;
	}
	if (f.exists) {
		err = av_kconfig_from_text(f.data, f.len, abspath, out);
		av_file_release(&f);
		return err;
	}
	/* proc/config.gz only ever describes the kernel that is running */
	if (av_kernel_release(ctx, running, sizeof(running)) < 0 || strcmp(running, release) != 0)
		return -ENOENT;
	if (av_path(ctx, abspath, sizeof(abspath), "/proc/config.gz") < 0)
		return -ENAMETOOLONG;
	if (access(abspath, F_OK) != 0)
		return -ENOENT;
	return load_gz(ctx, "/proc/config.gz", out);
}

enum av_kconfig_val av_kconfig_get(const struct av_kconfig *k, const char *symbol, char *val,
				   size_t size)
{
	char sym[128];
	size_t slen;
	const char *p = k->text;

	if (strncmp(symbol, "CONFIG_", 7) == 0)
		symbol += 7;
	snprintf(sym, sizeof(sym), "CONFIG_%s", symbol);
	slen = strlen(sym);
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);

		if (ll > slen && strncmp(p, sym, slen) == 0 && p[slen] == '=') {
			const char *v = p + slen + 1;
			size_t vl = ll - slen - 1;

			if (vl == 1 && *v == 'y')
				return AV_KCONFIG_BUILTIN;
			if (vl == 1 && *v == 'm')
				return AV_KCONFIG_MODULE;
			if (vl == 1 && *v == 'n')
				return AV_KCONFIG_NO;
			if (val && size)
				snprintf(val, size, "%.*s", (int)vl, v);
			return AV_KCONFIG_VALUE;
		}
		if (ll == slen + 13 && strncmp(p, "# ", 2) == 0 && strncmp(p + 2, sym, slen) == 0 &&
		    strncmp(p + 2 + slen, " is not set", 11) == 0)
			return AV_KCONFIG_NO;
		p = eol ? eol + 1 : NULL;
	}
	return AV_KCONFIG_ABSENT;
}

const char *av_kconfig_val_name(enum av_kconfig_val v)
{
	switch (v) {
	case AV_KCONFIG_NO:
		return "n";
	case AV_KCONFIG_MODULE:
		return "m";
	case AV_KCONFIG_BUILTIN:
		return "y";
	case AV_KCONFIG_VALUE:
		return "value";
	default:
		return "absent";
	}
}

void av_kconfig_release(struct av_kconfig *k)
{
	free(k->text);
	memset(k, 0, sizeof(*k));
}
