// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kuser - kernel-side resources: on SIGUSR1 starts 8 threads that park and
 * opens 400 pipes it keeps (kernel slab memory allocated in its context),
 * prints "done"; SIGTERM ends it.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

static void *park(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	static int fds[400][2];
	sigset_t set;

	setvbuf(stdout, NULL, _IONBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	printf("ready %d\n", getpid());
	while (!go)
		pause();
	/* the threads must not take SIGUSR1 or SIGTERM meant for main */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 8; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, park, NULL))
			return 1;
	}
	for (int i = 0; i < 400; i++)
		if (pipe(fds[i]))
			return 1;
	printf("done\n");
	for (;;)
		pause();
}
