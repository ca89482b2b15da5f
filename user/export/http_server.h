/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef MEMSIGHT_HTTP_SERVER_H
#define MEMSIGHT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

/*
 * A small HTTP server for what memsightd exposes (/metrics, /debug/pprof/):
 * GET and HEAD of tables of paths, served by a thread without capabilities,
 * each connection given HTTP_DEADLINE_S for a request to arrive and its
 * response to go out (a route may extend its own, within bounds).
 */

#define HTTP_DEADLINE_S		5	/* from connect to the end of the response */
#define HTTP_MAX_CONNECTIONS	256
#define HTTP_MAX_PER_IP		64	/* all local users share 127.0.0.1: see http_server.c */
#define HTTP_MAX_EXTENDED	16	/* connections past HTTP_DEADLINE_S at once */
#define HTTP_EXTEND_MAX_S	305	/* the longest a connection may be given */

/* One request being answered by a route's start(). */
struct http_call;

struct http_route {
	const char *path;
	const char *content_type;
	/* The body of a GET of path: *body from malloc (the server frees it),
	 * or -errno (the connection is closed without an answer). */
	int (*get)(void *cls, char **body, size_t *len);
	/*
	 * Or (get NULL): answer call with http_call__reply(), now or later
	 * from any thread, exactly once; the connection waits (suspended,
	 * costing the server's thread nothing) until then. 0, or -errno: not
	 * answered, the connection is closed.
	 */
	int (*start)(void *cls, struct http_call *call);
	/* the route's Content-Security-Policy header, or NULL */
	const char *csp;
	/* what start() serves, when routes share it (http_call__route_arg) */
	int arg;
};

/* Routes sharing one cls. */
struct http_site {
	const struct http_route *routes;
	size_t nroutes;
	void *cls;
};

/* The arg of the call's route. */
int http_call__route_arg(const struct http_call *c);
/* A query argument of the call's request, NULL if absent; only inside start(). */
const char *http_call__arg(struct http_call *c, const char *name);
/*
 * A query argument as a decimal number in [min, max]: 0 and *ret, 1 when it
 * is absent (*ret untouched), or -EINVAL (signs, spaces, hex, overflow...).
 */
int http_call__arg_uint(struct http_call *c, const char *name, unsigned long min,
			unsigned long max, unsigned long *ret);
/*
 * Give the call until seconds from now (at most HTTP_EXTEND_MAX_S) for its
 * response to go out; only inside start(). -EBUSY when HTTP_MAX_EXTENDED
 * connections already have more than HTTP_DEADLINE_S, -EINVAL past the bound.
 */
int http_call__extend(struct http_call *c, unsigned int seconds);
/* The answer: status, a static content type, a body from malloc (taken). */
void http_call__reply(struct http_call *c, unsigned int status, const char *content_type,
		      char *body, size_t len);

struct http_server;
struct http_auth;

/* Who may connect and how (NULL: plain HTTP, every path open to anyone). */
struct http_access {
	/* PEM of the certificate (chain) and its key; NULL: plain HTTP */
	const char *tls_cert;
	const char *tls_key;
	/* the credentials every path but the open ones needs; NULL: none */
	struct http_auth *auth;
};

/*
 * Serve the sites' routes (kept by the caller until http_server__stop); on
 * failure err says why. Every call started must be answered before the
 * stop. acc's auth is the server's to free from the start on, even when it
 * fails; its PEMs are copied.
 */
int http_server__start(const char *host, uint16_t port, const struct http_site *sites,
		       size_t nsites, const struct http_access *acc, struct http_server **ret,
		       char *err, size_t errlen);
/* New credentials (taken) for the requests from now on; the old are freed. */
void http_server__set_auth(struct http_server *srv, struct http_auth *auth);
void http_server__stop(struct http_server *srv);

#endif
