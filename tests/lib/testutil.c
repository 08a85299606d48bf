// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "testsuite.h"
#include "testutil.h"

extern char **environ;

const char *tu_build(void)
{
	const char *b = getenv("AV_BUILD");

	return b && *b ? b : "build";
}

const char *tu_srcdir(void)
{
	const char *s = getenv("AV_SRCDIR");

	return s && *s ? s : ".";
}

const char *tu_fixtures(void)
{
	static char buf[4096];
	const char *f = getenv("AV_FIXTURES");

	if (f && *f)
		return f;
	snprintf(buf, sizeof(buf), "%s/tests/data", tu_srcdir());
	return buf;
}

char *tu_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		av_test_fail(__FILE__, __LINE__, "out of memory");
	va_end(ap);
	return s;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

char *tu_scratch_make(void)
{
	char *dir =
	    tu_fmt("%s/auto-vfio-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");

	if (mkdtemp(dir))
		return dir;
	free(dir);
	return NULL;
}

void tu_scratch_remove(const char *dir)
{
	if (getenv("AV_KEEP_TMP"))
		fprintf(stderr, "  kept %s\n", dir);
	else
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static char *tmpdir;

static void tmpdir_cleanup(void)
{
	tu_scratch_remove(tmpdir);
}

const char *tu_tmpdir(void)
{
	if (tmpdir)
		return tmpdir;
	/* in a test, the runner's: it removes it whatever way the test ends */
	if (av_test_scratch()) {
		tmpdir = tu_fmt("%s", av_test_scratch());
		return tmpdir;
	}
	tmpdir = tu_scratch_make();
	if (!tmpdir)
		av_test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	atexit(tmpdir_cleanup);
	return tmpdir;
}

void tu_mkdirs(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		av_test_fail(__FILE__, __LINE__, "path too long");
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			av_test_fail(__FILE__, __LINE__, "mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		av_test_fail(__FILE__, __LINE__, "mkdir %s: %s", buf, strerror(errno));
}

void tu_write(const char *path, const char *content)
{
	char *dir = strdup(path), *slash;
	FILE *f;

	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		tu_mkdirs(dir);
	}
	free(dir);
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		av_test_fail(__FILE__, __LINE__, "write %s: %s", path, strerror(errno));
}

void tu_symlink(const char *target, const char *linkpath)
{
	char *dir = strdup(linkpath), *slash;

	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		tu_mkdirs(dir);
	}
	free(dir);
	if (symlink(target, linkpath) < 0)
		av_test_fail(__FILE__, __LINE__, "symlink %s: %s", linkpath, strerror(errno));
}

char *tu_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

bool tu_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void drain(int fds[2], char **bufs)
{
	FILE *m[2];
	size_t mlen[2];
	int open_fds = 2;

	m[0] = open_memstream(&bufs[0], &mlen[0]);
	m[1] = open_memstream(&bufs[1], &mlen[1]);
	while (open_fds > 0) {
		struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char chunk[4096];
			ssize_t n;

			if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i], chunk, sizeof(chunk));
			if (n <= 0) {
				close(fds[i]);
				fds[i] = -1;
				open_fds--;
				continue;
			}
			fwrite(chunk, 1, (size_t)n, m[i]);
		}
	}
	fclose(m[0]);
	fclose(m[1]);
}

void tu_run(struct tu_result *r, const char *const *argv, const char *const *env, const char *input)
{
	int out[2], err[2], in[2];
	pid_t pid;
	int status;

	memset(r, 0, sizeof(*r));
	if (pipe(out) < 0 || pipe(err) < 0 || pipe(in) < 0)
		av_test_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		av_test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		for (const char *const *e = env; e && *e; e++)
			putenv((char *)*e);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	/* Inputs in tests are small: they fit in the pipe buffer. A child that
	 * exits without reading must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (input && write(in[1], input, strlen(input)) < 0)
		av_test_fail(__FILE__, __LINE__, "write stdin: %s", strerror(errno));
	close(in[1]);
	int fds[2] = {out[0], err[0]};
	char *bufs[2] = {NULL, NULL};

	drain(fds, bufs);
	r->out = bufs[0];
	r->err = bufs[1];
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			av_test_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void tu_result_free(struct tu_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

char *tu_prog(const char *name)
{
	return tu_fmt("%s/%s", tu_build(), name);
}

/* nftw() takes no user pointer: the walk in progress lives here (tests only). */
static char *digest_lines;
static size_t digest_len;
static FILE *digest_out;
static size_t digest_prefix;

static unsigned long long fnv(const char *p, size_t n)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h;
}

static int digest_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (strlen(path) <= digest_prefix)
		return 0;
	const char *rel = path + digest_prefix;

	if (flag == FTW_SL) {
		char t[4096];
		ssize_t n = readlink(path, t, sizeof(t) - 1);

		t[n < 0 ? 0 : n] = '\0';
		fprintf(digest_out, "%s link %s\n", rel, t);
	} else if (S_ISDIR(st->st_mode)) {
		fprintf(digest_out, "%s dir %o %u:%u\n", rel, (unsigned)(st->st_mode & 07777),
			(unsigned)st->st_uid, (unsigned)st->st_gid);
	} else {
		char *c = tu_read(path);
		size_t n = (size_t)st->st_size;

		fprintf(digest_out, "%s file %o %u:%u %zu %016llx\n", rel,
			(unsigned)(st->st_mode & 07777), (unsigned)st->st_uid, (unsigned)st->st_gid,
			n, c ? fnv(c, n) : 0ULL);
		free(c);
	}
	return 0;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *tu_tree_digest(const char *dir)
{
	char **lines = NULL, *save = NULL, *tok, *out = NULL;
	size_t n = 0, olen = 0;
	FILE *o;

	digest_lines = NULL;
	digest_len = 0;
	digest_out = open_memstream(&digest_lines, &digest_len);
	digest_prefix = strlen(dir);
	nftw(dir, digest_one, 16, FTW_PHYS);
	fclose(digest_out);
	for (tok = strtok_r(digest_lines, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = tok;
	}
	if (n)
		qsort(lines, n, sizeof(*lines), cmp_lines);
	o = open_memstream(&out, &olen);
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%s\n", lines[i]);
	fclose(o);
	free(lines);
	free(digest_lines);
	return out ? out : strdup("");
}

int tu_cli_env(struct tu_result *r, const char *root, const char *const *env,
	       const char *const *args)
{
	const char *argv[16] = {tu_prog("auto-vfio"), "--root", root};
	size_t n = 3;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	tu_run(r, argv, env, NULL);
	return r->status;
}

int tu_cli(struct tu_result *r, const char *root, const char *cmd, const char *const *args)
{
	const char *argv[16] = {cmd};
	size_t n = 1;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return tu_cli_env(r, root, NULL, argv);
}

/* What the library logged through tu_ctx() contexts, one message a line. */
static char *log_text;
static size_t log_len;
static FILE *log_out;

static void log_collect(void *data, int prio, const char *fmt, va_list ap)
{
	(void)data;
	(void)prio;
	if (!log_out)
		log_out = open_memstream(&log_text, &log_len);
	vfprintf(log_out, fmt, ap);
	fputc('\n', log_out);
}

void tu_ctx(struct av_ctx *ctx, const char *root)
{
	CHECK_INT(av_ctx_init(ctx, root), 0);
	av_ctx_set_log(ctx, log_collect, NULL, AV_LOG_DEBUG);
}

const char *tu_log(void)
{
	if (!log_out)
		return "";
	fflush(log_out);
	return log_text;
}
