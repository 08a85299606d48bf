// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fileops.h"

/* A selection file is tiny; anything larger is not ours. */
#define AV_CONFIG_MAX_SIZE (1 << 20)

static const char *const mode_names[] = {
    [AV_MODE_NONE] = "none",
    [AV_MODE_MULTIBOOT] = "multiboot",
    [AV_MODE_STATIC] = "static",
};

const char *av_mode_name(enum av_mode mode)
{
	if ((unsigned)mode >= sizeof(mode_names) / sizeof(mode_names[0]))
		return "?";
	return mode_names[mode];
}

int av_config_default(const char *in, char out[AV_DEFAULT_LEN])
{
	struct av_pci_addr a;
	char addr[AV_ADDR_LEN];

	if (strcmp(in, "plain") == 0 || strcmp(in, "headless") == 0) {
		snprintf(out, AV_DEFAULT_LEN, "%s", in[0] == 'p' ? "" : in);
		return 0;
	}
	if (strncmp(in, "host-", 5) != 0 || av_pci_addr_parse(in + 5, true, &a) < 0)
		return -EINVAL;
	av_pci_addr_format(&a, addr);
	snprintf(out, AV_DEFAULT_LEN, "host-%s", addr);
	return 0;
}

int av_config_entry_id(const char *what, char out[AV_DEFAULT_LEN])
{
	char host[AV_DEFAULT_LEN + 8];

	if (strcmp(what, "headless") == 0)
		return av_config_default(what, out);
	snprintf(host, sizeof(host), "host-%s", what);
	return av_config_default(host, out);
}

void av_config_init(struct av_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->version = AV_CONFIG_VERSION;
	cfg->mode = AV_MODE_NONE;
}

static bool sel_eq(const struct av_sel *a, const struct av_sel *b)
{
	return av_pci_addr_cmp(&a->addr, &b->addr) == 0 && a->vendor == b->vendor &&
	       a->device == b->device;
}

bool av_config_forced(const struct av_config *cfg, const struct av_sel *sel)
{
	for (size_t i = 0; i < cfg->nforce; i++)
		if (sel_eq(&cfg->force_unsafe[i], sel))
			return true;
	return false;
}

static bool param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("_.,:=/+-", c);
}

/*
 * The parameters end up on a GRUB linux line and on the kernel command line:
 * a narrow alphabet keeps them from meaning anything to either but words.
 */
int av_config_check_params(const char *params)
{
	for (const char *p = params; *p; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (!param_char(*p))
			return -EINVAL;
	}
	return 0;
}

struct parser {
	const struct av_ctx *ctx;
	const char *path;
	unsigned line;
	int err;
	unsigned version_line, mode_line, params_line, default_line;
};

__attribute__((format(printf, 2, 3))) static void perr(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line)
		av_err(p->ctx, "%s:%u: %s", p->path, p->line, msg);
	else
		av_err(p->ctx, "%s: %s", p->path, msg);
	p->err = -EINVAL;
}

static bool once(struct parser *p, unsigned *seen, const char *key)
{
	if (*seen) {
		perr(p, "'%s' given again (first at line %u)", key, *seen);
		return false;
	}
	*seen = p->line;
	return true;
}

static void parse_sel(struct parser *p, const char *key, const char *val, struct av_sel *list,
		      size_t *n)
{
	struct av_sel sel;

	if (av_sel_parse(val, &sel) < 0) {
		perr(p, "%s: \"%s\" is not a device (expected DDDD:BB:DD.F@VVVV:DDDD)", key, val);
		return;
	}
	for (size_t i = 0; i < *n; i++) {
		if (sel_eq(&list[i], &sel)) {
			perr(p, "%s: %s is listed twice", key, val);
			return;
		}
	}
	if (*n >= AV_MAX_SEL) {
		perr(p, "%s: more than %d devices", key, AV_MAX_SEL);
		return;
	}
	list[(*n)++] = sel;
}

static void parse_line(struct parser *p, char *s, struct av_config *cfg)
{
	char *key, *val, *eq, *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (!*s || *s == '#')
		return;
	for (char *c = s; *c; c++) {
		if ((unsigned char)*c < 0x20 && *c != '\t') {
			perr(p, "control character 0x%02x", (unsigned char)*c);
			return;
		}
	}
	eq = strchr(s, '=');
	if (!eq) {
		perr(p, "expected 'key = value', got \"%s\"", s);
		return;
	}
	key = s;
	val = eq + 1;
	while (eq > key && (eq[-1] == ' ' || eq[-1] == '\t'))
		eq--;
	*eq = '\0';
	while (*val == ' ' || *val == '\t')
		val++;

	if (strcmp(key, "version") == 0) {
		if (!once(p, &p->version_line, key))
			return;
		if (strcmp(val, "1") != 0) {
			perr(p, "unsupported version \"%s\" (this auto-vfio reads version %d)", val,
			     AV_CONFIG_VERSION);
			return;
		}
		cfg->version = AV_CONFIG_VERSION;
	} else if (strcmp(key, "mode") == 0) {
		size_t i;

		if (!once(p, &p->mode_line, key))
			return;
		for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
			if (strcmp(val, mode_names[i]) == 0)
				break;
		if (i == sizeof(mode_names) / sizeof(mode_names[0])) {
			perr(p, "mode: \"%s\" is not one of multiboot, static, none", val);
			return;
		}
		cfg->mode = (enum av_mode)i;
	} else if (strcmp(key, "select") == 0) {
		parse_sel(p, key, val, cfg->select, &cfg->nselect);
	} else if (strcmp(key, "force_unsafe") == 0) {
		parse_sel(p, key, val, cfg->force_unsafe, &cfg->nforce);
	} else if (strcmp(key, "iommu_params") == 0) {
		if (!once(p, &p->params_line, key))
			return;
		if (av_config_check_params(val) < 0) {
			perr(p,
			     "iommu_params: \"%s\" holds characters other than "
			     "A-Z a-z 0-9 _ . , : = / + -",
			     val);
			return;
		}
		if (strlen(val) >= sizeof(cfg->iommu_params)) {
			perr(p, "iommu_params: longer than %zu characters",
			     sizeof(cfg->iommu_params) - 1);
			return;
		}
		strcpy(cfg->iommu_params, val);
	} else if (strcmp(key, "default") == 0) {
		if (!once(p, &p->default_line, key))
			return;
		if (av_config_default(val, cfg->boot_default) < 0)
			perr(p, "default: \"%s\" is not plain, headless or host-DDDD:BB:DD.F", val);
	} else {
		perr(p,
		     "unknown key \"%s\" (known: version, mode, select, force_unsafe, "
		     "iommu_params, default)",
		     key);
	}
}

int av_config_parse(const struct av_ctx *ctx, const char *path, const char *text, size_t len,
		    struct av_config *cfg)
{
	struct parser p = {.ctx = ctx, .path = path};
	size_t pos = 0;
	char *buf;

	av_config_init(cfg);
	cfg->version = 0;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (memchr(text + pos, '\0', llen)) {
			perr(&p, "NUL byte");
		} else {
			memcpy(buf, text + pos, llen);
			buf[llen] = '\0';
			parse_line(&p, buf, cfg);
		}
		pos += llen + (nl ? 1 : 0);
	}
	free(buf);
	p.line = 0;
	if (!p.version_line)
		perr(&p, "no 'version = %d' line", AV_CONFIG_VERSION);
	if (!p.mode_line)
		perr(&p, "no 'mode = ...' line");
	return p.err;
}

int av_config_load(const struct av_ctx *ctx, struct av_config *cfg)
{
	char path[PATH_MAX];
	struct av_file f;
	int err;

	err = av_path(ctx, path, sizeof(path), "%s", AV_CONFIG_PATH);
	if (err < 0)
		return err;
	err = av_file_read(ctx, AV_CONFIG_PATH, &f);
	if (err == 0 && !f.exists)
		return -ENOENT;
	if (err < 0) {
		av_err(ctx, "%s: %s", path, strerror(-err));
		return err;
	}
	if (f.len > AV_CONFIG_MAX_SIZE) {
		av_err(ctx, "%s: larger than %d bytes, not an auto-vfio configuration", path,
		       AV_CONFIG_MAX_SIZE);
		err = -EFBIG;
	} else {
		err = av_config_parse(ctx, path, f.data, f.len, cfg);
	}
	av_file_release(&f);
	return err;
}

int av_config_format(const struct av_config *cfg, char **out)
{
	char *buf = NULL;
	size_t size = 0;
	char sel[AV_SEL_LEN], check[AV_DEFAULT_LEN];
	FILE *f;

	*out = NULL;
	if ((unsigned)cfg->mode >= sizeof(mode_names) / sizeof(mode_names[0]) ||
	    cfg->nselect > AV_MAX_SEL || cfg->nforce > AV_MAX_SEL ||
	    memchr(cfg->iommu_params, '\0', sizeof(cfg->iommu_params)) == NULL ||
	    av_config_check_params(cfg->iommu_params) < 0 ||
	    memchr(cfg->boot_default, '\0', sizeof(cfg->boot_default)) == NULL ||
	    (cfg->boot_default[0] && av_config_default(cfg->boot_default, check) < 0))
		return -EINVAL;
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# auto-vfio configuration, written by 'auto-vfio setup'; see auto-vfio.conf(5).\n"
		"# The boot entries and files of auto-vfio are derived from this file.\n"
		"version = %d\n"
		"mode = %s\n",
		AV_CONFIG_VERSION, av_mode_name(cfg->mode));
	if (cfg->iommu_params[0])
		fprintf(f, "iommu_params = %s\n", cfg->iommu_params);
	if (cfg->nselect)
		fprintf(f, "# Devices for virtual machines; each takes its whole IOMMU group.\n");
	for (size_t i = 0; i < cfg->nselect; i++) {
		av_sel_format(&cfg->select[i], sel);
		fprintf(f, "select = %s\n", sel);
	}
	if (cfg->boot_default[0])
		fprintf(f,
			"# The auto-vfio entry GRUB boots by default (" AV_ENTRY_ID_PREFIX
			"%s).\ndefault = %s\n",
			cfg->boot_default, cfg->boot_default);
	if (cfg->nforce)
		fprintf(f, "# Groups judged unsafe that the user chose to pass through anyway.\n");
	for (size_t i = 0; i < cfg->nforce; i++) {
		av_sel_format(&cfg->force_unsafe[i], sel);
		fprintf(f, "force_unsafe = %s\n", sel);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}
