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

#include "common/caps.h"
#include "bpf/kernel.h"
#include "bpf/session_int.h"

/*
 * Closing a uprobe link waits for an SRCU grace period in the kernel
 * (~0.1 s here). A daemon that detaches from many short-lived processes
 * hands the closing to this thread instead of stalling its event loop; the
 * process has left the pids map already, so the programs ignore it.
 */
struct reaper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ms_linkset *queue;	/* linksets to close, chained through ->next */
	bool stop;
};

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
	if (ls->nlinks == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 32;
		struct bpf_link **v = realloc(ls->links, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ls->links = v;
		ls->cap = cap;
	}
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
		linkset__close(ls);
		free(ls);
		pthread_mutex_lock(&r->lock);
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
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

int ms_session__async_detach(struct ms_session *s)
{
	struct reaper *r;
	int err;

	if (s->reaper)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	err = pthread_create(&r->thread, NULL, reaper_main, r);
	if (err) {
		free(r);
		return -err;
	}
	s->reaper = r;
	return 0;
}

void reaper__stop(struct ms_session *s)
{
	struct reaper *r = s->reaper;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
	s->reaper = NULL;
}
