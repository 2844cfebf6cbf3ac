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
