/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evdev input for VMs: the host's keyboards and mice by their stable names
 * in /dev/input/by-id, the libvirt <input type='evdev'> elements for them,
 * and the cgroup_device_acl entries libvirt's QEMU needs to open them.
 */
#ifndef AV_EVDEV_H
#define AV_EVDEV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"

#define AV_QEMU_CONF "/etc/libvirt/qemu.conf"
/* The daemons that read qemu.conf: monolithic (Debian 12's default) or modular. */
#define AV_LIBVIRT_UNITS                                                                           \
	{                                                                                          \
		"libvirtd", "virtqemud"                                                            \
	}
#define AV_INPUT_BY_ID "/dev/input/by-id"

enum av_input_kind {
	AV_INPUT_KEYBOARD,
	AV_INPUT_MOUSE,
};

struct av_input {
	char path[PATH_MAX]; /* /dev/input/by-id/NAME, without the root prefix */
	enum av_input_kind kind;
};

struct av_inputs {
	size_t n;
	struct av_input *v; /* keyboards first, then by name */
};

/*
 * The *-event-kbd and *-event-mouse entries of /dev/input/by-id. Names that
 * could not be quoted safely in qemu.conf are skipped with a warning.
 * No directory: 0 and nothing found. Returns 0 or -errno.
 */
int av_evdev_find(const struct av_ctx *ctx, struct av_inputs *out);
void av_evdev_release(struct av_inputs *in);

/* libvirt domain XML for every input (malloc'd; NULL on no memory). */
char *av_evdev_xml(const struct av_inputs *in);

/*
 * qemu.conf @text with every input path in an active cgroup_device_acl list;
 * the rest of the file stays as it is. An active setting gains only what it
 * lacks; a commented-out one (Debian's default) is followed by an active one
 * holding libvirt's default list plus the inputs. *out is NULL when nothing
 * is missing. 0, -EINVAL when the active list cannot be parsed (logged with
 * @path and line), or -ENOMEM.
 */
int av_evdev_qemu_conf(const struct av_ctx *ctx, const char *path, const char *text,
		       const struct av_inputs *in, char **out);

#endif
