// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading the entries directory as kernel-install leaves it: where it is,
 * the plain entry of a kernel, which entries are ours, what earlier entries
 * of ours say about the GPUs the host kept.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bls-internal.h"
#include "fileops.h"
#include "select.h"

int av_bls_entries_dir(const struct av_ctx *ctx, char *buf, size_t size)
{
	static const char *const roots[] = {"/efi", "/boot/efi", "/boot"};

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		char full[PATH_MAX];
		DIR *d;

		snprintf(buf, size, "%s/loader/entries", roots[i]);
		if (av_path(ctx, full, sizeof(full), "%s", buf) < 0)
			continue;
		d = opendir(full);
		if (d) {
			closedir(d);
			return 0;
		}
	}
	return -ENOENT;
}

bool av_bls_is_bind_word(const char *w, size_t len)
{
	return (len >= 15 && strncmp(w, "auto_vfio.bind=", 15) == 0) ||
	       (len >= 15 && strncmp(w, "auto-vfio.bind=", 15) == 0);
}

char *av_bls_key(const char *text, const char *key, bool last)
{
	size_t klen = strlen(key);
	const char *val = NULL;
	size_t vlen = 0;

	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 &&
		    (p[klen] == ' ' || p[klen] == '\t')) {
			val = p + klen + strspn(p + klen, " \t");
			vlen = len - (size_t)(val - p);
			if (!last)
				break;
		}
		p = eol ? eol + 1 : NULL;
	}
	return val ? strndup(val, vlen) : NULL;
}

char *av_bls_value(const char *text, const char *key)
{
	return av_bls_key(text, key, false);
}

/* Does the entry name @name (a *.conf) belong to auto-vfio? */
bool av_bls_ours(const char *name)
{
	return strstr(name, AV_BLS_OURS "host-") || strstr(name, AV_BLS_OURS "headless");
}

bool av_bls_has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* "TOKEN-KVER" from "TOKEN-KVER.conf" or "TOKEN-KVER+LEFT[-DONE].conf". */
void av_bls_entry_base(const char *name, const char *kver, char *out, size_t size)
{
	const char *v = strstr(name, kver);
	size_t len = v ? (size_t)(v - name) + strlen(kver) : strlen(name) - 5;

	snprintf(out, size, "%.*s", (int)len, name);
}

/* The plain entry of @kver in @dir (real path): its file name into @name. */
int av_bls_find_plain(const struct av_ctx *rc, const char *dir, const char *token, const char *kver,
		      char *name, size_t size, struct av_file *text)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort), err = -ENOENT;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;
		char path[PATH_MAX], *ver;

		if (err == 0 || !av_bls_has_suffix(nm, ".conf") || av_bls_ours(nm) ||
		    (token && (strncmp(nm, token, strlen(token)) != 0 || nm[strlen(token)] != '-')))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, nm);
		if (av_file_read(rc, path, text) < 0 || !text->exists)
			continue;
		ver = av_bls_value(text->data, "version");
		if (ver && strcmp(ver, kver) == 0 && strstr(nm, kver)) {
			snprintf(name, size, "%s", nm);
			err = 0;
		} else {
			av_file_release(text);
		}
		free(ver);
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return err;
}

/*
 * A kept GPU of earlier entries has an entry naming it (':' as '-'); the boot
 * VGA device's is the one without AV_BOOTFB_PARAM while others carry it.
 */
bool av_bls_was_host(void *data, const char *address, bool *boot_vga)
{
	const struct av_bls_was_host_data *w = data;
	struct dirent **list;
	char want[64];
	bool found = false;
	int n = scandir(w->dir, &list, NULL, alphasort);

	bool others_bootfb = false, own_bootfb = false;

	snprintf(want, sizeof(want), AV_BLS_OURS "host-%s.conf", address);
	for (char *c = want; *c; c++)
		if (*c == ':')
			*c = '-';
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;
		bool mine = av_bls_has_suffix(nm, want);

		if (av_bls_ours(nm)) {
			char path[PATH_MAX];
			struct av_file f = {0};
			struct av_ctx rc = {0};

			snprintf(path, sizeof(path), "%s/%s", w->dir, nm);
			if (av_file_read(&rc, path, &f) == 0 && f.exists &&
			    strstr(f.data, " " AV_BOOTFB_PARAM)) {
				if (mine)
					own_bootfb = true;
				else
					others_bootfb = true;
			}
			av_file_release(&f);
		}
		found = found || mine;
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	*boot_vga = found && others_bootfb && !own_bootfb;
	return found;
}

int av_bls_count(const char *dir, size_t *nours, size_t *binding)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);

	*nours = *binding = 0;
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;

		if (av_bls_has_suffix(nm, ".conf") && av_bls_ours(nm)) {
			(*nours)++;
		} else if (av_bls_has_suffix(nm, ".conf")) {
			struct av_ctx rc = {0};
			struct av_file f = {0};
			char path[PATH_MAX], *opts = NULL;

			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			if (av_file_read(&rc, path, &f) == 0 && f.exists)
				opts = av_bls_value(f.data, "options");
			if (opts &&
			    (strstr(opts, "auto_vfio.bind=") || strstr(opts, "auto-vfio.bind=")))
				(*binding)++;
			free(opts);
			av_file_release(&f);
		}
		free(list[i]);
	}
	free(list);
	return 0;
}
