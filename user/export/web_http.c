// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * web_http.c - the web view's routes (see web_http.h): the page and its
 * assets from the binary (web_assets.c), and the JSON API, whose requests
 * wait in a queue for the daemon's thread.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "export/job_queue.h"
#include "export/web_assets.h"
#include "export/web_http.h"

#define TEXT	"text/plain; charset=utf-8"
#define JSON	"application/json"

struct web_job {
	struct job_link link;
	struct http_call *call;
	enum web_api api;
	pid_t pid;
};

struct web_server {
	struct http_site site;
	struct job_queue q;		/* requests waiting for the daemon */
};

static void reply_static(struct http_call *c, unsigned int status, const char *msg)
{
	size_t n = strlen(msg);
	char *body = malloc(n ?: 1);

	if (body)
		memcpy(body, msg, n);
	http_call__reply(c, status, TEXT, body, body ? n : 0);
}

/* A file of the page (the route's arg), answered at once with a copy. */
static int start_asset(void *cls, struct http_call *c)
{
	static const char *const types[] = {
		[WEB_INDEX_HTML] = "text/html; charset=utf-8",
		[WEB_APP_JS] = "text/javascript; charset=utf-8",
		[WEB_APP_CSS] = "text/css; charset=utf-8",
		[WEB_ICON_SVG] = "image/svg+xml",
	};
	enum web_asset_id id = (enum web_asset_id)http_call__route_arg(c);
	struct web_asset a;
	char *body;

	web_assets__get(id, &a);
	body = malloc(a.len ?: 1);
	if (!body)
		return -ENOMEM;
	memcpy(body, a.data, a.len);
	http_call__reply(c, MHD_HTTP_OK, types[id], body, a.len);
	return 0;
}

static int start_api(struct web_server *srv, struct http_call *c, enum web_api api)
{
	unsigned long pid = 0;
	struct web_job *j;
	int rc;

	if (api != WEB_API_PS && api != WEB_API_INCIDENTS) {
		rc = http_call__arg_uint(c, "pid", 1, INT_MAX, &pid);
		if (rc) {
			reply_static(c, MHD_HTTP_BAD_REQUEST, rc > 0 ?
				     "memsightd: which process? add ?pid=PID (/api/ps lists them)\n" :
				     "memsightd: invalid pid: a process ID, 1 to 2147483647\n");
			return 0;
		}
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		reply_static(c, MHD_HTTP_SERVICE_UNAVAILABLE, "memsightd: out of memory\n");
		return 0;
	}
	j->call = c;
	j->api = api;
	j->pid = (pid_t)pid;
	if (job_queue__push(&srv->q, &j->link)) {
		free(j);
		reply_static(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			     "memsightd: too many requests at once; try again\n");
	}
	return 0;
}

/* The API's routes: the arg is the web_api. */
static int start_route(void *cls, struct http_call *c)
{
	return start_api(cls, c, (enum web_api)http_call__route_arg(c));
}

static const struct http_route web_routes[] = {
	{ .path = "/", .start = start_asset, .arg = WEB_INDEX_HTML, .csp = WEB_CSP },
	{ .path = "/web/app.js", .start = start_asset, .arg = WEB_APP_JS, .csp = WEB_CSP },
	{ .path = "/web/app.css", .start = start_asset, .arg = WEB_APP_CSS, .csp = WEB_CSP },
	{ .path = "/web/icon.svg", .start = start_asset, .arg = WEB_ICON_SVG, .csp = WEB_CSP },
	{ .path = "/api/ps", .start = start_route, .arg = WEB_API_PS },
	{ .path = "/api/top", .start = start_route, .arg = WEB_API_TOP },
	{ .path = "/api/history", .start = start_route, .arg = WEB_API_HISTORY },
	{ .path = "/api/explain", .start = start_route, .arg = WEB_API_EXPLAIN },
	{ .path = "/api/incidents", .start = start_route, .arg = WEB_API_INCIDENTS },
};

void web_server__answer(struct web_server *srv, web_answer_fn fn, void *cls)
{
	struct job_link *l;

	if (job_queue__woken(&srv->q))
		return;
	while ((l = job_queue__take_oldest(&srv->q))) {
		struct web_job *j = job_entry(l, struct web_job, link);
		char *body = NULL;
		size_t len = 0;
		unsigned int status = fn(cls, j->api, j->pid, &body, &len);

		if (!body) {
			reply_static(j->call, MHD_HTTP_SERVICE_UNAVAILABLE, "memsightd: out of memory\n");
		} else if (len > WEB_BODY_MAX) {
			free(body);
			reply_static(j->call, MHD_HTTP_CONTENT_TOO_LARGE,
				     "memsightd: the answer is over 8 MiB; memsight dump has it all\n");
		} else {
			http_call__reply(j->call, status, JSON, body, len);
		}
		free(j);
	}
}

struct web_server *web_server__new(void)
{
	struct web_server *srv = calloc(1, sizeof(*srv));
	int rc;

	if (!srv)
		return NULL;
	srv->site = (struct http_site){ web_routes, sizeof(web_routes) / sizeof(web_routes[0]),
					srv };
	rc = job_queue__init(&srv->q, WEB_JOBS_MAX);
	if (rc) {
		free(srv);
		errno = -rc;
		return NULL;
	}
	return srv;
}

const struct http_site *web_server__site(struct web_server *srv)
{
	return &srv->site;
}

int web_server__fd(const struct web_server *srv)
{
	return srv->q.efd;
}

void web_server__stop(struct web_server *srv)
{
	struct job_link *l;

	if (!srv)
		return;
	l = job_queue__close(&srv->q);
	while (l) {
		struct web_job *j = job_entry(l, struct web_job, link);

		l = l->next;
		reply_static(j->call, MHD_HTTP_SERVICE_UNAVAILABLE, "memsightd: stopping\n");
		free(j);
	}
}

void web_server__free(struct web_server *srv)
{
	if (!srv)
		return;
	web_server__stop(srv);
	job_queue__fini(&srv->q);
	free(srv);
}
