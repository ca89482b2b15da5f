// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * leaky - the core slice's test target.
 *
 * Prints "ready <pid>" and waits for SIGUSR1 (sent once memsight is
 * attached). Then, and only then, it allocates:
 *   leak_a(): 1000 x malloc(4096), kept          -> 4,096,000 B in use
 *   leak_b():  500 x calloc(25, 4) = 100 B, kept  ->    50,000 B in use
 *   leak_c(): one buffer grown by realloc from 16 B to LEAK_C_FINAL, kept
 *   churn():  malloc/calloc/realloc/posix_memalign/aligned_alloc/strdup/mmap,
 *             every one freed again                -> 0 B in use
 * then prints "usable N", N the sum of malloc_usable_size() of the kept
 * buffers (what they cost in glibc's malloc), and "done". On SIGUSR2 it checks every kept buffer still holds its
 * pattern (the target was unaffected by probes coming and going), frees
 * everything and prints "verified"; SIGTERM ends it.
 *
 * LEAKY_COMM=name renames the process first (prctl), for exporter tests.
 * LEAKY_A_N=n and LEAKY_B_N=n change leak_a's and leak_b's counts (up to
 * twice the default), for `memsight diff` tests: one stack that grew.
 *
 * No other allocation happens after SIGUSR1: stdout is unbuffered and was
 * set up before "ready", so memsight's totals must match these exactly.
 */
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define LEAK_A_N	1000
#define LEAK_A_SIZE	4096
#define LEAK_B_N	500
#define COUNT_MAX	2	/* LEAKY_A_N, LEAKY_B_N: up to twice the default */
#define LEAK_C_FINAL	(64 * 1024)
#define CHURN_N		2000

static void *a_bufs[COUNT_MAX * LEAK_A_N];
static unsigned char *b_bufs[COUNT_MAX * LEAK_B_N];
static int a_n = LEAK_A_N, b_n = LEAK_B_N;
static unsigned char *c_buf;
static size_t c_size;
static volatile sig_atomic_t got_usr1, got_usr2, got_term;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else
		got_term = 1;
}

__attribute__((noinline)) void leak_a(void)
{
	for (int i = 0; i < a_n; i++) {
		a_bufs[i] = malloc(LEAK_A_SIZE);
		memset(a_bufs[i], i & 0xff, LEAK_A_SIZE);
	}
}

__attribute__((noinline)) void leak_b(void)
{
	for (int i = 0; i < b_n; i++) {
		b_bufs[i] = calloc(25, 4);
		b_bufs[i][99] = (unsigned char)i;
	}
}

__attribute__((noinline)) void leak_c(void)
{
	for (c_size = 16; c_size <= LEAK_C_FINAL; c_size *= 2) {
		c_buf = realloc(c_buf, c_size);
		c_buf[c_size - 1] = 0x5a;
	}
	c_size /= 2;
	memset(c_buf, 0xc3, c_size);
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < CHURN_N; i++) {
		char *p = malloc(32 + i % 200);
		char *q = calloc(4, 16);
		void *r = NULL, *al;
		char *d;

		p = realloc(p, 1000);
		if (posix_memalign(&r, 64, 256))
			abort();
		al = aligned_alloc(128, 512);
		d = strdup("transient");
		free(d);
		free(al);
		free(r);
		free(q);
		free(p);
	}
	for (int i = 0; i < 10; i++) {
		void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			abort();
		munmap(m, 1 << 20);
	}
}

/* what the kept buffers cost with the allocator's rounding */
static size_t kept_usable(void)
{
	size_t sum = malloc_usable_size(c_buf);

	for (int i = 0; i < a_n; i++)
		sum += malloc_usable_size(a_bufs[i]);
	for (int i = 0; i < b_n; i++)
		sum += malloc_usable_size(b_bufs[i]);
	return sum;
}

/* n from the environment variable name, or def; 1..COUNT_MAX * def */
static int count_from_env(const char *name, int def)
{
	const char *s = getenv(name);
	int n = s ? atoi(s) : def;

	return n >= 1 && n <= COUNT_MAX * def ? n : def;
}

static int verify(void)
{
	for (int i = 0; i < a_n; i++)
		for (int j = 0; j < LEAK_A_SIZE; j++)
			if (((unsigned char *)a_bufs[i])[j] != (i & 0xff))
				return -1;
	for (int i = 0; i < b_n; i++)
		if (b_bufs[i][99] != (unsigned char)i || b_bufs[i][0] != 0)
			return -1;
	for (size_t j = 0; j < c_size; j++)
		if (c_buf[j] != 0xc3)
			return -1;
	return 0;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, old;

	setvbuf(stdout, NULL, _IONBF, 0);
	a_n = count_from_env("LEAKY_A_N", LEAK_A_N);
	b_n = count_from_env("LEAKY_B_N", LEAK_B_N);
	/* a hostile process name for exporter tests: quotes, newlines, bad UTF-8 */
	if (getenv("LEAKY_COMM"))
		prctl(PR_SET_NAME, getenv("LEAKY_COMM"));
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("ready %d\n", getpid());

	while (!got_term) {
		sigsuspend(&old);
		if (got_usr1) {
			got_usr1 = 0;
			leak_a();
			leak_b();
			leak_c();
			churn();
			printf("usable %zu\n", kept_usable());
			printf("done\n");
		}
		if (got_usr2) {
			got_usr2 = 0;
			if (verify()) {
				printf("corrupted\n");
				return 1;
			}
			printf("verified\n");
		}
	}
	for (int i = 0; i < a_n; i++)
		free(a_bufs[i]);
	for (int i = 0; i < b_n; i++)
		free(b_bufs[i]);
	free(c_buf);
	return 0;
}
