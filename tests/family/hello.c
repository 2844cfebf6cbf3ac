/*
 * hello.c - a small endpoint family that is not part of ward: the proof
 * that a family is one file and one index line (docs/design.md "Adding a
 * family").  `make check-family` copies src/svc/index.c with the one line
 * X(hello) added, links it with this file and the unchanged objects of
 * every other source, and tests/family/test_family.py drives the result.
 *
 * GET /hello answers {"hello":"world"}; /ws/hello (socket type "hello")
 * answers each {"type":"hi","name":N} with {"type":"hello","name":N}, and
 * anything else with the shared error message.  Its key hello_greeting
 * changes the word ("world").
 */
#include "../../src/svc/svc.h"

static char greeting[32] = "world";

static int
hello_get(struct conn *c, struct http_req *r)
{
	struct jw w;
	char body[96];

	(void)r;
	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "hello");
	jw_str(&w, greeting);
	jw_obj_end(&w);
	return reply_json(c, 200, &w);
}

static void
hello_message(struct conn *c, int op, uint8_t *p, size_t n)
{
	const struct json_doc *d;
	char type[16], name[64], out[128];
	struct jw w;
	int i;

	(void)op;
	if ((d = svc_json_msg(c, p, n, type, sizeof type)) == NULL)
		return;
	if (strcmp(type, "hi") != 0 || (i = json_find(d, 0, "name")) < 0 ||
	    json_str(d, i, name, sizeof name) != 0)
		return svc_error(c, "unknown_type", "send {\"type\":\"hi\","
		    "\"name\":...}");
	jw_init(&w, out, sizeof out);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "hello");
	jw_key(&w, "name");
	jw_str(&w, name);
	jw_obj_end(&w);
	ws_send(c, WS_OP_TEXT, out, w.len);
}

static const struct ws_ops hello_ops = {
	.type = "hello",
	.listing = "/ws/hello",
	.message = hello_message,
	.text_only = 1,
};

static const struct route hello_routes[] = {
	{
		.pattern = "/hello",
		.methods = HTTP_M(HTTP_GET),
		.http = hello_get,
		.summary = "A greeting (the test family)",
		.res = "object",
	},
	{
		.pattern = "/ws/hello",
		.ws = &hello_ops,
		.summary = "Greetings by WebSocket (the test family)",
		.msg_in = "hi,ping",
		.msg_out = "hello,pong,error",
	},
	{ .pattern = NULL }
};

const struct family hello_family = {
	.name = "hello",
	.routes = hello_routes,
	.types = (const char *const[]){ "hello", NULL },
	.keys = (const struct cfg_key[]){
		{ .name = "hello_greeting", .type = CFG_T_STR,
		    .size = sizeof greeting, .base = greeting },
		{ .name = NULL },
	},
};
