// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroup_view.c - a process's memory cgroup as text and JSON. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/textsafe.h"
#include "export/cgroup_view.h"
#include "export/report.h"
#include "target/container.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The figures every view shows, in order: JSON key stem and text name. */
static const struct {
	const char *key, *name;
	size_t off;
	bool bytes;
} figs[] = {
	{ "limit", "limit", offsetof(struct ms_cgroup_mem, limit), true },
	{ "high", "high", offsetof(struct ms_cgroup_mem, high), true },
	{ "usage", "usage", offsetof(struct ms_cgroup_mem, usage), true },
	{ "peak", "peak", offsetof(struct ms_cgroup_mem, peak), true },
	{ "swap", "swap", offsetof(struct ms_cgroup_mem, swap), true },
	{ "oom_events", "OOM events", offsetof(struct ms_cgroup_mem, oom), false },
	{ "oom_kills", "OOM kills", offsetof(struct ms_cgroup_mem, oom_kill), false },
};

static const struct ms_cg_value *fig(const struct ms_cgroup_mem *cg, size_t i)
{
	return (const struct ms_cg_value *)((const char *)cg + figs[i].off);
}

const char *cgroup_view__unavailable(int err)
{
	switch (err) {
	case -ESRCH:
		return "the process is gone";
	case -ENOENT:
		return "no memory cgroup hierarchy is mounted where memsight runs";
	case -EXDEV:
		return "the process's cgroup is outside memsight's cgroup namespace, and the host's "
		       "cgroup hierarchy is not mounted where memsight runs (the DaemonSet mounts it "
		       "at /host/sys/fs/cgroup)";
	case -EINVAL:
		return "the process's cgroup path did not parse";
	case 0:
		return "not read";
	default:
		return "cannot read the process's cgroup";
	}
}

/* RSS (anon + file + shmem) as a share of the limit, through the one formula. */
static bool rss_share(const struct ms_cgroup_mem *cg, const struct ms_proc_status *st,
		      uint32_t *ret_bp)
{
	return st && cgroup__share_of_limit(cg, st->vm_rss_kb * 1024, ret_bp) == 0;
}

static const char *value_text(const struct ms_cg_value *v, bool bytes, char *buf, size_t len)
{
	if (v->state == MS_CG_UNLIMITED)
		return "unlimited";
	if (v->state != MS_CG_OK)
		snprintf(buf, len, "n/a (%s)", ms_cg_value__why(v));
	else if (bytes)
		report__human_bytes(v->v, buf, len);
	else
		snprintf(buf, len, "%" PRIu64, v->v);
	return buf;
}

void cgroup_view__text(const struct ms_cgroup_mem *cg, int err, const struct ms_proc_status *st,
		       FILE *out)
{
	char path[TEXTSAFE_SIZE(1024)], b[96];
	uint32_t bp;

	if (!cg) {
		fprintf(out, "cgroup: unavailable (%s)\n", cgroup_view__unavailable(err));
		return;
	}
	/* the cgroup's name is the target's choice: escaped */
	fprintf(out, "cgroup v%d %s:", cg->version, textsafe__str(path, sizeof(path), cg->path));
	for (size_t i = 0; i < ARRAY_SIZE(figs); i++) {
		fprintf(out, "%s %s %s", i ? "," : "", figs[i].name,
			value_text(fig(cg, i), figs[i].bytes, b, sizeof(b)));
		if (i == 0 && rss_share(cg, st, &bp))
			fprintf(out, " (RSS %u.%02u%% of it)", bp / 100, bp % 100);
	}
	if (cg->psi.some_avg10_centi.state == MS_CG_OK)
		fprintf(out, ", pressure some %" PRIu64 ".%02" PRIu64 "%%",
			cg->psi.some_avg10_centi.v / 100, cg->psi.some_avg10_centi.v % 100);
	else
		fprintf(out, ", pressure n/a (%s)", ms_cg_value__why(&cg->psi.some_avg10_centi));
	fputc('\n', out);
}

static void value_json(struct json_writer *w, const char *stem, bool bytes,
		       const struct ms_cg_value *v)
{
	char key[64];

	if (v->state == MS_CG_OK) {
		snprintf(key, sizeof(key), bytes ? "%s_bytes" : "%s", stem);
		jw__kv_uint(w, key, v->v);
		return;
	}
	snprintf(key, sizeof(key), "%s_unavailable", stem);
	jw__kv_string(w, key, ms_cg_value__why(v));
}

/* The container the cgroup path names, if any (absent, not "", outside one). */
static void container_json(struct json_writer *w, const struct ms_cgroup_mem *cg)
{
	struct ms_container c;

	if (container__from_cgroup_path(cg->path, &c))
		return;
	jw__kv_string(w, "container_id", c.id);
	if (c.runtime[0])
		jw__kv_string(w, "container_runtime", c.runtime);
	if (c.pod_uid[0])
		jw__kv_string(w, "pod_uid", c.pod_uid);
	if (c.qos)
		jw__kv_string(w, "pod_qos", c.qos);
}

/* Why a Kubernetes container's pod is not known (err of podinfo__read). */
static const char *pod_unavailable(int err)
{
	return err == -ENOENT ? "no container runtime state (containerd, CRI-O) "
				"names this container under host_root" :
	       err == -EINVAL ? "the container runtime's state file is malformed "
				"or names no valid pod" :
	       "the container runtime's state file cannot be read";
}

void cgroup_view__pod_text(const struct ms_pod *pod, int err, FILE *out)
{
	char n[TEXTSAFE_SIZE(256)], ns[TEXTSAFE_SIZE(256)], c[TEXTSAFE_SIZE(256)];

	if (!pod)
		return;
	if (err) {
		fprintf(out, "pod: unavailable (%s)\n", pod_unavailable(err));
		return;
	}
	/* names from the runtime's files: validated, escaped all the same */
	fprintf(out, "pod %s/%s container %s\n",
		textsafe__str(ns, sizeof(ns), pod->namespace), textsafe__str(n, sizeof(n), pod->name),
		textsafe__str(c, sizeof(c), pod->container));
}

void cgroup_view__pod_json(struct json_writer *w, const struct ms_pod *pod, int err)
{
	if (!pod)
		return;
	if (err) {
		jw__kv_string(w, "pod_unavailable", pod_unavailable(err));
		return;
	}
	jw__name(w, "pod");
	jw__start_object(w);
	jw__kv_string(w, "name", pod->name);
	jw__kv_string(w, "namespace", pod->namespace);
	jw__kv_string(w, "container", pod->container);
	jw__kv_string(w, "source", pod->source);
	jw__end_object(w);
}

void cgroup_view__json(struct json_writer *w, const struct ms_cgroup_mem *cg, int err,
		       const struct ms_proc_status *st)
{
	uint32_t bp;

	if (!cg) {
		jw__kv_string(w, "cgroup_unavailable", cgroup_view__unavailable(err));
		return;
	}
	jw__name(w, "cgroup");
	jw__start_object(w);
	jw__kv_int(w, "version", cg->version);
	jw__kv_string(w, "path", cg->path);
	container_json(w, cg);
	for (size_t i = 0; i < ARRAY_SIZE(figs); i++)
		value_json(w, figs[i].key, figs[i].bytes, fig(cg, i));
	value_json(w, "stat_anon", true, &cg->anon);
	value_json(w, "stat_file", true, &cg->file);
	value_json(w, "kernel", true, &cg->kernel);
	value_json(w, "pressure_some_avg10_centipercent", false, &cg->psi.some_avg10_centi);
	value_json(w, "pressure_full_avg10_centipercent", false, &cg->psi.full_avg10_centi);
	value_json(w, "pressure_some_total_us", false, &cg->psi.some_total_us);
	value_json(w, "pressure_full_total_us", false, &cg->psi.full_total_us);
	if (rss_share(cg, st, &bp))
		jw__kv_uint(w, "rss_share_of_limit_basis_points", bp);
	jw__end_object(w);
}

/*
 * What the cgroup is charged for beside this process's anonymous memory:
 * the subtree's anonymous memory less this process's is other processes'
 * (about: pages charged before a move stay with the old cgroup).
 */
static bool others_anon(const struct ms_cgroup_mem *cg, const struct ms_proc_status *st,
			uint64_t *ret)
{
	uint64_t mine;

	if (!st || cg->anon.state != MS_CG_OK)
		return false;
	mine = st->rss_anon_kb * 1024;
	*ret = cg->anon.v > mine ? cg->anon.v - mine : 0;
	return true;
}

void cgroup_view__explain_text(const struct ms_cgroup_mem *cg, int err,
			       const struct ms_proc_status *st, FILE *out)
{
	char a[96], b[96], c[96];
	uint64_t others;
	uint32_t bp;

	cgroup_view__text(cg, err, st, out);
	if (!cg)
		return;
	if (rss_share(cg, st, &bp))
		fprintf(out, "  RSS %s is %u.%02u%% of the cgroup's limit %s\n",
			report__human_bytes(st->vm_rss_kb * 1024, a, sizeof(a)), bp / 100,
			bp % 100, report__human_bytes(cg->limit.v, b, sizeof(b)));
	else
		fprintf(out, "  RSS as a share of the limit: n/a (limit %s)\n",
			value_text(&cg->limit, true, a, sizeof(a)));
	fprintf(out, "  also charged to the cgroup: page cache %s, kernel memory %s",
		value_text(&cg->file, true, a, sizeof(a)), value_text(&cg->kernel, true, b, sizeof(b)));
	if (others_anon(cg, st, &others))
		fprintf(out, ", other processes' anonymous memory about %s",
			report__human_bytes(others, c, sizeof(c)));
	else
		fprintf(out, ", other processes' anonymous memory n/a (%s)",
			st ? ms_cg_value__why(&cg->anon) : "no RSS of this process");
	fputc('\n', out);
}

void cgroup_view__explain_json(struct json_writer *w, const struct ms_cgroup_mem *cg, int err,
			       const struct ms_proc_status *st)
{
	uint64_t others;

	cgroup_view__json(w, cg, err, st);
	if (!cg)
		return;
	if (others_anon(cg, st, &others))
		jw__kv_uint(w, "cgroup_other_processes_anon_bytes", others);
	else
		jw__kv_string(w, "cgroup_other_processes_anon_unavailable",
			      st ? ms_cg_value__why(&cg->anon) : "no RSS of this process");
}
