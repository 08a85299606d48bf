// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio boot-next on systemd-boot: the auto-vfio BLS entries, and
 * `bootctl set-oneshot` for the one to boot next (systemd-boot clears
 * LoaderEntryOneShot itself, in an EFI variable: no file system limits).
 * An entry's id is its file name, as bootctl list shows it.
 */
#include <dirent.h>
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bls.h"
#include "cli.h"
#include "fileops.h"
#include "pciaddr.h"

extern char **environ;

struct bls_entry {
	char id[NAME_MAX + 1];
	char title[512];
	char version[128];
};

/* @key's value of an entry into @out ("" when none). */
static void value(const char *text, const char *key, char *out, size_t size)
{
	char *v = av_bls_key(text, key, false);

	snprintf(out, size, "%s", v ? v : "");
	free(v);
}

/* Newest kernel first (as systemd-boot sorts versions), then by id. */
static int newest_first(const void *a, const void *b)
{
	const struct bls_entry *x = a, *y = b;
	int c = strverscmp(y->version, x->version);

	return c ? c : strcmp(x->id, y->id);
}

static int read_bls(struct av_cli *cli, struct bls_entry **out, size_t *n)
{
	char rel[PATH_MAX], dir[2 * PATH_MAX];
	struct dirent **list;
	struct bls_entry *e;
	int nl;

	*n = 0;
	if (av_bls_entries_dir(&cli->ctx, rel, sizeof(rel)) < 0) {
		fprintf(stderr, "%s: no loader/entries under %s/efi, /boot/efi or /boot\n",
			cli->prog, cli->ctx.root);
		return -ENOENT;
	}
	snprintf(dir, sizeof(dir), "%s%s", cli->ctx.root, rel);
	nl = scandir(dir, &list, NULL, alphasort);
	if (nl < 0)
		return -errno;
	e = calloc((size_t)nl + 1, sizeof(*e));
	for (int i = 0; i < nl; i++) {
		const char *nm = list[i]->d_name;
		struct av_file f;
		char path[3 * PATH_MAX];

		if (e && strstr(nm, "-auto-vfio-") && strlen(nm) > 5 &&
		    strcmp(nm + strlen(nm) - 5, ".conf") == 0) {
			snprintf(path, sizeof(path), "%s/%s", rel, nm);
			if (av_file_read(&cli->ctx, path, &f) == 0 && f.exists) {
				snprintf(e[*n].id, sizeof(e[*n].id), "%s", nm);
				value(f.data, "title", e[*n].title, sizeof(e[*n].title));
				value(f.data, "version", e[*n].version, sizeof(e[*n].version));
				(*n)++;
				av_file_release(&f);
			}
		}
		free(list[i]);
	}
	free(list);
	if (!e)
		return -ENOMEM;
	qsort(e, *n, sizeof(*e), newest_first);
	*out = e;
	return 0;
}

/* An id, "headless" or a kept GPU's address: the newest kernel's entry for the latter two. */
static const struct bls_entry *find(const struct bls_entry *e, size_t n, const char *what)
{
	char id[AV_DEFAULT_LEN], want[64];

	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].id, what) == 0)
			return &e[i];
	if (av_config_entry_id(what, id) < 0)
		return NULL;
	/* a file name: ':' as '-' */
	snprintf(want, sizeof(want), "-" AV_ENTRY_ID_PREFIX "%s.conf", id);
	for (char *c = want; *c; c++)
		if (*c == ':')
			*c = '-';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(e[i].id), w = strlen(want);

		if (l > w && strcmp(e[i].id + l - w, want) == 0)
			return &e[i];
	}
	return NULL;
}

int av_bootnext_bls(struct av_cli *cli, const char *what)
{
	struct bls_entry *e = NULL;
	const struct bls_entry *pick;
	const char *bootctl = getenv("AUTO_VFIO_BOOTCTL");
	size_t n;
	int rc = AV_EXIT_FAIL;

	if (read_bls(cli, &e, &n) < 0)
		return AV_EXIT_FAIL;
	if (n == 0) {
		fprintf(stderr, "%s: no auto-vfio systemd-boot entries (multi-boot set up?)\n",
			cli->prog);
		goto out;
	}
	if (!what) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n    %s\n", e[i].id, e[i].title);
		rc = AV_EXIT_OK;
		goto out;
	}
	pick = find(e, n, what);
	if (!pick) {
		fprintf(stderr,
			"%s boot-next: no auto-vfio entry '%s' (see 'auto-vfio boot-next')\n",
			cli->prog, what);
		rc = AV_EXIT_USAGE;
		goto out;
	}
	if (!bootctl && !av_ctx_is_real_root(&cli->ctx)) {
		printf("Skipped 'bootctl set-oneshot %s': %s is not the running system.\n",
		       pick->id, cli->ctx.root);
		rc = AV_EXIT_OK;
		goto out;
	}
	{
		const char *args[] = {bootctl ? bootctl : "bootctl", "set-oneshot", pick->id, NULL};

		if (av_cli_run(args) < 0) {
			fprintf(stderr, "%s: bootctl set-oneshot %s failed\n", cli->prog, pick->id);
			goto out;
		}
	}
	printf("Next boot (once): %s\n    %s\n", pick->id, pick->title);
	rc = AV_EXIT_OK;
out:
	free(e);
	return rc;
}
