/*
 * test_assert.c - WARD_ASSERT is live where it should be: in the asan,
 * small and fuzz builds (WARD_ASSERTS) a broken invariant logs and stops
 * through ward_assert_stop (port_abort in the server); in the others it
 * compiles to nothing and its expression is not evaluated.
 *
 * The stop is replaced by a longjmp back into the test rather than run in
 * a forked child: fork() under qemu-user (the board runs) dies with
 * SIGSEGV before the child runs a line.
 */
#include <setjmp.h>

#include "internal.h"
#include "check.h"

static int evaluated;
static int stopped;
static jmp_buf back;

static int
touch(void)
{
	evaluated = 1;
	return 0;
}

static void __attribute__((noreturn))
test_stop(void)
{
	stopped = 1;
	longjmp(back, 1);
}

void
suite_assert(void)
{
	void (*saved)(void) __attribute__((noreturn)) = ward_assert_stop;
	int level = log_level;

	CHECK(ward_assert_stop == port_abort);
	ward_assert_stop = test_stop;
	log_level = -1;		/* keep the runner's output clean */
	if (setjmp(back) == 0)
		WARD_ASSERT(touch() == 1);
	log_level = level;
	ward_assert_stop = saved;
#ifdef WARD_ASSERTS
	CHECK_EQ(evaluated, 1);
	CHECK_EQ(stopped, 1);
#else
	CHECK_EQ(evaluated, 0);	/* not evaluated, no stop */
	CHECK_EQ(stopped, 0);
#endif
	evaluated = stopped = 0;
	WARD_ASSERT(1 == 1);
	CHECK_EQ(evaluated, 0);
	CHECK_EQ(stopped, 0);
}
