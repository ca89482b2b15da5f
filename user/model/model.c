// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memsight_abi.h"
#include "model/model.h"
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

void ms_profile__free(struct ms_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstacks; i++) {
		struct ms_stack *s = &p->stacks[i];

		for (uint32_t j = 0; j < s->nframes; j++)
			ms_frame__clear(&s->frames[j]);
		free(s->frames);
	}
	free(p->stacks);
	free(p->exe);
	free(p->unwind_reason);
	for (size_t i = 0; i < p->go.ngroups; i++) {
		free(p->go.groups[i].func);
		free(p->go.groups[i].file);
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

	if (p->nstacks == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct ms_stack *v = realloc(p->stacks, cap * sizeof(*v));

		if (!v)
			return NULL;
		p->stacks = v;
		p->cap = cap;
	}
	s = &p->stacks[p->nstacks];
	*s = *tmpl;
	s->nframes = 0;
	s->frames = NULL;
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
	if (!ms_kind__tracks_inuse(kind))
		f->inuse_bytes = f->inuse_count = 0;
}

bool ms_loss__lower_bound(const struct ms_loss *l)
{
	return l->stack_errors || l->stack_collisions || l->stack_table_full || l->stack_quota ||
	       l->live_full || l->agg_full || l->inflight_full;
}

void ms_figures__of_agg(uint32_t kind, const struct ms_agg_val *v, const struct ms_sampling *smp,
			struct ms_figures *ret)
{
	*ret = (struct ms_figures){
		.alloc_bytes = v->alloc_bytes,
		.alloc_count = v->alloc_count,
		.free_bytes = v->free_bytes,
		.free_count = v->free_count,
	};
	ms_figures__derive_inuse(kind, ret);
	if (ms_kind__tracks_inuse(kind) && smp->c_bytes) {
		/* sampled mode: estimate what the samples stand for, in use and in all */
		uint64_t ac, ab, ic, ib;

		ms_unsample(ret->alloc_count, ret->alloc_bytes, smp->c_bytes, &ac, &ab);
		ms_unsample(ret->inuse_count, ret->inuse_bytes, smp->c_bytes, &ic, &ib);
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

void ms_figures__add(struct ms_figures *total, uint32_t kind, const struct ms_figures *f)
{
	total->inuse_bytes += f->inuse_bytes;
	total->inuse_count += f->inuse_count;
	/* the go-heap view is in use as the Go runtime reports it; page faults
	 * are RSS growth, not allocations */
	if (kind == MS_KIND_GO_INUSE || kind == MS_KIND_FAULT)
		return;
	total->alloc_bytes += f->alloc_bytes;
	total->alloc_count += f->alloc_count;
	total->free_bytes += f->free_bytes;
	total->free_count += f->free_count;
}

void ms_profile__finalize(struct ms_profile *p)
{
	struct ms_figures total = {};

	for (size_t i = 0; i < p->nstacks; i++) {
		struct ms_stack *s = &p->stacks[i];
		struct ms_figures f = {
			.alloc_bytes = s->alloc_bytes, .alloc_count = s->alloc_count,
			.free_bytes = s->free_bytes, .free_count = s->free_count,
			.inuse_bytes = s->inuse_bytes, .inuse_count = s->inuse_count,
		};

		/* in use as the Go runtime reports it (since start, not attach) */
		if (s->kind != MS_KIND_GO_INUSE)
			ms_figures__derive_inuse(s->kind, &f);
		s->inuse_bytes = f.inuse_bytes;
		s->inuse_count = f.inuse_count;
		ms_figures__add(&total, s->kind, &f);
	}
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
