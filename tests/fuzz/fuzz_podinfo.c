// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_podinfo - a container runtime's OCI spec (target/podinfo.h) on
 * hostile text: the whole input is the config.json. Accepted names must be
 * Kubernetes names (lowercase letters, digits, '-', '.' in pod names only),
 * NUL-terminated within their fields; a refusal leaves every field empty.
 */
#include "fuzz_common.h"
#include "target/podinfo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void check_name(const char *s, size_t size, bool dots)
{
	size_t n = strnlen(s, size);

	FUZZ_CHECK(n > 0 && n < size);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			   s[i] == '-' || (dots && s[i] == '.'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const uids[] = { "", "5b0e4a3c-2f1d-4e6b-9a87-0c1d2e3f4a5b" };
	struct ms_pod p;

	for (size_t u = 0; u < 2; u++) {
		int r = podinfo__parse_spec((const char *)data, size, uids[u], &p);

		FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOMEM);
		if (r) {
			FUZZ_CHECK(!p.name[0] && !p.namespace[0] && !p.container[0] && !p.source);
			continue;
		}
		check_name(p.name, sizeof(p.name), true);
		check_name(p.namespace, sizeof(p.namespace), false);
		check_name(p.container, sizeof(p.container), false);
		FUZZ_CHECK(p.source != NULL);
	}
	return 0;
}
