// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ctl_server.c - memsightd's control socket: a unix stream socket for root
 * and the socket's group. Clients are nonblocking; each gets at most one
 * request handled per loop turn and is not read while its response is
 * unwritten, each uid but root holds a share of the slots and some are
 * root's alone, and no client outlives its deadline. At CLIENT_MAX the rest
 * wait in the listen backlog. So a slow, pipelining or hostile client costs
 * its own connection only, and root always gets in.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon_int.h"

#define CLIENT_MAX		64	/* connections at once */
#define CLIENT_ROOT_RESERVE	8	/* of those, slots only root may take */
#define CLIENT_PER_UID		16	/* slots any other uid may hold */
#define NSEC			1000000000ull
/*
 * Deadlines no trickle extends: a connection with no request begun has
 * CLIENT_IDLE_NS; a request has CLIENT_REQUEST_NS from its first byte to
 * its '\n'; its response then has CLIENT_RESPONSE_NS to be taken whole.
 * Past its deadline a client is dropped.
 */
#define CLIENT_IDLE_NS		(10 * NSEC)
#define CLIENT_REQUEST_NS	(10 * NSEC)
#define CLIENT_RESPONSE_NS	(30 * NSEC)
#define CLIENT_OUT_MAX		(256u << 20)	/* largest response we buffer */
#define ACCEPT_PER_TURN		16	/* connections taken per loop turn */
/*
 * What clients can make the daemon hold: a client is read only while it has
 * no response pending, and one read takes at most what its line buffer has
 * room for, so each holds its struct client (with its CTL_LINE_MAX line
 * buffer, about 4.2 KiB) and at most one response (at most CLIENT_OUT_MAX).
 * Worst case for CLIENT_MAX clients: 64 x (4.2 KiB + 256 MiB) ~ 16 GiB, reached only
 * by 64 clients each asking for a 256 MiB report and not reading it; a ps
 * or stats response is a few KiB.
 */

/* Queue c's response: at most one is ever pending (c is not read meanwhile). */
static void client_queue(struct client *c, struct reply *r)
{
	if (r->len > CLIENT_OUT_MAX) {
		free(r->buf);
		c->closing = true;
		return;
	}
	free(c->out);
	c->out = r->buf;
	c->out_len = r->len;
	c->out_off = 0;
	c->deadline_ns = now_ns() + CLIENT_RESPONSE_NS;
}

static void handle_request(struct daemon *d, struct client *c, const char *line, size_t len)
{
	struct reply r;

	d->requests++;
	if (reply__open(&r)) {
		c->closing = true;
		return;
	}
	if (c->refused) {
		reply__error(&r, CTL_E_DENIED,
			     "permission denied: memsightd serves root and the socket's group only");
		c->closing = true;
	} else {
		ctl_requests__run(d, c, line, len, &r);
	}
	if (fclose(r.f)) {
		free(r.buf);
		c->closing = true;
		return;
	}
	client_queue(c, &r);
}

/* The line buffer overflowed: say so, then close c once that is written. */
static void client_too_long(struct daemon *d, struct client *c)
{
	struct reply r;

	d->bad_requests++;
	c->closing = true;
	if (reply__open(&r))
		return;
	ctl__write_error(r.f, CTL_E_BAD_REQUEST, "request line too long (max 4096 bytes)");
	if (fclose(r.f)) {
		free(r.buf);
		return;
	}
	client_queue(c, &r);
}

/*
 * Close c now; free it after the loop turn (ctl_server__reap), as a later
 * event of the same epoll batch may still name it.
 */
void ctl_server__close_client(struct daemon *d, struct client *c)
{
	struct client **pp;

	for (pp = &d->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->next = d->closed;
	d->closed = c;
	d->nclients--;
	if (d->listen_paused) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->listen_src };

		epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lfd, &ev);
		d->listen_paused = false;
	}
}

void ctl_server__reap(struct daemon *d)
{
	while (d->closed) {
		struct client *c = d->closed;

		d->closed = c->next;
		free(c);
	}
}

/*
 * What c waits for next: room for its pending response (and nothing it
 * sends is read meanwhile: backpressure), or, when its buffer may hold a
 * whole next request (turn), its next loop turn (a writable socket is ready
 * at once), or else more of its request.
 */
static void client_arm(struct daemon *d, struct client *c, bool turn)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = &c->src };

	if (c->out_len || turn)
		ev.events = EPOLLOUT;
	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what the socket takes; keep the rest for EPOLLOUT. false: client gone. */
static bool client_flush(struct daemon *d, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		c->out_off += n;
	}
	if (c->closing && c->out_off == c->out_len)
		return false;
	if (c->out && c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		/* taken: the clock of a next request already begun starts now */
		c->deadline_ns = now_ns() + (ctl_linebuf__pending(&c->lb) ? CLIENT_REQUEST_NS :
									     CLIENT_IDLE_NS);
	}
	client_arm(d, c, ctl_linebuf__pending(&c->lb) > 0);
	return true;
}

/*
 * One read of what fits c's line buffer (the rest stays in the socket).
 * 1: bytes came, 0: none yet, <0: hung up or failed.
 */
static int client_read(struct client *c)
{
	char tmp[CTL_LINE_MAX];
	size_t was = ctl_linebuf__pending(&c->lb), took;
	ssize_t n;

	n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT | MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	took = ctl_linebuf__feed(&c->lb, tmp, n);
	if (took && recv(c->fd, tmp, took, MSG_DONTWAIT) != (ssize_t)took)
		return -EIO;
	if (!was && took)
		c->deadline_ns = now_ns() + CLIENT_REQUEST_NS;
	return 1;
}

/* At most one request of c per loop turn: a buffered line, else what one read brings. */
static void client_step(struct daemon *d, struct client *c)
{
	const char *line;
	size_t len;
	int r;

	r = ctl_linebuf__next(&c->lb, &line, &len);
	if (r == 0) {
		r = client_read(c);
		if (r < 0) {
			/* hung up; a half-written request is simply dropped */
			ctl_server__close_client(d, c);
			return;
		}
		if (r > 0)
			r = ctl_linebuf__next(&c->lb, &line, &len);
		if (r == 0) {
			/* no whole line buffered: wait for more of it */
			client_arm(d, c, false);
			return;
		}
	}
	if (r == 1)
		handle_request(d, c, line, len);
	else if (r < 0)
		client_too_long(d, c);
	if (!client_flush(d, c))
		ctl_server__close_client(d, c);
}

/* root, or a member of the socket's group; everyone else is told no and dropped. */
static bool client_allowed(struct daemon *d, const struct ucred *cred)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	bool ok = false;
	FILE *f;

	if (cred->uid == 0)
		return true;
	if (!d->have_sock_gid)
		return false;
	if (cred->gid == d->sock_gid)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", cred->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!ok && getline(&line, &cap, f) > 0) {
		char *p, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (p = line + 7;; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if (g == d->sock_gid) {
				ok = true;
				break;
			}
		}
	}
	free(line);
	fclose(f);
	return ok;
}

/* Whether uid may take another slot: root any, the others within their share. */
static bool slot_for(const struct daemon *d, uid_t uid)
{
	unsigned int mine = 0, others = 0;

	if (uid == 0)
		return true;
	for (const struct client *c = d->clients; c; c = c->next) {
		if (c->uid == 0)
			continue;
		others++;
		mine += c->uid == uid;
	}
	return mine < CLIENT_PER_UID && others < CLIENT_MAX - CLIENT_ROOT_RESERVE;
}

/* A connection over its uid's share: told why (if its socket takes it) and closed. */
static void turn_away(struct daemon *d, int fd, uid_t uid)
{
	char msg[160];
	struct reply r;

	d->busy_clients++;
	if (reply__open(&r) == 0) {
		snprintf(msg, sizeof(msg), "busy: uid %u holds its share of connections "
			 "(%d per user; %d are kept for root)", (unsigned int)uid, CLIENT_PER_UID,
			 CLIENT_ROOT_RESERVE);
		ctl__write_error(r.f, CTL_E_BUSY, msg);
		/* a socket that does not take it learns from the close instead */
		if (fclose(r.f) == 0)
			send(fd, r.buf, r.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		free(r.buf);
	}
	close(fd);
}

void ctl_server__accept(struct daemon *d)
{
	for (int i = 0; i < ACCEPT_PER_TURN; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		socklen_t cl = sizeof(cred);
		struct client *c;
		bool known;
		int fd;

		if (d->nclients >= CLIENT_MAX) {
			/* backpressure: the rest wait in the listen backlog until a slot frees */
			epoll_ctl(d->ep, EPOLL_CTL_DEL, d->lfd, NULL);
			d->listen_paused = true;
			return;
		}

		fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		known = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0;
		if (!slot_for(d, cred.uid)) {
			turn_away(d, fd, cred.uid);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->src.type = SRC_CLIENT;
		c->fd = fd;
		/* refused clients are read and answered, not cut off: closing with
		 * their request unread would reset the connection before they see why */
		if (!known || !client_allowed(d, &cred)) {
			d->refused_clients++;
			c->refused = true;
		}
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->deadline_ns = now_ns() + CLIENT_IDLE_NS;
		/* a PID it names means another process here: pid 0 is a peer we cannot see */
		c->other_pidns = procfs__same_pidns("/proc", getpid(), cred.pid) != 1;
		/* one below ours: its PIDs can be translated both ways */
		c->have_view = c->other_pidns && cred.pid > 0 &&
			       pidns__view_of("/proc", cred.pid, &c->view) == 0 &&
			       c->view.level > 0;
		ctl_linebuf__init(&c->lb);
		ev.data.ptr = &c->src;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
		d->nclients++;
	}
}

void ctl_server__drop_idle(struct daemon *d, uint64_t now)
{
	struct client *c = d->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (now > c->deadline_ns) {
			d->dropped_clients++;
			ctl_server__close_client(d, c);
		}
	}
}

/* An event of a client's socket. c may be closed when this returns. */
void ctl_server__on_client(struct daemon *d, struct client *c, uint32_t events)
{
	(void)events;	/* hangups and errors show in the next send or recv */
	if (c->fd < 0)
		return;		/* closed earlier in this loop turn */
	if (c->out_len) {
		if (!client_flush(d, c))
			ctl_server__close_client(d, c);
		return;
	}
	client_step(d, c);
}
