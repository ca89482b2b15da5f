// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * goproc_profile.c - the runtime's heap profile (runtime.mbuckets) as
 * MemProfile() reports it, and runtime.MemProfileRate, its sampling rate.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "target/goproc.h"
#include "target/goproc_int.h"
#include "common/unsample.h"

#define BUCKETS_HARD_MAX (1u << 24)	/* whatever opts.max_buckets says */
#define MEM_PROFILE	1		/* bucketType memProfile */
#define BUCKET_HDR_MAX	256		/* sizeof(runtime.bucket) is 48 in 1.19 */
#define MEMREC_MAX	1024		/* sizeof(runtime.memRecord) is 128 */
#define FUTURE_MAX	8		/* len(memRecord.future) is 3 */
#define PROF_RETRIES	3
#define WIN_STACK	32		/* PCs read with the header: most stacks are shorter */

/* ---- heap profile ---- */

/* Where a bucket's parts lie, checked once per query. */
struct prof_layout {
	uint32_t hdr;		/* sizeof(runtime.bucket): the PCs start here */
	uint32_t mr_len;	/* bytes of memRecord read after the PCs */
	uint32_t nfuture;	/* len(memRecord.future) */
	uint32_t max_stack;	/* PCs a bucket may hold in this release */
	uint32_t win;		/* hdr + WIN_STACK PCs + mr_len: one read for most buckets */
	uint32_t buf_len;	/* hdr + max_stack PCs + mr_len: the deepest bucket */
};

/* One memRecordCycle. */
struct mcyc {
	uint64_t allocs, frees, alloc_bytes, free_bytes;
};

/* A bucket as read, before the MemProfile rules pick its counts. */
struct praw {
	uint64_t addr, size;
	uint32_t nstk;
	size_t pc0;		/* its first PC in pwalk.pcs */
	struct mcyc pub;	/* active + the cycle being published */
	struct mcyc all;	/* active + every future cycle */
};

struct pwalk {
	struct praw *v;
	size_t n, cap;
	uint64_t *pcs;
	size_t npcs, pcs_cap;
	uint64_t walked;
	bool truncated, looped;
	int stop_err;
};

static int prof_layout(struct goproc *gp, struct prof_layout *ret)
{
	static const enum gp_field_id bk[] = { F_BK_ALLNEXT, F_BK_TYP, F_BK_SIZE, F_BK_NSTK };
	static const enum gp_field_id mrc[] = { F_MRC_ALLOCS, F_MRC_FREES, F_MRC_ALLOC_BYTES,
						F_MRC_FREE_BYTES };
	const struct gp_field *act = &gp->f[F_MR_ACTIVE], *fut = &gp->f[F_MR_FUTURE];
	uint32_t hdr = gp->f[F_BK_HDR].size, act_end, fut_end;
	size_t i;

	if (hdr > BUCKET_HDR_MAX || hdr % 8 || gp->f[F_BK_ALLNEXT].size != 8)
		goto bad;
	for (i = 0; i < sizeof(bk) / sizeof(bk[0]); i++)
		if (gp->f[bk[i]].off + gp->f[bk[i]].size > hdr)
			goto bad;
	/* a cycle's counters must lie inside active and inside each future element */
	for (i = 0; i < sizeof(mrc) / sizeof(mrc[0]); i++) {
		uint32_t end = gp->f[mrc[i]].off + gp->f[mrc[i]].size;

		if (end > act->size || end > fut->size)
			goto bad;
	}
	if (fut->count > FUTURE_MAX || fut->size > fut->stride || act->size > MEMREC_MAX ||
	    fut->stride > MEMREC_MAX)
		goto bad;
	act_end = act->off + act->size;
	fut_end = fut->off + fut->count * fut->stride;
	ret->mr_len = act_end > fut_end ? act_end : fut_end;
	if (ret->mr_len > MEMREC_MAX)
		goto bad;
	ret->hdr = hdr;
	ret->nfuture = fut->count;
	ret->max_stack = gp->prof_max_stack;
	ret->win = hdr + (ret->max_stack < WIN_STACK ? ret->max_stack : WIN_STACK) * 8 +
		   ret->mr_len;
	ret->buf_len = hdr + ret->max_stack * 8 + ret->mr_len;
	return 0;
bad:
	return gp_set_reason(gp, -ENOTSUP,
			     "%s layout of runtime.bucket/memRecord is not one we read",
			     gp->layout == GOPROC_LAYOUT_DWARF ? "DWARF" : "built-in");
}

/* runtime.MemProfileRate; -ENODATA with the reason when profiling is off. */
static int prof_rate(struct goproc *gp, int64_t *ret)
{
	const struct gp_symbol *s = &gp->sym[S_MEMPROFILERATE];
	uint8_t b[8];
	int64_t rate;
	int err;

	if (s->size != 4 && s->size != 8)
		return gp_set_reason(gp, -ENOTSUP, "runtime.MemProfileRate is %llu bytes",
				     (unsigned long long)s->size);
	err = gp_mem_read(gp, sym_addr(gp, S_MEMPROFILERATE), b, s->size);
	if (err)
		return gp_set_reason(gp, err, "cannot read runtime.MemProfileRate: %s",
				     strerror(-err));
	rate = get_int(b, (uint32_t)s->size);
	*ret = rate;
	if (rate > 0)
		return 0;
	/* the linker sets this when nothing can call runtime.MemProfile */
	if (gp->sym[S_DISABLEMEMPROF].ok && gp->sym[S_DISABLEMEMPROF].size == 1 &&
	    !gp_mem_read(gp, sym_addr(gp, S_DISABLEMEMPROF), b, 1) && b[0])
		return gp_set_reason(gp, -ENODATA, "memory profiling is off: the linker disabled "
				     "it (runtime.disableMemoryProfiling: nothing in the program "
				     "can call runtime.MemProfile)");
	return gp_set_reason(gp, -ENODATA,
			     "memory profiling is off: runtime.MemProfileRate is %lld",
			     (long long)rate);
}

int goproc__mem_profile_rate(struct goproc *gp, int64_t *ret)
{
	int err = goproc__status(gp);

	*ret = 0;
	if (err)
		return err;
	if (!gp->sym[S_MEMPROFILERATE].ok)
		return gp_set_reason(gp, -ENOENT, "runtime.MemProfileRate not found (no symbols)");
	return prof_rate(gp, ret);
}

int goproc__set_mem_profile_rate(struct goproc *gp, int64_t rate)
{
	const struct gp_symbol *s = &gp->sym[S_MEMPROFILERATE];
	struct iovec l, r;
	uint8_t b[8];
	int err = goproc__status(gp);

	if (err)
		return err;
	if (!s->ok || (s->size != 4 && s->size != 8))
		return gp_set_reason(gp, -ENOENT, "runtime.MemProfileRate not found (no symbols)");
	if (rate < 0)
		return -EINVAL;
	/* little-endian, as every target we read (amd64) */
	for (unsigned int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)rate >> (8 * i));
	l.iov_base = b;
	l.iov_len = s->size;
	r.iov_base = (void *)(uintptr_t)sym_addr(gp, S_MEMPROFILERATE);
	r.iov_len = s->size;
	if (process_vm_writev(gp->pid, &l, 1, &r, 1, 0) != (ssize_t)s->size)
		return gp_set_reason(gp, -errno, "cannot write runtime.MemProfileRate: %s",
				     strerror(errno));
	return 0;
}

/*
 * The heap profile cycle counter: 1.19+ keeps it shifted left by one in
 * mProfCycle (bit 0 says it was flushed), older releases in mProf.cycle.
 * raw is the word as read, to notice a GC that publishes during a walk.
 */
static bool prof_cycle(struct goproc *gp, uint32_t *ret_cycle, uint32_t *ret_raw)
{
	enum gp_sym s = gp->sym[S_MPROFCYCLE].ok ? S_MPROFCYCLE : S_MPROF;
	uint8_t b[4];
	uint32_t v;

	if (!gp->sym[s].ok || gp->sym[s].size < 4 || gp_mem_read(gp, sym_addr(gp, s), b, 4))
		return false;
	v = (uint32_t)get_uint(b, 4);
	*ret_raw = v;
	*ret_cycle = s == S_MPROFCYCLE ? v >> 1 : v;
	return true;
}

/* 1.27+ keeps no byte counts: every object of a bucket has the bucket's size. */
static void mcyc_get(const struct goproc *gp, const uint8_t *p, size_t len, uint64_t obj_size,
		     struct mcyc *ret)
{
	ret->allocs = fld_u(gp, F_MRC_ALLOCS, p, len);
	ret->frees = fld_u(gp, F_MRC_FREES, p, len);
	ret->alloc_bytes = gp->f[F_MRC_ALLOC_BYTES].ok ? fld_u(gp, F_MRC_ALLOC_BYTES, p, len) :
			   ret->allocs * obj_size;
	ret->free_bytes = gp->f[F_MRC_FREE_BYTES].ok ? fld_u(gp, F_MRC_FREE_BYTES, p, len) :
			  ret->frees * obj_size;
}

static void mcyc_add(struct mcyc *a, const struct mcyc *b)
{
	a->allocs += b->allocs;
	a->frees += b->frees;
	a->alloc_bytes += b->alloc_bytes;
	a->free_bytes += b->free_bytes;
}

/*
 * Read the bucket at addr into buf (lay->buf_len bytes). One read covers
 * the header, WIN_STACK PCs and a memRecord: all of most buckets. A deeper
 * stack, or a bucket near the end of its mapping (that read faults), gets
 * a second read of exactly what its nstk says. -EINVAL: nstk is more than
 * this release ever records.
 */
static int bucket_read(struct goproc *gp, const struct prof_layout *lay, uint64_t addr,
		       uint8_t *buf, uint32_t *ret_nstk)
{
	bool whole;
	uint64_t nstk;
	int err;

	err = gp_mem_read(gp, addr, buf, lay->win);
	if (err && err != -EFAULT)
		return err;
	whole = !err;
	if (!whole) {
		err = gp_mem_read(gp, addr, buf, lay->hdr);
		if (err)
			return err;
	}
	nstk = fld_u(gp, F_BK_NSTK, buf, lay->hdr);
	if (nstk > lay->max_stack)
		return -EINVAL;
	if (lay->hdr + nstk * 8 + lay->mr_len > lay->win)
		whole = false;
	if (!whole) {
		err = gp_mem_read(gp, addr + lay->hdr, buf + lay->hdr, nstk * 8 + lay->mr_len);
		if (err)
			return err;
	}
	*ret_nstk = (uint32_t)nstk;
	return 0;
}

static int pwalk_push(struct pwalk *w, uint64_t max, uint32_t max_stack)
{
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 256;
		struct praw *nv;

		if (ncap > max)
			ncap = max;
		nv = realloc(w->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		w->v = nv;
		w->cap = ncap;
	}
	if (w->pcs_cap - w->npcs < max_stack) {
		size_t ncap = w->pcs_cap ? w->pcs_cap * 2 : 4096;

		while (ncap - w->npcs < max_stack)
			ncap *= 2;
		uint64_t *np = realloc(w->pcs, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		w->pcs = np;
		w->pcs_cap = ncap;
	}
	return 0;
}

static void pwalk_free(struct pwalk *w)
{
	free(w->v);
	free(w->pcs);
	memset(w, 0, sizeof(*w));
}

/*
 * The list came back to a bucket: with Brent's cycle length lam, the first
 * repeated position mu is the least j with x[j] == x[j + lam] (the current
 * bucket, not stored, is x[n]). Keep x[0 .. mu + lam): each bucket once.
 */
static void pwalk_cut_loop(struct pwalk *w, uint64_t cur, size_t lam)
{
	size_t j;

	for (j = 0; j + lam <= w->n; j++) {
		uint64_t later = j + lam < w->n ? w->v[j + lam].addr : cur;

		if (w->v[j].addr == later)
			break;
	}
	if (j + lam < w->n) {
		w->n = j + lam;
		w->npcs = w->v[w->n].pc0;
	}
	w->looped = true;
}

/*
 * Walk runtime.mbuckets. The runtime only ever prepends and never changes a
 * bucket's header or stack once linked, so the list we start from stays
 * valid; only the counts move. A loop (impossible in a sane runtime) is
 * found with Brent's algorithm in O(1) memory.
 */
static int prof_walk(struct goproc *gp, const struct prof_layout *lay, uint64_t max,
		     bool have_cycle, uint32_t cycle, struct pwalk *w)
{
	uint8_t *buf, hb[8];
	uint64_t b, tortoise;
	size_t power = 1, lam = 1;
	int err;

	err = gp_mem_read(gp, sym_addr(gp, S_MBUCKETS), hb, 8);
	if (err)
		return gp_set_reason(gp, err, "cannot read runtime.mbuckets: %s", strerror(-err));
	buf = malloc(lay->buf_len);
	if (!buf)
		return -ENOMEM;
	b = tortoise = get_uint(hb, 8);
	while (b) {
		const uint8_t *mr;
		struct mcyc c;
		struct praw *r;
		uint32_t nstk = 0, k;
		size_t hl = lay->hdr;

		if (w->n >= max) {
			w->truncated = true;
			break;
		}
		if (w->n) {
			if (b == tortoise) {
				pwalk_cut_loop(w, b, lam);
				break;
			}
			if (power == lam) {
				tortoise = b;
				power *= 2;
				lam = 0;
			}
			lam++;
		}
		if (b & 7) {
			w->stop_err = gp_set_reason(gp, -EINVAL, "heap profile bucket #%zu at "
						    "%#llx is misaligned", w->n,
						    (unsigned long long)b);
			break;
		}
		err = bucket_read(gp, lay, b, buf, &nstk);
		if (err == -EFAULT || err == -EINVAL) {
			if (err == -EFAULT)
				w->stop_err = gp_set_reason(gp, err, "heap profile bucket #%zu at "
							    "%#llx does not read", w->n,
							    (unsigned long long)b);
			else
				w->stop_err = gp_set_reason(gp, err, "heap profile bucket #%zu at "
							    "%#llx has more than %u PCs", w->n,
							    (unsigned long long)b, lay->max_stack);
			break;
		}
		if (err) {
			err = gp_set_reason(gp, err, "cannot read the heap profile: %s",
					    strerror(-err));
			goto out;
		}
		w->walked++;
		if (fld_u(gp, F_BK_TYP, buf, hl) != MEM_PROFILE) {
			w->stop_err = gp_set_reason(gp, -EINVAL, "heap profile bucket #%zu at "
						    "%#llx has type %llu, not memProfile", w->n,
						    (unsigned long long)b,
						    (unsigned long long)fld_u(gp, F_BK_TYP, buf,
									      hl));
			break;
		}
		err = pwalk_push(w, max, lay->max_stack);
		if (err)
			goto out;
		r = &w->v[w->n];
		memset(r, 0, sizeof(*r));
		r->addr = b;
		r->size = fld_u(gp, F_BK_SIZE, buf, hl);
		r->nstk = nstk;
		r->pc0 = w->npcs;
		for (k = 0; k < nstk; k++)
			w->pcs[w->npcs++] = get_uint(buf + hl + k * 8, 8);
		mr = buf + hl + nstk * 8;
		mcyc_get(gp, mr + gp->f[F_MR_ACTIVE].off, gp->f[F_MR_ACTIVE].size, r->size,
			 &r->pub);
		r->all = r->pub;
		for (k = 0; k < lay->nfuture; k++) {
			mcyc_get(gp, mr + gp->f[F_MR_FUTURE].off + k * gp->f[F_MR_FUTURE].stride,
				 gp->f[F_MR_FUTURE].size, r->size, &c);
			mcyc_add(&r->all, &c);
			/*
			 * MemProfile first flushes the cycle it reads into active: a
			 * no-op once the GC did so itself, the newest data while a
			 * GC is between mark termination and its own flush.
			 */
			if (have_cycle && k == cycle % lay->nfuture)
				mcyc_add(&r->pub, &c);
		}
		w->n++;
		b = fld_u(gp, F_BK_ALLNEXT, buf, hl);
	}
	err = 0;
out:
	free(buf);
	return err;
}

/* a negative count (frees read ahead of their allocations) holds nothing */
static void unsample_pair(int64_t count, int64_t size, int64_t rate, int64_t *ret_count,
			  int64_t *ret_size)
{
	uint64_t c, b;

	ms_unsample(count > 0 ? (uint64_t)count : 0, size > 0 ? (uint64_t)size : 0,
		    rate > 0 ? (uint64_t)rate : 0, &c, &b);
	*ret_count = c > INT64_MAX ? INT64_MAX : (int64_t)c;
	*ret_size = b > INT64_MAX ? INT64_MAX : (int64_t)b;
}

void goproc__heap_unsample(const struct goproc_heap_counts *s, int64_t rate,
			   struct goproc_heap_counts *ret)
{
	struct goproc_heap_counts in = *s;

	unsample_pair(in.alloc_objects, in.alloc_bytes, rate, &ret->alloc_objects,
		      &ret->alloc_bytes);
	unsample_pair(in.inuse_objects, in.inuse_bytes, rate, &ret->inuse_objects,
		      &ret->inuse_bytes);
}

static void counts_add(struct goproc_heap_counts *a, const struct goproc_heap_counts *b)
{
	a->alloc_objects += b->alloc_objects;
	a->alloc_bytes += b->alloc_bytes;
	a->inuse_objects += b->inuse_objects;
	a->inuse_bytes += b->inuse_bytes;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int bucket_cmp(const void *a, const void *b)
{
	const struct goproc_heap_bucket *x = a, *y = b;

	if (x->sampled.inuse_bytes != y->sampled.inuse_bytes)
		return x->sampled.inuse_bytes < y->sampled.inuse_bytes ? 1 : -1;
	if (x->sampled.alloc_bytes != y->sampled.alloc_bytes)
		return x->sampled.alloc_bytes < y->sampled.alloc_bytes ? 1 : -1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Name every distinct PC once (stacks share most of theirs), then each
 * frame by binary search. Like runtime.CallersFrames, the call is looked up
 * at pc - 1: every PC of a heap profile stack is a return address, the
 * leaf's too (it returns from the runtime's allocation entry point). The
 * runtime records one PC per inlined call (its call site + 1 for the outer
 * ones), so each PC is one frame: the innermost function there.
 */
static int frames_fill(struct goproc *gp, struct goproc_frame *fr, size_t n)
{
	struct goproc_frame *info = NULL;
	uint64_t *u;
	size_t i, nu = 0;

	u = malloc((n ? n : 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		u[i] = fr[i].pc;
	qsort(u, n, sizeof(*u), u64_cmp);
	for (i = 0; i < n; i++)
		if (!nu || u[nu - 1] != u[i])
			u[nu++] = u[i];
	info = calloc(nu ? nu : 1, sizeof(*info));
	if (!info) {
		free(u);
		return -ENOMEM;
	}
	for (i = 0; i < nu; i++) {
		/* the innermost frame and the real function: max 2 keeps both */
		struct go_frame gf[2];
		size_t ng = 0;

		if (u[i] <= gp->bias ||
		    go_binary__lookup_frames(gp->bin, u[i] - 1 - gp->bias, gf, 2, &ng, NULL))
			continue;
		info[i].func = gf[0].name;
		info[i].file = gf[0].file;
		info[i].line = gf[0].line;
		info[i].inlined = gf[0].inlined;
	}
	for (i = 0; i < n; i++) {
		const uint64_t *hit = bsearch(&fr[i].pc, u, nu, sizeof(*u), u64_cmp);
		const struct goproc_frame *fi = &info[hit - u];

		fr[i].func = fi->func;
		fr[i].file = fi->file;
		fr[i].line = fi->line;
		fr[i].inlined = fi->inlined;
	}
	free(u);
	free(info);
	return 0;
}

/* A function runtime/pprof hides at the top of a heap profile stack. */
static bool func_is_runtime(const char *name)
{
	return name && (!strncmp(name, "runtime.", 8) || !strncmp(name, "internal/runtime/", 17));
}

/*
 * runtime/pprof's writeHeapProto shows a heap stack from its first frame
 * outside the runtime (1.26 records mallocgc's size-class helpers above
 * the caller), or whole if every frame is the runtime's.
 */
static void frames_hide_runtime(struct goproc_heap_bucket *b)
{
	uint32_t k = 0;

	while (k < b->nr_frames && func_is_runtime(b->frames[k].func))
		k++;
	if (k == b->nr_frames)
		return;
	b->frames += k;
	b->nr_frames -= k;
}

/* MemProfile's rules on the raw buckets, into the public profile. */
static int prof_export(struct goproc *gp, const struct pwalk *w, bool inuse_only,
		       struct goproc_heap_profile *ret)
{
	struct goproc_heap_bucket *v;
	struct goproc_frame *fr;
	size_t i, nb = 0, nf = 0, k;
	bool clear = true;

	/* no published counts at all: no GC yet; MemProfile then sums every cycle */
	for (i = 0; i < w->n; i++)
		if (w->v[i].pub.allocs || w->v[i].pub.frees)
			clear = false;
	ret->unpublished = clear && w->n;
	for (i = 0; i < w->n; i++)
		nf += w->v[i].nstk;
	v = calloc(w->n ? w->n : 1, sizeof(*v));
	fr = calloc(nf ? nf : 1, sizeof(*fr));
	if (!v || !fr) {
		free(v);
		free(fr);
		return -ENOMEM;
	}
	nf = 0;
	for (i = 0; i < w->n; i++) {
		const struct praw *r = &w->v[i];
		const struct mcyc *c = clear ? &r->all : &r->pub;
		struct goproc_heap_bucket *o = &v[nb];

		if (inuse_only && c->alloc_bytes == c->free_bytes) {
			ret->skipped_zero++;
			continue;
		}
		o->addr = r->addr;
		o->size = r->size;
		/* the runtime's uintptr counters, as MemProfileRecord's int64s */
		o->sampled.alloc_objects = (int64_t)c->allocs;
		o->sampled.alloc_bytes = (int64_t)c->alloc_bytes;
		o->sampled.inuse_objects = (int64_t)(c->allocs - c->frees);
		o->sampled.inuse_bytes = (int64_t)(c->alloc_bytes - c->free_bytes);
		o->nr_frames = r->nstk;
		o->frames = fr + nf;
		for (k = 0; k < r->nstk; k++)
			fr[nf + k].pc = w->pcs[r->pc0 + k];
		nf += r->nstk;
		nb++;
	}
	ret->buckets = v;
	ret->nr_buckets = nb;
	ret->frames = fr;
	ret->nr_frames = nf;
	if (frames_fill(gp, fr, nf))
		return -ENOMEM;
	for (i = 0; i < nb; i++) {
		struct goproc_heap_counts u;

		frames_hide_runtime(&v[i]);
		goproc__heap_unsample(&v[i].sampled, ret->rate, &u);
		counts_add(&ret->total_sampled, &v[i].sampled);
		counts_add(&ret->total_unsampled, &u);
	}
	qsort(v, nb, sizeof(*v), bucket_cmp);
	return 0;
}

int goproc__heap_profile(struct goproc *gp, const struct goproc_heap_profile_opts *o,
			 struct goproc_heap_profile *ret)
{
	uint64_t max = o && o->max_buckets ? o->max_buckets : GOPROC_MAX_BUCKETS;
	uint32_t cycle = 0, raw0 = 0, raw1 = 0, c1;
	struct prof_layout lay = { 0 };
	struct pwalk w = { 0 };
	bool have_cycle = false;
	int err, tries;

	memset(ret, 0, sizeof(*ret));
	err = gp_check_ready(gp, NEED_PROF);
	if (!err)
		err = prof_layout(gp, &lay);
	if (!err)
		err = prof_rate(gp, &ret->rate);
	if (err)
		return err;
	if (max > BUCKETS_HARD_MAX)
		max = BUCKETS_HARD_MAX;
	/*
	 * A GC that publishes a cycle while we walk moves counts between
	 * future and active under us: walk again, a few times.
	 */
	for (tries = 0; tries < PROF_RETRIES; tries++) {
		pwalk_free(&w);
		gp->reason[0] = '\0';
		have_cycle = prof_cycle(gp, &cycle, &raw0);
		err = prof_walk(gp, &lay, max, have_cycle, cycle, &w);
		if (err)
			goto out;
		if (!have_cycle || (prof_cycle(gp, &c1, &raw1) && raw1 == raw0))
			break;
	}
	ret->torn = tries == PROF_RETRIES;
	ret->walked = w.walked;
	ret->truncated = w.truncated;
	ret->looped = w.looped;
	ret->stop_err = w.stop_err;
	err = prof_export(gp, &w, o && o->inuse_only, ret);
out:
	pwalk_free(&w);
	if (err)
		goproc_heap_profile__free(ret);
	return err;
}

void goproc_heap_profile__free(struct goproc_heap_profile *p)
{
	if (!p)
		return;
	free(p->buckets);
	free(p->frames);
	p->buckets = NULL;
	p->frames = NULL;
	p->nr_buckets = 0;
	p->nr_frames = 0;
}
