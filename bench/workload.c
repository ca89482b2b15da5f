// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * workload - a malloc-heavy loop for the overhead benchmark.
 *
 *   workload [-n ITERATIONS | -t SECONDS]
 *
 * Prints "ready <pid>" and blocks reading stdin until a line arrives, so a
 * profiler can attach before anything is timed. Then it runs the timed phase:
 * one "iteration" visits every call path below once, in a fixed order:
 *
 *   small_churn()    malloc(16..256), freed 256 iterations later (a ring)
 *   large_pair()     malloc(4 KiB..64 KiB) + free, every 8th iteration; kept
 *                    under glibc's mmap threshold so it measures the allocator,
 *                    not mmap/munmap syscalls
 *   calloc_pair()    calloc(n, 32) + free
 *   realloc_grow()   malloc(16), realloc doubling to 1 KiB, free, every 16th
 *   leak_some()      malloc(64..512) kept, every 100th: ~1 % of objects leak
 *
 * -n runs a fixed number of iterations; -t runs until SECONDS have passed
 * (checked every 256 iterations), which is how the benchmark keeps a run a few
 * seconds long whether each call costs 25 ns natively or 30 us under uprobes.
 *
 * After the loop it prints one "result" line (key=value) with the elapsed
 * time, ns per pair (elapsed / allocating calls: each allocating call is one
 * malloc+free pair's worth of allocator work) and the exact call counts, so a
 * profiler's event counters can be checked against what was really called.
 * Then it waits for a second stdin line (or EOF) before freeing the leaks and
 * exiting, so the profiler can detach from a process that is still alive.
 *
 * No allocation happens in the timed phase except the counted ones: stdout is
 * unbuffered and set up before "ready".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING		256
#define LEAK_EVERY	100
#define LARGE_EVERY	8
#define REALLOC_EVERY	16
#define CHECK_EVERY	256
/* the leak path may not grow without bound: past this it stops keeping */
#define LEAK_MAX	(1u << 20)

struct counts {
	uint64_t malloc_calls, calloc_calls, realloc_calls, free_calls;
	uint64_t realloc_moved;	/* a moved realloc frees its old block too */
	uint64_t leaked;
};

static struct counts c;
static void *ring[RING];
static void **leaks;
static size_t nleaks;
/* the optimiser must not drop malloc/free pairs whose memory is unused */
static volatile unsigned char sink;

/* xorshift: deterministic sizes, identical across runs */
static uint32_t rnd_state = 2463534242u;
static inline uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "workload: out of memory\n");
		exit(1);
	}
	c.malloc_calls++;
	return p;
}

static void xfree(void *p)
{
	free(p);
	c.free_calls++;
}

__attribute__((noinline)) static void small_churn(uint64_t i)
{
	size_t n = 16 + (rnd() & 0xf0);
	unsigned char *p = xmalloc(n);

	p[0] = (unsigned char)i;
	if (ring[i % RING])
		xfree(ring[i % RING]);
	ring[i % RING] = p;
}

__attribute__((noinline)) static void large_pair(void)
{
	size_t n = 4096 + (rnd() % (60 * 1024));
	unsigned char *p = xmalloc(n);

	p[n - 1] = 1;
	sink = p[n - 1];
	xfree(p);
}

__attribute__((noinline)) static void calloc_pair(void)
{
	size_t n = 1 + (rnd() & 7);
	unsigned char *p = calloc(n, 32);

	if (!p) {
		fprintf(stderr, "workload: out of memory\n");
		exit(1);
	}
	c.calloc_calls++;
	sink = p[0];
	xfree(p);
}

__attribute__((noinline)) static void realloc_grow(void)
{
	unsigned char *p = xmalloc(16);

	for (size_t n = 32; n <= 1024; n *= 2) {
		unsigned char *q = realloc(p, n);

		if (!q) {
			fprintf(stderr, "workload: out of memory\n");
			exit(1);
		}
		c.realloc_calls++;
		if (q != p)
			c.realloc_moved++;
		p = q;
		p[n - 1] = 2;
	}
	xfree(p);
}

__attribute__((noinline)) static void leak_some(void)
{
	unsigned char *p;

	if (nleaks >= LEAK_MAX)
		return;
	p = xmalloc(64 + (rnd() & 0x1c0));
	p[0] = 3;
	leaks[nleaks++] = p;
	c.leaked++;
}

__attribute__((noinline)) static void iteration(uint64_t i)
{
	small_churn(i);
	calloc_pair();
	if (i % LARGE_EVERY == 0)
		large_pair();
	if (i % REALLOC_EVERY == 0)
		realloc_grow();
	if (i % LEAK_EVERY == 0)
		leak_some();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int wait_line(void)
{
	char buf[64];

	return fgets(buf, sizeof(buf), stdin) ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: workload [-n ITERATIONS | -t SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t iters = 0, i;
	double secs = 0, t0, t1, allocs;
	char *end;
	int opt;

	while ((opt = getopt(argc, argv, "n:t:")) != -1) {
		errno = 0;
		if (opt == 'n')
			iters = strtoull(optarg, &end, 10);
		else if (opt == 't')
			secs = strtod(optarg, &end);
		else
			usage();
		if (errno || *end || end == optarg)
			usage();
	}
	if ((iters == 0) == (secs <= 0))
		usage();

	setvbuf(stdout, NULL, _IONBF, 0);
	leaks = calloc(LEAK_MAX, sizeof(*leaks));
	if (!leaks) {
		fprintf(stderr, "workload: out of memory\n");
		return 1;
	}
	/* glibc allocates stdin's buffer on first read: do it before the timed phase */
	printf("ready %d\n", (int)getpid());
	if (wait_line())
		return 0;

	t0 = now_s();
	for (i = 0;; i++) {
		if (iters && i >= iters)
			break;
		if (!iters && i % CHECK_EVERY == 0 && now_s() - t0 >= secs)
			break;
		iteration(i);
	}
	t1 = now_s();

	allocs = (double)(c.malloc_calls + c.calloc_calls + c.realloc_calls);
	printf("result iterations=%llu elapsed_s=%.6f ns_per_pair=%.1f malloc=%llu calloc=%llu "
	       "realloc=%llu free=%llu realloc_moved=%llu leaked=%llu\n",
	       (unsigned long long)i, t1 - t0, allocs ? (t1 - t0) * 1e9 / allocs : 0.0,
	       (unsigned long long)c.malloc_calls, (unsigned long long)c.calloc_calls,
	       (unsigned long long)c.realloc_calls, (unsigned long long)c.free_calls,
	       (unsigned long long)c.realloc_moved, (unsigned long long)c.leaked);

	wait_line();
	for (size_t k = 0; k < RING; k++)
		free(ring[k]);
	for (size_t k = 0; k < nleaks; k++)
		free(leaks[k]);
	free(leaks);
	return 0;
}
