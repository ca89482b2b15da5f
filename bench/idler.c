// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * idler - a long-lived, lightly allocating process for the daemon-RSS part of
 * the benchmark (bench/run.sh starts 200 of them under memsightd).
 *
 *   idler [-t MAX_SECONDS] [-i INTERVAL_MS]
 *
 * Allocates 64 blocks at start, then every INTERVAL_MS (default 500) replaces
 * 16 of them with fresh 4 KiB blocks (64 KiB per round, so a daemon sampling
 * one allocation per 64 KiB sees about one sample a round), keeping ~256 KiB
 * live. Exits after MAX_SECONDS (default 600) or when its parent dies, so a
 * benchmark killed hard leaves nothing behind.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define NBLOCKS	64
#define ROUND	16
#define BLOCK	4096

int main(int argc, char **argv)
{
	long max_s = 600, interval_ms = 500;
	void *blocks[NBLOCKS];
	struct timespec ts;
	time_t end;
	int opt, next = 0;

	while ((opt = getopt(argc, argv, "t:i:")) != -1) {
		if (opt == 't')
			max_s = atol(optarg);
		else if (opt == 'i')
			interval_ms = atol(optarg);
		else
			return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 0;
	for (int i = 0; i < NBLOCKS; i++) {
		blocks[i] = malloc(BLOCK);
		if (blocks[i])
			memset(blocks[i], i, BLOCK);
	}
	ts.tv_sec = interval_ms / 1000;
	ts.tv_nsec = (interval_ms % 1000) * 1000000L;
	end = time(NULL) + max_s;
	while (time(NULL) < end) {
		nanosleep(&ts, NULL);
		for (int i = 0; i < ROUND; i++) {
			free(blocks[next]);
			blocks[next] = malloc(BLOCK);
			if (blocks[next])
				memset(blocks[next], next, BLOCK);
			next = (next + 1) % NBLOCKS;
		}
	}
	return 0;
}
