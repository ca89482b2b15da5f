/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sampler.c - libmemsight_sampler.so: the malloc family, forwarded to the next
 * definition, with a per-thread Poisson sampler over allocated bytes and a
 * USDT probe for each sampled allocation and for the free of each sampled
 * pointer (include/memsight_sampler.h is the contract with the observer).
 *
 * Fast path (every call): the real call, then one compare and subtract on an
 * initial-exec TLS countdown. Everything else is out of line and runs once
 * per sample (~ every mean bytes), or on a free/realloc while the table of
 * sampled pointers is not empty. Nothing here takes a lock, so the wrappers
 * are as async-signal-safe as the allocator under them.
 *
 * Probe hits: one per sampled allocation. The free of a sampled pointer
 * leaves its record in a pending slot, and the next sampled allocation (of
 * any thread) carries the pending records to the observer: a probe hit is
 * the kernel's trap, microseconds, and this halves them (bench/mallocbench
 * attached at the default mean: see README). Only when every slot is taken
 * does a free fire, with them all.
 *
 * C++: libstdc++'s operator new/new[] call malloc, the aligned forms
 * aligned_alloc, and operator delete calls free, all through the PLT: C++
 * allocations are sampled through these wrappers. (A program that replaces
 * operator new with its own allocator is not seen, as any malloc wrapper.)
 *
 * fork: the child inherits the table and the countdowns; its generator is
 * reseeded so that parent and child do not draw the same samples. The
 * observer attaches per process, so an entry the child inherited only
 * fires a free probe in the child if the child frees it. A child forked
 * while its parent was watched reaches no probe site (fork_blind below).
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MEMSIGHT_SAMPLER_DECLARE_GLOBALS
#include "../include/memsight_sampler.h"
#include "draw.h"
#include "forward.h"
#include "table.h"

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
/*
 * sdt.h puts a 1-byte nop at each probe site, which the kernel can only
 * single-step or emulate (a trap each hit). A 5-byte nop is what its
 * optimised uprobes replace with a call: GAS's ".nops 5" emits exactly
 * nopl 0x0(%rax,%rax,1) (0f 1f 44 00 00). sdt.h defines _SDT_NOP
 * unconditionally and expands it where a probe is used, so redefining it
 * after the include is enough. tests/sampler/check-sites.sh checks every
 * site's bytes in the built library with objdump.
 */
#undef _SDT_NOP
#define _SDT_NOP .nops 5

#define API __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* raised by the kernel (uprobe ref_ctr) while an observer is attached */
__extension__ unsigned short memsight_alloc_semaphore
	__attribute__((unused, section(".probes")));
__extension__ unsigned short memsight_free_semaphore
	__attribute__((unused, section(".probes")));

API const uint32_t memsight_sampler_abi = MEMSIGHT_SAMPLER_ABI;
API uint64_t memsight_sampler_mean_bytes = MEMSIGHT_SAMPLER_DEFAULT_MEAN;
/* free records not sent yet: 0 is an empty slot (a record's pointer is never 0) */
API uint64_t memsight_sampler_pending[MEMSIGHT_SAMPLER_PENDING] __attribute__((aligned(64)));
/* samples fired so far: each one's tag is its number's low bits */
static uint64_t sample_seq;

/*
 * The table keeps a sampled pointer's size and tag in one word: the size
 * in the bits below the tag (an allocation that succeeded is below 2^48
 * bytes; one that is not, or a pointer that is not, is not remembered).
 */
#define VAL_SIZE(v)	MEMSIGHT_SAMPLER_RECORD_PTR(v)
#define VAL_TAG(v)	MEMSIGHT_SAMPLER_RECORD_TAG(v)

/*
 * The compiler does not know a probe site reads memory through its
 * arguments: the records are stored before it and kept until after it.
 */
#define RECORDS_VISIBLE(a)	__asm__ __volatile__("" : : "r"(a) : "memory")

struct thread_state {
	uint64_t left;	/* bytes until the next sample */
	uint64_t mean;	/* the mean left was drawn with; 0: not drawn yet */
	uint64_t rng;	/* 0: not seeded yet */
};

static __thread struct thread_state ts __attribute__((tls_model("initial-exec")));

/*
 * Set in a child forked while an observer was attached: its probe sites may
 * hold the kernel's optimised-uprobe call into a trampoline page that fork
 * does not copy (Linux 6.18: the child dies with SIGSEGV at a page-aligned
 * ip on its first probe hit; tests/sampler/semantics' fork-exec checks it),
 * so such a child never reaches a site. exec starts afresh.
 */
static int fork_blind;

static int attached(void)
{
	return __atomic_load_n(&memsight_alloc_semaphore, __ATOMIC_RELAXED) != 0 && !fork_blind;
}

static int free_attached(void)
{
	return __atomic_load_n(&memsight_free_semaphore, __ATOMIC_RELAXED) != 0 && !fork_blind;
}

static void seed(void)
{
	struct timespec t = { 0, 0 };
	uint64_t z;

	/* async-signal-safe sources: the clock and this thread's TLS address */
	clock_gettime(CLOCK_MONOTONIC, &t);
	z = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 30) ^ (uint64_t)(uintptr_t)&ts;
	/* splitmix64 finaliser: close seeds give unrelated streams */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	ts.rng = z ? z : 1;
}

/*
 * The countdown crossed zero (or was never drawn): 0 when size is not
 * sampled after all (a thread's first countdown), else the mean the
 * sample was drawn with.
 */
static uint64_t countdown_expired(size_t size)
{
	uint64_t mean = __atomic_load_n(&memsight_sampler_mean_bytes, __ATOMIC_RELAXED);
	uint64_t used = ts.mean;

	if (mean == 0)
		mean = 1;
	if (!ts.rng)
		seed();
	if (!used) {
		used = mean;
		if (mean > 1) {
			ts.left = (uint64_t)draw_countdown(&ts.rng, mean);
			if (ts.left > size) {
				ts.mean = mean;
				ts.left -= size;
				return 0;
			}
		}
	}
	ts.mean = mean;
	ts.left = mean > 1 ? (uint64_t)draw_countdown(&ts.rng, mean) : 0;
	return used;
}

/*
 * Take the pending records out into out[] (each one exactly once, whichever
 * thread takes it): how many. The slots are read before they are written,
 * so that while none is pending the cache line stays shared.
 */
static unsigned take_pending(uint64_t *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MEMSIGHT_SAMPLER_PENDING; i++) {
		uint64_t r;

		if (!__atomic_load_n(&memsight_sampler_pending[i], __ATOMIC_RELAXED))
			continue;
		r = __atomic_exchange_n(&memsight_sampler_pending[i], 0, __ATOMIC_ACQ_REL);
		if (r)
			out[n++] = r;
	}
	return n;
}

/* fire memsight:free with the pending records and rec (0: none) */
static void fire_frees(uint64_t rec)
{
	uint64_t frees[MEMSIGHT_SAMPLER_PENDING + 1];
	uint64_t n = take_pending(frees);

	if (rec)
		frees[n++] = rec;
	if (!n)
		return;
	RECORDS_VISIBLE(frees);
	STAP_PROBE2(memsight, free, &frees[0], n);
	RECORDS_VISIBLE(frees);
}

/* a sampled pointer freed: its record into a free slot, or fired with them */
static void record_free(uint64_t rec)
{
	for (unsigned i = 0; i < MEMSIGHT_SAMPLER_PENDING; i++) {
		uint64_t empty = 0;

		if (!__atomic_load_n(&memsight_sampler_pending[i], __ATOMIC_RELAXED) &&
		    __atomic_compare_exchange_n(&memsight_sampler_pending[i], &empty, rec, 0,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return;
	}
	fire_frees(rec);
}

/* a sample at p: remembered (for its free) and fired with the pending frees */
static void fire_alloc(void *p, uint64_t size, uint64_t mean)
{
	uint64_t frees[MEMSIGHT_SAMPLER_PENDING];
	uint64_t tag = __atomic_fetch_add(&sample_seq, 1, __ATOMIC_RELAXED) &
		       MEMSIGHT_SAMPLER_TAG_MASK;
	uint64_t n;

	if (VAL_SIZE((uintptr_t)p) != (uintptr_t)p || VAL_SIZE(size) != size)
		__atomic_add_fetch(&memsight_sampler_dropped, 1, __ATOMIC_RELAXED);
	else	/* full: counted, free unseen */
		table__insert((uintptr_t)p, MEMSIGHT_SAMPLER_RECORD(size, tag));
	n = take_pending(frees);
	RECORDS_VISIBLE(frees);
	STAP_PROBE6(memsight, alloc, p, size, mean, tag, &frees[0], n);
	RECORDS_VISIBLE(frees);
}

static __attribute__((noinline)) void sampled_alloc(void *p, size_t size)
{
	int saved = errno;
	uint64_t mean = countdown_expired(size);

	if (mean && attached())
		fire_alloc(p, size, mean);
	errno = saved;
}

/* every successful allocation of size bytes at p (p != NULL) */
static inline void on_alloc(void *p, size_t size)
{
	if (likely(ts.left > size)) {
		ts.left -= size;
		return;
	}
	sampled_alloc(p, size);
}

/* before p goes back to the allocator: 1 (and *ret_size) if it was sampled */
static __attribute__((noinline)) int sampled_free(void *p, uint64_t *ret_size)
{
	int saved = errno;
	uint64_t val;

	if (table__remove((uintptr_t)p, &val)) {
		errno = saved;
		return 0;
	}
	if (free_attached())
		record_free(MEMSIGHT_SAMPLER_RECORD((uint64_t)(uintptr_t)p, VAL_TAG(val)));
	*ret_size = VAL_SIZE(val);
	errno = saved;
	return 1;
}

/* a block of the bootstrap arena resized: copied out, never given back */
static void *arena_realloc(void *p, size_t size)
{
	size_t old = fwd__arena_size(p);
	void *q;

	if (size == 0)
		return NULL;	/* glibc: realloc(p, 0) frees p */
	if (fwd__ready()) {
		q = fwd.malloc(size);
		if (q)
			on_alloc(q, size);
	} else {
		q = fwd__arena_alloc(size, 0);
	}
	if (q)
		memcpy(q, p, old < size ? old : size);
	return q;
}

API void *malloc(size_t size)
{
	void *p;

	if (unlikely(!fwd__ready()))
		return fwd__arena_alloc(size, 0);
	p = fwd.malloc(size);
	if (likely(p))
		on_alloc(p, size);
	return p;
}

API void free(void *p)
{
	uint64_t size;

	if (unlikely(fwd__in_arena(p)))
		return;
	if (unlikely(!table__empty()) && p && table__maybe((uintptr_t)p))
		sampled_free(p, &size);
	if (likely(fwd__ready()))
		fwd.free(p);
	/* else: a pointer before the allocator was found cannot be ours: leak it */
}

API void *calloc(size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (unlikely(!fwd__ready())) {
		if (__builtin_mul_overflow(nmemb, size, &total)) {
			errno = ENOMEM;
			return NULL;
		}
		return fwd__arena_alloc(total, 0);
	}
	p = fwd.calloc(nmemb, size);
	if (likely(p))
		on_alloc(p, nmemb * size);	/* it succeeded: no overflow */
	return p;
}

/* realloc of a pointer that may be sampled (the table is not empty) */
static __attribute__((noinline)) void *realloc_maybe_sampled(void *p, size_t size)
{
	uint64_t old;
	void *q;
	int was = sampled_free(p, &old);

	/*
	 * p's free is recorded before the real realloc: once the allocator has
	 * p back, another thread may get the same address and sample it; the
	 * tags keep the two apart, whichever the observer sees first.
	 */
	q = fwd.realloc(p, size);
	if (q) {
		on_alloc(q, size);
	} else if (size && was) {
		/* failed: p is still live; it comes back, at the current mean */
		int saved = errno;

		if (attached())
			fire_alloc(p, old, ts.mean ? ts.mean : 1);
		errno = saved;
	}
	return q;
}

API void *realloc(void *p, size_t size)
{
	void *q;

	if (unlikely(fwd__in_arena(p)))
		return arena_realloc(p, size);
	if (unlikely(!fwd__ready()))
		return p ? NULL : fwd__arena_alloc(size, 0);
	if (unlikely(!table__empty()) && p && table__maybe((uintptr_t)p))
		return realloc_maybe_sampled(p, size);
	q = fwd.realloc(p, size);
	if (likely(q))
		on_alloc(q, size);
	return q;
}

/*
 * glibc's reallocarray is realloc(p, nmemb * size) after an overflow check
 * (NULL, ENOMEM, p untouched); done here the same way rather than through
 * the next reallocarray, which glibc implements with its own realloc (not
 * the one a program may have replaced it with).
 */
API void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

API void *memalign(size_t align, size_t size)
{
	void *p;

	if (unlikely(!fwd__ready()))
		return fwd__arena_alloc(size, align);
	p = fwd.memalign(align, size);
	if (likely(p))
		on_alloc(p, size);
	return p;
}

API int posix_memalign(void **memptr, size_t align, size_t size)
{
	int ret;

	if (unlikely(!fwd__ready())) {
		if (align % sizeof(void *) || align & (align - 1) || !align)
			return EINVAL;
		*memptr = fwd__arena_alloc(size, align);
		return *memptr ? 0 : ENOMEM;
	}
	ret = fwd.posix_memalign(memptr, align, size);
	if (likely(ret == 0))
		on_alloc(*memptr, size);
	return ret;
}

API void *aligned_alloc(size_t align, size_t size)
{
	void *p;

	if (unlikely(!fwd__ready()))
		return fwd__arena_alloc(size, align);
	p = fwd.aligned_alloc(align, size);
	if (likely(p))
		on_alloc(p, size);
	return p;
}

API void *valloc(size_t size)
{
	void *p;

	if (unlikely(!fwd__ready()))
		return fwd__arena_alloc(size, 4096);
	p = fwd.valloc(size);
	if (likely(p))
		on_alloc(p, size);
	return p;
}

API void *pvalloc(size_t size)
{
	size_t page = 4096, rounded;
	void *p;

	if (unlikely(!fwd__ready()))
		return fwd__arena_alloc(size, page);
	if (fwd.pvalloc) {
		p = fwd.pvalloc(size);
	} else {
		/* an allocator without pvalloc: valloc of whole pages, as glibc */
		page = (size_t)sysconf(_SC_PAGESIZE);
		if (__builtin_add_overflow(size, page - 1, &rounded)) {
			errno = ENOMEM;
			return NULL;
		}
		p = fwd.valloc(rounded & ~(page - 1));
	}
	if (likely(p))
		on_alloc(p, size);
	return p;
}

API size_t malloc_usable_size(void *p)
{
	if (unlikely(fwd__in_arena(p)))
		return fwd__arena_size(p);
	if (unlikely(!fwd__ready()))
		return 0;
	return fwd.malloc_usable_size(p);
}

/* the child of fork draws its own samples, and is blind if it was watched */
static void after_fork_child(void)
{
	/* the parent's frees, which the parent sends */
	for (unsigned i = 0; i < MEMSIGHT_SAMPLER_PENDING; i++)
		__atomic_store_n(&memsight_sampler_pending[i], 0, __ATOMIC_RELAXED);
	ts.rng = 0;
	if (__atomic_load_n(&memsight_alloc_semaphore, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&memsight_free_semaphore, __ATOMIC_RELAXED))
		fork_blind = 1;
}

/* MEMSIGHT_SAMPLE_BYTES: a decimal number of bytes > 0; anything else is ignored */
static void read_env_mean(void)
{
	const char *s = getenv(MEMSIGHT_SAMPLER_ENV);
	uint64_t v = 0;

	if (!s || !*s)
		return;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (!v)
		return;
	__atomic_store_n(&memsight_sampler_mean_bytes, v, __ATOMIC_RELAXED);
	/*
	 * Libraries initialised before us (libstdc++'s exception pool) may have
	 * drawn this thread's first countdown at the default mean: draw again.
	 */
	ts.left = 0;
	ts.mean = 0;
}

static __attribute__((constructor)) void sampler_init(void)
{
	int saved = errno;

	fwd__ready();
	read_env_mean();
	pthread_atfork(NULL, NULL, after_fork_child);
	errno = saved;
}

/* exit(): the frees still pending reach the observer (not so _exit or a signal) */
static __attribute__((destructor)) void sampler_fini(void)
{
	if (free_attached())
		fire_frees(0);
}
