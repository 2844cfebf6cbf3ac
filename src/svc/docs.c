/*
 * docs.c - GET /openapi.json (an OpenAPI 3 document of every HTTP
 * endpoint, and the WebSocket paths as GET upgrades with their query
 * parameters and message types) and GET /docs (the same as a page that
 * reads well on a phone), both made from the router's own table, so
 * neither can miss a route (SPEC §5).
 *
 * Each route row carries its own documentation (summary, named path,
 * parameters, request and answer schemas, message types: struct route's
 * doc fields, in the family's file); the rest is in
 * src/web/openapi-components.json (the schemas, parameters and security
 * schemes), embedded at build time like the other web files.
 */
#include <stdio.h>

#include "svc.h"
#include "web.h"

/* A JSON literal, length taken by the compiler. */
#define RAW(w, lit)	jw_raw((w), (lit), sizeof(lit) - 1)

/* The route's OpenAPI path: named, or '*' -> {name}, '#' -> {id}. */
static void
path_of(const struct route *rt, char *out, size_t cap)
{
	const struct route *d = rt;
	size_t n = 0;

	if (d->doc_path != NULL) {
		snprintf(out, cap, "%s", d->doc_path);
		return;
	}
	for (const char *p = rt->pattern; *p != '\0' && n + 8 < cap; p++) {
		const char *s = *p == '*' ? "{name}" : *p == '#' ? "{id}" : NULL;

		if (s != NULL) {
			memcpy(out + n, s, strlen(s));
			n += strlen(s);
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

static const char *
who(const struct route *rt)
{
	return rt->roles == NULL ? "anyone" : rt->roles[0] == '*' ?
	    "any valid token" : rt->roles;
}

/* Call fn for each item of a comma-separated list (items < 64 bytes). */
static void
each_item(const char *list, void (*fn)(struct jw *, const char *), struct jw *w)
{
	char item[64];

	while (list != NULL && *list != '\0') {
		const char *e = strchr(list, ',');
		size_t n = e ? (size_t)(e - list) : strlen(list);

		snprintf(item, sizeof item, "%.*s", (int)MIN(n, 63), list);
		fn(w, item);
		list += n + (e != NULL);
	}
}

static void
put_str(struct jw *w, const char *s)
{
	jw_str(w, s);
}

static void
put_param_ref(struct jw *w, const char *name)
{
	char ref[96];

	snprintf(ref, sizeof ref, "#/components/parameters/%s", name);
	jw_obj(w);
	jw_key(w, "$ref");
	jw_str(w, ref);
	jw_obj_end(w);
}

/* Path parameters: every {name} of the path; integers for ids of
 * diagnoses, strings for the others. */
static void
parameters(struct jw *w, const char *path, const struct route *d)
{
	jw_key(w, "parameters");
	jw_arr(w);
	for (const char *p = strchr(path, '{'); p != NULL;
	    p = strchr(p + 1, '{')) {
		const char *e = strchr(p, '}');

		if (e == NULL)
			break;
		jw_obj(w);
		jw_key(w, "name");
		jw_strn(w, p + 1, (size_t)(e - p - 1));
		jw_key(w, "in");
		jw_str(w, "path");
		jw_key(w, "required");
		jw_bool(w, true);
		jw_key(w, "schema");
		if (strncmp(p, "{diagnosis_id}", 14) == 0)
			RAW(w, "{\"type\":\"integer\",\"minimum\":1}");
		else if (strncmp(p, "{socket_id}", 11) == 0)
			RAW(w, "{\"type\":\"string\",\"pattern\":"
			    "\"^[0-9a-f]{12}$\"}");
		else
			RAW(w, "{\"type\":\"string\",\"pattern\":"
			    "\"^[A-Za-z0-9_-]{1,64}$\"}");
		jw_obj_end(w);
	}
	each_item(d->params, put_param_ref, w);
	jw_arr_end(w);
}

/* {"description", "content": {type: {"schema": …}}} for a schema name or
 * a media type ("text/…"); NULL schema: a description only. */
static void
answer(struct jw *w, const char *desc, const char *schema)
{
	char ref[96];

	jw_obj(w);
	jw_key(w, "description");
	jw_str(w, desc);
	if (schema != NULL) {
		bool media = strchr(schema, '/') != NULL;

		jw_key(w, "content");
		jw_obj(w);
		jw_key(w, media ? schema : "application/json");
		jw_obj(w);
		jw_key(w, "schema");
		if (media) {
			RAW(w, "{\"type\":\"string\"}");
		} else if (strcmp(schema, "object") == 0) {
			RAW(w, "{\"type\":\"object\"}");
		} else {
			snprintf(ref, sizeof ref, "#/components/schemas/%s",
			    schema);
			jw_obj(w);
			jw_key(w, "$ref");
			jw_str(w, ref);
			jw_obj_end(w);
		}
		jw_obj_end(w);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void
ws_extras(struct jw *w, const struct route *rt, const struct route *d)
{
	char desc[640];

	snprintf(desc, sizeof desc, "WebSocket (RFC 6455) upgrade; registry "
	    "type %s. Client sends: %s. Server sends: %s. Messages are JSON "
	    "objects with a \"type\"; see README \"Close codes\".",
	    rt->ws->type, d->msg_in ? d->msg_in : "-",
	    d->msg_out ? d->msg_out : "-");
	jw_key(w, "description");
	jw_str(w, desc);
	jw_key(w, "x-websocket");
	jw_obj(w);
	jw_key(w, "registryType");
	jw_str(w, rt->ws->type);
	jw_key(w, "clientMessages");
	jw_arr(w);
	each_item(d->msg_in, put_str, w);
	jw_arr_end(w);
	jw_key(w, "serverMessages");
	jw_arr(w);
	each_item(d->msg_out, put_str, w);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void
responses(struct jw *w, const struct route *rt, const struct route *d, int m,
    bool has_path_param)
{
	bool write = m == HTTP_POST || m == HTTP_PUT || m == HTTP_DELETE;
	char ok[8];

	jw_key(w, "responses");
	jw_obj(w);
	if (rt->ws != NULL) {
		jw_key(w, "101");
		answer(w, "Switching Protocols", NULL);
		jw_key(w, "426");
		answer(w, "Upgrade Required (not a WebSocket handshake)",
		    "Error");
		jw_key(w, "503");
		answer(w, "Server full or WebSocket disabled", "Error");
	} else {
		snprintf(ok, sizeof ok, "%d", write && d->ok_w ? d->ok_w : 200);
		jw_key(w, ok);
		answer(w, "OK", write ? d->res_w : d->res);
		if (write && d->ok_w == 201) {
			jw_key(w, "200");
			answer(w, "It existed (updated)", d->res_w);
		}
		if (d->req != NULL && write) {
			jw_key(w, "400");
			answer(w, "Invalid body: the detail names the field",
			    "Error");
		}
		if (write && m != HTTP_DELETE) {
			jw_key(w, "503");
			answer(w, "Storage or queue unavailable", "Error");
		}
	}
	if (rt->roles != NULL) {
		jw_key(w, "401");
		answer(w, "No or bad token", "Error");
		jw_key(w, "403");
		answer(w, "Role not allowed", "Error");
	}
	if (has_path_param && rt->ws == NULL) {
		jw_key(w, "404");
		answer(w, "No such item", "Error");
	}
	jw_obj_end(w);
}

static void
operation(struct jw *w, const struct route *rt, const char *path, int m)
{
	static const char *const mn[] = { [HTTP_GET] = "get",
	    [HTTP_POST] = "post", [HTTP_PUT] = "put",
	    [HTTP_DELETE] = "delete" };
	const struct route *d = rt;
	char opid[160];
	size_t k;

	jw_key(w, mn[m]);
	jw_obj(w);
	jw_key(w, "summary");
	jw_str(w, d->summary ? d->summary : "");
	k = (size_t)snprintf(opid, sizeof opid, "%s", mn[m]);
	for (const char *p = path; *p != '\0' && k + 1 < sizeof opid; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    (*p >= 'A' && *p <= 'Z'))
			opid[k++] = *p;
		else if (opid[k - 1] != '_')
			opid[k++] = '_';
	while (k > 0 && opid[k - 1] == '_')
		k--;
	opid[k] = '\0';
	jw_key(w, "operationId");
	jw_str(w, opid);
	jw_key(w, "tags");
	jw_arr(w);
	jw_str(w, rt->ws != NULL ? "WebSocket" : strncmp(path, "/admin", 6) ==
	    0 ? "admin" : strncmp(path, "/static", 7) == 0 || strcmp(path, "/")
	    == 0 ? "web" : "HTTP");
	jw_arr_end(w);
	if (rt->ws != NULL)
		ws_extras(w, rt, d);
	jw_key(w, "x-roles");
	jw_str(w, who(rt));
	if (strchr(path, '{') != NULL || d->params != NULL)
		parameters(w, path, d);
	if (rt->roles != NULL) {
		jw_key(w, "security");
		RAW(w, "[{\"bearer\":[]},{\"token\":[]}]");
	}
	if ((m == HTTP_POST || m == HTTP_PUT) && d->req != NULL) {
		char ref[96];

		snprintf(ref, sizeof ref, "#/components/schemas/%s", d->req);
		jw_key(w, "requestBody");
		jw_obj(w);
		jw_key(w, "required");
		jw_bool(w, true);
		jw_key(w, "content");
		jw_obj(w);
		jw_key(w, "application/json");
		jw_obj(w);
		jw_key(w, "schema");
		jw_obj(w);
		jw_key(w, "$ref");
		jw_str(w, ref);
		jw_obj_end(w);
		jw_obj_end(w);
		jw_obj_end(w);
		jw_obj_end(w);
	}
	responses(w, rt, d, m, strchr(path, '{') != NULL);
	jw_obj_end(w);
}

static void
components(struct jw *w)
{
	for (const struct web_asset *a = web_assets; a->name != NULL; a++)
		if (strcmp(a->name, "openapi-components.json") == 0) {
			size_t n = a->len;

			while (n > 0 && (a->data[n - 1] == '\n' ||
			    a->data[n - 1] == ' '))
				n--;
			jw_raw(w, (const char *)a->data, n);
			return;
		}
	RAW(w, "{}");
}

static void
openapi_gen(struct jw *w, void *arg)
{
	static const int methods[] = { HTTP_GET, HTTP_POST, HTTP_PUT,
	    HTTP_DELETE };
	const struct route *rt;

	(void)arg;
	jw_obj(w);
	jw_key(w, "openapi");
	jw_str(w, "3.0.3");
	jw_key(w, "info");
	jw_obj(w);
	jw_key(w, "title");
	jw_str(w, "ward");
	jw_key(w, "version");
	jw_str(w, WARD_VERSION);
	jw_key(w, "description");
	jw_str(w, "Real-time server for clinic gateways: HTTP/1.1, "
	    "WebSocket, JWT. Errors are {\"error\",\"detail\"}. WebSocket "
	    "paths are GET upgrades; their message types are in "
	    "x-websocket.");
	jw_obj_end(w);
	/* no token unless an operation says so (its own security) */
	jw_key(w, "security");
	RAW(w, "[]");
	jw_key(w, "servers");
	RAW(w, "[{\"url\":\"/\",\"description\":\"this server (WebSockets: "
	    "ws:// or wss:// on the same host and port)\"}]");
	jw_key(w, "components");
	components(w);
	jw_key(w, "paths");
	jw_obj(w);
	for (uint16_t i = 1; (rt = router_route(i)) != NULL; i++) {
		char path[160];

		if (rt->enabled != NULL && !rt->enabled())
			continue;
		path_of(rt, path, sizeof path);
		jw_key(w, path);
		jw_obj(w);
		if (rt->ws != NULL)
			operation(w, rt, path, HTTP_GET);
		for (size_t k = 0; rt->ws == NULL && k < ARRAY_LEN(methods);
		    k++)
			if (rt->methods & HTTP_M(methods[k]))
				operation(w, rt, path, methods[k]);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

static int
openapi(struct conn *c, struct http_req *r)
{
	(void)r;
	return reply_json_gen(c, 200, openapi_gen, NULL);
}

/* "a,b,c" as "a, b, c" with each item in <code>. */
static void
code_list(struct tbuf *o, const char *list)
{
	const char *sep = "";

	while (list != NULL && *list != '\0') {
		const char *e = strchr(list, ',');
		size_t n = e ? (size_t)(e - list) : strlen(list);

		svc_tb_put(o, "%s<code>%.*s</code>", sep, (int)n, list);
		sep = " ";
		list += n + (e != NULL);
	}
}

static void
page_head(struct tbuf *o)
{
	svc_tb_put(o,
	    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><title>ward API</title><style>"
	    "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;"
	    "max-width:60em;padding:1em;color:#1d2733}"
	    "h1{font-size:1.5em}.ep{border:1px solid #dde2e7;border-radius:6px;"
	    "padding:.5em .8em;margin:.6em 0}.m{display:inline-block;"
	    "min-width:3.2em;font-weight:700;color:#0b5cad}.ws{color:#1a7f37}"
	    ".p{font-family:ui-monospace,monospace;overflow-wrap:anywhere}"
	    "code{background:#eef1f4;padding:0 3px;border-radius:3px;"
	    "font-size:.9em;overflow-wrap:anywhere}.d{margin:.2em 0 0;"
	    "color:#444}.k{color:#66707a}</style></head><body>"
	    "<h1>ward %s API</h1><p>Tokens: <code>Authorization: Bearer "
	    "&lt;jwt&gt;</code>, <code>?token=</code>, or (WebSocket) the "
	    "subprotocol <code>bearer, &lt;jwt&gt;</code>. Errors: "
	    "<code>{\"error\",\"detail\"}</code>. Schemas and every field: "
	    "<a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3). Client: "
	    "<a href=\"/static/ward-client.js\">/static/ward-client.js</a>."
	    "</p>", WARD_VERSION);
}

static void
page_entry(struct tbuf *o, const struct route *rt)
{
	static const char *const mnames[] = { [HTTP_GET] = "GET",
	    [HTTP_POST] = "POST", [HTTP_PUT] = "PUT",
	    [HTTP_DELETE] = "DELETE" };
	const struct route *d = rt;
	char path[160], ms[32] = "";

	path_of(rt, path, sizeof path);
	if (rt->ws != NULL)
		snprintf(ms, sizeof ms, "WS");
	for (int m = HTTP_GET; rt->ws == NULL && m <= HTTP_DELETE; m++)
		if (m != HTTP_HEAD && (rt->methods & HTTP_M(m)) &&
		    mnames[m] != NULL)
			snprintf(ms + strlen(ms), sizeof ms - strlen(ms),
			    "%s%s", ms[0] ? " " : "", mnames[m]);
	svc_tb_put(o, "<div class=\"ep\"><span class=\"m%s\">%s</span> <span "
	    "class=\"p\"><code>%s</code></span><p class=\"d\">%s <span "
	    "class=\"k\">(%s)</span></p>", rt->ws ? " ws" : "", ms, path,
	    d->summary ? d->summary : "", who(rt));
	if (d->params != NULL) {
		svc_tb_put(o,
		    "<p class=\"d\"><span class=\"k\">parameters:</span> ");
		code_list(o, d->params);
		svc_tb_put(o, "</p>");
	}
	if (d->req != NULL)
		svc_tb_put(o, "<p class=\"d\"><span class=\"k\">body:</span> "
		    "<code>%s</code></p>", d->req);
	if (d->res != NULL || d->res_w != NULL)
		svc_tb_put(o, "<p class=\"d\"><span class=\"k\">answer:</span> "
		    "<code>%s</code></p>", d->res ? d->res : d->res_w);
	if (rt->ws != NULL) {
		svc_tb_put(o,
		    "<p class=\"d\"><span class=\"k\">sends:</span> ");
		code_list(o, d->msg_in);
		svc_tb_put(o, "</p><p class=\"d\"><span class=\"k\">receives:"
		    "</span> ");
		code_list(o, d->msg_out);
		svc_tb_put(o, "</p>");
	}
	svc_tb_put(o, "</div>");
}

static int
docs(struct conn *c, struct http_req *r)
{
	static char text[32768];
	struct tbuf o = { text, 0, sizeof text, false };
	const struct route *rt;

	(void)r;
	page_head(&o);
	for (uint16_t i = 1; (rt = router_route(i)) != NULL; i++)
		if (rt->enabled == NULL || rt->enabled())
			page_entry(&o, rt);
	svc_tb_put(&o, "</body></html>\n");
	if (o.over)
		return reply_error(c, 500, "internal_error", "page too large");
	return reply_body(c, 200, "text/html; charset=utf-8", text, o.n,
	    NULL);
}

static const struct route docs_routes[] = {
	{
		.pattern = "/openapi.json",
		.methods = HTTP_M(HTTP_GET),
		.http = openapi,
		.summary = "This document",
		.res = "object",
	},
	{
		.pattern = "/docs",
		.methods = HTTP_M(HTTP_GET),
		.http = docs,
		.summary = "API documentation page",
		.res = "text/html",
	},
	{ .pattern = NULL }
};

const struct family docs_family = {
	.name = "docs",
	.routes = docs_routes,
};

