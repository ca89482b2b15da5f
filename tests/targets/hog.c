// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hog - grows until something stops it: on SIGUSR1, grow() mallocs and
 * touches 1 MiB every 20 ms and never frees. In a memory-limited cgroup the
 * kernel's OOM killer ends it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

__attribute__((noinline)) void grow(void)
{
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };

	for (;;) {
		char *p = malloc(1 << 20);

		if (!p)
			abort();
		memset(p, 1, 1 << 20);
		nanosleep(&ts, NULL);
	}
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	setvbuf(stdout, NULL, _IONBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	printf("ready %d\n", getpid());
	while (!go)
		pause();
	grow();
	return 0;
}
