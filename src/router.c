/*
 * router.c - route tables, dispatch, and HTTP responses.
 *
 * Each endpoint family (src/svc/) exports a table of routes; this file
 * walks the tables.  Adding an endpoint is adding a row.  Patterns are
 * literal paths with '*' (a name: [A-Za-z0-9_-]{1,64}) and '#' (digits)
 * segments; a trailing slash is optional on either side.
 *
 * Dispatch order: path -> enabled -> origin -> method (405 with Allow) ->
 * WebSocket upgrade (426 for a plain GET) or the handler.  HEAD is GET
 * without a body.  OPTIONS is answered here (CORS preflight).
 */
#include <stdio.h>

#include "internal.h"
#include "auth.h"

extern const struct route health_routes[];
extern const struct route echo_routes[];
extern const struct route status_routes[];
extern const struct route call_routes[];
extern const struct route stt_routes[];
extern const struct route metrics_routes[];
extern const struct route consult_routes[];
extern const struct route notify_routes[];
extern const struct route doctor_routes[];
extern const struct route unified_routes[];
extern const struct route diag_routes[];
extern const struct route docs_routes[];
extern const struct route admin_routes[];
extern const struct route audit_routes[];
extern const struct route web_routes[];

static const struct route *const tables[] = {
	health_routes,
	echo_routes,
	status_routes,
	call_routes,
	stt_routes,
	metrics_routes,
	consult_routes,
	notify_routes,
	doctor_routes,
	unified_routes,
	diag_routes,
	docs_routes,
	admin_routes,
	audit_routes,
	web_routes,
};

#define MAX_ROUTES 128
static const struct route *flat[MAX_ROUTES];	/* [0] = none */
static uint16_t nflat;

/* Extra response headers for the request being dispatched (CORS). */
static char cors_hdr[640];

static void
router_init(void)
{
	if (nflat != 0)
		return;
	nflat = 1;
	for (size_t t = 0; t < ARRAY_LEN(tables); t++)
		for (const struct route *r = tables[t]; r->pattern; r++)
			if (nflat < MAX_ROUTES)
				flat[nflat++] = r;
}

const struct route *
router_route(uint16_t idx)
{
	router_init();
	return idx > 0 && idx < nflat ? flat[idx] : NULL;
}

void
router_each_ws(void (*fn)(const struct route *rt, void *arg), void *arg)
{
	router_init();
	for (uint16_t i = 1; i < nflat; i++)
		if (flat[i]->ws != NULL && (!flat[i]->enabled || flat[i]->enabled()))
			fn(flat[i], arg);
}

static bool
seg_char(char c, char kind)
{
	if (c >= '0' && c <= '9')
		return true;
	if (kind == '#')
		return false;
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == '-';
}

static bool
match(const char *pat, struct str path, struct http_req *r)
{
	size_t i = 0;

	r->nparam = 0;
	for (; *pat != '\0'; pat++) {
		if (*pat == '*' || *pat == '#') {
			size_t s = i;

			while (i < path.n && seg_char(path.p[i], *pat))
				i++;
			if (i == s || i - s > 64 ||
			    (i < path.n && path.p[i] != '/'))
				return false;
			if (r->nparam < (int)ARRAY_LEN(r->param))
				r->param[r->nparam++] =
				    (struct str){ path.p + s, i - s };
			continue;
		}
		if (i < path.n && path.p[i] == *pat) {
			i++;
			continue;
		}
		/* "/x/" matches "/x" */
		return *pat == '/' && pat[1] == '\0' && i == path.n;
	}
	/* "/x" matches "/x/" */
	return i == path.n || (i + 1 == path.n && path.p[i] == '/' && i > 1);
}

static uint16_t
find(struct http_req *r)
{
	router_init();
	for (uint16_t i = 1; i < nflat; i++)
		if (match(flat[i]->pattern, r->path, r))
			return i;
	return 0;
}

static void
allow_list(unsigned m, char *out, size_t cap)
{
	static const char *const names[] = { "", "GET", "HEAD", "POST", "PUT",
	    "DELETE", "OPTIONS", "PATCH" };
	size_t o = 0;

	out[0] = '\0';
	for (unsigned k = 1; k < ARRAY_LEN(names); k++) {
		int n;

		if (!(m & HTTP_M(k)))
			continue;
		n = snprintf(out + o, cap - o, "%s%s", o ? ", " : "", names[k]);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
}

static unsigned
methods_of(const struct route *rt)
{
	unsigned m = rt->ws ? HTTP_M(HTTP_GET) : rt->methods;

	if (m & HTTP_M(HTTP_GET))
		m |= HTTP_M(HTTP_HEAD);
	return m | HTTP_M(HTTP_OPTIONS);
}

static int
respond_405(struct conn *c, unsigned m)
{
	char allow[96], extra[128];

	allow_list(m, allow, sizeof allow);
	snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
	return http_respond_json_error(c, 405, "method_not_allowed",
	    "method not allowed on this path", extra);
}

static void
preflight(struct conn *c, struct http_req *r, unsigned m)
{
	char allow[96], extra[512];
	struct str req_h = http_header(r, "access-control-request-headers");

	allow_list(m, allow, sizeof allow);
	if (http_header(r, "access-control-request-method").p == NULL) {
		snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
		http_respond(c, 204, NULL, NULL, 0, extra);
		return;
	}
	if (req_h.p == NULL)
		req_h = STR_LIT("Authorization, Content-Type, Idempotency-Key");
	snprintf(extra, sizeof extra, "Access-Control-Allow-Methods: %s\r\n"
	    "Access-Control-Allow-Headers: %.*s\r\n"
	    "Access-Control-Max-Age: 600\r\n", allow,
	    (int)MIN(req_h.n, 200), req_h.p);
	http_respond(c, 204, NULL, NULL, 0, extra);
}

static bool
set_cors(struct http_req *r)
{
	struct str o = http_header(r, "origin");

	cors_hdr[0] = '\0';
	if (o.p == NULL)
		return true;
	if (!cfg_origin_allowed(cfg.cors_origins, o) &&
	    !http_same_origin(r, o))
		return false;
	if (o.n > 512)
		return false;
	snprintf(cors_hdr, sizeof cors_hdr,
	    "Access-Control-Allow-Origin: %.*s\r\nVary: Origin\r\n",
	    (int)o.n, o.p);
	return true;
}

/* The bearer token of the Authorization header or of the WebSocket
 * subprotocol "bearer, <token>"; a token given both ways must be the same
 * text (else *ambiguous). */
static struct str
header_token(struct http_req *r, bool *ambiguous)
{
	struct str h = http_header(r, "authorization"), a = { NULL, 0 };
	struct str p = { NULL, 0 };

	if (h.p != NULL && h.n > 7 && str_ieq((struct str){ h.p, 7 }, "bearer "))
		a = (struct str){ h.p + 7, h.n - 7 };
	h = http_header(r, "sec-websocket-protocol");
	if (h.p != NULL && h.n > 7 && str_ieq((struct str){ h.p, 7 }, "bearer,")) {
		size_t i = 7;

		while (i < h.n && (h.p[i] == ' ' || h.p[i] == '\t'))
			i++;
		r->bearer_proto = true;
		p = (struct str){ h.p + i, h.n - i };
	}
	if (a.p != NULL && p.p != NULL &&
	    (a.n != p.n || memcmp(a.p, p.p, a.n) != 0))
		*ambiguous = true;
	return a.p != NULL ? a : p;
}

/* How many "token" parameters the query has. */
static int
query_tokens(struct str q)
{
	int n = 0;

	for (size_t i = 0; i < q.n; i++)
		if ((i == 0 || q.p[i - 1] == '&') && q.n - i >= 5 &&
		    memcmp(q.p + i, "token", 5) == 0 &&
		    (q.n - i == 5 || q.p[i + 5] == '=' || q.p[i + 5] == '&'))
			n++;
	return n;
}

/*
 * The request's token: Authorization: Bearer, (WebSocket)
 * Sec-WebSocket-Protocol: bearer, <token>, or ?token=.  Credentials that
 * disagree are ambiguous and refused (*ambiguous): two token parameters,
 * or a query token different from a header's.  Never logged.
 */
static struct str
find_token(struct http_req *r, bool *ambiguous)
{
	static char qtok[AUTH_TOKEN_MAX + 2];
	struct str h = header_token(r, ambiguous);
	int n, nq = query_tokens(r->query);

	if (nq > 1)
		*ambiguous = true;
	if (nq == 0)
		return h;
	n = http_query_get(r->query, "token", qtok, sizeof qtok);
	if (n == -2)
		return (struct str){ "!", 1 };	/* malformed: invalid */
	if (n >= 0 && h.p != NULL &&
	    ((size_t)n != h.n || memcmp(qtok, h.p, h.n) != 0))
		*ambiguous = true;
	if (h.p != NULL)
		return h;
	return n >= 0 ? (struct str){ qtok, (size_t)n } : (struct str){ NULL, 0 };
}

/* One refused token: counted by reason, logged at info (rate-limited)
 * with the route pattern and the peer, never the token. */
static void
auth_refused(const struct conn *c, const struct route *rt,
    const char *reason)
{
	char peer[64];

	auth_refusal_note(reason);
	if (!log_allow(LOG_RL_AUTH))
		return;
	port_addr_text(&c->peer, peer, sizeof peer);
	log_info("auth_refused", "reason=%s route=%s kind=%s peer=%s", reason,
	    rt->pattern, rt->ws ? "ws" : "http", peer);
}

#ifndef WARD_BUILD_EPOCH
#define WARD_BUILD_EPOCH 0
#endif

/* The wall clock reads before this build was made: no RTC, no sync yet. */
static bool
clock_unset(void)
{
	static int64_t warned;
	int64_t now = port_wall_us() / 1000000;

	if (now >= (int64_t)WARD_BUILD_EPOCH)
		return false;
	if (now - warned > 60) {
		log_warn("clock_unset", "now=%lld build=%lld detail=\"wall "
		    "clock before the build date: tokens refused until the "
		    "time is set\"", (long long)now, (long long)WARD_BUILD_EPOCH);
		warned = now;
	}
	return true;
}

/*
 * Authenticate and authorise.  Returns 0, 401 or 403 with a short reason
 * in *why ("invalid token", "token expired", "access denied").
 */
static int
check_auth(const struct conn *c, struct http_req *r, const struct route *rt,
    const char **why)
{
	static struct auth_claims claims;
	bool ambiguous = false;
	struct str tok = find_token(r, &ambiguous);
	bool need = rt->roles != NULL || cfg.require_auth_all;

	r->auth = NULL;
	if (ambiguous) {
		*why = "ambiguous credentials";
		auth_refused(c, rt, "ambiguous");
		return 401;
	}
	if (tok.p != NULL && clock_unset()) {
		*why = "invalid token";
		auth_refused(c, rt, "clock_unset");
		return 401;
	}
	if (tok.p != NULL) {
		int rc = auth_verify(tok.p, tok.n, port_wall_us() / 1000000,
		    cfg.jwt_leeway, cfg.jwt_require_exp != 0, &claims);

		if (rc != AUTH_OK) {
			*why = rc == AUTH_E_EXPIRED ? "token expired" :
			    "invalid token";
			auth_refused(c, rt, auth_reason(rc));
			return 401;
		}
		r->auth = &claims;
	}
	if (!need)
		return 0;
	if (r->auth == NULL) {
		*why = "invalid token";
		return 401;
	}
	if (rt->roles != NULL && strcmp(rt->roles, "*") != 0 &&
	    !auth_role_in(&claims, rt->roles)) {
		*why = "access denied";
		return 403;
	}
	return 0;
}

static void
dispatch_ws(struct conn *c, struct http_req *r, uint16_t idx)
{
	const char *why = NULL;

	if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
		respond_405(c, methods_of(flat[idx]));
		return;
	}
	if (!cfg.websocket_enabled) {
		http_error(c, 503, "unavailable", "WebSocket is disabled");
		return;
	}
	if (r->method == HTTP_GET && (r->flags & HTTP_F_UPGRADE_WS)) {
		const char *t = flat[idx]->ws->type;

		if (check_auth(c, r, flat[idx], &why) == 0)
			why = NULL;
		else if (strcmp(t, "diagnosis") == 0 ||
		    strcmp(t, "notifications") == 0 ||
		    strcmp(t, "doctor_status") == 0)
			audit("channel_refused", r->auth, "channel=%s path=%.*s "
			    "reason=\"%s\"", t, (int)MIN(r->path.n, 80),
			    r->path.p, why);
		ws_upgrade(c, r, idx, why);
		return;
	}
	http_respond_json_error(c, 426, "upgrade_required",
	    "this is a WebSocket endpoint: send Upgrade: websocket",
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\n");
}

void
router_dispatch(struct conn *c, struct http_req *r)
{
	uint16_t idx = find(r);
	const struct route *rt = idx ? flat[idx] : NULL;
	const char *why = NULL;
	int st;

	cors_hdr[0] = '\0';
	if (rt == NULL || (rt->enabled != NULL && !rt->enabled())) {
		http_error(c, 404, "not_found", "no such endpoint");
		return;
	}
	if (rt->ws == NULL && !set_cors(r)) {
		http_error(c, 403, "forbidden", "origin not allowed");
		return;
	}
	if (r->method == HTTP_OPTIONS && !(rt->methods & HTTP_M(HTTP_OPTIONS))) {
		preflight(c, r, methods_of(rt));
	} else if (rt->ws != NULL) {
		dispatch_ws(c, r, idx);
	} else if (!(methods_of(rt) & HTTP_M(r->method))) {
		respond_405(c, methods_of(rt));
	} else if ((st = check_auth(c, r, rt, &why)) != 0) {
		http_error(c, st, st == 401 ? "unauthorized" : "forbidden", why);
	} else {
		if (r->method == HTTP_HEAD)
			r->method = HTTP_GET;	/* CF_HEAD_REQ drops the body */
		rt->http(c, r);
	}
	cors_hdr[0] = '\0';
}

/* --- responses ---------------------------------------------------------- */

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

		time_iso(s * 1000000, iso);
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
	n = snprintf(out + o, cap - o, "%s%s%s\r\n", cors_hdr,
	    extra ? extra : "", closing ? "Connection: close\r\n" : "");
	if (n < 0 || o + (size_t)n >= cap)
		return 0;
	return o + (size_t)n;
}

int
http_respond_raw(struct conn *c, const char *p, size_t n)
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
http_respond(struct conn *c, int status, const char *ctype, const void *body,
    size_t len, const char *extra)
{
	return respond(c, status, ctype, body, len, extra, true);
}

int
http_respond_static(struct conn *c, int status, const char *ctype,
    const void *body, size_t len, const char *extra)
{
	return respond(c, status, ctype, body, len, extra, false);
}

int
http_json(struct conn *c, int status, const struct jw *w)
{
	if (w->err)
		return http_error(c, 500, "internal_error",
		    "response too large");
	return http_respond(c, status, "application/json", w->p, w->len, NULL);
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
http_json_gen(struct conn *c, int status, void (*gen)(struct jw *, void *),
    void *arg)
{
	char head[1024];
	struct jw w;
	size_t hl;
	uint32_t h;

	jw_init(&w, NULL, 0);
	gen(&w, arg);
	if (w.err)
		return http_error(c, 500, "internal_error", "answer failed");
	hl = build_head(c, head, sizeof head, status, "application/json",
	    w.total, NULL);
	if (hl == 0 || http_respond_raw(c, head, hl) != 0)
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
http_respond_json_error(struct conn *c, int status, const char *code,
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
	return http_respond(c, status, "application/json", body, w.len, extra);
}

int
http_error(struct conn *c, int status, const char *code, const char *detail)
{
	return http_respond_json_error(c, status, code, detail, NULL);
}
