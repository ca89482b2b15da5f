// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * execer - prints "ready PID", and on SIGUSR1 replaces itself (same PID)
 * with the program named by argv[1]: the test of a watched process that
 * execs a new image.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	char *buf;

	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	/* a leak of our own, which must not be booked to the new image */
	buf = malloc(777777);
	buf[0] = 1;
	printf("ready %d\n", getpid());
	while (!go)
		pause();
	execv(argv[1], argv + 1);
	perror("execv");
	return 1;
}
