// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "daemon/rules.h"


static const char *const action_names[] = {
	[MS_RULE_INCLUDE] = "include",
	[MS_RULE_EXCLUDE] = "exclude",
};

static const char *const key_names[] = {
	[MS_RULE_COMM] = "comm",
	[MS_RULE_EXE] = "exe",
	[MS_RULE_CGROUP] = "cgroup",
	[MS_RULE_POD] = "pod",
	[MS_RULE_NAMESPACE] = "namespace",
	[MS_RULE_CONTAINER] = "container",
};

/* Printable ASCII only and bounded, for echoing input in messages. */
#define ECHO_MAX 64

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

const char *rules__action_name(enum ms_rule_action action)
{
	return (unsigned int)action < MS_ARRAY_LEN(action_names) ? action_names[action] : NULL;
}

const char *rules__key_name(enum ms_rule_key key)
{
	return (unsigned int)key < MS_ARRAY_LEN(key_names) ? key_names[key] : NULL;
}

/* Length of the pattern as stored: a cgroup path loses trailing '/' but "/" stays. */
static size_t stored_len(enum ms_rule_key key, const char *pattern, size_t n)
{
	if (key == MS_RULE_CGROUP)
		while (n > 1 && pattern[n - 1] == '/')
			n--;
	return n;
}

static int check_pattern(enum ms_rule_key key, const char *pattern, size_t n, char *err,
			 size_t errlen)
{
	const char *kn = rules__key_name(key);
	char e[ECHO_MAX + 4];
	size_t i;

	if (!kn)
		return ms_fail(err, errlen, -EINVAL, "unknown rule key %d", (int)key);
	if (n == 0)
		return ms_fail(err, errlen, -EINVAL, "empty %s pattern", kn);
	if (n > MS_RULE_PATTERN_MAX)
		return ms_fail(err, errlen, -EINVAL, "%s pattern is longer than %d bytes", kn,
			    MS_RULE_PATTERN_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)pattern[i] < 0x20 || pattern[i] == 0x7f)
			return ms_fail(err, errlen, -EINVAL, "control character 0x%02x in %s pattern",
				    (unsigned char)pattern[i], kn);
	if (is_space(pattern[0]) || is_space(pattern[n - 1]))
		return ms_fail(err, errlen, -EINVAL, "%s pattern '%s' starts or ends with a space",
			    kn, ms_echo(e, ECHO_MAX, pattern, n));
	switch (key) {
	case MS_RULE_COMM:
		/* The kernel truncates comm: a longer literal would silently never match. */
		if (n > MS_RULE_COMM_MAX && !strpbrk(pattern, "*?[\\"))
			return ms_fail(err, errlen, -EINVAL, "comm '%s' is longer than %d bytes and "
				    "can never match (the kernel truncates comm)",
				    ms_echo(e, ECHO_MAX, pattern, n), MS_RULE_COMM_MAX);
		break;
	case MS_RULE_EXE:
		if (!strchr("/*?[", pattern[0]))
			return ms_fail(err, errlen, -EINVAL, "exe '%s' must be an absolute path or "
				    "start with a glob", ms_echo(e, ECHO_MAX, pattern, n));
		break;
	case MS_RULE_CGROUP:
		if (pattern[0] != '/')
			return ms_fail(err, errlen, -EINVAL, "cgroup '%s' must start with '/'",
				    ms_echo(e, ECHO_MAX, pattern, n));
		break;
	case MS_RULE_POD:
	case MS_RULE_NAMESPACE:
	case MS_RULE_CONTAINER:
		break;
	}
	return 0;
}

int rules__insert(struct ms_rules *rules, size_t index, enum ms_rule_action action,
		  enum ms_rule_key key, const char *pattern, char *err, size_t errlen)
{
	struct ms_rule *v;
	size_t n, cap;
	char *copy;
	int r;

	if (!rules__action_name(action))
		return ms_fail(err, errlen, -EINVAL, "unknown rule action %d", (int)action);
	if (index > rules->n)
		return ms_fail(err, errlen, -EINVAL, "rule index %zu past the end (%zu rules)", index,
			    rules->n);
	n = strnlen(pattern, MS_RULE_PATTERN_MAX + 1);
	/* check what will be stored: a cgroup's trailing '/' goes, and what
	 * it leaves (a trailing space, say) must be valid on its own */
	r = check_pattern(key, pattern, n > MS_RULE_PATTERN_MAX ? n : stored_len(key, pattern, n),
			  err, errlen);
	if (r)
		return r;
	if (rules->n >= MS_RULES_MAX)
		return ms_fail(err, errlen, -ENOSPC, "more than %d rules", MS_RULES_MAX);
	if (rules->n == rules->cap) {
		cap = rules->cap ? rules->cap * 2 : 16;
		if (cap > MS_RULES_MAX)
			cap = MS_RULES_MAX;
		v = realloc(rules->v, cap * sizeof(*v));
		if (!v)
			return ms_fail(err, errlen, -ENOMEM, "out of memory");
		rules->v = v;
		rules->cap = cap;
	}
	copy = strndup(pattern, stored_len(key, pattern, n));
	if (!copy)
		return ms_fail(err, errlen, -ENOMEM, "out of memory");
	memmove(rules->v + index + 1, rules->v + index, (rules->n - index) * sizeof(*rules->v));
	rules->v[index] = (struct ms_rule){ .action = action, .key = key, .pattern = copy };
	rules->n++;
	return 0;
}

int rules__add(struct ms_rules *rules, enum ms_rule_action action, enum ms_rule_key key,
	       const char *pattern, char *err, size_t errlen)
{
	return rules__insert(rules, rules->n, action, key, pattern, err, errlen);
}

/* The word at line[*p..), advanced past it; 0 when none. */
static size_t word(const char *line, size_t len, size_t *p, const char *stop)
{
	size_t start;

	while (*p < len && is_space(line[*p]))
		(*p)++;
	start = *p;
	while (*p < len && !is_space(line[*p]) && !strchr(stop, line[*p]))
		(*p)++;
	return *p - start;
}

static int lookup(const char *const *names, size_t count, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(names[i]) == n && !memcmp(names[i], s, n))
			return (int)i;
	return -1;
}

int rules__parse_line(struct ms_rules *rules, const char *line, size_t len,
		      char *err, size_t errlen)
{
	char e[ECHO_MAX + 4], pat[MS_RULE_PATTERN_MAX + 1];
	size_t p = 0, n, end;
	int action, key;

	if (memchr(line, '\0', len))
		return ms_fail(err, errlen, -EINVAL, "NUL byte in rule");
	n = word(line, len, &p, "");
	action = lookup(action_names, MS_ARRAY_LEN(action_names), line + p - n, n);
	if (action < 0)
		return ms_fail(err, errlen, -EINVAL, "expected 'include' or 'exclude', got '%s'",
			    ms_echo(e, ECHO_MAX, line + p - n, n));
	n = word(line, len, &p, "=");
	key = lookup(key_names, MS_ARRAY_LEN(key_names), line + p - n, n);
	if (key < 0)
		return ms_fail(err, errlen, -EINVAL, "expected comm=, exe= or cgroup= after %s, "
			    "got '%s'", action_names[action], ms_echo(e, ECHO_MAX, line + p - n, n));
	while (p < len && is_space(line[p]))
		p++;
	if (p >= len || line[p] != '=')
		return ms_fail(err, errlen, -EINVAL, "expected '=' after %s", key_names[key]);
	p++;
	while (p < len && is_space(line[p]))
		p++;
	end = len;
	while (end > p && is_space(line[end - 1]))
		end--;
	if (end - p > MS_RULE_PATTERN_MAX)
		return ms_fail(err, errlen, -EINVAL, "%s pattern is longer than %d bytes",
			    key_names[key], MS_RULE_PATTERN_MAX);
	memcpy(pat, line + p, end - p);
	pat[end - p] = '\0';
	return rules__add(rules, action, key, pat, err, errlen);
}

/* pattern is a prefix of path ending where a path component ends. */
static bool cgroup_prefix(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	if (n == 1 && pattern[0] == '/')
		return path[0] == '/';
	return !strncmp(pattern, path, n) && (path[n] == '\0' || path[n] == '/');
}

static bool glob(const char *pattern, const char *s)
{
	return s && !fnmatch(pattern, s, 0);
}

ssize_t rules__first_match_subject(const struct ms_rules *rules, const struct ms_rule_subject *s)
{
	size_t i;

	for (i = 0; i < rules->n; i++) {
		const struct ms_rule *r = &rules->v[i];
		bool hit = false;

		switch (r->key) {
		case MS_RULE_COMM:
			hit = glob(r->pattern, s->comm);
			break;
		case MS_RULE_EXE:
			hit = glob(r->pattern, s->exe);
			break;
		case MS_RULE_CGROUP:
			hit = s->cgroup && cgroup_prefix(r->pattern, s->cgroup);
			break;
		case MS_RULE_POD:
			hit = glob(r->pattern, s->pod);
			break;
		case MS_RULE_NAMESPACE:
			hit = glob(r->pattern, s->namespace);
			break;
		case MS_RULE_CONTAINER:
			hit = glob(r->pattern, s->container);
			break;
		}
		if (hit)
			return (ssize_t)i;
	}
	return -1;
}

ssize_t rules__first_match(const struct ms_rules *rules, const char *comm, const char *exe,
			   const char *cgroup)
{
	const struct ms_rule_subject s = { .comm = comm, .exe = exe, .cgroup = cgroup };

	return rules__first_match_subject(rules, &s);
}

bool rules__match(const struct ms_rules *rules, const char *comm, const char *exe,
		  const char *cgroup)
{
	ssize_t i = rules__first_match(rules, comm, exe, cgroup);

	return i >= 0 && rules->v[i].action == MS_RULE_INCLUDE;
}

int rules__remove(struct ms_rules *rules, enum ms_rule_action action, enum ms_rule_key key,
		  const char *pattern)
{
	size_t i, out = 0, n = stored_len(key, pattern, strlen(pattern));
	bool found = false;

	for (i = 0; i < rules->n; i++) {
		struct ms_rule *r = &rules->v[i];

		if (r->action == action && r->key == key && strlen(r->pattern) == n &&
		    !memcmp(r->pattern, pattern, n)) {
			free(r->pattern);
			found = true;
			continue;
		}
		rules->v[out++] = *r;
	}
	rules->n = out;
	return found ? 0 : -ENOENT;
}

void rules__free(struct ms_rules *rules)
{
	size_t i;

	if (!rules)
		return;
	for (i = 0; i < rules->n; i++)
		free(rules->v[i].pattern);
	free(rules->v);
	rules->v = NULL;
	rules->n = rules->cap = 0;
}

int rules__format(const struct ms_rule *rule, char *buf, size_t len)
{
	const char *a = rules__action_name(rule->action), *k = rules__key_name(rule->key);
	int n;

	if (!a || !k || !rule->pattern)
		return -EINVAL;
	n = snprintf(buf, len, "%s %s=%s", a, k, rule->pattern);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENOSPC;
	return n;
}
