// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * goproc_heap.c - heap statistics of a running Go process, as readmemstats_m()
 * computes them from memstats.heapStats, the P caches and gcController.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/goproc.h"
#include "target/goproc_int.h"

#define SIZECLASS_MAX	256		/* _NumSizeClasses is 68 in 1.19 */
#define SPANCLASS_MAX	(2 * SIZECLASS_MAX)
#define HEAP_RETRIES	3

/* ---- heap ---- */

struct hstats {
	int64_t committed, released, in_heap, in_stacks, in_workbufs, in_ptrbits;
	uint64_t tiny, large_alloc, large_alloc_n, large_free, large_free_n;
	uint64_t small_alloc[SIZECLASS_MAX], small_free[SIZECLASS_MAX];
};

/* Sum memstats.heapStats.stats[0..count): what consistentHeapStats.unsafeRead does. */
static void hstats_sum(const struct goproc *gp, const uint8_t *ms, size_t mslen, uint32_t nclass,
		       struct hstats *h)
{
	const struct gp_field *arr = &gp->f[F_MS_HEAPSTATS];
	uint32_t gen, c;

	memset(h, 0, sizeof(*h));
	for (gen = 0; gen < arr->count; gen++) {
		uint64_t off = arr->off + (uint64_t)gen * arr->stride;
		const uint8_t *d = ms + off;
		size_t dl;

		if (off > mslen || arr->stride > mslen - off)
			break;
		dl = arr->stride;
		h->committed += fld_i(gp, F_HSD_COMMITTED, d, dl);
		h->released += fld_i(gp, F_HSD_RELEASED, d, dl);
		h->in_heap += fld_i(gp, F_HSD_INHEAP, d, dl);
		h->in_stacks += fld_i(gp, F_HSD_INSTACKS, d, dl);
		h->in_workbufs += fld_i(gp, F_HSD_INWORKBUFS, d, dl);
		h->in_ptrbits += fld_i(gp, F_HSD_INPTRSCALARBITS, d, dl);
		h->tiny += fld_u(gp, F_HSD_TINYALLOCCOUNT, d, dl);
		h->large_alloc += fld_u(gp, F_HSD_LARGEALLOC, d, dl);
		h->large_alloc_n += fld_u(gp, F_HSD_LARGEALLOCCOUNT, d, dl);
		h->large_free += fld_u(gp, F_HSD_LARGEFREE, d, dl);
		h->large_free_n += fld_u(gp, F_HSD_LARGEFREECOUNT, d, dl);
		for (c = 0; c < nclass; c++) {
			h->small_alloc[c] += fld_elem(gp, F_HSD_SMALLALLOCCOUNT, c, d, dl);
			h->small_free[c] += fld_elem(gp, F_HSD_SMALLFREECOUNT, c, d, dl);
		}
	}
}

/*
 * Slots the P caches handed out but the counters do not have yet: since
 * 1.18 a cached span's allocations are counted when it is uncached
 * (allocCount - allocCountBeforeCache); 1.17 counted the whole span at
 * refill, so there the unused slots are subtracted. Adds to h; returns the
 * bytes involved (signed: negative on 1.17). Best effort: a P or span that
 * does not read is skipped.
 */
static int mcache_adjust(struct goproc *gp, uint32_t nclass, const uint16_t *class_size,
			 struct hstats *h, int64_t *ret_bytes)
{
	const struct gp_field *pm = &gp->f[F_P_MCACHE], *al = &gp->f[F_MC_ALLOC];
	const struct gp_field *sf[4] = { &gp->f[F_SP_ALLOCCOUNT], &gp->f[F_SP_ALLOCCOUNT_BC],
					 &gp->f[F_SP_ELEMSIZE], &gp->f[F_SP_NELEMS] };
	bool before_cache = sf[1]->ok;
	uint64_t *ps = NULL, spans[SPANCLASS_MAX], empty = 0;
	uint8_t *mc = NULL, *sbuf = NULL;
	bool sok[SPANCLASS_MAX];
	uint32_t lo = UINT32_MAX, hi = 0, mclen, nspc, k;
	size_t np = 0, i;
	int64_t bytes = 0;
	int err;

	if (!pm->ok || !al->ok || al->count > SPANCLASS_MAX || al->size != 8 || !sf[0]->ok ||
	    !sf[2]->ok || !sf[3]->ok)
		return -ENOTSUP;
	for (k = 0; k < 4; k++) {
		if (!sf[k]->ok)
			continue;
		if (sf[k]->size > 8)
			return -ENOTSUP;
		lo = sf[k]->off < lo ? sf[k]->off : lo;
		hi = sf[k]->off + sf[k]->size > hi ? sf[k]->off + sf[k]->size : hi;
	}
	if (hi - lo > WINDOW_MAX)
		return -ENOTSUP;
	if (gp->sym[S_EMPTYMSPAN].ok)
		empty = sym_addr(gp, S_EMPTYMSPAN);
	nspc = al->count;
	mclen = al->off + nspc * al->stride;
	if (gp->f[F_MC_TINYALLOCS].ok &&
	    gp->f[F_MC_TINYALLOCS].off + gp->f[F_MC_TINYALLOCS].size > mclen)
		mclen = gp->f[F_MC_TINYALLOCS].off + gp->f[F_MC_TINYALLOCS].size;
	err = gp_allp_read(gp, &ps, &np);
	if (err)
		return err;
	mc = malloc(mclen);
	sbuf = malloc((size_t)SPANCLASS_MAX * (hi - lo));
	if (!mc || !sbuf) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < np; i++) {
		uint8_t pbuf[8];
		uint64_t mcp;

		if (!ps[i] || gp_mem_read(gp, ps[i] + pm->off, pbuf, 8))
			continue;
		mcp = get_uint(pbuf, 8);
		if (!mcp || gp_mem_read(gp, mcp, mc, mclen))
			continue;
		h->tiny += fld_u(gp, F_MC_TINYALLOCS, mc, mclen);
		for (k = 0; k < nspc; k++) {
			spans[k] = get_uint(mc + al->off + k * al->stride, 8);
			if (spans[k] == empty)
				spans[k] = 0;
			else if (spans[k])
				spans[k] += lo;
		}
		err = gp_mem_read_batch(gp, spans, nspc, hi - lo, sbuf, sok);
		if (err)
			goto out;
		for (k = 0; k < nspc; k++) {
			const uint8_t *s = sbuf + (size_t)k * (hi - lo);
			uint64_t cnt, bc, elem, nel, cls = k >> 1;

			if (!sok[k] || cls >= nclass)
				continue;
			cnt = get_uint(s + sf[0]->off - lo, sf[0]->size);
			elem = get_uint(s + sf[2]->off - lo, sf[2]->size);
			nel = get_uint(s + sf[3]->off - lo, sf[3]->size);
			if (cnt > nel || elem != class_size[cls])
				continue;	/* not a span of this class: stale or torn */
			if (before_cache) {
				bc = get_uint(s + sf[1]->off - lo, sf[1]->size);
				if (bc > cnt)
					continue;
				h->small_alloc[cls] += cnt - bc;
				bytes += (int64_t)((cnt - bc) * elem);
			} else if (h->small_alloc[cls] >= nel - cnt) {
				h->small_alloc[cls] -= nel - cnt;
				bytes -= (int64_t)((nel - cnt) * elem);
			}
		}
	}
	*ret_bytes = bytes;
out:
	free(ps);
	free(mc);
	free(sbuf);
	return err;
}

/*
 * The runtime's heap goal. 1.17 keeps it in memstats.next_gc, 1.18 in
 * gcController.heapGoal; 1.19+ computes it (heapGoalInternal): the GOGC goal,
 * lowered to the memory-limit goal, raised to the sweep-distance trigger and
 * to 64 KiB past the trigger of a running cycle.
 */
static int next_gc(struct goproc *gp, const uint8_t *ms, size_t mslen, const uint8_t *gc,
		   size_t gclen, uint64_t heap_free, uint64_t heap_alloc, bool have_mapped,
		   uint64_t mapped_ready, uint64_t *ret, const char **ret_why)
{
	const uint64_t min_runway = 64 << 10, min_headroom = 1 << 20;
	uint64_t goal, limit, marked, nonheap, overage, lgoal, headroom, trig;

	if (gp->f[F_MS_NEXT_GC].ok) {
		*ret = fld_u(gp, F_MS_NEXT_GC, ms, mslen);
		return 0;
	}
	if (!gp->f[F_GCC_HEAPGOAL].ok && !gp->f[F_GCC_GCPERCENTHEAPGOAL].ok) {
		*ret_why = "the layout has no heap goal field";
		return -ENOTSUP;
	}
	if (!gc) {
		*ret_why = gp->no_symtab ? "runtime.gcController is not found from code" :
			   "runtime.gcController does not read";
		return -ENOENT;
	}
	if (gp->f[F_GCC_HEAPGOAL].ok) {
		*ret = fld_u(gp, F_GCC_HEAPGOAL, gc, gclen);
		return 0;
	}
	goal = fld_u(gp, F_GCC_GCPERCENTHEAPGOAL, gc, gclen);
	marked = fld_u(gp, F_GCC_HEAPMARKED, gc, gclen);
	if (gp->f[F_GCC_MEMORYLIMIT].ok) {
		int64_t l;

		/* the limit goal needs every mapped byte; without them, no answer */
		if (!have_mapped) {
			*ret_why = "the memory limit goal needs the runtime's total (Sys), "
				   "which is unavailable";
			return -ENOTSUP;
		}
		l = fld_i(gp, F_GCC_MEMORYLIMIT, gc, gclen);

		limit = l < 0 ? 0 : (uint64_t)l;
		nonheap = mapped_ready > heap_free + heap_alloc ?
			  mapped_ready - heap_free - heap_alloc : 0;
		overage = mapped_ready > limit ? mapped_ready - limit : 0;
		if (nonheap + overage >= limit) {
			lgoal = marked;
		} else {
			lgoal = limit - (nonheap + overage);
			headroom = min_headroom;
			/* 1.21 made the headroom 3% of the goal, at least 1 MiB */
			if (gp->have_ver && gp->ver.major == 1 && gp->ver.minor >= 21 &&
			    lgoal / 100 * 3 > headroom)
				headroom = lgoal / 100 * 3;
			if (lgoal < headroom || lgoal - headroom < headroom)
				lgoal = headroom;
			else
				lgoal -= headroom;
			if (lgoal < marked)
				lgoal = marked;
		}
		if (lgoal < goal) {
			*ret = lgoal;
			return 0;
		}
	}
	if (gp->f[F_GCC_SWEEPDISTMINTRIGGER].ok) {
		uint64_t sweep = fld_u(gp, F_GCC_SWEEPDISTMINTRIGGER, gc, gclen);

		if (sweep > goal)
			goal = sweep;
	}
	if (gp->f[F_GCC_TRIGGERED].ok) {
		trig = fld_u(gp, F_GCC_TRIGGERED, gc, gclen);
		if (trig != ~0ull && goal < trig + min_runway)
			goal = trig + min_runway;
	}
	*ret = goal;
	return 0;
}

/*
 * The heap the last GC marked live: gcController.heapMarked, set at mark
 * termination (work.bytesMarked, what gctrace prints third in X->Y->Z MB
 * and runtime/metrics as /gc/heap/live:bytes). 0 before the first GC:
 * then there is no such figure.
 */
static int live_after_gc(const struct goproc *gp, const uint8_t *gc, size_t gclen,
			 uint32_t num_gc, uint64_t *ret, const char **ret_why)
{
	if (!gp->f[F_GCC_HEAPMARKED].ok) {
		*ret_why = "the layout has no gcControllerState.heapMarked";
		return -ENOTSUP;
	}
	if (!gc) {
		*ret_why = gp->no_symtab ? "runtime.gcController is not found from code" :
			   "runtime.gcController does not read";
		return -ENOENT;
	}
	if (!num_gc) {
		*ret_why = "no GC has finished yet";
		return -ENODATA;
	}
	*ret = fld_u(gp, F_GCC_HEAPMARKED, gc, gclen);
	return 0;
}



/* One snapshot; -EAGAIN if it contradicts itself (the target moved under us). */
static int heap_once(struct goproc *gp, const uint16_t *class_size, uint32_t nclass,
		     struct goproc_heap *ret)
{
	uint8_t *ms = NULL, *gc = NULL;
	size_t mslen, gclen = 0;
	struct hstats h;
	uint64_t total_alloc = 0, total_free = 0, nmalloc, nfree, retained, heap_free, c;
	int64_t mc_bytes = 0;
	int err;

	err = gp_sym_read(gp, S_MEMSTATS, &ms, &mslen);
	if (err)
		return gp_set_reason(gp, err, "cannot read runtime.memstats: %s", strerror(-err));
	if (gp->f[F_MS_HEAPSTATS].off + (uint64_t)gp->f[F_MS_HEAPSTATS].count *
	    gp->f[F_MS_HEAPSTATS].stride > mslen) {
		free(ms);
		return gp_set_reason(gp, -EINVAL,
				     "memstats.heapStats lies outside runtime.memstats");
	}
	memset(ret, 0, sizeof(*ret));
	hstats_sum(gp, ms, mslen, nclass, &h);
	if (!mcache_adjust(gp, nclass, class_size, &h, &mc_bytes)) {
		ret->valid |= GOPROC_HEAP_MCACHE;
		ret->mcache_unflushed = mc_bytes > 0 ? (uint64_t)mc_bytes : 0;
	}

	nmalloc = h.large_alloc_n + h.tiny;
	nfree = h.large_free_n + h.tiny;
	total_alloc = h.large_alloc;
	total_free = h.large_free;
	for (c = 0; c < nclass; c++) {
		total_alloc += h.small_alloc[c] * class_size[c];
		total_free += h.small_free[c] * class_size[c];
		nmalloc += h.small_alloc[c];
		nfree += h.small_free[c];
	}
	retained = (uint64_t)(h.committed - h.in_stacks - h.in_workbufs - h.in_ptrbits);
	if (total_free > total_alloc || nfree > nmalloc || h.committed < 0 || h.released < 0 ||
	    h.in_heap < 0 || h.in_stacks < 0 || h.in_workbufs < 0 || h.in_ptrbits < 0 ||
	    h.committed < h.in_stacks + h.in_workbufs + h.in_ptrbits ||
	    retained < (uint64_t)h.in_heap) {
		free(ms);
		return -EAGAIN;
	}
	heap_free = retained - (uint64_t)h.in_heap;
	ret->total_alloc = total_alloc;
	ret->heap_alloc = total_alloc - total_free;
	ret->mallocs = nmalloc;
	ret->frees = nfree;
	ret->heap_objects = nmalloc - nfree;
	ret->heap_inuse = (uint64_t)h.in_heap;
	ret->heap_released = (uint64_t)h.released;
	ret->heap_idle = heap_free + (uint64_t)h.released;
	ret->heap_sys = ret->heap_inuse + ret->heap_idle;
	ret->stack_inuse = (uint64_t)h.in_stacks;
	ret->num_gc = (uint32_t)fld_u(gp, F_MS_NUMGC, ms, mslen);
	if (gp->f[F_MS_STACKS_SYS].ok && gp->f[F_MS_MSPAN_SYS].ok && gp->f[F_MS_MCACHE_SYS].ok &&
	    gp->f[F_MS_BUCKHASH_SYS].ok && gp->f[F_MS_GCMISC_SYS].ok && gp->f[F_MS_OTHER_SYS].ok) {
		ret->sys = ret->heap_sys + fld_u(gp, F_MS_STACKS_SYS, ms, mslen) +
			   fld_u(gp, F_MS_MSPAN_SYS, ms, mslen) +
			   fld_u(gp, F_MS_MCACHE_SYS, ms, mslen) +
			   fld_u(gp, F_MS_BUCKHASH_SYS, ms, mslen) +
			   fld_u(gp, F_MS_GCMISC_SYS, ms, mslen) +
			   fld_u(gp, F_MS_OTHER_SYS, ms, mslen) +
			   (uint64_t)(h.in_stacks + h.in_workbufs + h.in_ptrbits);
		ret->valid |= GOPROC_HEAP_SYS;
	}
	/* best effort: without gcController only the goal and the live heap are missing */
	if (gp_sym_read(gp, S_GCCONTROLLER, &gc, &gclen))
		gc = NULL;
	/* mappedReady is what the runtime keeps equal to Sys - HeapReleased */
	if (!next_gc(gp, ms, mslen, gc, gclen, heap_free, ret->heap_alloc,
		     ret->valid & GOPROC_HEAP_SYS, ret->sys - ret->heap_released, &ret->next_gc,
		     &ret->next_gc_why))
		ret->valid |= GOPROC_HEAP_NEXT_GC;
	if (!live_after_gc(gp, gc, gclen, ret->num_gc, &ret->live_after_last_gc,
			   &ret->live_why))
		ret->valid |= GOPROC_HEAP_LIVE;
	free(gc);
	free(ms);
	return 0;
}

int goproc__heap(struct goproc *gp, struct goproc_heap *ret)
{
	const struct gp_symbol *cs = &gp->sym[S_CLASS_TO_SIZE];
	uint16_t class_size[SIZECLASS_MAX];
	uint8_t raw[SIZECLASS_MAX * 2];
	uint32_t nclass, c;
	int err, tries;

	err = gp_check_ready(gp, NEED_HEAP);
	if (err)
		return err;
	nclass = gp->f[F_HSD_SMALLALLOCCOUNT].count;
	if (nclass > SIZECLASS_MAX || gp->f[F_HSD_SMALLFREECOUNT].count != nclass ||
	    cs->size != (uint64_t)nclass * 2)
		return gp_set_reason(gp, -ENOTSUP, "%u size classes but runtime.class_to_size has "
				     "%llu bytes", nclass, (unsigned long long)cs->size);
	err = gp_mem_read(gp, sym_addr(gp, S_CLASS_TO_SIZE), raw, nclass * 2);
	if (err)
		return gp_set_reason(gp, err, "cannot read runtime.class_to_size: %s",
				     strerror(-err));
	for (c = 0; c < nclass; c++)
		class_size[c] = (uint16_t)get_uint(raw + 2 * c, 2);
	for (tries = 0; tries < HEAP_RETRIES; tries++) {
		err = heap_once(gp, class_size, nclass, ret);
		if (err != -EAGAIN)
			return err;
	}
	return gp_set_reason(gp, -EAGAIN, "heap counters contradicted themselves %d times in a row",
			     HEAP_RETRIES);
}
