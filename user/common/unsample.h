/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * unsample.h - what sampled allocations stand for.
 *
 * Allocations sampled by bytes (a Poisson process with a mean period: Go's
 * runtime sampler, memsight's Go probes, --sample-bytes) are scaled back the
 * way pprof does for heap profiles (runtime/pprof's scaleHeapSample), so
 * memsight gives the numbers `go tool pprof` would.
 */
#ifndef MEMSIGHT_UNSAMPLE_H
#define MEMSIGHT_UNSAMPLE_H

#include <stdint.h>

/*
 * Both numbers multiplied by 1 / (1 - exp(-(bytes / count) / period)),
 * truncated (saturating at UINT64_MAX). A period of 0 ("every allocation
 * recorded") or 1 returns the inputs unchanged; a zero count or byte total
 * gives 0, 0.
 */
void ms_unsample(uint64_t count, uint64_t bytes, uint64_t period, uint64_t *ret_count,
		 uint64_t *ret_bytes);

#endif /* MEMSIGHT_UNSAMPLE_H */
