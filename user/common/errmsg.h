/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * errmsg.h - the error-message helpers every parser shares: fill a caller's
 * buffer and return an error code in one statement, and echo hostile input
 * safely (printable ASCII only, bounded).
 */
#ifndef MEMSIGHT_ERRMSG_H
#define MEMSIGHT_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Format into err (if given) and return ret: `return ms_fail(err, len, -EINVAL, ...)`. */
__attribute__((format(printf, 4, 5)))
static inline int ms_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/*
 * Up to max bytes of s for a message: other than printable ASCII becomes
 * '?', and "..." marks a cut. out must hold max + 4 bytes.
 */
static inline const char *ms_echo(char *out, size_t max, const char *s, size_t n)
{
	size_t i, m = n > max ? max : n;

	for (i = 0; i < m; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (m < n) {
		memcpy(out + m, "...", 3);
		m += 3;
	}
	out[m] = '\0';
	return out;
}

#endif /* MEMSIGHT_ERRMSG_H */
