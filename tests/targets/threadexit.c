// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * threadexit - a process that a thread other than its leader ends: the
 * thread leaks exactly 256 KiB (4 x 64 KiB) in leak_in_thread(), runs PROG
 * ARGS as its child if given (fork from that thread, exec, wait), then calls
 * exit(4) (exit_group) while the main thread waits in pause(). What `memsight
 * run` must still read at the exit (tests/bpf/t_run.sh).
 *
 *	threadexit [PROG ARGS...]
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define LEAK_BLOCKS	4
#define LEAK_SIZE	65536

static void *kept[LEAK_BLOCKS];
static char **child_argv;

static void __attribute__((noinline)) leak_in_thread(void)
{
	for (int i = 0; i < LEAK_BLOCKS; i++) {
		kept[i] = malloc(LEAK_SIZE);
		memset(kept[i], 1, LEAK_SIZE);
	}
}

static void *thread(void *arg)
{
	pid_t pid;

	leak_in_thread();
	if (child_argv && child_argv[0]) {
		pid = fork();
		if (pid == 0) {
			execvp(child_argv[0], child_argv);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	exit(4);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;

	(void)argc;
	child_argv = argv + 1;
	if (pthread_create(&t, NULL, thread, NULL))
		return 1;
	for (;;)
		pause();
}
