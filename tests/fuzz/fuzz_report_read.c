// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_report_read - `memsight diff`'s reader (export/report_read.h) on
 * hostile JSON: the whole input is a report. It must return 0 or a listed
 * -errno with a message, keep nothing on error, and on success hold sorted
 * processes with sorted, distinct, capped stack keys; the report against
 * itself changes nothing, and every view of a diff of it against the empty
 * report's opposite is written (escaping what the input named).
 */
#include "fuzz_common.h"
#include "export/diff_report.h"
#include "export/report_read.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void check_report(const struct diff_report *r)
{
	FUZZ_CHECK(r->nprocs > 0 && r->nprocs <= DIFF_MAX_PROCS);
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct diff_proc *p = &r->procs[i];

		FUZZ_CHECK(p->name && p->merged >= 1);
		FUZZ_CHECK(!i || strcmp(r->procs[i - 1].name, p->name) < 0);
		for (size_t j = 0; j < p->nstacks; j++) {
			FUZZ_CHECK(strlen(p->stacks[j].key) <= DIFF_MAX_KEY);
			FUZZ_CHECK(!j || strcmp(p->stacks[j - 1].key, p->stacks[j].key) < 0);
		}
	}
}

static void views(const struct diff_report *b, const struct diff_report *n)
{
	struct diff_opts o = { .metric = DIFF_INUSE, .max_growth_pct = 10, .min_bytes = 0 };
	struct diff_inputs in = { "base", "new", b, n };
	struct diff_result res;
	FILE *null = fopen("/dev/null", "w");
	struct json_writer *w;

	FUZZ_CHECK(null);
	FUZZ_CHECK(diff__compute(b, n, &o, &res) == 0);
	diff_report__text(&res, &o, &in, null);
	w = jw__new(null);
	FUZZ_CHECK(w && diff_report__json(&res, &o, &in, w) == 0);
	jw__free(w);
	FUZZ_CHECK(diff_report__junit(&res, &o, null) == 0);
	diff_result__free(&res);
	fclose(null);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diff_opts o = { .metric = DIFF_ALLOC, .max_growth_pct = 0, .min_bytes = 0 };
	struct diff_report r, other = {};
	struct diff_result res;
	char err[256] = "unset";
	char *buf = malloc(size + 1);
	int e;

	FUZZ_CHECK(buf);
	memcpy(buf, data, size);
	buf[size] = '\0';
	e = report_read__parse(buf, size, size & 1 ? REPORT_READ_FUNCS_ONLY : 0, &r, err,
			       sizeof(err));
	free(buf);
	FUZZ_CHECK(e == 0 || e == -EINVAL || e == -E2BIG || e == -ENOMEM);
	if (e) {
		FUZZ_CHECK(!r.nprocs && !r.procs && err[0] && strcmp(err, "unset"));
		return 0;
	}
	check_report(&r);
	FUZZ_CHECK(diff__compute(&r, &r, &o, &res) == 0);
	FUZZ_CHECK(res.nover == 0 && res.nstacks == 0 && res.total.growth == 0);
	diff_result__free(&res);
	/* everything new (one direction) and everything vanished (the other) */
	views(&other, &r);
	views(&r, &other);
	diff_report__free(&r);
	return 0;
}
