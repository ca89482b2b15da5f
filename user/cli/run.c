// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * run.c - memsight run: the command is a child of ours from fork to exit.
 *
 * The child waits on a pipe until its probes are in place, then execs the
 * command, so not one of its allocations is missed; the probes are bound to
 * the allocator's file and the child's PID, and the kernel installs them
 * when the new program maps that file. The exec starts a new data
 * generation (bpf/proc.bpf.c), so the child's own pre-exec allocations (it
 * is a copy of memsight until then) are not counted.
 *
 * The child is also ptrace-seized. At an exec stop, a program whose
 * allocator is mapped already (static, musl's interpreter) is probed in it
 * (it will not map the libc probed before); any other is stopped once more
 * at its entry point (run_entry.h), where an allocator in a library the
 * loader mapped (jemalloc) is probed before the program's first
 * instruction (what library constructors allocated before is not seen). At its
 * exit stop (PTRACE_EVENT_EXIT), before the kernel tears its memory down,
 * what is still allocated, its maps (to symbolise), its peak RSS and its
 * threads are read from a process that still has them. Signals it receives are passed
 * on at once; SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to memsight are
 * forwarded to it. Stdin, stdout and stderr are its own: memsight writes to
 * stderr only, and only before and after.
 *
 * Descendants: its forks are traced too (PTRACE_O_TRACEFORK/VFORK), each
 * child stopped before its first instruction until its own probes are
 * attached, then reported like the command at its exit. Threads are traced
 * (PTRACE_O_TRACECLONE) only so that what they fork is followed (Go forks
 * from whichever thread runs the goroutine: `go test` runs the test binary
 * so) and so that the thread that ends the process (exit_group) stops there
 * with its memory: the others are killed without an exit stop. The run
 * ends when the command's own process does; a descendant still running then
 * is left running, untraced (memsight exits, the kernel detaches it), and
 * reported as such.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <elf.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "bpf/session.h"
#include "cli/run.h"
#include "cli/run_entry.h"
#include "cli/run_maps.h"
#include "common/array.h"
#include "common/json.h"
#include "common/log.h"
#include "export/report.h"
#include "export/run_report.h"
#include "model/collect.h"
#include "model/run_result.h"
#include "target/goproc.h"
#include "target/procfs.h"
#include "target/symbolize.h"

/* memsight's own failure (cannot load BPF, cannot fork, ...) */
#define EXIT_RUN_ERROR	1

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* processes between their exec and their entry point at once, at most (past it: not stopped) */
#define RUN_ENTRIES_MAX	64

/* A traced thread that is not its process's leader. */
struct run_thread {
	pid_t tid, tgid;
	bool started;		/* let go after its first stop */
};

struct run {
	struct cli_args *c;
	struct ms_session *s;
	struct symcache *cache;
	pid_t pid;
	int go_fd, err_fd, sig_fd;	/* release the child; its exec error; our signals */
	bool exec_known;		/* err_fd said: exec'd or failed */
	double start_mono;		/* CLOCK_MONOTONIC s at release */
	struct run_result res;
	struct run_entry entries[RUN_ENTRIES_MAX];	/* breakpoints at entry points */
	struct run_thread *threads;
	size_t nthreads, cap_threads;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The child: wait for the word, then become the command. Only
 * async-signal-safe calls between fork and exec.
 */
static void __attribute__((noreturn)) child(char **argv, int go_fd, int err_fd,
					     const sigset_t *mask)
{
	char b;
	int e;

	sigprocmask(SIG_SETMASK, mask, NULL);
	if (read(go_fd, &b, 1) != 1)
		_exit(EXIT_RUN_ERROR);	/* memsight gave up before the command ran */
	execvp(argv[0], argv);
	e = errno;
	if (write(err_fd, &e, sizeof(e)) != sizeof(e))
		e = ENOENT;
	_exit(e == ENOENT ? 127 : 126);
}

/*
 * Fork the child (waiting) and seize it. Before the session opens, so the
 * command inherits no descriptor of ours but its three.
 */
static int start_child(struct run *r, const sigset_t *old_mask)
{
	int go[2], errp[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(errp, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(go[1]);
		close(errp[0]);
		child(r->c->run_argv, go[0], errp[1], old_mask);
	}
	close(go[0]);
	close(errp[1]);
	r->pid = pid;
	r->go_fd = go[1];
	r->err_fd = errp[0];
	/*
	 * Its exit stops it (memory still there); so does each fork, and its
	 * children are traced alike, stopped before their first instruction.
	 * Not EXITKILL: what still runs when memsight exits goes on, untraced.
	 */
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT |
		   PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		   PTRACE_O_TRACECLONE)))
		return -errno;
	return 0;
}

/* How a process's allocations are seen, for the report. */
static void describe(struct run *r, const struct ms_target *t, struct run_proc *rp)
{
	char probe[64], mods[128] = "?";
	uint64_t mean = ms_session__c_sample_bytes(r->s);
	size_t n = 0;

	/* a static Go program has no C allocator: the Go runtime is all there is */
	if (!t->nmodules && t->gobin) {
		snprintf(rp->mechanism, sizeof(rp->mechanism), "no C allocator (a Go program "
			 "without a C library); goroutines and Go heap read from its runtime");
		return;
	}
	/* every allocator probed: the C library's and a library's own (jemalloc) */
	for (size_t i = 0; i < t->nmodules && n < sizeof(mods); i++)
		n += snprintf(mods + n, sizeof(mods) - n, "%s%s", i ? " and " : "",
			      t->modules[i].path);
	ms_allocator_probe(t->usdt, t->sampler_mean, probe, sizeof(probe));
	snprintf(rp->mechanism, sizeof(rp->mechanism), "%s on %s (%s), %s%s", probe, mods,
		 ms_session__link_kind(r->s), mean ? "sampled" : "every allocation",
		 t->dwarf ? ", stacks by DWARF" : "");
}

static int attach_child(struct run *r)
{
	char errbuf[512] = "";
	struct ms_session_opts so;
	struct ms_target *t;
	int err;

	options__session_opts(&r->c->sess, &so);
	r->cache = symcache__new(NULL);
	if (!r->cache) {
		pr_err("cannot create symbol cache: %s\n", strerror(errno));
		return -ENOMEM;
	}
	err = ms_session__open(&so, &r->s, errbuf, sizeof(errbuf));
	if (!err)
		err = ms_session__attach(r->s, r->pid, &t, errbuf, sizeof(errbuf));
	if (err) {
		pr_err("%s\n", errbuf);
		return err;
	}
	pr_info("running %s as PID %d: %s (%s)%s\n", r->c->run_argv[0], r->pid,
		t->nmodules ? t->modules[0].path : "no allocator found",
		ms_session__link_kind(r->s), r->c->sess.sample_bytes ? ", sampled" :
		", every allocation");
	return 0;
}

/* The exec went through (EOF) or failed (its errno): told once, by the pipe. */
static void read_exec_result(struct run *r)
{
	int e = 0;
	ssize_t n;

	if (r->exec_known)
		return;
	do
		n = read(r->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	r->exec_known = true;
	if (n == sizeof(e)) {
		r->res.exec_errno = e;
		pr_err("cannot execute %s: %s\n", r->c->run_argv[0], strerror(e));
	}
	close(r->err_fd);
	r->err_fd = -1;
}

/* Its profile, read at its exit stop, which thread tid (its leader or not) is in. */
static void collect_proc(struct run *r, struct ms_target *t, struct run_proc *rp, pid_t tid)
{
	struct ms_collect_opts co = { .duration_ns = (mono_s() - r->start_mono) * 1e9 };
	int err;

	/*
	 * The leader may be gone already (its memory with it): a Go runtime is
	 * read through the thread that holds the memory now.
	 */
	if (tid != t->pid && t->gobin) {
		goproc__close(t->goproc);
		t->goproc = goproc__open(tid);
	}

	ms_session__poll_ustacks(r->s);
	err = ms_collect__profile(r->s, t, r->cache, &co, &rp->p);
	if (err) {
		rp->why_none = "its data could not be read";
		pr_err("cannot read the data of PID %d: %s\n", rp->pid, strerror(-err));
		return;
	}
	describe(r, t, rp);
	if (run_result__trim(rp, MS_RUN_STACKS_MAX))
		pr_warn("cannot trim the stacks of PID %d: kept them all\n", rp->pid);
	if (rp->p->have_rss_events && rp->p->rss_peak_ns) {
		rp->have_peak_at = true;
		rp->peak_at_s = rp->p->rss_peak_ns / 1e9 - r->start_mono;
		if (rp->peak_at_s < 0)
			rp->peak_at_s = 0;
	}
}

/* The exit stop of thread tid of rp: collect everything while the process still has it. */
static void at_exit_stop(struct run *r, struct run_proc *rp, pid_t tid)
{
	struct ms_target *t = ms_session__find(r->s, rp->pid);
	bool top = rp == &r->res.procs[0];

	if (rp->exit_seen)
		return;
	rp->exit_seen = true;
	if (top)
		read_exec_result(r);
	if (top && r->res.exec_errno)
		rp->why_none = "the command could not be executed";
	else if (!t)
		rp->why_none = rp->why_none ?: "it was not observed";
	else if (!t->gobin && !run_maps__allocator_mapped(t))
		rp->why_none = "the program does not map the allocator probed before its "
			       "exec (it loads another C library): not supported by run yet";
	else
		collect_proc(r, t, rp, tid);
	/* its probes and map entries go now: a long run forks many processes */
	if (t)
		ms_session__detach(r->s, t);
}

/*
 * A process forked by one of ours, first seen (its parent's fork event or
 * its own first stop, whichever comes first): probes before it runs.
 */
static struct run_proc *new_descendant(struct run *r, pid_t pid, pid_t ppid)
{
	struct run_proc *rp = run_result__add(&r->res, pid, ppid);
	struct ms_proc_status st;
	struct ms_target *t;
	char errbuf[512];

	if (!rp)
		return NULL;
	if (!ppid && procfs__read_status("/proc", pid, &st) == 0)
		rp->ppid = st.ppid;
	if (ms_session__attach(r->s, pid, &t, errbuf, sizeof(errbuf))) {
		pr_warn("PID %d (a child of %d) is not observed: %s\n", pid, rp->ppid, errbuf);
		rp->why_none = "it could not be observed (see the warning above)";
	}
	return rp;
}

/* t's probes moved to what pid maps now (its old ones go, and their data). */
static void reattach(struct run *r, pid_t pid, struct ms_target *t)
{
	struct run_proc *rp;
	char errbuf[512];

	ms_session__detach(r->s, t);
	if (!ms_session__attach(r->s, pid, &t, errbuf, sizeof(errbuf)))
		return;
	pr_warn("PID %d exec'd a program that cannot be observed: %s\n", pid, errbuf);
	rp = run_result__find(&r->res, pid);
	if (rp)
		rp->why_none = "it exec'd a program that could not be observed (see the warning "
			       "above)";
}

static struct run_entry *entry_of(struct run *r, pid_t pid)
{
	for (size_t i = 0; i < RUN_ENTRIES_MAX; i++)
		if (r->entries[i].pid == pid)
			return &r->entries[i];
	return NULL;
}

/*
 * An exec stop. A program whose allocator is mapped already (static, musl)
 * is probed in it now, and so is a static Go program (`go test` execs the
 * test binary it built): its runtime is what its exit stop reads, goroutines
 * and heap, and its allocator is the runtime's. Any other stops again at its
 * entry point; a dynamic Go program (cgo) has its Go runtime read now.
 */
static void on_exec(struct run *r, pid_t pid)
{
	struct ms_target *t = ms_session__find(r->s, pid);
	struct run_entry *e;
	bool go;

	if (!t)
		return;
	if (run_maps__probe_at_exec(pid, t, &go)) {
		reattach(r, pid, t);
		return;
	}
	if (go)
		ms_session__exec_go(r->s, t);
	e = entry_of(r, pid) ?: entry_of(r, 0);
	if (e && run_entry__arm(pid, e))
		memset(e, 0, sizeof(*e));
}

/*
 * A SIGTRAP: the entry point's breakpoint? Then the program's libraries are
 * mapped: one that brings its own allocator (jemalloc) is probed now.
 */
static bool at_entry(struct run *r, pid_t pid, int st)
{
	struct run_entry *e = entry_of(r, pid);
	struct ms_target *t;

	if (!e || !run_entry__hit(e, st))
		return false;
	if (run_entry__disarm(e)) {
		pr_err("PID %d: cannot put its entry point back: killed\n", pid);
		kill(pid, SIGKILL);
		return true;
	}
	t = ms_session__find(r->s, pid);
	if (t && run_maps__new_allocator(pid, t))
		reattach(r, pid, t);
	return true;
}

/* A fork event of thread tid of process pid: its child, stopped until we let it go. */
static void on_fork(struct run *r, pid_t tid, pid_t pid)
{
	unsigned long child = 0;

	if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &child) == 0 && child &&
	    !run_result__find(&r->res, (pid_t)child))
		new_descendant(r, (pid_t)child, pid);
}

static struct run_thread *thread_find(struct run *r, pid_t tid)
{
	for (size_t i = 0; i < r->nthreads; i++)
		if (r->threads[i].tid == tid)
			return &r->threads[i];
	return NULL;
}

static struct run_thread *thread_add(struct run *r, pid_t tid, pid_t tgid)
{
	struct run_thread *th = thread_find(r, tid);

	if (th)
		return th;
	if (ms_array_grow(r->threads, &r->cap_threads, r->nthreads, 16))
		return NULL;
	th = &r->threads[r->nthreads++];
	*th = (struct run_thread){ .tid = tid, .tgid = tgid };
	return th;
}

/* A clone event of thread tid of process pid: the new thread is one of its. */
static void on_clone(struct run *r, pid_t tid, pid_t pid)
{
	unsigned long child = 0;

	if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &child) == 0 && child)
		thread_add(r, (pid_t)child, pid);
}

/*
 * Is unknown tid a thread of one of ours (seen before its parent's clone
 * event)? Its record, or NULL: it is a new process.
 */
static struct run_thread *thread_of(struct run *r, pid_t tid)
{
	struct run_thread *th = thread_find(r, tid);
	struct ms_proc_status st;

	if (th || procfs__read_status("/proc", tid, &st) || st.tgid == tid ||
	    !run_result__find(&r->res, st.tgid))
		return th;
	return thread_add(r, tid, st.tgid);
}

/* Is stopped thread tid ending its whole process (in exit_group)? */
static bool in_exit_group(pid_t tid)
{
	struct user_regs_struct regs;
	struct iovec iov = { .iov_base = &regs, .iov_len = sizeof(regs) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov))
		return false;
#if defined(__x86_64__)
	return regs.orig_rax == SYS_exit_group;
#elif defined(__aarch64__)
	return regs.regs[8] == SYS_exit_group;	/* the syscall number, still in x8 */
#else
	return false;	/* the leader's own exit stop stands for the process */
#endif
}

/* One wait status of a traced thread, not a leader: its stops are passed on. */
static void on_thread_wait(struct run *r, struct run_thread *th, int st)
{
	struct run_proc *rp = run_result__find(&r->res, th->tgid);
	pid_t tid = th->tid;
	int event = st >> 16;

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		*th = r->threads[--r->nthreads];
		return;
	}
	if (!WIFSTOPPED(st))
		return;
	if (event == PTRACE_EVENT_EXIT && rp && !rp->exit_seen && in_exit_group(tid)) {
		pr_debug("PID %d ends in its thread %d: read there\n", th->tgid, tid);
		at_exit_stop(r, rp, tid);
	}
	else if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK)
		on_fork(r, tid, th->tgid);
	else if (event == PTRACE_EVENT_CLONE)
		on_clone(r, tid, th->tgid);
	if (event == PTRACE_EVENT_STOP && th->started) {
		if (ptrace(PTRACE_LISTEN, tid, NULL, NULL))
			ptrace(PTRACE_CONT, tid, NULL, NULL);
		return;
	}
	th->started |= event == PTRACE_EVENT_STOP;
	ptrace(PTRACE_CONT, tid, NULL, event ? NULL : (void *)(long)WSTOPSIG(st));
}

/* One wait status of a traced process: pass it on, or note its end. */
static void on_wait(struct run *r, pid_t pid, int st)
{
	struct run_proc *rp = run_result__find(&r->res, pid);
	struct run_thread *th = rp ? NULL : thread_of(r, pid);
	int event = st >> 16;

	if (th) {
		on_thread_wait(r, th, st);
		return;
	}
	if (!rp)
		rp = new_descendant(r, pid, 0);
	if (!rp) {
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		return;
	}
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		rp->reaped = true;
		rp->wstatus = st;
		return;
	}
	if (!WIFSTOPPED(st))
		return;
	if (event == PTRACE_EVENT_EXIT) {
		struct run_entry *e = entry_of(r, pid);

		if (e)	/* it never reached its entry point */
			memset(e, 0, sizeof(*e));
		at_exit_stop(r, rp, pid);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else if (event == PTRACE_EVENT_EXEC) {
		on_exec(r, pid);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK) {
		on_fork(r, pid, pid);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else if (event == PTRACE_EVENT_CLONE) {
		on_clone(r, pid, pid);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else if (event == PTRACE_EVENT_STOP && !rp->started) {
		/* a new child's first stop: its probes are in place */
		rp->started = true;
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else if (event == PTRACE_EVENT_STOP) {
		/* a group stop (SIGSTOP, SIGTSTP...): it stays stopped until SIGCONT */
		if (ptrace(PTRACE_LISTEN, pid, NULL, NULL))
			ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else if (at_entry(r, pid, st)) {
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	} else {
		/* a signal on its way to it: delivered as if we were not there */
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(st));
	}
}

/*
 * A signal sent to memsight, passed on to the command. Not one the terminal
 * sent (Ctrl-C): it went to the whole foreground process group, the command
 * (in ours) included, which must not get it twice.
 */
static void forward(struct run *r, const struct signalfd_siginfo *si)
{
	if (si->ssi_signo == SIGCHLD)
		return;
	if (si->ssi_code == SI_KERNEL && getpgid(r->pid) == getpgrp())
		return;
	kill(r->pid, (int)si->ssi_signo);
}

/* Until the command's process is reaped: signals forwarded, stops handled. */
static void wait_command(struct run *r)
{
	/* procs[0], not a pointer to it: adding descendants moves the array */
	while (!r->res.procs[0].reaped) {
		struct pollfd pfd[3] = {
			{ .fd = r->sig_fd, .events = POLLIN },
			{ .fd = ms_session__ustack_fd(r->s), .events = POLLIN },
			{ .fd = r->err_fd, .events = POLLIN },
		};
		struct signalfd_siginfo si;
		int st;
		pid_t w;

		if (poll(pfd, r->err_fd >= 0 ? 3 : 2, 200) < 0 && errno != EINTR)
			break;
		if ((pfd[0].revents & POLLIN) && read(r->sig_fd, &si, sizeof(si)) == sizeof(si))
			forward(r, &si);
		if (pfd[1].revents & POLLIN)
			ms_session__poll_ustacks(r->s);
		if (r->err_fd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP)))
			read_exec_result(r);
		while ((w = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
			on_wait(r, w, st);
		if (w < 0 && errno == ECHILD)
			break;
	}
}

/* Budgets, reports and the exit status, once the command has ended. */
static int finish(struct run *r)
{
	struct run_report_opts ro = { .top_n = r->c->top_n, .max_frames = r->c->max_frames };
	const struct ms_budget_set *bs = &r->c->budgets;
	struct run_result *res = &r->res;
	int rc = 0;

	if (r->res.exec_errno)
		res->exit_code = r->res.exec_errno == ENOENT ? 127 : 126;
	else
		res->exit_code = run_result__shell_status(res->procs[0].wstatus);
	for (size_t i = 1; i < res->nprocs; i++) {
		if (res->procs[i].reaped || res->procs[i].p)
			continue;
		res->procs[i].running_at_end = true;
		res->procs[i].why_none = "still running when the command ended: left running, "
					 "no longer observed, not reported";
	}
	run_result__figures(res);
	res->nbudgets = budget__check(bs->total, bs->total_given, &res->fig, res->budgets);
	for (size_t i = 0; i < bs->nnamed; i++) {
		const struct ms_budget_named *nb = &bs->named[i];
		struct ms_budget_figures f;

		run_result__figures_of(res, nb->who, &f);
		budget__check_one(nb->budget, nb->limit, nb->who, &f,
				  &res->budgets[res->nbudgets++]);
	}
	res->failed = budget__failed(res->budgets, res->nbudgets);
	run_report__text(res, &ro, stderr);
	if (r->c->report_path) {
		FILE *f = fopen(r->c->report_path, "w");
		struct json_writer *w = f ? jw__new(f) : NULL;

		if (w) {
			jw__set_pretty(w, r->c->pretty);
			rc = run_report__json(res, &ro, w);
			jw__free(w);
		}
		if (!f || !w || fclose(f) || rc) {
			pr_err("cannot write %s: %s\n", r->c->report_path, strerror(errno));
			rc = -EIO;
		}
	}
	if (r->c->junit_path) {
		FILE *f = fopen(r->c->junit_path, "w");

		if (!f || run_report__junit(res, &ro, f) || fclose(f)) {
			pr_err("cannot write %s: %s\n", r->c->junit_path, strerror(errno));
			rc = -EIO;
		}
	}
	if (r->c->pprof_path) {
		FILE *f = fopen(r->c->pprof_path, "w");
		int e = f ? run_report__pprof(res, f) : -errno;

		if (f && fclose(f) && !e)
			e = -EIO;
		if (e) {
			pr_err("cannot write %s: %s\n", r->c->pprof_path, strerror(-e));
			rc = -EIO;
		}
	}
	if (rc)
		return EXIT_RUN_ERROR;
	return res->failed ? MS_EXIT_BUDGET : res->exit_code;
}

static int setup_signals(struct run *r, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, old))
		return -errno;
	r->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return r->sig_fd < 0 ? -errno : 0;
}

int run__main(struct cli_args *c)
{
	struct run r = { .c = c, .go_fd = -1, .err_fd = -1, .sig_fd = -1 };
	sigset_t old;
	int err, rc = EXIT_RUN_ERROR;

	r.res.argv = c->run_argv;
	r.res.sample_bytes = c->sess.sample_bytes;
	err = setup_signals(&r, &old);
	if (!err)
		err = start_child(&r, &old);
	if (err) {
		pr_err("cannot start %s: %s\n", c->run_argv[0], strerror(-err));
		goto out;
	}
	if (!run_result__add(&r.res, r.pid, 0) || attach_child(&r)) {
		pr_err("not running %s: it could not be observed\n", c->run_argv[0]);
		goto out;
	}
	r.res.procs[0].started = true;	/* seized: no first stop */
	r.start_mono = mono_s();
	if (write(r.go_fd, "g", 1) != 1) {
		pr_err("cannot start %s: %s\n", c->run_argv[0], strerror(errno));
		goto out;
	}
	close(r.go_fd);
	r.go_fd = -1;
	wait_command(&r);
	r.res.elapsed_s = mono_s() - r.start_mono;
	/* descendants still in their loader run on without our breakpoint */
	for (size_t i = 0; i < RUN_ENTRIES_MAX; i++)
		if (r.entries[i].pid && run_entry__release(&r.entries[i]))
			pr_warn("a process left running may still hold memsight's breakpoint at its "
				"entry point\n");
	/* the probes go before the reports take their time */
	ms_session__close(r.s);
	r.s = NULL;
	rc = finish(&r);
out:
	if (r.pid > 0 && !(r.res.nprocs && r.res.procs[0].reaped)) {
		kill(r.pid, SIGKILL);
		waitpid(r.pid, NULL, __WALL);
	}
	ms_session__close(r.s);
	symcache__free(r.cache);
	run_result__free(&r.res);
	free(r.threads);
	if (r.go_fd >= 0)
		close(r.go_fd);
	if (r.err_fd >= 0)
		close(r.err_fd);
	if (r.sig_fd >= 0)
		close(r.sig_fd);
	return rc;
}
