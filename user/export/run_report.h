/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * run_report.h - the reports of `memsight run`: a text summary (stderr), a
 * JSON document (--report: each process as `top --json` gives it, with the
 * run's totals and budgets around them) and JUnit XML (--junit: one test
 * case per budget, a broken one's failure naming the stacks behind it).
 */
#ifndef MEMSIGHT_RUN_REPORT_H
#define MEMSIGHT_RUN_REPORT_H

#include <stdio.h>

#include "common/json.h"
#include "model/run_result.h"

struct run_report_opts {
	unsigned int top_n;		/* stacks named per process and budget; 0 = all */
	unsigned int max_frames;	/* frames per stack; 0 = all */
};

void run_report__text(const struct run_result *r, const struct run_report_opts *o, FILE *out);
/* 0 or -errno (the writer's) */
int run_report__json(const struct run_result *r, const struct run_report_opts *o,
		     struct json_writer *w);
/*
 * --pprof: the processes with a profile as one gzipped profile.proto
 * (export/pprof.h, pprof__write_procs: a "process" and a "pid" label on each
 * sample; stacks the run did not keep as one sample per kind). 0 or -errno.
 */
int run_report__pprof(const struct run_result *r, FILE *out);
/* 0 or -EIO */
int run_report__junit(const struct run_result *r, const struct run_report_opts *o, FILE *out);

#endif
