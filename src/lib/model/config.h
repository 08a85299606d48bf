/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/auto-vfio.conf: the user's selection, the single source from which the
 * GRUB entries and the static boot files are derived. Written only by
 * auto-vfio, but meant to be read by a person, so a plain line format:
 *
 *   # comment
 *   version = 1
 *   mode = multiboot | static | none
 *   select = DDDD:BB:DD.F@VVVV:DDDD        (one per line; the whole group goes)
 *   force_unsafe = DDDD:BB:DD.F@VVVV:DDDD  (pass that device's group even if unsafe)
 *   iommu_params = intel_iommu=on iommu=pt
 *   default = host-DDDD:BB:DD.F | headless  (multi-boot: GRUB's default entry)
 *
 * Parsing is strict: anything unexpected is an error naming path:line, so a
 * damaged file never turns into a different selection.
 */
#ifndef AV_CONFIG_H
#define AV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"
#include "ctx.h"

#ifndef AV_SYSCONFDIR
#define AV_SYSCONFDIR "/etc"
#endif
#define AV_CONFIG_PATH AV_SYSCONFDIR "/auto-vfio.conf"
#define AV_CONFIG_VERSION 1
#define AV_CONFIG_MAX_PARAMS 256
#define AV_DEFAULT_LEN 24
/* Every boot entry id auto-vfio writes starts with this. */
#define AV_ENTRY_ID_PREFIX "auto-vfio-"

enum av_mode {
	AV_MODE_NONE = 0,
	AV_MODE_MULTIBOOT,
	AV_MODE_STATIC,
};

struct av_config {
	int version;
	enum av_mode mode;
	size_t nselect;
	struct av_sel select[AV_MAX_SEL];
	size_t nforce;
	struct av_sel force_unsafe[AV_MAX_SEL];
	/* Kernel parameters that turn the IOMMU on for this CPU; "" when none. */
	char iommu_params[AV_CONFIG_MAX_PARAMS];
	/* The auto-vfio entry GRUB boots by default: "" (the distribution's), or as
	 * av_config_default() */
	char boot_default[AV_DEFAULT_LEN];
};

/* An empty configuration: current version, mode none, nothing selected. */
void av_config_init(struct av_config *cfg);

/*
 * Parse @len bytes of @text. @path only names the source in messages.
 * Every problem is logged through @ctx as "path:line: ..." and the result is
 * -EINVAL (the first problem's line is what matters; all are reported).
 * Returns 0 or -EINVAL; @cfg is only meaningful on success.
 */
int av_config_parse(const struct av_ctx *ctx, const char *path, const char *text, size_t len,
		    struct av_config *cfg);

/*
 * Read and parse AV_CONFIG_PATH under the root prefix. Returns 0, -ENOENT
 * when there is no file (not logged: not configured is a normal state),
 * -EINVAL on bad content, or another -errno (logged with the path).
 */
int av_config_load(const struct av_ctx *ctx, struct av_config *cfg);

/*
 * Format @cfg in the file format, with a short header comment, into a
 * malloc'd string (*out). Parsing the result gives @cfg back.
 * Returns 0, -EINVAL when @cfg holds something the parser would refuse,
 * or -ENOMEM.
 */
int av_config_format(const struct av_config *cfg, char **out);

/*
 * A default entry as the user names it: "plain" (the distribution's entry,
 * stored as ""), "headless", or "host-ADDR" (the address in any form
 * av_pci_addr_parse takes), into its canonical form in @out (the id is
 * "auto-vfio-" + @out). 0 or -EINVAL.
 */
int av_config_default(const char *in, char out[AV_DEFAULT_LEN]);
/* The id of the entry for "headless" or a kept GPU's address (any form), without prefix. */
int av_config_entry_id(const char *what, char out[AV_DEFAULT_LEN]);

/* "none", "multiboot", "static". */
const char *av_mode_name(enum av_mode mode);

/* True when @sel (same address and ID) is listed in force_unsafe. */
bool av_config_forced(const struct av_config *cfg, const struct av_sel *sel);

/*
 * Check a kernel parameter string the config may carry: words of
 * [A-Za-z0-9_.,:=/+-] separated by single blanks or tabs. 0 or -EINVAL.
 */
int av_config_check_params(const char *params);

#endif
