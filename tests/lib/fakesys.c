// SPDX-License-Identifier: GPL-2.0-or-later
/* Fake sysfs trees for the fixture tests and the fixture converter. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesys.h"
#include "pciaddr.h"

#define FS_FMT(a, b) __attribute__((format(printf, a, b)))

FS_FMT(3, 4) static int fmt_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* New files only: a device written twice is a bug in the input, not an update. */
static int write_new(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	const char *p = data;
	int err = 0;

	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

FS_FMT(3, 4) static int write_attr(const char *dir, const char *name, const char *fmt, ...)
{
	char path[PATH_MAX], text[128];
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -EINVAL;
	err = fmt_path(path, sizeof(path), "%s/%s", dir, name);
	return err ? err : write_new(path, text, (size_t)n);
}

/*
 * The kernel's links climb to the first common directory and descend from
 * there ("../../../../kernel/iommu_groups/5"); @link and @target are
 * relative to the root.
 */
static int relative_target(const char *link, const char *target, char *out, size_t size)
{
	const char *l = link, *t = target;
	size_t used = 0;

	/* skip the common leading components */
	for (;;) {
		const char *ls = strchr(l, '/'), *ts = strchr(t, '/');

		if (!ls || !ts || ls - l != ts - t || strncmp(l, t, (size_t)(ls - l)) != 0)
			break;
		l = ls + 1;
		t = ts + 1;
	}
	/* one "../" per directory left in the link's own path */
	for (const char *p = l; (p = strchr(p, '/')); p++) {
		if (used + 3 >= size)
			return -ENAMETOOLONG;
		memcpy(out + used, "../", 3);
		used += 3;
	}
	if (used + strlen(t) + 1 > size)
		return -ENAMETOOLONG;
	strcpy(out + used, t);
	return 0;
}

static int make_link(const char *root, const char *abs_root, const char *link_rel,
		     const char *target_rel, const struct fakesys_opts *opts)
{
	char link[PATH_MAX], target[PATH_MAX];
	int err;

	err = fmt_path(link, sizeof(link), "%s/%s", root, link_rel);
	if (err)
		return err;
	if (opts && opts->links == FAKESYS_LINKS_ABSOLUTE)
		err = fmt_path(target, sizeof(target), "%s/%s", abs_root, target_rel);
	else
		err = relative_target(link_rel, target_rel, target, sizeof(target));
	if (err)
		return err;
	return symlink(target, link) < 0 ? -errno : 0;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

/* The standard header lspci insists on reading; everything else stays zero. */
static int write_config(const char *dir, const struct fakesys_dev *d)
{
	uint8_t cfg[256] = {0};
	char path[PATH_MAX];
	int err;

	put16(cfg + 0x00, d->vendor);
	put16(cfg + 0x02, d->device);
	cfg[0x08] = d->revision & 0xff;
	cfg[0x09] = d->class & 0xff;
	cfg[0x0a] = (d->class >> 8) & 0xff;
	cfg[0x0b] = (d->class >> 16) & 0xff;
	if ((d->class >> 8) == 0x0604) {
		cfg[0x0e] = 1; /* PCI-to-PCI bridge header */
	} else {
		put16(cfg + 0x2c, d->subvendor);
		put16(cfg + 0x2e, d->subdevice);
	}
	err = fmt_path(path, sizeof(path), "%s/config", dir);
	return err ? err : write_new(path, cfg, sizeof(cfg));
}

static int write_resource(const char *dir)
{
	static const char line[] = "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
	char buf[13 * sizeof(line)], path[PATH_MAX];
	size_t len = 0;
	int err;

	/* 6 BARs, the ROM and the bridge windows: 13 lines, as for a type-1 header */
	for (int i = 0; i < 13; i++, len += sizeof(line) - 1)
		memcpy(buf + len, line, sizeof(line) - 1);
	err = fmt_path(path, sizeof(path), "%s/resource", dir);
	return err ? err : write_new(path, buf, len);
}

static bool valid_driver_name(const char *s)
{
	if (!*s || strlen(s) >= 64 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("_-.", *s))
			return false;
	return true;
}

static int add_files(const char *dir, const struct fakesys_dev *d)
{
	int err;

	if ((err = write_attr(dir, "vendor", "0x%04x\n", d->vendor)) ||
	    (err = write_attr(dir, "device", "0x%04x\n", d->device)) ||
	    (err = write_attr(dir, "class", "0x%06x\n", d->class)) ||
	    (err = write_attr(dir, "revision", "0x%02x\n", d->revision)) ||
	    (err = write_attr(dir, "subsystem_vendor", "0x%04x\n", d->subvendor)) ||
	    (err = write_attr(dir, "subsystem_device", "0x%04x\n", d->subdevice)) ||
	    (err = write_attr(dir, "irq", "0\n")) ||
	    /* what the kernel prints when no override is set */
	    (err = write_attr(dir, "driver_override", "(null)\n")))
		return err;
	/* the kernel shows boot_vga on VGA devices only */
	if ((d->class >> 8) == 0x0300 &&
	    (err = write_attr(dir, "boot_vga", "%d\n", d->boot_vga ? 1 : 0)))
		return err;
	if ((err = write_config(dir, d)))
		return err;
	return write_resource(dir);
}

int fakesys_add_device(const char *root, const struct fakesys_dev *d,
		       const struct fakesys_opts *opts)
{
	char addr[AV_ADDR_LEN], dir[PATH_MAX], rel[PATH_MAX], target[PATH_MAX];
	char abs_root[PATH_MAX] = "";
	struct av_pci_addr a;
	int err;

	if (!d->addr || av_pci_addr_parse(d->addr, true, &a) < 0)
		return -EINVAL;
	if (d->vendor > 0xffff || d->device > 0xffff || d->class > 0xffffff ||
	    d->subvendor > 0xffff || d->subdevice > 0xffff || d->revision > 0xff ||
	    d->group < FAKESYS_NO_GROUP)
		return -EINVAL;
	if (d->driver && *d->driver && !valid_driver_name(d->driver))
		return -EINVAL;
	av_pci_addr_format(&a, addr);

	err = fmt_path(dir, sizeof(dir), "%s/sys/bus/pci/devices", root);
	if (err || (err = mkdir_p(dir)))
		return err;
	if (opts && opts->links == FAKESYS_LINKS_ABSOLUTE && !realpath(root, abs_root))
		return -errno;
	err = fmt_path(dir, sizeof(dir), "%s/sys/bus/pci/devices/%s", root, addr);
	if (err)
		return err;
	if (mkdir(dir, 0755) < 0)
		return -errno;
	err = add_files(dir, d);
	if (err)
		return err;

	if (d->group != FAKESYS_NO_GROUP) {
		err = fmt_path(target, sizeof(target), "%s/sys/kernel/iommu_groups/%d/devices",
			       root, d->group);
		if (err || (err = mkdir_p(target)))
			return err;
		fmt_path(rel, sizeof(rel), "sys/bus/pci/devices/%s/iommu_group", addr);
		fmt_path(target, sizeof(target), "sys/kernel/iommu_groups/%d", d->group);
		err = make_link(root, abs_root, rel, target, opts);
		if (err)
			return err;
		fmt_path(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices/%s", d->group, addr);
		fmt_path(target, sizeof(target), "sys/bus/pci/devices/%s", addr);
		err = make_link(root, abs_root, rel, target, opts);
		if (err)
			return err;
	}

	if (d->driver && *d->driver) {
		err =
		    fmt_path(target, sizeof(target), "%s/sys/bus/pci/drivers/%s", root, d->driver);
		if (err || (err = mkdir_p(target)))
			return err;
		fmt_path(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver", addr);
		fmt_path(target, sizeof(target), "sys/bus/pci/drivers/%s", d->driver);
		err = make_link(root, abs_root, rel, target, opts);
		if (err)
			return err;
		/* the driver's side of the binding, as the kernel shows it */
		fmt_path(rel, sizeof(rel), "sys/bus/pci/drivers/%s/%s", d->driver, addr);
		fmt_path(target, sizeof(target), "sys/bus/pci/devices/%s", addr);
		err = make_link(root, abs_root, rel, target, opts);
		if (err)
			return err;
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? errno : 0;
}

int fakesys_remove_tree(const char *root)
{
	int r = nftw(root, rm_one, 32, FTW_DEPTH | FTW_PHYS);

	if (r < 0)
		return -errno;
	return -r;
}
