// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memsight_abi.h"
#include "model/model.h"
#include "common/array.h"
#include "common/unsample.h"

static const char *const kind_names[MS_KIND__MAX] = {
	[MS_KIND_MALLOC] = "malloc",
	[MS_KIND_CALLOC] = "calloc",
	[MS_KIND_REALLOC] = "realloc",
	[MS_KIND_REALLOCARRAY] = "reallocarray",
	[MS_KIND_POSIX_MEMALIGN] = "posix_memalign",
	[MS_KIND_ALIGNED_ALLOC] = "aligned_alloc",
	[MS_KIND_MEMALIGN] = "memalign",
	[MS_KIND_VALLOC] = "valloc",
	[MS_KIND_PVALLOC] = "pvalloc",
	[MS_KIND_MMAP] = "mmap",
	[MS_KIND_GO] = "go",
	[MS_KIND_GO_INUSE] = "go-heap",
	[MS_KIND_FAULT] = "fault",
};

const char *ms_kind__name(uint32_t kind)
{
	if (kind >= MS_KIND__MAX || !kind_names[kind])
		return "unknown";
	return kind_names[kind];
}

struct ms_profile *ms_profile__new(pid_t pid)
{
	struct ms_profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	return p;
}

void ms_frame__clear(struct ms_frame *f)
{
	free(f->func);
	free(f->module);
	free(f->file);
	f->func = f->module = f->file = NULL;
}

static void stack_clear(struct ms_stack *s)
{
	for (uint32_t j = 0; j < s->nframes; j++)
		ms_frame__clear(&s->frames[j]);
	free(s->frames);
	free(s->more_ids);
}

size_t ms_profile__keep_stacks(struct ms_profile *p, const bool *keep)
{
	size_t n = 0, dropped = 0;

	for (size_t i = 0; i < p->nstacks; i++) {
		if (keep[i]) {
			p->stacks[n++] = p->stacks[i];
			continue;
		}
		stack_clear(&p->stacks[i]);
		dropped++;
	}
	p->nstacks = n;
	return dropped;
}

void ms_profile__free(struct ms_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstacks; i++)
		stack_clear(&p->stacks[i]);
	free(p->stacks);
	free(p->cgroup);
	free(p->exe);
	free(p->exec_unprobed);
	free(p->unwind_reason);
	for (size_t i = 0; i < p->go.ngroups; i++) {
		free(p->go.groups[i].func);
		free(p->go.groups[i].file);
		free(p->go.groups[i].start_func);
		free(p->go.groups[i].wait_reason);
	}
	free(p->go.runtime_reason);
	free(p->go.goroutines_reason);
	free(p->go.heap_reason);
	free(p->go.heap_profile_reason);
	free(p);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

struct ms_stack *ms_profile__add_stack(struct ms_profile *p, const struct ms_stack *tmpl,
				       const struct ms_frame *frames, uint32_t nframes)
{
	struct ms_stack *s;
	bool oom = false;

	if (ms_array_grow(p->stacks, &p->cap, p->nstacks, 64))
		return NULL;
	s = &p->stacks[p->nstacks];
	*s = *tmpl;
	s->nframes = 0;
	s->frames = NULL;
	s->more_ids = NULL;
	s->nmore_ids = 0;
	if (nframes) {
		s->frames = calloc(nframes, sizeof(*s->frames));
		if (!s->frames)
			return NULL;
		for (uint32_t i = 0; i < nframes; i++) {
			struct ms_frame *f = &s->frames[i];

			*f = frames[i];
			f->func = dup_or_null(frames[i].func, &oom);
			f->module = dup_or_null(frames[i].module, &oom);
			f->file = dup_or_null(frames[i].file, &oom);
		}
		s->nframes = nframes;
		if (oom) {
			for (uint32_t i = 0; i < nframes; i++)
				ms_frame__clear(&s->frames[i]);
			free(s->frames);
			errno = ENOMEM;
			return NULL;
		}
	}
	p->nstacks++;
	return s;
}

static int cmp_stack(const void *a, const void *b)
{
	const struct ms_stack *x = a, *y = b;

	if (x->inuse_bytes != y->inuse_bytes)
		return x->inuse_bytes > y->inuse_bytes ? -1 : 1;
	if (x->alloc_bytes != y->alloc_bytes)
		return x->alloc_bytes > y->alloc_bytes ? -1 : 1;
	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

void ms_figures__derive_inuse(uint32_t kind, struct ms_figures *f)
{
	/* frees are matched to allocations seen, so free <= alloc; clamp anyway */
	f->inuse_bytes = f->alloc_bytes > f->free_bytes ? f->alloc_bytes - f->free_bytes : 0;
	f->inuse_count = f->alloc_count > f->free_count ? f->alloc_count - f->free_count : 0;
	/* Go's GC frees without a call we could see: these are allocation
	 * profiles only, and what is in use is the runtime's to say */
	f->usable.inuse_bytes = f->usable.alloc_bytes > f->usable.free_bytes ?
				f->usable.alloc_bytes - f->usable.free_bytes : 0;
	if (!ms_kind__tracks_inuse(kind))
		f->inuse_bytes = f->inuse_count = f->usable.inuse_bytes = 0;
}

/* x * num / den, saturating; 0 when den is 0 */
static uint64_t scale(uint64_t x, uint64_t num, uint64_t den)
{
	unsigned __int128 r;

	if (!den)
		return 0;
	r = (unsigned __int128)x * num / den;
	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

bool ms_loss__lower_bound(const struct ms_loss *l)
{
	return l->stack_errors || l->stack_collisions || l->stack_table_full || l->stack_quota ||
	       l->live_full || l->agg_full || l->inflight_full || l->probes_at_risk;
}

bool ms_profile__lower_bound(const struct ms_profile *p)
{
	/* its own losses; or, once it is gone, those of all; and probes it may have lost */
	return (p->have_lost ? p->lost > 0 : ms_loss__lower_bound(&p->loss)) ||
	       p->loss.probes_at_risk;
}

void ms_figures__of_agg(uint32_t kind, const struct ms_agg_val *v, const struct ms_sampling *smp,
			struct ms_figures *ret)
{
	*ret = (struct ms_figures){
		.alloc_bytes = v->alloc_bytes,
		.alloc_count = v->alloc_count,
		.free_bytes = v->free_bytes,
		.free_count = v->free_count,
		.usable = {
			.alloc_bytes = v->alloc_usable,
			.free_bytes = v->free_usable,
			.missing = v->alloc_nousable,
		},
	};
	ms_figures__derive_inuse(kind, ret);
	if (ms_kind__tracks_inuse(kind) && smp->c_bytes) {
		/* sampled mode: estimate what the samples stand for, in use and in all */
		uint64_t ac, ab, ic, ib, ua, ui;

		ms_unsample(ret->alloc_count, ret->alloc_bytes, smp->c_bytes, &ac, &ab);
		ms_unsample(ret->inuse_count, ret->inuse_bytes, smp->c_bytes, &ic, &ib);
		/* the usable sizes stand for as much more as the bytes asked for */
		ua = scale(ret->usable.alloc_bytes, ab, ret->alloc_bytes);
		ui = scale(ret->usable.inuse_bytes, ib, ret->inuse_bytes);
		ret->usable.alloc_bytes = ua;
		ret->usable.free_bytes = ua > ui ? ua - ui : 0;
		ret->alloc_count = ac;
		ret->alloc_bytes = ab;
		ret->free_count = ac > ic ? ac - ic : 0;
		ret->free_bytes = ab > ib ? ab - ib : 0;
	} else if (kind == MS_KIND_GO) {
		/* raw samples: estimate what they stand for, as pprof does */
		ms_unsample(ret->alloc_count, ret->alloc_bytes, smp->go_bytes, &ret->alloc_count,
			    &ret->alloc_bytes);
	}
	ms_figures__derive_inuse(kind, ret);
}

void ms_figures__of_key(const struct ms_agg_key *k, const struct ms_agg_val *v,
			const struct ms_sampling *smp, struct ms_figures *ret)
{
	struct ms_sampling own = *smp;

	if (k->period)
		own.c_bytes = k->period;
	ms_figures__of_agg(k->kind, v, &own, ret);
}

void ms_figures__add(struct ms_figures *total, uint32_t kind, const struct ms_figures *f)
{
	total->inuse_bytes += f->inuse_bytes;
	total->inuse_count += f->inuse_count;
	total->usable.inuse_bytes += f->usable.inuse_bytes;
	/* figures of a kind without usable sizes leave the total's unknown */
	total->usable.missing += ms_kind__tracks_inuse(kind) ? f->usable.missing :
				 f->inuse_count + (ms_kind__is_allocation(kind) ? f->alloc_count : 0);
	if (!ms_kind__is_allocation(kind))
		return;
	total->alloc_bytes += f->alloc_bytes;
	total->alloc_count += f->alloc_count;
	total->free_bytes += f->free_bytes;
	total->free_count += f->free_count;
	total->usable.alloc_bytes += f->usable.alloc_bytes;
	total->usable.free_bytes += f->usable.free_bytes;
}

const char *ms_usable__unavailable(uint32_t kind, const struct ms_usable *u)
{
	if (kind == MS_KIND_GO || kind == MS_KIND_GO_INUSE)
		return "Go heap: the runtime's size classes are not read";
	if (!ms_kind__tracks_inuse(kind))
		return "not allocations";
	if (u->missing)
		return "usable size not read for some allocations (it is for glibc malloc's "
		       "and jemalloc's only, not Go's or other allocators')";
	return NULL;
}

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return !!a - !!b;
	return strcmp(a, b);
}

/* Frames as they are shown: a named function and its offset, or the module offset. */
static int cmp_frame(const struct ms_frame *a, const struct ms_frame *b)
{
	int c = cmp_str(a->module, b->module) ?: cmp_str(a->func, b->func) ?:
		cmp_str(a->file, b->file);
	uint64_t x = a->func ? a->func_off : a->addr - a->map_start + a->map_pgoff;
	uint64_t y = b->func ? b->func_off : b->addr - b->map_start + b->map_pgoff;

	if (c)
		return c;
	if (x != y)
		return x < y ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return (int)a->inlined - (int)b->inlined;
}

/* Order by kind, then by the frames as shown, then by id. */
static int cmp_shown(const void *pa, const void *pb)
{
	const struct ms_stack *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	for (uint32_t i = 0; i < a->nframes && i < b->nframes; i++) {
		int c = cmp_frame(&a->frames[i], &b->frames[i]);

		if (c)
			return c;
	}
	if (a->nframes != b->nframes)
		return a->nframes < b->nframes ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

static bool same_shown(const struct ms_stack *a, const struct ms_stack *b)
{
	if (a->kind != b->kind || a->nframes != b->nframes)
		return false;
	for (uint32_t i = 0; i < a->nframes; i++)
		if (cmp_frame(&a->frames[i], &b->frames[i]))
			return false;
	return true;
}

/* Fold stack b into a (same kind, same frames shown); b is emptied. */
static int fold_stack(struct ms_stack *a, struct ms_stack *b)
{
	int32_t *ids = realloc(a->more_ids, (a->nmore_ids + 1 + b->nmore_ids) * sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	a->more_ids = ids;
	ids[a->nmore_ids++] = b->stack_id;
	for (uint32_t i = 0; i < b->nmore_ids; i++)
		ids[a->nmore_ids++] = b->more_ids[i];
	a->alloc_bytes += b->alloc_bytes;
	a->alloc_count += b->alloc_count;
	a->free_bytes += b->free_bytes;
	a->free_count += b->free_count;
	a->inuse_bytes += b->inuse_bytes;
	a->inuse_count += b->inuse_count;
	a->usable.alloc_bytes += b->usable.alloc_bytes;
	a->usable.free_bytes += b->usable.free_bytes;
	a->usable.inuse_bytes += b->usable.inuse_bytes;
	a->usable.missing += b->usable.missing;
	a->growth_per_min += b->growth_per_min;
	if (b->oldest_ns > a->oldest_ns)
		a->oldest_ns = b->oldest_ns;
	for (uint32_t j = 0; j < b->nframes; j++)
		ms_frame__clear(&b->frames[j]);
	free(b->frames);
	free(b->more_ids);
	memset(b, 0, sizeof(*b));
	return 0;
}

/*
 * One row per stack as shown: stacks that differ only where nothing is shown
 * (frames cut at the first one outside code, addresses in one function) are
 * summed into one. On ENOMEM some stay apart, figures still right.
 */
static int merge_same(struct ms_profile *p)
{
	size_t out = 0;

	if (p->nstacks < 2)
		return 0;
	/* sorted by what is shown, the lowest id first: the row keeps that one */
	qsort(p->stacks, p->nstacks, sizeof(*p->stacks), cmp_shown);
	for (size_t i = 1; i < p->nstacks; i++) {
		if (!same_shown(&p->stacks[out], &p->stacks[i])) {
			p->stacks[++out] = p->stacks[i];
			continue;
		}
		if (fold_stack(&p->stacks[out], &p->stacks[i])) {
			/* out of memory: keep the rest unmerged, each once */
			memmove(&p->stacks[out + 1], &p->stacks[i], (p->nstacks - i) * sizeof(*p->stacks));
			p->nstacks = out + 1 + (p->nstacks - i);
			return -ENOMEM;
		}
	}
	p->nstacks = out + 1;
	return 0;
}

void ms_profile__finalize(struct ms_profile *p)
{
	struct ms_figures total = {};

	merge_same(p);
	for (size_t i = 0; i < p->nstacks; i++) {
		struct ms_stack *s = &p->stacks[i];
		struct ms_figures f = {
			.alloc_bytes = s->alloc_bytes, .alloc_count = s->alloc_count,
			.free_bytes = s->free_bytes, .free_count = s->free_count,
			.inuse_bytes = s->inuse_bytes, .inuse_count = s->inuse_count,
			.usable = s->usable,
		};

		/* in use as the Go runtime reports it (since start, not attach) */
		if (s->kind != MS_KIND_GO_INUSE)
			ms_figures__derive_inuse(s->kind, &f);
		s->inuse_bytes = f.inuse_bytes;
		s->inuse_count = f.inuse_count;
		s->usable.inuse_bytes = f.usable.inuse_bytes;
		ms_figures__add(&total, s->kind, &f);
	}
	p->usable = total.usable;
	p->inuse_bytes = total.inuse_bytes;
	p->inuse_count = total.inuse_count;
	p->alloc_bytes = total.alloc_bytes;
	p->alloc_count = total.alloc_count;
	if (p->nstacks > 1)
		qsort(p->stacks, p->nstacks, sizeof(*p->stacks), cmp_stack);
}

static int cmp_growth(const void *a, const void *b)
{
	const struct ms_stack *x = a, *y = b;

	if (x->growth_per_min != y->growth_per_min)
		return x->growth_per_min > y->growth_per_min ? -1 : 1;
	return cmp_stack(a, b);
}

void ms_profile__sort_by_growth(struct ms_profile *p)
{
	if (p->nstacks > 1)
		qsort(p->stacks, p->nstacks, sizeof(*p->stacks), cmp_growth);
}

const char *ms_allocator_probe(bool usdt, uint64_t mean, char *buf, size_t len)
{
	if (usdt)
		snprintf(buf, len, "sampler library (USDT), mean %llu bytes",
			 (unsigned long long)mean);
	else
		snprintf(buf, len, "uprobes");
	return buf;
}

bool ms_profile__c_estimates(const struct ms_profile *p)
{
	/* the sampler library at mean 1 reports every allocation: exact */
	return (p->c_sample_bytes && !(p->sampler_usdt && p->c_sample_bytes == 1)) ||
	       p->c_other_means;
}
