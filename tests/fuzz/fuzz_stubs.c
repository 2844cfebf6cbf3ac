/*
 * fuzz_stubs.c - what the src/ objects reference but the fuzz and replay
 * builds do not link (src/loop.c and src/main.c): no event loop runs
 * there, nothing listens, nothing drains.
 *
 * Also the sanitizer defaults shared by both builds: undefined behaviour
 * halts (and so counts as a crash) instead of printing and going on.
 */
#include "internal.h"

bool loop_draining;

uint64_t
loop_started_us(void)
{
	return 0;
}

int
loop_listen_port(int i)
{
	(void)i;
	return -1;
}

int
loop_listen(const char *list, bool tls)
{
	(void)list;
	(void)tls;
	return WARD_EINVAL;
}

int
loop_run(void)
{
	return 0;
}

const char *__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

