/*
 * reply.c - the response writer: HTTP heads and bodies queued on the
 * connection (by copy, by reference to static bytes, or generated across
 * pooled buffers), and the JSON error answers.
 *
 * Below the handlers and the router, above conn: nothing here parses or
 * decides.  The CORS headers come from the request being answered
 * (c->req, set by the router while it dispatches), never from a static.
 */
#include <stdio.h>

#include "internal.h"

static size_t
date_header(char *out, size_t cap)
{
	static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon",
	    "Tue", "Wed" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	static int64_t cached_s = -1;
	static char cached[48];
	int64_t s = port_wall_us() / 1000000;

	if (s != cached_s) {
		char iso[40];
		int y, mo, d, hh, mi, ss;

		log_time_iso(s * 1000000, iso);
		if (sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &hh, &mi,
		    &ss) != 6)
			return 0;
		snprintf(cached, sizeof cached,
		    "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
		    wd[((s / 86400) % 7 + 7) % 7], d, mon[(mo - 1) % 12], y, hh,
		    mi, ss);
		cached_s = s;
	}
	return (size_t)snprintf(out, cap, "%s", cached);
}

/* The request's allowed Origin (checked by the router), echoed. */
static int
cors_header(const struct conn *c, char *out, size_t cap)
{
	struct str o = c->req != NULL ? c->req->cors_origin : (struct str){ 0 };

	if (o.p == NULL)
		return snprintf(out, cap, "%s", "");
	return snprintf(out, cap, "Access-Control-Allow-Origin: %.*s\r\n"
	    "Vary: Origin\r\n", (int)o.n, o.p);
}

/* Build the head into out; returns its length or 0 if it does not fit. */
static size_t
build_head(struct conn *c, char *out, size_t cap, int status,
    const char *ctype, size_t len, const char *extra)
{
	bool bodyless = status == 204 || status == 304 || status < 200;
	bool closing = (c->flags & CF_CLOSE_AFTER) != 0;
	size_t o;
	int n;

	n = snprintf(out, cap, "HTTP/1.1 %d %s\r\nServer: ward\r\n", status,
	    http_reason(status));
	if (n < 0 || (size_t)n >= cap)
		return 0;
	o = (size_t)n;
	o += date_header(out + o, cap - o);
	if (ctype != NULL)
		n = snprintf(out + o, cap - o, "Content-Type: %s\r\n"
		    "X-Content-Type-Options: nosniff\r\n", ctype);
	else
		n = 0;
	o += (size_t)n;
	if (!bodyless)
		o += (size_t)snprintf(out + o, cap - o,
		    "Content-Length: %zu\r\n", len);
	n = cors_header(c, out + o, cap - o);
	if (n < 0 || o + (size_t)n >= cap)
		return 0;
	o += (size_t)n;
	n = snprintf(out + o, cap - o, "%s%s\r\n", extra ? extra : "",
	    closing ? "Connection: close\r\n" : "");
	if (n < 0 || o + (size_t)n >= cap)
		return 0;
	return o + (size_t)n;
}

int
reply_raw(struct conn *c, const char *p, size_t n)
{
	uint32_t h = buf_get(n);

	if (h == 0) {
		conn_drop(c, false);
		return WARD_ENOMEM;
	}
	memcpy(buf_base(h), p, n);
	buf_set(h, 0, (uint32_t)n);
	return conn_send_owned(c, h);
}

static int
respond(struct conn *c, int status, const char *ctype, const void *body,
    size_t len, const char *extra, bool copy)
{
	char head[2048];
	size_t hl = build_head(c, head, sizeof head, status, ctype, len, extra);
	bool nobody = (c->flags & CF_HEAD_REQ) || status == 204 || status < 200;
	size_t blen = nobody ? 0 : len;
	uint32_t h;

	if (status >= 400)
		stats.http_errors++;
	if (hl == 0)
		return WARD_EINVAL;
	h = buf_get(hl + (copy ? blen : 0));
	if (h == 0 && copy && blen > 0)
		return respond(c, status, ctype, body, len, extra, false);
	if (h == 0) {
		conn_drop(c, false);
		return WARD_ENOMEM;
	}
	memcpy(buf_base(h), head, hl);
	if (copy && blen > 0)
		memcpy(buf_base(h) + hl, body, blen);
	buf_set(h, 0, (uint32_t)(hl + (copy ? blen : 0)));
	if (conn_send_owned(c, h) != 0)
		return WARD_ENOMEM;
	if (!copy && blen > 0) {
		uint32_t e = buf_ext(body, blen);

		if (e == 0) {
			conn_drop(c, false);
			return WARD_ENOMEM;
		}
		return conn_send_owned(c, e);
	}
	return 0;
}

int
reply_body(struct conn *c, int status, const char *ctype, const void *body,
    size_t len, const char *extra)
{
	return respond(c, status, ctype, body, len, extra, true);
}

int
reply_static(struct conn *c, int status, const char *ctype,
    const void *body, size_t len, const char *extra)
{
	return respond(c, status, ctype, body, len, extra, false);
}

int
reply_json(struct conn *c, int status, const struct jw *w)
{
	if (w->err)
		return reply_error(c, 500, "internal_error",
		    "response too large");
	return reply_body(c, status, "application/json", w->p, w->len, NULL);
}

static int
spill(struct jw *w)
{
	struct conn *c = w->ctx;
	uint32_t h;

	buf_set(w->buf, 0, (uint32_t)w->len);
	conn_send_owned(c, w->buf);
	h = buf_get_class(BUF_IO);
	if (h == 0) {
		w->buf = 0;
		return WARD_ENOMEM;
	}
	w->buf = h;
	w->p = (char *)buf_base(h);
	w->cap = buf_cap(h);
	w->len = 0;
	return 0;
}

int
reply_json_gen(struct conn *c, int status, void (*gen)(struct jw *, void *),
    void *arg)
{
	char head[1024];
	struct jw w;
	size_t hl;
	uint32_t h;

	jw_init(&w, NULL, 0);
	gen(&w, arg);
	if (w.err)
		return reply_error(c, 500, "internal_error", "answer failed");
	hl = build_head(c, head, sizeof head, status, "application/json",
	    w.total, NULL);
	if (hl == 0 || reply_raw(c, head, hl) != 0)
		return WARD_ENOMEM;
	if (c->flags & CF_HEAD_REQ)
		return 0;
	if ((h = buf_get_class(BUF_IO)) == 0) {
		conn_drop(c, false);
		return WARD_ENOMEM;
	}
	jw_init(&w, (char *)buf_base(h), buf_cap(h));
	w.spill = spill;
	w.ctx = c;
	w.buf = h;
	gen(&w, arg);
	if (w.err) {		/* the length was promised: cut the line */
		buf_unref(w.buf);
		conn_drop(c, true);
		return WARD_ENOMEM;
	}
	buf_set(w.buf, 0, (uint32_t)w.len);
	return conn_send_owned(c, w.buf);
}

static const char *
default_code(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 408: return "request_timeout";
	case 411: return "length_required";
	case 413: return "payload_too_large";
	case 414: return "uri_too_long";
	case 417: return "expectation_failed";
	case 426: return "upgrade_required";
	case 429: return "rate_limited";
	case 431: return "headers_too_large";
	case 501: return "not_implemented";
	case 503: return "unavailable";
	case 505: return "http_version_not_supported";
	default: return status >= 500 ? "internal_error" : "bad_request";
	}
}

static const char *
default_detail(int status)
{
	switch (status) {
	case 400: return "malformed request";
	case 411: return "Transfer-Encoding is not supported: send "
	    "Content-Length";
	case 413: return "request body larger than 65536 bytes";
	case 414: return "request line too long";
	case 417: return "only Expect: 100-continue is supported";
	case 431: return "request head too large";
	case 505: return "only HTTP/1.0 and HTTP/1.1 are supported";
	default: return http_reason(status);
	}
}

int
reply_json_error(struct conn *c, int status, const char *code,
    const char *detail, const char *extra)
{
	char body[512];
	struct jw w;

	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "error");
	jw_str(&w, code ? code : default_code(status));
	jw_key(&w, "detail");
	jw_str(&w, detail ? detail : default_detail(status));
	jw_obj_end(&w);
	return reply_body(c, status, "application/json", body, w.len, extra);
}

int
reply_error(struct conn *c, int status, const char *code, const char *detail)
{
	return reply_json_error(c, status, code, detail, NULL);
}
