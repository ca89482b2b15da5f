// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Memory caps against hostile ELF files, measured rather than assumed.
 *
 * Each scenario runs in a forked child, so its peak RSS (ru_maxrss from
 * wait4()) is its own and does not depend on test order; the child reports
 * its RSS high-water mark at the start and what the symboliser answered,
 * the parent asserts and prints the figures.
 *
 * The ELF files are written here by a tiny ELF64 writer, so each test shows
 * the bytes it feeds: functions are SHN_ABS symbols at addresses inside one
 * PT_LOAD that maps the whole file at vaddr 0, so file offset == vaddr.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "target/symbolize.h"

#define MIB		(1024 * 1024)
#define BOMB_CLAIM	(1ull << 40)
/* Peak RSS growth allowed while refusing a bomb: nothing near the claim may be allocated. */
#define BOMB_RSS_CAP_KB	(64 * 1024)
/* The understated stream really inflates to this much, the header says 64 bytes. */
#define LIAR_REAL_SIZE	(256u * MIB)

/*
 * The big table: BIG_SYMS functions of 16 bytes, "f<i>", a 330 MB file.
 * Past MS_SYM_MAX_SYMBOLS (8M) they are dropped and counted. Measured on
 * the reference machine (x86_64, 2 cores, glibc 2.36, elfutils 0.188):
 * ~2 s to write, ~2 s to load and look up, peak RSS growth ~675 MiB: mostly
 * libelf's copies of .symtab (229 MiB) and .strtab (75 MiB), the 8M kept
 * entries (192 MiB) and qsort_r()'s merge buffer. The caps leave room for
 * a slower or busier machine, not for a different order of growth.
 */
#define BIG_SYMS	10000000u
#define BIG_RSS_CAP_KB	(1024 * 1024)
#define BIG_SECONDS_CAP	20

static char tmpdir[] = "/tmp/ms-limits-XXXXXX";

static const char *tmp(const char *name)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
	return p;
}

/* ---- a tiny ELF64 writer ------------------------------------------- */

/* Sections: [1] .symtab, [2] .strtab, [3] .shstrtab. */
static const char shstrtab[] = "\0.symtab\0.strtab\0.shstrtab";
#define SH_SYMTAB	1
#define SH_STRTAB	9
#define SH_SHSTRTAB	17

struct layout {
	uint64_t symtab_off, symtab_size, symtab_flags;
	uint64_t strtab_off, strtab_size, strtab_flags;
	uint64_t shstrtab_off;
	uint64_t shoff;
};

#define DATA_START 128	/* after Ehdr (64) and one Phdr (56), 8-aligned */

static void xwrite(FILE *f, const void *p, size_t n)
{
	assert_int_equal(fwrite(p, 1, n, f), n);
}

static void xseek(FILE *f, uint64_t off)
{
	assert_int_equal(fseeko(f, (off_t)off, SEEK_SET), 0);
}

/* Everything but the two tables' contents, which the caller has written. */
static void put_headers(FILE *f, const struct layout *l)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	Elf64_Shdr sh[4] = { { 0 } };

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? ELFDATA2MSB : ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_shoff = l->shoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	eh.e_shentsize = sizeof(sh[0]);
	eh.e_shnum = 4;
	eh.e_shstrndx = 3;

	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_X;
	ph.p_filesz = ph.p_memsz = l->shoff;
	ph.p_align = 0x1000;

	sh[1] = (Elf64_Shdr){ .sh_name = SH_SYMTAB, .sh_type = SHT_SYMTAB,
			      .sh_flags = l->symtab_flags, .sh_offset = l->symtab_off,
			      .sh_size = l->symtab_size, .sh_link = 2, .sh_info = 1,
			      .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Sym) };
	sh[2] = (Elf64_Shdr){ .sh_name = SH_STRTAB, .sh_type = SHT_STRTAB,
			      .sh_flags = l->strtab_flags, .sh_offset = l->strtab_off,
			      .sh_size = l->strtab_size, .sh_addralign = 1 };
	sh[3] = (Elf64_Shdr){ .sh_name = SH_SHSTRTAB, .sh_type = SHT_STRTAB,
			      .sh_offset = l->shstrtab_off, .sh_size = sizeof(shstrtab),
			      .sh_addralign = 1 };
	xseek(f, 0);
	xwrite(f, &eh, sizeof(eh));
	xwrite(f, &ph, sizeof(ph));
	xseek(f, l->shstrtab_off);
	xwrite(f, shstrtab, sizeof(shstrtab));
	xseek(f, l->shoff);
	xwrite(f, sh, sizeof(sh));
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

/* SHF_COMPRESSED contents: an Elf64_Chdr claiming `claim` bytes, then the zlib stream. */
static size_t put_compressed(FILE *f, uint64_t claim, uint64_t align, const void *data,
			     size_t len, size_t zero_tail)
{
	static unsigned char zeros[1 << 16], out[1 << 16];
	Elf64_Chdr ch = { .ch_type = ELFCOMPRESS_ZLIB, .ch_size = claim, .ch_addralign = align };
	z_stream z = { 0 };
	size_t total = sizeof(ch);
	int flush, r;

	xwrite(f, &ch, sizeof(ch));
	assert_int_equal(deflateInit(&z, 6), Z_OK);
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	do {
		/* The real bytes, then zero_tail zeros streamed without a buffer that big. */
		if (!z.avail_in && zero_tail) {
			size_t n = zero_tail < sizeof(zeros) ? zero_tail : sizeof(zeros);

			z.next_in = zeros;
			z.avail_in = (uInt)n;
			zero_tail -= n;
		}
		flush = z.avail_in || zero_tail ? Z_NO_FLUSH : Z_FINISH;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			r = deflate(&z, flush);
			assert_true(r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR);
			xwrite(f, out, sizeof(out) - z.avail_out);
			total += sizeof(out) - z.avail_out;
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH || r != Z_STREAM_END);
	deflateEnd(&z);
	return total;
}

enum bomb_kind { BOMB_SYMTAB, BOMB_STRTAB, LIAR_STRTAB };

/*
 * One function "bomb_func" at 0x40..0x60, with one of its tables compressed:
 * BOMB_*: the header claims 1 TiB (the stream holds the real few bytes);
 * LIAR_STRTAB: the header claims 64 bytes, the stream inflates to 256 MiB.
 */
static void write_bomb_elf(const char *path, enum bomb_kind kind)
{
	static const char strtab[] = "\0bomb_func";
	Elf64_Sym syms[2] = { { 0 } };
	struct layout l = { 0 };
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	syms[1] = (Elf64_Sym){ .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
			       .st_shndx = SHN_ABS, .st_value = 0x40, .st_size = 0x20 };
	l.symtab_off = DATA_START;
	xseek(f, l.symtab_off);
	if (kind == BOMB_SYMTAB) {
		l.symtab_size = put_compressed(f, BOMB_CLAIM, 8, syms, sizeof(syms), 0);
		l.symtab_flags = SHF_COMPRESSED;
	} else {
		xwrite(f, syms, sizeof(syms));
		l.symtab_size = sizeof(syms);
	}
	l.strtab_off = l.symtab_off + l.symtab_size;
	if (kind == BOMB_STRTAB || kind == LIAR_STRTAB) {
		l.strtab_size = kind == BOMB_STRTAB ?
			put_compressed(f, BOMB_CLAIM, 1, strtab, sizeof(strtab), 0) :
			put_compressed(f, 64, 1, strtab, sizeof(strtab), LIAR_REAL_SIZE);
		l.strtab_flags = SHF_COMPRESSED;
	} else {
		xwrite(f, strtab, sizeof(strtab));
		l.strtab_size = sizeof(strtab);
	}
	l.shstrtab_off = l.strtab_off + l.strtab_size;
	l.shoff = align8(l.shstrtab_off + sizeof(shstrtab));
	put_headers(f, &l);
	assert_int_equal(fclose(f), 0);
}

/* n functions "f<i>" at i * 16, size 16, in address order; streamed, never held in memory. */
static void write_big_elf(const char *path, uint32_t n)
{
	static Elf64_Sym buf[4096];
	struct layout l = { 0 };
	uint64_t stroff = 1;
	FILE *f = fopen(path, "w");
	char name[16];
	size_t k = 0;
	uint32_t i;

	assert_non_null(f);
	assert_int_equal(setvbuf(f, NULL, _IOFBF, 1 << 20), 0);
	l.symtab_off = DATA_START;
	xseek(f, l.symtab_off);
	memset(&buf[k++], 0, sizeof(buf[0]));
	for (i = 0; i < n; i++) {
		int len = snprintf(name, sizeof(name), "f%u", i);

		buf[k++] = (Elf64_Sym){ .st_name = (Elf64_Word)stroff,
					.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
					.st_shndx = SHN_ABS, .st_value = (uint64_t)i * 16,
					.st_size = 16 };
		stroff += (uint64_t)len + 1;
		if (k == sizeof(buf) / sizeof(buf[0])) {
			xwrite(f, buf, sizeof(buf));
			k = 0;
		}
	}
	xwrite(f, buf, k * sizeof(buf[0]));
	l.symtab_size = ((uint64_t)n + 1) * sizeof(Elf64_Sym);
	l.strtab_off = l.symtab_off + l.symtab_size;
	assert_true(stroff < UINT32_MAX);
	xwrite(f, "", 1);
	for (i = 0; i < n; i++) {
		int len = snprintf(name, sizeof(name), "f%u", i);

		xwrite(f, name, (size_t)len + 1);
	}
	l.strtab_size = stroff;
	l.shstrtab_off = l.strtab_off + l.strtab_size;
	l.shoff = align8(l.shstrtab_off + sizeof(shstrtab));
	put_headers(f, &l);
	assert_int_equal(fclose(f), 0);
}

/* ---- measuring a child ---------------------------------------------- */

#define PROBES 4

struct report {
	long start_maxrss_kb;		/* the child's high-water mark before the work */
	int open_err;			/* errno of ms_elf__open, 0 if it opened */
	int find;			/* ms_elf__find_func() */
	int lookup[PROBES];		/* symcache__lookup() at probe[i] */
	char name[PROBES][32];		/* "" for NULL */
	uint64_t offset[PROBES];
	struct symcache_stats stats;
	double seconds;			/* of the symcache work */
};

struct measured {
	struct report r;
	long peak_kb;			/* child's ru_maxrss */
	long growth_kb;
};

static long maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Everything the symboliser does with path: open, find_func(fn), then lookups twice over. */
static void child_work(const char *path, const char *fn, const uint64_t *probe,
		       struct report *r)
{
	struct symcache_opts opts = { .debug_dir = tmp("no-debug-dir") };
	struct ms_sym s;
	struct ms_elf *e;
	struct symcache *c;
	double t0;
	int i, pass;

	r->start_maxrss_kb = maxrss_kb();
	e = ms_elf__open(path);
	r->open_err = e ? 0 : errno;
	r->find = e ? ms_elf__find_func(e, fn, NULL, NULL) : -r->open_err;
	ms_elf__close(e);

	t0 = now();
	c = symcache__new(&opts);
	if (!c)
		_exit(3);
	/* Twice: the second round must be served (or refused) from the cache. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < PROBES; i++) {
			r->lookup[i] = symcache__lookup(c, path, NULL, probe[i], &s);
			snprintf(r->name[i], sizeof(r->name[i]), "%s", s.name ? s.name : "");
			r->offset[i] = s.offset;
		}
	}
	r->seconds = now() - t0;
	symcache__stats(c, &r->stats);
	symcache__free(c);
}

static struct measured measure(const char *path, const char *fn, const uint64_t *probe)
{
	struct measured m;
	struct rusage ru;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	memset(&m, 0, sizeof(m));
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct report r;

		memset(&r, 0, sizeof(r));
		close(fds[0]);
		child_work(path, fn, probe, &r);
		_exit(write(fds[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 2);
	}
	close(fds[1]);
	n = read(fds[0], &m.r, sizeof(m.r));
	close(fds[0]);
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(n, sizeof(m.r));
	m.peak_kb = ru.ru_maxrss;
	m.growth_kb = m.peak_kb - m.r.start_maxrss_kb;
	return m;
}

/* ---- tests ------------------------------------------------------------ */

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64 + sizeof(tmpdir)];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

static const uint64_t bomb_probes[PROBES] = { 0x40, 0x48, 0x5f, 0x60 };

static void check_bomb(const char *path, int want, const char *what)
{
	struct measured m = measure(path, "bomb_func", bomb_probes);
	int i;

	print_message("%s: peak RSS %ld KiB, +%ld KiB while refusing it (cap +%d KiB)\n", what,
		      m.peak_kb, m.growth_kb, BOMB_RSS_CAP_KB);
	/* Opening reads headers only: nothing is inflated before a table is needed. */
	assert_int_equal(m.r.open_err, 0);
	assert_int_equal(m.r.find, want);
	for (i = 0; i < PROBES; i++) {
		assert_int_equal(m.r.lookup[i], want);
		assert_string_equal(m.r.name[i], "");
	}
	/* one failed load, cached: all 2 * PROBES lookups are errors, none a hit */
	assert_int_equal(m.r.stats.lookups, 2 * PROBES);
	assert_int_equal(m.r.stats.errors, 2 * PROBES);
	assert_int_equal(m.r.stats.hits, 0);
	assert_int_equal(m.r.stats.modules, 0);
	assert_true(m.growth_kb < BOMB_RSS_CAP_KB);
}

/* a .symtab whose Elf64_Chdr claims 1 TiB is refused with -EFBIG, costing almost nothing */
static void test_symtab_bomb_is_efbig(void **state)
{
	const char *p = tmp("symtab-bomb");

	write_bomb_elf(p, BOMB_SYMTAB);
	check_bomb(p, -EFBIG, "1 TiB .symtab claim");
}

/* the same claim on .strtab: -EFBIG too */
static void test_strtab_bomb_is_efbig(void **state)
{
	const char *p = tmp("strtab-bomb");

	write_bomb_elf(p, BOMB_STRTAB);
	check_bomb(p, -EFBIG, "1 TiB .strtab claim");
}

/*
 * The other lie: the header claims 64 bytes but the stream inflates to
 * 256 MiB. Inflating stops at the claimed size and the section is corrupt
 * (-ENOEXEC), so the real size never reaches memory.
 */
static void test_understated_stream_stops_at_claim(void **state)
{
	const char *p = tmp("liar");
	struct stat st;

	write_bomb_elf(p, LIAR_STRTAB);
	assert_int_equal(stat(p, &st), 0);
	/* deflate packs 256 MiB of zeros ~1000:1: the file stays small */
	assert_true(st.st_size < 2 * MIB);
	check_bomb(p, -ENOEXEC, "64-byte claim, 256 MiB stream");
}

/*
 * 10M functions (a ~330 MB file): the first MS_SYM_MAX_SYMBOLS are kept and
 * symbolise exactly, the rest are dropped and counted, and the whole load
 * stays under BIG_RSS_CAP_KB of RSS growth and BIG_SECONDS_CAP seconds.
 */
static void test_ten_million_symbols(void **state)
{
	const uint64_t kept = MS_SYM_MAX_SYMBOLS, last = kept - 1;
	const uint64_t probes[PROBES] = {
		5 * 16 + 3,		/* f5 + 3 */
		last * 16 + 15,		/* the last kept symbol's last byte */
		kept * 16,		/* the first dropped symbol */
		(BIG_SYMS - 1) * 16ull + 8,	/* the last, dropped */
	};
	const char *p = tmp("big");
	char want[32];
	struct measured m;
	double t0 = now(), gen;

	write_big_elf(p, BIG_SYMS);
	gen = now() - t0;
	m = measure(p, "f9999999", probes);
	unlink(p);
	print_message("%u symbols: written in %.1f s; loaded and looked up in %.1f s; peak RSS "
		      "%ld KiB, +%ld KiB (cap +%d KiB); kept %" PRIu64 ", dropped %" PRIu64 "\n",
		      BIG_SYMS, gen, m.r.seconds, m.peak_kb, m.growth_kb, BIG_RSS_CAP_KB,
		      m.r.stats.symbols, m.r.stats.dropped_symbols);

	assert_int_equal(m.r.open_err, 0);
	/* ms_elf__find_func() reads the whole table: the cap is the symcache's, not its */
	assert_int_equal(m.r.find, 0);

	assert_int_equal(m.r.lookup[0], 0);
	assert_string_equal(m.r.name[0], "f5");
	assert_int_equal(m.r.offset[0], 3);
	snprintf(want, sizeof(want), "f%" PRIu64, last);
	assert_int_equal(m.r.lookup[1], 0);
	assert_string_equal(m.r.name[1], want);
	assert_int_equal(m.r.offset[1], 15);
	/* a dropped symbol's address is inside the module but names nothing */
	assert_int_equal(m.r.lookup[2], 0);
	assert_string_equal(m.r.name[2], "");
	assert_int_equal(m.r.lookup[3], 0);
	assert_string_equal(m.r.name[3], "");

	assert_int_equal(m.r.stats.modules, 1);
	assert_int_equal(m.r.stats.symbols, kept);
	assert_int_equal(m.r.stats.dropped_symbols, BIG_SYMS - kept);
	assert_int_equal(m.r.stats.lookups, 2 * PROBES);
	assert_int_equal(m.r.stats.hits, 2 * PROBES - 1);
	assert_int_equal(m.r.stats.errors, 0);
	assert_true(m.growth_kb < BIG_RSS_CAP_KB);
	assert_true(m.r.seconds < BIG_SECONDS_CAP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symtab_bomb_is_efbig),
		cmocka_unit_test(test_strtab_bomb_is_efbig),
		cmocka_unit_test(test_understated_stream_stops_at_claim),
		cmocka_unit_test(test_ten_million_symbols),
	};

	return cmocka_run_group_tests_name("limits", tests, setup, teardown);
}
