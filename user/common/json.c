// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

struct jw_level {
	bool is_object;
	bool nonempty;
};

struct json_writer {
	FILE *f;
	int err;		/* sticky: first failure, 0 while all is well */
	bool pretty;
	bool name_pending;	/* jw__name() done, its value not yet */
	unsigned int depth;
	struct jw_level stack[JW_MAX_DEPTH];
};

struct json_writer *jw__new(FILE *f)
{
	struct json_writer *w;

	if (!f) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->f = f;
	return w;
}

void jw__free(struct json_writer *w)
{
	free(w);
}

void jw__set_pretty(struct json_writer *w, bool pretty)
{
	if (w)
		w->pretty = pretty;
}

static int fail(struct json_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	return w->err;
}

static int put(struct json_writer *w, const char *s, size_t n)
{
	if (w->err)
		return w->err;
	errno = 0;
	if (n && fwrite(s, 1, n, w->f) != n)
		return fail(w, errno ? -errno : -EIO);
	return 0;
}

static int puts_(struct json_writer *w, const char *s)
{
	return put(w, s, strlen(s));
}

static int newline_indent(struct json_writer *w, unsigned int depth)
{
	static const char spaces[] = "                                ";

	if (!w->pretty)
		return 0;
	put(w, "\n", 1);
	/* Two spaces per level, written in chunks of the static run. */
	for (size_t left = 2 * (size_t)depth; left; ) {
		size_t n = left < sizeof(spaces) - 1 ? left : sizeof(spaces) - 1;

		put(w, spaces, n);
		left -= n;
	}
	return w->err;
}

/* Comma and indentation before a value; checks a value is allowed here. */
static int begin_value(struct json_writer *w)
{
	struct jw_level *top;

	if (w->err)
		return w->err;
	if (!w->depth)
		return 0;
	top = &w->stack[w->depth - 1];
	if (top->is_object) {
		if (!w->name_pending)
			return fail(w, -EINVAL);
		w->name_pending = false;
		return 0;
	}
	if (top->nonempty)
		put(w, ",", 1);
	top->nonempty = true;
	return newline_indent(w, w->depth);
}

/* A finished top-level value ends its line (JSON Lines). */
static int end_value(struct json_writer *w)
{
	if (!w->depth)
		put(w, "\n", 1);
	return w->err;
}

/*
 * Length of the well-formed UTF-8 sequence at s (Unicode Table 3-7: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0 with *ret_skip
 * set to its maximal ill-formed prefix, which becomes one U+FFFD as
 * Unicode recommends. Stops at the NUL terminator since 0 < 0x80.
 */
static size_t utf8_seq_len(const unsigned char *s, size_t *ret_skip)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		*ret_skip = 1;
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (s[i] < lo || s[i] > hi) {
			*ret_skip = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

static int put_string(struct json_writer *w, const char *str)
{
	const unsigned char *s = (const unsigned char *)str, *run = s;
	char esc[8];
	size_t n, skip;

	put(w, "\"", 1);
	while (*s) {
		const char *e = NULL;

		n = utf8_seq_len(s, &skip);
		/* U+0080..U+009F (C2 80..C2 9F) are C1 controls: a terminal acts on them */
		if ((n > 1 && !(s[0] == 0xc2 && s[1] <= 0x9f)) ||
		    (n == 1 && *s >= 0x20 && *s != '"' && *s != '\\')) {
			s += n;
			continue;
		}
		/* Flush the run of bytes that needed nothing, then the escape. */
		put(w, (const char *)run, s - run);
		if (!n) {
			e = "\\ufffd";
			s += skip;
		} else if (n == 2) {
			snprintf(esc, sizeof(esc), "\\u%04x", s[1]);
			e = esc;
			s += 2;
		} else {
			switch (*s) {
			case '"': e = "\\\""; break;
			case '\\': e = "\\\\"; break;
			case '\b': e = "\\b"; break;
			case '\f': e = "\\f"; break;
			case '\n': e = "\\n"; break;
			case '\r': e = "\\r"; break;
			case '\t': e = "\\t"; break;
			default:
				snprintf(esc, sizeof(esc), "\\u%04x", *s);
				e = esc;
			}
			s++;
		}
		puts_(w, e);
		run = s;
	}
	put(w, (const char *)run, s - run);
	return put(w, "\"", 1);
}

static int start(struct json_writer *w, bool is_object)
{
	if (!w)
		return -EINVAL;
	if (begin_value(w))
		return w->err;
	if (w->depth == JW_MAX_DEPTH)
		return fail(w, -E2BIG);
	put(w, is_object ? "{" : "[", 1);
	w->stack[w->depth++] = (struct jw_level){ .is_object = is_object };
	return w->err;
}

static int end(struct json_writer *w, bool is_object)
{
	if (!w)
		return -EINVAL;
	if (w->err)
		return w->err;
	if (!w->depth || w->stack[w->depth - 1].is_object != is_object || w->name_pending)
		return fail(w, -EINVAL);
	if (w->stack[w->depth - 1].nonempty)
		newline_indent(w, w->depth - 1);
	put(w, is_object ? "}" : "]", 1);
	w->depth--;
	return end_value(w);
}

int jw__start_object(struct json_writer *w)
{
	return start(w, true);
}

int jw__end_object(struct json_writer *w)
{
	return end(w, true);
}

int jw__start_array(struct json_writer *w)
{
	return start(w, false);
}

int jw__end_array(struct json_writer *w)
{
	return end(w, false);
}

int jw__name(struct json_writer *w, const char *key)
{
	struct jw_level *top;

	if (!w)
		return -EINVAL;
	if (w->err)
		return w->err;
	if (!key || !w->depth || !w->stack[w->depth - 1].is_object || w->name_pending)
		return fail(w, -EINVAL);
	top = &w->stack[w->depth - 1];
	if (top->nonempty)
		put(w, ",", 1);
	top->nonempty = true;
	newline_indent(w, w->depth);
	put_string(w, key);
	put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
	w->name_pending = true;
	return w->err;
}

/* A scalar already formatted as JSON text. */
static int raw_value(struct json_writer *w, const char *text)
{
	if (!w)
		return -EINVAL;
	if (begin_value(w))
		return w->err;
	puts_(w, text);
	return end_value(w);
}

int jw__string(struct json_writer *w, const char *s)
{
	if (!s)
		return jw__null(w);
	if (!w)
		return -EINVAL;
	if (begin_value(w))
		return w->err;
	put_string(w, s);
	return end_value(w);
}

int jw__uint(struct json_writer *w, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return raw_value(w, buf);
}

int jw__int(struct json_writer *w, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return raw_value(w, buf);
}

/*
 * Shortest of %.15g..%.17g that reads back as the same double, so 0.1
 * prints as 0.1, not 0.10000000000000001.
 */
int jw__double(struct json_writer *w, double v)
{
	const char *dp = localeconv()->decimal_point;
	char buf[64], *p;
	size_t dplen;

	if (!isfinite(v))
		return raw_value(w, "null");
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* printf follows LC_NUMERIC; JSON wants '.' whatever the locale. */
	dplen = dp ? strlen(dp) : 0;
	if (dplen && strcmp(dp, ".") && (p = strstr(buf, dp))) {
		*p = '.';
		memmove(p + 1, p + dplen, strlen(p + dplen) + 1);
	}
	return raw_value(w, buf);
}

int jw__bool(struct json_writer *w, bool v)
{
	return raw_value(w, v ? "true" : "false");
}

int jw__null(struct json_writer *w)
{
	return raw_value(w, "null");
}

int jw__kv_string(struct json_writer *w, const char *key, const char *s)
{
	return jw__name(w, key) ?: jw__string(w, s);
}

int jw__kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
	return jw__name(w, key) ?: jw__uint(w, v);
}

int jw__kv_int(struct json_writer *w, const char *key, int64_t v)
{
	return jw__name(w, key) ?: jw__int(w, v);
}

int jw__kv_bool(struct json_writer *w, const char *key, bool v)
{
	return jw__name(w, key) ?: jw__bool(w, v);
}

int jw__finish(struct json_writer *w)
{
	if (!w)
		return -EINVAL;
	if (w->err)
		return w->err;
	if (w->depth || w->name_pending)
		return -EINVAL;
	errno = 0;
	if (fflush(w->f))
		return fail(w, errno ? -errno : -EIO);
	return 0;
}
