// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fixture2sysfs LISTING OUTDIR: turn an IOMMU group listing into a fake
 * sysfs tree that auto-vfio (and lspci) can read through --root OUTDIR.
 *
 * The listing is what the usual "for g in /sys/kernel/iommu_groups/N" loops
 * print around `lspci -nns`:
 *
 *   IOMMU Group 13:                      (also "IOMMU group 13", no colon)
 *   	04:00.0 VGA compatible controller [0300]: NVIDIA ... [10de:128b] (rev a1)
 *   IOMMU Group 14 2b:00.0 VGA compatible controller [0300]: ...   (one-line form)
 *
 * A domain in front of the address is optional (default 0000); "(rev xx)"
 * and "(prog-if xx [...])" are optional (lspci leaves out zeros). Blank lines
 * and lines starting with '#' are skipped, except the directive
 * "# boot_vga: ADDR", which names the boot VGA device.
 *
 * Drivers come from the sibling file NAME.drivers.txt ("BB:DD.F driver" per
 * line) when it exists. Listings carry no boot_vga facts, so without the
 * directive the first VGA device (class 0300) on bus 00 is taken as the boot
 * VGA (an iGPU, which firmware prefers), else the first VGA device by address.
 *
 * Everything is read and checked before anything is written; the tree is
 * built next to OUTDIR and renamed into place, so a failure leaves nothing
 * behind. OUTDIR must not exist or be empty. Bad lines are reported as
 * FILE:LINE and make the exit status 1.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/fakesys.h"
#include "../lib/testsuite.h"
#include "pciaddr.h"

struct entry {
	struct av_pci_addr addr;
	unsigned vendor, device, class, revision;
	int group;
	int line;
	char driver[64];
	int driver_line;
	bool boot_vga;
};

struct listing {
	const char *path;
	struct entry *v;
	size_t n, cap;
	int boot_vga_line; /* line of the "# boot_vga:" directive, 0: none */
	struct av_pci_addr boot_vga;
};

static const char *prog = "fixture2sysfs";

__attribute__((format(printf, 3, 4))) static int bad(const char *path, int line, const char *fmt,
						     ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%d: ", prog, path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static bool hexn(const char *s, size_t n, unsigned *val)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		v = v * 16 + (unsigned)(isdigit((unsigned char)s[i])
					    ? s[i] - '0'
					    : tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*val = v;
	return true;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static char *skip_space(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* "BB:DD.F Class name [CCCC]: Vendor Device [vvvv:dddd] (rev xx) (prog-if xx [..])" */
static int parse_device(struct listing *l, int line, char *s, int group)
{
	struct entry e = {.group = group, .line = line};
	char *sp, *cls = NULL, *tail, *p, addr[AV_ADDR_LEN];
	unsigned progif = 0, cc;
	size_t n;

	sp = strpbrk(s, " \t");
	if (!sp)
		return bad(l->path, line, "expected \"BB:DD.F Class [CCCC]: Name [vvvv:dddd]\"");
	*sp = '\0';
	if (av_pci_addr_parse(s, true, &e.addr) < 0)
		return bad(l->path, line, "\"%s\" is not a PCI address (BB:DD.F or DDDD:BB:DD.F)",
			   s);
	av_pci_addr_format(&e.addr, addr);
	s = skip_space(sp + 1);

	/* the class code is the first "[CCCC]:"; names before it may hold brackets */
	for (p = s; (p = strchr(p, '[')); p++) {
		if (hexn(p + 1, 4, &cc) && p[5] == ']' && p[6] == ':') {
			cls = p;
			break;
		}
	}
	if (!cls || cls == s)
		return bad(l->path, line,
			   "expected a class name and \"[CCCC]:\" after the address");
	tail = skip_space(cls + 7);

	/* lspci -v appends the programming interface last */
	p = strstr(tail, " (prog-if ");
	if (p) {
		if (!hexn(p + 10, 2, &progif) || !ends_with(p, ")"))
			return bad(l->path, line, "malformed \"(prog-if xx ...)\"");
		*p = '\0';
		rstrip(tail);
	}
	n = strlen(tail);
	if (n >= 9 && tail[n - 1] == ')' && !strncmp(tail + n - 9, " (rev ", 6)) {
		if (!hexn(tail + n - 3, 2, &e.revision))
			return bad(l->path, line, "malformed \"(rev xx)\"");
		tail[n - 9] = '\0';
		n -= 9;
	}
	if (n < 11 || tail[n - 11] != '[' || tail[n - 6] != ':' || tail[n - 1] != ']' ||
	    !hexn(tail + n - 10, 4, &e.vendor) || !hexn(tail + n - 5, 4, &e.device))
		return bad(l->path, line, "expected \"[vvvv:dddd]\" at the end of the device name");
	e.class = cc << 8 | progif;

	for (size_t i = 0; i < l->n; i++)
		if (!av_pci_addr_cmp(&l->v[i].addr, &e.addr))
			return bad(l->path, line, "device %s already listed at line %d", addr,
				   l->v[i].line);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct entry *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = e;
	return 0;
}

/* "IOMMU Group N:" alone, or followed by a device (one-line form). */
static int parse_header(struct listing *l, int line, char *s, int *group)
{
	char *end;
	long g;

	s = skip_space(s + strlen("IOMMU group"));
	if (!isdigit((unsigned char)*s))
		return bad(l->path, line, "expected a group number after \"IOMMU Group\"");
	errno = 0;
	g = strtol(s, &end, 10);
	if (errno || g > INT_MAX)
		return bad(l->path, line, "group number out of range");
	if (*end == ':')
		end++;
	if (*end && *end != ' ' && *end != '\t')
		return bad(l->path, line, "expected \"IOMMU Group N:\"");
	*group = (int)g;
	end = skip_space(end);
	return *end ? parse_device(l, line, end, *group) : 0;
}

static int parse_directive(struct listing *l, int line, char *s)
{
	s = skip_space(s + 1);
	if (strncmp(s, "boot_vga:", 9) != 0)
		return 0; /* an ordinary comment */
	s = skip_space(s + 9);
	if (l->boot_vga_line)
		return bad(l->path, line, "second boot_vga directive (first at line %d)",
			   l->boot_vga_line);
	if (av_pci_addr_parse(s, true, &l->boot_vga) < 0)
		return bad(l->path, line, "\"%s\" is not a PCI address", s);
	l->boot_vga_line = line;
	return 0;
}

static int parse_listing(struct listing *l)
{
	FILE *f = fopen(l->path, "re");
	char *buf = NULL;
	size_t size = 0;
	int line = 0, group = -1, err = 0;

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, l->path, strerror(errno));
		return -errno;
	}
	for (;;) {
		ssize_t len = getline(&buf, &size, f);
		char *s;

		if (len < 0 || err)
			break;
		line++;
		if (strlen(buf) != (size_t)len) {
			err = bad(l->path, line, "NUL byte in line");
			break;
		}
		rstrip(buf);
		s = skip_space(buf);
		if (!*s)
			continue;
		if (*s == '#')
			err = parse_directive(l, line, s);
		else if (!strncasecmp(s, "IOMMU group", 11))
			err = parse_header(l, line, s, &group);
		else if (group < 0)
			err =
			    bad(l->path, line, "device line before any \"IOMMU Group N:\" header");
		else
			err = parse_device(l, line, s, group);
	}
	if (!err && ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, l->path);
		err = -EIO;
	}
	fclose(f);
	free(buf);
	if (!err && l->n == 0) {
		fprintf(stderr, "%s: %s: no devices found\n", prog, l->path);
		err = -EINVAL;
	}
	return err;
}

static struct entry *find(struct listing *l, const struct av_pci_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (!av_pci_addr_cmp(&l->v[i].addr, a))
			return &l->v[i];
	return NULL;
}

/* "BB:DD.F driver" lines; a missing file just means no drivers are known. */
static int parse_drivers(struct listing *l, const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;
	int line = 0, err = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -errno;
	}
	while (!err && getline(&buf, &size, f) >= 0) {
		char addr[32], drv[80], extra[2];
		struct av_pci_addr a;
		struct entry *e;

		line++;
		rstrip(buf);
		if (!*skip_space(buf) || *skip_space(buf) == '#')
			continue;
		if (sscanf(buf, "%31s %79s %1s", addr, drv, extra) != 2) {
			err = bad(path, line, "expected \"BB:DD.F driver\"");
			break;
		}
		if (av_pci_addr_parse(addr, true, &a) < 0) {
			err = bad(path, line, "\"%s\" is not a PCI address", addr);
			break;
		}
		e = find(l, &a);
		if (!e) {
			err = bad(path, line, "%s is not in %s", addr, l->path);
			break;
		}
		if (strlen(drv) >= sizeof(e->driver) || strpbrk(drv, "/\\") || drv[0] == '.') {
			err = bad(path, line, "\"%s\" is not a driver name", drv);
			break;
		}
		if (!e->driver[0]) {
			strcpy(e->driver, drv);
			e->driver_line = line;
		} else if (strcmp(e->driver, drv) != 0) {
			/* a device has one driver: the first line wins, the conflict is shown */
			fprintf(stderr,
				"%s: warning: %s:%d: %s already has driver %s (line %d), "
				"ignoring %s\n",
				prog, path, line, addr, e->driver, e->driver_line, drv);
		}
	}
	fclose(f);
	free(buf);
	return err;
}

static int mark_boot_vga(struct listing *l)
{
	struct entry *pick = NULL, *first = NULL;

	if (l->boot_vga_line) {
		pick = find(l, &l->boot_vga);
		if (!pick || (pick->class >> 8) != 0x0300)
			return bad(l->path, l->boot_vga_line,
				   "boot_vga names a device that is not a listed VGA device");
	}
	for (size_t i = 0; i < l->n && !l->boot_vga_line; i++) {
		struct entry *e = &l->v[i];

		if ((e->class >> 8) != 0x0300)
			continue;
		if (!first || av_pci_addr_cmp(&e->addr, &first->addr) < 0)
			first = e;
		if (e->addr.domain == 0 && e->addr.bus == 0 &&
		    (!pick || av_pci_addr_cmp(&e->addr, &pick->addr) < 0))
			pick = e;
	}
	if (!pick)
		pick = first;
	if (pick)
		pick->boot_vga = true;
	return 0;
}

static int write_tree(const struct listing *l, const char *dir, const struct fakesys_opts *opts)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->v[i];
		char addr[AV_ADDR_LEN];
		struct fakesys_dev d = {
		    .addr = addr,
		    .vendor = e->vendor,
		    .device = e->device,
		    .class = e->class,
		    .revision = e->revision,
		    .group = e->group,
		    .driver = e->driver,
		    .boot_vga = e->boot_vga,
		};
		int err;

		av_pci_addr_format(&e->addr, addr);
		err = fakesys_add_device(dir, &d, opts);
		if (err) {
			fprintf(stderr, "%s: %s: writing %s (line %d): %s\n", prog, dir, addr,
				e->line, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* OUTDIR may be missing or empty; anything in it would be lost. */
static int check_outdir(const char *out)
{
	struct dirent *de;
	DIR *d = opendir(out);

	if (!d) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s: %s\n", prog, out, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			fprintf(stderr, "%s: %s: exists and is not empty\n", prog, out);
			return -EEXIST;
		}
	}
	closedir(d);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: %s [--absolute-links] LISTING.txt OUTDIR\n", prog);
	return 2;
}

int main(int argc, char **argv)
{
	struct fakesys_opts opts = {.links = FAKESYS_LINKS_RELATIVE};
	struct listing l = {0};
	char out[PATH_MAX], tmp[PATH_MAX + 16], drivers[PATH_MAX];
	int argi = 1, err;
	size_t n;

	if (argi < argc && !strcmp(argv[argi], "--absolute-links")) {
		opts.links = FAKESYS_LINKS_ABSOLUTE;
		argi++;
	}
	if (argc - argi != 2 || !*argv[argi + 1])
		return usage();
	l.path = argv[argi];
	n = strlen(argv[argi + 1]);
	if (n >= sizeof(out))
		return usage();
	memcpy(out, argv[argi + 1], n + 1);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';

	n = strlen(l.path);
	if (n > 4 && !strcmp(l.path + n - 4, ".txt"))
		snprintf(drivers, sizeof(drivers), "%.*s.drivers.txt", (int)(n - 4), l.path);
	else
		snprintf(drivers, sizeof(drivers), "%s.drivers.txt", l.path);

	err = parse_listing(&l);
	if (!err)
		err = parse_drivers(&l, drivers);
	if (!err)
		err = mark_boot_vga(&l);
	if (!err)
		err = check_outdir(out);
	if (err) {
		free(l.v);
		return 1;
	}

	if (opts.links == FAKESYS_LINKS_ABSOLUTE) {
		/* absolute links must point into the final place: build there */
		if (mkdir(out, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "%s: %s: %s\n", prog, out, strerror(errno));
			free(l.v);
			return 1;
		}
		err = write_tree(&l, out, &opts);
		if (err)
			fakesys_remove_tree(out);
		free(l.v);
		return err ? 1 : 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", out);
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "%s: %s: %s\n", prog, tmp, strerror(errno));
		free(l.v);
		return 1;
	}
	chmod(tmp, 0755);
	err = write_tree(&l, tmp, &opts);
	if (!err && rename(tmp, out) < 0) {
		err = -errno;
		fprintf(stderr, "%s: renaming %s to %s: %s\n", prog, tmp, out, strerror(errno));
	}
	if (err)
		fakesys_remove_tree(tmp);
	free(l.v);
	return err ? 1 : 0;
}
