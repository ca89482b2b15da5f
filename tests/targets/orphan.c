// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * orphan - a process whose main thread has exited while another thread
 * runs on: /proc/PID is then a zombie leader with no maps and no memory
 * figures of its own. main prints "ready <pid>" and exits its thread; the
 * worker prints "alone" once the main thread is a zombie, and per SIGUSR1
 * keeps ROUND x malloc(SIZE) from leak_here(), printing "done":
 * ROUND * SIZE = 4,096,000 B in use after one round.
 * "orphan late": the main thread exits at the first SIGUSR1 instead (the
 * worker, polling, has the signal blocked), so it can be watched before.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

#define ROUND	1000
#define SIZE	4096

static pid_t leader;

__attribute__((noinline)) void *leak_here(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	memset(p, 0x5a, n);
	return p;
}

/* The leader's state letter in /proc/self/task/PID/stat: 'Z' once it exited. */
static char leader_state(void)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", leader);
	f = fopen(path, "re");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void *worker(void *arg)
{
	while (leader_state() != 'Z')
		usleep(1000);
	printf("alone\n");
	while (target_next_round()) {
		for (int i = 0; i < ROUND; i++)
			leak_here(SIZE);
		printf("done\n");
	}
	exit(0);
}

int main(int argc, char **argv)
{
	pthread_t t;

	leader = getpid();
	/* the worker inherits the signal mask: SIGUSR1 waits for its sigsuspend */
	target_ready();
	if (pthread_create(&t, NULL, worker, NULL))
		return 1;
	if (argc > 1 && !strcmp(argv[1], "late") && !target_next_round())
		exit(0);
	pthread_exit(NULL);
}
