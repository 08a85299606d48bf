/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which boot chain the machine under the root prefix uses: the initramfs
 * generator (initramfs-tools or dracut) and the boot loader (GRUB through
 * grub-mkconfig, or systemd-boot / another loader of Boot Loader
 * Specification entries written by kernel-install). Found from the files the
 * packages install, so a prefixed root answers like the real one.
 */
#ifndef AV_BOOTCHAIN_H
#define AV_BOOTCHAIN_H

#include "ctx.h"

/* Names the user may give in $AUTO_VFIO_BOOT_LOADER when both loaders are installed. */
#define AV_BOOT_LOADER_ENV "AUTO_VFIO_BOOT_LOADER"

enum av_initramfs_gen {
	AV_GEN_UNKNOWN = 0,
	AV_GEN_INITRAMFS_TOOLS,
	AV_GEN_DRACUT,
};

enum av_loader {
	AV_LOADER_UNKNOWN = 0,
	AV_LOADER_GRUB,
	AV_LOADER_BLS,	     /* systemd-boot or another BLS loader, entries by kernel-install */
	AV_LOADER_AMBIGUOUS, /* both are installed and nothing says which one boots */
};

struct av_bootchain {
	enum av_initramfs_gen gen;
	enum av_loader loader;
	/* the evidence, for the user: "/etc/kernel/postinst.d/dracut", ... */
	char gen_why[128];
	char loader_why[192];
};

void av_bootchain_detect(const struct av_ctx *ctx, struct av_bootchain *bc);

/* "initramfs-tools", "dracut", "unknown". */
const char *av_gen_name(enum av_initramfs_gen gen);
/* "GRUB", "systemd-boot (BLS)", "unknown", "ambiguous". */
const char *av_loader_name(enum av_loader loader);

/* The command that rebuilds every installed kernel's initramfs. */
const char *av_gen_update_cmd(enum av_initramfs_gen gen);
/* The command that rewrites the boot entries (GRUB's when the loader is not known). */
const char *av_loader_update_cmd(enum av_loader loader);

/*
 * The image the generator writes for kernel @release, found under the root
 * prefix, as an absolute path without the prefix in @buf: Debian's
 * /boot/initrd.img-<release> (both generators), then dracut's
 * /boot/initramfs-<release>.img. 0, or -ENOENT (then @buf holds the first
 * name), or -ENAMETOOLONG.
 */
int av_gen_image(const struct av_ctx *ctx, enum av_initramfs_gen gen, const char *release,
		 char *buf, size_t size);

#endif
