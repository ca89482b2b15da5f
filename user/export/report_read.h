/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * report_read.h - the JSON that report.c writes, read back for `memsight
 * diff` (model/diff.h). The file may hold, in JSON or JSON Lines:
 *   - one profile: `memsight dump --format json` (an object with "tracked"
 *     and "stacks");
 *   - an array of profiles;
 *   - an object with a "processes" array (`memsight run --report`): each
 *     element a profile, or an object whose "profile" member is one (an
 *     element with "profile_unavailable" instead is counted as skipped);
 *   - several of these one after the other (JSON Lines).
 * What is read of a profile: comm and exe (the process's name), tracked
 * inuse_bytes and alloc_bytes, estimates, events.lower_bound, and each
 * stack's kind, inuse_bytes, alloc_bytes and frames (func, file, line,
 * module, module_offset). Everything else is ignored.
 *
 * Hostile files: nesting, sizes and counts are capped; a missing or
 * mistyped member is an error naming where it is. Never logs.
 */
#ifndef MEMSIGHT_REPORT_READ_H
#define MEMSIGHT_REPORT_READ_H

#include <stddef.h>

#include "model/diff.h"

#define REPORT_READ_MAX_FILE	(256u << 20)
/* Frames named by function alone, without file:line (model/diff.h): code that moved still matches. */
#define REPORT_READ_FUNCS_ONLY	0x1
#define REPORT_READ_MAX_DEPTH	64

/*
 * buf holds len bytes (NUL-terminated at buf[len]). 0, or -EINVAL
 * (malformed: err says what and where), -E2BIG (past a limit), -ENOMEM; on
 * error *ret is empty.
 */
int report_read__parse(const char *buf, size_t len, unsigned int flags,
		       struct diff_report *ret, char *err, size_t errlen);
/* The same from a file (at most REPORT_READ_MAX_FILE bytes); err does not name the file. */
int report_read__file(const char *path, unsigned int flags, struct diff_report *ret,
		      char *err, size_t errlen);

#endif /* MEMSIGHT_REPORT_READ_H */
