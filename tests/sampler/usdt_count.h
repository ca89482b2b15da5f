/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * usdt_count.h - for the sampler's tests: attach counting uprobes (perf, no
 * BPF program) to every memsight:alloc / memsight:free site of the sampler
 * library, with the semaphore as the uprobe's ref_ctr, for this process
 * only. That is what libbpf's USDT attach does to the semaphore, so the
 * library runs its attached path; the counts say how many times each probe
 * was reached. Static functions: one test program includes it once.
 *
 * A free probe hit carries several free records (memsight_sampler.h): the
 * free records made are counted with usdt_count__free_records().
 */
#ifndef SAMPLER_TEST_USDT_COUNT_H
#define SAMPLER_TEST_USDT_COUNT_H

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../include/memsight_sampler.h"

#define USDT_MAX_FDS 16

struct usdt_count {
	int alloc_fd[USDT_MAX_FDS], n_alloc;
	int free_fd[USDT_MAX_FDS], n_free;
};

/* a virtual address of the ELF to its file offset, through its PT_LOADs */
static long usdt_file_off(const Elf64_Ehdr *eh, const unsigned char *img, uint64_t vaddr)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
	int i;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
		    vaddr < ph[i].p_vaddr + ph[i].p_filesz)
			return (long)(vaddr - ph[i].p_vaddr + ph[i].p_offset);
	return -1;
}

static int usdt_open(const char *path, long site, long sem, int inherit)
{
	struct perf_event_attr attr;
	char buf[32] = "";
	int type, fd;
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");

	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	type = atoi(buf);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config = (uint64_t)sem << 32;	/* PERF_UPROBE_REF_CTR_OFFSET_SHIFT */
	attr.config1 = (uint64_t)(uintptr_t)path;
	attr.config2 = (uint64_t)site;
	attr.inherit = inherit;
	fd = (int)syscall(__NR_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd;
}

/*
 * 0, or -1 with a message on stderr. inherit: threads created later count
 * too (summed as they exit). Not for a program that forks: here (6.18)
 * semantics' counts read 0 after its fork-exec check with inherit on.
 */
static int usdt_count__attach(struct usdt_count *uc, const char *path, int inherit)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;
	struct stat st;
	unsigned char *img = (unsigned char *)MAP_FAILED;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	int i;

	memset(uc, 0, sizeof(*uc));
	if (fd < 0 || fstat(fd, &st) || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		goto out;
	img = (unsigned char *)mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		goto out;
	eh = (const Elf64_Ehdr *)img;
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const unsigned char *p = img + sh[i].sh_offset, *end = p + sh[i].sh_size;

		if (sh[i].sh_type != SHT_NOTE)
			continue;
		while (p + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *nh = (const Elf64_Nhdr *)p;
			const unsigned char *desc = p + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);
			uint64_t a[3];
			const char *prov, *name;
			long site, sem;
			int pfd;

			p = desc + ((nh->n_descsz + 3) & ~3u);
			if (nh->n_type != 3 || nh->n_namesz != 8 ||
			    memcmp(nh + 1, "stapsdt", 8))
				continue;
			memcpy(a, desc, sizeof(a));	/* pc, .stapsdt.base, semaphore */
			prov = (const char *)desc + sizeof(a);
			name = prov + strlen(prov) + 1;
			if (strcmp(prov, "memsight"))
				continue;
			site = usdt_file_off(eh, img, a[0]);
			sem = usdt_file_off(eh, img, a[2]);
			if (site < 0 || sem < 0)
				goto out;
			pfd = usdt_open(path, site, sem, inherit);
			if (pfd < 0) {
				perror("perf_event_open(uprobe)");
				goto out;
			}
			if (!strcmp(name, "alloc") && uc->n_alloc < USDT_MAX_FDS)
				uc->alloc_fd[uc->n_alloc++] = pfd;
			else if (!strcmp(name, "free") && uc->n_free < USDT_MAX_FDS)
				uc->free_fd[uc->n_free++] = pfd;
			else
				close(pfd);
		}
	}
	ret = uc->n_alloc && uc->n_free ? 0 : -1;
	if (ret)
		fprintf(stderr, "usdt_count: no memsight:alloc/free notes in %s\n", path);
out:
	if (img != MAP_FAILED)
		munmap(img, st.st_size);
	if (fd >= 0)
		close(fd);
	return ret;
}

static uint64_t usdt_sum(const int *fds, int n)
{
	uint64_t sum = 0, v;
	int i;

	for (i = 0; i < n; i++)
		if (read(fds[i], &v, sizeof(v)) == sizeof(v))
			sum += v;
	return sum;
}

static uint64_t usdt_count__allocs(const struct usdt_count *uc)
{
	return usdt_sum(uc->alloc_fd, uc->n_alloc);
}

static uint64_t usdt_count__frees(const struct usdt_count *uc)
{
	return usdt_sum(uc->free_fd, uc->n_free);
}

/* free records the loaded library holds pending (memsight_sampler_pending) */
static __attribute__((unused)) unsigned usdt_count__pending(void)
{
	uint64_t *slots = (uint64_t *)dlsym(RTLD_DEFAULT, MEMSIGHT_SAMPLER_SYM_PENDING);
	unsigned n = 0;

	for (int i = 0; slots && i < MEMSIGHT_SAMPLER_PENDING; i++)
		n += __atomic_load_n(&slots[i], __ATOMIC_RELAXED) != 0;
	return n;
}

/*
 * Free records made between two readings (hits of the free probe, pending
 * records), frees the only sampled calls in between: with no sampled
 * allocation to take them, a free reaches the probe only once every slot is
 * taken, and sends them all and its own.
 */
static __attribute__((unused)) uint64_t usdt_count__free_records(uint64_t hits, unsigned pending0,
								 unsigned pending1)
{
	return hits * (MEMSIGHT_SAMPLER_PENDING + 1) + pending1 - pending0;
}

static __attribute__((unused)) void usdt_count__detach(struct usdt_count *uc)
{
	int i;

	for (i = 0; i < uc->n_alloc; i++)
		close(uc->alloc_fd[i]);
	for (i = 0; i < uc->n_free; i++)
		close(uc->free_fd[i]);
	uc->n_alloc = uc->n_free = 0;
}

#endif /* SAMPLER_TEST_USDT_COUNT_H */
