// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * proc.bpf.c - process lifecycle: exec and exit of processes, for the daemon.
 *
 * A watched process that execs gets a new data generation here, at once, so
 * not one allocation of the new image is booked against the old one, and its
 * RSS peak starts again with the new image. A
 * watched process that exits leaves the pids map here, so a new process that
 * reuses its PID is not watched by accident. User space hears of both
 * through the "events" ring buffer; of unwatched execs only while
 * notify_exec is set (the daemon has rules to evaluate).
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space while rules need to see every exec. */
volatile __u32 notify_exec;

static __always_inline struct ms_event *event_new(struct task_struct *task, __u32 type)
{
	struct ms_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(MS_CNT_EVENTS_LOST);
		return NULL;
	}
	e->type = type;
	e->pid = BPF_CORE_READ(task, tgid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->gen = 0;
	e->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	e->exit_code = 0;
	e->flags = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	e->filename[0] = 0;
	return e;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ms_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct ms_pid_cfg *cfg = watched(tgid);
	struct ms_event *e;

	if (cfg) {
		__sync_fetch_and_add(&cfg->gen, 1);
		/* the old image's memory is gone: its RSS and heap peaks are not the new one's */
		bpf_map_delete_elem(&rss, &tgid);
		cfg->heap_inuse = 0;
		cfg->heap_peak = 0;
	} else if (!notify_exec)
		return 0;
	e = event_new(p, MS_EV_EXEC);
	if (!e)
		return 0;
	if (cfg) {
		e->flags |= MS_EVF_WATCHED;
		e->gen = cfg->gen;
	}
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* A new thread in a watched process. */
SEC("tp_btf/task_newtask")
int BPF_PROG(ms_newtask, struct task_struct *task, __u64 clone_flags)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct ms_proc_stats *ps;

	if (!watched(tgid))
		return 0;
	ps = bpf_map_lookup_elem(&procstats, &tgid);
	if (ps) {
		__sync_fetch_and_add(&ps->threads, 1);
		__sync_fetch_and_add(&ps->threads_created, 1);
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ms_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct ms_proc_stats *ps;
	struct ms_event *e;

	ps = bpf_map_lookup_elem(&procstats, &tgid);
	if (ps)
		__sync_fetch_and_add(&ps->threads, -1);

	/* the last thread out: signal->live has already dropped to 0 */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	if (!watched(tgid))
		return 0;
	bpf_map_delete_elem(&pids, &tgid);
	e = event_new(p, MS_EV_EXIT);
	if (!e)
		return 0;
	e->flags |= MS_EVF_WATCHED;
	e->exit_code = BPF_CORE_READ(p, exit_code);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
