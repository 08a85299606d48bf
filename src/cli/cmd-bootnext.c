// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio boot-next: list the auto-vfio GRUB entries, or pick one for the
 * next boot only (what grub-reboot does: next_entry in GRUB's environment
 * block, which Debian's 00_header honours once).
 *
 * GRUB clears next_entry by writing that block when it boots the entry; it
 * cannot write it on btrfs, ZFS or through LVM, RAID or LUKS, and the "once"
 * entry would then boot every time. Refuse there, detected as 00_header
 * detects it for recordfail (grub-probe on /boot/grub).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootchain.h"
#include "cli.h"
#include "config.h"
#include "fileops.h"
#include "pciaddr.h"

#define GRUB_CFG "/boot/grub/grub.cfg"
#define GRUBENV "/boot/grub/grubenv"
#define MAX_ENTRIES 256

extern char **environ;

struct entry {
	char id[520]; /* "submenu-id>entry-id" inside a submenu */
	char title[512];
};

/* The single-quoted word after @key ("--id" or "$menuentry_id_option"), or the title. */
static bool quoted_after(const char *line, const char *key, char *out, size_t size)
{
	const char *p = key ? strstr(line, key) : line;
	size_t n = 0;

	if (!p)
		return false;
	p = strchr(p, '\'');
	if (!p)
		return false;
	/* grub_quote writes ' as '\'' : undo exactly that */
	for (p++; *p && n + 1 < size; p++) {
		if (*p == '\'' && strncmp(p, "'\\''", 4) == 0) {
			out[n++] = '\'';
			p += 3;
		} else if (*p == '\'') {
			break;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return *p == '\'';
}

static bool entry_id(const char *line, char *out, size_t size)
{
	return quoted_after(line, "--id ", out, size) ||
	       quoted_after(line, "$menuentry_id_option ", out, size);
}

/* The auto-vfio entries of grub.cfg, in menu order. Returns the count or -errno. */
static int read_entries(const struct av_cli *cli, struct entry *e, size_t max)
{
	struct av_file cfg;
	char sub[256] = "", *line, *next;
	size_t n = 0;
	int err = av_file_read(&cli->ctx, GRUB_CFG, &cfg);

	if (err < 0 || !cfg.exists) {
		fprintf(stderr, "%s: %s%s: %s\n", cli->prog, cli->ctx.root, GRUB_CFG,
			err < 0 ? strerror(-err) : "missing (run update-grub)");
		return err < 0 ? err : -ENOENT;
	}
	for (line = cfg.data; line && *line; line = next) {
		const char *t = line + strspn(line, " \t");
		char id[256];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strcmp(line, "}") == 0) /* a top-level block closes */
			sub[0] = '\0';
		else if (strncmp(t, "submenu ", 8) == 0 && entry_id(t, id, sizeof(id)))
			snprintf(sub, sizeof(sub), "%s", id);
		else if (strncmp(t, "menuentry ", 10) == 0 && entry_id(t, id, sizeof(id)) &&
			 strncmp(id, AV_ENTRY_ID_PREFIX, strlen(AV_ENTRY_ID_PREFIX)) == 0 &&
			 n < max) {
			snprintf(e[n].id, sizeof(e[n].id), "%s%s%s", sub, sub[0] ? ">" : "", id);
			quoted_after(t, NULL, e[n].title, sizeof(e[n].title));
			n++;
		}
	}
	av_file_release(&cfg);
	return (int)n;
}

/* Which entry a word names: an id, "headless", or the address of the kept GPU (newest kernel). */
static const struct entry *find(const struct entry *e, size_t n, const char *what)
{
	char id[AV_DEFAULT_LEN], want[AV_DEFAULT_LEN + 1];

	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].id, what) == 0)
			return &e[i];
	if (av_config_entry_id(what, id) < 0)
		return NULL;
	snprintf(want, sizeof(want), "-%s", id);
	/* menu order puts the newest kernel first, outside any submenu */
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(e[i].id), w = strlen(want);

		if (!strchr(e[i].id, '>') && l > w && strcmp(e[i].id + l - w, want) == 0)
			return &e[i];
	}
	return NULL;
}

/* grub-probe --target=@target @path: its first line of output, or -errno / the exit status. */
static int grub_probe(const char *target, const char *path, char *out, size_t size)
{
	char tgt[64];
	const char *argv[] = {"grub-probe", tgt, "--", path, NULL};
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	int pipefd[2], status, err;
	pid_t pid;

	snprintf(tgt, sizeof(tgt), "--target=%s", target);
	out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	err = posix_spawnp(&pid, "grub-probe", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return -err;
	}
	for (;;) {
		ssize_t n = read(pipefd[0], out + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) >= size - 1)
			break;
	}
	out[len] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Is any word of @list (blank or newline separated) one of @words? */
static const char *word_in(const char *list, const char *const *words)
{
	for (const char *p = list; *p;) {
		size_t len;

		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		for (const char *const *w = words; len && *w; w++)
			if (strlen(*w) == len && strncmp(p, *w, len) == 0)
				return *w;
		p += len;
	}
	return NULL;
}

/*
 * Can GRUB write its environment block in /boot/grub? 1 yes, 0 no (@why
 * says what is in the way), -1 when grub-probe cannot tell.
 */
static int grubenv_writable(const struct av_cli *cli, char *why, size_t size)
{
	/* 00_header's lists, plus the LUKS and RAID abstractions GRUB cannot write through */
	static const char *const no_fs[] = {"btrfs",   "cpiofs", "newc", "odc", "romfs",
					    "squash4", "tarfs",	 "zfs",	 NULL};
	static const char *const no_abs[] = {"diskfilter", "lvm",      "cryptodisk", "luks",
					     "luks2",	   "geli",     "mdraid09",   "mdraid09_be",
					     "mdraid1x",   "raid5rec", "raid6rec",   NULL};
	char dir[PATH_MAX], out[512];
	const char *hit;

	if (av_path(&cli->ctx, dir, sizeof(dir), "/boot/grub") < 0)
		return -1;
	if (grub_probe("abstraction", dir, out, sizeof(out)) == 0 && (hit = word_in(out, no_abs))) {
		snprintf(why, size, "%s is on %s", dir, hit);
		return 0;
	}
	if (grub_probe("fs", dir, out, sizeof(out)) != 0)
		return -1;
	if ((hit = word_in(out, no_fs))) {
		snprintf(why, size, "%s is on %s", dir, hit);
		return 0;
	}
	return 1;
}

int av_cmd_bootnext(struct av_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct entry *e = calloc(MAX_ENTRIES, sizeof(*e));
	const struct entry *pick;
	char env[PATH_MAX], assign[540], why[PATH_MAX + 32];
	int c, n, rc = AV_EXIT_FAIL;

	if (!e)
		return AV_EXIT_FAIL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: %s boot-next [ENTRY-ID | headless | GPU-ADDRESS]\n",
			       cli->prog);
			free(e);
			return AV_EXIT_OK;
		}
		free(e);
		return AV_EXIT_USAGE;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "%s boot-next: one entry at a time\n", cli->prog);
		free(e);
		return AV_EXIT_USAGE;
	}
	{
		struct av_bootchain bc;

		av_bootchain_detect(&cli->ctx, &bc);
		if (bc.loader == AV_LOADER_BLS) {
			free(e);
			return av_bootnext_bls(cli, optind < argc ? argv[optind] : NULL);
		}
	}
	n = read_entries(cli, e, MAX_ENTRIES);
	if (n < 0)
		goto out;
	if (n == 0) {
		fprintf(stderr,
			"%s: no auto-vfio entries in %s%s (multi-boot set up? run update-grub)\n",
			cli->prog, cli->ctx.root, GRUB_CFG);
		goto out;
	}
	if (optind == argc) {
		for (int i = 0; i < n; i++)
			printf("%s\n    %s\n", e[i].id, e[i].title);
		rc = AV_EXIT_OK;
		goto out;
	}
	pick = find(e, (size_t)n, argv[optind]);
	if (!pick) {
		fprintf(stderr,
			"%s boot-next: no auto-vfio entry '%s' (see 'auto-vfio boot-next')\n",
			cli->prog, argv[optind]);
		rc = AV_EXIT_USAGE;
		goto out;
	}
	switch (grubenv_writable(cli, why, sizeof(why))) {
	case 0:
		fprintf(stderr,
			"%s boot-next: %s, where GRUB cannot write its environment block: it\n"
			"could not clear next_entry and '%s' would boot every time, not once.\n"
			"Choose the entry in the GRUB menu, or make it the default with\n"
			"'auto-vfio setup --default' (undone by choosing 'plain').\n",
			cli->prog, why, pick->id);
		rc = AV_EXIT_FAIL;
		goto out;
	case -1:
		fprintf(stderr,
			"%s: note: grub-probe cannot tell where %s%s is; assuming GRUB "
			"can write there\n",
			cli->prog, cli->ctx.root, "/boot/grub");
		break;
	}
	/* what grub-reboot does, without its dependency on grub2-common */
	if (av_path(&cli->ctx, env, sizeof(env), GRUBENV) < 0)
		goto out;
	snprintf(assign, sizeof(assign), "next_entry=%s", pick->id);
	const char *args[] = {"grub-editenv", env, "set", assign, NULL};

	if (av_cli_run(args) < 0) {
		fprintf(stderr, "%s: grub-editenv %s failed\n", cli->prog, env);
		goto out;
	}
	printf("Next boot (once): %s\n    %s\n", pick->id, pick->title);
	rc = AV_EXIT_OK;
out:
	free(e);
	return rc;
}
