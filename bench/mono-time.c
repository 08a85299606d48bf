// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mono-time: run a command and print how long it took on CLOCK_MONOTONIC.
 * Built static so it runs on the benchmark guest's bare busybox root.
 *
 *   mono-time CMD [ARG...]   prints "<nanoseconds> <exit status>" on stdout
 *
 * The command's own output goes wherever the caller sends it; only the one
 * result line comes from here, after the command has finished.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int64_t start, end;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: mono-time CMD [ARG...]\n");
		return 2;
	}
	start = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("mono-time: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror("mono-time: exec");
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("mono-time: waitpid");
		return 1;
	}
	end = now_ns();
	printf("%lld %d\n", (long long)(end - start),
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
