/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * folded.h - Brendan Gregg's "folded stacks" format, and the pieces the
 * other exporters share with it: frame naming, value selection, heap
 * unsampling and a sorted, merged stack set.
 *
 * Exporters only read a finalized struct ms_profile; they never log and
 * return 0 or -errno.
 */
#ifndef MEMSIGHT_FOLDED_H
#define MEMSIGHT_FOLDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/model.h"

enum folded_value {
	FOLDED_INUSE_BYTES,
	FOLDED_ALLOC_BYTES,
	FOLDED_INUSE_COUNT,
	FOLDED_ALLOC_COUNT,
	FOLDED_VALUE__MAX,
};

/* Longest frame name we emit (bytes, escapes included); longer ones are cut. */
#define FOLDED_NAME_MAX 1024

/* Accepts inuse_bytes|inuse_space, alloc_bytes|alloc_space, inuse_count|inuse_objects,
 * alloc_count|alloc_objects. -EINVAL for anything else. */
int folded__parse_value(const char *s, enum folded_value *ret);
/* "inuse_bytes" etc.; "unknown" for an out-of-range value. */
const char *folded__value_name(enum folded_value v);
/* true when v counts bytes, false when it counts allocations. */
bool folded__value_is_bytes(enum folded_value v);

/* One of the four values of s, unsampled with p->sample_period. */
uint64_t folded__stack_value(const struct ms_profile *p, const struct ms_stack *s,
			     enum folded_value v);

/*
 * Name a frame for folded output into buf (always NUL-terminated, cut at
 * FOLDED_NAME_MAX and at len): the function name when known, else
 * "module-basename+0xFILEOFF" when the module and its mapping are known, else
 * "0xADDR". Control characters (a newline), C1 and invalid UTF-8 become
 * visible escapes (common/textsafe.h) and ';' becomes ':', so the name is
 * safe inside a folded line and on a terminal. Returns the name's length.
 */
size_t folded__frame_name(const struct ms_frame *f, char *buf, size_t len);

/* Stacks reduced to names, root first, ending with the allocator kind ("malloc"). */
struct folded_stack {
	char **frames;
	uint32_t nframes;
	uint64_t value;
};

struct folded_set {
	struct folded_stack *v;	/* sorted frame by frame (byte order), no duplicates */
	size_t n;
	uint64_t total;		/* sum of all values */
};

/* Collect the stacks of p with a non-zero value v, merging those whose names
 * are equal. 0 or -ENOMEM; *ret is empty (and safe to free) on error. */
int folded__collect(const struct ms_profile *p, enum folded_value v, struct folded_set *ret);
void folded_set__free(struct folded_set *set);

/* One line per merged stack, "main;leak_a;malloc 4096000\n", sorted. 0, -ENOMEM or -EIO. */
int folded__write(const struct ms_profile *p, enum folded_value v, FILE *out);

#endif /* MEMSIGHT_FOLDED_H */
