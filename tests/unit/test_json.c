/*
 * test_json.c - the JSON reader (strict RFC 8259 acceptance, tokens,
 * json_find/json_skip, typed getters) and writer (jw_*: nesting, commas,
 * escaping, UTF-8 replacement, overflow latching), and log_time_iso through
 * jw_time on instants computed independently (Python's datetime).
 *
 * Documents are parsed from exact-size heap copies so ASan sees any read
 * past the end; every strict prefix of a container is refused.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "check.h"

static struct json_doc doc;
static char *held;

static int
parse_n(const char *s, size_t n)
{
	free(held);
	held = malloc(n ? n : 1);
	memcpy(held, s, n);
	return json_parse(&doc, held, n);
}

static int
parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static const char *const good_docs[] = {
	"{}", "[]", " {} ", "\t\r\n[ ]\n", "0", "-0", "1", "-1", "12.5",
	"1.5e10", "-1E-5", "1e+2", "0.0", "0e0",
	"123456789012345678901234567890",
	"true", "false", "null", " 42 ", "\"\"", "\"str\"",
	"{\"a\":1}", "{ \"a\" : [ 1 , 2 ] , \"b\" : { } }", "[true,false,null]",
	"{\"\":0}", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
	"[\"\\u00e9\\uD83D\\uDE00\"]",
	"[\"\\uD800\"]", "[\"\\uDC00x\"]",
	"\"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\"",
	"[\"\xF4\x8F\xBF\xBF\"]", "[[],[[]],{}]",
	"{\"a\":{\"a\":{\"a\":null}}}",
	"[1,\n\t2]", "[\"\x7F\"]", "{\"a\":{\"b\":1},\"b\":{\"a\":2}}",
	"[{\"a\":1},{\"a\":1}]", "{\"a\":1,\"A\":2,\"a \":3}",
};

static const char *const bad_docs[] = {
	"", " ", "[1,2,]", "{\"a\":1,}", "[,1]", "{,}", "[1,,2]", "01", "-01",
	"00", "1.", ".5", "-", "+1", "1e", "1e+", "1.e5", "0x10", "NaN",
	"Infinity", "-Infinity", "tru", "nul", "True", "NULL", "true x",
	"truee", "[truex]", "'a'", "{'a':1}", "[\"a\x01\"]", "\"tab\there\"",
	"\"nl\nhere\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\U0041\"",
	"\"\\'\"", "\"abc", "\"\\\"", "[1 2]", "{\"a\" 1}", "{\"a\":}",
	"{1:2}", "{a:1}", "{\"a\":1 \"b\":2}", "[1]]", "[1]x", "{}{}", "[}",
	"{]", "[", "{", "]", "}", ":", ",", "[\"a\":1]", "{\"a\"}",
	"\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"",
	"[\"\xCE\"]", "[\xFF]", "/* c */ 1", "1 // c", "\xEF\xBB\xBF{}",
	"[1e5.5]", "[- 1]", "[1 .5]", "[\"a\"\"b\"]", "{\"a\":1}}",
};

static void
test_accept_reject(void)
{
	for (size_t i = 0; i < ARRAY_LEN(good_docs); i++) {
		int rc = parse(good_docs[i]);

		if (rc != 0)
			fprintf(stderr, "  should parse: %s (%d)\n",
			    good_docs[i], rc);
		CHECK_EQ(rc, 0);
		CHECK(doc.ntok >= 1);
		CHECK(json_skip(&doc, 0) == doc.ntok);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad_docs); i++) {
		int rc = parse(bad_docs[i]);

		if (rc == 0)
			fprintf(stderr, "  should fail: %s\n", bad_docs[i]);
		CHECK(rc != 0);
	}
	/* an embedded NUL is a byte like any other: refused */
	CHECK(parse_n("[1,\0 2]", 7) != 0);
	CHECK(parse_n("[\"a\0\"]", 6) != 0);
	CHECK(parse_n("1\0", 2) != 0);
}

/* Every strict prefix of a container is incomplete: refused, no crash. */
static void
test_prefixes(void)
{
	int bad_n = 0;

	for (size_t i = 0; i < ARRAY_LEN(good_docs); i++) {
		const char *s = good_docs[i];
		size_t n = strlen(s), lead = strspn(s, " \t\r\n");

		if (s[lead] != '{' && s[lead] != '[')
			continue;
		for (size_t k = 0; k < n; k++) {
			if (strspn(s + k, " \t\r\n") == n - k)
				continue;	/* all but blanks */
			if (parse_n(s, k) == 0)
				bad_n++;
		}
	}
	CHECK_EQ(bad_n, 0);
}

static void
test_depth(void)
{
	char buf[200];
	int n;

	for (n = 0; n < 32; n++)
		buf[n] = '[';
	for (int i = 0; i < 32; i++)
		buf[n++] = ']';
	CHECK_EQ(parse_n(buf, (size_t)n), 0);
	for (n = 0; n < 33; n++)
		buf[n] = '[';
	for (int i = 0; i < 33; i++)
		buf[n++] = ']';
	CHECK_EQ(parse_n(buf, (size_t)n), JSON_E_DEPTH);
	n = 0;
	for (int i = 0; i < 33; i++)
		n += sprintf(buf + n, "{\"a\":");
	n += sprintf(buf + n, "1");
	for (int i = 0; i < 33; i++)
		buf[n++] = '}';
	CHECK_EQ(parse_n(buf, (size_t)n), JSON_E_DEPTH);
	/* deep but unterminated */
	memset(buf, '[', 100);
	CHECK(parse_n(buf, 100) != 0);
}

static void
test_too_many_tokens(void)
{
	static char buf[WARD_JSON_TOKENS * 2 + 8];
	size_t n = 0;

	/* one array token plus WARD_JSON_TOKENS - 1 numbers: fits exactly */
	buf[n++] = '[';
	for (int i = 0; i < WARD_JSON_TOKENS - 1; i++) {
		buf[n++] = '0';
		buf[n++] = ',';
	}
	buf[n - 1] = ']';
	CHECK_EQ(parse_n(buf, n), 0);
	CHECK_EQ(doc.ntok, WARD_JSON_TOKENS);
	/* one more */
	buf[n - 1] = ',';
	buf[n++] = '0';
	buf[n++] = ']';
	CHECK_EQ(parse_n(buf, n), JSON_E_TOOBIG);
}

static const char nested[] =
    "{\"a\":1,\"b\":{\"c\":[1,2,{\"d\":\"x\"}],\"e\":true},"
    "\"f\":\"s\\\"q\",\"g\":null,\"h\":-2.5,\"i\":\"\\u00e9\","
    "\"j\":[],\"k\":{},\"d2\":1e2,\"l\":9007199254740992}";

static void
test_find_skip(void)
{
	int b, c, e, d, x;
	int64_t iv = 0;
	bool bv = false;
	char s[32];

	CHECK_EQ(parse(nested), 0);
	CHECK_EQ(doc.tok[0].type, JSON_OBJ);
	CHECK_EQ(doc.tok[0].size, 10);
	CHECK_EQ(json_skip(&doc, 0), doc.ntok);
	CHECK_EQ(json_int(&doc, json_find(&doc, 0, "a"), &iv), 0);
	CHECK_EQ(iv, 1);
	b = json_find(&doc, 0, "b");
	CHECK(b > 0 && doc.tok[b].type == JSON_OBJ);
	c = json_find(&doc, b, "c");
	CHECK(c > 0 && doc.tok[c].type == JSON_ARR && doc.tok[c].size == 3);
	e = json_find(&doc, b, "e");
	CHECK_EQ(json_bool(&doc, e, &bv), 0);
	CHECK(bv);
	/* walk the array with json_skip */
	x = c + 1;
	CHECK_EQ(json_int(&doc, x, &iv), 0);
	CHECK_EQ(iv, 1);
	x = json_skip(&doc, x);
	CHECK_EQ(json_int(&doc, x, &iv), 0);
	CHECK_EQ(iv, 2);
	x = json_skip(&doc, x);
	CHECK_EQ(doc.tok[x].type, JSON_OBJ);
	d = json_find(&doc, x, "d");
	CHECK_EQ(json_str(&doc, d, s, sizeof s), 0);
	CHECK_STR(s, "x");
	CHECK_EQ(json_skip(&doc, x), e - 1);	/* the key "e" follows */
	CHECK_EQ(json_skip(&doc, c), e - 1);
	CHECK_EQ(json_skip(&doc, b), json_find(&doc, 0, "f") - 1);
	/* nested keys are not found at the top; absent keys are -1 */
	CHECK_EQ(json_find(&doc, 0, "c"), -1);
	CHECK_EQ(json_find(&doc, 0, "d"), -1);
	CHECK_EQ(json_find(&doc, 0, "e"), -1);
	CHECK_EQ(json_find(&doc, 0, "zz"), -1);
	CHECK_EQ(json_find(&doc, 0, ""), -1);
	CHECK(json_find(&doc, 0, "d2") > 0);
	CHECK_EQ(json_find(&doc, c, "a"), -1);	/* not an object */
	CHECK_EQ(json_find(&doc, -1, "a"), -1);
	CHECK_EQ(json_find(&doc, doc.ntok, "a"), -1);
	CHECK_EQ(json_find(&doc, json_find(&doc, 0, "k"), "a"), -1);
	CHECK(json_find(&doc, 0, "j") > 0);
	CHECK_EQ(doc.tok[json_find(&doc, 0, "j")].size, 0);
	/* json_raw and json_tok_eq */
	{
		struct str r = json_raw(&doc, json_find(&doc, 0, "f"));
		struct str o = json_raw(&doc, x);

		CHECK(str_eq(r, "\"s\\\"q\""));
		CHECK(str_eq(o, "{\"d\":\"x\"}"));
		CHECK(json_tok_eq(&doc, json_find(&doc, 0, "h"), "-2.5"));
		CHECK(!json_tok_eq(&doc, json_find(&doc, 0, "h"), "-2.50"));
	}
}

static void
test_getters(void)
{
	int f, g, h, i, l, a;
	int64_t iv = 77;
	double dv = 0;
	bool bv = true;
	char s[32];

	CHECK_EQ(parse(nested), 0);
	a = json_find(&doc, 0, "a");
	f = json_find(&doc, 0, "f");
	g = json_find(&doc, 0, "g");
	h = json_find(&doc, 0, "h");
	i = json_find(&doc, 0, "i");
	l = json_find(&doc, 0, "l");
	/* strings */
	CHECK_EQ(json_str(&doc, f, s, sizeof s), 0);
	CHECK_STR(s, "s\"q");
	CHECK_EQ(json_str(&doc, i, s, sizeof s), 0);
	CHECK_STR(s, "\xC3\xA9");
	CHECK(json_is_str(&doc, f));
	CHECK(!json_is_str(&doc, a));
	CHECK(!json_is_str(&doc, -1));
	CHECK(!json_is_str(&doc, doc.ntok));
	/* absent (WARD_ENOENT) and wrong type (WARD_EINVAL) */
	CHECK_EQ(json_str(&doc, -1, s, sizeof s), WARD_ENOENT);
	CHECK_EQ(json_str(&doc, doc.ntok, s, sizeof s), WARD_ENOENT);
	CHECK_EQ(json_str(&doc, json_find(&doc, 0, "zz"), s, sizeof s),
	    WARD_ENOENT);
	CHECK_EQ(json_str(&doc, a, s, sizeof s), WARD_EINVAL);
	CHECK_EQ(json_str(&doc, 0, s, sizeof s), WARD_EINVAL);
	CHECK_EQ(json_int(&doc, -1, &iv), WARD_ENOENT);
	CHECK_EQ(json_int(&doc, f, &iv), WARD_EINVAL);
	CHECK_EQ(json_int(&doc, g, &iv), WARD_EINVAL);
	CHECK_EQ(json_int(&doc, h, &iv), WARD_EINVAL);	/* -2.5 */
	CHECK_EQ(json_int(&doc, 0, &iv), WARD_EINVAL);
	CHECK_EQ(iv, 77);				/* untouched */
	CHECK_EQ(json_num(&doc, -1, &dv), WARD_ENOENT);
	CHECK_EQ(json_num(&doc, h, &dv), 0);
	CHECK(dv == -2.5);
	CHECK_EQ(json_num(&doc, g, &dv), WARD_EINVAL);
	CHECK_EQ(json_num(&doc, f, &dv), WARD_EINVAL);
	CHECK_EQ(json_num(&doc, json_find(&doc, 0, "e"), &dv), WARD_ENOENT);
	CHECK_EQ(json_bool(&doc, -1, &bv), WARD_ENOENT);
	CHECK_EQ(json_bool(&doc, g, &bv), WARD_EINVAL);
	CHECK_EQ(json_bool(&doc, a, &bv), WARD_EINVAL);
	CHECK_EQ(json_bool(&doc, f, &bv), WARD_EINVAL);
	CHECK(bv);					/* untouched */
	CHECK(json_is_null(&doc, g));
	CHECK(!json_is_null(&doc, a));
	CHECK(!json_is_null(&doc, -1));
	/* integers: integral values within +-2^53 */
	CHECK_EQ(json_int(&doc, json_find(&doc, 0, "d2"), &iv), 0);
	CHECK_EQ(iv, 100);
	CHECK_EQ(json_int(&doc, l, &iv), 0);
	CHECK_EQ(iv, 9007199254740992LL);
	/* a string that does not fit is refused, not truncated */
	CHECK(json_str(&doc, f, s, 3) != 0);
	CHECK_EQ(json_str(&doc, f, s, 4), 0);
}

static void
test_numbers(void)
{
	static const struct {
		const char	*src;
		int		 rc;
		int64_t		 v;
	} iv[] = {
		{ "0", 0, 0 }, { "-0", 0, 0 }, { "42", 0, 42 }, { "-7", 0, -7 },
		{ "1.0", 0, 1 }, { "1e3", 0, 1000 }, { "2.5E1", 0, 25 },
		{ "9007199254740992", 0, 9007199254740992LL },
		{ "-9007199254740992", 0, -9007199254740992LL },
		{ "0.5", WARD_EINVAL, 0 }, { "1e-1", WARD_EINVAL, 0 },
		{ "1e400", WARD_EINVAL, 0 },
		{ "9007199254740994", WARD_EINVAL, 0 },
		{ "1e20", WARD_EINVAL, 0 }, { "true", WARD_EINVAL, 0 },
		{ "\"1\"", WARD_EINVAL, 0 },
	};
	int64_t v;
	double d;

	for (size_t i = 0; i < ARRAY_LEN(iv); i++) {
		v = -12345;
		CHECK_EQ(parse(iv[i].src), 0);
		CHECK_EQ(json_int(&doc, 0, &v), iv[i].rc);
		if (iv[i].rc == 0)
			CHECK_EQ(v, iv[i].v);
	}
	/*
	 * 2^53 + 1 is not representable as a double: strtod rounds it to
	 * 2^53, so json_int would hand back a different integer than the
	 * text says.  It must be refused like 2^53 + 2 is.
	 */
	{
		int rc1, rc2;

		CHECK_EQ(parse("9007199254740993"), 0);
		rc1 = json_int(&doc, 0, &v);
		CHECK_EQ(parse("[-9007199254740993]"), 0);
		rc2 = json_int(&doc, 1, &v);
		CHECK(rc1 == WARD_EINVAL && rc2 == WARD_EINVAL);
	}

	CHECK_EQ(parse("[1.5e-3, -0.0, 1e308, 1e-400]"), 0);
	CHECK_EQ(json_num(&doc, 1, &d), 0);
	CHECK(d == 1.5e-3);
	CHECK_EQ(json_num(&doc, 2, &d), 0);
	CHECK(d == 0 && signbit(d));
	CHECK_EQ(json_num(&doc, 3, &d), 0);
	CHECK(d == 1e308);
	CHECK_EQ(json_num(&doc, 4, &d), 0);
	CHECK(d == 0);
	CHECK_EQ(parse("1e309"), 0);			/* valid JSON ... */
	CHECK_EQ(json_num(&doc, 0, &d), WARD_EINVAL);	/* ... not finite */
}

static void
test_top_level(void)
{
	char s[16];
	bool b = false;
	int64_t v = 0;

	CHECK_EQ(parse("42"), 0);
	CHECK_EQ(doc.ntok, 1);
	CHECK_EQ(doc.tok[0].type, JSON_PRIM);
	CHECK_EQ(json_int(&doc, 0, &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(parse(" \t-3 \n"), 0);
	CHECK_EQ(json_int(&doc, 0, &v), 0);
	CHECK_EQ(v, -3);
	CHECK_EQ(parse("true"), 0);
	CHECK_EQ(json_bool(&doc, 0, &b), 0);
	CHECK(b);
	CHECK_EQ(parse("null"), 0);
	CHECK(json_is_null(&doc, 0));
	CHECK_EQ(parse(" \"hi\" "), 0);
	CHECK_EQ(doc.ntok, 1);
	CHECK(json_is_str(&doc, 0));
	CHECK_EQ(json_str(&doc, 0, s, sizeof s), 0);
	CHECK_STR(s, "hi");
	CHECK_EQ(parse("\"a\\\"\""), 0);
	CHECK_EQ(json_str(&doc, 0, s, sizeof s), 0);
	CHECK_STR(s, "a\"");
	CHECK_EQ(json_find(&doc, 0, "a"), -1);
}

/* \u escapes (RFC 8259 §7), surrogate pairs, lone surrogates -> U+FFFD. */
static void
test_unicode(void)
{
	static const struct {
		const char	*src, *want;
	} v[] = {
		{ "\"\\u0041\\u00e9\\u20AC\"", "A\xC3\xA9\xE2\x82\xAC" },
		{ "\"\\uD83D\\uDE00\"", "\xF0\x9F\x98\x80" },
		{ "\"\\ud83d\\ude00!\"", "\xF0\x9F\x98\x80!" },
		{ "\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF" },
		{ "\"\\uD800\"", "\xEF\xBF\xBD" },
		{ "\"\\uDC00\"", "\xEF\xBF\xBD" },
		{ "\"\\uD83Dx\"", "\xEF\xBF\xBDx" },
		{ "\"\\uD83D\\u0041\"", "\xEF\xBF\xBD" "A" },
		{ "\"\\uD83D\\uD83D\\uDE00\"", "\xEF\xBF\xBD\xF0\x9F\x98\x80" },
		{ "\"\\uDE00\\uD83D\"", "\xEF\xBF\xBD\xEF\xBF\xBD" },
		{ "\"\\uD83D\\n\"", "\xEF\xBF\xBD\n" },
		{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t" },
		{ "\"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\"",
		    "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5" },
		{ "\"\\uFFFF\\uFFFE\"", "\xEF\xBF\xBF\xEF\xBF\xBE" },
		{ "\"\\u07FF\\u0800\\u0080\"", "\xDF\xBF\xE0\xA0\x80\xC2\x80" },
	};
	char out[32];

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		CHECK_EQ(parse(v[i].src), 0);
		CHECK_EQ(json_str(&doc, 0, out, sizeof out), 0);
		CHECK_STR(out, v[i].want);
		CHECK(utf8_valid((const uint8_t *)out, strlen(out)));
	}
	/* \u0000 decodes to a NUL byte inside the output */
	CHECK_EQ(parse("\"a\\u0000b\""), 0);
	CHECK_EQ(json_str(&doc, 0, out, sizeof out), 0);
	CHECK_MEM(out, "a\0b", 4);
	/* capacity counts the decoded bytes plus the NUL */
	CHECK_EQ(parse("\"\\uD83D\\uDE00\""), 0);
	CHECK(json_str(&doc, 0, out, 4) != 0);
	CHECK_EQ(json_str(&doc, 0, out, 5), 0);
	/* nothing may be written into a zero-capacity buffer */
	CHECK_EQ(parse("\"\""), 0);
	out[0] = 'Q';
	CHECK(json_str(&doc, 0, out, 0) != 0 && out[0] == 'Q');
}

/* --- writer ------------------------------------------------------------- */

static void
test_writer_nesting(void)
{
	char buf[256];
	struct jw w;

	jw_init(&w, buf, sizeof buf);
	jw_obj(&w);
	jw_key(&w, "a");
	jw_int(&w, 1);
	jw_key(&w, "b");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_str(&w, "x");
	jw_bool(&w, true);
	jw_null(&w);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_arr(&w);
	jw_arr_end(&w);
	jw_bool(&w, false);
	jw_arr_end(&w);
	jw_key(&w, "c");
	jw_obj(&w);
	jw_key(&w, "d");
	jw_num(&w, -5.5);
	jw_key(&w, "e");
	jw_raw(&w, "[1,2]", 5);
	jw_obj_end(&w);
	jw_key(&w, "t");
	jw_time(&w, 1708770645123456LL);
	jw_obj_end(&w);
	CHECK(!w.err);
	CHECK_STR(buf, "{\"a\":1,\"b\":[1,\"x\",true,null,{},[],false],"
	    "\"c\":{\"d\":-5.5,\"e\":[1,2]},"
	    "\"t\":\"2024-02-24T10:30:45.123456Z\"}");
	CHECK_EQ(w.len, strlen(buf));
	CHECK_EQ(w.depth, 0);
	/* what the writer makes, the reader takes */
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	CHECK_EQ(doc.tok[json_find(&doc, 0, "b")].size, 7);

	/* numbers */
	jw_init(&w, buf, sizeof buf);
	jw_arr(&w);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_num(&w, 0.5);
	jw_num(&w, 3.0);
	jw_num(&w, NAN);
	jw_num(&w, INFINITY);
	jw_num(&w, -INFINITY);
	jw_num(&w, 0.1);
	jw_arr_end(&w);
	CHECK(!w.err);
	CHECK_STR(buf, "[-9223372036854775808,9223372036854775807,0.5,3,"
	    "null,null,null,0.10000000000000001]");
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
}

static void
test_writer_escaping(void)
{
	char buf[256];
	struct jw w;

	jw_init(&w, buf, sizeof buf);
	jw_str(&w, "q\"b\\s/\n\r\t\x01\x1f\x7f\b\f");
	CHECK(!w.err);
	CHECK_STR(buf, "\"q\\\"b\\\\s/\\n\\r\\t\\u0001\\u001f\\u007f"
	    "\\u0008\\u000c\"");
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	/* an embedded NUL */
	jw_init(&w, buf, sizeof buf);
	jw_strn(&w, "a\0b", 3);
	CHECK_STR(buf, "\"a\\u0000b\"");
	/* valid UTF-8 goes through as it is */
	jw_init(&w, buf, sizeof buf);
	jw_str(&w, "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5 "
	    "\xF0\x9F\x98\x80");
	CHECK_STR(buf, "\"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5 "
	    "\xF0\x9F\x98\x80\"");
	/* invalid UTF-8 is never emitted raw: replaced by U+FFFD */
	jw_init(&w, buf, sizeof buf);
	jw_arr(&w);
	jw_str(&w, "bad \xC0\xAF here");
	jw_str(&w, "\xED\xA0\x80");
	jw_str(&w, "cut \xCE");
	jw_arr_end(&w);
	CHECK(!w.err);
	CHECK_STR(buf, "[\"\xEF\xBF\xBD\",\"\xEF\xBF\xBD\",\"\xEF\xBF\xBD\"]");
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	/* keys are escaped too */
	jw_init(&w, buf, sizeof buf);
	jw_obj(&w);
	jw_key(&w, "k\"");
	jw_int(&w, 1);
	jw_obj_end(&w);
	CHECK_STR(buf, "{\"k\\\"\":1}");
	/* json_escape alone */
	{
		char o[16];

		CHECK_EQ(json_escape("a\"b", 3, o, 4), 4);
		CHECK_MEM(o, "a\\\"b", 4);
		CHECK_EQ(json_escape("a\"b", 3, o, 3), (size_t)-1);
		CHECK_EQ(json_escape("\x01", 1, o, 6), 6);
		CHECK_EQ(json_escape("\x01", 1, o, 5), (size_t)-1);
		CHECK_EQ(json_escape("", 0, o, 0), 0);
	}
}

static void
test_writer_overflow(void)
{
	char buf[64];
	struct jw w;

	/* exactly enough: "{}" plus the NUL */
	jw_init(&w, buf, 3);
	jw_obj(&w);
	jw_obj_end(&w);
	CHECK(!w.err);
	CHECK_STR(buf, "{}");
	jw_init(&w, buf, 2);
	jw_obj(&w);
	jw_obj_end(&w);
	CHECK(w.err);
	jw_init(&w, buf, 0);
	CHECK(w.err);
	/* a string that does not fit latches err; later small writes that
	 * would fit do not clear it, and the buffer stays terminated */
	memset(buf, 'Z', sizeof buf);
	jw_init(&w, buf, 16);
	jw_arr(&w);
	jw_str(&w, "0123456789abcdefghij");
	CHECK(w.err);
	jw_int(&w, 1);
	jw_arr_end(&w);
	CHECK(w.err);
	CHECK(w.len < 16);
	CHECK(memchr(buf, '\0', 16) != NULL);
	CHECK_EQ(buf[16], 'Z');
	/* every capacity from 0 up to the full size: err iff too small */
	{
		static const char want[] = "{\"k\":[\"v\\n\",-1,true]}";
		int bad = 0;

		for (size_t cap = 0; cap <= sizeof want + 2; cap++) {
			memset(buf, 'Z', sizeof buf);
			jw_init(&w, buf, cap);
			jw_obj(&w);
			jw_key(&w, "k");
			jw_arr(&w);
			jw_str(&w, "v\n");
			jw_int(&w, -1);
			jw_bool(&w, true);
			jw_arr_end(&w);
			jw_obj_end(&w);
			if (w.err != (cap < sizeof want))
				bad++;
			if (!w.err && strcmp(buf, want) != 0)
				bad++;
			if (buf[cap] != 'Z')
				bad++;		/* wrote past cap */
		}
		CHECK_EQ(bad, 0);
	}
}

/* log_time_iso: instants and strings computed with Python's datetime. */
static void
test_time(void)
{
	static const struct {
		int64_t		 us;
		const char	*iso;
	} v[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ 1, "1970-01-01T00:00:00.000001Z" },
		{ 999999, "1970-01-01T00:00:00.999999Z" },
		{ -1, "1969-12-31T23:59:59.999999Z" },
		{ -500000, "1969-12-31T23:59:59.500000Z" },
		{ -1000000, "1969-12-31T23:59:59.000000Z" },
		{ -1000001, "1969-12-31T23:59:58.999999Z" },
		{ 68169600000000LL, "1972-02-29T00:00:00.000000Z" },
		{ 946684799999999LL, "1999-12-31T23:59:59.999999Z" },
		{ 946684800000000LL, "2000-01-01T00:00:00.000000Z" },
		{ 951825600000000LL, "2000-02-29T12:00:00.000000Z" },
		{ 1708770645123456LL, "2024-02-24T10:30:45.123456Z" },
		{ 1709208000000001LL, "2024-02-29T12:00:00.000001Z" },
		{ 1709251199999999LL, "2024-02-29T23:59:59.999999Z" },
		{ 1709251200000000LL, "2024-03-01T00:00:00.000000Z" },
		{ 2147483648000000LL, "2038-01-19T03:14:08.000000Z" },
		{ 4107459723000000LL, "2100-02-28T01:02:03.000000Z" },
		{ -2203891200000000LL, "1900-03-01T00:00:00.000000Z" },
		{ -11670998400000000LL, "1600-02-29T00:00:00.000000Z" },
		{ -62135596800000000LL, "0001-01-01T00:00:00.000000Z" },
		{ 253402300799999999LL, "9999-12-31T23:59:59.999999Z" },
	};

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		char out[40];
		struct jw w;
		char buf[48], want[48];

		memset(out, 'X', sizeof out);
		CHECK_EQ(log_time_iso(v[i].us, out), 27);
		CHECK_STR(out, v[i].iso);
		jw_init(&w, buf, sizeof buf);
		jw_time(&w, v[i].us);
		snprintf(want, sizeof want, "\"%s\"", v[i].iso);
		CHECK_STR(buf, want);
	}
	/*
	 * internal.h: out must be >= 28 bytes.  Instants past year 9999 (or
	 * before year 0) format wider and write beyond that (log_time_iso
	 * passes 32 to snprintf).
	 */
	{
		static const int64_t far[] = { INT64_MAX, INT64_MIN,
		    253402300800000000LL };
		int wide = 0;

		for (size_t i = 0; i < ARRAY_LEN(far); i++) {
			char out[40];

			memset(out, 'X', sizeof out);
			log_time_iso(far[i], out);
			if (out[28] != 'X' || out[29] != 'X')
				wide++;
		}
		CHECK_EQ(wide, 0);
	}
}

/* Duplicate keys, compared unescaped, at any depth: refused with the
 * second key's token in doc.dup. */
static void
test_duplicates(void)
{
	static const struct {
		const char	*src;
		const char	*key;	/* the duplicate, decoded */
	} dups[] = {
		{ "{\"a\":1,\"a\":2}", "a" },
		{ "{\"type\":\"x\",\"b\":[],\"type\":\"y\"}", "type" },
		{ "{\"from\":1,\"fr\\u006fm\":2}", "from" },
		{ "{\"fr\\u006Fm\":1,\"\\u0066rom\":2}", "from" },
		{ "{\"d\":{\"x\":1,\"x\":1}}", "x" },
		{ "[1,{\"k\":{},\"k\":{}}]", "k" },
		{ "{\"\":1,\"\":2}", "" },
		{ "{\"\\/\":1,\"/\":2}", "/" },
		{ "{\"\\ud83d\\ude00\":1,\"\xF0\x9F\x98\x80\":2}",
		    "\xF0\x9F\x98\x80" },
		{ "{\"type\":\"whiteboard_update\",\"practiceId\":\"p1\","
		    "\"data\":{},\"type\":\"telemedicine_chat_message\"}",
		    "type" },
	};
	char s[32];

	for (size_t i = 0; i < ARRAY_LEN(dups); i++) {
		int rc = parse(dups[i].src);

		CHECK_EQ(rc, 0);
		rc = json_check_dups(&doc);
		if (rc != JSON_E_DUP)
			fprintf(stderr, "  should be a duplicate: %s\n",
			    dups[i].src);
		CHECK_EQ(rc, JSON_E_DUP);
		CHECK(doc.dup > 0);
		if (rc == JSON_E_DUP) {
			CHECK_EQ(json_str(&doc, doc.dup, s, sizeof s), 0);
			CHECK_STR(s, dups[i].key);
		}
	}
	/* json_find and json_key_eq compare the unescaped key */
	for (size_t i = 0; i < ARRAY_LEN(good_docs); i++)
		if (parse(good_docs[i]) == 0)
			CHECK_EQ(json_check_dups(&doc), 0);
	CHECK_EQ(parse("{\"typ\\u0065\":\"t\",\"n\":1}"), 0);
	CHECK_EQ(json_find(&doc, 0, "type"), 2);
	CHECK(json_key_eq(&doc, 1, "type"));
	CHECK(!json_key_eq(&doc, 1, "typ"));
	CHECK(!json_key_eq(&doc, 1, "types"));
	CHECK(!json_key_eq(&doc, 2, "type"));
}

/* json_id: no NUL or control character once unescaped. */
static void
test_ids(void)
{
	char s[32];
	size_t n;

	CHECK_EQ(parse("[\"nulu\\u0000ser\",\"ok id\",\"t\\tab\","
	    "\"\\u007f\",\"caf\\u00e9\",\"nl\\n\"]"), 0);
	CHECK_EQ(json_strn(&doc, 1, s, sizeof s, &n), 0);
	CHECK_EQ(n, 8);			/* the NUL is kept, counted */
	CHECK_EQ(json_id(&doc, 1, s, sizeof s), WARD_EINVAL);
	CHECK_EQ(json_id(&doc, 1, NULL, 0), WARD_EINVAL);
	CHECK_EQ(json_id(&doc, 2, s, sizeof s), 0);
	CHECK_STR(s, "ok id");
	CHECK_EQ(json_id(&doc, 3, s, sizeof s), WARD_EINVAL);
	CHECK_EQ(json_id(&doc, 4, s, sizeof s), WARD_EINVAL);
	CHECK_EQ(json_id(&doc, 5, s, sizeof s), 0);
	CHECK_STR(s, "caf\xC3\xA9");
	CHECK_EQ(json_id(&doc, 5, NULL, 0), 0);
	CHECK_EQ(json_id(&doc, 6, NULL, 0), WARD_EINVAL);
	CHECK_EQ(json_id(&doc, 0, NULL, 0), WARD_EINVAL);	/* an array */
}

void
suite_json(void)
{
	test_accept_reject();
	test_prefixes();
	test_depth();
	test_too_many_tokens();
	test_find_skip();
	test_getters();
	test_numbers();
	test_top_level();
	test_unicode();
	test_duplicates();
	test_ids();
	test_writer_nesting();
	test_writer_escaping();
	test_writer_overflow();
	test_time();
	free(held);
	held = NULL;
}
