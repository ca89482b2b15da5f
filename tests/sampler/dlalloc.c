/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* dlalloc - a library dlopen()ed by tests/sampler/semantics that allocates */
#include <stdlib.h>
#include <string.h>

char *dlalloc_make(size_t n);
void dlalloc_drop(char *s);

char *dlalloc_make(size_t n)
{
	char *s = malloc(n);

	if (s && n) {
		memset(s, 'x', n - 1);
		s[n - 1] = 0;
	}
	return s;
}

void dlalloc_drop(char *s)
{
	free(s);
}
