// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "memsight_abi.h"
#include "common/errmsg.h"

enum section { SEC_NONE = -1, SEC_DAEMON, SEC_METRICS, SEC_INCIDENTS, SEC_RULES, SEC_COUNT };

static const char *const section_names[SEC_COUNT] = {
	[SEC_DAEMON] = "daemon",
	[SEC_METRICS] = "metrics",
	[SEC_INCIDENTS] = "incidents",
	[SEC_RULES] = "rules",
};

enum kind { K_PATH, K_SOCKET, K_GROUP, K_U32, K_U64, K_LISTEN, K_URLS };

static const struct key_desc {
	enum section sec;
	const char *name;
	enum kind kind;
	size_t off;		/* of the field in struct ms_config */
	size_t size;		/* of a string field, with its NUL */
	uint64_t lo, hi;	/* of a number */
} config_keys[] = {
#define STR(sec, name, kind, field) \
	{ sec, name, kind, offsetof(struct ms_config, field), \
	  sizeof(((struct ms_config *)0)->field), 0, 0 }
#define NUM(sec, name, kind, field, lo, hi) \
	{ sec, name, kind, offsetof(struct ms_config, field), 0, lo, hi }
	STR(SEC_DAEMON, "socket", K_SOCKET, socket),
	STR(SEC_DAEMON, "socket_group", K_GROUP, socket_group),
	STR(SEC_DAEMON, "state_dir", K_PATH, state_dir),
	STR(SEC_DAEMON, "host_root", K_PATH, host_root),
	NUM(SEC_DAEMON, "max_processes", K_U32, max_processes, 1, 65536),
	NUM(SEC_DAEMON, "snapshot_interval_s", K_U32, snapshot_interval_s, 1, 3600),
	NUM(SEC_DAEMON, "growth_window_s", K_U32, growth_window_s, 10, 86400),
	NUM(SEC_DAEMON, "live_entries", K_U32, live_entries, 1024, 67108864),
	NUM(SEC_DAEMON, "stack_entries", K_U32, stack_entries, 1024, 4194304),
	NUM(SEC_DAEMON, "stacks_per_process", K_U32, stacks_per_process, 0, 4194304),
	STR(SEC_METRICS, "listen", K_LISTEN, metrics_host),
	NUM(SEC_METRICS, "top_stacks", K_U32, top_stacks, 0, 100),
	STR(SEC_METRICS, "tls_cert", K_PATH, tls_cert),
	STR(SEC_METRICS, "tls_key", K_PATH, tls_key),
	STR(SEC_METRICS, "token_file", K_PATH, token_file),
	STR(SEC_METRICS, "users_file", K_PATH, users_file),
	STR(SEC_METRICS, "open_paths", K_URLS, open_paths),
	STR(SEC_INCIDENTS, "dir", K_PATH, incidents_dir),
	NUM(SEC_INCIDENTS, "max_count", K_U32, incidents_max_count, 1, 100000),
	NUM(SEC_INCIDENTS, "max_bytes", K_U64, incidents_max_bytes, 4096, 1ULL << 40),
#undef STR
#undef NUM
};
#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

void config__defaults(struct ms_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->socket, "/run/memsight/memsight.sock");
	strcpy(cfg->socket_group, "memsight");
	strcpy(cfg->state_dir, "/var/lib/memsight");
	strcpy(cfg->host_root, "/");
	cfg->max_processes = 256;
	cfg->snapshot_interval_s = 10;
	cfg->growth_window_s = 600;
	cfg->live_entries = 1048576;
	cfg->stack_entries = MS_DEF_STACK_ENTRIES;
	cfg->stacks_per_process = MS_DEF_STACK_ENTRIES / 4;
	cfg->metrics_enabled = true;
	strcpy(cfg->metrics_host, "127.0.0.1");
	cfg->metrics_port = 9464;
	cfg->top_stacks = 5;
	strcpy(cfg->incidents_dir, "/var/lib/memsight/incidents");
	cfg->incidents_max_count = 50;
	cfg->incidents_max_bytes = 104857600;
}

void config__free(struct ms_config *cfg)
{
	if (cfg)
		rules__free(&cfg->rules);
}

struct parser {
	const char *name;	/* file name for messages, or NULL */
	unsigned int line;
	char *err;
	size_t errlen;
	struct ms_config *cfg;
};

/* "name:line: msg" (or "line N: msg") into err; returns ret. */
__attribute__((format(printf, 3, 4)))
static int fail(struct parser *ps, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!ps->err || !ps->errlen)
		return ret;
	/* Line 0: about the whole file (open, size), not a line in it. */
	if (!ps->line)
		n = ps->name ? snprintf(ps->err, ps->errlen, "%s: ", ps->name) : 0;
	else if (ps->name)
		n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->name, ps->line);
	else
		n = snprintf(ps->err, ps->errlen, "line %u: ", ps->line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
	return ret;
}

/* Printable ASCII only and bounded, for echoing file bytes in messages. */
#define ECHO_MAX 64

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int parse_uint(struct parser *ps, const struct key_desc *k, const char *s, size_t n,
		      uint64_t *ret)
{
	char e[ECHO_MAX + 4];
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(ps, -EINVAL, "%s must be a number, got '%s'", k->name,
				    ms_echo(e, ECHO_MAX, s, n));
		/* Saturate once past hi, so 30 digits are out of range, not wrapped. */
		if (v <= k->hi)
			v = v * 10 + (s[i] - '0');
	}
	if (v < k->lo || v > k->hi)
		return fail(ps, -EINVAL, "%s = %s is out of range %" PRIu64 "..%" PRIu64, k->name,
			    ms_echo(e, ECHO_MAX, s, n), k->lo, k->hi);
	*ret = v;
	return 0;
}

static bool valid_hostname(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/* "off", "host:port" or "[v6addr]:port". */
static int parse_listen(struct parser *ps, const char *s, size_t n)
{
	static const struct key_desc port = { .name = "listen port", .lo = 1, .hi = 65535 };
	struct ms_config *cfg = ps->cfg;
	char e[ECHO_MAX + 4], host[MS_CONFIG_HOST_MAX];
	unsigned char addr[16];
	const char *colon, *hs;
	size_t hn;
	uint64_t v;
	int r;

	if (n == 3 && !memcmp(s, "off", 3)) {
		cfg->metrics_enabled = false;
		cfg->metrics_host[0] = '\0';
		cfg->metrics_port = 0;
		return 0;
	}
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return fail(ps, -EINVAL, "listen '%s': missing ']'", ms_echo(e, ECHO_MAX, s, n));
		hs = s + 1;
		hn = close - hs;
		colon = close + 1;
		if (colon >= s + n || *colon != ':')
			return fail(ps, -EINVAL, "listen '%s': expected ':PORT' after ']'",
				    ms_echo(e, ECHO_MAX, s, n));
		if (hn >= sizeof(host))
			return fail(ps, -EINVAL, "listen '%s': bad IPv6 address", ms_echo(e, ECHO_MAX, s, n));
		memcpy(host, hs, hn);
		host[hn] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return fail(ps, -EINVAL, "listen '%s': bad IPv6 address", ms_echo(e, ECHO_MAX, s, n));
	} else {
		colon = memrchr(s, ':', n);
		if (!colon)
			return fail(ps, -EINVAL, "listen '%s': expected HOST:PORT, [IPV6]:PORT or "
				    "off", ms_echo(e, ECHO_MAX, s, n));
		hs = s;
		hn = colon - s;
		if (memchr(hs, ':', hn))
			return fail(ps, -EINVAL, "listen '%s': an IPv6 address needs brackets, "
				    "e.g. [::1]:9464", ms_echo(e, ECHO_MAX, s, n));
		if (hn == 0)
			return fail(ps, -EINVAL, "listen '%s': missing host (0.0.0.0 listens on "
				    "all addresses)", ms_echo(e, ECHO_MAX, s, n));
		if (!valid_hostname(hs, hn))
			return fail(ps, -EINVAL, "listen '%s': bad host name", ms_echo(e, ECHO_MAX, s, n));
		memcpy(host, hs, hn);
		host[hn] = '\0';
		/* All digits and dots: it must be a real IPv4 address, not "1.2.3.999". */
		if (strspn(host, "0123456789.") == hn && inet_pton(AF_INET, host, addr) != 1)
			return fail(ps, -EINVAL, "listen '%s': bad IPv4 address", ms_echo(e, ECHO_MAX, s, n));
	}
	if (colon + 1 == s + n)
		return fail(ps, -EINVAL, "listen '%s': missing port", ms_echo(e, ECHO_MAX, s, n));
	r = parse_uint(ps, &port, colon + 1, s + n - colon - 1, &v);
	if (r)
		return r;
	cfg->metrics_enabled = true;
	memcpy(cfg->metrics_host, host, hn + 1);
	cfg->metrics_port = (uint16_t)v;
	return 0;
}

static int set_value(struct parser *ps, const struct key_desc *k, const char *s, size_t n)
{
	char e[ECHO_MAX + 4], *field = (char *)ps->cfg + k->off;
	uint64_t v;
	size_t i;
	int r;

	switch (k->kind) {
	case K_PATH:
	case K_SOCKET:
		if (s[0] != '/')
			return fail(ps, -EINVAL, "%s '%s' must be an absolute path", k->name,
				    ms_echo(e, ECHO_MAX, s, n));
		if (n >= k->size)
			return fail(ps, -EINVAL, "%s is longer than %zu bytes", k->name, k->size - 1);
		break;
	case K_GROUP:
		if (n >= k->size)
			return fail(ps, -EINVAL, "%s is longer than %zu bytes", k->name, k->size - 1);
		/* The portable set of shadow-utils names; '-' first would read as an option. */
		for (i = 0; i < n; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			      (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i])) ||
			    s[0] == '-')
				return fail(ps, -EINVAL, "%s '%s' is not a group name", k->name,
					    ms_echo(e, ECHO_MAX, s, n));
		break;
	case K_U32:
	case K_U64:
		r = parse_uint(ps, k, s, n, &v);
		if (r)
			return r;
		if (k->kind == K_U32)
			*(uint32_t *)field = (uint32_t)v;
		else
			*(uint64_t *)field = v;
		return 0;
	case K_LISTEN:
		return parse_listen(ps, s, n);
	case K_URLS:
		if (n >= k->size)
			return fail(ps, -EINVAL, "%s is longer than %zu bytes", k->name, k->size - 1);
		/* paths as the server sees them: '/' first, no query, no escapes */
		for (i = 0; i < n; i++)
			if ((!i || is_space(s[i - 1])) && !is_space(s[i]) && s[i] != '/')
				return fail(ps, -EINVAL, "%s: '%s': each path starts with '/'",
					    k->name, ms_echo(e, ECHO_MAX, s, n));
			else if (strchr("?#%", s[i]) || (unsigned char)s[i] > 0x7e)
				return fail(ps, -EINVAL, "%s: '%s': a path without '?', '#', '%%' "
					    "or non-ASCII", k->name, ms_echo(e, ECHO_MAX, s, n));
		break;
	}
	memcpy(field, s, n);
	field[n] = '\0';
	return 0;
}

static int parse_line(struct parser *ps, const char *s, size_t n, enum section *sec,
		      unsigned int sec_line[SEC_COUNT], unsigned int key_line[N_KEYS])
{
	char e[ECHO_MAX + 4], msg[256];
	const char *eq, *v;
	size_t i, kn, vn;
	int r;

	/* A CRLF file's '\r' ends the line; anywhere else it is as bad as any control byte. */
	if (n && s[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			return fail(ps, -EINVAL, "NUL byte");
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return fail(ps, -EINVAL, "control character 0x%02x", (unsigned char)s[i]);
	}
	while (n && is_space(*s))
		s++, n--;
	while (n && is_space(s[n - 1]))
		n--;
	if (!n || s[0] == '#' || s[0] == ';')
		return 0;

	if (s[0] == '[') {
		if (s[n - 1] != ']')
			return fail(ps, -EINVAL, "section header '%s' lacks its ']'", ms_echo(e, ECHO_MAX, s, n));
		s++, n -= 2;
		while (n && is_space(*s))
			s++, n--;
		while (n && is_space(s[n - 1]))
			n--;
		for (i = 0; i < SEC_COUNT; i++)
			if (strlen(section_names[i]) == n && !memcmp(section_names[i], s, n))
				break;
		if (i == SEC_COUNT)
			return fail(ps, -EINVAL, "unknown section [%s] (daemon, metrics, incidents, "
				    "rules)", ms_echo(e, ECHO_MAX, s, n));
		if (sec_line[i])
			return fail(ps, -EINVAL, "section [%s] repeated (first on line %u)",
				    section_names[i], sec_line[i]);
		sec_line[i] = ps->line;
		*sec = i;
		return 0;
	}

	if (*sec == SEC_NONE)
		return fail(ps, -EINVAL, "'%s' before any section; start with [daemon]",
			    ms_echo(e, ECHO_MAX, s, n));
	if (*sec == SEC_RULES) {
		r = rules__parse_line(&ps->cfg->rules, s, n, msg, sizeof(msg));
		return r ? fail(ps, r == -ENOMEM ? -ENOMEM : -EINVAL, "%s", msg) : 0;
	}

	eq = memchr(s, '=', n);
	if (!eq)
		return fail(ps, -EINVAL, "expected 'key = value' in [%s], got '%s'",
			    section_names[*sec], ms_echo(e, ECHO_MAX, s, n));
	kn = eq - s;
	while (kn && is_space(s[kn - 1]))
		kn--;
	v = eq + 1;
	vn = s + n - v;
	while (vn && is_space(*v))
		v++, vn--;
	for (i = 0; i < N_KEYS; i++)
		if (config_keys[i].sec == *sec && strlen(config_keys[i].name) == kn &&
		    !memcmp(config_keys[i].name, s, kn))
			break;
	if (i == N_KEYS)
		return fail(ps, -EINVAL, "unknown key '%s' in [%s]", ms_echo(e, ECHO_MAX, s, kn),
			    section_names[*sec]);
	if (key_line[i])
		return fail(ps, -EINVAL, "duplicate key '%s' in [%s] (first set on line %u)",
			    config_keys[i].name, section_names[*sec], key_line[i]);
	key_line[i] = ps->line;
	if (!vn)
		return fail(ps, -EINVAL, "empty value for '%s'", config_keys[i].name);
	return set_value(ps, &config_keys[i], v, vn);
}

/* The access keys that only make sense together (line 0: about the file). */
static int check_access(struct parser *ps)
{
	const struct ms_config *c = ps->cfg;

	ps->line = 0;
	if (!c->tls_cert[0] != !c->tls_key[0])
		return fail(ps, -EINVAL, "[metrics] tls_cert and tls_key go together: TLS needs "
			    "the certificate and its key");
	if (c->open_paths[0] && !c->token_file[0] && !c->users_file[0])
		return fail(ps, -EINVAL, "[metrics] open_paths without token_file or users_file: "
			    "every path is open already");
	return 0;
}

int config__parse(const char *buf, size_t len, const char *name, struct ms_config *ret,
		  char *err, size_t errlen)
{
	struct parser ps = { .name = name, .err = err, .errlen = errlen, .cfg = ret };
	unsigned int sec_line[SEC_COUNT] = { 0 }, key_line[N_KEYS] = { 0 };
	enum section sec = SEC_NONE;
	const char *p = buf, *end = buf + len, *nl;
	int r;

	config__defaults(ret);
	if (len > MS_CONFIG_FILE_MAX)
		return fail(&ps, -EFBIG, "file is larger than %d bytes", MS_CONFIG_FILE_MAX);
	while (p < end) {
		ps.line++;
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		r = parse_line(&ps, p, nl - p, &sec, sec_line, key_line);
		if (r) {
			config__free(ret);
			return r;
		}
		p = nl + 1;
	}
	r = check_access(&ps);
	if (r)
		config__free(ret);
	return r;
}

int config__load(const char *path, struct ms_config *ret, char *err, size_t errlen)
{
	struct parser ps = { .name = path, .err = err, .errlen = errlen };
	size_t used = 0;
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, r;

	config__defaults(ret);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return fail(&ps, r, "cannot open: %s", strerror(-r));
	}
	if (fstat(fd, &st)) {
		r = -errno;
		close(fd);
		return fail(&ps, r, "cannot stat: %s", strerror(-r));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(&ps, -EINVAL, "not a regular file");
	}
	if (st.st_size > MS_CONFIG_FILE_MAX) {
		close(fd);
		return fail(&ps, -EFBIG, "file is larger than %d bytes", MS_CONFIG_FILE_MAX);
	}
	/* One byte over the limit tells a file that grew since fstat(). */
	buf = malloc(MS_CONFIG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return fail(&ps, -ENOMEM, "out of memory");
	}
	while (used <= MS_CONFIG_FILE_MAX) {
		n = read(fd, buf + used, MS_CONFIG_FILE_MAX + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			free(buf);
			close(fd);
			return fail(&ps, r, "read error: %s", strerror(-r));
		}
		if (n == 0)
			break;
		used += n;
	}
	close(fd);
	r = config__parse(buf, used, path, ret, err, errlen);
	free(buf);
	return r;
}
