// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * http_server.c - memsightd's HTTP server: libmicrohttpd on its own polling
 * thread, a table of GET routes, and a deadline per connection.
 *
 * The deadline. MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout: each byte
 * a client sends resets it, so a client trickling one header byte a second
 * keeps its connection forever, and a few of them filled the connection limit
 * and stopped every scrape (slowloris). Here each connection gets
 * HTTP_DEADLINE_S from its connect for a request to arrive and its response
 * to go out. A connection carries one request: serve() answers on the access
 * handler's first call, and libmicrohttpd 0.9.75 then closes the connection
 * after the response (Connection: close), so the deadline never has to
 * restart. MHD cannot call us when a connection has lived too long, so:
 *   - MHD_OPTION_NOTIFY_CONNECTION (STARTED) puts the connection's socket and
 *     the time in a slot of a table (as big as the connection limit, so there
 *     is always one), and CLOSED frees the slot;
 *   - a reaper thread sleeps until the earliest deadline and shutdown()s the
 *     sockets past it; MHD's polling thread then sees the end of the stream
 *     and closes the connection as it does any other.
 * The fd cannot be reused under the reaper: libmicrohttpd 0.9.75 notifies
 * CLOSED before it close()s the socket (MHD_cleanup_connections, and the
 * failure path of new_connection_process_ in daemon.c), and both the reaper's
 * shutdown() and the CLOSED notification run under srv->lock, so a socket the
 * reaper sees in the table is still open. shutdown() rather than close(): the
 * fd stays MHD's to close.
 *
 * The limits. Every local user connects from loopback, and can bind any
 * 127.x.y.z as its source, so a per-address cap cannot keep one local user
 * from holding connections another needs; what bounds an attacker is the
 * deadline (a held connection is gone within HTTP_DEADLINE_S). The total
 * (HTTP_MAX_CONNECTIONS) is well above one address's share
 * (HTTP_MAX_PER_IP), so connections from one address never fill the server,
 * and a Prometheus on another host has its address's own share.
 * A connection costs HTTP_CONN_MEMORY of MHD's pool plus a slot here.
 *
 * Answers that take time (a profile built by the daemon's thread, a delta
 * profile over S seconds) are routes with start(): the connection is
 * suspended (MHD neither polls nor times it out) until http_call__reply()
 * resumes it, so the polling thread serves everyone else meanwhile. The
 * reaper still cuts it at its deadline; a route may push that deadline out
 * (http_call__extend), but only HTTP_MAX_EXTENDED connections at once, so
 * requests for long profiles hold at most that many of the connections.
 *
 * Access. With TLS (GnuTLS inside libmicrohttpd) the handshake is on the
 * polling thread and within the deadline like the rest. Credentials are
 * checked on the first call of the access handler, before any route runs,
 * so a request without them costs a header parse and a 401; they sit
 * behind auth_lock because a reload swaps them while requests come in.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/caps.h"
#include "export/http_auth.h"
#include "export/http_server.h"

/* request line and headers; responses are sent from their own buffer */
#define HTTP_CONN_MEMORY	((size_t)16384)

struct conn_slot {
	int fd;			/* -1: free */
	bool cut;		/* shut down, waiting for MHD to close it */
	bool extended;		/* its deadline was pushed out (counted in nextended) */
	struct timespec end;	/* deadline: connect + HTTP_DEADLINE_S, or extended */
};

struct http_call {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct conn_slot *slot;
	const struct http_route *route;
	pthread_mutex_t lock;	/* the fields below */
	bool suspended;		/* reply() must resume the connection */
	bool done;
	unsigned int status;
	const char *content_type;
	char *body;
	size_t len;
};

struct http_server {
	struct MHD_Daemon *mhd;
	const struct http_site *sites;
	size_t nsites;
	pthread_mutex_t lock;	/* conns, nextended, stopping */
	unsigned int nextended;
	pthread_cond_t wake;	/* a new deadline, or stop */
	pthread_t reaper;
	bool stopping;
	pthread_mutex_t auth_lock;	/* auth */
	struct http_auth *auth;		/* NULL: every path open */
	char *tls_cert, *tls_key;	/* PEM, for MHD's lifetime */
	bool starting;			/* MHD's first error goes to start_err (lock) */
	char start_err[256];
	struct conn_slot conns[HTTP_MAX_CONNECTIONS];
};

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/*
 * The HTTP thread parses what anyone on the network sends: it runs with no
 * capabilities at all, dropped at its first connection, before reading.
 */
static __thread bool http_caps_dropped;

static void conn_started(struct http_server *srv, struct MHD_Connection *c, void **slotp)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
						MHD_CONNECTION_INFO_CONNECTION_FD);
	struct conn_slot *slot = NULL;

	if (!ci)
		return;
	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < HTTP_MAX_CONNECTIONS && !slot; i++)
		if (srv->conns[i].fd < 0)
			slot = &srv->conns[i];
	if (slot) {
		slot->fd = ci->connect_fd;
		slot->cut = false;
		slot->extended = false;
		now(&slot->end);
		slot->end.tv_sec += HTTP_DEADLINE_S;
		*slotp = slot;
		pthread_cond_signal(&srv->wake);
	} else {
		/* cannot happen (the table is the connection limit's size); a
		 * connection without a deadline would be the bug this file fixes */
		shutdown(ci->connect_fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&srv->lock);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;
	struct conn_slot *slot = *socket_context;

	if (!http_caps_dropped && ms_drop_thread_caps() == 0)
		http_caps_dropped = true;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		conn_started(srv, c, socket_context);
		return;
	}
	if (!slot)
		return;
	/* before MHD closes the fd: from now on the reaper cannot see it */
	pthread_mutex_lock(&srv->lock);
	slot->fd = -1;
	if (slot->extended)
		srv->nextended--;
	slot->extended = false;
	pthread_mutex_unlock(&srv->lock);
	*socket_context = NULL;
}

/* Shut down the connections past their deadline; the earliest deadline of
 * the others in *next (false: none). Called with srv->lock held. */
static void reap(struct http_server *srv, struct timespec *next, bool *have_next)
{
	struct timespec t;

	now(&t);
	*have_next = false;
	for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
		struct conn_slot *s = &srv->conns[i];
		struct timespec end = s->end;

		if (s->fd < 0 || s->cut)
			continue;
		if (t.tv_sec > end.tv_sec || (t.tv_sec == end.tv_sec && t.tv_nsec >= end.tv_nsec)) {
			shutdown(s->fd, SHUT_RDWR);
			s->cut = true;
			continue;
		}
		if (!*have_next || end.tv_sec < next->tv_sec ||
		    (end.tv_sec == next->tv_sec && end.tv_nsec < next->tv_nsec))
			*next = end;
		*have_next = true;
	}
}

static void *reaper_main(void *arg)
{
	struct http_server *srv = arg;
	struct timespec next;
	bool have_next;

	ms_drop_thread_caps();
	pthread_mutex_lock(&srv->lock);
	while (!srv->stopping) {
		reap(srv, &next, &have_next);
		if (have_next)
			pthread_cond_timedwait(&srv->wake, &srv->lock, &next);
		else
			pthread_cond_wait(&srv->wake, &srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

int http_call__route_arg(const struct http_call *c)
{
	return c->route->arg;
}

const char *http_call__arg(struct http_call *c, const char *name)
{
	return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

/*
 * A query argument as a decimal number in [min, max]: 0 and *ret, 1 when it
 * is absent (*ret untouched), or -EINVAL (signs, spaces, hex, overflow...).
 */
int http_call__arg_uint(struct http_call *c, const char *name, unsigned long min,
			unsigned long max, unsigned long *ret)
{
	const char *s = http_call__arg(c, name);
	unsigned long v = 0;

	if (!s)
		return 1;
	if (!*s || strlen(s) > 10)
		return -EINVAL;
	for (const char *q = s; *q; q++) {
		if (*q < '0' || *q > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*q - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int http_call__extend(struct http_call *c, unsigned int seconds)
{
	struct http_server *srv = c->srv;
	struct conn_slot *slot = c->slot;
	struct timespec end;
	int ret = 0;

	if (!slot)
		return -ENOTCONN;
	if (seconds > HTTP_EXTEND_MAX_S)
		return -EINVAL;
	now(&end);
	end.tv_sec += seconds;
	pthread_mutex_lock(&srv->lock);
	if (!slot->extended && srv->nextended >= HTTP_MAX_EXTENDED) {
		ret = -EBUSY;
	} else {
		if (!slot->extended)
			srv->nextended++;
		slot->extended = true;
		if (end.tv_sec > slot->end.tv_sec)
			slot->end = end;
		pthread_cond_signal(&srv->wake);
	}
	pthread_mutex_unlock(&srv->lock);
	return ret;
}

void http_call__reply(struct http_call *c, unsigned int status, const char *content_type,
		      char *body, size_t len)
{
	bool resume;

	pthread_mutex_lock(&c->lock);
	c->status = status;
	c->content_type = content_type;
	c->body = body;
	c->len = len;
	c->done = true;
	resume = c->suspended;
	pthread_mutex_unlock(&c->lock);
	/* after this the call is the polling thread's to free */
	if (resume)
		MHD_resume_connection(c->conn);
}

static void call_free(struct http_call *c)
{
	pthread_mutex_destroy(&c->lock);
	free(c->body);
	free(c);
}

static struct MHD_Response *static_text(const char *msg)
{
	return MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
}

static struct MHD_Response *body_response(char *body, size_t len, const char *content_type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body,
								    MHD_RESPMEM_MUST_FREE);

	if (!resp)
		free(body);
	else if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	/* a body is what its Content-Type says, never sniffed into a page */
	if (resp)
		MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	return resp;
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int code,
			     struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The answer of a call, once it has one (resumed, or answered within start). */
static enum MHD_Result call_answer(struct http_call *c, void **con_cls)
{
	struct MHD_Response *resp = body_response(c->body, c->len, c->content_type);
	enum MHD_Result ret;

	if (resp && c->route->csp)
		MHD_add_response_header(resp, "Content-Security-Policy", c->route->csp);
	ret = queue(c->conn, c->status, resp);

	c->body = NULL;
	*con_cls = NULL;
	call_free(c);
	return ret;
}

static enum MHD_Result call_start(struct http_server *srv, const struct http_site *site,
				  const struct http_route *r, struct MHD_Connection *conn,
				  void **con_cls)
{
	const union MHD_ConnectionInfo *ci;
	struct http_call *c = calloc(1, sizeof(*c));
	bool done;
	int rc;

	if (!c)
		return MHD_NO;
	c->srv = srv;
	c->conn = conn;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c->slot = ci ? ci->socket_context : NULL;
	c->route = r;
	pthread_mutex_init(&c->lock, NULL);
	rc = r->start(site->cls, c);
	if (rc) {
		call_free(c);
		return MHD_NO;
	}
	pthread_mutex_lock(&c->lock);
	done = c->done;
	if (!done) {
		/* under the call's lock: a reply waits for it, then resumes */
		MHD_suspend_connection(conn);
		c->suspended = true;
		*con_cls = c;
	}
	pthread_mutex_unlock(&c->lock);
	return done ? call_answer(c, con_cls) : MHD_YES;
}

/*
 * 401: the schemes the server takes, never a word of why (a missing header
 * and a wrong password look the same).
 */
static enum MHD_Result unauthorized(struct MHD_Connection *conn, unsigned int schemes)
{
	struct MHD_Response *resp = static_text("memsightd: authentication required\n");

	if (!resp)
		return MHD_NO;
	if (schemes & HTTP_AUTH_BEARER)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"memsightd\"");
	if (schemes & HTTP_AUTH_BASIC)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"memsightd\", charset=\"UTF-8\"");
	return queue(conn, MHD_HTTP_UNAUTHORIZED, resp);
}

/* The request may go on to its route: 0, or the schemes a 401 offers. */
static unsigned int refused(struct http_server *srv, struct MHD_Connection *conn,
			    const char *url)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned int schemes = 0;

	pthread_mutex_lock(&srv->auth_lock);
	if (!http_auth__is_open(srv->auth, url) && http_auth__check(srv->auth, h))
		schemes = http_auth__schemes(srv->auth);
	pthread_mutex_unlock(&srv->auth_lock);
	return schemes;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	const struct http_site *site = NULL;
	const struct http_route *r = NULL;
	struct MHD_Response *resp;
	unsigned int code = MHD_HTTP_OK;
	char *body;
	unsigned int schemes;
	size_t len;

	if (*con_cls)
		return call_answer(*con_cls, con_cls);	/* resumed: answered */
	schemes = refused(srv, conn, url);
	if (schemes)
		return unauthorized(conn, schemes);
	for (size_t s = 0; s < srv->nsites && !r; s++) {
		for (size_t i = 0; i < srv->sites[s].nroutes && !r; i++) {
			if (!strcmp(url, srv->sites[s].routes[i].path)) {
				site = &srv->sites[s];
				r = &site->routes[i];
			}
		}
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		resp = static_text("only GET\n");
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (r && r->start) {
		return call_start(srv, site, r, conn, con_cls);
	} else if (r) {
		if (r->get(site->cls, &body, &len))
			return MHD_NO;
		resp = body_response(body, len, r->content_type);
		if (resp && r->csp)
			MHD_add_response_header(resp, "Content-Security-Policy", r->csp);
	} else {
		resp = static_text("memsightd: see /metrics and /debug/pprof/\n");
		code = MHD_HTTP_NOT_FOUND;
	}
	return queue(conn, code, resp);
}

static void srv_free(struct http_server *srv)
{
	pthread_cond_destroy(&srv->wake);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->auth_lock);
	http_auth__free(srv->auth);
	free(srv->tls_cert);
	if (srv->tls_key)
		explicit_bzero(srv->tls_key, strlen(srv->tls_key));
	free(srv->tls_key);
	free(srv);
}

static struct http_server *srv_new(const struct http_site *sites, size_t nsites)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	pthread_condattr_t ca;

	if (!srv)
		return NULL;
	pthread_mutex_init(&srv->auth_lock, NULL);
	srv->sites = sites;
	srv->nsites = nsites;
	for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++)
		srv->conns[i].fd = -1;
	pthread_mutex_init(&srv->lock, NULL);
	/* deadlines are on the monotonic clock */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->wake, &ca);
	pthread_condattr_destroy(&ca);
	return srv;
}

/* MHD's own words on why it could not start (a bind, a certificate); later ones are dropped. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *srv = cls;
	size_t n;

	pthread_mutex_lock(&srv->lock);
	if (srv->starting && !srv->start_err[0]) {
		vsnprintf(srv->start_err, sizeof(srv->start_err), fmt, ap);
		n = strlen(srv->start_err);
		while (n && (srv->start_err[n - 1] == '\n' || srv->start_err[n - 1] == '.'))
			srv->start_err[--n] = '\0';
	}
	pthread_mutex_unlock(&srv->lock);
}

/* MHD with the access's TLS, if any. */
static struct MHD_Daemon *mhd_start(struct http_server *srv, unsigned int flags, uint16_t port,
				    const struct sockaddr *addr)
{
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (srv->tls_cert)
		flags |= MHD_USE_TLS;
	flags |= MHD_USE_ERROR_LOG;
	/* MHD's idle timeout is the deadline too; only the reaper's does not reset */
	/* the logger first, or MHD logs to stderr until it is set */
	return MHD_start_daemon(flags, port, NULL, NULL, serve, srv,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
				MHD_OPTION_SOCK_ADDR, addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_PER_IP,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_DEADLINE_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
				MHD_OPTION_ARRAY, srv->tls_cert ? tls : tls + 2,
				MHD_OPTION_END);
}

/* acc's TLS and credentials into srv: 0, or -errno with err. */
static int take_access(struct http_server *srv, const struct http_access *acc, char *err,
		       size_t errlen)
{
	if (!acc)
		return 0;
	srv->auth = acc->auth;
	if (!acc->tls_cert != !acc->tls_key) {
		snprintf(err, errlen, "TLS needs both a certificate and its key");
		return -EINVAL;
	}
	if (!acc->tls_cert)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "this libmicrohttpd was built without TLS");
		return -EOPNOTSUPP;
	}
	srv->tls_cert = strdup(acc->tls_cert);
	srv->tls_key = strdup(acc->tls_key);
	return srv->tls_cert && srv->tls_key ? 0 : -ENOMEM;
}

int http_server__start(const char *host, uint16_t port, const struct http_site *sites,
		       size_t nsites, const struct http_access *acc, struct http_server **ret,
		       char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct http_server *srv;
	char portstr[8];
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     MHD_ALLOW_SUSPEND_RESUME;
	int rc;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		http_auth__free(acc ? acc->auth : NULL);
		return -EINVAL;
	}
	srv = srv_new(sites, nsites);
	if (!srv) {
		freeaddrinfo(ai);
		http_auth__free(acc ? acc->auth : NULL);
		return -ENOMEM;
	}
	rc = take_access(srv, acc, err, errlen);
	if (rc) {
		freeaddrinfo(ai);
		srv_free(srv);
		return rc;
	}
	rc = -pthread_create(&srv->reaper, NULL, reaper_main, srv);
	if (rc) {
		snprintf(err, errlen, "cannot start the HTTP deadline thread: %s", strerror(-rc));
		freeaddrinfo(ai);
		srv_free(srv);
		return rc;
	}
	pthread_setname_np(srv->reaper, "http-deadline");
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->starting = true;
	srv->mhd = mhd_start(srv, flags, port, ai->ai_addr);
	freeaddrinfo(ai);
	pthread_mutex_lock(&srv->lock);
	srv->starting = false;
	pthread_mutex_unlock(&srv->lock);
	if (!srv->mhd) {
		/* MHD says which: a bind (address in use) or TLS (a key not the certificate's) */
		snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port,
			 srv->start_err[0] ? srv->start_err : "libmicrohttpd did not start");
		rc = srv->tls_cert && !strstr(srv->start_err, "bind") ? -EINVAL : -EADDRINUSE;
		http_server__stop(srv);
		return rc;
	}
	*ret = srv;
	return 0;
}

void http_server__set_auth(struct http_server *srv, struct http_auth *auth)
{
	struct http_auth *old;

	pthread_mutex_lock(&srv->auth_lock);
	old = srv->auth;
	srv->auth = auth;
	pthread_mutex_unlock(&srv->auth_lock);
	http_auth__free(old);
}

void http_server__stop(struct http_server *srv)
{
	if (!srv)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
	pthread_join(srv->reaper, NULL);
	/* MHD's CLOSED notifications still take srv->lock: freed after */
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	srv_free(srv);
}
