// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ustack_drain.c - copied stacks moved from the kernel's ring to a queue on
 * a thread of their own (ustack_drain.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "memsight_abi.h"
#include "common/caps.h"
#include "bpf/ustack_drain.h"

/* how long a record below the ring's wake-up mark may wait in it */
#define DRAIN_POLL_MS	100

struct ustack_drain {
	struct ring_buffer *rb;		/* consumed only under mu */
	pthread_mutex_t mu;
	pthread_t thr;
	bool started;
	int ready_fd;			/* eventfd: records queued */
	int stop_fd;			/* eventfd: thread, stop */
	struct ustack_rec *head, **tail;
	size_t bytes, cap;
	uint64_t dropped;
};

/*
 * ring_buffer callback, under mu: copy the record to the queue, only as much
 * of it as holds the copied stack (the kernel reserves a record, rounded up,
 * before it reads the stack)
 */
static int queue_rec(void *ctx, void *data, size_t size)
{
	const struct ms_ustack_hdr *h = data;
	struct ustack_drain *d = ctx;
	struct ustack_rec *r;

	if (size >= sizeof(*h) && h->size <= size - sizeof(*h))
		size = sizeof(*h) + h->size;
	if (d->bytes + size > d->cap || !(r = malloc(sizeof(*r) + size))) {
		d->dropped++;
		return 0;
	}
	r->next = NULL;
	r->size = size;
	memcpy(r->data, data, size);
	*d->tail = r;
	d->tail = &r->next;
	d->bytes += size;
	return 0;
}

static void *drain_thread(void *arg)
{
	struct ustack_drain *d = arg;
	struct pollfd pfd[2] = {
		{ .fd = ring_buffer__epoll_fd(d->rb), .events = POLLIN },
		{ .fd = d->stop_fd, .events = POLLIN },
	};
	uint64_t one = 1;
	int n;

	/* reading a ring mapped already needs no privilege: hold none */
	if (ms_drop_thread_caps())
		return NULL;	/* the owner still drains it in ustack_drain__take */
	for (;;) {
		/*
		 * The kernel wakes this thread only at marks in the ring
		 * (alloc.bpf.h, ustack_wakeup): sparse records are picked up on
		 * the timeout
		 */
		n = poll(pfd, 2, DRAIN_POLL_MS);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && pfd[1].revents)
			break;
		pthread_mutex_lock(&d->mu);
		n = ring_buffer__consume(d->rb);
		pthread_mutex_unlock(&d->mu);
		if (n > 0 && write(d->ready_fd, &one, sizeof(one)) < 0)
			continue;	/* counter at its maximum: readable anyway */
	}
	return NULL;
}

struct ustack_drain *ustack_drain__new(int map_fd, size_t cap)
{
	struct ustack_drain *d = calloc(1, sizeof(*d));
	sigset_t all, old;
	int err;

	if (!d)
		return NULL;
	pthread_mutex_init(&d->mu, NULL);
	d->tail = &d->head;
	d->cap = cap;
	d->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->rb = ring_buffer__new(map_fd, queue_rec, d, NULL);
	if (d->ready_fd < 0 || d->stop_fd < 0 || !d->rb) {
		err = errno ?: ENOMEM;
		goto fail;
	}
	/* signals stay with the threads that wait for them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&d->thr, NULL, drain_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto fail;
	d->started = true;
	return d;
fail:
	ustack_drain__free(d);
	errno = err;
	return NULL;
}

void ustack_drain__free(struct ustack_drain *d)
{
	uint64_t one = 1, dropped;

	if (!d)
		return;
	if (d->started) {
		/* an eventfd counter at 0 takes a 1: this write does not fail */
		if (write(d->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(d->thr);
		pthread_join(d->thr, NULL);
	}
	for (struct ustack_rec *r = d->rb ? ustack_drain__take(d, &dropped) : NULL, *next; r; r = next) {
		next = r->next;
		free(r);
	}
	ring_buffer__free(d->rb);
	if (d->ready_fd >= 0)
		close(d->ready_fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

int ustack_drain__fd(const struct ustack_drain *d)
{
	return d->ready_fd;
}

struct ustack_rec *ustack_drain__take(struct ustack_drain *d, uint64_t *ret_dropped)
{
	struct ustack_rec *list;
	uint64_t cnt;

	pthread_mutex_lock(&d->mu);
	/* what the kernel has now, so a caller reading the maps next sees it */
	ring_buffer__consume(d->rb);
	list = d->head;
	d->head = NULL;
	d->tail = &d->head;
	d->bytes = 0;
	*ret_dropped = d->dropped;
	d->dropped = 0;
	pthread_mutex_unlock(&d->mu);
	if (read(d->ready_fd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;	/* EAGAIN: nothing signalled */
	return list;
}
