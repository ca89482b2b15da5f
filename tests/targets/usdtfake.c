// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * usdtfake - a stand-in for the sampler library (include/memsight_sampler.h
 * describes the real one) in one executable, to test memsight's side alone:
 * the memsight:alloc / memsight:free USDT probes with semaphores at 5-byte
 * nops, and the exported memsight_sampler_abi and memsight_sampler_mean_bytes
 * (linked with -rdynamic, so they are in .dynsym as in the library).
 *
 * Prints "ready <pid>" and waits for SIGUSR1. Then leak_here() allocates
 * USDTFAKE_N (default 2000) x USDTFAKE_SIZE (default 4096) bytes, kept, and
 * churn() allocates and frees as many again; allocations are sampled by
 * bytes with the mean read from memsight_sampler_mean_bytes at each draw,
 * and only sampled ones reach a probe. Prints "samples N" and "done". On
 * SIGUSR2 it prints "mean N" (the global's value now); SIGTERM ends it.
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
/* sdt.h's probe site is a 1-byte nop: a 5-byte one becomes an optimised uprobe */
#undef _SDT_NOP
#define _SDT_NOP .nops 5

unsigned short memsight_alloc_semaphore __attribute__((section(".probes"), used));
unsigned short memsight_free_semaphore __attribute__((section(".probes"), used));

const uint32_t memsight_sampler_abi = 1;
uint64_t memsight_sampler_mean_bytes = 524288;

static volatile sig_atomic_t got_usr1, got_usr2, got_term;
static int64_t left;		/* bytes until the next sample */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned long nsamples;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else
		got_term = 1;
}

/* An exponential draw with the given mean (deterministic seed: reproducible runs). */
static int64_t next_gap(uint64_t mean)
{
	double u;

	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	u = ((rng >> 11) + 1) * (1.0 / 9007199254740993.0);
	return (int64_t)(-log(u) * (double)mean) + 1;
}

/* malloc, sampled: the returned mean is the one this sample was drawn with (0: not sampled) */
__attribute__((noinline)) void *sampled_malloc(size_t size, uint64_t *ret_mean)
{
	uint64_t mean = __atomic_load_n(&memsight_sampler_mean_bytes, __ATOMIC_RELAXED);
	void *p = malloc(size);

	*ret_mean = 0;
	if (!p)
		return NULL;
	if (mean <= 1) {
		*ret_mean = 1;
	} else {
		left -= (int64_t)size;
		if (left > 0)
			return p;
		left = next_gap(mean);
		*ret_mean = mean;
	}
	nsamples++;
	if (memsight_alloc_semaphore)
		STAP_PROBE3(memsight, alloc, p, size, *ret_mean);
	return p;
}

__attribute__((noinline)) void sampled_free(void *p, size_t size, uint64_t mean)
{
	if (mean && memsight_free_semaphore)
		STAP_PROBE2(memsight, free, p, size);
	free(p);
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? atol(v) : def;
}

__attribute__((noinline)) void leak_here(long n, size_t size)
{
	uint64_t mean;

	for (long i = 0; i < n; i++)
		*(volatile char *)sampled_malloc(size, &mean) = 1;
}

__attribute__((noinline)) void churn(long n, size_t size)
{
	uint64_t mean;

	for (long i = 0; i < n; i++) {
		void *p = sampled_malloc(size, &mean);

		sampled_free(p, size, mean);
	}
}

static void print_mean(void)
{
	printf("mean %llu\n", (unsigned long long)__atomic_load_n(&memsight_sampler_mean_bytes,
								 __ATOMIC_RELAXED));
}

int main(void)
{
	long n = env_long("USDTFAKE_N", 2000);
	size_t size = (size_t)env_long("USDTFAKE_SIZE", 4096);
	const char *m = getenv("MEMSIGHT_SAMPLE_BYTES");

	if (m && *m)
		memsight_sampler_mean_bytes = strtoull(m, NULL, 10);
	left = next_gap(memsight_sampler_mean_bytes > 1 ? memsight_sampler_mean_bytes : 1);
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready %d\n", (int)getpid());
	while (!got_usr1 && !got_term) {
		pause();
		if (got_usr2) {
			got_usr2 = 0;
			print_mean();
		}
	}
	if (got_usr1) {
		leak_here(n, size);
		churn(n, size);
		printf("samples %lu\ndone\n", nsamples);
	}
	while (!got_term) {
		pause();
		if (got_usr2) {
			got_usr2 = 0;
			print_mean();
		}
	}
	return 0;
}
