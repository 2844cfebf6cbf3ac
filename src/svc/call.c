/*
 * call.c - WebRTC signaling rooms, /ws/call/<room>/ (SPEC §2).
 *
 * A room is a group of at most WARD_ROOM_PEERS connections.  Each peer gets
 * a random 8-hex peer id (ud[6]).  Any JSON object a peer sends is relayed
 * with "from" set by the server (a "from" the client wrote is dropped, so
 * it cannot be forged): to the peer named in "to", or to every other peer.
 *
 * With Redis the room spans instances (the bus).  A peer id is then the
 * instance's tag (bus_tag(), 16 bits) and 16 random bits, unique in the
 * room here; a "to" naming a peer of another tag is a direct send to
 * that instance (bus_direct_member), which finds the peer (call_direct)
 * or answers the sender unknown_peer through the bus.
 *
 * Each instance remembers the peers of every room on other instances
 * (a far.c table, whether or not the room has a peer here): learned from their
 * peer_joined (bus flag hi=<peer>) and from roster answers (ro=<peer>),
 * forgotten at their peer_left (bye=<peer>), when their instance drops
 * out of the counts, and all at once while Redis is down.  An instance
 * that sees a remote peer_joined answers the newcomer's instance with a
 * peer_joined of each of its own peers of the room (ro=); there a peer
 * not known yet is remembered and told to the local peers, once (one it
 * knew was in their welcome or told already).  The welcome lists the
 * local and the remembered peers, and room full counts both.
 */
#include <stdio.h>
#include <stdlib.h>

#include "svc.h"

static int gk_call;		/* group kind "call" */

#define MS_ROOM 0

static void
peer_text(const struct conn *c, char out[9])
{
	snprintf(out, 9, "%08x", (unsigned)c->ud[6]);
}

/* Peers on other instances: (hash of the room name, peer id). */
static uint64_t far_rooms[WARD_CALL_FAR], far_ids[WARD_CALL_FAR];

static uint16_t
pid_tag(uint64_t pid)
{
	return (uint16_t)(pid >> 16);
}

static struct far far = { far_rooms, far_ids, WARD_CALL_FAR, 0, pid_tag,
    NULL };

static void
far_tick_hook(uint64_t now)
{
	(void)now;
	far_tick(&far);
}

static uint32_t
peer_frame(const char *type, uint32_t pid)
{
	char buf[96], id[9];
	struct jw w;

	snprintf(id, sizeof id, "%08x", (unsigned)pid);
	jw_init(&w, buf, sizeof buf);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, type);
	jw_key(&w, "peer_id");
	jw_str(&w, id);
	jw_obj_end(&w);
	return ws_frame(WS_OP_TEXT, buf, w.len);
}

static void
announce(struct conn *c, int g, const char *type)
{
	char fl[16];
	uint32_t f = peer_frame(type, c->ud[6]);

	if (f == 0)
		return;
	snprintf(fl, sizeof fl, "%s=%08x", strcmp(type, "peer_left") == 0 ?
	    "bye" : "hi", (unsigned)c->ud[6]);
	fanout_send_flags(g, f, c, fl);
	buf_unref(f);
}

static void
welcome(struct conn *c, int g)
{
	char pid[9];
	struct jw w;
	uint32_t f;

	if (!ws_jw_begin(&w, 96 + 2 * 12 * WARD_ROOM_PEERS + 64 * 2))
		return;
	peer_text(c, pid);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "welcome");
	jw_key(&w, "peer_id");
	jw_str(&w, pid);
	jw_key(&w, "room");
	jw_str(&w, fanout_name(g));
	jw_key(&w, "peers");
	jw_arr(&w);
	for (struct conn *m = fanout_first(g); m != NULL; m = fanout_next(m,
	    g)) {
		if (m == c)
			continue;
		peer_text(m, pid);
		jw_str(&w, pid);
	}
	for (uint32_t i = 0, k = 0; k < WARD_ROOM_PEERS; k++) {
		long x = far_next(&far, far_room(g), &i);

		if (x < 0)
			break;
		snprintf(pid, sizeof pid, "%08x", (unsigned)far_ids[x]);
		jw_str(&w, pid);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	if ((f = ws_jw_end(&w)) != 0)
		conn_send_owned(c, f);
}

/* Is pid already a peer of g (here)? */
static bool
find_peer(int g, uint32_t pid)
{
	for (struct conn *m = fanout_first(g); m != NULL; m = fanout_next(m,
	    g))
		if (m->ud[6] == pid)
			return true;
	return false;
}

static void
call_open(struct conn *c, const struct http_req *r)
{
	struct reg_profile *e = reg_prof_w(conn_id(c));
	int g = fanout_find(gk_call, r->param[0].p, r->param[0].n);
	uint32_t pid = 0;

	/* room full counts the peers known on other instances too */
	if (fanout_size(g) + far_count(&far, far_hash(r->param[0].p,
	    r->param[0].n)) >= WARD_ROOM_PEERS)
		g = WARD_ETOOBIG;
	else
		g = fanout_join(c, MS_ROOM, gk_call, r->param[0].p,
		    r->param[0].n, WARD_ROOM_PEERS);
	if (g == WARD_ETOOBIG) {
		conn_close_ws(c, 1013, "room full");
		return;
	}
	if (g < 0) {
		conn_close_ws(c, 1013, "no room left on this server");
		return;
	}
	while (pid == 0 || (bus_tag() != 0 && find_peer(g, pid))) {
		port_random(&pid, sizeof pid);
		if (bus_tag() != 0)
			pid = (uint32_t)bus_tag() << 16 | (pid & 0xFFFF);
	}
	c->ud[6] = pid;
	snprintf(e->room, sizeof e->room, "%.*s", (int)MIN(r->param[0].n,
	    sizeof e->room - 1), r->param[0].p);
	welcome(c, g);
	announce(c, g, "peer_joined");
}

static struct conn *
peer_of(int g, const char *pid)
{
	char t[9];

	for (struct conn *m = fanout_first(g); m != NULL; m = fanout_next(m,
	    g)) {
		peer_text(m, t);
		if (strcmp(t, pid) == 0)
			return m;
	}
	return NULL;
}

/* Could pid be a peer on another instance (8 hex digits, another tag)? */
static bool
remote_peer(const char *pid)
{
	char *end;
	unsigned long v = strtoul(pid, &end, 16);

	return bus_tag() != 0 && strlen(pid) == 8 && *end == '\0' &&
	    (v >> 16) != 0 && (v >> 16) != bus_tag();
}

static void
to_remote(struct conn *c, int g, const char *to, uint32_t f)
{
	int rc = bus_direct_member((uint16_t)(strtoul(to, NULL, 16) >> 16),
	    gk_call, fanout_name(g), strlen(fanout_name(g)), to,
	    reg[conn_id(c)].id, f, NULL);

	if (rc == 0)
		svc_error(c, "unknown_peer", "no such peer in this room");
	else if (rc < 0)
		svc_error(c, "unknown_peer", "the peer is on another "
		    "instance and Redis is down");
}

/* A direct send from another instance to peer key of room g (0: no such
 * room here): to it, or unknown_peer to the sender (from). */
static uint32_t
call_direct(int g, const char *key, uint64_t from, uint32_t f,
    const char *flags)
{
	static const char e[] = "{\"type\":\"error\",\"error\":\"unknown_peer\","
	    "\"detail\":\"no such peer in this room\"}";
	struct conn *dst = g > 0 ? peer_of(g, key) : NULL;
	uint32_t ef, slot;
	char ro[16];

	if (bus_flag(flags, "ro", ro, sizeof ro))	/* a roster answer */
		return g > 0 && far_add(&far, far_room(g), strtoul(ro, NULL,
		    16), &slot) ? fanout_deliver(g, f) : 0;

	if (dst != NULL)
		return conn_send(dst, f) == 0;
	if (from != 0 && (ef = ws_frame(WS_OP_TEXT, e, sizeof e - 1)) != 0) {
		bus_send_socket(from, ef);
		buf_unref(ef);
	}
	return 0;
}

/* The message again, "from" replaced by the sender's peer id. */
static uint32_t
relay_frame(struct conn *c, const struct json_doc *d, size_t n)
{
	char pid[9];
	struct jw w;
	int i = 1;

	if (!ws_jw_begin(&w, n + 32))
		return 0;
	jw_obj(&w);
	for (int k = 0; k < d->tok[0].size; k++) {
		int v = i + 1;

		/* compare the decoded key: "fr\u006fm" is "from" too */
		if (!json_key_eq(d, i, "from"))
			jw_member_raw(&w, json_raw(d, i), json_raw(d, v));
		i = json_skip(d, v);
	}
	peer_text(c, pid);
	jw_key(&w, "from");
	jw_str(&w, pid);
	jw_obj_end(&w);
	return ws_jw_end(&w);
}

static void
call_message(struct conn *c, int op, uint8_t *p, size_t n)
{
	const struct json_doc *d;
	char type[64], to[16];
	int g = fanout_of(c, MS_ROOM), t;
	struct conn *dst = NULL;
	uint32_t f;

	(void)op;
	if ((d = svc_json_msg(c, p, n, type, sizeof type)) == NULL || g == 0)
		return;
	if ((t = json_find(d, 0, "to")) >= 0 && !json_is_null(d, t)) {
		if (json_id(d, t, to, sizeof to) == WARD_EINVAL &&
		    json_is_str(d, t)) {
			svc_error(c, "invalid_field", "to must be a peer id "
			    "without control characters");
			return;
		}
		if (json_id(d, t, to, sizeof to) != 0 ||
		    ((dst = peer_of(g, to)) == NULL && !remote_peer(to)) ||
		    dst == c) {
			svc_error(c, "unknown_peer", "no such peer in this room");
			return;
		}
	}
	if ((f = relay_frame(c, d, n)) == 0) {
		svc_error(c, "too_large", "message too large to relay");
		return;
	}
	if (dst != NULL)
		conn_send(dst, f);
	else if (t >= 0 && !json_is_null(d, t))
		to_remote(c, g, to, f);
	else
		fanout_send(g, f, c);
	buf_unref(f);
}

static void
call_close(struct conn *c)
{
	int g = fanout_of(c, MS_ROOM);

	if (g == 0)
		return;
	announce(c, g, "peer_left");
	fanout_leave(c, MS_ROOM);
}

static const struct ws_ops call_ops = {
	.type = "call",
	.listing = "/ws/call/<room>/",
	.open = call_open,
	.message = call_message,
	.close = call_close,
	.text_only = 1,
};

static const struct route call_routes[] = {
	{
		.pattern = "/ws/call/*/",
		.ws = &call_ops,
		.doc_path = "/ws/call/{room}/",
		.summary = "Call room: WebRTC signaling "
		    "relay",
		.params = "token",
		.msg_in = "offer,answer,ice_candidate,chat,ping",
		.msg_out = "welcome,peer_joined,peer_left,offer,answer,ice_candidate,chat,"
		    "pong,error",
	},
	{ .pattern = NULL }
};

/* Answer a newcomer on another instance (peer id pid) with a
 * peer_joined of each local peer of room g (flag ro=), to its instance. */
static void
roster(int g, uint32_t pid)
{
	char key[9], fl[16];

	snprintf(key, sizeof key, "%08x", (unsigned)pid);
	for (struct conn *m = fanout_first(g); m != NULL; m = fanout_next(m,
	    g)) {
		uint32_t f = peer_frame("peer_joined", m->ud[6]);

		if (f == 0)
			continue;
		snprintf(fl, sizeof fl, "ro=%08x", (unsigned)m->ud[6]);
		bus_direct_member((uint16_t)(pid >> 16), gk_call,
		    fanout_name(g), strlen(fanout_name(g)), key, 0, f, fl);
		buf_unref(f);
	}
}

/* A peer_joined (hi=) or peer_left (bye=) from another instance, for
 * room name (g: the room here, 0: no peer here). */
static uint32_t
call_group(int g, const char *name, size_t n, uint32_t f, const char *flags)
{
	uint64_t room = far_hash(name, n);
	char v[16];
	uint32_t pid, slot;

	if (bus_flag(flags, "bye", v, sizeof v)) {
		far_del(&far, far_find(&far, room, strtoul(v, NULL, 16)));
		return g > 0 ? fanout_deliver(g, f) : 0;
	}
	if (!bus_flag(flags, "hi", v, sizeof v))
		return g > 0 ? fanout_deliver(g, f) : 0;
	pid = (uint32_t)strtoul(v, NULL, 16);
	if (!far_add(&far, room, pid, &slot) || g == 0)
		return 0;
	roster(g, pid);
	return fanout_deliver(g, f);
}

static void
call_init(void)
{
	bus_member_hook(gk_call, call_direct);
	bus_group_hook(gk_call, call_group);
	bus_set_tick_hook(far_tick_hook);
}

const struct family call_family = {
	.name = "call",
	.routes = call_routes,
	.init = call_init,
	.kinds = (const struct fanout_kind[]){
		{ "call", &gk_call },
		{ NULL, NULL },
	},
	.types = (const char *const[]){ "call", NULL },
};

