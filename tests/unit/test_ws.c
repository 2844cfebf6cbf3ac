/*
 * test_ws.c - RFC 6455: frame headers (every length encoding, every strict
 * prefix, every violation), header encoding, unmasking at every start
 * position, the §1.3 accept key, key and close-code validity; then the
 * connection-level parser (ws_feed) through a real connection slot on a
 * socketpair: the upgrade, then frames fed whole, one byte at a time and
 * split at every point, with the server's frames read back and checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

/* A client frame header: b0 = FIN|RSV|opcode; len in its minimal form
 * unless forced (7: 7-bit, 16: 126 form, 64: 127 form); mask or NULL. */
static size_t
chdr(uint8_t *o, int b0, uint64_t len, int form, const uint8_t *mask)
{
	size_t h = 0;
	uint8_t m = mask ? 0x80 : 0;

	if (form == 0)
		form = len < 126 ? 7 : len <= 0xFFFF ? 16 : 64;
	o[h++] = (uint8_t)b0;
	if (form == 7) {
		o[h++] = (uint8_t)(m | len);
	} else if (form == 16) {
		o[h++] = m | 126;
		o[h++] = (uint8_t)(len >> 8);
		o[h++] = (uint8_t)len;
	} else {
		o[h++] = m | 127;
		for (int i = 7; i >= 0; i--)
			o[h++] = (uint8_t)(len >> (8 * i));
	}
	if (mask) {
		memcpy(o + h, mask, 4);
		h += 4;
	}
	return h;
}

static const uint8_t mask1[4] = { 0x37, 0xFA, 0x21, 0x3D };

/* Parse from an exact-size heap copy (ASan sees any over-read). */
static int
parse_hdr(const uint8_t *p, size_t n, struct ws_frame_hdr *h)
{
	uint8_t *c = malloc(n ? n : 1);
	int rc;

	memcpy(c, p, n);
	rc = ws_parse_header(c, n, h);
	free(c);
	return rc;
}

/* Every strict prefix needs more. */
static int
prefixes_need_more(const uint8_t *p, size_t n)
{
	struct ws_frame_hdr h;
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		if (parse_hdr(p, i, &h) != WARD_NEED_MORE)
			bad++;
	return bad;
}

static void
test_lengths(void)
{
	static const struct {
		uint64_t	len;
		int		hl;
	} v[] = {
		{ 0, 6 }, { 1, 6 }, { 125, 6 }, { 126, 8 }, { 127, 8 },
		{ 65535, 8 }, { 65536, 14 }, { 1ull << 32, 14 },
		{ (1ull << 63) - 1, 14 },
	};

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		uint8_t b[16];
		struct ws_frame_hdr h;
		size_t n = chdr(b, 0x82, v[i].len, 0, mask1);

		CHECK_EQ(n, (size_t)v[i].hl);
		memset(&h, 0xEE, sizeof h);
		CHECK_EQ(parse_hdr(b, n, &h), v[i].hl);
		CHECK(h.len == v[i].len);
		CHECK_EQ(h.fin, 1);
		CHECK_EQ(h.rsv, 0);
		CHECK_EQ(h.opcode, WS_OP_BINARY);
		CHECK_EQ(h.masked, 1);
		CHECK_MEM(h.mask, mask1, 4);
		CHECK_EQ(prefixes_need_more(b, n), 0);
		/* trailing payload bytes do not change the answer */
		b[n] = 0xAB;
		CHECK_EQ(parse_hdr(b, n + 1, &h), v[i].hl);
	}
}

static void
test_header_violations(void)
{
	uint8_t b[16];
	struct ws_frame_hdr h;
	size_t n;

	/* non-minimal lengths (§5.2: "the minimal number of bytes") */
	n = chdr(b, 0x81, 125, 16, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);
	n = chdr(b, 0x81, 0, 16, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);
	n = chdr(b, 0x81, 65535, 64, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);
	n = chdr(b, 0x81, 126, 64, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);
	n = chdr(b, 0x81, 0, 64, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);
	/* the most significant bit of a 64-bit length must be 0 */
	n = chdr(b, 0x81, 1ull << 63, 64, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);
	n = chdr(b, 0x81, UINT64_MAX, 64, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);

	/* RSV1..3 without an extension: fails on the first two bytes */
	for (int rsv = 1; rsv < 8; rsv++) {
		n = chdr(b, 0x81 | rsv << 4, 3, 0, mask1);
		CHECK_EQ(parse_hdr(b, n, &h), -1002);
		CHECK_EQ(parse_hdr(b, 2, &h), -1002);
	}
	/* opcodes: 0,1,2,8,9,A defined; 3-7 and B-F reserved (§5.2) */
	for (int op = 0; op < 16; op++) {
		bool ok = op <= 2 || (op >= 8 && op <= 10);

		n = chdr(b, 0x80 | op, 3, 0, mask1);
		CHECK_EQ(parse_hdr(b, n, &h), ok ? 6 : -1002);
		CHECK_EQ(parse_hdr(b, 2, &h), ok ? WARD_NEED_MORE : -1002);
		if (ok)
			CHECK_EQ(h.opcode, op);
	}
	/* a client must mask (§5.1) */
	n = chdr(b, 0x81, 3, 0, NULL);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);
	CHECK_EQ(parse_hdr(b, 2, &h), -1002);
	n = chdr(b, 0x82, 300, 0, NULL);
	CHECK_EQ(parse_hdr(b, n, &h), -1002);
	/* control frames: FIN set, payload <= 125 (§5.5) */
	for (int op = 8; op <= 10; op++) {
		n = chdr(b, op, 0, 0, mask1);		/* FIN=0 */
		CHECK_EQ(parse_hdr(b, n, &h), -1002);
		n = chdr(b, 0x80 | op, 125, 0, mask1);
		CHECK_EQ(parse_hdr(b, n, &h), 6);
		n = chdr(b, 0x80 | op, 126, 0, mask1);
		CHECK_EQ(parse_hdr(b, n, &h), -1002);
		CHECK_EQ(parse_hdr(b, 2, &h), -1002);
		n = chdr(b, 0x80 | op, 70000, 0, mask1);
		CHECK_EQ(parse_hdr(b, n, &h), -1002);
	}
	/* data frames may be fragmented */
	n = chdr(b, 0x01, 5, 0, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), 6);
	CHECK_EQ(h.fin, 0);
	n = chdr(b, 0x00, 5, 0, mask1);
	CHECK_EQ(parse_hdr(b, n, &h), 6);
	CHECK_EQ(h.opcode, WS_OP_CONT);
	CHECK_EQ(parse_hdr(b, 0, &h), WARD_NEED_MORE);
	CHECK_EQ(parse_hdr(b, 1, &h), WARD_NEED_MORE);
}

/* A server header round-trips through the client parser once masked. */
static void
test_encode(void)
{
	static const uint64_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536,
	    1ull << 32, (1ull << 63) - 1 };
	static const int ops[] = { WS_OP_CONT, WS_OP_TEXT, WS_OP_BINARY,
	    WS_OP_CLOSE, WS_OP_PING, WS_OP_PONG };
	static const uint8_t ex126[] = { 0x81, 0x7E, 0x00, 0x7E };
	static const uint8_t ex64k[] = { 0x02, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0 };
	uint8_t o[16], m[20];
	struct ws_frame_hdr h;
	int bad = 0;

	for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
		for (size_t k = 0; k < ARRAY_LEN(ops); k++) {
			for (int fin = 0; fin < 2; fin++) {
				size_t n = ws_encode_header(o, ops[k], fin,
				    lens[i]);

				if (n != ws_header_len(lens[i]))
					bad++;
				if (ops[k] >= 8 && (lens[i] > 125 || !fin))
					continue;	/* not a legal frame */
				memcpy(m, o, n);
				m[1] |= 0x80;
				memcpy(m + n, mask1, 4);
				if (parse_hdr(m, n + 4, &h) != (int)n + 4 ||
				    h.len != lens[i] || h.opcode != ops[k] ||
				    h.fin != fin || h.rsv != 0)
					bad++;
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(ws_encode_header(o, WS_OP_TEXT, true, 0), 2);
	CHECK_EQ(o[0], 0x81);
	CHECK_EQ(o[1], 0x00);
	CHECK_EQ(ws_encode_header(o, WS_OP_TEXT, true, 126), 4);
	CHECK_MEM(o, ex126, 4);
	CHECK_EQ(ws_encode_header(o, WS_OP_BINARY, false, 65536), 10);
	CHECK_MEM(o, ex64k, 10);
	CHECK_EQ(ws_header_len(125), 2);
	CHECK_EQ(ws_header_len(126), 4);
	CHECK_EQ(ws_header_len(65535), 4);
	CHECK_EQ(ws_header_len(65536), 10);
}

static void
test_unmask(void)
{
	static const uint8_t hello[] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	uint8_t data[128], ref[128], buf[128 + 8], out[128 + 8];
	unsigned seed = 99;
	int bad = 0;

	/* RFC 6455 §5.7: a masked "Hello" */
	memcpy(data, hello, 5);
	CHECK_EQ(ws_unmask(data, 5, mask1, 0), 1);
	CHECK_MEM(data, "Hello", 5);

	for (unsigned pos = 0; pos < 8; pos++) {
		for (size_t n = 0; n <= 100; n++) {
			for (size_t align = 0; align < 8; align++) {
				uint8_t mask[4], *p = buf + align;
				uint8_t *q = out + (7 - align);
				unsigned got;

				for (int k = 0; k < 4; k++)
					mask[k] = (uint8_t)check_rand(&seed);
				for (size_t i = 0; i < n; i++)
					ref[i] = p[i] =
					    (uint8_t)check_rand(&seed);
				for (size_t i = 0; i < n; i++)
					ref[i] ^= mask[(pos + i) & 3];
				/* into another buffer: the source stays */
				memset(q, 0xEE, n + 1);
				got = ws_unmask_copy(q, p, n, mask, pos);
				if (got != ((pos + n) & 3) ||
				    memcmp(q, ref, n) != 0 || q[n] != 0xEE)
					bad++;
				got = ws_unmask(p, n, mask, pos);
				if (got != ((pos + n) & 3) ||
				    memcmp(p, ref, n) != 0)
					bad++;
			}
		}
	}
	CHECK_EQ(bad, 0);

	/* unmasking in two pieces at every split equals once */
	for (size_t n = 0; n <= 100; n++) {
		for (size_t cut = 0; cut <= n; cut++) {
			unsigned pos;

			for (size_t i = 0; i < n; i++)
				ref[i] = data[i] = (uint8_t)(i * 7 + n);
			ws_unmask(ref, n, mask1, 0);
			pos = ws_unmask(data, cut, mask1, 0);
			ws_unmask(data + cut, n - cut, mask1, pos);
			if (memcmp(data, ref, n) != 0)
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
}

static void
test_accept_key(void)
{
	static const struct {
		const char	*key, *acc;
	} v[] = {
		/* RFC 6455 §1.3 */
		{ "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" },
		{ "x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=" },
		{ "AAAAAAAAAAAAAAAAAAAAAA==", "ICX+Yqv66kxgM0FcWaLWlFLwTAI=" },
	};

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		char out[32];

		memset(out, 'X', sizeof out);
		ws_accept_key(v[i].key, strlen(v[i].key), out);
		CHECK_STR(out, v[i].acc);
		CHECK_EQ(out[29], 'X');		/* out[29] is enough */
	}
}

static void
test_key_valid(void)
{
	static const struct {
		const char	*key;
		bool		 ok;
	} v[] = {
		{ "dGhlIHNhbXBsZSBub25jZQ==", true },
		{ "AAAAAAAAAAAAAAAAAAAAAA==", true },
		{ "/////////////////////w==", true },
		{ "dGhlIHNhbXBsZSBub25jZQ", false },	/* unpadded */
		{ "dGhlIHNhbXBsZSBub25jZQ=", false },
		{ "dGhlIHNhbXBsZSBub25jZQ===", false },
		{ "dGhlIHNhbXBsZSBub25jZR==", false },	/* trailing bits */
		{ "AAAAAAAAAAAAAAAAAAAAAAAA", false },	/* 18 bytes */
		{ "AAAAAAAAAAAAAAAAAAAAAAA=", false },	/* 17 bytes */
		{ "AAAAAAAAAAAAAAAAAAAA", false },	/* 15 bytes */
		{ "dGhlIHNhbXBsZSBub25jZ!==", false },
		{ "dGhlIHNhbXBsZSBub25jZ-==", false },	/* url alphabet */
		{ " dGhlIHNhbXBsZSBub25jZQ==", false },
		{ "", false },
	};

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		struct str k = { v[i].key, strlen(v[i].key) };

		CHECK_EQ(ws_key_valid(k), v[i].ok);
	}
	CHECK(!ws_key_valid((struct str){ NULL, 0 }));
}

static void
test_close_codes(void)
{
	static const struct {
		unsigned	code;
		bool		ok;
	} v[] = {
		{ 0, false }, { 1, false }, { 999, false }, { 1000, true },
		{ 1001, true }, { 1002, true }, { 1003, true },
		{ 1004, false }, { 1005, false }, { 1006, false },
		{ 1007, true }, { 1008, true }, { 1009, true }, { 1010, true },
		{ 1011, true }, { 1012, true }, { 1013, true }, { 1014, true },
		{ 1015, false }, { 1016, false }, { 1100, false },
		{ 2000, false }, { 2999, false }, { 3000, true },
		{ 3999, true }, { 4000, true }, { 4999, true },
		{ 5000, false }, { 65535, false }, { 65536, false },
	};

	for (size_t i = 0; i < ARRAY_LEN(v); i++)
		CHECK_EQ(ws_close_code_valid(v[i].code), v[i].ok);
}

static void
test_frame_buf(void)
{
	static uint8_t pl[300];
	uint32_t h;

	for (size_t i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)i;
	h = ws_frame(WS_OP_TEXT, "hi", 2);
	CHECK(h != 0);
	if (h != 0) {
		CHECK_EQ(buf_len(h), 4);
		CHECK_MEM(buf_data(h), "\x81\x02hi", 4);
		buf_unref(h);
	}
	h = ws_frame(WS_OP_BINARY, pl, sizeof pl);
	CHECK(h != 0);
	if (h != 0) {
		CHECK_EQ(buf_len(h), 4 + sizeof pl);
		CHECK_MEM(buf_data(h), "\x82\x7E\x01\x2C", 4);
		CHECK_MEM(buf_data(h) + 4, pl, sizeof pl);
		buf_unref(h);
	}
	h = ws_frame(WS_OP_PING, NULL, 0);
	CHECK(h != 0);
	if (h != 0) {
		CHECK_EQ(buf_len(h), 2);
		buf_unref(h);
	}
}

/* --- ws_feed through a connection on a socketpair ------------------------ */

#define OUT_MAX	(256 * 1024)

static struct {
	struct conn	*c;
	int		 peer;
	size_t		 nout;
	uint8_t		 out[OUT_MAX];
} W;

/* What the server sent, decoded. */
struct seen {
	int	msgs;		/* complete data messages */
	int	ops[8];		/* their opcodes */
	size_t	len;		/* payload bytes of all data frames */
	uint8_t	data[80000];
	bool	open;		/* a message is still in progress */
	int	pongs;
	uint8_t	pong[125];
	size_t	pong_len;
	int	close_code;	/* -1: none; 1005: empty close */
	bool	bad;		/* malformed server output */
};

static struct seen S;

static void
drain(void)
{
	for (;;) {
		ssize_t r;

		if (W.nout == OUT_MAX)
			return;
		r = read(W.peer, W.out + W.nout, OUT_MAX - W.nout);
		if (r <= 0)
			return;
		W.nout += (size_t)r;
	}
}

/* One turn of the event loop (loop.c's order) for our connection. */
static void
turn(void)
{
	if (W.c->state != CS_DEAD && W.c->state != CS_FREE)
		conn_on_event(W.c, PORT_EV_IN | PORT_EV_OUT);
	conn_flush_all();
	conn_resume_paused();
	conn_flush_all();
	drain();
}

/* The peer writes bytes; the server reads them, answers, flushes. */
static void
push(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(W.peer, b, n);

		if (w < 0 && errno != EAGAIN)
			return;
		if (w > 0) {
			b += w;
			n -= (size_t)w;
		}
		turn();
	}
	/* a paused connection resumes once buffers come back */
	for (int i = 0; i < 4; i++)
		turn();
}

static bool
ws_open(void)
{
	static const char up[] = "GET /ws/echo HTTP/1.1\r\nHost: t\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n";
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\n";
	static const char acc[] =
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
	int sv[2];
	bool good;

	W.nout = 0;
	W.c = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return false;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	W.c = conn_new(sv[0], 0, &(struct port_addr){ .family = 4 });
	if (W.c == NULL) {
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	W.peer = sv[1];
	push(up, sizeof up - 1);
	W.out[W.nout < OUT_MAX ? W.nout : OUT_MAX - 1] = 0;
	good = W.c->state == CS_WS && W.nout > sizeof ok &&
	    memcmp(W.out, ok, sizeof ok - 1) == 0 &&
	    strstr((char *)W.out, acc) != NULL;
	W.nout = 0;
	return good;
}

static void
ws_end(void)
{
	if (W.c != NULL) {
		conn_drop(W.c, true);
		conn_reap();
		close(W.peer);
		W.c = NULL;
	}
}

/* Decode the server's frames: unmasked, minimal lengths, no RSV. */
static void
decode(void)
{
	size_t i = 0;

	memset(&S, 0, sizeof S);
	S.close_code = -1;
	while (i < W.nout && !S.bad) {
		uint8_t b0, b1;
		uint64_t len;
		size_t h = 2;

		if (W.nout - i < 2) {
			S.bad = true;
			break;
		}
		b0 = W.out[i];
		b1 = W.out[i + 1];
		len = b1 & 127;
		if ((b0 & 0x70) || (b1 & 0x80) || S.close_code != -1)
			S.bad = true;	/* nothing may follow a close */
		if (len == 126) {
			len = (uint64_t)W.out[i + 2] << 8 | W.out[i + 3];
			h = 4;
		} else if (len == 127) {
			len = 0;
			for (int k = 0; k < 8; k++)
				len = len << 8 | W.out[i + 2 + k];
			h = 10;
		}
		if (len != 0 && ws_header_len(len) != h)
			S.bad = true;
		if (W.nout - i < h || W.nout - i - h < len) {
			S.bad = true;
			break;
		}
		switch (b0 & 15) {
		case WS_OP_TEXT:
		case WS_OP_BINARY:
			if (S.open || S.msgs >= 8)
				S.bad = true;
			else
				S.ops[S.msgs] = b0 & 15;
			S.open = true;
			/* FALLTHROUGH */
		case WS_OP_CONT:
			if (!S.open || S.len + len > sizeof S.data) {
				S.bad = true;
				break;
			}
			memcpy(S.data + S.len, W.out + i + h, (size_t)len);
			S.len += (size_t)len;
			if (b0 & 0x80) {
				S.open = false;
				S.msgs++;
			}
			break;
		case WS_OP_PONG:
			S.pongs++;
			S.pong_len = (size_t)len;
			memcpy(S.pong, W.out + i + h, (size_t)MIN(len, 125));
			break;
		case WS_OP_CLOSE:
			S.close_code = len >= 2 ? W.out[i + h] << 8 |
			    W.out[i + h + 1] : 1005;
			break;
		default:
			S.bad = true;
		}
		i += h + (size_t)len;
	}
}

/* Append a masked client frame to a stream. */
static size_t
cframe(uint8_t *o, int b0, const void *pl, size_t n)
{
	size_t h = chdr(o, b0, n, 0, mask1);

	for (size_t i = 0; i < n; i++)
		o[h + i] = ((const uint8_t *)pl)[i] ^ mask1[i & 3];
	return h + n;
}

/* Run a stream through a fresh connection in pieces at the cut points. */
static bool
run(const uint8_t *s, size_t n, const size_t *cut, int ncut)
{
	size_t at = 0;

	if (!ws_open()) {
		ws_end();
		return false;
	}
	for (int k = 0; k <= ncut; k++) {
		size_t end = k < ncut ? cut[k] : n;

		if (end > at)
			push(s + at, end - at);
		at = end;
	}
	decode();
	ws_end();
	return true;
}

static bool
run_whole(const uint8_t *s, size_t n)
{
	return run(s, n, NULL, 0);
}

static void
test_feed_hello(void)
{
	/* RFC 6455 §5.7: a single-frame masked text message */
	static const uint8_t hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
	    0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const uint8_t want[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
	int bad = 0;

	if (!ws_open()) {
		CHECK(!"upgrade to /ws/echo failed");
		ws_end();
		return;
	}
	push(hello, sizeof hello);
	CHECK_EQ(W.nout, sizeof want);
	CHECK_MEM(W.out, want, sizeof want);
	CHECK_EQ(W.c->state, CS_WS);
	ws_end();

	/* split at every point: the same echo */
	for (size_t cut = 0; cut <= sizeof hello; cut++) {
		if (!run(hello, sizeof hello, &cut, 1) || S.bad ||
		    S.msgs != 1 || S.ops[0] != WS_OP_TEXT || S.len != 5 ||
		    memcmp(S.data, "Hello", 5) != 0 || S.close_code != -1)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/*
 * A fragmented text message with a ping in the middle (§5.4, §5.5.2), a
 * binary message, and a close: fed whole, one byte at a time, and split at
 * every point.  The echo may be fragmented differently; its content, the
 * pong and the closing handshake may not.
 */
static void
test_feed_stream(void)
{
	static uint8_t s[256];
	static const char text[] = "Hello \xE2\x98\x83 world";
	size_t n = 0, cuts[256];
	int bad = 0;

	n += cframe(s + n, 0x01, "Hello \xE2", 7);
	n += cframe(s + n, 0x89, "ping!", 5);
	n += cframe(s + n, 0x00, "\x98", 1);
	n += cframe(s + n, 0x80, "\x83 world", 7);
	n += cframe(s + n, 0x82, "\x00\x01\x02", 3);
	n += cframe(s + n, 0x88, "\x03\xE8" "bye", 5);

	for (size_t i = 0; i < n; i++)
		cuts[i] = i;
	for (int mode = 0; mode < 2 + (int)n; mode++) {
		bool ok;

		if (mode == 0)
			ok = run_whole(s, n);
		else if (mode == 1)
			ok = run(s, n, cuts, (int)n);	/* byte by byte */
		else {
			size_t c = (size_t)mode - 2;

			ok = run(s, n, &c, 1);
		}
		if (!ok || S.bad || S.msgs != 2 || S.ops[0] != WS_OP_TEXT ||
		    S.ops[1] != WS_OP_BINARY ||
		    S.len != sizeof text - 1 + 3 ||
		    memcmp(S.data, text, sizeof text - 1) != 0 ||
		    memcmp(S.data + sizeof text - 1, "\x00\x01\x02", 3) != 0 ||
		    S.pongs != 1 || S.pong_len != 5 ||
		    memcmp(S.pong, "ping!", 5) != 0 || S.close_code != 1000) {
			if (bad++ < 3)
				fprintf(stderr, "  stream mode %d: msgs %d len "
				    "%zu pongs %d close %d bad %d\n", mode,
				    S.msgs, S.len, S.pongs, S.close_code, S.bad);
		}
	}
	CHECK_EQ(bad, 0);
}

/* A message longer than 64 KiB (the 127 form), in random pieces. */
static void
test_feed_large(void)
{
	static uint8_t pl[70000], s[70100];
	unsigned seed = 2024;
	size_t n, cut[6];

	for (size_t i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)check_rand(&seed);
	n = cframe(s, 0x82, pl, sizeof pl);
	CHECK_EQ(n, sizeof pl + 14);
	for (int r = 0; r < 3; r++) {
		cut[0] = check_rand(&seed) % 20;
		for (int k = 1; k < 6; k++)
			cut[k] = cut[k - 1] + check_rand(&seed) % (n / 5);
		for (int k = 0; k < 6; k++)
			cut[k] = MIN(cut[k], n);
		CHECK(run(s, n, cut, 6));
		CHECK(!S.bad);
		CHECK_EQ(S.msgs, 1);
		CHECK_EQ(S.ops[0], WS_OP_BINARY);
		CHECK_EQ(S.len, sizeof pl);
		CHECK(memcmp(S.data, pl, sizeof pl) == 0);
		CHECK_EQ(S.close_code, -1);
	}
}

/* Feed one stream whole and byte by byte; expect a close with code. */
static void
expect_close(const uint8_t *s, size_t n, int code, int line)
{
	size_t cuts[128];

	for (size_t i = 0; i < n && i < ARRAY_LEN(cuts); i++)
		cuts[i] = i;
	int fails = 0;

	for (int mode = 0; mode < 2; mode++) {
		bool ok = mode == 0 ? run_whole(s, n) :
		    run(s, n, cuts, (int)MIN(n, ARRAY_LEN(cuts)));

		if (!ok || S.close_code != code || S.bad) {
			fails++;
			fprintf(stderr, "  line %d: expected close %d, got %d "
			    "(mode %d)\n", line, code, S.close_code, mode);
		}
	}
	if (fails == 0) {
		check_passed++;
	} else {
		check_failed++;
		fprintf(stderr, "FAIL %s:%d [%s] expected close %d\n",
		    __FILE__, line, check_suite, code);
	}
}

#define EXPECT_CLOSE(code)	expect_close(s, n, code, __LINE__)

static void
test_feed_violations(void)
{
	uint8_t s[400];
	size_t n;

	/* clean close: the peer's code is echoed (§5.5.1) */
	n = cframe(s, 0x88, "\x03\xE8", 2);
	EXPECT_CLOSE(1000);
	n = cframe(s, 0x88, "\x0F\xA0" "app", 5);
	EXPECT_CLOSE(4000);
	n = cframe(s, 0x88, "", 0);		/* no code: 1000 back */
	EXPECT_CLOSE(1000);
	/* bad close payloads (§5.5.1, §7.4) */
	n = cframe(s, 0x88, "\x03", 1);
	EXPECT_CLOSE(1002);
	n = cframe(s, 0x88, "\x03\xED", 2);	/* 1005 */
	EXPECT_CLOSE(1002);
	n = cframe(s, 0x88, "\x03\xE7", 2);	/* 999 */
	EXPECT_CLOSE(1002);
	n = cframe(s, 0x88, "\x03\xE8\xC0\xAF", 4);
	EXPECT_CLOSE(1007);
	/* framing */
	n = chdr(s, 0x81, 3, 0, NULL);		/* unmasked */
	memcpy(s + n, "abc", 3);
	n += 3;
	EXPECT_CLOSE(1002);
	n = cframe(s, 0xC1, "abc", 3);		/* RSV1 */
	EXPECT_CLOSE(1002);
	n = cframe(s, 0x83, "abc", 3);		/* reserved opcode */
	EXPECT_CLOSE(1002);
	n = cframe(s, 0x80, "abc", 3);		/* no message to continue */
	EXPECT_CLOSE(1002);
	n = cframe(s, 0x01, "ab", 2);		/* text inside a message */
	n += cframe(s + n, 0x81, "cd", 2);
	EXPECT_CLOSE(1002);
	n = cframe(s, 0x09, "x", 1);		/* fragmented ping */
	EXPECT_CLOSE(1002);
	n = chdr(s, 0x89, 126, 0, mask1);	/* ping of 126 bytes */
	memset(s + n, 'p', 126);
	n += 126;
	EXPECT_CLOSE(1002);
	/* invalid UTF-8 (§8.1): 1007 */
	n = cframe(s, 0x81, "a\xFF" "b", 3);
	EXPECT_CLOSE(1007);
	n = cframe(s, 0x81, "\xCE", 1);		/* truncated at FIN */
	EXPECT_CLOSE(1007);
	n = cframe(s, 0x01, "\xCE", 1);
	n += cframe(s + n, 0x80, "A", 1);
	EXPECT_CLOSE(1007);
	n = cframe(s, 0x01, "\xED", 1);		/* surrogate, 2 frames */
	n += cframe(s + n, 0x80, "\xA0\x80", 2);
	EXPECT_CLOSE(1007);
	/*
	 * A fragmented text message whose last fragment is empty: the
	 * message ends inside a UTF-8 sequence and must fail with 1007
	 * (RFC 6455 §8.1) like the case above.
	 */
	n = cframe(s, 0x01, "\xCE", 1);
	n += cframe(s + n, 0x80, "", 0);
	EXPECT_CLOSE(1007);
}

/* A valid sequence split across fragments is fine. */
static void
test_feed_utf8_fragments(void)
{
	uint8_t s[64];
	size_t n;

	n = cframe(s, 0x01, "\xCE", 1);
	n += cframe(s + n, 0x00, "", 0);
	n += cframe(s + n, 0x80, "\xBA", 1);
	CHECK(run_whole(s, n));
	CHECK(!S.bad);
	CHECK_EQ(S.msgs, 1);
	CHECK_EQ(S.len, 2);
	CHECK_MEM(S.data, "\xCE\xBA", 2);
	CHECK_EQ(S.close_code, -1);
	/* an empty text message, and one made of empty fragments */
	n = cframe(s, 0x81, "", 0);
	n += cframe(s + n, 0x01, "", 0);
	n += cframe(s + n, 0x80, "", 0);
	CHECK(run_whole(s, n));
	CHECK(!S.bad);
	CHECK_EQ(S.msgs, 2);
	CHECK_EQ(S.len, 0);
	CHECK_EQ(S.close_code, -1);
}

/* Fail fast: the close goes out before the bad frame has fully arrived. */
static void
test_feed_fail_fast(void)
{
	uint8_t s[64];
	size_t n = chdr(s, 0x81, 40, 0, mask1);

	for (size_t i = 0; i < 40; i++)
		s[n + i] = (uint8_t)((i == 2 ? 0xFF : 'a') ^ mask1[i & 3]);
	if (!ws_open()) {
		CHECK(!"upgrade failed");
		ws_end();
		return;
	}
	push(s, n + 3);			/* header and "aa\xFF" only */
	decode();
	CHECK_EQ(S.close_code, 1007);
	CHECK(W.c->state != CS_WS);
	ws_end();
}

/* Ping payloads come back byte for byte (§5.5.3), up to 125. */
static void
test_feed_ping(void)
{
	uint8_t pl[125], s[200];
	size_t n;

	for (size_t i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)(i * 3);
	n = cframe(s, 0x89, pl, sizeof pl);
	CHECK(run_whole(s, n));
	CHECK_EQ(S.pongs, 1);
	CHECK_EQ(S.pong_len, sizeof pl);
	CHECK_MEM(S.pong, pl, sizeof pl);
	n = cframe(s, 0x8A, "unsolicited", 11);	/* a pong is ignored */
	n += cframe(s + n, 0x89, "", 0);
	CHECK(run_whole(s, n));
	CHECK_EQ(S.pongs, 1);
	CHECK_EQ(S.pong_len, 0);
	CHECK_EQ(S.close_code, -1);
}

/* echo_max_message caps a message (1009); 0 streams any size. */
static void
test_feed_too_big(void)
{
	uint8_t pl[101], s[200];
	size_t n;

	memset(pl, 'x', sizeof pl);
	cfg.echo_max_message = 100;
	n = cframe(s, 0x81, pl, 100);
	CHECK(run_whole(s, n));
	CHECK_EQ(S.msgs, 1);
	CHECK_EQ(S.close_code, -1);
	n = cframe(s, 0x81, pl, 101);
	CHECK(run_whole(s, n));
	CHECK_EQ(S.close_code, 1009);
	n = cframe(s, 0x01, pl, 60);
	n += cframe(s + n, 0x80, pl, 41);
	CHECK(run_whole(s, n));
	CHECK_EQ(S.close_code, 1009);
	cfg.echo_max_message = 0;
}

void
suite_ws(void)
{
	buf_init();
	test_lengths();
	test_header_violations();
	test_encode();
	test_unmask();
	test_accept_key();
	test_key_valid();
	test_close_codes();
	test_frame_buf();

	cfg_defaults();
	cfg.echo_max_message = 0;
	log_level = -1;			/* conn_fail logs: keep quiet */
	buf_init();
	conn_init();
	test_feed_hello();
	test_feed_stream();
	test_feed_large();
	test_feed_violations();
	test_feed_utf8_fragments();
	test_feed_fail_fast();
	test_feed_ping();
	test_feed_too_big();
	log_level = PORT_LOG_INFO;
}
