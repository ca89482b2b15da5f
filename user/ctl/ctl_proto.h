/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ctl_proto.h - the memsightd control protocol: request lines and JSON
 * responses, shared by the daemon (parse) and the CLI (format).
 *
 * A request is one line of at most CTL_LINE_MAX bytes including its '\n':
 *
 *	VERB [key=value | key="quoted value"] ...
 *
 * separated by spaces or tabs. Inside quotes only \" and \\ are escapes.
 * Keys are [a-z_]{1,32}; values are 1..CTL_VALUE_MAX bytes with no NUL and
 * no control characters. An unquoted value may not contain '"' or '\'.
 *
 * Beyond daemon_spec.md: top also takes an optional format= (the CLI asks
 * for text or json); without it req.format is CTL_FMT_NONE.
 *
 * Everything here is a pure function over caller memory: no globals, no
 * allocation, no logging, so the parsers can be fuzzed as they are.
 */
#ifndef MEMSIGHT_CTL_PROTO_H
#define MEMSIGHT_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/json.h"

#define CTL_LINE_MAX	4096		/* bytes, including the '\n' */
#define CTL_VALUE_MAX	1024		/* bytes of a decoded value */
#define CTL_KEY_MAX	32
#define CTL_ARGS_MAX	16
#define CTL_PID_MAX	4194304		/* PID_MAX_LIMIT on 64-bit */
#define CTL_COUNT_MAX	100000		/* n= and frames= */
#define CTL_TOP_N_DEFAULT	10	/* stacks shown by top; 0 = all */
#define CTL_FRAMES_DEFAULT	0	/* frames per stack; 0 = all */
#define CTL_ERR_MAX	256		/* an err buffer this big never truncates */

enum ctl_verb {
	CTL_PING,
	CTL_ATTACH,
	CTL_DETACH,
	CTL_PS,
	CTL_TOP,
	CTL_DUMP,
	CTL_RULES,
	CTL_STATS,
	CTL_RELOAD,
	CTL_VERB_COUNT
};

/* What attach/detach act on; top and dump always carry CTL_SEL_PID. */
enum ctl_selector {
	CTL_SEL_NONE,
	CTL_SEL_PID,
	CTL_SEL_COMM,
	CTL_SEL_EXE,
	CTL_SEL_CGROUP,
	CTL_SEL_POD,		/* Kubernetes pod name */
	CTL_SEL_NAMESPACE,	/* ... its namespace */
	CTL_SEL_CONTAINER,	/* ... container name */
};

enum ctl_format {
	CTL_FMT_NONE,
	CTL_FMT_PPROF,
	CTL_FMT_FOLDED,
	CTL_FMT_SVG,
	CTL_FMT_JSON,
	CTL_FMT_TEXT,
};

enum ctl_value {
	CTL_VAL_INUSE_BYTES,	/* the default */
	CTL_VAL_ALLOC_BYTES,
	CTL_VAL_INUSE_COUNT,
	CTL_VAL_ALLOC_COUNT,
};

/* Bits of ctl_request.keys: which keys the line carried. */
enum ctl_key {
	CTL_KEY_PID	= 1u << 0,
	CTL_KEY_COMM	= 1u << 1,
	CTL_KEY_EXE	= 1u << 2,
	CTL_KEY_CGROUP	= 1u << 3,
	CTL_KEY_POD	= 1u << 4,
	CTL_KEY_NAMESPACE = 1u << 5,
	CTL_KEY_CONTAINER = 1u << 6,
	CTL_KEY_N	= 1u << 7,
	CTL_KEY_FRAMES	= 1u << 8,
	CTL_KEY_GROWTH	= 1u << 9,
	CTL_KEY_FORMAT	= 1u << 10,
	CTL_KEY_VALUE	= 1u << 11,
};

/*
 * A parsed request. Keys the line did not carry hold their defaults
 * (n = CTL_TOP_N_DEFAULT, frames = CTL_FRAMES_DEFAULT, growth = false,
 * value = CTL_VAL_INUSE_BYTES), so the daemon can read every field;
 * `keys` says which were given. Fixed size: nothing to free.
 */
struct ctl_request {
	enum ctl_verb verb;
	unsigned int keys;		/* CTL_KEY_* bits */
	enum ctl_selector sel;
	pid_t pid;			/* sel == CTL_SEL_PID */
	char sel_value[CTL_VALUE_MAX + 1];	/* comm/exe/cgroup/pod/... selector, NUL-terminated */
	uint32_t n;
	uint32_t frames;
	bool growth;
	enum ctl_format format;		/* dump; top when given (else CTL_FMT_NONE) */
	enum ctl_value value;
};

/*
 * Parse one request line WITHOUT its '\n' (line need not be NUL-terminated
 * and may contain NUL bytes, which are rejected). *ret is fully rewritten.
 * Returns 0, -EINVAL for any malformed request, -E2BIG when len is over
 * CTL_LINE_MAX - 1; on failure err gets "column N: what is wrong" (err may
 * be NULL / errlen 0).
 */
int ctl__parse_request(const char *line, size_t len, struct ctl_request *ret,
		       char *err, size_t errlen);

/*
 * A zeroed request for verb with the parser's defaults filled in, so a
 * client can set just what it needs before ctl__format_request().
 */
void ctl__request_init(struct ctl_request *req, enum ctl_verb verb);

/*
 * Write req as a request line ending in '\n', NUL-terminated, into buf.
 * Required keys are always written, optional ones when their bit is in
 * req->keys; values are quoted when needed, so parsing the line (without
 * its '\n') gives back an equal request. Returns the line length including
 * '\n' (not the NUL), -EINVAL when req is not a valid request (err says
 * why) or -ENOSPC when buf is too small (CTL_LINE_MAX + 1 always suffices).
 */
int ctl__format_request(char *buf, size_t len, const struct ctl_request *req,
			char *err, size_t errlen);

/* Names as they appear on the wire; NULL for an out-of-range enum. */
const char *ctl__verb_name(enum ctl_verb verb);
const char *ctl__format_name(enum ctl_format fmt);
const char *ctl__value_name(enum ctl_value value);
/* Wire name -> enum; -EINVAL for an unknown name. */
int ctl__verb_from_name(const char *s, enum ctl_verb *ret);
int ctl__format_from_name(const char *s, enum ctl_format *ret);
int ctl__value_from_name(const char *s, enum ctl_value *ret);

/*
 * Incremental line reader for a nonblocking socket. The buffer holds at
 * most one maximal line (CTL_LINE_MAX bytes with its '\n'), so a client
 * can never make the daemon hold more than that per connection.
 *
 *	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
 *		for (off = 0; off < n; ) {
 *			off += ctl_linebuf__feed(&lb, tmp + off, n - off);
 *			while ((r = ctl_linebuf__next(&lb, &line, &len)) == 1)
 *				handle(line, len);
 *			if (r < 0)
 *				reply error, close;
 *		}
 */
struct ctl_linebuf {
	char buf[CTL_LINE_MAX];
	size_t start;		/* first byte not yet returned */
	size_t len;		/* end of buffered data */
	size_t scanned;		/* bytes from start already searched for '\n' */
	bool too_long;		/* sticky: the connection must be closed */
};

void ctl_linebuf__init(struct ctl_linebuf *lb);
/*
 * Copy as much of data as fits; returns the bytes taken (possibly fewer
 * than n, 0 when full): call ctl_linebuf__next() until it stops returning
 * 1, then feed the rest. Invalidates lines returned before.
 */
size_t ctl_linebuf__feed(struct ctl_linebuf *lb, const void *data, size_t n);
/*
 * 1 and the next line (without '\n'; NUL-terminated in place, though it
 * may contain NULs of its own) valid until the next feed; 0 when no whole
 * line is buffered yet; -E2BIG once CTL_LINE_MAX bytes have arrived
 * without a '\n' (sticky).
 */
int ctl_linebuf__next(struct ctl_linebuf *lb, const char **ret_line, size_t *ret_len);
/* Bytes of an unfinished line (a client that stalls or hangs up mid-line). */
size_t ctl_linebuf__pending(const struct ctl_linebuf *lb);

/*
 * What went wrong, for a client to decide on; the "error" text beside it is
 * for humans and may change. On the wire as "code":"not_watched" etc.
 */
enum ctl_errcode {
	CTL_E_UNKNOWN,		/* no code, or one this client does not know */
	CTL_E_BAD_REQUEST,	/* the line did not parse, or lacks what the verb needs */
	CTL_E_DENIED,		/* the peer may not use the socket */
	CTL_E_NOT_WATCHED,	/* the PID is not watched */
	CTL_E_NO_RULE,		/* detach: no such rule */
	CTL_E_ATTACH_FAILED,	/* attach: the process or the rule was refused */
	CTL_E_FAILED,		/* the daemon could not do it (memory, reading, rendering) */
	CTL_E_UNSUPPORTED,	/* a verb this daemon does not serve */
	CTL_E_BUSY,		/* the peer's uid holds its share of connections */
	CTL_E_COUNT
};

/* Wire name of a code ("unknown" for CTL_E_UNKNOWN); NULL out of range. */
const char *ctl__errcode_name(enum ctl_errcode code);
/* Wire name -> code; CTL_E_UNKNOWN for NULL or a name not known here. */
enum ctl_errcode ctl__errcode_from_name(const char *s);

/*
 * Responses: one JSON object on one line. Each returns 0 or the writer's
 * -errno and flushes f.
 */
int ctl__write_ok(FILE *f);				/* {"ok":true} */
/* {"ok":false,"code":name,"error":msg}; -EINVAL for a code out of range */
int ctl__write_error(FILE *f, enum ctl_errcode code, const char *msg);
/* {"ok":true,"payload_bytes":n}; the caller then writes exactly n bytes. */
int ctl__write_payload_header(FILE *f, uint64_t n);
/*
 * For richer replies: a writer with {"ok":true already written; add members
 * with jw__kv_*() and finish with ctl__ok_end(), which closes the object,
 * flushes and frees the writer (also on error).
 */
int ctl__ok_begin(FILE *f, struct json_writer **ret_w);
int ctl__ok_end(struct json_writer *w);

/*
 * Client side: 1 and *ret_n when the response line (without '\n') is a
 * payload header as written above, 0 for any other response.
 */
int ctl__parse_payload_header(const char *line, size_t len, uint64_t *ret_n);

/* The key of a selector other than pid ("comm", ..., "container"), or NULL. */
const char *ctl__selector_name(enum ctl_selector sel);

#endif /* MEMSIGHT_CTL_PROTO_H */
