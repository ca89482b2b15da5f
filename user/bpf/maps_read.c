// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * maps_read.c - what user space reads from the BPF maps: stack frames (the
 * stack table or an unwound stack), aggregates with DWARF samples resolved,
 * per-process figures, map usage; and purging a detached process's entries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/array.h"
#include "bpf/session_int.h"
#include "bpf/ustacks.h"
#include "memsight.skel.h"

/*
 * Delete the keys of this tgid (every generation, or all but keep_gen) from
 * a map keyed by a struct starting with { tgid, ... } and holding gen at
 * gen_off. Keys are gathered in one walk and deleted afterwards: deleting
 * while walking can restart the walk from the first bucket (O(n * buckets)).
 */
/* Which keys purge() deletes: those of one tgid (every generation, or all
 * but keep_gen), or of any tgid of a sorted set (every generation). */
struct purge_sel {
	uint32_t tgid;
	bool all;
	uint32_t keep_gen;
	const uint32_t *set;
	size_t nset;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool purge_wants(const struct purge_sel *sel, uint32_t tgid, uint32_t gen)
{
	if (sel->set)
		return bsearch(&tgid, sel->set, sel->nset, sizeof(tgid), cmp_u32) != NULL;
	return tgid == sel->tgid && (sel->all || gen != sel->keep_gen);
}

static void purge(int fd, size_t key_size, size_t gen_off, const struct purge_sel *sel)
{
	uint8_t key[64], next[64], *keys = NULL, *nk;
	size_t n = 0, cap = 0;
	bool have = false;

	if (key_size > sizeof(key) || gen_off + sizeof(uint32_t) > key_size)
		return;
	while (bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		uint32_t k_tgid, k_gen;

		memcpy(key, next, key_size);
		have = true;
		memcpy(&k_tgid, next, sizeof(k_tgid));
		memcpy(&k_gen, next + gen_off, sizeof(k_gen));
		if (!purge_wants(sel, k_tgid, k_gen))
			continue;
		nk = ms_array_room(keys, &cap, n, key_size, 1024);
		if (!nk)
			break;	/* what we cannot delete ages out with the session */
		keys = nk;
		memcpy(keys + n * key_size, next, key_size);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * key_size);
	free(keys);
}

/* The walks of the tables keyed by process: live, aggregates, stacks (if all). */
static void purge_walks(struct ms_session *s, const struct purge_sel *sel, bool all)
{
	purge(bpf_map__fd(s->skel->maps.live), sizeof(struct ms_live_key),
	      offsetof(struct ms_live_key, gen), sel);
	purge(bpf_map__fd(s->skel->maps.aggs), sizeof(struct ms_agg_key),
	      offsetof(struct ms_agg_key, gen), sel);
	/* a detached process's stacks go with its data (never those of a
	 * watched one); stacks have no generation: all of them */
	if (all)
		purge(bpf_map__fd(s->skel->maps.stacks), sizeof(struct ms_stack_key), 0, sel);
}

void maps__purge_target(struct ms_session *s, uint32_t tgid, bool all, uint32_t keep_gen)
{
	struct purge_sel sel = { .tgid = tgid, .all = all, .keep_gen = keep_gen };

	purge_walks(s, &sel, all);
	ustacks__forget(s->us, tgid, all, keep_gen);
	if (all) {
		bpf_map_delete_elem(bpf_map__fd(s->skel->maps.rss), &tgid);
		bpf_map_delete_elem(bpf_map__fd(s->skel->maps.procstats), &tgid);
	}
}

/*
 * A walk of a hash map visits every bucket (the live and aggregate tables
 * have millions): one walk for each of 300 processes exiting together took
 * seconds, during which their links stayed open. The daemon queues them.
 */
void maps__purge_detached(struct ms_session *s, uint32_t tgid)
{
	/* no reaper, or no room in its queue: purged now */
	if (!s->reaper || ms_array_grow(s->purge_tgids, &s->purge_cap, s->npurge, 64)) {
		maps__purge_target(s, tgid, true, 0);
		return;
	}
	ustacks__forget(s->us, tgid, true, 0);
	bpf_map_delete_elem(bpf_map__fd(s->skel->maps.rss), &tgid);
	bpf_map_delete_elem(bpf_map__fd(s->skel->maps.procstats), &tgid);
	s->purge_tgids[s->npurge++] = tgid;
}

bool maps__purge_queued(const struct ms_session *s, uint32_t tgid)
{
	for (size_t i = 0; i < s->npurge; i++)
		if (s->purge_tgids[i] == tgid)
			return true;
	return false;
}

void ms_session__purge_pending(struct ms_session *s)
{
	struct purge_sel sel;

	if (!s->npurge)
		return;
	qsort(s->purge_tgids, s->npurge, sizeof(*s->purge_tgids), cmp_u32);
	sel = (struct purge_sel){ .set = s->purge_tgids, .nset = s->npurge };
	purge_walks(s, &sel, true);
	s->npurge = 0;
}

int32_t ms_session__resolve_stack(const struct ms_session *s, int32_t stack_id)
{
	int32_t id;

	if (stack_id < MS_SAMPLE_SID_BASE)
		return stack_id;
	return ustacks__resolve(s->us, stack_id, &id, NULL) ? -1 : id;
}

uint32_t ms_session__stack_frames(const struct ms_session *s, uint32_t tgid, int32_t stack_id,
				  uint64_t *ips, uint32_t max)
{
	struct ms_stack_key k = { .tgid = tgid, .id = (uint32_t)stack_id };
	struct ms_stack_val raw;
	const uint64_t *v;
	uint32_t n = 0;

	if (stack_id < 0)
		return 0;
	if (stack_id >= MS_USTACK_ID_BASE) {
		if (ustacks__frames(s->us, stack_id, &v, &n))
			return 0;
		if (n > max)
			n = max;
		memcpy(ips, v, n * sizeof(*ips));
		return n;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.stacks), &k, &raw))
		return 0;
	for (; n < max && n < raw.nr && n < MS_MAX_STACK_DEPTH; n++)
		ips[n] = raw.ips[n];
	return n;
}

int ms_map__for_each(int fd, size_t key_size, size_t val_size,
		     int (*fn)(const void *key, const void *val, void *ctx), void *ctx)
{
	enum { BATCH = 4096 };
	char *keys = calloc(BATCH, key_size), *vals = calloc(BATCH, val_size);
	char *key = malloc(key_size), *next = malloc(key_size);
	uint8_t in[16], tok[16];
	bool first = true, have = false;
	int err = 0;

	if (!keys || !vals || !key || !next) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = BATCH;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : in, tok, keys, vals, &count, NULL);

		if (rc && errno != ENOENT) {
			if (first && (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP))
				goto walk;
			err = -errno;
			goto out;
		}
		for (__u32 i = 0; i < count && !err; i++)
			err = fn(keys + i * key_size, vals + i * val_size, ctx);
		if (rc || err)
			goto out;	/* ENOENT: that was the last batch */
		memcpy(in, tok, sizeof(in));
		first = false;
	}
walk:
	while (!err && bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		memcpy(key, next, key_size);
		have = true;
		/* deleted meanwhile: skipped */
		if (bpf_map_lookup_elem(fd, next, vals) == 0)
			err = fn(next, vals, ctx);
	}
out:
	free(keys);
	free(vals);
	free(key);
	free(next);
	return err;
}

static int aggs_push(struct ms_aggs *a, const struct ms_agg_key *k, const struct ms_agg_val *v)
{
	int err = ms_array_grow(a->v, &a->cap, a->n, 256);

	if (err)
		return err;
	a->v[a->n].k = *k;
	a->v[a->n].v = *v;
	a->n++;
	return 0;
}

struct retired_ctx {
	struct ms_aggs *a;
	int err;
};

static void push_retired(const struct ms_agg_key *k, const struct ms_agg_val *v, void *ctx)
{
	struct retired_ctx *rc = ctx;

	if (!rc->err)
		rc->err = aggs_push(rc->a, k, v);
}

static int cmp_entry(const void *a, const void *b)
{
	return ms_agg_key__cmp(&((const struct ms_agg_entry *)a)->k,
			       &((const struct ms_agg_entry *)b)->k);
}

struct raw_aggs_ctx {
	uint32_t tgid;
	struct ms_aggs *out;
};

static int push_raw_agg(const void *key, const void *val, void *ctx)
{
	const struct ms_agg_key *k = key;
	struct raw_aggs_ctx *rc = ctx;

	return rc->tgid && k->tgid != rc->tgid ? 0 : aggs_push(rc->out, k, val);
}

struct doomed_keys {
	struct ms_agg_key *v;
	size_t n, cap;
};

/*
 * A sample's aggregate: its stack id put in place of the sample id (-1
 * while its stack is still in the ring, or was never stored), or, once
 * freed or never counted, its figures retired and its key queued for
 * deletion: false, drop it from the list.
 */
static bool resolve_sample(struct ms_session *s, struct ms_agg_entry *e, uint64_t now,
			   struct doomed_keys *d)
{
	const struct ms_agg_val *v = &e->v;
	int32_t id;
	uint64_t bound;

	if (ustacks__resolve(s->us, e->k.stack_id, &id, &bound)) {
		e->k.stack_id = -1;
		return true;
	}
	if (ustacks__sample_done(v, now, bound)) {
		if (ms_array_grow(d->v, &d->cap, d->n, 256))
			goto keep;	/* retired at a later read */
		d->v[d->n++] = e->k;
		if (v->alloc_count)
			ustacks__retire(s->us, e->k.stack_id, e->k.kind, e->k.period, v);
		else
			ustacks__unbind(s->us, e->k.stack_id);
		return false;
	}
keep:
	e->k.stack_id = id;
	return true;
}

int ms_session__read_aggs(struct ms_session *s, uint32_t tgid, struct ms_aggs *ret)
{
	int fd = bpf_map__fd(s->skel->maps.aggs);
	struct doomed_keys doomed = {};
	size_t out = 0, keep = 0;
	struct retired_ctx rc = { .a = ret };
	uint64_t now = ms_mono_ns();
	int err;

	ret->n = 0;
	ms_session__poll_ustacks(s);
	err = ms_map__for_each(fd, sizeof(struct ms_agg_key), sizeof(struct ms_agg_val), push_raw_agg,
			       &(struct raw_aggs_ctx){ .tgid = tgid, .out = ret });
	if (err)
		goto out;
	/*
	 * A sample's aggregate is made before its stack goes into the ring: the
	 * ones made while we read have their stacks there now. Unwound, they are
	 * not shown under "no stack" for having come in during the read.
	 */
	ms_session__poll_ustacks(s);
	/* resolve sample ids in place; retire the freed ones */
	for (size_t i = 0; i < ret->n; i++) {
		struct ms_agg_entry *e = &ret->v[i];

		if (e->k.stack_id >= MS_SAMPLE_SID_BASE && !resolve_sample(s, e, now, &doomed))
			continue;
		ret->v[keep++] = *e;
	}
	ret->n = keep;
	for (size_t i = 0; i < doomed.n; i++)
		bpf_map_delete_elem(fd, &doomed.v[i]);
	ustacks__for_each_retired(s->us, tgid, push_retired, &rc);
	err = rc.err;
	if (err)
		goto out;
	/* fold entries that now share a key */
	qsort(ret->v, ret->n, sizeof(*ret->v), cmp_entry);
	for (size_t i = 0; i < ret->n; i++) {
		if (out && !cmp_entry(&ret->v[out - 1], &ret->v[i])) {
			ms_agg_val__add(&ret->v[out - 1].v, &ret->v[i].v);
			continue;
		}
		ret->v[out++] = ret->v[i];
	}
	ret->n = out;
out:
	free(doomed.v);
	return err;
}

void ms_aggs__free(struct ms_aggs *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

static uint32_t count_keys(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	uint32_t n = 0;
	bool have = false;

	while (bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		memcpy(key, next, key_size);
		have = true;
		n++;
	}
	return n;
}

/* What the kernel charges for map fd (its fdinfo's memlock line); 0 or -errno. */
static int map_memlock(int fd, uint64_t *ret)
{
	char path[64], line[128];
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %" SCNu64, ret) == 1) {
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

int ms_session__map_usage(struct ms_session *s, struct ms_map_usage *ret)
{
	struct memsight_bpf *k = s->skel;
	struct bpf_map *m;
	uint64_t b;

	ms_session__purge_pending(s);	/* entries of detached processes are not in use */
	ret->live = count_keys(bpf_map__fd(k->maps.live), sizeof(struct ms_live_key));
	ret->aggs = count_keys(bpf_map__fd(k->maps.aggs), sizeof(struct ms_agg_key));
	ret->stacks = count_keys(bpf_map__fd(k->maps.stacks), sizeof(struct ms_stack_key));
	ret->pids = count_keys(bpf_map__fd(k->maps.pids), sizeof(uint32_t));
	ret->live_max = bpf_map__max_entries(k->maps.live);
	ret->aggs_max = bpf_map__max_entries(k->maps.aggs);
	ret->stacks_max = bpf_map__max_entries(k->maps.stacks);
	ret->pids_max = bpf_map__max_entries(k->maps.pids);
	ret->have_memlock = map_memlock(bpf_map__fd(k->maps.live), &ret->live_memlock) == 0;
	ret->memlock = 0;
	bpf_object__for_each_map(m, k->obj) {
		if (bpf_map__fd(m) < 0)
			continue;	/* not created (not loaded on this kernel) */
		if (map_memlock(bpf_map__fd(m), &b))
			ret->have_memlock = false;
		else
			ret->memlock += b;
	}
	return 0;
}

int ms_session__live_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.live);
}

int ms_session__counters_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.counters);
}

int ms_session__events_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.events);
}

int ms_session__procstats(const struct ms_session *s, pid_t pid, struct ms_proc_stats *ret)
{
	uint32_t tgid = pid;

	return bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.procstats), &tgid, ret) ? -errno : 0;
}

int ms_session__rss(const struct ms_session *s, pid_t pid, struct ms_rss *ret)
{
	uint32_t tgid = pid;

	return bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.rss), &tgid, ret) ? -errno : 0;
}

/* The pids entry of a watched process: 0, or -ENOENT when it is not watched. */
static int pid_cfg(const struct ms_session *s, pid_t pid, struct ms_pid_cfg *ret)
{
	uint32_t tgid = pid;

	return bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.pids), &tgid, ret) ? -errno : 0;
}

int ms_session__lost(const struct ms_session *s, pid_t pid, uint64_t *ret)
{
	struct ms_pid_cfg cfg;
	int err = pid_cfg(s, pid, &cfg);

	if (!err)
		*ret = cfg.lost;
	return err;
}

int ms_session__heap_peak(const struct ms_session *s, pid_t pid, uint64_t *ret)
{
	struct ms_pid_cfg cfg;
	int err = pid_cfg(s, pid, &cfg);

	if (!err)
		*ret = cfg.heap_peak;
	return err;
}

bool ms_session__current_gen(struct ms_session *s, const struct ms_target *t, uint32_t *ret)
{
	struct ms_pid_cfg cfg;
	uint32_t tgid = t->pid;

	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.pids), &tgid, &cfg))
		return false;
	*ret = cfg.gen;
	return true;
}
