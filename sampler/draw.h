/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * draw.h - the bytes until a thread's next sample: an exponential variate of
 * the given mean from a per-thread xorshift64* generator. No libm: ln() is
 * an exponent/mantissa split and a short atanh series (error < 1e-9, far
 * below what a sampling interval needs).
 */
#ifndef SAMPLER_DRAW_H
#define SAMPLER_DRAW_H

#include <stdint.h>
#include <string.h>

static inline uint64_t draw_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ln(u) for u in (0, 1] */
static inline double draw_ln(double u)
{
	static const double ln2 = 0.693147180559945309417;
	uint64_t bits;
	int e;
	double m, z, z2, s;

	memcpy(&bits, &u, sizeof(bits));
	e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & ((1ull << 52) - 1)) | (1023ull << 52);	/* m in [1, 2) */
	memcpy(&m, &bits, sizeof(m));
	if (m > 1.41421356237309504880) {	/* keep z small: m in [0.707, 1.414) */
		m *= 0.5;
		e++;
	}
	z = (m - 1) / (m + 1);	/* |z| < 0.172 */
	z2 = z * z;
	s = z * (2 + z2 * (2.0 / 3 + z2 * (2.0 / 5 + z2 * (2.0 / 7 + z2 * (2.0 / 9 +
	    z2 * (2.0 / 11))))));
	return e * ln2 + s;
}

/* bytes until the next sample, >= 1 */
static inline int64_t draw_countdown(uint64_t *state, uint64_t mean)
{
	/* 53 random bits, +1: u in (0, 1], never ln(0) */
	double u = (double)((draw_next(state) >> 11) + 1) * (1.0 / 9007199254740992.0);
	double d = -draw_ln(u) * (double)mean;

	if (d < 1)
		return 1;
	if (d > (double)(INT64_MAX / 4))
		return INT64_MAX / 4;
	return (int64_t)d;
}

#endif /* SAMPLER_DRAW_H */
