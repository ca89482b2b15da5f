// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pprof_http.c - /debug/pprof/ on memsightd's HTTP listener (see
 * pprof_http.h): request parsing, the jobs' states between the HTTP thread,
 * the daemon's thread (job_queue.h) and our worker, and the index.
 *
 * A job goes COLLECT (queued for the daemon; the eventfd is written) ->
 * COLLECTING (the daemon builds it) -> READY (the worker encodes and
 * answers), or, for a delta, -> WAITING (first profile kept) until due ->
 * COLLECT again. Only the worker frees a job, only after answering it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "common/caps.h"
#include "common/textsafe.h"
#include "export/job_queue.h"
#include "export/pprof.h"
#include "export/pprof_http.h"

#define TEXT		"text/plain; charset=utf-8"
#define PROTO		"application/octet-stream"

enum job_state { J_COLLECT, J_COLLECTING, J_WAITING, J_READY };

struct job {
	struct job_link link;
	struct http_call *call;
	enum pprof_profile profile;
	pid_t pid;
	unsigned int seconds;		/* 0: not a delta */
	enum job_state state;
	struct ms_profile *base, *p;	/* the delta's first profile; the profile */
	unsigned int status;		/* !p: why not */
	char why[PPROF_REASON_MAX];
	struct timespec due;		/* WAITING: when to take the second */
};

#define JOB(l)		job_entry(l, struct job, link)
/* every job of srv, with srv->q.lock held */
#define for_each_job(j, srv) \
	for (struct job_link *l_ = (srv)->q.jobs; l_ && ((j) = JOB(l_)); l_ = l_->next)

struct pprof_server {
	struct http_site site;
	struct job_queue q;		/* its lock guards everything below and the jobs' states */
	pthread_cond_t wake;		/* the worker's: a job READY or WAITING, or stop */
	pthread_t worker;
	bool have_worker;
	struct pprof_proc *procs;	/* the index */
	size_t nprocs;
};

static void monotonic(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* A reply whose body is a line of text (formatted). */
static void reply_text(struct http_call *c, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_text(struct http_call *c, unsigned int status, const char *fmt, ...)
{
	char *body = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		body = NULL;
		n = 0;
	}
	http_call__reply(c, status, TEXT, body, n);
}

static void job_free(struct job *j)
{
	ms_profile__free(j->base);
	ms_profile__free(j->p);
	free(j);
}

/* The request's parameters into a job, or a 4xx answered and NULL. */
static struct job *parse(struct http_call *c, enum pprof_profile profile)
{
	unsigned long pid = 0, seconds = 0, debug = 0;
	struct job *j;
	int rc;

	rc = http_call__arg_uint(c, "pid", 1, INT_MAX, &pid);
	if (rc) {
		reply_text(c, MHD_HTTP_BAD_REQUEST, rc > 0 ?
			   "memsightd: which process? add ?pid=PID (the index /debug/pprof/ lists them)\n" :
			   "memsightd: invalid pid: a process ID, 1 to %d\n", INT_MAX);
		return NULL;
	}
	if (http_call__arg_uint(c, "debug", 0, INT_MAX, &debug) < 0 || debug) {
		reply_text(c, MHD_HTTP_BAD_REQUEST, "memsightd: only debug=0 is served (profile.proto); "
			   "for text, go tool pprof -top URL or memsight top -p %lu\n", pid);
		return NULL;
	}
	rc = http_call__arg_uint(c, "seconds", 1, PPROF_DELTA_MAX_S, &seconds);
	if (rc < 0) {
		reply_text(c, MHD_HTTP_BAD_REQUEST,
			   "memsightd: invalid value for \"seconds\": a whole number, 1 to %d\n",
			   PPROF_DELTA_MAX_S);
		return NULL;
	}
	if (seconds && profile == PPROF_GOROUTINE) {
		reply_text(c, MHD_HTTP_BAD_REQUEST, "memsightd: \"seconds\" is not supported for the "
			   "goroutine profile (heap and allocs only)\n");
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "memsightd: out of memory\n");
		return NULL;
	}
	j->call = c;
	j->profile = profile;
	j->pid = (pid_t)pid;
	j->seconds = (unsigned int)seconds;
	return j;
}

static int start_profile(struct pprof_server *srv, struct http_call *c, enum pprof_profile profile)
{
	struct job *j = parse(c, profile);

	if (!j)
		return 0;
	/* the connection's deadline must cover the wait: S plus the usual */
	if (j->seconds && http_call__extend(c, j->seconds + HTTP_DEADLINE_S)) {
		free(j);
		reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "memsightd: %d delta profiles are being "
			   "taken already; try again later\n", HTTP_MAX_EXTENDED);
		return 0;
	}
	if (job_queue__push(&srv->q, &j->link)) {
		free(j);
		reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "memsightd: %d profiles are being built "
			   "already; try again later\n", PPROF_JOBS_MAX);
	}
	return 0;
}

/* heap, allocs and goroutine: the route's arg is the profile */
static int start_route(void *cls, struct http_call *c)
{
	return start_profile(cls, c, (enum pprof_profile)http_call__route_arg(c));
}

static const char *const profile_names[] = {
	[PPROF_HEAP] = "heap", [PPROF_ALLOCS] = "allocs", [PPROF_GOROUTINE] = "goroutine",
};

/* The index: text, one process a line, with its URLs; comm as every text view shows it. */
static int start_index(void *cls, struct http_call *c)
{
	struct pprof_server *srv = cls;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fputs("memsightd: pprof profiles of the watched processes (Go's net/http/pprof URLs;\n"
	      "heap and allocs take &seconds=S, 1 to 300, for what changed over S seconds)\n\n"
	      "PID\tCOMM\tPROFILES\n", f);
	pthread_mutex_lock(&srv->q.lock);
	for (size_t i = 0; i < srv->nprocs; i++) {
		const struct pprof_proc *p = &srv->procs[i];

		fprintf(f, "%d\t", (int)p->pid);
		textsafe__fputs(p->comm, f);
		for (int k = 0; k <= PPROF_GOROUTINE; k++) {
			if (k == PPROF_GOROUTINE && !p->is_go)
				continue;
			fprintf(f, "%s/debug/pprof/%s?pid=%d", k ? " " : "\t", profile_names[k],
				(int)p->pid);
		}
		fputc('\n', f);
	}
	if (!srv->nprocs)
		fputs("(no process is watched)\n", f);
	pthread_mutex_unlock(&srv->q.lock);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	http_call__reply(c, MHD_HTTP_OK, TEXT, buf, len);
	return 0;
}

static const struct http_route pprof_routes[] = {
	{ .path = "/debug/pprof/", .start = start_index },
	{ .path = "/debug/pprof/heap", .start = start_route, .arg = PPROF_HEAP },
	{ .path = "/debug/pprof/allocs", .start = start_route, .arg = PPROF_ALLOCS },
	{ .path = "/debug/pprof/goroutine", .start = start_route, .arg = PPROF_GOROUTINE },
};

/* ---- the daemon's thread ---------------------------------------------------- */

void pprof_server__collect(struct pprof_server *srv, pprof_collect_fn fn, void *cls)
{
	if (job_queue__woken(&srv->q))
		return;
	for (;;) {
		struct job *j = NULL, *q;
		struct ms_profile *p;
		unsigned int status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		char why[PPROF_REASON_MAX] = "";

		pthread_mutex_lock(&srv->q.lock);
		for_each_job(q, srv) {
			if (q->state == J_COLLECT) {
				j = q;
				break;
			}
		}
		if (j)
			j->state = J_COLLECTING;	/* the worker leaves it alone */
		pthread_mutex_unlock(&srv->q.lock);
		if (!j)
			return;
		p = fn(cls, j->pid, &status, why, sizeof(why));
		pthread_mutex_lock(&srv->q.lock);
		if (p && j->seconds && !j->base) {
			j->base = p;
			j->state = J_WAITING;
			monotonic(&j->due);
			j->due.tv_sec += j->seconds;
		} else {
			j->p = p;
			j->status = status;
			snprintf(j->why, sizeof(j->why), "%s", why);
			j->state = J_READY;
		}
		pthread_cond_signal(&srv->wake);
		pthread_mutex_unlock(&srv->q.lock);
	}
}

/* ---- the worker --------------------------------------------------------------- */

static void answer(struct job *j)
{
	struct pprof_opts o = { .profile = j->profile, .base = j->base };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (!j->p) {
		reply_text(j->call, j->status, "memsightd: %s\n", j->why);
		return;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		reply_text(j->call, MHD_HTTP_SERVICE_UNAVAILABLE, "memsightd: out of memory\n");
		return;
	}
	err = pprof__write_opts(j->p, &o, f);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err == -ENOENT) {
		free(buf);
		reply_text(j->call, MHD_HTTP_NOT_FOUND, "memsightd: PID %d has no goroutine "
			   "profile: %s\n", (int)j->pid, pprof__goroutines_unavailable(j->p));
	} else if (err) {
		free(buf);
		reply_text(j->call, MHD_HTTP_INTERNAL_SERVER_ERROR,
			   "memsightd: the profile of PID %d could not be written: %s\n",
			   (int)j->pid, strerror(-err));
	} else {
		http_call__reply(j->call, MHD_HTTP_OK, PROTO, buf, len);
	}
}

void pprof_server__counts(struct pprof_server *srv, unsigned int *ret_jobs,
			  unsigned int *ret_waiting)
{
	unsigned int w = 0;
	struct job *q;

	pthread_mutex_lock(&srv->q.lock);
	for_each_job(q, srv)
		w += q->state == J_WAITING;
	*ret_jobs = srv->q.njobs;
	*ret_waiting = w;
	pthread_mutex_unlock(&srv->q.lock);
}

/* A READY job (unlinked), or NULL with *next the earliest due delta (have_next). */
static struct job *next_job(struct pprof_server *srv, struct timespec *next, bool *have_next)
{
	struct timespec now;
	bool kick = false;
	struct job *j;

	monotonic(&now);
	*have_next = false;
	for_each_job(j, srv) {
		if (j->state == J_READY) {
			job_queue__unlink(&srv->q, &j->link);
			return j;
		}
		if (j->state != J_WAITING)
			continue;
		if (!ts_before(&now, &j->due)) {
			j->state = J_COLLECT;	/* the second profile */
			kick = true;
		} else if (!*have_next || ts_before(&j->due, next)) {
			*next = j->due;
			*have_next = true;
		}
	}
	if (kick)
		job_queue__kick(&srv->q);
	return NULL;
}

static void *worker_main(void *arg)
{
	struct pprof_server *srv = arg;
	struct timespec next;
	bool have_next;

	/* it encodes what targets named (symbols, comm): it needs no privilege */
	ms_drop_thread_caps();
	pthread_mutex_lock(&srv->q.lock);
	while (!srv->q.stopping) {
		struct job *j = next_job(srv, &next, &have_next);

		if (j) {
			pthread_mutex_unlock(&srv->q.lock);
			answer(j);
			job_free(j);
			pthread_mutex_lock(&srv->q.lock);
		} else if (have_next) {
			pthread_cond_timedwait(&srv->wake, &srv->q.lock, &next);
		} else {
			pthread_cond_wait(&srv->wake, &srv->q.lock);
		}
	}
	pthread_mutex_unlock(&srv->q.lock);
	return NULL;
}

/* ---- setup -------------------------------------------------------------------- */

struct pprof_server *pprof_server__new(void)
{
	struct pprof_server *srv = calloc(1, sizeof(*srv));
	pthread_condattr_t ca;
	int rc;

	if (!srv)
		return NULL;
	srv->site = (struct http_site){ pprof_routes, sizeof(pprof_routes) / sizeof(pprof_routes[0]),
					srv };
	rc = job_queue__init(&srv->q, PPROF_JOBS_MAX);
	if (rc) {
		free(srv);
		errno = -rc;
		return NULL;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&srv->worker, NULL, worker_main, srv);
	if (rc) {
		pprof_server__free(srv);
		errno = rc;
		return NULL;
	}
	pthread_setname_np(srv->worker, "pprof");
	srv->have_worker = true;
	return srv;
}

const struct http_site *pprof_server__site(struct pprof_server *srv)
{
	return &srv->site;
}

int pprof_server__fd(const struct pprof_server *srv)
{
	return srv->q.efd;
}

void pprof_server__publish(struct pprof_server *srv, const struct pprof_proc *v, size_t n)
{
	struct pprof_proc *copy = n ? calloc(n, sizeof(*copy)) : NULL;

	if (n && !copy)
		return;	/* the index stays as it was */
	if (n)
		memcpy(copy, v, n * sizeof(*copy));
	pthread_mutex_lock(&srv->q.lock);
	free(srv->procs);
	srv->procs = copy;
	srv->nprocs = n;
	pthread_mutex_unlock(&srv->q.lock);
}

void pprof_server__stop(struct pprof_server *srv)
{
	struct job_link *l;

	if (!srv)
		return;
	/*
	 * The daemon's thread calls this: no job is being collected now. The
	 * worker answers the job it holds, if any, then sees stopping.
	 */
	l = job_queue__close(&srv->q);
	pthread_mutex_lock(&srv->q.lock);
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->q.lock);
	if (srv->have_worker)
		pthread_join(srv->worker, NULL);
	srv->have_worker = false;
	while (l) {
		struct job *j = JOB(l);

		l = l->next;
		reply_text(j->call, MHD_HTTP_SERVICE_UNAVAILABLE, "memsightd: stopping\n");
		job_free(j);
	}
}

void pprof_server__free(struct pprof_server *srv)
{
	if (!srv)
		return;
	pprof_server__stop(srv);
	pthread_cond_destroy(&srv->wake);
	job_queue__fini(&srv->q);
	free(srv->procs);
	free(srv);
}
