// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect.h"
#include "memsight_abi.h"

int ms_collect__counters(struct ms_session *s, struct ms_loss *ret)
{
	int ncpu = libbpf_num_possible_cpus(), fd = ms_session__counters_fd(s);
	uint64_t sum[MS_CNT__MAX] = {}, *vals;

	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < MS_CNT__MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum[i] += vals[c];
	}
	free(vals);
	*ret = (struct ms_loss){
		.alloc_events = sum[MS_CNT_ALLOC_EVENTS],
		.free_events = sum[MS_CNT_FREE_EVENTS],
		.free_unknown = sum[MS_CNT_FREE_UNKNOWN],
		.stack_errors = sum[MS_CNT_STACK_ERR],
		.stack_collisions = sum[MS_CNT_STACK_COLLISION],
		.live_full = sum[MS_CNT_LIVE_FULL],
		.agg_full = sum[MS_CNT_AGG_FULL],
		.inflight_full = sum[MS_CNT_INFLIGHT_FULL],
		.inflight_miss = sum[MS_CNT_INFLIGHT_MISS],
		.nested = sum[MS_CNT_NESTED],
		.failed_alloc = sum[MS_CNT_FAILED_ALLOC],
		.events_lost = sum[MS_CNT_EVENTS_LOST],
	};
	return 0;
}

struct agg {
	struct ms_agg_key k;
	struct ms_agg_val v;
	uint64_t oldest_ts;	/* min ts of outstanding allocations, 0 if none */
};

struct aggs {
	struct agg *v;
	size_t n, cap;
};

static int read_aggs(int fd, uint32_t tgid, uint32_t gen, struct aggs *out)
{
	struct ms_agg_key key, next;
	bool have = false;

	while (bpf_map_get_next_key(fd, have ? &key : NULL, &next) == 0) {
		key = next;
		have = true;
		if (next.tgid != tgid || next.gen != gen)
			continue;
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 256;
			struct agg *v = realloc(out->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			out->v = v;
			out->cap = cap;
		}
		out->v[out->n].k = next;
		out->v[out->n].oldest_ts = 0;
		if (bpf_map_lookup_elem(fd, &next, &out->v[out->n].v))
			continue;	/* deleted meanwhile */
		out->n++;
	}
	return 0;
}

static struct agg *find_agg(struct aggs *a, int32_t sid, uint32_t kind)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].k.stack_id == sid && a->v[i].k.kind == kind)
			return &a->v[i];
	return NULL;
}

/*
 * Oldest outstanding allocation per aggregate. Batched reads keep the
 * number of syscalls (slow on this class of VM) at size/4096, not 2*size.
 */
static void read_ages(int fd, uint32_t tgid, uint32_t gen, struct aggs *a)
{
	enum { BATCH = 4096 };
	struct ms_live_key *keys = calloc(BATCH, sizeof(*keys));
	struct ms_live_val *vals = calloc(BATCH, sizeof(*vals));
	uint8_t in[16], out[16];
	bool first = true;

	if (!keys || !vals)
		goto out;
	for (;;) {
		__u32 count = BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, vals, &count, NULL);

		if (err && errno != ENOENT)
			break;
		for (__u32 i = 0; i < count; i++) {
			struct agg *g;

			if (keys[i].tgid != tgid || keys[i].gen != gen)
				continue;
			g = find_agg(a, vals[i].stack_id, vals[i].kind);
			if (g && (!g->oldest_ts || vals[i].ts_ns < g->oldest_ts))
				g->oldest_ts = vals[i].ts_ns;
		}
		if (err)
			break;	/* ENOENT: that was the last batch */
		memcpy(in, out, sizeof(in));
		first = false;
	}
out:
	free(keys);
	free(vals);
}

static void symbolize_frame(struct symcache *cache, pid_t pid, bool alive, const struct ms_maps *maps,
			    uint64_t addr, struct ms_frame *f)
{
	const struct ms_map *m = ms_maps__find(maps, addr);
	struct ms_sym sym = {};
	char *open_path, root[64];
	uint64_t off;

	memset(f, 0, sizeof(*f));
	f->addr = addr;
	if (!m)
		return;
	f->map_start = m->start;
	f->map_end = m->end;
	f->map_pgoff = m->pgoff;
	if (!m->path || m->path[0] != '/')
		return;
	f->module = m->path;	/* borrowed: the profile copies it */
	off = addr - m->start + m->pgoff;
	/* after exit /proc/PID is gone: the host path is our best remaining guess */
	open_path = alive ? ms_map__open_path(pid, m) : NULL;
	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	if (symcache__lookup(cache, open_path ?: m->path, alive ? root : NULL, off, &sym) == 0) {
		f->func = (char *)sym.name;
		f->func_off = sym.offset;
		f->file = (char *)sym.file;
		f->line = sym.line;
	}
	free(open_path);
}

int ms_collect__profile(struct ms_session *s, struct ms_target *t, struct symcache *cache,
			const struct ms_collect_opts *opts, struct ms_profile **ret)
{
	struct ms_collect_opts o = opts ? *opts : (struct ms_collect_opts){};
	struct ms_frame frames[MS_MAX_STACK_DEPTH];
	uint64_t ips[MS_MAX_STACK_DEPTH];
	struct ms_maps fresh = {};
	const struct ms_maps *maps = &t->maps;
	struct aggs a = {};
	struct ms_profile *p;
	struct timespec now;
	uint32_t gen;
	bool alive;
	int err;

	p = ms_profile__new(t->pid);
	if (!p)
		return -ENOMEM;
	memcpy(p->comm, t->comm, sizeof(p->comm));
	p->exe = t->exe ? strdup(t->exe) : NULL;
	p->start_time_ticks = t->start_ticks;
	p->duration_ns = o.duration_ns;
	alive = ms_target__alive(t);
	p->exited = !alive;
	/* an exec gave the process a new image and generation: report that one */
	if (alive && ms_session__current_gen(s, t, &gen) && gen != t->gen) {
		p->execed = true;
		t->gen = gen;
		procfs__read_comm("/proc", t->pid, t->comm, sizeof(t->comm));
		memcpy(p->comm, t->comm, sizeof(p->comm));
	}
	if (alive && procfs__read_status("/proc", t->pid, &p->status) == 0)
		p->have_status = true;
	/* libraries dlopen'ed since attach are only in a fresh copy */
	if (alive && procfs__read_maps("/proc", t->pid, &fresh) == 0)
		maps = &fresh;
	ms_collect__counters(s, &p->loss);

	err = read_aggs(ms_session__aggs_fd(s), t->pid, t->gen, &a);
	if (err)
		goto out;
	if (!o.no_ages)
		read_ages(ms_session__live_fd(s), t->pid, t->gen, &a);
	clock_gettime(CLOCK_MONOTONIC, &now);

	for (size_t i = 0; i < a.n; i++) {
		struct agg *g = &a.v[i];
		struct ms_stack tmpl = {
			.kind = g->k.kind,
			.stack_id = g->k.stack_id,
			.alloc_bytes = g->v.alloc_bytes,
			.alloc_count = g->v.alloc_count,
			.free_bytes = g->v.free_bytes,
			.free_count = g->v.free_count,
		};
		uint32_t n = 0;

		if (g->oldest_ts) {
			uint64_t now_ns = now.tv_sec * 1000000000ull + now.tv_nsec;

			tmpl.oldest_ns = now_ns > g->oldest_ts ? now_ns - g->oldest_ts : 0;
		}
		if (g->k.stack_id >= 0 &&
		    bpf_map_lookup_elem(ms_session__stacks_fd(s), &g->k.stack_id, ips) == 0) {
			while (n < MS_MAX_STACK_DEPTH && ips[n]) {
				symbolize_frame(cache, t->pid, alive, maps, ips[n], &frames[n]);
				n++;
			}
		}
		if (!ms_profile__add_stack(p, &tmpl, frames, n)) {
			err = -ENOMEM;
			goto out;
		}
	}
	ms_profile__finalize(p);
out:
	free(a.v);
	ms_maps__free(&fresh);
	if (err) {
		ms_profile__free(p);
		return err;
	}
	*ret = p;
	return 0;
}
