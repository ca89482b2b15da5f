// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gosites.h"

void gosites__init(struct gosites *gs)
{
	memset(gs, 0, sizeof(*gs));
	growth__init(&gs->growth);
}

static void site_clear(struct gosite *s)
{
	free(s->func);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

void gosites__free(struct gosites *gs)
{
	for (uint32_t i = 0; i < gs->n; i++)
		site_clear(&gs->sites[i]);
	growth__free(&gs->growth);
	memset(gs, 0, sizeof(*gs));
}

static int cmp_sample_count_desc(const void *a, const void *b)
{
	const struct gosite_sample *x = *(const struct gosite_sample *const *)a;
	const struct gosite_sample *y = *(const struct gosite_sample *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static struct gosite *find(struct gosites *gs, uint64_t pc)
{
	for (uint32_t i = 0; i < gs->n; i++)
		if (gs->sites[i].pc == pc)
			return &gs->sites[i];
	return NULL;
}

/* Fill slot s with sample v; its growth counts from since_ns. */
static int site_set(struct gosites *gs, struct gosite *s, const struct gosite_sample *v,
		    uint64_t since_ns, uint64_t now_ns)
{
	/* names come from the target's pclntab: bounded, whatever it holds */
	char *func = v->func ? strndup(v->func, GOSITES_NAME_MAX) : NULL;
	char *file = v->file ? strndup(v->file, GOSITES_NAME_MAX) : NULL;

	if ((v->func && !func) || (v->file && !file)) {
		free(func);
		free(file);
		return -ENOMEM;
	}
	site_clear(s);
	s->pc = v->pc;
	s->id = gs->next_id++;
	s->func = func;
	s->file = file;
	s->line = v->line;
	s->count = v->count;
	s->since_ns = since_ns;
	s->last_seen_ns = now_ns;
	return 0;
}

int gosites__add(struct gosites *gs, uint64_t now_ns, uint64_t window_ns,
		 const struct gosite_sample *v, size_t n, uint64_t total)
{
	struct growth_point pts[GOSITES_MAX + 1];
	const struct gosite_sample **order;
	uint64_t tracked = 0;
	uint32_t folded = 0, np = 0;
	size_t k = 0;
	int err;

	if (gs->samples && now_ns < gs->last_ns)
		return -EINVAL;
	order = malloc((n ? n : 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (v[i].count)
			order[k++] = &v[i];
	/* the biggest sites claim free slots first */
	qsort(order, k, sizeof(*order), cmp_sample_count_desc);

	for (uint32_t i = 0; i < gs->n; i++)
		gs->sites[i].count = 0;
	/* sites already tracked keep their slot and history */
	for (size_t i = 0; i < k; i++) {
		struct gosite *s = find(gs, order[i]->pc);

		if (!s)
			continue;
		s->count += order[i]->count;
		s->last_seen_ns = now_ns;
		order[i] = NULL;
	}
	/* a site without a goroutine in the whole window: its slot is free */
	for (uint32_t i = 0; i < gs->n;) {
		if (gs->sites[i].last_seen_ns + window_ns < now_ns) {
			site_clear(&gs->sites[i]);
			gs->sites[i] = gs->sites[--gs->n];
			memset(&gs->sites[gs->n], 0, sizeof(gs->sites[gs->n]));
			continue;
		}
		i++;
	}
	for (size_t i = 0; i < k; i++) {
		struct gosite *s = NULL, *min = NULL;
		uint64_t since = gs->folded_ever ? now_ns : 0;

		if (!order[i])
			continue;
		s = find(gs, order[i]->pc);
		if (s) {
			/* the same site twice in one sample (the reader split it) */
			s->count += order[i]->count;
			continue;
		}
		if (gs->n < GOSITES_MAX) {
			s = &gs->sites[gs->n];
			memset(s, 0, sizeof(*s));
		} else {
			for (uint32_t j = 0; j < gs->n; j++)
				if (!min || gs->sites[j].count < min->count)
					min = &gs->sites[j];
			/* twice as big: two sites of similar size do not take turns */
			if (min && order[i]->count > 2 * min->count) {
				s = min;
				since = now_ns;
				gs->replaced++;
			}
		}
		if (!s) {
			folded++;
			gs->folded_ever = true;
			continue;
		}
		err = site_set(gs, s, order[i], since, now_ns);
		if (err) {
			free(order);
			return err;
		}
		if (s == &gs->sites[gs->n])
			gs->n++;
		if (min)
			gs->folded_ever = true;	/* the replaced site's goroutines go to "other" */
	}
	free(order);

	for (uint32_t i = 0; i < gs->n; i++) {
		const struct gosite *s = &gs->sites[i];

		tracked += s->count;
		if (s->count)
			pts[np++] = (struct growth_point){ .stack_id = s->id, .inuse_bytes = s->count };
	}
	/* what the reader could not group is in total, not in any site */
	gs->total = total > tracked ? total : tracked;
	gs->other = gs->total - tracked;
	gs->other_sites = folded;
	if (gs->other)
		pts[np++] = (struct growth_point){ .stack_id = GOSITES_OTHER_ID,
						   .inuse_bytes = gs->other };
	err = growth__add(&gs->growth, now_ns, pts, np);
	if (err)
		return err;
	growth__trim(&gs->growth, now_ns, window_ns);
	gs->samples++;
	gs->last_ns = now_ns;
	return 0;
}

/* The window a site's slope covers: not before it got its slot. */
static uint64_t site_window(const struct gosites *gs, const struct gosite *s, uint64_t window_ns)
{
	if (s && s->since_ns && gs->last_ns - s->since_ns < window_ns)
		return gs->last_ns - s->since_ns;
	return window_ns;
}

static void rate_of(const struct gosites *gs, const struct gosite *s, uint64_t window_ns,
		    struct gosite_rank *r)
{
	uint64_t w = site_window(gs, s, window_ns);
	int32_t id = s ? s->id : GOSITES_OTHER_ID;

	r->site = s;
	r->count = s ? s->count : gs->other;
	r->span_s = growth__span_s(&gs->growth, gs->last_ns, w);
	/* a span needs two samples at different times: then the slope is defined */
	r->have_rate = r->span_s > 0;
	r->per_min = r->have_rate ? growth__slope(&gs->growth, id, 0, gs->last_ns, w) : 0;
}

static int cmp_growth(const void *a, const void *b)
{
	const struct gosite_rank *x = a, *y = b;

	if (x->have_rate != y->have_rate)
		return x->have_rate ? -1 : 1;
	if (x->per_min != y->per_min)
		return x->per_min > y->per_min ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	/* "other" after a site of the same standing; then by id: a stable order */
	if (!x->site || !y->site)
		return !x->site - !y->site;
	return x->site->id < y->site->id ? -1 : 1;
}

static int cmp_count(const void *a, const void *b)
{
	const struct gosite_rank *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return cmp_growth(a, b);
}

size_t gosites__rank(const struct gosites *gs, uint64_t window_ns, enum gosites_order order,
		     struct gosite_rank *ret)
{
	size_t n = 0;

	if (!gs->samples)
		return 0;
	for (uint32_t i = 0; i < gs->n; i++)
		if (gs->sites[i].count)
			rate_of(gs, &gs->sites[i], window_ns, &ret[n++]);
	if (gs->other)
		rate_of(gs, NULL, window_ns, &ret[n++]);
	qsort(ret, n, sizeof(*ret), order == GOSITES_BY_COUNT ? cmp_count : cmp_growth);
	return n;
}

size_t gosites__top(const struct gosites *gs, uint64_t window_ns, size_t k,
		    struct gosite_rank *ret, uint64_t *ret_rest)
{
	struct gosite_rank all[GOSITES_MAX + 1];
	size_t n = gosites__rank(gs, window_ns, GOSITES_BY_COUNT, all), kept = 0;

	*ret_rest = 0;
	for (size_t i = 0; i < n; i++) {
		if (all[i].site && kept < k)
			ret[kept++] = all[i];
		else
			*ret_rest += all[i].count;
	}
	return kept;
}

bool gosites__total_rate(const struct gosites *gs, uint64_t window_ns, double *ret_per_min)
{
	if (!gs->samples || growth__span_s(&gs->growth, gs->last_ns, window_ns) <= 0) {
		*ret_per_min = 0;
		return false;
	}
	*ret_per_min = growth__total_slope(&gs->growth, gs->last_ns, window_ns);
	return true;
}

void gosites__label(const struct gosite *s, char *buf, size_t len)
{
	const char *file, *slash;

	if (!s) {
		snprintf(buf, len, "other");
		return;
	}
	if (!s->file && s->func && !s->line) {
		snprintf(buf, len, "%s", s->func);	/* the main goroutine */
		return;
	}
	file = s->file ?: "?";
	slash = strrchr(file, '/');
	snprintf(buf, len, "%s %s:%d", s->func ?: "?", slash ? slash + 1 : file, s->line);
}
