// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * container.c - container id and pod UID from a cgroup path.
 *
 * The layouts (kubelet pkg/kubelet/cm, runc's and the runtimes' scope names):
 *   systemd driver:  /kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/
 *                    <cri-containerd|crio|docker>-<id>.scope
 *                    (guaranteed pods: no qos level; '-' in the uid written '_')
 *   cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>
 *   Docker alone:    /docker/<id>, /system.slice/docker-<id>.scope
 * The last component that holds a 64-hex id is the container: a process
 * in a sub-cgroup of its container (systemd inside one) keeps it.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "target/container.h"

static bool is_hex_id(const char *s, size_t n)
{
	if (n != MS_CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static const struct {
	const char *prefix, *runtime;
} scopes[] = {
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "docker-", "docker" },
};

/* One path component: a container scope or a bare id. */
static bool component_id(const char *c, size_t n, struct ms_container *ret)
{
	static const char scope[] = ".scope";
	size_t sl = sizeof(scope) - 1;

	if (is_hex_id(c, n)) {
		memcpy(ret->id, c, n);
		ret->id[n] = '\0';
		ret->runtime = "";
		return true;
	}
	if (n <= sl || memcmp(c + n - sl, scope, sl))
		return false;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t pl = strlen(scopes[i].prefix);

		if (n - sl > pl && !memcmp(c, scopes[i].prefix, pl) &&
		    is_hex_id(c + pl, n - sl - pl)) {
			memcpy(ret->id, c + pl, MS_CONTAINER_ID_LEN);
			ret->id[MS_CONTAINER_ID_LEN] = '\0';
			ret->runtime = scopes[i].runtime;
			return true;
		}
	}
	return false;
}

/* "pod<uid>" (cgroupfs) or "kubepods[-<qos>]-pod<uid_>.slice" (systemd). */
static bool component_pod(const char *c, size_t n, struct ms_container *ret)
{
	const char *p = NULL;
	size_t len;

	if (n > 3 && !memcmp(c, "pod", 3)) {
		p = c + 3;
		len = n - 3;
	} else if (n > 6 && !memcmp(c + n - 6, ".slice", 6)) {
		const char *q = c;

		while ((q = memchr(q, '-', c + n - q)) && memcmp(q, "-pod", 4))
			q++;
		if (!q)
			return false;
		p = q + 4;
		len = c + n - 6 - p;
	} else {
		return false;
	}
	if (len != MS_POD_UID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = p[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? (ch != '-' && ch != '_') :
		    !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
		ret->pod_uid[i] = dash ? '-' : ch;
	}
	ret->pod_uid[len] = '\0';
	return true;
}

static const char *qos_of(const char *c, size_t n)
{
	static const char *const q[] = { "burstable", "besteffort" };

	for (size_t i = 0; i < 2; i++) {
		size_t l = strlen(q[i]);

		if ((n == l && !memcmp(c, q[i], l)) ||
		    (n == 9 + l + 6 && !memcmp(c, "kubepods-", 9) && !memcmp(c + 9, q[i], l) &&
		     !memcmp(c + 9 + l, ".slice", 6)))
			return q[i];
	}
	return NULL;
}

int container__from_cgroup_path(const char *path, struct ms_container *ret)
{
	const char *c = path;
	bool found = false, kube = false;

	memset(ret, 0, sizeof(*ret));
	ret->runtime = "";
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n) {
			if (!strncmp(c, "kubepods", 8))
				kube = true;
			if (kube && !ret->qos)
				ret->qos = qos_of(c, n);
			if (kube)
				component_pod(c, n, ret);
			if (component_id(c, n, ret))
				found = true;
		}
		c += n;
		if (*c)
			c++;
	}
	if (!found) {
		memset(ret, 0, sizeof(*ret));
		ret->runtime = "";
		return -ENOENT;
	}
	if (kube && ret->pod_uid[0] && !ret->qos)
		ret->qos = "guaranteed";
	return 0;
}
