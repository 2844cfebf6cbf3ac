/*
 * tls.c - the TLS transport: BearSSL's server engine as a byte pump.
 *
 * Notes:
 * - The only file that uses BearSSL's SSL engine (STYLE 1, 13).  conn.c
 *   sees a struct tls_conn and byte pumps shaped like port_recv and
 *   port_writev; http.c, ws.c and svc/ see plaintext only.
 * - TLS 1.2 only (BearSSL has no 1.3), ECDHE key exchange with an ECDSA or
 *   RSA signature, AEAD suites only (AES-128/256-GCM, ChaCha20-Poly1305),
 *   no renegotiation, ALPN "http/1.1" (a client offering only h2 is not
 *   failed: it just gets no ALPN answer).  The ECDHE curve is X25519
 *   whenever the client offers it (a P-256 multiply costs ~4x an X25519
 *   one in 0.6's portable code), else P-256/P-384/P-521.
 * - Buffers: bidirectional, split unevenly.  The input buffer takes the
 *   largest record a client may send (16,709 B): clients never negotiate
 *   smaller records, so nothing less is safe.  The output buffer holds
 *   one record of WARD_TLS_OBUF_PLAIN (2 KiB) plaintext: records we send
 *   are cut at 2 KiB (1.4 % more bytes on the wire for bulk answers, one
 *   AEAD call per 2 KiB), which saves 14 KiB per connection against
 *   BR_SSL_BUFSIZE_BIDI (33,178 B) and keeps full duplex (a mono buffer,
 *   16,709 B, would save 2 KiB more but then a connection cannot send
 *   while a client's record is half in: a WebSocket echo under load
 *   would stall on every partial read).  An idle connection cannot hold
 *   less: BearSSL keeps pointers into both buffers for the connection's
 *   life and has no call to give them back, so a slot is held from accept
 *   to close.  Cost: 23,264 B per TLS connection on 64-bit (context 4.1
 *   KiB + 16.3 KiB + 2.1 KiB + WARD_TLS_GATHER), 22,904 B on 32-bit.
 * - Syscalls: one recv per record or burst of records (take_in reads
 *   ahead into ibuf), one send per burst of small records (tx, gathered).
 * - Credentials: two slots.  A load goes into the spare slot and, when the
 *   pair is good, the spare becomes current.  A handshake pins the slot it
 *   started with (a count per slot) until the handshake completes; after
 *   that the engine never touches the certificate or key again (no
 *   renegotiation), so live connections need no slot at all.  A load into
 *   a slot still pinned is refused with WARD_EAGAIN (retry at a tick).
 * - The session cache is one LRU shared by all connections; resumed
 *   handshakes skip the signature and the ECDH.  A policy wrapper around
 *   BearSSL's single-key policy sees every full handshake (its choose()
 *   runs only then), which is how a resumption is told from a full one.
 * - Randomness: each context's HMAC_DRBG state comes from port_random at
 *   take (engine_rand), bought WARD_TLS_RAND_BYTES at a time.
 * - Nothing allocates: contexts, buffers, cache and slots are static.
 */
#include <stdio.h>

#include "internal.h"
#include "ec64.h"
#include "sha256.h"
#include "tls.h"

#include <bearssl.h>

/* ------------------------------------------------------------ credentials */

struct tls_creds {
	uint8_t			 der[WARD_TLS_CHAIN_BYTES];
	size_t			 der_len;
	br_x509_certificate	 chain[WARD_TLS_CHAIN_CERTS];
	size_t			 nchain;
	br_skey_decoder_context	 key;	/* owns the decoded key bytes */
	int			 key_type;	/* BR_KEYTYPE_RSA or _EC */
	unsigned		 issuer_type;
	unsigned		 gen;
	unsigned		 pins;	/* handshakes in progress on it */
	int64_t			 not_before_us, not_after_us;
	bool			 loaded;
};

static struct tls_creds creds[2];
static int creds_cur = -1;
static unsigned creds_gen;

/* Start-up / reload scratch: the PEM file and the key's DER. */
static uint8_t pem_buf[WARD_TLS_PEM_BYTES + 1];
static uint8_t key_der[8192];

/* OS randomness for the engines, WARD_TLS_RAND_BYTES at a time, each byte
 * used once and wiped (rand_take). */
static uint8_t rnd[WARD_TLS_RAND_BYTES];
static size_t rnd_left;

struct sink {
	uint8_t	*p;
	size_t	 len, cap;
	bool	 over;
};

static void
sink_put(void *ctx, const void *data, size_t n)
{
	struct sink *s = ctx;

	if (n > s->cap - s->len) {
		s->over = true;
		return;
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
}

static void
ignore_put(void *ctx, const void *data, size_t n)
{
	(void)ctx;
	(void)data;
	(void)n;
}

static int
read_file(const char *what, const char *path, char *err, size_t errlen,
    size_t *len)
{
	long n;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "%s: no file given", what);
		return WARD_EINVAL;
	}
	n = port_file_read(path, (char *)pem_buf, sizeof pem_buf);
	if (n == PORT_ENOENT) {
		snprintf(err, errlen, "%s: %s: no such file", what, path);
		return WARD_EINVAL;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s: %s: cannot read (error %ld)", what,
		    path, -n);
		return WARD_EINVAL;
	}
	if ((size_t)n >= sizeof pem_buf) {
		snprintf(err, errlen, "%s: %s: larger than %d bytes", what, path,
		    WARD_TLS_PEM_BYTES);
		return WARD_EINVAL;
	}
	*len = (size_t)n;
	return 0;
}

/*
 * Walk the PEM objects of pem_buf[0..len): each object whose name passes
 * want() is decoded into its sink (cb chooses it); returns the number of
 * objects taken, or -1 on a PEM syntax error.
 */
typedef struct sink *(*pem_pick)(void *ctx, const char *name);

static int
pem_walk(size_t len, pem_pick pick, void *ctx, bool *over)
{
	static const char nl[] = "\n";
	br_pem_decoder_context pc;
	struct sink *cur = NULL;
	size_t off = 0;
	int taken = 0;
	bool tail = false;

	br_pem_decoder_init(&pc);
	while (off < len || !tail) {
		const uint8_t *p = off < len ? pem_buf + off :
		    (const uint8_t *)nl;
		size_t n = off < len ? len - off : 1;
		size_t used = br_pem_decoder_push(&pc, p, n);

		if (off < len)
			off += used;
		else if (used == n)
			tail = true;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			cur = pick(ctx, br_pem_decoder_name(&pc));
			if (cur != NULL)
				br_pem_decoder_setdest(&pc, sink_put, cur);
			else
				br_pem_decoder_setdest(&pc, ignore_put, NULL);
			break;
		case BR_PEM_END_OBJ:
			if (cur != NULL) {
				if (cur->over)
					*over = true;
				taken++;
			}
			cur = NULL;
			break;
		case BR_PEM_ERROR:
			return -1;
		default:
			break;
		}
	}
	return taken;
}

struct chain_pick {
	struct tls_creds	*cr;
	struct sink		 s;
	size_t			 start;
	bool			 toomany;
};

static struct sink *
pick_cert(void *ctx, const char *name)
{
	struct chain_pick *cp = ctx;
	struct tls_creds *cr = cp->cr;

	if (strcmp(name, "CERTIFICATE") != 0 &&
	    strcmp(name, "X509 CERTIFICATE") != 0)
		return NULL;
	/* close the previous certificate, open the next */
	if (cr->nchain > 0)
		cr->chain[cr->nchain - 1].data_len = cp->s.len - cp->start;
	if (cr->nchain == WARD_TLS_CHAIN_CERTS) {
		cp->toomany = true;
		return NULL;
	}
	cp->start = cp->s.len;
	cr->chain[cr->nchain].data = cp->s.p + cp->s.len;
	cr->chain[cr->nchain].data_len = 0;
	cr->nchain++;
	return &cp->s;
}

/* Days from 0000-01-01 (BearSSL's X.509 epoch) to 1970-01-01. */
#define X509_UNIX_DAYS	719528

static int64_t
x509_time_us(uint32_t days, uint32_t secs)
{
	return ((int64_t)days - X509_UNIX_DAYS) * 86400000000LL +
	    (int64_t)secs * 1000000LL;
}

static int
load_chain(struct tls_creds *cr, const char *path, char *err, size_t errlen)
{
	struct chain_pick cp = { cr, { cr->der, 0, sizeof cr->der, false }, 0,
	    false };
	size_t len;
	bool over = false;
	int n, rc;

	cr->nchain = 0;
	if ((rc = read_file("tls_cert", path, err, errlen, &len)) != 0)
		return rc;
	n = pem_walk(len, pick_cert, &cp, &over);
	if (cr->nchain > 0)
		cr->chain[cr->nchain - 1].data_len = cp.s.len - cp.start;
	cr->der_len = cp.s.len;
	if (n < 0) {
		snprintf(err, errlen, "tls_cert: %s: not a valid PEM file", path);
		return WARD_EINVAL;
	}
	if (n == 0 || cr->nchain == 0) {
		snprintf(err, errlen, "tls_cert: %s: no certificate in the file",
		    path);
		return WARD_EINVAL;
	}
	if (over || cp.toomany) {
		snprintf(err, errlen, "tls_cert: %s: chain longer than %d "
		    "certificates or %d bytes", path, WARD_TLS_CHAIN_CERTS,
		    WARD_TLS_CHAIN_BYTES);
		return WARD_EINVAL;
	}
	return 0;
}

struct key_pick {
	struct sink	s;
	int		nkeys;
	bool		encrypted;
	char		other[40];
};

static struct sink *
pick_key(void *ctx, const char *name)
{
	struct key_pick *kp = ctx;

	if (strcmp(name, "PRIVATE KEY") == 0 ||
	    strcmp(name, "RSA PRIVATE KEY") == 0 ||
	    strcmp(name, "EC PRIVATE KEY") == 0) {
		if (kp->nkeys++ > 0)
			return NULL;
		return &kp->s;
	}
	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
		kp->encrypted = true;
	else if (strcmp(name, "EC PARAMETERS") != 0 && kp->other[0] == '\0')
		utf8_copy(kp->other, sizeof kp->other, name);
	return NULL;
}

static int
load_key(struct tls_creds *cr, const char *path, char *err, size_t errlen)
{
	struct key_pick kp = { { key_der, 0, sizeof key_der, false }, 0, false,
	    "" };
	size_t len;
	bool over = false;
	int n, rc;

	if ((rc = read_file("tls_key", path, err, errlen, &len)) != 0)
		return rc;
	n = pem_walk(len, pick_key, &kp, &over);
	memset(pem_buf, 0, len);	/* the key's text */
	if (n < 0) {
		snprintf(err, errlen, "tls_key: %s: not a valid PEM file", path);
		return WARD_EINVAL;
	}
	if (kp.nkeys == 0) {
		snprintf(err, errlen, "tls_key: %s: %s", path, kp.encrypted ?
		    "unsupported key: encrypted (give an unencrypted key)" :
		    kp.other[0] != '\0' ? "no private key in the file (found "
		    "a PEM object of another kind)" : "no private key in the "
		    "file");
		return WARD_EINVAL;
	}
	if (over) {
		memset(key_der, 0, sizeof key_der);
		snprintf(err, errlen, "tls_key: %s: key larger than %zu bytes",
		    path, sizeof key_der);
		return WARD_EINVAL;
	}
	br_skey_decoder_init(&cr->key);
	br_skey_decoder_push(&cr->key, key_der, kp.s.len);
	memset(key_der, 0, sizeof key_der);	/* decoded into cr->key */
	cr->key_type = br_skey_decoder_key_type(&cr->key);
	if (br_skey_decoder_last_error(&cr->key) != 0 || cr->key_type == 0) {
		snprintf(err, errlen, "tls_key: %s: unsupported key (only RSA, "
		    "and EC on P-256, P-384 or P-521; error %d)", path,
		    br_skey_decoder_last_error(&cr->key));
		return WARD_EINVAL;
	}
	if (cr->key_type == BR_KEYTYPE_EC) {
		int curve = br_skey_decoder_get_ec(&cr->key)->curve;

		if (curve != BR_EC_secp256r1 && curve != BR_EC_secp384r1 &&
		    curve != BR_EC_secp521r1) {
			snprintf(err, errlen, "tls_key: %s: unsupported key (EC "
			    "curve %d; use P-256, P-384 or P-521)", path,
			    curve);
			return WARD_EINVAL;
		}
	}
	return 0;
}

/* Leading zero bytes do not count in an unsigned big-endian integer. */
static bool
uint_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	while (alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	while (blen > 0 && *b == 0) {
		b++;
		blen--;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* The modulus decides; the public exponent too when BearSSL can derive
 * it (0.6's compute_pubexp gives 0 for some ordinary keys). */
static bool
rsa_match(const br_rsa_private_key *sk, const br_rsa_public_key *pk)
{
	static uint8_t n[512];	/* RSA-4096, BearSSL's largest */
	uint8_t e[4];
	uint32_t ev;
	size_t nlen;

	nlen = br_rsa_compute_modulus_get_default()(NULL, sk);
	if (nlen == 0 || nlen > sizeof n)
		return false;
	br_rsa_compute_modulus_get_default()(n, sk);
	if (!uint_eq(n, nlen, pk->n, pk->nlen))
		return false;
	ev = br_rsa_compute_pubexp_get_default()(sk);
	e[0] = (uint8_t)(ev >> 24);
	e[1] = (uint8_t)(ev >> 16);
	e[2] = (uint8_t)(ev >> 8);
	e[3] = (uint8_t)ev;
	return ev == 0 || uint_eq(e, 4, pk->e, pk->elen);
}

static bool
ec_match(const br_ec_private_key *sk, const br_ec_public_key *pk)
{
	uint8_t q[BR_EC_KBUF_PUB_MAX_SIZE];
	br_ec_public_key me;
	size_t len;

	len = br_ec_compute_pub(br_ec_get_default(), &me, q, sk);
	return len != 0 && me.curve == pk->curve && me.qlen == pk->qlen &&
	    memcmp(me.q, pk->q, me.qlen) == 0;
}

/* Decode the leaf: its key must be the private key's; note its dates. */
static int
check_leaf(struct tls_creds *cr, const char *cpath, const char *kpath,
    char *err, size_t errlen)
{
	static br_x509_decoder_context xd;
	const br_x509_pkey *pk;
	bool ok;

	br_x509_decoder_init(&xd, NULL, NULL);
	br_x509_decoder_push(&xd, cr->chain[0].data, cr->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&xd);
	if (pk == NULL) {
		snprintf(err, errlen, "tls_cert: %s: the first certificate "
		    "cannot be decoded (error %d)", cpath,
		    br_x509_decoder_last_error(&xd));
		return WARD_EINVAL;
	}
	if (pk->key_type != cr->key_type)
		ok = false;
	else if (pk->key_type == BR_KEYTYPE_RSA)
		ok = rsa_match(br_skey_decoder_get_rsa(&cr->key), &pk->key.rsa);
	else
		ok = ec_match(br_skey_decoder_get_ec(&cr->key), &pk->key.ec);
	if (!ok) {
		snprintf(err, errlen, "tls_key: %s: does not match the "
		    "certificate in %s (different public key)", kpath, cpath);
		return WARD_EINVAL;
	}
	cr->issuer_type = (unsigned)br_x509_decoder_get_signer_key_type(&xd);
	/* not a public API field in 0.6, but the decoder fills it */
	cr->not_before_us = x509_time_us(xd.notbefore_days,
	    xd.notbefore_seconds);
	cr->not_after_us = x509_time_us(xd.notafter_days, xd.notafter_seconds);
	return 0;
}

static void
date_warning(const struct tls_creds *cr, const char *cpath, char *err,
    size_t errlen)
{
	char when[40];
	int64_t now = port_wall_us();

	err[0] = '\0';
	if (now > cr->not_after_us) {
		log_time_iso(cr->not_after_us, when);
		snprintf(err, errlen, "tls_cert: %s: warning: the certificate "
		    "expired (notAfter %.19sZ); clients will refuse it", cpath,
		    when);
	} else if (now < cr->not_before_us) {
		log_time_iso(cr->not_before_us, when);
		snprintf(err, errlen, "tls_cert: %s: warning: the certificate is "
		    "not valid yet (notBefore %.19sZ; is the clock right?)",
		    cpath, when);
	}
}

int
tls_creds_load(const char *cert_path, const char *key_path, char *err,
    size_t errlen)
{
	int spare = creds_cur < 0 ? 0 : 1 - creds_cur;
	struct tls_creds *cr = &creds[spare];
	int rc;

	if (cr->pins > 0) {
		snprintf(err, errlen, "tls: reload waits: %u handshakes still "
		    "use the credentials of two loads ago", cr->pins);
		return WARD_EAGAIN;
	}
	cr->loaded = false;
	if ((rc = load_chain(cr, cert_path, err, errlen)) != 0 ||
	    (rc = load_key(cr, key_path, err, errlen)) != 0 ||
	    (rc = check_leaf(cr, cert_path, key_path, err, errlen)) != 0) {
		memset(&cr->key, 0, sizeof cr->key);
		return rc;
	}
	cr->loaded = true;
	cr->gen = ++creds_gen;
	creds_cur = spare;
	date_warning(cr, cert_path, err, errlen);
	return 0;
}

int
tls_creds_reload(const char *cert_path, const char *key_path, char *err,
    size_t errlen)
{
	return tls_creds_load(cert_path, key_path, err, errlen);
}

bool
tls_creds_ready(void)
{
	return creds_cur >= 0 && creds[creds_cur].loaded;
}

unsigned
tls_creds_generation(void)
{
	return tls_creds_ready() ? creds[creds_cur].gen : 0;
}

int64_t
tls_creds_not_after_us(void)
{
	return tls_creds_ready() ? creds[creds_cur].not_after_us : 0;
}

void
tls_creds_reset(void)
{
	memset(creds, 0, sizeof creds);
	creds_cur = -1;
}

size_t
tls_creds_bytes(void)
{
	return sizeof creds + sizeof pem_buf + sizeof key_der + sizeof rnd;
}

/* ------------------------------------------------------------------ pool */

/*
 * With AES instructions (x86 AES-NI, POWER8) AES-GCM is the cheapest
 * suite and the client's order is kept (desktop browsers list AES-GCM
 * first, phones without AES list ChaCha20 first).  Without them
 * (ARMv7, and ARMv8 too: BearSSL 0.6 has no ARMv8 crypto code) BearSSL's
 * constant-time AES costs ~6x ChaCha20 (measured under qemu-arm: 265 vs
 * 46 us per 4 KiB): the server's order, ChaCha20 first, is enforced.
 *
 * One list per key type: BearSSL matches each suite the client offers
 * against the list in its handshake interpreter (scan-suite, a loop over
 * the list per offered suite: ~30 from OpenSSL, ~40 from BearSSL's own
 * client), so holding only the suites the certificate's key can sign
 * (ECDHE_ECDSA for an EC key, ECDHE_RSA for an RSA one; the others could
 * never be chosen) halves that loop, in full and resumed handshakes
 * alike.  Indexed [RSA key][no AES instructions].
 */
static const uint16_t suites[2][2][3] = {
	{ {	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 },
	  {	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 } },
	{ {	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 },
	  {	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 } },
};
static bool hw_aes;

static const char *const alpn[] = { "http/1.1" };

struct tls_conn {
	br_ssl_server_context		 sc;
	/* policy wrapper: BearSSL's single-key policy, seen from outside */
	const br_ssl_server_policy_class *policy;
	const br_ssl_server_policy_class **inner;
	int8_t				 slot;	/* pinned creds, or -1 */
	uint8_t				 used, hs_done, full_hs, eof;
	uint8_t				 closing;
	uint8_t				 st;	/* TLS_ST_*, after the last step */
	unsigned			 gen;
	/* read-ahead: ciphertext received past what the engine asked
	 * for, kept where it lies in ibuf (take_in) */
	uint16_t			 ra_off, ra_len;
	uint16_t			 tx_len;	/* ciphertext in tx */
	uint8_t				 tx[WARD_TLS_GATHER];
	uint8_t				 ibuf[BR_SSL_BUFSIZE_INPUT];
	uint8_t				 obuf[WARD_TLS_OBUF_PLAIN + 85];
};

static struct tls_conn pool[WARD_TLS_CONNS];
static uint16_t free_stack[WARD_TLS_CONNS];
static unsigned nfree, nrefused;
static bool pool_ready;

/* AEAD implementations, chosen once: BearSSL's set_default_* ask the CPU
 * (cpuid) on every call, and in a virtual machine each cpuid is a trap
 * to the hypervisor (tens of microseconds per connection, measured). */
static br_ssl_engine_context impl;

static br_ssl_session_cache_lru lru;
static unsigned char lru_store[WARD_TLS_SESSIONS * 100 + 1];

/* BearSSL's state as TLS_ST_* bits (br_ssl_engine_current_state is ~100
 * instructions: it is asked once per engine step, in note). */
static unsigned
engine_state(const struct tls_conn *t)
{
	unsigned st = br_ssl_engine_current_state(&t->sc.eng), r = 0;

	if (st & BR_SSL_CLOSED)
		r |= TLS_ST_CLOSED;
	if (st & BR_SSL_SENDREC)
		r |= TLS_ST_SENDREC;
	if (st & BR_SSL_RECVREC)
		r |= TLS_ST_RECVREC;
	if (st & BR_SSL_SENDAPP)
		r |= TLS_ST_SENDAPP;
	if (st & BR_SSL_RECVAPP)
		r |= TLS_ST_RECVAPP;
	return r;
}

static struct tls_conn *
of_policy(const br_ssl_server_policy_class **pctx)
{
	return (struct tls_conn *)((char *)pctx -
	    offsetof(struct tls_conn, policy));
}

/* The AES-128-GCM twin of an AES-256-GCM suite, or 0. */
static unsigned
aes128_twin(unsigned suite)
{
	switch (suite) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
	default:
		return 0;
	}
}

/*
 * A client that lists AES-256-GCM first (OpenSSL's default order does)
 * and offers AES-128-GCM too gets AES-128-GCM: the same key exchange
 * and signature, 10 AES rounds instead of 14, and the SHA-256 PRF
 * instead of SHA-384 for the session (its resumptions' key schedule and
 * Finished cost ~20 % less CPU, measured).  The ECDHE groups give 128-bit
 * security, so AES-256 adds none.  The client's choice between AES-GCM
 * and ChaCha20 is kept.
 */
static void
prefer_aes128(const br_ssl_server_context *cc, br_ssl_server_choices *ch)
{
	unsigned twin = aes128_twin(ch->cipher_suite);
	const br_suite_translated *st;
	size_t n;

	if (twin == 0)
		return;
	st = br_ssl_server_get_client_suites(cc, &n);
	for (size_t u = 0; u < n; u++)
		if (st[u][0] == twin) {
			ch->cipher_suite = (uint16_t)twin;
			return;
		}
}

static int
wrap_choose(const br_ssl_server_policy_class **pctx,
    const br_ssl_server_context *cc, br_ssl_server_choices *choices)
{
	struct tls_conn *t = of_policy(pctx);
	int ok;

	t->full_hs = 1;
	ok = (*t->inner)->choose(t->inner, cc, choices);
	if (ok)
		prefer_aes128(cc, choices);
	return ok;
}

static uint32_t
wrap_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data,
    size_t *len)
{
	struct tls_conn *t = of_policy(pctx);

	return (*t->inner)->do_keyx(t->inner, data, len);
}

static size_t
wrap_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id,
    unsigned char *data, size_t hv_len, size_t len)
{
	struct tls_conn *t = of_policy(pctx);

	return (*t->inner)->do_sign(t->inner, algo_id, data, hv_len, len);
}

static const br_ssl_server_policy_class wrap_vtable = {
	sizeof(const br_ssl_server_policy_class *),
	wrap_choose, wrap_keyx, wrap_sign
};

static void
pool_init(void)
{
	nfree = 0;
	for (unsigned i = WARD_TLS_CONNS; i-- > 0;)
		free_stack[nfree++] = (uint16_t)i;
	if (WARD_TLS_SESSIONS > 0)
		br_ssl_session_cache_lru_init(&lru, lru_store,
		    WARD_TLS_SESSIONS * 100);
	br_ssl_engine_set_default_aes_gcm(&impl);
	br_ssl_engine_set_default_chapol(&impl);
	(void)sha256_get();	/* cpuid once, here */
	hw_aes = br_aes_x86ni_ctr_get_vtable() != NULL ||
	    br_aes_pwr8_ctr_get_vtable() != NULL;
	pool_ready = true;
}

static void
engine_setup(struct tls_conn *t, const struct tls_creds *cr)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	const uint16_t *list = suites[cr->key_type == BR_KEYTYPE_RSA][!hw_aes];

	br_ssl_server_zero(&t->sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, list, ARRAY_LEN(suites[0][0]));
	if (!hw_aes)
		br_ssl_engine_add_flags(eng,
		    BR_OPT_ENFORCE_SERVER_PREFERENCES);
	br_ssl_engine_set_ec(eng, ec64_get());
	/*
	 * The transcript is hashed with every hash set here.  SHA-256 is
	 * the PRF of every suite but the SHA-384 ones and BearSSL signs
	 * with it whenever the client lists it (br_ssl_choose_hash); SHA-1
	 * is TLS 1.2's default for a client without signature_algorithms;
	 * SHA-384 is the PRF of the AES-256-GCM suites.  SHA-224 and
	 * SHA-512 would be chosen only by a client that lists neither
	 * SHA-256 nor SHA-384 for signatures, and cost ~5 % of a resumed
	 * handshake: not set (the engine then never offers them).
	 */
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, sha256_get());
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(eng, &sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_gcm(eng, impl.igcm_in, impl.igcm_out);
	br_ssl_engine_set_aes_ctr(eng, impl.iaes_ctr);
	br_ssl_engine_set_ghash(eng, impl.ighash);
	br_ssl_engine_set_chapol(eng, impl.ichapol_in, impl.ichapol_out);
	br_ssl_engine_set_chacha20(eng, impl.ichacha);
	br_ssl_engine_set_poly1305(eng, impl.ipoly);
	br_ssl_engine_set_protocol_names(eng, (const char **)alpn,
	    ARRAY_LEN(alpn));
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	if (WARD_TLS_SESSIONS > 0)
		br_ssl_server_set_cache(&t->sc, &lru.vtable);
	br_ssl_engine_set_buffers_bidi(eng, t->ibuf, sizeof t->ibuf, t->obuf,
	    sizeof t->obuf);
}

static void
engine_creds(struct tls_conn *t, const struct tls_creds *cr)
{
	if (cr->key_type == BR_KEYTYPE_RSA)
		br_ssl_server_set_single_rsa(&t->sc, cr->chain, cr->nchain,
		    br_skey_decoder_get_rsa(&cr->key), BR_KEYTYPE_SIGN,
		    br_rsa_private_get_default(),
		    br_rsa_pkcs1_sign_get_default());
	else
		br_ssl_server_set_single_ec(&t->sc, cr->chain, cr->nchain,
		    br_skey_decoder_get_ec(&cr->key), BR_KEYTYPE_SIGN,
		    cr->issuer_type, ec64_get(), ec64_ecdsa_sign_asn1());
	t->inner = t->sc.policy_vtable;
	t->policy = &wrap_vtable;
	br_ssl_server_set_policy(&t->sc, &t->policy);
}

static unsigned npeak;		/* most slots taken at once */

static bool
rand_take(uint8_t *out, size_t n)
{
	if (rnd_left < n) {
		if (port_random(rnd, sizeof rnd) != 0) {
			memset(rnd, 0, sizeof rnd);
			rnd_left = 0;
			return false;
		}
		rnd_left = sizeof rnd;
	}
	rnd_left -= n;
	memcpy(out, rnd + rnd_left, n);
	memset(rnd + rnd_left, 0, n);
	return true;
}

/*
 * The engine's HMAC_DRBG (SHA-256), its state K and V straight from the
 * OS: what instantiation derives from a seed, without the 3 HMAC_DRBG
 * updates BearSSL does per connection (init, its system seeder, our
 * injected seed) nor the seeder's cpuid and rdrand.  The rng fields are
 * the engine's own (bearssl_ssl.h documents them); rng_os_rand_done
 * tells br_ssl_server_reset not to seed again.  Without OS bytes the
 * engine seeds itself as before.
 */
static void
engine_rand(struct tls_conn *t)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	uint8_t kv[64];

	if (!rand_take(kv, sizeof kv))
		return;
	memset(&eng->rng, 0, sizeof eng->rng);
	eng->rng.vtable = &br_hmac_drbg_vtable;
	eng->rng.digest_class = sha256_get();
	memcpy(eng->rng.K, kv, 32);
	memcpy(eng->rng.V, kv + 32, 32);
	memset(kv, 0, sizeof kv);
	eng->rng_init_done = 2;
	eng->rng_os_rand_done = 1;
}

struct tls_conn *
tls_conn_take(void)
{
	struct tls_conn *t;

	if (!pool_ready)
		pool_init();
	if (nfree == 0 || !tls_creds_ready()) {
		nrefused++;
		return NULL;
	}
	t = &pool[free_stack[--nfree]];
	if (WARD_TLS_CONNS - nfree > npeak)
		npeak = WARD_TLS_CONNS - nfree;
	engine_setup(t, &creds[creds_cur]);
	engine_creds(t, &creds[creds_cur]);
	engine_rand(t);
	if (!br_ssl_server_reset(&t->sc)) {
		free_stack[nfree++] = (uint16_t)(t - pool);
		nrefused++;
		return NULL;
	}
	t->used = 1;
	t->eof = 0;
	t->closing = 0;
	t->hs_done = 0;
	t->full_hs = 0;
	t->ra_off = 0;
	t->ra_len = 0;
	t->tx_len = 0;
	t->st = (uint8_t)engine_state(t);
	t->slot = (int8_t)creds_cur;
	t->gen = creds[creds_cur].gen;
	creds[creds_cur].pins++;
	return t;
}

static void
unpin(struct tls_conn *t)
{
	if (t->slot >= 0) {
		creds[t->slot].pins--;
		t->slot = -1;
	}
}

void
tls_conn_reset(struct tls_conn *t)
{
	if (t == NULL || !t->used)
		return;
	unpin(t);
	br_ssl_server_zero(&t->sc);	/* session keys do not linger */
	t->used = 0;
	free_stack[nfree++] = (uint16_t)(t - pool);
}

bool
tls_hw_aes(void)
{
	if (!pool_ready)
		pool_init();
	return hw_aes;
}

unsigned
tls_conn_used(void)
{
	return pool_ready ? WARD_TLS_CONNS - nfree : 0;
}

unsigned
tls_conn_peak(void)
{
	return npeak;
}

unsigned
tls_conn_refused(void)
{
	return nrefused;
}

size_t
tls_conn_bytes(void)
{
	return sizeof(struct tls_conn);
}

size_t
tls_cache_bytes(void)
{
	return sizeof lru + sizeof lru_store;
}

/* ----------------------------------------------------------- memory pump */

/* After any engine step (every call that can change the engine's state
 * goes through a wrapper that calls this): the state is cached for
 * tls_conn_state, and a finished handshake releases its credentials pin. */
static void
note(struct tls_conn *t)
{
	unsigned st = engine_state(t);

	t->st = (uint8_t)st;
	if (t->hs_done)
		return;
	if (st & (TLS_ST_SENDAPP | TLS_ST_RECVAPP)) {
		t->hs_done = 1;
		unpin(t);
	} else if (st & TLS_ST_CLOSED) {
		unpin(t);
	}
}

uint8_t *
tls_conn_recvrec_buf(struct tls_conn *t, size_t *len)
{
	*len = 0;
	return br_ssl_engine_recvrec_buf(&t->sc.eng, len);
}

void
tls_conn_recvrec_ack(struct tls_conn *t, size_t n)
{
	if (n == 0)
		return;	/* BearSSL would act on an empty ack */
	br_ssl_engine_recvrec_ack(&t->sc.eng, n);
	note(t);
}

const uint8_t *
tls_conn_sendrec_buf(struct tls_conn *t, size_t *len)
{
	*len = 0;
	return br_ssl_engine_sendrec_buf(&t->sc.eng, len);
}

void
tls_conn_sendrec_ack(struct tls_conn *t, size_t n)
{
	if (n == 0)
		return;	/* BearSSL would act on an empty ack */
	br_ssl_engine_sendrec_ack(&t->sc.eng, n);
	note(t);
}

const uint8_t *
tls_conn_recvapp_buf(struct tls_conn *t, size_t *len)
{
	*len = 0;
	return br_ssl_engine_recvapp_buf(&t->sc.eng, len);
}

void
tls_conn_recvapp_ack(struct tls_conn *t, size_t n)
{
	if (n == 0)
		return;	/* BearSSL would act on an empty ack */
	br_ssl_engine_recvapp_ack(&t->sc.eng, n);
	note(t);
}

uint8_t *
tls_conn_sendapp_buf(struct tls_conn *t, size_t *len)
{
	*len = 0;
	return br_ssl_engine_sendapp_buf(&t->sc.eng, len);
}

void
tls_conn_sendapp_ack(struct tls_conn *t, size_t n)
{
	if (n == 0)
		return;	/* BearSSL would act on an empty ack */
	br_ssl_engine_sendapp_ack(&t->sc.eng, n);
	note(t);
}

void
tls_conn_flush(struct tls_conn *t)
{
	br_ssl_engine_flush(&t->sc.eng, 0);
	note(t);
}

void
tls_conn_close(struct tls_conn *t)
{
	if (t->closing)
		return;		/* one close_notify */
	t->closing = 1;
	br_ssl_engine_close(&t->sc.eng);
	note(t);
}

unsigned
tls_conn_state(const struct tls_conn *t)
{
	return t->st | (t->tx_len > 0 ? TLS_ST_SENDREC : 0u);
}

bool
tls_conn_handshake_done(const struct tls_conn *t)
{
	return t->hs_done != 0;
}

bool
tls_conn_resumed(const struct tls_conn *t)
{
	return t->hs_done && !t->full_hs;
}

int
tls_conn_error(const struct tls_conn *t)
{
	int err = br_ssl_engine_last_error(&t->sc.eng);

	/* TCP EOF without close_notify: a truncation */
	if (err == 0 && t->eof &&
	    !(br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_CLOSED))
		return BR_ERR_IO;
	return err;
}

unsigned
tls_conn_suite(const struct tls_conn *t)
{
	return t->sc.eng.session.cipher_suite;
}

int
tls_conn_curve(const struct tls_conn *t)
{
	return br_ssl_engine_get_ecdhe_curve((br_ssl_engine_context *)
	    &t->sc.eng);
}

const char *
tls_conn_alpn(const struct tls_conn *t)
{
	return br_ssl_engine_get_selected_protocol((br_ssl_engine_context *)
	    &t->sc.eng);
}

unsigned
tls_conn_creds_generation(const struct tls_conn *t)
{
	return t->gen;
}

/* RFC 5246 §7.2 */
static const char *
alert_name(int a)
{
	switch (a) {
	case 0:		return "close_notify";
	case 10:	return "unexpected_message";
	case 20:	return "bad_record_mac";
	case 22:	return "record_overflow";
	case 40:	return "handshake_failure";
	case 42:	return "bad_certificate";
	case 46:	return "certificate_unknown";
	case 47:	return "illegal_parameter";
	case 48:	return "unknown_ca";
	case 50:	return "decode_error";
	case 51:	return "decrypt_error";
	case 70:	return "protocol_version";
	case 71:	return "insufficient_security";
	case 80:	return "internal_error";
	case 90:	return "user_canceled";
	case 112:	return "unrecognized_name";
	case 120:	return "no_application_protocol";
	default:	return "?";
	}
}

const char *
tls_error_text(int err)
{
	static char alert[64];

	switch (err) {
	case BR_ERR_OK:			return "ok";
	case BR_ERR_UNSUPPORTED_VERSION: return "not TLS 1.2 (version)";
	case BR_ERR_BAD_VERSION:	return "unsupported protocol version";
	case BR_ERR_BAD_LENGTH:		return "bad record length";
	case BR_ERR_TOO_LARGE:		return "record too large";
	case BR_ERR_BAD_MAC:		return "bad record MAC";
	case BR_ERR_NO_RANDOM:		return "no random source";
	case BR_ERR_UNKNOWN_TYPE:	return "not TLS (unknown record type)";
	case BR_ERR_UNEXPECTED:		return "unexpected message";
	case BR_ERR_BAD_CCS:		return "bad ChangeCipherSpec";
	case BR_ERR_BAD_ALERT:		return "bad alert";
	case BR_ERR_BAD_HANDSHAKE:	return "bad handshake message";
	case BR_ERR_OVERSIZED_ID:	return "oversized session id";
	case BR_ERR_BAD_CIPHER_SUITE:	return "no shared cipher suite";
	case BR_ERR_BAD_COMPRESSION:	return "bad compression";
	case BR_ERR_BAD_FRAGLEN:	return "bad fragment length";
	case BR_ERR_BAD_SECRENEG:	return "bad secure renegotiation";
	case BR_ERR_EXTRA_EXTENSION:	return "extra extension";
	case BR_ERR_BAD_SNI:		return "bad server name";
	case BR_ERR_BAD_HELLO_DONE:	return "bad hello done";
	case BR_ERR_LIMIT_EXCEEDED:	return "limit exceeded";
	case BR_ERR_BAD_FINISHED:	return "bad Finished";
	case BR_ERR_RESUME_MISMATCH:	return "resume mismatch";
	case BR_ERR_INVALID_ALGORITHM:	return "invalid algorithm";
	case BR_ERR_BAD_SIGNATURE:	return "bad signature";
	case BR_ERR_WRONG_KEY_USAGE:	return "wrong key usage";
	case BR_ERR_NO_CLIENT_AUTH:	return "no client certificate";
	case BR_ERR_IO:			return "TCP closed without close_notify";
	default:
		break;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT)
		snprintf(alert, sizeof alert, "%s alert %d (%s)",
		    err >= BR_ERR_SEND_FATAL_ALERT ? "sent" : "peer",
		    err & 255, alert_name(err & 255));
	else
		snprintf(alert, sizeof alert, "TLS error %d", err);
	return alert;
}

int
tls_error_class(int err)
{
	switch (err) {
	case BR_ERR_OK:
	case BR_ERR_IO:
		return TLSF_CLOSED;
	case BR_ERR_UNSUPPORTED_VERSION:
	case BR_ERR_BAD_VERSION:
	case BR_ERR_BAD_LENGTH:
	case BR_ERR_TOO_LARGE:
	case BR_ERR_UNKNOWN_TYPE:
		return TLSF_NOT_TLS;
	default:
		break;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
		return TLSF_ALERT;
	return TLSF_PROTOCOL;
}

/* --------------------------------------------------------------- fd pump */

static long
failed(const struct tls_conn *t)
{
	return tls_conn_error(t) != 0 ? WARD_EPROTO : 0;
}

/* Write tx out: 0 when it is empty, PORT_EAGAIN, or < 0. */
static int
tx_flush(struct tls_conn *t, int fd)
{
	struct port_iov iov = { t->tx, t->tx_len };
	long w;

	if (t->tx_len == 0)
		return 0;
	w = port_writev(fd, &iov, 1);
	if (w < 0)
		return (int)w;
	memmove(t->tx, t->tx + w, t->tx_len - (size_t)w);
	t->tx_len = (uint16_t)(t->tx_len - (size_t)w);
	return t->tx_len == 0 ? 0 : PORT_EAGAIN;
}

/* Take the engine's records into tx while they fit: BearSSL makes the
 * next record only once the last one is taken (WARD_TLS_GATHER). */
static void
gather(struct tls_conn *t)
{
	const uint8_t *rec;
	size_t len;

	while ((rec = tls_conn_sendrec_buf(t, &len)) != NULL &&
	    len <= sizeof t->tx - t->tx_len) {
		memcpy(t->tx + t->tx_len, rec, len);
		t->tx_len = (uint16_t)(t->tx_len + len);
		tls_conn_sendrec_ack(t, len);
	}
}

/* Send pending ciphertext: 0 when none is left, PORT_EAGAIN, or < 0.
 * Small records go out gathered (tx), larger ones from the engine. */
static int
send_out(struct tls_conn *t, int fd)
{
	for (int i = 0; i < 64; i++) {
		struct port_iov iov;
		size_t len;
		long w;
		int rc;

		gather(t);
		if ((rc = tx_flush(t, fd)) != 0)
			return rc;
		iov.base = tls_conn_sendrec_buf(t, &len);
		if (iov.base == NULL)
			return 0;
		if (len <= sizeof t->tx)
			continue;	/* tx is empty now: gather takes it */
		iov.len = len;
		w = port_writev(fd, &iov, 1);
		if (w < 0)
			return (int)w;
		if (w == 0)
			return PORT_EAGAIN;
		tls_conn_sendrec_ack(t, (size_t)w);
	}
	return PORT_EAGAIN;
}

/*
 * Read ciphertext: bytes given to the engine, 0 at TCP EOF, PORT_EAGAIN
 * or < 0.  BearSSL asks for a record's 5-byte header, then for its body:
 * two recv calls per record if taken literally.  Instead one recv fills
 * ibuf from where the engine asks up to its end, and what the engine did
 * not ask for yet stays there (ra_off, ra_len) for its next requests.
 * This is safe because the engine only ever asks for bytes contiguous
 * from a record's start (ibuf[0], or ibuf[5] between the chunks of a
 * clear handshake record) and never writes into ibuf beyond what it was
 * given (AEAD records are opened in place); when it asks at a lower
 * offset the kept bytes move down to it first.
 */
static long
take_in(struct tls_conn *t, int fd)
{
	size_t want, n;
	uint8_t *b = tls_conn_recvrec_buf(t, &want);
	long r;

	if (b == NULL || want == 0)
		return PORT_EAGAIN;
	if (t->ra_len == 0) {
		r = port_recv(fd, b, sizeof t->ibuf - (size_t)(b - t->ibuf));
		if (r <= 0)
			return r;
		t->ra_off = (uint16_t)(b - t->ibuf);
		t->ra_len = (uint16_t)r;
	} else if (b != t->ibuf + t->ra_off) {
		memmove(b, t->ibuf + t->ra_off, t->ra_len);
		t->ra_off = (uint16_t)(b - t->ibuf);
	}
	n = MIN(want, (size_t)t->ra_len);
	t->ra_off = (uint16_t)(t->ra_off + n);
	t->ra_len = (uint16_t)(t->ra_len - n);
	tls_conn_recvrec_ack(t, n);
	return (long)n;
}

bool
tls_conn_pending(const struct tls_conn *t)
{
	return t->ra_len > 0 || (tls_conn_state(t) & TLS_ST_RECVAPP);
}

int
tls_conn_pump(struct tls_conn *t, int fd)
{
	for (int i = 0; i < 64; i++) {
		unsigned st = tls_conn_state(t);
		int w = 0;
		long r = PORT_EAGAIN;

		if (t->eof)
			return WARD_EPROTO;
		if (st & TLS_ST_CLOSED) {
			(void)tx_flush(t, fd);	/* an alert gathered */
			return (int)failed(t);
		}
		if (st & TLS_ST_SENDREC)
			w = send_out(t, fd);
		if (w < 0 && w != PORT_EAGAIN)
			return w;
		if ((st & TLS_ST_RECVREC) && !(st & TLS_ST_RECVAPP))
			r = take_in(t, fd);
		if (r == 0) {
			/* TCP EOF before close_notify: a truncation */
			t->eof = 1;
			unpin(t);
			return WARD_EPROTO;
		}
		if (r < 0 && r != PORT_EAGAIN)
			return (int)r;
		if (r == PORT_EAGAIN && w != 0)
			return PORT_EAGAIN;
		/* the input just read may have closed the engine (a fatal
		 * alert sent): say so, or no event would ever come */
		if (r == PORT_EAGAIN && !(tls_conn_state(t) & TLS_ST_SENDREC))
			return tls_conn_state(t) & TLS_ST_CLOSED ?
			    (int)failed(t) : PORT_EAGAIN;
	}
	return PORT_EAGAIN;
}

long
tls_conn_recv(struct tls_conn *t, int fd, void *buf, size_t n)
{
	for (int i = 0; i < 4; i++) {
		size_t len;
		const uint8_t *p = tls_conn_recvapp_buf(t, &len);
		int rc;

		if (p != NULL) {
			len = MIN(len, n);
			memcpy(buf, p, len);
			tls_conn_recvapp_ack(t, len);
			return (long)len;
		}
		if (tls_conn_state(t) & TLS_ST_CLOSED)
			return failed(t);
		rc = tls_conn_pump(t, fd);
		if (rc < 0 && !(tls_conn_state(t) & TLS_ST_RECVAPP))
			return rc == WARD_EPROTO && (t->eof ||
			    tls_conn_error(t) == 0) ? 0 : rc;
	}
	return PORT_EAGAIN;
}

long
tls_conn_writev(struct tls_conn *t, int fd, const struct port_iov *iov,
    int n)
{
	long total = 0;
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		const uint8_t *src = iov[i].base;
		size_t left = iov[i].len;

		while (left > 0) {
			size_t room;
			uint8_t *dst = tls_conn_sendapp_buf(t, &room);

			if (dst == NULL) {
				rc = tls_conn_pump(t, fd);
				dst = tls_conn_sendapp_buf(t, &room);
				if (dst == NULL)
					break;
			}
			room = MIN(room, left);
			memcpy(dst, src, room);
			tls_conn_sendapp_ack(t, room);
			src += room;
			left -= room;
			total += (long)room;
		}
		if (left > 0)
			break;
	}
	tls_conn_flush(t);
	if (rc != 0 && rc != PORT_EAGAIN)
		return rc;
	rc = send_out(t, fd);
	if (rc != 0 && rc != PORT_EAGAIN)
		return rc;
	if (total == 0 && (tls_conn_state(t) & TLS_ST_CLOSED))
		return tls_conn_error(t) != 0 ? WARD_EPROTO : PORT_ERESET;
	return total > 0 || n == 0 ? total : PORT_EAGAIN;
}

unsigned
tls_conn_events(const struct tls_conn *t)
{
	unsigned st = tls_conn_state(t), ev = 0;

	if (t->eof)
		return 0;
	if (st & TLS_ST_SENDREC)
		ev |= PORT_EV_OUT;
	if (st & TLS_ST_RECVREC)
		ev |= PORT_EV_IN;
	return ev;
}

bool
tls_conn_shutdown(struct tls_conn *t, int fd)
{
	int rc;

	if (!(tls_conn_state(t) & TLS_ST_CLOSED))
		tls_conn_close(t);
	rc = send_out(t, fd);
	return rc != PORT_EAGAIN;
}
