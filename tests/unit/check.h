/*
 * check.h - the unit test "framework": a few macros and two counters.
 *
 * Each tests/unit/test_<name>.c defines `void suite_<name>(void)`; the
 * Makefile generates the list of suites, and main.c runs them all and
 * prints "N passed, M failed".  A check that fails prints file:line and
 * the expression, then the suite goes on.
 */
#ifndef WARD_CHECK_H
#define WARD_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern unsigned check_passed, check_failed;
extern const char *check_suite;

#define CHECK(cond) do { \
	if (cond) { check_passed++; } else { check_failed++; \
	fprintf(stderr, "FAIL %s:%d [%s] %s\n", __FILE__, __LINE__, \
	    check_suite, #cond); } } while (0)

#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	if (_a == _b) { check_passed++; } else { check_failed++; \
	fprintf(stderr, "FAIL %s:%d [%s] %s == %s (%lld != %lld)\n", \
	    __FILE__, __LINE__, check_suite, #a, #b, _a, _b); } } while (0)

#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
	if (_a && _b && strcmp(_a, _b) == 0) { check_passed++; } else { \
	check_failed++; fprintf(stderr, "FAIL %s:%d [%s] %s == \"%s\" (got \"%s\")\n", \
	    __FILE__, __LINE__, check_suite, #a, _b ? _b : "(null)", \
	    _a ? _a : "(null)"); } } while (0)

#define CHECK_MEM(a, b, n) do { \
	if (memcmp((a), (b), (n)) == 0) { check_passed++; } else { \
	check_failed++; fprintf(stderr, "FAIL %s:%d [%s] memcmp(%s, %s)\n", \
	    __FILE__, __LINE__, check_suite, #a, #b); } } while (0)

/*
 * The loop count of a slow randomized test: n, or n / 10 (at least 1)
 * when WARD_UNIT_QUICK is set.  The Makefile sets it when the unit
 * binary runs under qemu-user (a board), where the emulated CPU is ~20x
 * slower; the host build runs every count in full.
 */
static inline int
check_scale(int n)
{
	const char *q = getenv("WARD_UNIT_QUICK");

	if (q == NULL || *q == '\0' || *q == '0')
		return n;
	return n / 10 > 0 ? n / 10 : 1;
}

/* Deterministic PRNG for random split points (xorshift). */
static inline unsigned
check_rand(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#endif
