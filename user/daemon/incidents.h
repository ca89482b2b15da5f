/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * incidents.h - bounded on-disk store of incident records (OOM kills).
 *
 * One JSON object per file, "<unix-seconds>-<pid>.json" in one directory
 * ("<unix-seconds>-<pid>-<n>.json", n = 1..99, if that name is taken), so
 * the store survives restarts and can be read with ls and cat. The id of
 * an incident is its file name without ".json". Files are written to a
 * ".tmp-*" name, fsync'd and renamed into place, so a reader never sees a
 * half-written record; leftovers of a crash are removed by open().
 *
 * Limits: at most max_count files and max_bytes of record data; after a
 * save (and at open, for a limit lowered in the config) the oldest records
 * by (when, pid, n) are deleted first and counted. A record is never
 * bigger than INCIDENTS_MAX_FILE.
 *
 * Listing parses the file name and the size, and takes "comm" from a
 * top-level "comm" string key found in the first INCIDENTS_HEAD bytes of
 * the record (writers: put it early). A file whose name matches but
 * whose content does not start with '{' and end with '}' (cut, garbage)
 * is left out of the listing but still counted and evicted by the limits;
 * files with other names are ignored.
 *
 * Functions return 0 or -errno and never log. Not thread-safe; one store
 * per directory.
 */
#ifndef MEMSIGHT_INCIDENTS_H
#define MEMSIGHT_INCIDENTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define INCIDENTS_MAX_FILE	(16u * 1024 * 1024)
#define INCIDENTS_HEAD		4096
/* "9223372036854775807-2147483647-99" plus NUL fits. */
#define INCIDENT_ID_LEN		40
#define INCIDENT_COMM_LEN	64

struct incidents;

struct incident_info {
	char id[INCIDENT_ID_LEN];
	int64_t when;			/* unix seconds */
	pid_t pid;
	uint64_t size;			/* bytes of the JSON file */
	char comm[INCIDENT_COMM_LEN];	/* "" if the record has none in its head */
};

struct incidents_stats {
	uint64_t count;			/* records in the store now */
	uint64_t bytes;
	uint64_t evicted_count;		/* deleted by the limits since open */
	uint64_t evicted_bytes;
};

/*
 * Creates dir (mode 0700, parents too) if missing. max_count >= 1,
 * max_bytes >= 1, else -EINVAL. The directory must be trusted: -ELOOP if
 * dir itself is a symbolic link, -EPERM if it is owned by another user than
 * root or us, or writable by group or others. Files in it are created with
 * O_EXCL | O_NOFOLLOW.
 */
int incidents__open(const char *dir, uint32_t max_count, uint64_t max_bytes,
		    struct incidents **ret);
/* What an error of incidents__open() says about the directory, after its path. */
const char *incidents__strerror(int err);
void incidents__close(struct incidents *s);

/*
 * Stores json[0..len) (must start with '{' and end with '}' after
 * whitespace: -EINVAL) and writes its id to ret_id (may be NULL).
 * -EFBIG if len exceeds INCIDENTS_MAX_FILE or max_bytes, -ERANGE if idlen
 * cannot hold the longest id this call could make, "<when>-<pid>-99"
 * (INCIDENT_ID_LEN always can; nothing is written then), -EEXIST if 100 records of the
 * same second and pid exist. The new record itself is never evicted.
 */
int incidents__save(struct incidents *s, const char *json, size_t len, time_t when, pid_t pid,
		    char *ret_id, size_t idlen);

/* Valid records, oldest first; *ret is malloc'd (NULL when none), free() it. */
int incidents__list(struct incidents *s, struct incident_info **ret, size_t *ret_n);

/*
 * The record's bytes, NUL-terminated for convenience (*ret_len excludes the
 * NUL); free() it. -EINVAL for an id that is not exactly an id as this
 * store makes them (so "../x", "a/b" never reach the file system),
 * -ENOENT if there is no such record, -EFBIG over INCIDENTS_MAX_FILE.
 */
int incidents__read(struct incidents *s, const char *id, char **ret_buf, size_t *ret_len);

int incidents__stats(struct incidents *s, struct incidents_stats *ret);

struct json_writer;
/* A listing as a JSON array: id, time, pid and bytes of each record. */
void incidents__json_list(const struct incident_info *v, size_t n, struct json_writer *w);

#endif /* MEMSIGHT_INCIDENTS_H */
