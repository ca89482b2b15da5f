/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * budget_file.h - `memsight run --budgets FILE`: budgets kept in a repository.
 *
 * One budget a line, as the flag and its value without the dashes:
 *
 *	# the whole run
 *	max-leaked 512K
 *	max-peak-rss 64M
 *	# the processes named leakexit (comm or executable basename)
 *	max-leaked leakexit=1M
 *
 * '#' starts a comment (to the end of the line); blank lines and spaces or
 * tabs around the words are ignored. A budget given twice (the same name) is
 * an error; anything else is one naming the file and the line.
 */
#ifndef MEMSIGHT_BUDGET_FILE_H
#define MEMSIGHT_BUDGET_FILE_H

#include <stddef.h>

#include "model/budget.h"

/* A budgets file is small: larger is refused. */
#define MS_BUDGET_FILE_MAX	(64 * 1024)

/*
 * Parse len bytes of buf (named name in messages; NUL bytes are errors) into
 * ret (zeroed first). 0, or -EINVAL / -EFBIG / -E2BIG with "name:line: why"
 * in err.
 */
int budget_file__parse(const char *buf, size_t len, const char *name, struct ms_budget_set *ret,
		       char *err, size_t errlen);

/* Read path and parse it. 0, or -errno with "path: why" (or "path:line: why") in err. */
int budget_file__load(const char *path, struct ms_budget_set *ret, char *err, size_t errlen);

#endif
