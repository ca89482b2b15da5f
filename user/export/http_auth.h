/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef MEMSIGHT_HTTP_AUTH_H
#define MEMSIGHT_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * http_auth.h - who may use memsightd's HTTP listener: a bearer token and/or
 * users with passwords, each read from a file of its own (never from the
 * config line), and the paths open to anyone. Secrets are compared in
 * constant time and never appear in a message. Never logs.
 */

#define HTTP_SECRET_FILE_MAX	65536	/* a token, a users file, a TLS key */
#define HTTP_AUTH_USERS_MAX	64
#define HTTP_AUTH_OPEN_MAX	16	/* open paths */

struct http_auth_conf {
	const char *token_file;		/* NULL or "": no bearer token */
	const char *users_file;		/* NULL or "": no basic auth */
	const char *open_paths;		/* space-separated exact paths, NULL or "": none */
};

struct http_auth;

/*
 * The whole of a file that holds a secret into *ret (NUL-terminated, free
 * it): a regular file (symlinks followed, as Kubernetes mounts secrets)
 * that no other user may read or write and its group may not write.
 * -EPERM for looser permissions, -EFBIG over max; err says which file and
 * why, never what it holds.
 */
int http_secret__read(const char *path, size_t max, char **ret, size_t *ret_len, char *err,
		      size_t errlen);

/*
 * The credentials of conf, read now. *ret is NULL when conf asks for no
 * authentication (then every request is allowed). 0, or -errno with err
 * saying why (a file's name and line, never its secret).
 */
int http_auth__load(const struct http_auth_conf *conf, struct http_auth **ret, char *err,
		    size_t errlen);
void http_auth__free(struct http_auth *a);

/* path (no query) needs no credentials. */
bool http_auth__is_open(const struct http_auth *a, const char *path);
/*
 * An Authorization header's value (NULL when absent) carries the token or
 * a user's password: 0, else -EACCES.
 */
int http_auth__check(const struct http_auth *a, const char *authorization);
/* The schemes a 401 offers: "Bearer" and/or "Basic", flags below. */
#define HTTP_AUTH_BEARER	1u
#define HTTP_AUTH_BASIC		2u
unsigned int http_auth__schemes(const struct http_auth *a);

#endif
