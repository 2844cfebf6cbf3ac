/*
 * redis.c - a non-blocking RESP2 client inside the ward event loop.
 *
 * Three layers, each usable alone:
 *
 *  1. resp_feed: a push parser (no I/O, no allocation, no globals; the
 *     all-zero state is the start state; it resumes after any byte).  It
 *     yields one event at a time; string bytes are chunks pointing into
 *     the caller's input.  Every limit is checked before anything is
 *     trusted: a bulk above max_bulk, an array above WARD_REDIS_MAX_ARRAY
 *     or deeper than WARD_REDIS_MAX_DEPTH, a bad type byte, a length that
 *     is not -1 or digits, a number that overflows, a CR without LF or a
 *     bare LF in a line: a sticky error, and the link is reset.
 *  2. redis_encode: a command as an array of bulk strings.
 *  3. the client: two links to one server, each a small state machine
 *
 *       WAIT --(backoff over)--> CONNECTING --(writable)--> HANDSHAKE
 *       HANDSHAKE --(AUTH ok, SELECT ok, PONG)--> UP
 *       any --(EOF, RST, error reply in handshake, protocol error,
 *              silence > DEAD_MS, handshake > CONNECT_MS)--> WAIT
 *
 *     The command link pipelines: a command is encoded into the link's
 *     output buffer and its callback pushed on a fixed ring; replies pop
 *     the ring in order.  The subscribe link is only ever in subscribed
 *     mode after its handshake; every SUBSCRIBE/PSUBSCRIBE remembered is
 *     sent again after a reconnect.  A link that goes down answers every
 *     awaited callback with NULL (the caller counts what was lost).
 *     Reconnects wait a full-jitter backoff: random in
 *     [0, min(max, min_ms << attempt)], from port_random.
 *
 * Replies are assembled per link into a static element table and byte
 * arena (one copy, bounded); a reply above them reaches its callback as
 * an error, and the link stays in sync.  A host name is resolved once at
 * start (port_resolve may allocate); reconnects do no lookups, no
 * allocation.
 *
 * Integration (issue 14, after the core/app split of issue 10):
 *
 *   loop.c dispatch_events():
 *	} else if (redis_owns_token(t)) {
 *		redis_on_event(t, ev[i].events);
 *   loop.c loop_run(), after the first conn_flush_all():
 *	redis_flush();
 *   loop.c tick(): redis_tick(now);  and the wait timeout becomes
 *	MIN(timeout, redis_timeout_ms(now)) when cfg.redis is set
 *   main.c (after cfg_validate, before loop_run): redis_start() with
 *	cfg.redis, cfg.redis_password, on_message = bus_on_message
 *   fanout.c grp_send(): after the local fan-out, bus_publish(group,
 *	frame) -> redis_cmd(PUBLISH ward:<kind>:<name> <header+frame>)
 *   bus.c (new, app layer) maps groups to channels and drops its own
 *	publications by instance id (docs/redis.md).
 */
#include <stdio.h>

#include "redis.h"

/* --------------------------------------------------------------- parser */

enum {
	S_TYPE = 0, S_LINE, S_LINE_LF, S_NUM, S_NUM_LF, S_BULK, S_BULK_CR,
	S_BULK_LF, S_ERR
};

static long
resp_fail(struct resp_parser *p, int err)
{
	p->state = S_ERR;
	p->err = err;
	return err;
}

void
resp_reset(struct resp_parser *p)
{
	uint32_t max = p->max_bulk;

	memset(p, 0, sizeof *p);
	p->max_bulk = max;
}

static uint64_t
resp_max(const struct resp_parser *p)
{
	return p->max_bulk != 0 ? p->max_bulk : WARD_REDIS_MAX_BULK;
}

/* The element just given is complete: close the arrays it completes. */
static void
resp_done(struct resp_parser *p, struct resp_ev *ev)
{
	ev->last = true;
	while (p->depth > 0) {
		if (--p->open[p->depth - 1] > 0)
			break;
		p->depth--;
	}
	ev->done = p->depth == 0;
	p->state = S_TYPE;
	p->chunked = false;
}

static long
resp_emit(struct resp_parser *p, struct resp_ev *ev, const uint8_t *s,
    size_t len, bool last, size_t used)
{
	ev->type = p->type;
	ev->depth = p->depth;
	ev->first = !p->chunked;
	ev->num = p->type == RESP_BULK ? (int64_t)p->num : 0;
	ev->p = s;
	ev->n = len;
	p->chunked = true;
	if (last)
		resp_done(p, ev);
	return (long)used;
}

static int
resp_type_byte(struct resp_parser *p, uint8_t c)
{
	switch (c) {
	case '+':
		p->type = RESP_STATUS;
		break;
	case '-':
		p->type = RESP_ERROR;
		break;
	case ':':
		p->type = RESP_INT;
		break;
	case '$':
		p->type = RESP_BULK;
		break;
	case '*':
		p->type = RESP_ARRAY;
		break;
	default:
		return WARD_EINVAL;
	}
	p->state = p->type <= RESP_ERROR ? S_LINE : S_NUM;
	p->num = 0;
	p->ndig = 0;
	p->neg = 0;
	p->left = 0;
	p->chunked = false;
	return 0;
}

/* Simple string / error line: chunks up to CR LF. */
static long
resp_line(struct resp_parser *p, const uint8_t *b, size_t i, size_t n,
    struct resp_ev *ev)
{
	size_t k = i;

	while (k < n && b[k] != '\r' && b[k] != '\n')
		k++;
	if (p->left + (k - i) > resp_max(p))
		return resp_fail(p, WARD_ETOOBIG);
	p->left += k - i;
	if (k == n)
		return k > i ? resp_emit(p, ev, b + i, k - i, false, n) :
		    WARD_NEED_MORE;
	if (b[k] == '\n')
		return resp_fail(p, WARD_EINVAL);
	if (k + 1 < n) {
		if (b[k + 1] != '\n')
			return resp_fail(p, WARD_EINVAL);
		return resp_emit(p, ev, b + i, k - i, true, k + 2);
	}
	p->state = S_LINE_LF;
	return k > i ? resp_emit(p, ev, b + i, k - i, false, n) :
	    WARD_NEED_MORE;
}

/* One byte of a number line (":", "$" or "*"). */
static int
resp_digit(struct resp_parser *p, uint8_t c)
{
	if (c == '-' && p->ndig == 0 && !p->neg) {
		p->neg = 1;
		return 0;
	}
	if (c == '\r') {
		if (p->ndig == 0)
			return WARD_EINVAL;
		p->state = S_NUM_LF;
		return 0;
	}
	if (c < '0' || c > '9' || p->ndig >= 19)
		return WARD_EINVAL;	/* 19 digits: below 2^63 */
	p->num = p->num * 10 + (uint64_t)(c - '0');
	p->ndig++;
	return 0;
}

static long
resp_array(struct resp_parser *p, struct resp_ev *ev, size_t used)
{
	if (p->neg) {
		if (p->num != 1)
			return resp_fail(p, WARD_EINVAL);
		p->type = RESP_NIL_ARRAY;
		return resp_emit(p, ev, NULL, 0, true, used);
	}
	if (p->num > WARD_REDIS_MAX_ARRAY)
		return resp_fail(p, WARD_ETOOBIG);
	if (p->num == 0) {
		resp_emit(p, ev, NULL, 0, true, used);
		ev->num = 0;
		return (long)used;
	}
	if (p->depth >= WARD_REDIS_MAX_DEPTH)
		return resp_fail(p, WARD_EINVAL);
	resp_emit(p, ev, NULL, 0, false, used);
	ev->num = (int64_t)p->num;
	ev->last = true;
	p->open[p->depth++] = (uint32_t)p->num;
	p->state = S_TYPE;
	p->chunked = false;
	return (long)used;
}

/* The number line ended (CR LF seen): what it means depends on type. */
static long
resp_number(struct resp_parser *p, struct resp_ev *ev, size_t used)
{
	switch (p->type) {
	case RESP_INT:
		if (p->num > (uint64_t)INT64_MAX + p->neg)
			return resp_fail(p, WARD_EINVAL);
		resp_emit(p, ev, NULL, 0, true, used);
		ev->num = p->neg ? (int64_t)(0 - p->num) : (int64_t)p->num;
		return (long)used;
	case RESP_BULK:
		if (p->neg) {
			if (p->num != 1)
				return resp_fail(p, WARD_EINVAL);
			p->type = RESP_NIL;
			return resp_emit(p, ev, NULL, 0, true, used);
		}
		if (p->num > resp_max(p))
			return resp_fail(p, WARD_ETOOBIG);
		p->left = p->num;
		p->state = p->num > 0 ? S_BULK : S_BULK_CR;
		return 0;	/* no event yet */
	default:
		return resp_array(p, ev, used);
	}
}

/* Bulk payload: a chunk of what is here; CR LF after it. */
static long
resp_bulk(struct resp_parser *p, const uint8_t *b, size_t i, size_t n,
    struct resp_ev *ev)
{
	size_t m = n - i < p->left ? n - i : (size_t)p->left;

	p->left -= m;
	if (p->left > 0)
		return resp_emit(p, ev, b + i, m, false, i + m);
	p->state = S_BULK_CR;
	if (i + m + 2 <= n && b[i + m] == '\r' && b[i + m + 1] == '\n')
		return resp_emit(p, ev, b + i, m, true, i + m + 2);
	return resp_emit(p, ev, b + i, m, false, i + m);
}

/* One step at input position i: an event (> 0), NEED_MORE, 0, error. */
static long
resp_step(struct resp_parser *p, const uint8_t *b, size_t *i, size_t n,
    struct resp_ev *ev)
{
	uint8_t c = b[*i];

	switch (p->state) {
	case S_TYPE:
		(*i)++;
		return resp_type_byte(p, c) == 0 ? 0 :
		    resp_fail(p, WARD_EINVAL);
	case S_LINE:
		return resp_line(p, b, *i, n, ev);
	case S_NUM:
		(*i)++;
		return resp_digit(p, c) == 0 ? 0 : resp_fail(p, WARD_EINVAL);
	case S_NUM_LF:
		if (c != '\n')
			return resp_fail(p, WARD_EINVAL);
		(*i)++;
		return resp_number(p, ev, *i);
	case S_BULK:
		return resp_bulk(p, b, *i, n, ev);
	case S_BULK_CR:
		if (c != '\r')
			return resp_fail(p, WARD_EINVAL);
		(*i)++;
		p->state = S_BULK_LF;
		return 0;
	case S_LINE_LF:
	case S_BULK_LF:
		if (c != '\n')
			return resp_fail(p, WARD_EINVAL);
		(*i)++;
		return resp_emit(p, ev, b + *i, 0, true, *i);
	default:
		return p->err != 0 ? p->err : resp_fail(p, WARD_EINVAL);
	}
}

long
resp_feed(struct resp_parser *p, const void *in, size_t n, struct resp_ev *ev)
{
	const uint8_t *b = in;
	size_t i = 0;

	memset(ev, 0, sizeof *ev);
	if (p->state == S_ERR)
		return p->err;
	while (i < n) {
		long r = resp_step(p, b, &i, n, ev);

		if (r != 0)
			return r;
	}
	return WARD_NEED_MORE;
}

/* -------------------------------------------------------------- encoder */

static size_t
dec_len(size_t v)
{
	size_t d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static size_t
put_num(uint8_t *o, uint8_t tag, size_t v)
{
	size_t d = dec_len(v), i;

	o[0] = tag;
	for (i = d; i > 0; i--) {
		o[i] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
	o[d + 1] = '\r';
	o[d + 2] = '\n';
	return d + 3;
}

size_t
redis_encoded_len(int argc, const struct str *argv)
{
	size_t len = 3 + dec_len((size_t)argc);

	for (int i = 0; i < argc; i++)
		len += 5 + dec_len(argv[i].n) + argv[i].n;
	return len;
}

size_t
redis_encode(uint8_t *out, size_t cap, int argc, const struct str *argv)
{
	size_t len = redis_encoded_len(argc, argv), o;

	if (argc <= 0 || len > cap)
		return 0;
	o = put_num(out, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		o += put_num(out + o, '$', argv[i].n);
		if (argv[i].n > 0)
			memcpy(out + o, argv[i].p, argv[i].n);
		o += argv[i].n;
		out[o++] = '\r';
		out[o++] = '\n';
	}
	return o;
}

/* ----------------------------------------------------- pub/sub, backoff */

static bool
elem_is(const struct redis_elem *e, const char *lit)
{
	size_t l = strlen(lit);

	if (e->type != RESP_BULK || e->n != l)
		return false;
	for (size_t i = 0; i < l; i++) {
		char c = e->p[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != lit[i])
			return false;
	}
	return true;
}

static struct str
elem_str(const struct redis_elem *e)
{
	return (struct str){ e->p, e->n };
}

/* Flat arrays of 2..4 scalars only: e[1..n-1] are the array's elements. */
int
redis_push_kind(const struct redis_reply *r, struct redis_msg *m)
{
	const struct redis_elem *e = r->e;

	memset(m, 0, sizeof *m);
	if (r->n < 3 || e[0].type != RESP_ARRAY ||
	    e[0].num != (int64_t)r->n - 1)
		return REDIS_PUSH_NONE;
	for (uint32_t i = 1; i < r->n; i++)
		if (e[i].type == RESP_ARRAY)
			return REDIS_PUSH_NONE;
	if (r->n == 4 && elem_is(&e[1], "message") && e[3].type == RESP_BULK) {
		m->channel = elem_str(&e[2]);
		m->payload = elem_str(&e[3]);
		return m->kind = REDIS_PUSH_MESSAGE;
	}
	if (r->n == 5 && elem_is(&e[1], "pmessage") && e[4].type == RESP_BULK) {
		m->pattern = elem_str(&e[2]);
		m->channel = elem_str(&e[3]);
		m->payload = elem_str(&e[4]);
		return m->kind = REDIS_PUSH_PMESSAGE;
	}
	if (r->n == 3 && elem_is(&e[1], "pong")) {
		m->payload = elem_str(&e[2]);
		return m->kind = REDIS_PUSH_PONG;
	}
	if (r->n != 4 || e[3].type != RESP_INT)
		return REDIS_PUSH_NONE;
	m->channel = elem_str(&e[2]);
	m->count = e[3].num;
	if (elem_is(&e[1], "subscribe") || elem_is(&e[1], "psubscribe"))
		return m->kind = REDIS_PUSH_SUBSCRIBE;
	if (elem_is(&e[1], "unsubscribe") || elem_is(&e[1], "punsubscribe"))
		return m->kind = REDIS_PUSH_UNSUBSCRIBE;
	memset(m, 0, sizeof *m);
	return REDIS_PUSH_NONE;
}

uint32_t
redis_backoff_ms(unsigned attempt, uint32_t base, uint32_t cap, uint32_t rnd)
{
	uint64_t ceil = (uint64_t)base << (attempt < 24 ? attempt : 24);

	if (ceil > cap)
		ceil = cap;
	return (uint32_t)(rnd % (ceil + 1));
}

/* --------------------------------------------------------------- client */

enum { L_OFF = 0, L_WAIT, L_CONNECTING, L_HANDSHAKE, L_UP };
enum { P_USER = 0, P_AUTH, P_SELECT, P_HELLO, P_PING };
enum { LINK_CMD = 0, LINK_SUB = 1, NLINKS = 2 };

#define SUB_RING	4

struct pending {
	redis_reply_fn	 cb;
	void		*arg;
	uint8_t		 kind;
};

struct link {
	int		 fd;
	int		 state;
	unsigned	 want;		/* events registered */
	uint32_t	 token;
	unsigned	 attempt;	/* failures since the last UP */
	uint64_t	 retry_at, deadline, last_rx, last_ping;
	struct resp_parser rp;
	uint8_t		*tx;
	size_t		 txcap, txoff, txlen;
	struct pending	*ring;
	uint32_t	 ringcap, head, count;
	uint32_t	 nel;
	size_t		 used;
	bool		 overflow;
	struct redis_elem *el;
	char		*arena;
};

static uint8_t cmd_tx[WARD_REDIS_TXBUF], sub_tx[WARD_REDIS_SUB_TXBUF];
static uint8_t rxbuf[WARD_REDIS_RXBUF];	/* one recv at a time */
static struct pending cmd_ring[WARD_REDIS_PENDING], sub_ring[SUB_RING];
static struct redis_elem rel[NLINKS][WARD_REDIS_REPLY_ELEMS];
static char rarena[NLINKS][WARD_REDIS_REPLY_BYTES];
static char subs[WARD_REDIS_MAX_SUBS][WARD_REDIS_NAME_MAX];
static bool subs_pattern[WARD_REDIS_MAX_SUBS];

static struct {
	bool		 configured, up, resolved, unix_path, stopping;
	char		 addr[128], host[64], service[8], path[108];
	char		 user[64], password[128], lasterr[128];
	int		 db;
	uint32_t	 bmin, bmax;
	struct port_addr sa;
	struct redis_opts o;
	struct link	 l[NLINKS];
	uint32_t	 nsubs;
	struct redis_stats st;
} rc;

static const char *const link_name[NLINKS] = { "cmd", "sub" };

static void
set_error(const char *s, size_t n)
{
	n = MIN(n, sizeof rc.lasterr - 1);
	/* the server's text goes into a log line: printable, no quotes */
	for (size_t i = 0; i < n; i++)
		rc.lasterr[i] = s[i] < ' ' || s[i] > '~' || s[i] == '"' ||
		    s[i] == '\\' ? '?' : s[i];
	rc.lasterr[n] = '\0';
}

const char *
redis_last_error(void)
{
	return rc.lasterr;
}

bool
redis_up(void)
{
	return rc.up;
}

void
redis_stats(struct redis_stats *st)
{
	*st = rc.st;
	st->up = rc.up;
	st->configured = rc.configured;
	st->pending = rc.l[LINK_CMD].count;
}

static void
client_state(void)
{
	bool up = rc.l[LINK_CMD].state == L_UP && rc.l[LINK_SUB].state == L_UP;

	if (up == rc.up)
		return;
	rc.up = up;
	if (up) {
		log_info("redis", "addr=%s state=up", rc.addr);
	} else {
		rc.st.downs++;
		if (!rc.stopping)
			log_warn("redis", "addr=%s state=down reason=\"%s\"",
			    rc.addr, rc.lasterr);
	}
	if (rc.o.on_state != NULL)
		rc.o.on_state(rc.o.arg, up);
}

static void
link_events(struct link *l)
{
	unsigned want = PORT_EV_IN;

	if (l->fd < 0)
		return;
	if (l->state == L_CONNECTING)
		want = PORT_EV_OUT;
	else if (l->txlen > l->txoff)
		want |= PORT_EV_OUT;
	if (want != l->want && port_ev_mod(l->fd, l->token, want) == 0)
		l->want = want;
}

static uint32_t
jitter(void)
{
	uint32_t r = 0;

	if (port_random(&r, sizeof r) != 0)
		r = (uint32_t)port_now_us();
	return r;
}

/* Close the link, answer what it awaited with NULL, schedule a retry. */
static void
link_fail(struct link *l, const char *why)
{
	uint32_t delay;

	if (why != NULL && rc.lasterr[0] == '\0')
		set_error(why, strlen(why));
	if (l->fd >= 0) {
		port_ev_del(l->fd, l->token);
		port_close(l->fd, false);
		l->fd = -1;
	}
	delay = redis_backoff_ms(l->attempt++, rc.bmin, rc.bmax, jitter());
	if (!rc.stopping)
		log_warn("redis", "link=%s event=fail reason=\"%s\" "
		    "retry_ms=%u", link_name[l - rc.l],
		    why != NULL ? why : rc.lasterr, delay);
	l->state = L_WAIT;
	l->retry_at = port_now_ms() + delay;
	resp_reset(&l->rp);
	l->txoff = l->txlen = 0;
	l->nel = 0;
	l->used = 0;
	l->overflow = false;
	l->want = 0;
	if (l - rc.l == LINK_SUB)
		rc.st.subs = 0;
	while (l->count > 0) {
		struct pending pe = l->ring[l->head];

		l->head = (l->head + 1) % l->ringcap;
		l->count--;
		if (pe.kind == P_USER) {
			rc.st.failed++;
			if (pe.cb != NULL)
				pe.cb(pe.arg, NULL);
		}
	}
	l->head = 0;
	client_state();
}

static int
link_put(struct link *l, int argc, const struct str *argv)
{
	size_t need = redis_encoded_len(argc, argv);

	if (need > l->txcap)
		return WARD_ETOOBIG;
	if (l->txlen + need > l->txcap && l->txoff > 0) {
		memmove(l->tx, l->tx + l->txoff, l->txlen - l->txoff);
		l->txlen -= l->txoff;
		l->txoff = 0;
	}
	if (l->txlen + need > l->txcap)
		return WARD_ENOMEM;
	l->txlen += redis_encode(l->tx + l->txlen, l->txcap - l->txlen, argc,
	    argv);
	return 0;
}

static int
link_push(struct link *l, uint8_t kind, redis_reply_fn cb, void *arg)
{
	struct pending *pe;

	if (l->count >= l->ringcap)
		return WARD_ENOMEM;
	pe = &l->ring[(l->head + l->count) % l->ringcap];
	pe->cb = cb;
	pe->arg = arg;
	pe->kind = kind;
	l->count++;
	return 0;
}

/* A command of the client's own (handshake, keep-alive). */
static void
link_internal(struct link *l, uint8_t kind, int argc, const struct str *argv)
{
	if (l->count >= l->ringcap || link_put(l, argc, argv) != 0) {
		link_fail(l, "no room for a handshake command");
		return;
	}
	link_push(l, kind, NULL, NULL);
}

static void
link_handshake(struct link *l)
{
	char db[16];
	struct str a[3];

	l->state = L_HANDSHAKE;
	l->deadline = port_now_ms() + WARD_REDIS_CONNECT_MS;
	if (rc.password[0] != '\0') {
		int n = 0;

		a[n++] = STR_LIT("AUTH");
		if (rc.user[0] != '\0')
			a[n++] = (struct str){ rc.user, strlen(rc.user) };
		a[n++] = (struct str){ rc.password, strlen(rc.password) };
		link_internal(l, P_AUTH, n, a);
	}
	if (rc.db > 0 && l - rc.l == LINK_CMD) {
		a[0] = STR_LIT("SELECT");
		a[1] = (struct str){ db, (size_t)snprintf(db, sizeof db, "%d",
		    rc.db) };
		link_internal(l, P_SELECT, 2, a);
	}
	a[0] = STR_LIT("PING");
	link_internal(l, P_HELLO, 1, a);
}

static void
sub_send(struct link *l, uint32_t i)
{
	struct str a[2];

	a[0] = subs_pattern[i] ? STR_LIT("PSUBSCRIBE") : STR_LIT("SUBSCRIBE");
	a[1] = (struct str){ subs[i], strlen(subs[i]) };
	if (link_put(l, 2, a) != 0)
		link_fail(l, "no room for SUBSCRIBE");
}

static void
link_ready(struct link *l)
{
	l->state = L_UP;
	l->attempt = 0;
	rc.lasterr[0] = '\0';
	if (l - rc.l == LINK_SUB)
		for (uint32_t i = 0; i < rc.nsubs && l->fd >= 0; i++)
			sub_send(l, i);
	client_state();
}

static void
reply_internal(struct link *l, uint8_t kind, const struct redis_reply *r)
{
	if (r->e[0].type == RESP_ERROR) {
		set_error(r->e[0].p, r->e[0].n);
		link_fail(l, NULL);
		return;
	}
	if (kind == P_HELLO)
		link_ready(l);
}

static void
reply_pop(struct link *l, const struct redis_reply *r)
{
	struct pending pe;

	if (l->count == 0) {
		if (r->e[0].type == RESP_ERROR)
			set_error(r->e[0].p, r->e[0].n);
		link_fail(l, "a reply nobody asked for");
		return;
	}
	pe = l->ring[l->head];
	l->head = (l->head + 1) % l->ringcap;
	l->count--;
	if (pe.kind != P_USER) {
		reply_internal(l, pe.kind, r);
		return;
	}
	rc.st.replies++;
	if (pe.cb != NULL)
		pe.cb(pe.arg, r);
}

static void
reply_sub(struct link *l, const struct redis_reply *r)
{
	struct redis_msg m;

	switch (redis_push_kind(r, &m)) {
	case REDIS_PUSH_MESSAGE:
	case REDIS_PUSH_PMESSAGE:
		rc.st.messages++;
		if (rc.o.on_message != NULL)
			rc.o.on_message(rc.o.arg, &m);
		return;
	case REDIS_PUSH_SUBSCRIBE:
	case REDIS_PUSH_UNSUBSCRIBE:
		rc.st.subs = (uint32_t)m.count;
		return;
	default:	/* PONG and plain replies answer the ring */
		reply_pop(l, r);
	}
}

static void
reply_deliver(struct link *l)
{
	static const char big[] = "ERR ward: reply too large";
	struct redis_elem e;
	struct redis_reply r = { l->el, l->nel };

	if (l->overflow) {
		e = (struct redis_elem){ RESP_ERROR, 0, 0, big,
		    sizeof big - 1 };
		r = (struct redis_reply){ &e, 1 };
	}
	l->nel = 0;
	l->used = 0;
	l->overflow = false;
	if (l - rc.l == LINK_SUB)
		reply_sub(l, &r);
	else
		reply_pop(l, &r);
}

/* One parser event into the link's reply under assembly. */
static void
reply_add(struct link *l, const struct resp_ev *ev)
{
	struct redis_elem *e;

	if (ev->first && !l->overflow) {
		if (l->nel == WARD_REDIS_REPLY_ELEMS) {
			l->overflow = true;
		} else {
			e = &l->el[l->nel++];
			e->type = ev->type;
			e->depth = ev->depth;
			e->num = ev->num;
			e->p = l->arena + l->used;
			e->n = 0;
		}
	}
	if (ev->n > 0 && !l->overflow) {
		if (l->used + ev->n > WARD_REDIS_REPLY_BYTES) {
			l->overflow = true;
		} else {
			memcpy(l->arena + l->used, ev->p, ev->n);
			l->el[l->nel - 1].n += ev->n;
			l->used += ev->n;
		}
	}
	if (ev->done)
		reply_deliver(l);
}

static void
link_input(struct link *l, const uint8_t *b, size_t n)
{
	while (n > 0 && l->fd >= 0) {
		struct resp_ev ev;
		long r = resp_feed(&l->rp, b, n, &ev);

		if (r == WARD_NEED_MORE)
			return;
		if (r < 0) {
			link_fail(l, r == WARD_ETOOBIG ? "reply above the "
			    "client's limits" : "protocol error");
			return;
		}
		b += r;
		n -= (size_t)r;
		reply_add(l, &ev);
	}
}

static void
link_read(struct link *l)
{
	for (int k = 0; k < 16 && l->fd >= 0; k++) {
		long r = port_recv(l->fd, rxbuf, sizeof rxbuf);

		if (r == PORT_EAGAIN)
			return;
		if (r <= 0) {
			link_fail(l, r == 0 ? "connection closed by the "
			    "server" : "connection reset");
			return;
		}
		rc.st.bytes_in += (uint64_t)r;
		l->last_rx = port_now_ms();
		link_input(l, rxbuf, (size_t)r);
	}
}

static void
link_write(struct link *l)
{
	while (l->fd >= 0 && l->state >= L_HANDSHAKE && l->txlen > l->txoff) {
		struct port_iov iov = { l->tx + l->txoff, l->txlen - l->txoff };
		long w = port_writev(l->fd, &iov, 1);

		if (w == PORT_EAGAIN)
			break;
		if (w < 0) {
			link_fail(l, "write failed");
			return;
		}
		rc.st.bytes_out += (uint64_t)w;
		l->txoff += (size_t)w;
	}
	if (l->txoff == l->txlen)
		l->txoff = l->txlen = 0;
	link_events(l);
}

static void
link_connect(struct link *l)
{
	int fd;

	if (l->attempt > 0)
		rc.st.reconnects++;
	if (!rc.unix_path && !rc.resolved) {
		/* start-up lookup failed: try again (may allocate) */
		if (port_resolve(rc.host, rc.service, &rc.sa) != 0) {
			link_fail(l, "cannot resolve the host");
			return;
		}
		rc.resolved = true;
	}
	fd = rc.unix_path ? port_connect_unix(rc.path) : port_connect(&rc.sa);
	if (fd < 0) {
		link_fail(l, "cannot connect");
		return;
	}
	l->fd = fd;
	l->state = L_CONNECTING;
	l->deadline = port_now_ms() + WARD_REDIS_CONNECT_MS;
	l->last_rx = l->last_ping = port_now_ms();
	l->want = PORT_EV_OUT;
	if (port_ev_add(fd, l->token, PORT_EV_OUT) != 0) {
		l->want = 0;
		port_close(fd, false);
		l->fd = -1;
		link_fail(l, "no event slot");
	}
}

static void
link_connected(struct link *l)
{
	int r = port_connect_result(l->fd);

	if (r == PORT_EAGAIN)
		return;
	if (r != 0) {
		link_fail(l, "connection refused");
		return;
	}
	link_handshake(l);
	link_write(l);
}

/* "unix:/path", "[v6]:port", "host:port"; the first of a list. */
static int
parse_addr(const char *a)
{
	const char *e = strchr(a, ','), *colon;
	size_t n = e != NULL ? (size_t)(e - a) : strlen(a), hl;

	if (n == 0 || n >= sizeof rc.addr)
		return WARD_EINVAL;
	memcpy(rc.addr, a, n);
	rc.addr[n] = '\0';
	if (strncmp(rc.addr, "unix:", 5) == 0) {
		rc.unix_path = true;
		if (n - 5 == 0 || n - 5 >= sizeof rc.path)
			return WARD_EINVAL;
		memcpy(rc.path, rc.addr + 5, n - 4);
		return 0;
	}
	colon = strrchr(rc.addr, ':');
	if (colon == NULL || colon[1] == '\0' ||
	    strlen(colon + 1) >= sizeof rc.service)
		return WARD_EINVAL;
	for (const char *p = colon + 1; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return WARD_EINVAL;
	a = rc.addr;
	hl = (size_t)(colon - a);
	if (a[0] == '[' && hl >= 2 && a[hl - 1] == ']') {
		a++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof rc.host)
		return WARD_EINVAL;
	memcpy(rc.host, a, hl);
	rc.host[hl] = '\0';
	memcpy(rc.service, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static int
copy_opt(char *dst, size_t cap, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n >= cap)
		return WARD_EINVAL;
	if (n > 0)
		memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static void
link_init(int i)
{
	struct link *l = &rc.l[i];

	memset(l, 0, sizeof *l);
	l->fd = -1;
	l->token = WARD_REDIS_TOKEN + (uint32_t)i;
	l->tx = i == LINK_CMD ? cmd_tx : sub_tx;
	l->txcap = i == LINK_CMD ? sizeof cmd_tx : sizeof sub_tx;
	l->ring = i == LINK_CMD ? cmd_ring : sub_ring;
	l->ringcap = i == LINK_CMD ? WARD_REDIS_PENDING : SUB_RING;
	l->el = rel[i];
	l->arena = rarena[i];
	l->state = L_WAIT;
	l->retry_at = port_now_ms();
}

int
redis_start(const struct redis_opts *o)
{
	redis_stop();
	memset(&rc, 0, sizeof rc);
	if (o->addr == NULL || parse_addr(o->addr) != 0 ||
	    copy_opt(rc.user, sizeof rc.user, o->user) != 0 ||
	    copy_opt(rc.password, sizeof rc.password, o->password) != 0) {
		memset(&rc, 0, sizeof rc);
		return WARD_EINVAL;
	}
	rc.o = *o;
	rc.o.addr = rc.o.user = rc.o.password = NULL;
	rc.db = o->db;
	rc.bmin = o->backoff_min_ms ? o->backoff_min_ms :
	    WARD_REDIS_BACKOFF_MIN_MS;
	rc.bmax = o->backoff_max_ms ? o->backoff_max_ms :
	    WARD_REDIS_BACKOFF_MAX_MS;
	if (!rc.unix_path)
		rc.resolved = port_resolve(rc.host, rc.service, &rc.sa) == 0;
	rc.configured = true;
	for (int i = 0; i < NLINKS; i++) {
		link_init(i);
		link_connect(&rc.l[i]);
	}
	return 0;
}

void
redis_stop(void)
{
	if (!rc.configured)
		return;
	rc.stopping = true;
	for (int i = 0; i < NLINKS; i++) {
		struct link *l = &rc.l[i];

		link_fail(l, "stopped");
		l->state = L_OFF;
	}
	log_info("redis", "addr=%s state=stopped", rc.addr);
	rc.stopping = false;
	rc.configured = false;
	rc.up = false;
	rc.nsubs = 0;
}

static int
sub_add(const char *name, bool pattern)
{
	size_t n = strlen(name);
	struct link *l = &rc.l[LINK_SUB];

	if (n == 0 || n >= WARD_REDIS_NAME_MAX)
		return WARD_EINVAL;
	for (uint32_t i = 0; i < rc.nsubs; i++)
		if (subs_pattern[i] == pattern && strcmp(subs[i], name) == 0)
			return 0;
	if (rc.nsubs == WARD_REDIS_MAX_SUBS)
		return WARD_ENOMEM;
	memcpy(subs[rc.nsubs], name, n + 1);
	subs_pattern[rc.nsubs] = pattern;
	if (rc.configured && l->state == L_UP) {
		sub_send(l, rc.nsubs);
		link_events(l);
	}
	rc.nsubs++;
	return 0;
}

int
redis_subscribe(const char *channel)
{
	return sub_add(channel, false);
}

int
redis_psubscribe(const char *pattern)
{
	return sub_add(pattern, true);
}

int
redis_cmd(redis_reply_fn cb, void *arg, int argc, const struct str *argv)
{
	struct link *l = &rc.l[LINK_CMD];
	int r;

	if (!rc.configured || l->state != L_UP || argc <= 0) {
		rc.st.refused++;
		return WARD_EIO;
	}
	if (l->count >= l->ringcap) {
		rc.st.refused++;
		return WARD_ENOMEM;
	}
	if ((r = link_put(l, argc, argv)) != 0) {
		rc.st.refused++;
		return r;
	}
	link_push(l, P_USER, cb, arg);
	rc.st.commands++;
	return 0;
}

/* ------------------------------------------------------ loop interface */

bool
redis_owns_token(uint32_t token)
{
	return rc.configured && token >= WARD_REDIS_TOKEN &&
	    token < WARD_REDIS_TOKEN + NLINKS;
}

void
redis_on_event(uint32_t token, unsigned events)
{
	struct link *l;

	if (!redis_owns_token(token))
		return;
	l = &rc.l[token - WARD_REDIS_TOKEN];
	if (l->fd < 0)
		return;
	if (l->state == L_CONNECTING) {
		link_connected(l);
		return;
	}
	if (events & (PORT_EV_IN | PORT_EV_ERR))
		link_read(l);
	if (l->fd >= 0)
		link_write(l);	/* what replies queued; interest update */
}

void
redis_flush(void)
{
	if (!rc.configured)
		return;
	for (int i = 0; i < NLINKS; i++)
		if (rc.l[i].fd >= 0 && rc.l[i].state >= L_HANDSHAKE)
			link_write(&rc.l[i]);
}

static void
link_ping(struct link *l, uint64_t now)
{
	struct str a = STR_LIT("PING");

	l->last_ping = now;
	if (l->count < l->ringcap && link_put(l, 1, &a) == 0)
		link_push(l, P_PING, NULL, NULL);
}

static void
link_tick(struct link *l, uint64_t now)
{
	switch (l->state) {
	case L_WAIT:
		if (now >= l->retry_at)
			link_connect(l);
		return;
	case L_CONNECTING:
	case L_HANDSHAKE:
		if (now >= l->deadline)
			link_fail(l, "connect timed out");
		return;
	case L_UP:
		/* now may predate a read of this turn (the loop's clock):
		 * a last_rx after now is silence 0, not 2^64 ms */
		if (now > l->last_rx && now - l->last_rx >= WARD_REDIS_DEAD_MS) {
			link_fail(l, "no reply from the server");
			return;
		}
		if (now > l->last_rx && now - l->last_rx >= WARD_REDIS_PING_MS &&
		    now > l->last_ping && now - l->last_ping >= WARD_REDIS_PING_MS) {
			link_ping(l, now);
			link_write(l);
		}
		return;
	default:
		return;
	}
}

void
redis_tick(uint64_t now)
{
	if (!rc.configured)
		return;
	for (int i = 0; i < NLINKS; i++)
		link_tick(&rc.l[i], now);
}

int
redis_timeout_ms(uint64_t now)
{
	uint64_t t = WARD_REDIS_PING_MS;

	if (!rc.configured)
		return -1;
	for (int i = 0; i < NLINKS; i++) {
		const struct link *l = &rc.l[i];
		uint64_t at = l->state == L_WAIT ? l->retry_at :
		    l->state == L_UP ? MAX(l->last_rx, l->last_ping) +
		    WARD_REDIS_PING_MS : l->deadline;

		t = MIN(t, at > now ? at - now : 0);
	}
	return (int)t;
}

int
redis_link_fd(int link, unsigned *events)
{
	const struct link *l;

	if (!rc.configured || link < 0 || link >= NLINKS)
		return -1;
	l = &rc.l[link];
	*events = l->fd >= 0 ? l->want : 0;
	return l->fd;
}
