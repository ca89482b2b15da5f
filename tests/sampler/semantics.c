/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * semantics - what the malloc family does, checked in the same program with
 * and without libmemsight_sampler.so preloaded (tests/sampler/run.sh runs it
 * every way and diffs the "fact" lines against the run without it).
 *
 *   semantics [--attach LIBPATH] [--threads-iters N]
 *   semantics --print-mean	(the sampler's mean as loaded, then exit)
 *
 * Every check prints "ok NAME" or "FAIL NAME: why"; facts (values that
 * depend on the allocator, not on the sampler) print as "fact NAME VALUE".
 * --attach raises the library's semaphores with counting uprobes on its
 * USDT sites (tests/sampler/usdt_count.h) and checks what the probes saw.
 * Exit status: the number of failed checks (0: all held).
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "usdt_count.h"

static int failed;
static const char *cur;
static struct usdt_count uc;
static int attached_mode;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("FAIL %s: %s (line %d)\n", cur, #cond, __LINE__); \
		failed++; \
		return; \
	} \
} while (0)

#define fact(name, fmt, ...) printf("fact %s " fmt "\n", name, __VA_ARGS__)

/* keep the compiler from pairing or dropping our calls */
static void *volatile sink;

static void fill(unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int filled(const unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

static void t_malloc_align_usable(void)
{
	static const size_t sizes[] = { 0, 1, 8, 15, 16, 24, 100, 1000, 4095, 4096, 65536,
					200000, 1 << 20 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = malloc(sizes[i]);
		char name[64];

		CHECK(p != NULL);
		CHECK(((uintptr_t)p & 15) == 0);
		CHECK(malloc_usable_size(p) >= sizes[i]);
		fill(p, sizes[i], 3);
		CHECK(filled(p, sizes[i], 3));
		snprintf(name, sizeof(name), "usable(%zu)", sizes[i]);
		fact(name, "%zu", malloc_usable_size(p));
		free(p);
	}
	CHECK(malloc_usable_size(NULL) == 0);
	free(NULL);
}

static void t_errno_kept(void)
{
	void *p, *q;
	int ret;

	/* success never touches errno: not the allocator's, not the sampler's */
	errno = 4242;
	p = malloc(100);
	q = calloc(10, 10);
	p = realloc(p, 5000);
	free(q);
	ret = posix_memalign(&q, 64, 100);
	free(q);
	q = aligned_alloc(64, 128);
	free(q);
	free(p);
	free(NULL);
	CHECK(ret == 0);
	fact("errno-after-success", "%d", errno);
	CHECK(errno == 4242);
}

static void t_failures(void)
{
	void *p;

	errno = 0;
	p = calloc(SIZE_MAX / 2, 3);	/* nmemb * size overflows */
	CHECK(p == NULL && errno == ENOMEM);
	errno = 0;
	p = calloc((size_t)1 << 33, (size_t)1 << 33);
	CHECK(p == NULL && errno == ENOMEM);
	errno = 0;
	sink = malloc(SIZE_MAX);
	CHECK(sink == NULL && errno == ENOMEM);
	errno = 0;
	sink = malloc((size_t)PTRDIFF_MAX + 1);
	CHECK(sink == NULL && errno == ENOMEM);
	p = calloc(0, 0);
	fact("calloc(0,0)-null", "%d", p == NULL);
	free(p);
	p = malloc(0);
	fact("malloc(0)-null", "%d", p == NULL);
	free(p);
}

static void t_calloc_zero(void)
{
	unsigned char *p = malloc(3000);
	size_t i;

	CHECK(p);
	memset(p, 0xa5, 3000);	/* dirty memory calloc may get back */
	free(p);
	p = calloc(3000, 1);
	CHECK(p);
	for (i = 0; i < 3000; i++)
		CHECK(p[i] == 0);
	free(p);
}

static void t_realloc_edges(void)
{
	unsigned char *p, *q;

	p = realloc(NULL, 100);	/* malloc */
	CHECK(p && ((uintptr_t)p & 15) == 0);
	fill(p, 100, 9);
	q = realloc(p, 100000);	/* grow: contents kept */
	CHECK(q && filled(q, 100, 9));
	p = realloc(q, 10);	/* shrink */
	CHECK(p && filled(p, 10, 9));
	errno = 0;
	q = realloc(p, SIZE_MAX - 4096);	/* fails: p untouched and still ours */
	CHECK(q == NULL && errno == ENOMEM);
	CHECK(filled(p, 10, 9));
	errno = 0;
	q = reallocarray(p, SIZE_MAX / 2, 3);	/* overflow: p untouched */
	CHECK(q == NULL && errno == ENOMEM);
	CHECK(filled(p, 10, 9));
	q = reallocarray(p, 50, 4);
	CHECK(q && filled(q, 10, 9) && malloc_usable_size(q) >= 200);
	errno = 0;
	p = realloc(q, 0);	/* glibc: frees q, returns NULL */
	fact("realloc(p,0)-null", "%d", p == NULL);
	fact("realloc(p,0)-errno", "%d", errno);
	free(p);
}

static void t_memalign_family(void)
{
	static const size_t aligns[] = { 8, 16, 32, 64, 256, 4096, 65536 };
	long page = sysconf(_SC_PAGESIZE);
	size_t i;
	void *p;
	int ret;

	for (i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		size_t a = aligns[i];

		p = memalign(a, 100 + a);
		CHECK(p && (uintptr_t)p % a == 0 && malloc_usable_size(p) >= 100 + a);
		free(p);
		p = aligned_alloc(a, 3 * a);
		CHECK(p && (uintptr_t)p % a == 0);
		free(p);
		p = NULL;
		ret = posix_memalign(&p, a, 77);
		CHECK(ret == 0 && p && (uintptr_t)p % a == 0);
		free(p);
	}
	p = (void *)0x1234;
	errno = 4343;
	ret = posix_memalign(&p, 3, 10);	/* not a power of two */
	CHECK(ret == EINVAL && p == (void *)0x1234 && errno == 4343);
	ret = posix_memalign(&p, 64, SIZE_MAX - 100);
	CHECK(ret == ENOMEM);
	fact("posix_memalign-enomem-errno", "%d", errno);	/* glibc sets it too */
	errno = 0;
	p = memalign(64, SIZE_MAX - 100);
	CHECK(p == NULL && errno == ENOMEM);
	errno = 0;
	p = aligned_alloc(24, 48);	/* not a power of two: glibc-version dependent */
	fact("aligned_alloc(24)-null", "%d", p == NULL);
	fact("aligned_alloc(24)-errno", "%d", errno);
	free(p);
	p = valloc(10);
	CHECK(p && (uintptr_t)p % page == 0);
	free(p);
	p = pvalloc(10);
	CHECK(p && (uintptr_t)p % page == 0 && malloc_usable_size(p) >= (size_t)page);
	fact("usable(pvalloc(10))", "%zu", malloc_usable_size(p));
	free(p);
}

struct hammer {
	unsigned seed;
	long iters;
	int bad;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	unsigned char *slot[64] = { 0 };
	size_t len[64] = { 0 };
	unsigned x = h->seed;
	long i;

	for (i = 0; i < h->iters; i++) {
		unsigned k, op;
		size_t n;

		x = x * 1103515245u + 12345u;
		k = (x >> 8) & 63;
		op = (x >> 20) & 3;
		n = (x >> 4) & 0x3ff;
		if (n == 0x3ff)
			n = 300000;	/* now and then a big one (mmapped) */
		if (slot[k] && !filled(slot[k], len[k], (unsigned char)k))
			h->bad++;
		if (op == 0 && slot[k]) {
			unsigned char *q = realloc(slot[k], n + 1);

			if (!q) {
				h->bad++;
				continue;
			}
			slot[k] = q;
			len[k] = len[k] < n + 1 ? len[k] : n + 1;
		} else {
			free(slot[k]);
			slot[k] = op == 1 ? calloc(1, n + 1) : malloc(n + 1);
			if (!slot[k]) {
				h->bad++;
				continue;
			}
			len[k] = n + 1;
			fill(slot[k], len[k], (unsigned char)k);
		}
	}
	for (i = 0; i < 64; i++)
		free(slot[i]);
	return NULL;
}

static long threads_iters = 200000;

static void t_threads(void)
{
	struct hammer h[4];
	pthread_t tid[4];
	int i, bad = 0;

	for (i = 0; i < 4; i++) {
		h[i] = (struct hammer){ .seed = 17u + (unsigned)i, .iters = threads_iters };
		CHECK(pthread_create(&tid[i], NULL, hammer_run, &h[i]) == 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		bad += h[i].bad;
	}
	CHECK(bad == 0);
}

static void t_fork_exec(void)
{
	pid_t pid;
	int st;
	void *keep = malloc(1000);	/* sampled or not, the child frees it */

	CHECK(keep);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		void *p = malloc(5000);

		free(keep);
		free(p);
		execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
		_exit(99);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 7))
		printf("# child: exited %d status %d, signal %d\n", WIFEXITED(st), WEXITSTATUS(st),
		       WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	free(keep);
}

static void t_dlopen(void)
{
	void *h = dlopen(getenv("SAMPLER_DLLIB"), RTLD_NOW);
	char *(*make)(size_t);
	void (*drop)(char *);
	char *s;

	CHECK(h != NULL);
	make = (char *(*)(size_t))dlsym(h, "dlalloc_make");
	drop = (void (*)(char *))dlsym(h, "dlalloc_drop");
	CHECK(make && drop);
	s = make(4000);
	CHECK(s && s[0] == 'x' && s[3998] == 'x' && s[3999] == 0);
	drop(s);
	s = make(10);
	free(s);	/* allocated in the library, freed here */
	CHECK(dlclose(h) == 0);
}

static uint64_t mean_now(void)
{
	uint64_t *mean = dlsym(RTLD_DEFAULT, "memsight_sampler_mean_bytes");

	return mean ? __atomic_load_n(mean, __ATOMIC_RELAXED) : 0;
}

/*
 * Attached at mean 1: every allocation reaches memsight:alloc and the free
 * of each makes a free record: pending until a sampled allocation takes it
 * (or a free finds every slot taken); a failed allocation makes neither.
 */
static void t_attached_counts(void)
{
	enum { N = 1000 };
	static void *p[N];
	uint64_t a0, f0, a1, f1, f2;
	unsigned p0, p1;
	void *q;
	int i;

	a0 = usdt_count__allocs(&uc);
	for (i = 0; i < N; i++)
		p[i] = malloc(16 + (size_t)i);
	f0 = usdt_count__frees(&uc);
	p0 = usdt_count__pending();
	CHECK(p0 == 0);		/* the allocations took what was pending */
	for (i = 0; i < N; i++)
		free(p[i]);
	f1 = usdt_count__frees(&uc);
	p1 = usdt_count__pending();
	printf("# attached: %llu free records, %llu free probe hits, %u pending\n",
	       (unsigned long long)usdt_count__free_records(f1 - f0, p0, p1),
	       (unsigned long long)(f1 - f0), p1);
	CHECK(usdt_count__free_records(f1 - f0, p0, p1) == N);
	CHECK(f1 - f0 == N / (MEMSIGHT_SAMPLER_PENDING + 1));	/* one hit takes K + 1 */
	sink = malloc(SIZE_MAX);	/* fails: no probe, takes nothing */
	CHECK(usdt_count__pending() == p1);
	q = malloc(10);			/* sampled: takes the pending records */
	CHECK(usdt_count__pending() == 0);
	q = realloc(q, 100000);	/* the old one's record, taken by the new one's alloc */
	CHECK(usdt_count__pending() == 0);
	free(q);
	CHECK(usdt_count__pending() == 1);
	a1 = usdt_count__allocs(&uc);
	f2 = usdt_count__frees(&uc);
	printf("# attached: %llu allocs seen by the probes\n", (unsigned long long)(a1 - a0));
	CHECK(a1 - a0 == N + 2);
	CHECK(f2 == f1);
}

/* the table is bounded: a sample that does not fit is counted, still reported */
static void t_attached_full(void)
{
	enum { N = 400000 };	/* more than the table's 262144 slots */
	uint64_t *dropped = dlsym(RTLD_DEFAULT, "memsight_sampler_dropped");
	void **p = malloc(N * sizeof(*p));	/* sampled too: freed last */
	uint64_t a0, f0, d0, a1, f1, d1;
	int i;

	unsigned p0, p1;

	CHECK(dropped && p);
	a0 = usdt_count__allocs(&uc);
	d0 = __atomic_load_n(dropped, __ATOMIC_RELAXED);
	for (i = 0; i < N; i++)
		p[i] = malloc(8);
	f0 = usdt_count__frees(&uc);
	p0 = usdt_count__pending();
	for (i = 0; i < N; i++)
		free(p[i]);
	a1 = usdt_count__allocs(&uc);
	f1 = usdt_count__frees(&uc);
	p1 = usdt_count__pending();
	d1 = __atomic_load_n(dropped, __ATOMIC_RELAXED);
	free(p);
	printf("# table full: %llu allocs, %llu free records, %llu dropped\n",
	       (unsigned long long)(a1 - a0),
	       (unsigned long long)usdt_count__free_records(f1 - f0, p0, p1),
	       (unsigned long long)(d1 - d0));
	CHECK(a1 - a0 == N);
	CHECK(d1 - d0 > 0);
	CHECK(usdt_count__free_records(f1 - f0, p0, p1) == N - (d1 - d0));
}

/*
 * Attached at mean m > 1: allocations of m/8 bytes are sampled with
 * probability 1 - exp(-1/8) (the Poisson process over bytes); 8192 of them
 * give 963 samples expected, sd 29: +-25% is 8 sd, never hit by chance.
 */
static void t_attached_rate(void)
{
	enum { N = 8192 };
	uint64_t m = mean_now(), a0, a1;
	double expect = N * (1 - exp(-1.0 / 8));
	int i;

	a0 = usdt_count__allocs(&uc);
	for (i = 0; i < N; i++)
		free(malloc(m / 8));
	a1 = usdt_count__allocs(&uc);
	printf("# rate: %llu samples of %d allocations of %llu bytes at mean %llu, "
	       "expected %.0f\n", (unsigned long long)(a1 - a0), N,
	       (unsigned long long)(m / 8), (unsigned long long)m, expect);
	CHECK(a1 - a0 > expect * 0.75 && a1 - a0 < expect * 1.25);
}

/* the mean is read while running: 1 (every allocation) set in the middle */
static void t_mean_live(void)
{
	uint64_t *mean = dlsym(RTLD_DEFAULT, "memsight_sampler_mean_bytes");
	const uint32_t *abi = dlsym(RTLD_DEFAULT, "memsight_sampler_abi");
	uint64_t old, a0, a1;
	int i;

	CHECK(mean && abi && *abi == MEMSIGHT_SAMPLER_ABI);
	old = *mean;
	CHECK(getenv("MEMSIGHT_SAMPLE_BYTES") ?
	      old == strtoull(getenv("MEMSIGHT_SAMPLE_BYTES"), NULL, 10) : old == 524288);
	__atomic_store_n(mean, 1, __ATOMIC_RELAXED);
	/* the countdown drawn at the old mean runs out first: <= ~50 x mean bytes */
	for (i = 0; i < 2000; i++)
		free(malloc(old < 1000000 ? 16384 : old / 32));
	a0 = usdt_count__allocs(&uc);
	for (i = 0; i < 100; i++)
		free(malloc(32));
	a1 = usdt_count__allocs(&uc);
	__atomic_store_n(mean, old, __ATOMIC_RELAXED);
	CHECK(a1 - a0 == 100);
}

enum { NEED_NONE, NEED_ATTACH_MEAN1, NEED_ATTACH_SAMPLED, NEED_ATTACH };

static const struct {
	const char *name;
	void (*fn)(void);
	int need;	/* NEED_* */
} tests[] = {
	{ "malloc-align-usable", t_malloc_align_usable, 0 },
	{ "errno-kept", t_errno_kept, 0 },
	{ "failures", t_failures, 0 },
	{ "calloc-zero", t_calloc_zero, 0 },
	{ "realloc-edges", t_realloc_edges, 0 },
	{ "memalign-family", t_memalign_family, 0 },
	{ "threads", t_threads, 0 },
	{ "fork-exec", t_fork_exec, 0 },
	{ "dlopen", t_dlopen, 0 },
	{ "attached-counts", t_attached_counts, NEED_ATTACH_MEAN1 },
	{ "attached-table-full", t_attached_full, NEED_ATTACH_MEAN1 },
	{ "attached-rate", t_attached_rate, NEED_ATTACH_SAMPLED },
	{ "mean-live", t_mean_live, NEED_ATTACH },
};

int main(int argc, char **argv)
{
	size_t i;
	int j;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (j = 1; j < argc; j++) {
		if (!strcmp(argv[j], "--attach") && j + 1 < argc) {
			if (usdt_count__attach(&uc, argv[++j], 0)) {
				printf("FAIL attach: cannot attach to %s\n", argv[j]);
				return 1;
			}
			attached_mode = 1;
		} else if (!strcmp(argv[j], "--print-mean")) {
			printf("mean %llu\n", (unsigned long long)mean_now());
			return 0;
		} else if (!strcmp(argv[j], "--threads-iters") && j + 1 < argc) {
			threads_iters = atol(argv[++j]);
		}
	}
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failed;

		if (tests[i].need != NEED_NONE && !attached_mode)
			continue;
		if (tests[i].need == NEED_ATTACH_MEAN1 && mean_now() != 1)
			continue;
		if (tests[i].need == NEED_ATTACH_SAMPLED && mean_now() <= 1)
			continue;
		cur = tests[i].name;
		tests[i].fn();
		if (failed == before)
			printf("ok %s\n", cur);
	}
	if (attached_mode)
		usdt_count__detach(&uc);
	return failed;
}
