/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * json.h - streaming JSON writer.
 *
 * The writer places commas, colons and (optionally) indentation itself and
 * checks the nesting, so callers only say what comes next. Strings are
 * escaped per RFC 8259 and invalid UTF-8 is replaced by U+FFFD (written as
 * "\ufffd"), so the output is valid JSON whatever bytes a target hands us.
 *
 * Each top-level value is followed by a newline, so a sequence of
 * top-level values is a JSON Lines stream.
 *
 * Errors are sticky: after the first failure (misuse such as a value
 * without a name inside an object, nesting deeper than JW_MAX_DEPTH, or a
 * failed write) every call returns the same -errno and writes nothing.
 */
#ifndef MEMSIGHT_JSON_H
#define MEMSIGHT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 64

struct json_writer;

/* Writer on f (not owned: jw__free() does not close it); NULL + errno on failure. */
struct json_writer *jw__new(FILE *f);
void jw__free(struct json_writer *w);
/* Two-space indentation and "key": value; set before the first value. */
void jw__set_pretty(struct json_writer *w, bool pretty);
/* 0, or the sticky error; -EINVAL if a container is still open. Flushes f. */
int jw__finish(struct json_writer *w);

int jw__start_object(struct json_writer *w);
int jw__end_object(struct json_writer *w);
int jw__start_array(struct json_writer *w);
int jw__end_array(struct json_writer *w);
/* Member name; must be followed by exactly one value. */
int jw__name(struct json_writer *w, const char *key);

/* s == NULL writes null. */
int jw__string(struct json_writer *w, const char *s);
int jw__uint(struct json_writer *w, uint64_t v);
int jw__int(struct json_writer *w, int64_t v);
/* NaN and infinities have no JSON form: written as null. */
int jw__double(struct json_writer *w, double v);
int jw__bool(struct json_writer *w, bool v);
int jw__null(struct json_writer *w);

int jw__kv_string(struct json_writer *w, const char *key, const char *s);
int jw__kv_uint(struct json_writer *w, const char *key, uint64_t v);
int jw__kv_int(struct json_writer *w, const char *key, int64_t v);
int jw__kv_bool(struct json_writer *w, const char *key, bool v);

#endif /* MEMSIGHT_JSON_H */
