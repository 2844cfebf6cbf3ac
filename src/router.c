/*
 * router.c - route tables and dispatch.
 *
 * Each endpoint family (src/svc/) declares a table of routes and is handed
 * here at start-up (router_add_family, from the index src/svc/index.c);
 * this file walks the tables and knows no family by name.  Adding an
 * endpoint is adding a row.  Responses are written by reply.c.  Patterns are
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

static const struct route *flat[WARD_MAX_ROUTES + 1];	/* [0] = none */
static uint16_t nflat = 1;

/* A family's socket types, declared before any route may name one. */
static int
add_types(const struct family *f, char *err, size_t errlen)
{
	for (const char *const *t = f->types; t != NULL && *t != NULL; t++)
		if (reg_type_add(*t) < 0) {
			snprintf(err, errlen, "family %s: socket type %s: more "
			    "than WARD_SOCK_TYPES (%d) types", f->name, *t,
			    WARD_SOCK_TYPES);
			return WARD_EINVAL;
		}
	return 0;
}

/* Its config keys, journal records and group kinds. */
static int
add_parts(const struct family *f, char *err, size_t errlen)
{
	if (f->keys != NULL && cfg_add_keys(f->keys) != 0) {
		snprintf(err, errlen, "family %s: too many key tables",
		    f->name);
		return WARD_EINVAL;
	}
	if (f->journal != NULL && journal_add_family(f->journal) != 0) {
		snprintf(err, errlen, "family %s: journal records %d-%d "
		    "overlap another family's, or more than "
		    "WARD_JOURNAL_FAMILIES (%d)", f->name, f->journal->lo,
		    f->journal->hi, WARD_JOURNAL_FAMILIES);
		return WARD_EINVAL;
	}
	for (const struct fanout_kind *k = f->kinds; k && k->name; k++)
		if ((*k->id = fanout_kind_add(k->name)) < 0) {
			snprintf(err, errlen, "family %s: group kind %s: more "
			    "than WARD_GROUP_KINDS (%d)", f->name, k->name,
			    WARD_GROUP_KINDS);
			return WARD_EINVAL;
		}
	return 0;
}

/* Its routes, after every route already taken (first match wins). */
static int
add_routes(const struct family *f, char *err, size_t errlen)
{
	for (const struct route *r = f->routes; r && r->pattern; r++) {
		if (r->ws != NULL &&
		    reg_type_of(r->ws->type) == REG_TYPE_NONE) {
			snprintf(err, errlen, "family %s: route %s: socket "
			    "type %s is not declared in its types", f->name,
			    r->pattern, r->ws->type);
			return WARD_EINVAL;
		}
		if (nflat > WARD_MAX_ROUTES) {
			snprintf(err, errlen, "family %s: route %s: more than "
			    "WARD_MAX_ROUTES (%d) routes", f->name, r->pattern,
			    WARD_MAX_ROUTES);
			return WARD_EINVAL;
		}
		flat[nflat++] = r;
	}
	return 0;
}

int
router_add_family(const struct family *f, char *err, size_t errlen)
{
	if (add_types(f, err, errlen) != 0 || add_parts(f, err, errlen) != 0)
		return WARD_EINVAL;
	if (f->init != NULL)
		f->init();
	return add_routes(f, err, errlen);
}

const struct route *
router_route(uint16_t idx)
{
	return idx > 0 && idx < nflat ? flat[idx] : NULL;
}

void
router_each_ws(void (*fn)(const struct route *rt, void *arg), void *arg)
{
	for (uint16_t i = 1; i < nflat; i++)
		if (flat[i]->ws != NULL &&
		    (!flat[i]->enabled || flat[i]->enabled()))
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
	return reply_json_error(c, 405, "method_not_allowed",
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
		reply_body(c, 204, NULL, NULL, 0, extra);
		return;
	}
	if (req_h.p == NULL)
		req_h = STR_LIT("Authorization, Content-Type, Idempotency-Key");
	snprintf(extra, sizeof extra, "Access-Control-Allow-Methods: %s\r\n"
	    "Access-Control-Allow-Headers: %.*s\r\n"
	    "Access-Control-Max-Age: 600\r\n", allow,
	    (int)MIN(req_h.n, 200), req_h.p);
	reply_body(c, 204, NULL, NULL, 0, extra);
}

/* An allowed Origin travels with the request (the replies echo it). */
static bool
set_cors(struct http_req *r)
{
	struct str o = http_header(r, "origin");

	r->cors_origin = (struct str){ NULL, 0 };
	if (o.p == NULL)
		return true;
	if (!cfg_origin_allowed(cfg.cors_origins, o) &&
	    !cfg_same_origin(r, o))
		return false;
	if (o.n > 512)
		return false;
	r->cors_origin = o;
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
		reply_error(c, 503, "unavailable", "WebSocket is disabled");
		return;
	}
	if (r->method == HTTP_GET && (r->flags & HTTP_F_UPGRADE_WS)) {
		const struct route *rt = flat[idx];

		if (check_auth(c, r, rt, &why) == 0)
			why = NULL;
		else if (rt->refused != NULL)
			rt->refused(r, rt->ws->type, why);
		ws_upgrade(c, r, idx, why);
		return;
	}
	reply_json_error(c, 426, "upgrade_required",
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

	r->cors_origin = (struct str){ NULL, 0 };
	c->req = r;
	if (rt == NULL || (rt->enabled != NULL && !rt->enabled())) {
		reply_error(c, 404, "not_found", "no such endpoint");
		return;
	}
	if (rt->ws == NULL && !set_cors(r)) {
		reply_error(c, 403, "forbidden", "origin not allowed");
		return;
	}
	if (r->method == HTTP_OPTIONS && !(rt->methods & HTTP_M(HTTP_OPTIONS))) {
		preflight(c, r, methods_of(rt));
	} else if (rt->ws != NULL) {
		dispatch_ws(c, r, idx);
	} else if (!(methods_of(rt) & HTTP_M(r->method))) {
		respond_405(c, methods_of(rt));
	} else if ((st = check_auth(c, r, rt, &why)) != 0) {
		reply_error(c, st, st == 401 ? "unauthorized" : "forbidden", why);
	} else {
		if (r->method == HTTP_HEAD)
			r->method = HTTP_GET;	/* CF_HEAD_REQ drops the body */
		if ((st = rt->http(c, r)) != 0)
			log_debug("handler", "route=%s rc=%d", rt->pattern, st);
	}
	c->req = NULL;
}
