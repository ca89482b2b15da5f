// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * links.c - probe links owned together, and the reaper thread that closes
 * them off the caller's path.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "common/array.h"
#include "common/caps.h"
#include "bpf/kernel.h"
#include "bpf/session_int.h"

/*
 * Closing a uprobe link waits for an SRCU grace period in the kernel
 * (~20 ms here, more on a loaded machine). A daemon that detaches from many
 * short-lived processes hands the closing to these threads instead of
 * stalling its event loop; the process has left the pids map already, so
 * the programs ignore it. One thread closed ~40 links a second, one grace
 * period after the other, while a burst of exec'd processes brought them in
 * faster and the daemon ran out of file descriptors: several threads wait
 * for their grace periods at once, and the kernel ends concurrent waits
 * together (600 links: 15.5 s with one thread, ~2 s with 8, ~0.8 s with 32).
 */
#define REAPER_THREADS	32
#define REAPER_STACK	(64 * 1024)	/* they only call close() */

struct reaper {
	pthread_t threads[REAPER_THREADS];
	unsigned int nthreads;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ms_linkset *queue;	/* linksets to close, chained through ->next */
	uint64_t pending_fds;		/* fds queued or being closed */
	uint64_t max_pending_fds;
	uint64_t closed_fds;
	bool stop;
};

static size_t linkset__nfds(const struct ms_linkset *ls)
{
	return ls->nlinks + ls->nfds;
}

void linkset__close(struct ms_linkset *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->nlinks; i++)
		bpf_link__destroy(ls->links[i]);
	for (size_t i = 0; i < ls->nfds; i++)
		close(ls->fds[i]);
	free(ls->links);
	free(ls->fds);
	memset(ls, 0, sizeof(*ls));
}

int linkset__add(struct ms_linkset *ls, struct bpf_link *l)
{
	int err = ms_array_grow(ls->links, &ls->cap, ls->nlinks, 32);

	if (err)
		return err;
	ls->links[ls->nlinks++] = l;
	return 0;
}

int linkset__add_multi(struct ms_linkset *ls, int prog_fd, uint32_t type, const char *path,
		       const uint64_t *offsets, const uint64_t *cookies, uint32_t cnt,
		       bool retprobe, pid_t pid)
{
	int fd = ms_uprobe_link(prog_fd, type, path, offsets, cookies, cnt, retprobe, pid);
	int *v;

	if (fd < 0)
		return fd;
	v = realloc(ls->fds, (ls->nfds + 1) * sizeof(*v));
	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	ls->fds = v;
	ls->fds[ls->nfds++] = fd;
	return 0;
}

static void *reaper_main(void *arg)
{
	struct reaper *r = arg;
	size_t n;

	/* closing fds needs no privilege: this thread keeps none */
	ms_drop_thread_caps();

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct ms_linkset *ls = r->queue;

		if (!ls) {
			if (r->stop)
				break;
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		r->queue = ls->next;
		pthread_mutex_unlock(&r->lock);
		n = linkset__nfds(ls);
		linkset__close(ls);
		free(ls);
		pthread_mutex_lock(&r->lock);
		r->pending_fds -= n;
		r->closed_fds += n;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

void linkset__dispose(struct ms_session *s, struct ms_linkset *ls)
{
	struct reaper *r = s->reaper;

	if (!ls)
		return;
	if (!r || (!ls->nlinks && !ls->nfds)) {
		linkset__close(ls);
		free(ls);
		return;
	}
	pthread_mutex_lock(&r->lock);
	ls->next = r->queue;
	r->queue = ls;
	r->pending_fds += linkset__nfds(ls);
	if (r->pending_fds > r->max_pending_fds)
		r->max_pending_fds = r->pending_fds;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void ms_session__link_stats(struct ms_session *s, struct ms_link_stats *ret)
{
	struct reaper *r = s->reaper;

	*ret = (struct ms_link_stats){ .closers = r ? r->nthreads : 0 };
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	ret->closing = r->pending_fds;
	ret->closing_max = r->max_pending_fds;
	ret->closed = r->closed_fds;
	pthread_mutex_unlock(&r->lock);
}

int ms_session__async_detach(struct ms_session *s)
{
	pthread_attr_t attr;
	struct reaper *r;
	int err;

	if (s->reaper)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	s->reaper = r;
	err = pthread_attr_init(&attr);
	if (err) {
		reaper__stop(s);
		return -err;
	}
	pthread_attr_setstacksize(&attr, REAPER_STACK);
	for (; r->nthreads < REAPER_THREADS; r->nthreads++) {
		err = pthread_create(&r->threads[r->nthreads], &attr, reaper_main, r);
		if (err)
			break;
	}
	pthread_attr_destroy(&attr);
	if (r->nthreads)
		return 0;	/* fewer closers close more slowly, that is all */
	reaper__stop(s);
	return -err;
}

void reaper__stop(struct ms_session *s)
{
	struct reaper *r = s->reaper;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	for (unsigned int i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
	s->reaper = NULL;
}
