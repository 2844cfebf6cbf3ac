/*
 * test_tls.c - tls.c against an in-memory BearSSL client engine.
 *
 * The certificates come from tests/tls/gen-certs.sh through
 * WARD_TLS_TEST_DIR (tests/tls/tls.mk exports it to `make unit` for every
 * BOARD and VARIANT); without it the suite fails, it does not skip.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "tls.h"
#include "check.h"

#include <bearssl.h>

static const char *dir;

static const char *
path(const char *name)
{
	static char p[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

/* --- the client side: trust anchor from ca.pem ------------------------- */

static uint8_t ca_der[4096];
static size_t ca_der_len;
static uint8_t ca_dn[1024];
static size_t ca_dn_len;
static br_x509_decoder_context ca_xd;
static br_x509_trust_anchor ta;

static void
put(void *ctx, const void *d, size_t n)
{
	size_t *len = ctx;
	uint8_t *base = len == &ca_der_len ? ca_der : ca_dn;
	size_t cap = len == &ca_der_len ? sizeof ca_der : sizeof ca_dn;

	if (*len + n <= cap)
		memcpy(base + *len, d, n);
	*len += n;
}

struct vec {
	uint8_t	*p;
	size_t	 len, cap;
};

static void
vec_put(void *ctx, const void *d, size_t n)
{
	struct vec *v = ctx;

	if (v->len + n <= v->cap)
		memcpy(v->p + v->len, d, n);
	v->len += n;
}

/* The first PEM object of a file, as DER, into out. */
static size_t
der_of(const char *file, uint8_t *out, size_t cap)
{
	static char text[32768];
	br_pem_decoder_context pc;
	struct vec v = { out, 0, cap };
	long n = port_file_read(file, text, sizeof text - 1);
	size_t off = 0;

	if (n <= 0)
		return 0;
	br_pem_decoder_init(&pc);
	while (off < (size_t)n) {
		off += br_pem_decoder_push(&pc, text + off, (size_t)n - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			br_pem_decoder_setdest(&pc, vec_put, &v);
			break;
		case BR_PEM_END_OBJ:
			return v.len <= cap ? v.len : 0;
		case BR_PEM_ERROR:
			return 0;
		default:
			break;
		}
	}
	return 0;
}

static bool
anchor_load(void)
{
	const br_x509_pkey *pk;

	ca_der_len = der_of(path("ca.pem"), ca_der, sizeof ca_der);
	if (ca_der_len == 0)
		return false;
	ca_dn_len = 0;
	br_x509_decoder_init(&ca_xd, put, &ca_dn_len);
	br_x509_decoder_push(&ca_xd, ca_der, ca_der_len);
	pk = br_x509_decoder_get_pkey(&ca_xd);
	if (pk == NULL || ca_dn_len > sizeof ca_dn)
		return false;
	ta.dn.data = ca_dn;
	ta.dn.len = ca_dn_len;
	ta.flags = BR_X509_TA_CA;
	ta.pkey = *pk;
	return true;
}

/* The leaf public key (EC point) of a chain file, for "which cert". */
static size_t
leaf_q(const char *file, uint8_t *q, size_t cap)
{
	static uint8_t der[4096];
	static br_x509_decoder_context xd;
	const br_x509_pkey *pk;
	size_t n = der_of(file, der, sizeof der);

	br_x509_decoder_init(&xd, NULL, NULL);
	br_x509_decoder_push(&xd, der, n);
	pk = br_x509_decoder_get_pkey(&xd);
	if (pk == NULL || pk->key_type != BR_KEYTYPE_EC ||
	    pk->key.ec.qlen > cap)
		return 0;
	memcpy(q, pk->key.ec.q, pk->key.ec.qlen);
	return pk->key.ec.qlen;
}

struct client {
	br_ssl_client_context	cc;
	br_x509_minimal_context	xc;
	uint8_t			iobuf[BR_SSL_BUFSIZE_BIDI];
};

static struct client cli[3];
static const char *client_alpn[] = { "h2", "http/1.1" };

static const uint16_t *client_suites;	/* NULL: BearSSL's default list */
static size_t client_nsuites;

/* A client trusting ca.pem; p256_only: offer only P-256 for ECDHE. */
static br_ssl_engine_context *
client_start(struct client *c, const br_ssl_session_parameters *resume,
    bool p256_only)
{
	static br_ec_impl ec_p256;

	br_ssl_client_init_full(&c->cc, &c->xc, &ta, 1);
	if (p256_only) {
		ec_p256 = *br_ec_get_default();
		ec_p256.supported_curves = 1u << BR_EC_secp256r1;
		br_ssl_engine_set_ec(&c->cc.eng, &ec_p256);
	}
	if (client_suites != NULL)
		br_ssl_engine_set_suites(&c->cc.eng, client_suites,
		    client_nsuites);
	br_ssl_engine_set_protocol_names(&c->cc.eng, client_alpn, 2);
	br_ssl_engine_set_buffer(&c->cc.eng, c->iobuf, sizeof c->iobuf, 1);
	if (resume != NULL)
		br_ssl_engine_set_session_parameters(&c->cc.eng, resume);
	br_ssl_client_reset(&c->cc, "localhost", resume != NULL);
	return &c->cc.eng;
}

/*
 * Move records both ways, at most `split` bytes a move (0: all), until
 * neither side moves.  Returns the number of moves.
 */
static int
pump(struct tls_conn *s, br_ssl_engine_context *c, size_t split)
{
	int moves = 0;

	for (int i = 0; i < 200000; i++) {
		bool moved = false;
		size_t cl, sl, n;
		uint8_t *cb, *sb;
		const uint8_t *ob;

		cb = br_ssl_engine_sendrec_buf(c, &cl);
		sb = cb != NULL ? tls_conn_recvrec_buf(s, &sl) : NULL;
		if (sb != NULL) {
			n = MIN(cl, sl);
			if (split)
				n = MIN(n, split);
			memcpy(sb, cb, n);
			br_ssl_engine_sendrec_ack(c, n);
			tls_conn_recvrec_ack(s, n);
			moved = true;
		}
		ob = tls_conn_sendrec_buf(s, &sl);
		cb = ob != NULL ? br_ssl_engine_recvrec_buf(c, &cl) : NULL;
		if (cb != NULL) {
			n = MIN(cl, sl);
			if (split)
				n = MIN(n, split);
			memcpy(cb, ob, n);
			tls_conn_sendrec_ack(s, n);
			br_ssl_engine_recvrec_ack(c, n);
			moved = true;
		}
		if (!moved)
			break;
		moves++;
	}
	return moves;
}

/* Client sends len bytes; the server must read exactly them. */
static bool
c2s(struct tls_conn *s, br_ssl_engine_context *c, const uint8_t *msg,
    size_t len, size_t split)
{
	static uint8_t got[65536];
	size_t sent = 0, recvd = 0;

	for (int guard = 0; guard < 100000 && recvd < len; guard++) {
		size_t room, av;
		uint8_t *w = sent < len ? br_ssl_engine_sendapp_buf(c, &room) :
		    NULL;
		const uint8_t *r;

		if (w != NULL) {
			room = MIN(room, len - sent);
			memcpy(w, msg + sent, room);
			br_ssl_engine_sendapp_ack(c, room);
			sent += room;
			br_ssl_engine_flush(c, 0);
		}
		pump(s, c, split);
		while ((r = tls_conn_recvapp_buf(s, &av)) != NULL) {
			av = MIN(av, sizeof got - recvd);
			memcpy(got + recvd, r, av);
			tls_conn_recvapp_ack(s, av);
			recvd += av;
			pump(s, c, split);
		}
		if (tls_conn_state(s) & TLS_ST_CLOSED)
			break;
	}
	return recvd == len && memcmp(got, msg, len) == 0;
}

/* Server sends len bytes; the client must read exactly them. */
static bool
s2c(struct tls_conn *s, br_ssl_engine_context *c, const uint8_t *msg,
    size_t len, size_t split)
{
	static uint8_t got[65536];
	size_t sent = 0, recvd = 0;

	for (int guard = 0; guard < 100000 && recvd < len; guard++) {
		size_t room, av;
		uint8_t *w = sent < len ? tls_conn_sendapp_buf(s, &room) : NULL;
		const uint8_t *r;

		if (w != NULL) {
			room = MIN(room, len - sent);
			memcpy(w, msg + sent, room);
			tls_conn_sendapp_ack(s, room);
			sent += room;
			tls_conn_flush(s);
		}
		pump(s, c, split);
		while ((r = br_ssl_engine_recvapp_buf(c, &av)) != NULL) {
			av = MIN(av, sizeof got - recvd);
			memcpy(got + recvd, r, av);
			br_ssl_engine_recvapp_ack(c, av);
			recvd += av;
			pump(s, c, split);
		}
		if (br_ssl_engine_current_state(c) & BR_SSL_CLOSED)
			break;
	}
	return recvd == len && memcmp(got, msg, len) == 0;
}

static bool
established(struct tls_conn *s, br_ssl_engine_context *c)
{
	return tls_conn_handshake_done(s) && tls_conn_error(s) == 0 &&
	    br_ssl_engine_last_error(c) == 0 &&
	    (br_ssl_engine_current_state(c) & BR_SSL_SENDAPP);
}

/* Ciphertext into the server as far as it takes it; bytes taken. */
static size_t
feed(struct tls_conn *s, const uint8_t *p, size_t len)
{
	size_t off = 0, sl, n;
	uint8_t *in;

	while (off < len && (in = tls_conn_recvrec_buf(s, &sl)) != NULL) {
		n = MIN(sl, len - off);
		memcpy(in, p + off, n);
		tls_conn_recvrec_ack(s, n);
		off += n;
	}
	return off;
}

static uint8_t msg[40000];

static void
load_ok(const char *cert, const char *key)
{
	char err[256];
	int rc = tls_creds_load(path(cert), path(key), err, sizeof err);

	CHECK_EQ(rc, 0);
	if (rc != 0)
		fprintf(stderr, "  load %s %s: %s\n", cert, key, err);
	CHECK_STR(err, "");
}

/* --- credentials ------------------------------------------------------- */

static void
refused(const char *cert, const char *key, const char *want)
{
	char err[256];
	unsigned gen = tls_creds_generation();
	int rc = tls_creds_load(path(cert), path(key), err, sizeof err);

	CHECK_EQ(rc, WARD_EINVAL);
	CHECK(strstr(err, want) != NULL);
	if (strstr(err, want) == NULL)
		fprintf(stderr, "  wanted \"%s\" in \"%s\"\n", want, err);
	CHECK(strchr(err, '\n') == NULL);
	CHECK_EQ(tls_creds_generation(), gen);	/* the old pair stays */
}

static void
test_creds(void)
{
	char err[256];
	int rc;

	tls_creds_reset();
	CHECK(!tls_creds_ready());
	CHECK(tls_conn_take() == NULL);		/* no credentials: refused */
	load_ok("server-ec.pem", "server-ec.key");
	CHECK(tls_creds_ready());
	CHECK_EQ(tls_creds_generation(), 1);
	/* notAfter read off the certificate: 825 days from now, give or take */
	CHECK(tls_creds_not_after_us() > port_wall_us() + 820LL * 86400000000LL);
	CHECK(tls_creds_not_after_us() < port_wall_us() + 830LL * 86400000000LL);
	refused("nosuch.pem", "server-ec.key", "nosuch.pem: no such file");
	refused("server-ec.pem", "nosuch.key", "nosuch.key: no such file");
	refused("notpem.txt", "server-ec.key", "no certificate in the file");
	refused("server-ec.key", "server-ec.key", "no certificate in the file");
	refused("server-ec.pem", "notpem.txt", "no private key in the file");
	refused("server-ec.pem", "server-ec.pem", "no private key in the file");
	refused("server-ec.pem", "ed25519.key", "unsupported key");
	refused("server-ec.pem", "secp256k1.key", "unsupported key (only RSA");
	refused("server-ec.pem", "encrypted.key", "unsupported key: encrypted");
	refused("server-ec.pem", "server-ec2.key",
	    "does not match the certificate");
	refused("server-rsa.pem", "server-ec.key",
	    "does not match the certificate");
	refused("server-ec.pem", "server-rsa.key",
	    "does not match the certificate");
	/* every key form: SEC1, PKCS#1, PKCS#8 */
	load_ok("server-ec.pem", "server-ec.p8.key");
	load_ok("server-rsa.pem", "server-rsa.key");
	load_ok("server-rsa.pem", "server-rsa.p8.key");
	/* expired: loaded, with a warning naming notAfter */
	rc = tls_creds_load(path("expired.pem"), path("expired.key"), err,
	    sizeof err);
	CHECK_EQ(rc, 0);
	CHECK(strstr(err, "warning: the certificate expired") != NULL);
	CHECK(strstr(err, "notAfter 2021-01-01T00:00:00Z") != NULL);
	CHECK(tls_creds_not_after_us() == 1609459200LL * 1000000);
}

/* --- handshakes ---------------------------------------------------------- */

static void
full_handshake(const char *cert, const char *key, unsigned suite)
{
	struct tls_conn *s;
	br_ssl_engine_context *c;

	load_ok(cert, key);
	s = tls_conn_take();
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(!tls_conn_handshake_done(s));
	c = client_start(&cli[0], NULL, false);
	pump(s, c, 0);
	CHECK(established(s, c));
	if (!established(s, c))
		fprintf(stderr, "  %s: server %s, client error %d\n", cert,
		    tls_error_text(tls_conn_error(s)),
		    br_ssl_engine_last_error(c));
	CHECK(!tls_conn_resumed(s));
	CHECK_EQ(br_ssl_engine_get_version(c), BR_TLS12);
	CHECK_EQ(tls_conn_suite(s), suite);
	CHECK_EQ(tls_conn_curve(s), BR_EC_curve25519);
	CHECK_STR(tls_conn_alpn(s), "http/1.1");
	CHECK(c2s(s, c, msg, 32, 0));
	CHECK(s2c(s, c, msg, 32, 0));
	CHECK(c2s(s, c, msg, 20000, 0));	/* several records */
	CHECK(s2c(s, c, msg, 20000, 0));	/* cut into 2 KiB records */
	tls_conn_reset(s);
	CHECK_EQ(tls_conn_used(), 0);
}

static void
test_handshakes(void)
{
	/* BearSSL's client lists ChaCha20 first: chosen with or without
	 * AES instructions */
	full_handshake("server-ec.pem", "server-ec.key",
	    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
	full_handshake("server-rsa.pem", "server-rsa.key",
	    BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256);
}

/* P-256 for ECDHE when the client has no X25519. */
static void
test_p256(void)
{
	struct tls_conn *s;
	br_ssl_engine_context *c;

	load_ok("server-ec.pem", "server-ec.key");
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, true);
	pump(s, c, 0);
	CHECK(established(s, c));
	CHECK_EQ(tls_conn_curve(s), BR_EC_secp256r1);
	tls_conn_reset(s);
}

/* Every record split at every byte: the handshake one byte a move, then
 * 239 records of 200 B, the k-th cut after its k-th byte (every cut of
 * a 221..229-byte record: header, nonce, ciphertext, tag). */
static void
test_splits(void)
{
	struct tls_conn *s;
	br_ssl_engine_context *c;
	bool all = true;

	load_ok("server-ec.pem", "server-ec.key");
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	CHECK(pump(s, c, 1) > 500);
	CHECK(established(s, c));
	for (size_t k = 1; k < 240 && all; k++) {
		size_t room, cl, av;
		uint8_t *w = br_ssl_engine_sendapp_buf(c, &room);
		const uint8_t *rec, *r;

		if (w == NULL || room < 200) {
			all = false;
			break;
		}
		memcpy(w, msg + k, 200);
		br_ssl_engine_sendapp_ack(c, 200);
		br_ssl_engine_flush(c, 0);
		rec = br_ssl_engine_sendrec_buf(c, &cl);
		if (rec == NULL || cl < 221) {
			all = false;
			break;
		}
		if (k >= cl) {		/* every cut done */
			all = feed(s, rec, cl) == cl;
			br_ssl_engine_sendrec_ack(c, cl);
			r = tls_conn_recvapp_buf(s, &av);
			if (r != NULL)
				tls_conn_recvapp_ack(s, av);
			break;
		}
		if (feed(s, rec, k) != k)	/* the first k bytes */
			all = false;
		if (tls_conn_recvapp_buf(s, &av) != NULL)
			all = false;		/* nothing before the tag */
		if (feed(s, rec + k, cl - k) != cl - k)	/* the rest */
			all = false;
		br_ssl_engine_sendrec_ack(c, cl);
		r = tls_conn_recvapp_buf(s, &av);
		if (r == NULL || av != 200 || memcmp(r, msg + k, 200) != 0)
			all = false;
		if (r != NULL)
			tls_conn_recvapp_ack(s, av);
	}
	CHECK(all);
	CHECK(c2s(s, c, msg, 5000, 1));		/* app data a byte a move */
	CHECK(s2c(s, c, msg, 5000, 7));
	CHECK_EQ(tls_conn_error(s), 0);
	tls_conn_reset(s);
}

/* Garbage after the handshake: the server fails cleanly, once. */
static void
test_garbage(void)
{
	unsigned seed = 12345;

	load_ok("server-ec.pem", "server-ec.key");
	for (int round = 0; round < 4; round++) {
		struct tls_conn *s = tls_conn_take();
		br_ssl_engine_context *c = client_start(&cli[0], NULL, false);
		uint8_t junk[600];
		size_t sl, len;
		uint8_t *in;

		pump(s, c, 0);
		CHECK(established(s, c));
		for (size_t i = 0; i < sizeof junk; i++)
			junk[i] = (uint8_t)check_rand(&seed);
		if (round == 1) {		/* a well-formed header */
			memcpy(junk, "\x17\x03\x03\x01\x00", 5);
		} else if (round == 2) {	/* a record too large */
			memcpy(junk, "\x17\x03\x03\x48\x01", 5);
		} else if (round == 3) {	/* a real record, tampered */
			size_t cl;
			uint8_t *w = br_ssl_engine_sendapp_buf(c, &cl);
			const uint8_t *rec;

			memcpy(w, "hello", 5);
			br_ssl_engine_sendapp_ack(c, 5);
			br_ssl_engine_flush(c, 0);
			rec = br_ssl_engine_sendrec_buf(c, &cl);
			memcpy(junk, rec, cl);
			junk[cl - 1] ^= 1;	/* the tag's last byte */
		}
		for (size_t off = 0; off < sizeof junk; off += len) {
			in = tls_conn_recvrec_buf(s, &sl);
			if (in == NULL)
				break;
			len = MIN(sl, sizeof junk - off);
			memcpy(in, junk + off, len);
			tls_conn_recvrec_ack(s, len);
		}
		pump(s, c, 0);
		CHECK(tls_conn_state(s) & TLS_ST_CLOSED);
		CHECK(tls_conn_error(s) != 0);
		CHECK(tls_conn_recvapp_buf(s, &len) == NULL);
		CHECK(tls_conn_sendapp_buf(s, &len) == NULL);
		CHECK(tls_conn_recvrec_buf(s, &len) == NULL);
		if (round == 3)
			CHECK_STR(tls_error_text(tls_conn_error(s)),
			    "bad record MAC");
		tls_conn_reset(s);
	}
	CHECK_EQ(tls_conn_used(), 0);
}

/* Plain HTTP to the TLS side: refused, no plaintext ever comes out. */
static void
test_plain_http(void)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
	struct tls_conn *s = tls_conn_take();
	size_t len;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	feed(s, (const uint8_t *)req, sizeof req - 1);
	CHECK(tls_conn_error(s) != 0);
	CHECK(!tls_conn_handshake_done(s));
	CHECK(tls_conn_recvapp_buf(s, &len) == NULL);
	/* what goes back is at most an alert record (type 21), never data */
	{
		const uint8_t *out = tls_conn_sendrec_buf(s, &len);

		CHECK(out == NULL || out[0] == 21);
		if (out != NULL)
			tls_conn_sendrec_ack(s, len);
	}
	CHECK(tls_conn_state(s) & TLS_ST_CLOSED);
	tls_conn_reset(s);
}

/* A returning client resumes from the cache: no signature, no ECDH. */
static void
test_resume(void)
{
	br_ssl_session_parameters sp;
	struct tls_conn *s;
	br_ssl_engine_context *c;

	load_ok("server-ec.pem", "server-ec.key");
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	pump(s, c, 0);
	CHECK(established(s, c));
	CHECK(!tls_conn_resumed(s));
	br_ssl_engine_get_session_parameters(c, &sp);
	tls_conn_reset(s);

	s = tls_conn_take();
	c = client_start(&cli[1], &sp, false);
	pump(s, c, 0);
	CHECK(established(s, c));
	CHECK(tls_conn_resumed(s));
	CHECK(c2s(s, c, msg, 1000, 0));
	CHECK(s2c(s, c, msg, 1000, 0));
	tls_conn_reset(s);

	/* an unknown session id: a full handshake, not a failure */
	sp.session_id[0] ^= 0xff;
	s = tls_conn_take();
	c = client_start(&cli[1], &sp, false);
	pump(s, c, 0);
	CHECK(established(s, c));
	CHECK(!tls_conn_resumed(s));
	tls_conn_reset(s);
}

/* close_notify both ways: a clean close is error 0. */
static void
test_close(void)
{
	struct tls_conn *s;
	br_ssl_engine_context *c;
	size_t len;

	load_ok("server-ec.pem", "server-ec.key");
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	pump(s, c, 0);
	CHECK(s2c(s, c, msg, 100, 0));
	tls_conn_close(s);
	tls_conn_close(s);				/* still one alert */
	{
		const uint8_t *rec = tls_conn_sendrec_buf(s, &len);

		CHECK(rec != NULL && rec[0] == 21 &&
		    len == 5 + (size_t)(rec[3] << 8 | rec[4]));
	}
	pump(s, c, 0);
	CHECK(br_ssl_engine_current_state(c) & BR_SSL_CLOSED);
	CHECK_EQ(br_ssl_engine_last_error(c), 0);
	CHECK(tls_conn_state(s) & TLS_ST_CLOSED);
	CHECK_EQ(tls_conn_error(s), 0);
	tls_conn_reset(s);

	/* the client closes: the server answers and is closed, error 0 */
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	pump(s, c, 0);
	br_ssl_engine_close(c);
	pump(s, c, 0);
	CHECK(tls_conn_state(s) & TLS_ST_CLOSED);
	CHECK_EQ(tls_conn_error(s), 0);
	CHECK(br_ssl_engine_current_state(c) & BR_SSL_CLOSED);
	CHECK_EQ(br_ssl_engine_last_error(c), 0);
	tls_conn_reset(s);
}

/* Reload: old connections go on, new handshakes see the new cert, a
 * handshake begun before the reload finishes with the old one. */
static void
test_reload(void)
{
	uint8_t q1[133], q2[133];
	size_t q1n = leaf_q(path("server-ec.pem"), q1, sizeof q1);
	size_t q2n = leaf_q(path("server-ec2.pem"), q2, sizeof q2);
	struct tls_conn *a, *b, *h;
	br_ssl_engine_context *ca, *cb, *ch;
	char err[256];
	unsigned g1;

	CHECK(q1n == 65 && q2n == 65 && memcmp(q1, q2, 65) != 0);
	load_ok("server-ec.pem", "server-ec.key");
	g1 = tls_creds_generation();
	a = tls_conn_take();
	ca = client_start(&cli[0], NULL, false);
	pump(a, ca, 0);
	CHECK(established(a, ca));
	CHECK(cli[0].xc.pkey.key.ec.qlen == 65 &&
	    memcmp(cli[0].xc.pkey.key.ec.q, q1, 65) == 0);
	/* h starts its handshake (ClientHello only) before the reload */
	h = tls_conn_take();
	ch = client_start(&cli[2], NULL, false);
	{
		size_t cl;
		const uint8_t *rec = br_ssl_engine_sendrec_buf(ch, &cl);

		CHECK(rec != NULL && feed(h, rec, cl) == cl);
		br_ssl_engine_sendrec_ack(ch, cl);
		CHECK(!tls_conn_handshake_done(h) && tls_conn_error(h) == 0);
	}
	CHECK_EQ(tls_creds_reload(path("server-ec2.pem"),
	    path("server-ec2.key"), err, sizeof err), 0);
	CHECK_EQ(tls_creds_generation(), g1 + 1);
	/* the slot of g1 is pinned by h: one more reload must wait */
	CHECK_EQ(tls_creds_reload(path("server-ec.pem"),
	    path("server-ec.key"), err, sizeof err), WARD_EAGAIN);
	CHECK(strstr(err, "1 handshakes") != NULL);
	/* the old connection still echoes */
	CHECK(c2s(a, ca, msg, 3000, 0));
	CHECK(s2c(a, ca, msg, 3000, 0));
	/* a new handshake sees the new certificate */
	b = tls_conn_take();
	cb = client_start(&cli[1], NULL, false);
	pump(b, cb, 0);
	CHECK(established(b, cb));
	CHECK_EQ(tls_conn_creds_generation(b), g1 + 1);
	CHECK(cli[1].xc.pkey.key.ec.qlen == 65 &&
	    memcmp(cli[1].xc.pkey.key.ec.q, q2, 65) == 0);
	/* h finishes with the old one */
	pump(h, ch, 0);
	CHECK(established(h, ch));
	CHECK_EQ(tls_conn_creds_generation(h), g1);
	CHECK(cli[2].xc.pkey.key.ec.qlen == 65 &&
	    memcmp(cli[2].xc.pkey.key.ec.q, q1, 65) == 0);
	/* unpinned now: a bad pair is refused, the current one stays */
	CHECK_EQ(tls_creds_reload(path("server-ec.pem"),
	    path("server-ec2.key"), err, sizeof err), WARD_EINVAL);
	CHECK_EQ(tls_creds_generation(), g1 + 1);
	/* and a good one goes through */
	CHECK_EQ(tls_creds_reload(path("server-ec.pem"),
	    path("server-ec.key"), err, sizeof err), 0);
	CHECK_EQ(tls_creds_generation(), g1 + 2);
	CHECK(c2s(a, ca, msg, 100, 0));
	CHECK(c2s(b, cb, msg, 100, 0));
	tls_conn_reset(a);
	tls_conn_reset(b);
	tls_conn_reset(h);
}

/* Pool full: that one is refused; a slot given back is taken again. */
static void
test_pool_full(void)
{
	static struct tls_conn *held[WARD_TLS_CONNS];
	unsigned refused0 = tls_conn_refused();
	unsigned n = 0;

	load_ok("server-ec.pem", "server-ec.key");
	while (n < WARD_TLS_CONNS && (held[n] = tls_conn_take()) != NULL)
		n++;
	CHECK_EQ(n, WARD_TLS_CONNS);
	CHECK_EQ(tls_conn_used(), WARD_TLS_CONNS);
	CHECK(tls_conn_take() == NULL);
	CHECK_EQ(tls_conn_refused(), refused0 + 1);
	tls_conn_reset(held[n / 2]);
	held[n / 2] = tls_conn_take();
	CHECK(held[n / 2] != NULL);
	/* the one taken again works */
	if (held[n / 2] != NULL) {
		br_ssl_engine_context *c = client_start(&cli[0], NULL, false);

		pump(held[n / 2], c, 0);
		CHECK(established(held[n / 2], c));
	}
	for (unsigned i = 0; i < n; i++)
		tls_conn_reset(held[i]);
	CHECK_EQ(tls_conn_used(), 0);
}

/* Clients BearSSL's server must refuse: old versions, no AEAD suite. */
static void
test_refusals(void)
{
	static const uint16_t cbc[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		BR_TLS_RSA_WITH_AES_128_CBC_SHA,
	};
	struct tls_conn *s;
	br_ssl_engine_context *c;

	load_ok("server-ec.pem", "server-ec.key");
	/* a TLS 1.1 ClientHello: BearSSL's client will not write one, so
	 * patch client_version (after the 5-byte record and 4-byte
	 * handshake headers) of a 1.2 one; 1.0/1.1 records carry 0x0301 */
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	{
		size_t cl;
		uint8_t hello[1024];
		const uint8_t *rec = br_ssl_engine_sendrec_buf(c, &cl);

		CHECK(rec != NULL && cl <= sizeof hello && cl > 11);
		if (rec != NULL && cl <= sizeof hello && cl > 11) {
			memcpy(hello, rec, cl);
			hello[10] = 0x02;
			feed(s, hello, cl);
		}
	}
	/* the answer is a fatal alert record (type 21), then the end */
	{
		size_t l;
		const uint8_t *o = tls_conn_sendrec_buf(s, &l);

		CHECK(o != NULL && o[0] == 21 && l == 7);
		if (o != NULL)
			tls_conn_sendrec_ack(s, l);
	}
	CHECK(tls_conn_state(s) & TLS_ST_CLOSED);
	CHECK(!tls_conn_handshake_done(s));
	CHECK(tls_conn_error(s) != 0);
	CHECK_STR(tls_error_text(tls_conn_error(s)),
	    "sent alert 70 (protocol_version)");
	tls_conn_reset(s);

	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	br_ssl_engine_set_suites(c, cbc, 2);
	br_ssl_client_reset(&cli[0].cc, "localhost", 0);
	pump(s, c, 0);
	CHECK(!tls_conn_handshake_done(s));
	CHECK(tls_conn_state(s) & TLS_ST_CLOSED);
	/* BearSSL reports it as the handshake_failure alert it sent */
	CHECK_STR(tls_error_text(tls_conn_error(s)), "sent alert 40 (handshake_failure)");
	tls_conn_reset(s);
	CHECK_EQ(tls_conn_used(), 0);
}

/* --- the fd pump, over a socketpair ------------------------------------ */

/* The client's side of the socket: its records out, the server's in. */
static void
client_io(br_ssl_engine_context *c, int fd)
{
	for (int i = 0; i < 64; i++) {
		size_t len;
		uint8_t *b;
		ssize_t n;
		bool moved = false;

		if ((b = br_ssl_engine_sendrec_buf(c, &len)) != NULL &&
		    (n = write(fd, b, len)) > 0) {
			br_ssl_engine_sendrec_ack(c, (size_t)n);
			moved = true;
		}
		if ((b = br_ssl_engine_recvrec_buf(c, &len)) != NULL &&
		    (n = read(fd, b, len)) > 0) {
			br_ssl_engine_recvrec_ack(c, (size_t)n);
			moved = true;
		}
		if (!moved)
			break;
	}
}

static size_t
client_read(br_ssl_engine_context *c, uint8_t *out, size_t cap)
{
	size_t got = 0, len;
	const uint8_t *p;

	while (got < cap && (p = br_ssl_engine_recvapp_buf(c, &len)) != NULL) {
		len = MIN(len, cap - got);
		memcpy(out + got, p, len);
		br_ssl_engine_recvapp_ack(c, len);
		got += len;
	}
	return got;
}

/* One application record from the client, as ciphertext, into out. */
static size_t
client_record(br_ssl_engine_context *c, const char *text, uint8_t *out,
    size_t cap)
{
	size_t len, got = 0;
	const uint8_t *rec;
	uint8_t *w = br_ssl_engine_sendapp_buf(c, &len);

	if (w == NULL || len < strlen(text))
		return 0;
	memcpy(w, text, strlen(text));
	br_ssl_engine_sendapp_ack(c, strlen(text));
	br_ssl_engine_flush(c, 0);
	while ((rec = br_ssl_engine_sendrec_buf(c, &len)) != NULL &&
	    got + len <= cap) {
		memcpy(out + got, rec, len);
		br_ssl_engine_sendrec_ack(c, len);
		got += len;
	}
	return got;
}

/*
 * Records that arrive together are read with one recv: the second one
 * waits in the engine (tls_conn_pending) and is opened without the
 * socket (fd -1 here).  A record cut after 3 bytes of its header: the
 * 3 bytes wait, the rest comes from the socket.
 */
static void
read_ahead(struct tls_conn *s, br_ssl_engine_context *c, int sv[2])
{
	uint8_t wire[256], buf[64];
	size_t a = client_record(c, "one", wire, sizeof wire);
	size_t b = client_record(c, "two", wire + a, sizeof wire - a);
	size_t d = client_record(c, "three", wire + a + b,
	    sizeof wire - a - b);

	CHECK(a > 0 && b > 0 && d > 0);
	CHECK(write(sv[1], wire, a + b + 3) == (ssize_t)(a + b + 3));
	CHECK(!tls_conn_pending(s));
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), 3);
	CHECK(memcmp(buf, "one", 3) == 0);
	CHECK(tls_conn_pending(s));
	CHECK_EQ(tls_conn_recv(s, -1, buf, sizeof buf), 3);
	CHECK(memcmp(buf, "two", 3) == 0);
	CHECK(tls_conn_pending(s));		/* 3 bytes of a header */
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), PORT_EAGAIN);
	CHECK(!tls_conn_pending(s));
	CHECK(write(sv[1], wire + a + b + 3, d - 3) == (ssize_t)(d - 3));
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), 5);
	CHECK(memcmp(buf, "three", 5) == 0);
	CHECK(!tls_conn_pending(s));
}

/*
 * A resumed handshake's flight (ServerHello, ChangeCipherSpec, Finished)
 * leaves in one send: over SOCK_SEQPACKET each send is one message.
 */
static void
gather_flight(void)
{
	static uint8_t wire[20000];
	br_ssl_session_parameters sp;
	struct tls_conn *s;
	br_ssl_engine_context *c;
	size_t len;
	ssize_t n;
	uint8_t buf[64], *b;
	int sv[2], msgs = 0;

	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	pump(s, c, 0);
	CHECK(established(s, c));
	br_ssl_engine_get_session_parameters(c, &sp);
	tls_conn_reset(s);

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	s = tls_conn_take();
	c = client_start(&cli[1], &sp, false);
	b = br_ssl_engine_sendrec_buf(c, &len);	/* the ClientHello */
	CHECK(b != NULL && write(sv[1], b, len) == (ssize_t)len);
	br_ssl_engine_sendrec_ack(c, len);
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), PORT_EAGAIN);
	while ((n = read(sv[1], wire, sizeof wire)) > 0) {
		msgs++;
		for (size_t off = 0; off < (size_t)n;) {
			b = br_ssl_engine_recvrec_buf(c, &len);
			if (b == NULL)
				break;
			len = MIN(len, (size_t)n - off);
			memcpy(b, wire + off, len);
			br_ssl_engine_recvrec_ack(c, len);
			off += len;
		}
	}
	CHECK_EQ(msgs, 1);
	CHECK_EQ(br_ssl_engine_last_error(c), 0);
	/* the client's ChangeCipherSpec and Finished: resumed */
	while ((b = br_ssl_engine_sendrec_buf(c, &len)) != NULL &&
	    write(sv[1], b, len) == (ssize_t)len)
		br_ssl_engine_sendrec_ack(c, len);
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), PORT_EAGAIN);
	CHECK(tls_conn_handshake_done(s) && tls_conn_resumed(s));
	CHECK(br_ssl_engine_current_state(c) & BR_SSL_SENDAPP);
	tls_conn_reset(s);
	close(sv[0]);
	close(sv[1]);
}

static void
test_fd_pump(void)
{
	static uint8_t got[40000];
	struct tls_conn *s;
	br_ssl_engine_context *c;
	struct port_iov iov[2];
	int sv[2];
	long r = PORT_EAGAIN;
	size_t done, len;
	uint8_t buf[64];
	uint8_t *w;
	int i;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	load_ok("server-ec.pem", "server-ec.key");
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	/* before the handshake: nothing to read, the engine wants input */
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), PORT_EAGAIN);
	CHECK_EQ(tls_conn_events(s), PORT_EV_IN);
	CHECK_EQ(tls_conn_writev(s, sv[0], iov, 0), 0);
	/* handshake, then "ping" from the client */
	w = br_ssl_engine_sendapp_buf(c, &len);
	CHECK(w == NULL);			/* not yet */
	for (i = 0; i < 100 && r == PORT_EAGAIN; i++) {
		client_io(c, sv[1]);
		if ((w = br_ssl_engine_sendapp_buf(c, &len)) != NULL &&
		    br_ssl_engine_last_error(c) == 0 &&
		    !(br_ssl_engine_current_state(c) & BR_SSL_RECVAPP) &&
		    i < 1000) {
			static bool sent;

			if (!sent) {
				memcpy(w, "ping", 4);
				br_ssl_engine_sendapp_ack(c, 4);
				br_ssl_engine_flush(c, 0);
				sent = true;
			}
		}
		r = tls_conn_recv(s, sv[0], buf, sizeof buf);
	}
	CHECK_EQ(r, 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK(tls_conn_handshake_done(s));
	read_ahead(s, c, sv);
	/* 40,000 bytes back in two iovs, through a socket that fills up */
	done = 0;
	len = 0;
	for (i = 0; i < 10000 && len < 40000; i++) {
		if (done < 40000) {
			iov[0].base = msg + done;
			iov[0].len = MIN(1000, 40000 - done);
			iov[1].base = msg + done + iov[0].len;
			iov[1].len = 40000 - done - iov[0].len;
			r = tls_conn_writev(s, sv[0], iov, 2);
			CHECK(r >= 0 || r == PORT_EAGAIN);
			if (r > 0)
				done += (size_t)r;
		} else if (tls_conn_events(s) & PORT_EV_OUT) {
			tls_conn_pump(s, sv[0]);
		}
		client_io(c, sv[1]);
		len += client_read(c, got + len, sizeof got - len);
	}
	CHECK_EQ(done, 40000);
	CHECK_EQ(len, 40000);
	CHECK(memcmp(got, msg, 40000) == 0);
	/* close_notify: the client sees a clean close */
	for (i = 0; i < 100 && !tls_conn_shutdown(s, sv[0]); i++)
		client_io(c, sv[1]);
	client_io(c, sv[1]);
	CHECK(br_ssl_engine_current_state(c) & BR_SSL_CLOSED);
	CHECK_EQ(br_ssl_engine_last_error(c), 0);
	tls_conn_reset(s);
	close(sv[0]);
	close(sv[1]);

	/* a client that just closes TCP: EOF, reported as a truncation */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	{
		const uint8_t *rec = br_ssl_engine_sendrec_buf(c, &len);

		CHECK(rec != NULL && write(sv[1], rec, 3) == 3);
	}
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), PORT_EAGAIN);
	close(sv[1]);
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), 0);
	CHECK_STR(tls_error_text(tls_conn_error(s)),
	    "TCP closed without close_notify");
	CHECK_EQ(tls_conn_events(s), 0);
	tls_conn_reset(s);
	close(sv[0]);
	CHECK_EQ(tls_conn_used(), 0);

	/* a whole ClientHello the server refuses (CBC suites only): the
	 * fatal alert goes out and the read says the engine failed (it
	 * said PORT_EAGAIN with no event left to wait for, and the
	 * connection sat until handshake_timeout) */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	{
		static const uint16_t cbc[] = {
			BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		};
		const uint8_t *rec;

		br_ssl_engine_set_suites(c, cbc, 1);
		br_ssl_client_reset(&cli[0].cc, "localhost", 0);
		rec = br_ssl_engine_sendrec_buf(c, &len);
		CHECK(rec != NULL && write(sv[1], rec, len) == (ssize_t)len);
	}
	CHECK_EQ(tls_conn_recv(s, sv[0], buf, sizeof buf), WARD_EPROTO);
	CHECK_STR(tls_error_text(tls_conn_error(s)),
	    "sent alert 40 (handshake_failure)");
	CHECK_EQ(tls_conn_events(s), 0);
	CHECK(read(sv[1], buf, sizeof buf) == 7 && buf[0] == 21);
	tls_conn_reset(s);
	close(sv[0]);
	close(sv[1]);
	CHECK_EQ(tls_conn_used(), 0);
	gather_flight();
	CHECK_EQ(tls_conn_used(), 0);
}

/*
 * AES-GCM with the output buffer full: an _ack of 0 bytes while
 * sendapp_buf is NULL must change nothing (BearSSL's sendapp_ack(0)
 * sealed the sealed record again: a crash in AES-CTR before the fix).
 * Then every suite carries data both ways.
 */
static void
test_suites(void)
{
	static const uint16_t all[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	};

	load_ok("server-ec.pem", "server-ec.key");
	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		struct tls_conn *s;
		br_ssl_engine_context *c;
		size_t room, got = 0, len;
		uint8_t *w;
		const uint8_t *r;
		static uint8_t back[WARD_TLS_OBUF_PLAIN + 1];

		client_suites = &all[i];
		client_nsuites = 1;
		s = tls_conn_take();
		c = client_start(&cli[0], NULL, false);
		client_suites = NULL;
		pump(s, c, 0);
		CHECK(established(s, c));
		CHECK_EQ(tls_conn_suite(s), all[i]);
		w = tls_conn_sendapp_buf(s, &room);
		CHECK(w != NULL && room == WARD_TLS_OBUF_PLAIN);
		if (w == NULL || room > sizeof back) {
			tls_conn_reset(s);
			continue;
		}
		memcpy(w, msg, room);
		tls_conn_sendapp_ack(s, room);	/* full: sealed */
		CHECK(tls_conn_sendapp_buf(s, &len) == NULL);
		tls_conn_sendapp_ack(s, 0);
		tls_conn_recvrec_ack(s, 0);
		tls_conn_recvapp_ack(s, 0);
		tls_conn_sendrec_ack(s, 0);
		pump(s, c, 0);
		while ((r = br_ssl_engine_recvapp_buf(c, &len)) != NULL &&
		    got + len <= sizeof back) {
			memcpy(back + got, r, len);
			br_ssl_engine_recvapp_ack(c, len);
			got += len;
		}
		CHECK_EQ(got, room);
		CHECK(memcmp(back, msg, room) == 0);
		CHECK(c2s(s, c, msg, 20000, 0));
		CHECK(s2c(s, c, msg, 20000, 0));
		CHECK_EQ(tls_conn_error(s), 0);
		tls_conn_reset(s);
	}
}

/* A client listing AES-GCM first gets it where the CPU has AES
 * instructions, ChaCha20 where it has not (ARM boards under qemu). */
/* One handshake with the client's suites; the suite chosen. */
static unsigned
chosen(const uint16_t *suites, size_t n)
{
	struct tls_conn *s;
	br_ssl_engine_context *c;
	unsigned suite;

	client_suites = suites;
	client_nsuites = n;
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	client_suites = NULL;
	pump(s, c, 0);
	CHECK(established(s, c));
	suite = tls_conn_suite(s);
	tls_conn_reset(s);
	return suite;
}

/* AES-256-GCM listed first with AES-128-GCM also offered (OpenSSL's
 * order): AES-128-GCM, cheaper per record and per resumption; alone, it
 * is AES-256-GCM; ChaCha20 first with AES instructions: ChaCha20. */
static void
suite_twin(void)
{
	static const uint16_t openssl[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	};
	static const uint16_t only256[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	};
	static const uint16_t chacha_first[] = {
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	};

	CHECK_EQ(chosen(openssl, ARRAY_LEN(openssl)), tls_hw_aes() ?
	    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 :
	    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
	CHECK_EQ(chosen(only256, 1),
	    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
	CHECK_EQ(chosen(chacha_first, ARRAY_LEN(chacha_first)),
	    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
}

static void
test_suite_choice(void)
{
	static const uint16_t aes_first[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	};
	struct tls_conn *s;
	br_ssl_engine_context *c;

	load_ok("server-ec.pem", "server-ec.key");
	client_suites = aes_first;
	client_nsuites = 2;
	s = tls_conn_take();
	c = client_start(&cli[0], NULL, false);
	client_suites = NULL;
	pump(s, c, 0);
	CHECK(established(s, c));
	CHECK_EQ(tls_conn_suite(s), tls_hw_aes() ? aes_first[0] :
	    aes_first[1]);
	tls_conn_reset(s);
	suite_twin();
}

void suite_tls(void);

void
suite_tls(void)
{
	dir = port_getenv("WARD_TLS_TEST_DIR");
	CHECK(dir != NULL);
	if (dir == NULL) {
		fprintf(stderr, "test_tls: WARD_TLS_TEST_DIR is not set: run "
		    "it through make (tests/tls/tls.mk makes the certificates)\n");
		return;
	}
	CHECK(anchor_load());
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7 + i / 251);
	test_creds();
	test_handshakes();
	test_suites();
	test_suite_choice();
	test_p256();
	test_splits();
	test_garbage();
	test_plain_http();
	test_resume();
	test_close();
	test_reload();
	test_pool_full();
	test_refusals();
	test_fd_pump();
}
