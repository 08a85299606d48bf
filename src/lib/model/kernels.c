// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernels.h"

/* dpkg's verrevcmp: 10_linux orders kernels with dpkg --compare-versions. */
static int order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	return c ? c + 256 : 0;
}

static int verrevcmp(const char *a, const char *b)
{
	while (*a || *b) {
		int first_diff = 0;

		while ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b))) {
			int ac = order((unsigned char)*a), bc = order((unsigned char)*b);

			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (isdigit((unsigned char)*a))
			return 1;
		if (isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

/* dpkg version comparison: [epoch:]upstream[-revision]. */
static int dpkg_cmp(const char *a, const char *b)
{
	char *ca = strdup(a), *cb = strdup(b);
	char *ua = ca, *ub = cb, *ra, *rb;
	long ea = 0, eb = 0;
	int r;

	if (!ca || !cb) {
		free(ca);
		free(cb);
		return strcmp(a, b);
	}
	if (strchr(ua, ':')) {
		ea = strtol(ua, NULL, 10);
		ua = strchr(ua, ':') + 1;
	}
	if (strchr(ub, ':')) {
		eb = strtol(ub, NULL, 10);
		ub = strchr(ub, ':') + 1;
	}
	ra = strrchr(ua, '-');
	rb = strrchr(ub, '-');
	if (ra)
		*ra++ = '\0';
	if (rb)
		*rb++ = '\0';
	if (ea != eb)
		r = ea < eb ? -1 : 1;
	else if ((r = verrevcmp(ua, ub)) == 0)
		r = verrevcmp(ra ? ra : "", rb ? rb : "");
	free(ca);
	free(cb);
	return r;
}

/*
 * The key version_test_gt compares: the file name after its first '-', with
 * pre/rc/test/git/old/trunk suffixes made to sort before the release.
 */
static char *version_key(const char *image, bool *old)
{
	static const char *const tags[] = {"pre", "rc", "test", "git", "old", "trunk"};
	const char *dash = strchr(image, '-');
	const char *s = dash ? dash + 1 : "";
	size_t len = strlen(s);
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	*old = len > 4 && strcmp(s + len - 4, ".old") == 0;
	if (*old)
		len -= 4;
	for (size_t i = 0; i < len; i++) {
		if (strchr("._-", s[i])) {
			bool tagged = false;

			for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
				size_t tl = strlen(tags[t]);

				if (i + 1 + tl <= len && strncmp(s + i + 1, tags[t], tl) == 0) {
					tagged = true;
					break;
				}
			}
			*o++ = tagged ? '~' : s[i];
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* > 0 when @a is newer, as version_find_latest would pick it first. */
static int kernel_newer(const struct av_kernel *a, const struct av_kernel *b)
{
	bool olda, oldb;
	char *ka = version_key(a->image, &olda), *kb = version_key(b->image, &oldb);
	int r;

	if (!ka || !kb)
		r = strcmp(b->image, a->image);
	else
		r = dpkg_cmp(ka, kb);
	/* "x.old" loses a tie against "x" */
	if (r == 0 && olda != oldb)
		r = olda ? -1 : 1;
	if (r == 0)
		r = strcmp(b->image, a->image);
	free(ka);
	free(kb);
	return r;
}

static int kernel_sort(const void *a, const void *b)
{
	return kernel_newer(b, a);
}

static bool is_garbage(const char *name)
{
	size_t len = strlen(name);

	return strstr(name, ".dpkg-") || strncmp(name, "README", 6) == 0 ||
	       (len >= 8 && !strcmp(name + len - 8, ".rpmsave")) ||
	       (len >= 7 && !strcmp(name + len - 7, ".rpmnew")) ||
	       (len >= 4 && !strcmp(name + len - 4, ".sig")) ||
	       (len >= 11 && !strcmp(name + len - 11, ".efi.signed"));
}

/* Characters a kernel version may carry into an id, a path and a title. */
static bool plain_version(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("._+~-", *v))
			return false;
	return true;
}

static bool regular_file(const struct av_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return av_path(ctx, path, sizeof(path), "/boot/%s", name) == 0 && stat(path, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

static char *find_initrd(const struct av_ctx *ctx, const char *version)
{
	static const char *const pats[] = {"initrd.img-%s", "initrd-%s.img", "initrd-%s.gz",
					   "initrd-%s", "initramfs-%s.img"};
	char name[NAME_MAX + 1];

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		snprintf(name, sizeof(name), pats[i], version);
		if (regular_file(ctx, name))
			return strdup(name);
	}
	return NULL;
}

void av_kernels_free_one(struct av_kernel *k)
{
	free(k->version);
	free(k->image);
	free(k->initrd);
	k->version = k->image = k->initrd = NULL;
}

void av_kernels_free(struct av_kernel *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		av_kernels_free_one(&k[i]);
	free(k);
}

int av_kernels_find(const struct av_ctx *ctx, struct av_kernel **out)
{
	char path[PATH_MAX];
	struct av_kernel *k = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int err;

	*out = NULL;
	err = av_path(ctx, path, sizeof(path), "/boot");
	if (err < 0)
		return err;
	d = opendir(path);
	if (!d) {
		err = -errno;
		av_warn(ctx, "%s: %s", path, strerror(errno));
		return err;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name, *digit, *version;
		struct av_kernel *nk;

		if (strncmp(name, "vmlinuz-", 8) != 0 || is_garbage(name) ||
		    !regular_file(ctx, name))
			continue;
		/* 10_linux: version=`echo $basename | sed -e "s,^[^0-9]*-,,g"` */
		digit = name + strcspn(name, "0123456789");
		version = name;
		for (const char *p = name; p < digit; p++)
			if (*p == '-')
				version = p + 1;
		if (!plain_version(version)) {
			av_warn(ctx, "%s/%s: unusual kernel version, left out", path, name);
			continue;
		}
		nk = realloc(k, (n + 1) * sizeof(*k));
		if (!nk) {
			err = -ENOMEM;
			goto fail;
		}
		k = nk;
		memset(&k[n], 0, sizeof(*k));
		k[n].version = strdup(version);
		k[n].image = strdup(name);
		n++;
		if (!k[n - 1].version || !k[n - 1].image) {
			err = -ENOMEM;
			goto fail;
		}
		k[n - 1].initrd = find_initrd(ctx, version);
	}
	closedir(d);
	if (n)
		qsort(k, n, sizeof(*k), kernel_sort);
	*out = k;
	return (int)n;
fail:
	closedir(d);
	av_kernels_free(k, n);
	return err;
}
