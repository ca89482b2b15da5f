// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/textsafe.h"

size_t utf8__decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;
	size_t len;

	if (!n)
		return 0;
	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min_cp[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*ret_cp = cp;
	return len;
}

/* Code points a terminal acts on or that reorder the line: never written as they are. */
static bool unsafe_cp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t textsafe__next(const char *s, size_t n, char esc[TEXTSAFE_ESC_MAX])
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t len = utf8__decode(u, n, &cp);

	esc[0] = '\0';
	if (!len) {
		snprintf(esc, TEXTSAFE_ESC_MAX, "\\x%02x", u[0]);
		return 1;
	}
	if (!unsafe_cp(cp))
		return len;
	if (cp == '\n')
		strcpy(esc, "\\n");
	else if (cp == '\t')
		strcpy(esc, "\\t");
	else if (cp == '\r')
		strcpy(esc, "\\r");
	else if (len == 1)
		snprintf(esc, TEXTSAFE_ESC_MAX, "\\x%02x", (unsigned int)cp);
	else
		snprintf(esc, TEXTSAFE_ESC_MAX, "\\u%04x", (unsigned int)cp);
	return len;
}

/* Characters a terminal shows for one character of the input: its escape's, or one. */
static size_t shown_width(const char *esc)
{
	return esc[0] ? strlen(esc) : 1;
}

/* Escape s into buf; the characters written in *ret_width. */
static const char *escape(char *buf, size_t size, const char *s, size_t *ret_width)
{
	char esc[TEXTSAFE_ESC_MAX];
	size_t n = s ? strlen(s) : 0, w = 0, o = 0;

	*ret_width = 0;
	if (!size)
		return buf;
	for (size_t i = 0; i < n;) {
		size_t len = textsafe__next(s + i, n - i, esc);
		const char *src = esc[0] ? esc : s + i;
		size_t out = esc[0] ? strlen(esc) : len;

		if (o + out >= size)
			break;
		memcpy(buf + o, src, out);
		o += out;
		w += shown_width(esc);
		i += len;
	}
	buf[o] = '\0';
	*ret_width = w;
	return buf;
}

const char *textsafe__str(char *buf, size_t size, const char *s)
{
	size_t w;

	return escape(buf, size, s, &w);
}

const char *textsafe__col(char *buf, size_t size, const char *s, int width)
{
	size_t w, o;

	escape(buf, size, s, &w);
	o = strlen(buf);
	for (; width > 0 && w < (size_t)width && o + 1 < size; w++)
		buf[o++] = ' ';
	if (size)
		buf[o] = '\0';
	return buf;
}

size_t textsafe__width(const char *s)
{
	char esc[TEXTSAFE_ESC_MAX];
	size_t n = s ? strlen(s) : 0, w = 0;

	for (size_t i = 0; i < n;) {
		i += textsafe__next(s + i, n - i, esc);
		w += shown_width(esc);
	}
	return w;
}

int textsafe__fputs(const char *s, FILE *f)
{
	char esc[TEXTSAFE_ESC_MAX];
	size_t n = s ? strlen(s) : 0;

	for (size_t i = 0; i < n;) {
		size_t len = textsafe__next(s + i, n - i, esc);

		if (esc[0])
			fputs(esc, f);
		else
			fwrite(s + i, 1, len, f);
		i += len;
	}
	return ferror(f) ? -EIO : 0;
}
