/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gosites.h - goroutine counts of one Go process by creation site (the `go`
 * statement: function, file, line) over time, and how fast each site grows.
 *
 * The users' most common leak is a goroutine started per request that never
 * ends: its site's count grows with traffic while every other site stays
 * flat. Each sample records the count of every tracked site; the score is
 * growth.c's least-squares slope of that count over the growth window
 * (goroutines per minute), the same formula as the heap's leak score.
 *
 * Bounded: at most GOSITES_MAX sites are tracked per process. The others
 * are folded into one "other" bucket, which is sampled and ranked like a
 * site and says how many sites it holds: goroutines are never dropped, the
 * per-site counts plus "other" add up to the process's goroutines. When the
 * table is full, a site with no goroutine during the whole window gives its
 * slot to a new one (nothing of its history is lost: it was all zeros), and
 * a new site more than twice as big as the smallest tracked one takes that
 * one's slot; a site's growth is then measured only from when it got its
 * slot, since before that its goroutines were counted in "other".
 *
 * Library-like: no logging, 0 / -errno.
 */
#ifndef MEMSIGHT_GOSITES_H
#define MEMSIGHT_GOSITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/growth.h"

#define GOSITES_MAX		32	/* creation sites tracked per process */
#define GOSITES_OTHER_ID	(-1)	/* the growth key of the "other" bucket */
#define GOSITES_LABEL_MAX	256	/* "func file:line", truncated */
#define GOSITES_NAME_MAX	4096	/* bytes kept of a function or file name */

/* One creation site as a sample reports it (strings are copied). */
struct gosite_sample {
	uint64_t pc;		/* identity of the site: the `go` statement's return PC */
	const char *func;	/* NULL if unknown */
	const char *file;	/* NULL if unknown */
	int line;
	uint64_t count;		/* user goroutines created there, alive now */
};

struct gosite {
	uint64_t pc;
	int32_t id;		/* growth key: never reused within one process */
	char *func;		/* NULL if unknown */
	char *file;
	int line;
	uint64_t count;		/* at the last sample */
	uint64_t since_ns;	/* growth is measured from here (0: every sample) */
	uint64_t last_seen_ns;	/* last sample with a goroutine there */
};

struct gosites {
	struct growth growth;	/* counts by site id, "other" as GOSITES_OTHER_ID */
	struct gosite sites[GOSITES_MAX];
	uint32_t n;
	int32_t next_id;
	bool folded_ever;	/* some site went to "other": new sites' pasts are unknown */
	uint64_t samples;
	uint64_t last_ns;	/* time of the last sample */
	uint64_t total;		/* goroutines at the last sample */
	uint64_t other;		/* ... of which in sites not tracked */
	uint32_t other_sites;	/* how many sites "other" held at the last sample */
	uint64_t replaced;	/* tracked sites that gave their slot to a bigger one */
};

void gosites__init(struct gosites *gs);
void gosites__free(struct gosites *gs);

/*
 * Record one sample taken at now_ns: v[0..n) in any order (entries with a
 * zero count are ignored), total = all user goroutines, which may be more
 * than the sum of v (goroutines the reader could not group go to "other").
 * Samples older than window_ns are dropped. 0, -EINVAL (time went back:
 * nothing changes), -ENOMEM (the sample is not added to the history, though
 * the sites' current counts may be partly updated; the next sample mends them).
 */
int gosites__add(struct gosites *gs, uint64_t now_ns, uint64_t window_ns,
		 const struct gosite_sample *v, size_t n, uint64_t total);

/* A site's (or "other"'s) standing at the last sample. */
struct gosite_rank {
	const struct gosite *site;	/* NULL: the "other" bucket */
	uint64_t count;
	bool have_rate;			/* two samples or more since the site got its slot */
	double per_min;			/* goroutines per minute; 0 if !have_rate */
	double span_s;			/* seconds the rate covers */
};

enum gosites_order {
	GOSITES_BY_GROWTH,	/* per_min descending, sites without a rate last; ties by count */
	GOSITES_BY_COUNT,	/* count descending; ties by per_min */
};

/*
 * The tracked sites with a goroutine now, and "other" if it holds any, in
 * order, into ret[0..GOSITES_MAX] (GOSITES_MAX + 1 entries); returns how
 * many. Valid until the next gosites__add().
 */
size_t gosites__rank(const struct gosites *gs, uint64_t window_ns, enum gosites_order order,
		     struct gosite_rank *ret);

/*
 * The k sites with the most goroutines (never "other"), by count, into
 * ret[0..k); *ret_rest gets every other goroutine: "other" and the sites
 * past k, so the k counts plus *ret_rest are all the goroutines. Returns how
 * many sites ret holds. For bounded exports such as /metrics.
 */
size_t gosites__top(const struct gosites *gs, uint64_t window_ns, size_t k,
		    struct gosite_rank *ret, uint64_t *ret_rest);

/* Growth of all the process's goroutines, per minute; false with < 2 samples. */
bool gosites__total_rate(const struct gosites *gs, uint64_t window_ns, double *ret_per_min);

/* "main.leakHandler main.go:35" (file without its directory); "other" for NULL. */
void gosites__label(const struct gosite *s, char *buf, size_t len);

#endif
