/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record a complete pass leaves for the later ones of the same boot:
 * when every endpoint of every group /proc/cmdline names is on vfio-pci
 * (driver_override set, so no other driver can take it), the binder writes
 * AV_BIND_RECORD under the root prefix, one line: how many PCI devices there
 * were. /run is new every boot and the command line cannot change within
 * one, so the init-premount script only compares the count (with builtins)
 * and, when it matches, has nothing to do; a device that appeared since
 * brings the full check back.
 */
#ifndef AV_BIND_RECORD_H
#define AV_BIND_RECORD_H

#include "ctx.h"

#define AV_BIND_RECORD_DIR "/run/auto-vfio"
#define AV_BIND_RECORD AV_BIND_RECORD_DIR "/bound"

/* How many PCI devices sysfs lists now (entries of /sys/bus/pci/devices), or -errno. */
int av_pci_count(const struct av_ctx *ctx);

/* Replace the record atomically; 0 or -errno (no /run: -ENOENT, nothing written). */
int av_bind_record_write(const struct av_ctx *ctx, int npci);

/* Remove the record; 0 when there is none. */
int av_bind_record_clear(const struct av_ctx *ctx);

#endif
