/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * diff_report.h - `memsight diff`'s result (model/diff.h) as a text table,
 * JSON and JUnit XML. Frames, comms and paths come from targets: escaped in
 * each format (textsafe, the JSON writer, xml__put).
 */
#ifndef MEMSIGHT_DIFF_REPORT_H
#define MEMSIGHT_DIFF_REPORT_H

#include <stdio.h>

#include "common/json.h"
#include "model/diff.h"

struct diff_inputs {
	const char *base_path, *new_path;
	const struct diff_report *base, *new;
};

void diff_report__text(const struct diff_result *r, const struct diff_opts *o,
		       const struct diff_inputs *in, FILE *out);
int diff_report__json(const struct diff_result *r, const struct diff_opts *o,
		      const struct diff_inputs *in, struct json_writer *w);
/* One testcase for the total, one failing testcase per stack over the gate. */
int diff_report__junit(const struct diff_result *r, const struct diff_opts *o, FILE *out);

#endif /* MEMSIGHT_DIFF_REPORT_H */
