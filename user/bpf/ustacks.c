// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/ustacks.h"
#include "common/array.h"

struct slot {
	uint64_t *ips;		/* NULL: free slot */
	uint32_t n;
	uint32_t refs;
	uint32_t next_free;
	uint32_t owner;		/* the process that brought the stack in: its quota */
};

/* Stacks a process brought in and still held (the per-process quota). */
struct owned {
	uint32_t tgid;
	uint32_t n;
};

struct binding {
	int32_t sid;
	uint32_t tgid, gen;
	uint32_t slot;
	uint64_t bound_ns;
};

struct retired {
	struct ms_agg_key k;	/* stack_id: MS_USTACK_ID_BASE + slot */
	struct ms_agg_val v;
};

struct ustacks {
	struct slot *slots;
	uint32_t nslots, max_stacks, free_head, nstacks;
	void *by_frames;	/* tsearch tree of slot indices (as uintptr_t + 1) */
	void *bindings;		/* of struct binding *, by sid */
	uint32_t nbindings, max_samples;
	void *retired;		/* of struct retired *, by key */
	uint32_t nretired;
	uint64_t stacks_full, bindings_full;
	uint32_t per_pid;	/* stacks one process may bring in; 0: no quota */
	void *owned;		/* of struct owned *, by tgid */
	uint64_t quota_full;
	/* the frames being looked up: by_frames compares against these */
	const uint64_t *probe_ips;
	uint32_t probe_n;
};

#define NO_SLOT UINT32_MAX

/* tsearch has no context argument: the tree's comparator reads the table from here. */
static __thread const struct ustacks *cmp_us;

static const uint64_t *slot_ips(const struct ustacks *us, uintptr_t key, uint32_t *n)
{
	if (key == 0) {
		*n = us->probe_n;
		return us->probe_ips;
	}
	*n = us->slots[key - 1].n;
	return us->slots[key - 1].ips;
}

static int cmp_frames(const void *a, const void *b)
{
	uint32_t na, nb;
	const uint64_t *ia = slot_ips(cmp_us, (uintptr_t)a, &na);
	const uint64_t *ib = slot_ips(cmp_us, (uintptr_t)b, &nb);

	if (na != nb)
		return na < nb ? -1 : 1;
	for (uint32_t i = 0; i < na; i++)
		if (ia[i] != ib[i])
			return ia[i] < ib[i] ? -1 : 1;
	return 0;
}

static int cmp_binding(const void *a, const void *b)
{
	const struct binding *x = a, *y = b;

	return x->sid < y->sid ? -1 : x->sid > y->sid;
}

int ms_agg_key__cmp(const struct ms_agg_key *x, const struct ms_agg_key *y)
{
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->gen != y->gen)
		return x->gen < y->gen ? -1 : 1;
	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->period < y->period ? -1 : x->period > y->period;
}

static int cmp_retired(const void *a, const void *b)
{
	return ms_agg_key__cmp(&((const struct retired *)a)->k, &((const struct retired *)b)->k);
}

struct ustacks *ustacks__new(uint32_t max_stacks, uint32_t max_samples)
{
	struct ustacks *us = calloc(1, sizeof(*us));

	if (!us)
		return NULL;
	us->max_stacks = max_stacks ?: USTACKS_DEF_STACKS;
	us->max_samples = max_samples ?: USTACKS_DEF_SAMPLES;
	/* ids must stay below the sample-id range */
	if (us->max_stacks > MS_SAMPLE_SID_BASE - MS_USTACK_ID_BASE)
		us->max_stacks = MS_SAMPLE_SID_BASE - MS_USTACK_ID_BASE;
	us->free_head = NO_SLOT;
	return us;
}

void ustacks__set_quota(struct ustacks *us, uint32_t per_pid)
{
	us->per_pid = per_pid;
}

static int cmp_owned(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;

	return x->tgid < y->tgid ? -1 : x->tgid > y->tgid;
}

/* The count of stacks process tgid brought in; created when make, else NULL if none. */
static struct owned *owned_of(struct ustacks *us, uint32_t tgid, bool make)
{
	struct owned key = { .tgid = tgid }, *o, **p = tfind(&key, &us->owned, cmp_owned);

	if (p || !make)
		return p ? *p : NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->tgid = tgid;
	p = tsearch(o, &us->owned, cmp_owned);
	if (!p || *p != o) {
		free(o);
		return NULL;
	}
	return o;
}

static void noop_free(void *p)
{
}

void ustacks__free(struct ustacks *us)
{
	if (!us)
		return;
	tdestroy(us->by_frames, noop_free);
	tdestroy(us->bindings, free);
	tdestroy(us->retired, free);
	tdestroy(us->owned, free);
	for (uint32_t i = 0; i < us->nslots; i++)
		free(us->slots[i].ips);
	free(us->slots);
	free(us);
}

/*
 * The slot holding these frames, with a reference taken; NO_SLOT when full,
 * or when process tgid has brought in its quota of stacks already.
 */
static uint32_t intern(struct ustacks *us, uint32_t tgid, const uint64_t *ips, uint32_t n)
{
	uintptr_t *found;
	uint32_t idx;
	struct slot *s;
	struct owned *o;

	if (n > USTACKS_MAX_FRAMES)
		n = USTACKS_MAX_FRAMES;
	cmp_us = us;
	us->probe_ips = ips;
	us->probe_n = n;
	found = tfind((void *)0, &us->by_frames, cmp_frames);
	if (found) {
		idx = (uint32_t)(*found - 1);
		us->slots[idx].refs++;
		return idx;
	}
	if (us->nstacks >= us->max_stacks) {
		us->stacks_full++;
		return NO_SLOT;
	}
	o = owned_of(us, tgid, true);
	if (!o)
		return NO_SLOT;
	if (us->per_pid && o->n >= us->per_pid) {
		us->quota_full++;
		return NO_SLOT;
	}
	if (us->free_head != NO_SLOT) {
		idx = us->free_head;
		us->free_head = us->slots[idx].next_free;
	} else {
		if (us->nslots % 1024 == 0) {
			struct slot *v = realloc(us->slots, (us->nslots + 1024) * sizeof(*v));

			if (!v)
				return NO_SLOT;
			us->slots = v;
		}
		idx = us->nslots++;
	}
	s = &us->slots[idx];
	s->ips = malloc((n ? n : 1) * sizeof(*ips));
	if (!s->ips)
		goto undo;
	memcpy(s->ips, ips, n * sizeof(*ips));
	s->n = n;
	s->refs = 1;
	s->owner = tgid;
	if (!tsearch((void *)(uintptr_t)(idx + 1), &us->by_frames, cmp_frames)) {
		free(s->ips);
		goto undo;
	}
	us->nstacks++;
	o->n++;
	return idx;
undo:
	s->ips = NULL;
	s->next_free = us->free_head;
	us->free_head = idx;
	return NO_SLOT;
}

static void unref(struct ustacks *us, uint32_t idx)
{
	struct slot *s = &us->slots[idx];
	struct owned *o;

	if (--s->refs)
		return;
	o = owned_of(us, s->owner, false);
	if (o && o->n && --o->n == 0) {
		tdelete(o, &us->owned, cmp_owned);
		free(o);
	}
	cmp_us = us;
	tdelete((void *)(uintptr_t)(idx + 1), &us->by_frames, cmp_frames);
	free(s->ips);
	s->ips = NULL;
	s->n = 0;
	s->next_free = us->free_head;
	us->free_head = idx;
	us->nstacks--;
}

static struct binding *find_binding(const struct ustacks *us, int32_t sid)
{
	struct binding key = { .sid = sid }, **b = tfind(&key, &us->bindings, cmp_binding);

	return b ? *b : NULL;
}

int ustacks__bind(struct ustacks *us, uint32_t tgid, uint32_t gen, int32_t sid,
		  const uint64_t *ips, uint32_t n, uint64_t now_ns)
{
	struct binding *b, **slotp;
	uint32_t idx;

	if (!us || sid < MS_SAMPLE_SID_BASE || (!ips && n))
		return -EINVAL;
	b = find_binding(us, sid);
	if (!b && us->nbindings >= us->max_samples) {
		us->bindings_full++;
		return -ENOSPC;
	}
	idx = intern(us, tgid, ips, n);
	if (idx == NO_SLOT)
		return -ENOSPC;
	if (b) {
		/* a sample id reused (BPF's counter wrapped): the new one stands */
		unref(us, b->slot);
	} else {
		b = calloc(1, sizeof(*b));
		if (!b) {
			unref(us, idx);
			return -ENOMEM;
		}
		b->sid = sid;
		slotp = tsearch(b, &us->bindings, cmp_binding);
		if (!slotp || *slotp != b) {
			free(b);
			unref(us, idx);
			return -ENOMEM;
		}
		us->nbindings++;
	}
	b->tgid = tgid;
	b->gen = gen;
	b->slot = idx;
	b->bound_ns = now_ns;
	return 0;
}

int ustacks__resolve(const struct ustacks *us, int32_t sid, int32_t *ret_id,
		     uint64_t *ret_bound_ns)
{
	const struct binding *b = us ? find_binding(us, sid) : NULL;

	if (!b)
		return -ENOENT;
	*ret_id = MS_USTACK_ID_BASE + (int32_t)b->slot;
	if (ret_bound_ns)
		*ret_bound_ns = b->bound_ns;
	return 0;
}

static void drop_binding(struct ustacks *us, struct binding *b)
{
	tdelete(b, &us->bindings, cmp_binding);
	us->nbindings--;
	unref(us, b->slot);
	free(b);
}

void ustacks__unbind(struct ustacks *us, int32_t sid)
{
	struct binding *b = us ? find_binding(us, sid) : NULL;

	if (b)
		drop_binding(us, b);
}

int ustacks__frames(const struct ustacks *us, int32_t id, const uint64_t **ret_ips,
		    uint32_t *ret_n)
{
	uint32_t idx;

	if (!us || id < MS_USTACK_ID_BASE)
		return -ENOENT;
	idx = (uint32_t)(id - MS_USTACK_ID_BASE);
	if (idx >= us->nslots || !us->slots[idx].ips)
		return -ENOENT;
	*ret_ips = us->slots[idx].ips;
	*ret_n = us->slots[idx].n;
	return 0;
}

int ustacks__retire(struct ustacks *us, int32_t sid, uint32_t kind, uint64_t period,
		    const struct ms_agg_val *v)
{
	struct binding *b = us ? find_binding(us, sid) : NULL;
	struct retired key = {}, **found, *r;

	if (!b)
		return -ENOENT;
	key.k = (struct ms_agg_key){ .tgid = b->tgid, .gen = b->gen, .kind = kind,
				     .stack_id = MS_USTACK_ID_BASE + (int32_t)b->slot,
				     .period = period };
	found = tfind(&key, &us->retired, cmp_retired);
	if (found) {
		r = *found;
	} else {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		r->k = key.k;
		found = tsearch(r, &us->retired, cmp_retired);
		if (!found || *found != r) {
			free(r);
			return -ENOMEM;
		}
		/* the retired total holds the stack now, as the binding did */
		us->slots[b->slot].refs++;
		us->nretired++;
	}
	ms_agg_val__add(&r->v, v);
	drop_binding(us, b);
	return 0;
}

/* twalk_r visits every node once in its leaf or postorder visit. */
static bool visit_once(VISIT which)
{
	return which == postorder || which == leaf;
}

struct retired_walk {
	uint32_t tgid;
	void (*fn)(const struct ms_agg_key *k, const struct ms_agg_val *v, void *ctx);
	void *ctx;
};

static void walk_retired(const void *node, VISIT which, void *arg)
{
	const struct retired *r = *(const struct retired *const *)node;
	struct retired_walk *w = arg;

	if (visit_once(which) && (!w->tgid || r->k.tgid == w->tgid))
		w->fn(&r->k, &r->v, w->ctx);
}

void ustacks__for_each_retired(const struct ustacks *us, uint32_t tgid,
			       void (*fn)(const struct ms_agg_key *k, const struct ms_agg_val *v,
					  void *ctx),
			       void *ctx)
{
	struct retired_walk w = { .tgid = tgid, .fn = fn, .ctx = ctx };

	if (us && us->retired)
		twalk_r(us->retired, walk_retired, &w);
}

struct doomed {
	void **v;
	size_t n, cap;
	uint32_t tgid, keep_gen;
	bool all;
	bool bindings;
};

static void collect_doomed(const void *node, VISIT which, void *arg)
{
	struct doomed *d = arg;
	void *p = *(void *const *)node;
	uint32_t tgid, gen;

	if (!visit_once(which))
		return;
	if (d->bindings) {
		tgid = ((struct binding *)p)->tgid;
		gen = ((struct binding *)p)->gen;
	} else {
		tgid = ((struct retired *)p)->k.tgid;
		gen = ((struct retired *)p)->k.gen;
	}
	if (tgid != d->tgid || (!d->all && gen == d->keep_gen))
		return;
	if (ms_array_grow(d->v, &d->cap, d->n, 64))
		return;	/* what is not collected now goes at the next forget */
	d->v[d->n++] = p;
}

void ustacks__forget(struct ustacks *us, uint32_t tgid, bool all, uint32_t keep_gen)
{
	struct doomed d = { .tgid = tgid, .all = all, .keep_gen = keep_gen, .bindings = true };

	if (!us)
		return;
	if (us->bindings)
		twalk_r(us->bindings, collect_doomed, &d);
	for (size_t i = 0; i < d.n; i++)
		drop_binding(us, d.v[i]);
	d.n = 0;
	d.bindings = false;
	if (us->retired)
		twalk_r(us->retired, collect_doomed, &d);
	for (size_t i = 0; i < d.n; i++) {
		struct retired *r = d.v[i];

		tdelete(r, &us->retired, cmp_retired);
		us->nretired--;
		unref(us, (uint32_t)(r->k.stack_id - MS_USTACK_ID_BASE));
		free(r);
	}
	free(d.v);
}

void ustacks__stats(const struct ustacks *us, struct ustacks_stats *ret)
{
	*ret = (struct ustacks_stats){
		.stacks = us->nstacks,
		.bindings = us->nbindings,
		.retired = us->nretired,
		.stacks_full = us->stacks_full,
		.bindings_full = us->bindings_full,
		.quota_full = us->quota_full,
	};
}
