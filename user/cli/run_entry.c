// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "cli/run_entry.h"

/* AT_ENTRY of pid's auxiliary vector, or 0 */
static uint64_t auxv_entry(pid_t pid)
{
	char path[64];
	Elf64_auxv_t a[64];
	uint64_t entry = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, a, sizeof(a));
	close(fd);
	for (ssize_t i = 0; n > 0 && i < n / (ssize_t)sizeof(a[0]); i++) {
		if (a[i].a_type == AT_NULL)
			break;
		if (a[i].a_type == AT_ENTRY)
			entry = a[i].a_un.a_val;
	}
	return entry;
}

#ifdef __x86_64__
int run_entry__arm(pid_t pid, struct run_entry *e)
{
	uint64_t entry = auxv_entry(pid);
	long word;

	if (!entry)
		return -ENOENT;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)entry, NULL);
	if (errno)
		return -errno;
	/* int3 in the first byte */
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)((word & ~0xffL) | 0xcc)))
		return -errno;
	e->pid = pid;
	e->entry = entry;
	e->word = word;
	return 0;
}

bool run_entry__hit(const struct run_entry *e, int wstatus)
{
	struct user_regs_struct regs;

	if (!e->pid || !WIFSTOPPED(wstatus) || WSTOPSIG(wstatus) != SIGTRAP || wstatus >> 16)
		return false;
	if (ptrace(PTRACE_GETREGS, e->pid, NULL, &regs))
		return false;
	return regs.rip == e->entry + 1;
}

int run_entry__disarm(struct run_entry *e)
{
	struct user_regs_struct regs;
	int err = 0;

	if (ptrace(PTRACE_POKETEXT, e->pid, (void *)e->entry, (void *)e->word) ||
	    ptrace(PTRACE_GETREGS, e->pid, NULL, &regs))
		err = -errno;
	if (!err) {
		regs.rip = e->entry;
		if (ptrace(PTRACE_SETREGS, e->pid, NULL, &regs))
			err = -errno;
	}
	memset(e, 0, sizeof(*e));
	return err;
}

int run_entry__release(struct run_entry *e)
{
	long sig = 0;
	int st, err = 0;

	/* stopped first: the text is written only into a stopped process */
	if (ptrace(PTRACE_INTERRUPT, e->pid, NULL, NULL)) {
		err = errno == ESRCH ? 0 : -errno;	/* gone already */
		goto out;
	}
	if (waitpid(e->pid, &st, __WALL) != e->pid) {
		err = -errno;
		goto out;
	}
	if (!WIFSTOPPED(st))
		goto out;	/* it ended meanwhile */
	if (run_entry__hit(e, st)) {
		pid_t pid = e->pid;

		err = run_entry__disarm(e);	/* clears e */
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		return err;
	}
	if (ptrace(PTRACE_POKETEXT, e->pid, (void *)e->entry, (void *)e->word))
		err = -errno;
	/* a signal on its way to it (a signal-delivery stop) is passed on */
	if (!(st >> 16) && WSTOPSIG(st) != SIGTRAP)
		sig = WSTOPSIG(st);
	ptrace(PTRACE_DETACH, e->pid, NULL, (void *)sig);
out:
	memset(e, 0, sizeof(*e));
	return err;
}
#else
int run_entry__arm(pid_t pid, struct run_entry *e)
{
	(void)auxv_entry;
	return -EOPNOTSUPP;
}

bool run_entry__hit(const struct run_entry *e, int wstatus)
{
	return false;
}

int run_entry__disarm(struct run_entry *e)
{
	memset(e, 0, sizeof(*e));
	return -EOPNOTSUPP;
}

int run_entry__release(struct run_entry *e)
{
	memset(e, 0, sizeof(*e));
	return -EOPNOTSUPP;
}
#endif
