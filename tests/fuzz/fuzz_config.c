// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_config - the input is a memsightd.conf. A file the parser accepts
 * must leave every field inside the range config.h documents, NUL-terminated
 * strings, and rules that rules__format() writes back in a form
 * rules__parse_line() reads as the same rule. A rejected file must come
 * with a message.
 */
#include "fuzz_common.h"
#include "daemon/config.h"

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_config(const struct ms_config *c)
{
	char line[MS_RULE_LINE_MAX], err[256];
	struct ms_rules back = { 0 };
	size_t i;
	int n;

	FUZZ_CHECK(terminated(c->socket, sizeof(c->socket)) && c->socket[0] == '/');
	FUZZ_CHECK(terminated(c->socket_group, sizeof(c->socket_group)));
	FUZZ_CHECK(terminated(c->state_dir, sizeof(c->state_dir)) && c->state_dir[0] == '/');
	FUZZ_CHECK(c->max_processes >= 1 && c->max_processes <= 65536);
	FUZZ_CHECK(c->snapshot_interval_s >= 1 && c->snapshot_interval_s <= 3600);
	FUZZ_CHECK(c->growth_window_s >= 10 && c->growth_window_s <= 86400);
	FUZZ_CHECK(c->live_entries >= 1024 && c->live_entries <= 67108864);
	FUZZ_CHECK(terminated(c->metrics_host, sizeof(c->metrics_host)));
	if (c->metrics_enabled)
		FUZZ_CHECK(c->metrics_port >= 1 && c->metrics_host[0]);
	else
		FUZZ_CHECK(c->metrics_port == 0 && !c->metrics_host[0]);
	FUZZ_CHECK(c->top_stacks <= 100);
	FUZZ_CHECK(terminated(c->incidents_dir, sizeof(c->incidents_dir)) &&
		   c->incidents_dir[0] == '/');
	FUZZ_CHECK(c->incidents_max_count >= 1 && c->incidents_max_count <= 100000);
	FUZZ_CHECK(c->incidents_max_bytes >= 4096 && c->incidents_max_bytes <= (1ull << 40));
	FUZZ_CHECK(c->rules.n <= MS_RULES_MAX && c->rules.n <= c->rules.cap);

	for (i = 0; i < c->rules.n; i++) {
		const struct ms_rule *r = &c->rules.v[i];

		FUZZ_CHECK(r->pattern && strlen(r->pattern) <= MS_RULE_PATTERN_MAX);
		n = rules__format(r, line, sizeof(line));
		FUZZ_CHECK(n > 0 && (size_t)n < sizeof(line) && strlen(line) == (size_t)n);
		FUZZ_CHECK(rules__parse_line(&back, line, (size_t)n, err, sizeof(err)) == 0);
		FUZZ_CHECK(back.n >= 1);
		FUZZ_CHECK(back.v[back.n - 1].action == r->action &&
			   back.v[back.n - 1].key == r->key &&
			   !strcmp(back.v[back.n - 1].pattern, r->pattern));
	}
	/* Short names: nothing a rule pattern can make slow (fnmatch backtracks). */
	rules__match(&c->rules, "leaky", "/usr/bin/leaky", "/system.slice/leaky.service");
	rules__free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct ms_config cfg;
	int r;

	memset(err, 0, sizeof(err));
	r = config__parse((const char *)data, size, size & 1 ? "fuzz.conf" : NULL, &cfg, err,
			  sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EFBIG || r == -ENOMEM);
	if (r) {
		FUZZ_CHECK(err[0] && terminated(err, sizeof(err)));
		/* "On failure *ret holds nothing to free." */
		FUZZ_CHECK(cfg.rules.n == 0);
		config__free(&cfg);
		return 0;
	}
	check_config(&cfg);
	config__free(&cfg);
	return 0;
}
