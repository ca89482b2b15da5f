/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * forward.c - resolve the next malloc family once, and the bootstrap arena.
 *
 * dlsym() may allocate (its error buffer, glibc's libdl state): those calls
 * re-enter our malloc/calloc before fwd is filled in. They are served from a
 * small static arena whose blocks are never given back; free() and realloc()
 * recognise arena pointers by address and never pass them on.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "forward.h"

struct fwd_fns fwd;

enum { FWD_NONE, FWD_BUSY, FWD_DONE, FWD_FAILED };
static int fwd_state;

#define ARENA_SIZE	(64 * 1024)
#define ARENA_HDR	16	/* size asked for, kept before each block */

static _Alignas(4096) unsigned char arena[ARENA_SIZE];
static size_t arena_used;

#define FWD_SYM(field, name) { (void **)&fwd.field, name }
static const struct {
	void **slot;
	const char *name;
} fwd_syms[] = {
	FWD_SYM(malloc, "malloc"),
	FWD_SYM(free, "free"),
	FWD_SYM(calloc, "calloc"),
	FWD_SYM(realloc, "realloc"),
	FWD_SYM(memalign, "memalign"),
	FWD_SYM(posix_memalign, "posix_memalign"),
	FWD_SYM(aligned_alloc, "aligned_alloc"),
	FWD_SYM(valloc, "valloc"),
	FWD_SYM(pvalloc, "pvalloc"),
	FWD_SYM(malloc_usable_size, "malloc_usable_size"),
};

static void fwd_resolve(void)
{
	struct fwd_fns tmp;
	size_t i;

	for (i = 0; i < sizeof(fwd_syms) / sizeof(fwd_syms[0]); i++)
		*fwd_syms[i].slot = dlsym(RTLD_NEXT, fwd_syms[i].name);
	/* the calls that cannot be done without the real allocator */
	tmp = fwd;
	if (!tmp.malloc || !tmp.free || !tmp.calloc || !tmp.realloc || !tmp.memalign ||
	    !tmp.posix_memalign || !tmp.aligned_alloc || !tmp.valloc ||
	    !tmp.malloc_usable_size) {
		__atomic_store_n(&fwd_state, FWD_FAILED, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&fwd_state, FWD_DONE, __ATOMIC_RELEASE);
}

int fwd__ready(void)
{
	int st = __atomic_load_n(&fwd_state, __ATOMIC_ACQUIRE);
	int expect = FWD_NONE;
	int saved;

	if (__builtin_expect(st == FWD_DONE, 1))
		return 1;
	if (st != FWD_NONE)
		return 0;	/* under way (dlsym's own calls, or another thread) */
	if (!__atomic_compare_exchange_n(&fwd_state, &expect, FWD_BUSY, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	saved = errno;
	fwd_resolve();
	errno = saved;
	return __atomic_load_n(&fwd_state, __ATOMIC_ACQUIRE) == FWD_DONE;
}

void *fwd__arena_alloc(size_t size, size_t align)
{
	size_t old, start, end;

	if (align < ARENA_HDR)
		align = ARENA_HDR;
	if (align & (align - 1) || size > ARENA_SIZE || align > ARENA_SIZE / 2) {
		errno = ENOMEM;
		return NULL;
	}
	old = __atomic_load_n(&arena_used, __ATOMIC_RELAXED);
	do {
		start = (old + ARENA_HDR + align - 1) & ~(align - 1);
		end = start + ((size + ARENA_HDR - 1) & ~(size_t)(ARENA_HDR - 1));
		if (end > ARENA_SIZE) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&arena_used, &old, end, 1,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	memcpy(arena + start - ARENA_HDR, &size, sizeof(size));
	return arena + start;	/* static storage: already zero, as calloc wants */
}

int fwd__in_arena(const void *p)
{
	return (uintptr_t)p >= (uintptr_t)arena && (uintptr_t)p < (uintptr_t)(arena + ARENA_SIZE);
}

size_t fwd__arena_size(const void *p)
{
	size_t size;

	memcpy(&size, (const unsigned char *)p - ARENA_HDR, sizeof(size));
	return size;
}
