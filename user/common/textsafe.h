/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * textsafe.h - strings from a target (comm, paths, symbols, Go names,
 * cmdline, cgroup, mapping names) made safe for a terminal and for one line
 * of a table: every control character (C0, DEL, C1 whether a raw byte or
 * U+0080..U+009F), every bidirectional override (U+202A..U+202E,
 * U+2066..U+2069) and every byte that is not part of well-formed UTF-8
 * becomes a visible escape: \n \t \r, \xNN for other single bytes, \uNNNN
 * for code points. Anything else, backslash included, is written as it is,
 * so ordinary names and systemd's "\x2d" in unit names read the same.
 *
 * JSON output escapes for itself (common/json.c); this is for text.
 */
#ifndef MEMSIGHT_TEXTSAFE_H
#define MEMSIGHT_TEXTSAFE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Buffer size that holds any string of n bytes escaped (no byte grows beyond 4). */
#define TEXTSAFE_SIZE(n)	(4 * (size_t)(n) + 1)
/* Longest escape of one character, with its NUL: "\u202e" */
#define TEXTSAFE_ESC_MAX	8

/*
 * Length of the well-formed UTF-8 sequence at s (1-4, at most n bytes; no
 * overlongs, surrogates or code points above U+10FFFF) and its code point
 * in *ret_cp, or 0 when s does not start one.
 */
size_t utf8__decode(const unsigned char *s, size_t n, uint32_t *ret_cp);

/*
 * The character at s (n > 0 bytes left): its length in bytes, and in esc
 * the escape to write instead of it, or "" when it is safe as it is.
 */
size_t textsafe__next(const char *s, size_t n, char esc[TEXTSAFE_ESC_MAX]);

/*
 * s escaped into buf (size bytes, always NUL-terminated when size > 0; cut
 * before the first character or escape that does not fit). NULL reads as "".
 * Returns buf, to be an argument of printf.
 */
const char *textsafe__str(char *buf, size_t size, const char *s);

/*
 * The same, left-aligned in a table column of width characters: padded with
 * spaces counted in characters (a UTF-8 character is one), so the next
 * column lines up. Wider text is not cut: the column grows on that line.
 */
const char *textsafe__col(char *buf, size_t size, const char *s, int width);

/* Characters textsafe__str() writes for s (a UTF-8 character counts one). */
size_t textsafe__width(const char *s);

/* s escaped to f. 0 or -EIO. */
int textsafe__fputs(const char *s, FILE *f);

#endif
