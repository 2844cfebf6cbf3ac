/*
 * status.c - the socket status family (SPEC §2, seeds 000/001):
 *   GET /consultation/socket-status/                 summary (no auth)
 *   GET /consultation/socket-status/sockets/[?type=] every entry (admin)
 *   GET /consultation/socket-status/sockets/<id>/    one entry (admin)
 */
#include "svc.h"

#define ADMIN_ROLES "admin,superadmin"

static void
endpoint(const struct route *rt, void *arg)
{
	struct jw *w = arg;

	jw_key(w, rt->ws->type);
	jw_str(w, rt->ws->listing ? rt->ws->listing : rt->pattern);
}

static void
summary_gen(struct jw *w, void *arg)
{
	(void)arg;
	jw_obj(w);
	if (!bus_summary_json(w))
		reg_summary_json(w);
	jw_key(w, "ws_endpoints");
	jw_obj(w);
	router_each_ws(endpoint, w);
	jw_obj_end(w);
	jw_obj_end(w);
}

static int
summary(struct conn *c, struct http_req *r)
{
	(void)r;
	return reply_json_gen(c, 200, summary_gen, NULL);
}

static void
list_gen(struct jw *w, void *arg)
{
	int type = *(int *)arg;

	jw_obj(w);
	jw_key(w, "count");
	jw_int(w, reg_count(type));
	jw_key(w, "sockets");
	jw_arr(w);
	for (uint32_t i = 0; i < WARD_CONN_SLOTS; i++) {
		if (reg[i].type == REG_TYPE_NONE ||
		    (type != REG_TYPE_NONE && reg[i].type != type))
			continue;
		char remote[64];

		port_addr_text(&conns[i].peer, remote, sizeof remote);
		reg_entry_json(w, i, remote);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static int
list(struct conn *c, struct http_req *r)
{
	static int type;
	char name[32];
	int n = http_query_get(r->query, "type", name, sizeof name);

	type = REG_TYPE_NONE;
	if (n == -2 || (n >= 0 && (type = reg_type_of(name)) == REG_TYPE_NONE))
		return reply_error(c, 400, "bad_request",
		    "type: unknown socket type");
	return reply_json_gen(c, 200, list_gen, &type);
}

static void
one_gen(struct jw *w, void *arg)
{
	uint32_t slot = *(uint32_t *)arg;
	char remote[64];

	port_addr_text(&conns[slot].peer, remote, sizeof remote);
	reg_entry_json(w, slot, remote);
}

static int
one(struct conn *c, struct http_req *r)
{
	static uint32_t slot;
	uint64_t id;
	long s;

	if (!reg_id_parse(r->param[0], &id) || (s = reg_find(id)) < 0)
		return reply_error(c, 404, "not_found", "no such socket");
	slot = (uint32_t)s;
	return reply_json_gen(c, 200, one_gen, &slot);
}

static const struct route status_routes[] = {
	{
		.pattern = "/consultation/socket-status/",
		.methods = HTTP_M(HTTP_GET),
		.http = summary,
		.summary = "Socket registry summary",
		.res = "SocketSummary",
	},
	{
		.pattern = "/consultation/socket-status/sockets/",
		.methods = HTTP_M(HTTP_GET),
		.http = list,
		.roles = ADMIN_ROLES,
		.summary = "Every socket (admin)",
		.params = "socket_type",
		.res = "SocketList",
	},
	{
		.pattern = "/consultation/socket-status/sockets/*/",
		.methods = HTTP_M(HTTP_GET),
		.http = one,
		.roles = ADMIN_ROLES,
		.doc_path = "/consultation/socket-status/sockets/{socket_id}/",
		.summary = "One socket (admin)",
		.res = "SocketEntry",
	},
	{ .pattern = NULL }
};

const struct family status_family = {
	.name = "status",
	.routes = status_routes,
};

