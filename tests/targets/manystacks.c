// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * manystacks - STACKS distinct call stacks, one allocation each.
 *
 * Allocation i goes down LEVELS calls, each one to stk_a or to stk_b as bit
 * `level` of i says, so every i has a call stack of its own; the leaf
 * mallocs 16 * (1 + the number of stk_b frames) bytes and holds them. A
 * stack's bytes thus tell which stack they belong to: a tool that files an
 * allocation under another stack shows bytes that do not match its frames.
 *
 * One round per SIGUSR1 (target.h): the first makes the allocations, any
 * later one frees them; then "done". `manystacks US` pauses US microseconds
 * after every 100 allocations, so that a reader can look meanwhile.
 */
#include <stdlib.h>

#include "target.h"

#define LEVELS	15
#define STACKS	20000		/* < 2^LEVELS */

static void *held[STACKS];

__attribute__((noipa)) static int stk_leaf(unsigned int i, unsigned int nb)
{
	held[i] = malloc(16 * (1 + nb));
	return held[i] != NULL;
}

__attribute__((noipa)) static int stk_b(unsigned int level, unsigned int i, unsigned int nb);

/* the calls are not tail calls (r + 1), so every frame stays on the stack */
__attribute__((noipa)) static int stk_a(unsigned int level, unsigned int i, unsigned int nb)
{
	int r;

	if (level == LEVELS)
		r = stk_leaf(i, nb);
	else if ((i >> level) & 1)
		r = stk_b(level + 1, i, nb + 1);
	else
		r = stk_a(level + 1, i, nb);
	return r + 1;
}

__attribute__((noipa)) static int stk_b(unsigned int level, unsigned int i, unsigned int nb)
{
	int r;

	if (level == LEVELS)
		r = stk_leaf(i, nb);
	else if ((i >> level) & 1)
		r = stk_b(level + 1, i, nb + 1);
	else
		r = stk_a(level + 1, i, nb);
	return r + 1;
}

int main(int argc, char **argv)
{
	unsigned int round = 0, pause_us = argc > 1 ? (unsigned int)atoi(argv[1]) : 0;

	target_ready();
	while (target_next_round()) {
		for (unsigned int i = 0; i < STACKS; i++) {
			if (round) {
				free(held[i]);
				held[i] = NULL;
				continue;
			}
			stk_a(0, i, 0);
			if (pause_us && i % 100 == 99)
				usleep(pause_us);
		}
		round++;
		printf("done\n");
	}
	return 0;
}
