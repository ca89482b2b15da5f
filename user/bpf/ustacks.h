/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ustacks.h - stacks unwound in user space, and what BPF's sample ids stand for.
 *
 * An allocation whose stack is copied for DWARF unwinding gets a BPF
 * aggregate of its own under a sample id (memsight_abi.h). This table:
 *  - interns unwound stacks: the same frames always get the same id,
 *    MS_USTACK_ID_BASE + n, so per-stack figures fold together and growth
 *    tracking sees one stable id per stack;
 *  - binds each sample id to the id of its unwound stack;
 *  - keeps the totals of retired samples (allocations freed again, whose
 *    BPF aggregates are deleted to bound the table) per (process, stack, kind),
 *    so allocation counts and bytes since attach stay complete.
 * Every stack is reference-counted by bindings and retired totals, and its
 * slot reused when the last goes.
 *
 * Pure data structure: no BPF, no I/O; returns 0 / -errno.
 */
#ifndef MEMSIGHT_USTACKS_H
#define MEMSIGHT_USTACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memsight_abi.h"

#define USTACKS_MAX_FRAMES	MS_MAX_STACK_DEPTH
#define USTACKS_DEF_STACKS	(1u << 16)	/* distinct unwound stacks */
#define USTACKS_DEF_SAMPLES	(1u << 20)	/* sample ids bound at once */

struct ustacks;

/* Order of aggregate keys: tgid, gen, stack_id, kind (qsort/tsearch style). */
int ms_agg_key__cmp(const struct ms_agg_key *x, const struct ms_agg_key *y);

/* dst += src, field by field. */
static inline void ms_agg_val__add(struct ms_agg_val *dst, const struct ms_agg_val *src)
{
	dst->alloc_bytes += src->alloc_bytes;
	dst->alloc_count += src->alloc_count;
	dst->free_bytes += src->free_bytes;
	dst->free_count += src->free_count;
	dst->alloc_usable += src->alloc_usable;
	dst->free_usable += src->free_usable;
	dst->alloc_nousable += src->alloc_nousable;
	dst->free_nousable += src->free_nousable;
}

/*
 * A sample that never got its bytes counted (live table full) this long
 * after its stack was bound is dead.
 */
#define USTACKS_EMPTY_SAMPLE_NS	(2ull * 1000 * 1000 * 1000)

/*
 * May a sample's BPF aggregate v, read at now_ns, be deleted? Yes once its
 * allocation is freed (one allocation per sample), or when it stayed empty
 * for USTACKS_EMPTY_SAMPLE_NS after its stack was bound at bound_ns. An
 * empty one is a sample whose program is between making the aggregate and
 * counting its bytes, unless it is that old: deleting it then loses the
 * allocation. bound_ns may be later than now_ns (bound by a poll during the
 * read that read v): that one is young.
 */
static inline bool ustacks__sample_done(const struct ms_agg_val *v, uint64_t now_ns,
					uint64_t bound_ns)
{
	if (v->alloc_count)
		return v->free_count >= v->alloc_count;
	return now_ns > bound_ns && now_ns - bound_ns > USTACKS_EMPTY_SAMPLE_NS;
}

struct ustacks_stats {
	uint64_t stacks;		/* distinct stacks held */
	uint64_t bindings;		/* sample ids bound */
	uint64_t retired;		/* retired (process, stack, kind) totals held */
	uint64_t stacks_full;		/* samples that found the stack table full */
	uint64_t bindings_full;		/* samples that found the binding table full */
	uint64_t quota_full;		/* samples whose process had its quota of stacks */
};

/* 0 for a limit takes its default. NULL + errno. */
struct ustacks *ustacks__new(uint32_t max_stacks, uint32_t max_samples);
void ustacks__free(struct ustacks *us);

/*
 * At most per_pid distinct stacks brought in by one process (0: no quota),
 * so that one busy process cannot take the table from the others.
 */
void ustacks__set_quota(struct ustacks *us, uint32_t per_pid);

/*
 * Bind sample id sid of process (tgid, gen) to the stack ips[0..n): the
 * stack is interned (new or shared). Re-binding a sid replaces the old
 * binding. -ENOSPC when a table is full (counted), -EINVAL for a bad sid.
 */
int ustacks__bind(struct ustacks *us, uint32_t tgid, uint32_t gen, int32_t sid,
		  const uint64_t *ips, uint32_t n, uint64_t now_ns);

/* The stack id a sample id stands for, or -ENOENT. *ret_bound_ns: when bound. */
int ustacks__resolve(const struct ustacks *us, int32_t sid, int32_t *ret_id,
		     uint64_t *ret_bound_ns);

/* Forget a sample id (its aggregate is gone). */
void ustacks__unbind(struct ustacks *us, int32_t sid);

/* The frames of stack id, innermost first; -ENOENT if there is none. */
int ustacks__frames(const struct ustacks *us, int32_t id, const uint64_t **ret_ips,
		    uint32_t *ret_n);

/*
 * Add a freed sample's figures to the retired totals of (tgid, gen, stack
 * id of sid, kind, period) and unbind sid. -ENOENT if sid is not bound.
 */
int ustacks__retire(struct ustacks *us, int32_t sid, uint32_t kind, uint64_t period,
		    const struct ms_agg_val *v);

/*
 * Call fn for each retired total of process tgid (every process if tgid is
 * 0), with the key's stack_id set to the stack id.
 */
void ustacks__for_each_retired(const struct ustacks *us, uint32_t tgid,
			       void (*fn)(const struct ms_agg_key *k, const struct ms_agg_val *v,
					  void *ctx),
			       void *ctx);

/*
 * Drop bindings and retired totals of process tgid: all of them, or those of
 * generations other than keep_gen (after an exec).
 */
void ustacks__forget(struct ustacks *us, uint32_t tgid, bool all, uint32_t keep_gen);

void ustacks__stats(const struct ustacks *us, struct ustacks_stats *ret);

#endif /* MEMSIGHT_USTACKS_H */
