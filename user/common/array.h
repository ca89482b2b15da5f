/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * array.h - room for one more element in an array that grows by doubling:
 * the one copy of that idiom for arrays with no bound of their own (an
 * array with a limit checks it, then grows through here or on its own).
 */
#ifndef MEMSIGHT_ARRAY_H
#define MEMSIGHT_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/*
 * Room for element n of v, an array of *cap elements of size bytes: v itself
 * when it fits, else v reallocated to twice its capacity (first elements when
 * it has none yet) and *cap updated; NULL, with v and *cap unchanged, when
 * memory ran out.
 */
static inline void *ms_array_room(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *nv;

	if (n < *cap)
		return v;
	nv = reallocarray(v, ncap, size);
	if (nv)
		*cap = ncap;
	return nv;
}

/*
 * Make arr (an array lvalue of *cap elements, n in use) hold element n:
 * 0, or -ENOMEM with arr and *cap unchanged. arr is assigned in its own
 * type (through a void ** it would be a store the compiler may assume does
 * not alias arr). arr is evaluated more than once: no side effects in it.
 */
#define ms_array_grow(arr, cap, n, first) __extension__ ({			\
	void *ms_nv_ = ms_array_room((arr), (cap), (n), sizeof(*(arr)), (first));	\
	ms_nv_ ? ((arr) = ms_nv_, 0) : -ENOMEM;					\
})

#endif
