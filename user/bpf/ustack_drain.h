/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ustack_drain.h - the ring of copied stacks emptied on a thread of its own.
 *
 * Unwinding a copied stack takes far longer than copying it: a consumer that
 * unwinds as it reads falls behind a process that allocates fast (or a busy
 * machine takes its CPU), and the kernel's ring fills and drops stacks. So a
 * thread only copies records out of the ring into a queue, at memcpy speed;
 * whoever unwinds takes the queue when it likes. The queue is bounded: past
 * its cap records are dropped and counted, never memory without end.
 */
#ifndef MEMSIGHT_USTACK_DRAIN_H
#define MEMSIGHT_USTACK_DRAIN_H

#include <stddef.h>
#include <stdint.h>

struct ring_buffer;
struct ustack_drain;

struct ustack_rec {
	struct ustack_rec *next;
	size_t size;
	uint8_t data[];
};

/*
 * Start draining the ringbuf map @map_fd, queueing at most @cap bytes.
 * Returns NULL with errno set on failure. The thread blocks every signal.
 */
struct ustack_drain *ustack_drain__new(int map_fd, size_t cap);
/* Stop the thread, free what is queued. NULL is fine. */
void ustack_drain__free(struct ustack_drain *d);
/* Readable while records wait (an eventfd): for the owner's poll loop. */
int ustack_drain__fd(const struct ustack_drain *d);
/*
 * Everything in the ring now and queued, oldest first (free each with
 * free()); NULL when nothing waits. *ret_dropped: records dropped since the
 * last call because the queue was at its cap.
 */
struct ustack_rec *ustack_drain__take(struct ustack_drain *d, uint64_t *ret_dropped);

#endif
