/*
 * ws.c - WebSocket (RFC 6455), server side.
 *
 * Notes on the design:
 * - The frame parser is a push machine over the connection's input buffer.
 *   A header is consumed only when complete; a control frame only when its
 *   whole payload (<= 125 bytes) is present; data payload is consumed in
 *   pieces as it arrives, unmasked in place, UTF-8 checked as it goes (a
 *   bad byte fails the connection at once: "fail fast", §8.1), so nothing
 *   is copied twice and a partial frame costs no extra memory.
 * - Endpoints either receive whole messages (reassembled in a big buffer
 *   sized by max_message; a single-frame message already complete in the
 *   read is handed over in place) or, for /ws/echo, stream: validated bytes
 *   are packed into outbound fragments of up to one I/O buffer, so a
 *   message of any length is echoed in bounded memory.
 * - When a buffer the next step needs is not available the parser stops
 *   before consuming; the connection pauses and is fed again later.
 * - Protocol violations close with 1002, bad UTF-8 with 1007, a binary
 *   message to a text-only endpoint with 1003, an oversized one with 1009.
 */
#include <stdio.h>

#include <bearssl.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#define LOADU(p)	_mm_loadu_si128((const __m128i *)(const void *)(p))
#define STOREU(p, v)	_mm_storeu_si128((__m128i *)(void *)(p), (v))
#endif

#include "internal.h"

#define HEADROOM 14	/* room in front of a payload for its frame header */

int
ws_parse_header(const uint8_t *p, size_t n, struct ws_frame_hdr *h)
{
	size_t need = 2;
	uint64_t len;

	if (n < 2)
		return WARD_NEED_MORE;
	h->fin = p[0] >> 7;
	h->rsv = (p[0] >> 4) & 7;
	h->opcode = p[0] & 15;
	h->masked = p[1] >> 7;
	len = p[1] & 127;
	if (h->rsv != 0)
		return -1002;		/* no extension negotiated (§5.2) */
	if ((h->opcode > 2 && h->opcode < 8) || h->opcode > 10)
		return -1002;		/* reserved opcode */
	if (!h->masked)
		return -1002;		/* clients must mask (§5.1) */
	if (h->opcode >= 8 && (!h->fin || len > 125))
		return -1002;		/* control frames (§5.5) */
	need += len == 126 ? 2 : len == 127 ? 8 : 0;
	need += 4;
	if (n < need)
		return WARD_NEED_MORE;
	if (len == 126) {
		len = (uint64_t)p[2] << 8 | p[3];
		if (len < 126)
			return -1002;	/* minimal encoding (§5.2) */
	} else if (len == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		if (len >> 63 || len <= 0xFFFF)
			return -1002;
	}
	memcpy(h->mask, p + need - 4, 4);
	h->len = len;
	return (int)need;
}

size_t
ws_header_len(uint64_t len)
{
	return len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
}

size_t
ws_encode_header(uint8_t *o, int opcode, bool fin, uint64_t len)
{
	o[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 15));
	if (len < 126) {
		o[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xFFFF) {
		o[1] = 126;
		o[2] = (uint8_t)(len >> 8);
		o[3] = (uint8_t)len;
		return 4;
	}
	o[1] = 127;
	for (int i = 0; i < 8; i++)
		o[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

/* 32 bytes per round while they remain (SSE2 where there is; four
 * words elsewhere), then words, then bytes. */
unsigned
ws_unmask_copy(uint8_t *dst, const uint8_t *src, size_t n,
    const uint8_t mask[4], unsigned pos)
{
	size_t i = 0;

	pos &= 3;
	while (i < n && pos != 0) {
		dst[i] = src[i] ^ mask[pos];
		i++;
		pos = (pos + 1) & 3;
	}
	if (n - i >= 8) {		/* here pos == 0 */
		uint8_t m8[8];
		uint64_t m, w[4];

		for (int k = 0; k < 8; k++)
			m8[k] = mask[k & 3];
		memcpy(&m, m8, 8);
#if defined(__SSE2__)
		__m128i mm = _mm_set1_epi64x((long long)m);

		for (; i + 32 <= n; i += 32) {
			__m128i a = LOADU(src + i), b = LOADU(src + i + 16);

			STOREU(dst + i, _mm_xor_si128(a, mm));
			STOREU(dst + i + 16, _mm_xor_si128(b, mm));
		}
#else
		for (; i + 32 <= n; i += 32) {
			memcpy(w, src + i, 32);
			w[0] ^= m;
			w[1] ^= m;
			w[2] ^= m;
			w[3] ^= m;
			memcpy(dst + i, w, 32);
		}
#endif
		for (; i + 8 <= n; i += 8) {
			memcpy(w, src + i, 8);
			w[0] ^= m;
			memcpy(dst + i, w, 8);
		}
	}
	while (i < n) {
		dst[i] = src[i] ^ mask[pos];
		i++;
		pos = (pos + 1) & 3;
	}
	return pos;
}

unsigned
ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], unsigned pos)
{
	return ws_unmask_copy(p, p, n, mask, pos);
}

void
ws_accept_key(const char *key, size_t keylen, char *out)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	br_sha1_context sc;
	uint8_t dig[20];

	br_sha1_init(&sc);
	br_sha1_update(&sc, key, keylen);
	br_sha1_update(&sc, guid, sizeof guid - 1);
	br_sha1_out(&sc, dig);
	base64_encode(dig, sizeof dig, out);
}

bool
ws_key_valid(struct str key)
{
	uint8_t raw[20];

	return key.n == 24 && base64_decode(key.p, key.n, raw, sizeof raw,
	    false) == 16;
}

bool
ws_close_code_valid(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;		/* registered / private use */
	if (code < 1000 || code > 1014)
		return false;
	return code != 1004 && code != 1005 && code != 1006;
}

uint32_t
ws_frame(int opcode, const void *payload, size_t len)
{
	size_t hl = ws_header_len(len);
	uint32_t h = buf_get(hl + len);

	if (h == 0)
		return 0;
	ws_encode_header(buf_base(h), opcode, true, len);
	if (len > 0)
		memcpy(buf_base(h) + hl, payload, len);
	buf_set(h, 0, (uint32_t)(hl + len));
	return h;
}

bool
ws_jw_begin(struct jw *w, size_t max)
{
	uint32_t h = buf_get(max + HEADROOM);

	if (h == 0) {
		jw_init(w, NULL, 0);
		w->err = true;
		return false;
	}
	jw_init(w, (char *)buf_base(h) + HEADROOM, buf_cap(h) - HEADROOM);
	w->buf = h;
	return true;
}

uint32_t
ws_jw_end(struct jw *w)
{
	uint32_t h = w->buf;
	size_t hl;

	if (h == 0)
		return 0;
	if (w->err) {
		buf_unref(h);
		return 0;
	}
	hl = ws_header_len(w->len);
	ws_encode_header(buf_base(h) + HEADROOM - hl, WS_OP_TEXT, true, w->len);
	buf_set(h, (uint32_t)(HEADROOM - hl), (uint32_t)(w->len + hl));
	stats.msgs_out++;
	return h;
}

uint32_t
ws_jw_frame(void (*gen)(struct jw *w, void *arg), void *arg)
{
	struct jw w;

	jw_init(&w, NULL, 0);
	gen(&w, arg);
	if (w.err || !ws_jw_begin(&w, w.total + 1))
		return 0;
	gen(&w, arg);
	return ws_jw_end(&w);
}

int
ws_send(struct conn *c, int opcode, const void *p, size_t n)
{
	uint32_t h;

	if (c->state != CS_WS)
		return WARD_EINVAL;
	h = ws_frame(opcode, p, n);
	if (h == 0) {
		conn_fail(c, 1013, "no buffer");
		return WARD_ENOMEM;
	}
	stats.msgs_out++;
	return conn_send_owned(c, h);
}

/* --- handshake ---------------------------------------------------------- */

/* -1 when the upgrade request is acceptable; else answered, and HSF_*. */
static int
handshake_check(struct conn *c, struct http_req *r)
{
	struct str v = http_header(r, "sec-websocket-version");
	struct str origin = http_header(r, "origin");

	if (r->minor != 1 || !(r->flags & HTTP_F_CONN_UPGRADE)) {
		reply_error(c, 400, "bad_request",
		    "WebSocket upgrade needs HTTP/1.1 and Connection: Upgrade");
		return HSF_REQUEST;
	}
	if (!str_eq(v, "13")) {
		reply_json_error(c, 426, "upgrade_required",
		    "Sec-WebSocket-Version 13 is required",
		    "Sec-WebSocket-Version: 13\r\n");
		return HSF_VERSION;
	}
	if (!ws_key_valid(http_header(r, "sec-websocket-key"))) {
		reply_error(c, 400, "bad_request",
		    "Sec-WebSocket-Key must be base64 of 16 bytes");
		return HSF_KEY;
	}
	if (r->content_length > 0) {
		reply_error(c, 400, "bad_request",
		    "upgrade request has a body");
		return HSF_REQUEST;
	}
	if (origin.p != NULL && !cfg_origin_allowed(cfg.ws_origins, origin) &&
	    !cfg_same_origin(r, origin)) {
		reply_error(c, 403, "forbidden", "origin not allowed");
		return HSF_ORIGIN;
	}
	return -1;
}

void
ws_upgrade(struct conn *c, struct http_req *r, uint16_t route,
    const char *refuse)
{
	const struct route *rt = router_route(route);
	struct str key = http_header(r, "sec-websocket-key");
	char head[200], acc[32];
	int n, why;

	if ((why = handshake_check(c, r)) >= 0) {
		stats.handshake_fail++;
		stats.hs_fail[why]++;
		return;
	}
	ws_accept_key(key.p, key.n, acc);
	n = snprintf(head, sizeof head, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n%s\r\n", acc, r->bearer_proto ?
	    "Sec-WebSocket-Protocol: bearer\r\n" : "");
	if (reply_raw(c, head, (size_t)n) != 0) {
		stats.handshake_fail++;
		stats.hs_fail[HSF_WRITE]++;
		return;
	}
	c->state = CS_WS;
	c->route = route;
	memset(&c->ws, 0, sizeof c->ws);
	c->t_rx = now_ms;
	if (refuse != NULL) {
		stats.handshake_fail++;
		stats.hs_fail[HSF_AUTH]++;
		c->flags &= ~CF_IN_REQ;
		conn_close_ws(c, 1008, refuse);
		return;
	}
	stats.handshakes++;
	conn_ws_opened(c, rt->ws->type, r->auth);
	if (rt->ws->open != NULL)
		rt->ws->open(c, r);
}

/* --- receiving ---------------------------------------------------------- */

static void
on_close_frame(struct conn *c, const uint8_t *p, size_t n)
{
	unsigned code = 1000;

	c->flags |= CF_CLOSE_RCVD;
	if (n == 1) {
		conn_fail(c, 1002, "close payload of one byte");
		return;
	}
	if (n >= 2) {
		code = (unsigned)p[0] << 8 | p[1];
		if (!ws_close_code_valid(code)) {
			conn_fail(c, 1002, "invalid close code");
			return;
		}
		if (!utf8_valid(p + 2, n - 2)) {
			conn_fail(c, 1007, "close reason not UTF-8");
			return;
		}
	}
	if (c->state == CS_WS)
		conn_close_ws(c, code, NULL);	/* echo the peer's code */
	conn_linger(c);
}

static void
on_control(struct conn *c, int op, const uint8_t *p, size_t n)
{
	switch (op) {
	case WS_OP_PING:
		if (c->state == CS_WS)
			ws_send(c, WS_OP_PONG, p, n);
		break;
	case WS_OP_PONG:
		break;			/* any byte in counts as life */
	case WS_OP_CLOSE:
		on_close_frame(c, p, n);
		break;
	}
}

static const struct ws_ops *
ops_of(const struct conn *c)
{
	return router_route(c->route)->ws;
}

static uint64_t
limit_of(const struct ws_ops *o)
{
	if (o->stream_echo)
		return cfg.echo_max_message > 0 ?
		    (uint64_t)cfg.echo_max_message : UINT64_MAX;
	return (uint64_t)cfg.max_message;
}

/* Queue the current stream fragment.  last: it ends the message. */
static int
stream_emit(struct conn *c, bool last)
{
	struct ws_state *w = &c->ws;
	uint32_t h = c->msg, len;
	size_t hl;

	if (h == 0) {
		h = c->msg = buf_get(HEADROOM);
		if (h == 0)
			return WARD_ENOMEM;
		buf_set(h, HEADROOM, 0);
	}
	len = buf_len(h);
	hl = ws_header_len(len);
	ws_encode_header(buf_base(h) + HEADROOM - hl,
	    w->out_first ? w->msg_op : WS_OP_CONT, last, len);
	buf_set(h, (uint32_t)(HEADROOM - hl), (uint32_t)(len + hl));
	w->out_first = 0;
	c->msg = 0;
	if (last)
		stats.msgs_out++;
	return conn_send_owned(c, h);
}

/*
 * The message buffer grows with the bytes that arrived, from the smallest
 * class up (a copy each step, three at most): an unfinished message of a
 * few bytes holds a small buffer, not a big one.  Above the reserve only
 * (it is incomplete work).  False with c->wait_cls set: pause.
 */
static bool
msg_grow(struct conn *c, size_t need)
{
	int wait;
	uint32_t h = buf_get_spare_fit(need, &wait), len;

	if (h == 0) {
		c->wait_cls = (uint8_t)((wait < 0 ? BUF_BIG : wait) | WAIT_SPARE);
		return false;
	}
	len = c->msg != 0 ? buf_len(c->msg) : 0;
	if (len > 0)
		memcpy(buf_base(h) + HEADROOM, buf_base(c->msg) + HEADROOM, len);
	buf_unref(c->msg);
	c->msg = h;
	buf_set(h, HEADROOM, len);
	return true;
}

/* How many payload bytes may be taken now (0: pause for a buffer). */
static size_t
room_for(struct conn *c, size_t want)
{
	const struct ws_ops *o = ops_of(c);
	size_t need;

	if (o->stream_echo) {
		/* an out fragment sized by the bytes at hand, up to an I/O
		 * buffer: a short message echoed pins no I/O buffer */
		if (c->msg == 0) {
			int wait;

			need = HEADROOM + MIN(want, WARD_IOBUF_SIZE - HEADROOM);
			c->msg = buf_get_spare_fit(need, &wait);
			if (c->msg == 0) {
				c->wait_cls = (uint8_t)(wait | WAIT_SPARE);
				return 0;
			}
			buf_set(c->msg, HEADROOM, 0);
		}
		return MIN(want, buf_cap(c->msg) - HEADROOM - buf_len(c->msg));
	}
	/* size was checked against max_message at the header */
	need = HEADROOM + (c->msg != 0 ? buf_len(c->msg) : 0) + want;
	if ((c->msg == 0 || need > buf_cap(c->msg)) && !msg_grow(c, need))
		return 0;
	return want;
}

void
ws_send_error(struct conn *c, const char *code, const char *detail)
{
	char buf[512];
	struct jw w;

	jw_init(&w, buf, sizeof buf);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "error");
	jw_key(&w, "error");
	jw_str(&w, code);
	jw_key(&w, "detail");
	jw_str(&w, detail);
	jw_obj_end(&w);
	ws_send(c, WS_OP_TEXT, buf, w.len);
}

static void
message_done(struct conn *c, uint8_t *p, size_t n)
{
	const struct ws_ops *o = ops_of(c);
	int op = c->ws.msg_op;

	stats.msgs_in++;
	reg_note_in(conn_id(c), c->ws.msg_len);
	if (o->stream_echo) {
		if (stream_emit(c, true) != 0)
			conn_fail(c, 1013, "no buffer");
		c->ws.msg_op = 0;
		return;
	}
	c->ws.msg_op = 0;
	if (!reg_rate_ok(conn_id(c))) {
		/* over the limit: refused, said so; sustained: closed */
		if (reg[conn_id(c)].rl_strikes >= 2 * cfg.rate_burst) {
			conn_close_ws(c, 1008, "rate limit exceeded");
			return;
		}
		ws_send_error(c, "rate_limited", "too many messages: slow down");
		return;
	}
	if (o->message != NULL)
		o->message(c, op, p, n);
}

/* Consume payload bytes of a data frame; returns bytes taken. */
static size_t
take_payload(struct conn *c, uint8_t *p, size_t n)
{
	struct ws_state *w = &c->ws;
	size_t take = room_for(c, (size_t)MIN((uint64_t)n, w->remain));
	uint32_t h, len;
	uint8_t *dst;

	if (take == 0 && w->remain > 0) {
		c->flags |= CF_PAUSED;
		return 0;
	}
	/* unmasked straight into the message (one pass), checked there */
	h = c->msg;
	len = take > 0 ? buf_len(h) : 0;
	if (take > 0) {
		dst = buf_base(h) + HEADROOM + len;
		w->mpos = (uint8_t)ws_unmask_copy(dst, p, take, w->mask,
		    w->mpos);
		if (w->msg_op == WS_OP_TEXT)
			w->utf8 = utf8_feed(w->utf8, dst, take);
		buf_set(h, HEADROOM, len + (uint32_t)take);
	}
	w->remain -= take;
	w->msg_len += (uint32_t)take;
	if (w->msg_op == WS_OP_TEXT && (w->utf8 == UTF8_REJECT ||
	    (w->remain == 0 && w->fin && w->utf8 != UTF8_ACCEPT))) {
		conn_fail(c, 1007, "invalid UTF-8");
		return take;
	}
	if (take > 0 && ops_of(c)->stream_echo &&
	    HEADROOM + len + take == buf_cap(h))
		stream_emit(c, false);
	return take;
}

static void
frame_end(struct conn *c)
{
	struct ws_state *w = &c->ws;

	w->in_frame = 0;
	if (!w->fin)
		return;
	/* the message may end inside a sequence, even on an empty frame */
	if (w->msg_op == WS_OP_TEXT && w->utf8 != UTF8_ACCEPT) {
		conn_fail(c, 1007, "invalid UTF-8");
		return;
	}
	if (ops_of(c)->stream_echo) {
		message_done(c, NULL, 0);
		return;
	}
	if (c->msg == 0) {		/* every fragment was empty */
		message_done(c, (uint8_t *)"", 0);
		return;
	}
	message_done(c, buf_data(c->msg), buf_len(c->msg));
	buf_unref(c->msg);
	c->msg = 0;
}

/* Check a data frame header against the message state (§5.4). */
static int
data_frame_start(struct conn *c, const struct ws_frame_hdr *h)
{
	struct ws_state *w = &c->ws;
	const struct ws_ops *o = ops_of(c);

	if (h->opcode == WS_OP_CONT && w->msg_op == 0)
		return conn_fail(c, 1002, "continuation without a message"), -1;
	if (h->opcode != WS_OP_CONT && w->msg_op != 0)
		return conn_fail(c, 1002, "new message inside a fragmented one"), -1;
	if (h->opcode != WS_OP_CONT) {
		if (h->opcode == WS_OP_BINARY && o->text_only)
			return conn_fail(c, 1003, "binary not accepted"), -1;
		w->msg_op = h->opcode;
		w->utf8 = UTF8_ACCEPT;
		w->msg_len = 0;
		w->out_first = 1;
	}
	if (h->len > limit_of(o) - w->msg_len)
		return conn_fail(c, 1009, "message too big"), -1;
	w->in_frame = 1;
	w->remain = h->len;
	w->fin = h->fin;
	memcpy(w->mask, h->mask, 4);
	w->mpos = 0;
	return 0;
}

/*
 * A single-frame message wholly inside the read is delivered in place,
 * without the reassembly buffer.  Returns bytes consumed or 0.
 */
static size_t
fast_message(struct conn *c, uint8_t *p, size_t n, const struct ws_frame_hdr *h,
    int hl)
{
	uint8_t *pl = p + hl;

	if (!h->fin || h->opcode == WS_OP_CONT || ops_of(c)->stream_echo ||
	    c->ws.msg_op != 0 || (uint64_t)(n - (size_t)hl) < h->len ||
	    h->len > (uint64_t)cfg.max_message)
		return 0;
	if (h->opcode == WS_OP_BINARY && ops_of(c)->text_only)
		return 0;
	ws_unmask(pl, (size_t)h->len, h->mask, 0);
	if (h->opcode == WS_OP_TEXT && !utf8_valid(pl, (size_t)h->len)) {
		conn_fail(c, 1007, "invalid UTF-8");
		return n;
	}
	c->ws.msg_op = h->opcode;
	c->ws.msg_len = (uint32_t)h->len;
	message_done(c, pl, (size_t)h->len);
	return (size_t)hl + (size_t)h->len;
}

/* Handle one frame header at p; returns bytes consumed (0: wait). */
static size_t
frame_start(struct conn *c, uint8_t *p, size_t n)
{
	struct ws_frame_hdr h;
	int hl = ws_parse_header(p, n, &h);
	size_t used;

	if (hl == WARD_NEED_MORE)
		return 0;
	if (hl < 0) {
		conn_fail(c, 1002, "protocol error");
		return n;
	}
	if (h.opcode >= 8) {
		if (n - (size_t)hl < h.len)
			return 0;	/* control frames are taken whole */
		ws_unmask(p + hl, (size_t)h.len, h.mask, 0);
		on_control(c, h.opcode, p + hl, (size_t)h.len);
		return (size_t)hl + (size_t)h.len;
	}
	if (c->state != CS_WS) {	/* closing: data is discarded */
		c->ws.in_frame = 1;
		c->ws.remain = h.len;
		c->ws.fin = 0;
		return (size_t)hl;
	}
	if ((used = fast_message(c, p, n, &h, hl)) > 0)
		return used;
	if (data_frame_start(c, &h) != 0)
		return n;
	if (h.len == 0)
		frame_end(c);
	return (size_t)hl;
}

size_t
ws_feed(struct conn *c, uint8_t *p, size_t n)
{
	size_t used = 0;

	while (used < n && (c->state == CS_WS || c->state == CS_CLOSING) &&
	    !(c->flags & CF_PAUSED) && (uint32_t)c->q_heavy + 1 < conn_heavy_max()) {
		struct ws_state *w = &c->ws;
		size_t k;

		if (!w->in_frame) {
			k = frame_start(c, p + used, n - used);
			if (k == 0)
				break;
			used += k;
			continue;
		}
		if (c->state != CS_WS) {
			k = (size_t)MIN((uint64_t)(n - used), w->remain);
			w->remain -= k;
			if (w->remain == 0)
				w->in_frame = 0;
			used += k;
			continue;
		}
		k = take_payload(c, p + used, n - used);
		used += k;
		if (k == 0)
			break;
		if (w->remain == 0 && c->state == CS_WS)
			frame_end(c);
	}
	/* stream what this read brought, keeping latency to one read */
	if (c->state == CS_WS && c->msg != 0 && ops_of(c)->stream_echo &&
	    buf_len(c->msg) > 0 && c->ws.msg_op != 0)
		stream_emit(c, false);
	return used;
}
