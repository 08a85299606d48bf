// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How a check fails or a test skips itself, and which test runs: kept apart
 * from the runner so the helper programs in tests/tools can link the test
 * helpers too.
 */
#include <stdarg.h>
#include <unistd.h>

#include "testsuite.h"

#define EXIT_SKIP 77

/* Each test runs in its own process: this is that process's test. */
static const struct av_test *current;
static const char *current_scratch;

const struct av_test *av_test_current(void)
{
	return current;
}

const char *av_test_scratch(void)
{
	return current_scratch;
}

void av_test_set_current(const struct av_test *t, const char *scratch)
{
	current = t;
	current_scratch = scratch;
}

void av_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	_exit(1);
}

void av_test_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  skipped: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	_exit(EXIT_SKIP);
}
