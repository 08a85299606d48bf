// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileops.h"
#include "sysfs.h"

int av_fault_parse(const char *spec, struct av_fault *f)
{
	char *end;
	unsigned long n;

	memset(f, 0, sizeof(*f));
	errno = 0;
	n = strtoul(spec, &end, 10);
	if (errno || end == spec || n == 0 || n > 1000000)
		return -EINVAL;
	f->at = (unsigned)n;
	f->err = EIO;
	if (*end == '\0')
		return 0;
	if (*end != ':')
		return -EINVAL;
	end++;
	if (strcmp(end, "kill") == 0)
		f->kill = true;
	else if (strcmp(end, "ENOSPC") == 0)
		f->err = ENOSPC;
	else if (strcmp(end, "EIO") == 0)
		f->err = EIO;
	else if (strcmp(end, "EACCES") == 0)
		f->err = EACCES;
	else
		return -EINVAL;
	return 0;
}

/* A step that touches the disk: 0, or the injected -errno. */
static int step(struct av_fault *f)
{
	if (!f || !f->at)
		return 0;
	if (++f->count != f->at)
		return 0;
	if (f->kill)
		raise(SIGKILL);
	return -f->err;
}

void av_file_release(struct av_file *f)
{
	free(f->data);
	memset(f, 0, sizeof(*f));
}

int av_file_read(const struct av_ctx *ctx, const char *abspath, struct av_file *out)
{
	char path[PATH_MAX];
	struct stat st;
	size_t cap, len = 0;
	char *buf;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	if (av_path(ctx, path, sizeof(path), "%s", abspath) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return err;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	while (buf) {
		size_t n;

		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		err = av_read_fd(fd, buf + len, cap - 1 - len, &n);
		len += n;
		if (err < 0 || len + 1 < cap) /* an error, or the end of the file */
			break;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	out->exists = true;
	out->data = buf;
	out->len = len;
	out->mode = st.st_mode & 07777;
	out->uid = st.st_uid;
	out->gid = st.st_gid;
	return 0;
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int err = -errno;

			*p = '/';
			return err;
		}
		*p = '/';
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

void av_file_clean_temps(const struct av_ctx *ctx, const char *abspath)
{
	char dir[PATH_MAX], prefix[NAME_MAX + 8];
	const char *base = strrchr(abspath, '/');
	struct dirent *de;
	DIR *d;

	if (!base || av_path(ctx, dir, sizeof(dir), "%.*s", (int)(base - abspath), abspath) < 0)
		return;
	snprintf(prefix, sizeof(prefix), ".%s.av", base + 1);
	d = opendir(dir[0] ? dir : "/");
	if (!d)
		return;
	while ((de = readdir(d))) {
		/* mkostemp's six characters after our prefix, nothing else */
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    strlen(de->d_name) == strlen(prefix) + 6)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static int replace(const struct av_ctx *ctx, const char *abspath, const void *data, size_t len,
		   mode_t mode, uid_t uid, gid_t gid, bool exact)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], dir[PATH_MAX];
	struct stat st;
	char *slash;
	int fd, err;

	if (av_path(ctx, path, sizeof(path), "%s", abspath) < 0)
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	if (lstat(path, &st) == 0) {
		/* Never write through a link: the admin's file elsewhere is not ours. */
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
		if (!exact) {
			mode = st.st_mode & 07777;
			uid = st.st_uid;
			gid = st.st_gid;
		}
	} else if (errno != ENOENT) {
		return -errno;
	} else {
		err = mkdirs(path);
		if (err < 0)
			return err;
	}
	av_file_clean_temps(ctx, abspath);
	snprintf(tmp, sizeof(tmp), "%s/.%s.avXXXXXX", dir, slash + 1);
	err = step(ctx->fault);
	if (err < 0)
		return err;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = step(ctx->fault);
	if (!err)
		err = av_write_fd(fd, data, len);
	if (!err && fchmod(fd, mode) < 0)
		err = -errno;
	if (!err && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		err = -errno;
	if (!err)
		err = step(ctx->fault);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err)
		err = step(ctx->fault);
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	err = step(ctx->fault);
	return err ? err : sync_dir(dir);
}

int av_file_replace(const struct av_ctx *ctx, const char *abspath, const void *data, size_t len,
		    mode_t mode, uid_t uid, gid_t gid)
{
	return replace(ctx, abspath, data, len, mode, uid, gid, false);
}

int av_file_put(const struct av_ctx *ctx, const char *abspath, const void *data, size_t len,
		mode_t mode, uid_t uid, gid_t gid)
{
	return replace(ctx, abspath, data, len, mode, uid, gid, true);
}

int av_file_remove(const struct av_ctx *ctx, const char *abspath)
{
	char path[PATH_MAX];
	char *slash;
	int err;

	if (av_path(ctx, path, sizeof(path), "%s", abspath) < 0)
		return -ENAMETOOLONG;
	err = step(ctx->fault);
	if (err < 0)
		return err;
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -errno;
	slash = strrchr(path, '/');
	if (slash == path)
		return sync_dir("/");
	*slash = '\0';
	return sync_dir(path);
}
