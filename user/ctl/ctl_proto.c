// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "ctl/ctl_proto.h"
#include "common/errmsg.h"

#define SEL_KEYS (CTL_KEY_PID | CTL_KEY_COMM | CTL_KEY_EXE | CTL_KEY_CGROUP | CTL_KEY_POD | \
		  CTL_KEY_NAMESPACE | CTL_KEY_CONTAINER)

static const struct verb_desc {
	const char *name;
	unsigned int allowed;	/* keys the verb takes */
	unsigned int required;	/* beyond the one selector attach/detach need */
} verbs[CTL_VERB_COUNT] = {
	[CTL_PING]	= { "ping", 0, 0 },
	[CTL_ATTACH]	= { "attach", SEL_KEYS, 0 },
	[CTL_DETACH]	= { "detach", SEL_KEYS, 0 },
	[CTL_PS]	= { "ps", 0, 0 },
	/* format= on top is beyond the spec: the CLI asks for text or json. */
	[CTL_TOP]	= { "top", CTL_KEY_PID | CTL_KEY_N | CTL_KEY_FRAMES | CTL_KEY_GROWTH |
			    CTL_KEY_FORMAT, CTL_KEY_PID },
	[CTL_DUMP]	= { "dump", CTL_KEY_PID | CTL_KEY_FORMAT | CTL_KEY_VALUE,
			    CTL_KEY_PID | CTL_KEY_FORMAT },
	[CTL_RULES]	= { "rules", 0, 0 },
	[CTL_STATS]	= { "stats", 0, 0 },
	[CTL_RELOAD]	= { "reload", 0, 0 },
};

/* In the order ctl__format_request() writes them. */
static const struct key_desc {
	const char *name;
	unsigned int bit;
	enum ctl_selector sel;	/* CTL_SEL_NONE for non-selector keys */
} keys[] = {
	{ "pid",	CTL_KEY_PID,	CTL_SEL_PID },
	{ "comm",	CTL_KEY_COMM,	CTL_SEL_COMM },
	{ "exe",	CTL_KEY_EXE,	CTL_SEL_EXE },
	{ "cgroup",	CTL_KEY_CGROUP,	CTL_SEL_CGROUP },
	{ "pod",	CTL_KEY_POD,	CTL_SEL_POD },
	{ "namespace",	CTL_KEY_NAMESPACE, CTL_SEL_NAMESPACE },
	{ "container",	CTL_KEY_CONTAINER, CTL_SEL_CONTAINER },
	{ "n",		CTL_KEY_N,	CTL_SEL_NONE },
	{ "frames",	CTL_KEY_FRAMES,	CTL_SEL_NONE },
	{ "growth",	CTL_KEY_GROWTH,	CTL_SEL_NONE },
	{ "format",	CTL_KEY_FORMAT,	CTL_SEL_NONE },
	{ "value",	CTL_KEY_VALUE,	CTL_SEL_NONE },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

const char *ctl__selector_name(enum ctl_selector sel)
{
	return sel > CTL_SEL_PID && sel <= CTL_SEL_CONTAINER ? keys[sel - 1].name : NULL;
}

static const char *const format_names[] = {
	[CTL_FMT_PPROF] = "pprof",
	[CTL_FMT_FOLDED] = "folded",
	[CTL_FMT_SVG] = "svg",
	[CTL_FMT_JSON] = "json",
	[CTL_FMT_TEXT] = "text",
};

static const char *const value_names[] = {
	[CTL_VAL_INUSE_BYTES] = "inuse_bytes",
	[CTL_VAL_ALLOC_BYTES] = "alloc_bytes",
	[CTL_VAL_INUSE_COUNT] = "inuse_count",
	[CTL_VAL_ALLOC_COUNT] = "alloc_count",
};

/*
 * Client bytes echoed in an error: printable ASCII only and bounded, so a
 * hostile token cannot bloat or garble the reply.
 */
#define ECHO_MAX 40

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

const char *ctl__verb_name(enum ctl_verb verb)
{
	return (unsigned int)verb < CTL_VERB_COUNT ? verbs[verb].name : NULL;
}

const char *ctl__format_name(enum ctl_format fmt)
{
	return (unsigned int)fmt < MS_ARRAY_LEN(format_names) ? format_names[fmt] : NULL;
}

const char *ctl__value_name(enum ctl_value value)
{
	return (unsigned int)value < MS_ARRAY_LEN(value_names) ? value_names[value] : NULL;
}

/* Index of the name equal to s[0..n) in a table with NULL holes, or -1. */
static int lookup(const char *const *names, size_t count, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (names[i] && strlen(names[i]) == n && !memcmp(names[i], s, n))
			return (int)i;
	return -1;
}

static int lookup_verb(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < CTL_VERB_COUNT; i++)
		if (strlen(verbs[i].name) == n && !memcmp(verbs[i].name, s, n))
			return (int)i;
	return -1;
}

int ctl__verb_from_name(const char *s, enum ctl_verb *ret)
{
	int i = lookup_verb(s, strlen(s));

	if (i < 0)
		return -EINVAL;
	*ret = i;
	return 0;
}

int ctl__format_from_name(const char *s, enum ctl_format *ret)
{
	int i = lookup(format_names, MS_ARRAY_LEN(format_names), s, strlen(s));

	if (i < 0)
		return -EINVAL;
	*ret = i;
	return 0;
}

int ctl__value_from_name(const char *s, enum ctl_value *ret)
{
	int i = lookup(value_names, MS_ARRAY_LEN(value_names), s, strlen(s));

	if (i < 0)
		return -EINVAL;
	*ret = i;
	return 0;
}

void ctl__request_init(struct ctl_request *req, enum ctl_verb verb)
{
	memset(req, 0, sizeof(*req));
	req->verb = verb;
	req->n = CTL_TOP_N_DEFAULT;
	req->frames = CTL_FRAMES_DEFAULT;
	req->value = CTL_VAL_INUSE_BYTES;
	if (verb == CTL_TOP || verb == CTL_DUMP)
		req->sel = CTL_SEL_PID;
}

/* ---- parsing -------------------------------------------------------- */

/* Decimal digits only (no sign, no spaces), checked against lo..hi. */
static int parse_num(const char *key, const char *s, size_t n, uint64_t lo, uint64_t hi,
		     uint64_t *ret, size_t col, char *err, size_t errlen)
{
	char e[ECHO_MAX + 4];
	uint64_t v = 0;
	size_t i;

	if (!n)
		return ms_fail(err, errlen, -EINVAL, "column %zu: %s must be a number", col, key);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ms_fail(err, errlen, -EINVAL, "column %zu: %s must be a number, got '%s'",
				    col, key, ms_echo(e, ECHO_MAX, s, n));
		/* Saturate: anything past hi is out of range however long it is. */
		if (v <= hi)
			v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return ms_fail(err, errlen, -EINVAL, "column %zu: %s %s is out of range %" PRIu64
			    "..%" PRIu64, col, key, ms_echo(e, ECHO_MAX, s, n), lo, hi);
	*ret = v;
	return 0;
}

/*
 * Decode the value starting at line[*pos] into val (NUL-terminated);
 * *pos ends just past it. Columns in messages are 1-based byte offsets.
 */
static int parse_value(const char *line, size_t len, size_t *pos, const char *key,
		       char val[CTL_VALUE_MAX + 1], size_t *ret_n, char *err, size_t errlen)
{
	size_t p = *pos, start = p, n = 0;
	bool quoted = p < len && line[p] == '"';

	if (quoted)
		p++;
	for (;; p++) {
		char c;

		if (p >= len) {
			if (quoted)
				return ms_fail(err, errlen, -EINVAL,
					    "column %zu: unterminated quoted value for %s", start + 1,
					    key);
			break;
		}
		c = line[p];
		if (!quoted && is_space(c))
			break;
		if (quoted && c == '"') {
			p++;
			if (p < len && !is_space(line[p]))
				return ms_fail(err, errlen, -EINVAL,
					    "column %zu: expected a space after the closing quote",
					    p + 1);
			break;
		}
		if (c == '\0')
			return ms_fail(err, errlen, -EINVAL, "column %zu: NUL byte in the value of %s",
				    p + 1, key);
		if (is_ctl(c))
			return ms_fail(err, errlen, -EINVAL,
				    "column %zu: control character 0x%02x in the value of %s",
				    p + 1, (unsigned char)c, key);
		if (!quoted && (c == '"' || c == '\\'))
			return ms_fail(err, errlen, -EINVAL,
				    "column %zu: '%c' in an unquoted value; quote the whole value",
				    p + 1, c);
		if (c == '\\') {
			p++;
			if (p >= len || (line[p] != '"' && line[p] != '\\'))
				return ms_fail(err, errlen, -EINVAL,
					    "column %zu: bad escape in quoted value: only \\\" and \\\\",
					    p);
			c = line[p];
		}
		if (n == CTL_VALUE_MAX)
			return ms_fail(err, errlen, -EINVAL,
				    "column %zu: value of %s is longer than %d bytes", start + 1, key,
				    CTL_VALUE_MAX);
		val[n++] = c;
	}
	val[n] = '\0';
	if (!n)
		return ms_fail(err, errlen, -EINVAL, "column %zu: empty value for %s", start + 1, key);
	*pos = p;
	*ret_n = n;
	return 0;
}

static int apply_arg(struct ctl_request *req, const struct key_desc *k, const char *val,
		     size_t n, size_t col, char *err, size_t errlen)
{
	char e[ECHO_MAX + 4];
	uint64_t v;
	int i, r;

	switch (k->bit) {
	case CTL_KEY_PID:
		r = parse_num("pid", val, n, 1, CTL_PID_MAX, &v, col, err, errlen);
		if (r)
			return r;
		req->pid = (pid_t)v;
		break;
	case CTL_KEY_COMM:
	case CTL_KEY_EXE:
	case CTL_KEY_CGROUP:
	case CTL_KEY_POD:
	case CTL_KEY_NAMESPACE:
	case CTL_KEY_CONTAINER:
		memcpy(req->sel_value, val, n + 1);
		break;
	case CTL_KEY_N:
	case CTL_KEY_FRAMES:
		r = parse_num(k->name, val, n, 0, CTL_COUNT_MAX, &v, col, err, errlen);
		if (r)
			return r;
		if (k->bit == CTL_KEY_N)
			req->n = (uint32_t)v;
		else
			req->frames = (uint32_t)v;
		break;
	case CTL_KEY_GROWTH:
		if (n != 1 || (val[0] != '0' && val[0] != '1'))
			return ms_fail(err, errlen, -EINVAL, "column %zu: growth must be 0 or 1, got '%s'",
				    col, ms_echo(e, ECHO_MAX, val, n));
		req->growth = val[0] == '1';
		break;
	case CTL_KEY_FORMAT:
		i = lookup(format_names, MS_ARRAY_LEN(format_names), val, n);
		if (i < 0)
			return ms_fail(err, errlen, -EINVAL, "column %zu: unknown format '%s' (pprof, "
				    "folded, svg, json, text)", col, ms_echo(e, ECHO_MAX, val, n));
		req->format = i;
		break;
	case CTL_KEY_VALUE:
		i = lookup(value_names, MS_ARRAY_LEN(value_names), val, n);
		if (i < 0)
			return ms_fail(err, errlen, -EINVAL, "column %zu: unknown value '%s' (inuse_bytes, "
				    "alloc_bytes, inuse_count, alloc_count)", col, ms_echo(e, ECHO_MAX, val, n));
		req->value = i;
		break;
	}
	if (k->sel != CTL_SEL_NONE)
		req->sel = k->sel;
	return 0;
}

/*
 * The key=value token at or after line[*p] (syntax only: key charset and
 * length, value quoting, escapes, length and bytes): 1 with the key at
 * line[*ret_key..+*ret_keylen), the decoded value in val and the token's
 * column; 0 at the end of the line; -EINVAL.
 */
static int next_arg(const char *line, size_t len, size_t *p, size_t *ret_key, size_t *ret_keylen,
		    char val[CTL_VALUE_MAX + 1], size_t *ret_vlen, size_t *ret_col,
		    char *err, size_t errlen)
{
	char e[ECHO_MAX + 4], key[CTL_KEY_MAX + 1];
	size_t start, n, i;

	while (*p < len && is_space(line[*p]))
		(*p)++;
	if (*p >= len)
		return 0;
	start = *p;
	*ret_col = start + 1;
	while (*p < len && line[*p] != '=' && !is_space(line[*p]))
		(*p)++;
	if (*p >= len || line[*p] != '=')
		return ms_fail(err, errlen, -EINVAL, "column %zu: expected key=value, got '%s'",
			    start + 1, ms_echo(e, ECHO_MAX, line + start, *p - start));
	n = *p - start;
	if (n == 0 || n > CTL_KEY_MAX)
		return ms_fail(err, errlen, -EINVAL, "column %zu: a key is 1 to %d of [a-z_]",
			    start + 1, CTL_KEY_MAX);
	for (i = 0; i < n; i++)
		if (!((line[start + i] >= 'a' && line[start + i] <= 'z') || line[start + i] == '_'))
			return ms_fail(err, errlen, -EINVAL, "column %zu: bad key '%s': keys are [a-z_]",
				    start + 1, ms_echo(e, ECHO_MAX, line + start, n));
	memcpy(key, line + start, n);
	key[n] = '\0';
	(*p)++;
	*ret_key = start;
	*ret_keylen = n;
	return parse_value(line, len, p, key, val, ret_vlen, err, errlen) ?: 1;
}

int ctl__parse_request(const char *line, size_t len, struct ctl_request *ret,
		       char *err, size_t errlen)
{
	char e[ECHO_MAX + 4], val[CTL_VALUE_MAX + 1];
	const struct verb_desc *vd;
	size_t p = 0, start, args, key, keylen, vlen, col, i;
	unsigned int missing;
	int v, r;

	memset(ret, 0, sizeof(*ret));
	if (len > CTL_LINE_MAX - 1)
		return ms_fail(err, errlen, -E2BIG, "request of %zu bytes is over the limit of %d "
			    "with its newline", len + 1, CTL_LINE_MAX);
	/* Tabs separate tokens; no other control byte belongs anywhere. */
	for (i = 0; i < len; i++) {
		if (line[i] == '\0')
			return ms_fail(err, errlen, -EINVAL, "column %zu: NUL byte in request", i + 1);
		if (is_ctl(line[i]) && line[i] != '\t')
			return ms_fail(err, errlen, -EINVAL, "column %zu: control character 0x%02x in "
				    "request", i + 1, (unsigned char)line[i]);
	}

	while (p < len && is_space(line[p]))
		p++;
	start = p;
	while (p < len && !is_space(line[p]))
		p++;
	if (p == start)
		return ms_fail(err, errlen, -EINVAL, "empty request");
	v = lookup_verb(line + start, p - start);
	if (v < 0)
		return ms_fail(err, errlen, -EINVAL, "column %zu: unknown verb '%s'", start + 1,
			    ms_echo(e, ECHO_MAX, line + start, p - start));
	vd = &verbs[v];

	/* Syntax and count first, so 17 args say so rather than "duplicate key". */
	start = p;
	for (args = 0; (r = next_arg(line, len, &p, &key, &keylen, val, &vlen, &col, err,
				     errlen)) > 0;)
		if (++args > CTL_ARGS_MAX)
			return ms_fail(err, errlen, -EINVAL, "column %zu: more than %d arguments", col,
				    CTL_ARGS_MAX);
	if (r < 0)
		return r;

	ctl__request_init(ret, v);
	p = start;
	for (;;) {
		const struct key_desc *k = NULL;

		r = next_arg(line, len, &p, &key, &keylen, val, &vlen, &col, err, errlen);
		if (r <= 0)
			break;
		for (i = 0; i < N_KEYS; i++)
			if (strlen(keys[i].name) == keylen && !memcmp(keys[i].name, line + key, keylen))
				k = &keys[i];
		if (!k)
			return ms_fail(err, errlen, -EINVAL, "column %zu: unknown key '%.*s'", col,
				    (int)keylen, line + key);
		if (!(vd->allowed & k->bit))
			return ms_fail(err, errlen, -EINVAL, "column %zu: %s takes no key '%s'", col,
				    vd->name, k->name);
		if (ret->keys & k->bit)
			return ms_fail(err, errlen, -EINVAL, "column %zu: duplicate key '%s'", col,
				    k->name);
		if (k->sel != CTL_SEL_NONE && (ret->keys & SEL_KEYS))
			return ms_fail(err, errlen, -EINVAL, "column %zu: two selectors, %s= and %s=: "
				    "give exactly one", col,
				    keys[__builtin_ctz(ret->keys & SEL_KEYS)].name, k->name);
		r = apply_arg(ret, k, val, vlen, col, err, errlen);
		if (r)
			return r;
		ret->keys |= k->bit;
	}
	if (r < 0)
		return r;

	if ((vd->allowed & SEL_KEYS) == SEL_KEYS && !(ret->keys & SEL_KEYS))
		return ms_fail(err, errlen, -EINVAL, "%s needs one selector: pid=, comm=, exe=, "
			    "cgroup=, pod=, namespace= or container=", vd->name);
	missing = vd->required & ~ret->keys;
	if (missing) {
		for (i = 0; i < N_KEYS; i++)
			if (missing & keys[i].bit)
				break;
		return ms_fail(err, errlen, -EINVAL, "%s needs %s=", vd->name, keys[i].name);
	}
	return 0;
}

/* ---- formatting ----------------------------------------------------- */

struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	/* Keep one byte for the NUL. */
	if (o->full || o->cap - o->len <= n) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_uint(struct out *o, const char *key, uint64_t v)
{
	char num[24];

	puts_(o, " ");
	puts_(o, key);
	put(o, num, snprintf(num, sizeof(num), "=%" PRIu64, v));
}

static void put_value(struct out *o, const char *key, const char *s)
{
	size_t i, n = strlen(s);
	bool quote = false;

	for (i = 0; i < n; i++)
		if (is_space(s[i]) || s[i] == '"' || s[i] == '\\')
			quote = true;
	puts_(o, " ");
	puts_(o, key);
	puts_(o, quote ? "=\"" : "=");
	for (i = 0; i < n; i++) {
		if (quote && (s[i] == '"' || s[i] == '\\'))
			put(o, "\\", 1);
		put(o, s + i, 1);
	}
	if (quote)
		puts_(o, "\"");
}

int ctl__format_request(char *buf, size_t len, const struct ctl_request *req,
			char *err, size_t errlen)
{
	struct out o = { .buf = buf, .cap = len };
	const struct verb_desc *vd;
	const char *fmt, *value;
	size_t i, n;

	if ((unsigned int)req->verb >= CTL_VERB_COUNT)
		return ms_fail(err, errlen, -EINVAL, "unknown verb %d", (int)req->verb);
	vd = &verbs[req->verb];
	if (req->keys & ~vd->allowed)
		return ms_fail(err, errlen, -EINVAL, "%s takes no such key", vd->name);
	puts_(&o, vd->name);

	if (vd->allowed & SEL_KEYS) {
		if (req->sel == CTL_SEL_NONE || (unsigned int)req->sel > CTL_SEL_CONTAINER)
			return ms_fail(err, errlen, -EINVAL, "%s needs a selector", vd->name);
		if (!(vd->allowed & keys[req->sel - 1].bit))
			return ms_fail(err, errlen, -EINVAL, "%s takes no key '%s'", vd->name,
				    keys[req->sel - 1].name);
	} else if (req->sel != CTL_SEL_NONE) {
		return ms_fail(err, errlen, -EINVAL, "%s takes no selector", vd->name);
	}
	if (req->sel == CTL_SEL_PID) {
		if (req->pid < 1 || req->pid > CTL_PID_MAX)
			return ms_fail(err, errlen, -EINVAL, "pid %d is out of range 1..%d",
				    (int)req->pid, CTL_PID_MAX);
		put_uint(&o, "pid", req->pid);
	} else if (req->sel != CTL_SEL_NONE) {
		n = strnlen(req->sel_value, sizeof(req->sel_value));
		if (n == 0 || n > CTL_VALUE_MAX)
			return ms_fail(err, errlen, -EINVAL, "%s value must be 1 to %d bytes",
				    keys[req->sel - 1].name, CTL_VALUE_MAX);
		for (i = 0; i < n; i++)
			if (is_ctl(req->sel_value[i]))
				return ms_fail(err, errlen, -EINVAL, "control character 0x%02x in %s "
					    "value", (unsigned char)req->sel_value[i],
					    keys[req->sel - 1].name);
		put_value(&o, keys[req->sel - 1].name, req->sel_value);
	}

	if (req->keys & CTL_KEY_N) {
		if (req->n > CTL_COUNT_MAX)
			return ms_fail(err, errlen, -EINVAL, "n %u is out of range 0..%d", req->n,
				    CTL_COUNT_MAX);
		put_uint(&o, "n", req->n);
	}
	if (req->keys & CTL_KEY_FRAMES) {
		if (req->frames > CTL_COUNT_MAX)
			return ms_fail(err, errlen, -EINVAL, "frames %u is out of range 0..%d",
				    req->frames, CTL_COUNT_MAX);
		put_uint(&o, "frames", req->frames);
	}
	if (req->keys & CTL_KEY_GROWTH)
		put_uint(&o, "growth", req->growth);
	if ((vd->required | req->keys) & CTL_KEY_FORMAT) {
		fmt = ctl__format_name(req->format);
		if (!fmt)
			return ms_fail(err, errlen, -EINVAL, "%s needs a format", vd->name);
		put_value(&o, "format", fmt);
	}
	if (req->keys & CTL_KEY_VALUE) {
		value = ctl__value_name(req->value);
		if (!value)
			return ms_fail(err, errlen, -EINVAL, "unknown value %d", (int)req->value);
		put_value(&o, "value", value);
	}
	put(&o, "\n", 1);
	if (o.full)
		return ms_fail(err, errlen, -ENOSPC, "request does not fit in %zu bytes", len);
	buf[o.len] = '\0';
	/* Unreachable with today's verbs (one value at most); kept for new ones. */
	if (o.len > CTL_LINE_MAX)
		return ms_fail(err, errlen, -EINVAL, "request of %zu bytes is over the limit of %d",
			    o.len, CTL_LINE_MAX);
	return (int)o.len;
}

/* ---- line reader ---------------------------------------------------- */

void ctl_linebuf__init(struct ctl_linebuf *lb)
{
	lb->start = lb->len = lb->scanned = 0;
	lb->too_long = false;
}

size_t ctl_linebuf__feed(struct ctl_linebuf *lb, const void *data, size_t n)
{
	size_t room;

	if (lb->too_long)
		return 0;
	if (lb->start) {
		memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->start = 0;
	}
	room = sizeof(lb->buf) - lb->len;
	if (n > room)
		n = room;
	memcpy(lb->buf + lb->len, data, n);
	lb->len += n;
	return n;
}

int ctl_linebuf__next(struct ctl_linebuf *lb, const char **ret_line, size_t *ret_len)
{
	size_t from = lb->start + lb->scanned;
	char *nl;

	if (lb->too_long)
		return -E2BIG;
	nl = memchr(lb->buf + from, '\n', lb->len - from);
	if (nl) {
		*nl = '\0';
		*ret_line = lb->buf + lb->start;
		*ret_len = nl - (lb->buf + lb->start);
		lb->start = nl + 1 - lb->buf;
		lb->scanned = 0;
		return 1;
	}
	lb->scanned = lb->len - lb->start;
	if (lb->scanned >= sizeof(lb->buf)) {
		lb->too_long = true;
		return -E2BIG;
	}
	return 0;
}

size_t ctl_linebuf__pending(const struct ctl_linebuf *lb)
{
	return lb->len - lb->start;
}

/* ---- responses ------------------------------------------------------ */

int ctl__ok_begin(FILE *f, struct json_writer **ret_w)
{
	struct json_writer *w = jw__new(f);
	int r;

	if (!w)
		return -errno;
	jw__start_object(w);
	r = jw__kv_bool(w, "ok", true);
	if (r) {
		jw__free(w);
		return r;
	}
	*ret_w = w;
	return 0;
}

int ctl__ok_end(struct json_writer *w)
{
	int r;

	jw__end_object(w);
	r = jw__finish(w);
	jw__free(w);
	return r;
}

int ctl__write_ok(FILE *f)
{
	struct json_writer *w;
	int r = ctl__ok_begin(f, &w);

	return r ? r : ctl__ok_end(w);
}

static const char *const errcode_names[CTL_E_COUNT] = {
	[CTL_E_UNKNOWN] = "unknown",
	[CTL_E_BAD_REQUEST] = "bad_request",
	[CTL_E_DENIED] = "denied",
	[CTL_E_NOT_WATCHED] = "not_watched",
	[CTL_E_NO_RULE] = "no_rule",
	[CTL_E_ATTACH_FAILED] = "attach_failed",
	[CTL_E_FAILED] = "failed",
	[CTL_E_UNSUPPORTED] = "unsupported",
	[CTL_E_BUSY] = "busy",
};

const char *ctl__errcode_name(enum ctl_errcode code)
{
	return (unsigned int)code < CTL_E_COUNT ? errcode_names[code] : NULL;
}

enum ctl_errcode ctl__errcode_from_name(const char *s)
{
	for (unsigned int i = 0; s && i < CTL_E_COUNT; i++)
		if (!strcmp(s, errcode_names[i]))
			return (enum ctl_errcode)i;
	return CTL_E_UNKNOWN;
}

int ctl__write_error(FILE *f, enum ctl_errcode code, const char *msg)
{
	const char *name = ctl__errcode_name(code);
	struct json_writer *w;
	int r;

	if (!name)
		return -EINVAL;
	w = jw__new(f);
	if (!w)
		return -errno;
	jw__start_object(w);
	jw__kv_bool(w, "ok", false);
	jw__kv_string(w, "code", name);
	jw__kv_string(w, "error", msg);
	jw__end_object(w);
	r = jw__finish(w);
	jw__free(w);
	return r;
}

int ctl__write_payload_header(FILE *f, uint64_t n)
{
	struct json_writer *w;
	int r = ctl__ok_begin(f, &w);

	if (r)
		return r;
	jw__kv_uint(w, "payload_bytes", n);
	return ctl__ok_end(w);
}

int ctl__parse_payload_header(const char *line, size_t len, uint64_t *ret_n)
{
	static const char pre[] = "{\"ok\":true,\"payload_bytes\":";
	size_t p = sizeof(pre) - 1, digits = 0;
	uint64_t v = 0;

	if (len < p || memcmp(line, pre, p))
		return 0;
	for (; p < len && line[p] >= '0' && line[p] <= '9'; p++, digits++) {
		unsigned int d = line[p] - '0';

		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return 0;
		v = v * 10 + d;
	}
	if (!digits || p + 1 != len || line[p] != '}')
		return 0;
	*ret_n = v;
	return 1;
}
