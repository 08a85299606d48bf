// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio status: the systemd-boot entries and every kernel's initramfs image. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bls.h"
#include "fileops.h"
#include "initramfs.h"
#include "macro.h"
#include "status-internal.h"

/* systemd-boot: our entries are there in multi-boot mode, no plain entry binds. */
void av_status_check_bls(struct coll *c, const struct av_config *cfg)
{
	char rel[PATH_MAX], dir[2 * PATH_MAX];
	size_t nours, binding;

	if (av_bls_entries_dir(c->ctx, rel, sizeof(rel)) < 0 ||
	    (snprintf(dir, sizeof(dir), "%s%s", c->ctx->root, rel),
	     av_bls_count(dir, &nours, &binding) < 0)) {
		av_status_add(
		    c, AV_STATUS_PROBLEM, "bootchain", "", "run 'auto-vfio setup' again",
		    "no systemd-boot entries directory (loader/entries) under %s/efi, /boot/efi or "
		    "/boot",
		    c->ctx->root);
		return;
	}
	if (cfg->mode == AV_MODE_MULTIBOOT && nours == 0)
		av_status_add(
		    c, AV_STATUS_PROBLEM, "bootchain", "",
		    "kernel-install add KVER /boot/vmlinuz-KVER for each kernel (or 'auto-vfio "
		    "setup')",
		    "no auto-vfio systemd-boot entries in %s", rel);
	else if (cfg->mode == AV_MODE_MULTIBOOT)
		av_status_add(c, AV_STATUS_OK, "bootchain", "", NULL,
			      "%zu auto-vfio systemd-boot entr%s in %s", nours,
			      nours == 1 ? "y" : "ies", rel);
	if (cfg->mode == AV_MODE_MULTIBOOT && binding)
		av_status_add(
		    c, AV_STATUS_PROBLEM, "bootchain", "",
		    "kernel-install add KVER /boot/vmlinuz-KVER for that kernel",
		    "%zu plain systemd-boot entr%s in %s pass%s devices through (auto_vfio.bind=)",
		    binding, binding == 1 ? "y" : "ies", rel, binding == 1 ? "es" : "");
}

/* Where each generator keeps the pieces our hook or module puts into an image. */
static const struct gen_layout {
	const char *script_pat, *script_what, *update_fmt, *create_fmt;
	const char *const hooks[4]; /* our build-time hook or module, any of these */
} gen_layouts[] = {
    [AV_GEN_INITRAMFS_TOOLS] = {"scripts/init-top/auto-vfio*",
				"the boot script scripts/init-top/auto-vfio",
				"update-initramfs -u -k %s",
				"update-initramfs -c -k %s",
				{"/usr/share/initramfs-tools/hooks/auto-vfio",
				 "/usr/local/share/initramfs-tools/hooks/auto-vfio",
				 "/etc/initramfs-tools/hooks/auto-vfio", NULL}},
    [AV_GEN_DRACUT] = {"*dracut/hooks/pre-udev/*auto-vfio*",
		       "the pre-udev hook of the dracut module 90auto-vfio",
		       "dracut --force --kver %s",
		       "dracut --force --kver %s",
		       {"/usr/lib/dracut/modules.d/90auto-vfio/module-setup.sh", NULL}},
};

/*
 * systemd-boot boots the initrd its entry names: a copy kernel-install made
 * beside the kernel on the ESP ($BOOT/$TOKEN/$KVER/...), not /boot's image.
 * The plain entry of @rel (its name in @entry), and its last initrd line
 * (the earlier ones are microcode) as a path under the root in @img.
 * 0, -ENOENT no entry for @rel, -ENODATA an entry without an initrd.
 */
static int bls_image(const struct coll *c, const char *rel, char *entry, size_t esize, char *img,
		     size_t size)
{
	char dir[PATH_MAX], full[PATH_MAX];
	struct dirent **list;
	int n, err = -ENOENT;

	if (av_bls_entries_dir(c->ctx, dir, sizeof(dir)) < 0 ||
	    av_path(c->ctx, full, sizeof(full), "%s", dir) < 0)
		return -ENOENT;
	n = scandir(full, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;
		size_t l = strlen(nm);
		char path[2 * PATH_MAX], version[128], initrd[PATH_MAX];
		struct av_file f;

		if (err == -ENOENT && l > 5 && strcmp(nm + l - 5, ".conf") == 0 &&
		    !strstr(nm, "-" AV_ENTRY_ID_PREFIX) &&
		    snprintf(path, sizeof(path), "%s/%s", dir, nm) < (int)sizeof(path) &&
		    av_file_read(c->ctx, path, &f) == 0 && f.exists) {
			_cleanup_free_ char *v = av_bls_key(f.data, "version", false);
			_cleanup_free_ char *ird = av_bls_key(f.data, "initrd", true);

			snprintf(version, sizeof(version), "%s", v ? v : "");
			snprintf(initrd, sizeof(initrd), "%s", ird ? ird : "");
			av_file_release(&f);
			if (strcmp(version, rel) == 0) {
				snprintf(entry, esize, "%s", nm);
				/* paths are relative to the partition holding loader/entries */
				dir[strlen(dir) - strlen("/loader/entries")] = '\0';
				err = initrd[0] ? 0 : -ENODATA;
				if (snprintf(img, size, "%s%s%s", dir, initrd[0] == '/' ? "" : "/",
					     initrd) >= (int)size)
					err = -ENODATA;
			}
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	return err;
}

void av_status_check_initramfs(struct coll *c, enum av_initramfs_gen gen, const char *rel)
{
	const struct gen_layout *gl =
	    &gen_layouts[gen == AV_GEN_DRACUT ? AV_GEN_DRACUT : AV_GEN_INITRAMFS_TOOLS];
	struct av_initramfs ir;
	struct av_kconfig kc;
	char img[PATH_MAX], fix[PATH_MAX + 1024], missing[256] = "", pat[AV_RELEASE_LEN + 64];
	char entry[NAME_MAX + 1], boot_img[PATH_MAX], redo[PATH_MAX + 512];
	bool pci_in = false, vfio_in = false, have_kc, have_hook = false, in_boot;
	int err = c->bc.loader == AV_LOADER_BLS
		      ? bls_image(c, rel, entry, sizeof(entry), img, sizeof(img))
		      : -ENOENT;
	size_t ml = 0;

	in_boot = av_gen_image(c->ctx, gen, rel, boot_img, sizeof(boot_img)) == 0;
	if (err == -ENOENT) {
		/* GRUB boots /boot's image; with no entry, kernel-install would copy it */
		entry[0] = '\0';
		snprintf(img, sizeof(img), "%s", boot_img);
		snprintf(redo, sizeof(redo), gl->update_fmt, rel);
	} else if (in_boot) {
		/* the generator rebuilds /boot's image, kernel-install copies it beside the kernel
		 */
		snprintf(pat, sizeof(pat), gl->update_fmt, rel);
		snprintf(redo, sizeof(redo), "%s, then kernel-install add %s /boot/vmlinuz-%s %s",
			 pat, rel, rel, boot_img);
	} else {
		/* no image in /boot: kernel-install's own initrd plugin (dracut's) makes it */
		snprintf(redo, sizeof(redo), "kernel-install add %s /boot/vmlinuz-%s", rel, rel);
	}
	if (err == -ENODATA) {
		av_status_add(c, AV_STATUS_PROBLEM, "initramfs", rel, redo,
			      "the systemd-boot entry %s boots kernel %s without an initramfs: the "
			      "binder never runs",
			      entry, rel);
		return;
	}
	snprintf(fix, sizeof(fix), "%s", redo);
	err = av_initramfs_list(c->ctx, img, &ir);
	if (entry[0]) /* say where the image comes from */
		snprintf(img + strlen(img), sizeof(img) - strlen(img), " (systemd-boot entry %s)",
			 entry);
	if (err == -ENOENT) {
		if (!entry[0])
			snprintf(fix, sizeof(fix), gl->create_fmt, rel);
		av_status_add(c, AV_STATUS_PROBLEM, "initramfs", rel, fix, "no initramfs image %s",
			      img);
		return;
	}
	if (err == -ENOPKG) {
		av_status_add(c, AV_STATUS_WARN, "initramfs", rel,
			      "install the decompressor named in the message above",
			      "%s cannot be checked: its decompressor is not installed", img);
		return;
	}
	if (err < 0) {
		av_status_add(c, AV_STATUS_PROBLEM, "initramfs", rel, fix, "%s cannot be read: %s",
			      img, err == -EINVAL ? "damaged or unknown format" : strerror(-err));
		return;
	}
	have_kc = av_kconfig_load(c->ctx, rel, &kc) == 0;
	/* a built-in driver needs no module in the image */
	if (have_kc && av_kconfig_get(&kc, "VFIO_PCI", NULL, 0) == AV_KCONFIG_BUILTIN)
		pci_in = true;
	if (have_kc && av_kconfig_get(&kc, "VFIO", NULL, 0) == AV_KCONFIG_BUILTIN)
		vfio_in = true;
	if (have_kc)
		av_kconfig_release(&kc);
	snprintf(pat, sizeof(pat), "*lib/modules/%s/*/vfio[-_]pci.ko*", rel);
	pci_in = pci_in || av_initramfs_find(&ir, pat);
	snprintf(pat, sizeof(pat), "*lib/modules/%s/*/vfio.ko*", rel);
	vfio_in = vfio_in || av_initramfs_find(&ir, pat);
	if (!av_initramfs_find(&ir, "*bin/auto-vfio-bind"))
		ml += (size_t)snprintf(missing + ml, sizeof(missing) - ml,
				       "%sthe binder auto-vfio-bind", ml ? ", " : "");
	if (!av_initramfs_find(&ir, gl->script_pat))
		ml += (size_t)snprintf(missing + ml, sizeof(missing) - ml, "%s%s", ml ? ", " : "",
				       gl->script_what);
	if (!pci_in)
		ml += (size_t)snprintf(missing + ml, sizeof(missing) - ml, "%svfio-pci.ko",
				       ml ? ", " : "");
	if (!vfio_in)
		ml += (size_t)snprintf(missing + ml, sizeof(missing) - ml, "%svfio.ko",
				       ml ? ", " : "");
	if (ml) {
		for (size_t i = 0; gl->hooks[i]; i++)
			have_hook = have_hook || av_status_exists(c->ctx, gl->hooks[i]);
		if (!have_hook)
			snprintf(fix, sizeof(fix),
				 "reinstall auto-vfio (its %s is missing), then %s",
				 gen == AV_GEN_DRACUT ? "dracut module" : "initramfs hook", redo);
		av_status_add(c, AV_STATUS_PROBLEM, "initramfs", rel, fix, "%s lacks %s", img,
			      missing);
	} else {
		av_status_add(c, AV_STATUS_OK, "initramfs", rel, NULL,
			      "%s carries the binder, its boot script and vfio-pci (%s, %zu files)",
			      img, ir.format, ir.n);
	}
	av_initramfs_release(&ir);
}
