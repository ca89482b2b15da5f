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
 * C++: libstdc++'s operator new/new[] call malloc, the aligned forms
 * aligned_alloc, and operator delete calls free, all through the PLT: C++
 * allocations are sampled through these wrappers. (A program that replaces
 * operator new with its own allocator is not seen, as any malloc wrapper.)
 *
 * fork: the child inherits the table and the countdowns; its generator is
 * reseeded so that parent and child do not draw the same samples. The
 * observer attaches per process, so an entry the child inherited only
 * fires a free probe in the child if the child frees it.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

struct thread_state {
	uint64_t left;	/* bytes until the next sample */
	uint64_t mean;	/* the mean left was drawn with; 0: not drawn yet */
	uint64_t rng;	/* 0: not seeded yet */
};

static __thread struct thread_state ts __attribute__((tls_model("initial-exec")));

static int attached(void)
{
	return __atomic_load_n(&memsight_alloc_semaphore, __ATOMIC_RELAXED) != 0;
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

static __attribute__((noinline)) void sampled_alloc(void *p, size_t size)
{
	int saved = errno;
	uint64_t mean = countdown_expired(size);

	if (mean && attached()) {
		table__insert((uintptr_t)p, size);	/* full: counted, free unseen */
		STAP_PROBE3(memsight, alloc, p, size, mean);
	}
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
	uint64_t size;

	if (table__remove((uintptr_t)p, &size)) {
		errno = saved;
		return 0;
	}
	if (__atomic_load_n(&memsight_free_semaphore, __ATOMIC_RELAXED))
		STAP_PROBE2(memsight, free, p, size);
	*ret_size = size;
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
	if (unlikely(!table__empty()) && p)
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
	 * The free probe fired before the real realloc: once the allocator has
	 * p back, another thread may get the same address and fire its alloc,
	 * which a late free would then cancel in the observer.
	 */
	q = fwd.realloc(p, size);
	if (q) {
		on_alloc(q, size);
	} else if (size && was) {
		/* failed: p is still live; it comes back, at the current mean */
		int saved = errno;

		if (attached()) {
			uint64_t mean = ts.mean ? ts.mean : 1;

			table__insert((uintptr_t)p, old);
			STAP_PROBE3(memsight, alloc, p, (size_t)old, mean);
		}
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
	if (unlikely(!table__empty()) && p)
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

/* the child of fork draws its own samples */
static void child_reseed(void)
{
	ts.rng = 0;
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
	if (v)
		__atomic_store_n(&memsight_sampler_mean_bytes, v, __ATOMIC_RELAXED);
}

static __attribute__((constructor)) void sampler_init(void)
{
	int saved = errno;

	fwd__ready();
	read_env_mean();
	pthread_atfork(NULL, NULL, child_reseed);
	errno = saved;
}
