/*
 * unified.c - the unified endpoint /ws (SPEC §4): one socket, messages
 * routed by type prefix to the whiteboard (practice-wide relay) and the
 * telemedicine rooms (WebRTC signaling and chat).
 *
 * Per connection: membership slot 0 is the practice group, slot 1 the
 * telemedicine room; ud[6] = 1 when the practice came from the token (it
 * cannot be changed by subscribe), 2 when whiteboard_practice = message
 * fixed it (from ?practiceId=, subscribe or the first whiteboard_update:
 * never another practice afterwards).  whiteboard_practice = token
 * refuses subscribe and ?practiceId= (the token's practice only).
 * A telemedicine participant's userId and userName live in the registry
 * profile (user, name), so `to` can name a user and the socket listing
 * shows who is in the call.
 *
 * With Redis a room spans instances.  A `to` naming no member here is
 * published on the room's channel with the flag to=<to>: each instance
 * gives it to its first member of that userId (or clientId) and to no
 * one else (tm_group).  Members on other instances are remembered (far
 * table, as call.c does for peers): a telemedicine_user_joined carries
 * hi=<clientId>,u=<userId>,n=<userName>, a telemedicine_user_left
 * bye=<clientId>; each instance that sees a remote join answers the
 * newcomer's instance with its own members (ro=..., a direct member
 * send), which tells its local members of any it did not know, once.
 * telemedicine_joined lists the local and the remembered members.
 *
 * Relayed messages are the sender's JSON object, member by member (the
 * parser has validated it), with the server's `from` fields added; the
 * sender's own `from`/`fromClientId` are dropped, so nobody can speak for
 * another.  Practice ids compare as text (5 and "5" are one practice).
 * Services declared in the config (service.<name>.types = a,b;
 * .scope = practice | room | all; .enabled) take messages of exactly
 * those types and relay them to the others of their scope.  The admin
 * API switches any service off and on (POST /admin/api/services/<name>).
 */
#include <stdio.h>

#include "svc.h"
#include "../auth.h"

static int gk_practice;		/* group kind "practice" */
static int gk_telemed;		/* group kind "telemedicine" */

#define MS_PRACTICE	0
#define MS_ROOM		1
#define NAME_MAX_	64

static const char *const wb_types[] = { "whiteboard_update" };
static const char *const tm_types[] = {
	"telemedicine_join", "telemedicine_leave", "telemedicine_offer",
	"telemedicine_answer", "telemedicine_ice_candidate",
	"telemedicine_chat_message", "telemedicine_user_joined",
	"telemedicine_user_left",
};

static bool enabled[2] = { true, true };	/* whiteboard, telemedicine */
static int wb_practice = WB_PRACTICE_SUBSCRIBE;	/* whiteboard_practice */
static const char *const svc_names[3] = { "whiteboard", "telemedicine",
	NULL };
/* service.<name>.scope, in SVC_SCOPE_* order */
static const char *const scope_names[] = { "practice", "room", "all", NULL };

int
unified_service_set(const char *name, bool on)
{
	for (int s = 0; s < 2; s++)
		if (strcmp(name, svc_names[s]) == 0) {
			enabled[s] = on;
			return 0;
		}
	for (int i = 0; i < cfg.nservices; i++)
		if (strcmp(name, cfg.services[i].name) == 0) {
			cfg.services[i].disabled = !on;
			return 0;
		}
	return -1;
}

/* The config-declared service whose types list holds type, or NULL. */
static const struct cfg_service *
config_service(const char *type)
{
	size_t tl = strlen(type);

	for (int i = 0; i < cfg.nservices; i++) {
		const char *p = cfg.services[i].types;

		while (*p != '\0') {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			if (n == tl && memcmp(p, type, n) == 0)
				return &cfg.services[i];
			p += n + (e != NULL);
		}
	}
	return NULL;
}

void
unified_services_json(struct jw *w)
{
	static const char *const *const types[2] = { wb_types, tm_types };
	static const size_t ntypes[2] = { ARRAY_LEN(wb_types),
	    ARRAY_LEN(tm_types) };

	jw_arr(w);
	for (int s = 0; s < 2; s++) {
		jw_obj(w);
		jw_key(w, "name");
		jw_str(w, svc_names[s]);
		jw_key(w, "messageTypes");
		jw_arr(w);
		for (size_t i = 0; i < ntypes[s]; i++)
			jw_str(w, types[s][i]);
		jw_arr_end(w);
		jw_key(w, "enabled");
		jw_bool(w, enabled[s]);
		jw_obj_end(w);
	}
	for (int i = 0; i < cfg.nservices; i++) {
		const struct cfg_service *sv = &cfg.services[i];
		const char *p = sv->types;

		jw_obj(w);
		jw_key(w, "name");
		jw_str(w, sv->name);
		jw_key(w, "messageTypes");
		jw_arr(w);
		while (*p != '\0') {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			jw_strn(w, p, n);
			p += n + (e != NULL);
		}
		jw_arr_end(w);
		jw_key(w, "scope");
		jw_str(w, scope_names[sv->scope]);
		jw_key(w, "enabled");
		jw_bool(w, !sv->disabled);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
client_id(const struct conn *c, char out[13])
{
	reg_id_text(reg[conn_id(c)].id, out);
}

static void
send_gen(struct conn *c, void (*gen)(struct jw *, void *), void *arg)
{
	uint32_t f = ws_jw_frame(gen, arg);

	if (f != 0)
		conn_send_owned(c, f);
}

static void
services_gen(struct jw *w, void *arg)
{
	const struct conn *c = arg;
	char id[13];

	client_id(c, id);
	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "connected");
	jw_key(w, "clientId");
	jw_str(w, id);
	jw_key(w, "services");
	unified_services_json(w);
	jw_obj_end(w);
}

/* An anonymous client's practice from ?practiceId= (not in token mode). */
static int
query_practice(const struct http_req *r, char *out, size_t cap)
{
	int n;

	if (wb_practice == WB_PRACTICE_TOKEN)
		return 0;
	n = http_query_get(r->query, "practiceId", out, cap);
	return n > 0 && n <= NAME_MAX_ ? n : 0;
}

static void
open_unified(struct conn *c, const struct http_req *r)
{
	const char *pr = r->auth != NULL ? r->auth->tenant : "";
	char q[NAME_MAX_ + 2];
	uint32_t how = 1;

	c->ud[6] = 0;
	if (pr[0] == '\0' && query_practice(r, q, sizeof q) > 0) {
		pr = q;
		how = wb_practice == WB_PRACTICE_MESSAGE ? 2 : 0;
	}
	if (pr[0] != '\0') {
		if (fanout_join(c, MS_PRACTICE, gk_practice, pr, strlen(pr),
		    0) < 0) {
			conn_close_ws(c, 1013, "no room left on this server");
			return;
		}
		c->ud[6] = how;
	}
	send_gen(c, services_gen, c);
}

/* --- relaying ------------------------------------------------------------- */

struct relay {
	const struct conn	*from;
	const struct json_doc	*d;
	const char		*practice;	/* whiteboard: the sender's */
	bool			 room;		/* telemedicine: add from */
};

/* The sender's object with the server's fields. */
static void
relay_gen(struct jw *w, void *arg)
{
	const struct relay *a = arg;
	const struct json_doc *d = a->d;
	const struct reg_profile *p = reg_prof(conn_id(a->from));
	char id[13];

	client_id(a->from, id);
	jw_obj(w);
	for (int k = 1; k < json_skip(d, 0);) {
		int v = k + 1;

		/* keys compare unescaped: "fr\u006fm" is dropped too */
		if (!json_key_eq(d, k, "from") &&
		    !json_key_eq(d, k, "fromClientId"))
			jw_member_raw(w, json_raw(d, k), json_raw(d, v));
		k = json_skip(d, v);
	}
	/* a practiceId the sender gave was checked against its practice and
	 * keeps its JSON type (5 stays 5); without one, the practice's */
	if (a->practice != NULL && json_find(d, 0, "practiceId") < 0) {
		jw_key(w, "practiceId");
		jw_str(w, a->practice);
	}
	jw_key(w, "from");
	jw_str(w, a->room && p->user[0] ? p->user : id);
	jw_key(w, "fromClientId");
	jw_str(w, id);
	jw_obj_end(w);
}

static void
whiteboard(struct conn *c, const struct json_doc *d, const char *type)
{
	int g = fanout_of(c, MS_PRACTICE), i;
	char want[NAME_MAX_ + 1];
	struct relay a = { c, d, NULL, false };
	uint32_t f;

	if (strcmp(type, "whiteboard_update") != 0)
		return svc_error(c, "unknown_type", "unknown whiteboard type");
	i = json_find(d, 0, "practiceId");
	if (g == 0 && i >= 0 &&
	    wb_practice == WB_PRACTICE_MESSAGE) {
		/* seed 003: the first update chooses the practice, for good */
		if (svc_text_of(d, i, want, sizeof want) != 0)
			return svc_error(c, "invalid_field",
			    "practiceId must be a string or an integer");
		if ((g = fanout_join(c, MS_PRACTICE, gk_practice, want,
		    strlen(want), 0)) < 0)
			return svc_error(c, "unavailable",
			    "no room left on this server");
		c->ud[6] = 2;
	}
	if (g == 0)
		return svc_error(c, "not_subscribed", "no practice: send "
		    "{\"type\":\"subscribe\",\"practiceId\":…} first");
	if (i >= 0 && (svc_text_of(d, i, want, sizeof want) != 0 ||
	    strcmp(want, fanout_name(g)) != 0))
		return svc_error(c, "forbidden",
		    "practiceId is not this connection's practice");
	a.practice = fanout_name(g);
	if ((f = ws_jw_frame(relay_gen, &a)) == 0)
		return svc_error(c, "too_large", "message too large");
	fanout_send(g, f, c);
	buf_unref(f);
}

static void
subscribe(struct conn *c, const struct json_doc *d)
{
	char pr[NAME_MAX_ + 1], buf[160];
	int g = fanout_of(c, MS_PRACTICE);
	struct jw w;

	if (svc_text_of(d, json_find(d, 0, "practiceId"), pr, sizeof pr) != 0)
		return svc_error(c, "invalid_field",
		    "practiceId must be a string or an integer");
	if (c->ud[6] == 0 && wb_practice == WB_PRACTICE_TOKEN)
		return svc_error(c, "forbidden", "whiteboard_practice = token: "
		    "the practice comes from the token only");
	if (c->ud[6] && strcmp(pr, fanout_name(g)) != 0)
		return svc_error(c, "forbidden", c->ud[6] == 1 ?
		    "the token's practice cannot be overridden" :
		    "this connection's practice is fixed");
	if (!c->ud[6] && fanout_join(c, MS_PRACTICE, gk_practice, pr,
	    strlen(pr), 0) < 0)
		return svc_error(c, "unavailable", "no room left on this server");
	if (!c->ud[6] && wb_practice == WB_PRACTICE_MESSAGE)
		c->ud[6] = 2;
	jw_init(&w, buf, sizeof buf);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "subscribed");
	jw_key(&w, "practiceId");
	jw_str(&w, pr);
	jw_obj_end(&w);
	ws_send(c, WS_OP_TEXT, buf, w.len);
}

/* --- telemedicine ------------------------------------------------------- */

struct presence {
	const struct conn	*c;
	const char		*type;
	int			 g;
};

static void
presence_gen(struct jw *w, void *arg)
{
	const struct presence *a = arg;
	const struct reg_profile *p = reg_prof(conn_id(a->c));
	char id[13];

	client_id(a->c, id);
	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, a->type);
	jw_key(w, "roomId");
	jw_str(w, fanout_name(a->g));
	jw_key(w, "userId");
	jw_str(w, p->user);
	jw_key(w, "userName");
	jw_str(w, p->name);
	jw_key(w, "clientId");
	jw_str(w, id);
	jw_key(w, "timestamp");
	jw_time(w, now_wall_us);
	jw_obj_end(w);
}

/* Members on other instances: room hash, clientId (the far.c table),
 * userId, userName (here, indexed alike). */
static uint64_t far_rooms[WARD_TM_FAR], far_cid[WARD_TM_FAR];
static char far_user[WARD_TM_FAR][NAME_MAX_ + 1], far_name[WARD_TM_FAR][97];

static void
far_move(uint32_t to, uint32_t from)
{
	memcpy(far_user[to], far_user[from], sizeof far_user[to]);
	memcpy(far_name[to], far_name[from], sizeof far_name[to]);
}

static struct far far = { far_rooms, far_cid, WARD_TM_FAR, 0, reg_id_tag,
    far_move };

/* Remember the member of flags ("<key>=<clientId>,u=<user>,n=<name>") in
 * room: false when it was known already, or the flags are not one. */
static bool
far_member(uint64_t room, const char *flags, const char *key)
{
	char v[16], u[NAME_MAX_ + 1], n[97];
	uint64_t cid;
	uint32_t i;

	if (!bus_flag(flags, key, v, sizeof v) ||
	    !reg_id_parse((struct str){ v, strlen(v) }, &cid) ||
	    !far_add(&far, room, cid, &i))
		return false;
	if (i == UINT32_MAX)
		return true;		/* new, the table full: not kept */
	if (!bus_flag(flags, "u", u, sizeof u))
		u[0] = '\0';
	if (!bus_flag(flags, "n", n, sizeof n))
		n[0] = '\0';
	utf8_copy(far_user[i], sizeof far_user[i], u);
	utf8_copy(far_name[i], sizeof far_name[i], n);
	return true;
}

static void
far_tick_hook(uint64_t now)
{
	(void)now;
	far_tick(&far);
}

/* "<key>=<c's clientId>,u=<userId>,n=<userName>" (escaped) in out. */
static bool
member_flags(char *out, size_t cap, const char *key, const struct conn *c)
{
	const struct reg_profile *p = reg_prof(conn_id(c));
	char id[13];
	int k;
	size_t at;

	client_id(c, id);
	k = snprintf(out, cap, "%s=%s,u=", key, id);
	if (k < 0 || (size_t)k >= cap)
		return false;
	at = (size_t)k;
	if (!bus_escape(out, cap, &at, p->user, strlen(p->user)) ||
	    at + 4 > cap)
		return false;
	memcpy(out + at, ",n=", 4);
	at += 3;
	return bus_escape(out, cap, &at, p->name, strlen(p->name));
}

#define TM_FLAGS	(40 + 3 * (NAME_MAX_ + 96))

static void
announce(struct conn *c, int g, const char *type)
{
	struct presence a = { c, type, g };
	uint32_t f = ws_jw_frame(presence_gen, &a);
	char fl[TM_FLAGS] = "";

	if (f == 0)
		return;
	if (strcmp(type, "telemedicine_user_joined") == 0) {
		if (!member_flags(fl, sizeof fl, "hi", c))
			fl[0] = '\0';
	} else {
		memcpy(fl, "bye=", 4);
		client_id(c, fl + 4);
	}
	fanout_send_flags(g, f, c, fl);
	buf_unref(f);
}

/* The first member of g but c whose userId or clientId is to. */
static struct conn *
member_named(int g, const char *to, const struct conn *c)
{
	char id[13];

	for (struct conn *m = fanout_first(g); m; m = fanout_next(m, g)) {
		client_id(m, id);
		if (m != c && (strcmp(reg_prof(conn_id(m))->user, to) == 0 ||
		    strcmp(id, to) == 0))
			return m;
	}
	return NULL;
}

/* A telemedicine_user_joined of each member of g (flags ro=...), to the
 * instance of newcomer sid (clientId text cid), for room g there. */
static void
roster(int g, uint64_t sid, const char *cid)
{
	char fl[TM_FLAGS];

	for (struct conn *m = fanout_first(g); m; m = fanout_next(m, g)) {
		struct presence a = { m, "telemedicine_user_joined", g };
		uint32_t f;

		if (!member_flags(fl, sizeof fl, "ro", m) ||
		    (f = ws_jw_frame(presence_gen, &a)) == 0)
			continue;
		bus_direct_member(reg_id_tag(sid), gk_telemed, fanout_name(g),
		    strlen(fanout_name(g)), cid, 0, f, fl);
		buf_unref(f);
	}
}

/* A room message with flags from another instance: to=, hi=, bye=. */
static uint32_t
tm_group(int g, const char *name, size_t len, uint32_t f, const char *flags)
{
	uint64_t room = far_hash(name, len), sid;
	char v[3 * NAME_MAX_ + 1];
	struct conn *dst;

	if (bus_flag(flags, "to", v, sizeof v))
		return g > 0 && (dst = member_named(g, v, NULL)) != NULL &&
		    conn_send(dst, f) == 0;
	if (bus_flag(flags, "bye", v, sizeof v)) {
		if (reg_id_parse((struct str){ v, strlen(v) }, &sid))
			far_del(&far, far_find(&far, room, sid));
		return g > 0 ? fanout_deliver(g, f) : 0;
	}
	if (!bus_flag(flags, "hi", v, sizeof v))
		return g > 0 ? fanout_deliver(g, f) : 0;
	if (!far_member(room, flags, "hi") || g == 0 ||
	    !reg_id_parse((struct str){ v, strlen(v) }, &sid))
		return 0;
	roster(g, sid, v);
	return fanout_deliver(g, f);
}

/* A roster answer (ro=) for a member of room g here: told to the local
 * members when it is news. */
static uint32_t
tm_direct(int g, const char *key, uint64_t from, uint32_t f,
    const char *flags)
{
	(void)key;
	(void)from;
	return g > 0 && far_member(far_room(g), flags, "ro") ?
	    fanout_deliver(g, f) : 0;
}

/* Publish f to the member named to on another instance. */
static void
to_remote(int g, const char *to, uint32_t f)
{
	char fl[4 + 3 * NAME_MAX_ + 1] = "to=";
	size_t at = 3;

	if (bus_escape(fl, sizeof fl, &at, to, strlen(to)))
		bus_group_flags(gk_telemed, fanout_name(g),
		    strlen(fanout_name(g)), f, fl);
}

static void
leave_room(struct conn *c)
{
	int g = fanout_of(c, MS_ROOM);

	if (g == 0)
		return;
	announce(c, g, "telemedicine_user_left");
	fanout_leave(c, MS_ROOM);
}

static void
joined_gen(struct jw *w, void *arg)
{
	const struct presence *a = arg;

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "telemedicine_joined");
	jw_key(w, "roomId");
	jw_str(w, fanout_name(a->g));
	jw_key(w, "participants");
	jw_arr(w);
	for (struct conn *m = fanout_first(a->g); m; m = fanout_next(m, a->g)) {
		const struct reg_profile *p = reg_prof(conn_id(m));
		char id[13];

		if (m == a->c)
			continue;
		client_id(m, id);
		jw_obj(w);
		jw_key(w, "userId");
		jw_str(w, p->user);
		jw_key(w, "userName");
		jw_str(w, p->name);
		jw_key(w, "clientId");
		jw_str(w, id);
		jw_obj_end(w);
	}
	for (uint32_t i = 0; ; ) {
		long k = far_next(&far, far_room(a->g), &i);
		char id[13];

		if (k < 0)
			break;
		reg_id_text(far_cid[k], id);
		jw_obj(w);
		jw_key(w, "userId");
		jw_str(w, far_user[k]);
		jw_key(w, "userName");
		jw_str(w, far_name[k]);
		jw_key(w, "clientId");
		jw_str(w, id);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static void
join(struct conn *c, const struct json_doc *d)
{
	char room[NAME_MAX_ + 1], user[NAME_MAX_ + 1], name[97];
	struct reg_profile *p;
	struct presence a;
	int g, i;

	if (svc_text_of(d, json_find(d, 0, "roomId"), room, sizeof room) != 0)
		return svc_error(c, "invalid_field",
		    "roomId must be a string or an integer");
	if (svc_text_of(d, json_find(d, 0, "userId"), user, sizeof user) != 0) {
		const struct reg_profile *q = reg_prof(conn_id(c));

		if (q->user[0] == '\0')
			return svc_error(c, "invalid_field",
			    "userId must be a string or an integer");
		utf8_copy(user, sizeof user, q->user);
	}
	name[0] = '\0';
	if ((i = json_find(d, 0, "userName")) >= 0 && (!json_is_str(d, i) ||
	    json_id(d, i, name, sizeof name) != 0))
		return svc_error(c, "invalid_field", "userName must be a "
		    "string of up to 96 bytes without control characters");
	leave_room(c);
	if ((g = fanout_join(c, MS_ROOM, gk_telemed, room, strlen(room),
	    0)) < 0)
		return svc_error(c, "unavailable", "no room left on this server");
	p = reg_prof_w(conn_id(c));
	utf8_copy(p->user, sizeof p->user, user);
	if (name[0] != '\0' || p->name[0] == '\0')
		utf8_copy(p->name, sizeof p->name, name);
	utf8_copy(p->room, sizeof p->room, room);
	a.c = c;
	a.g = g;
	a.type = "telemedicine_joined";
	send_gen(c, joined_gen, &a);
	announce(c, g, "telemedicine_user_joined");
}

static void
chat_gen(struct jw *w, void *arg)
{
	const struct relay *a = arg;
	const struct reg_profile *p = reg_prof(conn_id(a->from));
	int i = json_find(a->d, 0, "message");

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "telemedicine_chat_message");
	jw_key(w, "roomId");
	jw_str(w, p->room);
	jw_key(w, "message");
	{
		struct str m = json_raw(a->d, i);

		jw_raw(w, m.p, m.n);
	}
	jw_key(w, "from");
	jw_str(w, p->user);
	jw_key(w, "userName");
	jw_str(w, p->name);
	jw_key(w, "timestamp");
	jw_time(w, now_wall_us);
	jw_obj_end(w);
}

static void
telemedicine(struct conn *c, const struct json_doc *d, const char *type)
{
	int g = fanout_of(c, MS_ROOM), i;
	struct relay a = { c, d, NULL, true };
	char to[NAME_MAX_ + 1];
	uint32_t f;

	if (strcmp(type, "telemedicine_join") == 0)
		return join(c, d);
	if (strcmp(type, "telemedicine_leave") == 0) {
		if (g == 0)
			return svc_error(c, "not_in_room", "not in a room");
		return leave_room(c);
	}
	if (strcmp(type, "telemedicine_offer") != 0 &&
	    strcmp(type, "telemedicine_answer") != 0 &&
	    strcmp(type, "telemedicine_ice_candidate") != 0 &&
	    strcmp(type, "telemedicine_chat_message") != 0)
		return svc_error(c, "unknown_type", "unknown telemedicine type");
	if (g == 0)
		return svc_error(c, "not_in_room",
		    "send telemedicine_join first");
	if (strcmp(type, "telemedicine_chat_message") == 0) {
		i = json_find(d, 0, "message");
		if (i < 0 || !json_is_str(d, i))
			return svc_error(c, "invalid_field",
			    "message must be a string");
		if ((f = ws_jw_frame(chat_gen, &a)) == 0)
			return svc_error(c, "too_large", "message too large");
		/* stored-style: everyone, sender too */
		fanout_send(g, f, NULL);
		buf_unref(f);
		return;
	}
	if ((f = ws_jw_frame(relay_gen, &a)) == 0)
		return svc_error(c, "too_large", "message too large");
	i = json_find(d, 0, "to");
	if (i >= 0) {
		struct conn *dst;

		if (svc_text_of(d, i, to, sizeof to) != 0) {
			buf_unref(f);
			return svc_error(c, "invalid_field",
			    "to must be a string or an integer");
		}
		if ((dst = member_named(g, to, c)) != NULL)
			conn_send(dst, f);
		else if (!bus_alone())
			to_remote(g, to, f);
		else
			svc_error(c, "unknown_peer", "no such user in the room");
	} else {
		fanout_send(g, f, c);
	}
	buf_unref(f);
}

/* --- the socket ---------------------------------------------------------- */

/* A config-declared service: the message, with the server's from
 * fields, to the others of its scope. */
static void
declared(struct conn *c, const struct json_doc *d,
    const struct cfg_service *sv)
{
	struct relay a = { c, d, NULL, sv->scope == SVC_SCOPE_ROOM };
	uint32_t f;
	int g = 0;

	if (sv->disabled) {
		char m[64];

		snprintf(m, sizeof m, "%s is disabled", sv->name);
		return svc_error(c, "service_disabled", m);
	}
	if (sv->scope == SVC_SCOPE_PRACTICE &&
	    (g = fanout_of(c, MS_PRACTICE)) == 0)
		return svc_error(c, "not_subscribed", "no practice: send "
		    "{\"type\":\"subscribe\",\"practiceId\":…} first");
	if (sv->scope == SVC_SCOPE_ROOM && (g = fanout_of(c, MS_ROOM)) == 0)
		return svc_error(c, "not_in_room",
		    "send telemedicine_join first");
	if ((f = ws_jw_frame(relay_gen, &a)) == 0)
		return svc_error(c, "too_large", "message too large");
	if (g != 0) {
		fanout_send(g, f, c);
	} else {		/* scope all: every other /ws socket */
		fanout_send_type(reg_type_of(UNIFIED_TYPE), f, c);
	}
	buf_unref(f);
}

static void
message_unified(struct conn *c, int op, uint8_t *p, size_t n)
{
	const struct cfg_service *sv;
	const struct json_doc *d;
	char type[48];

	(void)op;
	if ((d = svc_json_msg(c, p, n, type, sizeof type)) == NULL)
		return;
	if (strcmp(type, "subscribe") == 0)
		return subscribe(c, d);
	if ((sv = config_service(type)) != NULL)
		return declared(c, d, sv);
	if (strncmp(type, "whiteboard_", 11) == 0)
		return enabled[0] ? whiteboard(c, d, type) :
		    svc_error(c, "service_disabled", "whiteboard is disabled");
	if (strncmp(type, "telemedicine_", 13) == 0)
		return enabled[1] ? telemedicine(c, d, type) :
		    svc_error(c, "service_disabled",
		    "telemedicine is disabled");
	svc_error(c, "unknown_type", "no service handles this type");
}

static void
close_unified(struct conn *c)
{
	leave_room(c);
	fanout_leave(c, MS_PRACTICE);
}

static const struct ws_ops unified_ops = {
	.type = UNIFIED_TYPE, .listing = "/ws",
	.open = open_unified, .message = message_unified,
	.close = close_unified, .text_only = 1,
};

static const struct route unified_routes[] = {
	{
		.pattern = "/ws",
		.ws = &unified_ops,
		.summary = "Unified endpoint: whiteboard, telemedicine and "
		    "config-declared services",
		.params = "token,practice_id",
		.msg_in = "subscribe,whiteboard_update,telemedicine_join,"
		    "telemedicine_leave,telemedicine_offer,telemedicine_answer,"
		    "telemedicine_ice_candidate,telemedicine_chat_message,ping",
		.msg_out = "connected,subscribed,whiteboard_update,telemedicine_joined,"
		    "telemedicine_user_joined,telemedicine_user_left,"
		    "telemedicine_offer,telemedicine_answer,telemedicine_ice_candidate,"
		    "telemedicine_chat_message,pong,error",
	},
	{ .pattern = NULL }
};

static void
unified_init(void)
{
	cfg_services_names(svc_names, scope_names);
	bus_group_hook(gk_telemed, tm_group);
	bus_member_hook(gk_telemed, tm_direct);
	bus_set_tick_hook(far_tick_hook);
}

const struct family unified_family = {
	.name = "unified",
	.routes = unified_routes,
	.kinds = (const struct fanout_kind[]){
		{ "practice", &gk_practice },
		{ "telemedicine", &gk_telemed },
		{ NULL, NULL },
	},
	.types = (const char *const[]){ UNIFIED_TYPE, NULL },
	.keys = (const struct cfg_key[]){
		{ .name = "whiteboard_practice", .type = CFG_T_ENUM,
		    .choices = "token|subscribe|message", .base = &wb_practice },
		{ .name = NULL },
	},
	.init = unified_init,
};

