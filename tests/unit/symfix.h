/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * symfix.h - the path of a symboliser fixture (tests/fixtures/symbolize.mk
 * builds them into $MS_BUILD/fixtures/symbolize/), for the tests that read
 * them (test_symbolize.c, test_elf.c). The last 8 paths stay valid.
 */
#ifndef MEMSIGHT_TEST_SYMFIX_H
#define MEMSIGHT_TEST_SYMFIX_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static const char *fx(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static int next;
	const char *b = getenv("MS_BUILD");
	char *p = bufs[next++ % 8];

	snprintf(p, PATH_MAX, "%s/fixtures/symbolize/%s", b && *b ? b : "build", rel);
	return p;
}

#endif /* MEMSIGHT_TEST_SYMFIX_H */
