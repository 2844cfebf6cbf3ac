/*
 * tls_bench.c - the TLS engine alone (src/tls.c), measured in one process:
 * an in-memory BearSSL client talks to the server through the memory
 * pump, and only the server's calls are timed, on the thread's CPU clock
 * (CLOCK_THREAD_CPUTIME_ID), so the client's own work is left out.
 *
 * usage: tls_bench DIR [N [ec]]   (DIR: build/dev-tls, N: handshakes per
 * row; "ec": only the EC primitives, ours and BearSSL's, for make bench)
 * Not part of `make test`: `make bench-tls` (tests/tls/tls.mk).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"
#include "ec64.h"
#include "tls.h"

#include <bearssl.h>

static double t_srv;		/* server CPU, microseconds, accumulated */
static unsigned n_srv;		/* timed calls in t_srv */
static double t_clock;		/* cost of one timed empty call */

static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

#define SRV(call) do { double _t0 = cpu_us(); call; \
	t_srv += cpu_us() - _t0; n_srv++; } while (0)

/* Server CPU of the calls timed since `start`, clock cost removed. */
static double
srv_take(void)
{
	double t = t_srv - n_srv * t_clock;

	t_srv = 0;
	n_srv = 0;
	return t > 0 ? t : 0;
}

static void
calibrate(void)
{
	int i;

	t_srv = 0;
	n_srv = 0;
	for (i = 0; i < 100000; i++)
		SRV((void)0);
	t_clock = t_srv / n_srv;
	t_srv = 0;
	n_srv = 0;
}

static br_ssl_client_context cc;
static br_x509_minimal_context xc;
static br_x509_knownkey_context kk;
static uint8_t cbuf[BR_SSL_BUFSIZE_BIDI];
static br_ec_impl ec_p256;

struct sink {
	uint8_t	*p;
	size_t	 len, cap;
};

static void
sink_put(void *ctx, const void *d, size_t n)
{
	struct sink *s = ctx;

	if (s->len + n <= s->cap)
		memcpy(s->p + s->len, d, n);
	s->len += n;
}

/* The leaf key of a chain file, trusted as such by the client. */
static void
trust(const char *file)
{
	static uint8_t der[4096];
	static char pem[8192];
	static br_x509_decoder_context xd;
	br_pem_decoder_context pc;
	struct sink s = { der, 0, sizeof der };
	size_t off = 0;
	long n = port_file_read(file, pem, sizeof pem);
	const br_x509_pkey *pk;

	br_pem_decoder_init(&pc);
	while (n > 0 && off < (size_t)n) {
		int ev;

		off += br_pem_decoder_push(&pc, pem + off, (size_t)n - off);
		ev = br_pem_decoder_event(&pc);
		if (ev == BR_PEM_BEGIN_OBJ)
			br_pem_decoder_setdest(&pc, sink_put, &s);
		if (ev == BR_PEM_END_OBJ)
			break;
	}
	br_x509_decoder_init(&xd, NULL, NULL);
	br_x509_decoder_push(&xd, der, s.len);
	pk = br_x509_decoder_get_pkey(&xd);
	if (pk == NULL) {
		fprintf(stderr, "tls_bench: cannot decode %s\n", file);
		exit(1);
	}
	if (pk->key_type == BR_KEYTYPE_EC)
		br_x509_knownkey_init_ec(&kk, &pk->key.ec,
		    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	else
		br_x509_knownkey_init_rsa(&kk, &pk->key.rsa,
		    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
}

/* A client; curve: 0 default (X25519 first), 23 P-256 only; suite: 0
 * default, else the only suite offered. */
static br_ssl_engine_context *
client(const br_ssl_session_parameters *sp, int curve, uint16_t suite)
{
	static uint16_t one[1];

	br_ssl_client_init_full(&cc, &xc, NULL, 0);
	br_ssl_engine_set_x509(&cc.eng, &kk.vtable);
	if (curve == BR_EC_secp256r1) {
		ec_p256 = *br_ec_get_default();
		ec_p256.supported_curves = 1u << BR_EC_secp256r1;
		br_ssl_engine_set_ec(&cc.eng, &ec_p256);
	}
	if (suite != 0) {
		one[0] = suite;
		br_ssl_engine_set_suites(&cc.eng, one, 1);
	}
	br_ssl_engine_set_buffer(&cc.eng, cbuf, sizeof cbuf, 1);
	if (sp != NULL)
		br_ssl_engine_set_session_parameters(&cc.eng, sp);
	br_ssl_client_reset(&cc, "localhost", sp != NULL);
	return &cc.eng;
}

/* Move records both ways until nothing moves; server calls timed. */
static void
pump(struct tls_conn *s, br_ssl_engine_context *c)
{
	for (int i = 0; i < 100000; i++) {
		bool moved = false;
		size_t cl, sl = 0, n;
		uint8_t *cb, *sb = NULL;
		const uint8_t *ob = NULL;

		cb = br_ssl_engine_sendrec_buf(c, &cl);
		if (cb != NULL)
			SRV(sb = tls_conn_recvrec_buf(s, &sl));
		if (sb != NULL) {
			n = MIN(cl, sl);
			memcpy(sb, cb, n);
			br_ssl_engine_sendrec_ack(c, n);
			SRV(tls_conn_recvrec_ack(s, n));
			moved = true;
		}
		SRV(ob = tls_conn_sendrec_buf(s, &sl));
		cb = ob != NULL ? br_ssl_engine_recvrec_buf(c, &cl) : NULL;
		if (cb != NULL) {
			n = MIN(cl, sl);
			memcpy(cb, ob, n);
			SRV(tls_conn_sendrec_ack(s, n));
			br_ssl_engine_recvrec_ack(c, n);
			moved = true;
		}
		if (!moved)
			break;
	}
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double samples[10000];

static void
report(const char *what, int n)
{
	double sum = 0;

	qsort(samples, (size_t)n, sizeof samples[0], cmp_d);
	for (int i = 0; i < n; i++)
		sum += samples[i];
	printf("%-44s %8.1f %8.1f %8.1f  (n=%d)\n", what, samples[n / 2],
	    sum / n, samples[n * 9 / 10], n);
}

static void
load(const char *dir, const char *name)
{
	char cert[512], key[512], err[256];

	snprintf(cert, sizeof cert, "%s/%s.pem", dir, name);
	snprintf(key, sizeof key, "%s/%s.key", dir, name);
	if (tls_creds_load(cert, key, err, sizeof err) != 0) {
		fprintf(stderr, "tls_bench: %s\n", err);
		exit(1);
	}
	trust(cert);
}

/* One row of full handshakes: server CPU from take to established. */
static void
full(const char *what, int curve, uint16_t suite, int n,
    br_ssl_session_parameters *keep)
{
	for (int i = 0; i < n; i++) {
		struct tls_conn *s;
		br_ssl_engine_context *c;

		srv_take();
		SRV(s = tls_conn_take());
		c = client(NULL, curve, suite);
		pump(s, c);
		if (!tls_conn_handshake_done(s) || tls_conn_resumed(s) ||
		    (curve != 0 && tls_conn_curve(s) != curve)) {
			fprintf(stderr, "tls_bench: %s: handshake failed (%s)\n",
			    what, tls_error_text(tls_conn_error(s)));
			exit(1);
		}
		samples[i] = srv_take();
		if (keep != NULL)
			br_ssl_engine_get_session_parameters(c, keep);
		tls_conn_reset(s);
	}
	report(what, n);
}

static void
resumed(const char *what, br_ssl_session_parameters *sp, int n)
{
	for (int i = 0; i < n; i++) {
		struct tls_conn *s;
		br_ssl_engine_context *c;

		srv_take();
		SRV(s = tls_conn_take());
		c = client(sp, 0, 0);
		pump(s, c);
		if (!tls_conn_resumed(s)) {
			fprintf(stderr, "tls_bench: %s: not resumed\n", what);
			exit(1);
		}
		samples[i] = srv_take();
		tls_conn_reset(s);
	}
	report(what, n);
}

/*
 * Record costs on an established connection, timed in batches (no client
 * work inside): seal = sendapp, ack, flush, take the record out; open =
 * the client's records (made beforehand) in, the plaintext out.
 */
#define REC_BATCH 256
static uint8_t recs[REC_BATCH][4096 + 64];
static size_t rec_len[REC_BATCH];

static double
now_cpu(void)
{
	return cpu_us();
}

static void
records(const char *name, uint16_t suite, size_t size, int rounds)
{
	static uint8_t data[4096];
	struct tls_conn *s = tls_conn_take();
	br_ssl_engine_context *c = client(NULL, 0, suite);
	double enc = 0, dec = 0, t0;
	size_t len;
	long ops = 0;

	pump(s, c);
	if (tls_conn_suite(s) != suite) {
		fprintf(stderr, "tls_bench: suite %04x not chosen\n", suite);
		exit(1);
	}
	for (int r = 0; r < rounds; r++) {
		/* the client's records first (its CPU is not counted) */
		for (int i = 0; i < REC_BATCH; i++) {
			uint8_t *w = br_ssl_engine_sendapp_buf(c, &len);
			const uint8_t *rec;

			memcpy(w, data, size);
			br_ssl_engine_sendapp_ack(c, size);
			br_ssl_engine_flush(c, 0);
			rec = br_ssl_engine_sendrec_buf(c, &len);
			memcpy(recs[i], rec, len);
			rec_len[i] = len;
			br_ssl_engine_sendrec_ack(c, len);
		}
		t0 = now_cpu();
		for (int i = 0; i < REC_BATCH; i++) {
			size_t off = 0, sl, got = 0;
			uint8_t *in;
			const uint8_t *p;

			while (off < rec_len[i] &&
			    (in = tls_conn_recvrec_buf(s, &sl)) != NULL) {
				sl = MIN(sl, rec_len[i] - off);
				memcpy(in, recs[i] + off, sl);
				tls_conn_recvrec_ack(s, sl);
				off += sl;
			}
			while ((p = tls_conn_recvapp_buf(s, &sl)) != NULL) {
				got += sl;
				tls_conn_recvapp_ack(s, sl);
			}
			if (got != size) {
				fprintf(stderr, "tls_bench: record lost\n");
				exit(1);
			}
		}
		dec += now_cpu() - t0;
		t0 = now_cpu();
		for (int i = 0; i < REC_BATCH; i++) {
			size_t done = 0;

			while (done < size) {
				uint8_t *w = tls_conn_sendapp_buf(s, &len);

				len = MIN(len, size - done);
				memcpy(w, data + done, len);
				tls_conn_sendapp_ack(s, len);
				done += len;
				if (done == size)
					tls_conn_flush(s);
				while (tls_conn_sendrec_buf(s, &len) != NULL)
					tls_conn_sendrec_ack(s, len);
			}
		}
		enc += now_cpu() - t0;
		ops += REC_BATCH;
	}
	printf("%-17s %5zu B: seal %6.2f us, open %6.2f us (server, per "
	    "message)\n", name, size, enc / ops, dec / ops);
	tls_conn_reset(s);
}

/* The primitives a full handshake is made of, for the breakdown:
 * microseconds per operation with the implementation ec. */
static void
prim_times(const br_ec_impl *ec, br_ecdsa_sign sign, int n, double t[5])
{
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	br_ec_public_key pk;
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	uint8_t pt[133], sig[80], hv[32] = { 1 };
	double t0;

	br_hmac_drbg_init(&rng, &br_sha256_vtable, "bench", 5);
	br_ec_keygen(&rng.vtable, ec, &sk, kbuf, BR_EC_curve25519);
	br_ec_compute_pub(ec, &pk, pbuf, &sk);
	t0 = now_cpu();
	for (int i = 0; i < n; i++) {
		memcpy(pt, pk.q, pk.qlen);
		ec->mul(pt, pk.qlen, sk.x, sk.xlen, BR_EC_curve25519);
	}
	t[0] = (now_cpu() - t0) / n;
	t0 = now_cpu();
	for (int i = 0; i < n; i++)
		ec->mulgen(pt, sk.x, sk.xlen, BR_EC_curve25519);
	t[1] = (now_cpu() - t0) / n;
	br_ec_keygen(&rng.vtable, ec, &sk, kbuf, BR_EC_secp256r1);
	br_ec_compute_pub(ec, &pk, pbuf, &sk);
	t0 = now_cpu();
	for (int i = 0; i < n; i++)
		ec->mulgen(pt, sk.x, sk.xlen, BR_EC_secp256r1);
	t[2] = (now_cpu() - t0) / n;
	t0 = now_cpu();
	for (int i = 0; i < n; i++) {
		memcpy(pt, pk.q, pk.qlen);
		ec->mul(pt, pk.qlen, sk.x, sk.xlen, BR_EC_secp256r1);
	}
	t[3] = (now_cpu() - t0) / n;
	t0 = now_cpu();
	for (int i = 0; i < n; i++) {
		if (sign(ec, &br_sha256_vtable, hv, &sk, sig) == 0)
			abort();
	}
	t[4] = (now_cpu() - t0) / n;
}

/* ours (src/ec64.c) and BearSSL's default side by side */
static void
primitives(int n)
{
	static const char *const names[5] = {
		"X25519 multiply (ECDHE shared secret)",
		"X25519 multiply by G (ECDHE key)",
		"P-256 multiply by G (ECDHE key)",
		"P-256 multiply (ECDHE shared secret)",
		"ECDSA P-256 sign",
	};
	double ours[5], theirs[5];

	prim_times(ec64_get(), ec64_ecdsa_sign_asn1(), n, ours);
	prim_times(br_ec_get_default(), br_ecdsa_sign_asn1_get_default(), n,
	    theirs);
	printf("%-44s %8s %8s\n", "", ec64_native() ? "ec64" : "ec64=dflt",
	    "BearSSL");
	for (int i = 0; i < 5; i++)
		printf("%-44s %8.1f %8.1f\n", names[i], ours[i], theirs[i]);
}

int
main(int argc, char **argv)
{
	br_ssl_session_parameters sp;
	const char *dir = argc > 1 ? argv[1] : "build/dev-tls";
	int n = argc > 2 ? atoi(argv[2]) : 200;

	if (n < 10 || n > 10000)
		n = 200;
	calibrate();
	if (argc > 3 && strcmp(argv[3], "ec") == 0) {	/* make bench */
		printf("EC primitives, CPU microseconds per operation: ours "
		    "(src/ec64.c) and BearSSL's default (portable m31 code)\n");
		primitives(n);
		return 0;
	}
	if (argc > 3 && strcmp(argv[3], "resumed") == 0) {	/* profiling */
		load(dir, "server-ec");
		full("full handshake, ECDSA P-256 + X25519",
		    BR_EC_curve25519, 0, 10, &sp);
		resumed("resumed handshake (session cache)", &sp, n);
		return 0;
	}
	printf("EC primitives, CPU microseconds per operation: ours "
	    "(src/ec64.c) and BearSSL's default (portable m31 code)\n");
	primitives(n);
	printf("server CPU per handshake, microseconds: median, mean, p90 "
	    "(timer cost %.2f us per call removed)\n", t_clock);
	load(dir, "server-ec");
	full("full handshake, ECDSA P-256 + X25519", BR_EC_curve25519, 0, n,
	    &sp);
	full("full handshake, ECDSA P-256 + P-256 ECDHE", BR_EC_secp256r1, 0,
	    n, NULL);
	resumed("resumed handshake (session cache)", &sp, n);
	printf("records, server CPU per message of one record (2 KiB records "
	    "out: a 4 KiB message is 2 sealed, 1 opened)\n");
	records("AES-128-GCM", BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 32,
	    n / 10 + 1);
	records("AES-128-GCM", BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	    4096, n / 10 + 1);
	records("ChaCha20-Poly1305",
	    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 32, n / 10 + 1);
	records("ChaCha20-Poly1305",
	    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 4096,
	    n / 10 + 1);
	load(dir, "server-rsa");
	full("full handshake, RSA-2048 + X25519", BR_EC_curve25519, 0, n / 2,
	    NULL);
	printf("memory: %zu B per TLS connection (context %zu + input %d + "
	    "output %d + glue), session cache %zu B (%d sessions), "
	    "credentials %zu B\n", tls_conn_bytes(),
	    sizeof(br_ssl_server_context), BR_SSL_BUFSIZE_INPUT,
	    WARD_TLS_OBUF_PLAIN + 85, tls_cache_bytes(), WARD_TLS_SESSIONS,
	    tls_creds_bytes());
	return 0;
}
