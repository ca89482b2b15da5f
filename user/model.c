// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memsight_abi.h"
#include "model.h"

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

void ms_profile__finalize(struct ms_profile *p)
{
	p->inuse_bytes = p->inuse_count = p->alloc_bytes = p->alloc_count = 0;
	for (size_t i = 0; i < p->nstacks; i++) {
		struct ms_stack *s = &p->stacks[i];

		if (s->kind == MS_KIND_GO_INUSE) {
			/* in use as the Go runtime reports it (since start, not attach) */
			p->inuse_bytes += s->inuse_bytes;
			p->inuse_count += s->inuse_count;
			continue;
		}
		/* frees are matched to allocations seen, so free <= alloc; clamp anyway */
		s->inuse_bytes = s->alloc_bytes > s->free_bytes ? s->alloc_bytes - s->free_bytes : 0;
		s->inuse_count = s->alloc_count > s->free_count ? s->alloc_count - s->free_count : 0;
		/* Go's GC frees without a call we could see: these are allocation
		 * profiles only, and what is in use is the runtime's to say */
		if (!ms_kind__tracks_inuse(s->kind))
			s->inuse_bytes = s->inuse_count = 0;
		p->inuse_bytes += s->inuse_bytes;
		p->inuse_count += s->inuse_count;
		/* page faults are RSS growth, not allocations */
		if (s->kind != MS_KIND_FAULT) {
			p->alloc_bytes += s->alloc_bytes;
			p->alloc_count += s->alloc_count;
		}
	}
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
