// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_budget_file - the input is a `memsight run --budgets` file. A file the
 * parser accepts must give budgets within MS_BUDGET_BYTES_MAX (counts within
 * MS_BUDGET_COUNT_MAX), at most
 * MS_BUDGET_NAMED_MAX per-name ones with a non-empty name free of '/' and
 * no two alike; one it rejects must come with a message naming the file and
 * leave no budget behind.
 */
#include "fuzz_common.h"
#include "model/budget_file.h"

static uint64_t limit_max(enum ms_budget b)
{
	return budget__is_count(b) ? MS_BUDGET_COUNT_MAX : MS_BUDGET_BYTES_MAX;
}

static void check_set(const struct ms_budget_set *s)
{
	for (int b = 0; b < MS_BUDGET_COUNT; b++)
		FUZZ_CHECK(s->total[b] <= limit_max((enum ms_budget)b));
	FUZZ_CHECK(s->nnamed <= MS_BUDGET_NAMED_MAX);
	for (size_t i = 0; i < s->nnamed; i++) {
		const struct ms_budget_named *nb = &s->named[i];
		size_t len = strnlen(nb->who, sizeof(nb->who));

		FUZZ_CHECK(len > 0 && len < sizeof(nb->who) && !strchr(nb->who, '/'));
		FUZZ_CHECK((unsigned int)nb->budget < MS_BUDGET_COUNT);
		FUZZ_CHECK(nb->limit <= limit_max(nb->budget));
		FUZZ_CHECK(budget_set__find(s, nb->budget, nb->who, len) == nb);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_budget_set s;
	char err[256];
	int r;

	memset(err, 0, sizeof(err));
	r = budget_file__parse((const char *)data, size, "fuzz.budgets", &s, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG || r == -EFBIG);
	if (r) {
		FUZZ_CHECK(!strncmp(err, "fuzz.budgets:", 13) && memchr(err, '\0', sizeof(err)));
		FUZZ_CHECK(s.nnamed == 0);
		for (int b = 0; b < MS_BUDGET_COUNT; b++)
			FUZZ_CHECK(!s.total_given[b]);
		return 0;
	}
	check_set(&s);
	return 0;
}
