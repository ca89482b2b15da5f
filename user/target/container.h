/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * container.h - which container a cgroup path belongs to, from the path
 * alone: the runtime's scope or directory names the container id, the
 * kubelet's pod slice or directory the pod UID (systemd and cgroupfs
 * drivers, containerd, CRI-O, Docker). Nothing is read; 0 or -errno.
 */
#ifndef MEMSIGHT_CONTAINER_H
#define MEMSIGHT_CONTAINER_H

#define MS_CONTAINER_ID_LEN	64	/* hex digits of a full id */
#define MS_POD_UID_LEN		36	/* 8-4-4-4-12 */

struct ms_container {
	const char *runtime;	/* "containerd", "cri-o", "docker", or "" (a bare id) */
	char id[MS_CONTAINER_ID_LEN + 1];
	char pod_uid[MS_POD_UID_LEN + 1];	/* "" outside Kubernetes */
	const char *qos;	/* "guaranteed", "burstable", "besteffort", or NULL */
};

/* -ENOENT when the path names no container. */
int container__from_cgroup_path(const char *path, struct ms_container *ret);

#endif
