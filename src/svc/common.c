/*
 * common.c - what every JSON WebSocket endpoint shares: error messages,
 * the application ping, and parsing a message into a typed object.
 */
#include "../internal.h"

void
svc_error(struct conn *c, const char *code, const char *detail)
{
	char buf[512];
	struct jw w;

	jw_init(&w, buf, sizeof buf);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "error");
	jw_key(&w, "error");
	jw_str(&w, code);
	jw_key(&w, "detail");
	jw_str(&w, detail);
	jw_obj_end(&w);
	ws_send(c, WS_OP_TEXT, buf, w.len);
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

const struct json_doc *
svc_json_body(struct conn *c, const struct http_req *r)
{
	int rc = json_parse(&doc, (const char *)r->body, r->body_len);

	if (rc == JSON_E_TOOBIG) {
		http_error(c, 400, "invalid_json",
		    "body has too many JSON tokens");
		return NULL;
	}
	if (rc != 0) {
		http_error(c, 400, "invalid_json", "body is not valid JSON");
		return NULL;
	}
	if (doc.tok[0].type != JSON_OBJ) {
		http_error(c, 400, "invalid_body", "body must be a JSON object");
		return NULL;
	}
	return &doc;
}

const struct json_doc *
svc_json_msg(struct conn *c, const uint8_t *p, size_t n, char *type,
    size_t cap)
{
	int t, rc = json_parse(&doc, (const char *)p, n);

	if (rc == JSON_E_TOOBIG) {
		svc_error(c, "invalid_json", "message has too many JSON tokens");
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
