// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mallocbench - malloc+free pairs of mixed sizes, for bench/sampler.sh.
 *
 *   mallocbench [-t THREADS] [-n PAIRS_PER_THREAD] [--attach LIB] [--wait]
 *
 * Each thread keeps a ring of 1024 blocks; each step frees the oldest and
 * mallocs a new one whose size comes from a fixed mix (mostly 16..512 B, some
 * 1..8 KiB, a few 32 KiB: under glibc's mmap threshold, so the allocator is
 * measured, not mmap). Prints "ns_per_pair=X" (CPU time of the slowest
 * thread / its pairs). --attach LIB raises LIB's semaphores with counting
 * uprobes on its USDT sites (tests/sampler/usdt_count.h): what an observer's
 * attach costs the program before any BPF program runs, and prints the
 * number of probe hits. --wait prints "ready" and starts only once a line
 * (or EOF) comes on stdin: an observer attaches in between.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/sampler/usdt_count.h"

#define RING 1024
#define MIX 256

static size_t mix[MIX];
static long pairs = 5000000;

static double now(void)
{
	struct timespec t;

	/* CPU time of this thread (user + kernel, so uprobe hits count): a
	 * shared machine's other load inflates wall time, not this */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	void *ring[RING] = { 0 };
	double *secs = arg, t0 = now();
	long i;

	for (i = 0; i < pairs; i++) {
		size_t k = (size_t)i & (RING - 1);

		free(ring[k]);
		ring[k] = malloc(mix[(size_t)(i * 7) & (MIX - 1)]);
		if (ring[k])
			*(volatile char *)ring[k] = 1;	/* touch it, as a program would */
	}
	for (i = 0; i < RING; i++)
		free(ring[i]);
	*secs = now() - t0;
	return NULL;
}

int main(int argc, char **argv)
{
	struct usdt_count uc;
	int threads = 1, attach = 0, wait = 0, i;
	pthread_t tid[64];
	double secs[64], worst = 0;
	unsigned x = 12345;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			pairs = atol(argv[++i]);
		else if (!strcmp(argv[i], "--attach") && i + 1 < argc) {
			if (usdt_count__attach(&uc, argv[++i], 1))
				return 1;
			attach = 1;
		} else if (!strcmp(argv[i], "--wait")) {
			wait = 1;
		}
	}
	if (threads < 1 || threads > 64 || pairs < 1)
		return 2;
	for (i = 0; i < MIX; i++) {
		x = x * 1103515245u + 12345u;
		if (i % 64 == 0)
			mix[i] = 32768;
		else if (i % 8 == 0)
			mix[i] = 1024 + (x >> 8) % 7168;
		else
			mix[i] = 16 + (x >> 8) % 496;
	}
	if (wait) {
		char line[16];

		printf("ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			line[0] = 0;	/* EOF starts it too */
	}
	for (i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, run, &secs[i]);
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		if (secs[i] > worst)
			worst = secs[i];
	}
	printf("ns_per_pair=%.2f", worst * 1e9 / pairs);
	if (attach)
		printf(" probe_hits=%llu", (unsigned long long)(usdt_count__allocs(&uc) +
							    usdt_count__frees(&uc)));
	printf("\n");
	return 0;
}
