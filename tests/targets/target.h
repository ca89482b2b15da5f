/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * target.h - how the integration tests drive a small target: it prints
 * "ready <pid>" (stdout unbuffered, so nothing is allocated for it later),
 * then does one round of its work per SIGUSR1, printing "done" after each,
 * until SIGTERM. Signals are blocked outside sigsuspend, so none is lost.
 */
#ifndef MEMSIGHT_TARGET_H
#define MEMSIGHT_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t target_usr1, target_term;
static sigset_t target_old_mask;

static void target_on_signal(int sig)
{
	if (sig == SIGUSR1)
		target_usr1 = 1;
	else
		target_term = 1;
}

static void target_ready(void)
{
	struct sigaction sa = { .sa_handler = target_on_signal };
	sigset_t block;

	setvbuf(stdout, NULL, _IONBF, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &target_old_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("ready %d\n", getpid());
}

/* Wait for the next SIGUSR1 (true) or SIGTERM (false). */
static bool target_next_round(void)
{
	while (!target_usr1 && !target_term)
		sigsuspend(&target_old_mask);
	if (target_term)
		return false;
	target_usr1 = 0;
	return true;
}

#endif /* MEMSIGHT_TARGET_H */
