/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef MEMSIGHT_HTTP_SERVER_H
#define MEMSIGHT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

/*
 * A small HTTP server for what memsightd exposes (/metrics): GET and HEAD of
 * a table of paths, served by a thread without capabilities, each connection
 * given HTTP_DEADLINE_S for a request to arrive and its response to go out.
 */

#define HTTP_DEADLINE_S		5	/* from connect to the end of the response */
#define HTTP_MAX_CONNECTIONS	256
#define HTTP_MAX_PER_IP		64	/* all local users share 127.0.0.1: see http_server.c */

struct http_route {
	const char *path;
	const char *content_type;
	/* The body of a GET of path: *body from malloc (the server frees it),
	 * or -errno (the connection is closed without an answer). */
	int (*get)(void *cls, char **body, size_t *len);
};

struct http_server;

/* Serve routes (kept by the caller until http_server__stop) with cls given to
 * each get; on failure err says why. */
int http_server__start(const char *host, uint16_t port, const struct http_route *routes,
		       size_t nroutes, void *cls, struct http_server **ret, char *err,
		       size_t errlen);
void http_server__stop(struct http_server *srv);

#endif
