/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client.h - the CLI's side of the memsightd control socket. */
#ifndef MEMSIGHT_CLIENT_H
#define MEMSIGHT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl/ctl_proto.h"

#define MS_DEFAULT_SOCKET "/run/memsight/memsight.sock"

struct ms_reply {
	char *line;		/* the JSON response line (without '\n') */
	char *payload;		/* payload bytes, if the response announced any */
	size_t payload_len;
	bool has_payload;
};

/* The socket path: $MEMSIGHT_SOCKET, else the default. */
const char *client__socket_path(const char *override);

/*
 * The deadline of a whole call in s: $MEMSIGHT_TIMEOUT (whole seconds),
 * else 60. -EINVAL (and *ret_s the default) when the variable is not one.
 */
int client__timeout_s(unsigned int *ret_s);

/*
 * Send one request and read its response, all within client__timeout_s()
 * (-ETIMEDOUT past it: *err says memsightd did not answer in time).
 * -ECONNREFUSED / -ENOENT when no daemon listens (the caller may fall back
 * to standalone mode); other -errno on I/O or protocol errors (*err says
 * what).
 */
int client__call(const char *sock, const struct ctl_request *req, struct ms_reply *ret,
		 char *err, size_t errlen);
void ms_reply__free(struct ms_reply *r);

/*
 * The "ok" member of a reply line; when not ok, its "code" (CTL_E_UNKNOWN
 * when absent or not known here; ret_code may be NULL) and "error" text.
 */
bool client__reply_ok(const struct ms_reply *r, enum ctl_errcode *ret_code, char *err,
		      size_t errlen);

/* Human renderings of JSON replies. */
int client__print_ps(const struct ms_reply *r, FILE *out);
int client__print_stats(const struct ms_reply *r, FILE *out);
int client__print_rules(const struct ms_reply *r, FILE *out);
int client__print_incident(const char *json, size_t len, FILE *out);

#endif
