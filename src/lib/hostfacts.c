// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostfacts.h"
#include "sysfs.h"

/*
 * dm and md devices stack on others. Each device is visited once (no loop,
 * no repeated sub-stack); the depth bound only guards the C stack.
 */
#define MAX_DEPTH 64

static int add_addr(struct av_pci_addr *out, size_t max, size_t *n, const struct av_pci_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (av_pci_addr_cmp(&out[i], a) == 0)
			return 0;
	if (*n >= max)
		return -E2BIG;
	out[(*n)++] = *a;
	return 0;
}

/*
 * The kernel's links into /sys/devices spell the whole PCI path
 * (.../pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/...): the last PCI
 * component is the device nearest to what the link names.
 */
static int nearest_pci_in_link(const struct av_ctx *ctx, const char *link, struct av_pci_addr *out)
{
	char path[PATH_MAX], target[PATH_MAX];
	char *save = NULL, *tok;
	ssize_t len;
	int found = 0;

	if (av_path(ctx, path, sizeof(path), "%s", link) < 0)
		return -ENAMETOOLONG;
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return -errno;
	target[len] = '\0';
	for (tok = strtok_r(target, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		struct av_pci_addr a;

		if (av_pci_addr_parse(tok, false, &a) == 0) {
			*out = a;
			found = 1;
		}
	}
	return found;
}

/*
 * The PCI devices under a device of a sysfs class: a stacked device (dm and md
 * name their parts in "slaves/", bridges and bonds their ports as "lower_*"
 * links) is followed down to its parts; a plain one is found by its link.
 */
struct stack_kind {
	const char *class;  /* "block" or "net" */
	const char *subdir; /* where the parts are listed: "slaves" or "" */
	const char *prefix; /* and how their entries start: "" or "lower_" */
};

static const struct stack_kind block_kind = {"block", "/slaves", ""};
static const struct stack_kind net_kind = {"net", "", "lower_"};

/* One walk down a stack: each device is visited once, however many list it. */
struct walk {
	const struct av_ctx *ctx;
	const struct stack_kind *k;
	struct av_pci_addr *out;
	size_t max, *n;
	char **seen;
	size_t nseen;
};

/* false when @name was visited already (or there is no memory to remember it) */
static bool first_visit(struct walk *w, const char *name)
{
	char **ns;

	for (size_t i = 0; i < w->nseen; i++)
		if (strcmp(w->seen[i], name) == 0)
			return false;
	ns = realloc(w->seen, (w->nseen + 1) * sizeof(*ns));
	if (!ns)
		return false;
	w->seen = ns;
	w->seen[w->nseen] = strdup(name);
	if (!w->seen[w->nseen])
		return false;
	w->nseen++;
	return true;
}

static int walk_down(struct walk *w, const char *name, int depth)
{
	const struct stack_kind *k = w->k;
	size_t plen = strlen(k->prefix);
	char path[PATH_MAX], link[PATH_MAX];
	struct av_pci_addr a;
	struct dirent *de;
	DIR *dir;
	int err, stacked = 0;

	if (depth > MAX_DEPTH || strchr(name, '/'))
		return -ELOOP;
	if (!first_visit(w, name))
		return 0;
	if (av_path(w->ctx, path, sizeof(path), "/sys/class/%s/%s%s", k->class, name, k->subdir) <
	    0)
		return -ENAMETOOLONG;
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, k->prefix, plen) != 0)
			continue;
		stacked = 1;
		if (walk_down(w, de->d_name + plen, depth + 1) == -E2BIG) {
			closedir(dir);
			return -E2BIG;
		}
	}
	if (dir)
		closedir(dir);
	if (stacked)
		return 0;
	snprintf(link, sizeof(link), "/sys/class/%s/%s", k->class, name);
	err = nearest_pci_in_link(w->ctx, link, &a);
	if (err <= 0)
		return err;
	return add_addr(w->out, w->max, w->n, &a);
}

static int stacked_pci(const struct av_ctx *ctx, const struct stack_kind *k, const char *name,
		       struct av_pci_addr *out, size_t max, size_t *n)
{
	struct walk w = {.ctx = ctx, .k = k, .out = out, .max = max, .n = n};
	int err = walk_down(&w, name, 0);

	for (size_t i = 0; i < w.nseen; i++)
		free(w.seen[i]);
	free(w.seen);
	return err;
}

/* Name of the block device behind "maj:min", via sys/dev/block. */
static int devnum_to_name(const struct av_ctx *ctx, const char *majmin, char *name, size_t size)
{
	return av_read_link_base(ctx, name, size, "/sys/dev/block/%s", majmin);
}

int av_host_disk_devices(const struct av_ctx *ctx, struct av_pci_addr *out, size_t max)
{
	static const char *const wanted[] = {"/", "/boot", "/boot/efi"};
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, n = 0;
	FILE *f;

	if (av_path(ctx, path, sizeof(path), "/proc/self/mountinfo") < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint options ... - fstype source superopts */
		char majmin[32], mnt[PATH_MAX], name[256];
		const char *sep;
		size_t w;

		if (sscanf(line, "%*d %*d %31s %*s %4095s", majmin, mnt) != 2)
			continue;
		for (w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++)
			if (strcmp(mnt, wanted[w]) == 0)
				break;
		if (w == sizeof(wanted) / sizeof(wanted[0]))
			continue;
		if (devnum_to_name(ctx, majmin, name, sizeof(name)) < 0) {
			/* btrfs and friends report an anonymous 0:N: use the source device */
			char fstype[64], source[PATH_MAX];
			const char *base;

			sep = strstr(line, " - ");
			if (!sep || sscanf(sep + 3, "%63s %4095s", fstype, source) != 2)
				continue;
			if (strncmp(source, "/dev/", 5) != 0)
				continue;
			base = strrchr(source, '/') + 1;
			if (strlen(base) >= sizeof(name))
				continue;
			strcpy(name, base);
		}
		if (stacked_pci(ctx, &block_kind, name, out, max, &n) == -E2BIG)
			break;
	}
	free(line);
	fclose(f);
	return (int)n;
}

int av_host_route_devices(const struct av_ctx *ctx, struct av_pci_addr *out, size_t max,
			  char *ifname, size_t ifname_size)
{
	char path[PATH_MAX], *line = NULL, iface[64] = "";
	size_t cap = 0, n = 0;
	FILE *f;

	if (av_path(ctx, path, sizeof(path), "/proc/net/route") < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		char name[64];
		unsigned long dest, mask;
		unsigned flags;

		if (sscanf(line, "%63s %lx %*x %x %*d %*d %*d %lx", name, &dest, &flags, &mask) !=
		    4)
			continue;
		/* RTF_UP, destination and mask 0: the default route */
		if (dest == 0 && mask == 0 && (flags & 1)) {
			snprintf(iface, sizeof(iface), "%s", name);
			break;
		}
	}
	free(line);
	fclose(f);
	if (ifname && ifname_size)
		snprintf(ifname, ifname_size, "%s", iface);
	if (!iface[0])
		return 0;
	stacked_pci(ctx, &net_kind, iface, out, max, &n);
	return (int)n;
}
