// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <ctype.h>
#include <string.h>

#include "common/size.h"

/* log2 of the unit a suffix names, or -1 when it names none */
static int unit_shift(const char *u)
{
	static const char units[] = "KMGTPE";
	const char *at;
	int shift;

	if (!*u || !strcmp(u, "B"))
		return 0;
	at = strchr(units, toupper((unsigned char)u[0]));
	if (!at)
		return -1;
	shift = 10 * (int)(at - units + 1);
	u++;
	if (*u == 'i')
		u++;
	if (*u == 'B' || *u == 'b')
		u++;
	return *u ? -1 : shift;
}

int size__parse(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t whole = 0, frac = 0, scale = 1, v;
	const char *p = s;
	int shift;

	if (!s || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		/* up to 6 digits count: finer than a byte of an exbibyte's millionth */
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale < 1000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
	}
	shift = unit_shift(p);
	if (shift < 0)
		return -EINVAL;
	if (scale > 1 && !shift)
		return -EINVAL;		/* "1.5" bytes */
	if (shift && whole > (UINT64_MAX >> shift))
		return -ERANGE;
	v = whole << shift;
	/* frac / scale of a unit, rounded down; frac < 10^6 and shift <= 60 */
	if (frac) {
		uint64_t unit = 1ull << shift, add;

		add = unit / scale * frac + unit % scale * frac / scale;
		if (v > UINT64_MAX - add)
			return -ERANGE;
		v += add;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}
