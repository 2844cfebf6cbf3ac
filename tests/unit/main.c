/* main.c - unit test runner: runs every suite, prints "N passed, M failed". */
#include <stdio.h>

#include "check.h"
#include "svc/svc.h"

unsigned check_passed, check_failed;
const char *check_suite = "";

#define SUITE(name) void suite_##name(void);
#include "suites.inc"
#undef SUITE

int
main(void)
{
	char err[256];

	/* the families' socket types and names, as the server has them */
	if (svc_index_register(err, sizeof err) != 0) {
		printf("index: %s\n0 passed, 1 failed\n", err);
		return 1;
	}
#define SUITE(name) check_suite = #name; suite_##name();
#include "suites.inc"
#undef SUITE
	printf("%u passed, %u failed\n", check_passed, check_failed);
	return check_failed == 0 ? 0 : 1;
}
