// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/growth.h"

void growth__init(struct growth *g)
{
	memset(g, 0, sizeof(*g));
}

void growth__free(struct growth *g)
{
	for (uint32_t i = 0; i < GROWTH_MAX_SNAPS; i++)
		free(g->snaps[i].v);
	memset(g, 0, sizeof(*g));
}

static int cmp_bytes_desc(const void *a, const void *b)
{
	const struct growth_point *x = a, *y = b;

	if (x->inuse_bytes != y->inuse_bytes)
		return x->inuse_bytes > y->inuse_bytes ? -1 : 1;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct growth_point *x = a, *y = b;

	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return 0;
}

int growth__add(struct growth *g, uint64_t t_ns, const struct growth_point *pts, size_t n)
{
	struct growth_snap *s;
	struct growth_point *v = NULL;
	uint64_t total = 0;
	size_t keep = n;

	for (size_t i = 0; i < n; i++)
		total += pts[i].inuse_bytes;
	if (n) {
		v = malloc(n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v, pts, n * sizeof(*v));
		if (n > GROWTH_MAX_KEYS) {
			/* keep the biggest: a leak worth seeing is among them */
			qsort(v, n, sizeof(*v), cmp_bytes_desc);
			keep = GROWTH_MAX_KEYS;
			g->dropped_keys += n - keep;
		}
		qsort(v, keep, sizeof(*v), cmp_key);
	}
	if (g->count == GROWTH_MAX_SNAPS) {
		free(g->snaps[g->head].v);
		g->snaps[g->head].v = NULL;
		g->head = (g->head + 1) % GROWTH_MAX_SNAPS;
		g->count--;
	}
	s = &g->snaps[(g->head + g->count) % GROWTH_MAX_SNAPS];
	s->t_ns = t_ns;
	s->total_bytes = total;
	s->n = keep;
	s->v = v;
	g->count++;
	return 0;
}

void growth__trim(struct growth *g, uint64_t t_ns, uint64_t window_ns)
{
	while (g->count && g->snaps[g->head].t_ns + window_ns < t_ns) {
		free(g->snaps[g->head].v);
		g->snaps[g->head].v = NULL;
		g->head = (g->head + 1) % GROWTH_MAX_SNAPS;
		g->count--;
	}
}

static uint64_t point_bytes(const struct growth_snap *s, int32_t stack_id, uint32_t kind)
{
	struct growth_point key = { .stack_id = stack_id, .kind = kind }, *p;

	p = s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_key) : NULL;
	return p ? p->inuse_bytes : 0;
}

/* Least-squares slope of y over x (seconds), returned per minute. */
static double slope(const struct growth *g, uint64_t now_ns, uint64_t window_ns, bool total,
		    int32_t stack_id, uint32_t kind)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, x0 = -1;
	uint32_t n = 0;

	for (uint32_t i = 0; i < g->count; i++) {
		const struct growth_snap *s = &g->snaps[(g->head + i) % GROWTH_MAX_SNAPS];
		double x, y;

		if (s->t_ns + window_ns < now_ns)
			continue;
		if (x0 < 0)
			x0 = s->t_ns / 1e9;
		/* relative time keeps the sums well-conditioned */
		x = s->t_ns / 1e9 - x0;
		y = total ? (double)s->total_bytes : (double)point_bytes(s, stack_id, kind);
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		n++;
	}
	if (n < 2 || n * sxx - sx * sx <= 0)
		return 0;
	return (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60.0;
}

double growth__total_slope(const struct growth *g, uint64_t now_ns, uint64_t window_ns)
{
	return slope(g, now_ns, window_ns, true, 0, 0);
}

double growth__slope(const struct growth *g, int32_t stack_id, uint32_t kind, uint64_t now_ns,
		     uint64_t window_ns)
{
	return slope(g, now_ns, window_ns, false, stack_id, kind);
}

double growth__span_s(const struct growth *g, uint64_t now_ns, uint64_t window_ns)
{
	uint64_t first = 0, last = 0;
	bool any = false;

	for (uint32_t i = 0; i < g->count; i++) {
		const struct growth_snap *s = &g->snaps[(g->head + i) % GROWTH_MAX_SNAPS];

		if (s->t_ns + window_ns < now_ns)
			continue;
		if (!any)
			first = s->t_ns;
		last = s->t_ns;
		any = true;
	}
	return any ? (last - first) / 1e9 : 0;
}

double growth__row_slope(const struct growth *g, const struct ms_stack *s, uint64_t now_ns,
			 uint64_t window_ns)
{
	/* a least-squares slope is linear: the slope of a sum is the sum of slopes */
	double v = growth__slope(g, s->stack_id, s->kind, now_ns, window_ns);

	for (uint32_t i = 0; i < s->nmore_ids; i++)
		v += growth__slope(g, s->more_ids[i], s->kind, now_ns, window_ns);
	return v;
}
