/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * daemon.h - memsightd: one process, one epoll loop, owning the BPF
 * session, a control socket, rules and periodic snapshots.
 */
#ifndef MEMSIGHT_DAEMON_H
#define MEMSIGHT_DAEMON_H

#include <stdbool.h>

#include "config.h"

struct daemon_opts {
	const char *config_path;	/* NULL: built-in defaults */
	const char *socket_path;	/* overrides the config's */
	const char *metrics_listen;	/* "host:port" or "off": overrides the config's */
	bool system_scope;		/* pid -1 probes per library + in-kernel filter */
	bool legacy_links;
};

/* Run until SIGTERM/SIGINT. Returns the process exit status. */
int daemon__run(const struct daemon_opts *opts);

#endif
