// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testsuite.h"
#include "testutil.h"

/* Bounds of the "av_tests" section, provided by the linker. */
extern const struct av_test *const __start_av_tests[];
extern const struct av_test *const __stop_av_tests[];

#define DEFAULT_TIMEOUT 120
#define EXIT_SKIP 77

static int selected(const struct av_test *t, int argc, char **argv)
{
	if (argc <= 1)
		return 1;
	for (int i = 1; i < argc; i++)
		if (fnmatch(argv[i], t->name, 0) == 0)
			return 1;
	return 0;
}

static int run_one(const struct av_test *t)
{
	char *scratch;
	int status;
	pid_t pid;

	/*
	 * The test's scratch directory (tu_tmpdir()) is made and removed here:
	 * a test ends with _exit() (no atexit handlers, no leak check of what
	 * tests never free), or is killed, and leaves nothing behind either way.
	 */
	scratch = tu_scratch_make();
	if (!scratch) {
		perror("mkdtemp");
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		tu_scratch_remove(scratch);
		free(scratch);
		return 1;
	}
	if (pid == 0) {
		alarm(t->timeout ? t->timeout : DEFAULT_TIMEOUT);
		av_test_set_current(t, scratch);
		t->fn();
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	tu_scratch_remove(scratch);
	free(scratch);
	if (status == -1)
		return 1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
		WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	return 1;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (const struct av_test *const *t = __start_av_tests; t < __stop_av_tests; t++) {
		int rc;

		if (!selected(*t, argc, argv))
			continue;
		rc = run_one(*t);
		if (rc == 0) {
			passed++;
			printf("PASS %s\n", (*t)->name);
		} else if (rc == EXIT_SKIP) {
			skipped++;
			printf("SKIP %s\n", (*t)->name);
		} else {
			failed++;
			printf("FAIL %s (%s)\n", (*t)->name, (*t)->file);
		}
	}
	if (skipped)
		printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	else
		printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
