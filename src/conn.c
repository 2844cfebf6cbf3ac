/*
 * conn.c - connections: the pool, bytes in, queues out, timers, teardown.
 *
 * Invariants:
 * - A connection holds an input buffer only while unconsumed bytes exist
 *   (a partial head, a partial frame header, a control frame not yet
 *   whole); an idle connection holds none.
 * - Output is a queue of references to shared buffers; a frame fanned out
 *   to n recipients exists once.  Each dirty connection is written with one
 *   writev per loop turn; POLLOUT is asked for only while bytes remain.
 * - The peer sets the pace: above WARD_OUT_HIGH of backlog a connection is
 *   not read (its own requests and echoes wait); a fan-out recipient above
 *   WARD_OUT_BUDGET is closed with 1013.
 * - A connection fails once (first reason wins) and is torn down in one
 *   place, the reaper, after dispatch: handlers may close anyone without
 *   invalidating the loop that called them.
 * - The transport is plain TCP (port.c) or TLS (tls.c, c->tls set at
 *   accept on a TLS listener): xport_recv / xport_writev, the engine's
 *   event wishes, close_notify at linger, the TLS slot back at reap.
 *   http.c, ws.c and the families never learn which.
 */
#include <stdio.h>

#include "internal.h"
#include "auth.h"
#include "tls.h"

struct qent {
	uint32_t	next;
	uint32_t	buf;
};

struct conn conns[WARD_CONN_SLOTS];
uint32_t now_ms;
int64_t now_wall_us;
struct ward_stats stats;

static struct qent qents[WARD_QENT_COUNT + 1];	/* [0] = none */
static uint32_t qent_free, qent_used;
static uint32_t conn_free[WARD_CONN_SLOTS];	/* stack of free slots */
static uint32_t conn_nfree;
static uint32_t active[WARD_CONN_SLOTS];	/* dense list for sweeps */
static uint32_t active_pos[WARD_CONN_SLOTS];
static uint32_t nactive, nrefused;

#define LIST_END UINT32_MAX
static uint32_t dirty_head = LIST_END;
static uint32_t reap_head = LIST_END;
static uint32_t pause_head = LIST_END;
static uint32_t nsent;			/* deliveries queued, wraps */
static uint32_t hot[WARD_HOT_MAX];		/* CF_HOT connections this turn */
static uint32_t nhot;
static uint32_t tls_pend[WARD_CONN_SLOTS];	/* CF_TLS_PEND connections */
static uint32_t ntls_pend;

static void process_input(struct conn *c);
static void conn_flush(struct conn *c);
static void queue_close_frame(struct conn *c, unsigned code,
    const char *reason);

/* Its own answers are piling up: stop reading it. */
static bool
backlogged(const struct conn *c)
{
	return c->q_bytes > WARD_OUT_HIGH || c->q_count >= WARD_QCOUNT_HIGH ||
	    c->q_heavy >= (WARD_CONN_HEAVY_MAX + 1) / 2;
}

uint32_t
conn_heavy_max(void)
{
	return WARD_CONN_HEAVY_MAX;
}

/* An I/O or big buffer: what a slow consumer must not pile up. */
static bool
heavy(uint32_t h)
{
	int k = buf_class(h);

	return k == BUF_IO || k == BUF_BIG;
}

void
conn_init(void)
{
	for (uint32_t i = 0; i < WARD_QENT_COUNT; i++)
		qents[i + 1].next = i + 2 <= WARD_QENT_COUNT ? i + 2 : 0;
	qent_free = WARD_QENT_COUNT > 0 ? 1 : 0;
	qent_used = 0;
	conn_nfree = 0;
	for (uint32_t i = WARD_CONN_SLOTS; i-- > 0;) {
		conns[i].state = CS_FREE;
		conns[i].fd = -1;
		conn_free[conn_nfree++] = i;
	}
	nactive = 0;
}

uint32_t
conn_active(void)
{
	return nactive;
}

void
conn_queue_stats(struct conn_qstats *q)
{
	memset(q, 0, sizeof *q);
	q->entries = qent_used;
	q->capacity = WARD_QENT_COUNT;
	for (uint32_t i = 0; i < nactive; i++) {
		const struct conn *c = &conns[active[i]];

		q->bytes += c->q_bytes;
		if (c->q_bytes > q->max_bytes)
			q->max_bytes = c->q_bytes;
		if (c->flags & CF_WANT_OUT)
			q->waiting++;
	}
}

uint32_t
conn_admitted(void)
{
	return nactive - nrefused;
}

static bool
same_addr(const struct port_addr *a, const struct port_addr *b)
{
	size_t n = a->family == 4 ? 4 : 16;

	return a->family == b->family && memcmp(a->ip, b->ip, n) == 0;
}

/* Refuse c (503, then close) when its address is over a cap. */
static void
per_ip_check(struct conn *c)
{
	uint32_t n = 0, pending = 0;
	int why = -1;

	for (uint32_t i = 0; i < nactive; i++) {
		const struct conn *o = &conns[active[i]];

		if (o == c || (o->flags & CF_REFUSED) ||
		    !same_addr(&o->peer, &c->peer))
			continue;
		n++;
		if (o->state == CS_HTTP && !(o->flags & CF_SERVED))
			pending++;
	}
	if (cfg.max_conns_per_ip > 0 && n >= (uint32_t)cfg.max_conns_per_ip)
		why = CUT_PER_IP;
	else if (cfg.max_pending_per_ip > 0 &&
	    pending >= (uint32_t)cfg.max_pending_per_ip)
		why = CUT_PENDING_IP;
	if (why < 0)
		return;
	c->flags |= CF_REFUSED | CF_CLOSE_AFTER;
	nrefused++;
	stats.cuts[why]++;
	reply_error(c, 503, "unavailable", why == CUT_PER_IP ?
	    "too many connections from this address" :
	    "too many connections without a request from this address");
	conn_linger(c);
}

struct conn *
conn_new(int fd, int listener, const struct port_addr *peer)
{
	struct conn *c;

	if (conn_nfree == 0)
		return NULL;
	c = &conns[conn_free[--conn_nfree]];
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->state = CS_HTTP;
	c->listener = (uint8_t)listener;
	c->flags = CF_IN_REQ;		/* the first request is awaited */
	c->t_rx = c->t_start = now_ms;
	c->dirty_next = c->reap_next = c->pause_next = LIST_END;
	c->t_prog = now_ms;
	c->peer = *peer;
	if (port_ev_add(fd, conn_id(c), PORT_EV_IN) != 0) {
		conn_free[conn_nfree++] = conn_id(c);
		c->state = CS_FREE;
		return NULL;
	}
	c->ev = PORT_EV_IN;
	active_pos[conn_id(c)] = nactive;
	active[nactive++] = conn_id(c);
	if (conn_admitted() > (uint32_t)cfg.max_connections) {
		c->flags |= CF_REFUSED | CF_CLOSE_AFTER;
		nrefused++;
		stats.refused_full++;
		reply_error(c, 503, "unavailable", "server full: too many "
		    "connections, retry later");
		conn_linger(c);
	} else if (cfg.max_conns_per_ip > 0 || cfg.max_pending_per_ip > 0) {
		per_ip_check(c);
	}
	log_conn_open(c);
	return c;
}

/* --- transport: plain TCP or TLS ---------------------------------------- */

/* The TLS handshake failed or the peer left during it: count why. */
static void
tls_hs_failed(struct conn *c, long r)
{
	int err = tls_conn_error(c->tls);
	int why = r == 0 || err == 0 ? TLSF_CLOSED : tls_error_class(err);

	stats.tls_fail[why]++;
	log_debug("tls_fail", "conn=%u reason=\"%s\"", conn_id(c),
	    err != 0 ? tls_error_text(err) : "closed in handshake");
}

/* After each engine call: a handshake that just finished is counted, and
 * the request timer starts from there. */
static void
tls_note(struct conn *c, long r)
{
	if (!(c->flags & CF_TLS_HS) && tls_conn_handshake_done(c->tls)) {
		c->flags |= CF_TLS_HS;
		stats.tls_handshakes++;
		if (tls_conn_resumed(c->tls))
			stats.tls_resumed++;
		c->t_start = c->t_prog = now_ms;
		c->prog_n = 0;
	} else if (!(c->flags & CF_TLS_HS) && r != PORT_EAGAIN && r <= 0) {
		tls_hs_failed(c, r);
	} else if (r == WARD_EPROTO) {
		log_debug("tls_fail", "conn=%u reason=\"%s\"", conn_id(c),
		    tls_error_text(tls_conn_error(c->tls)));
	}
}

static long
xport_recv(struct conn *c, void *dst, size_t n)
{
	long r;

	if (c->tls == NULL)
		return port_recv(c->fd, dst, n);
	r = tls_conn_recv(c->tls, c->fd, dst, n);
	tls_note(c, r);
	return r;
}

/* Bytes taken (TLS: the engine owns them and sends them as the socket
 * takes them), PORT_EAGAIN, or a negative code.  TLS with n == 0 sends
 * the ciphertext the engine still holds. */
static long
xport_writev(struct conn *c, const struct port_iov *iov, int n)
{
	long w;

	if (c->tls == NULL)
		return port_writev(c->fd, iov, n);
	w = tls_conn_writev(c->tls, c->fd, iov, n);
	tls_note(c, w < 0 ? w : PORT_EAGAIN);
	return w;
}

/* The engine holds plaintext or read-ahead ciphertext: no poll event will
 * come for it, so the loop reads it (conn_read_tls_pending). */
static void
tls_pend_note(struct conn *c)
{
	if (c->tls == NULL || (c->flags & CF_TLS_PEND) ||
	    !tls_conn_pending(c->tls))
		return;
	c->flags |= CF_TLS_PEND;
	tls_pend[ntls_pend++] = conn_id(c);
}

static void
tls_pend_unlink(struct conn *c)
{
	for (uint32_t i = 0; i < ntls_pend; i++)
		if (tls_pend[i] == conn_id(c)) {
			tls_pend[i] = tls_pend[--ntls_pend];
			break;
		}
	c->flags &= ~CF_TLS_PEND;
}

/* What the transport needs on top of the application's interest: the
 * engine's own wishes during the handshake (queued answers wait for it),
 * then POLLOUT while it holds ciphertext. */
static unsigned
tls_events(const struct conn *c, unsigned want)
{
	if (!tls_conn_handshake_done(c->tls))
		return tls_conn_events(c->tls);
	return want | (tls_conn_events(c->tls) & PORT_EV_OUT);
}

void
conn_update_events(struct conn *c)
{
	unsigned want = 0;

	if (c->state == CS_DEAD || c->state == CS_FREE)
		return;
	if (!(c->flags & (CF_PAUSED | CF_THROTTLED | CF_EOF)))
		want |= PORT_EV_IN;
	/* write interest only when a flush could not empty the queue: new
	 * output is written at the end of the turn anyway, and asking for
	 * POLLOUT each time costs two epoll_ctl calls per message */
	if (c->q_head != 0 && (c->flags & CF_WANT_OUT))
		want |= PORT_EV_OUT;
	if (c->tls != NULL) {
		want = tls_events(c, want);
		tls_pend_note(c);
	}
	if (want != c->ev && port_ev_mod(c->fd, conn_id(c), want) == 0)
		c->ev = (uint8_t)want;
}

static void
mark_dirty(struct conn *c)
{
	if (c->flags & CF_DIRTY)
		return;
	c->flags |= CF_DIRTY;
	c->dirty_next = dirty_head;
	dirty_head = conn_id(c);
}

static int
queue_push(struct conn *c, uint32_t h)
{
	uint32_t q = qent_free;

	if (q == 0)
		return WARD_ENOMEM;
	qent_free = qents[q].next;
	qent_used++;
	qents[q].next = 0;
	qents[q].buf = h;
	if (c->q_tail != 0) {
		qents[c->q_tail].next = q;
	} else {
		c->q_head = q;
		c->t_out = now_ms;	/* the stall clock starts now */
	}
	c->q_tail = q;
	c->q_bytes += buf_len(h);
	c->q_count++;
	c->q_pin += (uint32_t)buf_cap(h);
	c->q_heavy += heavy(h);
	mark_dirty(c);
	return 0;
}

/* New data may follow: HTTP answers, or frames before our close frame. */
static bool
can_send(const struct conn *c)
{
	return (c->state == CS_HTTP || c->state == CS_WS) &&
	    !(c->flags & CF_SHUT_WR);
}

/* Give one queue entry back (its buffer reference with it). */
static void
qent_release(struct conn *c, uint32_t q)
{
	uint32_t h = qents[q].buf;

	c->q_count--;
	c->q_pin -= (uint32_t)buf_cap(h);
	c->q_heavy -= heavy(h);
	buf_unref(h);
	qents[q].next = qent_free;
	qent_free = q;
	qent_used--;
}

/* Cut the queue at a frame boundary: keep only an entry partly written
 * (the peer has its first bytes), drop everything behind it. */
static void
queue_trim(struct conn *c)
{
	uint32_t keep = c->q_off > 0 ? c->q_head : 0;
	uint32_t q = keep != 0 ? qents[keep].next : c->q_head;

	while (q != 0) {
		uint32_t next = qents[q].next;

		c->q_bytes -= buf_len(qents[q].buf);
		qent_release(c, q);
		q = next;
	}
	if (keep != 0) {
		qents[keep].next = 0;
		c->q_tail = keep;
	} else {
		c->q_head = c->q_tail = 0;
		c->q_off = 0;
		c->q_bytes = 0;
	}
}

/*
 * A WebSocket that does not keep up: its queue is cut at a frame
 * boundary (its buffers go back to the pools at once), the 1013 close
 * frame follows, and the connection waits close_timeout for the peer.
 */
static void
slow_consumer_cut(struct conn *c, int why)
{
	if (c->state != CS_WS)
		return;
	stats.drops_slow++;
	stats.cuts[why]++;
	log_debug("slow_consumer", "conn=%u queued=%u pinned=%u heavy=%u",
	    conn_id(c), c->q_bytes, c->q_pin, c->q_heavy);
	queue_trim(c);
	buf_unref(c->msg);
	c->msg = 0;
	if (c->close_code == 0)
		c->close_code = 1013;
	queue_close_frame(c, 1013, "slow consumer");
	if (c->state == CS_DEAD)
		return;
	c->state = CS_CLOSING;
	c->t_start = now_ms;
}

/* A WebSocket whose queue would pass its budget (the capacity of the
 * buffers it pins, its I/O and big buffers, one more entry when entry)
 * does not read: cut with 1013. */
static bool
over_budget(struct conn *c, uint32_t pin, uint32_t hv, bool entry)
{
	/* a reader whose socket took bytes in the last two ticks lags, it
	 * does not refuse: twice the I/O buffers before it is cut */
	uint32_t hmax = now_ms - c->t_out < 2 * WARD_TICK_MS ?
	    2 * WARD_CONN_HEAVY_MAX : WARD_CONN_HEAVY_MAX;

	if (c->state != CS_WS || (c->q_pin + pin <= WARD_OUT_BUDGET &&
	    c->q_heavy + hv <= hmax &&
	    (!entry || c->q_count < WARD_QCOUNT_BUDGET)))
		return false;
	slow_consumer_cut(c, CUT_SLOW_CONSUMER);
	return true;
}

/*
 * A short frame behind an I/O or big buffer that only c still holds (the
 * other recipients have written it): copied into its free room instead of
 * pinning one more buffer.  A reader that lags packs its backlog; a
 * whole frame is appended, so a cut stays on a frame boundary.
 */
static bool
queue_pack(struct conn *c, uint32_t h)
{
	uint32_t t, len = buf_len(h), tl;
	size_t off;

	if (c->q_tail == 0 || len > WARD_IOBUF_SIZE / 4)
		return false;
	t = qents[c->q_tail].buf;
	if (t == h || buf_refs(t) != 1 || !heavy(t))
		return false;
	off = (size_t)(buf_data(t) - buf_base(t));
	tl = buf_len(t);
	if (buf_cap(t) - off - tl < len)
		return false;
	memcpy(buf_data(t) + tl, buf_data(h), len);
	buf_set(t, (uint32_t)off, tl + len);
	c->q_bytes += len;
	mark_dirty(c);
	return true;
}

int
conn_send(struct conn *c, uint32_t h)
{
	if (!can_send(c) || h == 0)
		return WARD_EINVAL;
	if (c->state == CS_WS && queue_pack(c, h)) {
		nsent++;
		reg_note_out(conn_id(c), buf_len(h));
		return 0;
	}
	if (over_budget(c, (uint32_t)buf_cap(h), heavy(h), true))
		return WARD_ENOMEM;
	if (queue_push(c, h) != 0) {
		static uint32_t warned;

		if (now_ms - warned >= 1000 || warned == 0) {
			log_warn("queue_full", "entries=%u detail=\"outbound "
			    "queue entries exhausted: dropping recipients\"",
			    WARD_QENT_COUNT);
			warned = now_ms | 1;
		}
		stats.drops_slow++;
		conn_drop(c, true);
		return WARD_ENOMEM;
	}
	buf_ref(h);
	nsent++;
	if (c->state == CS_WS)
		reg_note_out(conn_id(c), buf_len(h));
	return 0;
}

uint32_t
conn_tail_buf(const struct conn *c)
{
	return c->q_tail != 0 ? qents[c->q_tail].buf : 0;
}

int
conn_send_grown(struct conn *c, uint32_t x, uint32_t grown)
{
	uint32_t more;

	if (!can_send(c) || c->q_tail == 0 || qents[c->q_tail].buf != x ||
	    buf_len(grown) < buf_len(x))
		return WARD_EINVAL;
	more = buf_len(grown) - buf_len(x);
	if (over_budget(c, buf_cap(grown) > buf_cap(x) ?
	    (uint32_t)(buf_cap(grown) - buf_cap(x)) : 0,
	    heavy(grown) && !heavy(x), false))
		return WARD_ENOMEM;
	buf_ref(grown);
	qents[c->q_tail].buf = grown;
	c->q_pin += (uint32_t)buf_cap(grown);
	c->q_pin -= (uint32_t)buf_cap(x);
	c->q_heavy += heavy(grown);
	c->q_heavy -= heavy(x);
	buf_unref(x);
	c->q_bytes += more;
	nsent++;
	mark_dirty(c);
	if (c->state == CS_WS)
		reg_note_out(conn_id(c), more);
	return 0;
}

int
conn_send_owned(struct conn *c, uint32_t h)
{
	int rc = conn_send(c, h);

	buf_unref(h);
	return rc;
}

/* Queue a close frame regardless of the budget. */
static void
queue_close_frame(struct conn *c, unsigned code, const char *reason)
{
	uint8_t pl[125];
	size_t rl = reason ? MIN(strlen(reason), sizeof pl - 2) : 0;
	uint32_t h;

	pl[0] = (uint8_t)(code >> 8);
	pl[1] = (uint8_t)code;
	if (rl > 0)
		memcpy(pl + 2, reason, rl);
	h = ws_frame(WS_OP_CLOSE, pl, 2 + rl);
	if (h == 0 || queue_push(c, h) != 0) {
		buf_unref(h);
		conn_drop(c, true);
		return;
	}
	if (code < 1000 + ARRAY_LEN(stats.closes))
		stats.closes[code - 1000]++;
}

void
conn_close_ws(struct conn *c, unsigned code, const char *reason)
{
	if (c->state != CS_WS)
		return;
	if (c->close_code == 0)
		c->close_code = (uint16_t)code;
	queue_close_frame(c, code, reason);
	if (c->state == CS_DEAD)
		return;
	c->state = CS_CLOSING;
	c->t_start = now_ms;
}

void
conn_linger(struct conn *c)
{
	if (c->state == CS_DEAD || c->state == CS_LINGER)
		return;
	c->state = CS_LINGER;
	c->t_start = now_ms;
	mark_dirty(c);
}

void
conn_fail(struct conn *c, unsigned code, const char *why)
{
	if (c->state == CS_DEAD || c->state == CS_FREE)
		return;
	log_debug("conn_fail", "conn=%u code=%u reason=\"%s\"", conn_id(c),
	    code, why);
	if (c->close_code == 0)
		c->close_code = (uint16_t)code;
	if (c->state == CS_WS)
		conn_close_ws(c, code, why);
	if (c->state == CS_HTTP)
		c->flags |= CF_CLOSE_AFTER;
	conn_linger(c);
}

void
conn_drop(struct conn *c, bool abort)
{
	if (c->state == CS_DEAD || c->state == CS_FREE)
		return;
	c->state = CS_DEAD;
	if (abort)
		c->flags |= CF_ABORT;
	if (!(c->flags & CF_REAP)) {
		c->flags |= CF_REAP;
		c->reap_next = reap_head;
		reap_head = conn_id(c);
	}
}

void
conn_ws_opened(struct conn *c, const char *type,
    const struct auth_claims *a)
{
	struct reg_entry *e = &reg[conn_id(c)];
	struct reg_profile *p;

	c->flags |= CF_WS_OPEN;
	c->flags &= ~CF_IN_REQ;
	reg_register(conn_id(c), reg_type_of(type));
	if (a == NULL)
		return;
	e->authed = 1;
	p = reg_prof_w(conn_id(c));
	utf8_copy(p->role, sizeof p->role, a->role);
	utf8_copy(p->name, sizeof p->name, a->name);
	utf8_copy(p->tenant, sizeof p->tenant, a->tenant);
	reg_set_user(conn_id(c), a->sub);
	if (a->has_exp) {
		int64_t left = a->exp + cfg.jwt_leeway -
		    port_wall_us() / 1000000;

		e->exp_ms = (uint64_t)now_ms + (uint64_t)(left > 0 ? left : 0) *
		    1000u;
	}
}

/* --- input -------------------------------------------------------------- */

static void
pause_for(struct conn *c, int cls)
{
	c->flags |= CF_PAUSED;
	c->wait_cls = (uint8_t)cls;
	if (c->pause_next == LIST_END && pause_head != conn_id(c)) {
		c->pause_next = pause_head;
		pause_head = conn_id(c);
	}
	conn_update_events(c);
}

/* Can a connection paused with this wait_cls go on? */
static bool
wait_ready(uint8_t w)
{
	int cls = w & ~WAIT_SPARE;

	if (cls == WAIT_READ)
		return buf_spare_in(BUF_IO) || buf_spare_in(BUF_MED) ||
		    buf_spare_in(BUF_SMALL);
	return (w & WAIT_SPARE) ? buf_spare_in(cls) : buf_free_in(cls);
}

/* Move the unconsumed request into a buffer of total bytes (a body is
 * coming): the smallest class that holds it, above the reserve. */
static size_t
grow_rx(struct conn *c, const uint8_t *p, size_t n, size_t total)
{
	int wait;
	uint32_t h = buf_get_spare_fit(total, &wait);

	if (h == 0) {
		pause_for(c, (uint8_t)((wait < 0 ? BUF_BIG : wait) | WAIT_SPARE));
		return 0;
	}
	memcpy(buf_base(h), p, n);
	buf_unref(c->rx);
	c->rx = h;
	c->rx_len = (uint32_t)n;
	return SIZE_MAX;		/* the buffer moved: start again */
}

/* A buffer to read into: an I/O buffer while above the reserve, else a
 * medium or a small one (a read then fills it and grows). */
static uint32_t
rx_take(void)
{
	static const int order[] = { BUF_IO, BUF_MED, BUF_SMALL };

	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		if (buf_spare_in(order[i]))
			return buf_get_class(order[i]);
	return 0;
}

/* Replace rx by h (of at least rx_len bytes): copy, give the old back. */
static void
rx_move(struct conn *c, uint32_t h)
{
	if (c->rx_len > 0)
		memcpy(buf_base(h), buf_base(c->rx), c->rx_len);
	buf_unref(c->rx);
	c->rx = h;
}

/* The read filled rx and it is smaller than an I/O buffer: the bytes ask
 * for more room.  False when none is free above the reserve. */
static bool
rx_grow(struct conn *c)
{
	uint32_t h;

	if (buf_cap(c->rx) >= WARD_IOBUF_SIZE)
		return false;
	h = buf_get_spare(BUF_IO);
	if (h == 0 && buf_cap(c->rx) < WARD_MEDBUF_SIZE)
		h = buf_get_spare(BUF_MED);
	if (h == 0)
		return false;
	rx_move(c, h);
	return true;
}

/*
 * What is left unconsumed (a partial head, a partial frame header) moves
 * to the smallest buffer that holds it: a request that never completes
 * holds a small buffer, not an I/O one.  Bodies (big buffers) stay.
 */
static void
rx_shrink(struct conn *c)
{
	int cls;
	uint32_t h;

	if (c->rx == 0 || c->rx_len == 0)
		return;
	cls = buf_class(c->rx);
	if (cls != BUF_IO && cls != BUF_MED)
		return;
	if (c->rx_len <= WARD_SMALLBUF_SIZE && buf_spare_in(BUF_SMALL))
		h = buf_get_class(BUF_SMALL);
	else if (cls == BUF_IO && c->rx_len <= WARD_MEDBUF_SIZE &&
	    buf_spare_in(BUF_MED))
		h = buf_get_class(BUF_MED);
	else
		return;
	rx_move(c, h);
}

/* Queue the 408 a cut head is owed, when a buffer for it is free. */
static void
owe_408(struct conn *c)
{
	if (!(c->flags & CF_OWE_408))
		return;
	if (!buf_free_in(BUF_MED) && !buf_free_in(BUF_IO))
		return;			/* later: the sweep tries again */
	c->flags &= ~CF_OWE_408;
	reply_error(c, 408, "request_timeout",
	    "request not received in time");
	conn_linger(c);
}

/* A request head (or body) that does not complete: its bytes are given
 * back at once, it gets its 408, then the connection closes. */
static void
cut_head(struct conn *c, int why)
{
	bool began = c->rx_len > 0;	/* bytes of it came: it is owed */

	stats.cuts[why]++;
	buf_unref(c->rx);
	c->rx = 0;
	c->rx_len = 0;
	c->rx_scan = 0;
	c->flags &= ~CF_PAUSED;
	c->flags |= CF_CLOSE_AFTER;
	if (began) {
		c->flags |= CF_OWE_408;
		c->t_start = now_ms;
		owe_408(c);
	} else {
		conn_linger(c);
	}
	conn_update_events(c);
}

/* An unfinished WebSocket message that does not progress: its buffers
 * go back at once, then close 1008. */
static void
cut_message(struct conn *c, int why)
{
	stats.cuts[why]++;
	buf_unref(c->msg);
	c->msg = 0;
	buf_unref(c->rx);
	c->rx = 0;
	c->rx_len = 0;
	c->flags &= ~CF_PAUSED;
	conn_fail(c, 1008, "message not completed in time");
	conn_update_events(c);
}

static void
send_continue(struct conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (c->flags & CF_CONTINUE)
		return;
	c->flags |= CF_CONTINUE;
	reply_raw(c, cont, sizeof cont - 1);
}

/* A LF not preceded by CR in the new bytes: the head can never end. */
static bool
bare_lf(const uint8_t *p, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return true;
	return false;
}

static size_t
http_input(struct conn *c, uint8_t *p, size_t n)
{
	static struct http_req req;
	size_t scan = c->rx_scan, total;
	int hl;

	if (c->flags & CF_CLOSE_AFTER)
		return n;		/* answered for the last time */
	if (!(c->flags & CF_IN_REQ)) {
		c->flags |= CF_IN_REQ;
		c->t_start = now_ms;
	}
	if (!http_head_complete((char *)p, n, &scan) && n <= WARD_MAX_HEAD &&
	    !bare_lf(p, c->rx_scan, n)) {
		c->rx_scan = (uint16_t)MIN(scan, UINT16_MAX);
		return 0;
	}
	hl = http_parse(&req, (char *)p, n);
	if (hl == WARD_NEED_MORE)
		return 0;
	if (hl < 0) {
		c->flags |= CF_CLOSE_AFTER;
		reply_error(c, -hl, NULL, NULL);
		conn_linger(c);
		return n;
	}
	total = (size_t)hl + (size_t)(req.content_length > 0 ?
	    req.content_length : 0);
	if (n < total) {
		if (total > buf_cap(c->rx))
			return grow_rx(c, p, n, total);
		if (req.flags & HTTP_F_EXPECT_100)
			send_continue(c);
		return 0;
	}
	req.body = p + hl;
	req.body_len = total - (size_t)hl;
	c->flags &= ~(CF_IN_REQ | CF_CONTINUE | CF_HEAD_REQ);
	c->flags |= CF_SERVED;
	c->rx_scan = 0;
	if (req.method == HTTP_HEAD)
		c->flags |= CF_HEAD_REQ;
	if (req.flags & HTTP_F_CLOSE)
		c->flags |= CF_CLOSE_AFTER;
	stats.http_requests++;
	router_dispatch(c, &req);
	if (c->state == CS_HTTP && (c->flags & CF_CLOSE_AFTER))
		conn_linger(c);
	return total;
}

static size_t
feed(struct conn *c, uint8_t *p, size_t n)
{
	switch (c->state) {
	case CS_HTTP:
		return http_input(c, p, n);
	case CS_WS:
	case CS_CLOSING:
		return ws_feed(c, p, n);
	default:
		return n;		/* lingering or dead: discard */
	}
}

static void
release_rx(struct conn *c)
{
	if (c->rx != 0 && c->rx_len == 0) {
		buf_unref(c->rx);
		c->rx = 0;
	}
}

/* Will its input produce answers (so it needs room for them)?  A
 * connection closing needs none: it only reads to find the end. */
static bool
answers(const struct conn *c)
{
	return c->state == CS_WS ||
	    (c->state == CS_HTTP && !(c->flags & CF_CLOSE_AFTER));
}

static void
process_input(struct conn *c)
{
	uint8_t *p = buf_base(c->rx);
	size_t used = 0;

	if (c->flags & CF_IN_INPUT)
		return;
	c->flags |= CF_IN_INPUT;
	while (used < c->rx_len && !(c->flags & (CF_PAUSED | CF_THROTTLED))) {
		size_t k;

		if (c->q_count >= WARD_QCOUNT_FLUSH && c->state != CS_DEAD)
			conn_flush(c);	/* give buffers back now */
		if (backlogged(c)) {
			/* the peer is not reading our answers: stop reading */
			c->flags |= CF_THROTTLED;
			break;
		}
		if (answers(c) && !buf_free_in(BUF_IO)) {
			/* an answer could not be built: wait, do not fail */
			c->flags |= CF_PAUSED;
			c->wait_cls = BUF_IO;
			break;
		}
		k = feed(c, p + used, c->rx_len - used);

		if (k == SIZE_MAX) {	/* rx replaced by a larger buffer */
			p = buf_base(c->rx);
			used = 0;
			continue;
		}
		if (k == 0)
			break;
		used += k;
	}
	c->flags &= ~CF_IN_INPUT;
	if (used > 0 && used < c->rx_len)
		memmove(p, p + used, c->rx_len - used);
	c->rx_len -= (uint32_t)used;
	if (c->flags & CF_PAUSED)
		pause_for(c, c->wait_cls);
	release_rx(c);
	rx_shrink(c);
}

static void
on_eof(struct conn *c)
{
	c->flags |= CF_EOF;
	if (c->state == CS_HTTP && c->q_head != 0 && c->rx_len == 0) {
		c->flags |= CF_CLOSE_AFTER;	/* answer, then close */
		conn_linger(c);
		return;
	}
	conn_drop(c, false);
}

static void
conn_read(struct conn *c)
{
	uint32_t sent0 = nsent;

	for (int round = 0; round < 4; round++) {
		size_t space;
		long n;

		if (c->state == CS_DEAD ||
		    (c->flags & (CF_PAUSED | CF_THROTTLED | CF_EOF)))
			break;
		if (c->rx == 0) {
			c->rx = rx_take();
			if (c->rx == 0) {
				pause_for(c, WAIT_READ | WAIT_SPARE);
				return;
			}
			c->rx_len = 0;
		}
		space = buf_cap(c->rx) - c->rx_len;
		if (space == 0 && buf_cap(c->rx) < WARD_IOBUF_SIZE) {
			if (!rx_grow(c)) {
				pause_for(c, BUF_IO | WAIT_SPARE);
				break;
			}
			space = buf_cap(c->rx) - c->rx_len;
		}
		if (space == 0) {	/* cannot happen: parsers consume */
			conn_fail(c, c->state == CS_HTTP ? 431 : 1009, "stuck");
			break;
		}
		n = xport_recv(c, buf_base(c->rx) + c->rx_len, space);
		if (n == PORT_EAGAIN)
			break;
		if (n <= 0) {
			if (n == 0)
				on_eof(c);
			else
				conn_drop(c, false);
			break;
		}
		c->rx_len += (uint32_t)n;
		c->t_rx = now_ms;
		c->prog_n += (uint32_t)n;
		c->flags &= ~CF_PING_SENT;
		stats.bytes_in += (uint64_t)n;
		process_input(c);
		if ((size_t)n < space)
			break;
		/* it filled a small buffer: more is waiting, take room */
		if (c->rx != 0 && buf_cap(c->rx) < WARD_IOBUF_SIZE &&
		    buf_spare_in(BUF_IO))
			rx_grow(c);
	}
	release_rx(c);
	conn_update_events(c);
	/* its input fanned out: more of it may follow while we work */
	if (nsent - sent0 >= WARD_COALESCE_MIN && !(c->flags & CF_HOT) &&
	    nhot < WARD_HOT_MAX && c->state != CS_DEAD) {
		c->flags |= CF_HOT;
		hot[nhot++] = conn_id(c);
	}
}

bool
conn_read_hot(void)
{
	uint64_t in0 = stats.bytes_in;

	for (uint32_t i = 0; i < nhot; i++) {
		struct conn *c = &conns[hot[i]];

		if ((c->flags & CF_HOT) && c->state != CS_DEAD &&
		    c->state != CS_FREE)
			conn_read(c);
	}
	return stats.bytes_in != in0;
}

static bool
can_read(const struct conn *c)
{
	return c->state != CS_DEAD && c->state != CS_FREE &&
	    !(c->flags & (CF_PAUSED | CF_THROTTLED | CF_EOF));
}

bool
conn_tls_pending(void)
{
	for (uint32_t i = 0; i < ntls_pend; i++)
		if (can_read(&conns[tls_pend[i]]))
			return true;
	return false;
}

bool
conn_read_tls_pending(void)
{
	uint32_t n = ntls_pend;
	bool any = false;

	/* bounded: the list as it is now; a read may put c back */
	for (uint32_t i = 0; i < n && i < ntls_pend;) {
		struct conn *c = &conns[tls_pend[i]];

		if (!can_read(c)) {
			i++;
			continue;
		}
		tls_pend[i] = tls_pend[--ntls_pend];
		n--;
		c->flags &= ~CF_TLS_PEND;
		conn_read(c);
		any = true;
	}
	return any;
}

/* --- output ------------------------------------------------------------- */

static void
queue_consume(struct conn *c, size_t w)
{
	c->q_bytes -= (uint32_t)w;
	while (w > 0 && c->q_head != 0) {
		uint32_t q = c->q_head, h = qents[q].buf;
		size_t left = buf_len(h) - c->q_off;

		if (w < left) {
			c->q_off += (uint32_t)w;
			return;
		}
		w -= left;
		c->q_off = 0;
		c->q_head = qents[q].next;
		if (c->q_head == 0)
			c->q_tail = 0;
		qent_release(c, q);
	}
}

static void
queue_drop_all(struct conn *c)
{
	queue_consume(c, c->q_bytes);
	c->q_bytes = 0;
	c->q_off = 0;
}

/* Everything queued has left: what comes next. */
static void
after_flush(struct conn *c)
{
	if (c->state == CS_LINGER && !(c->flags & CF_SHUT_WR)) {
		/* TLS: close_notify (and any ciphertext still held) first */
		if (c->tls != NULL && !tls_conn_shutdown(c->tls, c->fd))
			return;		/* POLLOUT: the engine's wish */
		port_shutdown_wr(c->fd);
		c->flags |= CF_SHUT_WR;
		c->t_start = now_ms;
		if (c->flags & CF_EOF)
			conn_drop(c, false);
	}
	if (c->flags & CF_THROTTLED) {
		c->flags &= ~CF_THROTTLED;
		if (c->rx != 0)
			process_input(c);
	}
}

static void
conn_flush(struct conn *c)
{
	struct port_iov iov[WARD_IOV_MAX];
	uint32_t q = c->q_head, off = c->q_off;
	int n = 0;
	long w;

	while (q != 0 && n < WARD_IOV_MAX) {
		uint32_t h = qents[q].buf;

		iov[n].base = buf_data(h) + off;
		iov[n].len = buf_len(h) - off;
		off = 0;
		n++;
		q = qents[q].next;
	}
	if (n > 0 || c->tls != NULL) {
		w = xport_writev(c, iov, n);
		if (w < 0 && w != PORT_EAGAIN) {
			conn_drop(c, false);
			return;
		}
		if (w > 0) {
			stats.bytes_out += (uint64_t)w;
			queue_consume(c, (size_t)w);
			c->t_out = now_ms;
		}
	}
	if (c->q_head != 0)
		c->flags |= CF_WANT_OUT;	/* the socket is full: wait */
	else
		c->flags &= ~CF_WANT_OUT;
	if (c->q_head == 0)
		after_flush(c);
	else if ((c->flags & CF_THROTTLED) && c->q_bytes < WARD_OUT_HIGH / 2 &&
	    c->q_count < WARD_QCOUNT_HIGH / 2) {
		c->flags &= ~CF_THROTTLED;
		if (c->rx != 0)
			process_input(c);
	}
	if (c->state != CS_DEAD)
		conn_update_events(c);
}

void
conn_flush_all(void)
{
	for (uint32_t i = 0; i < nhot; i++)
		conns[hot[i]].flags &= ~CF_HOT;
	nhot = 0;
	fanout_turn_end();
	while (dirty_head != LIST_END) {
		struct conn *c = &conns[dirty_head];

		dirty_head = c->dirty_next;
		c->dirty_next = LIST_END;
		c->flags &= ~CF_DIRTY;
		if (c->state != CS_DEAD && c->state != CS_FREE)
			conn_flush(c);
	}
}

void
conn_on_event(struct conn *c, unsigned ev)
{
	if (c->state == CS_DEAD || c->state == CS_FREE)
		return;
	if (ev & PORT_EV_OUT)
		conn_flush(c);
	if (ev & (PORT_EV_IN | PORT_EV_ERR))
		conn_read(c);
	if ((ev & PORT_EV_ERR) && !(ev & PORT_EV_IN) && c->state != CS_DEAD)
		conn_drop(c, false);
}

/* --- timers, pauses, teardown -------------------------------------------- */

static void
sweep_ws(struct conn *c)
{
	uint32_t idle = now_ms - c->t_rx;
	uint32_t hb = (uint32_t)cfg.heartbeat_ms;

	if (reg[conn_id(c)].exp_ms != 0 &&
	    (uint64_t)now_ms >= reg[conn_id(c)].exp_ms) {
		conn_close_ws(c, 1008, "token expired");
		return;
	}
	if (hb == 0)
		return;
	if (idle >= 2 * hb) {
		log_debug("heartbeat_timeout", "conn=%u", conn_id(c));
		conn_fail(c, 1001, "heartbeat timeout");
	} else if (idle >= hb && !(c->flags & CF_PING_SENT)) {
		c->flags |= CF_PING_SENT;
		ws_send(c, WS_OP_PING, "hb", 2);
	}
}

/* Queued output that has not moved: the peer stopped reading. */
static bool
stalled(const struct conn *c, bool pressure)
{
	uint32_t limit = pressure ? WARD_STALL_PRESSURE_MS : WARD_STALL_MS;

	return c->q_head != 0 && now_ms - c->t_out >= limit;
}

/* A head or body still arriving, an unfinished message or frame. */
static bool
in_progress(const struct conn *c)
{
	if (c->flags & (CF_PAUSED | CF_THROTTLED))
		return false;		/* it waits for us, not we for it */
	if (c->state == CS_HTTP)
		return (c->flags & CF_IN_REQ) && !(c->flags & CF_CLOSE_AFTER);
	if (c->state == CS_WS)
		return c->ws.msg_op != 0 || c->ws.in_frame || c->rx_len > 0;
	return false;
}

/* Below progress_min_bytes in a progress_timeout window: cut. */
static bool
sweep_progress(struct conn *c)
{
	if (cfg.progress_ms == 0 || !in_progress(c)) {
		c->t_prog = now_ms;
		c->prog_n = 0;
		return false;
	}
	if (now_ms - c->t_prog < (uint32_t)cfg.progress_ms)
		return false;
	if (c->prog_n >= (uint32_t)cfg.progress_min_bytes) {
		c->t_prog = now_ms;	/* a new window */
		c->prog_n = 0;
		return false;
	}
	log_debug("slow_progress", "conn=%u bytes=%u ms=%u", conn_id(c),
	    c->prog_n, now_ms - c->t_prog);
	if (c->state == CS_HTTP)
		cut_head(c, CUT_HEAD_SLOW);
	else
		cut_message(c, CUT_MSG_SLOW);
	return true;
}

/*
 * A TLS handshake not done within handshake_timeout, or within
 * progress_timeout when that is shorter (a handshake brings no plaintext,
 * so the progress rule has nothing else to count): dropped.  It holds a
 * TLS slot and no buffer.
 */
static bool
sweep_tls_handshake(struct conn *c, uint32_t since)
{
	uint32_t limit = (uint32_t)cfg.handshake_timeout_ms;

	if (c->tls == NULL || (c->flags & CF_TLS_HS) || c->state == CS_DEAD)
		return false;
	if (cfg.progress_ms > 0 && (uint32_t)cfg.progress_ms < limit)
		limit = (uint32_t)cfg.progress_ms;
	if (since < limit)
		return false;
	stats.tls_fail[TLSF_TIMEOUT]++;
	stats.cuts[CUT_HEAD_TIMEOUT]++;
	log_debug("tls_fail", "conn=%u reason=\"handshake timeout\"",
	    conn_id(c));
	conn_drop(c, true);
	return true;
}

static void
sweep_one(struct conn *c, bool pressure)
{
	uint32_t since = now_ms - c->t_start;

	if (sweep_tls_handshake(c, since))
		return;

	if (stalled(c, pressure) && (c->state == CS_WS ||
	    c->state == CS_HTTP)) {
		log_debug("stalled", "conn=%u queued=%u", conn_id(c), c->q_bytes);
		if (c->state == CS_WS) {
			slow_consumer_cut(c, CUT_STALLED);
			return;
		}
		stats.drops_slow++;
		stats.cuts[CUT_STALLED]++;
		conn_drop(c, true);	/* its buffers go back to the pools */
		return;
	}
	if (sweep_progress(c))
		return;
	switch (c->state) {
	case CS_HTTP:
		if (c->flags & CF_OWE_408) {
			owe_408(c);
			if ((c->flags & CF_OWE_408) &&
			    since >= (uint32_t)cfg.close_timeout_ms)
				conn_drop(c, false);
		} else if ((c->flags & CF_IN_REQ) && c->q_head == 0 &&
		    !(c->flags & CF_CLOSE_AFTER) &&
		    since >= (uint32_t)cfg.handshake_timeout_ms) {
			cut_head(c, CUT_HEAD_TIMEOUT);
		} else if (!(c->flags & CF_IN_REQ) &&
		    now_ms - c->t_rx >= (uint32_t)cfg.idle_timeout_ms) {
			conn_drop(c, false);
		}
		break;
	case CS_WS:
		sweep_ws(c);
		break;
	case CS_CLOSING:
	case CS_LINGER:
		if (since >= (uint32_t)cfg.close_timeout_ms)
			conn_drop(c, false);
		break;
	default:
		break;
	}
}

/* Buffers of class cls that c holds (queued ones counted for I/O and
 * big through q_heavy, for the small classes through q_count). */
static uint32_t
holds(const struct conn *c, int cls)
{
	uint32_t n = 0;

	if (c->rx != 0 && buf_class(c->rx) == cls)
		n++;
	if (c->msg != 0 && buf_class(c->msg) == cls)
		n++;
	if (cls == BUF_IO || cls == BUF_BIG)
		n += c->q_heavy;
	else
		n += c->q_count;
	return n;
}

/* Has c made no progress for WARD_EVICT_IDLE_MS with what it holds? */
static bool
evictable(const struct conn *c)
{
	bool in = c->rx != 0 || c->msg != 0;

	if (c->state != CS_HTTP && c->state != CS_WS)
		return false;
	if (in && now_ms - c->t_rx < WARD_EVICT_IDLE_MS)
		return false;
	return c->q_head == 0 || now_ms - c->t_out >= WARD_EVICT_IDLE_MS;
}

static void
evict(struct conn *c)
{
	log_debug("evict", "conn=%u state=%u", conn_id(c), c->state);
	if (c->q_head != 0 && c->state == CS_WS) {
		slow_consumer_cut(c, CUT_EVICT_QUEUE);
	} else if (c->q_head != 0 && !(c->flags & CF_IN_REQ)) {
		stats.drops_slow++;
		stats.cuts[CUT_EVICT_QUEUE]++;
		conn_drop(c, true);
	} else if (c->state == CS_HTTP) {
		cut_head(c, CUT_EVICT_HEAD);
	} else {
		cut_message(c, CUT_EVICT_MESSAGE);
	}
}

/* Class cls is dry and someone waits: cut the idle holders of most. */
static void
evict_class(int cls)
{
	for (int k = 0; k < WARD_EVICT_MAX; k++) {
		struct conn *v = NULL;
		uint32_t best = 0;

		for (uint32_t i = 0; i < nactive; i++) {
			struct conn *c = &conns[active[i]];
			uint32_t n = holds(c, cls);

			if (n == 0 || n < best || !evictable(c))
				continue;
			if (n > best || v == NULL || c->t_rx < v->t_rx) {
				v = c;
				best = n;
			}
		}
		if (v == NULL)
			return;
		evict(v);
		if (buf_free_in(cls))
			return;
	}
}

/* The classes paused connections wait for that have nothing to give. */
static unsigned
dry_classes(void)
{
	unsigned dry = 0;

	for (uint32_t i = pause_head; i != LIST_END; i = conns[i].pause_next)
		if ((conns[i].flags & CF_PAUSED) &&
		    !wait_ready(conns[i].wait_cls)) {
			int cls = conns[i].wait_cls & ~WAIT_SPARE;

			dry |= cls == WAIT_READ ? 1u << BUF_SMALL |
			    1u << BUF_MED | 1u << BUF_IO : 1u << cls;
		}
	return dry;
}

void
conn_sweep(void)
{
	bool pressure = pause_head != LIST_END;
	unsigned dry = pressure ? dry_classes() : 0;

	for (uint32_t i = 0; i < nactive; i++)
		sweep_one(&conns[active[i]], pressure);
	for (int cls = 0; cls < BUF_NCLASS; cls++)
		if (dry & (1u << cls))
			evict_class(cls);
}

bool
conn_paused_ready(void)
{
	return pause_head != LIST_END &&
	    wait_ready(conns[pause_head].wait_cls);
}

uint32_t
conn_resume_paused(void)
{
	uint32_t list = pause_head, resumed = 0;

	pause_head = LIST_END;
	while (list != LIST_END) {
		struct conn *c = &conns[list];

		list = c->pause_next;
		c->pause_next = LIST_END;
		if (c->state == CS_DEAD || c->state == CS_FREE ||
		    !(c->flags & CF_PAUSED))
			continue;
		if (!wait_ready(c->wait_cls)) {
			c->pause_next = pause_head;
			pause_head = conn_id(c);
			continue;
		}
		c->flags &= ~CF_PAUSED;
		if (c->rx != 0)
			process_input(c);
		conn_update_events(c);
		if (!(c->flags & CF_PAUSED))
			resumed++;
	}
	return resumed;
}

static void
conn_free_slot(struct conn *c)
{
	uint32_t id = conn_id(c), at = active_pos[id];

	active[at] = active[--nactive];
	active_pos[active[at]] = at;
	if (c->flags & CF_REFUSED)
		nrefused--;
	c->state = CS_FREE;
	c->fd = -1;
	conn_free[conn_nfree++] = id;
}

/* Take c off the pause list (its slot may be reused at once). */
static void
pause_unlink(struct conn *c)
{
	uint32_t id = conn_id(c), *pp = &pause_head;

	while (*pp != LIST_END && *pp != id)
		pp = &conns[*pp].pause_next;
	if (*pp == id)
		*pp = c->pause_next;
	c->pause_next = LIST_END;
}

static void
reap_one(struct conn *c)
{
	const struct route *rt = router_route(c->route);

	log_conn_close(c);
	if ((c->flags & CF_WS_OPEN) && rt != NULL && rt->ws != NULL &&
	    rt->ws->close != NULL)
		rt->ws->close(c);
	if (c->flags & CF_WS_OPEN)
		reg_unregister(conn_id(c));
	c->flags &= ~CF_WS_OPEN;
	queue_drop_all(c);
	c->q_pin = 0;
	c->q_heavy = 0;
	buf_unref(c->rx);
	buf_unref(c->msg);
	c->rx = c->msg = 0;
	c->rx_len = 0;
	pause_unlink(c);
	if (c->flags & CF_TLS_PEND)
		tls_pend_unlink(c);
	if (c->tls != NULL) {
		/* best effort: close_notify (or the alert of a failure) */
		if (!(c->flags & CF_ABORT))
			(void)tls_conn_shutdown(c->tls, c->fd);
		tls_conn_reset(c->tls);
		c->tls = NULL;
	}
	port_ev_del(c->fd, conn_id(c));
	port_close(c->fd, (c->flags & CF_ABORT) != 0);
	conn_free_slot(c);
}

void
conn_reap(void)
{
	while (reap_head != LIST_END) {
		struct conn *c = &conns[reap_head];

		reap_head = c->reap_next;
		c->reap_next = LIST_END;
		c->flags &= ~CF_REAP;
		if (c->state == CS_DEAD)
			reap_one(c);
	}
}

void
conn_shutdown_all(void)
{
	for (uint32_t i = 0; i < nactive; i++) {
		struct conn *c = &conns[active[i]];

		if (c->state == CS_WS)
			conn_close_ws(c, 1001, "server shutting down");
		else if (c->tls != NULL && !(c->flags & CF_TLS_HS))
			conn_drop(c, false);	/* in its TLS handshake */
		else if (c->state == CS_HTTP && !(c->flags & CF_IN_REQ) &&
		    c->q_head == 0)
			conn_drop(c, false);
		else if (c->state == CS_HTTP)
			c->flags |= CF_CLOSE_AFTER;
	}
}
