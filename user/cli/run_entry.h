/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * run_entry.h - stop a traced process, just exec'd, once more at its
 * program's entry point (a breakpoint written there at the exec stop): by
 * then the dynamic loader has mapped every library the program needs, so
 * an allocator in one of them (jemalloc, tcmalloc) can be probed before
 * the program's first instruction. x86-64 only; elsewhere arming fails
 * with -EOPNOTSUPP and nothing changes.
 */
#ifndef MEMSIGHT_RUN_ENTRY_H
#define MEMSIGHT_RUN_ENTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct run_entry {
	pid_t pid;		/* 0: unused */
	uint64_t entry;		/* AT_ENTRY */
	long word;		/* the text the breakpoint replaced */
};

/* At pid's exec stop: the breakpoint written, e filled. 0 or -errno. */
int run_entry__arm(pid_t pid, struct run_entry *e);

/* Is a SIGTRAP stop (wstatus) of e->pid the breakpoint's? */
bool run_entry__hit(const struct run_entry *e, int wstatus);

/* The text put back and the program counter set to the entry again; e cleared. 0 or -errno. */
int run_entry__disarm(struct run_entry *e);

/*
 * The run is over and e->pid has not reached its entry point (still in the
 * loader): stopped, its text put back (and its program counter, had it just
 * hit the breakpoint), and detached, so it runs on untraced; a breakpoint
 * left behind would kill it with SIGTRAP. e cleared. 0 or -errno.
 */
int run_entry__release(struct run_entry *e);

#endif /* MEMSIGHT_RUN_ENTRY_H */
