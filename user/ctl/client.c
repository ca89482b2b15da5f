// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/textsafe.h"
#include "ctl/client.h"
#include "export/report.h"

#define REPLY_LINE_MAX		(64u << 20)	/* a ps of thousands of processes fits */
#define REPLY_PAYLOAD_MAX	(1ull << 32)
#define CLIENT_TIMEOUT_S	60	/* the whole call, connect included */
#define CLIENT_TIMEOUT_S_MAX	86400
#define CONNECT_RETRY_MS	20	/* a full backlog cannot be polled for room */

const char *client__socket_path(const char *override)
{
	const char *env = getenv("MEMSIGHT_SOCKET");

	if (override)
		return override;
	return env && *env ? env : MS_DEFAULT_SOCKET;
}

int client__timeout_s(unsigned int *ret_s)
{
	const char *env = getenv("MEMSIGHT_TIMEOUT");
	unsigned long v;
	char *end;

	*ret_s = CLIENT_TIMEOUT_S;
	if (!env || !*env)
		return 0;
	errno = 0;
	v = strtoul(env, &end, 10);
	if (*env < '0' || *env > '9' || errno || *end || v == 0 || v > CLIENT_TIMEOUT_S_MAX)
		return -EINVAL;
	*ret_s = v;
	return 0;
}

void ms_reply__free(struct ms_reply *r)
{
	free(r->line);
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int pr;

	do {
		left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		pr = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
	} while (pr < 0 && errno == EINTR);
	if (pr == 0)
		return -ETIMEDOUT;
	return pr < 0 ? -errno : 0;
}

/*
 * Connect fd (nonblocking) before the deadline. A unix socket whose
 * listen backlog is full says EAGAIN and cannot be polled for room: retry.
 */
static int connect_by(int fd, const struct sockaddr_un *sa, int64_t deadline)
{
	socklen_t el = sizeof(int);
	int err = 0;

	for (;;) {
		int64_t left;

		if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
			return 0;
		if (errno == EINPROGRESS)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		poll(NULL, 0, left < CONNECT_RETRY_MS ? (int)left : CONNECT_RETRY_MS);
	}
	err = wait_fd(fd, POLLOUT, deadline);
	if (err)
		return err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el))
		return -errno;
	return -err;
}

/* Read up to n bytes before the deadline. */
static int read_some(int fd, char *buf, size_t n, size_t *got, int64_t deadline)
{
	ssize_t r;
	int err;

	for (;;) {
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			return err;
		r = read(fd, buf, n);
		if (r > 0)
			break;
		if (r == 0)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	*got = r;
	return 0;
}

static int send_all(int fd, const char *buf, size_t n, int64_t deadline)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
		int err;

		if (w > 0) {
			off += w;
			continue;
		}
		if (w == 0)
			return -EIO;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}

int client__call(const char *sock, const struct ctl_request *req, struct ms_reply *ret,
		 char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[CTL_LINE_MAX + 1], *buf = NULL, *nl;
	size_t len = 0, cap = 0, off;
	unsigned int timeout_s;
	int64_t deadline;
	int fd, n, rc;
	uint64_t plen;

	memset(ret, 0, sizeof(*ret));
	if (client__timeout_s(&timeout_s)) {
		snprintf(err, errlen, "MEMSIGHT_TIMEOUT must be whole seconds from 1 to %d",
			 CLIENT_TIMEOUT_S_MAX);
		return -EINVAL;
	}
	deadline = mono_ms() + timeout_s * 1000ll;
	n = ctl__format_request(line, sizeof(line), req, err, errlen);
	if (n < 0)
		return n;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", sock);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect_by(fd, &sa, deadline);
	if (rc) {
		if (rc != -ETIMEDOUT)
			snprintf(err, errlen, "cannot reach memsightd at %s: %s", sock,
				 strerror(-rc));
		goto out;
	}
	rc = send_all(fd, line, n, deadline);
	if (rc) {
		if (rc != -ETIMEDOUT)
			snprintf(err, errlen, "sending to memsightd: %s", strerror(-rc));
		goto out;
	}
	/* the response line */
	for (;;) {
		size_t got;

		if (cap - len < 65536) {
			char *nb;

			cap = cap ? cap * 2 : 131072;
			if (cap > REPLY_LINE_MAX + 65536) {
				rc = -E2BIG;
				snprintf(err, errlen, "response from memsightd too large");
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		rc = read_some(fd, buf + len, cap - len - 1, &got, deadline);
		if (rc) {
			if (rc != -ETIMEDOUT)
				snprintf(err, errlen, "reading from memsightd: %s", strerror(-rc));
			goto out;
		}
		len += got;
		buf[len] = 0;
		nl = memchr(buf, '\n', len);
		if (nl)
			break;
	}
	ret->line = strndup(buf, nl - buf);
	if (!ret->line) {
		rc = -ENOMEM;
		goto out;
	}
	off = nl + 1 - buf;
	if (ctl__parse_payload_header(ret->line, strlen(ret->line), &plen) == 1) {
		if (plen > REPLY_PAYLOAD_MAX) {
			rc = -E2BIG;
			snprintf(err, errlen, "payload of %" PRIu64 " bytes refused", plen);
			goto out;
		}
		ret->payload = malloc(plen + 1);
		if (!ret->payload) {
			rc = -ENOMEM;
			goto out;
		}
		ret->has_payload = true;
		ret->payload_len = plen;
		len -= off;
		if (len > plen)
			len = plen;
		memcpy(ret->payload, buf + off, len);
		while (len < plen) {
			size_t got;

			rc = read_some(fd, ret->payload + len, plen - len, &got, deadline);
			if (rc) {
				if (rc != -ETIMEDOUT)
					snprintf(err, errlen,
						 "reading the payload from memsightd: %s",
						 strerror(-rc));
				goto out;
			}
			len += got;
		}
		ret->payload[plen] = 0;
	}
	rc = 0;
out:
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "memsightd did not answer within %u s (at %s; "
			 "MEMSIGHT_TIMEOUT sets the limit)", timeout_s, sock);
	free(buf);
	close(fd);
	if (rc)
		ms_reply__free(ret);
	return rc;
}

bool client__reply_ok(const struct ms_reply *r, enum ctl_errcode *ret_code, char *err,
		      size_t errlen)
{
	struct json_object *o = json_tokener_parse(r->line), *v;
	bool ok = false;

	if (ret_code)
		*ret_code = CTL_E_UNKNOWN;
	if (!o) {
		snprintf(err, errlen, "memsightd sent something that is not JSON");
		return false;
	}
	if (json_object_object_get_ex(o, "ok", &v))
		ok = json_object_get_boolean(v);
	if (!ok) {
		if (ret_code && json_object_object_get_ex(o, "code", &v) &&
		    json_object_is_type(v, json_type_string))
			*ret_code = ctl__errcode_from_name(json_object_get_string(v));
		if (json_object_object_get_ex(o, "error", &v))
			snprintf(err, errlen, "%s", json_object_get_string(v));
		else
			snprintf(err, errlen, "memsightd refused the request");
	}
	json_object_put(o);
	return ok;
}

static uint64_t u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

/*
 * A string of a reply for the terminal: replies carry comms, paths and
 * symbols from targets, escaped here (a reply's JSON is escaped already,
 * the strings json-c gives back are not).
 */
#define SAFE_LEN TEXTSAFE_SIZE(4096)
static const char *safe(struct json_object *o, const char *key, char buf[SAFE_LEN])
{
	return textsafe__str(buf, SAFE_LEN, str(o, key));
}

/* A figure of ps's for its column: "-" when the daemon has none (it says why). */
static const char *col_bytes(struct json_object *o, const char *key, char *buf, size_t len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return report__human_bytes(json_object_get_int64(v), buf, len);
}

static const char *col_uint(struct json_object *o, const char *key, char *buf, size_t len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	snprintf(buf, len, "%" PRIu64, (uint64_t)json_object_get_int64(v));
	return buf;
}

/* key_bytes of a cgroup object as text, or "n/a (why)" from key_unavailable. */
static const char *cg_field(struct json_object *cg, const char *stem, bool bytes, char *buf,
			    size_t len)
{
	struct json_object *v;
	char key[64], sb[SAFE_LEN];

	snprintf(key, sizeof(key), bytes ? "%s_bytes" : "%s", stem);
	if (json_object_object_get_ex(cg, key, &v)) {
		if (bytes)
			return report__human_bytes(json_object_get_uint64(v), buf, len);
		snprintf(buf, len, "%" PRIu64, json_object_get_uint64(v));
		return buf;
	}
	snprintf(key, sizeof(key), "%s_unavailable", stem);
	snprintf(buf, len, "n/a (%s)", safe(cg, key, sb));
	return buf;
}

/* "pod NAMESPACE/NAME container NAME", or why not, after prefix; nothing outside Kubernetes. */
static void pod_line(struct json_object *o, const char *prefix, FILE *out)
{
	struct json_object *pod;
	char a[SAFE_LEN], b[SAFE_LEN], c[SAFE_LEN];

	if (json_object_object_get_ex(o, "pod", &pod))
		fprintf(out, "%spod %s/%s container %s\n", prefix, safe(pod, "namespace", a),
			safe(pod, "name", b), safe(pod, "container", c));
	else if (json_object_object_get_ex(o, "pod_unavailable", &pod))
		fprintf(out, "%spod unavailable: %s\n", prefix, safe(o, "pod_unavailable", a));
}

/* ps: the process's cgroup on a line of its own (the JSON is cgroup_view.c's). */
static void ps_cgroup_line(struct json_object *p, FILE *out)
{
	struct json_object *cg, *v;
	char l[64], u[64], k[64], sb[SAFE_LEN];

	if (!json_object_object_get_ex(p, "cgroup", &cg)) {
		if (json_object_object_get_ex(p, "cgroup_unavailable", &v))
			fprintf(out, "%8s cgroup unavailable: %s\n", "",
				safe(p, "cgroup_unavailable", sb));
		return;
	}
	fprintf(out, "%8s cgroup v%" PRIu64 " %s: limit %s", "", u64(cg, "version"),
		safe(cg, "path", sb), cg_field(cg, "limit", true, l, sizeof(l)));
	if (json_object_object_get_ex(cg, "rss_share_of_limit_basis_points", &v))
		fprintf(out, " (RSS %.2f%%)", json_object_get_uint64(v) / 100.0);
	fprintf(out, ", usage %s, OOM kills %s\n", cg_field(cg, "usage", true, u, sizeof(u)),
		cg_field(cg, "oom_kills", false, k, sizeof(k)));
	pod_line(p, "         ", out);
}

int client__print_ps(const struct ms_reply *r, FILE *out)
{
	struct json_object *o = json_tokener_parse(r->line), *procs;
	char a[32], b[32], c[32], th[24], cm[TEXTSAFE_SIZE(64)], sb[SAFE_LEN];
	size_t cw = 16;
	size_t n;

	if (!o || !json_object_object_get_ex(o, "processes", &procs)) {
		json_object_put(o);
		return -EINVAL;
	}
	n = json_object_array_length(procs);
	/* as wide as the widest comm shown, escapes and all, so the columns after it line up */
	for (size_t i = 0; i < n; i++) {
		size_t w = textsafe__width(str(json_object_array_get_idx(procs, i), "comm"));

		if (w > cw && w < sizeof(cm))
			cw = w;
	}
	fprintf(out, "%8s %-*s %12s %12s %12s %12s %7s %10s %14s %14s  %s\n", "PID", (int)cw, "COMM",
		"HEAP INUSE", "GO HEAP", "RSS", "PEAK RSS", "THREADS", "GOROUTINES", "GOROUTINES/MIN",
		"GROWTH/MIN", "WATCHED BECAUSE");
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(procs, i), *v, *site;
		char g[32] = "-", gh[32] = "-", gr[32] = "-", growth[32] = "-";

		if (json_object_object_get_ex(p, "growth_bytes_per_min", &v) &&
		    !json_object_is_type(v, json_type_null)) {
			double b = round(json_object_get_double(v));

			/* a slope of -0.3 B/min is no shrinking: "+0 B", not "-0 B" */
			snprintf(growth, sizeof(growth), "%+.0f B", b == 0 ? 0.0 : b);
		}
		if (json_object_object_get_ex(p, "goroutines", &v) &&
		    !json_object_is_type(v, json_type_null))
			snprintf(g, sizeof(g), "%" PRId64, json_object_get_int64(v));
		else if (json_object_object_get_ex(p, "goroutines_unavailable", &v))
			snprintf(g, sizeof(g), "?");
		/* a Go process: its goroutine growth, or "?" until it is known */
		if (json_object_object_get_ex(p, "goroutines_growth_per_min", &v))
			snprintf(gr, sizeof(gr), json_object_is_type(v, json_type_null) ? "?" : "%+.1f",
				 json_object_get_double(v));
		if (json_object_object_get_ex(p, "go_heap_inuse_bytes", &v))
			report__human_bytes(json_object_get_int64(v), gh, sizeof(gh));
		else if (json_object_object_get_ex(p, "go_heap_unavailable", &v))
			snprintf(gh, sizeof(gh), "?");
		fprintf(out, "%8" PRIu64 " %s %12s %12s %12s %12s %7s %10s %14s %14s  %s\n",
			u64(p, "pid"), textsafe__col(cm, sizeof(cm), str(p, "comm"), (int)cw),
			col_bytes(p, "heap_inuse_bytes", a, sizeof(a)), gh,
			col_bytes(p, "rss_bytes", b, sizeof(b)),
			col_bytes(p, "peak_rss_bytes", c, sizeof(c)),
			col_uint(p, "threads", th, sizeof(th)), g, gr, growth, safe(p, "reason", sb));
		/* what does not fit a column: on a line of its own under the process */
		if (json_object_object_get_ex(p, "allocator_probe", &v) &&
		    strcmp(json_object_get_string(v), "uprobes"))
			fprintf(out, "%8s allocator probe: %s\n", "", safe(p, "allocator_probe", sb));
		if (json_object_object_get_ex(p, "goroutines_unavailable", &v))
			fprintf(out, "%8s goroutines unavailable: %s\n", "",
				safe(p, "goroutines_unavailable", sb));
		if (json_object_object_get_ex(p, "go_heap_unavailable", &v))
			fprintf(out, "%8s Go heap unavailable: %s\n", "",
				safe(p, "go_heap_unavailable", sb));
		if (json_object_object_get_ex(p, "heap_unavailable", &v))
			fprintf(out, "%8s heap unavailable: %s\n", "", safe(p, "heap_unavailable", sb));
		if (json_object_object_get_ex(p, "status_unavailable", &v))
			fprintf(out, "%8s RSS and threads unavailable: %s\n", "",
				safe(p, "status_unavailable", sb));
		ps_cgroup_line(p, out);
		if (json_object_object_get_ex(p, "goroutines_top_growing_site", &site) &&
		    json_object_is_type(site, json_type_object) &&
		    json_object_object_get_ex(site, "growth_per_min", &v))
			fprintf(out, "%8s goroutines grow fastest at %s: %+.1f/min, %" PRIu64 " now\n", "",
				safe(site, "site", sb), json_object_get_double(v), u64(site, "count"));
	}
	if (!n)
		fprintf(out, "(no process is watched: memsight attach PID | --comm NAME)\n");
	json_object_put(o);
	return 0;
}

int client__print_stats(const struct ms_reply *r, FILE *out)
{
	struct json_object *o = json_tokener_parse(r->line);

	if (!o)
		return -EINVAL;
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

int client__print_rules(const struct ms_reply *r, FILE *out)
{
	struct json_object *o = json_tokener_parse(r->line), *rules;
	char sb[SAFE_LEN];
	size_t n;

	if (!o || !json_object_object_get_ex(o, "rules", &rules)) {
		json_object_put(o);
		return -EINVAL;
	}
	n = json_object_array_length(rules);
	/* a rule's pattern came from a client: escaped like the names it matches */
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%zu  %s\n", i + 1, textsafe__str(sb, sizeof(sb),
			json_object_get_string(json_object_array_get_idx(rules, i))));
	if (!n)
		fprintf(out, "(no rules: only processes attached by PID are watched)\n");
	json_object_put(o);
	return 0;
}

/* An incident record, for humans: what happened, RSS over time, top stacks. */
int client__print_incident(const char *json, size_t len, FILE *out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o, *hist, *prof, *stacks, *cg;
	char a[32], b[32], sb[SAFE_LEN];
	time_t t;
	struct tm tm;
	char when[32];
	size_t n;

	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, len);
	json_tokener_free(tok);
	if (!o)
		return -EINVAL;
	t = u64(o, "time");
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	fprintf(out, "PID %" PRIu64 " (%s) ", u64(o, "pid"), safe(o, "comm", sb));
	fprintf(out, "%s: ", safe(o, "exe", sb));
	fprintf(out, "%s at %s\n", safe(o, "reason", sb), when);
	fprintf(out, "watched because: %s\n", safe(o, "watched_because", sb));
	if (json_object_object_get_ex(o, "cgroup", &cg)) {
		char l[64], u[64], k[64];

		fprintf(out, "cgroup v%" PRIu64 " %s", u64(cg, "version"), safe(cg, "path", sb));
		fprintf(out, " (as of %s): limit %s, usage %s, OOM kills %s\n",
			safe(o, "cgroup_as_of", sb), cg_field(cg, "limit", true, l, sizeof(l)),
			cg_field(cg, "usage", true, u, sizeof(u)),
			cg_field(cg, "oom_kills", false, k, sizeof(k)));
	}
	pod_line(o, "", out);
	if (json_object_object_get_ex(o, "rss_history", &hist)) {
		n = json_object_array_length(hist);
		fprintf(out, "\nRSS history (%zu snapshots, last 12):\n", n);
		for (size_t i = n > 12 ? n - 12 : 0; i < n; i++) {
			struct json_object *h = json_object_array_get_idx(hist, i);

			t = u64(h, "time");
			strftime(when, sizeof(when), "%H:%M:%S", gmtime_r(&t, &tm));
			fprintf(out, "  %s  RSS %12s  tracked heap %12s\n", when,
				report__human_bytes(u64(h, "rss_bytes"), a, sizeof(a)),
				report__human_bytes(u64(h, "heap_inuse_bytes"), b, sizeof(b)));
		}
	}
	if (json_object_object_get_ex(o, "profile", &prof) &&
	    json_object_object_get_ex(prof, "stacks", &stacks)) {
		n = json_object_array_length(stacks);
		fprintf(out, "\ntop stacks by bytes in use at the end:\n");
		for (size_t i = 0; i < n && i < 5; i++) {
			struct json_object *st = json_object_array_get_idx(stacks, i), *fr;

			fprintf(out, "#%zu in use %s (%" PRIu64 " allocs) via %s\n", i + 1,
				report__human_bytes(u64(st, "inuse_bytes"), a, sizeof(a)),
				u64(st, "inuse_count"), safe(st, "kind", sb));
			if (!json_object_object_get_ex(st, "frames", &fr))
				continue;
			for (size_t j = 0; j < json_object_array_length(fr) && j < 6; j++)
				fprintf(out, "        %s\n",
					safe(json_object_array_get_idx(fr, j), "func", sb));
		}
	}
	json_object_put(o);
	return 0;
}
