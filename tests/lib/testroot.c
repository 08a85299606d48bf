// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testroot.h"
#include "testsuite.h"
#include "testutil.h"

/* nftw() takes no user pointer: the copy in progress lives here (tests only). */
static size_t copy_prefix;
static const char *copy_dst;

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[4096];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (in < 0 || out < 0)
		av_test_fail(__FILE__, __LINE__, "copy %s: %s", from, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			av_test_fail(__FILE__, __LINE__, "write %s: %s", to, strerror(errno));
	close(in);
	close(out);
	/* the umask may have taken bits the data has */
	chmod(to, mode);
}

static int copy_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char *to = tu_fmt("%s%s", copy_dst, path + copy_prefix);

	(void)ftw;
	if (flag == FTW_SL) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n < 0)
			av_test_fail(__FILE__, __LINE__, "readlink %s: %s", path, strerror(errno));
		target[n] = '\0';
		unlink(to);
		tu_symlink(target, to);
	} else if (S_ISDIR(st->st_mode)) {
		tu_mkdirs(to);
	} else {
		copy_file(path, to, st->st_mode & 07777);
	}
	free(to);
	return 0;
}

void tu_root_add(const char *dir, const char *name)
{
	char *src = tu_fmt("%s/roots/%s", tu_fixtures(), name);
	struct stat st;

	CHECK_MSG(stat(src, &st) == 0 && S_ISDIR(st.st_mode), "no fixture root %s", src);
	tu_mkdirs(dir);
	copy_prefix = strlen(src);
	copy_dst = dir;
	CHECK_INT(nftw(src, copy_one, 16, FTW_PHYS), 0);
	free(src);
}

const char *tu_rootfs(void)
{
	static char *root;
	const struct av_test *t = av_test_current();

	if (root)
		return root;
	CHECK_MSG(t && t->rootfs, "the test declares no root (AV_TEST_ROOTFS)");
	root = tu_fmt("%s/rootfs", tu_tmpdir());
	tu_root_add(root, t->rootfs);
	return root;
}

char *tu_machine(const char *listing, ...)
{
	static unsigned seq;
	char *r = tu_fmt("%s/m%u", tu_tmpdir(), seq++);
	const char *argv[] = {tu_prog("tests/fixture2sysfs"),
			      tu_fmt("%s/%s", tu_fixtures(), listing), r, NULL};
	struct tu_result res;
	const char *name;
	va_list ap;

	tu_run(&res, argv, NULL, NULL);
	CHECK_MSG(res.status == 0, "fixture2sysfs: %s", res.err);
	tu_result_free(&res);
	va_start(ap, listing);
	while ((name = va_arg(ap, const char *)))
		tu_root_add(r, name);
	va_end(ap);
	return r;
}
