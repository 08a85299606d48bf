// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pciclass.h"
#include "sysfs.h"
#include "vfiobind.h"

static bool dir_exists(const struct av_ctx *ctx, const char *addr)
{
	char path[PATH_MAX];
	struct stat st;

	if (av_path(ctx, path, sizeof(path), "/sys/bus/pci/devices/%s", addr) < 0)
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int parse_group(const char *s, int *group)
{
	long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > INT_MAX / 10)
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v > INT_MAX)
		return -EINVAL;
	*group = (int)v;
	return 0;
}

void av_vfio_resolve(const struct av_ctx *ctx, const struct av_sel *sel, struct av_target *t)
{
	char addr[AV_ADDR_LEN], link[32];
	unsigned long vendor, device;
	int err;

	memset(t, 0, sizeof(*t));
	t->sel = *sel;
	t->group = -1;
	av_pci_addr_format(&sel->addr, addr);
	if (!dir_exists(ctx, addr)) {
		t->status = AV_TARGET_NO_DEVICE;
		return;
	}
	err = av_read_hex(ctx, &vendor, "/sys/bus/pci/devices/%s/vendor", addr);
	if (err >= 0)
		err = av_read_hex(ctx, &device, "/sys/bus/pci/devices/%s/device", addr);
	if (err < 0) {
		t->status = AV_TARGET_ERROR;
		t->err = err;
		return;
	}
	t->vendor = (uint16_t)vendor;
	t->device = (uint16_t)device;
	/* The group is wanted even on a mismatch: the caller then leaves that whole group alone. */
	err =
	    av_read_link_base(ctx, link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", addr);
	if (err >= 0 && parse_group(link, &t->group) < 0)
		err = -EINVAL;
	if (vendor != sel->vendor || device != sel->device) {
		t->status = AV_TARGET_MISMATCH;
		return;
	}
	if (err == -ENOENT) {
		t->status = AV_TARGET_NO_GROUP;
		return;
	}
	if (err < 0) {
		t->status = AV_TARGET_ERROR;
		t->err = err;
		return;
	}
	t->status = AV_TARGET_OK;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct av_bind_dev *)a)->addr, ((const struct av_bind_dev *)b)->addr);
}

/* The group's members, sorted; anything that is not a PCI function makes the group unreadable. */
static int list_group(const struct av_ctx *ctx, struct av_bind_result *res)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	err = av_path(ctx, path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", res->group);
	if (err < 0)
		return err;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		struct av_pci_addr a;

		if (de->d_name[0] == '.')
			continue;
		if (av_pci_addr_parse(de->d_name, false, &a) < 0) {
			av_warn(ctx, "%s: \"%s\" is not a PCI function; group %d left alone", path,
				de->d_name, res->group);
			err = -EINVAL;
			break;
		}
		if (res->ndev == AV_BIND_MAX_DEV) {
			av_warn(ctx, "%s: more than %d devices; group %d left alone", path,
				AV_BIND_MAX_DEV, res->group);
			err = -E2BIG;
			break;
		}
		av_pci_addr_format(&a, res->dev[res->ndev++].addr);
	}
	closedir(dir);
	if (err == 0 && res->ndev == 0)
		err = -ENOENT;
	if (err == 0)
		qsort(res->dev, res->ndev, sizeof(res->dev[0]), cmp_dev);
	return err;
}

static void read_driver(const struct av_ctx *ctx, const char *addr, char buf[AV_DRVNAME_LEN])
{
	if (av_read_link_base(ctx, buf, AV_DRVNAME_LEN, "/sys/bus/pci/devices/%s/driver", addr) < 0)
		buf[0] = '\0';
}

static void fail_step(struct av_bind_dev *d, const char *step, int err)
{
	d->step = step;
	d->err = err;
}

/* One endpoint: override, unbind from another driver, probe. The caller reads the result back. */
static void bind_dev(const struct av_ctx *ctx, struct av_bind_dev *d)
{
	char override[AV_DRVNAME_LEN];
	bool on_vfio = strcmp(d->before, AV_VFIO_DRIVER) == 0;
	int err;

	err = av_read_attr(ctx, override, sizeof(override),
			   "/sys/bus/pci/devices/%s/driver_override", d->addr);
	if (on_vfio && err >= 0 && strcmp(override, AV_VFIO_DRIVER) == 0)
		return;

	d->touched = true;
	/* First: once the override is set, no other driver can take the device back. */
	err =
	    av_write_attr(ctx, AV_VFIO_DRIVER, "/sys/bus/pci/devices/%s/driver_override", d->addr);
	if (err < 0) {
		/* Without the override an unbind would only hand the device to its old driver. */
		fail_step(d, "driver_override", err);
		return;
	}
	if (on_vfio)
		return;
	if (d->before[0]) {
		err = av_write_attr(ctx, d->addr, "/sys/bus/pci/drivers/%s/unbind", d->before);
		if (err < 0) {
			fail_step(d, "unbind", err);
			return;
		}
	}
	err = av_write_attr(ctx, d->addr, "/sys/bus/pci/drivers_probe");
	if (err < 0)
		fail_step(d, "drivers_probe", err);
}

int av_vfio_bind_group(const struct av_ctx *ctx, int group, struct av_bind_result *res)
{
	bool all_vfio = true, any_touched = false;
	int err;

	memset(res, 0, sizeof(*res));
	res->group = group;
	err = list_group(ctx, res);
	if (err < 0) {
		res->ndev = 0;
		res->status = AV_BIND_FAILED;
		res->err = err;
		return err;
	}
	/* Read everything before writing anything: an unreadable member stops the whole group. */
	for (size_t i = 0; i < res->ndev; i++) {
		struct av_bind_dev *d = &res->dev[i];
		unsigned long cls;

		err = av_read_hex(ctx, &cls, "/sys/bus/pci/devices/%s/class", d->addr);
		if (err < 0) {
			av_warn(ctx, "group %d: cannot read the class of %s: %s", group, d->addr,
				strerror(-err));
			res->status = AV_BIND_FAILED;
			res->err = err;
			return err;
		}
		d->bridge = av_class_is_bridge((uint16_t)(cls >> 8));
		read_driver(ctx, d->addr, d->before);
	}
	for (size_t i = 0; i < res->ndev; i++) {
		struct av_bind_dev *d = &res->dev[i];

		if (d->bridge)
			continue;
		bind_dev(ctx, d);
		read_driver(ctx, d->addr, d->after);
		any_touched |= d->touched;
		if (strcmp(d->after, AV_VFIO_DRIVER) != 0)
			all_vfio = false;
	}
	if (all_vfio) {
		res->status = any_touched ? AV_BIND_BOUND : AV_BIND_ALREADY;
		return 0;
	}
	res->status = AV_BIND_PARTIAL;
	for (size_t i = 0; i < res->ndev; i++)
		if (res->dev[i].err < 0)
			return res->err = res->dev[i].err;
	return res->err = -EBUSY;
}

struct outbuf {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

static void put_dev(struct outbuf *o, const struct av_bind_dev *d)
{
	put(o, "%s", d->addr);
	if (d->err < 0)
		put(o, " (%s failed: %s; driver %s)", d->step, strerror(-d->err),
		    d->after[0] ? d->after : "none");
	else if (strcmp(d->after, AV_VFIO_DRIVER) != 0)
		put(o, " (still on %s)", d->after[0] ? d->after : "no driver");
	else if (d->before[0] && strcmp(d->before, AV_VFIO_DRIVER) != 0)
		put(o, " (was %s)", d->before);
}

void av_bind_result_format(const struct av_bind_result *res, char *buf, size_t size)
{
	struct outbuf o = {buf, size, 0};
	const char *sep = "";
	size_t nbridge = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	put(&o, "group %d: ", res->group);
	switch (res->status) {
	case AV_BIND_FAILED:
		put(&o, "not bound: %s; nothing touched", strerror(-res->err));
		return;
	case AV_BIND_BOUND:
		put(&o, "bound to vfio-pci: ");
		break;
	case AV_BIND_ALREADY:
		put(&o, "already on vfio-pci: ");
		break;
	case AV_BIND_PARTIAL:
		put(&o, "NOT fully bound: ");
		break;
	}
	for (size_t i = 0; i < res->ndev; i++) {
		if (res->dev[i].bridge) {
			nbridge++;
			continue;
		}
		put(&o, "%s", sep);
		put_dev(&o, &res->dev[i]);
		sep = ", ";
	}
	if (nbridge) {
		put(&o, "; bridges left alone:");
		for (size_t i = 0; i < res->ndev; i++)
			if (res->dev[i].bridge)
				put(&o, " %s", res->dev[i].addr);
	}
}

void av_target_format(const struct av_target *t, char *buf, size_t size)
{
	char sel[AV_SEL_LEN];

	av_sel_format(&t->sel, sel);
	switch (t->status) {
	case AV_TARGET_OK:
		snprintf(buf, size, "%s: in IOMMU group %d", sel, t->group);
		break;
	case AV_TARGET_NO_DEVICE:
		snprintf(buf, size, "%s: skipped: no PCI device at that address; nothing touched",
			 sel);
		break;
	case AV_TARGET_MISMATCH:
		snprintf(
		    buf, size,
		    "%s: skipped: the device there is %04x:%04x (hardware changed?); nothing of "
		    "its group touched",
		    sel, t->vendor, t->device);
		break;
	case AV_TARGET_NO_GROUP:
		snprintf(buf, size,
			 "%s: skipped: no IOMMU group (IOMMU off? intel_iommu=on, or enable "
			 "VT-d/AMD-Vi in the firmware); nothing touched",
			 sel);
		break;
	case AV_TARGET_ERROR:
		snprintf(buf, size, "%s: skipped: cannot read the device: %s; nothing touched", sel,
			 strerror(-t->err));
		break;
	}
}
