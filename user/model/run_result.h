/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * run_result.h - what `memsight run` saw of a command and its processes, and
 * the figures its budgets limit (computed here, once, for every report).
 */
#ifndef MEMSIGHT_RUN_RESULT_H
#define MEMSIGHT_RUN_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/budget.h"
#include "model/model.h"

/* Stacks a report names per process and budget at most, and a process keeps. */
#define MS_RUN_STACKS_MAX	64

/* One process of the run, as it ended. */
struct run_proc {
	pid_t pid;
	pid_t ppid;			/* 0: the command itself */
	struct ms_profile *p;		/* collected as it exited; NULL: see why_none */
	const char *why_none;		/* static */
	char mechanism[320];		/* how its allocations were seen */
	bool started;			/* a descendant: let go after its first stop */
	bool running_at_end;		/* still running when the command ended: left out */
	bool exit_seen;			/* its exit stop was handled (one thread's) */
	bool reaped;
	int wstatus;			/* its wait status, once reaped */
	size_t stacks_dropped;		/* run_result__trim() */
	/*
	 * The dropped stacks' figures summed by kind (no frames; kind and the
	 * alloc, free and in-use counts set): what a profile of every stack
	 * (--pprof) shows as the stacks run did not keep.
	 */
	struct ms_stack dropped[MS_KIND__MAX];
	bool have_peak_at;
	double peak_at_s;		/* RSS peak reached, seconds after the run started */
};

struct run_result {
	char *const *argv;		/* the command */
	int exit_code;			/* the command's, as a shell gives it (128 + signal) */
	int exec_errno;			/* the command could not be executed: why */
	double elapsed_s;
	uint64_t sample_bytes;		/* --sample-bytes; 0: every allocation */
	struct run_proc *procs;		/* procs[0] is the command */
	size_t nprocs, cap;
	struct ms_budget_figures fig;	/* run_result__figures() */
	struct ms_budget_result budgets[MS_BUDGET_COUNT + MS_BUDGET_NAMED_MAX];
	size_t nbudgets;
	bool failed;			/* a budget broken or not checkable */
};

/* A new process record (zeroed but pid, ppid), or NULL (out of memory). */
struct run_proc *run_result__add(struct run_result *r, pid_t pid, pid_t ppid);
struct run_proc *run_result__find(struct run_result *r, pid_t pid);
void run_result__free(struct run_result *r);

/* The shell's status for a wait status: the exit code, or 128 + the signal. */
int run_result__shell_status(int wstatus);

/*
 * Fill r->fig from the processes: bytes still allocated at exit and bytes
 * allocated (tracked, summed over processes), the largest peak RSS of one
 * process, the goroutines of Go processes alive at their exits but their main
 * goroutines (summed). A figure that a process could not give is unavailable for the run;
 * a descendant still running when the command ended is left out.
 */
void run_result__figures(struct run_result *r);

/*
 * The goroutines a Go process left alive at its exit, read from its memory
 * then, besides its main goroutine (the process itself, alive until the end
 * whichever goroutine ends it): true and *ret, or false (not a Go process, or
 * its goroutines could not be read: p->go says why).
 */
bool run_result__goroutines_left(const struct ms_profile *p, uint64_t *ret);

/* Is rp's process named who (its comm, or its executable's basename)? NULL: all are. */
bool run_result__is_named(const struct run_proc *rp, const char *who);

/*
 * The same figures for the processes named who only, into f. None named so:
 * every figure unavailable ("no process named who ran"). A process that was
 * not observed has no name: its figures are unavailable for every name.
 */
void run_result__figures_of(const struct run_result *r, const char *who,
			    struct ms_budget_figures *f);

/*
 * Indices of the stacks of p "behind" budget b, most first, at most max:
 * in use at exit (leaked, peak RSS: what was held when it ended) or
 * allocated in all. Returns how many (stacks with a zero figure left out).
 */
size_t run_result__stacks_behind(const struct ms_profile *p, enum ms_budget b, size_t *idx,
				 size_t max);

/*
 * Indices into p->go.groups of the creation sites behind a goroutines
 * budget, biggest first, at most max: every site but the main goroutine's.
 * Returns how many.
 */
size_t run_result__sites_behind(const struct ms_profile *p, size_t *idx, size_t max);

/*
 * Keep of rp's profile only the stacks some budget could name: the keep that
 * hold most at exit and the keep that allocated most (a make check runs
 * thousands of processes: their memory stays bounded). Totals unchanged;
 * the dropped stacks' figures go to rp->dropped. 0 or -ENOMEM.
 */
int run_result__trim(struct run_proc *rp, size_t keep);

#endif
