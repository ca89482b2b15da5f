/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report.h - the text and JSON views of a profile (`memsight top`). */
#ifndef MEMSIGHT_REPORT_H
#define MEMSIGHT_REPORT_H

#include <stdio.h>

#include "common/json.h"
#include "model/model.h"

struct report_opts {
	unsigned int top_n;	/* stacks shown; 0 = all */
	unsigned int max_frames;	/* frames per stack; 0 = all */
	bool growth;		/* leak view: order and show by growth slope */
	bool faults;		/* page-fault view: only fault stacks, by bytes faulted in */
};

/* "PID n  comm  exe", the first line of each text view; comm and exe escaped (common/textsafe.h) */
void report__text_header(const struct ms_profile *p, FILE *out);
void report__text(const struct ms_profile *p, const struct report_opts *o, FILE *out);
/* One stack as top shows it: "#rank in use ..." and its frames (max_frames: 0 = all). */
void report__stack_text(const struct ms_profile *p, const struct ms_stack *s, unsigned int rank,
			unsigned int max_frames, FILE *out);
/* Only its frames, one a line (symbols escaped). */
void report__frames_text(const struct ms_stack *s, unsigned int max_frames, FILE *out);
/* One JSON object for the profile; the writer decides pretty or compact. */
int report__json(const struct ms_profile *p, const struct report_opts *o, struct json_writer *w);
/* The same object as a value inside a document the caller is writing. */
void report__json_value(const struct ms_profile *p, const struct report_opts *o,
			struct json_writer *w);
/* Its members only, inside an object the caller opened (to add members of its own). */
/* The loss and event counters (a report's "events"; memsightd's stats too),
 * as members of the object being written. */
void report__loss_members(const struct ms_loss *l, struct json_writer *w);

void report__json_members(const struct ms_profile *p, const struct report_opts *o,
			  struct json_writer *w);

/*
 * A Go process's goroutines and heap as top shows them, at most max_sites
 * creation sites (0: all it has); nothing for a process that is not Go.
 */
void report__go_text(const struct ms_go_info *g, size_t max_sites, FILE *out);
/* One creation site: "count  func at file:line, started in F (n waiting: reason)". */
void report__go_site_text(const struct ms_go_group *gg, FILE *out);
/* Its members (func, file, line, start_func, count, states) in an object being written. */
void report__go_site_members(const struct ms_go_group *gg, struct json_writer *w);

/* "4.00 MiB" style, for humans; JSON always carries exact bytes. */
const char *report__human_bytes(uint64_t bytes, char *buf, size_t len);

#endif
