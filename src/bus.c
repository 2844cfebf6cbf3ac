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
 *	payload: "w1 <instance> <seq> <op>\n" then the frame's payload
 *
 * Names are escaped: every byte outside [A-Za-z0-9_.-] as %XX.  Nothing
 * here allocates; one static scratch holds the message being published.
 * Redis down: local delivery is untouched, the publication is counted as
 * not replicated and not replayed later.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "redis.h"

#define BUS_PREFIX	"ward"
#define BUS_HDR_MAX	64
#define BUS_CHAN_MAX	(WARD_REDIS_NAME_MAX + 3 * 64)

static struct {
	bool		 on;
	char		 inst[17];
	uint64_t	 seq;
	struct bus_stats st;
	char		 chan[BUS_CHAN_MAX + 1];
	uint8_t		 msg[WARD_REDIS_MAX_BULK];
} bus;

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

/* Build the message of frame f into bus.msg with this seq: its length, 0. */
static size_t
encode(uint32_t f, uint64_t seq)
{
	const uint8_t *p;
	size_t n;
	int op, h;

	if (!frame_payload(f, &op, &p, &n) ||
	    (op != WS_OP_TEXT && op != WS_OP_BINARY)) {
		bus.st.malformed++;
		return 0;
	}
	h = snprintf((char *)bus.msg, BUS_HDR_MAX, "w1 %s %llu %c\n", bus.inst,
	    (unsigned long long)seq, op == WS_OP_TEXT ? 't' : 'b');
	if (h <= 0 || h >= BUS_HDR_MAX || n > sizeof bus.msg - (size_t)h) {
		bus.st.not_replicated++;
		return 0;
	}
	memcpy(bus.msg + h, p, n);
	return (size_t)h + n;
}

/* Publish frame f on bus.chan (already built). */
static void
publish(uint32_t f)
{
	size_t n;
	int rc;
	struct str argv[3];

	if (!bus.on)
		return;
	if ((n = encode(f, bus.seq + 1)) == 0)
		return;
	argv[0] = (struct str){ "PUBLISH", 7 };
	argv[1] = (struct str){ bus.chan, strlen(bus.chan) };
	argv[2] = (struct str){ (const char *)bus.msg, n };
	if ((rc = redis_cmd(NULL, NULL, 3, argv)) != 0) {
		bus.st.not_replicated++;
		return;
	}
	bus.seq++;
	bus.st.published++;
}

/* bus.chan = the group's channel; false when it does not fit. */
static bool
group_chan(int kind, const char *name, size_t n)
{
	size_t at;

	at = (size_t)snprintf(bus.chan, sizeof bus.chan, BUS_PREFIX ":g:");
	if (!bus_escape(bus.chan, sizeof bus.chan, &at,
	    fanout_kind_name(kind), strlen(fanout_kind_name(kind))) ||
	    at + 2 > sizeof bus.chan)
		return false;
	bus.chan[at++] = ':';
	return bus_escape(bus.chan, sizeof bus.chan, &at, name, n);
}

void
bus_group(int kind, const char *name, size_t n, uint32_t f)
{
	if (!bus.on)
		return;
	if (!group_chan(kind, name, n)) {
		bus.st.not_replicated++;
		return;
	}
	publish(f);
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

	if (!bus.on || !group_chan(kind, name, n) || (len = encode(f, 0)) == 0)
		return WARD_EINVAL;
	*chan = (struct str){ bus.chan, strlen(bus.chan) };
	*msg = (struct str){ (const char *)bus.msg, len };
	return 0;
}

/* Functions the application runs at every bus tick (BUS_HOOKS; the
 * same function added twice runs once). */
#define BUS_HOOKS	4
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
	size_t at;
	const char *t = reg_type_name(type);

	if (!bus.on)
		return;
	at = (size_t)snprintf(bus.chan, sizeof bus.chan, BUS_PREFIX ":t:");
	if (!bus_escape(bus.chan, sizeof bus.chan, &at, t, strlen(t))) {
		bus.st.not_replicated++;
		return;
	}
	publish(f);
}

void
bus_user(const char *user, uint32_t f)
{
	size_t at;

	if (!bus.on)
		return;
	at = (size_t)snprintf(bus.chan, sizeof bus.chan, BUS_PREFIX ":u:");
	if (!bus_escape(bus.chan, sizeof bus.chan, &at, user, strlen(user))) {
		bus.st.not_replicated++;
		return;
	}
	publish(f);
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

/* Deliver f to the local sockets the channel names (after prefix:). */
static uint32_t
deliver(const char *c, size_t n, uint32_t f)
{
	char a[96], b[3 * 64 + 1];
	const char *colon;
	long al, bl;
	uint32_t k = 0;

	if (n > 2 && c[0] == 'g' && c[1] == ':') {
		int kind, g;

		if ((colon = memchr(c + 2, ':', n - 2)) == NULL ||
		    bus_unescape(c + 2, (size_t)(colon - c - 2), a, sizeof a) < 0 ||
		    (bl = bus_unescape(colon + 1, n - (size_t)(colon + 1 - c), b,
		    sizeof b)) <= 0 || (kind = fanout_kind_of(a)) == 0)
			return 0;
		g = fanout_find(kind, b, (size_t)bl);
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

static void
on_message(void *arg, const struct redis_msg *m)
{
	struct str inst;
	uint64_t seq;
	int op;
	long off;
	uint32_t f;
	size_t pl = sizeof BUS_PREFIX;	/* "ward:" */

	(void)arg;
	if (m->channel.n <= pl || memcmp(m->channel.p, BUS_PREFIX ":", pl) != 0 ||
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
	bus.st.deliveries += deliver(m->channel.p + pl, m->channel.n - pl, f);
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
 * <type>=<n> ..." (expires = wall clock + WARD_BUS_COUNT_TTL_MS), and
 * reads the whole hash back in the same pipeline: the sum of the fields
 * not yet expired is the cluster's, cached for the status endpoints.  An
 * instance killed with kill -9 stops refreshing its field and drops out
 * when it expires (its field is deleted by the next reader).
 */
static struct {
	bool		valid;
	uint32_t	instances;
	uint64_t	total;
	uint64_t	by_type[WARD_SOCK_TYPES + 1];
	uint64_t	next_ms;
	uint64_t	at_ms;		/* when the cache was filled */
} cl;

static void
count_field(const char *p, size_t n, uint64_t now, bool *live)
{
	char v[512], *s, *e;
	uint64_t exp;

	*live = false;
	if (n >= sizeof v)
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
		char *eq = strchr(++s, '='), *sp;
		int t;

		if (eq == NULL)
			break;
		*eq = '\0';
		t = reg_type_of(s);
		sp = eq + 1;
		if (t > 0 && t <= WARD_SOCK_TYPES)
			cl.by_type[t] += strtoull(sp, &e, 10);
		else
			strtoull(sp, &e, 10);
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
	for (uint32_t i = 1; i + 1 < r->n; i += 2) {
		bool live;

		count_field(r->e[i + 1].p, r->e[i + 1].n, now, &live);
		if (!live && r->e[i].n < 64) {
			struct str a[3] = { { "HDEL", 4 },
			    { BUS_PREFIX ":counts", sizeof BUS_PREFIX + 6 },
			    { r->e[i].p, r->e[i].n } };

			redis_cmd(NULL, NULL, 3, a);
		}
	}
	cl.valid = true;
	cl.at_ms = port_now_ms();
}

static void
counts_write(uint64_t wall_ms)
{
	char v[512];
	size_t at;
	struct str a[4] = { { "HSET", 4 },
	    { BUS_PREFIX ":counts", sizeof BUS_PREFIX + 6 },
	    { bus.inst, 16 }, { v, 0 } };

	at = (size_t)snprintf(v, sizeof v, "%llu %u",
	    (unsigned long long)(wall_ms + WARD_BUS_COUNT_TTL_MS), reg_count(REG_TYPE_NONE));
	for (int t = 1; t <= reg_type_count() && at < sizeof v - 80; t++)
		at += (size_t)snprintf(v + at, sizeof v - at, " %s=%u",
		    reg_type_name(t), reg_count(t));
	a[3].n = at;
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

bool
bus_summary_json(struct jw *w)
{
	if (!bus.on || !cl.valid || !redis_up())
		return false;
	jw_key(w, "active");
	jw_bool(w, cl.total > 0);
	jw_key(w, "total_sockets");
	jw_int(w, (int64_t)cl.total);
	jw_key(w, "sockets_by_type");
	jw_obj(w);
	for (int t = 1; t <= reg_type_count(); t++) {
		if (cl.by_type[t] == 0)
			continue;
		jw_key(w, reg_type_name(t));
		jw_int(w, (int64_t)cl.by_type[t]);
	}
	jw_obj_end(w);
	jw_key(w, "scope");
	jw_str(w, "cluster");
	jw_key(w, "instances");
	jw_int(w, cl.instances);
	jw_key(w, "local_sockets");
	jw_int(w, reg_count(REG_TYPE_NONE));
	jw_key(w, "timestamp");
	jw_time(w, port_wall_us());
	return true;
}

int
bus_start(void)
{
	struct redis_opts o;
	uint8_t r[8];
	int rc;

	if (cfg.redis[0] == '\0')
		return 0;
	if (port_random(r, sizeof r) != 0)
		return WARD_EIO;
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
	if ((rc = redis_psubscribe(BUS_PREFIX ":*")) != 0) {
		redis_stop();
		return rc;
	}
	bus.on = true;
	log_info("redis", "addr=%s instance=%s", cfg.redis, bus.inst);
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
	return sizeof bus;
}
