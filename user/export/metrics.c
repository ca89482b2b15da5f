// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include <microhttpd.h>

#include "export/metrics.h"

struct metrics_snapshot *metrics_snapshot__new(size_t nprocs)
{
	struct metrics_snapshot *m = calloc(1, sizeof(*m) + nprocs * sizeof(m->procs[0]));

	return m;
}

/* Length of a valid UTF-8 sequence at s (max n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* A label value: \\ \" \n escaped, invalid UTF-8 as U+FFFD. */
static void put_label(FILE *f, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v);

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		size_t l;

		if (s[i] == '\\' || s[i] == '"') {
			fputc('\\', f);
			fputc(s[i++], f);
			continue;
		}
		if (s[i] == '\n') {
			fputs("\\n", f);
			i++;
			continue;
		}
		l = utf8_len(s + i, n - i);
		if (!l) {
			fputs("\xef\xbf\xbd", f);
			i++;
			continue;
		}
		fwrite(s + i, 1, l, f);
		i += l;
	}
	fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void proc_labels(FILE *f, const struct metrics_proc *p)
{
	fprintf(f, "{pid=\"%d\",comm=", p->pid);
	put_label(f, p->comm);
}

static void proc_u64(FILE *f, const struct metrics_snapshot *m, const char *name, const char *type,
		     const char *help, size_t off)
{
	head(f, name, type, help);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct metrics_proc *p = &m->procs[i];

		fputs(name, f);
		proc_labels(f, p);
		fprintf(f, "} %" PRIu64 "\n", *(const uint64_t *)((const char *)p + off));
	}
}

/*
 * name{pid,comm,reason} 1 for each Go process whose WHAT could not be read
 * (the bool at have_off is false), with the reason at reason_off: said,
 * instead of a 0 in the figures' own series.
 */
static void go_unavailable_series(const struct metrics_snapshot *m, FILE *f, const char *name,
				  const char *what, size_t have_off, size_t reason_off)
{
	char help[128];

	snprintf(help, sizeof(help), "1 for a Go process whose %s cannot be read; reason says why.",
		 what);
	head(f, name, "gauge", help);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct metrics_proc *p = &m->procs[i];

		if (!p->is_go || *(const bool *)((const char *)p + have_off))
			continue;
		fputs(name, f);
		proc_labels(f, p);
		fputs(",reason=", f);
		put_label(f, (const char *)p + reason_off);
		fputs("} 1\n", f);
	}
}

/*
 * Goroutine growth and goroutines by creation site: bounded (METRICS_GO_SITES
 * sites and "other" per process), and for a Go process whose goroutines
 * cannot be read, a series saying why instead of a 0.
 */
static void go_goroutine_series(const struct metrics_snapshot *m, FILE *f)
{
	char help[256];

	go_unavailable_series(m, f, "memsight_go_goroutines_unavailable", "goroutines",
			      offsetof(struct metrics_proc, have_goroutines),
			      offsetof(struct metrics_proc, go_unavailable));
	head(f, "memsight_go_goroutines_growth_per_minute", "gauge",
	     "Slope of the goroutine count over the growth window, goroutines per minute.");
	for (size_t i = 0; i < m->nprocs; i++) {
		if (!m->procs[i].have_go_growth)
			continue;
		fputs("memsight_go_goroutines_growth_per_minute", f);
		proc_labels(f, &m->procs[i]);
		fprintf(f, "} %.3f\n", m->procs[i].go_growth_per_min);
	}
	snprintf(help, sizeof(help), "Goroutines by creation site (the go statement): the %d sites "
		 "with the most per process, the rest summed in site=\"other\".", METRICS_GO_SITES);
	head(f, "memsight_go_goroutines_by_site", "gauge", help);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct metrics_proc *p = &m->procs[i];

		for (uint32_t k = 0; k < p->ngo_sites; k++) {
			fputs("memsight_go_goroutines_by_site", f);
			proc_labels(f, p);
			fputs(",site=", f);
			put_label(f, p->go_sites[k].site);
			fprintf(f, "} %" PRIu64 "\n", p->go_sites[k].count);
		}
	}
	head(f, "memsight_go_goroutines_by_site_growth_per_minute", "gauge",
	     "Slope of a creation site's goroutine count over the growth window (per minute); "
	     "not for site=\"other\".");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct metrics_proc *p = &m->procs[i];

		for (uint32_t k = 0; k < p->ngo_sites; k++) {
			if (!p->go_sites[k].have_rate)
				continue;
			fputs("memsight_go_goroutines_by_site_growth_per_minute", f);
			proc_labels(f, p);
			fputs(",site=", f);
			put_label(f, p->go_sites[k].site);
			fprintf(f, "} %.3f\n", p->go_sites[k].per_min);
		}
	}
}

int metrics__render(const struct metrics_snapshot *m, FILE *f)
{
	static const struct { const char *type; size_t off; } rss[] = {
		{ "anon", offsetof(struct ms_proc_status, rss_anon_kb) },
		{ "file", offsetof(struct ms_proc_status, rss_file_kb) },
		{ "shmem", offsetof(struct ms_proc_status, rss_shmem_kb) },
		{ "swap", offsetof(struct ms_proc_status, vm_swap_kb) },
	};
	const struct ms_loss *l = &m->loss;
	const struct ms_map_usage *mu = &m->maps;

	proc_u64(f, m, "memsight_process_heap_inuse_bytes", "gauge",
		 "Bytes allocated through the C allocator since attach and not freed yet.",
		 offsetof(struct metrics_proc, inuse_bytes));
	proc_u64(f, m, "memsight_process_heap_inuse_allocations", "gauge",
		 "Allocations made since attach and not freed yet.",
		 offsetof(struct metrics_proc, inuse_count));
	proc_u64(f, m, "memsight_process_alloc_bytes_total", "counter",
		 "Bytes allocated since attach.", offsetof(struct metrics_proc, alloc_bytes));
	proc_u64(f, m, "memsight_process_allocations_total", "counter",
		 "Allocations made since attach.", offsetof(struct metrics_proc, alloc_count));

	head(f, "memsight_process_resident_memory_bytes", "gauge",
	     "Resident memory by type (anon, file, shmem; swap is swapped-out memory).");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct metrics_proc *p = &m->procs[i];

		if (!p->have_status)
			continue;
		for (size_t k = 0; k < sizeof(rss) / sizeof(rss[0]); k++) {
			fputs("memsight_process_resident_memory_bytes", f);
			proc_labels(f, p);
			fprintf(f, ",type=\"%s\"} %" PRIu64 "\n", rss[k].type,
				*(const uint64_t *)((const char *)&p->status + rss[k].off) * 1024);
		}
	}
	head(f, "memsight_process_resident_memory_peak_bytes", "gauge",
	     "Peak resident memory of the process (VmHWM).");
	for (size_t i = 0; i < m->nprocs; i++) {
		if (!m->procs[i].have_status)
			continue;
		fputs("memsight_process_resident_memory_peak_bytes", f);
		proc_labels(f, &m->procs[i]);
		fprintf(f, "} %" PRIu64 "\n", m->procs[i].status.vm_hwm_kb * 1024);
	}
	head(f, "memsight_process_threads", "gauge", "Threads of the process.");
	for (size_t i = 0; i < m->nprocs; i++) {
		if (!m->procs[i].have_status)
			continue;
		fputs("memsight_process_threads", f);
		proc_labels(f, &m->procs[i]);
		fprintf(f, "} %u\n", m->procs[i].status.threads);
	}
	head(f, "memsight_process_heap_growth_bytes_per_minute", "gauge",
	     "Slope of heap in use over the growth window.");
	for (size_t i = 0; i < m->nprocs; i++) {
		fputs("memsight_process_heap_growth_bytes_per_minute", f);
		proc_labels(f, &m->procs[i]);
		fprintf(f, "} %.1f\n", m->procs[i].growth_per_min);
	}
	head(f, "memsight_go_goroutines", "gauge", "Goroutines of a Go process (as runtime.NumGoroutine).");
	for (size_t i = 0; i < m->nprocs; i++) {
		if (!m->procs[i].have_goroutines)
			continue;
		fputs("memsight_go_goroutines", f);
		proc_labels(f, &m->procs[i]);
		fprintf(f, "} %" PRIu64 "\n", m->procs[i].goroutines);
	}
	go_goroutine_series(m, f);
	go_unavailable_series(m, f, "memsight_go_heap_unavailable", "heap figures",
			      offsetof(struct metrics_proc, have_go_heap),
			      offsetof(struct metrics_proc, go_heap_unavailable));
	{
		/* have: the offset of a bool that must be true too, or 0 for none */
		static const struct { const char *name, *help; size_t off, have; } gh[] = {
			{ "memsight_go_heap_alloc_bytes", "Go heap bytes of allocated objects, "
			  "live or not yet collected (HeapAlloc).",
			  offsetof(struct metrics_proc, go_heap_alloc), 0 },
			{ "memsight_go_heap_live_bytes", "Go heap bytes the last GC marked live "
			  "(gctrace's third figure); absent before the first GC.",
			  offsetof(struct metrics_proc, go_heap_live),
			  offsetof(struct metrics_proc, have_go_heap_live) },
			{ "memsight_go_heap_inuse_bytes", "Go heap spans in use (HeapInuse).",
			  offsetof(struct metrics_proc, go_heap_inuse), 0 },
			{ "memsight_go_heap_idle_bytes", "Go heap spans idle (HeapIdle).",
			  offsetof(struct metrics_proc, go_heap_idle), 0 },
			{ "memsight_go_heap_released_bytes", "Go heap returned to the OS (HeapReleased).",
			  offsetof(struct metrics_proc, go_heap_released), 0 },
			{ "memsight_go_next_gc_bytes", "Heap size of the next Go GC (NextGC).",
			  offsetof(struct metrics_proc, go_next_gc),
			  offsetof(struct metrics_proc, have_go_next_gc) },
		};

		for (size_t k = 0; k < sizeof(gh) / sizeof(gh[0]); k++) {
			head(f, gh[k].name, "gauge", gh[k].help);
			for (size_t i = 0; i < m->nprocs; i++) {
				const char *p = (const char *)&m->procs[i];

				if (!m->procs[i].have_go_heap ||
				    (gh[k].have && !*(const bool *)(p + gh[k].have)))
					continue;
				fputs(gh[k].name, f);
				proc_labels(f, &m->procs[i]);
				fprintf(f, "} %" PRIu64 "\n",
					*(const uint64_t *)(p + gh[k].off));
			}
		}
	}
	head(f, "memsight_go_gc_cycles_total", "counter", "Completed Go GC cycles (NumGC).");
	for (size_t i = 0; i < m->nprocs; i++) {
		if (!m->procs[i].have_go_heap)
			continue;
		fputs("memsight_go_gc_cycles_total", f);
		proc_labels(f, &m->procs[i]);
		fprintf(f, "} %u\n", m->procs[i].go_num_gc);
	}
	head(f, "memsight_stack_inuse_bytes", "gauge",
	     "Heap bytes in use by the top stacks of each process (rank 1 = most).");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct metrics_proc *p = &m->procs[i];

		for (uint32_t k = 0; k < p->nstacks; k++) {
			fputs("memsight_stack_inuse_bytes", f);
			proc_labels(f, p);
			fprintf(f, ",rank=\"%u\",frame=", k + 1);
			put_label(f, p->stacks[k].frame);
			fprintf(f, "} %" PRIu64 "\n", p->stacks[k].inuse_bytes);
		}
	}
	head(f, "memsight_stack_growth_bytes_per_minute", "gauge",
	     "Leak score of the top stacks: slope of their bytes in use.");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct metrics_proc *p = &m->procs[i];

		for (uint32_t k = 0; k < p->nstacks; k++) {
			fputs("memsight_stack_growth_bytes_per_minute", f);
			proc_labels(f, p);
			fprintf(f, ",rank=\"%u\",frame=", k + 1);
			put_label(f, p->stacks[k].frame);
			fprintf(f, "} %.1f\n", p->stacks[k].growth_per_min);
		}
	}
	head(f, "memsight_watched_processes", "gauge", "Processes memsightd watches.");
	fprintf(f, "memsight_watched_processes %zu\n", m->nprocs);
	head(f, "memsight_events_total", "counter", "Allocator events recorded.");
	fprintf(f, "memsight_events_total{type=\"alloc\"} %" PRIu64 "\n", l->alloc_events);
	fprintf(f, "memsight_events_total{type=\"free\"} %" PRIu64 "\n", l->free_events);
	head(f, "memsight_lost_events_total", "counter",
	     "Events not fully recorded; figures are lower bounds while this grows.");
	fprintf(f, "memsight_lost_events_total{reason=\"stack_error\"} %" PRIu64 "\n",
		l->stack_errors);
	fprintf(f, "memsight_lost_events_total{reason=\"stack_collision\"} %" PRIu64 "\n",
		l->stack_collisions);
	fprintf(f, "memsight_lost_events_total{reason=\"stack_table_full\"} %" PRIu64 "\n",
		l->stack_table_full);
	fprintf(f, "memsight_lost_events_total{reason=\"stack_quota\"} %" PRIu64 "\n",
		l->stack_quota);
	fprintf(f, "memsight_lost_events_total{reason=\"live_full\"} %" PRIu64 "\n", l->live_full);
	fprintf(f, "memsight_lost_events_total{reason=\"aggregate_full\"} %" PRIu64 "\n",
		l->agg_full);
	fprintf(f, "memsight_lost_events_total{reason=\"inflight_full\"} %" PRIu64 "\n",
		l->inflight_full);
	fprintf(f, "memsight_lost_events_total{reason=\"ringbuf_full\"} %" PRIu64 "\n",
		l->events_lost);
	fprintf(f, "memsight_lost_events_total{reason=\"dwarf_stack\"} %" PRIu64 "\n",
		l->ustack_lost);
	fprintf(f, "memsight_lost_events_total{reason=\"process_table_full\"} %" PRIu64 "\n",
		l->proc_table_full);
	head(f, "memsight_dwarf_stacks_total", "counter",
	     "Allocation stacks copied for DWARF unwinding in user space.");
	fprintf(f, "memsight_dwarf_stacks_total %" PRIu64 "\n", l->ustack_samples);
	head(f, "memsight_map_entries", "gauge", "Entries in use in memsight's BPF maps.");
	fprintf(f, "memsight_map_entries{map=\"live\"} %u\n", mu->live);
	fprintf(f, "memsight_map_entries{map=\"aggregates\"} %u\n", mu->aggs);
	fprintf(f, "memsight_map_entries{map=\"stacks\"} %u\n", mu->stacks);
	fprintf(f, "memsight_map_entries{map=\"pids\"} %u\n", mu->pids);
	head(f, "memsight_map_capacity", "gauge", "Capacity of memsight's BPF maps.");
	fprintf(f, "memsight_map_capacity{map=\"live\"} %u\n", mu->live_max);
	fprintf(f, "memsight_map_capacity{map=\"aggregates\"} %u\n", mu->aggs_max);
	fprintf(f, "memsight_map_capacity{map=\"stacks\"} %u\n", mu->stacks_max);
	fprintf(f, "memsight_map_capacity{map=\"pids\"} %u\n", mu->pids_max);
	head(f, "memsight_attach_errors_total", "counter", "Failed attempts to attach to a process.");
	fprintf(f, "memsight_attach_errors_total %" PRIu64 "\n", m->attach_errors);
	head(f, "memsight_oom_incidents_total", "counter", "OOM incidents recorded.");
	fprintf(f, "memsight_oom_incidents_total %" PRIu64 "\n", m->oom_incidents);
	return ferror(f) ? -EIO : 0;
}

int ms_drop_thread_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	/* capabilities are per thread: this one keeps none, the others theirs */
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/*
 * The HTTP thread parses what anyone on the network sends: it runs with no
 * capabilities at all, dropped at its first connection, before reading.
 */
static __thread bool http_caps_dropped;

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	if (!http_caps_dropped && ms_drop_thread_caps() == 0)
		http_caps_dropped = true;
}

struct metrics_server {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	char *text;		/* the last rendered exposition */
	size_t len;
	uint32_t top_stacks;
};

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_size, void **con_cls)
{
	struct metrics_server *srv = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int code = MHD_HTTP_OK;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char msg[] = "only GET\n";

		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						       MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (!strcmp(url, "/metrics")) {
		pthread_mutex_lock(&srv->lock);
		resp = MHD_create_response_from_buffer(srv->len, srv->text ?: "",
						       MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&srv->lock);
		if (resp)
			MHD_add_response_header(resp, "Content-Type",
						"text/plain; version=0.0.4; charset=utf-8");
	} else {
		static const char msg[] = "memsightd: see /metrics\n";

		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						       MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_FOUND;
	}
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

int metrics_server__start(const char *host, uint16_t port, uint32_t top_stacks,
			  struct metrics_server **ret, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct metrics_server *srv;
	char portstr[8];
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	int rc;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	pthread_mutex_init(&srv->lock, NULL);
	srv->top_stacks = top_stacks > METRICS_TOP_MAX ? METRICS_TOP_MAX : top_stacks;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* bounded: few connections, short timeouts, small per-connection memory */
	srv->mhd = MHD_start_daemon(flags, port, NULL, NULL, serve, srv,
				    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
				    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)8,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				    MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
				    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!srv->mhd) {
		snprintf(err, errlen, "cannot listen on %s:%u (address in use?)", host, port);
		pthread_mutex_destroy(&srv->lock);
		free(srv);
		return -EADDRINUSE;
	}
	*ret = srv;
	return 0;
}

void metrics_server__publish(struct metrics_server *srv, struct metrics_snapshot *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f) {
		metrics__render(m, f);
		if (fclose(f)) {
			free(buf);
			buf = NULL;
		}
	}
	free(m);
	if (!buf)
		return;	/* keep serving the previous text */
	pthread_mutex_lock(&srv->lock);
	free(srv->text);
	srv->text = buf;
	srv->len = len;
	pthread_mutex_unlock(&srv->lock);
}

uint32_t metrics_server__top_stacks(const struct metrics_server *srv)
{
	return srv->top_stacks;
}

void metrics_server__stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->mhd);
	pthread_mutex_destroy(&srv->lock);
	free(srv->text);
	free(srv);
}
