// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evdev.h"

/* libvirt's own default list (qemu.conf's comment in libvirt 9.0, Debian 12). */
static const char *const default_acl[] = {"/dev/null",	  "/dev/full", "/dev/zero", "/dev/random",
					  "/dev/urandom", "/dev/ptmx", "/dev/kvm"};

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static int cmp_input(const void *a, const void *b)
{
	const struct av_input *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind == AV_INPUT_KEYBOARD ? -1 : 1;
	return strcmp(x->path, y->path);
}

int av_evdev_find(const struct av_ctx *ctx, struct av_inputs *out)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (av_path(ctx, dir, sizeof(dir), AV_INPUT_BY_ID) < 0)
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct av_input *nv;
		enum av_input_kind kind;

		if (ends_with(de->d_name, "-event-kbd"))
			kind = AV_INPUT_KEYBOARD;
		else if (ends_with(de->d_name, "-event-mouse"))
			kind = AV_INPUT_MOUSE;
		else
			continue;
		/* it goes into a double-quoted qemu.conf string and a quoted XML attribute */
		if (strpbrk(de->d_name, "\"\\'<>&\n")) {
			av_warn(ctx, "%s/%s: skipped, the name cannot be quoted safely", dir,
				de->d_name);
			continue;
		}
		nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
		if (!nv) {
			err = -ENOMEM;
			break;
		}
		out->v = nv;
		nv[out->n].kind = kind;
		snprintf(nv[out->n].path, sizeof(nv[out->n].path), AV_INPUT_BY_ID "/%s",
			 de->d_name);
		out->n++;
	}
	closedir(d);
	if (err < 0) {
		av_evdev_release(out);
		return err;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_input);
	return 0;
}

void av_evdev_release(struct av_inputs *in)
{
	free(in->v);
	memset(in, 0, sizeof(*in));
}

char *av_evdev_xml(const struct av_inputs *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < in->n; i++) {
		/* grabToggle: both Ctrl keys hand keyboard and mouse between host and guest */
		fprintf(f, "<input type='evdev'>\n  <source dev='%s'%s/>\n</input>\n",
			in->v[i].path,
			in->v[i].kind == AV_INPUT_KEYBOARD
			    ? " grab='all' repeat='on' grabToggle='ctrl-ctrl'"
			    : "");
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

struct strv {
	size_t n;
	char **v;
};

static int strv_add(struct strv *s, const char *p, size_t len)
{
	char **nv = realloc(s->v, (s->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	s->v = nv;
	if (!(nv[s->n] = strndup(p, len)))
		return -ENOMEM;
	s->n++;
	return 0;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static bool strv_has(const struct strv *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], x) == 0)
			return true;
	return false;
}

static unsigned line_of(const char *text, const char *p)
{
	unsigned n = 1;

	for (; text < p; text++)
		n += *text == '\n';
	return n;
}

/* "cgroup_device_acl = [" at @p (blanks allowed around '='): the '[' or NULL. */
static const char *setting_at(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "cgroup_device_acl", 17) != 0)
		return NULL;
	p += 17;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return NULL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '[' ? p : NULL;
}

/*
 * Start of the line holding "cgroup_device_acl = [" (after '#', when
 * @commented), or NULL. libvirt also takes several settings on one line,
 * separated by ';' ("user = \"root\"; cgroup_device_acl = [ ... ]").
 */
static const char *find_setting(const char *text, bool commented, const char **bracket)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = l;
		bool quoted = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (commented) {
			if (*p != '#')
				continue;
			p++;
		}
		if ((*bracket = setting_at(p)))
			return l;
		if (commented)
			continue;
		for (; *p && *p != '\n'; p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '#' && !quoted)
				break;
			else if (*p == ';' && !quoted && (*bracket = setting_at(p + 1)))
				return l;
		}
	}
	return NULL;
}

/*
 * The strings of the list opening at @p, up to its ']' (stored in *end).
 * In a commented block every line starts with '#', which is skipped.
 */
static int parse_list(const char *p, bool commented, struct strv *items, const char **last_quote,
		      const char **end)
{
	*last_quote = NULL;
	for (p++; *p; p++) {
		if (*p == ']') {
			*end = p;
			return 0;
		}
		if (*p == '\n' && commented) {
			while (p[1] == ' ' || p[1] == '\t')
				p++;
			if (p[1] != '#')
				return -EINVAL;
			p++;
			continue;
		}
		if (*p == '#' && !commented) {
			while (p[1] && p[1] != '\n')
				p++;
			continue;
		}
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');

			if (!q || memchr(p + 1, '\n', (size_t)(q - p - 1)))
				return -EINVAL;
			if (strv_add(items, p + 1, (size_t)(q - p - 1)) < 0)
				return -ENOMEM;
			*last_quote = q;
			p = q;
		}
	}
	return -EINVAL;
}

int av_evdev_qemu_conf(const struct av_ctx *ctx, const char *path, const char *text,
		       const struct av_inputs *in, char **out)
{
	struct strv items = {0};
	const char *line, *bracket, *end, *lastq;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	*out = NULL;
	line = find_setting(text, false, &bracket);
	if (line) {
		bool missing = false;

		err = parse_list(bracket, false, &items, &lastq, &end);
		if (err == -EINVAL)
			av_err(ctx, "%s%s:%u: cannot parse the cgroup_device_acl list", ctx->root,
			       path, line_of(text, line));
		if (err < 0)
			goto out;
		for (size_t i = 0; i < in->n; i++)
			missing |= !strv_has(&items, in->v[i].path);
		if (!missing)
			goto out;
		f = open_memstream(&buf, &len);
		if (!f) {
			err = -ENOMEM;
			goto out;
		}
		/* after the last string, or right after '[' in an empty list */
		{
			const char *at = lastq ? lastq + 1 : bracket + 1;
			bool first = !lastq;

			fwrite(text, 1, (size_t)(at - text), f);
			for (size_t i = 0; i < in->n; i++) {
				if (strv_has(&items, in->v[i].path))
					continue;
				fprintf(f, "%s\"%s\"", first ? "\n    " : ",\n    ", in->v[i].path);
				first = false;
				if (strv_add(&items, in->v[i].path, strlen(in->v[i].path)) < 0)
					err = -ENOMEM;
			}
			if (!lastq)
				fputc('\n', f);
			fputs(at, f);
		}
	} else {
		const char *after = NULL;

		line = find_setting(text, true, &bracket);
		if (line && parse_list(bracket, true, &items, &lastq, &end) == 0) {
			after = strchr(end, '\n');
			after = after ? after + 1 : end + strlen(end);
		} else {
			strv_free(&items);
			memset(&items, 0, sizeof(items));
		}
		err = 0;
		if (items.n == 0)
			for (size_t i = 0; i < sizeof(default_acl) / sizeof(default_acl[0]); i++)
				if (strv_add(&items, default_acl[i], strlen(default_acl[i])) < 0) {
					err = -ENOMEM;
					goto out;
				}
		f = open_memstream(&buf, &len);
		if (!f) {
			err = -ENOMEM;
			goto out;
		}
		if (after) {
			fwrite(text, 1, (size_t)(after - text), f);
		} else {
			fputs(text, f);
			if (*text && text[strlen(text) - 1] != '\n')
				fputc('\n', f);
		}
		fputs("# Added by auto-vfio: libvirt's default list plus the evdev inputs.\n"
		      "cgroup_device_acl = [\n",
		      f);
		for (size_t i = 0; i < in->n; i++)
			if (!strv_has(&items, in->v[i].path) &&
			    strv_add(&items, in->v[i].path, strlen(in->v[i].path)) < 0)
				err = -ENOMEM;
		for (size_t i = 0; i < items.n; i++)
			fprintf(f, "    \"%s\"%s\n", items.v[i], i + 1 < items.n ? "," : "");
		fputs("]\n", f);
		if (after)
			fputs(after, f);
	}
	if (fclose(f) != 0 && !err)
		err = -ENOMEM;
	if (err < 0)
		free(buf);
	else
		*out = buf;
out:
	strv_free(&items);
	return err;
}
