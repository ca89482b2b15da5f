/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * daemon.h - memsightd: one process, one epoll loop, owning the BPF
 * session, a control socket, rules and periodic snapshots.
 */
#ifndef MEMSIGHT_DAEMON_H
#define MEMSIGHT_DAEMON_H

#include <stdbool.h>

#include "daemon/config.h"

struct daemon_opts {
	const char *config_path;	/* NULL: built-in defaults */
	const char *socket_path;	/* overrides the config's */
	const char *metrics_listen;	/* "host:port" or "off": overrides the config's */
	bool system_scope;		/* pid -1 probes per library + in-kernel filter */
	bool legacy_links;
	uint64_t sample_bytes;		/* sampled mode for C allocations (0: every call) */
	uint64_t go_sample_bytes;	/* Go sampling mean (0: the runtime's default) */
	int unwind;			/* enum ms_unwind */
	uint32_t dwarf_rate;		/* ms_session_opts.dwarf_rate */
	bool go_mallocgc;		/* probe mallocgc instead of the runtime's sampler */
	bool kmem;			/* count slab allocations per process */
	uint32_t events_bytes;		/* ring buffer size (tests: force overflows) */
};

/* Run until SIGTERM/SIGINT. Returns the process exit status. */
int daemon__run(const struct daemon_opts *opts);

#endif
