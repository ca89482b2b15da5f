// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ctl_server.c - memsightd's control socket: a unix stream socket for root
 * and the socket's group. Clients are nonblocking, send one request line
 * at a time and get their responses buffered (bounded); a stalled client is
 * dropped and at CLIENT_MAX the rest wait in the listen backlog, so a slow
 * or hostile client costs its own connection only.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon_int.h"

#define CLIENT_MAX		64	/* connections at once */
/* A client that neither sends nor reads for this long is stalled and dropped.
 * Its clock restarts when its response is ready and whenever it takes some:
 * neither a slow request nor a large response read steadily is its stall. */
#define CLIENT_IDLE_NS		(10ull * 1000000000)
#define CLIENT_OUT_MAX		(256u << 20)	/* largest response we buffer */

/* Queue a response behind what c has not read yet; too much closes c. */
static void client_queue(struct client *c, struct reply *r)
{
	char *nb;

	if (c->out_len - c->out_off + r->len > CLIENT_OUT_MAX) {
		free(r->buf);
		c->closing = true;
		return;
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = r->buf;
		c->out_len = r->len;
		c->out_off = 0;
		return;
	}
	nb = realloc(c->out, c->out_len + r->len);
	if (!nb) {
		free(r->buf);
		c->closing = true;
		return;
	}
	memcpy(nb + c->out_len, r->buf, r->len);
	c->out = nb;
	c->out_len += r->len;
	free(r->buf);
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
	c->last_ns = now_ns();
}

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
	free(c->out);
	free(c);
	d->nclients--;
	if (d->listen_paused) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->listen_src };

		epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lfd, &ev);
		d->listen_paused = false;
	}
}

/* Write what the socket takes; keep the rest for EPOLLOUT. false: client gone. */
static bool client_flush(struct daemon *d, struct client *c)
{
	struct epoll_event ev = { .data.ptr = &c->src };

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		c->out_off += n;
		c->last_ns = now_ns();
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		if (c->closing)
			return false;
	}
	ev.events = EPOLLIN | EPOLLRDHUP | (c->out_len ? EPOLLOUT : 0);
	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev);
	return true;
}

static void client_input(struct daemon *d, struct client *c)
{
	char tmp[4096];
	ssize_t n;

	c->last_ns = now_ns();
	for (;;) {
		n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* hung up; a half-written request is simply dropped */
			if (!client_flush(d, c) || !c->out_len)
				ctl_server__close_client(d, c);
			return;
		}
		for (size_t off = 0; off < (size_t)n;) {
			const char *line;
			size_t len;
			int r;

			off += ctl_linebuf__feed(&c->lb, tmp + off, n - off);
			while ((r = ctl_linebuf__next(&c->lb, &line, &len)) == 1)
				handle_request(d, c, line, len);
			if (r < 0) {
				struct reply rep;

				d->bad_requests++;
				if (reply__open(&rep) == 0) {
					ctl__write_error(rep.f, CTL_E_BAD_REQUEST,
							 "request line too long (max 4096 bytes)");
					fclose(rep.f);
					free(c->out);
					c->out = rep.buf;
					c->out_len = rep.len;
					c->out_off = 0;
				}
				c->closing = true;
				if (!client_flush(d, c))
					ctl_server__close_client(d, c);
				return;
			}
			if (c->closing)
				break;
		}
		if (c->closing)
			break;
	}
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

void ctl_server__accept(struct daemon *d)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct client *c;
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
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->src.type = SRC_CLIENT;
		c->fd = fd;
		/* refused clients are read and answered, not cut off: closing with
		 * their request unread would reset the connection before they see why */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) || !client_allowed(d, &cred)) {
			d->refused_clients++;
			c->refused = true;
		}
		c->pid = cred.pid;
		c->uid = cred.uid;
		/* a PID it names means another process here: pid 0 is a peer we cannot see */
		c->other_pidns = procfs__same_pidns("/proc", getpid(), cred.pid) != 1;
		/* one below ours: its PIDs can be translated both ways */
		c->have_view = c->other_pidns && cred.pid > 0 &&
			       pidns__view_of("/proc", cred.pid, &c->view) == 0 &&
			       c->view.level > 0;
		c->last_ns = now_ns();
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
		if (now - c->last_ns > CLIENT_IDLE_NS) {
			d->dropped_clients++;
			ctl_server__close_client(d, c);
		}
	}
}

static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int ctl_server__open(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.socket;
	struct group *gr;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	err = mkdir_parents(path, 0755);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a stale socket of a daemon that died: nobody listens there any more */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, SOMAXCONN))
		goto fail;
	gr = d->cfg.socket_group[0] ? getgrnam(d->cfg.socket_group) : NULL;
	if (gr) {
		d->sock_gid = gr->gr_gid;
		d->have_sock_gid = true;
		if (chown(path, 0, gr->gr_gid))
			goto fail;
	}
	if (chmod(path, d->have_sock_gid ? 0660 : 0600))
		goto fail;
	d->lfd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* An event of a client's socket. c may be gone when this returns. */
void ctl_server__on_client(struct daemon *d, struct client *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		client_input(d, c);
	else if ((events & EPOLLOUT) && !client_flush(d, c))
		ctl_server__close_client(d, c);
}
