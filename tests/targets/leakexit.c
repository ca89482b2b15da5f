// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * leakexit - what `memsight run` gates: a program that exits holding
 * exactly 1 MiB, allocated in leak_here() (16 x 64 KiB, under glibc's mmap
 * threshold), after allocating and freeing 100 x 1000 B in churn(). No
 * stdio: nothing else allocates.
 *
 *	leakexit [STATUS]		leak, exit with STATUS (default 0)
 *	leakexit wait			leak, say "ready" on stdout, wait for a signal
 *	leakexit spawn PROG ARGS...	leak, run PROG ARGS as a child (fork +
 *					exec), wait for it, exit with its status
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define LEAK_BLOCKS	16
#define LEAK_SIZE	65536

static void *kept[LEAK_BLOCKS];

static void __attribute__((noinline)) leak_here(void)
{
	for (int i = 0; i < LEAK_BLOCKS; i++) {
		kept[i] = malloc(LEAK_SIZE);
		memset(kept[i], 1, LEAK_SIZE);
	}
}

static void __attribute__((noinline)) churn(void)
{
	for (int i = 0; i < 100; i++) {
		char *volatile p = malloc(1000);

		p[0] = 1;
		free(p);
	}
}

int main(int argc, char **argv)
{
	leak_here();
	churn();
	if (argc > 1 && !strcmp(argv[1], "wait")) {
		if (write(1, "ready\n", 6) != 6)
			return 1;
		pause();
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "spawn")) {
		int st;
		pid_t pid = fork();

		if (pid == 0) {
			execv(argv[2], argv + 2);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return 1;
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	return argc > 1 ? atoi(argv[1]) : 0;
}
