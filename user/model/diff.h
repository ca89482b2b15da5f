/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * diff.h - regressions against a baseline: two reports' processes and stacks
 * matched, their growth, and the gate (`memsight diff`).
 *
 * A report is what export/report_read.c reads from `memsight dump --format
 * json` or `memsight run --report`: processes, each with totals and stacks.
 * Two runs load their code at different addresses (ASLR), so nothing here
 * compares addresses:
 *   - a process is identified by its name: comm and the basename of exe
 *     ("leaky leaky"); processes of one name in one report are summed (a
 *     `make check` runs many of one test binary);
 *   - a stack by its key: the allocating call's kind and its frames, each
 *     "func file:line" (file's basename), or "func" without line information,
 *     or "module+0xOFFSET" (the offset in the file) without a symbol, or "?"
 *     without a module, one a line. Stacks of one key in one process are
 *     summed (two call sites on one line, say).
 * Growth is NEW - BASE of the chosen figure; a row is over the gate when it
 * grew more than max_growth_pct percent of BASE AND more than min_bytes (a
 * row new in NEW grew by an infinite percentage). The gate looks at the total
 * of all processes and at each stack; vanished rows never trip it.
 *
 * Pure: no I/O, no logging. Functions return 0 or -errno.
 */
#ifndef MEMSIGHT_DIFF_H
#define MEMSIGHT_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum diff_metric {
	DIFF_INUSE,		/* bytes in use at the report's moment */
	DIFF_ALLOC,		/* bytes allocated over the observation */
	DIFF_METRICS
};

/* Limits on what a report may hold (hostile files): past them, -E2BIG. */
#define DIFF_MAX_PROCS		4096
#define DIFF_MAX_STACKS		(1u << 20)
#define DIFF_MAX_KEY		16384

struct diff_stack {
	char *key;				/* kind, then frames, '\n'-separated */
	uint64_t bytes[DIFF_METRICS];
};

struct diff_proc {
	char *name;				/* "comm exe-basename" */
	uint64_t total[DIFF_METRICS];
	struct diff_stack *stacks;
	size_t nstacks, cap;
	unsigned int merged;			/* processes of this name summed */
};

struct diff_report {
	struct diff_proc *procs;
	size_t nprocs, cap;
	size_t nstacks;				/* over all processes, for the limit */
	unsigned int skipped;			/* processes the report had no profile for */
	bool estimates;				/* some figure is a sampled estimate */
	bool lower_bound;			/* some process lost events */
};

void diff_report__free(struct diff_report *r);
/* The process of that name, added with zero figures if new. NULL + errno. */
struct diff_proc *diff_report__proc(struct diff_report *r, const char *name);
/* Adds bytes to the stack of that key in p (created if new). */
int diff_report__add_stack(struct diff_report *r, struct diff_proc *p, const char *key,
			   const uint64_t bytes[DIFF_METRICS]);
/* Sorts processes and stacks and sums stacks of one key; call once all are added. */
void diff_report__finish(struct diff_report *r);
/*
 * The names and keys above, built in one place for every format diff reads
 * (JSON reports, pprof profiles). A process's name: "comm exe-basename", "?"
 * for either missing (NULL or ""); NULL + errno (ENOMEM).
 */
char *diff__proc_name(const char *comm, const char *exe);
/* Appends "\n" (unless first) and a printf'd segment to key (room for DIFF_MAX_KEY + 1
 * bytes, *len used); -E2BIG past DIFF_MAX_KEY. */
int diff__key_add(char *key, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Appends one frame (any string may be "" but not NULL; off is the module
 * offset as written, "0x1234"): "func file:line" (file's basename) unless
 * funcs_only or a part is missing, else "func", else "module+off", else "?".
 */
int diff__frame_key(char *key, size_t *len, const char *func, const char *file, uint64_t line,
		    const char *mod, const char *off, bool funcs_only);
/* Sums figures without wrapping (a hostile report's huge numbers saturate). */
uint64_t diff__sat_add(uint64_t a, uint64_t b);

enum diff_state {
	DIFF_BOTH,		/* in BASE and in NEW */
	DIFF_NEW,		/* only in NEW */
	DIFF_GONE,		/* only in BASE */
};

struct diff_row {
	const char *proc;	/* NULL for the total of all processes */
	const char *key;	/* NULL for a total */
	enum diff_state state;
	uint64_t base, new;
	int64_t growth;		/* new - base, saturated to the int64 range */
	double pct;		/* growth as a percentage of base; INFINITY when base is 0 */
	bool over;		/* over both thresholds: a regression */
};

struct diff_opts {
	enum diff_metric metric;
	double max_growth_pct;	/* >= 0 */
	uint64_t min_bytes;
};

struct diff_result {
	struct diff_row total;		/* all processes */
	struct diff_row *procs;		/* each process's total, by name */
	size_t nprocs;
	struct diff_row *stacks;	/* every stack that changed, by growth, largest first */
	size_t nstacks;
	size_t nover;			/* rows over the gate: the total and stacks */
};

/* base and new must outlive *ret (rows point at their names and keys). */
int diff__compute(const struct diff_report *base, const struct diff_report *new,
		  const struct diff_opts *o, struct diff_result *ret);
void diff_result__free(struct diff_result *r);
/* Whether growth of base -> new trips the gate. */
bool diff__over(const struct diff_opts *o, uint64_t base, uint64_t new);
const char *diff_metric__name(enum diff_metric m);

#endif /* MEMSIGHT_DIFF_H */
