/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * growth.h - leak scoring: periodic snapshots of a process's in-use bytes
 * per stack, and the growth slope of each over a time window.
 *
 * A stack that leaks grows steadily; one that churns goes up and down. The
 * score is the least-squares slope of in-use bytes over the window (bytes
 * per minute), so a steady leak of 1 MiB/min ranks above a 100 MiB buffer
 * that has stayed the same size since attach.
 *
 * Memory is bounded: at most GROWTH_MAX_SNAPS snapshots of at most
 * GROWTH_MAX_KEYS stacks each (the largest by in-use bytes are kept).
 */
#ifndef MEMSIGHT_GROWTH_H
#define MEMSIGHT_GROWTH_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#define GROWTH_MAX_SNAPS	128
#define GROWTH_MAX_KEYS		256

struct growth_point {
	int32_t stack_id;
	uint32_t kind;
	uint64_t inuse_bytes;
};

struct growth_snap {
	uint64_t t_ns;
	uint64_t total_bytes;		/* all stacks, not only the kept ones */
	uint32_t n;
	struct growth_point *v;		/* sorted by (stack_id, kind) */
};

struct growth {
	struct growth_snap snaps[GROWTH_MAX_SNAPS];	/* ring */
	uint32_t head;			/* index of the oldest */
	uint32_t count;
	uint64_t dropped_keys;		/* stacks left out of snapshots (over the cap) */
};

void growth__init(struct growth *g);
void growth__free(struct growth *g);

/* Add a snapshot (points in any order; copied). Oldest goes when full. 0 / -ENOMEM. */
int growth__add(struct growth *g, uint64_t t_ns, const struct growth_point *pts, size_t n);

/* Drop snapshots older than t_ns - window_ns. */
void growth__trim(struct growth *g, uint64_t t_ns, uint64_t window_ns);

/* Slope of the total in bytes per minute over snapshots within the window; 0 if < 2. */
double growth__total_slope(const struct growth *g, uint64_t now_ns, uint64_t window_ns);

/* Slope of one stack (absent from a snapshot = 0 bytes then). */
double growth__slope(const struct growth *g, int32_t stack_id, uint32_t kind, uint64_t now_ns,
		     uint64_t window_ns);

/* Slope of a profile row: its stack and the stacks merged into it. */
double growth__row_slope(const struct growth *g, const struct ms_stack *s, uint64_t now_ns,
			 uint64_t window_ns);

/* Seconds covered by the snapshots in the window. */
double growth__span_s(const struct growth *g, uint64_t now_ns, uint64_t window_ns);

#endif
