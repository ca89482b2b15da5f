/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pprof_http.h - Go's net/http/pprof endpoints for the watched processes, on
 * memsightd's HTTP listener, so `go tool pprof URL` and continuous profilers
 * that scrape pprof endpoints work unchanged:
 *
 *   /debug/pprof/                   the watched processes and their URLs (text)
 *   /debug/pprof/heap?pid=N         gzip'd profile.proto, as `dump --format pprof`
 *   /debug/pprof/allocs?pid=N       the same, alloc_space by default
 *   /debug/pprof/goroutine?pid=N    a Go process's goroutines by creation site and state
 *   ...&seconds=S                   heap and allocs: the difference over S seconds
 *
 * Bad requests get a 4xx with a line saying why, never a profile of
 * something else.
 *
 * Threads. The HTTP thread parses a request and queues a job (at most
 * PPROF_JOBS_MAX at once; more get 503); the daemon's thread builds the
 * profile (the model: maps read and symbolised, as for `memsight dump`) when
 * the job's eventfd wakes it; a worker thread of ours encodes and compresses
 * it and answers. A delta keeps its first profile and asks for the second
 * S seconds later. The daemon's thread never waits for a client.
 */
#ifndef MEMSIGHT_PPROF_HTTP_H
#define MEMSIGHT_PPROF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "export/http_server.h"
#include "model/model.h"

#define PPROF_JOBS_MAX		16	/* profiles being built or waited for at once */
#define PPROF_DELTA_MAX_S	300	/* the longest ?seconds= */
#define PPROF_REASON_MAX	320

/* A watched process, as the index lists it. */
struct pprof_proc {
	pid_t pid;
	char comm[MS_COMM_LEN + 1];
	bool is_go;
};

/*
 * The daemon's side: the profile of pid now, or NULL with an HTTP status
 * (404: not watched) and a reason in why. Runs in the daemon's thread.
 */
typedef struct ms_profile *(*pprof_collect_fn)(void *cls, pid_t pid, unsigned int *ret_status,
					       char *why, size_t whylen);

struct pprof_server;

/* NULL + errno */
struct pprof_server *pprof_server__new(void);
/* The routes, for the HTTP server (valid until pprof_server__free). */
const struct http_site *pprof_server__site(struct pprof_server *srv);
/* Readable when jobs wait for the daemon: then call pprof_server__collect(). */
int pprof_server__fd(const struct pprof_server *srv);
void pprof_server__collect(struct pprof_server *srv, pprof_collect_fn fn, void *cls);
/* Profiles requested and not answered yet, and of those the deltas whose first profile is taken. */
void pprof_server__counts(struct pprof_server *srv, unsigned int *ret_jobs,
			  unsigned int *ret_waiting);
/* The watched processes the index shows (copied). */
void pprof_server__publish(struct pprof_server *srv, const struct pprof_proc *v, size_t n);
/*
 * Answer every job still waiting (503) and stop the worker: before the HTTP
 * server stops (it must not hold a call unanswered). From the daemon's thread.
 */
void pprof_server__stop(struct pprof_server *srv);
void pprof_server__free(struct pprof_server *srv);

#endif
