// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio status: each selected device: its driver, a firmware framebuffer over it, its reset. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fileops.h"
#include "pciclass.h"
#include "plan.h"
#include "status-internal.h"
#include "sysfs.h"

/*
 * GPUs whose reset leaves them unusable for a second VM start, from the
 * device lists of the vendor-reset module: Polaris 10/11/12, Vega 10/20,
 * Navi 10/12/14 (all vendor 1002).
 */
static const struct {
	uint16_t first, last;
	const char *family;
} reset_quirks[] = {
    {0x67c0, 0x67ff, "AMD Polaris"}, {0x6980, 0x699f, "AMD Polaris 12"},
    {0x6fdf, 0x6fdf, "AMD Polaris"}, {0x6860, 0x687f, "AMD Vega 10"},
    {0x66a0, 0x66af, "AMD Vega 20"}, {0x7310, 0x731f, "AMD Navi 10"},
    {0x7340, 0x734f, "AMD Navi 14"}, {0x7360, 0x7362, "AMD Navi 12"},
};

/*
 * The GPU family of @vendor:@device when it is known to lack a usable reset
 * (the "AMD reset bug"), else NULL.
 */
static const char *reset_quirk(uint16_t vendor, uint16_t device)
{
	if (vendor != 0x1002)
		return NULL;
	for (size_t i = 0; i < sizeof(reset_quirks) / sizeof(reset_quirks[0]); i++)
		if (device >= reset_quirks[i].first && device <= reset_quirks[i].last)
			return reset_quirks[i].family;
	return NULL;
}

struct range {
	unsigned long long start, end;
};

/* Firmware framebuffers as /proc/iomem names them. */
static bool fb_name(const char *name)
{
	static const char *const names[] = {"BOOTFB", "efifb", "simple-framebuffer", "simplefb",
					    "vesafb"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strstr(name, names[i]))
			return true;
	return false;
}

/*
 * The framebuffer range in /proc/iomem that overlaps one of @bars. Returns
 * 1 (name in @name), 0 none, -1 when iomem shows no addresses (not root).
 */
static int iomem_fb(const struct av_ctx *ctx, const struct range *bars, size_t nbars, char *name,
		    size_t size)
{
	struct av_file f;
	bool any_addr = false;
	int found = 0;

	if (av_file_read(ctx, "/proc/iomem", &f) < 0 || !f.exists)
		return -1;
	for (char *line = f.data, *next; line && *line && !found; line = next) {
		unsigned long long s, e;
		char nm[128];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, " %llx-%llx : %127[^\n]", &s, &e, nm) != 3)
			continue;
		any_addr = any_addr || e != 0;
		if (!fb_name(nm))
			continue;
		for (size_t i = 0; i < nbars; i++) {
			if (s <= bars[i].end && e >= bars[i].start) {
				snprintf(name, size, "%s", nm);
				found = 1;
				break;
			}
		}
	}
	av_file_release(&f);
	return found ? 1 : any_addr ? 0 : -1;
}

/*
 * A platform framebuffer driver with a device bound (its name in @name, the
 * driver's in *@drv): where iomem cannot tell, and what to unbind.
 */
static bool platform_fb(const struct av_ctx *ctx, char *name, size_t size, const char **drv)
{
	static const char *const drivers[] = {"simple-framebuffer", "efi-framebuffer",
					      "vesa-framebuffer"};

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		char path[PATH_MAX];
		struct dirent *de;
		DIR *d;

		if (av_path(ctx, path, sizeof(path), "/sys/bus/platform/drivers/%s", drivers[i]) <
			0 ||
		    !(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, drivers[i], strlen(drivers[i])) == 0 &&
			    strchr(de->d_name, '.')) {
				snprintf(name, size, "%s", de->d_name);
				*drv = drivers[i];
				closedir(d);
				return true;
			}
		}
		closedir(d);
	}
	return false;
}

/*
 * A boot that passes the boot VGA device carries AV_BOOTFB_PARAM, so no
 * firmware framebuffer should ever be set up over a passed GPU: one there is
 * a fault, and the fix depends on whether the parameter was on this boot.
 */
static void check_framebuffer(struct coll *c, const struct av_dev *d)
{
	struct range bars[6];
	size_t nbars = 0;
	char path[PATH_MAX], name[300], pname[300], fix[768], menu[96];
	const char *drv = NULL;
	bool have_pdev;
	FILE *f;
	int r;

	if (av_path(c->ctx, path, sizeof(path), "/sys/bus/pci/devices/%s/resource", d->address) ==
		0 &&
	    (f = fopen(path, "re"))) {
		unsigned long long s, e, flags;

		/* the six BARs; the ROM and bridge windows come after */
		for (int i = 0; i < 6 && fscanf(f, "%llx %llx %llx", &s, &e, &flags) == 3; i++)
			if ((flags & 0x200) && e > s) /* IORESOURCE_MEM */
				bars[nbars++] = (struct range){s, e};
		fclose(f);
	}
	r = nbars ? iomem_fb(c->ctx, bars, nbars, name, sizeof(name)) : -1;
	have_pdev = d->boot_vga && platform_fb(c->ctx, pname, sizeof(pname), &drv);
	if (r < 0 && have_pdev) {
		snprintf(name, sizeof(name), "%s", pname);
		r = 1;
	}
	if (r != 1)
		return;
	snprintf(menu, sizeof(menu), "run %s", av_status_menu_cmd(c));
	if (!av_status_cmdline_has(c->st->cmdline, AV_BOOTFB_PARAM))
		snprintf(fix, sizeof(fix),
			 "this boot lacks " AV_BOOTFB_PARAM ", which %s: %s, then reboot",
			 c->st->cfg.mode == AV_MODE_STATIC
			     ? "the static setup adds"
			     : "every entry passing the boot GPU carries",
			 c->st->cfg.mode == AV_MODE_STATIC ? "run 'auto-vfio setup --static' again"
							   : menu);
	else if (have_pdev)
		snprintf(fix, sizeof(fix),
			 "the kernel ignored " AV_BOOTFB_PARAM " (built without CONFIG_KALLSYMS?); "
			 "before starting the VM: echo %s > /sys/bus/platform/drivers/%s/unbind",
			 pname, drv);
	else
		snprintf(fix, sizeof(fix),
			 "something other than sysfb set up %s despite " AV_BOOTFB_PARAM
			 ": find its driver (dmesg | grep -i fb) and keep it from loading",
			 name);
	av_status_add(
	    c, AV_STATUS_PROBLEM, "framebuffer", d->address, fix,
	    "the firmware framebuffer %s still holds the memory of GPU %s: a VM cannot map "
	    "its BARs (vfio-pci: \"BAR 0: can't reserve\")",
	    name, d->address);
}

static void check_reset(struct coll *c, const struct av_dev *d)
{
	char methods[128];
	const char *quirk = reset_quirk(d->vendor, d->device);
	int n = av_read_attr(c->ctx, methods, sizeof(methods),
			     "/sys/bus/pci/devices/%s/reset_method", d->address);

	if (quirk) {
		av_status_add(
		    c, AV_STATUS_WARN, "reset", d->address,
		    "load the vendor-reset module, or reboot the host between VM starts",
		    "%04x:%04x is an %s GPU: it lacks a usable reset (the AMD reset bug), a second "
		    "VM start may find it hung",
		    d->vendor, d->device, quirk);
	} else if (n == 0 && d->gpu) {
		av_status_add(c, AV_STATUS_WARN, "reset", d->address,
			      "shut the VM down cleanly, or reboot the host between VM starts",
			      "%s has no reset method: it cannot be reset between VM starts",
			      d->address);
	} else if (n == 0 || n == -ENOENT) {
		av_status_add(c, AV_STATUS_INFO, "reset", d->address, NULL, "%s: %s", d->address,
			      n == 0 ? "no reset method"
				     : "reset methods unknown (no reset_method file)");
	}
	if (n > 0)
		av_status_add(c, AV_STATUS_OK, "reset", d->address, NULL, "%s resets by: %s",
			      d->address, methods);
}

void av_status_check_groups(struct coll *c)
{
	const struct av_machine *m = c->m;
	bool static_mode = c->st->cfg.mode == AV_MODE_STATIC;
	char fix[256];

	/* on systemd-boot the images that boot are copies kernel-install makes */
	snprintf(fix, sizeof(fix),
		 "make sure the initramfs carries the binder (%s%s%s), then " JOURNAL_HINT,
		 av_gen_update_cmd(c->bc.gen), c->bc.loader == AV_LOADER_BLS ? "; " : "",
		 c->bc.loader == AV_LOADER_BLS ? av_status_menu_cmd(c) : "");

	for (size_t g = 0; g < m->ngroups; g++) {
		/* a static setup always means VM; a multi-boot one only in the booted entry */
		bool vm = c->booted[g] || (static_mode && !c->st->booted.off);

		if (!c->selected[g])
			continue;
		for (size_t i = 0; i < m->groups[g].ndevs; i++) {
			const struct av_dev *d = &m->devs[m->groups[g].devs[i]];

			if (av_class_is_bridge(d->cls))
				continue;
			if (!vm)
				av_status_add(
				    c, AV_STATUS_INFO, "driver", d->address, NULL,
				    "%s (group %d) stays with the host this boot: driver %s",
				    d->address, m->groups[g].id, d->driver[0] ? d->driver : "none");
			else if (strcmp(d->driver, "vfio-pci") == 0)
				av_status_add(c, AV_STATUS_OK, "driver", d->address, NULL,
					      "%s (group %d) is on vfio-pci", d->address,
					      m->groups[g].id);
			else if (!d->driver[0])
				av_status_add(
				    c, AV_STATUS_WARN, "driver", d->address, JOURNAL_HINT,
				    "%s (group %d) has no driver: a VM can take it, but the binder "
				    "did not bind it",
				    d->address, m->groups[g].id);
			else
				av_status_add(c, AV_STATUS_PROBLEM, "driver", d->address, fix,
					      "%s (group %d) is driven by %s, not vfio-pci",
					      d->address, m->groups[g].id, d->driver);
			if (vm && d->gpu)
				check_framebuffer(c, d);
			check_reset(c, d);
		}
	}
}
