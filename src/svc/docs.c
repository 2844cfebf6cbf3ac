/*
 * docs.c - GET /openapi.json (an OpenAPI 3 document of every HTTP
 * endpoint, and the WebSocket paths as GET upgrades) and GET /docs (the
 * same as a human-readable page), both made from the router's own table,
 * so neither can miss a route (SPEC §5).
 */
#include <stdio.h>

#include "../internal.h"

/* A JSON literal, length taken by the compiler. */
#define RAW(w, lit)	jw_raw((w), (lit), sizeof(lit) - 1)

static const struct {
	const char *pattern, *summary;
} notes[] = {
	{ "/health", "Liveness and state: version, uptime, connections, storage" },
	{ "/health/live", "The loop turns: 200" },
	{ "/health/ready", "Ready: not draining, data_dir writable (else 503)" },
	{ "/metrics", "Prometheus text: connections, messages, pools" },
	{ "/consultation/socket-status/", "Socket registry summary" },
	{ "/consultation/socket-status/sockets/", "Every socket (admin; ?type=)" },
	{ "/consultation/socket-status/sockets/*/", "One socket (admin)" },
	{ "/api/consultations/updates", "Broadcast a consultation update" },
	{ "/api/notifications", "Notify a user (queued when offline)" },
	{ "/api/doctors", "Register a doctor {doctor_id, name}" },
	{ "/api/doctors/status", "Every doctor's status" },
	{ "/api/doctors/*/status", "Set a doctor's status (that doctor or admin)" },
	{ "/api/diagnoses", "List (GET) or register (POST) diagnoses" },
	{ "/api/diagnoses/#", "Remove a diagnosis" },
	{ "/ws/status", "Diagnosis connections and queues" },
	{ "/ws/broadcast-recommendation-update", "Recommendation update to a diagnosis" },
	{ "/ws/broadcast-effectiveness-update", "Effectiveness update to a diagnosis" },
	{ "/ws/broadcast-feedback-update", "Feedback update to a diagnosis" },
	{ "/admin/api/overview", "Connections, rooms, services, pools" },
	{ "/admin/api/services/*", "Switch a /ws service {enabled}" },
	{ "/admin/api/send", "Send a message to a socket, room, practice, "
	    "user, service or diagnosis" },
	{ "/admin/api/audit", "The newest audit lines (?lines=N)" },
	{ "/openapi.json", "This document" },
	{ "/docs", "API documentation page" },
};

static const char *
summary_of(const struct route *rt)
{
	for (size_t i = 0; i < ARRAY_LEN(notes); i++)
		if (strcmp(notes[i].pattern, rt->pattern) == 0)
			return notes[i].summary;
	return rt->ws != NULL ? "WebSocket endpoint" : "";
}

/* The pattern as an OpenAPI path: '*' -> {name}, '#' -> {id}. */
static void
path_of(const struct route *rt, char *out, size_t cap)
{
	size_t n = 0;

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

static void
operation(struct jw *w, const struct route *rt, const char *path, int m)
{
	jw_key(w, m == HTTP_GET ? "get" : m == HTTP_POST ? "post" :
	    m == HTTP_PUT ? "put" : "delete");
	jw_obj(w);
	jw_key(w, "summary");
	jw_str(w, summary_of(rt));
	if (rt->ws != NULL) {
		char d[96];

		snprintf(d, sizeof d, "WebSocket (RFC 6455) upgrade; registry "
		    "type %s", rt->ws->type);
		jw_key(w, "description");
		jw_str(w, d);
	}
	jw_key(w, "x-roles");
	jw_str(w, rt->roles == NULL ? "anyone" : rt->roles[0] == '*' ?
	    "any valid token" : rt->roles);
	if (strchr(path, '{') != NULL) {
		jw_key(w, "parameters");
		jw_arr(w);
		jw_obj(w);
		jw_key(w, "name");
		jw_str(w, strstr(path, "{id}") ? "id" : "name");
		jw_key(w, "in");
		jw_str(w, "path");
		jw_key(w, "required");
		jw_bool(w, true);
		jw_key(w, "schema");
		RAW(w, "{\"type\":\"string\"}");
		jw_obj_end(w);
		jw_arr_end(w);
	}
	if (rt->roles != NULL) {
		jw_key(w, "security");
		RAW(w, "[{\"bearer\":[]},{\"token\":[]}]");
	}
	if (m == HTTP_POST || m == HTTP_PUT) {
		jw_key(w, "requestBody");
		RAW(w, "{\"required\":true,\"content\":{\"application/json\":"
		    "{\"schema\":{\"type\":\"object\"}}}}");
	}
	jw_key(w, "responses");
	jw_obj(w);
	if (rt->ws != NULL) {
		jw_key(w, "101");
		RAW(w, "{\"description\":\"Switching Protocols\"}");
		jw_key(w, "426");
		RAW(w, "{\"description\":\"Upgrade Required\"}");
	} else {
		jw_key(w, "200");
		RAW(w, "{\"description\":\"OK (JSON)\"}");
		if (m == HTTP_POST || m == HTTP_PUT) {
			jw_key(w, "400");
			RAW(w, "{\"description\":\"Invalid body: the detail "
			    "names the field\"}");
		}
	}
	if (rt->roles != NULL) {
		jw_key(w, "401");
		RAW(w, "{\"description\":\"No or bad token\"}");
		jw_key(w, "403");
		RAW(w, "{\"description\":\"Role not allowed\"}");
	}
	jw_obj_end(w);
	jw_obj_end(w);
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
	    "WebSocket, JWT. Errors are {\"error\",\"detail\"}.");
	jw_obj_end(w);
	jw_key(w, "components");
	RAW(w, "{\"securitySchemes\":{\"bearer\":{\"type\":\"http\","
	    "\"scheme\":\"bearer\",\"bearerFormat\":\"JWT\"},\"token\":"
	    "{\"type\":\"apiKey\",\"in\":\"query\",\"name\":\"token\"}}}");
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
	return http_json_gen(c, 200, openapi_gen, NULL);
}

static int
docs(struct conn *c, struct http_req *r)
{
	static char text[16384];
	static const char *const mnames[] = { [HTTP_GET] = "GET",
	    [HTTP_POST] = "POST", [HTTP_PUT] = "PUT",
	    [HTTP_DELETE] = "DELETE" };
	struct tbuf o = { text, 0, sizeof text, false };
	const struct route *rt;

	(void)r;
	tb_put(&o, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>ward API</title><style>body{font:15px sans-serif;"
	    "margin:2em}td,th{padding:4px 10px;text-align:left;"
	    "border-bottom:1px solid #ddd}code{font-size:14px}</style>"
	    "</head><body><h1>ward %s API</h1><p>Tokens: "
	    "<code>Authorization: Bearer &lt;jwt&gt;</code> or "
	    "<code>?token=</code>. Errors: <code>{\"error\",\"detail\"}</code>"
	    ". Machine-readable: <a href=\"/openapi.json\">/openapi.json"
	    "</a>.</p><table><tr><th>method</th><th>path</th><th>who</th>"
	    "<th>what</th></tr>", WARD_VERSION);
	for (uint16_t i = 1; (rt = router_route(i)) != NULL; i++) {
		char path[160], ms[32] = "";

		if (rt->enabled != NULL && !rt->enabled())
			continue;
		path_of(rt, path, sizeof path);
		if (rt->ws != NULL)
			snprintf(ms, sizeof ms, "WS");
		for (int m = HTTP_GET; rt->ws == NULL && m <= HTTP_DELETE; m++)
			if (m != HTTP_HEAD && (rt->methods & HTTP_M(m)) &&
			    mnames[m] != NULL)
				snprintf(ms + strlen(ms), sizeof ms - strlen(ms),
				    "%s%s", ms[0] ? " " : "", mnames[m]);
		tb_put(&o, "<tr><td>%s</td><td><code>%s</code></td><td>%s</td>"
		    "<td>%s</td></tr>", ms, path, rt->roles == NULL ? "anyone" :
		    rt->roles[0] == '*' ? "any token" : rt->roles,
		    summary_of(rt));
	}
	tb_put(&o, "</table></body></html>\n");
	if (o.over)
		return http_error(c, 500, "internal_error", "page too large");
	return http_respond(c, 200, "text/html; charset=utf-8", text, o.n,
	    NULL);
}

const struct route docs_routes[] = {
	{ "/openapi.json", HTTP_M(HTTP_GET), openapi, NULL, NULL, NULL },
	{ "/docs", HTTP_M(HTTP_GET), docs, NULL, NULL, NULL },
	{ NULL, 0, NULL, NULL, NULL, NULL }
};
