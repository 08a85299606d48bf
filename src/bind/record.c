// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"
#include "sysfs.h"

int av_pci_count(const struct av_ctx *ctx)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0, err;
	DIR *d;

	err = av_path(ctx, path, sizeof(path), "/sys/bus/pci/devices");
	if (err < 0)
		return err;
	d = opendir(path);
	if (!d)
		return -errno;
	/* as the shell's glob counts them: names not starting with a dot */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int av_bind_record_write(const struct av_ctx *ctx, int npci)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX], count[16];
	int fd, err;

	if (av_path(ctx, dir, sizeof(dir), AV_BIND_RECORD_DIR) < 0 ||
	    av_path(ctx, path, sizeof(path), AV_BIND_RECORD) < 0 ||
	    av_path(ctx, tmp, sizeof(tmp), AV_BIND_RECORD ".new") < 0)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(count, sizeof(count), "%d\n", npci);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	err = av_write_fd(fd, count, strlen(count));
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int av_bind_record_clear(const struct av_ctx *ctx)
{
	char path[PATH_MAX];

	if (av_path(ctx, path, sizeof(path), AV_BIND_RECORD) < 0)
		return -ENAMETOOLONG;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
