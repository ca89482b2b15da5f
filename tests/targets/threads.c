// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * threads - allocations on thread stacks, for DWARF unwinding (built without
 * frame pointers). Prints "ready <pid>", waits for SIGUSR1, then starts
 * THREADS threads that each keep PER_THREAD x malloc(SIZE) from
 * thread_alloc() called by worker(), joins them, prints "done" and waits
 * for SIGTERM: THREADS * PER_THREAD * SIZE = 400,000 B in use.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

#define THREADS		4
#define PER_THREAD	100
#define SIZE		1000

static void *kept[THREADS][PER_THREAD];

__attribute__((noinline)) void *thread_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	memset(p, 0x5a, n);
	return p;
}

__attribute__((noinline)) void *worker(void *arg)
{
	long t = (long)arg;

	for (int i = 0; i < PER_THREAD; i++)
		kept[t][i] = thread_alloc(SIZE);
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];

	target_ready();
	while (target_next_round()) {
		for (long t = 0; t < THREADS; t++)
			if (pthread_create(&th[t], NULL, worker, (void *)t))
				abort();
		for (int t = 0; t < THREADS; t++)
			pthread_join(th[t], NULL);
		printf("done\n");
	}
	return 0;
}
