// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cxx - C++ new/delete under libmemsight_sampler.so: libstdc++'s operator
 * new calls malloc and its aligned form aligned_alloc, operator delete free,
 * so the sampler sees them. With --attach LIB at MEMSIGHT_SAMPLE_BYTES=1,
 * checks that every new reached memsight:alloc and every delete
 * memsight:free; always checks alignment, contents and bad_alloc.
 * Prints ok/FAIL lines; exit status: failed checks.
 */
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "usdt_count.h"

static int failed;
#define CHECK(name, cond) do { \
	if (cond) { printf("ok %s\n", name); } \
	else { printf("FAIL %s: %s (line %d)\n", name, #cond, __LINE__); failed++; } \
} while (0)

struct alignas(256) wide {
	char b[300];
};

int main(int argc, char **argv)
{
	struct usdt_count uc;
	bool attach = argc == 3 && !strcmp(argv[1], "--attach");
	uint64_t a0 = 0, f0 = 0, a1, f1;
	enum { N = 500 };
	static int *ints[N];
	static wide *wides[N];
	bool ok = true;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (attach && usdt_count__attach(&uc, argv[2], 0)) {
		printf("FAIL attach: %s\n", argv[2]);
		return 1;
	}
	if (attach) {
		a0 = usdt_count__allocs(&uc);
		f0 = usdt_count__frees(&uc);
	}
	for (int i = 0; i < N; i++) {
		ints[i] = new int(i);
		wides[i] = new wide;
		ok = ok && ((uintptr_t)wides[i] % 256 == 0);
	}
	unsigned p0 = usdt_count__pending(), p1;

	for (int i = 0; i < N; i++) {
		ok = ok && *ints[i] == i;
		delete ints[i];
		delete wides[i];
	}
	if (attach) {
		a1 = usdt_count__allocs(&uc);
		f1 = usdt_count__frees(&uc);
		p1 = usdt_count__pending();
		printf("# new/delete: %llu allocs, %llu free records (%llu free probe hits)\n",
		       (unsigned long long)(a1 - a0),
		       (unsigned long long)usdt_count__free_records(f1 - f0, p0, p1),
		       (unsigned long long)(f1 - f0));
		CHECK("new-through-malloc", a1 - a0 == 2 * N);
		CHECK("delete-through-free", usdt_count__free_records(f1 - f0, p0, p1) == 2 * N);
	}
	CHECK("new-aligned-and-kept", ok);
	try {
		std::vector<std::string> v;

		for (int i = 0; i < 1000; i++)
			v.push_back(std::string(100 + i, 'a' + i % 26));
		ok = v[999].size() == 1099 && v[999][0] == 'a' + 999 % 26;
	} catch (...) {
		ok = false;
	}
	CHECK("containers", ok);
	try {
		volatile size_t huge = SIZE_MAX / 4;
		char *p = new char[huge];

		delete[] p;
		ok = false;
	} catch (const std::bad_alloc &) {
		ok = true;
	}
	CHECK("bad_alloc", ok);
	if (attach)
		usdt_count__detach(&uc);
	return failed;
}
