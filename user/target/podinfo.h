/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * podinfo.h - a Kubernetes container's pod name, namespace and container
 * name, read-only from the container runtime's state on the host: the OCI
 * spec (config.json) containerd's shim and CRI-O keep for each container
 * carries them as annotations. No API server. The host's files are read
 * under a root prefix ("" on the host, the mount point of the host's / in a
 * DaemonSet). Functions return 0 or -errno and never log.
 */
#ifndef MEMSIGHT_PODINFO_H
#define MEMSIGHT_PODINFO_H

#include "target/container.h"

#define MS_POD_NAME_MAX		253	/* a DNS subdomain */
#define MS_K8S_LABEL_MAX	63	/* a DNS label: namespace, container name */

struct ms_pod {
	char name[MS_POD_NAME_MAX + 1];
	char namespace[MS_K8S_LABEL_MAX + 1];
	char container[MS_K8S_LABEL_MAX + 1];
	const char *source;	/* "containerd" or "cri-o": whose state file said so */
};

/*
 * The pod of container c (its id and, when the cgroup path named one, its
 * pod UID; a state file naming another pod UID is not believed). 0 with all
 * three names set; -ENOENT when no runtime state names this container (not
 * on Kubernetes, or the host's /run is not mounted under host_root); -EINVAL
 * when the state file is malformed or a name is not a Kubernetes name.
 */
int podinfo__read(const char *host_root, const struct ms_container *c, struct ms_pod *ret);

/* The annotations of an OCI spec text; the same results. For tests and fuzzing. */
int podinfo__parse_spec(const char *json, size_t len, const char *pod_uid, struct ms_pod *ret);

#endif
