/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rules.h - which processes memsightd watches on its own.
 *
 * An ordered list of include/exclude rules keyed on comm, exe or cgroup.
 * The first rule that matches a process decides; no match = not watched.
 *
 *   comm=GLOB	fnmatch(3) on /proc/PID/comm, flags 0 ('*' also matches '/')
 *   exe=GLOB	fnmatch(3) on the executable path, flags 0, so a '*' after
 *		"/opt/app/" covers everything under /opt/app, at any depth
 *   cgroup=PATH	prefix of the cgroup v2 path ending at a component
 *		boundary: /system.slice/api matches /system.slice/api and
 *		/system.slice/api/x, not /system.slice/apix; "/" matches all
 *   pod=GLOB, namespace=GLOB, container=GLOB
 *		fnmatch(3) on the Kubernetes pod name, its namespace and the
 *		container name (target/podinfo.h); a process whose pod is not
 *		known matches none of them
 *
 * Functions return 0 or -errno and never log; the ones that can reject
 * user input also write a human message to err (may be NULL / errlen 0).
 */
#ifndef MEMSIGHT_RULES_H
#define MEMSIGHT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MS_RULES_MAX		1024
#define MS_RULE_PATTERN_MAX	1024	/* bytes; the same as a ctl value */
#define MS_RULE_COMM_MAX	15	/* TASK_COMM_LEN - 1: longer comms are truncated */
#define MS_RULE_LINE_MAX	(MS_RULE_PATTERN_MAX + 32)	/* rules__format() output */

enum ms_rule_action {
	MS_RULE_INCLUDE,
	MS_RULE_EXCLUDE,
};

enum ms_rule_key {
	MS_RULE_COMM,
	MS_RULE_EXE,
	MS_RULE_CGROUP,
	MS_RULE_POD,
	MS_RULE_NAMESPACE,
	MS_RULE_CONTAINER,
};

/* What rules look at; NULL = unknown, matches no rule on that key. */
struct ms_rule_subject {
	const char *comm, *exe, *cgroup;
	const char *pod, *namespace, *container;	/* Kubernetes names */
};

struct ms_rule {
	enum ms_rule_action action;
	enum ms_rule_key key;
	char *pattern;		/* owned; cgroup patterns without a trailing '/' */
};

/* A zeroed struct is an empty rule list. */
struct ms_rules {
	struct ms_rule *v;
	size_t n;
	size_t cap;
};

/*
 * Insert a rule before index (index == n appends). Patterns are 1 to
 * MS_RULE_PATTERN_MAX bytes, no control characters, no leading or trailing
 * space; comm literals (no glob) at most MS_RULE_COMM_MAX bytes; exe an
 * absolute path or starting with a glob; cgroup an absolute path. Returns
 * 0, -EINVAL (bad pattern or index), -ENOSPC (MS_RULES_MAX reached) or
 * -ENOMEM.
 */
int rules__insert(struct ms_rules *rules, size_t index, enum ms_rule_action action,
		  enum ms_rule_key key, const char *pattern, char *err, size_t errlen);
int rules__add(struct ms_rules *rules, enum ms_rule_action action, enum ms_rule_key key,
	       const char *pattern, char *err, size_t errlen);

/*
 * Append the rule written as "include comm=leaky*" (spaces or tabs between
 * the words, optional spaces around '='; the pattern is the rest of the
 * line, trimmed). line need not be NUL-terminated. Errors as rules__insert.
 */
int rules__parse_line(struct ms_rules *rules, const char *line, size_t len,
		      char *err, size_t errlen);

/*
 * Index of the first rule that matches, or -1. NULL comm/exe/cgroup
 * (unknown, e.g. a kernel thread has no exe) matches no rule on that key.
 */
ssize_t rules__first_match(const struct ms_rules *rules, const char *comm, const char *exe,
			   const char *cgroup);
/* The same for a subject with its pod. */
ssize_t rules__first_match_subject(const struct ms_rules *rules, const struct ms_rule_subject *s);
/* True when the first matching rule is an include. */
bool rules__match(const struct ms_rules *rules, const char *comm, const char *exe,
		  const char *cgroup);

/*
 * Remove every rule with exactly this action, key and pattern (a cgroup
 * pattern is compared with its trailing '/' dropped, as stored).
 * 0, or -ENOENT when none was there.
 */
int rules__remove(struct ms_rules *rules, enum ms_rule_action action, enum ms_rule_key key,
		  const char *pattern);

/* NULL-safe; leaves an empty list. */
void rules__free(struct ms_rules *rules);

/* "include", "comm", ...; NULL when out of range. */
const char *rules__action_name(enum ms_rule_action action);
const char *rules__key_name(enum ms_rule_key key);
/*
 * The rule as rules__parse_line() reads it, NUL-terminated; length or
 * -ENOSPC (MS_RULE_LINE_MAX always suffices) / -EINVAL.
 */
int rules__format(const struct ms_rule *rule, char *buf, size_t len);

#endif /* MEMSIGHT_RULES_H */
