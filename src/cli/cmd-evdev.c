// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio evdev: libvirt evdev input for the host's keyboards and mice,
 * and with --apply the qemu.conf device list QEMU needs to open them.
 * Also the service restart the host-tuning commands share.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "evdev.h"
#include "fileops.h"

extern char **environ;

/* Run systemctl with @args quietly; its exit status or -errno. */
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

int av_cmd_evdev(struct av_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"apply", no_argument, NULL, 'a'},
	    {"dry-run", no_argument, NULL, 'd'},
	    {"no-restart", no_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool apply = false, dry_run = false, no_restart = false, changed = false;
	struct av_inputs in;
	struct av_file conf = {0};
	char *xml, *text = NULL;
	int c, err, rc = AV_EXIT_FAIL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			apply = true;
			break;
		case 'd':
			dry_run = apply = true;
			break;
		case 'R':
			no_restart = true;
			break;
		case 'h':
			printf("Usage: %s evdev [--apply [--no-restart] | --dry-run]\n", cli->prog);
			return AV_EXIT_OK;
		default:
			return AV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s evdev: unexpected argument '%s'\n", cli->prog, argv[optind]);
		return AV_EXIT_USAGE;
	}
	err = av_evdev_find(&cli->ctx, &in);
	if (err < 0) {
		fprintf(stderr, "%s: %s%s: %s\n", cli->prog, cli->ctx.root, AV_INPUT_BY_ID,
			strerror(-err));
		return AV_EXIT_FAIL;
	}
	if (in.n == 0) {
		fprintf(stderr,
			"%s: no keyboard or mouse under %s%s (*-event-kbd, *-event-mouse)\n",
			cli->prog, cli->ctx.root, AV_INPUT_BY_ID);
		return AV_EXIT_FAIL;
	}
	xml = av_evdev_xml(&in);
	if (!xml)
		goto out;
	printf("Add to the VM's <devices> (virsh edit VM):\n\n%s\n", xml);
	free(xml);
	if (!apply) {
		printf("With --apply, auto-vfio lets libvirt's QEMU open these devices "
		       "(cgroup_device_acl in %s).\n",
		       AV_QEMU_CONF);
		rc = AV_EXIT_OK;
		goto out;
	}
	err = av_file_read(&cli->ctx, AV_QEMU_CONF, &conf);
	if (err < 0 || !conf.exists) {
		fprintf(
		    stderr, "%s: %s%s: %s\n", cli->prog, cli->ctx.root, AV_QEMU_CONF,
		    err < 0
			? strerror(-err)
			: "missing; is libvirt installed? (apt-get install libvirt-daemon-system)");
		goto out;
	}
	if (av_evdev_qemu_conf(&cli->ctx, AV_QEMU_CONF, conf.data, &in, &text) < 0)
		goto out;
	if (!text) {
		printf("%s%s already lets QEMU open every one of them.\n", cli->ctx.root,
		       AV_QEMU_CONF);
		rc = AV_EXIT_OK;
		goto out;
	}
	if (av_cli_write_file(cli, AV_QEMU_CONF, text, 0644, dry_run, &changed) < 0)
		goto out;
	if (dry_run) {
		printf("Dry run: nothing was changed.\n");
	} else if (changed && !no_restart) {
		if (av_cli_restart_service(cli, "libvirtd") < 0)
			goto out;
	}
	rc = AV_EXIT_OK;
out:
	free(text);
	av_file_release(&conf);
	av_evdev_release(&in);
	return rc;
}
