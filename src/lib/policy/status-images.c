// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio status: the systemd-boot entries and every kernel's initramfs image. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bls.h"
#include "initramfs.h"
#include "status-int.h"

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

void av_status_check_initramfs(struct coll *c, enum av_initramfs_gen gen, const char *rel)
{
	const struct gen_layout *gl =
	    &gen_layouts[gen == AV_GEN_DRACUT ? AV_GEN_DRACUT : AV_GEN_INITRAMFS_TOOLS];
	struct av_initramfs ir;
	struct av_kconfig kc;
	char img[PATH_MAX], fix[512], missing[256] = "", pat[AV_RELEASE_LEN + 64];
	bool pci_in = false, vfio_in = false, have_kc, have_hook = false;
	size_t ml = 0;
	int err;

	av_gen_image(c->ctx, gen, rel, img, sizeof(img));
	snprintf(fix, sizeof(fix), gl->update_fmt, rel);
	err = av_initramfs_list(c->ctx, img, &ir);
	if (err == -ENOENT) {
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
		if (!have_hook) {
			char redo[128];

			snprintf(redo, sizeof(redo), gl->update_fmt, rel);
			snprintf(fix, sizeof(fix),
				 "reinstall auto-vfio (its %s is missing), then %s",
				 gen == AV_GEN_DRACUT ? "dracut module" : "initramfs hook", redo);
		}
		av_status_add(c, AV_STATUS_PROBLEM, "initramfs", rel, fix, "%s lacks %s", img,
			      missing);
	} else {
		av_status_add(c, AV_STATUS_OK, "initramfs", rel, NULL,
			      "%s carries the binder, its boot script and vfio-pci (%s, %zu files)",
			      img, ir.format, ir.n);
	}
	av_initramfs_release(&ir);
}
