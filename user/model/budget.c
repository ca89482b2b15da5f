// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
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

size_t budget__check(const uint64_t limit[MS_BUDGET_COUNT], const bool given[MS_BUDGET_COUNT],
		     const struct ms_budget_figures *f, struct ms_budget_result *ret)
{
	size_t n = 0;

	for (int b = 0; b < MS_BUDGET_COUNT; b++) {
		struct ms_budget_result *r = &ret[n];

		if (!given[b])
			continue;
		*r = (struct ms_budget_result){ .budget = (enum ms_budget)b, .limit = limit[b] };
		if (!f->have[b]) {
			r->verdict = MS_VERDICT_UNKNOWN;
			r->why_unknown = f->why_not[b] ?: "not measured";
		} else {
			r->value = f->value[b];
			/* the limit itself is allowed: "at most" */
			r->verdict = r->value > r->limit ? MS_VERDICT_BROKEN : MS_VERDICT_HELD;
			r->over = r->verdict == MS_VERDICT_BROKEN ? r->value - r->limit : 0;
			/* more may have been allocated than was counted */
			if (r->verdict == MS_VERDICT_HELD && f->lower_bound &&
			    b != MS_BUDGET_PEAK_RSS) {
				r->verdict = MS_VERDICT_UNKNOWN;
				r->why_unknown = "events were lost: the figure is a lower bound";
			}
		}
		n++;
	}
	return n;
}

bool budget__failed(const struct ms_budget_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].verdict != MS_VERDICT_HELD)
			return true;
	return false;
}
