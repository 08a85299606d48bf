// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio evdev: libvirt evdev input for the host's keyboards and mice,
 * and with --apply the qemu.conf device list QEMU needs to open them.
 * Also the service restart the host-tuning commands share.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "evdev.h"
#include "fileops.h"

/* Run systemctl with @args quietly; its exit status or -errno. */
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
		static const char *const units[] = AV_LIBVIRT_UNITS;

		/* only a running daemon is restarted: at most one of them runs */
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (av_cli_restart_service(cli, units[i]) < 0)
				goto out;
	}
	rc = AV_EXIT_OK;
out:
	free(text);
	av_file_release(&conf);
	av_evdev_release(&in);
	return rc;
}
