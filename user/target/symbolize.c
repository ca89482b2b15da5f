// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * symbolize.c - the symbol cache: (module file, file offset) -> symbol,
 * modules shared by build-id, errors cached too, least recently used
 * evicted. The ELF reading is elf.c's, debug files debugfile.c's, one
 * module's index symbolize_module.c's, inline frames symbolize_inline.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "target/symbolize_int.h"

#define HASH_BUCKETS	8192

/* ---- the cache ------------------------------------------------------ */

/*
 * Entries map a file (by dev/ino/size/mtime, so the same libc seen via
 * /proc/A/root and /proc/B/root is one entry) to a module or an error.
 * Files we cannot even stat are keyed by path.
 */
struct sc_entry {
	struct sc_entry *hnext;
	uint64_t used;
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
	struct sc_module *mod;
	int err;
};

struct symcache {
	char *debug_dir;
	bool demangle;
	size_t max_entries;
	struct sc_entry *buckets[HASH_BUCKETS];
	size_t nentries;
	struct sc_module *mods;
	uint64_t tick;
	struct symcache_stats stats;
};

static size_t hash_stat(const struct stat *st)
{
	uint64_t h = (uint64_t)st->st_ino * 0x9e3779b97f4a7c15ull;

	h ^= (uint64_t)st->st_dev + ((uint64_t)st->st_size << 7) + (uint64_t)st->st_mtim.tv_nsec;
	h ^= h >> 29;
	return (size_t)(h % HASH_BUCKETS);
}

static size_t hash_path(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ull;
	return (size_t)(h % HASH_BUCKETS);
}

static bool entry_is(const struct sc_entry *ent, const struct stat *st, const char *path)
{
	if (!st)
		return ent->path && !strcmp(ent->path, path);
	return !ent->path && ent->dev == st->st_dev && ent->ino == st->st_ino &&
	       ent->size == st->st_size && ent->mtim.tv_sec == st->st_mtim.tv_sec &&
	       ent->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

static size_t entry_bucket(const struct sc_entry *ent)
{
	struct stat st;

	if (ent->path)
		return hash_path(ent->path);
	memset(&st, 0, sizeof(st));
	st.st_dev = ent->dev;
	st.st_ino = ent->ino;
	st.st_size = ent->size;
	st.st_mtim = ent->mtim;
	return hash_stat(&st);
}

static struct sc_entry *cache_find(struct symcache *c, const struct stat *st, const char *path)
{
	struct sc_entry *ent = c->buckets[st ? hash_stat(st) : hash_path(path)];

	for (; ent; ent = ent->hnext)
		if (entry_is(ent, st, path))
			return ent;
	return NULL;
}

static void cache_put_module(struct symcache *c, struct sc_module *m)
{
	if (--m->refs)
		return;
	if (m->prev)
		m->prev->next = m->next;
	else
		c->mods = m->next;
	if (m->next)
		m->next->prev = m->prev;
	c->stats.modules--;
	c->stats.symbols -= m->nsyms;
	sc_module__free(m);
}

static void entry_free(struct symcache *c, struct sc_entry *ent)
{
	if (ent->mod)
		cache_put_module(c, ent->mod);
	free(ent->path);
	free(ent);
}

/* Least recently used entry: O(entries), but only paid on a miss when full. */
static void cache_evict_one(struct symcache *c)
{
	struct sc_entry **victim = NULL, **pp;
	struct sc_entry *ent;
	size_t b;

	for (b = 0; b < HASH_BUCKETS; b++)
		for (pp = &c->buckets[b]; *pp; pp = &(*pp)->hnext)
			if (!victim || (*pp)->used < (*victim)->used)
				victim = pp;
	if (!victim)
		return;
	ent = *victim;
	*victim = ent->hnext;
	c->nentries--;
	entry_free(c, ent);
}

static int cache_add(struct symcache *c, const struct stat *st, const char *path,
		     struct sc_module *m, int err)
{
	struct sc_entry *ent = calloc(1, sizeof(*ent));
	size_t b;

	if (!ent)
		return -ENOMEM;
	if (st) {
		ent->dev = st->st_dev;
		ent->ino = st->st_ino;
		ent->size = st->st_size;
		ent->mtim = st->st_mtim;
	} else {
		ent->path = strdup(path);
		if (!ent->path) {
			free(ent);
			return -ENOMEM;
		}
	}
	ent->used = c->tick;
	ent->err = err;
	ent->mod = m;
	if (m)
		m->refs++;
	b = entry_bucket(ent);
	ent->hnext = c->buckets[b];
	c->buckets[b] = ent;
	c->nentries++;
	return 0;
}

/* The module for path: shared with an identical build, or loaded. */
static int cache_get_module(struct symcache *c, const char *path, const char *root,
			    struct sc_module **ret)
{
	uint8_t bid[MS_ELF_BUILD_ID_CAP];
	struct sc_module *m;
	struct ms_elf *e;
	int err, bid_len;

	e = ms_elf__open(path);
	if (!e)
		return -errno;
	bid_len = ms_elf__build_id(e, bid, sizeof(bid));
	for (m = bid_len > 0 ? c->mods : NULL; m; m = m->next) {
		if (m->build_id_len == (size_t)bid_len && !memcmp(m->build_id, bid, m->build_id_len)) {
			ms_elf__close(e);
			*ret = m;
			return 0;
		}
	}
	err = sc_module__load(c->debug_dir, &e, path, root, &m, &c->stats.dropped_symbols);
	ms_elf__close(e);	/* NULL when the module kept it for DWARF */
	if (err)
		return err;
	m->next = c->mods;
	if (c->mods)
		c->mods->prev = m;
	c->mods = m;
	c->stats.modules++;
	c->stats.symbols += m->nsyms;
	*ret = m;
	return 0;
}


/* A frame in an already-seen file costs one stat(), never an open(). */
static int cache_module(struct symcache *c, const char *path, const char *root,
			struct sc_module **ret)
{
	struct sc_module *m = NULL;
	struct sc_entry *ent;
	struct stat st;
	int err;

	c->stats.lookups++;
	c->tick++;

	if (stat(path, &st)) {
		err = -errno;
		ent = cache_find(c, NULL, path);
		if (ent) {
			ent->used = c->tick;
			err = ent->err;
		} else {
			if (c->nentries >= c->max_entries)
				cache_evict_one(c);
			cache_add(c, NULL, path, NULL, err);
		}
		c->stats.errors++;
		return err;
	}

	ent = cache_find(c, &st, NULL);
	if (ent) {
		ent->used = c->tick;
		if (!ent->mod) {
			c->stats.errors++;
			return ent->err;
		}
		c->stats.hits++;
		*ret = ent->mod;
		return 0;
	}

	/* Make room first: eviction must not free the module we are about to use. */
	if (c->nentries >= c->max_entries)
		cache_evict_one(c);
	err = cache_get_module(c, path, root, &m);
	if (err == -ENOMEM) {	/* not a property of the file: do not cache it */
		c->stats.errors++;
		return err;
	}
	if (cache_add(c, &st, NULL, m, err)) {
		if (m && !m->refs) {
			m->refs = 1;
			cache_put_module(c, m);
		}
		c->stats.errors++;
		return -ENOMEM;
	}
	if (err) {
		c->stats.errors++;
		return err;
	}
	*ret = m;
	return 0;
}

/* Both lookups start alike: ret cleared and naming the module, the module cached. */
static int lookup_start(struct symcache *c, const char *path, const char *root,
			struct ms_sym *ret, struct sc_module **ret_m)
{
	if (!ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (!c || !path)
		return -EINVAL;
	ret->module = path;
	return cache_module(c, path, root, ret_m);
}

int symcache__lookup(struct symcache *c, const char *path, const char *root, uint64_t file_off,
		     struct ms_sym *ret)
{
	struct sc_module *m;
	int err = lookup_start(c, path, root, ret, &m);

	return err ? err : sc_module__lookup(m, c->demangle, file_off, ret);
}


int symcache__lookup_frames(struct symcache *c, const char *path, const char *root,
			    uint64_t file_off, struct ms_sym *ret, size_t max, size_t *ret_n)
{
	struct sc_module *m;
	int err;

	if (!ret_n)
		return -EINVAL;
	*ret_n = 0;
	if (!max)
		return -EINVAL;
	err = lookup_start(c, path, root, ret, &m);
	return err ? err : sc_module__frames(m, c->demangle, file_off, ret, max, ret_n);
}

struct symcache *symcache__new(const struct symcache_opts *opts)
{
	const char *dir = opts && opts->debug_dir ? opts->debug_dir : "/usr/lib/debug";
	struct symcache *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->debug_dir = strdup(dir);
	if (!c->debug_dir) {
		free(c);
		return NULL;
	}
	c->demangle = !(opts && opts->no_demangle);
	c->max_entries = MS_SYM_MAX_MODULES;
	if (opts && opts->max_modules && opts->max_modules < MS_SYM_MAX_MODULES)
		c->max_entries = opts->max_modules;
	return c;
}

void symcache__free(struct symcache *c)
{
	struct sc_entry *ent, *next;
	size_t b;

	if (!c)
		return;
	for (b = 0; b < HASH_BUCKETS; b++) {
		for (ent = c->buckets[b]; ent; ent = next) {
			next = ent->hnext;
			entry_free(c, ent);
		}
	}
	free(c->debug_dir);
	free(c);
}

void symcache__stats(const struct symcache *c, struct symcache_stats *ret)
{
	*ret = c->stats;
}