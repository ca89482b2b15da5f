/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup.h - the memory cgroup of a process: limits, usage and counters.
 *
 * The cgroup comes from /proc/PID/cgroup (the v1 "memory" line, else the v2
 * "0::" line); where its files live comes from the reader's mountinfo (the
 * memory controller's cgroup mount for v1, the cgroup2 mount for v2), so a
 * daemon that sees the host's hierarchy mounted somewhere else still finds
 * them. Every figure carries its own state: a limit of "max" is unlimited,
 * a file the kernel does not have is unavailable with a reason, never 0.
 * Functions return 0 or -errno and never log.
 */
#ifndef MEMSIGHT_CGROUP_H
#define MEMSIGHT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MS_CG_PATH_MAX 4096

enum ms_cg_state {
	MS_CG_UNREAD = 0,	/* not read (the zeroed struct) */
	MS_CG_OK,		/* v holds the figure */
	MS_CG_UNLIMITED,	/* a limit that is "max" or the kernel's no-limit value */
	MS_CG_MISSING,		/* this kernel / cgroup version has no such file or key */
	MS_CG_ERROR,		/* the file exists but could not be read or parsed */
};

struct ms_cg_value {
	uint64_t v;
	enum ms_cg_state state;
	const char *why;	/* static text for MISSING / ERROR / UNLIMITED, else NULL */
};

/* Memory pressure (PSI): share of wall time stalled, over 10 s, and the total stall. */
struct ms_cg_psi {
	struct ms_cg_value some_avg10_centi;	/* percent x 100 */
	struct ms_cg_value full_avg10_centi;
	struct ms_cg_value some_total_us;
	struct ms_cg_value full_total_us;
};

struct ms_cgroup_mem {
	int version;			/* 1 or 2 */
	char path[MS_CG_PATH_MAX];	/* as /proc/PID/cgroup names it */
	char dir[MS_CG_PATH_MAX];	/* its directory as this process sees it */
	struct ms_cg_value limit;	/* memory.max / memory.limit_in_bytes */
	struct ms_cg_value high;	/* memory.high (v2 only) */
	struct ms_cg_value usage;	/* memory.current / memory.usage_in_bytes */
	struct ms_cg_value peak;	/* memory.peak / memory.max_usage_in_bytes */
	struct ms_cg_value swap;	/* memory.swap.current / memory.stat "swap" */
	struct ms_cg_value oom;		/* memory.events "oom" (v2 only) */
	struct ms_cg_value oom_kill;	/* memory.events / memory.oom_control "oom_kill" */
	/* What counts against the limit, from memory.stat (whole subtree). */
	struct ms_cg_value anon;
	struct ms_cg_value file;	/* page cache */
	struct ms_cg_value kernel;	/* kernel memory (v2 "kernel", v1 kmem usage) */
	struct ms_cg_psi psi;
};

/* Where the reader looks: production uses "/proc" and "/proc/self/mountinfo". */
struct ms_cgroup_env {
	const char *proc_root;
	const char *mountinfo;
	const char *fs_prefix;	/* prepended to mount points ("" or a fixture root) */
};

/*
 * The memory cgroup of a /proc/PID/cgroup text: the v1 line whose controller
 * list names "memory" wins over the v2 "0::" line (with both, the v1 memory
 * controller is the one that accounts). 0, -ENOENT (no such line), -EINVAL.
 */
int cgroup__parse_proc_cgroup(const char *text, int *ret_version, char *ret_path, size_t len);
/* Its v2 "0::" line only (what rules match): as above, -ENODATA without one. */
int cgroup__parse_unified(const char *text, char *ret_path, size_t len);

/*
 * A cgroup path as a reader in a cgroup namespace reads it ("/../../podY/c":
 * up from the namespace's root to a common ancestor, then down; the kernel
 * writes /proc/PID/cgroup and mountinfo's roots so) made absolute, given the
 * host path of that root, nsroot ("/" outside a namespace). 0, -EXDEV (it
 * climbs above "/": nsroot was not found), -EINVAL, -ENAMETOOLONG.
 */
int cgroup__absolute(const char *nsroot, const char *path, char *ret, size_t len);

/*
 * The host path of this process's cgroup namespace root for version: "/"
 * when nothing in mountinfo is mounted above it; else the directory, under
 * the highest such mount (the host's hierarchy mounted into a pod), that is
 * the mount of our namespace's root (same device and inode), found by a
 * bounded walk whose answer is kept. 0, -ENOENT (not found), -E2BIG, -errno.
 */
int cgroup__ns_root(const char *mountinfo, int version, const char *fs_prefix, char *ret,
		    size_t len);

/*
 * path made absolute in place when it climbs above our namespace's root,
 * with the live mountinfo (rules match host paths). 0, -EXDEV, -errno.
 */
int cgroup__absolute_live(int version, char *path, size_t len);

/*
 * The directory of cgroup path (absolute, see cgroup__absolute) in mountinfo
 * text: the v1 "cgroup" mount whose super options name "memory", or the
 * "cgroup2" mount, whose root (made absolute with nsroot) is the longest
 * prefix of path. 0, -ENOENT (not mounted here), -EINVAL, -ENAMETOOLONG.
 */
int cgroup__resolve_dir(const char *mountinfo, int version, const char *nsroot, const char *path,
			char *ret_dir, size_t len);

/* Value of "key N" in a flat-keyed file (memory.stat, memory.events, oom_control). */
int cgroup__flat_key(const char *text, const char *key, uint64_t *ret);

/* A limit file: a number, "max", or v1's page-rounded LONG_MAX (unlimited). */
int cgroup__parse_limit(const char *text, struct ms_cg_value *ret);

/* memory.pressure ("some avg10=0.00 avg60=... total=N" and "full ..."). */
int cgroup__parse_psi(const char *text, struct ms_cg_psi *ret);

/*
 * Everything above for pid. A figure the kernel lacks is MISSING with a
 * reason; the call fails only when the cgroup itself cannot be found
 * (-ESRCH: process gone, -ENOENT: no memory cgroup mounted here).
 */
int cgroup__read(const struct ms_cgroup_env *env, pid_t pid, struct ms_cgroup_mem *ret);

/*
 * Only the memory cgroup path of pid, as /proc/PID/cgroup has it (relative to
 * our cgroup namespace: see cgroup__absolute_live), for rules, which need no
 * figures. 0, -ESRCH (process gone), -ENOENT, -EINVAL, -ENOMEM.
 */
int cgroup__path_of(const char *proc_root, pid_t pid, int *ret_version, char *ret_path,
		    size_t len);
/* The v2 path of pid (cgroup__parse_unified), for rules: the same errors. */
int cgroup__unified_of(const char *proc_root, pid_t pid, char *ret_path, size_t len);

/*
 * cgroup__read() as this process sees the system (/proc and its own
 * mountinfo) into a new *ret (free it); *ret stays NULL on error.
 */
int cgroup__read_live(pid_t pid, struct ms_cgroup_mem **ret);

/*
 * bytes as a share of the cgroup's limit, in parts per 10000; -ENODATA when
 * the limit is unlimited or unavailable. The one place that computes it.
 */
int cgroup__share_of_limit(const struct ms_cgroup_mem *cg, uint64_t bytes, uint32_t *ret_bp);

/* "ok" / "unlimited" / the reason, for text and JSON views. */
const char *ms_cg_value__why(const struct ms_cg_value *v);

#endif
