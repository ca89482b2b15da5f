// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pprof_serve.c - the daemon's side of /debug/pprof/ (export/pprof_http.c):
 * the profiles its jobs ask for, built on the event loop from the model as
 * `memsight dump` gets them (the encoding and compression are the HTTP
 * worker's), and the watched processes its index lists.
 */
#include <stdio.h>
#include <stdlib.h>

#include <microhttpd.h>

#include "daemon/daemon_int.h"
#include "export/pprof_http.h"

static struct ms_profile *collect(void *cls, pid_t pid, unsigned int *ret_status, char *why,
				  size_t whylen)
{
	struct daemon *d = cls;
	struct ms_target *t = ms_session__find(d->s, pid);
	struct ms_profile *p;

	if (!t) {
		*ret_status = MHD_HTTP_NOT_FOUND;
		snprintf(why, whylen, "PID %d is not watched (memsight attach %d; /debug/pprof/ "
			 "lists the watched processes)", (int)pid, (int)pid);
		return NULL;
	}
	/* no ages: the scan of live allocations is for top's "oldest" only */
	p = snapshot__profile(d, t, false, true);
	if (!p) {
		*ret_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		snprintf(why, whylen, "cannot read the data of PID %d", (int)pid);
	}
	return p;
}

void pprof_serve__collect(struct daemon *d)
{
	pprof_server__collect(d->pprof, collect, d);
}

void pprof_serve__publish(struct daemon *d)
{
	unsigned int n = watch__count(d), i = 0;
	struct pprof_proc *v;

	if (!d->pprof)
		return;
	v = calloc(n ?: 1, sizeof(*v));
	if (!v)
		return;
	for (struct ms_target *t = ms_session__targets(d->s); t && i < n; t = t->next, i++) {
		v[i].pid = t->pid;
		snprintf(v[i].comm, sizeof(v[i].comm), "%s", t->comm);
		v[i].is_go = t->gobin;
	}
	pprof_server__publish(d->pprof, v, i);
	free(v);
}
