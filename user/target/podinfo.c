// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * podinfo.c - pod name, namespace and container name from the runtime's
 * OCI spec of a container.
 *
 * Where the runtimes keep it (for the container id of the cgroup path):
 *   containerd: /run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json
 *               (the runtime v2 shim's bundle, "k8s.io" the CRI plugin's namespace)
 *   CRI-O:      /run/containers/storage/overlay-containers/<id>/userdata/config.json
 *               /var/lib/containers/storage/overlay-containers/<id>/userdata/config.json
 * and under which annotations (containerd's pkg/cri/annotations; CRI-O
 * copies the kubelet's labels, pkg/kubelet/types/labels.go):
 *   containerd: io.kubernetes.cri.{sandbox-name,sandbox-namespace,container-name,sandbox-uid}
 *   CRI-O:      io.kubernetes.{pod.name,pod.namespace,container.name,pod.uid}
 * A pod's sandbox (pause) container has no container name and is not taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/readfile.h"
#include "target/podinfo.h"

#define SPEC_MAX	(1 << 20)	/* an OCI spec is a few KiB */

static const struct keys {
	const char *source, *pod, *ns, *container, *uid;
} key_sets[] = {
	{ "containerd", "io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace",
	  "io.kubernetes.cri.container-name", "io.kubernetes.cri.sandbox-uid" },
	{ "cri-o", "io.kubernetes.pod.name", "io.kubernetes.pod.namespace",
	  "io.kubernetes.container.name", "io.kubernetes.pod.uid" },
};

static const struct {
	const char *runtime;	/* as container.c names the scope */
	const char *fmt;	/* host root, container id */
} spec_paths[] = {
	{ "containerd", "%s/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json" },
	{ "cri-o", "%s/run/containers/storage/overlay-containers/%s/userdata/config.json" },
	{ "cri-o", "%s/var/lib/containers/storage/overlay-containers/%s/userdata/config.json" },
};

static const char *annotation(struct json_object *ann, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(ann, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A Kubernetes name: lowercase letters, digits, '-' and (dns_subdomain) '.'. */
static int copy_name(char *dst, size_t size, const char *s, bool dns_subdomain)
{
	size_t n = strlen(s);

	if (!n || n >= size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || (dns_subdomain && s[i] == '.')))
			return -EINVAL;
	memcpy(dst, s, n + 1);
	return 0;
}

static int from_keys(struct json_object *ann, const struct keys *k, const char *pod_uid,
		     struct ms_pod *ret)
{
	const char *pod = annotation(ann, k->pod), *ns = annotation(ann, k->ns);
	const char *ctr = annotation(ann, k->container), *uid = annotation(ann, k->uid);
	int err;

	if (!pod && !ns && !ctr)
		return -ENOENT;
	if (!ctr)	/* the sandbox */
		return -ENOENT;
	if (pod_uid && pod_uid[0] && uid && strcmp(uid, pod_uid))
		return -ENOENT;	/* another pod's state */
	if (!pod || !ns)
		return -EINVAL;
	if ((err = copy_name(ret->name, sizeof(ret->name), pod, true)) ||
	    (err = copy_name(ret->namespace, sizeof(ret->namespace), ns, false)) ||
	    (err = copy_name(ret->container, sizeof(ret->container), ctr, false)))
		return err;
	ret->source = k->source;
	return 0;
}

int podinfo__parse_spec(const char *json, size_t len, const char *pod_uid, struct ms_pod *ret)
{
	struct json_tokener *tok;
	struct json_object *o, *ann;
	int err = -ENOENT;

	memset(ret, 0, sizeof(*ret));
	if (len > SPEC_MAX || len > INT_MAX)
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		err = -EINVAL;
		goto out;
	}
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "annotations", &ann) ||
	    !json_object_is_type(ann, json_type_object))
		goto out;
	for (size_t i = 0; i < sizeof(key_sets) / sizeof(key_sets[0]); i++) {
		err = from_keys(ann, &key_sets[i], pod_uid, ret);
		if (err != -ENOENT)
			break;
	}
out:
	if (err)
		memset(ret, 0, sizeof(*ret));
	json_object_put(o);
	json_tokener_free(tok);
	return err;
}

int podinfo__read(const char *host_root, const struct ms_container *c, struct ms_pod *ret)
{
	char path[PATH_MAX];
	int err = -ENOENT;

	memset(ret, 0, sizeof(*ret));
	if (!c->id[0] || !c->pod_uid[0])
		return -ENOENT;	/* not a Kubernetes container */
	for (size_t i = 0; i < sizeof(spec_paths) / sizeof(spec_paths[0]); i++) {
		char *buf;
		size_t len;
		int r;

		/* the cgroupfs driver's bare id does not say which runtime */
		if (c->runtime[0] && strcmp(c->runtime, spec_paths[i].runtime))
			continue;
		if ((size_t)snprintf(path, sizeof(path), spec_paths[i].fmt, host_root, c->id) >=
		    sizeof(path))
			return -ENAMETOOLONG;
		r = ms_read_whole(path, O_NOFOLLOW | O_NONBLOCK, SPEC_MAX, &buf, &len);
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (!r) {
			r = podinfo__parse_spec(buf, len, c->pod_uid, ret);
			free(buf);
		}
		if (!r)
			return 0;
		if (r != -ENOENT)
			err = r;
	}
	return err;
}
