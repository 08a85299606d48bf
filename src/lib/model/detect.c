// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "sysfs.h"

#define MARK "auto-vfio-disabled"

static const char *const vfio_params[] = {
    "vfio-pci.ids=",	     "vfio_pci.ids=",	      "pci-stub.ids=",
    "pci_stub.ids=",	     "modprobe.blacklist=",   "rd.driver.pre=vfio",
    "vfio-pci.disable_vga=", "vfio_pci.disable_vga=", "rd.driver.blacklist=",
};

static const char *const vfio_modules[] = {
    "vfio",	   "vfio-pci",	  "vfio_pci", "vfio_iommu_type1", "vfio-iommu-type1",
    "vfio_virqfd", "vfio-virqfd", "pci_stub", "pci-stub",
};

/* Drivers a hand-made setup blacklists so the guest's GPU stays free. */
static const char *const gpu_drivers[] = {
    "nouveau",	"nvidia", "nvidia_drm", "nvidia-drm", "nvidia_modeset",
    "nvidiafb", "amdgpu", "radeon",	"i915",	      "snd_hda_intel",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *w, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncmp(w, list[i], len) == 0)
			return true;
	return false;
}

/* Is this a parameter a hand-made VFIO setup uses (vfio-pci.ids=, pci-stub.ids=, ...)? */
static bool is_vfio_param(const char *word)
{
	for (size_t i = 0; i < N(vfio_params); i++)
		if (strncmp(word, vfio_params[i], strlen(vfio_params[i])) == 0)
			return true;
	return false;
}

void av_findings_release(struct av_findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->f[i].path);
		free(fs->f[i].text);
	}
	free(fs->f);
	memset(fs, 0, sizeof(*fs));
}

static int add(struct av_findings *fs, enum av_finding_kind kind, const char *path, unsigned line,
	       const char *text, size_t textlen)
{
	struct av_finding *nf = realloc(fs->f, (fs->n + 1) * sizeof(*nf));

	if (!nf)
		return -ENOMEM;
	fs->f = nf;
	nf = &fs->f[fs->n];
	nf->kind = kind;
	nf->line = line;
	nf->path = strdup(path);
	nf->text = strndup(text, textlen);
	if (!nf->path || !nf->text) {
		free(nf->path);
		free(nf->text);
		return -ENOMEM;
	}
	fs->n++;
	return 0;
}

/* Parameter tokens start at the line start, after a blank or after a quote. */
static const char *next_param(const char *line, const char *from, size_t *len)
{
	for (const char *p = from; *p; p++) {
		if (p != line && !isspace((unsigned char)p[-1]) && p[-1] != '"' && p[-1] != '\'')
			continue;
		if (!is_vfio_param(p))
			continue;
		*len = strcspn(p, " \t\"'\n");
		return p;
	}
	return NULL;
}

static bool is_comment(const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	return *line == '#' || *line == '\0';
}

/* Words of a modprobe.d or modules line, comments cut. */
static size_t words(const char *line, const char *w[8], size_t wl[8])
{
	size_t n = 0;
	const char *p = line;

	while (n < 8) {
		p += strspn(p, " \t");
		if (!*p || *p == '#' || *p == '\n')
			break;
		w[n] = p;
		wl[n] = strcspn(p, " \t#\n");
		p += wl[n];
		n++;
	}
	return n;
}

enum file_kind { GRUB_FILE, MODULES_FILE, MODPROBE_FILE };

static bool line_matches(enum file_kind kind, const char *line)
{
	const char *w[8];
	size_t wl[8], n = words(line, w, wl);

	if (n == 0)
		return false;
	if (kind == MODULES_FILE)
		return in_list(w[0], wl[0], vfio_modules, N(vfio_modules));
	if (wl[0] == 7 && strncmp(w[0], "options", 7) == 0 && n >= 2)
		return in_list(w[1], wl[1], vfio_modules, N(vfio_modules));
	if (wl[0] == 7 && strncmp(w[0], "softdep", 7) == 0) {
		for (size_t i = 2; i < n; i++)
			if (in_list(w[i], wl[i], vfio_modules, N(vfio_modules)))
				return true;
		return false;
	}
	if ((wl[0] == 9 && strncmp(w[0], "blacklist", 9) == 0) ||
	    (wl[0] == 7 && strncmp(w[0], "install", 7) == 0))
		return n >= 2 && in_list(w[1], wl[1], gpu_drivers, N(gpu_drivers));
	return false;
}

static int scan_file(const struct av_ctx *ctx, const struct av_manifest *m, const char *path,
		     enum file_kind kind, struct av_findings *fs)
{
	struct av_file f;
	unsigned lineno = 0;
	char *line, *next;
	int err;

	if (av_manifest_find(m, path))
		return 0;
	err = av_file_read(ctx, path, &f);
	if (err < 0 && err != -ELOOP)
		av_warn(ctx, "%s%s: %s", ctx->root, path, strerror(-err));
	if (err < 0 || !f.exists)
		return 0;
	for (line = f.data; line && *line && !err; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (is_comment(line))
			continue;
		if (kind == GRUB_FILE) {
			const char *p = line;
			size_t len;

			while (!err && (p = next_param(line, p, &len))) {
				err = add(fs, AV_FIND_PARAM, path, lineno, p, len);
				p += len;
			}
		} else if (line_matches(kind, line)) {
			err = add(fs, AV_FIND_LINE, path, lineno, line, strlen(line));
		}
	}
	av_file_release(&f);
	return err;
}

static int scan_dir(const struct av_ctx *ctx, const struct av_manifest *m, const char *dir,
		    const char *suffix, enum file_kind kind, struct av_findings *fs)
{
	char path[PATH_MAX];
	struct dirent **list;
	int n, err = 0;

	if (av_path(ctx, path, sizeof(path), "%s", dir) < 0)
		return -ENAMETOOLONG;
	n = scandir(path, &list, NULL, alphasort);
	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		size_t len = strlen(name), sl = strlen(suffix);
		char *file;

		if (!err && name[0] != '.' && len > sl && strcmp(name + len - sl, suffix) == 0) {
			if (asprintf(&file, "%s/%s", dir, name) < 0) {
				err = -ENOMEM;
			} else {
				err = scan_file(ctx, m, file, kind, fs);
				free(file);
			}
		}
		free(list[i]);
	}
	free(list);
	return err;
}

static int scan_cmdline(const struct av_ctx *ctx, struct av_findings *fs)
{
	char buf[4096];
	const char *p;
	size_t len;
	int err = 0;

	if (av_read_attr(ctx, buf, sizeof(buf), "/proc/cmdline") < 0)
		return 0;
	for (p = buf; !err && (p = next_param(buf, p, &len)); p += len)
		err = add(fs, AV_FIND_CMDLINE, "/proc/cmdline", 1, p, len);
	return err;
}

static int scan_bound(const struct av_ctx *ctx, struct av_findings *fs)
{
	char path[PATH_MAX], drv[64];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	if (av_path(ctx, path, sizeof(path), "/sys/bus/pci/devices") < 0)
		return -ENAMETOOLONG;
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!err && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (av_read_link_base(ctx, drv, sizeof(drv), "/sys/bus/pci/devices/%s/driver",
				      de->d_name) == 0 &&
		    strcmp(drv, "vfio-pci") == 0)
			err = add(fs, AV_FIND_BOUND, de->d_name, 0, "vfio-pci", 8);
	}
	closedir(dir);
	return err;
}

int av_detect_foreign(const struct av_ctx *ctx, const struct av_manifest *m,
		      struct av_findings *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = scan_file(ctx, m, "/etc/default/grub", GRUB_FILE, out);
	if (!err)
		err = scan_dir(ctx, m, "/etc/default/grub.d", ".cfg", GRUB_FILE, out);
	if (!err)
		err = scan_file(ctx, m, "/etc/modules", MODULES_FILE, out);
	if (!err)
		err = scan_dir(ctx, m, "/etc/modules-load.d", ".conf", MODULES_FILE, out);
	if (!err)
		err = scan_file(ctx, m, "/etc/initramfs-tools/modules", MODULES_FILE, out);
	if (!err)
		err = scan_dir(ctx, m, "/etc/modprobe.d", ".conf", MODPROBE_FILE, out);
	/* What runs now may be ours: only a machine without our manifest is judged. */
	if (!err && m->n == 0)
		err = scan_cmdline(ctx, out);
	if (!err && m->n == 0)
		err = scan_bound(ctx, out);
	if (err)
		av_findings_release(out);
	return err;
}

static bool has_line(const struct av_findings *fs, const char *path, unsigned line,
		     enum av_finding_kind kind)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->f[i].kind == kind && fs->f[i].line == line &&
		    strcmp(fs->f[i].path, path) == 0)
			return true;
	return false;
}

/* The line without its VFIO parameters (and the blank before each). */
static void put_without_params(FILE *out, const char *line)
{
	const char *p = line, *tok;
	size_t len;

	while ((tok = next_param(line, p, &len))) {
		const char *cut = tok;

		while (cut > p && (cut[-1] == ' ' || cut[-1] == '\t'))
			cut--;
		fwrite(p, 1, (size_t)(cut - p), out);
		p = tok + len;
	}
	fputs(p, out);
}

char *av_detect_disable(const char *content, const struct av_findings *fs, const char *path)
{
	const char *line = content, *next;
	unsigned lineno = 0;
	bool any = false;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	for (; *line; line = next) {
		size_t ll = strcspn(line, "\n");
		char *copy = strndup(line, ll);

		next = line + ll + (line[ll] == '\n');
		lineno++;
		if (!copy)
			break;
		if (has_line(fs, path, lineno, AV_FIND_PARAM)) {
			fprintf(out, "# " MARK ": %s\n", copy);
			put_without_params(out, copy);
			any = true;
		} else if (has_line(fs, path, lineno, AV_FIND_LINE)) {
			fprintf(out, "#" MARK ": %s", copy);
			any = true;
		} else {
			fputs(copy, out);
		}
		if (line[ll] == '\n')
			fputc('\n', out);
		free(copy);
	}
	if (fclose(out) != 0 || !any) {
		free(buf);
		return NULL;
	}
	return buf;
}
