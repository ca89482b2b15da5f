// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_pprof_read - `memsight diff`'s pprof reader (export/pprof_read.h) on
 * hostile profiles: the whole input is a profile (gzipped when it starts
 * so). It must return 0 or a listed -errno with a message, keep nothing on
 * error, and on success hold sorted processes with sorted, distinct, capped
 * stack keys; the profile against itself changes nothing.
 */
#include "fuzz_common.h"
#include "export/pprof_read.h"
#include "export/report_read.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diff_opts o = { .metric = DIFF_INUSE, .max_growth_pct = 0, .min_bytes = 0 };
	struct diff_report r;
	struct diff_result res;
	char err[256] = "unset";
	int e;

	e = pprof_read__parse(data, size, size & 1 ? REPORT_READ_FUNCS_ONLY : 0, &r, err,
			      sizeof(err));
	FUZZ_CHECK(e == 0 || e == -EINVAL || e == -E2BIG || e == -ENOMEM);
	if (e) {
		FUZZ_CHECK(!r.nprocs && !r.procs && err[0] && strcmp(err, "unset"));
		return 0;
	}
	FUZZ_CHECK(r.nprocs > 0 && r.nprocs <= DIFF_MAX_PROCS);
	for (size_t i = 0; i < r.nprocs; i++) {
		const struct diff_proc *p = &r.procs[i];

		FUZZ_CHECK(p->name && p->merged >= 1);
		FUZZ_CHECK(!i || strcmp(r.procs[i - 1].name, p->name) < 0);
		for (size_t j = 0; j < p->nstacks; j++) {
			FUZZ_CHECK(strlen(p->stacks[j].key) <= DIFF_MAX_KEY);
			FUZZ_CHECK(!j || strcmp(p->stacks[j - 1].key, p->stacks[j].key) < 0);
		}
	}
	FUZZ_CHECK(diff__compute(&r, &r, &o, &res) == 0);
	FUZZ_CHECK(res.nover == 0 && res.nstacks == 0 && res.total.growth == 0);
	diff_result__free(&res);
	diff_report__free(&r);
	return 0;
}
