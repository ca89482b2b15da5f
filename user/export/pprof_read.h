/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pprof_read.h - a pprof profile (profile.proto, gzipped or not) read for
 * `memsight diff` (model/diff.h), as report_read.h reads a JSON report:
 * memsight's own (`run --pprof`, `dump --format pprof`, /debug/pprof/heap)
 * and Go's heap profiles alike.
 *
 * What is read: the inuse_space and alloc_space sample types (a profile
 * needs one of them; the other's figures are then 0), each sample's
 * locations (every Line of a location, innermost first: inlined calls are
 * frames of their own, as memsight writes them) and two string labels:
 * "process" (the process's name as diff matches it, "comm exe-basename";
 * without it every sample is the process "? FILE", FILE the basename of the
 * first mapping's file, the program's) and "kind" (the allocator; without
 * it "go-heap": a Go runtime's heap profile). Frames are keyed as in a JSON
 * report (model/diff.h). Values are absolute: a negative one (a delta
 * profile) is an error.
 *
 * Decoding is libprotobuf-c's (code generated from export/profile.proto),
 * with an allocator that caps what one profile may take; every index the
 * profile holds is checked; the stacks' keys add up to REPORT_READ_MAX_FILE
 * bytes at most (what a JSON report could name). Never logs.
 */
#ifndef MEMSIGHT_PPROF_READ_H
#define MEMSIGHT_PPROF_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "model/diff.h"

/* Uncompressed profile.proto at most; decoded structures at most. */
#define PPROF_READ_MAX_BYTES	(64u << 20)
#define PPROF_READ_MAX_MEM	(512ull << 20)

/*
 * Is buf (len bytes) to be read as pprof: gzip, or anything that does not
 * start (after white space) as JSON does ('{' or '[')? By content, never by name.
 */
bool pprof_read__is_pprof(const char *buf, size_t len);

/*
 * flags: REPORT_READ_FUNCS_ONLY (export/report_read.h). 0, or -EINVAL
 * (malformed: err says what), -E2BIG (past a limit), -ENOMEM; on error
 * *ret is empty.
 */
int pprof_read__parse(const void *buf, size_t len, unsigned int flags, struct diff_report *ret,
		      char *err, size_t errlen);

#endif /* MEMSIGHT_PPROF_READ_H */
