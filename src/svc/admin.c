/*
 * admin.c - the admin API (SPEC §7), admin and superadmin tokens only:
 *
 * GET  /admin/api/overview          connections by type, rooms and their
 *                                   members, services, pools against
 *                                   capacity, message and byte totals
 * POST /admin/api/services/<name>   {"enabled": bool}: switch a unified
 *                                   /ws service off or on
 * POST /admin/api/send              {"target": "socket" | "room" |
 *                                   "practice" | "user" | "service" |
 *                                   "diagnosis", "id": …, "message":
 *                                   {"type": …, …}}: send the message, as
 *                                   written, to those sockets
 *
 * GET  /admin/api/sockets           every WebSocket with its user info
 *                                   and groups (?limit=N, 1..1000,
 *                                   default 200)
 * GET  /admin/api/rooms             every group (call, STT, telemedicine
 *                                   room, practice, diagnosis...) with up
 *                                   to 50 members each (socket and user)
 *
 * The dashboard page (svc/web.c, src/web/admin.*) uses them.
 */
#include <stdio.h>
#include <stdlib.h>

#include "svc.h"
#include "../redis.h"
#include "../tls.h"

#define ADMIN_ROLES "admin,superadmin"

/* "not configured", or "up|down, <addr>, instance <id>[: error]". */
static void
redis_state(struct jw *w)
{
	char t[320];
	const char *e = redis_last_error();

	if (cfg.redis[0] == '\0') {
		jw_str(w, "not configured");
		return;
	}
	snprintf(t, sizeof t, "%s, %s, instance %s%s%s", bus_state(),
	    cfg.redis, bus_instance(), strcmp(bus_state(), "down") == 0 &&
	    e[0] != '\0' ? ": " : "", strcmp(bus_state(), "down") == 0 ? e : "");
	jw_str(w, t);
}

/* The TLS listeners in one line: where, the pool, handshakes, the
 * certificate's generation and notAfter (the dashboard shows it as is). */
static void
tls_state(struct jw *w)
{
	char line[256], until[32];

	if (cfg.tls_listen[0] == '\0') {
		jw_str(w, "not configured");
		return;
	}
	log_time_iso(tls_creds_not_after_us(), until);
	until[10] = '\0';		/* the date */
	snprintf(line, sizeof line, "%.100s: %u/%d connections, %llu "
	    "handshakes (%llu resumed), certificate #%u valid until %s",
	    cfg.tls_listen, tls_conn_used(), cfg.tls_max_conns,
	    (unsigned long long)stats.tls_handshakes,
	    (unsigned long long)stats.tls_resumed, tls_creds_generation(),
	    until);
	jw_str(w, line);
}

/* This instance's WebSockets, in all and by type. */
static void
local_counts(struct jw *w)
{
	jw_key(w, "websockets");
	jw_int(w, reg_count(REG_TYPE_NONE));
	jw_key(w, "by_type");
	jw_obj(w);
	for (int t = REG_TYPE_NONE + 1; t <= reg_type_count(); t++)
		if (reg_count(t) > 0) {
			jw_key(w, reg_type_name(t));
			jw_int(w, reg_count(t));
		}
	jw_obj_end(w);
}

static void
overview_gen(struct jw *w, void *arg)
{
	static const char *const pools[BUF_NCLASS] = {
		[BUF_SMALL] = "buf_small", [BUF_IO] = "buf_io",
		[BUF_BIG] = "buf_big", [BUF_EXT] = "buf_ext",
		[BUF_MED] = "buf_medium",
	};
	struct buf_stats bs;
	struct conn_qstats q;

	(void)arg;
	buf_stats(&bs);
	conn_queue_stats(&q);
	jw_obj(w);
	jw_key(w, "connections");
	jw_obj(w);
	jw_key(w, "total");
	jw_int(w, conn_admitted());
	if (!bus_counts_json(w, "websockets", "by_type", "local_websockets"))
		local_counts(w);
	jw_obj_end(w);
	jw_key(w, "rooms");
	jw_arr(w);
	for (int g = fanout_next_used(0); g != 0; g = fanout_next_used(g)) {
		jw_obj(w);
		jw_key(w, "kind");
		jw_str(w, fanout_kind_name(fanout_kind(g)));
		jw_key(w, "name");
		jw_str(w, fanout_name(g));
		jw_key(w, "members");
		jw_int(w, fanout_size(g));
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "services");
	unified_services_json(w);
	jw_key(w, "pools");
	jw_obj(w);
	jw_key(w, "connections");
	jw_obj(w);
	jw_key(w, "used");
	jw_int(w, conn_active());
	jw_key(w, "capacity");
	jw_int(w, WARD_CONN_SLOTS);
	jw_obj_end(w);
	jw_key(w, "queue_entries");
	jw_obj(w);
	jw_key(w, "used");
	jw_int(w, q.entries);
	jw_key(w, "capacity");
	jw_int(w, q.capacity);
	jw_obj_end(w);
	for (int i = 0; i < BUF_NCLASS; i++) {
		if (pools[i] == NULL)
			continue;
		jw_key(w, pools[i]);
		jw_obj(w);
		jw_key(w, "used");
		jw_int(w, bs.used[i]);
		jw_key(w, "capacity");
		jw_int(w, bs.cap[i]);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_key(w, "totals");
	jw_obj(w);
	jw_key(w, "messages_in");
	jw_int(w, (int64_t)stats.msgs_in);
	jw_key(w, "messages_out");
	jw_int(w, (int64_t)stats.msgs_out);
	jw_key(w, "bytes_in");
	jw_int(w, (int64_t)stats.bytes_in);
	jw_key(w, "bytes_out");
	jw_int(w, (int64_t)stats.bytes_out);
	jw_key(w, "handshakes");
	jw_int(w, (int64_t)stats.handshakes);
	jw_obj_end(w);
	jw_key(w, "drops_slow");
	jw_int(w, (int64_t)stats.drops_slow);
	jw_key(w, "redis");
	redis_state(w);
	jw_key(w, "tls");
	tls_state(w);
	jw_key(w, "version");
	jw_str(w, WARD_VERSION);
	jw_key(w, "uptime_s");
	jw_int(w, (int64_t)((port_now_us() - loop_started_us()) / 1000000));
	jw_key(w, "timestamp");
	jw_time(w, now_wall_us);
	jw_obj_end(w);
}

static int
overview(struct conn *c, struct http_req *r)
{
	(void)r;
	return reply_json_gen(c, 200, overview_gen, NULL);
}

/* The sockets of a group: id, type and user, at most 50. */
static void
members_json(struct jw *w, int g)
{
	int n = 0;

	jw_arr(w);
	for (struct conn *m = fanout_first(g); m != NULL && n < 50;
	    m = fanout_next(m, g), n++) {
		uint32_t s = (uint32_t)(m - conns);
		char id[13];

		reg_id_text(reg[s].id, id);
		jw_obj(w);
		jw_key(w, "socket_id");
		jw_str(w, id);
		jw_key(w, "socket_type");
		jw_str(w, reg_type_name(reg[s].type));
		jw_key(w, "user");
		jw_str(w, reg_prof(s)->user);
		jw_key(w, "name");
		jw_str(w, reg_prof(s)->name);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
rooms_gen(struct jw *w, void *arg)
{
	(void)arg;
	jw_obj(w);
	jw_key(w, "rooms");
	jw_arr(w);
	for (int g = fanout_next_used(0); g != 0; g = fanout_next_used(g)) {
		jw_obj(w);
		jw_key(w, "kind");
		jw_str(w, fanout_kind_name(fanout_kind(g)));
		jw_key(w, "name");
		jw_str(w, fanout_name(g));
		jw_key(w, "size");
		jw_int(w, fanout_size(g));
		jw_key(w, "members");
		members_json(w, g);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static int
rooms(struct conn *c, struct http_req *r)
{
	(void)r;
	return reply_json_gen(c, 200, rooms_gen, NULL);
}

static void
sockets_gen(struct jw *w, void *arg)
{
	long limit = *(const long *)arg, n = 0;

	jw_obj(w);
	jw_key(w, "total");
	jw_int(w, reg_count(REG_TYPE_NONE));
	jw_key(w, "limit");
	jw_int(w, limit);
	jw_key(w, "sockets");
	jw_arr(w);
	for (uint32_t s = 0; s < WARD_CONN_SLOTS && n < limit; s++) {
		if (conns[s].state != CS_WS || reg[s].type == REG_TYPE_NONE)
			continue;
		reg_entry_json(w, s, NULL);
		n++;
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static int
sockets(struct conn *c, struct http_req *r)
{
	static long limit;
	char v[8];
	char *end;

	limit = 200;
	if (http_query_get(r->query, "limit", v, sizeof v) >= 0) {
		limit = strtol(v, &end, 10);
		if (*end != '\0' || limit < 1 || limit > 1000)
			return reply_error(c, 400, "invalid_field",
			    "limit must be 1..1000");
	}
	return reply_json_gen(c, 200, sockets_gen, &limit);
}

/* {k1: v1, k2: v2}; kept for Idempotency-Key retries when r is given. */
static int
small_answer(struct conn *c, const struct http_req *r, const char *k1,
    const char *v1, const char *k2, int64_t v2, bool is_bool)
{
	char body[160];
	struct jw w;

	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, k1);
	jw_str(&w, v1);
	jw_key(&w, k2);
	if (is_bool)
		jw_bool(&w, v2 != 0);
	else
		jw_int(&w, v2);
	jw_obj_end(&w);
	if (r != NULL)
		svc_idem_store(r, w.p, w.len);
	return reply_json(c, 200, &w);
}

static int
service_switch(struct conn *c, struct http_req *r)
{
	const struct json_doc *d = svc_json_body(c, r);
	char name[65];
	bool on;
	int i;

	if (d == NULL)
		return 0;
	snprintf(name, sizeof name, "%.*s", (int)r->param[0].n, r->param[0].p);
	if ((i = json_find(d, 0, "enabled")) < 0 || json_bool(d, i, &on) != 0)
		return reply_error(c, 400, "invalid_field",
		    "enabled must be a boolean");
	if (unified_service_set(name, on) != 0)
		return reply_error(c, 404, "not_found", "no such service");
	return small_answer(c, NULL, "name", name, "enabled", on, true);
}

static uint32_t
to_group(int kind, const char *id, uint32_t f)
{
	return fanout_send_named(kind, id, strlen(id), f, NULL);
}

/*
 * A socket id that is not here: forwarded to the instance whose tag it
 * carries ({"status":"forwarded","clients_notified":0}: that instance
 * delivers it, this one cannot count it), unknown (no live instance has
 * its tag: "sent", 0, as for an unknown id here), or Redis down (503).
 */
static int
remote_answer(struct conn *c, const struct http_req *r, int rc)
{
	if (rc == BUS_FORWARDED)
		return small_answer(c, r, "status", "forwarded",
		    "clients_notified", 0, false);
	if (rc == 0)
		return small_answer(c, r, "status", "sent",
		    "clients_notified", 0, false);
	return reply_error(c, 503, "unavailable", "the socket is on another "
	    "instance and Redis is down");
}

static int
send_to(struct conn *c, struct http_req *r)
{
	static const char *const rooms[] = { "call", "stt_room",
	    "telemedicine" };
	const struct json_doc *d = svc_json_body(c, r);
	char target[16], id[65];
	uint32_t f = 0, n = 0;
	struct str m;
	int i, t;

	if (d == NULL || svc_idem_replay(c, r))
		return 0;
	if (svc_text_of(d, json_find(d, 0, "target"), target,
	    sizeof target) != 0)
		return reply_error(c, 400, "invalid_field",
		    "target must be one "
		    "of socket, room, practice, user, service, diagnosis");
	if (strcmp(target, "service") != 0 &&
	    svc_text_of(d, json_find(d, 0, "id"), id, sizeof id) != 0)
		return reply_error(c, 400, "invalid_field",
		    "id must be a string or an integer");
	if ((i = json_find(d, 0, "message")) < 0 || d->tok[i].type != JSON_OBJ ||
	    (t = json_find(d, i, "type")) < 0 || !json_is_str(d, t))
		return reply_error(c, 400, "invalid_field",
		    "message must be an object with a string type");
	m = json_raw(d, i);
	if ((f = ws_frame(WS_OP_TEXT, m.p, m.n)) == 0)
		return reply_error(c, 413, "payload_too_large",
		    "message too large");
	if (strcmp(target, "socket") == 0) {
		uint64_t sid;
		int rc;

		rc = reg_id_parse((struct str){ id, strlen(id) }, &sid) ?
		    bus_send_socket(sid, f) : 0;
		if (rc != 1) {
			buf_unref(f);
			return remote_answer(c, r, rc);
		}
		n = 1;
	} else if (strcmp(target, "room") == 0) {
		for (size_t k = 0; k < ARRAY_LEN(rooms); k++)
			n += to_group(fanout_kind_of(rooms[k]), id, f);
	} else if (strcmp(target, "practice") == 0) {
		n = to_group(fanout_kind_of("practice"), id, f);
	} else if (strcmp(target, "diagnosis") == 0) {
		n = to_group(fanout_kind_of("diagnosis"), id, f);
	} else if (strcmp(target, "user") == 0 ||
	    strcmp(target, "service") == 0) {
		n = target[0] == 'u' ? fanout_send_user(id, f) :
		    fanout_send_type(reg_type_of(UNIFIED_TYPE), f, NULL);
	} else {
		buf_unref(f);
		return reply_error(c, 400, "invalid_field",
		    "target must be one "
		    "of socket, room, practice, user, service, diagnosis");
	}
	buf_unref(f);
	return small_answer(c, r, "status", "sent", "clients_notified", n,
	    false);
}

static const struct route admin_routes[] = {
	{
		.pattern = "/admin/api/overview",
		.methods = HTTP_M(HTTP_GET),
		.http = overview,
		.roles = ADMIN_ROLES,
		.summary = "Connections, rooms, services, pools, "
		    "Redis and TLS state",
		.res = "Overview",
	},
	{
		.pattern = "/admin/api/services/*",
		.methods = HTTP_M(HTTP_POST),
		.http = service_switch,
		.roles = ADMIN_ROLES,
		.doc_path = "/admin/api/services/{service}",
		.summary = "Switch a /ws service on or off",
		.req = "ServiceSwitch",
		.res_w = "ServiceSwitched",
	},
	{
		.pattern = "/admin/api/send",
		.methods = HTTP_M(HTTP_POST),
		.http = send_to,
		.roles = ADMIN_ROLES,
		.summary = "Send a message to a socket, room, "
		    "practice, user, service or diagnosis",
		.params = SVC_IDEM_PARAM,
		.req = "SendRequest",
		.res_w = "Delivery",
	},
	{
		.pattern = "/admin/api/sockets",
		.methods = HTTP_M(HTTP_GET),
		.http = sockets,
		.roles = ADMIN_ROLES,
		.summary = "WebSockets with user info (bounded)",
		.params = "limit",
		.res = "AdminSockets",
	},
	{
		.pattern = "/admin/api/rooms",
		.methods = HTTP_M(HTTP_GET),
		.http = rooms,
		.roles = ADMIN_ROLES,
		.summary = "Every room, practice and channel with "
		    "its members",
		.res = "AdminRooms",
	},
	{ .pattern = NULL }
};

const struct family admin_family = {
	.name = "admin",
	.routes = admin_routes,
	.types = (const char *const[]){ "admin", NULL },
};

