// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"

static int vpath(const struct av_ctx *ctx, char *buf, size_t size, const char *fmt, va_list ap)
{
	char rel[PATH_MAX];
	int n = vsnprintf(rel, sizeof(rel), fmt, ap);

	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	return av_path(ctx, buf, size, "%s", rel);
}

int av_read_fd(int fd, char *buf, size_t size, size_t *len)
{
	*len = 0;
	while (*len < size) {
		ssize_t n = read(fd, buf + *len, size - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return 0;
}

int av_write_fd(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_small(const char *path, char *buf, size_t size)
{
	size_t len, more;
	char extra;
	int fd, err;

	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	err = av_read_fd(fd, buf, size - 1, &len);
	/* one byte more tells a full buffer from a file too big for it */
	if (!err && len == size - 1 && (err = av_read_fd(fd, &extra, 1, &more)) == 0 && more)
		err = -EFBIG;
	close(fd);
	if (err < 0)
		return err;
	buf[len] = '\0';
	if (memchr(buf, '\0', len))
		return -EILSEQ;
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	return (int)len;
}

static int vread_attr(const struct av_ctx *ctx, char *buf, size_t size, const char *fmt, va_list ap)
{
	char path[PATH_MAX];
	int err = vpath(ctx, path, sizeof(path), fmt, ap);

	return err < 0 ? err : read_small(path, buf, size);
}

int av_read_attr(const struct av_ctx *ctx, char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vread_attr(ctx, buf, size, fmt, ap);
	va_end(ap);
	return err;
}

/* Parse a whole string as hex (optional 0x, surrounding blanks ignored). */
static int parse_hex(const char *s, unsigned long *val)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*val = strtoul(s, &end, 16);
	if (errno)
		return -errno;
	while (isspace((unsigned char)*end))
		end++;
	return *end ? -EINVAL : 0;
}

int av_read_hex(const struct av_ctx *ctx, unsigned long *val, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vread_attr(ctx, buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (err < 0)
		return err == -EFBIG ? -EINVAL : err;
	return parse_hex(buf, val);
}

int av_read_link_base(const struct av_ctx *ctx, char *buf, size_t size, const char *fmt, ...)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	va_list ap;
	ssize_t n;
	int err;

	va_start(ap, fmt);
	err = vpath(ctx, path, sizeof(path), fmt, ap);
	va_end(ap);
	if (err < 0)
		return err;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno == EINVAL ? -ENOLINK : -errno;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || strlen(base) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int av_write_attr(const struct av_ctx *ctx, const char *value, const char *fmt, ...)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	va_list ap;
	ssize_t n;
	int fd, err;

	va_start(ap, fmt);
	err = vpath(ctx, path, sizeof(path), fmt, ap);
	va_end(ap);
	if (err < 0)
		return err;
	/* No O_CREAT: a sysfs attribute that is not there must not be invented. */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : ((size_t)n != len ? -EIO : 0);
	if (close(fd) < 0 && err == 0)
		err = -errno;
	return err;
}
