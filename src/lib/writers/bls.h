/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Boot Loader Specification (type #1) entries for systemd-boot, written
 * beside the ones kernel-install's 90-loaderentry writes: per kernel one
 * entry per GPU the host can keep and one headless entry, computed by the
 * same selection engine as the GRUB entries (select.h), named
 * <plain entry>-auto-vfio-host-DDDD-BB-DD.F.conf and
 * <plain entry>-auto-vfio-headless.conf (FAT has no ':').
 */
#ifndef AV_BLS_H
#define AV_BLS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "ctx.h"
#include "machine.h"

#define AV_KERNEL_CMDLINE "/etc/kernel/cmdline"

/*
 * The directory kernel-install writes entries to under @ctx's root: the
 * first of /efi, /boot/efi, /boot holding loader/entries. The absolute path
 * (without the root prefix) of that loader/entries in @buf. 0 or -ENOENT.
 */
int av_bls_entries_dir(const struct av_ctx *ctx, char *buf, size_t size);

/*
 * The value of key @key in the BLS entry @text, malloc'd; NULL when absent
 * (or out of memory). @last: the last line with that key (of several initrd
 * lines the earlier ones are microcode), else the first.
 */
char *av_bls_key(const char *text, const char *key, bool last);

struct av_bls_result {
	unsigned written, removed, cleaned; /* our entries; plain entries rid of a bind token */
};

/*
 * Kernel-install's "add" for @kver: write our entries beside its plain entry
 * in @dir (a real path: kernel-install's $BOOT_ROOT/loader/entries), named
 * after it (@token, when not NULL, must start its name), and take any
 * auto_vfio.bind= out of the plain entry. The configuration and the machine
 * are read under @ctx's root; names from @pci_ids (NULL: the default).
 * Not configured: nothing. Not multi-boot: only our old entries go.
 * 0 or -errno (logged); -ENOENT when there is no plain entry for @kver.
 */
int av_bls_add(const struct av_ctx *ctx, const char *dir, const char *token, const char *kver,
	       const char *pci_ids, struct av_bls_result *res);

/* Remove our entries for @kver (NULL: for every kernel) from @dir. 0 or -errno. */
int av_bls_remove(const struct av_ctx *ctx, const char *dir, const char *token, const char *kver,
		  struct av_bls_result *res);

/* av_bls_add() for every plain entry in @dir. 0 or the first -errno. */
int av_bls_regenerate(const struct av_ctx *ctx, const char *dir, const char *pci_ids,
		      struct av_bls_result *res);

/*
 * In @dir (a real path): *@ours our entries, *@binding plain entries whose
 * options pass devices through (auto_vfio.bind=). 0 or -errno.
 */
int av_bls_count(const char *dir, size_t *ours, size_t *binding);

/*
 * The content of /etc/kernel/cmdline for @cfg: the words of @base (the
 * file's current content, else /usr/lib/kernel/cmdline, else the running
 * command line; never a bind token, BOOT_IMAGE= or initrd=) plus the IOMMU
 * parameters, plus in static mode (unless @static_ids) the selection's bind
 * token. 0 or -errno (a selection that no longer resolves: logged).
 */
int av_bls_kernel_cmdline(const struct av_ctx *ctx, const struct av_machine *m,
			  const struct av_config *cfg, bool static_ids, const char *base,
			  char **out);

#endif
