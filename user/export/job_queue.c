// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * job_queue.c - the HTTP thread's jobs for the daemon's thread (see
 * job_queue.h): a capped list under a lock, and an eventfd to wake the
 * daemon.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "export/job_queue.h"

int job_queue__init(struct job_queue *q, unsigned int max)
{
	*q = (struct job_queue){ .max = max };
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0)
		return -errno;
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

void job_queue__fini(struct job_queue *q)
{
	pthread_mutex_destroy(&q->lock);
	close(q->efd);
	q->efd = -1;
}

void job_queue__kick(struct job_queue *q)
{
	uint64_t one = 1;

	/* a full counter still wakes the daemon: nothing to do on failure */
	if (write(q->efd, &one, sizeof(one)) < 0)
		return;
}

int job_queue__push(struct job_queue *q, struct job_link *l)
{
	bool busy;

	pthread_mutex_lock(&q->lock);
	busy = q->stopping || q->njobs >= q->max;
	if (!busy) {
		l->next = q->jobs;
		q->jobs = l;
		q->njobs++;
	}
	pthread_mutex_unlock(&q->lock);
	if (busy)
		return -EBUSY;
	job_queue__kick(q);
	return 0;
}

int job_queue__woken(struct job_queue *q)
{
	uint64_t n;

	if (read(q->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

struct job_link *job_queue__take_oldest(struct job_queue *q)
{
	struct job_link **pp, *l = NULL;

	pthread_mutex_lock(&q->lock);
	for (pp = &q->jobs; *pp && (*pp)->next; pp = &(*pp)->next)
		;
	if (*pp) {
		l = *pp;
		*pp = NULL;
		q->njobs--;
	}
	pthread_mutex_unlock(&q->lock);
	return l;
}

void job_queue__unlink(struct job_queue *q, struct job_link *l)
{
	for (struct job_link **pp = &q->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			q->njobs--;
			return;
		}
	}
}

struct job_link *job_queue__close(struct job_queue *q)
{
	struct job_link *jobs;

	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	jobs = q->jobs;
	q->jobs = NULL;
	q->njobs = 0;
	pthread_mutex_unlock(&q->lock);
	return jobs;
}
