// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * churner - many allocations, for estimates from few samples (the sampler
 * library's tests): prints "ready <pid>", waits for SIGUSR1, then
 *   keep_here():  CHURNER_KEEP (default 1000) x malloc(4096), kept
 *   churn_here(): CHURNER_N (default 100000) x malloc(4096) + free
 *                 -> 409,600,000 B allocated, none of it in use
 * and prints "done"; SIGTERM ends it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BLOCK	4096

static volatile sig_atomic_t got_usr1, got_term;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? atol(v) : def;
}

/* the compiler may not drop a malloc + free pair it sees through */
static void used(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

__attribute__((noinline)) void keep_here(long n)
{
	for (long i = 0; i < n; i++)
		used(malloc(BLOCK));
}

__attribute__((noinline)) void churn_here(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(BLOCK);

		used(p);
		free(p);
	}
}

int main(void)
{
	long keep = env_long("CHURNER_KEEP", 1000), n = env_long("CHURNER_N", 100000);

	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready %d\n", (int)getpid());
	while (!got_usr1 && !got_term)
		pause();
	if (got_usr1) {
		keep_here(keep);
		churn_here(n);
		printf("done\n");
	}
	while (!got_term)
		pause();
	return 0;
}
