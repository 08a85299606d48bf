// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Running the boot chain's updates after the boot files changed: the
 * initramfs generator (update-initramfs or dracut) and the boot menu
 * (update-grub). Their output is kept and shown only when they fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootchain.h"
#include "cli.h"

extern char **environ;

static const struct {
	const char *env, *what;
} updates[] = {
    [AV_UPDATE_INITRAMFS] = {"AUTO_VFIO_UPDATE_INITRAMFS", "initramfs images"},
    [AV_UPDATE_GRUB] = {"AUTO_VFIO_UPDATE_GRUB", "GRUB menu"},
};

/*
 * systemd-boot's entries: kernel-install add for every installed kernel, as
 * Debian's zz-systemd-boot kernel hook runs it; 90-loaderentry rewrites the
 * plain entry from /etc/kernel/cmdline and our plugin writes ours beside it.
 */
#define BLS_UPDATE                                                                                 \
	"for k in /boot/vmlinuz-*; do [ -e \"$k\" ] || continue; v=${k#/boot/vmlinuz-}; "          \
	"i=/boot/initrd.img-$v; if [ -e \"$i\" ]; then kernel-install add \"$v\" \"$k\" \"$i\"; "  \
	"else kernel-install add \"$v\" \"$k\"; fi || exit 1; done"

static bool is_bls(const struct av_cli *cli)
{
	struct av_bootchain bc;

	av_bootchain_detect(&cli->ctx, &bc);
	return bc.loader == AV_LOADER_BLS;
}

const char *av_cli_update_cmd(const struct av_cli *cli, enum av_update which)
{
	struct av_bootchain bc;

	av_bootchain_detect(&cli->ctx, &bc);
	return which == AV_UPDATE_GRUB ? av_loader_update_cmd(bc.loader)
				       : av_gen_update_cmd(bc.gen);
}

/* Run @cmd with /bin/sh; its output (stdout and stderr) goes to *out. Exit status or -errno. */
static int run_sh(const char *cmd, char **out)
{
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	FILE *mem;
	int pipefd[2], status, err;
	pid_t pid;

	*out = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	err = posix_spawn(&pid, "/bin/sh", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return -err;
	}
	mem = open_memstream(out, &len);
	for (;;) {
		char buf[4096];
		ssize_t n = read(pipefd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (mem)
			fwrite(buf, 1, (size_t)n, mem);
	}
	close(pipefd[0]);
	if (mem)
		fclose(mem);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int av_cli_update(struct av_cli *cli, enum av_update which)
{
	bool bls = which == AV_UPDATE_GRUB && is_bls(cli);
	const char *cmd = getenv(bls ? "AUTO_VFIO_UPDATE_BLS" : updates[which].env);
	bool loop = false;
	const char *what = bls ? "systemd-boot entries" : updates[which].what, *shown;
	char *out = NULL;
	int rc;

	if (!cmd || !*cmd) {
		/* A prefixed root is not the running system: its tools are not ours to run. */
		if (!av_ctx_is_real_root(&cli->ctx)) {
			printf("Skipped '%s': %s is not the running system; run it there.\n",
			       av_cli_update_cmd(cli, which), cli->ctx.root);
			return 0;
		}
		loop = bls;
		cmd = bls ? BLS_UPDATE : av_cli_update_cmd(cli, which);
	}
	/* the loop is long: say what it does */
	shown = loop ? av_cli_update_cmd(cli, which) : cmd;
	/*
	 * Under another root (a chroot or a test) the GRUB generator must read
	 * that root's configuration and devices, as this run does.
	 */
	if (!av_ctx_is_real_root(&cli->ctx))
		setenv(AV_ROOT_ENV, cli->ctx.root, 1);
	printf("Updating the %s: %s ...\n", what, shown);
	fflush(stdout);
	rc = run_sh(cmd, &out);
	if (rc != 0) {
		fprintf(stderr, "%s: '%s' failed (%s %d); its output:\n%s", cli->prog, shown,
			rc < 0 ? "error" : "exit status", rc < 0 ? -rc : rc, out ? out : "");
		if (out && *out && out[strlen(out) - 1] != '\n')
			fputc('\n', stderr);
	} else if (cli->verbose && out) {
		fputs(out, stdout);
	} else if (out) {
		/* what our hook and generator say is worth seeing even on success */
		for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
			if (strstr(line, "auto-vfio"))
				printf("  %s\n", line);
	}
	free(out);
	return rc == 0 ? 0 : -EIO;
}
