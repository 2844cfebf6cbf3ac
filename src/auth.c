/*
 * auth.c - JWT verification and HS256 signing.
 *
 * Notes:
 * - The algorithm is chosen by the configuration, never by the token: the
 *   header's "alg" must name the key family that was loaded, so a public
 *   key is never used as an HMAC secret (alg confusion) and "none" never
 *   passes.  "crit" is refused (RFC 7515 §4.1.11: we understand no
 *   extension); "typ", when present, must be "JWT".
 * - Order of checks: length cap, three segments, header, signature, and
 *   only then is the payload decoded: unauthenticated claims are never
 *   parsed.
 * - base64url is strict (no '=', canonical trailing bits), so one token
 *   has exactly one spelling.  JSON goes through json.c (strict RFC 8259,
 *   UTF-8 checked); duplicate header parameters or claims we read are
 *   refused (RFC 7519 §4 allows either refusing or taking the last), and
 *   so are strings with an escaped NUL, which would cut a C string short.
 * - One token at a time: the scratch buffers and the JSON document are
 *   static (ward has one thread and allocates nothing after start-up).
 * - Token text is never logged and never copied into error strings.
 */
#include <stdio.h>

#include <bearssl.h>

#include "internal.h"
#include "auth.h"

enum { ALG_NONE = 0, ALG_HS256, ALG_ES256, ALG_RS256 };

#define SEG_MAX		(AUTH_TOKEN_MAX / 4 * 3 + 3)	/* decoded segment */
#define SIG_MAX		512		/* RSA-4096 */
#define SIG_B64_MAX	((SIG_MAX * 4 + 2) / 3)
#define RSA_MIN_BYTES	256		/* RFC 7518 §3.3: 2048 bits or more */
#define TIME_MAX	9007199254740992.0	/* 2^53: exact in a double */

static struct {
	bool			hs;
	br_hmac_key_context	hk;
	int			pk;		/* ALG_ES256, ALG_RS256 or 0 */
	br_ec_public_key	ec;
	br_rsa_public_key	rsa;
	uint8_t			q[65];		/* uncompressed P-256 point */
	uint8_t			n[SIG_MAX], e[4];
} ak;

static uint8_t		seg[SEG_MAX + 1];	/* header, then payload */
static uint8_t		sig[SIG_MAX];
static char		sbuf[SEG_MAX + 1];	/* a decoded JSON string */
static struct json_doc	doc;

/* The tenant claim's name is the application's (auth_tenant_claim_set);
 * none until it is set. */
static const char *claim_names[] = {
	"sub", "role", "name", "", "exp", "nbf", "iat"
};
enum { C_SUB, C_ROLE, C_NAME, C_TENANT, C_EXP, C_NBF, C_IAT };

void
auth_tenant_claim_set(const char *name)
{
	claim_names[C_TENANT] = name;
}

const char *
auth_tenant_claim(void)
{
	return claim_names[C_TENANT];
}

/* --- small helpers ------------------------------------------------------- */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Compare without a data-dependent branch or early exit. */
static bool
ct_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint32_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (uint32_t)(a[i] ^ b[i]);
	return ((d - 1) >> 31) == 1;
}

static bool
ascii_ieq(const char *a, const char *lit)
{
	for (; *a != '\0' && *lit != '\0'; a++, lit++)
		if ((*a | 0x20) != (*lit | 0x20))
			return false;
	return *a == *lit;
}

/* Does string token i contain the escape \u0000? */
static bool
has_nul_escape(int i)
{
	const struct json_tok *t = &doc.tok[i];

	for (int k = t->start; k < t->end; k++) {
		if (doc.src[k] != '\\')
			continue;
		k++;		/* the escaped character; json.c checked it */
		if (doc.src[k] == 'u' && k + 4 < t->end &&
		    memcmp(doc.src + k + 1, "0000", 4) == 0)
			return true;
	}
	return false;
}

/* Decode string token i; 0, WARD_EINVAL (not a string, NUL) or
 * WARD_ETOOBIG. */
static int
str_get(int i, char *out, size_t cap)
{
	if (!json_is_str(&doc, i) || has_nul_escape(i))
		return WARD_EINVAL;
	return json_str(&doc, i, out, cap);
}

/* The longest prefix of valid UTF-8 s (length > max) within max bytes. */
static size_t
utf8_cut(const char *s, size_t max)
{
	while (max > 0 && ((uint8_t)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* --- keys ---------------------------------------------------------------- */

static int
ec_set(int curve, const uint8_t *q, size_t qlen, char *err, size_t errlen)
{
	static const unsigned char one = 1;
	uint8_t tmp[65];

	if (curve != BR_EC_secp256r1 || qlen != 65 || q[0] != 0x04) {
		seterr(err, errlen, "EC key is not an uncompressed P-256 point");
		return WARD_EINVAL;
	}
	/* 1 x Q decodes Q: refuses points that are not on the curve */
	memcpy(tmp, q, qlen);
	if (br_ec_get_default()->mul(tmp, qlen, &one, 1, curve) != 1) {
		seterr(err, errlen, "EC key is not a point on P-256");
		return WARD_EINVAL;
	}
	memcpy(ak.q, q, qlen);
	ak.ec = (br_ec_public_key){ curve, ak.q, qlen };
	ak.pk = ALG_ES256;
	return 0;
}

static int
rsa_set(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
    char *err, size_t errlen)
{
	while (nlen > 0 && n[0] == 0) {
		n++;
		nlen--;
	}
	while (elen > 0 && e[0] == 0) {
		e++;
		elen--;
	}
	if (nlen < RSA_MIN_BYTES || nlen > SIG_MAX || (n[nlen - 1] & 1) == 0) {
		seterr(err, errlen, "RSA key must be 2048 to 4096 bits");
		return WARD_EINVAL;
	}
	if (elen == 0 || elen > sizeof ak.e || (e[elen - 1] & 1) == 0 ||
	    (elen == 1 && e[0] < 3)) {
		seterr(err, errlen, "RSA key has an unusable public exponent");
		return WARD_EINVAL;
	}
	memcpy(ak.n, n, nlen);
	memcpy(ak.e, e, elen);
	ak.rsa = (br_rsa_public_key){ ak.n, nlen, ak.e, elen };
	ak.pk = ALG_RS256;
	return 0;
}

/* A DER reader: enough for SubjectPublicKeyInfo and RSAPublicKey. */
struct der {
	const uint8_t	*p;
	size_t		 n;
};

/* Take the next element if it has this tag; its contents go to *v. */
static bool
der_get(struct der *d, uint8_t tag, struct der *v)
{
	size_t len, i = 2, nb;

	if (d->n < 2 || d->p[0] != tag)
		return false;
	len = d->p[1];
	if (len & 0x80) {
		nb = len & 0x7F;
		if (nb == 0 || nb > 2 || d->n < 2 + nb)
			return false;
		for (len = 0; nb > 0; nb--)
			len = len << 8 | d->p[i++];
	}
	if (len > d->n - i)
		return false;
	v->p = d->p + i;
	v->n = len;
	d->p += i + len;
	d->n -= i + len;
	return true;
}

static bool
der_is(struct der v, const uint8_t *oid, size_t n)
{
	return v.n == n && memcmp(v.p, oid, n) == 0;
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
static int
rsa_load(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct der d = { p, len }, seq, n, e;

	if (!der_get(&d, 0x30, &seq) || !der_get(&seq, 0x02, &n) ||
	    !der_get(&seq, 0x02, &e)) {
		seterr(err, errlen, "not an RSA public key");
		return WARD_EINVAL;
	}
	return rsa_set(n.p, n.n, e.p, e.n, err, errlen);
}

/* SubjectPublicKeyInfo (RFC 5280 §4.1; RFC 5480 for EC, RFC 8017 for RSA) */
static int
spki_load(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	static const uint8_t oid_ec[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 2, 1 };
	static const uint8_t oid_p256[] = {
		0x2A, 0x86, 0x48, 0xCE, 0x3D, 3, 1, 7 };
	static const uint8_t oid_rsa[] = {
		0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 1, 1, 1 };
	struct der d = { p, len }, spki, alg, oid, bits, curve;

	if (!der_get(&d, 0x30, &spki) || !der_get(&spki, 0x30, &alg) ||
	    !der_get(&spki, 0x03, &bits) || !der_get(&alg, 0x06, &oid) ||
	    bits.n < 1 || bits.p[0] != 0) {
		seterr(err, errlen, "not a SubjectPublicKeyInfo");
		return WARD_EINVAL;
	}
	bits.p++;		/* unused-bits octet */
	bits.n--;
	if (der_is(oid, oid_ec, sizeof oid_ec)) {
		if (!der_get(&alg, 0x06, &curve) ||
		    !der_is(curve, oid_p256, sizeof oid_p256)) {
			seterr(err, errlen, "EC key is not on P-256");
			return WARD_EINVAL;
		}
		return ec_set(BR_EC_secp256r1, bits.p, bits.n, err, errlen);
	}
	if (der_is(oid, oid_rsa, sizeof oid_rsa))
		return rsa_load(bits.p, bits.n, err, errlen);
	seterr(err, errlen, "unsupported key type (want P-256 or RSA)");
	return WARD_EINVAL;
}

static void
dn_ignore(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
}

static int
cert_load(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	static br_x509_decoder_context xc;
	const br_x509_pkey *pk;

	br_x509_decoder_init(&xc, dn_ignore, NULL);
	br_x509_decoder_push(&xc, p, len);
	pk = br_x509_decoder_get_pkey(&xc);
	if (pk == NULL) {
		seterr(err, errlen, "cannot decode the certificate (error %d)",
		    br_x509_decoder_last_error(&xc));
		return WARD_EINVAL;
	}
	if (pk->key_type == BR_KEYTYPE_RSA)
		return rsa_set(pk->key.rsa.n, pk->key.rsa.nlen, pk->key.rsa.e,
		    pk->key.rsa.elen, err, errlen);
	if (pk->key_type == BR_KEYTYPE_EC)
		return ec_set(pk->key.ec.curve, pk->key.ec.q, pk->key.ec.qlen,
		    err, errlen);
	seterr(err, errlen, "unsupported key type in certificate");
	return WARD_EINVAL;
}

enum { PEM_OTHER = 0, PEM_SPKI, PEM_RSA, PEM_CERT, PEM_PRIVATE };

static int
pem_kind(const char *name)
{
	if (strcmp(name, "PUBLIC KEY") == 0)
		return PEM_SPKI;
	if (strcmp(name, "RSA PUBLIC KEY") == 0)
		return PEM_RSA;
	if (strcmp(name, "CERTIFICATE") == 0)
		return PEM_CERT;
	if (strstr(name, "PRIVATE") != NULL)
		return PEM_PRIVATE;
	return PEM_OTHER;
}

struct der_sink {
	uint8_t	*p;
	size_t	 len, cap;
	bool	 over;
};

static void
der_append(void *ctx, const void *data, size_t n)
{
	struct der_sink *s = ctx;

	if (s->over || n > s->cap - s->len) {
		s->over = true;
		return;
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
}

static int
der_load(int kind, const struct der_sink *s, char *err, size_t errlen)
{
	if (kind == PEM_PRIVATE) {
		seterr(err, errlen, "found a private key: give the public key");
		return WARD_EINVAL;
	}
	if (s->over) {
		seterr(err, errlen, "PEM object too large");
		return WARD_EINVAL;
	}
	if (kind == PEM_SPKI)
		return spki_load(s->p, s->len, err, errlen);
	if (kind == PEM_RSA)
		return rsa_load(s->p, s->len, err, errlen);
	return cert_load(s->p, s->len, err, errlen);
}

/* PEM as a push machine: the file is streamed, never held whole. */
struct pem_rd {
	br_pem_decoder_context	pc;
	struct der_sink		sink;
	int			kind;	/* PEM_* of the object being read */
	int			rc;	/* result once done */
};

#define PEM_READ_MAX	65536	/* give up looking for a key after this */

/* Push bytes; true once the first key object (or an error) was seen. */
static bool
pem_feed(struct pem_rd *rd, const char *text, size_t n, char *err,
    size_t errlen)
{
	while (n > 0) {
		size_t used = br_pem_decoder_push(&rd->pc, text, n);

		text += used;
		n -= used;
		switch (br_pem_decoder_event(&rd->pc)) {
		case BR_PEM_BEGIN_OBJ:
			rd->kind = pem_kind(br_pem_decoder_name(&rd->pc));
			rd->sink.len = 0;
			rd->sink.over = false;
			br_pem_decoder_setdest(&rd->pc, der_append, &rd->sink);
			break;
		case BR_PEM_END_OBJ:
			if (rd->kind == PEM_OTHER)
				break;
			rd->rc = der_load(rd->kind, &rd->sink, err, errlen);
			return true;
		case BR_PEM_ERROR:
			seterr(err, errlen, "malformed PEM");
			rd->rc = WARD_EINVAL;
			return true;
		}
	}
	return false;
}

/* Read the file until its first public key, RSA public key or
 * certificate object. */
static int
pem_read(int fd, char *err, size_t errlen)
{
	static struct pem_rd rd;
	static uint8_t der[4096];
	char chunk[512];
	uint64_t off = 0;
	long n;

	memset(&rd, 0, sizeof rd);
	rd.sink = (struct der_sink){ der, 0, sizeof der, false };
	br_pem_decoder_init(&rd.pc);
	while (off < PEM_READ_MAX) {
		if ((n = port_file_pread(fd, chunk, sizeof chunk, off)) < 0) {
			seterr(err, errlen, "read error");
			return WARD_EINVAL;
		}
		if (pem_feed(&rd, chunk, (size_t)n, err, errlen))
			return rd.rc;
		if (n == 0) {
			/* a newline ends an unterminated last line */
			if (pem_feed(&rd, "\n", 1, err, errlen))
				return rd.rc;
			seterr(err, errlen, "no PUBLIC KEY or CERTIFICATE found");
			return WARD_EINVAL;
		}
		off += (uint64_t)n;
	}
	seterr(err, errlen, "no PUBLIC KEY or CERTIFICATE in the first %d bytes",
	    PEM_READ_MAX);
	return WARD_EINVAL;
}

static int
key_load(const char *path, char *err, size_t errlen)
{
	int fd = port_file_open(path), rc;
	char why[128];

	if (fd < 0) {
		seterr(err, errlen, "jwt public key %s: cannot open", path);
		return WARD_ENOENT;
	}
	why[0] = '\0';
	rc = pem_read(fd, why, sizeof why);
	port_file_close(fd);
	if (rc != 0)
		seterr(err, errlen, "jwt public key %s: %s", path, why);
	return rc;
}

int
auth_init(const char *hs256_secret, size_t secret_len,
    const char *pubkey_pem_path, char *err, size_t errlen)
{
	int rc;

	memset(&ak, 0, sizeof ak);
	if (hs256_secret != NULL && secret_len > 0) {
		br_hmac_key_init(&ak.hk, &br_sha256_vtable, hs256_secret,
		    secret_len);
		ak.hs = true;
		/* RFC 7518 §3.2: a key as long as the hash output */
		if (secret_len < 32)
			log_warn("jwt_secret_short", "bytes=%zu want=32",
			    secret_len);
	}
	if (pubkey_pem_path != NULL && pubkey_pem_path[0] != '\0') {
		rc = key_load(pubkey_pem_path, err, errlen);
		if (rc != 0) {
			memset(&ak, 0, sizeof ak);
			return rc;
		}
	}
	return 0;
}

bool
auth_configured(void)
{
	return ak.hs || ak.pk != ALG_NONE;
}

/* --- verification -------------------------------------------------------- */

struct jws {
	const char	*h, *p, *s;	/* header, payload, signature */
	size_t		 hn, pn, sn;
};

/* Exactly three segments; header and payload not empty. */
static int
jws_split(const char *tok, size_t len, struct jws *j)
{
	const char *end = tok + len, *d1, *d2;

	d1 = memchr(tok, '.', len);
	if (d1 == NULL)
		return AUTH_E_MALFORMED;
	d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1));
	if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
		return AUTH_E_MALFORMED;
	j->h = tok;
	j->hn = (size_t)(d1 - tok);
	j->p = d1 + 1;
	j->pn = (size_t)(d2 - d1 - 1);
	j->s = d2 + 1;
	j->sn = (size_t)(end - d2 - 1);
	if (j->hn == 0 || j->pn == 0)
		return AUTH_E_MALFORMED;
	return 0;
}

/* The last AUTH_E_ALG named a known algorithm with no key here. */
static bool alg_unconfigured;

/* The "alg" value: an ALG_* configured here, or AUTH_E_ALG. */
static int
alg_get(int v)
{
	char name[8];
	int alg;

	if (str_get(v, name, sizeof name) != 0)
		return AUTH_E_ALG;
	if (strcmp(name, "HS256") == 0)
		alg = ALG_HS256;
	else if (strcmp(name, "ES256") == 0)
		alg = ALG_ES256;
	else if (strcmp(name, "RS256") == 0)
		alg = ALG_RS256;
	else
		return AUTH_E_ALG;	/* "none", HS512, ... */
	if (alg == ALG_HS256 ? !ak.hs : alg != ak.pk) {
		alg_unconfigured = true;	/* for auth_reason */
		return AUTH_E_ALG;	/* not this server's key family */
	}
	return alg;
}

/* Decode and check the JOSE header; returns an ALG_* or an error. */
static int
hdr_check(const char *b64, size_t n)
{
	char key[8], typ[8];
	int alg = ALG_NONE, i, k, v;
	bool seen_typ = false;
	long l = base64_decode(b64, n, seg, SEG_MAX, true);

	if (l < 0 || json_parse(&doc, (const char *)seg, (size_t)l) != 0 ||
	    doc.tok[0].type != JSON_OBJ)
		return AUTH_E_MALFORMED;
	for (k = 0, i = 1; k < doc.tok[0].size && i + 1 < doc.ntok;
	    k++, i = json_skip(&doc, v)) {
		v = i + 1;
		if (str_get(i, key, sizeof key) != 0)
			continue;	/* longer than any name we read */
		if (strcmp(key, "crit") == 0)
			return AUTH_E_MALFORMED;
		if (strcmp(key, "typ") == 0) {
			if (seen_typ || str_get(v, typ, sizeof typ) != 0 ||
			    !ascii_ieq(typ, "JWT"))
				return AUTH_E_MALFORMED;
			seen_typ = true;
		} else if (strcmp(key, "alg") == 0) {
			if (alg != ALG_NONE)
				return AUTH_E_MALFORMED;	/* twice */
			if ((alg = alg_get(v)) < 0)
				return alg;
		}
	}
	return alg == ALG_NONE ? AUTH_E_ALG : alg;
}

static void
sha256(const void *in, size_t n, uint8_t out[32])
{
	br_sha256_context sc;

	br_sha256_init(&sc);
	br_sha256_update(&sc, in, n);
	br_sha256_out(&sc, out);
}

/* Check the signature over in[0..n) (RFC 7518 §3.2, §3.3, §3.4). */
static int
sig_check(int alg, const char *in, size_t n, const char *s, size_t sn)
{
	uint8_t h[32], rec[32];
	br_hmac_context hc;
	bool ok = false;
	long l;

	if (sn == 0)
		return AUTH_E_MALFORMED;
	if (sn > SIG_B64_MAX)
		return AUTH_E_SIGNATURE;
	if ((l = base64_decode(s, sn, sig, sizeof sig, true)) < 0)
		return AUTH_E_MALFORMED;
	if (alg == ALG_HS256) {
		br_hmac_init(&hc, &ak.hk, 0);
		br_hmac_update(&hc, in, n);
		br_hmac_out(&hc, h);
		ok = l == 32 && ct_eq(h, sig, 32);
	} else if (alg == ALG_ES256) {
		sha256(in, n, h);
		/* JWS carries the raw r || s form (RFC 7518 §3.4) */
		ok = l == 64 && br_ecdsa_i31_vrfy_raw(br_ec_get_default(), h,
		    32, &ak.ec, sig, 64) == 1;
	} else if (alg == ALG_RS256) {
		sha256(in, n, h);
		ok = (size_t)l == ak.rsa.nlen && br_rsa_i31_pkcs1_vrfy(sig,
		    (size_t)l, BR_HASH_OID_SHA256, 32, &ak.rsa, rec) == 1 &&
		    ct_eq(rec, h, 32);
	}
	return ok ? AUTH_OK : AUTH_E_SIGNATURE;
}

/* A string claim (name: cut to fit; others: must fit). */
static int
claim_text(int v, char *out, size_t cap, bool cut)
{
	size_t l;

	if (json_is_null(&doc, v))
		return 0;
	if (str_get(v, sbuf, sizeof sbuf) != 0)
		return AUTH_E_CLAIMS;
	l = strlen(sbuf);
	if (l >= cap) {
		if (!cut)
			return AUTH_E_CLAIMS;
		l = utf8_cut(sbuf, cap - 1);
	}
	memcpy(out, sbuf, l);
	out[l] = '\0';
	return 0;
}

/* An identifier: a string, or a JSON integer stored as its text. */
static int
claim_id(int v, char *out, size_t cap)
{
	struct str raw;
	size_t k;

	if (json_is_str(&doc, v) || json_is_null(&doc, v))
		return claim_text(v, out, cap, false);
	if (doc.tok[v].type != JSON_PRIM)
		return AUTH_E_CLAIMS;
	raw = json_raw(&doc, v);
	k = raw.p[0] == '-';
	if (raw.n <= k || raw.n >= cap)
		return AUTH_E_CLAIMS;
	for (; k < raw.n; k++)
		if (raw.p[k] < '0' || raw.p[k] > '9')
			return AUTH_E_CLAIMS;	/* 7.5, 1e3, true */
	memcpy(out, raw.p, raw.n);
	out[raw.n] = '\0';
	return 0;
}

/* A NumericDate (RFC 7519 §2): integer or not, truncated. */
static int
claim_time(int v, int64_t *t, bool *has)
{
	double d;

	if (json_is_null(&doc, v))
		return 0;
	if (json_num(&doc, v, &d) != 0 || d < -TIME_MAX || d > TIME_MAX)
		return AUTH_E_CLAIMS;
	*t = (int64_t)d;
	*has = true;
	return 0;
}

static int
claim_one(int which, int v, struct auth_claims *c)
{
	switch (which) {
	case C_SUB:
		return claim_id(v, c->sub, sizeof c->sub);
	case C_ROLE:
		return claim_text(v, c->role, sizeof c->role, false);
	case C_NAME:
		return claim_text(v, c->name, sizeof c->name, true);
	case C_TENANT:
		return claim_id(v, c->tenant, sizeof c->tenant);
	case C_EXP:
		return claim_time(v, &c->exp, &c->has_exp);
	case C_NBF:
		return claim_time(v, &c->nbf, &c->has_nbf);
	default:
		return claim_time(v, &c->iat, &c->has_iat);
	}
}

static int
claim_index(const char *key)
{
	for (size_t w = 0; w < ARRAY_LEN(claim_names); w++)
		if (claim_names[w][0] != '\0' && strcmp(key, claim_names[w]) == 0)
			return (int)w;
	return -1;
}

static int
claims_parse(const uint8_t *p, size_t n, struct auth_claims *c)
{
	char key[16];
	unsigned seen = 0;
	int i, k, v, w, rc;

	if (json_parse(&doc, (const char *)p, n) != 0 ||
	    doc.tok[0].type != JSON_OBJ)
		return AUTH_E_MALFORMED;
	for (k = 0, i = 1; k < doc.tok[0].size && i + 1 < doc.ntok;
	    k++, i = json_skip(&doc, v)) {
		v = i + 1;
		if (str_get(i, key, sizeof key) != 0 ||
		    (w = claim_index(key)) < 0)
			continue;	/* not a claim we read */
		if (seen & (1u << w))
			return AUTH_E_CLAIMS;
		seen |= 1u << w;
		if ((rc = claim_one(w, v, c)) != 0)
			return rc;
	}
	return 0;
}

static int
times_check(const struct auth_claims *c, int64_t now, int leeway,
    bool require_exp)
{
	if (leeway < 0)
		leeway = 0;
	if (!c->has_exp && require_exp)
		return AUTH_E_NO_EXP;
	/* RFC 7519 §4.1.4: valid only before exp */
	if (c->has_exp && c->exp <= now - leeway)
		return AUTH_E_EXPIRED;
	if (c->has_nbf && c->nbf > now + leeway)
		return AUTH_E_NOT_YET;
	return AUTH_OK;
}

int
auth_verify(const char *tok, size_t len, int64_t now_s, int leeway_s,
    bool require_exp, struct auth_claims *out)
{
	struct jws j;
	int alg, rc;
	long l;

	memset(out, 0, sizeof *out);
	alg_unconfigured = false;
	if (len > AUTH_TOKEN_MAX)
		return AUTH_E_TOO_LONG;
	if (!auth_configured())
		return AUTH_E_NO_KEY;
	if (tok == NULL || (rc = jws_split(tok, len, &j)) != 0)
		return AUTH_E_MALFORMED;
	if ((alg = hdr_check(j.h, j.hn)) < 0)
		return alg;
	/* the signing input is the ASCII text "header.payload" */
	if ((rc = sig_check(alg, tok, j.hn + 1 + j.pn, j.s, j.sn)) != 0)
		return rc;
	if ((l = base64_decode(j.p, j.pn, seg, SEG_MAX, true)) < 0)
		return AUTH_E_MALFORMED;
	rc = claims_parse(seg, (size_t)l, out);
	if (rc == 0)
		rc = times_check(out, now_s, leeway_s, require_exp);
	if (rc != AUTH_OK && rc != AUTH_E_EXPIRED && rc != AUTH_E_NOT_YET &&
	    rc != AUTH_E_NO_EXP)
		memset(out, 0, sizeof *out);
	return rc;
}

const char *
auth_strerror(int e)
{
	switch (e) {
	case AUTH_OK:		return "ok";
	case AUTH_E_ALG:	return "token algorithm not allowed";
	case AUTH_E_EXPIRED:	return "token expired";
	case AUTH_E_NOT_YET:	return "token not yet valid";
	case AUTH_E_NO_EXP:	return "token has no expiry";
	case AUTH_E_CLAIMS:	return "invalid token claims";
	case AUTH_E_NO_KEY:	return "authentication not configured";
	case AUTH_E_TOO_LONG:	return "token too long";
	default:		return "invalid token";
	}
}

/* --- refusal reasons ------------------------------------------------------ */

static const char *const reasons[] = { "no_secret", "bad_signature",
    "expired", "not_yet_valid", "no_exp", "alg_not_allowed", "malformed",
    "too_large", "unknown_key", "ambiguous", "clock_unset" };
static uint64_t refusals[ARRAY_LEN(reasons)];

const char *
auth_reason(int e)
{
	switch (e) {
	case AUTH_E_NO_KEY:	return "no_secret";
	case AUTH_E_SIGNATURE:	return "bad_signature";
	case AUTH_E_EXPIRED:	return "expired";
	case AUTH_E_NOT_YET:	return "not_yet_valid";
	case AUTH_E_NO_EXP:	return "no_exp";
	case AUTH_E_ALG:	return alg_unconfigured ? "unknown_key" :
				    "alg_not_allowed";
	case AUTH_E_TOO_LONG:	return "too_large";
	default:		return "malformed";
	}
}

void
auth_refusal_note(const char *reason)
{
	for (size_t i = 0; i < ARRAY_LEN(reasons); i++)
		if (strcmp(reasons[i], reason) == 0)
			refusals[i]++;
}

const char *
auth_refusal_count(size_t i, uint64_t *n)
{
	if (i >= ARRAY_LEN(reasons))
		return NULL;
	*n = refusals[i];
	return reasons[i];
}

/* --- signing ------------------------------------------------------------- */

/* Append base64url(in) (no padding) at out[*pos]; false if it does not fit. */
static bool
b64url_put(const void *in, size_t n, char *out, size_t cap, size_t *pos)
{
	size_t full = n / 3 * 3, l = (n * 4 + 2) / 3, head = full / 3 * 4;
	char tail[8];

	if (*pos > cap || l + 1 > cap - *pos)
		return false;
	/* the padded tail goes through a scratch: out needs no room for '=' */
	base64_encode(in, full, out + *pos);
	if (n > full) {
		base64_encode((const uint8_t *)in + full, n - full, tail);
		memcpy(out + *pos + head, tail, l - head);
	}
	for (size_t k = 0; k < l; k++) {
		char *ch = &out[*pos + k];

		*ch = *ch == '+' ? '-' : *ch == '/' ? '_' : *ch;
	}
	*pos += l;
	out[*pos] = '\0';
	return true;
}

static void
put_text(struct jw *w, const char *key, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == 0)
		return;
	jw_key(w, key);
	jw_strn(w, s, n);
}

static void
put_time(struct jw *w, const char *key, int64_t t, bool has)
{
	if (!has)
		return;
	jw_key(w, key);
	jw_int(w, t);
}

static size_t
claims_write(const struct auth_claims *c, char *buf, size_t cap)
{
	struct jw w;

	jw_init(&w, buf, cap);
	jw_obj(&w);
	put_text(&w, "sub", c->sub, sizeof c->sub);
	put_text(&w, "role", c->role, sizeof c->role);
	put_text(&w, "name", c->name, sizeof c->name);
	if (claim_names[C_TENANT][0] != '\0')
		put_text(&w, claim_names[C_TENANT], c->tenant, sizeof c->tenant);
	put_time(&w, "iat", c->iat, c->has_iat);
	put_time(&w, "nbf", c->nbf, c->has_nbf);
	put_time(&w, "exp", c->exp, c->has_exp);
	jw_obj_end(&w);
	return w.err ? 0 : w.len;
}

int
auth_sign_hs256(const struct auth_claims *c, char *out, size_t cap)
{
	static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static char body[2048];
	uint8_t mac[32];
	br_hmac_context hc;
	size_t blen, pos = 0;

	if (!ak.hs)
		return AUTH_E_NO_KEY;
	if ((blen = claims_write(c, body, sizeof body)) == 0)
		return AUTH_E_CLAIMS;
	if (!b64url_put(hdr, sizeof hdr - 1, out, cap, &pos) ||
	    pos + 1 >= cap)
		return AUTH_E_TOO_LONG;
	out[pos++] = '.';
	if (!b64url_put(body, blen, out, cap, &pos) || pos + 1 >= cap)
		return AUTH_E_TOO_LONG;
	br_hmac_init(&hc, &ak.hk, 0);
	br_hmac_update(&hc, out, pos);
	br_hmac_out(&hc, mac);
	out[pos++] = '.';
	if (!b64url_put(mac, sizeof mac, out, cap, &pos) ||
	    pos > AUTH_TOKEN_MAX)
		return AUTH_E_TOO_LONG;
	return (int)pos;
}

bool
auth_role_in(const struct auth_claims *c, const char *roles_csv)
{
	const char *p = roles_csv, *e, *b;
	size_t rl;

	if (c == NULL || p == NULL || (rl = strnlen(c->role,
	    sizeof c->role)) == 0)
		return false;
	for (;;) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		b = p;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - b) == rl && memcmp(b, c->role, rl) == 0)
			return true;
		p = strchr(p, ',');
		if (p == NULL)
			return false;
		p++;
	}
}
