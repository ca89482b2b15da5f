/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * alloc.bpf.h - the C allocator probes' logic, shared by alloc.bpf.c (entry
 * and return programs, every kernel with uprobes) and session/alloc.bpf.c
 * (one uprobe-session program, kernel >= 6.12, built as an object of its own
 * so a kernel without sessions still loads everything else).
 *
 * Entry probes remember the request per thread; return probes (only where
 * the returned pointer is needed) record the allocation in "live" (ptr ->
 * size, stack, time) and add it to the per (process, stack, kind) aggregate.
 * free/munmap are entry-only: they look the pointer up and move its bytes
 * to the aggregate's free side. Nothing is sent to user space per event:
 * user space reads the aggregates when it wants a report.
 */
#ifndef MEMSIGHT_ALLOC_BPF_H
#define MEMSIGHT_ALLOC_BPF_H

#include "common.bpf.h"
#include "memsight_usable.h"

#define MAP_ANONYMOUS 0x20

/* Sampled mode for C allocations: 0 records every call (set before load). */
const volatile __u64 c_sample_bytes = 0;

/* What an entry tells a uprobe session (the plain entry program ignores it). */
#define ENTER_NEED_RETURN	0
#define ENTER_SKIP_RETURN	1

/* Is the outer call st still running? (see MS_INF_NORET) */
static __always_inline bool outer_running(const struct ms_inflight *st)
{
	__u64 v;

	if (!(st->flags & MS_INF_NORET))
		return true;	/* its return probe clears it when it returns */
	return !bpf_probe_read_user(&v, sizeof(v), (void *)st->sp) && v == st->ret_addr;
}

/*
 * session: the return probe of this call runs only if this returns
 * ENTER_NEED_RETURN (uprobe session links); otherwise it always runs.
 */
static __always_inline int enter(struct pt_regs *ctx, __u32 kind, __u32 heap, __u64 size,
				 __u64 old_addr, __u64 out_ptr, __u32 flags, bool session)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP(ctx);
	__u64 now = bpf_ktime_get_ns();
	struct ms_inflight *st, n = {};
	struct ms_pid_cfg *cfg = watched(id >> 32);

	if (!cfg)
		return ENTER_SKIP_RETURN;
	st = bpf_map_lookup_elem(&inflight, &id);
	if (st && sp < st->sp && now - st->ts_ns < MS_INFLIGHT_STALE_NS && outer_running(st)) {
		/* called from inside another tracked call: the outer one accounts */
		count(MS_CNT_NESTED);
		return ENTER_SKIP_RETURN;
	}
	/*
	 * Sampled mode: an unsampled call still leaves its state (flagged), so
	 * calls nested in it stay nested; a realloc of a pointer we hold must
	 * still free it. No stack walk, no table update for either.
	 */
	if (c_sample_bytes && !(flags & MS_INF_IGNORE) && !sample_take(1, size)) {
		struct ms_live_key lk = { .tgid = id >> 32, .gen = cfg->gen, .addr = old_addr };

		flags |= old_addr && bpf_map_lookup_elem(&live, &lk) ? MS_INF_FREE_ONLY :
			 MS_INF_IGNORE;
	}
	n.size = size;
	n.old_addr = old_addr;
	n.out_ptr = out_ptr;
	n.sp = sp;
	n.ts_ns = now;
	n.kind = kind;
	n.heap = heap;
	/* nothing to do at its return: in a session, do not even trap there */
	if (session && (flags & MS_INF_IGNORE) &&
	    !bpf_probe_read_user(&n.ret_addr, sizeof(n.ret_addr), (void *)sp))
		flags |= MS_INF_NORET;
	n.flags = flags;
	if (bpf_map_update_elem(&inflight, &id, &n, BPF_ANY)) {
		count_lost(cfg, MS_CNT_INFLIGHT_FULL);
		return ENTER_NEED_RETURN;
	}
	return flags & MS_INF_NORET ? ENTER_SKIP_RETURN : ENTER_NEED_RETURN;
}

/*
 * The entry of an allocating function (cookie: its kind and its allocator's
 * enum ms_heap) as enter() wants it.
 */
static __always_inline int alloc_entry(struct pt_regs *ctx, __u64 cookie, bool session)
{
	__u64 a1 = PT_REGS_PARM1(ctx), a2 = PT_REGS_PARM2(ctx), a3 = PT_REGS_PARM3(ctx);
	__u32 kind = cookie & MS_COOKIE_FN_MASK, heap = cookie >> MS_COOKIE_HEAP_SHIFT;

	switch (kind) {
	case MS_KIND_MALLOC:
	case MS_KIND_VALLOC:
	case MS_KIND_PVALLOC:
		return enter(ctx, kind, heap, a1, 0, 0, 0, session);
	case MS_KIND_CALLOC:
		return enter(ctx, kind, heap, a1 * a2, 0, 0, 0, session);
	case MS_KIND_REALLOC:
		return enter(ctx, kind, heap, a2, a1, 0, 0, session);
	case MS_KIND_REALLOCARRAY:
		return enter(ctx, kind, heap, a2 * a3, a1, 0, 0, session);
	case MS_KIND_POSIX_MEMALIGN:
		return enter(ctx, kind, heap, a3, 0, a1, 0, session);
	case MS_KIND_ALIGNED_ALLOC:
	case MS_KIND_MEMALIGN:
		return enter(ctx, kind, heap, a2, 0, 0, 0, session);
	case MS_KIND_MMAP:
		/* file mappings are not heap, but are still entered for nesting */
		return enter(ctx, kind, heap, a2, 0, 0,
			     (PT_REGS_PARM4(ctx) & MAP_ANONYMOUS) ? 0 : MS_INF_IGNORE, session);
	}
	return ENTER_NEED_RETURN;
}

/*
 * The allocator's usable size of the block at addr, size bytes asked for; 0
 * when it is not read (allocator unknown, header unreadable, or an aligned
 * jemalloc request, whose class depends on the alignment).
 */
static __always_inline __u64 usable_size(__u64 addr, __u64 size, __u32 kind, __u32 heap)
{
	__u64 hdr;

	if (kind == MS_KIND_MMAP)
		return ms_mmap_usable(size);
	switch (heap) {
	case MS_HEAP_GLIBC:
		if (bpf_probe_read_user(&hdr, sizeof(hdr), (void *)(addr - MS_GLIBC_SIZE_SZ)))
			return 0;
		return ms_glibc_usable(hdr, size);
	case MS_HEAP_JEMALLOC:
		if (kind == MS_KIND_MALLOC || kind == MS_KIND_CALLOC || kind == MS_KIND_REALLOC ||
		    kind == MS_KIND_REALLOCARRAY)
			return ms_jemalloc_usable(size);
		return 0;
	}
	return 0;
}

/* Move a live allocation to the free side of its aggregate. */
/*
 * The process's tracked bytes in use changed by delta (its live entries'
 * sizes): its peak follows. Exact unless sampled (user space says so).
 */
static __always_inline void heap_inuse_add(struct ms_pid_cfg *cfg, __s64 delta)
{
	__s64 now = __sync_fetch_and_add(&cfg->heap_inuse, delta) + delta;

	/* a racing CPU may have raised it meanwhile: keep the larger */
	for (int i = 0; i < 8 && now > 0; i++) {
		__u64 old = cfg->heap_peak;

		if ((__u64)now <= old ||
		    __sync_val_compare_and_swap(&cfg->heap_peak, old, (__u64)now) == old)
			break;
	}
}

/* account_free()'s tag for a free of whatever sample addr holds */
#define MS_ANY_TAG	(-1)

/*
 * tag: the sampler library's free records (memsight_sampler.h) cancel only
 * the sample they were made for; MS_ANY_TAG everywhere else.
 */
static __always_inline void account_free(__u32 tgid, struct ms_pid_cfg *cfg, __u64 addr, int tag)
{
	struct ms_live_key lk = { .tgid = tgid, .gen = cfg->gen, .addr = addr };
	struct ms_live_val *lv;
	struct ms_agg_key ak = { .tgid = tgid, .gen = cfg->gen };
	struct ms_agg_val *av;
	__u64 size, usable;

	lv = bpf_map_lookup_elem(&live, &lk);
	if (!lv) {
		count(MS_CNT_FREE_UNKNOWN);
		return;
	}
	if (tag != MS_ANY_TAG && lv->tag != tag) {
		count(MS_CNT_FREE_STALE);
		return;
	}
	size = lv->size;
	usable = lv->usable;
	ak.stack_id = lv->stack_id;
	ak.kind = lv->kind;
	ak.period = lv->period;
	/* only the CPU whose delete succeeds accounts: no double free counts */
	if (bpf_map_delete_elem(&live, &lk))
		return;
	heap_inuse_add(cfg, -(__s64)size);
	av = bpf_map_lookup_elem(&aggs, &ak);
	if (av) {
		__sync_fetch_and_add(&av->free_bytes, size);
		__sync_fetch_and_add(&av->free_count, 1);
		if (usable)
			__sync_fetch_and_add(&av->free_usable, usable);
		else
			__sync_fetch_and_add(&av->free_nousable, 1);
	}
	count(MS_CNT_FREE_EVENTS);
}

/*
 * DWARF unwinding: the registers and stack of this allocation go to user
 * space, which unwinds them with the modules' CFI (see memsight_abi.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ustack_seq SEC(".maps");

/* sized by user space: tiny unless some process is unwound with DWARF */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MS_DEF_USTACK_RING);
} ustacks SEC(".maps");

/* a ring record: the header, then room for this much of the stack */
#define USTACK_REC(room)	(sizeof(struct ms_ustack_hdr) + (room))

/*
 * How much of the stack above sp holds frames: up to its mapping's end (the
 * main thread's: its start, argv and environment lie above), at most
 * MS_USTACK_MAX; 0 when the mapping is not known (stack_end).
 */
static __always_inline __u64 ustack_len(struct task_struct *task, __u64 sp)
{
	__u64 end = stack_end(task, sp), top;

	if (end <= sp)
		return 0;
	top = BPF_CORE_READ(task, mm, start_stack);
	if (top > sp && top + 64 < end)
		end = top + 64;
	return end - sp < MS_USTACK_MAX ? end - sp : MS_USTACK_MAX;
}

/*
 * Reserve the record the copy is read into, the one copy of the stack (a
 * per-CPU scratch and bpf_ringbuf_output copied it twice). The ring takes
 * constant sizes only: the room is len rounded up to a power of two from
 * 1 KiB (the ring holds at most twice the bytes copied, and a shallow
 * main-thread stack does not take a 16 KiB record). *ret_room is it.
 */
static __always_inline struct ms_ustack_hdr *ustack_reserve(__u64 len, __u64 *ret_room)
{
#define USTACK_ROOM(room)							\
	if (len && len <= (room)) {						\
		*ret_room = (room);						\
		return bpf_ringbuf_reserve(&ustacks, USTACK_REC(room), 0);	\
	}
	USTACK_ROOM(1024)
	USTACK_ROOM(2048)
	USTACK_ROOM(4096)
	USTACK_ROOM(8192)
#undef USTACK_ROOM
	*ret_room = MS_USTACK_MAX;
	return bpf_ringbuf_reserve(&ustacks, USTACK_REC(MS_USTACK_MAX), 0);
}

/* read len bytes from sp into a record's room: 0, or the read's error */
static __always_inline long ustack_read(struct ms_ustack_hdr *h, __u64 room, __u64 len, __u64 sp)
{
	if (len > room)
		return -E2BIG;
	return bpf_probe_read_user(h + 1, len, (void *)sp);
}

/* per CPU: the process (tgid << 32 | gen) whose record last woke the drain thread */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ustack_woken SEC(".maps");

/*
 * Wake the drain thread for a process's first record (its unwinder is built
 * from /proc/PID/maps, which a short-lived process must still have: a
 * process other than the one this CPU last woke it for), and when the ring's
 * data crosses a sixteenth of it, or any multiple (this record took it
 * there); otherwise it finds the records on its own (ustack_drain.c polls
 * with a timeout), and once woken it empties the ring. A wake-up is an
 * irq_work the sampled thread raises (a self-IPI): the kernel's default
 * wakes the consumer whenever it had caught up, i.e. on every sparse sample,
 * which cost the sampled thread more than its copy (Debian's redis-server
 * under the sampler, bpf_stats: 21.5 us a sample with it, 5.6-6.0 us
 * without); waking on every record past a mark cost mallocbench's dense
 * samples as much again (a wake-up storm while the drain thread copies);
 * marks a quarter of the ring apart let the ring fill in the 6.1 guest
 * (emulated: its drain thread runs late). Two CPUs crossing a mark at once
 * may both miss it: the next mark and the timeout catch that.
 */
static __always_inline __u64 ustack_wakeup(__u64 room, __u32 tgid, __u32 gen)
{
	__u64 mark = bpf_ringbuf_query(&ustacks, BPF_RB_RING_SIZE) / 16;	/* a power of 2 */
	__u64 avail = bpf_ringbuf_query(&ustacks, BPF_RB_AVAIL_DATA);	/* this record too */
	__u64 who = ((__u64)tgid << 32) | gen, *last;
	__u32 z = 0;

	last = bpf_map_lookup_elem(&ustack_woken, &z);
	if (last && *last != who) {
		*last = who;
		return BPF_RB_FORCE_WAKEUP;
	}
	if (mark && avail >= mark && (avail & (mark - 1)) < USTACK_REC(room) + BPF_RINGBUF_HDR_SZ)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * Copy the stack and registers of an allocation for user-space unwinding and
 * return its sample id, with its (new, empty) aggregate created under that
 * id; or -1 when it cannot be done, counted, and the caller falls back to a
 * frame-pointer stack: the bytes are still counted exactly, under a shorter
 * stack.
 */
static __always_inline __s32 ustack_sample(struct pt_regs *ctx, struct ms_agg_key *ak)
{
	static const struct ms_agg_val zero;
	__u64 sp = PT_REGS_SP(ctx), len, room;
	struct ms_ustack_hdr *h;
	__u32 z = 0, d;
	__u64 *seq = bpf_map_lookup_elem(&ustack_seq, &z);

	if (!seq)
		return -1;
	len = ustack_len(bpf_get_current_task_btf(), sp);
	h = ustack_reserve(len, &room);
	if (!h) {
		count(MS_CNT_USTACK_RING_FULL);
		return -1;
	}
	/* a failed read copies nothing */
	if (len && !ustack_read(h, room, len, sp))
		goto copied;
	/*
	 * find_vma only try-locks the mm: another thread mapping memory
	 * (creating a thread, a malloc arena) makes it fail. And a page of the
	 * mapping above sp may never have been touched (a read here cannot
	 * fault it in). A mapping ends at a page boundary, so one of the
	 * page-aligned ends within reach is its end or the first hole: the
	 * largest that reads (and fits the room) is the copy.
	 */
	d = (__u32)(-sp) & 4095;	/* sp up to its page's end */
	len = MS_USTACK_MAX;
	if (!ustack_read(h, room, MS_USTACK_MAX, sp))
		goto copied;
	/* written out: the verifier sees each length bounded by the room */
	len = d + 3 * 4096;
	if (!ustack_read(h, room, d + 3 * 4096, sp))
		goto copied;
	len = d + 2 * 4096;
	if (!ustack_read(h, room, d + 2 * 4096, sp))
		goto copied;
	len = d + 4096;
	if (!ustack_read(h, room, d + 4096, sp))
		goto copied;
	len = d;
	if (!ustack_read(h, room, d, sp))
		goto copied;
	goto drop;
copied:
	ak->stack_id = MS_SAMPLE_SID_BASE +
		       (__s32)(__sync_fetch_and_add(seq, 1) & (MS_SAMPLE_SID_BASE - 1));
	/* an id that wrapped around onto a sample still in use: never merge the two */
	if (bpf_map_update_elem(&aggs, ak, &zero, BPF_NOEXIST))
		goto drop;
	h->tgid = ak->tgid;
	h->tid = (__u32)bpf_get_current_pid_tgid();
	h->gen = ak->gen;
	h->sid = ak->stack_id;
	h->kind = ak->kind;
	h->size = len;
	h->regs[MS_UREG_IP] = PT_REGS_IP(ctx);
	h->regs[MS_UREG_SP] = sp;
	h->regs[MS_UREG_BP] = PT_REGS_FP(ctx);
	h->regs[MS_UREG_BX] = ctx->bx;
	h->regs[MS_UREG_R12] = ctx->r12;
	h->regs[MS_UREG_R13] = ctx->r13;
	h->regs[MS_UREG_R14] = ctx->r14;
	h->regs[MS_UREG_R15] = ctx->r15;
	bpf_ringbuf_submit(h, ustack_wakeup(room, ak->tgid, ak->gen));
	count(MS_CNT_USTACK_SAMPLES);
	return ak->stack_id;
drop:
	bpf_ringbuf_discard(h, 0);
	return -1;
}

/*
 * May this process copy one more stack for DWARF unwinding this second?
 * The window is reset by whichever CPU sees it expire; two CPUs resetting it
 * at once only let a few more through.
 */
static __always_inline bool dwarf_allowed(struct ms_pid_cfg *cfg)
{
	__u64 now;

	if (!cfg->dwarf_per_s)
		return true;
	now = bpf_ktime_get_ns();
	if (now - cfg->dwarf_window_ns >= 1000000000ull) {
		cfg->dwarf_window_ns = now;
		cfg->dwarf_in_window = 0;
	}
	if (cfg->dwarf_in_window >= cfg->dwarf_per_s) {
		count(MS_CNT_USTACK_RATE);
		return false;
	}
	__sync_fetch_and_add(&cfg->dwarf_in_window, 1);
	return true;
}

/* tag: the sampler library's (memsight_sampler.h), 0 elsewhere */
static __always_inline void account_alloc(struct pt_regs *ctx, __u32 tgid, __u64 addr, __u64 size,
					  __u32 kind, __u32 heap, __u64 period, __u16 tag,
					  struct ms_pid_cfg *cfg)
{
	struct ms_live_key lk = { .tgid = tgid, .gen = cfg->gen, .addr = addr };
	struct ms_live_val lv = { .period = period, .tag = tag };
	struct ms_agg_key ak = { .tgid = tgid, .kind = kind, .gen = cfg->gen, .period = period };
	struct ms_agg_val *av;
	long sid = -1;

	/* the address is live again: its previous free went unseen */
	if (bpf_map_lookup_elem(&live, &lk))
		account_free(tgid, cfg, addr, MS_ANY_TAG);

	if ((cfg->flags & MS_PIDF_DWARF) && dwarf_allowed(cfg)) {
		sid = ustack_sample(ctx, &ak);
		if (sid < 0) {
			count(MS_CNT_USTACK_LOST);
			sid = period ? inner_stack_id(ctx, tgid, cfg) : user_stack_id(ctx, tgid, cfg);
		}
	} else if (!(cfg->flags & MS_PIDF_NO_STACKS)) {
		/* the sampler library's samples (period set) come from inside its wrappers */
		sid = period ? inner_stack_id(ctx, tgid, cfg) : user_stack_id(ctx, tgid, cfg);
	}
	ak.stack_id = sid;
	av = agg_get(&ak);
	if (!av) {
		count_lost(cfg, MS_CNT_AGG_FULL);
		return;
	}
	lv.size = size;
	lv.ts_ns = bpf_ktime_get_ns();
	lv.stack_id = sid;
	lv.kind = kind;
	lv.usable = usable_size(addr, size, kind, heap);
	/* an allocation we cannot see freed is not counted at all: in-use stays exact */
	if (bpf_map_update_elem(&live, &lk, &lv, BPF_ANY)) {
		count_lost(cfg, MS_CNT_LIVE_FULL);
		return;
	}
	heap_inuse_add(cfg, (__s64)size);
	__sync_fetch_and_add(&av->alloc_bytes, size);
	__sync_fetch_and_add(&av->alloc_count, 1);
	if (lv.usable)
		__sync_fetch_and_add(&av->alloc_usable, lv.usable);
	else
		__sync_fetch_and_add(&av->alloc_nousable, 1);
	count(MS_CNT_ALLOC_EVENTS);
}

static __always_inline int leave(struct pt_regs *ctx, __u64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ms_inflight *st, s;
	struct ms_pid_cfg *cfg;
	__u64 addr = ret;

	st = bpf_map_lookup_elem(&inflight, &id);
	if (!st) {
		count(MS_CNT_INFLIGHT_MISS);
		return 0;
	}
	/* a nested call returning: its sp is at or below the outer entry sp */
	if (PT_REGS_SP(ctx) <= st->sp)
		return 0;
	s = *st;
	bpf_map_delete_elem(&inflight, &id);
	if (s.flags & MS_INF_IGNORE)
		return 0;
	cfg = watched(tgid);
	if (!cfg)
		return 0;
	if (s.flags & MS_INF_FREE_ONLY) {
		/* unsampled realloc: the old block (if sampled) is gone, unless it failed */
		if (s.old_addr && (addr || s.size == 0))
			account_free(tgid, cfg, s.old_addr, MS_ANY_TAG);
		return 0;
	}

	switch (s.kind) {
	case MS_KIND_POSIX_MEMALIGN:
		addr = 0;
		if ((int)ret == 0 && bpf_probe_read_user(&addr, sizeof(addr), (void *)s.out_ptr))
			addr = 0;
		break;
	case MS_KIND_MMAP:
		if ((long)ret == -1)	/* MAP_FAILED */
			addr = 0;
		break;
	case MS_KIND_REALLOC:
	case MS_KIND_REALLOCARRAY:
		/* glibc: realloc(p, 0) frees p and returns NULL; failure keeps p */
		if (s.old_addr && (addr || s.size == 0))
			account_free(tgid, cfg, s.old_addr, MS_ANY_TAG);
		if (!addr && s.size == 0)
			return 0;
		break;
	}
	if (!addr) {
		count(MS_CNT_FAILED_ALLOC);
		return 0;
	}
	account_alloc(ctx, tgid, addr, s.size, s.kind, s.heap, 0, 0, cfg);
	return 0;
}

static __always_inline int on_free(__u64 ptr)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_pid_cfg *cfg;

	if (!ptr)
		return 0;
	cfg = watched(tgid);
	if (cfg)
		account_free(tgid, cfg, ptr, MS_ANY_TAG);
	return 0;
}

static __always_inline int on_munmap(__u64 addr)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ms_live_key lk = { .tgid = tgid, .addr = addr };
	struct ms_pid_cfg *cfg = watched(tgid);

	if (!cfg)
		return 0;
	lk.gen = cfg->gen;
	/* only whole mappings we saw created; a malloc chunk never starts a mapping */
	if (bpf_map_lookup_elem(&live, &lk))
		account_free(tgid, cfg, addr, MS_ANY_TAG);
	return 0;
}

#endif /* MEMSIGHT_ALLOC_BPF_H */
