// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The menu: for each kernel one entry per GPU unit the host can keep, then
 * headless; the newest kernel at the top, older ones in a submenu.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auto-vfio-grub.h"
#include "grubemit.h"
#include "macro.h"

/*
 * One entry of one kernel. The newest kernel's ids carry no version, so a
 * saved default survives an upgrade.
 */
static int emit_entry(struct emitter *e, int indent, const struct av_kernel *k, bool newest,
		      const struct av_entry *en)
{
	const struct av_machine *m = e->m;
	const struct body *b = linux_body_of(e->bodies, e->nbodies, k->version);
	_cleanup_free_ char *bind = NULL, *extra = NULL, *text = NULL;
	char title[2048], id[256], ver[160] = "";
	size_t tl;
	int err;

	if (!newest)
		snprintf(ver, sizeof(ver), "%s-", k->version);
	tl = (size_t)snprintf(title, sizeof(title), "%s, with Linux %s (auto-vfio: ", e->os,
			      k->version);
	if (en->keep != AV_NONE) {
		tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "host keeps ");
		for (size_t i = 0; i < en->nvga && tl < sizeof(title); i++) {
			const struct av_dev *d = &m->devs[en->vga[i]];

			tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "%s%s %s at %s",
					       i ? " and " : "", d->vendor_name, d->device_name,
					       d->address);
		}
	} else {
		tl += (size_t)snprintf(title + tl, sizeof(title) - tl, "%s",
				       e->nentries > 1 ? "headless host, every selected GPU to VMs"
						       : "selected devices to VMs");
	}
	if (tl < sizeof(title) - 1)
		strcat(title, ")");
	snprintf(id, sizeof(id), AV_ENTRY_ID_PREFIX "%s%s", ver, en->id);

	err = av_entry_bind_param(m, en, &bind);
	if (err < 0)
		return err;
	/* only a passed boot GPU loses the firmware console (README: Binding at boot) */
	if (asprintf(&extra, "%s%s%s%s%s", e->params[0] ? " " : "", e->params, bind[0] ? " " : "",
		     bind, en->bootfb ? " " AV_BOOTFB_PARAM : "") < 0) {
		extra = NULL;
		return -ENOMEM;
	}
	text = b ? strdup(b->text) : linux_computed_body(e, k);
	if (!text)
		return -ENOMEM;
	av_grub_menuentry_begin(e->f, indent, &(struct av_grub_entry){title, id, e->classes});
	linux_write_body(e->f, indent + 1, text, extra);
	return av_grub_end(e->f, indent);
}

/* Every entry of one kernel: one per GPU unit the host can keep, then headless. */
static int emit_kernel(struct emitter *e, int indent, const struct av_kernel *k, bool newest)
{
	int err = 0;

	for (size_t i = 0; i < e->nentries && !err; i++)
		err = emit_entry(e, indent, k, newest, &e->entries[i]);
	return err;
}

int menu_emit(struct emitter *e, const struct av_kernel *k, size_t nk)
{
	char title[512];
	int err;

	fprintf(e->f, "### auto-vfio: VFIO passthrough entries, see auto-vfio.conf(5) ###\n");
	if (e->note)
		fprintf(e->f, "# auto-vfio: %s\n", e->note);
	err = emit_kernel(e, 0, &k[0], true);
	if (err < 0 || nk < 2)
		return err;
	if (e->env->disable_submenu) {
		for (size_t i = 1; i < nk && !err; i++)
			err = emit_kernel(e, 0, &k[i], false);
		return err;
	}
	snprintf(title, sizeof(title), "Advanced options for %s (auto-vfio, older kernels)", e->os);
	av_grub_submenu_begin(e->f, 0, title, AV_ENTRY_ID_PREFIX "older");
	for (size_t i = 1; i < nk && !err; i++)
		err = emit_kernel(e, 1, &k[i], false);
	if (!err)
		err = av_grub_end(e->f, 0);
	return err;
}

/*
 * Put the kernels in the order 10_linux put them in: its own entries when
 * they are at hand, else GRUB_TOP_LEVEL (a /boot/vmlinuz-* path) first when
 * the installed 10_linux honours it.
 */
void menu_kernel_order(const struct emitter *e, struct av_kernel *k, size_t nk)
{
	size_t front = 0;

	for (size_t i = 0; i < e->nbodies; i++)
		for (size_t j = front; j < nk; j++)
			if (strcmp(k[j].version, e->bodies[i].version) == 0) {
				struct av_kernel t = k[j];

				memmove(&k[front + 1], &k[front], (j - front) * sizeof(*k));
				k[front++] = t;
				break;
			}
	if (e->nbodies || !e->env->top_level_known || !e->env->top_level[0])
		return;
	for (size_t j = 0; j < nk; j++) {
		char path[NAME_MAX + 8];

		snprintf(path, sizeof(path), "/boot/%s", k[j].image);
		if (strcmp(path, e->env->top_level) == 0) {
			struct av_kernel t = k[j];

			memmove(&k[1], &k[0], j * sizeof(*k));
			k[0] = t;
			break;
		}
	}
}
