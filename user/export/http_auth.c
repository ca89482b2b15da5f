// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * http_auth.c - the credentials of memsightd's HTTP listener (http_auth.h).
 *
 * The token file holds one bearer token (a trailing newline is dropped);
 * the users file one "user:password" a line, '#' comments and blank lines
 * allowed, as Prometheus's and curl's basic auth send them (RFC 7617: the
 * user has no ':', the password is the rest of the line). Passwords are
 * kept in clear: a hash worth its name (bcrypt, yescrypt) costs tens of
 * milliseconds a request on the server's one polling thread, which any
 * client could then stall; the file's permissions are what guard them, so
 * a file others can read is refused.
 *
 * Comparisons take a time that depends on the secret's length only, never
 * on where a guess first differs, and every user is compared, so a guess
 * learns nothing of which user exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/readfile.h"
#include "export/http_auth.h"

#define HTTP_AUTH_LINE_MAX	1024	/* a decoded Basic credential, a users line */

struct http_user {
	char *name;
	size_t name_len;
	char *pass;
	size_t pass_len;
};

struct http_auth {
	char *token;			/* NULL: no bearer token */
	size_t token_len;
	struct http_user users[HTTP_AUTH_USERS_MAX];
	size_t nusers;
	bool basic;			/* a users file was given */
	char *open_buf;			/* the open paths, NUL-separated */
	const char *open[HTTP_AUTH_OPEN_MAX];
	size_t nopen;
};

int http_secret__read(const char *path, size_t max, char **ret, size_t *ret_len, char *err,
		      size_t errlen)
{
	struct stat st;
	int fd, r;

	*ret = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXO | S_IWGRP)) {
		snprintf(err, errlen, "%s: holds a secret but its mode is %04o: %s it "
			 "(chmod 600 or 640; a Kubernetes secret volume: defaultMode 0400)", path,
			 (unsigned int)(st.st_mode & 07777),
			 st.st_mode & S_IRWXO ? "others may read or write" : "its group may write");
		close(fd);
		return -EPERM;
	}
	r = ms_read_fd(fd, max, ret, ret_len);
	close(fd);
	if (r == -EFBIG)
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
	else if (r)
		snprintf(err, errlen, "%s: read error: %s", path, strerror(-r));
	return r;
}

/* a and b equal, in a time that depends on b's length only (b: the secret) */
static bool same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char d = alen != blen;

	for (size_t i = 0; i < blen; i++)
		d |= (unsigned char)(b[i] ^ (i < alen ? a[i] : ~b[i]));
	return d == 0;
}

static void free_secret(char *s, size_t len)
{
	if (s)
		explicit_bzero(s, len);
	free(s);
}

void http_auth__free(struct http_auth *a)
{
	if (!a)
		return;
	free_secret(a->token, a->token_len);
	for (size_t i = 0; i < a->nusers; i++) {
		free(a->users[i].name);
		free_secret(a->users[i].pass, a->users[i].pass_len);
	}
	free(a->open_buf);
	free(a);
}

static bool is_token_char(char c)
{
	/* RFC 6750's b64token: what a bearer token may be made of */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-._~+/=", c);
}

static int load_token(struct http_auth *a, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *buf;
	int r = http_secret__read(path, HTTP_SECRET_FILE_MAX, &buf, &len, err, errlen);

	if (r)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len < 16) {
		snprintf(err, errlen, "%s: the token is %s (at least 16 characters)", path,
			 len ? "too short" : "empty");
		free_secret(buf, len);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_token_char(buf[i]) || (buf[i] == '=' && i < len - 1 && buf[i + 1] != '=')) {
			snprintf(err, errlen, "%s: the token has a character at offset %zu that a "
				 "bearer token cannot carry (letters, digits, -._~+/ and a "
				 "trailing =)", path, i);
			free_secret(buf, len);
			return -EINVAL;
		}
	}
	a->token = buf;
	a->token_len = len;
	return 0;
}

/* One "user:password" line of path (line lineno); 0, or -errno with err. */
static int add_user(struct http_auth *a, const char *path, unsigned int lineno, const char *s,
		    size_t n, char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', n);
	struct http_user *u;

	if (!colon || colon == s) {
		snprintf(err, errlen, "%s:%u: expected user:password", path, lineno);
		return -EINVAL;
	}
	if (n >= HTTP_AUTH_LINE_MAX) {
		snprintf(err, errlen, "%s:%u: longer than %d bytes", path, lineno,
			 HTTP_AUTH_LINE_MAX - 1);
		return -EINVAL;
	}
	if (colon + 1 == s + n) {
		snprintf(err, errlen, "%s:%u: empty password", path, lineno);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(err, errlen, "%s:%u: control character", path, lineno);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < a->nusers; i++) {
		if (a->users[i].name_len == (size_t)(colon - s) &&
		    !memcmp(a->users[i].name, s, a->users[i].name_len)) {
			snprintf(err, errlen, "%s:%u: user given twice", path, lineno);
			return -EINVAL;
		}
	}
	if (a->nusers == HTTP_AUTH_USERS_MAX) {
		snprintf(err, errlen, "%s:%u: more than %d users", path, lineno,
			 HTTP_AUTH_USERS_MAX);
		return -E2BIG;
	}
	u = &a->users[a->nusers];
	u->name_len = (size_t)(colon - s);
	u->pass_len = n - u->name_len - 1;
	u->name = strndup(s, u->name_len);
	u->pass = strndup(colon + 1, u->pass_len);
	if (!u->name || !u->pass) {
		free(u->name);
		free_secret(u->pass, u->pass_len);
		return -ENOMEM;
	}
	a->nusers++;
	return 0;
}

static int load_users(struct http_auth *a, const char *path, char *err, size_t errlen)
{
	unsigned int lineno = 0;
	size_t len;
	char *buf;
	int r = http_secret__read(path, HTTP_SECRET_FILE_MAX, &buf, &len, err, errlen);

	if (r)
		return r;
	a->basic = true;
	for (const char *p = buf, *end = buf + len; p < end && !r;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		nl = nl ?: end;
		n = (size_t)(nl - p);
		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n && p[0] != '#')
			r = add_user(a, path, lineno, p, n, err, errlen);
		p = nl + 1;
	}
	free_secret(buf, len);
	if (!r && !a->nusers) {
		snprintf(err, errlen, "%s: no user:password line", path);
		r = -EINVAL;
	}
	return r;
}

static int load_open(struct http_auth *a, const char *paths, char *err, size_t errlen)
{
	char *save = NULL;

	a->open_buf = strdup(paths);
	if (!a->open_buf)
		return -ENOMEM;
	for (char *t = strtok_r(a->open_buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (t[0] != '/') {
			snprintf(err, errlen, "open path '%.64s' must start with '/'", t);
			return -EINVAL;
		}
		if (a->nopen == HTTP_AUTH_OPEN_MAX) {
			snprintf(err, errlen, "more than %d open paths", HTTP_AUTH_OPEN_MAX);
			return -E2BIG;
		}
		a->open[a->nopen++] = t;
	}
	return 0;
}

static bool given(const char *s)
{
	return s && *s;
}

int http_auth__load(const struct http_auth_conf *conf, struct http_auth **ret, char *err,
		    size_t errlen)
{
	struct http_auth *a;
	int r = 0;

	*ret = NULL;
	if (!given(conf->token_file) && !given(conf->users_file)) {
		if (given(conf->open_paths)) {
			snprintf(err, errlen, "open paths given, but no token or users file: "
				 "every path is open already");
			return -EINVAL;
		}
		return 0;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (given(conf->token_file))
		r = load_token(a, conf->token_file, err, errlen);
	if (!r && given(conf->users_file))
		r = load_users(a, conf->users_file, err, errlen);
	if (!r && given(conf->open_paths))
		r = load_open(a, conf->open_paths, err, errlen);
	if (r) {
		http_auth__free(a);
		return r;
	}
	*ret = a;
	return 0;
}

bool http_auth__is_open(const struct http_auth *a, const char *path)
{
	if (!a)
		return true;
	for (size_t i = 0; i < a->nopen; i++)
		if (!strcmp(a->open[i], path))
			return true;
	return false;
}

unsigned int http_auth__schemes(const struct http_auth *a)
{
	if (!a)
		return 0;
	return (a->token ? HTTP_AUTH_BEARER : 0) | (a->basic ? HTTP_AUTH_BASIC : 0);
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 (padding optional) of s[0..n) into out (cap bytes): its length, or -1. */
static ssize_t b64_decode(const char *s, size_t n, char *out, size_t cap)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	while (n && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return bits >= 6 ? -1 : (ssize_t)o;	/* one lone character is not base64 */
}

static int check_basic(const struct http_auth *a, const char *cred)
{
	char buf[HTTP_AUTH_LINE_MAX];
	ssize_t n = b64_decode(cred, strlen(cred), buf, sizeof(buf));
	const char *colon;
	bool ok = false;
	size_t ulen;

	if (n < 0)
		return -EACCES;
	colon = memchr(buf, ':', (size_t)n);
	if (!colon) {
		explicit_bzero(buf, sizeof(buf));
		return -EACCES;
	}
	ulen = (size_t)(colon - buf);
	/* every user compared, whatever matched before */
	for (size_t i = 0; i < a->nusers; i++) {
		bool u = same_secret(buf, ulen, a->users[i].name, a->users[i].name_len);
		bool p = same_secret(colon + 1, (size_t)n - ulen - 1, a->users[i].pass,
				     a->users[i].pass_len);

		ok |= u & p;
	}
	explicit_bzero(buf, sizeof(buf));
	return ok ? 0 : -EACCES;
}

/* "Scheme credentials": scheme matched without case, then one or more spaces. */
static const char *after_scheme(const char *h, const char *scheme)
{
	size_t n = strlen(scheme);

	if (strncasecmp(h, scheme, n) || h[n] != ' ')
		return NULL;
	h += n;
	while (*h == ' ')
		h++;
	return h;
}

int http_auth__check(const struct http_auth *a, const char *authorization)
{
	const char *cred;

	if (!a)
		return 0;
	if (!authorization)
		return -EACCES;
	cred = after_scheme(authorization, "Bearer");
	if (cred && a->token)
		return same_secret(cred, strlen(cred), a->token, a->token_len) ? 0 : -EACCES;
	cred = after_scheme(authorization, "Basic");
	if (cred && a->basic)
		return check_basic(a, cred);
	return -EACCES;
}
