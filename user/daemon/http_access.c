// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * http_access.c - who may use the HTTP listener (/metrics, /debug/pprof/,
 * the web view and its API): TLS and credentials from the config's
 * [metrics] keys, read at start (export/http_auth.c reads and checks the
 * files) and the credentials read again on reload, so a rotated token or
 * password takes effect without a restart. The certificate, the key, the
 * files' paths and the open paths are read at start only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/readfile.h"
#include "daemon/daemon_int.h"
#include "export/http_auth.h"
#include "export/http_server.h"
#include "export/metrics.h"

static void conf_of(const struct ms_config *cfg, struct http_auth_conf *ret)
{
	ret->token_file = cfg->token_file;
	ret->users_file = cfg->users_file;
	ret->open_paths = cfg->open_paths;
}

static bool loopback(const char *host)
{
	return !strcmp(host, "127.0.0.1") || !strncmp(host, "127.", 4) || !strcmp(host, "::1") ||
	       !strcmp(host, "localhost");
}

int http_access__load(struct daemon *d, struct http_access *acc, char *err, size_t errlen)
{
	const struct ms_config *cfg = &d->cfg;
	struct http_auth_conf conf;
	struct http_auth *auth = NULL;
	char *cert = NULL, *key = NULL;
	size_t n;
	int ret;

	memset(acc, 0, sizeof(*acc));
	if (cfg->tls_cert[0]) {
		ret = ms_read_whole(cfg->tls_cert, 0, HTTP_SECRET_FILE_MAX, &cert, &n);
		if (ret) {
			snprintf(err, errlen, "tls_cert %s: %s", cfg->tls_cert,
				 ret == -EFBIG ? "too large" : strerror(-ret));
			return ret;
		}
		ret = http_secret__read(cfg->tls_key, HTTP_SECRET_FILE_MAX, &key, &n, err, errlen);
		if (ret) {
			free(cert);
			return ret;
		}
	}
	conf_of(cfg, &conf);
	ret = http_auth__load(&conf, &auth, err, errlen);
	if (ret) {
		free(cert);
		if (key)
			explicit_bzero(key, strlen(key));
		free(key);
		return ret;
	}
	acc->tls_cert = cert;
	acc->tls_key = key;
	acc->auth = auth;
	if (!auth && !loopback(cfg->metrics_host))
		pr_warn("HTTP on %s:%u with no credentials: anyone who reaches it sees every "
			"watched process (set token_file or users_file in [metrics])\n",
			cfg->metrics_host, cfg->metrics_port);
	pr_info("HTTP access: %s; credentials: %s%s%s%s\n", cert ? "TLS" : "plain HTTP",
		!auth ? "none" : "",
		http_auth__schemes(auth) & HTTP_AUTH_BEARER ? "bearer token" : "",
		http_auth__schemes(auth) == (HTTP_AUTH_BEARER | HTTP_AUTH_BASIC) ? " or " : "",
		http_auth__schemes(auth) & HTTP_AUTH_BASIC ? "basic auth" : "");
	return 0;
}

void http_access__release(struct http_access *acc)
{
	http_auth__free(acc->auth);
	free((char *)acc->tls_cert);
	if (acc->tls_key)
		explicit_bzero((char *)acc->tls_key, strlen(acc->tls_key));
	free((char *)acc->tls_key);
	memset(acc, 0, sizeof(*acc));
}

int http_access__reload(struct daemon *d, char *err, size_t errlen)
{
	struct http_auth_conf conf;
	struct http_auth *auth;
	int ret;

	if (!d->metrics || (!d->cfg.token_file[0] && !d->cfg.users_file[0]))
		return 0;
	conf_of(&d->cfg, &conf);
	ret = http_auth__load(&conf, &auth, err, errlen);
	if (ret)
		return ret;
	metrics_server__set_auth(d->metrics, auth);
	pr_info("HTTP credentials read again\n");
	return 0;
}
