// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cxxjump - C++ exceptions and longjmp through frames that allocate.
 * On SIGUSR1: keeps 100 x new char[1000] from leaky::keep(int) (100,000 B);
 * throws and catches 1000 std::runtime_error (each allocates its message and
 * the exception object with malloc, freed when caught); longjmps 1000 times
 * out of a frame that allocated and freed; prints "done".
 */
#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <unistd.h>

static volatile sig_atomic_t go;
/* read back in main: otherwise the compiler may elide the allocations */
char *kept[100];
extern "C" void *volatile sink;
void *volatile sink;
static jmp_buf env;

namespace leaky {
__attribute__((noinline)) void keep(int i)
{
	kept[i] = new char[1000];
	kept[i][0] = static_cast<char>(i);
}
} // namespace leaky

__attribute__((noinline)) static void thrower(int i)
{
	throw std::runtime_error("a message long enough to need the heap: " + std::to_string(i));
}

__attribute__((noinline)) static void jumper(int i)
{
	char *p = static_cast<char *>(malloc(64 + i % 32));

	p[0] = 1;
	sink = p;	/* escapes: the malloc/free pair cannot be removed */
	free(p);
	longjmp(env, 1);
}

int main()
{
	setvbuf(stdout, nullptr, _IONBF, 0);
	signal(SIGUSR1, [](int) { go = 1; });
	printf("ready %d\n", getpid());
	while (!go)
		pause();
	for (int i = 0; i < 100; i++)
		leaky::keep(i);
	int caught = 0;
	for (int i = 0; i < 1000; i++) {
		try {
			thrower(i);
		} catch (const std::exception &) {
			caught++;
		}
	}
	int jumped = 0;
	for (int i = 0; i < 1000; i++) {
		if (setjmp(env) == 0)
			jumper(i);
		else
			jumped++;
	}
	int sum = 0;

	for (int i = 0; i < 100; i++)
		sum += kept[i][0];
	printf("done %d %d\n", caught, jumped + (sum == 4950 ? 0 : 1000000));
	for (;;)
		pause();
}
