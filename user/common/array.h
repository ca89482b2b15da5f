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
 * Make *v, an array of *cap elements of size bytes with n in use, hold
 * element n: when it is full, reallocated to twice its capacity (first
 * elements when it has none yet). 0 or -ENOMEM, then *v and *cap unchanged.
 */
static inline int ms_array_grow(void **v, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *nv;

	if (n < *cap)
		return 0;
	nv = reallocarray(*v, ncap, size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

#endif
