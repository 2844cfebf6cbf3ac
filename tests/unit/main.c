/* main.c - unit test runner: runs every suite, prints "N passed, M failed". */
#include <stdio.h>

#include "check.h"

unsigned check_passed, check_failed;
const char *check_suite = "";

#define SUITE(name) void suite_##name(void);
#include "suites.inc"
#undef SUITE

int
main(void)
{
#define SUITE(name) check_suite = #name; suite_##name();
#include "suites.inc"
#undef SUITE
	printf("%u passed, %u failed\n", check_passed, check_failed);
	return check_failed == 0 ? 0 : 1;
}
