/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * config.h - memsightd.conf, an INI-like file:
 *
 *	# comment, ; comment (whole lines only), blank lines
 *	[daemon]
 *	key = value
 *	[rules]
 *	include comm=leaky*
 *
 * Sections [daemon] [metrics] [incidents] [rules], each at most once.
 * Keys not given keep the defaults of config__defaults(). Values are the
 * rest of the line, trimmed; there are no inline comments or quotes, so a
 * path may contain '#' and spaces. A trailing '\r' (CRLF files) is
 * ignored. Unknown sections or keys, duplicate keys, bad values, lines
 * without '=' -> error "FILE:LINE: message" ("line N: message" when the
 * buffer has no file name).
 */
#ifndef MEMSIGHT_CONFIG_H
#define MEMSIGHT_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/rules.h"

#define MS_CONFIG_FILE_MAX	(1024 * 1024)
#define MS_CONFIG_DEFAULT_PATH	"/etc/memsight/memsightd.conf"
#define MS_CONFIG_SOCKET_MAX	108	/* sizeof(sockaddr_un.sun_path), with the NUL */
#define MS_CONFIG_GROUP_MAX	33	/* 32 bytes of group name + NUL */
#define MS_CONFIG_HOST_MAX	256
#define MS_CONFIG_OPEN_MAX	512	/* open_paths, with the NUL */

struct ms_config {
	/* [daemon] */
	char socket[MS_CONFIG_SOCKET_MAX];	/* absolute path */
	char socket_group[MS_CONFIG_GROUP_MAX];
	char state_dir[PATH_MAX];		/* absolute path */
	char host_root[PATH_MAX];		/* absolute: where the host's / is seen */
	uint32_t max_processes;			/* 1..65536 */
	uint32_t snapshot_interval_s;		/* 1..3600 */
	uint32_t growth_window_s;		/* 10..86400 */
	uint32_t live_entries;			/* 1024..67108864 */
	uint32_t stack_entries;			/* 1024..4194304 */
	uint32_t stacks_per_process;		/* 0 (no quota)..4194304 */
	/* [metrics] */
	bool metrics_enabled;			/* false for listen = off */
	char metrics_host[MS_CONFIG_HOST_MAX];	/* IPv4, IPv6 (no brackets) or host name */
	uint16_t metrics_port;			/* 1..65535 */
	uint32_t top_stacks;			/* 0..100 */
	/* who may use the listener ("": not set; see deploy/memsightd.conf) */
	char tls_cert[PATH_MAX];		/* absolute: PEM certificate (chain) */
	char tls_key[PATH_MAX];			/* absolute: its PEM key, mode 0600/0640 */
	char token_file[PATH_MAX];		/* absolute: the bearer token */
	char users_file[PATH_MAX];		/* absolute: user:password lines */
	char open_paths[MS_CONFIG_OPEN_MAX];	/* "/metrics /other": no credentials */
	/* [incidents] */
	char incidents_dir[PATH_MAX];		/* absolute path */
	uint32_t incidents_max_count;		/* 1..100000 */
	uint64_t incidents_max_bytes;		/* 4096..1 TiB */
	/* [rules] */
	struct ms_rules rules;
};

/* The built-in values, which deploy/memsightd.conf spells out; no rules. */
void config__defaults(struct ms_config *cfg);

/*
 * Parse buf[0..len) (need not be NUL-terminated) over the defaults into
 * *ret. name prefixes error messages ("name:12: ..."); NULL gives
 * "line 12: ...". On failure *ret holds nothing to free. Returns 0,
 * -EINVAL (syntax or value; err says where), -EFBIG (over
 * MS_CONFIG_FILE_MAX), -ENOMEM.
 */
int config__parse(const char *buf, size_t len, const char *name, struct ms_config *ret,
		  char *err, size_t errlen);

/* Read path (a regular file) and config__parse() it; I/O errors as -errno. */
int config__load(const char *path, struct ms_config *ret, char *err, size_t errlen);

/* Frees the rules (NULL-safe), leaving an empty list; the rest of *cfg stays valid. */
void config__free(struct ms_config *cfg);

#endif /* MEMSIGHT_CONFIG_H */
