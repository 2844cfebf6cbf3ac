/*
 * fuzz_tls.c - the TLS glue (src/tls.c) under arbitrary records.
 *
 * The first input byte picks a mode, the second a split size (1..256
 * bytes per move, so every record boundary and every cut inside a record
 * is reached), the rest is the payload:
 *   mode 0  the payload as the client's first bytes to a fresh server
 *           (ClientHello parsing, plain HTTP, SSLv2-style hellos...)
 *   mode 1  a real handshake with an in-memory BearSSL client, records
 *           cut at the split size, an echo, then the payload as garbage
 *           records after the handshake
 *   mode 2  a real handshake where one byte of the client's stream (at
 *           payload[0..1], XOR payload[2]) is corrupted on the way (it
 *           may still complete: record-header version bytes of the
 *           first record are not authenticated)
 * Invariants (abort otherwise): no plaintext ever comes out of bytes that
 * are not the client's own records; a failed connection stays failed and
 * takes nothing more; the echo before the garbage is exact; every pool
 * slot comes back.
 *
 * Credentials: server-ec.pem/.key from WARD_TLS_TEST_DIR (tests/tls/tls.mk
 * exports it to `make fuzz` and `make fuzz-replay`).
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "tls.h"

#include <bearssl.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static br_ssl_client_context cc;
static br_x509_minimal_context xc;	/* set by init_full, then replaced */
static br_x509_knownkey_context kk;
static uint8_t cbuf[BR_SSL_BUFSIZE_BIDI];
static uint8_t leaf_der[4096];
static size_t leaf_len;
static br_x509_decoder_context leaf_xd;

static void
vec_put(void *ctx, const void *d, size_t n)
{
	size_t *len = ctx;

	if (*len + n <= sizeof leaf_der)
		memcpy(leaf_der + *len, d, n);
	*len += n;
}

static void
setup(void)
{
	static bool done;
	static char pem[8192];
	const char *dir = port_getenv("WARD_TLS_TEST_DIR");
	char cert[512], key[512], err[256];
	br_pem_decoder_context pc;
	size_t off = 0;
	long n;

	if (done)
		return;
	if (dir == NULL) {
		fprintf(stderr, "fuzz_tls: WARD_TLS_TEST_DIR is not set (run "
		    "through make: tests/tls/tls.mk)\n");
		abort();
	}
	snprintf(cert, sizeof cert, "%s/server-ec.pem", dir);
	snprintf(key, sizeof key, "%s/server-ec.key", dir);
	if (tls_creds_load(cert, key, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_tls: %s\n", err);
		abort();
	}
	/* the client trusts the leaf's key as such (no dates, no chain) */
	n = port_file_read(cert, pem, sizeof pem);
	br_pem_decoder_init(&pc);
	while (n > 0 && off < (size_t)n) {
		int ev;

		off += br_pem_decoder_push(&pc, pem + off, (size_t)n - off);
		ev = br_pem_decoder_event(&pc);	/* read once: it clears */
		if (ev == BR_PEM_BEGIN_OBJ)
			br_pem_decoder_setdest(&pc, vec_put, &leaf_len);
		else if (ev == BR_PEM_END_OBJ)
			break;
	}
	br_x509_decoder_init(&leaf_xd, NULL, NULL);
	br_x509_decoder_push(&leaf_xd, leaf_der, leaf_len);
	if (br_x509_decoder_get_pkey(&leaf_xd) == NULL)
		abort();
	br_x509_knownkey_init_ec(&kk, &br_x509_decoder_get_pkey(&leaf_xd)->
	    key.ec, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	done = true;
}

static br_ssl_engine_context *
client(void)
{
	br_ssl_client_init_full(&cc, &xc, NULL, 0);
	br_ssl_engine_set_x509(&cc.eng, &kk.vtable);
	br_ssl_engine_set_buffer(&cc.eng, cbuf, sizeof cbuf, 1);
	br_ssl_client_reset(&cc, "localhost", 0);
	return &cc.eng;
}

/* Bytes into the server, split; false once it takes no more. */
static bool
feed(struct tls_conn *s, const uint8_t *p, size_t len, size_t split)
{
	size_t off = 0, sl, n;
	uint8_t *in;

	while (off < len) {
		if ((in = tls_conn_recvrec_buf(s, &sl)) == NULL)
			return false;
		n = MIN(MIN(sl, len - off), split);
		memcpy(in, p + off, n);
		tls_conn_recvrec_ack(s, n);
		off += n;
	}
	return true;
}

/* Drop what the server sends (the client is gone or is not a client). */
static void
drain(struct tls_conn *s)
{
	const uint8_t *b;
	size_t len;

	for (int i = 0; i < 1000 && (b = tls_conn_sendrec_buf(s, &len)); i++)
		tls_conn_sendrec_ack(s, len);
}

/* A closed engine takes nothing and gives no plaintext. */
static void
check_dead(struct tls_conn *s)
{
	size_t len;

	if (!(tls_conn_state(s) & TLS_ST_CLOSED))
		return;
	if (tls_conn_recvrec_buf(s, &len) != NULL ||
	    tls_conn_recvapp_buf(s, &len) != NULL ||
	    tls_conn_sendapp_buf(s, &len) != NULL)
		abort();
}

/*
 * Move records both ways with `split` bytes a move; the client's stream
 * has byte `at` XORed with x (x == 0: untouched).
 */
static void
pump(struct tls_conn *s, br_ssl_engine_context *c, size_t split,
    size_t at, uint8_t x, size_t *sent)
{
	for (int i = 0; i < 20000; i++) {
		bool moved = false;
		size_t cl, sl, n;
		uint8_t *cb, *sb;
		const uint8_t *ob;

		cb = br_ssl_engine_sendrec_buf(c, &cl);
		sb = cb != NULL ? tls_conn_recvrec_buf(s, &sl) : NULL;
		if (sb != NULL) {
			n = MIN(MIN(cl, sl), split);
			memcpy(sb, cb, n);
			if (x != 0 && at >= *sent && at < *sent + n)
				sb[at - *sent] ^= x;
			*sent += n;
			br_ssl_engine_sendrec_ack(c, n);
			tls_conn_recvrec_ack(s, n);
			moved = true;
		}
		ob = tls_conn_sendrec_buf(s, &sl);
		cb = ob != NULL ? br_ssl_engine_recvrec_buf(c, &cl) : NULL;
		if (cb != NULL) {
			n = MIN(MIN(cl, sl), split);
			memcpy(cb, ob, n);
			tls_conn_sendrec_ack(s, n);
			br_ssl_engine_recvrec_ack(c, n);
			moved = true;
		}
		if (!moved)
			break;
	}
}

static void
mode_raw(const uint8_t *p, size_t len, size_t split)
{
	struct tls_conn *s = tls_conn_take();
	size_t n;

	if (s == NULL)
		abort();
	feed(s, p, len, split);
	drain(s);
	if (tls_conn_recvapp_buf(s, &n) != NULL || tls_conn_handshake_done(s))
		abort();	/* no client, no handshake, no plaintext */
	check_dead(s);
	tls_conn_reset(s);
}

static void
mode_after(const uint8_t *p, size_t len, size_t split)
{
	struct tls_conn *s = tls_conn_take();
	br_ssl_engine_context *c = client();
	size_t sent = 0, n;
	const uint8_t *r;
	uint8_t *w;

	if (s == NULL)
		abort();
	pump(s, c, split, 0, 0, &sent);
	if (!tls_conn_handshake_done(s) || tls_conn_error(s) != 0)
		abort();	/* an honest client always gets in */
	/* one echo first: exact */
	w = br_ssl_engine_sendapp_buf(c, &n);
	if (w == NULL || n < 5)
		abort();
	memcpy(w, "hello", 5);
	br_ssl_engine_sendapp_ack(c, 5);
	br_ssl_engine_flush(c, 0);
	pump(s, c, split, 0, 0, &sent);
	r = tls_conn_recvapp_buf(s, &n);
	if (r == NULL || n != 5 || memcmp(r, "hello", 5) != 0)
		abort();
	tls_conn_recvapp_ack(s, 5);
	/* then garbage: it may be taken or refused, never decrypted */
	feed(s, p, len, split);
	if (tls_conn_recvapp_buf(s, &n) != NULL)
		abort();
	drain(s);
	check_dead(s);
	tls_conn_reset(s);
}

static void
mode_corrupt(const uint8_t *p, size_t len, size_t split)
{
	struct tls_conn *s = tls_conn_take();
	br_ssl_engine_context *c = client();
	size_t sent = 0, n;
	size_t at = len >= 2 ? (size_t)p[0] << 8 | p[1] : 0;
	uint8_t x = len >= 3 ? p[2] : 0;

	if (s == NULL)
		abort();
	pump(s, c, split, at, x, &sent);
	if (tls_conn_recvapp_buf(s, &n) != NULL)
		abort();	/* the client sent no data */
	check_dead(s);
	tls_conn_reset(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split;

	if (size < 2)
		return 0;
	setup();
	split = (size_t)data[1] + 1;
	switch (data[0] % 3) {
	case 0:
		mode_raw(data + 2, size - 2, split);
		break;
	case 1:
		mode_after(data + 2, size - 2, split);
		break;
	default:
		mode_corrupt(data + 2, size - 2, split);
		break;
	}
	if (tls_conn_used() != 0)
		abort();	/* a slot leaked */
	return 0;
}
