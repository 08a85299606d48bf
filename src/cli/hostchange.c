// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Changing the host for a command: files through the manifest (a dry run
 * shows the diff instead), and restarting the services that read them.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "fileops.h"
#include "manifest.h"
#include "textdiff.h"

extern char **environ;

void av_cli_report_restore(void *data, const char *path, const char *what)
{
	const struct av_cli *cli = data;

	printf("  %s%s: %s\n", cli->ctx.root, path, what);
}

int av_cli_write_file(struct av_cli *cli, const char *path, const char *data, mode_t mode,
		      bool dry_run, bool *changed)
{
	const struct av_ctx *ctx = &cli->ctx;
	struct av_file cur, orig = {0};
	struct av_txn *txn;
	const struct av_manifest *man;
	const struct av_manifest_entry *e;
	const char *after;
	char *diff;
	int err;

	*changed = false;
	err = av_txn_begin(ctx, 0, &txn);
	if (err < 0)
		return err;
	man = av_txn_manifest(txn);
	err = av_file_read(ctx, path, &cur);
	if (err < 0) {
		fprintf(stderr, "%s: %s%s: %s\n", cli->prog, ctx->root, path, strerror(-err));
		goto out;
	}
	e = av_manifest_find(man, path);
	after = data;
	if (!data) {
		if (!e) {
			printf("%s%s: auto-vfio did not change it, nothing to undo.\n", ctx->root,
			       path);
			goto out;
		}
		if (!e->created) {
			char sp[AV_SAVED_PATH_LEN];

			av_manifest_saved_path(sp, sizeof(sp), e->saved);
			err = av_file_read(ctx, sp, &orig);
			if (!err && !orig.exists && e->has_orig && cur.exists &&
			    cur.len == e->orig_len && av_hash(cur.data, cur.len) == e->orig_hash)
				orig = (struct av_file){.exists = true, .data = strdup(cur.data)};
			if (err < 0 || !orig.exists || !orig.data) {
				fprintf(stderr, "%s: %s%s: the saved original is missing\n",
					cli->prog, ctx->root, sp);
				err = err < 0 ? err : -ENOENT;
				goto out;
			}
			after = orig.data;
		}
	}
	diff = av_unified_diff(path, cur.exists ? cur.data : NULL, after);
	if (!diff) {
		err = -ENOMEM;
		goto out;
	}
	if (!*diff) {
		printf("%s%s: already as wanted, nothing to change.\n", ctx->root, path);
		free(diff);
		if (!data) /* given back by a run that did not finish: finish it */
			err = av_txn_restore(txn, path, av_cli_report_restore, cli);
		goto out;
	}
	printf("%s %s%s:\n%s", dry_run ? "Would change" : "Changing", ctx->root, path, diff);
	free(diff);
	if (dry_run)
		goto out;
	if (data)
		err = av_txn_write(txn, path, data, strlen(data), mode, changed);
	else
		err = av_txn_restore(txn, path, av_cli_report_restore, cli);
	if (err < 0)
		fprintf(stderr, "%s: %s%s: %s (nothing was changed)\n", cli->prog, ctx->root, path,
			strerror(-err));
	else if (!data)
		*changed = true;
out:
	av_file_release(&cur);
	av_file_release(&orig);
	if (err < 0) {
		av_txn_rollback(txn);
	} else {
		/* the last file given back takes the manifest and our directories along */
		err = av_txn_commit(txn);
		if (err < 0)
			fprintf(stderr, "%s: %s%s: %s\n", cli->prog, ctx->root, AV_MANIFEST_PATH,
				strerror(-err));
	}
	return err;
}

static int systemctl(const char *const *args)
{
	posix_spawn_file_actions_t fa;
	int status, err;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	err = posix_spawnp(&pid, "systemctl", &fa, NULL, (char *const *)args, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		return -err;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int av_cli_run(const char *const *argv)
{
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0 ||
	    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

int av_cli_restart_service(struct av_cli *cli, const char *unit)
{
	const char *active[] = {"systemctl", "is-active", "--quiet", unit, NULL};
	const char *restart[] = {"systemctl", "restart", unit, NULL};
	int rc;

	if (!av_ctx_is_real_root(&cli->ctx)) {
		printf("Skipped restarting %s: %s is not the running system.\n", unit,
		       cli->ctx.root);
		return 0;
	}
	if (systemctl(active) != 0) {
		printf("%s is not running: nothing to restart.\n", unit);
		return 0;
	}
	/* a changed generator configuration is read on a reload */
	systemctl((const char *const[]){"systemctl", "daemon-reload", NULL});
	printf("Restarting %s ...\n", unit);
	fflush(stdout);
	rc = systemctl(restart);
	if (rc != 0) {
		fprintf(stderr, "%s: 'systemctl restart %s' failed (%s %d)\n", cli->prog, unit,
			rc < 0 ? "error" : "exit status", rc < 0 ? -rc : rc);
		return -EIO;
	}
	return 0;
}
