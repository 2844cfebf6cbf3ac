/*
 * fuzz_http.c - http_parse, http_head_complete and http_query_get on
 * arbitrary bytes.
 *
 * Besides memory safety (the input is an exact-size heap buffer), the
 * target checks the parser's contract: only the documented answers; a
 * parsed request points inside its head; the head alone parses the same,
 * and one byte less needs more; the terminator search gives the same
 * answer whole, resumed at a split point and resumed byte by byte; a
 * decoded query value fits its buffer and is terminated.
 */
#include <stdlib.h>

#include "internal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *base;
static size_t base_len;

static void
inside(struct str s)
{
	if (s.n == 0)
		return;
	if (s.p < base || s.p + s.n > base + base_len)
		abort();
}

static bool
known_status(int rc)
{
	switch (rc) {
	case -400: case -411: case -413: case -414: case -417: case -431:
	case -505: case WARD_NEED_MORE:
		return true;
	default:
		return rc > 0;
	}
}

/* Decode a few names from q into exact-size heap buffers of every size
 * class the input picks: a write past cap is an ASan report. */
static void
query(struct str q, const uint8_t *data, size_t size)
{
	static const char *const names[] = { "a", "b", "token", "x", "" };
	char name[33];
	size_t nl = 0;

	/* a name taken from the input: its bytes up to '=' or '&' */
	while (nl < size && nl < sizeof name - 1 && data[nl] != '=' &&
	    data[nl] != '&' && data[nl] != '\0')
		nl++;
	memcpy(name, data, nl);
	name[nl] = '\0';
	for (size_t k = 0; k <= ARRAY_LEN(names); k++) {
		const char *n = k < ARRAY_LEN(names) ? names[k] : name;
		/* cap >= 1: a zero cap is a known bug (see test_http.c) */
		size_t cap = 1 + (size ? data[size - 1] % 64 : 0);
		char *out = malloc(cap);
		int rc = http_query_get(q, n, out, cap);

		if (rc >= 0 && ((size_t)rc >= cap || out[rc] != '\0'))
			abort();
		if (rc < -2)
			abort();
		free(out);
	}
}

static void
check_request(const struct http_req *r, int rc)
{
	if (r->head_len != (size_t)rc || r->nhdr < 0 ||
	    r->nhdr > WARD_MAX_HEADERS || r->minor > 1)
		abort();
	if (r->content_length < -1 || r->content_length > WARD_MAX_BODY)
		abort();
	if (r->method < HTTP_GET || r->method > HTTP_OTHER)
		abort();
	inside(r->method_s);
	inside(r->target);
	/* absolute-form without a path gives the static "/" */
	if (!str_eq(r->path, "/"))
		inside(r->path);
	inside(r->query);
	for (int i = 0; i < r->nhdr; i++) {
		inside(r->hdr[i].name);
		inside(r->hdr[i].value);
		if (r->hdr[i].name.n == 0)
			abort();
		http_list_has(r->hdr[i].value, "upgrade");
		http_list_has(r->hdr[i].value, "");
	}
	if (r->path.n == 0 || (r->path.p[0] != '/' && !str_eq(r->path, "*")))
		abort();
	if (r->minor == 1 && http_header(r, "host").p == NULL)
		abort();
}

/* The terminator search: whole, resumed at a split, and byte by byte. */
static void
complete(const char *p, size_t n, size_t split)
{
	size_t whole_scan = 0, scan = 0, ref = 0;
	bool whole = http_head_complete(p, n, &whole_scan), got = false;

	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
			ref = i + 4;
			break;
		}
	if (whole != (ref != 0) || (whole && whole_scan != ref))
		abort();
	if (!http_head_complete(p, split, &scan))
		got = http_head_complete(p, n, &scan);
	else
		got = true;
	if (got != whole || (got && scan != whole_scan))
		abort();
	scan = 0;
	got = false;
	for (size_t i = 0; i <= n && !got; i++)
		got = http_head_complete(p, i, &scan);
	if (got != whole || (got && scan != whole_scan))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_req r;
	const char *p = (const char *)data;
	int rc;

	base = p;
	base_len = size;
	rc = http_parse(&r, p, size);
	if (!known_status(rc) || (rc > 0 && (size_t)rc > size))
		abort();
	if (rc > 0) {
		check_request(&r, rc);
		query(r.query, data, size);
		/* the head alone parses the same; one byte less needs more */
		if (http_parse(&r, p, (size_t)rc) != rc)
			abort();
		if ((size_t)rc - 1 <= WARD_MAX_HEAD &&
		    http_parse(&r, p, (size_t)rc - 1) != WARD_NEED_MORE)
			abort();
	}
	complete(p, size, size ? data[0] % (size + 1) : 0);
	query((struct str){ p, size }, data, size);
	return 0;
}
