// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * deep - allocations whose callers only DWARF can name.
 *
 * Prints "ready <pid>", waits for SIGUSR1, then:
 *   open_log(): fopen() + fputs() on /dev/null, kept open: glibc allocates
 *               the FILE in fopen and its buffer in the first write, both
 *               deep inside libc (no frame pointers there);
 *   build_list(): 100 x make_node(256), make_node inlined into build_list;
 * prints "done" and waits for SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

#define NODES		100
#define NODE_SIZE	256

static FILE *logf_;
static void *nodes[NODES];

__attribute__((noinline)) void open_log(void)
{
	logf_ = fopen("/dev/null", "w");
	if (!logf_)
		abort();
	fputs("opened\n", logf_);
}

static inline __attribute__((always_inline)) void *make_node(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	memset(p, 0x11, n);
	return p;
}

__attribute__((noinline)) void build_list(void)
{
	for (int i = 0; i < NODES; i++)
		nodes[i] = make_node(NODE_SIZE);
}

int main(void)
{
	target_ready();
	while (target_next_round()) {
		open_log();
		build_list();
		printf("done\n");
	}
	fflush(logf_);
	return 0;
}
