/*
 * common.c - what every JSON WebSocket endpoint shares: error messages,
 * the application ping, and parsing a message into a typed object.
 */
#include <stdarg.h>
#include <stdio.h>

#include "svc.h"
#include "../auth.h"

void
svc_error(struct conn *c, const char *code, const char *detail)
{
	ws_send_error(c, code, detail);
}

static void
pong(struct conn *c)
{
	char buf[96];
	struct jw w;

	jw_init(&w, buf, sizeof buf);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "pong");
	jw_key(&w, "timestamp");
	jw_time(&w, port_wall_us());
	jw_obj_end(&w);
	ws_send(c, WS_OP_TEXT, buf, w.len);
}

/* One parsed document at a time: WebSocket messages and request bodies
 * are handled one after another, never nested. */
static struct json_doc doc;

/* "duplicate key \"k\"" for a JSON_E_DUP document. */
static const char *
dup_detail(char *out, size_t cap)
{
	char key[64];

	if (json_str(&doc, doc.dup, key, sizeof key) != 0)
		utf8_copy(key, sizeof key, "(a long key)");
	snprintf(out, cap, "duplicate key \"%s\"", key);
	return out;
}

const struct json_doc *
svc_json_body(struct conn *c, const struct http_req *r)
{
	int rc = json_parse(&doc, (const char *)r->body, r->body_len);
	char why[96];

	if (rc == 0)
		rc = json_check_dups(&doc);
	if (rc == JSON_E_TOOBIG) {
		reply_error(c, 400, "invalid_json",
		    "body has too many JSON tokens");
		return NULL;
	}
	if (rc == JSON_E_DUP) {
		reply_error(c, 400, "invalid_json", dup_detail(why,
		    sizeof why));
		return NULL;
	}
	if (rc != 0) {
		reply_error(c, 400, "invalid_json", "body is not valid JSON");
		return NULL;
	}
	if (doc.tok[0].type != JSON_OBJ) {
		reply_error(c, 400, "invalid_body",
		    "body must be a JSON object");
		return NULL;
	}
	return &doc;
}

const struct json_doc *
svc_json_msg(struct conn *c, const uint8_t *p, size_t n, char *type,
    size_t cap)
{
	int t, rc = json_parse(&doc, (const char *)p, n);
	char why[96];

	if (rc == 0)
		rc = json_check_dups(&doc);
	if (rc == JSON_E_TOOBIG) {
		svc_error(c, "invalid_json", "message has too many JSON tokens");
		return NULL;
	}
	if (rc == JSON_E_DUP) {
		svc_error(c, "invalid_json", dup_detail(why, sizeof why));
		return NULL;
	}
	if (rc != 0) {
		svc_error(c, "invalid_json", "message is not valid JSON");
		return NULL;
	}
	if (doc.tok[0].type != JSON_OBJ) {
		svc_error(c, "invalid_message", "message must be a JSON object");
		return NULL;
	}
	t = json_find(&doc, 0, "type");
	if (t < 0) {
		svc_error(c, "missing_field", "type is required");
		return NULL;
	}
	if (!json_is_str(&doc, t) || json_str(&doc, t, type, cap) != 0) {
		svc_error(c, "invalid_field", "type must be a short string");
		return NULL;
	}
	if (strcmp(type, "ping") == 0) {
		pong(c);
		return NULL;
	}
	return &doc;
}

/*
 * Idempotency-Key (SPEC §10): a POST that fans out, retried with the same
 * key by the same caller to the same path within five minutes, gets the
 * first answer again instead of sending twice.  A fixed table, the
 * oldest entry reused when full; only successful answers are kept (a
 * retry after a 503 tries again).
 */
#define IDEM_MS		(5u * 60u * 1000u)

struct idem {
	uint64_t	hash;		/* key, path and caller; 0: free */
	uint32_t	at_ms;
	uint16_t	len;
	char		body[192];
};

static struct idem idem[WARD_IDEM];

const struct ward_pool svc_common_pools[] = {
	{ "idempotency", WARD_IDEM, sizeof(struct idem),
	    "answers kept for Idempotency-Key retries (5 min)" },
	{ NULL, 0, 0, NULL }
};

static uint64_t
idem_hash(const struct http_req *r, struct str key)
{
	uint64_t h = 1469598103934665603ull;
	const char *who = r->auth != NULL ? r->auth->sub : "";

	for (size_t i = 0; i < key.n; i++)
		h = (h ^ (uint8_t)key.p[i]) * 1099511628211ull;
	h = (h ^ 0xFF) * 1099511628211ull;
	for (size_t i = 0; i < r->path.n; i++)
		h = (h ^ (uint8_t)r->path.p[i]) * 1099511628211ull;
	h = (h ^ 0xFF) * 1099511628211ull;
	for (const char *p = who; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h | 1;
}

bool
svc_idem_replay(struct conn *c, const struct http_req *r)
{
	struct str key = http_header(r, "idempotency-key");
	uint64_t h;

	if (key.p == NULL || key.n == 0)
		return false;
	h = idem_hash(r, key);
	for (size_t i = 0; i < WARD_IDEM; i++)
		if (idem[i].hash == h && now_ms - idem[i].at_ms < IDEM_MS) {
			reply_body(c, 200, "application/json", idem[i].body,
			    idem[i].len, "Idempotent-Replayed: true\r\n");
			return true;
		}
	return false;
}

void
svc_idem_store(const struct http_req *r, const char *body, size_t n)
{
	struct str key = http_header(r, "idempotency-key");
	struct idem *e = &idem[0];

	if (key.p == NULL || key.n == 0 || n > sizeof e->body)
		return;
	for (size_t i = 0; i < WARD_IDEM; i++) {
		if (idem[i].hash == 0 || now_ms - idem[i].at_ms >= IDEM_MS) {
			e = &idem[i];
			break;
		}
		if (now_ms - idem[i].at_ms > now_ms - e->at_ms)
			e = &idem[i];	/* the oldest */
	}
	e->hash = idem_hash(r, key);
	e->at_ms = now_ms;
	e->len = (uint16_t)n;
	memcpy(e->body, body, n);
}

int
svc_send_copy(struct conn *c, const uint8_t *p, size_t n)
{
	uint32_t h = buf_get(n);

	if (h == 0)
		return WARD_ENOMEM;
	memcpy(buf_base(h), p, n);
	buf_set(h, 0, (uint32_t)n);
	return conn_send_owned(c, h);
}

int
svc_text_of(const struct json_doc *d, int i, char *out, size_t cap)
{
	int64_t v;

	if (i < 0)
		return -1;
	if (json_is_str(d, i))	/* no NUL or control character */
		return json_id(d, i, out, cap) == 0 && out[0] ? 0 : -1;
	if (json_int(d, i, &v) != 0)
		return -1;
	snprintf(out, cap, "%lld", (long long)v);
	return 0;
}

void
svc_tb_put(struct tbuf *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->over)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= o->cap - o->n)
		o->over = true;
	else
		o->n += (size_t)k;
}
