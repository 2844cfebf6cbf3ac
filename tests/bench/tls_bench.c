/*
 * tls_bench.c - the TLS engine alone (src/tls.c), measured in one process:
 * an in-memory BearSSL client talks to the server through the memory
 * pump, and only the server's calls are timed, on the thread's CPU clock
 * (CLOCK_THREAD_CPUTIME_ID), so the client's own work is left out.
 *
 * usage: tls_bench DIR [N]   (DIR: build/dev-tls, N: handshakes per row)
 * Not part of `make test`: `make bench-tls` (tests/tls/tls.mk).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"
#include "tls.h"

#include <bearssl.h>

static double t_srv;		/* server CPU, microseconds, accumulated */

static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

#define SRV(call) do { double _t0 = cpu_us(); call; \
	t_srv += cpu_us() - _t0; } while (0)

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

		t_srv = 0;
		SRV(s = tls_conn_take());
		c = client(NULL, curve, suite);
		pump(s, c);
		if (!tls_conn_handshake_done(s) || tls_conn_resumed(s) ||
		    (curve != 0 && tls_conn_curve(s) != curve)) {
			fprintf(stderr, "tls_bench: %s: handshake failed (%s)\n",
			    what, tls_error_text(tls_conn_error(s)));
			exit(1);
		}
		samples[i] = t_srv;
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

		t_srv = 0;
		SRV(s = tls_conn_take());
		c = client(sp, 0, 0);
		pump(s, c);
		if (!tls_conn_resumed(s)) {
			fprintf(stderr, "tls_bench: %s: not resumed\n", what);
			exit(1);
		}
		samples[i] = t_srv;
		tls_conn_reset(s);
	}
	report(what, n);
}

/* Record costs on an established connection: server seals (sendapp,
 * flush, sendrec) and opens (recvrec, recvapp) `size` bytes. */
static void
records(const char *name, uint16_t suite, size_t size, int n)
{
	static uint8_t data[16384];
	struct tls_conn *s = tls_conn_take();
	br_ssl_engine_context *c = client(NULL, 0, suite);
	char what[80];
	double enc = 0, dec = 0;

	pump(s, c);
	if (tls_conn_suite(s) != suite) {
		fprintf(stderr, "tls_bench: suite %04x not chosen\n", suite);
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		size_t done = 0, len;
		uint8_t *w;
		const uint8_t *r;

		/* server -> client: seal */
		t_srv = 0;
		while (done < size) {
			SRV(w = tls_conn_sendapp_buf(s, &len));
			len = MIN(len, size - done);
			memcpy(w, data + done, len);
			SRV(tls_conn_sendapp_ack(s, len));
			done += len;
			if (done == size)
				SRV(tls_conn_flush(s));
			pump(s, c);
			while ((r = br_ssl_engine_recvapp_buf(c, &len)))
				br_ssl_engine_recvapp_ack(c, len);
		}
		enc += t_srv;
		/* client -> server: open */
		w = br_ssl_engine_sendapp_buf(c, &len);
		memcpy(w, data, MIN(len, size));
		br_ssl_engine_sendapp_ack(c, MIN(len, size));
		br_ssl_engine_flush(c, 0);
		t_srv = 0;
		pump(s, c);
		SRV(r = tls_conn_recvapp_buf(s, &len));
		if (r == NULL || len != MIN(size, 16384)) {
			fprintf(stderr, "tls_bench: record lost\n");
			exit(1);
		}
		SRV(tls_conn_recvapp_ack(s, len));
		dec += t_srv;
	}
	snprintf(what, sizeof what, "%s seal %zu B (server, per message)", name,
	    size);
	printf("%-44s %8.2f\n", what, enc / n);
	snprintf(what, sizeof what, "%s open %zu B (server, per record)", name,
	    size);
	printf("%-44s %8.2f\n", what, dec / n);
	tls_conn_reset(s);
}

int
main(int argc, char **argv)
{
	br_ssl_session_parameters sp;
	const char *dir = argc > 1 ? argv[1] : "build/dev-tls";
	int n = argc > 2 ? atoi(argv[2]) : 200;

	if (n < 10 || n > 10000)
		n = 200;
	printf("server CPU per operation, microseconds: median, mean, p90\n");
	load(dir, "server-ec");
	full("full handshake, ECDSA P-256 + X25519", BR_EC_curve25519, 0, n,
	    &sp);
	full("full handshake, ECDSA P-256 + P-256 ECDHE", BR_EC_secp256r1, 0,
	    n, NULL);
	resumed("resumed handshake (session cache)", &sp, n);
	records("AES-128-GCM", BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 32,
	    n * 10);
	records("AES-128-GCM", BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	    4096, n * 10);
	records("ChaCha20-Poly1305",
	    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 32, n * 10);
	records("ChaCha20-Poly1305",
	    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 4096, n * 10);
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
