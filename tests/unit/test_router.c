/*
 * test_router.c - families handed to the core (router_add_family): a
 * family's routes are found in order after the index's, its socket types
 * numbered after theirs; a route whose socket type its family did not
 * declare, more routes than WARD_MAX_ROUTES or more types than
 * WARD_SOCK_TYPES are errors naming the family and the route (ward stops
 * at start-up), never a route silently dropped or a socket silently left
 * unregistered; a journal range overlapping another family's is refused
 * too.  The runner registered the index first.
 *
 * The table is global and only grows: the "too many" cases run last and
 * fill it.
 */
#include <stdio.h>

#include "internal.h"
#include "check.h"

static int
nop(struct conn *c, struct http_req *r)
{
	(void)c;
	(void)r;
	return 0;
}

static const struct ws_ops t_ops = { .type = "t_sock" };
static const struct ws_ops undeclared_ops = { .type = "t_undeclared" };

static const struct route t_routes[] = {
	{ .pattern = "/t/one", .methods = HTTP_M(HTTP_GET), .http = nop },
	{ .pattern = "/t/ws", .ws = &t_ops },
	{ .pattern = NULL }
};

static const struct route bad_routes[] = {
	{ .pattern = "/t/bad", .ws = &undeclared_ops },
	{ .pattern = NULL }
};

static uint16_t
count_routes(void)
{
	uint16_t n = 1;

	while (router_route(n) != NULL)
		n++;
	return n - 1;
}

static void
added(void)
{
	const struct family f = { .name = "t", .routes = t_routes,
	    .types = (const char *const[]){ "t_sock", NULL } };
	char err[256] = "";
	uint16_t before = count_routes();
	int types = reg_type_count();

	CHECK(before > 20);		/* the index's */
	CHECK_EQ(router_add_family(&f, err, sizeof err), 0);
	CHECK_EQ(count_routes(), before + 2);
	CHECK_STR(router_route(before + 1)->pattern, "/t/one");
	CHECK_STR(router_route(before + 2)->pattern, "/t/ws");
	CHECK_EQ(reg_type_count(), types + 1);
	CHECK_EQ(reg_type_of("t_sock"), types + 1);
	CHECK(router_route(0) == NULL);
	CHECK(router_route(before + 3) == NULL);
}

static void
undeclared_type(void)
{
	const struct family f = { .name = "bad", .routes = bad_routes };
	char err[256] = "";
	uint16_t before = count_routes();

	CHECK_EQ(router_add_family(&f, err, sizeof err), WARD_EINVAL);
	CHECK(strstr(err, "family bad") != NULL &&
	    strstr(err, "/t/bad") != NULL &&
	    strstr(err, "t_undeclared") != NULL);
	CHECK_EQ(count_routes(), before);
	CHECK_EQ(reg_type_of("t_undeclared"), REG_TYPE_NONE);
}

static void
too_many_routes(void)
{
	static struct route many[WARD_MAX_ROUTES + 2];
	const struct family f = { .name = "many", .routes = many };
	char err[256] = "";

	for (size_t i = 0; i < WARD_MAX_ROUTES + 1; i++) {
		many[i].pattern = "/t/many";
		many[i].methods = HTTP_M(HTTP_GET);
		many[i].http = nop;
	}
	CHECK_EQ(router_add_family(&f, err, sizeof err), WARD_EINVAL);
	CHECK(strstr(err, "WARD_MAX_ROUTES") != NULL &&
	    strstr(err, "family many") != NULL);
	CHECK_EQ(count_routes(), WARD_MAX_ROUTES);	/* full, not past */
}

static void
too_many_types(void)
{
	static char names[WARD_SOCK_TYPES + 1][24];
	static const char *list[WARD_SOCK_TYPES + 2];
	const struct family f = { .name = "types", .types = list };
	char err[256] = "";

	for (int i = 0; i <= WARD_SOCK_TYPES; i++) {
		snprintf(names[i], sizeof names[i], "t_type%d", i);
		list[i] = names[i];
	}
	CHECK_EQ(router_add_family(&f, err, sizeof err), WARD_EINVAL);
	CHECK(strstr(err, "WARD_SOCK_TYPES") != NULL);
	CHECK_EQ(reg_type_count(), WARD_SOCK_TYPES);
}

static void
nop_replay(int type, const uint8_t *p, size_t n)
{
	(void)type;
	(void)p;
	(void)n;
}

static int
nop_snapshot(void)
{
	return 0;
}

/* Journal ranges: the index's families hold 1-25; a range overlapping
 * one, holding the journal's own type 0 or empty is refused; a free one
 * is taken (once: taking it again overlaps itself). */
static void
journal_ranges(void)
{
	static const struct journal_family over = { 9, 12, nop_replay,
	    nop_snapshot };
	static const struct journal_family zero = { 0, 0, nop_replay,
	    nop_snapshot };
	static const struct journal_family empty = { 40, 39, nop_replay,
	    nop_snapshot };
	static const struct journal_family mine = { 200, 209, nop_replay,
	    nop_snapshot };
	const struct family f = { .name = "jover", .journal = &over };
	char err[256] = "";

	CHECK_EQ(journal_add_family(&over), WARD_EINVAL);
	CHECK_EQ(journal_add_family(&zero), WARD_EINVAL);
	CHECK_EQ(journal_add_family(&empty), WARD_EINVAL);
	CHECK_EQ(journal_add_family(&mine), 0);
	CHECK_EQ(journal_add_family(&mine), WARD_EINVAL);
	CHECK_EQ(router_add_family(&f, err, sizeof err), WARD_EINVAL);
	CHECK(strstr(err, "family jover") != NULL &&
	    strstr(err, "9-12") != NULL);
}

void
suite_router(void)
{
	journal_ranges();
	added();
	undeclared_type();
	too_many_routes();
	too_many_types();
}
