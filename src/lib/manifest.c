// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"

uint64_t av_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a: detects edits, not attacks */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

void av_manifest_release(struct av_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].path);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

struct av_manifest_entry *av_manifest_find(const struct av_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].path, path) == 0)
			return &m->e[i];
	return NULL;
}

static int add(struct av_manifest *m, const char *path, bool created, unsigned saved, uint64_t hash,
	       const struct av_file *orig)
{
	struct av_manifest_entry *ne = realloc(m->e, (m->n + 1) * sizeof(*ne));

	if (!ne)
		return -ENOMEM;
	m->e = ne;
	ne = &m->e[m->n];
	ne->path = strdup(path);
	if (!ne->path)
		return -ENOMEM;
	ne->created = created;
	ne->dir = false;
	ne->saved = saved;
	ne->hash = hash;
	ne->mode = orig ? orig->mode : 0;
	ne->uid = orig ? orig->uid : 0;
	ne->gid = orig ? orig->gid : 0;
	m->n++;
	if (saved >= m->next_saved)
		m->next_saved = saved + 1;
	return 0;
}

/* Paths are written with no escaping: they must be absolute and free of blanks. */
static bool path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int av_manifest_load(const struct av_ctx *ctx, struct av_manifest *m)
{
	struct av_file f;
	char *save = NULL, *line;
	unsigned lineno = 0;
	int err;

	memset(m, 0, sizeof(*m));
	m->next_saved = 1;
	err = av_file_read(ctx, AV_MANIFEST_PATH, &f);
	if (err < 0) {
		av_err(ctx, "%s%s: %s", ctx->root, AV_MANIFEST_PATH, strerror(-err));
		return err;
	}
	if (!f.exists)
		return 0;
	for (line = strtok_r(f.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char path[4096], kind[16];
		unsigned saved = 0, mode = 0, uid = 0, gid = 0;
		struct av_file orig = {0};
		uint64_t hash;
		int n;

		lineno++;
		if (line[0] == '#' || line[0] == '\0' || strcmp(line, "version 1") == 0)
			continue;
		n = sscanf(line, "file %4095s %15s %" SCNx64 " %u %o %u %u", path, kind, &hash,
			   &saved, &mode, &uid, &gid);
		orig.mode = (mode_t)mode & 07777;
		orig.uid = (uid_t)uid;
		orig.gid = (gid_t)gid;
		if (sscanf(line, "dir %4095s %15s", path, kind) == 2 && path_ok(path) &&
		    strcmp(kind, "created") == 0) {
			err = add(m, path, true, 0, 0, NULL);
			if (!err)
				m->e[m->n - 1].dir = true;
		} else if (n == 3 && path_ok(path) && strcmp(kind, "created") == 0)
			err = add(m, path, true, 0, hash, NULL);
		else if (n == 7 && path_ok(path) && strcmp(kind, "saved") == 0 && saved > 0)
			err = add(m, path, false, saved, hash, &orig);
		else
			err = -EINVAL;
		if (err == -EINVAL)
			av_err(ctx, "%s%s:%u: cannot parse '%s'", ctx->root, AV_MANIFEST_PATH,
			       lineno, line);
		if (err < 0)
			break;
	}
	av_file_release(&f);
	if (err < 0)
		av_manifest_release(m);
	return err;
}

static int store(const struct av_ctx *ctx, struct av_fault *fault, const struct av_manifest *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (m->n == 0)
		return av_file_remove(ctx, fault, AV_MANIFEST_PATH);
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# auto-vfio: files changed by 'auto-vfio setup'; 'auto-vfio uninstall'\n"
		   "# restores them from saved/. Do not edit.\nversion 1\n");
	for (size_t i = 0; i < m->n; i++) {
		const struct av_manifest_entry *e = &m->e[i];

		if (e->dir)
			fprintf(f, "dir %s created\n", e->path);
		else if (e->created)
			fprintf(f, "file %s created %016" PRIx64 "\n", e->path, e->hash);
		else
			fprintf(f, "file %s saved %016" PRIx64 " %u %04o %u %u\n", e->path, e->hash,
				e->saved, (unsigned)e->mode, (unsigned)e->uid, (unsigned)e->gid);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	err = av_file_replace(ctx, fault, AV_MANIFEST_PATH, buf, len, 0644, (uid_t)-1, (gid_t)-1);
	free(buf);
	return err;
}

int av_manifest_note_dirs(const struct av_ctx *ctx, struct av_manifest *m, const char *abspath)
{
	char dir[PATH_MAX], full[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", abspath);
	/* each ancestor, top down: the first missing one and all below it are new */
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		int err;

		*p = '\0';
		if (av_path(ctx, full, sizeof(full), "%s", dir) < 0)
			return -ENAMETOOLONG;
		if (lstat(full, &st) < 0 && errno == ENOENT && !av_manifest_find(m, dir)) {
			err = add(m, dir, true, 0, 0, NULL);
			if (err < 0)
				return err;
			m->e[m->n - 1].dir = true;
		}
		*p = '/';
	}
	return 0;
}

void av_manifest_remove_dirs(const struct av_ctx *ctx, const struct av_manifest *m)
{
	for (size_t i = m->n; i-- > 0;) {
		char full[PATH_MAX];

		if (!m->e[i].dir || av_path(ctx, full, sizeof(full), "%s", m->e[i].path) < 0)
			continue;
		/* not empty: someone keeps files there now, and so does the directory */
		rmdir(full);
	}
}

static void saved_path(char *buf, size_t size, unsigned n)
{
	snprintf(buf, size, AV_STATE_DIR "/saved/%u", n);
}

int av_manifest_write(const struct av_ctx *ctx, struct av_fault *fault, struct av_manifest *m,
		      const char *path, const char *data, size_t len, mode_t mode, bool *changed)
{
	struct av_manifest_entry *e = av_manifest_find(m, path);
	struct av_file cur;
	int err;

	*changed = false;
	if (!path_ok(path))
		return -EINVAL;
	err = av_file_read(ctx, path, &cur);
	if (err < 0)
		return err;
	if (cur.exists && cur.len == len && memcmp(cur.data, data, len) == 0) {
		av_file_release(&cur);
		return 0;
	}
	if (!e) {
		uint64_t h = av_hash(data, len);
		unsigned n = m->next_saved ? m->next_saved : 1;
		char sp[64];

		/* directories first, on record before anything creates them */
		saved_path(sp, sizeof(sp), n);
		err = av_manifest_note_dirs(ctx, m, AV_MANIFEST_PATH);
		if (!err)
			err = av_manifest_note_dirs(ctx, m, path);
		if (!err && cur.exists)
			err = av_manifest_note_dirs(ctx, m, sp);
		if (!err)
			err = store(ctx, fault, m);
		if (err < 0) {
			av_file_release(&cur);
			return err;
		}
		if (cur.exists) {
			err = av_file_replace(ctx, fault, sp, cur.data, cur.len, 0600, 0, 0);
			if (!err)
				err = add(m, path, false, n, h, &cur);
		} else {
			err = add(m, path, true, 0, h, NULL);
		}
		if (!err)
			err = store(ctx, fault, m);
		if (err < 0) {
			av_file_release(&cur);
			return err;
		}
		e = &m->e[m->n - 1];
	} else if (e->hash != av_hash(data, len)) {
		e->hash = av_hash(data, len);
		err = store(ctx, fault, m);
		if (err < 0) {
			av_file_release(&cur);
			return err;
		}
	}
	av_file_release(&cur);
	err = av_file_replace(ctx, fault, path, data, len, mode, 0, 0);
	if (!err)
		*changed = true;
	return err;
}

static int restore_one(const struct av_ctx *ctx, struct av_fault *fault,
		       const struct av_manifest_entry *e, av_restore_report report, void *data)
{
	struct av_file cur, orig = {0};
	char sp[64];
	int err;

	saved_path(sp, sizeof(sp), e->saved);
	if (!e->created) {
		err = av_file_read(ctx, sp, &orig);
		if (!err && !orig.exists)
			err = -ENOENT;
		if (err < 0) {
			av_err(ctx, "%s%s: its original %s%s is missing: %s", ctx->root, e->path,
			       ctx->root, sp, strerror(-err));
			return err;
		}
	}
	err = av_file_read(ctx, e->path, &cur);
	if (err < 0)
		goto out;
	/* Neither what auto-vfio wrote nor the original: someone edited it since. */
	if (cur.exists && av_hash(cur.data, cur.len) != e->hash &&
	    !(orig.exists && orig.len == cur.len && memcmp(orig.data, cur.data, cur.len) == 0)) {
		char *keep;

		if (asprintf(&keep, "%s.auto-vfio-saved", e->path) < 0) {
			err = -ENOMEM;
			goto out;
		}
		err = av_file_replace(ctx, fault, keep, cur.data, cur.len, cur.mode, cur.uid,
				      cur.gid);
		if (!err && report)
			report(data, e->path, "changed since setup: kept as .auto-vfio-saved");
		free(keep);
		if (err < 0)
			goto out;
	}
	if (e->created) {
		err = av_file_remove(ctx, fault, e->path);
		if (!err && report && cur.exists)
			report(data, e->path, "removed");
		goto out;
	}
	err = av_file_replace(ctx, fault, e->path, orig.data, orig.len, e->mode, e->uid, e->gid);
	if (!err && report)
		report(data, e->path, "restored");
	if (!err)
		err = av_file_remove(ctx, fault, sp);
out:
	av_file_release(&cur);
	av_file_release(&orig);
	return err;
}

int av_manifest_restore(const struct av_ctx *ctx, struct av_fault *fault, struct av_manifest *m,
			av_restore_report report, void *data)
{
	size_t kept = 0, files = 0;
	int first = 0, err;

	/* Newest first: a later change may build on an earlier one. */
	for (size_t i = m->n; i-- > 0;) {
		if (m->e[i].dir)
			continue;
		err = restore_one(ctx, fault, &m->e[i], report, data);
		if (err < 0) {
			av_err(ctx, "%s%s: %s", ctx->root, m->e[i].path, strerror(-err));
			if (!first)
				first = err;
			continue;
		}
		free(m->e[i].path);
		m->e[i].path = NULL;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (!m->e[i].path)
			continue;
		files += !m->e[i].dir;
		m->e[kept++] = m->e[i];
	}
	m->n = kept;
	if (files) {
		/* the directories stay while files in them are still ours */
		err = store(ctx, fault, m);
		return first ? first : err;
	}
	err = av_file_remove(ctx, fault, AV_MANIFEST_PATH);
	if (err < 0)
		return first ? first : err;
	av_manifest_remove_dirs(ctx, m);
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].path);
	m->n = 0;
	return first;
}

int av_manifest_restore_path(const struct av_ctx *ctx, struct av_fault *fault,
			     struct av_manifest *m, const char *path, av_restore_report report,
			     void *data)
{
	struct av_manifest_entry *e = av_manifest_find(m, path);
	int err;

	if (!e)
		return 0;
	err = restore_one(ctx, fault, e, report, data);
	if (err < 0)
		return err;
	free(e->path);
	/* keep the order: restore goes newest first */
	memmove(e, e + 1, (size_t)(m->e + m->n - e - 1) * sizeof(*e));
	m->n--;
	return store(ctx, fault, m);
}
