/*
 * consult.c - consultation updates (SPEC §3): /ws/consultations/ for
 * every authenticated user, and POST /api/consultations/updates (roles
 * service, admin, doctor) that fans an update out to all of them.
 *
 * {"consultation_id": string or integer, "status": string (1..64 bytes),
 *  "data": object (optional, {} when absent)} becomes
 * {"type":"consultation_update","data":{"consultation_id","status","data",
 *  "updated_at"}}, encoded once for every subscriber; the answer is
 * {"status":"broadcasted","clients_notified":n}.  A string id and data are
 * copied as the client wrote them (the parser has validated them); an
 * integer id is written back as an integer (1e3 -> 1000).
 */
#include "svc.h"

static int gk_consult;		/* group kind "consultations" */

#define STATUS_MAX	64

static void
open_consult(struct conn *c, const struct http_req *r)
{
	(void)r;
	if (fanout_join(c, 0, gk_consult, "all", 3, 0) < 0)
		conn_close_ws(c, 1013, "no room left on this server");
}

static void
close_consult(struct conn *c)
{
	fanout_leave(c, 0);
}

static void
consult_message(struct conn *c, int op, uint8_t *p, size_t n)
{
	char type[32];

	(void)op;
	if (svc_json_msg(c, p, n, type, sizeof type) == NULL)
		return;		/* answered (ping, or bad input) */
	svc_error(c, "unknown_type", "this channel only receives updates");
}

struct update {
	struct str	 id, data;	/* id: a JSON string, or empty */
	int64_t		 num_id;	/* when id is an integer */
	const char	*status;
};

static void
update_gen(struct jw *w, void *arg)
{
	const struct update *u = arg;

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "consultation_update");
	jw_key(w, "data");
	jw_obj(w);
	jw_key(w, "consultation_id");
	if (u->id.n > 0)
		jw_raw(w, u->id.p, u->id.n);
	else
		jw_int(w, u->num_id);
	jw_key(w, "status");
	jw_str(w, u->status);
	jw_key(w, "data");
	if (u->data.n > 0)
		jw_raw(w, u->data.p, u->data.n);
	else
		jw_raw(w, "{}", 2);
	jw_key(w, "updated_at");
	jw_time(w, now_wall_us);
	jw_obj_end(w);
	jw_obj_end(w);
}

static int
post_update(struct conn *c, struct http_req *r)
{
	const struct json_doc *d = svc_json_body(c, r);
	char status[STATUS_MAX + 1], body[96];
	struct update u = { { NULL, 0 }, { NULL, 0 }, 0, status };
	uint32_t f, n = 0;
	int i;
	struct jw w;

	if (d == NULL)
		return 0;
	if (svc_idem_replay(c, r))
		return 0;
	if ((i = json_find(d, 0, "consultation_id")) < 0)
		return reply_error(c, 400, "missing_field",
		    "consultation_id is required");
	if (json_is_str(d, i)) {
		if (d->tok[i].end == d->tok[i].start)
			return reply_error(c, 400, "invalid_field",
			    "consultation_id must not be empty");
		if (json_id(d, i, NULL, 0) != 0)
			return reply_error(c, 400, "invalid_field",
			    "consultation_id must not hold control characters");
		u.id = json_raw(d, i);
	} else if (json_int(d, i, &u.num_id) != 0) {
		return reply_error(c, 400, "invalid_field",
		    "consultation_id must be a string or an integer");
	}
	if ((i = json_find(d, 0, "status")) < 0)
		return reply_error(c, 400, "missing_field",
		    "status is required");
	if (!json_is_str(d, i) || json_id(d, i, status, sizeof status) != 0 ||
	    status[0] == '\0')
		return reply_error(c, 400, "invalid_field", "status must be a "
		    "string of 1 to 64 bytes without control characters");
	if ((i = json_find(d, 0, "data")) >= 0) {
		if (d->tok[i].type != JSON_OBJ)
			return reply_error(c, 400, "invalid_field",
			    "data must be an object");
		u.data = json_raw(d, i);
	}
	if ((f = ws_jw_frame(update_gen, &u)) == 0)
		return reply_error(c, 413, "payload_too_large",
		    "update too large to send");
	n = fanout_send_named(gk_consult, "all", 3, f, NULL);
	buf_unref(f);
	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "status");
	jw_str(&w, "broadcasted");
	jw_key(&w, "clients_notified");
	jw_int(&w, n);
	jw_obj_end(&w);
	svc_idem_store(r, w.p, w.len);
	return reply_json(c, 200, &w);
}

static const struct ws_ops consult_ops = {
	.type = "consultations", .listing = "/ws/consultations/",
	.open = open_consult, .message = consult_message,
	.close = close_consult, .text_only = 1,
};

static const struct route consult_routes[] = {
	{
		.pattern = "/ws/consultations/",
		.ws = &consult_ops,
		.roles = "*",
		.summary = "Consultation updates",
		.params = "token",
		.msg_in = "ping",
		.msg_out = "consultation_update,pong,error",
	},
	{
		.pattern = "/api/consultations/updates",
		.methods = HTTP_M(HTTP_POST),
		.http = post_update,
		.roles = "service,admin,doctor",
		.summary = "Broadcast a consultation update",
		.params = SVC_IDEM_PARAM,
		.req = "ConsultationUpdate",
		.res_w = "Delivery",
	},
	{ .pattern = NULL }
};

const struct family consult_family = {
	.name = "consult",
	.routes = consult_routes,
	.kinds = (const struct fanout_kind[]){
		{ "consultations", &gk_consult },
		{ NULL, NULL },
	},
	.types = (const char *const[]){ "consultations", NULL },
};

