/*
 * http.c - HTTP/1.1 request heads (RFC 9110, RFC 9112).
 *
 * The connection accumulates bytes; http_head_complete() finds the blank
 * line incrementally (it resumes where it stopped, so a head arriving one
 * byte at a time costs O(n) in all), then http_parse() parses the complete
 * head in one pass.  No I/O, no allocation, no globals: the request points
 * into the caller's buffer.
 *
 * Strict readings, each answered with a status rather than guessed at:
 * CRLF only (a bare LF or CR is 400); no whitespace between a field name
 * and its colon, no obs-fold (RFC 9112 §5.1, §5.2: 400); exactly one Host
 * on HTTP/1.1 (§3.2: 400); at most one Sec-WebSocket-Key,
 * Sec-WebSocket-Version and Authorization (400); Content-Length must be
 * digits, and repeats must carry the same value (§6.3 allows accepting
 * identical repeats, which we do; differing ones are 400); any Transfer-Encoding is 411 (bodies are
 * Content-Length only); versions other than 1.0/1.1 are 505.
 */
#include <stdio.h>

#include "internal.h"

bool
str_eq(struct str a, const char *lit)
{
	size_t l = strlen(lit);

	return a.n == l && memcmp(a.p, lit, l) == 0;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

bool
str_ieq(struct str a, const char *lit)
{
	size_t l = strlen(lit);

	if (a.n != l)
		return false;
	for (size_t i = 0; i < l; i++)
		if (lower(a.p[i]) != lower(lit[i]))
			return false;
	return true;
}

/* RFC 9110 §5.6.2 tchar */
static bool
is_tchar(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return true;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / obs-text / SP / HTAB */
static bool
is_vchar_ws(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7F);
}

bool
http_head_complete(const char *buf, size_t len, size_t *scan)
{
	size_t i = *scan >= 3 ? *scan - 3 : 0;

	for (; i + 3 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n') {
			*scan = i + 4;
			return true;
		}
	}
	*scan = len;
	return false;
}

static const struct {
	const char	*name;
	uint8_t		 m;
} methods[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
	{ "PUT", HTTP_PUT }, { "DELETE", HTTP_DELETE },
	{ "OPTIONS", HTTP_OPTIONS }, { "PATCH", HTTP_PATCH },
};

/* Request line: method SP request-target SP HTTP-version CRLF */
static int
parse_reqline(struct http_req *r, const char *p, size_t n)
{
	size_t i = 0, s;

	while (i < n && is_tchar((uint8_t)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return -400;
	r->method_s = (struct str){ p, i };
	r->method = HTTP_OTHER;
	for (size_t k = 0; k < ARRAY_LEN(methods); k++)
		if (str_eq(r->method_s, methods[k].name))
			r->method = methods[k].m;
	s = ++i;
	/* request-target: visible ASCII only (RFC 9112 §3.2, RFC 3986 §2) */
	while (i < n && (uint8_t)p[i] > 0x20 && (uint8_t)p[i] < 0x7F)
		i++;
	if (i == s || i >= n || p[i] != ' ')
		return -400;
	r->target = (struct str){ p + s, i - s };
	i++;
	if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 ||
	    p[i + 5] < '0' || p[i + 5] > '9' || p[i + 6] != '.' ||
	    p[i + 7] < '0' || p[i + 7] > '9')
		return -400;
	if (p[i + 5] != '1' || (p[i + 7] != '0' && p[i + 7] != '1'))
		return -505;
	r->minor = (uint8_t)(p[i + 7] - '0');
	return 0;
}

/* Split the target into path and query; absolute-form keeps the path. */
static int
split_target(struct http_req *r)
{
	struct str t = r->target;
	const char *q;

	if ((t.n >= 7 && str_ieq((struct str){ t.p, 7 }, "http://")) ||
	    (t.n >= 8 && str_ieq((struct str){ t.p, 8 }, "https://"))) {
		/* absolute-form: the authority ends at '/', '?' or '#'
		 * (RFC 3986 §3.2); an empty path is "/" */
		size_t i = t.p[4] == ':' ? 7 : 8;

		while (i < t.n && t.p[i] != '/' && t.p[i] != '?' &&
		    t.p[i] != '#')
			i++;
		if (i == t.n || t.p[i] != '/') {
			r->path = STR_LIT("/");
			r->query = i < t.n && t.p[i] == '?' ?
			    (struct str){ t.p + i + 1, t.n - i - 1 } :
			    (struct str){ t.p + t.n, 0 };
			return memchr(t.p, '#', t.n) ? -400 : 0;
		}
		t = (struct str){ t.p + i, t.n - i };
	} else if (str_eq(t, "*")) {
		if (r->method != HTTP_OPTIONS)
			return -400;
		r->path = t;
		r->query = (struct str){ t.p + 1, 0 };
		return 0;
	} else if (t.n == 0 || t.p[0] != '/') {
		return -400;
	}
	q = memchr(t.p, '?', t.n);
	if (q == NULL) {
		r->path = t;
		r->query = (struct str){ t.p + t.n, 0 };
	} else {
		r->path = (struct str){ t.p, (size_t)(q - t.p) };
		r->query = (struct str){ q + 1, t.n - (size_t)(q - t.p) - 1 };
	}
	/* a fragment never travels in a request-target */
	if (memchr(t.p, '#', t.n) != NULL)
		return -400;
	return 0;
}

static int
parse_length(struct str v, int64_t *out)
{
	int64_t n = 0;
	size_t z = 0;

	while (z + 1 < v.n && v.p[z] == '0')	/* leading zeros are digits */
		z++;
	if (v.n == 0 || v.n - z > 15)
		return v.n == 0 ? -400 : -413;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -400;
		n = n * 10 + (v.p[i] - '0');
	}
	if (*out >= 0 && *out != n)
		return -400;	/* differing duplicates */
	*out = n;
	return 0;
}

/*
 * Fields that must not appear twice: Host (RFC 9112 §3.2), the handshake's
 * Sec-WebSocket-Key and -Version (RFC 6455 §11.3.1, §11.3.5) and
 * Authorization (two credentials are ambiguous).  A repeat is 400.
 */
static const char *const single[] = { "host", "sec-websocket-key",
    "sec-websocket-version", "authorization" };

/* Interpret the headers the core itself needs; *seen has a bit per
 * single[] name already met. */
static int
note_header(struct http_req *r, const struct http_hdr *h, unsigned *seen)
{
	for (size_t k = 0; k < ARRAY_LEN(single); k++)
		if (str_ieq(h->name, single[k])) {
			if (*seen & (1u << k))
				return -400;
			*seen |= 1u << k;
			return 0;
		}
	if (str_ieq(h->name, "content-length")) {
		return parse_length(h->value, &r->content_length);
	} else if (str_ieq(h->name, "transfer-encoding")) {
		return -411;
	} else if (str_ieq(h->name, "connection")) {
		if (http_list_has(h->value, "close"))
			r->flags |= HTTP_F_CLOSE;
		if (http_list_has(h->value, "keep-alive"))
			r->flags |= HTTP_F_KEEPALIVE;
		if (http_list_has(h->value, "upgrade"))
			r->flags |= HTTP_F_CONN_UPGRADE;
	} else if (str_ieq(h->name, "upgrade")) {
		if (http_list_has(h->value, "websocket"))
			r->flags |= HTTP_F_UPGRADE_WS;
	} else if (str_ieq(h->name, "expect")) {
		if (!str_ieq(h->value, "100-continue"))
			return -417;
		r->flags |= HTTP_F_EXPECT_100;
	}
	return 0;
}

static int
parse_field(struct http_req *r, const char *p, size_t n)
{
	size_t i = 0, vs, ve;
	struct http_hdr *h;

	if (p[0] == ' ' || p[0] == '\t')
		return -400;		/* obs-fold */
	while (i < n && is_tchar((uint8_t)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ':')
		return -400;		/* incl. space before the colon */
	if (r->nhdr >= WARD_MAX_HEADERS)
		return -431;
	h = &r->hdr[r->nhdr++];
	h->name = (struct str){ p, i };
	vs = i + 1;
	while (vs < n && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	for (size_t k = vs; k < ve; k++)
		if (!is_vchar_ws((uint8_t)p[k]))
			return -400;
	h->value = (struct str){ p + vs, ve - vs };
	return 0;
}

/* The next CRLF-terminated line; a bare CR or LF is an error. */
static long
line_end(const char *p, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++) {
		if (p[i] == '\n')
			return -1;
		if (p[i] == '\r')
			return i + 1 < len && p[i + 1] == '\n' ? (long)i : -1;
	}
	return -2;
}

static int
parse_lines(struct http_req *r, const char *buf, size_t head, unsigned *seen)
{
	size_t pos;
	long e = line_end(buf, 0, head);
	int rc;

	if (e < 0)
		return -400;
	if ((size_t)e > WARD_MAX_REQLINE)
		return -414;
	if ((rc = parse_reqline(r, buf, (size_t)e)) != 0)
		return rc;
	pos = (size_t)e + 2;
	while (pos < head - 2) {
		e = line_end(buf, pos, head);
		if (e < 0)
			return -400;
		if ((rc = parse_field(r, buf + pos, (size_t)e - pos)) != 0 ||
		    (rc = note_header(r, &r->hdr[r->nhdr - 1], seen)) != 0)
			return rc;
		pos = (size_t)e + 2;
	}
	return 0;
}

static int parse_after_crlf(struct http_req *r, const char *buf, size_t len);

int
http_parse(struct http_req *r, const char *buf, size_t len)
{
	int rc;

	memset(r, 0, offsetof(struct http_req, hdr));
	r->content_length = -1;
	r->nhdr = 0;
	r->nparam = 0;
	r->body = NULL;
	r->body_len = 0;
	r->auth = NULL;
	r->bearer_proto = false;
	/* skip at most one empty line before a request (RFC 9112 §2.2) */
	if (len >= 2 && buf[0] == '\r' && buf[1] == '\n') {
		if (len >= 4 && buf[2] == '\r' && buf[3] == '\n')
			return -400;
		rc = parse_after_crlf(r, buf + 2, len - 2);
		if (rc > 0)
			r->head_len += 2;
		return rc > 0 ? rc + 2 : rc;
	}
	return parse_after_crlf(r, buf, len);
}

static int
parse_after_crlf(struct http_req *r, const char *buf, size_t len)
{
	size_t scan = 0, head;
	unsigned seen = 0;	/* bit 0: Host */
	int rc;

	if (len >= 2 && buf[0] == '\r' && buf[1] == '\n')
		return -400;
	if (!http_head_complete(buf, len, &scan)) {
		for (size_t i = 0; i < len; i++)	/* a head that can never end */
			if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
				return -400;
		if (len > WARD_MAX_HEAD)
			return memchr(buf, '\n', MIN(len, WARD_MAX_REQLINE)) ?
			    -431 : -414;
		return WARD_NEED_MORE;
	}
	head = scan;
	if (head > WARD_MAX_HEAD + 4)
		return -431;
	if ((rc = parse_lines(r, buf, head, &seen)) != 0)
		return rc;
	if (r->minor == 1 && !(seen & 1u))
		return -400;
	if ((rc = split_target(r)) != 0)
		return rc;
	if (r->minor == 0)
		r->flags |= HTTP_F_CLOSE;	/* SPEC §1.2: answered and closed */
	if (r->content_length > WARD_MAX_BODY)
		return -413;
	r->head_len = head;
	return (int)head;
}

struct str
http_header(const struct http_req *r, const char *name)
{
	for (int i = 0; i < r->nhdr; i++)
		if (str_ieq(r->hdr[i].name, name))
			return r->hdr[i].value;
	return (struct str){ NULL, 0 };
}

bool
http_list_has(struct str list, const char *token)
{
	size_t i = 0;

	while (i < list.n) {
		size_t s, e;

		while (i < list.n && (list.p[i] == ' ' || list.p[i] == '\t' ||
		    list.p[i] == ','))
			i++;
		s = i;
		while (i < list.n && list.p[i] != ',')
			i++;
		e = i;
		while (e > s && (list.p[e - 1] == ' ' || list.p[e - 1] == '\t'))
			e--;
		if (e > s && str_ieq((struct str){ list.p + s, e - s }, token))
			return true;
	}
	return false;
}

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode (and '+' as space) src into out; -2 on malformed. */
static int
pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return -2;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -2;
			hi = unhex(s[i + 1]);
			lo = unhex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -2;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= cap)
			return -2;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

int
http_query_get(struct str q, const char *name, char *out, size_t cap)
{
	size_t i = 0, nl = strlen(name);

	while (i < q.n) {
		size_t s = i, eq, e;

		while (i < q.n && q.p[i] != '&')
			i++;
		e = i++;
		eq = s;
		while (eq < e && q.p[eq] != '=')
			eq++;
		if (eq - s == nl && memcmp(q.p + s, name, nl) == 0) {
			if (eq == e)
				return cap > 0 ? (out[0] = '\0', 0) : -2;
			return pct_decode(q.p + eq + 1, e - eq - 1, out, cap);
		}
	}
	return -1;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
