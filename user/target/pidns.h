/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pidns.h - PIDs as another PID namespace (below ours) sees them: a
 * client in a container names its processes by its own PIDs.
 */
#ifndef MEMSIGHT_PIDNS_H
#define MEMSIGHT_PIDNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PIDNS_LEVELS	33	/* the kernel nests at most 32 namespaces below the first */

/* A PID namespace, and how far below the proc root's one it is (0: the same). */
struct pidns_view {
	dev_t dev;
	ino_t ino;
	unsigned int level;
};

/* The NSpid line of a status file's text: PIDs from the outermost namespace in. */
int pidns__parse_nspid(const char *status, pid_t *ret, unsigned int max, unsigned int *ret_n);
/* The namespace process pid lives in, as seen from <root>. */
int pidns__view_of(const char *root, pid_t pid, struct pidns_view *ret);
/* Our pid as v sees it; -ESRCH if v cannot see it. */
int pidns__to_view(const char *root, const struct pidns_view *v, pid_t pid, pid_t *ret);
/* The process v calls vpid, as our pid; -ESRCH if there is none. */
int pidns__from_view(const char *root, const struct pidns_view *v, pid_t vpid, pid_t *ret);

#endif /* MEMSIGHT_PIDNS_H */
