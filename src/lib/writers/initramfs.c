// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "initramfs.h"

extern char **environ;

#define SRC_BUF (64 * 1024)
#define CPIO_HDR 110
#define CPIO_MAX_NAME 4096

/* A buffered byte stream: the image file, zlib's output, or a decompressor's pipe. */
struct src {
	int (*fill)(struct src *s, unsigned char *buf, size_t cap);
	unsigned char *buf;
	size_t pos, len;
	unsigned long long off; /* bytes the fill function has produced so far */
	bool eof;
	int fd;
	struct src *inner; /* zlib: the compressed stream */
	z_stream zs;
	bool zend;
};

struct walker {
	const struct av_ctx *ctx;
	const char *path; /* root-prefixed, for messages and for the decompressors */
	struct av_initramfs *out;
	size_t cap;
};

static int fd_fill(struct src *s, unsigned char *buf, size_t cap)
{
	for (;;) {
		ssize_t n = read(s->fd, buf, cap);

		if (n >= 0)
			return (int)n;
		if (errno != EINTR)
			return -errno;
	}
}

/* Make @n bytes available if the stream has them. Returns how many are (<= n) or -errno. */
static long src_peek(struct src *s, size_t n)
{
	if (n > SRC_BUF)
		return -EINVAL;
	while (s->len - s->pos < n && !s->eof) {
		int got;

		if (s->pos) {
			memmove(s->buf, s->buf + s->pos, s->len - s->pos);
			s->len -= s->pos;
			s->pos = 0;
		}
		got = s->fill(s, s->buf + s->len, SRC_BUF - s->len);
		if (got < 0)
			return got;
		if (got == 0)
			s->eof = true;
		s->len += (size_t)got;
		s->off += (unsigned long long)got;
	}
	return (long)(s->len - s->pos < n ? s->len - s->pos : n);
}

/* File offset of the next unread byte. */
static unsigned long long src_tell(const struct src *s)
{
	return s->off - (s->len - s->pos);
}

static int src_read(struct src *s, void *dst, size_t n)
{
	long a = src_peek(s, n);

	if (a < 0)
		return (int)a;
	if ((size_t)a < n)
		return -EINVAL; /* truncated */
	memcpy(dst, s->buf + s->pos, n);
	s->pos += n;
	return 0;
}

static int src_skip(struct src *s, unsigned long long n)
{
	while (n) {
		size_t step = n > SRC_BUF ? SRC_BUF : (size_t)n;
		long a = src_peek(s, step);

		if (a < 0)
			return (int)a;
		if (a == 0)
			return -EINVAL;
		s->pos += (size_t)a;
		n -= (unsigned long long)a;
	}
	return 0;
}

static int src_init(struct src *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->buf = malloc(SRC_BUF);
	if (!s->buf)
		return -ENOMEM;
	s->fd = fd;
	s->fill = fd_fill;
	return 0;
}

static bool is_gzip(const unsigned char *p, long n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* gzip members one after another, as the kernel accepts them. */
static int zlib_fill(struct src *s, unsigned char *buf, size_t cap)
{
	struct src *in = s->inner;

	for (;;) {
		size_t avail;
		long a;
		int ret;

		if (s->zend) {
			a = src_peek(in, 2);
			if (a < 0)
				return (int)a;
			if (!is_gzip(in->buf + in->pos, a))
				return 0;
			inflateReset(&s->zs);
			s->zend = false;
		}
		a = src_peek(in, 1);
		if (a < 0)
			return (int)a;
		if (a == 0)
			return -EINVAL; /* the stream ends inside a member */
		avail = in->len - in->pos;
		s->zs.next_in = in->buf + in->pos;
		s->zs.avail_in = (uInt)avail;
		s->zs.next_out = buf;
		s->zs.avail_out = (uInt)cap;
		ret = inflate(&s->zs, Z_NO_FLUSH);
		in->pos += avail - s->zs.avail_in;
		if (ret == Z_STREAM_END)
			s->zend = true;
		else if (ret != Z_OK && ret != Z_BUF_ERROR)
			return -EINVAL;
		if (cap - s->zs.avail_out > 0)
			return (int)(cap - s->zs.avail_out);
	}
}

static int add_name(struct walker *w, const char *name)
{
	char *copy;

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	while (name[0] == '/')
		name++;
	if (!name[0] || strcmp(name, ".") == 0)
		return 0;
	if (w->out->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 256;
		char **nv = realloc(w->out->names, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		w->out->names = nv;
		w->cap = ncap;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	w->out->names[w->out->n++] = copy;
	return 0;
}

static int hex8(const unsigned char *p, unsigned long *val)
{
	unsigned long v = 0;

	for (int i = 0; i < 8; i++) {
		int c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | (unsigned long)d;
	}
	*val = v;
	return 0;
}

static bool is_cpio(const unsigned char *p, long n)
{
	return n >= 6 && memcmp(p, "07070", 5) == 0 && (p[5] == '1' || p[5] == '2');
}

/* One newc member: header, name, data, each padded to 4 bytes. 1 at the trailer. */
static int cpio_member(struct walker *w, struct src *s)
{
	unsigned char hdr[CPIO_HDR];
	unsigned long size, namesize;
	char name[CPIO_MAX_NAME];
	int err;

	err = src_read(s, hdr, sizeof(hdr));
	if (err < 0)
		return err;
	if (hex8(hdr + 6 + 6 * 8, &size) < 0 || hex8(hdr + 6 + 11 * 8, &namesize) < 0 ||
	    namesize == 0 || namesize > sizeof(name))
		return -EINVAL;
	err = src_read(s, name, namesize);
	if (err < 0)
		return err;
	if (name[namesize - 1] != '\0')
		return -EINVAL;
	err = src_skip(s, (4 - (CPIO_HDR + namesize) % 4) % 4);
	if (!err)
		err = src_skip(s, (unsigned long long)size + (4 - size % 4) % 4);
	if (err < 0)
		return err;
	if (strcmp(name, "TRAILER!!!") == 0)
		return 1;
	err = add_name(w, name);
	return err < 0 ? err : 0;
}

static void add_format(struct walker *w, const char *what)
{
	size_t len = strlen(w->out->format);

	/* "cpio+zstd": an early archive, then a zstd one */
	snprintf(w->out->format + len, sizeof(w->out->format) - len, "%s%s", len ? "+" : "", what);
}

static const struct {
	const char *name;
	unsigned char magic[6];
	size_t mlen;
	const char *const argv[4];
	const char *package;
} tools[] = {
    {"zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4, {"zstd", "-dcq", NULL}, "zstd"},
    {"xz", {0xfd, '7', 'z', 'X', 'Z', 0}, 6, {"xz", "-dc", NULL}, "xz-utils"},
    {"lzma", {0x5d, 0, 0}, 3, {"xz", "-dc", "--format=lzma", NULL}, "xz-utils"},
    {"bzip2", {'B', 'Z', 'h'}, 3, {"bzip2", "-dc", NULL}, "bzip2"},
    {"lz4", {0x02, 0x21, 0x4c, 0x18}, 4, {"lz4", "-dc", NULL}, "lz4"},
    {"lzo", {0x89, 'L', 'Z', 'O', 0}, 5, {"lzop", "-dc", NULL}, "lzop"},
};

static int walk(struct walker *w, struct src *s, bool top);

/* Feed the rest of the image, from @offset, through a decompressor and walk its output. */
static int walk_tool(struct walker *w, size_t t, unsigned long long offset)
{
	posix_spawn_file_actions_t fa;
	struct src out;
	int in, pipefd[2], status, err, werr;
	pid_t pid;

	in = open(w->path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (lseek(in, (off_t)offset, SEEK_SET) < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		err = -errno;
		close(in);
		return err;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	err =
	    posix_spawnp(&pid, tools[t].argv[0], &fa, NULL, (char *const *)tools[t].argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		if (err == ENOENT) {
			av_err(w->ctx,
			       "%s: %s-compressed; reading it needs the '%s' command "
			       "(apt-get install %s)",
			       w->path, tools[t].name, tools[t].argv[0], tools[t].package);
			return -ENOPKG;
		}
		return -err;
	}
	err = src_init(&out, pipefd[0]);
	if (!err)
		err = walk(w, &out, false);
	free(out.buf);
	/* an early stop leaves the tool writing into a closed pipe: SIGPIPE ends it */
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err ? err : -errno;
	werr = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
	if (!err && werr)
		av_err(w->ctx, "%s: '%s' could not decompress it (damaged image?)", w->path,
		       tools[t].argv[0]);
	return err ? err : werr;
}

static int walk_gzip(struct walker *w, struct src *s)
{
	struct src z;
	int err;

	err = src_init(&z, -1);
	if (err < 0)
		return err;
	z.fill = zlib_fill;
	z.inner = s;
	/* 16 + MAX_WBITS: gzip framing only */
	if (inflateInit2(&z.zs, 16 + MAX_WBITS) != Z_OK) {
		free(z.buf);
		return -ENOMEM;
	}
	err = walk(w, &z, false);
	inflateEnd(&z.zs);
	free(z.buf);
	return err;
}

/*
 * Archives one after another with zero padding between them, as the kernel
 * unpacks them; in the image itself (@top), a compressed part may follow.
 */
static int walk(struct walker *w, struct src *s, bool top)
{
	bool in_cpio = false;

	for (;;) {
		const unsigned char *p;
		long a;
		int err;

		for (;;) {
			a = src_peek(s, 1);
			if (a <= 0)
				return (int)a;
			while (s->pos < s->len && s->buf[s->pos] == 0)
				s->pos++;
			if (s->pos < s->len)
				break;
		}
		a = src_peek(s, 6);
		if (a < 0)
			return (int)a;
		p = s->buf + s->pos;
		if (is_cpio(p, a)) {
			if (top && !in_cpio)
				add_format(w, "cpio");
			in_cpio = true;
			while ((err = cpio_member(w, s)) == 0)
				;
			if (err < 0)
				return err;
			continue;
		}
		in_cpio = false;
		if (!top)
			return -EINVAL;
		if (is_gzip(p, a)) {
			add_format(w, "gzip");
			err = walk_gzip(w, s);
			if (err < 0)
				return err;
			continue;
		}
		for (size_t t = 0; t < sizeof(tools) / sizeof(tools[0]); t++) {
			if ((size_t)a >= tools[t].mlen &&
			    memcmp(p, tools[t].magic, tools[t].mlen) == 0) {
				add_format(w, tools[t].name);
				/* the tool reads to the end of the image: nothing can follow */
				return walk_tool(w, t, src_tell(s));
			}
		}
		return -EINVAL;
	}
}

int av_initramfs_list(const struct av_ctx *ctx, const char *abspath, struct av_initramfs *out)
{
	char path[PATH_MAX];
	struct walker w = {.ctx = ctx, .path = path, .out = out};
	struct src s;
	int fd, err;

	memset(out, 0, sizeof(*out));
	err = av_path(ctx, path, sizeof(path), "%s", abspath);
	if (err < 0)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			av_err(ctx, "%s: %s", path, strerror(-err));
		return err;
	}
	err = src_init(&s, fd);
	if (!err)
		err = walk(&w, &s, true);
	if (err == 0 && out->format[0] == '\0')
		err = -EINVAL; /* empty file */
	if (err == -EINVAL)
		av_err(ctx, "%s: not a readable initramfs image (damaged, or an unknown format)",
		       path);
	else if (err < 0 && err != -ENOPKG)
		av_err(ctx, "%s: %s", path, strerror(-err));
	free(s.buf);
	close(fd);
	if (err < 0)
		av_initramfs_release(out);
	return err;
}

void av_initramfs_release(struct av_initramfs *ir)
{
	for (size_t i = 0; i < ir->n; i++)
		free(ir->names[i]);
	free(ir->names);
	memset(ir, 0, sizeof(*ir));
}

const char *av_initramfs_find(const struct av_initramfs *ir, const char *pattern)
{
	for (size_t i = 0; i < ir->n; i++)
		if (fnmatch(pattern, ir->names[i], 0) == 0)
			return ir->names[i];
	return NULL;
}
