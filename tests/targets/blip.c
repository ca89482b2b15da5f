// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* blip - a short-lived process: allocates a little for ~100 ms and exits. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(void)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	void *keep[64];

	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 64; i++) {
			keep[i] = malloc(128 + i);
			memset(keep[i], i, 128);
		}
		for (int i = 0; i < 64; i++)
			free(keep[i]);
		nanosleep(&ts, NULL);
	}
	return 0;
}
