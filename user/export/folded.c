// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export/folded.h"
#include "common/unsample.h"
#include "common/textsafe.h"

static const char *const value_names[FOLDED_VALUE__MAX] = {
	[FOLDED_INUSE_BYTES] = "inuse_bytes",
	[FOLDED_ALLOC_BYTES] = "alloc_bytes",
	[FOLDED_INUSE_COUNT] = "inuse_count",
	[FOLDED_ALLOC_COUNT] = "alloc_count",
};

/* pprof's names for the same values, so users can say what `go tool pprof` says */
static const char *const pprof_names[FOLDED_VALUE__MAX] = {
	[FOLDED_INUSE_BYTES] = "inuse_space",
	[FOLDED_ALLOC_BYTES] = "alloc_space",
	[FOLDED_INUSE_COUNT] = "inuse_objects",
	[FOLDED_ALLOC_COUNT] = "alloc_objects",
};

int folded__parse_value(const char *s, enum folded_value *ret)
{
	for (int v = 0; v < FOLDED_VALUE__MAX; v++) {
		if (!strcmp(s, value_names[v]) || !strcmp(s, pprof_names[v])) {
			*ret = v;
			return 0;
		}
	}
	return -EINVAL;
}

const char *folded__value_name(enum folded_value v)
{
	if ((unsigned int)v >= FOLDED_VALUE__MAX)
		return "unknown";
	return value_names[v];
}

bool folded__value_is_bytes(enum folded_value v)
{
	return v == FOLDED_INUSE_BYTES || v == FOLDED_ALLOC_BYTES;
}

uint64_t folded__stack_value(const struct ms_profile *p, const struct ms_stack *s,
			     enum folded_value v)
{
	uint64_t count, bytes;
	bool inuse = v == FOLDED_INUSE_BYTES || v == FOLDED_INUSE_COUNT;

	/* page faults are not allocations (the text view shows them apart, --faults) */
	if (!inuse && !ms_kind__is_allocation(s->kind))
		return 0;

	ms_unsample(inuse ? s->inuse_count : s->alloc_count,
			 inuse ? s->inuse_bytes : s->alloc_bytes, p->sample_period, &count, &bytes);
	return folded__value_is_bytes(v) ? bytes : count;
}

/*
 * src escaped for the terminal (common/textsafe.h: a newline, ESC, C1 or
 * invalid UTF-8 becomes visible text), cut at FOLDED_NAME_MAX bytes, with
 * ';' (the frame separator) as ':'. A folded line stays one line and its
 * frames stay apart; a space is fine, the value follows the last one.
 */
static size_t put_name(char *buf, size_t len, const char *src)
{
	char *c;

	textsafe__str(buf, len > FOLDED_NAME_MAX + 1 ? FOLDED_NAME_MAX + 1 : len, src);
	for (c = buf; (c = strchr(c, ';')); c++)
		*c = ':';
	return strlen(buf);
}

size_t folded__frame_name(const struct ms_frame *f, char *buf, size_t len)
{
	char tmp[FOLDED_NAME_MAX + 1];

	if (!len)
		return 0;
	if (f->func && f->func[0])
		return put_name(buf, len, f->func);
	if (f->module && f->module[0] && f->addr >= f->map_start && f->addr < f->map_end) {
		const char *base = strrchr(f->module, '/');

		base = base && base[1] ? base + 1 : f->module;
		/* the file offset is what addr2line / objdump on the module understand */
		snprintf(tmp, sizeof(tmp), "%.*s+0x%" PRIx64, FOLDED_NAME_MAX - 20, base,
			 f->addr - f->map_start + f->map_pgoff);
	} else {
		snprintf(tmp, sizeof(tmp), "0x%" PRIx64, f->addr);
	}
	return put_name(buf, len, tmp);
}

static int cmp_folded(const void *a, const void *b)
{
	const struct folded_stack *x = a, *y = b;
	uint32_t n = x->nframes < y->nframes ? x->nframes : y->nframes;

	for (uint32_t i = 0; i < n; i++) {
		int c = strcmp(x->frames[i], y->frames[i]);

		if (c)
			return c;
	}
	return x->nframes < y->nframes ? -1 : x->nframes > y->nframes;
}

static void free_stack(struct folded_stack *fs)
{
	for (uint32_t i = 0; i < fs->nframes; i++)
		free(fs->frames[i]);
	free(fs->frames);
	fs->frames = NULL;
	fs->nframes = 0;
}

void folded_set__free(struct folded_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		free_stack(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
	set->total = 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Root first, the allocator kind as the leaf: that is where the bytes were asked for. */
static int fold_stack(const struct ms_stack *s, struct folded_stack *fs)
{
	char name[FOLDED_NAME_MAX + 1];
	uint32_t n = s->nframes ? s->nframes + 1 : 2;

	fs->frames = calloc(n, sizeof(*fs->frames));
	if (!fs->frames)
		return -ENOMEM;
	for (uint32_t i = 0; i < n - 1; i++) {
		if (s->nframes)
			folded__frame_name(&s->frames[s->nframes - 1 - i], name, sizeof(name));
		else
			strcpy(name, "[unknown]");
		fs->frames[i] = strdup(name);
		fs->nframes = i + 1;
		if (!fs->frames[i])
			goto oom;
	}
	put_name(name, sizeof(name), ms_kind__name(s->kind));
	fs->frames[n - 1] = strdup(name);
	fs->nframes = n;
	if (!fs->frames[n - 1])
		goto oom;
	return 0;
oom:
	free_stack(fs);
	return -ENOMEM;
}

int folded__collect(const struct ms_profile *p, enum folded_value v, struct folded_set *ret)
{
	struct folded_set set = {};
	size_t w;
	int err;

	memset(ret, 0, sizeof(*ret));
	if (!p->nstacks)
		return 0;
	set.v = calloc(p->nstacks, sizeof(*set.v));
	if (!set.v)
		return -ENOMEM;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ms_stack *s = &p->stacks[i];
		uint64_t val = folded__stack_value(p, s, v);

		if (!val)
			continue;
		err = fold_stack(s, &set.v[set.n]);
		if (err) {
			folded_set__free(&set);
			return err;
		}
		set.v[set.n++].value = val;
	}
	if (set.n > 1)
		qsort(set.v, set.n, sizeof(*set.v), cmp_folded);
	/* different addresses in the same functions fold to the same line: one line each */
	for (size_t r = w = 0; r < set.n; r++) {
		if (w && !cmp_folded(&set.v[w - 1], &set.v[r])) {
			set.v[w - 1].value = add_sat(set.v[w - 1].value, set.v[r].value);
			free_stack(&set.v[r]);
			continue;
		}
		set.v[w++] = set.v[r];
	}
	set.n = w;
	for (size_t i = 0; i < set.n; i++)
		set.total = add_sat(set.total, set.v[i].value);
	*ret = set;
	return 0;
}

int folded__write(const struct ms_profile *p, enum folded_value v, FILE *out)
{
	struct folded_set set;
	int err = folded__collect(p, v, &set);

	if (err)
		return err;
	for (size_t i = 0; i < set.n; i++) {
		const struct folded_stack *fs = &set.v[i];

		for (uint32_t j = 0; j < fs->nframes; j++) {
			if (j)
				fputc(';', out);
			fputs(fs->frames[j], out);
		}
		fprintf(out, " %" PRIu64 "\n", fs->value);
	}
	folded_set__free(&set);
	if (fflush(out) || ferror(out))
		return -EIO;
	return 0;
}
