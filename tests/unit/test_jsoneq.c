/*
 * test_jsoneq.c - json_equal: JSON values compared as values (SPEC §5
 * changed_fields "keys whose values differ"): whitespace and member order
 * never matter, numbers by value, strings after unescaping.
 *
 * Each pair is parsed as one document [a, b] and tokens 1 and the token
 * after a's subtree are compared, both ways round.
 */
#include "internal.h"
#include "check.h"

static struct json_doc doc;

static int
eq(const char *a, const char *b)
{
	static char text[1024];
	int i, j, ab, ba;

	snprintf(text, sizeof text, "[%s,%s]", a, b);
	if (json_parse(&doc, text, strlen(text)) != 0)
		return -1;
	i = 1;
	j = json_skip(&doc, i);
	ab = json_equal(&doc, i, &doc, j);
	ba = json_equal(&doc, j, &doc, i);
	return ab == ba ? ab : -2;	/* -2: not symmetric */
}

static void
test_equal(void)
{
	CHECK_EQ(eq("[1, 2, 3]", "[1,2,3]"), 1);
	CHECK_EQ(eq("{\"p\":1,\"q\":2}", "{\"q\":2,\"p\":1}"), 1);
	CHECK_EQ(eq("{ \"p\" : [ 1 , { \"x\" : null } ] }",
	    "{\"p\":[1,{\"x\":null}]}"), 1);
	CHECK_EQ(eq("1", "1.0"), 1);
	CHECK_EQ(eq("1", "1e0"), 1);
	CHECK_EQ(eq("1.0", "1e0"), 1);
	CHECK_EQ(eq("100", "1E2"), 1);
	CHECK_EQ(eq("0", "-0"), 1);
	CHECK_EQ(eq("0.5", "5e-1"), 1);
	CHECK_EQ(eq("\"a\\u0062c\"", "\"abc\""), 1);
	CHECK_EQ(eq("\"caf\\u00e9\"", "\"caf\xC3\xA9\""), 1);
	CHECK_EQ(eq("\"\\ud83d\\ude00\"", "\"\xF0\x9F\x98\x80\""), 1);
	CHECK_EQ(eq("\"a\\/b\"", "\"a/b\""), 1);
	CHECK_EQ(eq("\"\\n\"", "\"\\u000a\""), 1);
	CHECK_EQ(eq("{\"\\u0061\":1}", "{\"a\":1.0}"), 1);
	CHECK_EQ(eq("{}", "{ }"), 1);
	CHECK_EQ(eq("[]", "[ ]"), 1);
	CHECK_EQ(eq("true", "true"), 1);
	CHECK_EQ(eq("null", "null"), 1);
	CHECK_EQ(eq("\"\"", "\"\""), 1);
	/* integers beyond 2^53 exactly */
	CHECK_EQ(eq("12345678901234567", "12345678901234567"), 1);
}

static void
test_differ(void)
{
	CHECK_EQ(eq("[1,2,3]", "[1,3,2]"), 0);	/* array order matters */
	CHECK_EQ(eq("[1,2]", "[1,2,3]"), 0);
	CHECK_EQ(eq("{\"p\":1}", "{\"p\":1,\"q\":2}"), 0);
	CHECK_EQ(eq("{\"p\":1}", "{\"q\":1}"), 0);
	CHECK_EQ(eq("{\"p\":1}", "{\"p\":2}"), 0);
	CHECK_EQ(eq("1", "\"1\""), 0);
	CHECK_EQ(eq("1", "true"), 0);
	CHECK_EQ(eq("0", "false"), 0);
	CHECK_EQ(eq("null", "false"), 0);
	CHECK_EQ(eq("true", "false"), 0);
	CHECK_EQ(eq("1", "1.0000001"), 0);
	CHECK_EQ(eq("\"abc\"", "\"abd\""), 0);
	CHECK_EQ(eq("\"ab\"", "\"abc\""), 0);
	CHECK_EQ(eq("\"a\\u0062\"", "\"ab \""), 0);
	CHECK_EQ(eq("\"caf\\u00e9\"", "\"cafe\""), 0);
	CHECK_EQ(eq("{}", "[]"), 0);
	CHECK_EQ(eq("[[1]]", "[1]"), 0);
	CHECK_EQ(eq("{\"a\":{\"b\":1}}", "{\"a\":{\"b\":2}}"), 0);
	CHECK_EQ(eq("12345678901234567", "12345678901234568"), 0);
	/* out-of-range indices are never equal */
	CHECK(!json_equal(&doc, -1, &doc, 0));
	CHECK(!json_equal(&doc, 0, &doc, doc.ntok));
}

void
suite_jsoneq(void)
{
	test_equal();
	test_differ();
}
