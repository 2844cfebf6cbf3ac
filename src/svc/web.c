/*
 * web.c - the pages and client files people look at (SPEC §7), served
 * from the binary: the files of src/web/ are embedded at build time
 * (src/web/embed.sh -> build/gen/web_assets.c) and sent by reference,
 * never copied.
 *
 * GET /                         a small index: HTML, or JSON for
 *                               Accept: application/json
 * GET /admin/websocket-admin    the dashboard page (public HTML: all its
 *                               data comes from the admin-only APIs)
 * GET /static/<file>            ward-client.js (+ .d.ts), ward-status.js,
 *                               the dashboard's CSS and JS
 *
 * Each file answers with its ETag (size and checksum) and Cache-Control:
 * no-cache, so a browser revalidates and gets 304 until the binary changes.
 */
#include <stdio.h>

#include "svc.h"
#include "web.h"

static const struct web_asset *
asset_named(const char *name, size_t n)
{
	for (const struct web_asset *a = web_assets; a->name != NULL; a++)
		if (strlen(a->name) == n && memcmp(a->name, name, n) == 0)
			return a;
	return NULL;
}

/* The request's If-None-Match lists this ETag (or is "*"). */
static bool
not_modified(const struct http_req *r, const char *etag)
{
	struct str h = http_header(r, "if-none-match");
	size_t n = strlen(etag);

	if (h.p == NULL)
		return false;
	if (h.n == 1 && h.p[0] == '*')
		return true;
	for (size_t i = 0; i + n <= h.n; i++)
		if (memcmp(h.p + i, etag, n) == 0)
			return true;
	return false;
}

static int
send_asset(struct conn *c, const struct http_req *r,
    const struct web_asset *a)
{
	char extra[160];

	if (a == NULL)
		return reply_error(c, 404, "not_found", "no such file");
	snprintf(extra, sizeof extra, "ETag: %s\r\nCache-Control: no-cache\r\n"
	    "%s", a->etag, strstr(a->ctype, "html") != NULL ?
	    "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n" : "");
	if (not_modified(r, a->etag))
		return reply_body(c, 304, NULL, NULL, 0, extra);
	return reply_static(c, 200, a->ctype, a->data, a->len, extra);
}

/* GET /static/<file>: the last path segment names the file. */
static int
static_file(struct conn *c, struct http_req *r)
{
	struct str p = r->path;
	size_t s;

	while (p.n > 1 && p.p[p.n - 1] == '/')
		p.n--;
	for (s = p.n; s > 0 && p.p[s - 1] != '/'; s--)
		;
	return send_asset(c, r, asset_named(p.p + s, p.n - s));
}

static int
dashboard(struct conn *c, struct http_req *r)
{
	return send_asset(c, r, asset_named("admin.html", 10));
}

static bool
wants_json(const struct http_req *r)
{
	struct str a = http_header(r, "accept");
	static const char j[] = "application/json", h[] = "text/html";
	bool json = false, html = false;

	for (size_t i = 0; a.p != NULL && i < a.n; i++) {
		if (i + sizeof j - 1 <= a.n &&
		    str_ieq((struct str){ a.p + i, sizeof j - 1 }, j))
			json = true;
		if (i + sizeof h - 1 <= a.n &&
		    str_ieq((struct str){ a.p + i, sizeof h - 1 }, h))
			html = true;
	}
	return json && !html;
}

static int
index_json(struct conn *c)
{
	char body[512];
	struct jw w;

	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "name");
	jw_str(&w, "ward");
	jw_key(&w, "version");
	jw_str(&w, WARD_VERSION);
	jw_key(&w, "links");
	jw_obj(&w);
	jw_key(&w, "docs");
	jw_str(&w, "/docs");
	jw_key(&w, "openapi");
	jw_str(&w, "/openapi.json");
	jw_key(&w, "dashboard");
	jw_str(&w, "/admin/websocket-admin");
	jw_key(&w, "health");
	jw_str(&w, "/health");
	jw_key(&w, "metrics");
	jw_str(&w, "/metrics");
	jw_key(&w, "client");
	jw_str(&w, "/static/ward-client.js");
	jw_key(&w, "status_element");
	jw_str(&w, "/static/ward-status.js");
	jw_obj_end(&w);
	jw_obj_end(&w);
	return reply_json(c, 200, &w);
}

/* index.html with every "@VERSION@" replaced, made once. */
static int
index_page(struct conn *c, struct http_req *r)
{
	static char page[8192];
	static size_t len;
	static bool made;
	static const char mark[] = "@VERSION@";
	const struct web_asset *a = asset_named("index.html", 10);

	if (wants_json(r))
		return index_json(c);
	if (a == NULL)
		return reply_error(c, 404, "not_found", "no index page");
	for (size_t i = 0; !made && i < a->len; i++) {
		const char *s = (const char *)a->data + i;

		if (a->len - i >= sizeof mark - 1 &&
		    memcmp(s, mark, sizeof mark - 1) == 0) {
			len += (size_t)snprintf(page + len, sizeof page - len,
			    "%s", WARD_VERSION);
			i += sizeof mark - 2;
		} else if (len + 1 < sizeof page) {
			page[len++] = *s;
		}
	}
	made = true;
	return reply_static(c, 200, "text/html; charset=utf-8", page,
	    len, "Cache-Control: no-cache\r\nVary: Accept\r\n");
}

static const struct route web_routes[] = {
	{
		.pattern = "/",
		.methods = HTTP_M(HTTP_GET),
		.http = index_page,
		.summary = "Index page (JSON with Accept: application/json)",
		.res = "Index",
	},
	{
		.pattern = "/admin/websocket-admin",
		.methods = HTTP_M(HTTP_GET),
		.http = dashboard,
		.summary = "The admin dashboard page (data "
		    "from the admin APIs)",
		.res = "text/html",
	},
	{
		.pattern = "/static/ward-client.js",
		.methods = HTTP_M(HTTP_GET),
		.http = static_file,
		.summary = "Browser/Node client (ES module)",
		.res = "text/javascript",
	},
	{
		.pattern = "/static/ward-client.d.ts",
		.methods = HTTP_M(HTTP_GET),
		.http = static_file,
		.summary = "TypeScript types of "
		    "ward-client.js",
		.res = "application/typescript",
	},
	{
		.pattern = "/static/ward-status.js",
		.methods = HTTP_M(HTTP_GET),
		.http = static_file,
		.summary = "The ward-status custom element",
		.res = "text/javascript",
	},
	{
		.pattern = "/static/admin.js",
		.methods = HTTP_M(HTTP_GET),
		.http = static_file,
		.summary = "Dashboard script",
		.res = "text/javascript",
	},
	{
		.pattern = "/static/admin.css",
		.methods = HTTP_M(HTTP_GET),
		.http = static_file,
		.summary = "Dashboard style",
		.res = "text/css",
	},
	{ .pattern = NULL }
};

const struct family web_family = {
	.name = "web",
	.routes = web_routes,
};

