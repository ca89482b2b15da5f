// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_ustacks - the input is a program of operations on the unwound-stack
 * table (bind, unbind, retire, forget, resolve) over a few processes, sample
 * ids and stacks; after every step the table must agree with a plain model
 * of what is bound, and frames must come back as bound. Reference counting
 * mistakes show up as ASan use-after-free, leaks or a check failing.
 */
#include "fuzz_common.h"
#include "bpf/ustacks.h"

#define NSID 32

struct model {
	bool bound[NSID];
	uint32_t tgid[NSID], gen[NSID], stack[NSID];
};

static void stack_of(uint32_t k, uint64_t *ips, uint32_t *n)
{
	*n = 1 + k % 5;
	for (uint32_t i = 0; i < *n; i++)
		ips[i] = 0x400000 + (k % 7) * 0x100 + i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ustacks *us = ustacks__new(8, 24);
	struct model m = {};
	struct ms_agg_val v = { .alloc_bytes = 8, .alloc_count = 1, .free_bytes = 8, .free_count = 1 };

	FUZZ_CHECK(us);
	for (size_t i = 0; i + 2 < size; i += 3) {
		uint32_t op = data[i] % 5, sidx = data[i + 1] % NSID, k = data[i + 2];
		int32_t sid = MS_SAMPLE_SID_BASE + (int32_t)sidx, id;
		uint32_t tgid = 1 + k % 3, gen = 1 + (k >> 2) % 2, n;
		uint64_t ips[8];
		const uint64_t *got;
		uint32_t gotn;

		switch (op) {
		case 0:
			stack_of(k, ips, &n);
			if (ustacks__bind(us, tgid, gen, sid, ips, n, k) == 0) {
				m.bound[sidx] = true;
				m.tgid[sidx] = tgid;
				m.gen[sidx] = gen;
				m.stack[sidx] = k;
			} else {
				/* a failed re-bind leaves the old binding in place */
			}
			break;
		case 1:
			ustacks__unbind(us, sid);
			m.bound[sidx] = false;
			break;
		case 2:
			FUZZ_CHECK((ustacks__retire(us, sid, k % MS_KIND__MAX, k & 3, &v) == 0) == m.bound[sidx]);
			m.bound[sidx] = false;
			break;
		case 3:
			ustacks__forget(us, tgid, k & 1, gen);
			for (uint32_t j = 0; j < NSID; j++)
				if (m.bound[j] && m.tgid[j] == tgid && ((k & 1) || m.gen[j] != gen))
					m.bound[j] = false;
			break;
		case 4:
			break;
		}
		/* the table agrees with the model */
		for (uint32_t j = 0; j < NSID; j++) {
			int rc = ustacks__resolve(us, MS_SAMPLE_SID_BASE + (int32_t)j, &id, NULL);

			FUZZ_CHECK((rc == 0) == m.bound[j]);
			if (rc)
				continue;
			FUZZ_CHECK(ustacks__frames(us, id, &got, &gotn) == 0);
			stack_of(m.stack[j], ips, &n);
			FUZZ_CHECK(gotn == n && !memcmp(got, ips, n * sizeof(*ips)));
		}
	}
	ustacks__free(us);
	return 0;
}
