// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "model/diff.h"

uint64_t diff__sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

char *diff__proc_name(const char *comm, const char *exe)
{
	char *name;

	if (asprintf(&name, "%s %s", comm && *comm ? comm : "?",
		     exe && *exe ? base_name(exe) : "?") < 0)
		return errno = ENOMEM, NULL;
	return name;
}

int diff__key_add(char *key, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len && *len < DIFF_MAX_KEY)
		key[(*len)++] = '\n';
	va_start(ap, fmt);
	n = vsnprintf(key + *len, DIFF_MAX_KEY + 1 - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > DIFF_MAX_KEY - *len)
		return -E2BIG;
	*len += (size_t)n;
	return 0;
}

int diff__frame_key(char *key, size_t *len, const char *func, const char *file, uint64_t line,
		    const char *mod, const char *off, bool funcs_only)
{
	if (*func && *file && line && !funcs_only)
		return diff__key_add(key, len, "%s %s:%" PRIu64, func, base_name(file), line);
	if (*func)
		return diff__key_add(key, len, "%s", func);
	if (*mod && *off)
		return diff__key_add(key, len, "%s+%s", base_name(mod), off);
	return diff__key_add(key, len, "?");
}

const char *diff_metric__name(enum diff_metric m)
{
	return m == DIFF_ALLOC ? "alloc" : "inuse";
}

static void proc_free(struct diff_proc *p)
{
	for (size_t i = 0; i < p->nstacks; i++)
		free(p->stacks[i].key);
	free(p->stacks);
	free(p->name);
}

void diff_report__free(struct diff_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nprocs; i++)
		proc_free(&r->procs[i]);
	free(r->procs);
	memset(r, 0, sizeof(*r));
}

struct diff_proc *diff_report__proc(struct diff_report *r, const char *name)
{
	struct diff_proc *p;

	for (size_t i = 0; i < r->nprocs; i++) {
		if (!strcmp(r->procs[i].name, name)) {
			r->procs[i].merged++;
			return &r->procs[i];
		}
	}
	if (r->nprocs >= DIFF_MAX_PROCS) {
		errno = E2BIG;
		return NULL;
	}
	if (ms_array_grow(r->procs, &r->cap, r->nprocs, 16)) {
		errno = ENOMEM;
		return NULL;
	}
	p = &r->procs[r->nprocs];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	if (!p->name) {
		errno = ENOMEM;
		return NULL;
	}
	p->merged = 1;
	r->nprocs++;
	return p;
}

int diff_report__add_stack(struct diff_report *r, struct diff_proc *p, const char *key,
			   const uint64_t bytes[DIFF_METRICS])
{
	struct diff_stack *s;

	if (r->nstacks >= DIFF_MAX_STACKS || strlen(key) > DIFF_MAX_KEY)
		return -E2BIG;
	if (ms_array_grow(p->stacks, &p->cap, p->nstacks, 16))
		return -ENOMEM;
	s = &p->stacks[p->nstacks];
	s->key = strdup(key);
	if (!s->key)
		return -ENOMEM;
	memcpy(s->bytes, bytes, sizeof(s->bytes));
	p->nstacks++;
	r->nstacks++;
	return 0;
}

static int stack_cmp(const void *a, const void *b)
{
	return strcmp(((const struct diff_stack *)a)->key, ((const struct diff_stack *)b)->key);
}

static int proc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct diff_proc *)a)->name, ((const struct diff_proc *)b)->name);
}

void diff_report__finish(struct diff_report *r)
{
	qsort(r->procs, r->nprocs, sizeof(*r->procs), proc_cmp);
	for (size_t i = 0; i < r->nprocs; i++) {
		struct diff_proc *p = &r->procs[i];
		size_t n = 0;

		if (!p->nstacks)
			continue;
		qsort(p->stacks, p->nstacks, sizeof(*p->stacks), stack_cmp);
		for (size_t j = 1; j < p->nstacks; j++) {
			struct diff_stack *last = &p->stacks[n], *s = &p->stacks[j];

			if (strcmp(last->key, s->key)) {
				p->stacks[++n] = *s;
				continue;
			}
			for (int m = 0; m < DIFF_METRICS; m++)
				last->bytes[m] = diff__sat_add(last->bytes[m], s->bytes[m]);
			free(s->key);
		}
		p->nstacks = n + 1;
	}
}

bool diff__over(const struct diff_opts *o, uint64_t base, uint64_t new)
{
	uint64_t growth;

	if (new <= base)
		return false;
	growth = new - base;
	if (growth <= o->min_bytes)
		return false;
	/* exact in doubles up to 2^53 B; past that the comparison is off by ulps, not gates */
	return !base || (double)growth * 100.0 > o->max_growth_pct * (double)base;
}

static void fill_row(struct diff_row *row, const struct diff_opts *o, uint64_t base, uint64_t new)
{
	row->base = base;
	row->new = new;
	if (new >= base)
		row->growth = new - base > INT64_MAX ? INT64_MAX : (int64_t)(new - base);
	else
		row->growth = base - new > INT64_MAX ? -INT64_MAX : -(int64_t)(base - new);
	if (base)
		row->pct = (double)row->growth * 100.0 / (double)base;
	else
		row->pct = new ? INFINITY : 0.0;
	row->over = diff__over(o, base, new);
}

/* Largest growth first; equal growths by process and key, so the order is stable. */
static int row_cmp(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	int c;

	if (x->growth != y->growth)
		return x->growth > y->growth ? -1 : 1;
	c = strcmp(x->proc, y->proc);
	return c ? c : strcmp(x->key, y->key);
}

static int add_stack_row(struct diff_result *res, size_t *cap, const struct diff_opts *o,
			 const char *proc, const char *key, enum diff_state st,
			 uint64_t base, uint64_t new)
{
	struct diff_row *row;

	if (base == new)
		return 0;
	if (ms_array_grow(res->stacks, cap, res->nstacks, 16))
		return -ENOMEM;
	row = &res->stacks[res->nstacks++];
	row->proc = proc;
	row->key = key;
	row->state = st;
	fill_row(row, o, base, new);
	res->nover += row->over;
	return 0;
}

/* Both processes' stacks (either may be NULL), joined on their sorted keys. */
static int join_stacks(struct diff_result *res, size_t *cap, const struct diff_opts *o,
		       const char *name, const struct diff_proc *b, const struct diff_proc *n)
{
	size_t i = 0, j = 0, nb = b ? b->nstacks : 0, nn = n ? n->nstacks : 0;
	enum diff_metric m = o->metric;
	int err = 0;

	while (!err && (i < nb || j < nn)) {
		int c = i >= nb ? 1 : j >= nn ? -1 : strcmp(b->stacks[i].key, n->stacks[j].key);

		if (c < 0) {
			err = add_stack_row(res, cap, o, name, b->stacks[i].key, DIFF_GONE,
					    b->stacks[i].bytes[m], 0);
			i++;
		} else if (c > 0) {
			err = add_stack_row(res, cap, o, name, n->stacks[j].key, DIFF_NEW, 0,
					    n->stacks[j].bytes[m]);
			j++;
		} else {
			err = add_stack_row(res, cap, o, name, n->stacks[j].key, DIFF_BOTH,
					    b->stacks[i].bytes[m], n->stacks[j].bytes[m]);
			i++;
			j++;
		}
	}
	return err;
}

int diff__compute(const struct diff_report *base, const struct diff_report *new,
		  const struct diff_opts *o, struct diff_result *ret)
{
	size_t i = 0, j = 0, scap = 0;
	uint64_t tb = 0, tn = 0;
	enum diff_metric m = o->metric;
	int err = 0;

	memset(ret, 0, sizeof(*ret));
	if ((unsigned int)m >= DIFF_METRICS || !(o->max_growth_pct >= 0))
		return -EINVAL;
	ret->procs = calloc(base->nprocs + new->nprocs + 1, sizeof(*ret->procs));
	if (!ret->procs)
		return -ENOMEM;
	while (!err && (i < base->nprocs || j < new->nprocs)) {
		const struct diff_proc *b = i < base->nprocs ? &base->procs[i] : NULL;
		const struct diff_proc *n = j < new->nprocs ? &new->procs[j] : NULL;
		int c = !b ? 1 : !n ? -1 : strcmp(b->name, n->name);
		struct diff_row *row = &ret->procs[ret->nprocs++];

		if (c < 0)
			n = NULL, i++;
		else if (c > 0)
			b = NULL, j++;
		else
			i++, j++;
		row->proc = b ? b->name : n->name;
		row->state = !b ? DIFF_NEW : !n ? DIFF_GONE : DIFF_BOTH;
		fill_row(row, o, b ? b->total[m] : 0, n ? n->total[m] : 0);
		/* a process's total is shown, not gated: the total of all is */
		row->over = false;
		tb = diff__sat_add(tb, row->base);
		tn = diff__sat_add(tn, row->new);
		err = join_stacks(ret, &scap, o, row->proc, b, n);
	}
	if (err) {
		diff_result__free(ret);
		return err;
	}
	ret->total.state = DIFF_BOTH;
	fill_row(&ret->total, o, tb, tn);
	ret->nover += ret->total.over;
	if (ret->nstacks)
		qsort(ret->stacks, ret->nstacks, sizeof(*ret->stacks), row_cmp);
	return 0;
}

void diff_result__free(struct diff_result *r)
{
	if (!r)
		return;
	free(r->procs);
	free(r->stacks);
	memset(r, 0, sizeof(*r));
}
