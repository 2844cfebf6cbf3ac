/*
 * stt.c - the speech-to-text transcript hub (SPEC §2).
 *
 *   /ws/stt/                               one session: segments come back
 *   /ws/stt/room/?role=&name=[&room=]      a consultation room
 *   /ws/stt/sales/                         the shared sales room
 *   /ws/stt/admin/                         admin monitor: everything
 *
 * The gateway does not recognise speech: clients send
 * {"type":"transcript","text":…,"final":bool}; the server stamps it (seq per
 * room, timestamp, from) and fans it out once to the room (the sender
 * included: its copy is the acknowledgement carrying seq) and once, tagged
 * with its source, to the admin monitors.  Joins and leaves are announced.
 */
#include <stdio.h>

#include "svc.h"

static int gk_room;		/* group kind "stt_room" */
static int gk_sales;		/* group kind "stt_sales" */
static int gk_admin;		/* group kind "stt_admin" */

#define MS_ROOM 0
#define ADMIN_ROLES "admin,superadmin"

enum { K_SINGLE, K_ROOM, K_SALES, K_ADMIN };

static const char *const src_type[] = { "stt", "stt_room", "stt_sales",
    "stt_admin" };

static int
admin_group(void)
{
	return fanout_find(gk_admin, "all", 3);
}

static int
kind_of(const struct conn *c)
{
	return (int)c->ud[7];
}

/* {"role":…,"name":…} of a participant. */
static void
write_who(struct jw *w, const struct reg_profile *p)
{
	jw_obj(w);
	jw_key(w, "role");
	jw_str(w, p->role);
	jw_key(w, "name");
	jw_str(w, p->name);
	jw_obj_end(w);
}

static void
write_from(struct jw *w, const struct conn *c)
{
	const struct reg_profile *e = reg_prof(conn_id(c));
	char id[13];

	jw_key(w, "from");
	if (e->role[0] == '\0' && e->name[0] == '\0') {
		reg_id_text(reg[conn_id(c)].id, id);
		jw_str(w, id);
		return;
	}
	write_who(w, e);
}

static void
write_source(struct jw *w, const struct conn *c, int g)
{
	jw_key(w, "source");
	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, src_type[kind_of(c)]);
	jw_key(w, "room");
	if (g > 0)
		jw_str(w, fanout_name(g));
	else
		jw_null(w);
	jw_obj_end(w);
}

struct presence_arg {
	struct conn	*c;
	int		 g;
	const char	*type;
	bool		 source;
};

static void
presence_gen(struct jw *w, void *arg)
{
	const struct presence_arg *a = arg;
	const struct reg_profile *p = reg_prof(conn_id(a->c));

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, a->type);
	jw_key(w, "role");
	jw_str(w, p->role);
	jw_key(w, "name");
	jw_str(w, p->name);
	jw_key(w, "room");
	jw_str(w, a->g ? fanout_name(a->g) : "");
	jw_key(w, "participants");
	jw_int(w, a->g ? fanout_size(a->g) : 1);
	jw_key(w, "timestamp");
	jw_time(w, now_wall_us);
	if (a->source)
		write_source(w, a->c, a->g);
	jw_obj_end(w);
}

/* Presence change: to the room (others) and to the admins. */
static void
presence(struct conn *c, const char *type)
{
	int g = fanout_of(c, MS_ROOM), adm = admin_group();

	for (int pass = 0; pass < 2; pass++) {
		struct presence_arg a = { c, g, type, pass == 1 };
		uint32_t f;

		if ((pass == 0 && g == 0) || (pass == 1 && adm == 0 &&
		    !bus_on()))
			continue;
		if ((f = ws_jw_frame(presence_gen, &a)) == 0)
			return;
		if (pass == 0)
			fanout_send(g, f, c);
		else
			fanout_send_named(gk_admin, "all", 3, f, c);
		buf_unref(f);
	}
}

struct welcome_arg {
	int	g;
};

static void
welcome_gen(struct jw *w, void *arg)
{
	int g = ((struct welcome_arg *)arg)->g, k = 0;

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "welcome");
	jw_key(w, "room");
	jw_str(w, fanout_name(g));
	jw_key(w, "count");
	jw_int(w, fanout_size(g));
	jw_key(w, "participants");
	jw_arr(w);
	/* presence list: the newest 16 members (a room may be huge; the
	 * count is exact) */
	for (struct conn *m = fanout_first(g); m && k < 16; m = fanout_next(m,
	    g), k++)
		write_who(w, reg_prof(conn_id(m)));
	jw_arr_end(w);
	jw_obj_end(w);
}

static void
welcome(struct conn *c, int g)
{
	struct welcome_arg a = { g };
	uint32_t f = ws_jw_frame(welcome_gen, &a);

	if (f != 0)
		conn_send_owned(c, f);
}

static bool
room_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static void
join(struct conn *c, int kind, const char *room)
{
	int g = fanout_join(c, MS_ROOM, kind, room, strlen(room), 0);

	if (g < 0) {
		conn_close_ws(c, 1013, "no room left on this server");
		return;
	}
	utf8_copy(reg_prof_w(conn_id(c))->room,
	    sizeof(struct reg_profile){0}.room,
	    room);
	welcome(c, g);
	presence(c, "participant_joined");
}

/* A name from the query: valid UTF-8 without NUL or control characters
 * (%00 decodes to a NUL that would cut it). */
static bool
name_ok(const char *s, int n)
{
	if (n <= 0 || !utf8_valid((const uint8_t *)s, (size_t)n))
		return false;
	for (int i = 0; i < n; i++)
		if ((uint8_t)s[i] < 0x20 || s[i] == 0x7F)
			return false;
	return true;
}

static void
open_room(struct conn *c, const struct http_req *r)
{
	struct reg_profile *e = reg_prof_w(conn_id(c));
	char role[64], name[97], room[80];
	int rl = http_query_get(r->query, "role", role, sizeof role);
	int nl = http_query_get(r->query, "name", name, sizeof name);
	int ml = http_query_get(r->query, "room", room, sizeof room);

	c->ud[7] = K_ROOM;
	if (rl <= 0 || nl <= 0) {
		conn_close_ws(c, 1008, "role and name are required");
		return;
	}
	if (!name_ok(role, rl) || !name_ok(name, nl)) {
		conn_close_ws(c, 1008, !name_ok(role, rl) ? "role must be "
		    "UTF-8 without control characters" : "name must be "
		    "UTF-8 without control characters");
		return;
	}
	if (ml < 0)
		snprintf(room, sizeof room, "default");
	if (!room_name_ok(room)) {
		conn_close_ws(c, 1008, "invalid room name");
		return;
	}
	utf8_copy(e->role, sizeof e->role, role);
	utf8_copy(e->name, sizeof e->name, name);
	join(c, gk_room, room);
}

static void
open_sales(struct conn *c, const struct http_req *r)
{
	struct reg_profile *e = reg_prof_w(conn_id(c));
	char v[97];
	int n;

	c->ud[7] = K_SALES;
	if ((n = http_query_get(r->query, "role", v, sizeof v)) > 0 &&
	    name_ok(v, n))
		utf8_copy(e->role, sizeof e->role, v);
	if ((n = http_query_get(r->query, "name", v, sizeof v)) > 0 &&
	    name_ok(v, n))
		utf8_copy(e->name, sizeof e->name, v);
	join(c, gk_sales, "sales");
}

static void
open_single(struct conn *c, const struct http_req *r)
{
	(void)r;
	c->ud[7] = K_SINGLE;
	c->ud[6] = 0;		/* this session's seq */
	presence(c, "participant_joined");
}

static void
open_admin(struct conn *c, const struct http_req *r)
{
	(void)r;
	c->ud[7] = K_ADMIN;
	if (fanout_join(c, MS_ROOM, gk_admin, "all", 3, 0) < 0)
		conn_close_ws(c, 1013, "no room left on this server");
}

struct stamp_arg {
	struct conn	*c;
	int		 g;
	uint32_t	 seq;
	const char	*text;
	size_t		 tl;
	bool		 fin, source;
};

static void
stamp_gen(struct jw *w, void *arg)
{
	const struct stamp_arg *a = arg;

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "transcript");
	jw_key(w, "text");
	jw_strn(w, a->text, a->tl);
	jw_key(w, "final");
	jw_bool(w, a->fin);
	jw_key(w, "seq");
	jw_int(w, a->seq);
	jw_key(w, "timestamp");
	jw_time(w, now_wall_us);
	write_from(w, a->c);
	if (a->source)
		write_source(w, a->c, a->g);
	jw_obj_end(w);
}

/* Stamp a segment; source adds the admin tag. */
static uint32_t
stamp(struct conn *c, int g, uint32_t seq, const char *text, size_t tl,
    bool fin, bool source)
{
	struct stamp_arg a = { c, g, seq, text, tl, fin, source };

	return ws_jw_frame(stamp_gen, &a);
}

static void
transcript(struct conn *c, const struct json_doc *d)
{
	static char text[WARD_MAX_MESSAGE];
	int g = fanout_of(c, MS_ROOM), adm = admin_group();
	int t = json_find(d, 0, "text"), fi = json_find(d, 0, "final");
	bool fin = false;
	uint32_t seq, f;

	if (t < 0)
		return svc_error(c, "missing_field", "text is required");
	if (json_str(d, t, text, sizeof text) != 0)
		return svc_error(c, "invalid_field", "text must be a string");
	if (fi >= 0 && json_bool(d, fi, &fin) != 0)
		return svc_error(c, "invalid_field", "final must be a boolean");
	seq = g ? fanout_next_seq(g) : ++c->ud[6];
	if ((f = stamp(c, g, seq, text, strlen(text), fin, false)) == 0)
		return svc_error(c, "too_large", "segment too large");
	if (g)
		fanout_send(g, f, NULL);
	else
		conn_send(c, f);
	buf_unref(f);
	if ((adm || bus_on()) &&
	    (f = stamp(c, g, seq, text, strlen(text), fin, true))) {
		fanout_send_named(gk_admin, "all", 3, f, NULL);
		buf_unref(f);
	}
}

static void
stt_message(struct conn *c, int op, uint8_t *p, size_t n)
{
	const struct json_doc *d;
	char type[64];

	(void)op;
	if ((d = svc_json_msg(c, p, n, type, sizeof type)) == NULL)
		return;
	if (strcmp(type, "transcript") == 0 && kind_of(c) != K_ADMIN)
		transcript(c, d);
	else
		svc_error(c, "unknown_type", "unknown message type");
}

static void
stt_close(struct conn *c)
{
	if (kind_of(c) != K_ADMIN)
		presence(c, "participant_left");
	fanout_leave(c, MS_ROOM);
}

#define STT_OPS(name, t, l, o) static const struct ws_ops name = { \
	.type = t, .listing = l, .open = o, .message = stt_message, \
	.close = stt_close, .text_only = 1 }

STT_OPS(single_ops, "stt", "/ws/stt/", open_single);
STT_OPS(room_ops, "stt_room", "/ws/stt/room/?role=<role>&name=<name>",
    open_room);
STT_OPS(sales_ops, "stt_sales", "/ws/stt/sales/", open_sales);
STT_OPS(admin_ops, "stt_admin", "/ws/stt/admin/", open_admin);

static const struct route stt_routes[] = {
	{
		.pattern = "/ws/stt/",
		.ws = &single_ops,
		.summary = "Speech-to-text: a single session",
		.params = "token",
		.msg_in = "transcript,ping",
		.msg_out = "transcript,pong,error",
	},
	{
		.pattern = "/ws/stt/room/",
		.ws = &room_ops,
		.summary = "Speech-to-text consultation room",
		.params = "stt_role,stt_name,stt_room,token",
		.msg_in = "transcript,ping",
		.msg_out = "transcript,participant_joined,"
		    "participant_left,pong,error",
	},
	{
		.pattern = "/ws/stt/sales/",
		.ws = &sales_ops,
		.summary = "Speech-to-text: the shared sales room",
		.params = "opt_role,opt_name,token",
		.msg_in = "transcript,ping",
		.msg_out = "transcript,participant_joined,participant_left,pong,error",
	},
	{
		.pattern = "/ws/stt/admin/",
		.ws = &admin_ops,
		.roles = ADMIN_ROLES,
		.summary = "Speech-to-text monitor: every segment and "
		    "join/leave, with source",
		.params = "token",
		.msg_in = "ping",
		.msg_out = "transcript,participant_joined,participant_left,pong",
	},
	{ .pattern = NULL }
};

const struct family stt_family = {
	.name = "stt",
	.routes = stt_routes,
	.kinds = (const struct fanout_kind[]){
		{ "stt_room", &gk_room },
		{ "stt_sales", &gk_sales },
		{ "stt_admin", &gk_admin },
		{ NULL, NULL },
	},
	.types = (const char *const[]){ "stt", "stt_room", "stt_sales",
	    "stt_admin", NULL },
};

