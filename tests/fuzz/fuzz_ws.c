/*
 * fuzz_ws.c - RFC 6455 frames from arbitrary bytes, at two levels.
 *
 * 1. ws_parse_header over the input repeatedly (each header, then its
 *    payload, then the next header), checking every accepted header
 *    against the rules it enforces and against ws_encode_header (minimal
 *    lengths make the encoding unique), unmasking each payload in two
 *    pieces against once, and utf8_feed of the remainder.
 * 2. The connection-level parser: the same bytes go to a real connection
 *    slot (a socketpair, the /ws/echo endpoint) in pieces the input picks,
 *    driven like the event loop does.  Whatever the server writes back
 *    must be well-formed server frames, nothing may follow its close, and
 *    every text message it echoes must be valid UTF-8 (RFC 6455 §8.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "svc/svc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- 1. headers ----------------------------------------------------------- */

static void
check_header(const uint8_t *p, int hl, const struct ws_frame_hdr *h)
{
	uint8_t enc[16];
	size_t el;

	if (hl < 6 || hl > 14)
		abort();
	if (h->rsv != 0 || !h->masked || h->len >> 63)
		abort();
	if ((h->opcode > 2 && h->opcode < 8) || h->opcode > 10)
		abort();
	if (h->opcode >= 8 && (!h->fin || h->len > 125))
		abort();
	if (ws_header_len(h->len) + 4 != (size_t)hl)
		abort();
	/* the client's header is our encoding plus the mask bit and key */
	el = ws_encode_header(enc, h->opcode, h->fin, h->len);
	enc[1] |= 0x80;
	if (el + 4 != (size_t)hl || memcmp(enc, p, el) != 0 ||
	    memcmp(h->mask, p + el, 4) != 0)
		abort();
}

static void
unmask_check(const uint8_t *p, size_t n, const uint8_t mask[4], size_t cut)
{
	static uint8_t a[1 << 16], b[1 << 16];
	unsigned pos;

	n = MIN(n, sizeof a);
	cut = MIN(cut, n);
	memcpy(a, p, n);
	memcpy(b, p, n);
	if (ws_unmask(a, n, mask, 0) != (n & 3))
		abort();
	pos = ws_unmask(b, cut, mask, 0);
	ws_unmask(b + cut, n - cut, mask, pos);
	if (memcmp(a, b, n) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (a[i] != (p[i] ^ mask[i & 3]))
			abort();
}

static void
headers(const uint8_t *data, size_t size)
{
	size_t off = 0;
	uint32_t u;

	while (off < size) {
		struct ws_frame_hdr h;
		int hl = ws_parse_header(data + off, size - off, &h);
		size_t take;

		if (hl == WARD_NEED_MORE) {
			if (size - off >= 14)
				abort();	/* 14 bytes always decide */
			break;
		}
		if (hl < 0) {
			if (hl != -1002)
				abort();
			break;
		}
		if ((size_t)hl > size - off)
			abort();
		check_header(data + off, hl, &h);
		/* every strict prefix of an accepted header needs more */
		for (int i = 0; i < hl; i++) {
			struct ws_frame_hdr t;

			if (ws_parse_header(data + off, (size_t)i, &t) !=
			    WARD_NEED_MORE)
				abort();
		}
		off += (size_t)hl;
		take = (size_t)MIN((uint64_t)(size - off), h.len);
		unmask_check(data + off, take, h.mask, take / 2);
		off += take;
	}
	u = utf8_feed(UTF8_ACCEPT, data + off, size - off);
	if (utf8_valid(data + off, size - off) != (u == UTF8_ACCEPT))
		abort();
}

/* --- 2. a connection ------------------------------------------------------ */

static uint16_t echo_route;
static struct conn *c;
static int peer = -1;
static uint8_t rx[1 << 20];
static size_t nrx;

static void
setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	cfg_defaults();
	cfg.echo_max_message = 0;
	log_level = -1;			/* conn_fail logs: keep quiet */
	buf_init();
	conn_init();
	if (svc_index_register(NULL, 0) != 0)
		abort();
	for (uint16_t i = 1; router_route(i) != NULL; i++)
		if (strcmp(router_route(i)->pattern, "/ws/echo") == 0)
			echo_route = i;
}

static void
drain(void)
{
	for (;;) {
		ssize_t r;

		if (nrx == sizeof rx)
			abort();	/* far more out than in */
		r = read(peer, rx + nrx, sizeof rx - nrx);
		if (r <= 0)
			return;
		nrx += (size_t)r;
	}
}

/* One turn of the event loop, in loop.c's order, for our connection. */
static void
turn(void)
{
	if (c->state != CS_DEAD && c->state != CS_FREE)
		conn_on_event(c, PORT_EV_IN | PORT_EV_OUT);
	conn_flush_all();
	conn_resume_paused();
	conn_flush_all();
	drain();
}

/* The server's frames: unmasked, minimal, nothing after the close, and
 * every text message valid UTF-8. */
static void
check_output(void)
{
	size_t i = 0;
	int msg_op = 0;
	uint32_t u = UTF8_ACCEPT;
	bool closed = false;

	while (i < nrx) {
		uint8_t b0, b1;
		uint64_t len;
		size_t h = 2;
		int op;

		if (nrx - i < 2 || closed)
			abort();
		b0 = rx[i];
		b1 = rx[i + 1];
		op = b0 & 15;
		len = b1 & 127;
		if ((b0 & 0x70) || (b1 & 0x80))
			abort();
		if (len >= 126) {
			h = len == 126 ? 4 : 10;
			if (nrx - i < h)
				abort();
			len = 0;
			for (size_t k = 2; k < h; k++)
				len = len << 8 | rx[i + k];
			if (ws_header_len(len) != h)
				abort();
		}
		if (nrx - i - h < len)
			abort();
		if (op >= 8) {
			if (!(b0 & 0x80) || len > 125 || op > 10)
				abort();
			closed = op == WS_OP_CLOSE;
		} else {
			if ((op == WS_OP_CONT) != (msg_op != 0) || op > 2)
				abort();
			if (op != WS_OP_CONT) {
				msg_op = op;
				u = UTF8_ACCEPT;
			}
			if (msg_op == WS_OP_TEXT)
				u = utf8_feed(u, rx + i + h, (size_t)len);
			if (u == UTF8_REJECT)
				abort();
			if (b0 & 0x80) {
				if (msg_op == WS_OP_TEXT && u != UTF8_ACCEPT)
					abort();	/* §8.1 */
				msg_op = 0;
			}
		}
		i += h + (size_t)len;
	}
}

static void
connection(const uint8_t *data, size_t size)
{
	int sv[2];
	size_t off = 0;
	unsigned step = size ? 1 + data[0] % 64 : 1;

	setup();
	if (echo_route == 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	c = conn_new(sv[0], 0, &(struct port_addr){ .family = 4 });
	if (c == NULL) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	peer = sv[1];
	nrx = 0;
	/* as ws_upgrade leaves it, without the handshake */
	c->state = CS_WS;
	c->route = echo_route;
	memset(&c->ws, 0, sizeof c->ws);
	conn_ws_opened(c, router_route(echo_route)->ws->type, NULL);
	while (off < size) {
		size_t n = MIN(size - off, (size_t)step);
		ssize_t w = write(peer, data + off, n);

		if (w < 0 && errno != EAGAIN)
			break;
		if (w > 0)
			off += (size_t)w;
		turn();
		step = step * 3 % 61 + 1;
	}
	for (int i = 0; i < 4; i++)
		turn();
	check_output();
	conn_drop(c, true);
	conn_reap();
	conn_resume_paused();		/* no list points at the slot */
	conn_flush_all();
	close(peer);
	peer = -1;
	c = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	headers(data, size);
	connection(data, size);
	return 0;
}
