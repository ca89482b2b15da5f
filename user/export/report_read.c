// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/readfile.h"
#include "export/report_read.h"

/* A reader's state: the report filled, where in the file we are, the first error. */
struct reader {
	struct diff_report *r;
	char *err;
	size_t errlen;
	unsigned int flags;
	size_t value;		/* top-level value (JSON Lines), from 1 */
	size_t proc;		/* profile within it, from 0 */
};

static int fail(struct reader *rd, int code, const char *fmt, ...)
{
	int n = snprintf(rd->err, rd->errlen, "value %zu, process %zu: ", rd->value, rd->proc);
	va_list ap;

	if (n >= 0 && (size_t)n < rd->errlen) {
		va_start(ap, fmt);
		vsnprintf(rd->err + n, rd->errlen - n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static struct json_object *member(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

/* A non-negative integer member; -EINVAL when missing or anything else. */
static int get_u64(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v = member(o, key, json_type_int);

	if (!v || json_object_get_int64(v) < 0)
		return -EINVAL;
	*ret = json_object_get_uint64(v);
	return 0;
}

/* A string member, "" when missing or null; NULL when of another type. */
static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "";
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* One frame as the key names it (model/diff.h): never by its address. */
static int frame_key(struct reader *rd, struct json_object *f, size_t i, char *key, size_t *len)
{
	const char *func, *file, *mod, *off;
	uint64_t line = 0;

	if (!json_object_is_type(f, json_type_object))
		return fail(rd, -EINVAL, "frame %zu is not an object", i);
	func = get_str(f, "func");
	file = get_str(f, "file");
	mod = get_str(f, "module");
	off = get_str(f, "module_offset");
	if (!func || !file || !mod || !off)
		return fail(rd, -EINVAL, "frame %zu: func, file, module or module_offset "
			    "is not a string", i);
	if (json_object_object_get_ex(f, "line", NULL) && get_u64(f, "line", &line))
		return fail(rd, -EINVAL, "frame %zu: line is not a non-negative integer", i);
	return diff__frame_key(key, len, func, file, line, mod, off,
			       rd->flags & REPORT_READ_FUNCS_ONLY);
}

static int read_stack(struct reader *rd, struct diff_proc *p, struct json_object *s, size_t i,
		      char *key)
{
	struct json_object *frames = member(s, "frames", json_type_array);
	uint64_t bytes[DIFF_METRICS];
	const char *kind;
	size_t len = 0;
	int err;

	if (!json_object_is_type(s, json_type_object))
		return fail(rd, -EINVAL, "stacks[%zu] is not an object", i);
	kind = get_str(s, "kind");
	if (!kind || !*kind)
		return fail(rd, -EINVAL, "stacks[%zu]: no kind string", i);
	if (get_u64(s, "inuse_bytes", &bytes[DIFF_INUSE]) ||
	    get_u64(s, "alloc_bytes", &bytes[DIFF_ALLOC]))
		return fail(rd, -EINVAL, "stacks[%zu]: inuse_bytes or alloc_bytes missing or "
			    "not a non-negative integer", i);
	if (!frames)
		return fail(rd, -EINVAL, "stacks[%zu]: no frames array", i);
	err = diff__key_add(key, &len, "%s", kind);
	for (size_t j = 0; !err && j < json_object_array_length(frames); j++)
		err = frame_key(rd, json_object_array_get_idx(frames, j), j, key, &len);
	if (err == -E2BIG)
		return fail(rd, err, "stacks[%zu]: frames longer than %u bytes", i, DIFF_MAX_KEY);
	if (err)
		return err;
	err = diff_report__add_stack(rd->r, p, key, bytes);
	if (err == -E2BIG)
		return fail(rd, err, "more than %u stacks", DIFF_MAX_STACKS);
	return err;
}

static int read_profile(struct reader *rd, struct json_object *o)
{
	struct json_object *tracked = member(o, "tracked", json_type_object);
	struct json_object *stacks = member(o, "stacks", json_type_array);
	struct json_object *ev = member(o, "events", json_type_object), *b;
	const char *comm = get_str(o, "comm"), *exe = get_str(o, "exe"), *why;
	uint64_t tot[DIFF_METRICS];
	struct diff_proc *p;
	char *name, *key;
	int err = 0;

	if (!tracked || !stacks)
		return fail(rd, -EINVAL, "not a profile: no \"tracked\" object or \"stacks\" array");
	why = get_str(tracked, "unavailable");
	if (!why || *why)	/* its zeros are no figures to compare */
		return fail(rd, -EINVAL, "tracked figures unavailable (see the report's "
			    "tracked.unavailable)");
	if (!comm || !exe)
		return fail(rd, -EINVAL, "comm or exe is not a string");
	if (get_u64(tracked, "inuse_bytes", &tot[DIFF_INUSE]) ||
	    get_u64(tracked, "alloc_bytes", &tot[DIFF_ALLOC]))
		return fail(rd, -EINVAL, "tracked: inuse_bytes or alloc_bytes missing or not a "
			    "non-negative integer");
	name = diff__proc_name(comm, exe);
	if (!name)
		return -ENOMEM;
	p = diff_report__proc(rd->r, name);
	free(name);
	if (!p)
		return errno == E2BIG ? fail(rd, -E2BIG, "more than %u processes", DIFF_MAX_PROCS) :
					-ENOMEM;
	for (int m = 0; m < DIFF_METRICS; m++)
		p->total[m] = diff__sat_add(p->total[m], tot[m]);
	b = member(tracked, "estimates", json_type_boolean);
	rd->r->estimates |= b && json_object_get_boolean(b);
	b = ev ? member(ev, "lower_bound", json_type_boolean) : NULL;
	rd->r->lower_bound |= b && json_object_get_boolean(b);
	key = malloc(DIFF_MAX_KEY + 1);
	if (!key)
		return -ENOMEM;
	for (size_t i = 0; !err && i < json_object_array_length(stacks); i++)
		err = read_stack(rd, p, json_object_array_get_idx(stacks, i), i, key);
	free(key);
	return err;
}

/* An element of an array or of "processes": a profile, or run's {"profile": ...}. */
static int read_element(struct reader *rd, struct json_object *o)
{
	struct json_object *prof;
	int err;

	if (!json_object_is_type(o, json_type_object))
		return fail(rd, -EINVAL, "not an object");
	if ((prof = member(o, "profile", json_type_object)))
		err = read_profile(rd, prof);
	else if (json_object_object_get_ex(o, "profile_unavailable", NULL))
		err = (rd->r->skipped++, 0);
	else
		err = read_profile(rd, o);
	rd->proc++;
	return err;
}

static int read_value(struct reader *rd, struct json_object *v)
{
	struct json_object *procs = NULL;
	int err = 0;

	rd->proc = 0;
	if (json_object_is_type(v, json_type_object) &&
	    !(procs = member(v, "processes", json_type_array)))
		return read_element(rd, v);
	if (!procs && !json_object_is_type(v, json_type_array))
		return fail(rd, -EINVAL, "neither a profile, an array of profiles nor an object "
			    "with a \"processes\" array");
	if (!procs)
		procs = v;
	for (size_t i = 0; !err && i < json_object_array_length(procs); i++)
		err = read_element(rd, json_object_array_get_idx(procs, i));
	return err;
}

static bool only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", s[i]) || !s[i])
			return false;
	return true;
}

int report_read__parse(const char *buf, size_t len, unsigned int flags,
		       struct diff_report *ret, char *err, size_t errlen)
{
	struct reader rd = { .r = ret, .err = err, .errlen = errlen, .flags = flags };
	struct json_tokener *tok;
	size_t at = 0;
	int e = 0;

	memset(ret, 0, sizeof(*ret));
	if (errlen)
		err[0] = '\0';
	if (len > REPORT_READ_MAX_FILE || len > INT_MAX)
		return fail(&rd, -E2BIG, "more than %u bytes", REPORT_READ_MAX_FILE);
	tok = json_tokener_new_ex(REPORT_READ_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	/* JSON Lines: values one after the other */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	while (!e && !only_space(buf + at, len - at)) {
		struct json_object *v;
		enum json_tokener_error te;

		rd.value++;
		rd.proc = 0;
		json_tokener_reset(tok);
		v = json_tokener_parse_ex(tok, buf + at, (int)(len - at));
		te = json_tokener_get_error(tok);
		if (!v || te != json_tokener_success) {
			json_object_put(v);
			e = fail(&rd, -EINVAL, "the value from byte %zu is not JSON: %s", at,
				 te == json_tokener_continue ? "unexpected end" :
				 json_tokener_error_desc(te));
			break;
		}
		at += json_tokener_get_parse_end(tok);
		e = read_value(&rd, v);
		json_object_put(v);
	}
	json_tokener_free(tok);
	if (!e && !ret->nprocs)
		e = fail(&rd, -EINVAL, "no process profile in it");
	if (e)
		diff_report__free(ret);
	else
		diff_report__finish(ret);
	return e;
}

int report_read__file(const char *path, unsigned int flags, struct diff_report *ret,
		      char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int e;

	memset(ret, 0, sizeof(*ret));
	e = ms_read_whole(path, 0, REPORT_READ_MAX_FILE, &buf, &len);
	if (e) {
		snprintf(err, errlen, "%s", e == -EFBIG ? "larger than 256 MiB" : strerror(-e));
		return e;
	}
	e = report_read__parse(buf, len, flags, ret, err, errlen);
	free(buf);
	return e;
}
