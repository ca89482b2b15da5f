/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * web_http.h - the web view on memsightd's HTTP listener:
 *
 *   /                        the page (web/index.html, built into the binary)
 *   /web/app.js, app.css, icon.svg   its script, style and icon
 *   /api/ps                  the watched processes: the control socket's `ps` JSON
 *   /api/top?pid=N           a process's stacks (all of them, frames and growth) and
 *                            goroutines by creation site: `top n=0 growth=1` JSON
 *   /api/history?pid=N       the RSS/heap history the flight recorder keeps
 *   /api/explain?pid=N       where its RSS is: `memsight explain --json`
 *   /api/incidents           the flight recorder's records: `memsight incidents -j`
 *
 * The page carries a Content-Security-Policy that allows only its own script
 * and style; the answers are the daemon's own JSON (one producer per fact,
 * ctl_requests.c), at most WEB_BODY_MAX bytes (413 past that).
 *
 * Threads. The HTTP thread parses a request and queues it (at most
 * WEB_JOBS_MAX at once; more get 503); the daemon's thread answers the queue
 * when its eventfd wakes it, and never waits for a client.
 */
#ifndef MEMSIGHT_WEB_HTTP_H
#define MEMSIGHT_WEB_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#include "export/http_server.h"

#define WEB_JOBS_MAX		16
#define WEB_BODY_MAX		((size_t)8 << 20)	/* the largest JSON answered */
#define WEB_CSP			"default-src 'none'; script-src 'self'; style-src 'self'; " \
				"connect-src 'self'; img-src 'self'; base-uri 'none'; " \
				"form-action 'none'; frame-ancestors 'none'"

enum web_api { WEB_API_PS, WEB_API_TOP, WEB_API_HISTORY, WEB_API_EXPLAIN, WEB_API_INCIDENTS };

/*
 * The daemon's side: the JSON of api (pid: of the process it names, else 0)
 * in *body (malloc) and *len, and the HTTP status; NULL body: out of memory.
 */
typedef unsigned int (*web_answer_fn)(void *cls, enum web_api api, pid_t pid, char **body,
				      size_t *len);

struct web_server;

/* NULL + errno */
struct web_server *web_server__new(void);
const struct http_site *web_server__site(struct web_server *srv);
/* Readable when requests wait for the daemon: then call web_server__answer(). */
int web_server__fd(const struct web_server *srv);
void web_server__answer(struct web_server *srv, web_answer_fn fn, void *cls);
/* Answer what still waits (503), before the HTTP server stops. Daemon's thread. */
void web_server__stop(struct web_server *srv);
void web_server__free(struct web_server *srv);

#endif
