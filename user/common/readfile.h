/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * readfile.h - the whole of a small file (procfs, sysfs, a runtime's state
 * file) into memory, with a cap. 0 or -errno; never logs.
 */
#ifndef MEMSIGHT_READFILE_H
#define MEMSIGHT_READFILE_H

#include <stddef.h>

/*
 * path opened with O_RDONLY | O_CLOEXEC | oflags, read to its end (EINTR
 * retried) into a new NUL-terminated *ret of *ret_len bytes (free it).
 * -EFBIG when it holds more than max bytes; -ENOMEM; else open's or
 * read's -errno. *ret is NULL on error.
 */
int ms_read_whole(const char *path, int oflags, size_t max, char **ret, size_t *ret_len);
/* The same from an open fd (left open), from where it stands. */
int ms_read_fd(int fd, size_t max, char **ret, size_t *ret_len);

#endif
