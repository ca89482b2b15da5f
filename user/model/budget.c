// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
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
};

const char *budget__name(enum ms_budget b)
{
	return (unsigned int)b < MS_BUDGET_COUNT ? budgets[b].name : "?";
}

const char *budget__what(enum ms_budget b)
{
	return (unsigned int)b < MS_BUDGET_COUNT ? budgets[b].what : "?";
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
	/* more may have been allocated than was counted */
	if (r->verdict == MS_VERDICT_HELD && f->lower_bound && b != MS_BUDGET_PEAK_RSS) {
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

int budget__parse_named(enum ms_budget b, const char *arg, uint64_t max,
			struct ms_budget_named *ret)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;

	if (!len || len >= sizeof(ret->who) || memchr(arg, '/', len))
		return -EINVAL;
	*ret = (struct ms_budget_named){ .budget = b };
	memcpy(ret->who, arg, len);
	return size__parse(eq + 1, max, &ret->limit);
}

bool budget__failed(const struct ms_budget_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].verdict != MS_VERDICT_HELD)
			return true;
	return false;
}
