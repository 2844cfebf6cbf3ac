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
 */
#include <stdio.h>

#include "internal.h"
#include "auth.h"

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
#define HOT_MAX 64
static uint32_t hot[HOT_MAX];		/* CF_HOT connections this turn */
static uint32_t nhot;

static void process_input(struct conn *c);
static void conn_flush(struct conn *c);

/* Its own answers are piling up: stop reading it. */
static bool
backlogged(const struct conn *c)
{
	return c->q_bytes > WARD_OUT_HIGH || c->q_count >= WARD_QCOUNT_HIGH;
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

struct conn *
conn_new(int fd, int listener, const struct port_addr *peer)
{
	struct conn *c;
	uint16_t gen;

	if (conn_nfree == 0)
		return NULL;
	c = &conns[conn_free[--conn_nfree]];
	gen = c->gen;
	memset(c, 0, sizeof *c);
	c->gen = (uint16_t)(gen + 1);
	c->fd = fd;
	c->state = CS_HTTP;
	c->listener = (uint8_t)listener;
	c->flags = CF_IN_REQ;		/* the first request is awaited */
	c->t_rx = c->t_start = now_ms;
	c->dirty_next = c->reap_next = c->pause_next = LIST_END;
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
		http_error(c, 503, "unavailable", "server full: too many "
		    "connections, retry later");
		conn_linger(c);
	}
	log_conn_open(c);
	return c;
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

/* A WebSocket whose queue would pass its budget (more bytes, one more
 * entry when entry) does not read: closed 1013. */
static bool
over_budget(struct conn *c, uint32_t more, bool entry)
{
	if (c->state != CS_WS || (c->q_bytes + more <= WARD_OUT_BUDGET &&
	    (!entry || c->q_count < WARD_QCOUNT_BUDGET)))
		return false;
	stats.drops_slow++;
	conn_fail(c, 1013, "slow consumer");
	return true;
}

int
conn_send(struct conn *c, uint32_t h)
{
	if (!can_send(c) || h == 0)
		return WARD_EINVAL;
	if (over_budget(c, buf_len(h), true))
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
	if (over_budget(c, more, false))
		return WARD_ENOMEM;
	buf_ref(grown);
	qents[c->q_tail].buf = grown;
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
	str_copy(p->role, sizeof p->role, a->role);
	str_copy(p->name, sizeof p->name, a->name);
	str_copy(p->tenant, sizeof p->tenant, a->tenant);
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

/* Move the unconsumed request into a big buffer (a body is coming). */
static size_t
grow_rx(struct conn *c, const uint8_t *p, size_t n)
{
	uint32_t big = buf_get_class(BUF_BIG);

	if (big == 0) {
		pause_for(c, BUF_BIG);
		return 0;
	}
	memcpy(buf_base(big), p, n);
	buf_unref(c->rx);
	c->rx = big;
	c->rx_len = (uint32_t)n;
	return SIZE_MAX;		/* the buffer moved: start again */
}

static void
send_continue(struct conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (c->flags & CF_CONTINUE)
		return;
	c->flags |= CF_CONTINUE;
	http_respond_raw(c, cont, sizeof cont - 1);
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
		http_error(c, -hl, NULL, NULL);
		conn_linger(c);
		return n;
	}
	total = (size_t)hl + (size_t)(req.content_length > 0 ?
	    req.content_length : 0);
	if (n < total) {
		if (total > buf_cap(c->rx))
			return grow_rx(c, p, n);
		if (req.flags & HTTP_F_EXPECT_100)
			send_continue(c);
		return 0;
	}
	req.body = p + hl;
	req.body_len = total - (size_t)hl;
	c->flags &= ~(CF_IN_REQ | CF_CONTINUE | CF_HEAD_REQ);
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
		if (!buf_free_in(BUF_IO)) {
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
		pause_for(c, c->wait_cls ? c->wait_cls : BUF_IO);
	release_rx(c);
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
			c->rx = buf_get_class(BUF_IO);
			if (c->rx == 0) {
				pause_for(c, BUF_IO);
				return;
			}
			c->rx_len = 0;
		}
		space = buf_cap(c->rx) - c->rx_len;
		if (space == 0) {	/* cannot happen: parsers consume */
			conn_fail(c, c->state == CS_HTTP ? 431 : 1009, "stuck");
			break;
		}
		n = port_recv(c->fd, buf_base(c->rx) + c->rx_len, space);
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
		c->flags &= ~CF_PING_SENT;
		stats.bytes_in += (uint64_t)n;
		process_input(c);
		if ((size_t)n < space)
			break;
	}
	release_rx(c);
	conn_update_events(c);
	/* its input fanned out: more of it may follow while we work */
	if (nsent - sent0 >= WARD_COALESCE_MIN && !(c->flags & CF_HOT) &&
	    nhot < HOT_MAX && c->state != CS_DEAD) {
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
		c->q_count--;
		c->q_head = qents[q].next;
		if (c->q_head == 0)
			c->q_tail = 0;
		buf_unref(h);
		qents[q].next = qent_free;
		qent_free = q;
		qent_used--;
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
	if (n > 0) {
		w = port_writev(c->fd, iov, n);
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
	grp_turn_end();
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

static void
sweep_one(struct conn *c, bool pressure)
{
	uint32_t since = now_ms - c->t_start;

	if (stalled(c, pressure)) {
		log_debug("stalled", "conn=%u queued=%u", conn_id(c), c->q_bytes);
		stats.drops_slow++;
		conn_drop(c, true);	/* its buffers go back to the pools */
		return;
	}
	switch (c->state) {
	case CS_HTTP:
		if ((c->flags & CF_IN_REQ) && c->q_head == 0 &&
		    since >= (uint32_t)cfg.handshake_timeout_ms) {
			if (c->rx_len > 0)
				http_error(c, 408, "request_timeout",
				    "request head not received in time");
			c->flags |= CF_CLOSE_AFTER;
			conn_linger(c);
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

void
conn_sweep(void)
{
	bool pressure = pause_head != LIST_END;

	for (uint32_t i = 0; i < nactive; i++)
		sweep_one(&conns[active[i]], pressure);
}

bool
conn_paused_ready(void)
{
	return pause_head != LIST_END &&
	    buf_free_in(conns[pause_head].wait_cls);
}

void
conn_resume_paused(void)
{
	uint32_t list = pause_head;

	pause_head = LIST_END;
	while (list != LIST_END) {
		struct conn *c = &conns[list];

		list = c->pause_next;
		c->pause_next = LIST_END;
		if (c->state == CS_DEAD || c->state == CS_FREE ||
		    !(c->flags & CF_PAUSED))
			continue;
		if (!buf_free_in(c->wait_cls)) {
			c->pause_next = pause_head;
			pause_head = conn_id(c);
			continue;
		}
		c->flags &= ~CF_PAUSED;
		if (c->rx != 0)
			process_input(c);
		conn_update_events(c);
	}
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
	buf_unref(c->rx);
	buf_unref(c->msg);
	c->rx = c->msg = 0;
	c->rx_len = 0;
	pause_unlink(c);
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
		else if (c->state == CS_HTTP && !(c->flags & CF_IN_REQ) &&
		    c->q_head == 0)
			conn_drop(c, false);
		else if (c->state == CS_HTTP)
			c->flags |= CF_CLOSE_AFTER;
	}
}
