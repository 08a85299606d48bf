// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The boot chain, from what the packages leave on disk. Debian lets
 * dracut-core sit beside initramfs-tools (only the dracut package, which
 * conflicts with initramfs-tools, installs the kernel hook that builds the
 * images), and systemd ships kernel-install whatever the loader is, so
 * neither program alone says anything: the hooks and the loader's own files do.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootchain.h"
#include "fileops.h"

static bool exists(const struct av_ctx *ctx, const char *abspath)
{
	char path[PATH_MAX];

	return av_path(ctx, path, sizeof(path), "%s", abspath) == 0 && access(path, F_OK) == 0;
}

/* The first of @paths (NULL-terminated) that exists, or NULL. */
static const char *first(const struct av_ctx *ctx, const char *const *paths)
{
	for (; *paths; paths++)
		if (exists(ctx, *paths))
			return *paths;
	return NULL;
}

static void detect_gen(const struct av_ctx *ctx, struct av_bootchain *bc)
{
	static const char *const dracut_hook[] = {"/etc/kernel/postinst.d/dracut", NULL};
	static const char *const itools[] = {"/usr/sbin/update-initramfs", "/sbin/update-initramfs",
					     "/etc/initramfs-tools/initramfs.conf",
					     "/etc/initramfs-tools", NULL};
	static const char *const dracut[] = {"/usr/bin/dracut", "/usr/sbin/dracut", "/bin/dracut",
					     NULL};
	const char *why;

	if ((why = first(ctx, dracut_hook))) {
		bc->gen = AV_GEN_DRACUT;
	} else if ((why = first(ctx, itools))) {
		bc->gen = AV_GEN_INITRAMFS_TOOLS;
	} else if ((why = first(ctx, dracut))) {
		bc->gen = AV_GEN_DRACUT;
	} else {
		bc->gen = AV_GEN_UNKNOWN;
		why = "neither update-initramfs nor dracut is installed";
	}
	snprintf(bc->gen_why, sizeof(bc->gen_why), "%s", why);
}

/* layout= in /etc/kernel/install.conf ("bls", "other", ...), "" when unset. */
static void install_layout(const struct av_ctx *ctx, char *buf, size_t size)
{
	struct av_file f;

	buf[0] = '\0';
	if (av_file_read(ctx, "/etc/kernel/install.conf", &f) < 0)
		return;
	for (const char *p = f.exists ? f.data : NULL; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > 7 && strncmp(p, "layout=", 7) == 0)
			snprintf(buf, size, "%.*s", (int)(len - 7), p + 7);
		p = eol ? eol + 1 : NULL;
	}
	av_file_release(&f);
}

static void detect_loader(const struct av_ctx *ctx, struct av_bootchain *bc)
{
	static const char *const bls[] = {"/efi/EFI/systemd/systemd-bootx64.efi",
					  "/boot/efi/EFI/systemd/systemd-bootx64.efi",
					  "/boot/EFI/systemd/systemd-bootx64.efi",
					  "/efi/loader/entries",
					  "/boot/efi/loader/entries",
					  "/boot/loader/entries",
					  NULL};
	static const char *const grub[] = {"/boot/grub/grub.cfg", "/etc/default/grub",
					   "/usr/sbin/grub-mkconfig", NULL};
	const char *env = getenv(AV_BOOT_LOADER_ENV), *b, *g;
	char layout[32];

	install_layout(ctx, layout, sizeof(layout));
	b = first(ctx, bls);
	if (!b && strcmp(layout, "bls") == 0)
		b = "/etc/kernel/install.conf (layout=bls)";
	g = first(ctx, grub);
	if (env && *env) {
		bool want_grub = strcmp(env, "grub") == 0;

		if (want_grub || strcmp(env, "systemd-boot") == 0 || strcmp(env, "bls") == 0) {
			bc->loader = want_grub ? AV_LOADER_GRUB : AV_LOADER_BLS;
			snprintf(bc->loader_why, sizeof(bc->loader_why), "$%s=%s",
				 AV_BOOT_LOADER_ENV, env);
			return;
		}
	}
	if (b && g) {
		bc->loader = AV_LOADER_AMBIGUOUS;
		snprintf(bc->loader_why, sizeof(bc->loader_why), "%s and %s", g, b);
	} else if (b || g) {
		bc->loader = b ? AV_LOADER_BLS : AV_LOADER_GRUB;
		snprintf(bc->loader_why, sizeof(bc->loader_why), "%s", b ? b : g);
	} else {
		bc->loader = AV_LOADER_UNKNOWN;
		snprintf(bc->loader_why, sizeof(bc->loader_why),
			 "neither GRUB (/etc/default/grub) nor BLS entries (loader/entries) found");
	}
}

void av_bootchain_detect(const struct av_ctx *ctx, struct av_bootchain *bc)
{
	memset(bc, 0, sizeof(*bc));
	detect_gen(ctx, bc);
	detect_loader(ctx, bc);
}

const char *av_gen_name(enum av_initramfs_gen gen)
{
	switch (gen) {
	case AV_GEN_INITRAMFS_TOOLS:
		return "initramfs-tools";
	case AV_GEN_DRACUT:
		return "dracut";
	default:
		return "unknown";
	}
}

const char *av_loader_name(enum av_loader loader)
{
	switch (loader) {
	case AV_LOADER_GRUB:
		return "GRUB";
	case AV_LOADER_BLS:
		return "systemd-boot (BLS entries by kernel-install)";
	case AV_LOADER_AMBIGUOUS:
		return "ambiguous";
	default:
		return "unknown";
	}
}

const char *av_gen_update_cmd(enum av_initramfs_gen gen)
{
	return gen == AV_GEN_DRACUT ? "dracut --regenerate-all --force"
				    : "update-initramfs -u -k all";
}

const char *av_loader_update_cmd(enum av_loader loader)
{
	return loader == AV_LOADER_BLS ? "kernel-install add (every kernel in /boot)"
				       : "update-grub";
}

int av_gen_image(const struct av_ctx *ctx, enum av_initramfs_gen gen, const char *release,
		 char *buf, size_t size)
{
	/* Debian's dracut names its images as initramfs-tools does; upstream's default second */
	static const char *const names[] = {"/boot/initrd.img-%s", "/boot/initramfs-%s.img"};
	size_t nnames = gen == AV_GEN_DRACUT ? 2 : 1;

	for (size_t i = 0; i < nnames; i++) {
		int n = snprintf(buf, size, names[i], release);

		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		if (exists(ctx, buf))
			return 0;
	}
	snprintf(buf, size, names[0], release);
	return -ENOENT;
}
