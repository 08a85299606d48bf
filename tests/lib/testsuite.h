/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny test runner: tests register themselves with AV_TEST(), each runs in
 * its own forked process, the run ends with "N passed, N failed".
 * A test passes by returning, fails on the first failed CHECK, and can skip
 * itself with av_test_skip() (exit code 77).
 * A test may declare a fixture root, the way kmod's testsuite declares
 * TC_ROOTFS: a tree under tests/data/roots/ that tu_rootfs() (testroot.h)
 * copies into the test's scratch directory.
 */
#ifndef AV_TESTSUITE_H
#define AV_TESTSUITE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct av_test {
	const char *name;
	const char *file;
	void (*fn)(void);
	unsigned timeout;   /* seconds, 0: default */
	const char *rootfs; /* a tree under tests/data/roots/, or NULL */
};

#define AV_TEST_DEF(tname, secs, root)                                                             \
	static void tname(void);                                                                   \
	static const struct av_test av_test_##tname = {#tname, __FILE__, tname, secs, root};       \
	static const struct av_test *const av_testp_##tname                                        \
	    __attribute__((used, section("av_tests"))) = &av_test_##tname;                         \
	static void tname(void)

#define AV_TEST_T(tname, secs) AV_TEST_DEF(tname, secs, NULL)
#define AV_TEST(tname) AV_TEST_DEF(tname, 0, NULL)
/* A test run on a copy of tests/data/roots/@root (see tu_rootfs()). */
#define AV_TEST_ROOTFS(tname, root) AV_TEST_DEF(tname, 0, root)

/*
 * The test running in this process and its scratch directory, which the
 * runner makes before and removes after it (NULL outside a test).
 */
const struct av_test *av_test_current(void);
const char *av_test_scratch(void);
void av_test_set_current(const struct av_test *t, const char *scratch);

__attribute__((noreturn, format(printf, 3, 4))) void av_test_fail(const char *file, int line,
								  const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void av_test_skip(const char *fmt, ...);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			av_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                      \
	} while (0)

#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond))                                                                       \
			av_test_fail(__FILE__, __LINE__, __VA_ARGS__);                             \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long av_a_ = (long long)(a), av_b_ = (long long)(b);                          \
		if (av_a_ != av_b_)                                                                \
			av_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a,    \
				     av_a_, #b, av_b_);                                            \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *av_a_ = (a), *av_b_ = (b);                                             \
		if (!av_a_ || !av_b_ || strcmp(av_a_, av_b_) != 0)                                 \
			av_test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,      \
				     av_a_ ? av_a_ : "(null)", av_b_ ? av_b_ : "(null)");          \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
	do {                                                                                       \
		const char *av_h_ = (hay), *av_n_ = (needle);                                      \
		if (!av_h_ || !strstr(av_h_, av_n_))                                               \
			av_test_fail(__FILE__, __LINE__, "%s does not contain \"%s\":\n%s", #hay,  \
				     av_n_, av_h_ ? av_h_ : "(null)");                             \
	} while (0)

#define CHECK_NOT_CONTAINS(hay, needle)                                                            \
	do {                                                                                       \
		const char *av_h_ = (hay), *av_n_ = (needle);                                      \
		if (av_h_ && strstr(av_h_, av_n_))                                                 \
			av_test_fail(__FILE__, __LINE__, "%s contains \"%s\":\n%s", #hay, av_n_,   \
				     av_h_);                                                       \
	} while (0)

#endif
