/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * metrics.h - Prometheus text exposition of memsightd's state.
 *
 * The daemon thread fills a metrics_snapshot and renders it; the HTTP
 * thread (libmicrohttpd) only hands out the last rendered text, so a slow
 * or hostile scraper never touches the BPF session or the daemon's data.
 */
#ifndef MEMSIGHT_METRICS_H
#define MEMSIGHT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "export/http_server.h"
#include "model/model.h"
#include "target/cgroup.h"
#include "target/container.h"
#include "target/podinfo.h"
#include "target/procfs.h"
#include "bpf/session.h"

#define METRICS_TOP_MAX		100
#define METRICS_FRAME_MAX	256	/* bytes of a frame label value */
#define METRICS_GO_SITES	5	/* goroutine creation sites per process with series
					 * of their own (the most goroutines); the rest: "other" */
#define METRICS_REASON_MAX	320	/* bytes of a reason label value */

struct metrics_stack {
	char frame[METRICS_FRAME_MAX];
	uint64_t inuse_bytes;
	double growth_per_min;
};

struct metrics_go_site {
	char site[METRICS_FRAME_MAX];	/* "func file:line", or "other" */
	uint64_t count;
	bool have_rate;			/* never for "other": it merges sites of different spans */
	double per_min;
};

struct metrics_proc {
	int pid;
	char comm[MS_COMM_LEN + 1];
	uint64_t inuse_bytes, inuse_count, alloc_bytes, alloc_count;
	bool have_usable;		/* the allocator's usable sizes were read */
	uint64_t inuse_usable_bytes;
	char usable_unavailable[METRICS_REASON_MAX];	/* !have_usable: why */
	bool have_status;
	struct ms_proc_status status;
	bool have_cgroup;		/* its memory cgroup was read: */
	struct ms_cgroup_mem cgroup;	/* each figure has its own state */
	char cgroup_unavailable[METRICS_REASON_MAX];	/* !have_cgroup: why */
	bool have_container;		/* the cgroup path names a container: */
	struct ms_container container;
	bool have_pod;			/* a Kubernetes container whose pod is known: */
	struct ms_pod pod;
	bool have_growth;		/* two snapshots in the growth window */
	double growth_per_min;
	bool have_lost;			/* known while the process is watched */
	uint64_t lost;			/* its events not fully recorded */
	bool have_goroutines, have_go_heap;
	uint64_t goroutines;
	uint64_t go_heap_alloc, go_heap_inuse, go_heap_idle, go_heap_released, go_next_gc;
	bool have_go_next_gc;	/* the heap goal was read (it was located and is set) */
	uint64_t go_heap_live;	/* marked live by the last GC */
	bool have_go_heap_live;	/* ... and a GC has finished, and it was located */
	char go_heap_unavailable[METRICS_REASON_MAX];	/* is_go && !have_go_heap: why */
	uint32_t go_num_gc;
	bool is_go;
	char go_unavailable[METRICS_REASON_MAX];	/* is_go && !have_goroutines: why */
	bool have_go_growth;
	double go_growth_per_min;	/* all goroutines, over the growth window */
	uint32_t ngo_sites;
	struct metrics_go_site go_sites[METRICS_GO_SITES + 1];	/* most goroutines first,
								 * then "other" if any */
	uint32_t nstacks;
	struct metrics_stack stacks[METRICS_TOP_MAX];
};

struct metrics_snapshot {
	struct ms_loss loss;
	struct ms_map_usage maps;
	uint64_t attach_errors;
	uint64_t oom_incidents;
	size_t nprocs;
	struct metrics_proc procs[];	/* flexible */
};

struct metrics_snapshot *metrics_snapshot__new(size_t nprocs);

/* Render in the Prometheus text format (0.0.4). Label values are escaped and
 * invalid UTF-8 replaced, so no process name can break a scrape. */
int metrics__render(const struct metrics_snapshot *m, FILE *out);

struct metrics_server;

#define METRICS_SITES_MORE	4	/* route sets served besides /metrics */

/*
 * Serve /metrics, and the routes of nmore sites (copied) on the same
 * listener, with acc's TLS and credentials (NULL: plain, open; its auth is
 * taken, as http_server__start() takes it).
 */
int metrics_server__start(const char *host, uint16_t port, uint32_t top_stacks,
			  const struct http_site *more, size_t nmore,
			  const struct http_access *acc, struct metrics_server **ret,
			  char *err, size_t errlen);
/* The listener's credentials from now on (taken; see http_server__set_auth). */
void metrics_server__set_auth(struct metrics_server *srv, struct http_auth *auth);
/* Render m and make it what scrapes see; takes ownership of m. */
void metrics_server__publish(struct metrics_server *srv, struct metrics_snapshot *m);
uint32_t metrics_server__top_stacks(const struct metrics_server *srv);
void metrics_server__stop(struct metrics_server *srv);

#endif
