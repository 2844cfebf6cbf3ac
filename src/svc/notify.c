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
 * The queue is a fixed arena of encoded frames (WARD_NOTIF_QUEUE of
 * WARD_NOTIF_FRAME bytes); a user holds at most WARD_NOTIF_PER_USER, the
 * oldest dropped first; a full arena answers 503.  Queued frames are
 * written ahead to the journal (journal.c) and replayed at start.
 */
#include <stdio.h>

#include "../internal.h"
#include "../auth.h"

#define USER_MAX	64

struct queued {
	uint32_t	seq;		/* 0: slot free */
	uint16_t	len;
	char		user[USER_MAX + 1];
	uint8_t		frame[WARD_NOTIF_FRAME];
};

static struct queued q[WARD_NOTIF_QUEUE];
static uint32_t next_seq = 1;
static uint64_t next_id;
static struct jbuf jb;

/* --- the journal --------------------------------------------------------- */

static int
put_push(uint32_t seq, const char *user, const uint8_t *f, size_t n)
{
	jb_init(&jb);
	jb_u64(&jb, seq);
	jb_str(&jb, user);
	jb_bytes(&jb, f, n);
	return jb.bad ? WARD_ETOOBIG : journal_put(J_NOTE_PUSH, jb.p, jb.n);
}

static int
put_pop(uint32_t seq)
{
	jb_init(&jb);
	jb_u64(&jb, seq);
	return journal_put(J_NOTE_POP, jb.p, jb.n);
}

void
notify_replay(int type, const uint8_t *p, size_t n)
{
	struct jread r = { p, n, 0 };
	char user[USER_MAX + 1];
	uint64_t seq;

	if (!jr_u64(&r, &seq))
		return;
	if (type == J_NOTE_POP) {
		for (size_t i = 0; i < WARD_NOTIF_QUEUE; i++)
			if (q[i].seq == (uint32_t)seq)
				q[i].seq = 0;
		return;
	}
	if (type != J_NOTE_PUSH || !jr_str(&r, user, sizeof user) ||
	    n - r.at > WARD_NOTIF_FRAME)
		return;
	for (size_t i = 0; i < WARD_NOTIF_QUEUE; i++) {
		if (q[i].seq != 0)
			continue;
		q[i].seq = (uint32_t)seq;
		q[i].len = (uint16_t)(n - r.at);
		str_copy(q[i].user, sizeof q[i].user, user);
		memcpy(q[i].frame, p + r.at, n - r.at);
		if (seq >= next_seq)
			next_seq = (uint32_t)seq + 1;
		return;
	}
}

int
notify_snapshot(void)
{
	for (uint32_t last = 0;;) {
		struct queued *next = NULL;

		for (size_t i = 0; i < WARD_NOTIF_QUEUE; i++)
			if (q[i].seq > last && (next == NULL ||
			    q[i].seq < next->seq))
				next = &q[i];
		if (next == NULL)
			return 0;
		if (put_push(next->seq, next->user, next->frame,
		    next->len) != 0)
			return WARD_EIO;
		last = next->seq;
	}
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
	if (grp_join(c, 0, GK_USER, u, n, 0) < 0) {
		conn_close_ws(c, 1013, "no room left on this server");
		return;
	}
	audit("channel_open", r->auth, "channel=notifications");
	/* what waited for this user, oldest first */
	for (;;) {
		struct queued *best = NULL;

		for (size_t i = 0; i < WARD_NOTIF_QUEUE; i++)
			if (q[i].seq != 0 && strcmp(q[i].user, u) == 0 &&
			    (best == NULL || q[i].seq < best->seq))
				best = &q[i];
		if (best == NULL)
			break;
		if (svc_send_copy(c, best->frame, best->len) != 0)
			break;		/* stays queued */
		put_pop(best->seq);
		best->seq = 0;
	}
	/* delivered at least once: a failed write means a repeat after a
	 * restart, never a loss */
	journal_commit();
}

static void
close_notify(struct conn *c)
{
	grp_leave(c, 0);
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
		if (!json_key_eq(d, k, "id") && !json_key_eq(d, k, "created_at"))
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

/* Queue a frame for user (written ahead): drop the user's oldest at the
 * limit; -1 when the arena is full, -2 when storage failed. */
static int
enqueue(const char *user, const uint8_t *f, size_t len)
{
	struct queued *free_slot = NULL, *oldest = NULL;
	uint32_t mine = 0;

	for (size_t i = 0; i < WARD_NOTIF_QUEUE; i++) {
		if (q[i].seq == 0) {
			if (free_slot == NULL)
				free_slot = &q[i];
			continue;
		}
		if (strcmp(q[i].user, user) != 0)
			continue;
		mine++;
		if (oldest == NULL || q[i].seq < oldest->seq)
			oldest = &q[i];
	}
	if (mine >= WARD_NOTIF_PER_USER)
		free_slot = oldest;	/* oldest dropped first */
	if (free_slot == NULL)
		return -1;
	if ((free_slot->seq != 0 && put_pop(free_slot->seq) != 0) ||
	    put_push(next_seq, user, f, len) != 0 || journal_commit() != 0)
		return -2;
	free_slot->seq = next_seq++;
	free_slot->len = (uint16_t)len;
	snprintf(free_slot->user, sizeof free_slot->user, "%s", user);
	memcpy(free_slot->frame, f, len);
	return 0;
}

static int
post_notification(struct conn *c, struct http_req *r)
{
	const struct json_doc *d = svc_json_body(c, r);
	char user[USER_MAX + 1], body[96];
	struct note a;
	uint32_t f, n = 0;
	int i, g;
	struct jw w;

	if (d == NULL)
		return 0;
	if (svc_idem_replay(c, r))
		return 0;
	if ((i = json_find(d, 0, "user_id")) < 0)
		return http_error(c, 400, "missing_field", "user_id is required");
	if (svc_text_of(d, i, user, sizeof user) != 0)
		return http_error(c, 400, "invalid_field", "user_id must be a "
		    "non-empty string (up to 64 bytes) or an integer");
	if ((i = json_find(d, 0, "notification")) < 0)
		return http_error(c, 400, "missing_field",
		    "notification is required");
	if (d->tok[i].type != JSON_OBJ)
		return http_error(c, 400, "invalid_field",
		    "notification must be an object");
	a.d = d;
	a.obj = i;
	if (next_id == 0)	/* a time base: ids stay unique across restarts */
		next_id = (uint64_t)now_wall_us;
	snprintf(a.id, sizeof a.id, "n%llu", (unsigned long long)++next_id);
	if ((f = ws_jw_frame(note_gen, &a)) == 0)
		return http_error(c, 413, "payload_too_large",
		    "notification too large to send");
	g = grp_find(GK_USER, user, strlen(user));
	if (g > 0)
		n = grp_send(g, f, NULL);
	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "status");
	if (n > 0) {
		jw_str(&w, "delivered");
		jw_key(&w, "clients_notified");
		jw_int(&w, n);
	} else if (buf_len(f) > WARD_NOTIF_FRAME) {
		buf_unref(f);
		return http_error(c, 413, "payload_too_large",
		    "notification too large to queue");
	} else if ((i = enqueue(user, buf_data(f), buf_len(f))) != 0) {
		buf_unref(f);
		return http_error(c, 503, "unavailable", i == -1 ?
		    "notification queue full" : "storage unavailable");
	} else {
		jw_str(&w, "queued");
	}
	buf_unref(f);
	jw_key(&w, "id");
	jw_str(&w, a.id);
	jw_obj_end(&w);
	svc_idem_store(r, w.p, w.len);
	return http_json(c, 200, &w);
}

static const struct ws_ops notify_ops = {
	.type = "notifications", .listing = "/ws/notifications/",
	.open = open_notify, .message = notify_message,
	.close = close_notify, .text_only = 1,
};

const struct route notify_routes[] = {
	{ "/ws/notifications/", 0, NULL, &notify_ops, NULL, "*" },
	{ "/api/notifications", HTTP_M(HTTP_POST), post_notification, NULL,
	    NULL, "service,admin" },
	{ NULL, 0, NULL, NULL, NULL, NULL }
};
