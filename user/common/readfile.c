// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/readfile.h"

int ms_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t used = 0;
	ssize_t got;
	char *data;
	int err = 0;

	*ret = NULL;
	/* One byte more than the limit tells an oversized file from a full one. */
	data = malloc(max + 2);
	if (!data)
		return -ENOMEM;
	while (used <= max) {
		got = read(fd, data + used, max + 1 - used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			break;
		}
		if (got == 0)
			break;
		used += got;
	}
	if (!err && used > max)
		err = -EFBIG;
	if (err) {
		/* it may be a secret's file (export/http_auth.c) */
		explicit_bzero(data, used < max + 2 ? used : max + 2);
		free(data);
		return err;
	}
	data[used] = '\0';
	*ret = data;
	*ret_len = used;
	return 0;
}

int ms_read_whole(const char *path, int oflags, size_t max, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | oflags), err;

	*ret = NULL;
	if (fd < 0)
		return -errno;
	err = ms_read_fd(fd, max, ret, ret_len);
	close(fd);
	return err;
}
