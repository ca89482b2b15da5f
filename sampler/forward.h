/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * forward.h - the next definitions of the malloc family (whatever the program
 * would have called without the sampler: glibc, jemalloc, tcmalloc), found
 * once with dlsym(RTLD_NEXT), and the static arena that serves the calls
 * dlsym itself makes while they are being found.
 */
#ifndef SAMPLER_FORWARD_H
#define SAMPLER_FORWARD_H

#include <stddef.h>

struct fwd_fns {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*memalign)(size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);	/* NULL: the allocator lacks it (musl) */
	size_t (*malloc_usable_size)(void *);
};

extern struct fwd_fns fwd;

/*
 * 1 when fwd is filled in; else resolves it (once; errno kept). 0 while the
 * resolution is under way (the caller is dlsym's own allocation: serve it
 * from the arena) or when the next malloc/free cannot be found.
 */
int fwd__ready(void);

/* bootstrap arena: never freed, 16-byte aligned unless asked for more */
void *fwd__arena_alloc(size_t size, size_t align);
int fwd__in_arena(const void *p);
size_t fwd__arena_size(const void *p);	/* the size asked for */

#endif /* SAMPLER_FORWARD_H */
