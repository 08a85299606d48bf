/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zram swap through the distribution's own tool: zram-tools
 * (/etc/default/zramswap, zramswap.service) or systemd-zram-generator
 * (/etc/systemd/zram-generator.conf, systemd-zram-setup@zram0.service),
 * whichever dpkg says is installed. Only the keys auto-vfio sets change;
 * comments and every other setting stay.
 */
#ifndef AV_ZRAM_H
#define AV_ZRAM_H

#include <stdbool.h>

#include "ctx.h"

#define AV_ZRAMSWAP_CONF "/etc/default/zramswap"
#define AV_ZRAM_GENERATOR_CONF "/etc/systemd/zram-generator.conf"
#define AV_DPKG_STATUS "/var/lib/dpkg/status"

enum av_zram_tool {
	AV_ZRAM_NONE = 0,
	AV_ZRAM_TOOLS,	   /* zram-tools */
	AV_ZRAM_GENERATOR, /* systemd-zram-generator */
};

struct av_zram_opts {
	const char *algo;	/* "zstd", "lz4", ...; NULL: leave as is */
	unsigned percent;	/* of RAM; 0: not set */
	unsigned long size_mib; /* 0: not set (percent and size exclude each other) */
	int priority;		/* swap priority; -1: leave as is */
};

/* The installed tool; zram-tools first when both are. */
enum av_zram_tool av_zram_detect(const struct av_ctx *ctx);

/* Its configuration file, service and package name. */
const char *av_zram_conf_path(enum av_zram_tool tool);
const char *av_zram_service(enum av_zram_tool tool);
const char *av_zram_package(enum av_zram_tool tool);

/* 0 when @o is something the tools accept, else -EINVAL (logged). */
int av_zram_check(const struct av_ctx *ctx, const struct av_zram_opts *o);

/*
 * The configuration @text (NULL: no file yet) of @tool with @o applied.
 * zram-tools: a KEY= line is changed in place, a commented default
 * "#KEY=..." is uncommented, only a key that is nowhere is appended; setting
 * SIZE comments out an active PERCENT (which would override it).
 * zram-generator: the keys of section [zram0] (added when missing).
 * Returns a malloc'd string or NULL on no memory.
 */
char *av_zram_edit(enum av_zram_tool tool, const char *text, const struct av_zram_opts *o);

#endif
