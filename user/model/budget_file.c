// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errmsg.h"
#include "common/readfile.h"
#include "model/budget_file.h"

/* Echoed file bytes in messages: printable ASCII only, bounded. */
#define ECHO_MAX	48

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The word at *p (up to end), *p moved past it and the blanks after. */
static size_t word(const char **p, const char *end, const char **ret)
{
	const char *s = *p;

	while (s < end && !blank(*s))
		s++;
	*ret = *p;
	*p = s;
	while (*p < end && blank(**p))
		(*p)++;
	return (size_t)(s - *ret);
}

static const char *limit_word(enum ms_budget b)
{
	return budget__is_count(b) ? "COUNT" : "SIZE";
}

static int parse_line(const char *s, const char *end, struct ms_budget_set *set, char *why,
		      size_t whylen)
{
	char echo[ECHO_MAX + 4], val[MS_BUDGET_WHO_LEN + 32];
	const char *key, *v, *eq, *hash = memchr(s, '#', (size_t)(end - s));
	size_t kn, vn;
	int b, err;

	if (hash)
		end = hash;
	while (s < end && blank(*s))
		s++;
	if (s == end)
		return 0;
	if (memchr(s, '\0', (size_t)(end - s)))
		return ms_fail(why, whylen, -EINVAL, "a NUL byte");
	kn = word(&s, end, &key);
	for (b = 0; b < MS_BUDGET_COUNT; b++)
		if (strlen(budget__name((enum ms_budget)b)) == kn &&
		    !memcmp(budget__name((enum ms_budget)b), key, kn))
			break;
	if (b == MS_BUDGET_COUNT)
		return ms_fail(why, whylen, -EINVAL, "unknown budget '%s' (max-leaked, "
			       "max-peak-rss, max-allocated or max-goroutines-at-exit)",
			       ms_echo(echo, ECHO_MAX, key, kn));
	vn = word(&s, end, &v);
	if (!vn)
		return ms_fail(why, whylen, -EINVAL, "%s needs a value: %s or NAME=%s",
			       budget__name((enum ms_budget)b), limit_word((enum ms_budget)b),
			       limit_word((enum ms_budget)b));
	if (s != end)
		return ms_fail(why, whylen, -EINVAL, "one value a line: unexpected '%s'",
			       ms_echo(echo, ECHO_MAX, s, (size_t)(end - s)));
	if (vn >= sizeof(val))
		return ms_fail(why, whylen, -EINVAL, "value too long: '%s'",
			       ms_echo(echo, ECHO_MAX, v, vn));
	memcpy(val, v, vn);
	val[vn] = '\0';
	eq = memchr(v, '=', vn);
	if (eq ? budget_set__find(set, (enum ms_budget)b, v, (size_t)(eq - v)) != NULL :
		 set->total_given[b])
		return ms_fail(why, whylen, -EINVAL, "a second %s%s%s",
			       budget__name((enum ms_budget)b), eq ? " for " : "",
			       eq ? ms_echo(echo, ECHO_MAX, v, (size_t)(eq - v)) : "");
	err = budget_set__add(set, (enum ms_budget)b, val);
	if (err == -E2BIG)
		return ms_fail(why, whylen, -E2BIG, "more than %d budgets per name",
			       MS_BUDGET_NAMED_MAX);
	if (err)
		return ms_fail(why, whylen, -EINVAL, "invalid %s '%s': %s or NAME=%s (NAME "
			       "without '/', under %d characters)", budget__name((enum ms_budget)b),
			       ms_echo(echo, ECHO_MAX, v, vn), budget__is_count((enum ms_budget)b) ?
			       "COUNT (a number: 0, 10)" : "SIZE (4096, 512K, 1M, 2G)",
			       limit_word((enum ms_budget)b), MS_BUDGET_WHO_LEN);
	return 0;
}

int budget_file__parse(const char *buf, size_t len, const char *name, struct ms_budget_set *ret,
		       char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len, *nl;
	char why[256];
	unsigned int line = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len > MS_BUDGET_FILE_MAX)
		return ms_fail(err, errlen, -EFBIG, "%s: larger than %d bytes", name,
			       MS_BUDGET_FILE_MAX);
	while (p < end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p)) ?: end;
		r = parse_line(p, nl, ret, why, sizeof(why));
		if (r) {
			memset(ret, 0, sizeof(*ret));
			return ms_fail(err, errlen, r, "%s:%u: %s", name, line, why);
		}
		p = nl + 1;
	}
	return 0;
}

int budget_file__load(const char *path, struct ms_budget_set *ret, char *err, size_t errlen)
{
	size_t len;
	char *buf;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = ms_read_whole(path, 0, MS_BUDGET_FILE_MAX, &buf, &len);
	if (r)
		return ms_fail(err, errlen, r, "%s: %s", path, r == -EFBIG ?
			       "larger than the 64 KiB a budgets file may be" : strerror(-r));
	r = budget_file__parse(buf, len, path, ret, err, errlen);
	free(buf);
	return r;
}
