// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loading the PCI/IOMMU model from sysfs under the root prefix, with names
 * from libpci (pci.ids, plain or gzip'd, or udev's hwdb). The devices are
 * read here rather than by libpci's bus scan: that scan gives up on the
 * first unreadable device and takes garbage in a file for 0, while here one
 * broken device costs only itself and is named.
 */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>

#include "machine.h"
#include "strv.h"
#include "sysfs.h"

/*
 * libpci's error callback must not return and takes no user pointer: the
 * guard for the call in progress has to live outside the call. Thread-local,
 * set only while a libpci call runs.
 */
struct pci_guard {
	jmp_buf env;
	const struct av_ctx *ctx;
	char msg[512];
};
static _Thread_local struct pci_guard *pci_guard;

__attribute__((noreturn, format(printf, 1, 2))) static void pci_error_cb(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vsnprintf(pci_guard->msg, sizeof(pci_guard->msg), msg, ap);
	va_end(ap);
	longjmp(pci_guard->env, 1);
}

__attribute__((format(printf, 1, 2))) static void pci_warning_cb(char *msg, ...)
{
	char buf[512];
	va_list ap;

	/* Config-space fallbacks warn on fake trees that have no config file. */
	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	if (pci_guard)
		av_dbg(pci_guard->ctx, "libpci: %s", buf);
}

void av_machine_free(struct av_machine *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ndevs; i++) {
		free(m->devs[i].vendor_name);
		free(m->devs[i].device_name);
		free(m->devs[i].class_name);
	}
	for (size_t i = 0; i < m->ngroups; i++) {
		free(m->groups[i].devs);
		av_strv_free(m->groups[i].reasons, m->groups[i].nreasons);
		av_strv_free(m->groups[i].notes, m->groups[i].nnotes);
	}
	av_strv_free(m->notes, m->nnotes);
	free(m->devs);
	free(m->groups);
	free(m);
}

static int dev_cmp(const void *a, const void *b)
{
	return av_pci_addr_cmp(&((const struct av_dev *)a)->addr,
			       &((const struct av_dev *)b)->addr);
}

static int group_cmp(const void *a, const void *b)
{
	int x = ((const struct av_group *)a)->id, y = ((const struct av_group *)b)->id;

	return (x > y) - (x < y);
}

struct av_dev *av_machine_find(const struct av_machine *m, const struct av_pci_addr *addr)
{
	struct av_dev key = {.addr = *addr};

	return bsearch(&key, m->devs, m->ndevs, sizeof(*m->devs), dev_cmp);
}

struct av_group *av_machine_group(const struct av_machine *m, int id)
{
	struct av_group key = {.id = id};

	return bsearch(&key, m->groups, m->ngroups, sizeof(*m->groups), group_cmp);
}

bool av_machine_groups_take_boot_vga(const struct av_machine *m, const size_t *groups, size_t n)
{
	size_t g;

	if (m->boot_vga == AV_NONE)
		return false;
	g = m->devs[m->boot_vga].group_idx;
	for (size_t i = 0; g != AV_NONE && i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/* setjmp() sits in small functions so no local is live across a longjmp. */
static const char *lookup_guarded(struct pci_access *pacc, char *buf, int size, int flags,
				  unsigned a, unsigned b)
{
	if (setjmp(pci_guard->env))
		return NULL;
	return pci_lookup_name(pacc, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, a, b);
}

static char *lookup(struct pci_access *pacc, int flags, unsigned a, unsigned b,
		    const char *fallback)
{
	char buf[512];
	const char *name = pacc ? lookup_guarded(pacc, buf, sizeof(buf), flags, a, b) : NULL;

	return strdup(name ? name : fallback);
}

static int fill_names(struct pci_access *pacc, struct av_dev *d)
{
	char fb[64];

	snprintf(fb, sizeof(fb), "Vendor %04x", d->vendor);
	d->vendor_name = lookup(pacc, PCI_LOOKUP_VENDOR, d->vendor, 0, fb);
	snprintf(fb, sizeof(fb), "Device %04x", d->device);
	d->device_name = lookup(pacc, PCI_LOOKUP_DEVICE, d->vendor, d->device, fb);
	snprintf(fb, sizeof(fb), "Class %04x", d->cls);
	d->class_name = lookup(pacc, PCI_LOOKUP_CLASS, d->cls, 0, fb);
	/* An unknown subclass comes back as "Class name [ccss]": the code is shown anyway. */
	if (d->class_name) {
		size_t len = strlen(d->class_name);
		char tail[16];

		snprintf(tail, sizeof(tail), " [%04x]", d->cls);
		if (len > strlen(tail) && strcmp(d->class_name + len - strlen(tail), tail) == 0)
			d->class_name[len - strlen(tail)] = '\0';
	}
	return d->vendor_name && d->device_name && d->class_name ? 0 : -ENOMEM;
}

static int read_optional_hex(const struct av_ctx *ctx, const char *addr, const char *attr,
			     unsigned long max, unsigned long *val)
{
	int err = av_read_hex(ctx, val, "/sys/bus/pci/devices/%s/%s", addr, attr);

	if (err == -ENOENT)
		return err;
	if (err < 0 || *val > max) {
		av_warn(ctx, "%s/sys/bus/pci/devices/%s/%s: %s", ctx->root, addr, attr,
			err < 0 ? strerror(-err) : "value out of range");
		return -EINVAL;
	}
	return 0;
}

/* One device: 0 when filled, -EINVAL when it must be left out (already logged). */
/*
 * A sysfs name in the kernel's own form (domain, lower-case hex): another
 * spelling of the same address would list one device twice.
 */
static bool kernel_addr(const char *name, struct av_pci_addr *a)
{
	char canon[AV_ADDR_LEN];

	if (av_pci_addr_parse(name, false, a) < 0)
		return false;
	av_pci_addr_format(a, canon);
	return strcmp(canon, name) == 0;
}

static int load_dev(const struct av_ctx *ctx, const char *name, struct av_dev *d)
{
	static const char *const required[] = {"vendor", "device", "class"};
	unsigned long val[3], v;
	char buf[64];
	int err;

	memset(d, 0, sizeof(*d));
	d->group = AV_NO_GROUP;
	d->group_idx = AV_NONE;
	d->companion_of = AV_NONE;
	d->revision = -1;
	if (!kernel_addr(name, &d->addr)) {
		av_warn(ctx, "%s/sys/bus/pci/devices/%s: not a PCI address, ignored", ctx->root,
			name);
		return -EINVAL;
	}
	av_pci_addr_format(&d->addr, d->address);
	for (int i = 0; i < 3; i++) {
		err = av_read_hex(ctx, &val[i], "/sys/bus/pci/devices/%s/%s", name, required[i]);
		if (err < 0 || val[i] > (i < 2 ? 0xffffUL : 0xffffffUL)) {
			av_warn(ctx, "%s/sys/bus/pci/devices/%s/%s: %s; device left out", ctx->root,
				name, required[i],
				err == -EINVAL || err >= 0 ? "not a hex number in range"
				: err == -EILSEQ	   ? "holds a NUL byte"
							   : strerror(-err));
			return -EINVAL;
		}
	}
	d->vendor = (uint16_t)val[0];
	d->device = (uint16_t)val[1];
	d->class = (uint32_t)val[2];
	d->cls = (uint16_t)(d->class >> 8);

	/*
	 * The driver and group links, one readlink each. libpci resolves them
	 * with realpath() (a readlink per path component, the bulk of its time
	 * on a large machine) and misses absolute links, which fake trees may use.
	 */
	av_read_link_base(ctx, d->driver, sizeof(d->driver), "/sys/bus/pci/devices/%s/driver",
			  name);
	if (av_read_link_base(ctx, buf, sizeof(buf), "/sys/bus/pci/devices/%s/iommu_group", name) ==
	    0) {
		char *end;
		long g = strtol(buf, &end, 10);

		if (isdigit((unsigned char)*buf) && !*end && g >= 0 && g < 1L << 30)
			d->group = (int)g;
	}

	if (read_optional_hex(ctx, name, "subsystem_vendor", 0xffff, &v) == 0)
		d->subvendor = (uint16_t)v;
	if (read_optional_hex(ctx, name, "subsystem_device", 0xffff, &v) == 0)
		d->subdevice = (uint16_t)v;
	if (read_optional_hex(ctx, name, "revision", 0xff, &v) == 0)
		d->revision = (int)v;
	/* the kernel has boot_vga for display devices only */
	if ((d->cls >> 8) == 0x03 &&
	    av_read_attr(ctx, buf, sizeof(buf), "/sys/bus/pci/devices/%s/boot_vga", name) >= 0)
		d->boot_vga = strcmp(buf, "1") == 0;
	return 0;
}

static int load_devices(const struct av_ctx *ctx, struct pci_access *pacc, struct av_machine *m)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *dir;
	int err = 0;

	if (av_path(ctx, path, sizeof(path), "/sys/bus/pci/devices") < 0)
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir) {
		err = -errno;
		av_err(ctx, "%s: %s", path, strerror(errno));
		return err;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (m->ndevs == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct av_dev *nd = realloc(m->devs, ncap * sizeof(*nd));

			if (!nd) {
				err = -ENOMEM;
				break;
			}
			m->devs = nd;
			cap = ncap;
		}
		if (load_dev(ctx, de->d_name, &m->devs[m->ndevs]) < 0)
			continue;
		err = fill_names(pacc, &m->devs[m->ndevs]);
		m->ndevs++;
		if (err < 0)
			break;
	}
	closedir(dir);
	if (err == 0)
		qsort(m->devs, m->ndevs, sizeof(*m->devs), dev_cmp);
	return err;
}

static struct av_group *group_get(struct av_machine *m, int id)
{
	struct av_group *g;

	for (size_t i = 0; i < m->ngroups; i++)
		if (m->groups[i].id == id)
			return &m->groups[i];
	g = realloc(m->groups, (m->ngroups + 1) * sizeof(*g));
	if (!g)
		return NULL;
	m->groups = g;
	g = &m->groups[m->ngroups++];
	memset(g, 0, sizeof(*g));
	g->id = id;
	return g;
}

static int group_add_dev(struct av_group *g, size_t idx)
{
	size_t *nd;

	for (size_t i = 0; i < g->ndevs; i++)
		if (g->devs[i] == idx)
			return 0;
	nd = realloc(g->devs, (g->ndevs + 1) * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	g->devs = nd;
	g->devs[g->ndevs++] = idx;
	return 0;
}

/* Walk sys/kernel/iommu_groups/N/devices: group numbers have gaps. */
static int load_groups(const struct av_ctx *ctx, struct av_machine *m)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	if (av_path(ctx, path, sizeof(path), "/sys/kernel/iommu_groups") < 0)
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir)
		return 0; /* no IOMMU: not an error */
	while (!err && (de = readdir(dir))) {
		char dpath[PATH_MAX], *end;
		struct dirent *e;
		struct av_group *g;
		long id;
		DIR *ddir;

		if (de->d_name[0] == '.')
			continue;
		id = strtol(de->d_name, &end, 10);
		/* the kernel's names are bare digits: "+5" or " 5" are not group 5 */
		if (!isdigit((unsigned char)de->d_name[0]) || *end || id < 0 || id >= 1L << 30) {
			av_warn(ctx, "%s/%s: not an IOMMU group number, ignored", path, de->d_name);
			continue;
		}
		if (av_path(ctx, dpath, sizeof(dpath), "/sys/kernel/iommu_groups/%s/devices",
			    de->d_name) < 0)
			continue;
		ddir = opendir(dpath);
		if (!ddir) {
			av_warn(ctx, "%s: %s", dpath, strerror(errno));
			continue;
		}
		g = group_get(m, (int)id);
		if (!g)
			err = -ENOMEM;
		while (!err && (e = readdir(ddir))) {
			struct av_pci_addr a;
			struct av_dev *d;

			if (e->d_name[0] == '.')
				continue;
			if (!kernel_addr(e->d_name, &a)) {
				av_warn(ctx, "%s/%s: not a PCI address, ignored", dpath, e->d_name);
				continue;
			}
			d = av_machine_find(m, &a);
			if (!d) {
				av_warn(ctx, "%s/%s: no such PCI device, ignored", dpath,
					e->d_name);
				continue;
			}
			if (d->group != AV_NO_GROUP && d->group != (int)id)
				av_warn(ctx, "%s/%s: device's iommu_group link says group %d",
					dpath, e->d_name, d->group);
			d->group = (int)id;
			err = group_add_dev(g, (size_t)(d - m->devs));
		}
		closedir(ddir);
	}
	closedir(dir);
	if (err)
		return err;

	/* A device whose link names a group the directory walk did not list. */
	for (size_t i = 0; i < m->ndevs && !err; i++) {
		struct av_group *g;

		if (m->devs[i].group == AV_NO_GROUP)
			continue;
		g = group_get(m, m->devs[i].group);
		err = g ? group_add_dev(g, i) : -ENOMEM;
	}
	if (err)
		return err;
	qsort(m->groups, m->ngroups, sizeof(*m->groups), group_cmp);
	for (size_t gi = 0; gi < m->ngroups; gi++) {
		struct av_group *g = &m->groups[gi];

		/* device indices are in address order already; keep them sorted */
		for (size_t i = 1; i < g->ndevs; i++)
			for (size_t j = i; j > 0 && g->devs[j - 1] > g->devs[j]; j--) {
				size_t t = g->devs[j];

				g->devs[j] = g->devs[j - 1];
				g->devs[j - 1] = t;
			}
		for (size_t i = 0; i < g->ndevs; i++)
			m->devs[g->devs[i]].group_idx = gi;
	}
	m->iommu = m->ngroups > 0;
	return 0;
}

static int pacc_init_guarded(struct pci_access *pacc, char *sysfs, const char *idfile)
{
	if (setjmp(pci_guard->env))
		return -EIO;
	pci_set_param(pacc, "sysfs.path", sysfs);
	if (idfile) {
		char *dup = strdup(idfile);

		if (dup)
			pci_set_name_list_path(pacc, dup, 1);
	}
	/*
	 * A given or prefixed pci.ids is the truth: udev's hwdb would answer
	 * first. Otherwise hwdb, like lspci: it spares parsing all of pci.ids.
	 */
	if (idfile)
		pacc->id_lookup_mode |= PCI_LOOKUP_NO_HWDB;
	pci_init(pacc);
	return 0;
}

static void pacc_cleanup_guarded(struct pci_access *pacc)
{
	if (!setjmp(pci_guard->env))
		pci_cleanup(pacc);
}

static struct pci_access *pacc_new(const struct av_ctx *ctx, const struct av_load_opts *opts)
{
	char sysfs[PATH_MAX], ids[PATH_MAX];
	struct pci_access *pacc;
	const char *idfile = NULL;

	if (av_path(ctx, sysfs, sizeof(sysfs), "/sys/bus/pci") < 0)
		return NULL;
	if (opts && opts->pci_ids) {
		idfile = opts->pci_ids;
		if (access(idfile, R_OK) < 0)
			av_err(ctx, "%s: %s; showing numeric IDs", idfile, strerror(errno));
	} else if (!av_ctx_is_real_root(ctx) &&
		   av_path(ctx, ids, sizeof(ids), "/usr/share/misc/pci.ids") == 0 &&
		   access(ids, R_OK) == 0) {
		idfile = ids;
	}

	pacc = pci_alloc();
	if (!pacc)
		return NULL;
	pacc->error = pci_error_cb;
	pacc->warning = pci_warning_cb;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	if (pacc_init_guarded(pacc, sysfs, idfile) < 0) {
		av_err(ctx, "libpci: %s", pci_guard->msg);
		pacc_cleanup_guarded(pacc);
		return NULL;
	}
	return pacc;
}

int av_machine_load(const struct av_ctx *ctx, const struct av_load_opts *opts,
		    struct av_machine **out)
{
	struct pci_guard guard = {.ctx = ctx};
	struct pci_access *pacc = NULL;
	struct av_machine *m;
	int err;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->boot_vga = AV_NONE;
	pci_guard = &guard;
	if (!(opts && opts->numeric)) {
		pacc = pacc_new(ctx, opts);
		if (!pacc)
			av_warn(ctx, "libpci could not start: showing numeric IDs");
	}
	err = load_devices(ctx, pacc, m);
	if (pacc)
		pacc_cleanup_guarded(pacc);
	pci_guard = NULL;
	if (err == 0)
		err = load_groups(ctx, m);
	if (err < 0) {
		av_machine_free(m);
		return err;
	}
	for (size_t i = 0; i < m->ndevs; i++)
		if (m->devs[i].boot_vga && m->boot_vga == AV_NONE)
			m->boot_vga = i;
	*out = m;
	return 0;
}
