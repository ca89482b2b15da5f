/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * daemon_int.h - memsightd's state, shared by the files of the daemon and
 * by nothing else:
 *   daemon.c        setup, teardown and the epoll loop
 *   watch.c         the watch set: attach and detach by rule and by request,
 *                   pending attaches, exec/exit events
 *   snapshot.c      periodic snapshots of each watched process, the profile of
 *                   one, and the metrics model built from them
 *   recorder.c      the flight recorder: RSS history, incidents at OOM kills
 *   ctl_socket.c    the control socket's file: its directory, what was there,
 *                   its mode and group, removing it while it is ours
 *   ctl_server.c    the control socket: clients, their buffers, backpressure
 *   ctl_requests.c  the control requests: a handler per command
 *   pprof_serve.c   the profiles /debug/pprof/ asks for, and its index
 *   web_serve.c     the web view's API answers (/api/)
 */
#ifndef MEMSIGHT_DAEMON_INT_H
#define MEMSIGHT_DAEMON_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "ctl/ctl_proto.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "export/http_server.h"
#include "model/gosites.h"
#include "model/growth.h"
#include "target/cgroup.h"
#include "target/goproc.h"
#include "target/pidns.h"
#include "target/podinfo.h"
#include "target/procfs.h"
#include "bpf/session.h"

#define REASON_LEN		(MS_RULE_LINE_MAX + 16)
#define RSS_HISTORY		240	/* snapshots kept per process for incidents */
#define GO_SITE_GROUPS		1024	/* creation sites a goroutine walk groups; the rest
					 * count in gosites' "other" bucket */

enum src_type { SRC_SIGNAL, SRC_LISTEN, SRC_CLIENT, SRC_RING, SRC_TIMER, SRC_PENDING,
		SRC_USTACK, SRC_PPROF, SRC_WEB };

/* What an epoll event is about: the first member of what its data.ptr points to. */
struct src {
	enum src_type type;
};

struct client {
	struct src src;
	int fd;
	pid_t pid;
	uid_t uid;
	uint64_t deadline_ns;	/* dropped past this (see ctl_server.c) */
	struct ctl_linebuf lb;
	char *out;		/* response bytes not yet written */
	size_t out_len, out_off;
	bool closing;		/* close once out is written */
	bool refused;		/* not allowed: its first request gets the reason */
	bool other_pidns;	/* in another PID namespace: its PIDs are not ours */
	bool have_view;		/* ... one below ours: its PIDs are translated */
	struct pidns_view view;
	struct client *next;
};

/* Per watched process: hangs off ms_target.user. */
struct watched {
	char reason[REASON_LEN];	/* "pid" or the rule that matched */
	uint64_t attached_ns;
	struct growth growth;
	struct ms_proc_status status;
	bool have_status;
	char status_reason[96];		/* why not (after a reading) */
	struct ms_cgroup_mem *cgroup;	/* its memory cgroup at the last reading, or NULL: */
	int cgroup_err;			/* ... why not (0: not read yet) */
	char pod_for[MS_CONTAINER_ID_LEN + 1];	/* the Kubernetes container of the pod below, or "": */
	struct ms_pod pod;		/* its pod, when pod_err is 0 */
	int pod_err;			/* ... why not (podinfo__read) */
	bool have_totals;		/* the figures below were read */
	uint64_t inuse_bytes, inuse_count, alloc_bytes, alloc_count;
	struct ms_usable usable;	/* the same with the allocator's rounding */
	bool have_goroutines;
	uint64_t goroutines;
	char go_reason[GOPROC_REASON_LEN + 64];	/* a Go process: why no goroutines */
	char go_heap_reason[GOPROC_REASON_LEN + 64];	/* ... and why no heap figures */
	struct gosites gosites;		/* goroutines by creation site over time */
	bool have_go_heap;
	struct goproc_heap go_heap;
	/* RSS history for the flight recorder: one point per snapshot */
	struct {
		int64_t t;
		uint64_t rss, anon, file, shmem, heap, cg_usage, goroutines;
		bool have_cg_usage, have_goroutines;
	} hist[RSS_HISTORY];
	uint32_t hist_head, hist_n;
	bool incident_saved;
};

struct pending {
	pid_t pid;
	uint64_t start_ticks;
	char reason[REASON_LEN];
	unsigned int tries;
	uint64_t next_ns;
	struct pending *next;
};

/* The control socket's file, as bound (ctl_socket.c). */
struct ctl_socket {
	int dfd;		/* its directory, O_PATH */
	char name[NAME_MAX + 1];
	dev_t dev;		/* the socket we bound: teardown removes only that one */
	ino_t ino;
	bool bound;
};

struct daemon {
	struct daemon_opts opts;
	struct ms_config cfg;
	struct ms_session *s;
	struct symcache *cache;
	struct metrics_server *metrics;
	struct pprof_server *pprof;	/* /debug/pprof/ on the metrics listener, or NULL */
	struct web_server *web;		/* the web view on the metrics listener, or NULL */
	struct http_access access;	/* its TLS and credentials until it takes them */
	struct incidents *incidents;	/* NULL: flight recorder off, incidents_off says why */
	char incidents_off[PATH_MAX + 128];
	uint64_t incidents_saved;
	int ep, sigfd, lfd, tfd, pfd;
	struct ctl_socket sock;
	struct src sig_src, listen_src, ring_src, timer_src, pending_src, ustack_src, pprof_src,
		   web_src;
	struct ring_buffer *rb;
	struct client *clients;
	struct client *closed;	/* closed this loop turn, freed after it */
	unsigned int nclients;
	struct pending *pending;
	unsigned int npending;
	gid_t sock_gid;
	bool have_sock_gid;
	bool stop;
	bool listen_paused;	/* at CLIENT_MAX: new clients wait in the backlog */
	uint64_t next_snapshot_ns, next_watchdog_ns, watchdog_ns;
	/* self statistics */
	uint64_t attach_errors, exec_events, exit_events, requests, bad_requests;
	uint64_t refused_clients, dropped_clients, pending_dropped, exits_missed;
	uint64_t busy_clients;	/* turned away: their uid held its share of slots */
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline struct watched *W(struct ms_target *t)
{
	return t->user;
}

/* The growth window of the configuration, in ns. */
static inline uint64_t growth_window_ns(const struct daemon *d)
{
	return d->cfg.growth_window_s * 1000000000ull;
}

/* watch.c */
unsigned int watch__count(struct daemon *d);
int watch__add(struct daemon *d, pid_t pid, const char *reason, char *err, size_t errlen);
void watch__remove(struct daemon *d, struct ms_target *t, const char *why);
void watch__pending_run(struct daemon *d, uint64_t now);
void watch__scan(struct daemon *d);
void watch__notify_exec(struct daemon *d);
void watch__refilter(struct daemon *d);
int watch__on_event(void *ctx, void *data, size_t size);
int watch__reload_rules(struct daemon *d, char *err, size_t errlen);
void watch__stop(struct daemon *d);

/* snapshot.c */
void snapshot__take(struct daemon *d, uint64_t now);
int snapshot__refresh(struct daemon *d);
const char *snapshot__totals_unavailable(const struct watched *w);
const char *snapshot__status_unavailable(const struct watched *w);
bool snapshot__growth(const struct watched *w, uint64_t now, uint64_t window, double *ret);
void snapshot__publish(struct daemon *d);
struct ms_profile *snapshot__profile(struct daemon *d, struct ms_target *t, bool growth,
				     bool no_ages);
const char *snapshot__go_unavailable(const struct watched *w);
const char *snapshot__go_heap_unavailable(const struct watched *w);

/* pprof_serve.c */
void pprof_serve__collect(struct daemon *d);
void pprof_serve__publish(struct daemon *d);

/* http_access.c: the listener's TLS and credentials (export/http_server.h) */
/* Read them from the config's files: 0, or -errno with err (no secret in it). */
int http_access__load(struct daemon *d, struct http_access *acc, char *err, size_t errlen);
/* Free what http_access__load() read and the server did not take (NULL-safe fields). */
void http_access__release(struct http_access *acc);
/* The token and users files read again; on failure the old ones stay. */
int http_access__reload(struct daemon *d, char *err, size_t errlen);
/* SIGHUP and `memsight reload`: the rules, then the HTTP credentials. */
int daemon__reload(struct daemon *d, char *err, size_t errlen);

/* web_serve.c */
void web_serve__answer(struct daemon *d);

/* recorder.c */
struct json_writer;
void recorder__open(struct daemon *d);
void recorder__note(struct watched *w);
void recorder__record(struct daemon *d, struct ms_target *t, const char *why);
void recorder__history_json(const struct watched *w, struct json_writer *jw);

/* ctl_socket.c */
int ctl_socket__open(struct daemon *d, char *err, size_t errlen);
void ctl_socket__close(struct daemon *d);

/* ctl_server.c */
void ctl_server__accept(struct daemon *d);
void ctl_server__on_client(struct daemon *d, struct client *c, uint32_t events);
void ctl_server__drop_idle(struct daemon *d, uint64_t now);
void ctl_server__close_client(struct daemon *d, struct client *c);
void ctl_server__reap(struct daemon *d);

/* A response is built in memory, then written out as the socket allows. */
struct reply {
	char *buf;
	size_t len;
	FILE *f;
	const struct pidns_view *view;	/* the client's PID namespace; NULL: ours */
};

/* ctl_requests.c */
int reply__open(struct reply *r);
void reply__error(struct reply *r, enum ctl_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ctl_requests__run(struct daemon *d, const struct client *c, const char *line, size_t len,
		       struct reply *r);

#endif
