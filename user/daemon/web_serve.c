// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * web_serve.c - the daemon's side of the web view's API (export/web_http.c):
 * each answer is what the control socket answers (ctl_requests.c), so the
 * page and `memsight ps/top` show the same figures, the flight recorder's
 * history of the process (recorder.c) and its incidents (incidents.c), and
 * `memsight explain` of the daemon's data (model/explain.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "common/json.h"
#include "daemon/daemon_int.h"
#include "daemon/incidents.h"
#include "export/explain_report.h"
#include "export/web_http.h"
#include "model/explain.h"
#include "target/smaps.h"

#define WEB_TOP_STACKS	500	/* stacks /api/top gives, the largest growers first */
#define WEB_TOP_FRAMES	64	/* frames per stack */
#define WEB_INCIDENTS_MAX	200	/* records /api/incidents lists, the newest */

static const char ok_head[] = "{\"ok\":true";

/* A control reply's status: 200, 404 for a process not watched, else 500. */
static unsigned int ctl_status(const char *buf, size_t len)
{
	if (len >= sizeof(ok_head) - 1 && !memcmp(buf, ok_head, sizeof(ok_head) - 1))
		return MHD_HTTP_OK;
	return strstr(buf, "\"code\":\"not_watched\"") ? MHD_HTTP_NOT_FOUND :
							 MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/*
 * The JSON of a control request, as the socket would answer a client in our
 * PID namespace; a payload's header line is left out (the payload is the
 * JSON). The body is from malloc, NULL when out of memory.
 */
static unsigned int ctl_json(struct daemon *d, const struct ctl_request *q, char **body,
			     size_t *len)
{
	const struct client local = {};
	char line[CTL_LINE_MAX + 1];
	struct reply r;
	unsigned int status;
	uint64_t n;
	char *nl;
	int ll = ctl__format_request(line, sizeof(line), q, NULL, 0);

	*body = NULL;
	if (ll <= 0 || reply__open(&r))
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	ctl_requests__run(d, &local, line, (size_t)ll - 1, &r);
	if (fclose(r.f)) {
		free(r.buf);
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	status = ctl_status(r.buf, r.len);
	nl = memchr(r.buf, '\n', r.len);
	if (status == MHD_HTTP_OK && nl &&
	    ctl__parse_payload_header(r.buf, (size_t)(nl - r.buf), &n) == 1 &&
	    n == r.len - (size_t)(nl - r.buf) - 1) {
		size_t off = (size_t)(nl - r.buf) + 1;

		memmove(r.buf, r.buf + off, r.len - off);
		r.len -= off;
	}
	*body = r.buf;
	*len = r.len;
	return status;
}

/* A JSON answer written by fn into a buffer from malloc; fn returns the status. */
static unsigned int json_answer(struct daemon *d, pid_t pid, char **body, size_t *len,
				unsigned int (*fn)(struct daemon *d, pid_t pid, FILE *f))
{
	unsigned int status;
	FILE *f;

	*body = NULL;
	*len = 0;
	f = open_memstream(body, len);
	if (!f)
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	status = fn(d, pid, f);
	if (fclose(f)) {
		free(*body);
		*body = NULL;
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	return status;
}

/* The watched process pid, or NULL with the control socket's error written. */
static struct ms_target *watched_or_404(struct daemon *d, pid_t pid, FILE *f)
{
	struct ms_target *t = ms_session__find(d->s, pid);
	char msg[96];

	if (!t) {
		snprintf(msg, sizeof(msg), "PID %d is not watched", (int)pid);
		ctl__write_error(f, CTL_E_NOT_WATCHED, msg);
	}
	return t;
}

static unsigned int history_json(struct daemon *d, pid_t pid, FILE *f)
{
	struct ms_target *t = watched_or_404(d, pid, f);
	struct json_writer *w;

	if (!t)
		return MHD_HTTP_NOT_FOUND;
	if (ctl__ok_begin(f, &w))
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	jw__kv_int(w, "pid", t->pid);
	jw__kv_string(w, "comm", t->comm);
	jw__kv_uint(w, "history_max", RSS_HISTORY);
	recorder__history_json(W(t), w);
	ctl__ok_end(w);
	return MHD_HTTP_OK;
}

/* `memsight explain --json` of a watched process, from the daemon's data. */
static unsigned int explain_json(struct daemon *d, pid_t pid, FILE *f)
{
	struct ms_target *t = watched_or_404(d, pid, f);
	struct ms_smaps_summary sm;
	struct json_writer *w;
	struct ms_profile *p;
	struct explain e;
	char msg[128];
	int err;

	if (!t)
		return MHD_HTTP_NOT_FOUND;
	err = smaps__read_summary("/proc", t->pid, &sm);
	if (err) {
		snprintf(msg, sizeof(msg), "cannot read /proc/%d/smaps: %s", (int)t->pid,
			 strerror(-err));
		ctl__write_error(f, CTL_E_FAILED, msg);
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	/* no ages: the scan of live allocations is for top's "oldest" only */
	p = snapshot__profile(d, t, false, true);
	w = p ? jw__new(f) : NULL;
	if (!w) {
		ms_profile__free(p);
		snprintf(msg, sizeof(msg), "cannot read the data of PID %d", (int)t->pid);
		ctl__write_error(f, CTL_E_FAILED, msg);
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	explain__of_profile(p, &sm, &e);
	explain__json(&e, p, w);
	jw__free(w);
	ms_profile__free(p);
	return MHD_HTTP_OK;
}

/* The flight recorder's records, newest WEB_INCIDENTS_MAX, or why there are none. */
static unsigned int incidents_json(struct daemon *d, pid_t pid, FILE *f)
{
	struct incident_info *v = NULL;
	struct json_writer *w;
	size_t n = 0, skip;
	int err = d->incidents ? incidents__list(d->incidents, &v, &n) : 0;

	if (ctl__ok_begin(f, &w)) {
		free(v);
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	jw__kv_string(w, "flight_recorder", d->incidents ? "on" : "off");
	if (!d->incidents || err) {
		jw__name(w, "incidents");
		jw__null(w);
		jw__kv_string(w, "incidents_unavailable", err ? strerror(-err) : d->incidents_off);
	} else {
		skip = n > WEB_INCIDENTS_MAX ? n - WEB_INCIDENTS_MAX : 0;
		jw__kv_uint(w, "incidents_total", n);
		jw__name(w, "incidents");
		incidents__json_list(v + skip, n - skip, w);
	}
	ctl__ok_end(w);
	free(v);
	return MHD_HTTP_OK;
}

static unsigned int answer(void *cls, enum web_api api, pid_t pid, char **body, size_t *len)
{
	struct daemon *d = cls;
	struct ctl_request q;

	switch (api) {
	case WEB_API_PS:
		ctl__request_init(&q, CTL_PS);
		return ctl_json(d, &q, body, len);
	case WEB_API_TOP:
		ctl__request_init(&q, CTL_TOP);
		q.sel = CTL_SEL_PID;
		q.pid = pid;
		q.n = WEB_TOP_STACKS;
		q.frames = WEB_TOP_FRAMES;
		q.growth = true;
		q.format = CTL_FMT_JSON;
		q.keys |= CTL_KEY_PID | CTL_KEY_N | CTL_KEY_FRAMES | CTL_KEY_GROWTH |
			  CTL_KEY_FORMAT;
		return ctl_json(d, &q, body, len);
	case WEB_API_HISTORY:
		return json_answer(d, pid, body, len, history_json);
	case WEB_API_EXPLAIN:
		return json_answer(d, pid, body, len, explain_json);
	case WEB_API_INCIDENTS:
		return json_answer(d, pid, body, len, incidents_json);
	}
	*body = NULL;
	return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

void web_serve__answer(struct daemon *d)
{
	web_server__answer(d->web, answer, d);
}
