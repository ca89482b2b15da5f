// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The HTTP thread's jobs for the daemon (export/job_queue.c): a job queued
 * makes the eventfd readable, the daemon takes them oldest first, a queue
 * holding its maximum or closed refuses more (-EBUSY), and closing hands
 * back every job still queued.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "export/job_queue.h"

struct item {
	int n;
	struct job_link link;		/* not first: job_entry() must subtract the offset */
};

static bool readable(const struct job_queue *q)
{
	struct pollfd p = { .fd = q->efd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int num(struct job_link *l)
{
	return l ? job_entry(l, struct item, link)->n : -1;
}

/* 3 jobs queued in a queue of 3: a 4th is refused; the daemon takes 0, 1, 2 in that order */
static void test_fifo_and_cap(void **state)
{
	struct item it[4] = { { .n = 0 }, { .n = 1 }, { .n = 2 }, { .n = 3 } };
	struct job_queue q;

	(void)state;
	assert_int_equal(job_queue__init(&q, 3), 0);
	assert_false(readable(&q));
	assert_null(job_queue__take_oldest(&q));
	for (int i = 0; i < 3; i++)
		assert_int_equal(job_queue__push(&q, &it[i].link), 0);
	assert_true(readable(&q));
	assert_int_equal(job_queue__push(&q, &it[3].link), -EBUSY);
	assert_int_equal(q.njobs, 3);
	/* woken: the eventfd is read empty, the jobs stay for the daemon to take */
	assert_int_equal(job_queue__woken(&q), 0);
	assert_false(readable(&q));
	assert_int_equal(job_queue__woken(&q), 0);	/* nothing to read: not an error */
	assert_int_equal(num(job_queue__take_oldest(&q)), 0);
	assert_int_equal(num(job_queue__take_oldest(&q)), 1);
	/* room again: the 4th goes in behind the 3rd */
	assert_int_equal(job_queue__push(&q, &it[3].link), 0);
	assert_int_equal(num(job_queue__take_oldest(&q)), 2);
	assert_int_equal(num(job_queue__take_oldest(&q)), 3);
	assert_null(job_queue__take_oldest(&q));
	assert_int_equal(q.njobs, 0);
	job_queue__fini(&q);
}

/* a job unlinked from the middle leaves the others in order; kick wakes the daemon again */
static void test_unlink_and_kick(void **state)
{
	struct item it[3] = { { .n = 0 }, { .n = 1 }, { .n = 2 } };
	struct job_queue q;

	(void)state;
	assert_int_equal(job_queue__init(&q, 8), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(job_queue__push(&q, &it[i].link), 0);
	job_queue__woken(&q);
	pthread_mutex_lock(&q.lock);
	job_queue__unlink(&q, &it[1].link);
	pthread_mutex_unlock(&q.lock);
	assert_int_equal(q.njobs, 2);
	assert_false(readable(&q));
	job_queue__kick(&q);
	assert_true(readable(&q));
	assert_int_equal(num(job_queue__take_oldest(&q)), 0);
	assert_int_equal(num(job_queue__take_oldest(&q)), 2);
	assert_null(job_queue__take_oldest(&q));
	job_queue__fini(&q);
}

/* closing hands back the queued jobs, newest first, and refuses any after */
static void test_close(void **state)
{
	struct item it[3] = { { .n = 0 }, { .n = 1 }, { .n = 2 } };
	struct job_queue q;
	struct job_link *l;

	(void)state;
	assert_int_equal(job_queue__init(&q, 8), 0);
	assert_int_equal(job_queue__push(&q, &it[0].link), 0);
	assert_int_equal(job_queue__push(&q, &it[1].link), 0);
	l = job_queue__close(&q);
	assert_true(q.stopping);
	assert_int_equal(q.njobs, 0);
	assert_int_equal(num(l), 1);
	assert_int_equal(num(l->next), 0);
	assert_null(l->next->next);
	assert_null(job_queue__take_oldest(&q));
	assert_int_equal(job_queue__push(&q, &it[2].link), -EBUSY);
	assert_null(job_queue__close(&q));
	job_queue__fini(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_cap),
		cmocka_unit_test(test_unlink_and_kick),
		cmocka_unit_test(test_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
