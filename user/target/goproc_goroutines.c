// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * goproc_goroutines.c - goroutines of a running Go process: runtime.allgs
 * walked and grouped by creation site and start function, as
 * isSystemGoroutine() and gcount() count them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/goproc.h"
#include "target/goproc_int.h"

#define ALLGS_CHUNK	4096		/* g pointers read at a time */
#define GROUPS_HARD_MAX	(1u << 20)	/* whatever opts.max_groups says */

/* NumGoroutine()'s gcount() over the same counters the runtime uses. */
static int gcount_read(struct goproc *gp, uint64_t allglen, int64_t *ret)
{
	const struct gp_field *pn = &gp->f[F_P_GFREE_N];
	uint64_t *ps = NULL, *addrs = NULL;
	uint8_t *sched = NULL, *pbuf = NULL;
	size_t slen, np = 0, i;
	bool *ok = NULL;
	int64_t n;
	int err;

	if (!gp->f[F_SCHED_NGSYS].ok || !gp->f[F_SCHED_GFREE_N].ok || !pn->ok)
		return -ENOTSUP;
	err = gp_sym_read(gp, S_SCHED, &sched, &slen);
	if (err)
		return err;
	/* 1.25+ counts the free g's in two lists: gFree.stack and gFree.noStack */
	n = (int64_t)allglen - (int32_t)fld_i(gp, F_SCHED_GFREE_N, sched, slen) -
	    (int32_t)fld_i(gp, F_SCHED_GFREE_NOSTACK, sched, slen) -
	    (int32_t)fld_u(gp, F_SCHED_NGSYS, sched, slen);
	err = gp_allp_read(gp, &ps, &np);
	if (err)
		goto out;
	addrs = calloc(np ? np : 1, sizeof(*addrs));
	ok = calloc(np ? np : 1, sizeof(*ok));
	pbuf = calloc(np ? np : 1, pn->size);
	if (!addrs || !ok || !pbuf) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < np; i++)
		addrs[i] = ps[i] ? ps[i] + pn->off : 0;
	err = gp_mem_read_batch(gp, addrs, np, pn->size, pbuf, ok);
	if (err)
		goto out;
	for (i = 0; i < np; i++) {
		if (!ok[i]) {
			err = -EFAULT;
			goto out;
		}
		n -= (int32_t)get_int(pbuf + i * pn->size, pn->size);
	}
	*ret = n < 1 ? 1 : n;
out:
	free(sched);
	free(ps);
	free(addrs);
	free(ok);
	free(pbuf);
	return err;
}

/* ---- goroutines ---- */

struct ggroup {
	uint64_t pc;
	uint64_t count, system;
	uint64_t by_state[GOPROC_G_NR];
	uint64_t user_by_state[GOPROC_G_NR];
	uint32_t wr[GOPROC_MAX_WAIT_REASONS];
	uint64_t startpc;	/* creator table: its goroutines' start function */
	bool mixed_start;	/* creator table: they start in different functions */
	bool is_system;		/* by start function (start table only) */
	bool is_main;		/* starts in runtime.main (start table only) */
};

/* Open-addressing pc -> group table, growing up to max entries. */
struct gtab {
	struct ggroup *v;
	size_t n, cap, max;
	uint32_t *slot;		/* index + 1; 0 = empty */
	size_t mask;
};

static size_t pc_hash(uint64_t pc)
{
	pc ^= pc >> 33;
	pc *= 0xff51afd7ed558ccdull;
	pc ^= pc >> 33;
	return (size_t)pc;
}

static int gtab_grow(struct gtab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64, i;
	struct ggroup *nv;
	uint32_t *ns;

	if (ncap > t->max)
		ncap = t->max;
	if (ncap <= t->cap)
		return -ENOSPC;
	nv = realloc(t->v, ncap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->v = nv;
	ns = calloc(ncap * 2, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	free(t->slot);
	t->slot = ns;
	t->cap = ncap;
	t->mask = ncap * 2 - 1;
	for (i = 0; i < t->n; i++) {
		size_t h = pc_hash(t->v[i].pc) & t->mask;

		while (t->slot[h])
			h = (h + 1) & t->mask;
		t->slot[h] = (uint32_t)(i + 1);
	}
	return 0;
}

/* Group of pc; created if new; NULL when full (ret_err 0) or out of memory. */
static struct ggroup *gtab_get(struct gtab *t, uint64_t pc, bool *ret_new, int *ret_err)
{
	size_t h;

	*ret_new = false;
	*ret_err = 0;
	if (t->cap) {
		for (h = pc_hash(pc) & t->mask; t->slot[h]; h = (h + 1) & t->mask)
			if (t->v[t->slot[h] - 1].pc == pc)
				return &t->v[t->slot[h] - 1];
	}
	if (t->n >= t->cap) {
		int err = gtab_grow(t);

		if (err) {
			*ret_err = err == -ENOSPC ? 0 : err;
			return NULL;
		}
	}
	for (h = pc_hash(pc) & t->mask; t->slot[h]; h = (h + 1) & t->mask)
		;
	t->slot[h] = (uint32_t)(t->n + 1);
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	t->v[t->n].pc = pc;
	*ret_new = true;
	return &t->v[t->n++];
}

static void gtab_free(struct gtab *t)
{
	free(t->v);
	free(t->slot);
}

/*
 * isSystemGoroutine(g, false) by the name of the start function; *is_main:
 * it is runtime.main, i.e. g is the main goroutine.
 */
static bool start_is_system(struct goproc *gp, uint64_t startpc, bool *is_main)
{
	struct go_func_info fi;

	*is_main = false;
	if (startpc < gp->bias || go_binary__lookup(gp->bin, startpc - gp->bias, &fi) ||
	    !fi.name)
		return false;
	*is_main = !strcmp(fi.name, "runtime.main");
	return !strncmp(fi.name, "runtime.", 8) && !*is_main &&
	       strcmp(fi.name, "runtime.handleAsyncEvent");
}

/*
 * runtime.waitReasonStrings, read once from the target so the strings match
 * its release (the enum changes between releases). Best effort.
 */
static void wait_reasons_load(struct goproc *gp)
{
	uint8_t hdrs[GOPROC_MAX_WAIT_REASONS * 16];
	uint64_t n;
	unsigned i;

	if (gp->wr_loaded)
		return;
	gp->wr_loaded = true;
	if (!gp->sym[S_WAITREASONS].ok)
		return;
	n = gp->sym[S_WAITREASONS].size / 16;
	if (n > GOPROC_MAX_WAIT_REASONS)
		n = GOPROC_MAX_WAIT_REASONS;
	if (gp_mem_read(gp, sym_addr(gp, S_WAITREASONS), hdrs, n * 16))
		return;
	for (i = 0; i < n; i++) {
		uint64_t p = get_uint(hdrs + i * 16, 8), len = get_uint(hdrs + i * 16 + 8, 8);

		if (len >= GOPROC_WAIT_REASON_LEN)
			len = GOPROC_WAIT_REASON_LEN - 1;
		if (len && gp_mem_read(gp, p, gp->wr[i], len))
			len = 0;
		gp->wr[i][len] = '\0';
	}
	gp->nr_wr = (unsigned)n;
}

static int state_of(uint32_t st)
{
	switch (st) {
	case G_RUNNING:
		return GOPROC_G_RUNNING;
	case G_RUNNABLE:
		return GOPROC_G_RUNNABLE;
	case G_WAITING:
	case G_LEAKED:
		return GOPROC_G_WAITING;
	case G_SYSCALL:
		return GOPROC_G_SYSCALL;
	default:
		return GOPROC_G_OTHER;
	}
}

static void group_add(struct ggroup *grp, int state, bool sys, unsigned wr)
{
	grp->count++;
	grp->system += sys;
	grp->by_state[state]++;
	if (!sys)
		grp->user_by_state[state]++;
	if (state == GOPROC_G_WAITING && wr < GOPROC_MAX_WAIT_REASONS)
		grp->wr[wr]++;
}

struct walk {
	struct gtab creators, starts;
	uint32_t win_off, win_len;	/* window of g read per goroutine */
};

/* Account one g whose window was read into w. */
static int walk_one(struct goproc *gp, struct walk *wk, const uint8_t *w,
		    struct goproc_goroutines *res)
{
	uint32_t st = (uint32_t)get_uint(w + gp->f[F_G_STATUS].off - wk->win_off,
					 gp->f[F_G_STATUS].size) & ~G_SCANBIT;
	uint64_t gopc, startpc;
	struct ggroup *cg, *sg;
	unsigned wr;
	bool sys, isnew, is_main;
	int state, err;

	if (st > gp->max_gstatus) {
		res->unreadable++;
		return 0;
	}
	if (st == G_DEAD || st == G_IDLE || st == G_DEADEXTRA) {
		res->dead++;
		return 0;
	}
	gopc = get_uint(w + gp->f[F_G_GOPC].off - wk->win_off, gp->f[F_G_GOPC].size);
	startpc = get_uint(w + gp->f[F_G_STARTPC].off - wk->win_off, gp->f[F_G_STARTPC].size);
	wr = (unsigned)get_uint(w + gp->f[F_G_WAITREASON].off - wk->win_off,
				gp->f[F_G_WAITREASON].size);
	state = state_of(st);

	sg = gtab_get(&wk->starts, startpc, &isnew, &err);
	if (err)
		return err;
	if (sg && isnew)
		sg->is_system = start_is_system(gp, startpc, &sg->is_main);
	sys = sg ? sg->is_system : start_is_system(gp, startpc, &is_main);
	if (sg)
		is_main = sg->is_main;
	/*
	 * The runtime starts the main goroutine (no `go` statement: its gopc is
	 * in the assembly that calls newproc): a group of its own, as the
	 * runtime's traceback prints no "created by" for it.
	 */
	if (is_main)
		gopc = GOPROC_MAIN_GOROUTINE_PC;
	cg = gtab_get(&wk->creators, gopc, &isnew, &err);
	if (err)
		return err;

	res->live++;
	res->by_state[state]++;
	if (sys) {
		res->system++;
	} else {
		res->user++;
		res->user_by_state[state]++;
	}
	if (sg)
		group_add(sg, state, sys, wr);
	if (cg && !cg->count)
		cg->startpc = startpc;
	else if (cg && cg->startpc != startpc)
		cg->mixed_start = true;	/* `go f()` with f a variable */
	if (cg)
		group_add(cg, state, sys, wr);
	if (!sg || !cg)
		res->ungrouped++;
	return 0;
}

static int group_cmp(const void *a, const void *b)
{
	const struct goproc_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* Public groups from a table; creation sites are looked up at pc - 1. */
static int groups_export(struct goproc *gp, const struct gtab *t, bool creator,
			 struct goproc_group **ret, size_t *ret_n)
{
	struct goproc_group *v;
	size_t i;

	v = calloc(t->n ? t->n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		const struct ggroup *g = &t->v[i];
		struct goproc_group *o = &v[i];
		struct go_func_info fi;
		uint64_t pc = g->pc;
		unsigned k;

		o->pc = pc;
		o->count = g->count;
		o->system = g->system;
		memcpy(o->by_state, g->by_state, sizeof(o->by_state));
		memcpy(o->user_by_state, g->user_by_state, sizeof(o->user_by_state));
		if (creator && pc == GOPROC_MAIN_GOROUTINE_PC) {
			o->main_goroutine = true;
			o->func = "runtime.main";
		} else if (creator) {
			pc--;
		}
		if (!o->main_goroutine && pc >= gp->bias && !go_binary__lookup(gp->bin, pc - gp->bias, &fi)) {
			o->func = fi.name;
			o->file = fi.file;
			o->line = fi.line;
		}
		if (creator && !g->mixed_start && g->startpc >= gp->bias &&
		    !go_binary__lookup(gp->bin, g->startpc - gp->bias, &fi))
			o->start_func = fi.name;
		o->top_wait_reason = -1;
		for (k = 0; k < GOPROC_MAX_WAIT_REASONS; k++) {
			if (g->wr[k] > o->top_wait_count) {
				o->top_wait_count = g->wr[k];
				o->top_wait_reason = (int)k;
			}
		}
		if (o->top_wait_reason >= 0 && (unsigned)o->top_wait_reason < gp->nr_wr &&
		    gp->wr[o->top_wait_reason][0])
			o->top_wait_reason_str = gp->wr[o->top_wait_reason];
	}
	qsort(v, t->n, sizeof(*v), group_cmp);
	*ret = v;
	*ret_n = t->n;
	return 0;
}

/* Walk g pointers gs[0..n): read each g's window in batches. */
static int walk_chunk(struct goproc *gp, struct walk *wk, const uint64_t *gs, size_t n,
		      uint8_t *buf, uint64_t *addrs, bool *ok, struct goproc_goroutines *res)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++)
		addrs[i] = gs[i] && !(gs[i] & 7) ? gs[i] + wk->win_off : 0;
	err = gp_mem_read_batch(gp, addrs, n, wk->win_len, buf, ok);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (!ok[i]) {
			res->unreadable++;
			continue;
		}
		err = walk_one(gp, wk, buf + i * wk->win_len, res);
		if (err)
			return err;
	}
	return 0;
}

int goproc__goroutines(struct goproc *gp, const struct goproc_opts *opts,
		       struct goproc_goroutines **ret)
{
	static const enum gp_field_id gf[] = { F_G_STATUS, F_G_WAITREASON, F_G_GOPC, F_G_STARTPC };
	uint64_t max_g = opts && opts->max_goroutines ? opts->max_goroutines :
			 GOPROC_MAX_GOROUTINES;
	uint32_t max_groups = opts && opts->max_groups ? opts->max_groups : GOPROC_MAX_GROUPS;
	struct goproc_goroutines *res = NULL;
	struct walk wk = { 0 };
	uint64_t *gs = NULL, *addrs = NULL;
	uint8_t hdr[24], lenbuf[8], *buf = NULL;
	uint64_t arr, len, cap, n, done;
	bool *ok = NULL;
	uint32_t lo = UINT32_MAX, hi = 0;
	size_t i;
	int err;

	*ret = NULL;
	err = gp_check_ready(gp, NEED_G);
	if (err)
		return err;
	for (i = 0; i < sizeof(gf) / sizeof(gf[0]); i++) {
		const struct gp_field *f = &gp->f[gf[i]];

		if (f->size > 8)
			return gp_set_reason(gp, -ENOTSUP, "runtime.g.%s is %u bytes",
					     gp_field_defs[gf[i]].path, f->size);
		if (f->off < lo)
			lo = f->off;
		if (f->off + f->size > hi)
			hi = f->off + f->size;
	}
	if (hi - lo > WINDOW_MAX)
		return gp_set_reason(gp, -ENOTSUP, "runtime.g fields span %u bytes", hi - lo);
	wk.win_off = lo;
	wk.win_len = hi - lo;
	if (max_groups > GROUPS_HARD_MAX)
		max_groups = GROUPS_HARD_MAX;
	wk.creators.max = wk.starts.max = max_groups;
	wait_reasons_load(gp);

	err = gp_mem_read(gp, sym_addr(gp, S_ALLGS), hdr, sizeof(hdr));
	if (!err)
		err = gp_mem_read(gp, sym_addr(gp, S_ALLGLEN), lenbuf, sizeof(lenbuf));
	if (err)
		return gp_set_reason(gp, err, "cannot read runtime.allgs: %s", strerror(-err));
	arr = get_uint(hdr, 8);
	len = get_uint(hdr + 8, 8);
	cap = get_uint(hdr + 16, 8);
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	res->allglen = get_uint(lenbuf, 8);
	/* allglen is stored after the append: the slice may be a little ahead */
	if (len > cap || len > USER_ADDR_MAX / 8 || (len && !addr_ok(arr, len * 8))) {
		err = gp_set_reason(gp, -E2BIG, "runtime.allgs is not a slice: len %llu cap %llu",
				    (unsigned long long)len, (unsigned long long)cap);
		goto out;
	}
	n = res->allglen < len ? res->allglen : len;
	if (n > max_g) {
		n = max_g;
		res->truncated = true;
	}

	gs = malloc(ALLGS_CHUNK * sizeof(*gs));
	addrs = malloc(ALLGS_CHUNK * sizeof(*addrs));
	ok = malloc(ALLGS_CHUNK * sizeof(*ok));
	buf = malloc((size_t)ALLGS_CHUNK * wk.win_len);
	if (!gs || !addrs || !ok || !buf) {
		err = -ENOMEM;
		goto out;
	}
	for (done = 0; done < n; done += i) {
		i = n - done < ALLGS_CHUNK ? n - done : ALLGS_CHUNK;
		/*
		 * If allgs grows meanwhile, we keep reading the old array: it stays
		 * mapped (heap memory), and the g's it names are never freed.
		 */
		err = gp_mem_read(gp, arr + done * 8, gs, i * 8);
		if (err) {
			err = gp_set_reason(gp, err, "runtime.allgs[%llu..] does not read: %s",
					    (unsigned long long)done, strerror(-err));
			goto out;
		}
		err = walk_chunk(gp, &wk, gs, i, buf, addrs, ok, res);
		if (err)
			goto out;
		res->walked += i;
	}

	res->gcount_err = gcount_read(gp, res->allglen, &res->gcount);
	err = groups_export(gp, &wk.creators, true, &res->by_creator, &res->nr_by_creator);
	if (!err)
		err = groups_export(gp, &wk.starts, false, &res->by_start, &res->nr_by_start);
out:
	free(gs);
	free(addrs);
	free(ok);
	free(buf);
	gtab_free(&wk.creators);
	gtab_free(&wk.starts);
	if (err) {
		goproc_goroutines__free(res);
		return err;
	}
	*ret = res;
	return 0;
}

void goproc_goroutines__free(struct goproc_goroutines *g)
{
	if (!g)
		return;
	free(g->by_creator);
	free(g->by_start);
	free(g);
}
