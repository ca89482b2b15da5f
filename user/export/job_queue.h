/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * job_queue.h - the queue between memsightd's HTTP thread and its daemon's
 * thread, for the routes the daemon answers later (pprof_http.c, web_http.c):
 * a job is queued by the HTTP thread (at most max at once, none once
 * stopping: the caller answers 503 then), an eventfd wakes the daemon, and
 * the daemon's thread drains it. What a job holds and who answers it are the
 * owner's: a job embeds a struct job_link.
 *
 * The lock guards the list, the count and stopping; an owner may keep more
 * state under it (a condition variable of its own, fields of its jobs).
 */
#ifndef MEMSIGHT_JOB_QUEUE_H
#define MEMSIGHT_JOB_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct job_link {
	struct job_link *next;
};

#define job_entry(l, type, member)	((type *)((char *)(l) - offsetof(type, member)))

struct job_queue {
	int efd;			/* eventfd: jobs wait for the daemon */
	pthread_mutex_t lock;		/* the fields below */
	bool stopping;
	struct job_link *jobs;		/* newest first */
	unsigned int njobs, max;
};

/* 0 or -errno */
int job_queue__init(struct job_queue *q, unsigned int max);
void job_queue__fini(struct job_queue *q);
/* Queue l and wake the daemon; -EBUSY (l not queued) when max are queued or stopping. */
int job_queue__push(struct job_queue *q, struct job_link *l);
/* Wake the daemon (again): a job became its to do. */
void job_queue__kick(struct job_queue *q);
/* The daemon's thread, woken: the eventfd read. 0, or -errno (nothing to do but wait). */
int job_queue__woken(struct job_queue *q);
/* The oldest job, unlinked, or NULL. */
struct job_link *job_queue__take_oldest(struct job_queue *q);
/* Unlink l, with q->lock held. */
void job_queue__unlink(struct job_queue *q, struct job_link *l);
/*
 * Refuse jobs from now on; every job still queued, unlinked (newest first),
 * for the owner to answer.
 */
struct job_link *job_queue__close(struct job_queue *q);

#endif
