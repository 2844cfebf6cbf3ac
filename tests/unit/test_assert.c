/*
 * test_assert.c - WARD_ASSERT is live where it should be: in the asan,
 * small and fuzz builds (WARD_ASSERTS) a broken invariant stops the
 * process (SIGABRT, after a log line); in the others it compiles to
 * nothing and its expression is not evaluated.  A child process breaks
 * one; the parent reads how it ended.  The registry's own invariant (a
 * type list whose head is wrong) is broken the same way.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

static int evaluated;

static int
touch(void)
{
	evaluated = 1;
	return 0;
}

/* How a child running fn ended: the signal number, or 1000 + status. */
static int
child(void (*fn)(void))
{
	int st = 0;
	pid_t p;

	fflush(NULL);
	if ((p = fork()) == 0) {
		log_level = -1;	/* keep the runner's output clean */
		fn();
		_exit(0);
	}
	if (p < 0 || waitpid(p, &st, 0) != p)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 1000 + WEXITSTATUS(st);
}

static void
broken(void)
{
	WARD_ASSERT(touch() == 1);
	_exit(evaluated ? 3 : 4);
}

void
suite_assert(void)
{
#ifdef WARD_ASSERTS
	CHECK_EQ(child(broken), SIGABRT);
#else
	CHECK_EQ(child(broken), 1004);	/* not evaluated, no stop */
#endif
	WARD_ASSERT(1 == 1);
	CHECK_EQ(evaluated, 0);
}
