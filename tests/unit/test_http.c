/*
 * test_http.c - request heads (RFC 9110, RFC 9112): http_parse on complete
 * heads and on every strict prefix, http_head_complete resuming across
 * byte-by-byte and random feeds, every error status, and the helpers
 * (http_header, http_list_has, http_query_get).
 *
 * Every input is parsed from a heap copy of its exact length, so ASan
 * reports any read past the end (picohttpparser's guard page, cheaply).
 */
#include <stdlib.h>

#include "internal.h"
#include "check.h"

static char *held;		/* the copy the last request points into */
static struct http_req req;

static int
parse_n(const char *s, size_t n)
{
	free(held);
	held = malloc(n ? n : 1);
	memcpy(held, s, n);
	return http_parse(&req, held, n);
}

#define PARSE(lit)	parse_n(lit, sizeof(lit) - 1)
#define LEN(lit)	((int)(sizeof(lit) - 1))
#define STR_IS(s, lit)	CHECK(str_eq((s), lit))

/* A head with one Host, around the given request line. */
#define REQ(line)	line "\r\nHost: h\r\n\r\n"

static void
test_basic(void)
{
	static const char h[] = "GET /a/b?x=1&y=2 HTTP/1.1\r\n"
	    "Host: example.com\r\n"
	    "User-Agent: t/1.0\r\n"
	    "X-Empty:\r\n"
	    "X-Spaces: \t v  v \t\r\n"
	    "X-Obs-Text: caf\xC3\xA9\r\n"
	    "\r\n";
	struct str v;

	CHECK_EQ(PARSE(h), LEN(h));
	CHECK_EQ(req.method, HTTP_GET);
	STR_IS(req.method_s, "GET");
	CHECK_EQ(req.minor, 1);
	STR_IS(req.target, "/a/b?x=1&y=2");
	STR_IS(req.path, "/a/b");
	STR_IS(req.query, "x=1&y=2");
	CHECK_EQ(req.nhdr, 5);
	STR_IS(req.hdr[0].name, "Host");
	STR_IS(req.hdr[0].value, "example.com");
	STR_IS(req.hdr[2].name, "X-Empty");
	STR_IS(req.hdr[2].value, "");
	STR_IS(req.hdr[3].value, "v  v");	/* OWS trimmed, inner kept */
	STR_IS(req.hdr[4].value, "caf\xC3\xA9");
	CHECK_EQ(req.content_length, -1);
	CHECK_EQ(req.flags, 0);
	CHECK_EQ(req.head_len, (size_t)LEN(h));
	CHECK_EQ(req.nparam, 0);
	v = http_header(&req, "HOST");
	STR_IS(v, "example.com");
	v = http_header(&req, "user-agent");
	STR_IS(v, "t/1.0");
	v = http_header(&req, "x-missing");
	CHECK(v.p == NULL && v.n == 0);

	/* no query: an empty one at the end of the path */
	CHECK_EQ(PARSE(REQ("GET /p HTTP/1.1")), LEN(REQ("GET /p HTTP/1.1")));
	STR_IS(req.path, "/p");
	CHECK_EQ(req.query.n, 0);
	CHECK(PARSE(REQ("GET /p? HTTP/1.1")) > 0);
	STR_IS(req.path, "/p");
	STR_IS(req.query, "");
	CHECK(PARSE(REQ("GET /?a?b HTTP/1.1")) > 0);
	STR_IS(req.path, "/");
	STR_IS(req.query, "a?b");
	/* an empty Host: no authority (RFC 9112 §3.2) */
	CHECK(PARSE("GET / HTTP/1.1\r\nHost:\r\n\r\n") > 0);
}

static void
test_methods(void)
{
	static const struct {
		const char	*line;
		int		 m;
	} v[] = {
		{ "GET / HTTP/1.1", HTTP_GET },
		{ "HEAD / HTTP/1.1", HTTP_HEAD },
		{ "POST / HTTP/1.1", HTTP_POST },
		{ "PUT / HTTP/1.1", HTTP_PUT },
		{ "DELETE / HTTP/1.1", HTTP_DELETE },
		{ "OPTIONS / HTTP/1.1", HTTP_OPTIONS },
		{ "PATCH / HTTP/1.1", HTTP_PATCH },
		{ "BREW / HTTP/1.1", HTTP_OTHER },
		{ "get / HTTP/1.1", HTTP_OTHER },	/* RFC 9110 §9.1 */
		{ "GETX / HTTP/1.1", HTTP_OTHER },
		{ "M-SEARCH / HTTP/1.1", HTTP_OTHER },
	};
	char buf[128];

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		int n = snprintf(buf, sizeof buf, "%s\r\nHost: h\r\n\r\n",
		    v[i].line);

		CHECK_EQ(parse_n(buf, (size_t)n), n);
		CHECK_EQ(req.method, v[i].m);
		CHECK_EQ(req.method_s.n, strchr(v[i].line, ' ') - v[i].line);
	}
	CHECK_EQ(PARSE(REQ("G(T / HTTP/1.1")), -400);	/* not a tchar */
	CHECK_EQ(PARSE(REQ(" GET / HTTP/1.1")), -400);
}

static void
test_body_and_length(void)
{
	static const char h[] = "POST /x HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 5\r\n\r\nhello";
	static const char pipe[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
	    "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";

	CHECK_EQ(PARSE(h), LEN(h) - 5);		/* the head only */
	CHECK_EQ(req.content_length, 5);
	CHECK_EQ(req.method, HTTP_POST);
	CHECK_EQ(PARSE(pipe), LEN(pipe) / 2);
	STR_IS(req.path, "/1");

	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 0\r\n\r\n"), LEN("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 0\r\n\r\n"));
	CHECK_EQ(req.content_length, 0);
	CHECK(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  7 \r\n\r\n")
	    > 0);
	CHECK_EQ(req.content_length, 7);
	/* identical duplicates are one value (RFC 9110 §8.6) */
	CHECK(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "content-length: 3\r\n\r\n") > 0);
	CHECK_EQ(req.content_length, 3);
	CHECK(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n"
	    "\r\n") > 0);
	CHECK_EQ(req.content_length, 65536);

	/* RFC 9112 §6.3: invalid Content-Length is unrecoverable: 400 */
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Content-Length: 4\r\n\r\n"), -400);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n"
	    "\r\n"), -400);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n"
	    "\r\n"), -400);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n"
	    "\r\n"), -400);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n"
	    "\r\n"), -400);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3,3\r\n"
	    "\r\n"), -400);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n"
	    "\r\n"), -400);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n"
	    "\r\n"), -400);
	/* too large */
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65537\r\n"
	    "\r\n"), -413);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
	    "99999999999999999999999\r\n\r\n"), -413);
	/* bodies are Content-Length only */
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), -411);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "transfer-encoding: identity\r\n\r\n"), -411);
}

static void
test_flags(void)
{
	CHECK(PARSE("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	    > 0);
	CHECK_EQ(req.flags, HTTP_F_CLOSE);
	CHECK(PARSE("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, "
	    "UPGRADE\r\nUpgrade: h2c, WebSocket\r\n\r\n") > 0);
	CHECK_EQ(req.flags, HTTP_F_KEEPALIVE | HTTP_F_CONN_UPGRADE |
	    HTTP_F_UPGRADE_WS);
	CHECK(PARSE("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n"
	    "Upgrade: websockets\r\n\r\n") > 0);
	CHECK_EQ(req.flags, 0);
	/* the token may come from a second Connection field */
	CHECK(PARSE("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\n"
	    "Connection: upgrade\r\n\r\n") > 0);
	CHECK_EQ(req.flags, HTTP_F_CONN_UPGRADE);
	/* HTTP/1.0: no Host needed; answered and closed */
	CHECK_EQ(PARSE("GET / HTTP/1.0\r\n\r\n"), LEN("GET / HTTP/1.0\r\n\r\n"));
	CHECK_EQ(req.minor, 0);
	CHECK(req.flags & HTTP_F_CLOSE);
	CHECK(PARSE("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") > 0);
	CHECK(req.flags & HTTP_F_KEEPALIVE);
	/* Expect (RFC 9110 §10.1.1) */
	CHECK(PARSE("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n\r\n") > 0);
	CHECK_EQ(req.flags, HTTP_F_EXPECT_100);
	CHECK(PARSE("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
	    "\r\n") > 0);
	CHECK_EQ(req.flags, HTTP_F_EXPECT_100);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n"),
	    -417);
	CHECK_EQ(PARSE("POST / HTTP/1.1\r\nHost: h\r\nExpect: \r\n\r\n"), -417);
}

static void
test_targets(void)
{
	/* absolute-form (RFC 9112 §3.2.2): the path and query are kept */
	CHECK(PARSE(REQ("GET http://host/path?x HTTP/1.1")) > 0);
	STR_IS(req.path, "/path");
	STR_IS(req.query, "x");
	CHECK(PARSE(REQ("GET https://host:8443/a/b HTTP/1.1")) > 0);
	STR_IS(req.path, "/a/b");
	CHECK_EQ(req.query.n, 0);
	CHECK(PARSE(REQ("GET http://host HTTP/1.1")) > 0);
	STR_IS(req.path, "/");
	CHECK(PARSE(REQ("GET http:// HTTP/1.1")) > 0);
	STR_IS(req.path, "/");
	/*
	 * RFC 3986 §3.2: the authority ends at the first '/', '?' or '#'.
	 * "http://host?x=/y" has an empty path (i.e. "/") and query "x=/y".
	 */
	CHECK(PARSE(REQ("GET http://host?x=/y HTTP/1.1")) > 0 &&
	    str_eq(req.path, "/") && str_eq(req.query, "x=/y"));
	CHECK(PARSE(REQ("GET https://host?q HTTP/1.1")) > 0);
	STR_IS(req.path, "/");
	STR_IS(req.query, "q");
	CHECK_EQ(PARSE(REQ("GET http://host#f HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET http://host/p#f HTTP/1.1")), -400);

	/* asterisk-form only with OPTIONS (RFC 9112 §3.2.4) */
	CHECK(PARSE(REQ("OPTIONS * HTTP/1.1")) > 0);
	STR_IS(req.path, "*");
	CHECK_EQ(req.query.n, 0);
	CHECK_EQ(PARSE(REQ("GET * HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("OPTIONS *x HTTP/1.1")), -400);

	/* origin-form must start with '/' */
	CHECK_EQ(PARSE(REQ("GET a/b HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET ?x HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET host:80 HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET ftp://host/ HTTP/1.1")), -400);
	/* a fragment never travels */
	CHECK_EQ(PARSE(REQ("GET /a#b HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET /a?q#b HTTP/1.1")), -400);
	/* missing or doubled separators */
	CHECK_EQ(PARSE(REQ("GET  / HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET /  HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET / ")), -400);
	CHECK_EQ(PARSE(REQ("GET /")), -400);
	CHECK_EQ(PARSE(REQ("GET")), -400);
	CHECK_EQ(PARSE(REQ("GET\t/ HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET /\t HTTP/1.1")), -400);
	/* bytes outside the URI character set (RFC 3986 §2) */
	CHECK_EQ(PARSE(REQ("GET /a\x01 HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET /a\x7F HTTP/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET /caf\xC3\xA9 HTTP/1.1")), -400);
}

static void
test_versions(void)
{
	CHECK_EQ(PARSE(REQ("GET / HTTP/2.0")), -505);
	CHECK_EQ(PARSE(REQ("GET / HTTP/1.2")), -505);
	CHECK_EQ(PARSE(REQ("GET / HTTP/0.9")), -505);
	CHECK_EQ(PARSE(REQ("GET / HTTP/3.0")), -505);
	CHECK_EQ(PARSE(REQ("GET / HTTP/1.1 ")), -400);
	CHECK_EQ(PARSE(REQ("GET / HTTP/1.1 x")), -400);
	CHECK_EQ(PARSE(REQ("GET / HTTP/1.10")), -400);
	CHECK_EQ(PARSE(REQ("GET / HTTP/1")), -400);
	CHECK_EQ(PARSE(REQ("GET / HTTP/1.")), -400);
	CHECK_EQ(PARSE(REQ("GET / HTTP/1.x")), -400);
	CHECK_EQ(PARSE(REQ("GET / HTTP/11")), -400);
	CHECK_EQ(PARSE(REQ("GET / http/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET / HTTPS/1.1")), -400);
	CHECK_EQ(PARSE(REQ("GET / HTTP/a.1")), -400);
}

static void
test_line_syntax(void)
{
	/* CRLF only (RFC 9112 §2.2): a bare LF or CR is 400 */
	CHECK_EQ(PARSE("GET / HTTP/1.1\nHost: h\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nX: a\n\r\nHost: h\r\n\r\n"), -400);
	/* a head with a bare LF can never end: refused before it does */
	CHECK_EQ(PARSE("GET / HTTP/1.1\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\n"), -400);
	CHECK_EQ(PARSE("\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r"), WARD_NEED_MORE);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r"), WARD_NEED_MORE);
	/* no whitespace between name and colon (RFC 9112 §5.1) */
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX\t: y\r\n\r\n"), -400);
	/* obs-fold (RFC 9112 §5.2) */
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), -400);
	/* malformed field lines */
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX@Y: v\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX\"Y: v\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01" "b\r\n\r\n"),
	    -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7F" "b\r\n\r\n"),
	    -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"), -400);
	/* HTAB and obs-text are field content (RFC 9110 §5.5) */
	CHECK(PARSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\x80\xFF\r\n\r\n") > 0);
	CHECK(PARSE("GET / HTTP/1.1\r\nHost: h\r\n!#$%&'*+-.^_`|~09az: v\r\n"
	    "\r\n") > 0);
}

static void
test_host(void)
{
	/* RFC 9112 §3.2: exactly one Host in HTTP/1.1 */
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nX: y\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), -400);
	CHECK_EQ(PARSE("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n"), -400);
	CHECK(PARSE("GET / HTTP/1.0\r\nHost: a\r\n\r\n") > 0);
	CHECK(PARSE("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n") > 0);
}

/* Build "GET /<n x 'a'> HTTP/1.1\r\n" + extra into buf. */
static size_t
long_line(char *buf, size_t target_len, const char *extra)
{
	size_t o = 0;

	memcpy(buf, "GET /", 5);
	o = 5;
	memset(buf + o, 'a', target_len - 1);
	o += target_len - 1;
	memcpy(buf + o, " HTTP/1.1\r\n", 11);
	o += 11;
	memcpy(buf + o, extra, strlen(extra));
	return o + strlen(extra);
}

static void
test_limits(void)
{
	static char buf[20000];
	size_t n, line;

	/* request line: exactly WARD_MAX_REQLINE is fine, one more is 414 */
	line = WARD_MAX_REQLINE - 4 - 9;	/* "GET " + " HTTP/1.1" */
	n = long_line(buf, line, "Host: h\r\n\r\n");
	CHECK_EQ(parse_n(buf, n), (int)n);
	n = long_line(buf, line + 1, "Host: h\r\n\r\n");
	CHECK_EQ(parse_n(buf, n), -414);
	n = long_line(buf, 6000, "Host: h\r\n\r\n");
	CHECK_EQ(parse_n(buf, n), -414);
	/* an unfinished request line longer than the whole head: 414 */
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', WARD_MAX_HEAD + 100);
	CHECK_EQ(parse_n(buf, WARD_MAX_HEAD + 105), -414);

	/* head too large: complete or not, 431 (or 414) */
	n = long_line(buf, 10, "Host: h\r\n");
	while (n < WARD_MAX_HEAD + 200) {
		memcpy(buf + n, "X-Pad: ", 7);
		memset(buf + n + 7, 'p', 1000);
		memcpy(buf + n + 1007, "\r\n", 2);
		n += 1009;
	}
	CHECK_EQ(parse_n(buf, n), -431);	/* no blank line yet */
	memcpy(buf + n, "\r\n", 2);
	CHECK_EQ(parse_n(buf, n + 2), -431);	/* complete but too big */

	/* header count: WARD_MAX_HEADERS is fine, one more is 431 */
	n = long_line(buf, 1, "Host: h\r\n");
	for (int i = 1; i < WARD_MAX_HEADERS; i++)
		n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
	memcpy(buf + n, "\r\n", 2);
	CHECK_EQ(parse_n(buf, n + 2), (int)n + 2);
	CHECK_EQ(req.nhdr, WARD_MAX_HEADERS);
	n += (size_t)sprintf(buf + n, "X-last: v\r\n\r\n");
	CHECK_EQ(parse_n(buf, n), -431);
}

static const char *const valid_heads[] = {
	"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\nX:\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
};

/* Every strict prefix of a valid head needs more; the head itself parses. */
static void
test_prefixes(void)
{
	int bad = 0;

	for (size_t k = 0; k < ARRAY_LEN(valid_heads); k++) {
		const char *h = valid_heads[k];
		size_t n = strlen(h);

		for (size_t i = 0; i < n; i++) {
			int rc = parse_n(h, i);

			if (rc != WARD_NEED_MORE) {
				fprintf(stderr, "  head %zu prefix %zu: %d\n",
				    k, i, rc);
				bad++;
			}
		}
		if (parse_n(h, n) != (int)n)
			bad++;
		if (req.head_len != n)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/* Feed cumulative lengths at the cut points; the final answer and scan
 * must match a single call on the whole buffer. */
static bool
complete_in_steps(const char *buf, size_t n, const size_t *cut, int ncut,
    size_t *scan_out)
{
	size_t scan = 0;

	for (int k = 0; k < ncut; k++) {
		if (http_head_complete(buf, cut[k], &scan)) {
			*scan_out = scan;
			return true;
		}
	}
	if (http_head_complete(buf, n, &scan)) {
		*scan_out = scan;
		return true;
	}
	return false;
}

static void
test_head_complete(void)
{
	static const char *const extra[] = {
		"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
		"\r\n\r\n",
		"a\r\n\r\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n\r",
		"GET / HTTP/1.1\nHost: h\n\n",
	};
	unsigned seed = 4242;
	int bad = 0;

	for (size_t k = 0; k < ARRAY_LEN(valid_heads) + ARRAY_LEN(extra); k++) {
		const char *h = k < ARRAY_LEN(valid_heads) ? valid_heads[k] :
		    extra[k - ARRAY_LEN(valid_heads)];
		size_t n = strlen(h), whole_scan = 0, scan = 0, got = 0;
		const char *t = NULL;
		bool whole = http_head_complete(h, n, &whole_scan);
		size_t cut[4];

		/* the reference: the first "\r\n\r\n" */
		for (size_t i = 0; i + 4 <= n && t == NULL; i++)
			if (memcmp(h + i, "\r\n\r\n", 4) == 0)
				t = h + i;
		if (whole != (t != NULL) ||
		    (whole && whole_scan != (size_t)(t - h) + 4))
			bad++;
		/* one byte at a time */
		scan = 0;
		for (size_t i = 0; i <= n; i++) {
			if (http_head_complete(h, i, &scan)) {
				got = scan;
				break;
			}
			if (scan != i)
				bad++;	/* all of it scanned */
		}
		if (whole && got != whole_scan)
			bad++;
		if (!whole && got != 0)
			bad++;
		/* every single split, and random triple splits */
		for (size_t i = 0; i <= n; i++) {
			cut[0] = i;
			if (complete_in_steps(h, n, cut, 1, &got) != whole ||
			    (whole && got != whole_scan))
				bad++;
		}
		for (int r = 0; r < 50; r++) {
			cut[0] = check_rand(&seed) % (n + 1);
			cut[1] = cut[0] + check_rand(&seed) % (n - cut[0] + 1);
			cut[2] = cut[1] + check_rand(&seed) % (n - cut[1] + 1);
			if (complete_in_steps(h, n, cut, 3, &got) != whole ||
			    (whole && got != whole_scan))
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

/* RFC 9112 §2.2: at least one empty line before a request is ignored. */
static void
test_leading_crlf(void)
{
	static const char one[] = "\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char two[] = "\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";

	CHECK_EQ(PARSE(one), LEN(one));
	CHECK_EQ(req.head_len, (size_t)LEN(one));
	STR_IS(req.path, "/x");
	CHECK_EQ(PARSE("\r\n"), WARD_NEED_MORE);
	/*
	 * http.c documents "skip at most one empty line"; a second one is
	 * then an empty request line (400).  It is skipped instead, by a
	 * recursion as deep as the run of CRLFs (up to 8192 frames for a
	 * 16 KiB read).
	 */
	CHECK_EQ(PARSE(two), -400);
}

static void
test_list_has(void)
{
	static const struct {
		const char	*list, *tok;
		bool		 want;
	} v[] = {
		{ "upgrade", "upgrade", true },
		{ "UPGRADE", "upgrade", true },
		{ "keep-alive, Upgrade", "upgrade", true },
		{ "keep-alive,Upgrade", "keep-alive", true },
		{ " , upgrade ,", "upgrade", true },
		{ "a,\tb\t", "b", true },
		{ "x,,y", "y", true },
		{ "upgrades", "upgrade", false },
		{ "up grade", "upgrade", false },
		{ "upgrade-x", "upgrade", false },
		{ "websocket/13", "websocket", false },
		{ "", "upgrade", false },
		{ ",,,", "upgrade", false },
		{ "upgrade", "", false },
	};

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		struct str l = { v[i].list, strlen(v[i].list) };

		CHECK_EQ(http_list_has(l, v[i].tok), v[i].want);
	}
}

static int
qget(const char *q, const char *name, char *out, size_t cap)
{
	size_t n = strlen(q);
	char *p = malloc(n ? n : 1);
	int rc;

	memcpy(p, q, n);
	rc = http_query_get((struct str){ p, n }, name, out, cap);
	free(p);
	return rc;
}

static void
test_query_get(void)
{
	static const char q[] = "a=1&b=two+words&c=%41%42%2b&d=&e&f=%zz&g=%4"
	    "&h=%C3%a9&k=x=y&a=2&bb=3&z=%";
	char out[32];

	CHECK_EQ(qget(q, "a", out, sizeof out), 1);
	CHECK_STR(out, "1");			/* the first one wins */
	CHECK_EQ(qget(q, "b", out, sizeof out), 9);
	CHECK_STR(out, "two words");
	CHECK_EQ(qget(q, "c", out, sizeof out), 3);
	CHECK_STR(out, "AB+");
	CHECK_EQ(qget(q, "d", out, sizeof out), 0);
	CHECK_STR(out, "");
	CHECK_EQ(qget(q, "e", out, sizeof out), 0);
	CHECK_STR(out, "");
	CHECK_EQ(qget(q, "f", out, sizeof out), -2);
	CHECK_EQ(qget(q, "g", out, sizeof out), -2);
	CHECK_EQ(qget(q, "h", out, sizeof out), 2);
	CHECK_STR(out, "\xC3\xA9");
	CHECK_EQ(qget(q, "k", out, sizeof out), 3);
	CHECK_STR(out, "x=y");
	CHECK_EQ(qget(q, "bb", out, sizeof out), 1);
	CHECK_STR(out, "3");
	CHECK_EQ(qget(q, "z", out, sizeof out), -2);
	CHECK_EQ(qget(q, "missing", out, sizeof out), -1);
	CHECK_EQ(qget(q, "A", out, sizeof out), -1);
	CHECK_EQ(qget(q, "", out, sizeof out), -1);
	CHECK_EQ(qget("", "a", out, sizeof out), -1);
	CHECK_EQ(qget("&&a=5&", "a", out, sizeof out), 1);
	CHECK_STR(out, "5");
	CHECK_EQ(qget("a=%", "a", out, sizeof out), -2);
	CHECK_EQ(qget("a=%4", "a", out, sizeof out), -2);
	CHECK_EQ(qget("a=x%4", "a", out, sizeof out), -2);
	CHECK_EQ(qget("a=%g1", "a", out, sizeof out), -2);
	CHECK_EQ(qget("a=%41", "a", out, sizeof out), 1);
	CHECK_STR(out, "A");
	CHECK_EQ(qget("a=%00x", "a", out, sizeof out), 2);
	CHECK_EQ(out[0], '\0');
	CHECK_EQ(out[1], 'x');
	/* capacity includes the NUL */
	CHECK_EQ(qget("a=abc", "a", out, 3), -2);
	CHECK_EQ(qget("a=abc", "a", out, 4), 3);
	CHECK_STR(out, "abc");
	CHECK_EQ(qget("a=%41%41%41", "a", out, 4), 3);
	CHECK_EQ(qget("a", "a", out, 0), -2);
	/* nothing may be written into a zero-capacity buffer */
	out[0] = 'Q';
	CHECK(qget("a=", "a", out, 0) == -2 && out[0] == 'Q');
}

static void
test_reason(void)
{
	CHECK_STR(http_reason(200), "OK");
	CHECK_STR(http_reason(400), "Bad Request");
	CHECK_STR(http_reason(411), "Length Required");
	CHECK_STR(http_reason(413), "Content Too Large");
	CHECK_STR(http_reason(414), "URI Too Long");
	CHECK_STR(http_reason(417), "Expectation Failed");
	CHECK_STR(http_reason(431), "Request Header Fields Too Large");
	CHECK_STR(http_reason(505), "HTTP Version Not Supported");
	CHECK_STR(http_reason(299), "Unknown");
}

static void
test_str(void)
{
	CHECK(str_eq(STR_LIT("abc"), "abc"));
	CHECK(!str_eq(STR_LIT("abc"), "ABC"));
	CHECK(!str_eq(STR_LIT("abc"), "ab"));
	CHECK(str_ieq(STR_LIT("WebSocket"), "websocket"));
	CHECK(!str_ieq(STR_LIT("web socket"), "websocket"));
	CHECK(!str_ieq(STR_LIT("@"), "`"));	/* only letters fold */
	CHECK(str_eq((struct str){ "", 0 }, ""));
}

/* Fields that must appear at most once (issue 11): a repeat is 400, even
 * with the same value; Content-Length may repeat with the same value. */
static void
test_single_fields(void)
{
	static const char *const heads[] = {
	    "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: "
	    "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: "
	    "AQIDBAUGBwgJCgsMDQ4PEA==\r\n\r\n",
	    "GET /ws HTTP/1.1\r\nHost: h\r\nsec-websocket-key: a\r\n"
	    "SEC-WEBSOCKET-KEY: a\r\n\r\n",
	    "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Version: 8\r\n\r\n",
	    "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nhost: b\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\n"
	    "Authorization: Bearer b\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\n"
	    "authorization: Bearer a\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Content-Length: 4\r\n\r\n",
	};
	static const char ok_cl[] = "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 3\r\nContent-Length: 3\r\n\r\n";
	static const char ok_one[] = "GET /ws HTTP/1.1\r\nHost: h\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer a\r\n"
	    "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n\r\n";

	for (size_t i = 0; i < ARRAY_LEN(heads); i++)
		CHECK_EQ(parse_n(heads[i], strlen(heads[i])), -400);
	CHECK_EQ(PARSE(ok_cl), LEN(ok_cl));
	CHECK_EQ(req.content_length, 3);
	CHECK_EQ(PARSE(ok_one), LEN(ok_one));
}

void
suite_http(void)
{
	test_basic();
	test_methods();
	test_body_and_length();
	test_flags();
	test_targets();
	test_versions();
	test_line_syntax();
	test_host();
	test_limits();
	test_prefixes();
	test_head_complete();
	test_leading_crlf();
	test_list_has();
	test_query_get();
	test_reason();
	test_str();
	test_single_fields();
	free(held);
	held = NULL;
}
