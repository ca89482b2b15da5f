/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * session.h - owns the BPF skeleton and the processes attached to it.
 *
 * Lifecycle (libbpf-bootstrap style): open -> size maps -> load -> attach
 * per target. Every probe is an fd-owned bpf_link: when the owner exits,
 * the kernel drops every probe, nothing stays attached.
 */
#ifndef MEMSIGHT_SESSION_H
#define MEMSIGHT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memsight_abi.h"
#include "procfs.h"

struct ms_session_opts {
	uint32_t live_entries;		/* 0: MS_DEF_LIVE_ENTRIES */
	uint32_t stack_entries;		/* 0: MS_DEF_STACK_ENTRIES */
	uint32_t agg_entries;		/* 0: MS_DEF_AGG_ENTRIES */
	uint32_t max_pids;		/* 0: MS_DEF_PIDS */
	bool no_multi;			/* force per-function links (old kernels, tests) */
};

/* One allocator library (or static executable) probed in a target. */
struct ms_module {
	char *path;		/* as mapped in the target ("/usr/lib/.../libc.so.6") */
	char *open_path;	/* how we reached it ("/proc/PID/root/...", map_files) */
	uint64_t inode;
	unsigned int nprobes;
};

struct ms_target {
	pid_t pid;
	uint64_t start_ticks;		/* identity: pid + start time */
	char comm[MS_COMM_LEN + 1];
	char *exe;
	struct ms_maps maps;		/* snapshot at attach, for symbolising after exit */
	struct ms_module *modules;
	size_t nmodules;
	struct bpf_link **links;	/* per-function links (fallback) */
	size_t nlinks;
	size_t cap_links;
	int *link_fds;			/* uprobe_multi links: one per module and direction */
	size_t nlink_fds;
	struct ms_target *next;
};

struct ms_session;

/* Open, size and load the BPF programs. -errno; *errbuf says why. */
int ms_session__open(const struct ms_session_opts *opts, struct ms_session **ret,
		     char *errbuf, size_t errlen);
void ms_session__close(struct ms_session *s);

/*
 * Attach the allocator probes to a running process. Finds every mapped ELF
 * that defines malloc (libc, jemalloc, a static executable), attaches
 * through /proc/PID/root (or /proc/PID/map_files when the file on disk is
 * not the one mapped), and starts counting. On failure nothing stays
 * attached and *errbuf says why.
 */
int ms_session__attach(struct ms_session *s, pid_t pid, struct ms_target **ret,
		       char *errbuf, size_t errlen);

/* Remove the probes and this process's map entries. */
void ms_session__detach(struct ms_session *s, struct ms_target *t);

/* True while the same process (pid + start time) is alive. */
bool ms_target__alive(const struct ms_target *t);

/*
 * The path through which we can open the file mapped at m in process pid:
 * /proc/PID/root/<path>, or /proc/PID/map_files/<range> when the file at
 * that path is not the mapped one (deleted or replaced). Caller frees.
 */
char *ms_map__open_path(pid_t pid, const struct ms_map *m);

/* True when probes are attached as uprobe_multi links. */
bool ms_session__multi(const struct ms_session *s);

int ms_session__aggs_fd(const struct ms_session *s);
int ms_session__stacks_fd(const struct ms_session *s);
int ms_session__live_fd(const struct ms_session *s);
int ms_session__counters_fd(const struct ms_session *s);

#endif /* MEMSIGHT_SESSION_H */
