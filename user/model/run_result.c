// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/array.h"
#include "model/diff.h"
#include "model/run_result.h"

struct run_proc *run_result__add(struct run_result *r, pid_t pid, pid_t ppid)
{
	struct run_proc *p;

	if (ms_array_grow(r->procs, &r->cap, r->nprocs, 4))
		return NULL;
	p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	return p;
}

struct run_proc *run_result__find(struct run_result *r, pid_t pid)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

void run_result__free(struct run_result *r)
{
	for (size_t i = 0; i < r->nprocs; i++)
		ms_profile__free(r->procs[i].p);
	free(r->procs);
	r->procs = NULL;
	r->nprocs = r->cap = 0;
}

int run_result__shell_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

bool run_result__is_named(const struct run_proc *rp, const char *who)
{
	const char *base;

	if (!who || !*who)
		return true;
	if (!rp->p)
		return false;
	if (!strcmp(rp->p->comm, who))
		return true;
	base = rp->p->exe ? strrchr(rp->p->exe, '/') : NULL;
	return base && !strcmp(base + 1, who);
}

/* Did the Go runtime's sampled allocations add to p's totals? */
static bool go_sampled(const struct ms_profile *p)
{
	for (size_t i = 0; i < p->nstacks; i++)
		if ((p->stacks[i].kind == MS_KIND_GO || p->stacks[i].kind == MS_KIND_GO_INUSE) &&
		    (p->stacks[i].alloc_bytes || p->stacks[i].inuse_bytes))
			return true;
	return false;
}

bool run_result__goroutines_left(const struct ms_profile *p, uint64_t *ret)
{
	const struct ms_go_info *g = &p->go;

	*ret = 0;
	if (!g->present || !g->have_goroutines)
		return false;
	*ret = g->goroutines > g->main_goroutine ? g->goroutines - g->main_goroutine : 0;
	return true;
}

/* Into f, p's goroutines left at exit (a process that is not Go has none). */
static void goroutines_of(const struct ms_profile *p, struct ms_budget_figures *f)
{
	const struct ms_go_info *g = &p->go;
	uint64_t n;

	if (run_result__goroutines_left(p, &n)) {
		f->value[MS_BUDGET_GOROUTINES] += n;
		return;
	}
	if (!g->present)
		return;
	f->have[MS_BUDGET_GOROUTINES] = false;
	f->why_not[MS_BUDGET_GOROUTINES] = g->runtime_err ? g->runtime_reason :
					   g->goroutines_reason;
	if (!f->why_not[MS_BUDGET_GOROUTINES])
		f->why_not[MS_BUDGET_GOROUTINES] = "a Go process's goroutines were not readable";
}

void run_result__figures_of(const struct run_result *r, const char *who,
			    struct ms_budget_figures *f)
{
	bool all = !who || !*who;
	size_t named = 0;

	memset(f, 0, sizeof(*f));
	for (int b = 0; b < MS_BUDGET_COUNT; b++)
		f->have[b] = true;
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct ms_profile *p = r->procs[i].p;
		uint64_t hwm;

		if (!p && r->procs[i].running_at_end)
			continue;
		if (!p) {
			for (int b = 0; b < MS_BUDGET_COUNT; b++) {
				f->have[b] = false;
				f->why_not[b] = r->procs[i].why_none ?:
						"a process was not observed";
			}
			continue;
		}
		if (!run_result__is_named(&r->procs[i], who))
			continue;
		named++;
		f->value[MS_BUDGET_LEAKED] += p->inuse_bytes;
		f->value[MS_BUDGET_ALLOCATED] += p->alloc_bytes;
		goroutines_of(p, f);
		/* the Go runtime's samples (go, go-heap stacks) are estimates too */
		if (ms_profile__c_estimates(p) || go_sampled(p))
			f->estimate = true;
		if (ms_profile__lower_bound(p))
			f->lower_bound = true;
		if (!p->have_status) {
			f->have[MS_BUDGET_PEAK_RSS] = false;
			f->why_not[MS_BUDGET_PEAK_RSS] =
				"a process's status was not readable at its exit";
			continue;
		}
		hwm = p->status.vm_hwm_kb * 1024;
		if (hwm > f->value[MS_BUDGET_PEAK_RSS])
			f->value[MS_BUDGET_PEAK_RSS] = hwm;
	}
	for (int b = 0; b < MS_BUDGET_COUNT && !r->nprocs; b++) {
		f->have[b] = false;
		f->why_not[b] = "the command never ran";
	}
	for (int b = 0; b < MS_BUDGET_COUNT && r->nprocs && !all && !named; b++) {
		f->have[b] = false;
		f->why_not[b] = "no process of that name ran";
	}
	for (int b = 0; b < MS_BUDGET_COUNT; b++)
		if (!f->have[b])
			f->value[b] = 0;
}

void run_result__figures(struct run_result *r)
{
	run_result__figures_of(r, NULL, &r->fig);
}

static uint64_t behind_value(const struct ms_stack *s, enum ms_budget b)
{
	if (b == MS_BUDGET_GOROUTINES)
		return 0;	/* goroutines are behind it: run_result__sites_behind() */
	if (b == MS_BUDGET_ALLOCATED)
		return ms_kind__is_allocation(s->kind) ? s->alloc_bytes : 0;
	return ms_kind__tracks_inuse(s->kind) ? s->inuse_bytes : 0;
}

size_t run_result__stacks_behind(const struct ms_profile *p, enum ms_budget b, size_t *idx,
				 size_t max)
{
	size_t n = 0;

	/* a partial selection sort: max is small (the stacks a report shows) */
	for (size_t i = 0; i < p->nstacks; i++) {
		uint64_t v = behind_value(&p->stacks[i], b);
		size_t at;

		if (!v)
			continue;
		for (at = n; at > 0 && behind_value(&p->stacks[idx[at - 1]], b) < v; at--)
			;
		if (at >= max)
			continue;
		if (n < max)
			n++;
		memmove(&idx[at + 1], &idx[at], (n - 1 - at) * sizeof(*idx));
		idx[at] = i;
	}
	return n;
}

/* s's figures added to rp's sum of dropped stacks of its kind */
static void add_dropped(struct run_proc *rp, const struct ms_stack *s)
{
	struct ms_stack *d;

	if (s->kind >= MS_KIND__MAX)
		return;
	d = &rp->dropped[s->kind];
	d->kind = s->kind;
	d->stack_id = -1;
	d->alloc_bytes = diff__sat_add(d->alloc_bytes, s->alloc_bytes);
	d->alloc_count = diff__sat_add(d->alloc_count, s->alloc_count);
	d->free_bytes = diff__sat_add(d->free_bytes, s->free_bytes);
	d->free_count = diff__sat_add(d->free_count, s->free_count);
	d->inuse_bytes = diff__sat_add(d->inuse_bytes, s->inuse_bytes);
	d->inuse_count = diff__sat_add(d->inuse_count, s->inuse_count);
}

int run_result__trim(struct run_proc *rp, size_t keep)
{
	struct ms_profile *p = rp->p;
	size_t *idx, n;
	bool *mark;

	if (!p || p->nstacks <= keep)
		return 0;
	idx = calloc(keep ?: 1, sizeof(*idx));
	mark = calloc(p->nstacks, sizeof(*mark));
	if (!idx || !mark) {
		free(idx);
		free(mark);
		return -ENOMEM;
	}
	n = run_result__stacks_behind(p, MS_BUDGET_LEAKED, idx, keep);
	for (size_t i = 0; i < n; i++)
		mark[idx[i]] = true;
	n = run_result__stacks_behind(p, MS_BUDGET_ALLOCATED, idx, keep);
	for (size_t i = 0; i < n; i++)
		mark[idx[i]] = true;
	for (size_t i = 0; i < p->nstacks; i++)
		if (!mark[i])
			add_dropped(rp, &p->stacks[i]);
	rp->stacks_dropped += ms_profile__keep_stacks(p, mark);
	free(idx);
	free(mark);
	return 0;
}

size_t run_result__sites_behind(const struct ms_profile *p, size_t *idx, size_t max)
{
	size_t n = 0;

	/* collect.c keeps them biggest first */
	for (size_t i = 0; i < p->go.ngroups && n < max; i++)
		if (p->go.groups[i].count && !p->go.groups[i].main_goroutine)
			idx[n++] = i;
	return n;
}
