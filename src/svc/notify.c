/*
 * notify.c - per-user notifications (SPEC §3): /ws/notifications/ for
 * every authenticated user, who receives only what is addressed to the
 * token's sub, and POST /api/notifications (roles service, admin).
 *
 * {"user_id": string or integer (compared as text), "notification":
 * object} becomes {"type":"notification","data":{...its members...,
 * "id","created_at"}} (the server sets id and created_at).  With the user
 * connected it goes to every open connection of that user:
 * {"status":"delivered","clients_notified":n}.  Otherwise it is queued,
 * {"status":"queued"}, and delivered in order on the user's next connect.
 *
 * The queue is a mailbox (mailbox.c) keyed by user: a fixed arena of
 * encoded frames (WARD_NOTIF_QUEUE of WARD_NOTIF_FRAME bytes); a user
 * holds at most WARD_NOTIF_PER_USER, the oldest dropped first; a full
 * arena answers 503.  Queued frames are written ahead to the journal
 * (journal.c) and replayed at start, the older push/pop records too.
 */
#include <stdio.h>

#include "svc.h"
#include "../auth.h"

static int gk_user;		/* group kind "user" */

#define USER_MAX	64

/* Frames queued for users with no open connection, keyed by user. */
MAILBOX_STORAGE(q, WARD_NOTIF_QUEUE) = MAILBOX_INIT(q, J_NOTE_MBOX,
    WARD_NOTIF_PER_USER, false);
static uint64_t next_id;
static struct squeue sq = { &gk_user, &q };

/* --- the journal --------------------------------------------------------- */

static void
notify_replay(int type, const uint8_t *p, size_t n)
{
	struct jread r = { p, n, 0 };
	char user[USER_MAX + 1];
	uint64_t seq;

	if (mailbox_replay(&q, type, p, n) || !journal_read_u64(&r, &seq))
		return;
	/* the format before the mailbox: push (seq, user, frame), pop */
	if (type == J_NOTE_POP)
		mailbox_unload(&q, seq);
	else if (type == J_NOTE_PUSH && journal_read_str(&r, user, sizeof user))
		mailbox_load(&q, seq, user, p + r.at, n - r.at);
}

static int
notify_snapshot(void)
{
	return mailbox_snapshot(&q);
}

static void
open_notify(struct conn *c, const struct http_req *r)
{
	const char *u = r->auth != NULL ? r->auth->sub : "";
	size_t n = strlen(u);

	if (n == 0 || n > USER_MAX) {
		conn_close_ws(c, 1008, "token has no usable sub");
		return;
	}
	if (fanout_join(c, 0, gk_user, u, n, 0) < 0) {
		conn_close_ws(c, 1013, "no room left on this server");
		return;
	}
	audit("channel_open", r->auth, "channel=notifications");
	/* what waited for this user, oldest first */
	for (const struct mailbox_msg *m; (m = mailbox_peek(&q, u)) != NULL;) {
		if (svc_send_copy(c, m->data, m->len) != 0)
			break;		/* stays queued */
		mailbox_pop(&q, u);
	}
	/* delivered at least once: a failed write means a repeat after a
	 * restart, never a loss */
	journal_commit();
	squeue_open(&sq, u);	/* then what waited in Redis */
}

static void
close_notify(struct conn *c)
{
	char u[USER_MAX + 1];
	int g = fanout_of(c, 0);

	utf8_copy(u, sizeof u, fanout_name(g));
	fanout_leave(c, 0);
	if (g > 0)
		squeue_close(&sq, u);
}

static void
notify_init(void)
{
	squeue_add(&sq);
}

static void
notify_message(struct conn *c, int op, uint8_t *p, size_t n)
{
	char type[32];

	(void)op;
	if (svc_json_msg(c, p, n, type, sizeof type) == NULL)
		return;
	svc_error(c, "unknown_type", "this channel only receives notifications");
}

struct note {
	const struct json_doc	*d;
	int			 obj;	/* the notification object */
	char			 id[24];
};

static void
note_gen(struct jw *w, void *arg)
{
	const struct note *a = arg;
	const struct json_doc *d = a->d;

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "notification");
	jw_key(w, "data");
	jw_obj(w);
	for (int k = a->obj + 1; k < json_skip(d, a->obj);) {
		int v = k + 1;

		/* the server's id and created_at replace the client's */
		if (!json_key_eq(d, k, "id") &&
		    !json_key_eq(d, k, "created_at"))
			jw_member_raw(w, json_raw(d, k), json_raw(d, v));
		k = json_skip(d, v);
	}
	jw_key(w, "id");
	jw_str(w, a->id);
	jw_key(w, "created_at");
	jw_time(w, now_wall_us);
	jw_obj_end(w);
	jw_obj_end(w);
}

static int
post_notification(struct conn *c, struct http_req *r)
{
	const struct json_doc *d = svc_json_body(c, r);
	char user[USER_MAX + 1], body[96];
	struct note a;
	uint32_t f, n = 0;
	int i;
	bool redis_queued = false;
	struct jw w;

	if (d == NULL)
		return 0;
	if (svc_idem_replay(c, r))
		return 0;
	if ((i = json_find(d, 0, "user_id")) < 0)
		return reply_error(c, 400, "missing_field",
		    "user_id is required");
	if (svc_text_of(d, i, user, sizeof user) != 0)
		return reply_error(c, 400, "invalid_field", "user_id must be a "
		    "non-empty string (up to 64 bytes) or an integer");
	if ((i = json_find(d, 0, "notification")) < 0)
		return reply_error(c, 400, "missing_field",
		    "notification is required");
	if (d->tok[i].type != JSON_OBJ)
		return reply_error(c, 400, "invalid_field",
		    "notification must be an object");
	a.d = d;
	a.obj = i;
	if (next_id == 0)	/* a time base: ids stay unique across restarts */
		next_id = (uint64_t)now_wall_us;
	snprintf(a.id, sizeof a.id, "n%llu", (unsigned long long)++next_id);
	if ((f = ws_jw_frame(note_gen, &a)) == 0)
		return reply_error(c, 413, "payload_too_large",
		    "notification too large to send");
	if (squeue_up()) {
		/* Redis decides: live on another instance, or its list */
		int g = fanout_find(gk_user, user, strlen(user));

		if ((n = g > 0 ? fanout_deliver(g, f) : 0) > 0)
			bus_group(gk_user, user, strlen(user), f);
		else if (buf_len(f) <= WARD_NOTIF_FRAME &&
		    squeue_post(&sq, user, f) == 0)
			redis_queued = true;
	} else {
		n = fanout_send_named(gk_user, user, strlen(user), f, NULL);
	}
	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "status");
	if (n > 0) {
		jw_str(&w, "delivered");
		jw_key(&w, "clients_notified");
		jw_int(&w, n);
	} else if (redis_queued) {
		jw_str(&w, "queued");
	} else if (buf_len(f) > WARD_NOTIF_FRAME) {
		buf_unref(f);
		return reply_error(c, 413, "payload_too_large",
		    "notification too large to queue");
	} else if ((i = mailbox_push(&q, user, buf_data(f), buf_len(f))) != 0) {
		buf_unref(f);
		return reply_error(c, 503, "unavailable", i == WARD_ENOMEM ?
		    "notification queue full" : "storage unavailable");
	} else {
		jw_str(&w, "queued");
	}
	buf_unref(f);
	jw_key(&w, "id");
	jw_str(&w, a.id);
	jw_obj_end(&w);
	svc_idem_store(r, w.p, w.len);
	return reply_json(c, 200, &w);
}

static const struct ws_ops notify_ops = {
	.type = "notifications", .listing = "/ws/notifications/",
	.open = open_notify, .message = notify_message,
	.close = close_notify, .text_only = 1,
};

static const struct route notify_routes[] = {
	{
		.pattern = "/ws/notifications/",
		.ws = &notify_ops,
		.refused = audit_refused,
		.roles = "*",
		.summary = "The token user's notifications (queued "
		    "ones first)",
		.params = "token",
		.msg_in = "ping",
		.msg_out = "notification,pong,error",
	},
	{
		.pattern = "/api/notifications",
		.methods = HTTP_M(HTTP_POST),
		.http = post_notification,
		.roles = "service,admin",
		.summary = "Notify a user (queued when offline)",
		.params = SVC_IDEM_PARAM,
		.req = "NotificationRequest",
		.res_w = "Delivery",
	},
	{ .pattern = NULL }
};

const struct family notify_family = {
	.name = "notify",
	.routes = notify_routes,
	.init = notify_init,
	.pools = (const struct ward_pool[]){
		{ "notify_queue", WARD_NOTIF_QUEUE, MAILBOX_SLOT_BYTES,
		    "notifications queued for offline users (mailbox)" },
		{ NULL, 0, 0, NULL },
	},
	.kinds = (const struct fanout_kind[]){
		{ "user", &gk_user },
		{ NULL, NULL },
	},
	.types = (const char *const[]){ "notifications", NULL },
	.journal = &(const struct journal_family){ J_NOTE_PUSH, J_NOTE_MBOX + 2,
	    notify_replay, notify_snapshot },
};


/* Messages waiting in the offline queue (/metrics ward_queue_depth). */
uint32_t
notify_queue_depth(void)
{
	return q.used;
}
