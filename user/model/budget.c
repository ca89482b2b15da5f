// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/size.h"
#include "model/budget.h"

static const struct {
	const char *name;
	const char *what;
} budgets[MS_BUDGET_COUNT] = {
	[MS_BUDGET_LEAKED] = { "max-leaked", "still allocated at exit" },
	[MS_BUDGET_PEAK_RSS] = { "max-peak-rss", "peak RSS" },
	[MS_BUDGET_ALLOCATED] = { "max-allocated", "allocated in all" },
	[MS_BUDGET_GOROUTINES] = { "max-goroutines-at-exit", "goroutines alive at exit" },
};

const char *budget__name(enum ms_budget b)
{
	return (unsigned int)b < MS_BUDGET_COUNT ? budgets[b].name : "?";
}

const char *budget__what(enum ms_budget b)
{
	return (unsigned int)b < MS_BUDGET_COUNT ? budgets[b].what : "?";
}

bool budget__is_count(enum ms_budget b)
{
	return b == MS_BUDGET_GOROUTINES;
}

int budget__parse_limit(enum ms_budget b, const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!budget__is_count(b))
		return size__parse(s, MS_BUDGET_BYTES_MAX, ret);
	/* digits only: no sign, no blanks, no units */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > MS_BUDGET_COUNT_MAX)
		return -ERANGE;
	*ret = v;
	return 0;
}

void budget__check_one(enum ms_budget b, uint64_t limit, const char *who,
		       const struct ms_budget_figures *f, struct ms_budget_result *r)
{
	*r = (struct ms_budget_result){ .budget = b, .limit = limit };
	snprintf(r->who, sizeof(r->who), "%s", who ?: "");
	if (!f->have[b]) {
		r->verdict = MS_VERDICT_UNKNOWN;
		r->why_unknown = f->why_not[b] ?: "not measured";
		return;
	}
	r->value = f->value[b];
	/* the limit itself is allowed: "at most" */
	r->verdict = r->value > r->limit ? MS_VERDICT_BROKEN : MS_VERDICT_HELD;
	r->over = r->verdict == MS_VERDICT_BROKEN ? r->value - r->limit : 0;
	/* more may have been allocated than was counted (goroutines are read, not counted) */
	if (r->verdict == MS_VERDICT_HELD && f->lower_bound &&
	    (b == MS_BUDGET_LEAKED || b == MS_BUDGET_ALLOCATED)) {
		r->verdict = MS_VERDICT_UNKNOWN;
		r->why_unknown = "events were lost: the figure is a lower bound";
	}
}

size_t budget__check(const uint64_t limit[MS_BUDGET_COUNT], const bool given[MS_BUDGET_COUNT],
		     const struct ms_budget_figures *f, struct ms_budget_result *ret)
{
	size_t n = 0;

	for (int b = 0; b < MS_BUDGET_COUNT; b++)
		if (given[b])
			budget__check_one((enum ms_budget)b, limit[b], NULL, f, &ret[n++]);
	return n;
}

int budget__parse_named(enum ms_budget b, const char *arg, struct ms_budget_named *ret)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;

	if (!len || len >= sizeof(ret->who) || memchr(arg, '/', len))
		return -EINVAL;
	*ret = (struct ms_budget_named){ .budget = b };
	memcpy(ret->who, arg, len);
	return budget__parse_limit(b, eq + 1, &ret->limit);
}

const struct ms_budget_named *budget_set__find(const struct ms_budget_set *s, enum ms_budget b,
					       const char *who, size_t len)
{
	for (size_t i = 0; i < s->nnamed; i++)
		if (s->named[i].budget == b && strlen(s->named[i].who) == len &&
		    !memcmp(s->named[i].who, who, len))
			return &s->named[i];
	return NULL;
}

static int set_named(struct ms_budget_set *s, const struct ms_budget_named *nb)
{
	struct ms_budget_named *had = (struct ms_budget_named *)budget_set__find(s, nb->budget,
						nb->who, strlen(nb->who));

	if (!had && s->nnamed == MS_BUDGET_NAMED_MAX)
		return -E2BIG;
	*(had ?: &s->named[s->nnamed++]) = *nb;
	return 0;
}

int budget_set__add(struct ms_budget_set *s, enum ms_budget b, const char *arg)
{
	struct ms_budget_named nb;
	uint64_t v;
	int err;

	if ((unsigned int)b >= MS_BUDGET_COUNT)
		return -EINVAL;
	if (strchr(arg, '=')) {
		err = budget__parse_named(b, arg, &nb);
		return err ?: set_named(s, &nb);
	}
	err = budget__parse_limit(b, arg, &v);
	if (err)
		return err;
	s->total[b] = v;
	s->total_given[b] = true;
	return 0;
}

void budget_set__under(struct ms_budget_set *s, const struct ms_budget_set *base)
{
	for (int b = 0; b < MS_BUDGET_COUNT; b++) {
		if (s->total_given[b] || !base->total_given[b])
			continue;
		s->total[b] = base->total[b];
		s->total_given[b] = true;
	}
	for (size_t i = 0; i < base->nnamed; i++) {
		const struct ms_budget_named *nb = &base->named[i];

		/* full: cannot happen from parsers that cap at the same number */
		if (!budget_set__find(s, nb->budget, nb->who, strlen(nb->who)) &&
		    s->nnamed < MS_BUDGET_NAMED_MAX)
			s->named[s->nnamed++] = *nb;
	}
}

bool budget__failed(const struct ms_budget_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].verdict != MS_VERDICT_HELD)
			return true;
	return false;
}
