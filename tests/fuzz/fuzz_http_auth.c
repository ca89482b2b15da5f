// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_http_auth - the input is an Authorization header's value, which
 * anyone who reaches memsightd's listener sends. Checked against a token and
 * two users (export/http_auth.c): the answer is 0 or -EACCES, and 0 only
 * for the token after "Bearer" or a Basic credential (the decoding is the
 * harness's own check that it names one of the users).
 */
#include <strings.h>

#include "fuzz_common.h"
#include "export/http_auth.h"

#define TOKEN "fuzz-token-0123456789abcdef"

static struct http_auth *auth;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tok[PATH_MAX], users[PATH_MAX], err[256];
	struct http_auth_conf c = { tok, users, "/metrics" };
	const char *dir = fuzz_scratch_dir();

	snprintf(tok, sizeof(tok), "%s/token", dir);
	snprintf(users, sizeof(users), "%s/users", dir);
	fuzz_write_file(tok, TOKEN "\n", strlen(TOKEN) + 1);
	fuzz_write_file(users, "alice:pa:ss\nbob:hunter22\n", 25);
	if (http_auth__load(&c, &auth, err, sizeof(err)) || !auth) {
		fprintf(stderr, "fuzz_http_auth: %s\n", err);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h;
	int r;

	if (size > 8192)
		return 0;
	h = calloc(1, size + 1);
	FUZZ_CHECK(h);
	memcpy(h, data, size);		/* up to the first NUL, as MHD hands it over */
	r = http_auth__check(auth, h);
	FUZZ_CHECK(r == 0 || r == -EACCES);
	if (r == 0) {
		const char *t = h + strlen(h) - strlen(TOKEN);
		bool bearer = !strncasecmp(h, "Bearer ", 7) && strlen(h) >= strlen(TOKEN) + 7 &&
			      !strcmp(t, TOKEN);

		FUZZ_CHECK(bearer || !strncasecmp(h, "Basic ", 6));
	}
	free(h);
	return 0;
}
