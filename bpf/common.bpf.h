/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers shared by memsight's BPF programs. */
#ifndef MEMSIGHT_COMMON_BPF_H
#define MEMSIGHT_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "memsight_abi.h"

/*
 * Registers are read through bpf_tracing.h's PT_REGS_* wherever one exists.
 * Two sets have none and are x86-64's by name: Go's register-ABI arguments
 * and the callee-saved registers the DWARF unwinder restarts from (MS_UREG_*).
 * Another arch needs both mapped here before anything else can work.
 */
#if !defined(__TARGET_ARCH_x86)
#error "memsight's BPF programs support x86-64 only: build with -D__TARGET_ARCH_x86"
#endif
/* Go's internal register ABI (1.17+) on amd64: integer arguments in RAX, RBX, RCX, ... */
#define MS_GO_ARG1(ctx)	((ctx)->ax)
#define MS_GO_ARG2(ctx)	((ctx)->bx)
#define MS_GO_ARG3(ctx)	((ctx)->cx)

#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef E2BIG
#define E2BIG 7
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif

/*
 * Maps shared by every .bpf.c are defined here as identical weak
 * definitions; bpftool's static linker merges them into one map.
 */
/* Per-CPU event and loss counters (enum ms_counter). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MS_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps") __weak;

/* Watched processes: tgid -> settings. Absent: not ours, do nothing. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_DEF_PIDS);
	__type(key, __u32);
	__type(value, struct ms_pid_cfg);
} pids SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_DEF_LIVE_ENTRIES);
	/* kernel memory grows with use, not with the limit */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ms_live_key);
	__type(value, struct ms_live_val);
} live SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_DEF_AGG_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ms_agg_key);
	__type(value, struct ms_agg_val);
} aggs SEC(".maps") __weak;

/* pid_tgid -> the allocator call this thread is in. LRU: dead threads age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MS_INFLIGHT_ENTRIES);
	__type(key, __u64);
	__type(value, struct ms_inflight);
} inflight SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_DEF_PIDS);
	__type(key, __u32);
	__type(value, struct ms_proc_stats);
} procstats SEC(".maps") __weak;

/* RSS per watched process (mm.bpf.c keeps it; an exec starts it again) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_DEF_PIDS);
	__type(key, __u32);
	__type(value, struct ms_rss);
} rss SEC(".maps") __weak;

/* Process lifecycle and OOM events to user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps") __weak;

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	/* a BPF program can be preempted by another on the same CPU */
	if (c)
		__sync_fetch_and_add(c, 1);
}

/* A loss that makes the figures of cfg's process lower bounds: counted for it too. */
static __always_inline void count_lost(struct ms_pid_cfg *cfg, __u32 idx)
{
	count(idx);
	__sync_fetch_and_add(&cfg->lost, 1);
}

static __always_inline struct ms_pid_cfg *watched(__u32 tgid)
{
	return bpf_map_lookup_elem(&pids, &tgid);
}

/* -ln(u) * sample_bytes, filled by user space (MS_SAMPLE_TABLE entries). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MS_SAMPLE_TABLE);
	__type(key, __u32);
	__type(value, __u64);
} sample_gaps SEC(".maps") __weak;

/* Per CPU: bytes left until the next sample (< 0: take one); [0] Go, [1] C. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __s64);
} sample_left SEC(".maps") __weak;

static __always_inline __s64 next_gap(void)
{
	__u32 i = bpf_get_prandom_u32() % MS_SAMPLE_TABLE;
	__u64 *g = bpf_map_lookup_elem(&sample_gaps, &i);

	return g ? (__s64)*g : MS_DEF_GO_SAMPLE_BYTES;
}


/*
 * Poisson sampling by bytes: take this allocation? Decided before any stack
 * walk, so the cost of an unsampled call is this lookup and a subtraction.
 */
static __always_inline bool sample_take(__u32 which, __u64 size)
{
	__s64 *left = bpf_map_lookup_elem(&sample_left, &which);

	if (!left)
		return true;
	*left -= size;
	if (*left >= 0)
		return false;
	*left = next_gap();
	return true;
}

/* The aggregate for k, created (zeroed) if new; NULL only when the table is full. */
static __always_inline struct ms_agg_val *agg_get(struct ms_agg_key *k)
{
	static const struct ms_agg_val zero;
	struct ms_agg_val *v = bpf_map_lookup_elem(&aggs, k);

	if (v)
		return v;
	/* EEXIST means another CPU created it first, which is fine; E2BIG: full */
	bpf_map_update_elem(&aggs, k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&aggs, k);
}

#include "stacks.bpf.h"

#endif /* MEMSIGHT_COMMON_BPF_H */
