/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * budget.h - memory budgets of `memsight run` and whether a run kept them.
 *
 * A budget is a limit on one figure of the whole run (every process of it):
 * bytes still allocated at exit, bytes allocated in all, the highest peak
 * RSS of any one process. A figure the run could not measure breaks no
 * budget and keeps none: its verdict is "unknown", and a gate that cannot
 * prove a budget held fails (budget__failed()): so does a tracked figure
 * that is only a lower bound (events lost) and within its limit.
 */
#ifndef MEMSIGHT_BUDGET_H
#define MEMSIGHT_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* memsight run's exit status when a budget is broken (or cannot be checked); diff's gate too */
#define MS_EXIT_BUDGET	86

enum ms_budget {
	MS_BUDGET_LEAKED,	/* --max-leaked: tracked bytes still allocated at exit */
	MS_BUDGET_PEAK_RSS,	/* --max-peak-rss: the largest peak RSS of one process */
	MS_BUDGET_ALLOCATED,	/* --max-allocated: tracked bytes allocated in all */
	MS_BUDGET_GOROUTINES,	/* --max-goroutines-at-exit: Go goroutines alive at exit */
	MS_BUDGET_COUNT
};

/* The figures of a run that budgets limit. */
struct ms_budget_figures {
	uint64_t value[MS_BUDGET_COUNT];
	bool have[MS_BUDGET_COUNT];		/* measured */
	const char *why_not[MS_BUDGET_COUNT];	/* why not, when not (static) */
	bool estimate;				/* sampled: figures are estimates */
	bool lower_bound;			/* events lost: tracked figures are lower bounds */
};

enum ms_verdict { MS_VERDICT_HELD, MS_VERDICT_BROKEN, MS_VERDICT_UNKNOWN };

/* A budget for the processes of one name (their comm, or their executable's basename). */
#define MS_BUDGET_WHO_LEN	64
#define MS_BUDGET_NAMED_MAX	16

struct ms_budget_named {
	enum ms_budget budget;
	uint64_t limit;
	char who[MS_BUDGET_WHO_LEN];
};

/* budgets: up to 1 EiB; a count up to 2^40 */
#define MS_BUDGET_BYTES_MAX	(1ull << 60)
#define MS_BUDGET_COUNT_MAX	(1ull << 40)

/* The budgets asked for: the whole run's, and per process name. */
struct ms_budget_set {
	uint64_t total[MS_BUDGET_COUNT];
	bool total_given[MS_BUDGET_COUNT];
	struct ms_budget_named named[MS_BUDGET_NAMED_MAX];
	size_t nnamed;
};

struct ms_budget_result {
	enum ms_budget budget;
	char who[MS_BUDGET_WHO_LEN];	/* "": the whole run */
	uint64_t limit;
	uint64_t value;		/* the figure (0 when unknown) */
	uint64_t over;		/* value - limit when broken */
	enum ms_verdict verdict;
	const char *why_unknown;
};

/* "max-leaked" (the option's name), "leaked at exit" (what it limits) */
const char *budget__name(enum ms_budget b);
const char *budget__what(enum ms_budget b);
/* Does b limit a count (goroutines) rather than bytes? */
bool budget__is_count(enum ms_budget b);

/*
 * b's limit from text: a SIZE (4096, 512K, 1M) for a budget of bytes, a
 * plain decimal number for a count. 0, -EINVAL, -ERANGE (above
 * MS_BUDGET_BYTES_MAX / MS_BUDGET_COUNT_MAX).
 */
int budget__parse_limit(enum ms_budget b, const char *s, uint64_t *ret);

/*
 * Check the limits given (given[b] true) against the figures: one result per
 * budget given, in enum order, into ret (room for MS_BUDGET_COUNT). Returns
 * how many.
 */
size_t budget__check(const uint64_t limit[MS_BUDGET_COUNT], const bool given[MS_BUDGET_COUNT],
		     const struct ms_budget_figures *f, struct ms_budget_result *ret);

/* One limit, for whom ("" or NULL: the whole run), against its figures. */
void budget__check_one(enum ms_budget b, uint64_t limit, const char *who,
		       const struct ms_budget_figures *f, struct ms_budget_result *ret);

/*
 * "NAME=LIMIT" (a per-name budget) into ret, its budget set to b, LIMIT as
 * budget__parse_limit() reads it. 0, -EINVAL (no '=', an empty or too long
 * NAME, one with '/', a bad LIMIT), -ERANGE (LIMIT too large). A plain
 * LIMIT is not this: -EINVAL.
 */
int budget__parse_named(enum ms_budget b, const char *arg, struct ms_budget_named *ret);

/*
 * Budget b as "LIMIT" (the whole run's) or "NAME=LIMIT" into s, replacing the
 * one of the same budget and name. 0, -EINVAL (malformed), -ERANGE (too
 * large), -E2BIG (MS_BUDGET_NAMED_MAX per-name budgets already).
 */
int budget_set__add(struct ms_budget_set *s, enum ms_budget b, const char *arg);

/* s's per-name budget b for who (len bytes), or NULL. */
const struct ms_budget_named *budget_set__find(const struct ms_budget_set *s, enum ms_budget b,
					       const char *who, size_t len);

/* Add to s the budgets of base that s does not set itself (s overrides base). */
void budget_set__under(struct ms_budget_set *s, const struct ms_budget_set *base);

/* Did any of the n results break its budget or fail to check it? */
bool budget__failed(const struct ms_budget_result *r, size_t n);

#endif
