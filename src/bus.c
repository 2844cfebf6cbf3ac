/*
 * bus.c - the seam between fanout and Redis: several ward instances as one.
 *
 * Every fan-out (a group, a socket type, a user's sockets) is delivered
 * locally first, then published once to Redis on one channel; every
 * instance subscribes to one pattern, drops its own publications (its
 * instance id is in the message), encodes the payload into one frame and
 * queues it by reference on its local members.  Channels and the wire
 * format are in docs/redis.md:
 *
 *	<prefix>:g:<kind>:<name>	a fanout group (kind as declared)
 *	<prefix>:t:<type>		every socket of a registry type
 *	<prefix>:u:<user>		every socket of a user
 *	<prefix>:i:<tag>:s:<socket id>	one socket, on the instance <tag>
 *	<prefix>:i:<tag>:m:<kind>:<name>:<key>	one member of a group there
 *	payload: "w1 <instance> <seq> <op>[ <flags>]\n" then the frame's
 *	payload; <flags> ("a=v,b=v") are for the kind's hooks (a group
 *	message with flags goes to bus_group_hook's function, a direct
 *	member send to bus_member_hook's), "re=<socket id>" the sender
 *
 * <prefix> is redis_prefix (default "ward"); every key and channel name
 * is built by bus_name().  An instance subscribes to "<prefix>:[^i]*"
 * (the fan-outs) and "<prefix>:i:<its tag>:*" (its direct sends), so a
 * direct send reaches exactly the instance that holds the socket: the
 * <tag> (16 bits of the instance id) is the top of every socket id it
 * gives out (registry.c) and of every call peer id.
 *
 * Names are escaped: every byte outside [A-Za-z0-9_.-] as %XX.  Nothing
 * here allocates; one static scratch holds the message being published.
 * Redis down: local delivery is untouched, the publication is counted as
 * not replicated and not replayed later.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "redis.h"

#define BUS_FLAGS_MAX	640	/* "re=<id>,ro=<id>,u=<64 B>,n=<96 B>" escaped: 521 */
#define BUS_HDR_MAX	(64 + BUS_FLAGS_MAX)
#define BUS_CHAN_MAX	(WARD_REDIS_NAME_MAX + 3 * 64 * 2)

static struct {
	bool		 on;
	char		 inst[17];
	uint16_t	 tag;		/* the instance id's first 4 hex */
	char		 counts[48];	/* "<prefix>:counts" */
	uint64_t	 seq;
	struct bus_stats st;
	char		 chan[BUS_CHAN_MAX + 1];
	uint8_t		 msg[WARD_REDIS_MAX_BULK];
} bus;

/*
 * Every Redis key and channel name ward uses is built here:
 * "<redis_prefix>:" then fmt.  Its length, or -1 when it does not fit.
 */
int
bus_name(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int a, b;

	a = snprintf(out, cap, "%s:", cfg.redis_prefix);
	if (a < 0 || (size_t)a >= cap)
		return -1;
	va_start(ap, fmt);
	b = vsnprintf(out + a, cap - (size_t)a, fmt, ap);
	va_end(ap);
	if (b < 0 || (size_t)a + (size_t)b >= cap)
		return -1;
	return a + b;
}

static bool
plain(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* Append s escaped at *at; false when it does not fit. */
bool
bus_escape(char *out, size_t cap, size_t *at, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if (*at + 4 > cap)
			return false;
		if (plain(c)) {
			out[(*at)++] = (char)c;
			continue;
		}
		out[(*at)++] = '%';
		out[(*at)++] = hex[c >> 4];
		out[(*at)++] = hex[c & 15];
	}
	out[*at] = '\0';
	return true;
}

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescape s[0..n) into out (cap); the length or -1. */
long
bus_unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (uint8_t)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n || (h = unhex(s[i + 1])) < 0 ||
			    (l = unhex(s[i + 2])) < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

/* The opcode and payload of a server frame (unmasked, one frame). */
static bool
frame_payload(uint32_t f, int *op, const uint8_t **p, size_t *n)
{
	const uint8_t *b = buf_data(f);
	size_t len = buf_len(f), h = 2, pl;

	if (len < 2 || (b[1] & 0x80))
		return false;
	pl = b[1] & 0x7f;
	if (pl == 126) {
		if (len < 4)
			return false;
		pl = (size_t)b[2] << 8 | b[3];
		h = 4;
	} else if (pl == 127) {
		if (len < 10)
			return false;
		pl = 0;
		for (int i = 2; i < 10; i++)
			pl = pl << 8 | b[i];
		h = 10;
	}
	if (h + pl != len)
		return false;
	*op = b[0] & 0x0f;
	*p = b + h;
	*n = pl;
	return true;
}

/* Build the message of frame f into bus.msg with this seq and flags ("" or
 * " <flags>"): its length, 0. */
static size_t
encode(uint32_t f, uint64_t seq, const char *flags)
{
	const uint8_t *p;
	size_t n;
	int op, h;

	if (!frame_payload(f, &op, &p, &n) ||
	    (op != WS_OP_TEXT && op != WS_OP_BINARY)) {
		bus.st.malformed++;
		return 0;
	}
	h = snprintf((char *)bus.msg, BUS_HDR_MAX, "w1 %s %llu %c%s\n", bus.inst,
	    (unsigned long long)seq, op == WS_OP_TEXT ? 't' : 'b', flags);
	if (h <= 0 || h >= BUS_HDR_MAX || n > sizeof bus.msg - (size_t)h) {
		bus.st.not_replicated++;
		return 0;
	}
	memcpy(bus.msg + h, p, n);
	return (size_t)h + n;
}

/* PUBLISH frame f on bus.chan (already built): 0, or not replicated. */
static int
send_msg(uint32_t f, uint64_t seq, const char *flags, redis_reply_fn cb)
{
	size_t n;
	struct str argv[3];

	if ((n = encode(f, seq, flags)) == 0)
		return WARD_EINVAL;
	argv[0] = (struct str){ "PUBLISH", 7 };
	argv[1] = (struct str){ bus.chan, strlen(bus.chan) };
	argv[2] = (struct str){ (const char *)bus.msg, n };
	if (redis_cmd(cb, NULL, 3, argv) != 0) {
		bus.st.not_replicated++;
		return WARD_EAGAIN;
	}
	return 0;
}

/* Publish frame f on bus.chan with the next seq ("" or " <flags>"). */
static void
publish(uint32_t f, const char *flags)
{
	if (!bus.on || send_msg(f, bus.seq + 1, flags, NULL) != 0)
		return;
	bus.seq++;
	bus.st.published++;
}

/* bus.chan = the group's channel; false when it does not fit. */
static bool
group_chan(int kind, const char *name, size_t n)
{
	int a = bus_name(bus.chan, sizeof bus.chan, "g:");
	size_t at = (size_t)a;

	if (a < 0 || !bus_escape(bus.chan, sizeof bus.chan, &at,
	    fanout_kind_name(kind), strlen(fanout_kind_name(kind))) ||
	    at + 2 > sizeof bus.chan)
		return false;
	bus.chan[at++] = ':';
	return bus_escape(bus.chan, sizeof bus.chan, &at, name, n);
}

void
bus_group_flags(int kind, const char *name, size_t n, uint32_t f,
    const char *flags)
{
	char fl[BUS_FLAGS_MAX + 2];
	int k;

	if (!bus.on)
		return;
	k = snprintf(fl, sizeof fl, "%s%s", flags[0] != '\0' ? " " : "",
	    flags);
	if (!group_chan(kind, name, n) || k < 0 || (size_t)k >= sizeof fl) {
		bus.st.not_replicated++;
		return;
	}
	publish(f, fl);
}

void
bus_group(int kind, const char *name, size_t n, uint32_t f)
{
	bus_group_flags(kind, name, n, f, "");
}

/*
 * The value of flag name in flags ("a=v,b=v"), unescaped into out (cap):
 * true when present and it fits.
 */
bool
bus_flag(const char *flags, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *p = flags; p != NULL && *p != '\0';) {
		const char *e = strchr(p, ',');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		if (len > nl && memcmp(p, name, nl) == 0 && p[nl] == '=')
			return bus_unescape(p + nl + 1, len - nl - 1, out,
			    cap) >= 0;
		p = e != NULL ? e + 1 : NULL;
	}
	return false;
}

/*
 * The channel and message a group publication of frame f would use,
 * without publishing it (for a caller that publishes it conditionally,
 * e.g. from a script): seq 0, "unsequenced".  Valid until the next bus
 * call.  0, or WARD_EINVAL (off, name too long, frame not replicable).
 */
int
bus_group_msg(int kind, const char *name, size_t n, uint32_t f,
    struct str *chan, struct str *msg)
{
	size_t len;

	if (!bus.on || !group_chan(kind, name, n) ||
	    (len = encode(f, 0, "")) == 0)
		return WARD_EINVAL;
	*chan = (struct str){ bus.chan, strlen(bus.chan) };
	*msg = (struct str){ (const char *)bus.msg, len };
	return 0;
}

/* Functions the application runs at every bus tick (BUS_HOOKS; the
 * same function added twice runs once). */
#define BUS_HOOKS	8
static void (*tick_hook[BUS_HOOKS])(uint64_t now);

void
bus_set_tick_hook(void (*fn)(uint64_t now))
{
	for (int i = 0; i < BUS_HOOKS; i++)
		if (tick_hook[i] == NULL || tick_hook[i] == fn) {
			tick_hook[i] = fn;
			return;
		}
}

/* The application's messages: channel <prefix>:a:<topic> (one hook). */
static void (*app_hook)(const struct str *topic, const struct str *payload);

void
bus_set_app_hook(void (*fn)(const struct str *topic,
    const struct str *payload))
{
	app_hook = fn;
}

void
bus_type(int type, uint32_t f)
{
	int a;
	size_t at;
	const char *t = reg_type_name(type);

	if (!bus.on)
		return;
	at = (size_t)(a = bus_name(bus.chan, sizeof bus.chan, "t:"));
	if (a < 0 || !bus_escape(bus.chan, sizeof bus.chan, &at, t, strlen(t))) {
		bus.st.not_replicated++;
		return;
	}
	publish(f, "");
}

void
bus_user(const char *user, uint32_t f)
{
	int a;
	size_t at;

	if (!bus.on)
		return;
	at = (size_t)(a = bus_name(bus.chan, sizeof bus.chan, "u:"));
	if (a < 0 ||
	    !bus_escape(bus.chan, sizeof bus.chan, &at, user, strlen(user))) {
		bus.st.not_replicated++;
		return;
	}
	publish(f, "");
}

/*
 * Sequence gaps per publisher: the last <seq> of the last BUS_PUBS
 * publishers seen (round robin).  A gap (or a restart of an outside
 * publisher's counter) is counted, never reordered or waited for.
 */
#define BUS_PUBS	16
#define BUS_INST_MAX	32

static struct {
	char		id[BUS_INST_MAX + 1];
	uint64_t	seq;
} pubs[BUS_PUBS];
static unsigned pub_next;

static void
note_seq(const struct str *inst, uint64_t seq)
{
	size_t n = MIN(inst->n, (size_t)BUS_INST_MAX);
	unsigned i;

	for (i = 0; i < BUS_PUBS; i++)
		if (strlen(pubs[i].id) == n && memcmp(pubs[i].id, inst->p, n) == 0)
			break;
	if (i == BUS_PUBS) {
		i = pub_next++ % BUS_PUBS;
		memcpy(pubs[i].id, inst->p, n);
		pubs[i].id[n] = '\0';
		pubs[i].seq = seq;
		return;
	}
	if (seq != pubs[i].seq + 1)
		bus.st.seq_gaps++;
	pubs[i].seq = seq;
}

/* Parse "w1 <inst> <seq> <op>[ flags]\n": the payload offset or -1. */
long
bus_header(const struct str *m, struct str *inst, uint64_t *seq, int *op)
{
	const char *p = m->p, *e = m->p + m->n, *nl = memchr(p, '\n', m->n);
	const char *s;

	if (nl == NULL || m->n < 3 || memcmp(p, "w1 ", 3) != 0)
		return -1;
	p += 3;
	if ((s = memchr(p, ' ', (size_t)(nl - p))) == NULL || s == p)
		return -1;
	*inst = (struct str){ p, (size_t)(s - p) };
	p = s + 1;
	*seq = 0;
	while (p < nl && *p >= '0' && *p <= '9')
		*seq = *seq * 10 + (uint64_t)(*p++ - '0');
	if (p == s + 1 || p >= nl || *p != ' ' || p + 1 >= nl)
		return -1;
	*op = p[1] == 't' ? WS_OP_TEXT : p[1] == 'b' ? WS_OP_BINARY : 0;
	if (*op == 0 || (p + 2 < nl && p[2] != ' '))
		return -1;
	(void)e;
	return (long)(nl + 1 - m->p);
}

/* ------------------------------------------------------- direct sends */

/* Per group kind: the family's way to find one member by key, and its
 * handler of group messages that carry flags. */
static bus_member_fn member_fn[WARD_GROUP_KINDS + 1];
static bus_group_fn group_fn[WARD_GROUP_KINDS + 1];

void
bus_group_hook(int kind, bus_group_fn fn)
{
	if (kind > 0 && kind <= WARD_GROUP_KINDS)
		group_fn[kind] = fn;
}

void
bus_member_hook(int kind, bus_member_fn fn)
{
	if (kind > 0 && kind <= WARD_GROUP_KINDS)
		member_fn[kind] = fn;
}

uint16_t
bus_tag(void)
{
	return bus.on ? bus.tag : 0;
}

static bool tag_live(uint16_t tag);
static bool cluster_known(void);

bool
bus_tag_live(uint16_t tag)
{
	return bus.on && redis_up() && tag_live(tag);
}

/* bus.chan = "<prefix>:i:<tag>:"; its length, or -1. */
static int
direct_chan(uint16_t tag)
{
	return bus_name(bus.chan, sizeof bus.chan, "i:%04x:", tag);
}

/* A PUBLISH to one instance that no instance heard (it died). */
static void
direct_heard(void *arg, const struct redis_reply *r)
{
	(void)arg;
	if (r != NULL && r->e[0].type == RESP_INT && r->e[0].num == 0)
		bus.st.direct_unheard++;
}

static int
direct_send(uint32_t f, uint64_t from, const char *more)
{
	char flags[BUS_FLAGS_MAX + 2] = "", id[13] = "";
	int k;

	if (from != 0)
		reg_id_text(from, id);
	k = snprintf(flags, sizeof flags, "%s%s%s%s%s",
	    from != 0 || more[0] != '\0' ? " " : "", from != 0 ? "re=" : "", id,
	    from != 0 && more[0] != '\0' ? "," : "", more);
	if (k < 0 || (size_t)k >= sizeof flags)
		return WARD_EINVAL;
	if (send_msg(f, 0, flags, direct_heard) != 0)
		return WARD_EAGAIN;
	bus.st.direct_sent++;
	return BUS_FORWARDED;
}

int
bus_send_socket(uint64_t sid, uint32_t f)
{
	uint16_t tag = reg_id_tag(sid);
	char id[13];
	long s;
	int a;

	if (!bus.on || tag == bus.tag) {
		if ((s = reg_find(sid)) >= 0 && conns[s].state == CS_WS &&
		    conn_send(&conns[s], f) == 0)
			return 1;
		return 0;
	}
	if (!redis_up())
		return WARD_EAGAIN;
	if (!tag_live(tag))
		return 0;
	reg_id_text(sid, id);
	if ((a = direct_chan(tag)) < 0 ||
	    snprintf(bus.chan + a, sizeof bus.chan - (size_t)a, "s:%s", id) <= 0)
		return WARD_EINVAL;
	return direct_send(f, 0, "");
}

/* Append ":" and s escaped to bus.chan at *at. */
static bool
chan_part(size_t *at, const char *s, size_t n)
{
	if (*at + 2 > sizeof bus.chan)
		return false;
	bus.chan[(*at)++] = ':';
	return bus_escape(bus.chan, sizeof bus.chan, at, s, n);
}

int
bus_direct_member(uint16_t tag, int kind, const char *name, size_t n,
    const char *key, uint64_t from, uint32_t f, const char *flags)
{
	const char *k = fanout_kind_name(kind);
	size_t at;
	int a;

	if (!bus.on || tag == bus.tag)
		return 0;
	if (!redis_up())
		return WARD_EAGAIN;
	if (!tag_live(tag))
		return 0;
	if ((a = bus_name(bus.chan, sizeof bus.chan, "i:%04x:m", tag)) < 0)
		return WARD_EINVAL;
	at = (size_t)a;
	if (!chan_part(&at, k, strlen(k)) || !chan_part(&at, name, n) ||
	    !chan_part(&at, key, strlen(key)))
		return WARD_EINVAL;
	return direct_send(f, from, flags != NULL ? flags : "");
}

/* The flags of a header "w1 <inst> <seq> <op>[ <flags>]\n" (off: past
 * the newline) into out: "" when none or too long. */
static void
header_flags(const struct str *m, long off, char *out, size_t cap)
{
	const char *p = m->p, *nl = m->p + off - 1;
	int sp = 0;

	out[0] = '\0';
	while (p < nl && sp < 4)
		sp += *p++ == ' ';
	if (sp == 4 && (size_t)(nl - p) < cap) {
		memcpy(out, p, (size_t)(nl - p));
		out[nl - p] = '\0';
	}
}

/* The "re=<socket id>" flag (0: none). */
static uint64_t
flag_re(const char *flags)
{
	char v[16];
	uint64_t sid;

	if (bus_flag(flags, "re", v, sizeof v) &&
	    reg_id_parse((struct str){ v, strlen(v) }, &sid))
		return sid;
	return 0;
}

/* Split "<a>:<b>:<c>" (escaped) into a, b, c; false when malformed. */
static bool
split3(const char *c, size_t n, char *a, char *b, long *bl, char *k)
{
	const char *x = memchr(c, ':', n), *y;

	if (x == NULL || (y = memchr(x + 1, ':', n - (size_t)(x + 1 - c))) ==
	    NULL)
		return false;
	*bl = bus_unescape(x + 1, (size_t)(y - x - 1), b, 3 * 64 + 1);
	return bus_unescape(c, (size_t)(x - c), a, 96) > 0 && *bl > 0 &&
	    bus_unescape(y + 1, n - (size_t)(y + 1 - c), k, 96) > 0;
}

/* A direct send to this instance: "<tag>:s:<id>" or "<tag>:m:...". */
static uint32_t
direct(const char *c, size_t n, uint32_t f, uint64_t from, const char *flags)
{
	char a[96], b[3 * 64 + 1], k[96];
	uint64_t sid;
	long s, bl;
	int kind;

	if (n < 8 || c[4] != ':' || c[6] != ':')
		return 0;
	if (c[5] == 's') {
		if (!reg_id_parse((struct str){ c + 7, n - 7 }, &sid) ||
		    (s = reg_find(sid)) < 0 || conns[s].state != CS_WS) {
			bus.st.direct_unknown++;
			return 0;
		}
		return conn_send(&conns[s], f) == 0;
	}
	if (c[5] != 'm' || !split3(c + 7, n - 7, a, b, &bl, k) ||
	    (kind = fanout_kind_of(a)) == 0 || member_fn[kind] == NULL) {
		bus.st.malformed++;
		return 0;
	}
	s = member_fn[kind](fanout_find(kind, b, (size_t)bl), k, from, f,
	    flags);
	if (s == 0 && !bus_flag(flags, "ro", a, sizeof a))
		bus.st.direct_unknown++;	/* a roster answer dropped: known */
	return (uint32_t)s;
}

/* Deliver f to the local sockets the channel names (after prefix:). */
static uint32_t
deliver(const char *c, size_t n, uint32_t f, uint64_t from,
    const char *flags)
{
	char a[96], b[3 * 64 + 1];
	const char *colon;
	long al, bl;
	uint32_t k = 0;

	if (n > 2 && c[0] == 'i' && c[1] == ':')
		return direct(c + 2, n - 2, f, from, flags);
	if (n > 2 && c[0] == 'g' && c[1] == ':') {
		int kind, g;

		if ((colon = memchr(c + 2, ':', n - 2)) == NULL ||
		    bus_unescape(c + 2, (size_t)(colon - c - 2), a, sizeof a) < 0 ||
		    (bl = bus_unescape(colon + 1, n - (size_t)(colon + 1 - c), b,
		    sizeof b)) <= 0 || (kind = fanout_kind_of(a)) == 0)
			return 0;
		g = fanout_find(kind, b, (size_t)bl);
		if (flags[0] != '\0' && group_fn[kind] != NULL)
			return group_fn[kind](g, b, (size_t)bl, f, flags);
		return g > 0 ? fanout_deliver(g, f) : 0;
	}
	if (n > 2 && (c[0] == 't' || c[0] == 'u') && c[1] == ':') {
		bool user = c[0] == 'u';
		long s;

		if ((al = bus_unescape(c + 2, n - 2, b, sizeof b)) <= 0)
			return 0;
		s = user ? reg_user_first(b) : reg_type_first(reg_type_of(b));
		if (!user && reg_type_of(b) == REG_TYPE_NONE)
			return 0;
		for (; s >= 0; s = user ? reg_user_next((uint32_t)s) :
		    reg_type_next((uint32_t)s))
			if (conns[s].state == CS_WS)
				k += conn_send(&conns[s], f) == 0;
	}
	return k;
}

static void heard(const struct str *inst);

static void
on_message(void *arg, const struct redis_msg *m)
{
	static char flags[BUS_FLAGS_MAX + 1];
	struct str inst;
	uint64_t seq;
	int op;
	long off;
	uint32_t f;
	size_t pl = strlen(cfg.redis_prefix) + 1;	/* "ward:" */

	(void)arg;
	if (m->channel.n <= pl ||
	    memcmp(m->channel.p, cfg.redis_prefix, pl - 1) != 0 ||
	    m->channel.p[pl - 1] != ':' ||
	    (off = bus_header(&m->payload, &inst, &seq, &op)) < 0 ||
	    (op == WS_OP_TEXT && !utf8_valid((const uint8_t *)m->payload.p +
	    off, m->payload.n - (size_t)off))) {
		bus.st.malformed++;
		return;
	}
	if (inst.n == 16 && memcmp(inst.p, bus.inst, 16) == 0) {
		bus.st.own++;
		return;
	}
	bus.st.received++;
	heard(&inst);
	if (m->channel.n > pl + 2 && memcmp(m->channel.p + pl, "a:", 2) == 0) {
		struct str t = { m->channel.p + pl + 2, m->channel.n - pl - 2 };
		struct str b = { m->payload.p + off, m->payload.n - (size_t)off };

		if (app_hook != NULL)
			app_hook(&t, &b);
		return;
	}
	if (seq != 0)		/* 0: unsequenced (published by a script) */
		note_seq(&inst, seq);
	f = ws_frame(op, m->payload.p + off, m->payload.n - (size_t)off);
	if (f == 0) {
		bus.st.undelivered++;
		return;
	}
	header_flags(&m->payload, off, flags, sizeof flags);
	bus.st.deliveries += deliver(m->channel.p + pl, m->channel.n - pl, f,
	    flag_re(flags), flags);
	buf_unref(f);
}

static void
on_state(void *arg, bool up)
{
	(void)arg;
	log_info("redis", "state=%s", up ? "up" : "down");
}

/* ------------------------------------------------- cluster-wide counts */

/*
 * Every WARD_BUS_COUNT_MS each instance writes its socket counts into one
 * hash, field = its instance id, value = "<expires_ms> <total>
 * <type>=<n> ... <kind>:<name>=<n> ..." (expires = wall clock +
 * WARD_BUS_COUNT_TTL_MS; the group tokens are the members of each group
 * of a counted kind, at most WARD_BUS_COUNT_GROUPS, kind and name
 * escaped), and reads the whole hash back in the same pipeline: the sum
 * of the fields not yet expired is the cluster's, cached for the status
 * endpoints.  An instance killed with kill -9 stops refreshing its field
 * and drops out when it expires (its field is deleted by the next
 * reader).  The live fields' names give the live instances' tags (direct
 * sends to a tag no live instance has are refused at once).
 */
struct cl_group {
	uint8_t		kind;
	char		name[65];
	uint32_t	n;
};

static struct {
	bool		valid;
	uint32_t	instances;
	uint64_t	total;
	uint64_t	by_type[WARD_SOCK_TYPES + 1];
	uint64_t	next_ms;
	uint64_t	at_ms;		/* when the cache was filled */
	uint32_t	ngroups, groups_dropped;
	struct cl_group	groups[WARD_BUS_COUNT_GROUPS];
	uint16_t	tags[WARD_BUS_INSTANCES];
	uint32_t	ntags;
	bool		counted[WARD_GROUP_KINDS + 1];
	char		v[WARD_BUS_COUNT_BYTES];	/* one value */
	bool		warned;		/* a tag conflict was logged */
} cl;

void
bus_count_kind(int kind)
{
	if (kind > 0 && kind <= WARD_GROUP_KINDS)
		cl.counted[kind] = true;
}

static bool
tag_live(uint16_t tag)
{
	if (!cl.valid)
		return true;	/* not read yet: try, the PUBLISH tells */
	for (uint32_t i = 0; i < cl.ntags; i++)
		if (cl.tags[i] == tag)
			return true;
	return false;
}

bool
bus_alone(void)
{
	return !bus.on || !redis_up() || (cluster_known() && cl.ntags <= 1);
}

/* One "<kind>:<name>=<n>" token (s at the kind, eq at the '='). */
static void
count_group(char *s, char *eq, uint64_t n)
{
	char kn[96], nm[65];
	char *colon = memchr(s, ':', (size_t)(eq - s));
	int kind;
	uint32_t i;

	if (colon == NULL ||
	    bus_unescape(s, (size_t)(colon - s), kn, sizeof kn) <= 0 ||
	    (kind = fanout_kind_of(kn)) == 0 ||
	    bus_unescape(colon + 1, (size_t)(eq - colon - 1), nm,
	    sizeof nm) <= 0)
		return;
	for (i = 0; i < cl.ngroups; i++)
		if (cl.groups[i].kind == kind &&
		    strcmp(cl.groups[i].name, nm) == 0)
			break;
	if (i == cl.ngroups) {
		if (i == WARD_BUS_COUNT_GROUPS) {
			cl.groups_dropped++;
			return;
		}
		cl.ngroups++;
		cl.groups[i].kind = (uint8_t)kind;
		memcpy(cl.groups[i].name, nm, sizeof nm);
		cl.groups[i].n = 0;
	}
	cl.groups[i].n += (uint32_t)n;
}

/* Note a live instance's tag (its id's first 4 hex digits). */
static void
note_tag(const char *id, size_t n)
{
	char t[5];
	uint16_t tag;

	if (n != 16)
		return;
	memcpy(t, id, 4);
	t[4] = '\0';
	tag = (uint16_t)strtoul(t, NULL, 16);
	if (tag == bus.tag && memcmp(id, bus.inst, 16) != 0 && !cl.warned) {
		cl.warned = true;
		log_warn("redis", "instance=%.16s tag=%04x detail=\"another "
		    "live instance has this instance's tag: direct sends to "
		    "either reach both; restart one\"", id, tag);
	}
	if (cl.ntags < WARD_BUS_INSTANCES)
		cl.tags[cl.ntags++] = tag;
}

/* An instance heard from is live (until the next counts read, which has
 * it unless it died): a new instance's tag is known before that read. */
static void
heard(const struct str *inst)
{
	char t[5];

	if (inst->n != 16 || !cl.valid)
		return;
	memcpy(t, inst->p, 4);
	t[4] = '\0';
	if (!tag_live((uint16_t)strtoul(t, NULL, 16)))
		note_tag(inst->p, inst->n);
}

static void
count_field(const char *p, size_t n, uint64_t now, bool *live)
{
	char *v = cl.v, *s, *e;
	uint64_t exp;

	*live = false;
	if (n >= sizeof cl.v)
		return;
	memcpy(v, p, n);
	v[n] = '\0';
	exp = strtoull(v, &s, 10);
	if (s == v || exp < now)
		return;
	*live = true;
	cl.instances++;
	cl.total += strtoull(s, &e, 10);
	for (s = e; *s == ' '; ) {
		char *eq = strchr(++s, '=');
		uint64_t k;
		int t;

		if (eq == NULL)
			break;
		*eq = '\0';
		k = strtoull(eq + 1, &e, 10);
		if (memchr(s, ':', (size_t)(eq - s)) != NULL)
			count_group(s, eq, k);
		else if ((t = reg_type_of(s)) > 0 && t <= WARD_SOCK_TYPES)
			cl.by_type[t] += k;
		s = e;
	}
}

static void
counts_read(void *arg, const struct redis_reply *r)
{
	uint64_t now = (uint64_t)(port_wall_us() / 1000);

	(void)arg;
	if (r == NULL || r->e[0].type != RESP_ARRAY)
		return;
	memset(cl.by_type, 0, sizeof cl.by_type);
	cl.instances = 0;
	cl.total = 0;
	cl.ngroups = 0;
	cl.ntags = 0;
	for (uint32_t i = 1; i + 1 < r->n; i += 2) {
		bool live;

		count_field(r->e[i + 1].p, r->e[i + 1].n, now, &live);
		if (live)
			note_tag(r->e[i].p, r->e[i].n);
		if (!live && r->e[i].n < 64) {
			struct str a[3] = { { "HDEL", 4 },
			    { bus.counts, strlen(bus.counts) },
			    { r->e[i].p, r->e[i].n } };

			redis_cmd(NULL, NULL, 3, a);
		}
	}
	cl.valid = true;
	cl.at_ms = port_now_ms();
}

/* Append " <kind>:<name>=<n>" for group g at *at; false when full. */
static bool
group_token(char *v, size_t cap, size_t *at, int g)
{
	const char *kn = fanout_kind_name(fanout_kind(g)), *nm = fanout_name(g);

	if (*at + 2 > cap)
		return false;
	v[(*at)++] = ' ';
	if (!bus_escape(v, cap, at, kn, strlen(kn)) || *at + 2 > cap)
		return false;
	v[(*at)++] = ':';
	if (!bus_escape(v, cap, at, nm, strlen(nm)) || *at + 12 > cap)
		return false;
	*at += (size_t)snprintf(v + *at, cap - *at, "=%u", fanout_size(g));
	return true;
}

/* The tokens of every non-empty group of a counted kind (at most
 * WARD_BUS_COUNT_GROUPS; a token that does not fit ends the list). */
static size_t
counts_groups(char *v, size_t at, size_t cap)
{
	uint32_t k = 0;

	for (int g = fanout_next_used(0); g != 0 && k < WARD_BUS_COUNT_GROUPS;
	    g = fanout_next_used(g)) {
		size_t was = at;

		if (!cl.counted[fanout_kind(g)] || fanout_size(g) == 0)
			continue;
		if (!group_token(v, cap, &at, g)) {
			v[was] = '\0';
			return was;
		}
		k++;
	}
	return at;
}

static void
counts_write(uint64_t wall_ms)
{
	char *v = cl.v;		/* the reader's scratch: never at once */
	size_t at;
	struct str a[4] = { { "HSET", 4 }, { bus.counts, strlen(bus.counts) },
	    { bus.inst, 16 }, { v, 0 } };

	at = (size_t)snprintf(v, sizeof cl.v, "%llu %u",
	    (unsigned long long)(wall_ms + WARD_BUS_COUNT_TTL_MS), reg_count(REG_TYPE_NONE));
	for (int t = 1; t <= reg_type_count() && at < sizeof cl.v - 80; t++)
		at += (size_t)snprintf(v + at, sizeof cl.v - at, " %s=%u",
		    reg_type_name(t), reg_count(t));
	a[3].n = counts_groups(v, at, sizeof cl.v);
	if (redis_cmd(NULL, NULL, 4, a) != 0)
		return;
	a[0] = (struct str){ "HGETALL", 7 };
	redis_cmd(counts_read, NULL, 2, a);
}

void
bus_tick(uint64_t now)
{
	if (!bus.on)
		return;
	for (int i = 0; i < BUS_HOOKS && tick_hook[i] != NULL; i++)
		tick_hook[i](now);
	if (!redis_up()) {
		cl.valid = false;
		return;
	}
	if (now < cl.next_ms)
		return;
	cl.next_ms = now + WARD_BUS_COUNT_MS;
	counts_write((uint64_t)(port_wall_us() / 1000));
}

static bool
cluster_known(void)
{
	return bus.on && cl.valid && redis_up();
}

void
bus_scope_json(struct jw *w, const char *local_key, int64_t local)
{
	jw_key(w, "scope");
	jw_str(w, "cluster");
	jw_key(w, "instances");
	jw_int(w, cl.instances);
	jw_key(w, local_key);
	jw_int(w, local);
}

bool
bus_counts_json(struct jw *w, const char *total_key, const char *by_key,
    const char *local_key)
{
	if (!cluster_known())
		return false;
	jw_key(w, total_key);
	jw_int(w, (int64_t)cl.total);
	jw_key(w, by_key);
	jw_obj(w);
	for (int t = 1; t <= reg_type_count(); t++) {
		if (cl.by_type[t] == 0)
			continue;
		jw_key(w, reg_type_name(t));
		jw_int(w, (int64_t)cl.by_type[t]);
	}
	jw_obj_end(w);
	bus_scope_json(w, local_key, reg_count(REG_TYPE_NONE));
	return true;
}

bool
bus_summary_json(struct jw *w)
{
	if (!cluster_known())
		return false;
	jw_key(w, "active");
	jw_bool(w, cl.total > 0);
	bus_counts_json(w, "total_sockets", "sockets_by_type", "local_sockets");
	jw_key(w, "timestamp");
	jw_time(w, port_wall_us());
	return true;
}

bool
bus_group_counts(int kind, void (*fn)(const char *name, uint64_t n,
    void *arg), void *arg)
{
	if (!cluster_known() || !cl.counted[kind])
		return false;
	for (uint32_t i = 0; i < cl.ngroups; i++)
		if (cl.groups[i].kind == kind && cl.groups[i].n > 0)
			fn(cl.groups[i].name, cl.groups[i].n, arg);
	return true;
}

int
bus_start(void)
{
	struct redis_opts o;
	char pat[WARD_REDIS_NAME_MAX];
	uint8_t r[8] = { 0 };
	int rc;

	if (cfg.redis[0] == '\0')
		return 0;
	while (r[0] == 0 && r[1] == 0)		/* the tag is never 0 */
		if (port_random(r, sizeof r) != 0)
			return WARD_EIO;
	bus.tag = (uint16_t)(r[0] << 8 | r[1]);
	reg_set_tag(bus.tag);
	if (bus_name(bus.counts, sizeof bus.counts, "counts") < 0)
		return WARD_EINVAL;
	for (int i = 0; i < 8; i++)
		snprintf(bus.inst + 2 * i, 3, "%02x", r[i]);
	memset(&o, 0, sizeof o);
	o.addr = cfg.redis;
	o.user = cfg.redis_user;
	o.password = cfg.redis_password;
	o.db = cfg.redis_db;
	o.on_message = on_message;
	o.on_state = on_state;
	if ((rc = redis_start(&o)) != 0)
		return rc;
	/* the fan-outs (every channel but the direct ones), then this
	 * instance's direct sends */
	if (bus_name(pat, sizeof pat, "[^i]*") < 0 ||
	    (rc = redis_psubscribe(pat)) != 0 ||
	    bus_name(pat, sizeof pat, "i:%04x:*", bus.tag) < 0 ||
	    (rc = redis_psubscribe(pat)) != 0) {
		redis_stop();
		return rc != 0 ? rc : WARD_EINVAL;
	}
	bus.on = true;
	log_info("redis", "addr=%s instance=%s prefix=%s", cfg.redis, bus.inst,
	    cfg.redis_prefix);
	return 0;
}

void
bus_stop(void)
{
	if (bus.on)
		redis_stop();
	bus.on = false;
}

const char *
bus_state(void)
{
	return !bus.on ? "off" : redis_up() ? "up" : "down";
}

bool
bus_on(void)
{
	return bus.on;
}

const char *
bus_instance(void)
{
	return bus.inst;
}

void
bus_stats(struct bus_stats *st)
{
	*st = bus.st;
	st->on = bus.on;
	st->up = bus.on && redis_up();
}

size_t
bus_bytes(void)
{
	return sizeof bus + sizeof cl + sizeof pubs + sizeof member_fn +
	    sizeof group_fn;
}
