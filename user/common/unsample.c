// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>

#include "common/unsample.h"

static uint64_t scale_u64(uint64_t x, double scale)
{
	double r = (double)x * scale;

	/* truncate like pprof's int64(x * scale); saturate instead of UB on overflow */
	if (!(r < 18446744073709551616.0))
		return UINT64_MAX;
	return (uint64_t)r;
}

void ms_unsample(uint64_t count, uint64_t bytes, uint64_t period, uint64_t *ret_count,
		 uint64_t *ret_bytes)
{
	double avg, scale;

	if (!count || !bytes) {
		*ret_count = 0;
		*ret_bytes = 0;
		return;
	}
	if (period <= 1) {
		*ret_count = count;
		*ret_bytes = bytes;
		return;
	}
	avg = (double)bytes / (double)count;
	/*
	 * The very expression Go's runtime/pprof uses, so we give the numbers it
	 * would; expm1 would be more exact for tiny objects, but only in digits
	 * that truncation drops anyway.
	 */
	scale = 1.0 / (1.0 - exp(-avg / (double)period));
	*ret_count = scale_u64(count, scale);
	*ret_bytes = scale_u64(bytes, scale);
}
