/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup_view.h - a process's memory cgroup (target/cgroup.h) as text and
 * JSON: top's header, ps, explain. A figure the cgroup does not give is
 * written as unavailable with its reason, never as 0.
 */
#ifndef MEMSIGHT_CGROUP_VIEW_H
#define MEMSIGHT_CGROUP_VIEW_H

#include <stdio.h>

#include "common/json.h"
#include "target/cgroup.h"
#include "target/podinfo.h"
#include "target/procfs.h"

/* Why there is no cgroup view (err of cgroup__read), for a "cgroup_unavailable". */
const char *cgroup_view__unavailable(int err);

/*
 * One or two lines: "cgroup v1 /x: limit 64.0 MiB (RSS 12.5% of it), usage ...".
 * st may be NULL (no RSS share then). cg NULL: the reason from err.
 */
void cgroup_view__text(const struct ms_cgroup_mem *cg, int err, const struct ms_proc_status *st,
		       FILE *out);

/* "cgroup": {...} or "cgroup_unavailable": "why", as a member of the open object. */
void cgroup_view__json(struct json_writer *w, const struct ms_cgroup_mem *cg, int err,
		       const struct ms_proc_status *st);

/*
 * explain: RSS as a share of the limit, and what else in the cgroup counts
 * against it (page cache, kernel memory, other processes' anonymous memory).
 */
void cgroup_view__explain_text(const struct ms_cgroup_mem *cg, int err,
			       const struct ms_proc_status *st, FILE *out);
void cgroup_view__explain_json(struct json_writer *w, const struct ms_cgroup_mem *cg, int err,
			       const struct ms_proc_status *st);

/*
 * "pod": {"name", "namespace", "container", "source"} of a Kubernetes
 * container, or "pod_unavailable": why (err of podinfo__read); nothing
 * when pod is NULL (not a Kubernetes container).
 */
void cgroup_view__pod_json(struct json_writer *w, const struct ms_pod *pod, int err);

/* The same as a text line "pod NAMESPACE/NAME container C" (or why not). */
void cgroup_view__pod_text(const struct ms_pod *pod, int err, FILE *out);

#endif
