// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_ctl_proto - what a client can send to memsightd's control socket.
 * Each input is used four ways:
 *  1. as one request line: parsed; an accepted request must format back to
 *     a line that parses to the very same request (and formats the same);
 *  2. as a byte stream fed to ctl_linebuf in pseudo-random chunk sizes: the
 *     lines it returns must be exactly the input split at '\n', and it must
 *     say -E2BIG exactly when a line reaches CTL_LINE_MAX bytes unended;
 *  3. as the fields of a ctl_request a client could build: when the
 *     formatter accepts it, parsing its line gives the request back;
 *  4. as a payload-header response line, whose number must survive
 *     ctl__write_payload_header() -> ctl__parse_payload_header();
 *  5. as the message of an error reply: whatever its bytes, the reply must
 *     be one line of valid JSON (json-c reads it back) whose "error" is the
 *     message itself, unless invalid UTF-8 had to become U+FFFD.
 */
#include <json-c/json.h>

#include "fuzz_common.h"
#include "ctl/ctl_proto.h"

static bool req_equal(const struct ctl_request *a, const struct ctl_request *b)
{
	return a->verb == b->verb && a->keys == b->keys && a->sel == b->sel &&
	       a->pid == b->pid && !strcmp(a->sel_value, b->sel_value) && a->n == b->n &&
	       a->frames == b->frames && a->growth == b->growth && a->format == b->format &&
	       a->value == b->value;
}

static bool err_ok(const char *err, size_t len)
{
	return memchr(err, '\0', len) && err[0];
}

/* A line the formatter wrote: one '\n' at its end, NUL after it, within the limit. */
static void check_formatted(const char *buf, int n)
{
	FUZZ_CHECK(n > 1 && n <= CTL_LINE_MAX);
	FUZZ_CHECK(buf[n - 1] == '\n' && buf[n] == '\0' && strlen(buf) == (size_t)n);
	FUZZ_CHECK(memchr(buf, '\n', (size_t)n - 1) == NULL);
}

/* 1: parse, then format(parse(x)) must parse to parse(x) and format identically. */
static void parse_roundtrip(const char *line, size_t len)
{
	char buf[CTL_LINE_MAX + 1], buf2[CTL_LINE_MAX + 1], err[CTL_ERR_MAX], tiny[7];
	struct ctl_request a, b;
	int r, n, n2;

	r = ctl__parse_request(line, len, &a, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	/* The same verdict without an err buffer, and with one too small to hold it. */
	FUZZ_CHECK(ctl__parse_request(line, len, &b, NULL, 0) == r);
	FUZZ_CHECK(ctl__parse_request(line, len, &b, tiny, sizeof(tiny)) == r);
	if (r) {
		FUZZ_CHECK(err_ok(err, sizeof(err)));
		FUZZ_CHECK(memchr(tiny, '\0', sizeof(tiny)));
		return;
	}
	FUZZ_CHECK((unsigned int)a.verb < CTL_VERB_COUNT);
	n = ctl__format_request(buf, sizeof(buf), &a, err, sizeof(err));
	FUZZ_CHECK(n > 0);
	check_formatted(buf, n);
	r = ctl__parse_request(buf, (size_t)n - 1, &b, err, sizeof(err));
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(req_equal(&a, &b));
	n2 = ctl__format_request(buf2, sizeof(buf2), &b, err, sizeof(err));
	FUZZ_CHECK(n2 == n && !memcmp(buf, buf2, (size_t)n + 1));
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* 2: the line reader against a plain split of the same bytes. */
static void linebuf_check(const uint8_t *d, size_t n)
{
	static struct ctl_linebuf lb;
	uint32_t seed = 2166136261u, small;
	size_t off = 0, ref = 0, len, taken, chunk, i;
	const char *line;
	const uint8_t *nl;
	int r = 0;

	for (i = 0; i < n && i < 16; i++)
		seed = (seed ^ d[i]) * 16777619u;
	seed |= 1;
	small = seed & 2;
	ctl_linebuf__init(&lb);
	while (off < n) {
		chunk = 1 + xorshift(&seed) % (small ? 9 : 6000);
		if (chunk > n - off)
			chunk = n - off;
		taken = ctl_linebuf__feed(&lb, d + off, chunk);
		FUZZ_CHECK(taken <= chunk);
		off += taken;
		while ((r = ctl_linebuf__next(&lb, &line, &len)) == 1) {
			nl = memchr(d + ref, '\n', n - ref);
			FUZZ_CHECK(nl && (size_t)(nl - d) < off);
			FUZZ_CHECK(len == (size_t)(nl - d) - ref && len < CTL_LINE_MAX);
			FUZZ_CHECK(!memcmp(line, d + ref, len) && line[len] == '\0');
			ref = (size_t)(nl - d) + 1;
			parse_roundtrip(line, len);
		}
		if (r < 0) {
			/* Exactly one full buffer of a line without its '\n'. */
			FUZZ_CHECK(r == -E2BIG);
			FUZZ_CHECK(off - ref == CTL_LINE_MAX);
			FUZZ_CHECK(!memchr(d + ref, '\n', CTL_LINE_MAX));
			FUZZ_CHECK(ctl_linebuf__feed(&lb, "x\n", 2) == 0);
			FUZZ_CHECK(ctl_linebuf__next(&lb, &line, &len) == -E2BIG);
			return;
		}
		/* Neither progress nor an error: the caller's loop would spin forever. */
		FUZZ_CHECK(taken > 0);
	}
	FUZZ_CHECK(ctl_linebuf__pending(&lb) == n - ref);
	FUZZ_CHECK(n - ref < CTL_LINE_MAX && !memchr(d + ref, '\n', n - ref));
}

/* The keys that carry a selector: the request's one selector decides them. */
#define SEL_KEYS ((unsigned int)(CTL_KEY_PID | CTL_KEY_COMM | CTL_KEY_EXE | CTL_KEY_CGROUP | \
				 CTL_KEY_POD | CTL_KEY_NAMESPACE | CTL_KEY_CONTAINER))

/* 3: a request built field by field from the input. */
static void format_roundtrip(const uint8_t *d, size_t n)
{
	char buf[CTL_LINE_MAX + 1], buf2[CTL_LINE_MAX + 1], err[CTL_ERR_MAX];
	struct ctl_request a, b;
	unsigned int sel_key;
	size_t vlen;
	int r, len;

	if (n < 20)
		return;
	ctl__request_init(&a, (enum ctl_verb)(d[0] % (CTL_VERB_COUNT + 1)));
	a.keys = (unsigned int)fuzz_le(d, n, 1, 2) & ((CTL_KEY_VALUE << 1) - 1);	/* every key */
	if (d[3] & 0x80)	/* half the time keep init's selector */
		a.sel = (enum ctl_selector)(d[3] % (CTL_SEL_CONTAINER + 1));
	a.pid = (pid_t)fuzz_le(d, n, 4, 4);
	if (d[3] & 0x40)
		a.pid &= 0x3fffff;
	a.n = (uint32_t)fuzz_le(d, n, 8, 4) % (d[3] & 0x20 ? 0xffffffffu : 200000);
	a.frames = (uint32_t)fuzz_le(d, n, 12, 4) % (d[3] & 0x10 ? 0xffffffffu : 200000);
	a.growth = d[16] & 1;
	a.format = (enum ctl_format)(d[17] % 7);
	a.value = (enum ctl_value)(d[18] % 5);
	/* Not necessarily NUL-terminated: the formatter must bound it itself. */
	vlen = n - 19 > sizeof(a.sel_value) ? sizeof(a.sel_value) : n - 19;
	memcpy(a.sel_value, d + 19, vlen);

	len = ctl__format_request(buf, sizeof(buf), &a, err, sizeof(err));
	if (len < 0) {
		FUZZ_CHECK(len == -EINVAL && err_ok(err, sizeof(err)));
		return;
	}
	check_formatted(buf, len);
	/* One byte short (no room for the NUL) is -ENOSPC, never a cut line. */
	FUZZ_CHECK(ctl__format_request(buf2, (size_t)len, &a, NULL, 0) == -ENOSPC);
	r = ctl__parse_request(buf, (size_t)len - 1, &b, err, sizeof(err));
	if (r)
		fprintf(stderr, "formatted line rejected: %s: %s", err, buf);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(b.verb == a.verb && b.sel == a.sel);
	if (a.sel == CTL_SEL_PID)
		FUZZ_CHECK(b.pid == a.pid);
	else if (a.sel != CTL_SEL_NONE)
		FUZZ_CHECK(!strcmp(b.sel_value, a.sel_value));
	sel_key = a.sel == CTL_SEL_NONE ? 0 : 1u << (a.sel - 1);
	FUZZ_CHECK((b.keys & ~(SEL_KEYS | CTL_KEY_FORMAT)) == (a.keys & ~(SEL_KEYS | CTL_KEY_FORMAT)));
	FUZZ_CHECK((b.keys & SEL_KEYS) == sel_key);
	if (a.keys & CTL_KEY_N)
		FUZZ_CHECK(b.n == a.n);
	if (a.keys & CTL_KEY_FRAMES)
		FUZZ_CHECK(b.frames == a.frames);
	if (a.keys & CTL_KEY_GROWTH)
		FUZZ_CHECK(b.growth == a.growth);
	if (a.keys & CTL_KEY_VALUE)
		FUZZ_CHECK(b.value == a.value);
	if (b.keys & CTL_KEY_FORMAT)
		FUZZ_CHECK(b.format == a.format);
	FUZZ_CHECK(ctl__format_request(buf2, sizeof(buf2), &b, err, sizeof(err)) == len);
	FUZZ_CHECK(!strcmp(buf, buf2));
}

/* 4: the client's reading of a payload header, and the daemon's writing of one. */
static void payload_header(const char *line, size_t len)
{
	uint64_t v = 0, w = 0;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	int r;

	r = ctl__parse_payload_header(line, len, &v);
	FUZZ_CHECK(r == 0 || r == 1);
	if (!r)
		return;
	f = open_memstream(&out, &outlen);
	FUZZ_CHECK(f);
	FUZZ_CHECK(ctl__write_payload_header(f, v) == 0);
	fclose(f);
	FUZZ_CHECK(outlen > 1 && out[outlen - 1] == '\n');
	FUZZ_CHECK(ctl__parse_payload_header(out, outlen - 1, &w) == 1 && w == v);
	free(out);
}

/* 5: an error reply carrying arbitrary bytes. */
static void error_reply(const uint8_t *d, size_t n)
{
	char msg[1024], *out = NULL;
	struct json_object *obj, *ok, *err;
	const char *text;
	size_t outlen = 0, len;
	FILE *f;

	len = strnlen((const char *)d, n < sizeof(msg) - 1 ? n : sizeof(msg) - 1);
	memcpy(msg, d, len);
	msg[len] = '\0';
	f = open_memstream(&out, &outlen);
	FUZZ_CHECK(f);
	FUZZ_CHECK(ctl__write_error(f, CTL_E_FAILED, msg) == 0);
	fclose(f);
	FUZZ_CHECK(outlen > 1 && out[outlen - 1] == '\n' && !memchr(out, '\n', outlen - 1));
	obj = json_tokener_parse(out);
	if (!obj)
		fprintf(stderr, "not JSON: %s", out);
	FUZZ_CHECK(obj && json_object_is_type(obj, json_type_object));
	FUZZ_CHECK(json_object_object_get_ex(obj, "ok", &ok) && !json_object_get_boolean(ok));
	FUZZ_CHECK(json_object_object_get_ex(obj, "error", &err) &&
		   json_object_is_type(err, json_type_string));
	text = json_object_get_string(err);
	if (!strstr(text, "\xef\xbf\xbd"))
		FUZZ_CHECK(!strcmp(text, msg));
	json_object_put(obj);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_roundtrip((const char *)data, size);
	linebuf_check(data, size);
	format_roundtrip(data, size);
	payload_header((const char *)data, size);
	error_reply(data, size);
	return 0;
}
