// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BLS entries beside kernel-install's. Its 90-loaderentry copies the
 * kernel and initrds and writes $ENTRY_TOKEN-$KVER.conf (or +TRIES.conf with
 * boot counting); ours copy that entry's lines (linux/initrd paths are
 * relative to the boot partition, so copied, never rebuilt) and change only
 * the title and the options. The plain entry must never pass devices
 * through: 90-loaderentry may have taken its options from a running
 * command line that did.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bls-internal.h"
#include "cmdline.h"
#include "fileops.h"
#include "macro.h"
#include "plan.h"
#include "safety.h"
#include "select.h"
#include "utf8.h"

/* A context for the real file system: kernel-install hands us real paths. */
static struct av_ctx real_ctx(const struct av_ctx *ctx)
{
	struct av_ctx r = *ctx;

	r.root[0] = '\0';
	return r;
}

/* Append the words of @in to @f, minus bind tokens (and @drop_boot: BOOT_IMAGE=, initrd=). */
static void put_words(FILE *f, const char *in, bool drop_boot, bool *first)
{
	for (const char *p = in; p && *p;) {
		size_t len;

		p += strspn(p, " \t\r\n");
		len = strcspn(p, " \t\r\n");
		if (!len)
			break;
		/* @drop_boot also drops what an auto-vfio entry adds beside its token */
		if (!av_bls_is_bind_word(p, len) &&
		    !(drop_boot && ((len >= 11 && strncmp(p, "BOOT_IMAGE=", 11) == 0) ||
				    (len >= 7 && strncmp(p, "initrd=", 7) == 0) ||
				    (len == strlen(AV_BOOTFB_PARAM) &&
				     strncmp(p, AV_BOOTFB_PARAM, len) == 0)))) {
			fprintf(f, "%s%.*s", *first ? "" : " ", (int)len, p);
			*first = false;
		}
		p += len;
	}
}

/* The words of @opts without bind tokens, malloc'd; NULL when out of memory. */
static char *unbound(const char *opts)
{
	char *buf = NULL;
	size_t len = 0;
	bool first = true;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	put_words(f, opts, false, &first);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Remove entries named @base-auto-vfio-*.conf (@base NULL: every one of ours for @kver, or all). */
static int remove_ours(const struct av_ctx *rc, const char *dir, const char *base,
		       const char *token, const char *kver, struct av_bls_result *res)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort), err = 0;
	char mid[256] = "";

	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	if (kver)
		snprintf(mid, sizeof(mid), "-%s" AV_BLS_OURS, kver);
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;
		char path[PATH_MAX];

		if (!av_bls_has_suffix(nm, ".conf") || !av_bls_ours(nm))
			continue;
		if (base && (strncmp(nm, base, strlen(base)) != 0 ||
			     strncmp(nm + strlen(base), AV_BLS_OURS, strlen(AV_BLS_OURS)) != 0))
			continue;
		if (!base && kver && !strstr(nm, mid))
			continue;
		if (token && strncmp(nm, token, strlen(token)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, nm);
		if (av_file_remove(rc, path) < 0 && !err)
			err = -EIO;
		else if (res)
			res->removed++;
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return err;
}

int av_bls_remove(const struct av_ctx *ctx, const char *dir, const char *token, const char *kver,
		  struct av_bls_result *res)
{
	struct av_ctx rc = real_ctx(ctx);

	return remove_ours(&rc, dir, NULL, token, kver, res);
}

/* The plain entry's lines for ours: all but title and options. */
static char *entry_text(const char *plain, const char *title, const char *options)
{
	char *buf = NULL;
	size_t len = 0;
	bool had_options = false;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "title      %s\n", title);
	for (const char *p = plain; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t l = eol ? (size_t)(eol - p) : strlen(p);

		if (!(l >= 5 && strncmp(p, "title", 5) == 0 &&
		      (l == 5 || p[5] == ' ' || p[5] == '\t')) &&
		    !(l >= 7 && strncmp(p, "options", 7) == 0 &&
		      (l == 7 || p[7] == ' ' || p[7] == '\t')) &&
		    l > 0)
			fprintf(f, "%.*s\n", (int)l, p);
		if (l >= 7 && strncmp(p, "options", 7) == 0 &&
		    (l == 7 || p[7] == ' ' || p[7] == '\t') && !had_options) {
			fprintf(f, "options    %s\n", options);
			had_options = true;
		}
		p = eol ? eol + 1 : NULL;
	}
	if (!had_options && options[0])
		fprintf(f, "options    %s\n", options);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Device names may hold anything pci.ids holds: one line, each control
 * character (utf8.h's rule: C0, DEL, C1) a blank.
 */
static void one_line(char *s)
{
	unsigned char *in = (unsigned char *)s, *out = in;

	while (*in) {
		size_t n = av_utf8_len(in), adv = n ? n : 1;

		if (av_utf8_is_control(in, n)) {
			*out++ = ' ';
		} else {
			memmove(out, in, adv);
			out += adv;
		}
		in += adv;
	}
	*out = '\0';
}

/* The machine the entries are computed on: live, or the configuration alone. */
static int load_model(const struct av_ctx *ctx, const struct av_config *cfg, const char *dir,
		      const char *pci_ids, struct av_machine **out)
{
	struct av_load_opts lo = {.pci_ids = pci_ids};
	struct av_machine *live = NULL;
	struct av_bls_was_host_data w = {dir};
	int err = av_machine_load(ctx, &lo, &live);

	if (err == -ENOMEM)
		return err;
	if (err == 0 && live->iommu) {
		err = av_analyze(ctx, live);
		if (err < 0) {
			av_machine_free(live);
			return err;
		}
		*out = live;
		return 0;
	}
	av_info(ctx, "no live IOMMU groups: entries built from " AV_CONFIG_PATH " alone");
	err = av_select_config_machine(cfg, live, av_bls_was_host, &w, out);
	av_machine_free(live);
	return err;
}

static int write_entry(const struct av_ctx *rc, const char *dir, const char *base,
		       const char *suffix, const char *text, struct av_bls_result *res)
{
	char path[PATH_MAX];
	int err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s" AV_BLS_OURS "%s.conf", dir, base,
			     suffix) >= sizeof(path))
		return -ENAMETOOLONG;
	err = av_file_replace(rc, path, text, strlen(text), 0644, (uid_t)-1, (gid_t)-1);
	if (err == 0 && res)
		res->written++;
	return err;
}

/* Our entries for one plain entry @name (@plain its text). */
static int render(const struct av_ctx *ctx, const char *dir, const char *name, const char *plain,
		  const char *kver, const struct av_config *cfg, const struct av_machine *m,
		  struct av_bls_result *res)
{
	struct av_ctx rc = real_ctx(ctx);
	struct av_resolved sel;
	_cleanup_free_ struct av_entry *entries = NULL;
	_cleanup_free_ char *title = av_bls_value(plain, "title");
	_cleanup_free_ char *opts = av_bls_value(plain, "options");
	_cleanup_free_ char *clean = NULL;
	char base[512], params[1024];
	size_t n;
	int err;

	av_bls_entry_base(name, kver, base, sizeof(base));
	err = av_select(ctx, m, cfg, AV_SELECT_LENIENT, &sel);
	if (err < 0)
		return err;
	entries = calloc(sel.nunits + 1, sizeof(*entries));
	if (!entries)
		return -ENOMEM;
	n = av_entries(m, &sel, entries);
	clean = unbound(opts);
	if (!clean)
		return -ENOMEM;
	av_entry_iommu_params(ctx, cfg, clean, params, sizeof(params));
	err = remove_ours(&rc, dir, base, NULL, NULL, NULL);
	for (size_t i = 0; i < n && !err; i++) {
		const struct av_entry *en = &entries[i];
		_cleanup_free_ char *bind = NULL, *t = NULL, *options = NULL, *text = NULL;
		char suffix[64];
		size_t tl = 0;
		FILE *tf;

		err = av_entry_bind_param(m, en, &bind);
		if (err < 0)
			break;
		err = -ENOMEM;
		tf = open_memstream(&t, &tl);
		if (!tf)
			break;
		fprintf(tf, "%s (auto-vfio: ", title ? title : kver);
		if (en->keep != AV_NONE) {
			fputs("host keeps ", tf);
			for (size_t k = 0; k < en->nvga; k++) {
				const struct av_dev *d = &m->devs[en->vga[k]];

				fprintf(tf, "%s%s %s at %s", k ? " and " : "", d->vendor_name,
					d->device_name, d->address);
			}
		} else {
			fputs("headless host, every selected GPU to VMs", tf);
		}
		/* a file name: ':' as '-' */
		snprintf(suffix, sizeof(suffix), "%s", en->id);
		for (char *c = suffix; *c; c++)
			if (*c == ':')
				*c = '-';
		fputc(')', tf);
		if (fclose(tf) != 0)
			break;
		one_line(t);
		/* only a passed boot GPU loses the firmware console, as in the GRUB entries */
		if (asprintf(&options, "%s%s%s%s%s%s", clean, clean[0] && params[0] ? " " : "",
			     params, bind[0] ? " " : "", bind,
			     en->bootfb ? " " AV_BOOTFB_PARAM : "") < 0) {
			options = NULL;
			break;
		}
		text = entry_text(plain, t, options);
		err = text ? write_entry(&rc, dir, base, suffix, text, res) : -ENOMEM;
	}
	return err;
}

/* The plain entry @name without bind tokens in its options. */
static int clean_plain(const struct av_ctx *rc, const char *dir, const char *name,
		       const struct av_file *plain, struct av_bls_result *res)
{
	_cleanup_free_ char *opts = av_bls_value(plain->data, "options");
	_cleanup_free_ char *clean = NULL, *title = NULL, *text = NULL;
	char path[PATH_MAX];
	bool dirty = false;
	int err;

	for (const char *p = opts; p && *p;) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		dirty |= len && av_bls_is_bind_word(p, len);
		p += len;
	}
	if (!dirty)
		return 0;
	clean = unbound(opts);
	if (!clean)
		return -ENOMEM;
	title = av_bls_value(plain->data, "title");
	text = entry_text(plain->data, title ? title : "", clean);
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = av_file_replace(rc, path, text, strlen(text), plain->mode, (uid_t)-1, (gid_t)-1);
	if (err == 0 && res)
		res->cleaned++;
	return err;
}

static int add_one(const struct av_ctx *ctx, const char *dir, const char *name,
		   const struct av_file *plain, const char *kver, const struct av_config *cfg,
		   const struct av_machine *m, struct av_bls_result *res)
{
	struct av_ctx rc = real_ctx(ctx);
	char base[512];
	int err;

	av_bls_entry_base(name, kver, base, sizeof(base));
	if (cfg->mode != AV_MODE_MULTIBOOT)
		return remove_ours(&rc, dir, base, NULL, NULL, res);
	err = clean_plain(&rc, dir, name, plain, res);
	if (err < 0)
		av_warn(ctx, "%s/%s: cannot take auto_vfio.bind= out: %s", dir, name,
			strerror(-err));
	return render(ctx, dir, name, plain->data, kver, cfg, m, res);
}

int av_bls_add(const struct av_ctx *ctx, const char *dir, const char *token, const char *kver,
	       const char *pci_ids, struct av_bls_result *res)
{
	struct av_ctx rc = real_ctx(ctx);
	struct av_machine *m = NULL;
	struct av_file plain = {0};
	struct av_config cfg;
	char name[NAME_MAX + 1];
	int err;

	err = av_config_load(ctx, &cfg);
	if (err == -ENOENT)
		return 0;
	if (err < 0) {
		av_warn(ctx, "%s%s is unreadable or damaged; no auto-vfio entries", ctx->root,
			AV_CONFIG_PATH);
		return err;
	}
	err = av_bls_find_plain(&rc, dir, token, kver, name, sizeof(name), &plain);
	if (err < 0) {
		av_warn(ctx, "no boot entry for %s in %s; no auto-vfio entries for it", kver, dir);
		return err;
	}
	if (cfg.mode == AV_MODE_MULTIBOOT)
		err = load_model(ctx, &cfg, dir, pci_ids, &m);
	if (!err)
		err = add_one(ctx, dir, name, &plain, kver, &cfg, m, res);
	av_file_release(&plain);
	av_machine_free(m);
	return err;
}

int av_bls_regenerate(const struct av_ctx *ctx, const char *dir, const char *pci_ids,
		      struct av_bls_result *res)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort), err = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *nm = list[i]->d_name;
		struct av_ctx rc = real_ctx(ctx);
		struct av_file text = {0};
		char path[PATH_MAX], *ver = NULL;

		if (av_bls_has_suffix(nm, ".conf") && !av_bls_ours(nm)) {
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			if (av_file_read(&rc, path, &text) == 0 && text.exists)
				ver = av_bls_value(text.data, "version");
			if (ver && strstr(nm, ver)) {
				int e = av_bls_add(ctx, dir, NULL, ver, pci_ids, res);

				if (e < 0 && !err)
					err = e;
			}
			free(ver);
			av_file_release(&text);
		}
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return err;
}

int av_bls_kernel_cmdline(const struct av_ctx *ctx, const struct av_machine *m,
			  const struct av_config *cfg, bool static_ids, const char *base,
			  char **out)
{
	struct av_resolved r = {0};
	char *buf = NULL;
	size_t len = 0;
	bool first = true;
	FILE *f;
	int err = 0;

	*out = NULL;
	if (cfg->mode == AV_MODE_STATIC && !static_ids) {
		err = av_select(ctx, m, cfg, AV_SELECT_STRICT, &r);
		if (err < 0)
			return err;
	}
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	/* the configured IOMMU words come back once, at the end */
	for (const char *p = base; p && *p;) {
		size_t wlen;
		bool iommu;

		p += strspn(p, " \t\r\n");
		wlen = strcspn(p, " \t\r\n");
		if (!wlen)
			break;
		iommu = av_cmdline_has_word(cfg->iommu_params, p, wlen);
		if (!iommu) {
			char w[4096];

			snprintf(w, sizeof(w), "%.*s", (int)wlen, p);
			put_words(f, w, true, &first);
		}
		p += wlen;
	}
	if (cfg->mode != AV_MODE_NONE && cfg->iommu_params[0]) {
		fprintf(f, "%s%s", first ? "" : " ", cfg->iommu_params);
		first = false;
	}
	/* static mode: the selection in group order, as in the GRUB drop-in */
	if (r.ngroups)
		fputs(first ? "" : " ", f);
	av_bind_param_put(f, m, r.rep, r.ngroups);
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return err;
}
