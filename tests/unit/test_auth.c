/*
 * test_auth.c - JWT verification and signing (src/auth.c).
 *
 * Known answers from RFC 7515 Appendix A.1 (HS256), A.2 (RS256) and A.3
 * (ES256); the public keys of A.2 and A.3 are given here as PEM (converted
 * from the RFC's JWKs) and written to a temporary directory.  Every other
 * token is built here, so each one differs from a good token in exactly
 * the way the test names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bearssl.h>

#include "internal.h"
#include "auth.h"
#include "check.h"

#define NOW	1700000000LL
#define LEEWAY	30

static const char key1[] = "ward-unit-test-secret-0123456789abcdef";
static const char key2[] = "ward-unit-test-secret-0123456789abcdeg";

/* RFC 7515 A.1 */
static const char a1_tok[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char a1_k[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4h"
    "cgUuTwjAzZr1Z9CAow";
#define A1_EXP	1300819380LL

/* RFC 7515 A.2 */
static const char a2_tok[] =
    "eyJhbGciOiJSUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";
static const char a2_spki[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAofgWCuLjybRlzo0tZWJj\n"
    "NiuSfb4p4fAkd/wWJcyQoTbji9k0l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEz\n"
    "P1Pt0Bm4d4QlL+yRT+SFd2lZS+pCgNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo\n"
    "9wGzjb/7OMg0LOL+bSf63kpaSHSXndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTB\n"
    "EMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxX\n"
    "FvUK+DWNmoudF8NAco9/h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXp\n"
    "oQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char a2_pkcs1[] =
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "MIIBCgKCAQEAofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd/wWJcyQoTbji9k0l8W2\n"
    "6mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL+yRT+SFd2lZS+pCgNMs\n"
    "D1W/YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb/7OMg0LOL+bSf63kpaSHSXndS5\n"
    "z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxv\n"
    "b3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxXFvUK+DWNmoudF8NAco9/h9iaGNj8q2et\n"
    "hFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQIDAQAB\n"
    "-----END RSA PUBLIC KEY-----";		/* no final newline */

/* RFC 7515 A.3 */
static const char a3_tok[] =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";
static const char a3_spki[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
    "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
    "-----END PUBLIC KEY-----\n";
/* a self-signed certificate for the A.3 key */
static const char a3_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBFDCBu6ADAgECAgEBMAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCXdhcmQgdGVz\n"
    "dDAeFw0yMDAxMDEwMDAwMDBaFw00MDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMMCXdh\n"
    "cmQgdGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABH/Nzidw9sRdQYPL7m/b\n"
    "S3tYBzM1e+nvE7rPbjx70VRFx/FEzRu9m36HLN/tue659LNpXW6pCyStikYjKIWI\n"
    "5a0wCgYIKoZIzj0EAwIDSAAwRQIhAJgN5Rpg7/qHGGPJ/0KTgRyc3+qrd7lzCfWv\n"
    "8BN6KnpxAiBJ5dX0E8Am5rjv0YGmXXWFtqYbodb2LEPKHNq3ARCfnw==\n"
    "-----END CERTIFICATE-----\n";
/* the A.3 point with one coordinate byte changed: not on the curve */
static const char bad_point[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
    "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrg==\n"
    "-----END PUBLIC KEY-----\n";
static const char priv_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff\n"
    "H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp\n"
    "7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt\n"
    "-----END PRIVATE KEY-----\n";

static char tmpdir[64];

/* --- helpers ------------------------------------------------------------- */

static size_t
t_b64url(const void *in, size_t n, char *out)
{
	size_t l = base64_encode(in, n, out);

	while (l > 0 && out[l - 1] == '=')
		l--;
	for (size_t k = 0; k < l; k++)
		out[k] = out[k] == '+' ? '-' : out[k] == '/' ? '_' : out[k];
	out[l] = '\0';
	return l;
}

/* "h64.p64." + base64url(HMAC-SHA256(key, "h64.p64")); segments as given. */
static size_t
t_make_raw(const char *h64, const char *p64, const char *key, char *out)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint8_t mac[32];
	size_t n;

	n = (size_t)sprintf(out, "%s.%s", h64, p64);
	br_hmac_key_init(&kc, &br_sha256_vtable, key, strlen(key));
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, out, n);
	br_hmac_out(&hc, mac);
	out[n++] = '.';
	return n + t_b64url(mac, sizeof mac, out + n);
}

/* A token with this header and payload text, HS256 with key. */
static size_t
t_make(const char *hdr, const char *pay, const char *key, char *out)
{
	static char h64[6000], p64[6000];

	t_b64url(hdr, strlen(hdr), h64);
	t_b64url(pay, strlen(pay), p64);
	return t_make_raw(h64, p64, key, out);
}

#define HDR	"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* Verify a token made from a payload (standard header, key1). */
static int
t_pay(const char *pay, struct auth_claims *c)
{
	char tok[8192];
	size_t n = t_make(HDR, pay, key1, tok);

	return auth_verify(tok, n, NOW, LEEWAY, true, c);
}

static int
t_hdr(const char *hdr)
{
	char tok[8192];
	struct auth_claims c;
	size_t n = t_make(hdr, "{\"sub\":\"1\",\"exp\":1700003600}", key1, tok);

	return auth_verify(tok, n, NOW, LEEWAY, true, &c);
}

static int
t_str(const char *tok)
{
	struct auth_claims c;

	return auth_verify(tok, strlen(tok), NOW, LEEWAY, true, &c);
}

static void
init_hs(const char *key)
{
	char err[128];

	CHECK_EQ(auth_init(key, strlen(key), NULL, err, sizeof err), 0);
}

/* Write text to tmpdir/name; returns the path (static). */
static const char *
t_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static int
init_pem(const char *secret, const char *pem, char *err, size_t errlen)
{
	const char *path = t_file("key.pem", pem);

	return auth_init(secret, secret ? strlen(secret) : 0, path, err,
	    errlen);
}

/* --- HS256 known answer -------------------------------------------------- */

static void
test_rfc7515_a1(void)
{
	uint8_t key[64], sig[32], mac[32];
	const char *dot2 = strrchr(a1_tok, '.');
	br_hmac_key_context kc;
	br_hmac_context hc;
	struct auth_claims c;
	char err[128], bad[sizeof a1_tok];
	long kl = base64_decode(a1_k, strlen(a1_k), key, sizeof key, true);

	CHECK_EQ(kl, 64);
	/* the vector itself: HMAC over "header.payload" is the signature */
	br_hmac_key_init(&kc, &br_sha256_vtable, key, (size_t)kl);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, a1_tok, (size_t)(dot2 - a1_tok));
	br_hmac_out(&hc, mac);
	CHECK_EQ(base64_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof sig,
	    true),
	    32);
	CHECK_MEM(mac, sig, 32);

	CHECK_EQ(auth_init((const char *)key, (size_t)kl, NULL, err,
	    sizeof err), 0);
	CHECK(auth_configured());
	CHECK_EQ(auth_verify(a1_tok, strlen(a1_tok), A1_EXP - 600, LEEWAY,
	    true, &c), AUTH_OK);
	CHECK(c.has_exp && !c.has_nbf && !c.has_iat);
	CHECK_EQ(c.exp, A1_EXP);
	CHECK_STR(c.sub, "");
	CHECK_STR(c.role, "");
	/* exp is in the past: expired now, fine within the leeway */
	CHECK_EQ(auth_verify(a1_tok, strlen(a1_tok), NOW, LEEWAY, true, &c),
	    AUTH_E_EXPIRED);
	CHECK_EQ(auth_verify(a1_tok, strlen(a1_tok), A1_EXP + 29, LEEWAY,
	    true, &c), AUTH_OK);
	CHECK_EQ(auth_verify(a1_tok, strlen(a1_tok), A1_EXP + 30, LEEWAY,
	    true, &c), AUTH_E_EXPIRED);
	CHECK_EQ(auth_verify(a1_tok, strlen(a1_tok), A1_EXP, 0, true, &c),
	    AUTH_E_EXPIRED);
	CHECK_EQ(auth_verify(a1_tok, strlen(a1_tok), A1_EXP - 1, 0, true, &c),
	    AUTH_OK);
	/* one character of the signature changed */
	memcpy(bad, a1_tok, sizeof a1_tok);
	bad[dot2 - a1_tok + 1] = 'e';
	CHECK_EQ(auth_verify(bad, strlen(bad), A1_EXP - 600, LEEWAY, true, &c),
	    AUTH_E_SIGNATURE);
	/* our key does not verify it */
	init_hs(key1);
	CHECK_EQ(auth_verify(a1_tok, strlen(a1_tok), A1_EXP - 600, LEEWAY,
	    true, &c), AUTH_E_SIGNATURE);
}

/* --- signing and tampering ----------------------------------------------- */

static void
t_claims(struct auth_claims *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->sub, "42");
	strcpy(c->role, "doctor");
	strcpy(c->name, "Dr. J\xC3\xBCrgen \"Q\" O'Brien \xE6\x9D\x8E");
	strcpy(c->tenant, "p-17");
	c->iat = NOW;
	c->has_iat = true;
	c->exp = NOW + 3600;
	c->has_exp = true;
}

static void
test_roundtrip(void)
{
	struct auth_claims in, out;
	char tok[AUTH_TOKEN_MAX + 1];
	int n;

	init_hs(key1);
	t_claims(&in);
	n = auth_sign_hs256(&in, tok, sizeof tok);
	CHECK(n > 0);
	CHECK_EQ(strlen(tok), n);
	CHECK(strchr(tok, '=') == NULL);
	CHECK_EQ(auth_verify(tok, (size_t)n, NOW, LEEWAY, true, &out),
	    AUTH_OK);
	CHECK_STR(out.sub, "42");
	CHECK_STR(out.role, "doctor");
	CHECK_STR(out.name, in.name);
	CHECK_STR(out.tenant, "p-17");
	CHECK(out.has_exp && out.has_iat && !out.has_nbf);
	CHECK_EQ(out.exp, NOW + 3600);
	CHECK_EQ(out.iat, NOW);
	/* minimal claims: sub and exp only */
	memset(&in, 0, sizeof in);
	strcpy(in.sub, "7");
	in.exp = NOW + 60;
	in.has_exp = in.has_nbf = true;
	in.nbf = NOW;
	n = auth_sign_hs256(&in, tok, sizeof tok);
	CHECK_EQ(auth_verify(tok, (size_t)n, NOW, LEEWAY, true, &out),
	    AUTH_OK);
	CHECK_STR(out.sub, "7");
	CHECK_STR(out.role, "");
	CHECK(out.has_nbf);
	/* does not fit */
	CHECK_EQ(auth_sign_hs256(&in, tok, 40), AUTH_E_TOO_LONG);
	CHECK_EQ(auth_sign_hs256(&in, tok, (size_t)n), AUTH_E_TOO_LONG);
	CHECK_EQ(auth_sign_hs256(&in, tok, (size_t)n + 1), n);
	/* no secret: nothing to sign with */
	CHECK_EQ(auth_init(NULL, 0, NULL, NULL, 0), 0);
	CHECK(!auth_configured());
	CHECK_EQ(auth_sign_hs256(&in, tok, sizeof tok), AUTH_E_NO_KEY);
	CHECK_EQ(t_str("a.b.c"), AUTH_E_NO_KEY);
}

static void
test_tamper(void)
{
	struct auth_claims in, out;
	char tok[1024], tok2[4096], p64[1024];
	char *d1, *d2;
	int n;

	init_hs(key1);
	t_claims(&in);
	n = auth_sign_hs256(&in, tok, sizeof tok);
	d1 = strchr(tok, '.');
	d2 = strrchr(tok, '.');
	/* payload swapped for another (role admin), signature kept */
	strcpy(in.role, "admin");
	auth_sign_hs256(&in, tok2, sizeof tok2);
	memcpy(p64, strchr(tok2, '.') + 1, (size_t)(strrchr(tok2, '.') -
	    strchr(tok2, '.') - 1));
	p64[strrchr(tok2, '.') - strchr(tok2, '.') - 1] = '\0';
	snprintf(tok2, sizeof tok2, "%.*s.%s%s", (int)(d1 - tok), tok, p64,
	    d2);
	CHECK_EQ(auth_verify(tok2, strlen(tok2), NOW, LEEWAY, true, &out),
	    AUTH_E_SIGNATURE);
	CHECK_STR(out.role, "");	/* nothing from a forged payload */
	/* one payload character changed */
	memcpy(tok2, tok, (size_t)n + 1);
	tok2[d1 - tok + 5] ^= 0x01;
	CHECK_EQ(auth_verify(tok2, (size_t)n, NOW, LEEWAY, true, &out),
	    AUTH_E_SIGNATURE);
	/* one signature character changed (the first: all 6 bits used) */
	memcpy(tok2, tok, (size_t)n + 1);
	tok2[d2 - tok + 1] = tok2[d2 - tok + 1] == 'A' ? 'B' : 'A';
	CHECK_EQ(auth_verify(tok2, (size_t)n, NOW, LEEWAY, true, &out),
	    AUTH_E_SIGNATURE);
	/* signature too long (35 bytes) or cut (no signature) */
	snprintf(tok2, sizeof tok2, "%sAAAA", tok);
	CHECK_EQ(t_str(tok2), AUTH_E_SIGNATURE);
	snprintf(tok2, sizeof tok2, "%.*s", (int)(d2 - tok + 1), tok);
	CHECK_EQ(t_str(tok2), AUTH_E_MALFORMED);
	/* wrong key */
	init_hs(key2);
	CHECK_EQ(auth_verify(tok, (size_t)n, NOW, LEEWAY, true, &out),
	    AUTH_E_SIGNATURE);
	init_hs(key1);
	CHECK_EQ(auth_verify(tok, (size_t)n, NOW, LEEWAY, true, &out),
	    AUTH_OK);
}

/* Every strict prefix and every one-byte change is refused. */
static void
test_mutations(void)
{
	static const char alphabet[] = "Aa0-_.=+/ \x80";
	struct auth_claims in, out;
	char tok[1024], m[1024];
	unsigned ok_prefix = 0, ok_mut = 0;
	int n;

	init_hs(key1);
	t_claims(&in);
	n = auth_sign_hs256(&in, tok, sizeof tok);
	for (int l = 0; l < n; l++)
		if (auth_verify(tok, (size_t)l, NOW, LEEWAY, true, &out) == 0)
			ok_prefix++;
	for (int i = 0; i < n; i++) {
		for (const char *a = alphabet; *a != '\0'; a++) {
			if (tok[i] == *a)
				continue;
			memcpy(m, tok, (size_t)n);
			m[i] = *a;
			if (auth_verify(m, (size_t)n, NOW, LEEWAY, true,
			    &out) == 0)
				ok_mut++;
		}
	}
	CHECK_EQ(ok_prefix, 0);
	CHECK_EQ(ok_mut, 0);
}

/* --- header -------------------------------------------------------------- */

static void
test_header(void)
{
	char tok[1024], h64[128], p64[256];
	const char *pay = "{\"sub\":\"1\",\"exp\":1700003600}";

	init_hs(key1);
	CHECK_EQ(t_hdr(HDR), AUTH_OK);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\"}"), AUTH_OK);
	CHECK_EQ(t_hdr("{\"typ\":\"jwt\",\"alg\":\"HS256\",\"kid\":\"k1\"}"),
	    AUTH_OK);
	CHECK_EQ(t_hdr("{\"\\u0061lg\":\"HS256\"}"), AUTH_OK);
	/* alg */
	CHECK_EQ(t_hdr("{\"alg\":\"none\",\"typ\":\"JWT\"}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":\"HS512\"}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":\"hs256\"}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256 \"}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\\u0000\"}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":\"ES256\"}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":\"RS256\"}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"typ\":\"JWT\"}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":256}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":null}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":[\"HS256\"]}"), AUTH_E_ALG);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",\"alg\":\"HS256\"}"),
	    AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"none\",\"alg\":\"HS256\"}"),
	    AUTH_E_ALG);
	/* alg none, unsigned (RFC 7515 A.5 form) and signed anyway */
	t_b64url("{\"alg\":\"none\"}", 14, h64);
	t_b64url(pay, strlen(pay), p64);
	snprintf(tok, sizeof tok, "%s.%s.", h64, p64);
	CHECK_EQ(t_str(tok), AUTH_E_ALG);
	CHECK_EQ(t_str("eyJhbGciOiJub25lIn0."
	    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."), AUTH_E_ALG);
}

static void
test_header_typ(void)
{
	init_hs(key1);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",\"typ\":\"JWS\"}"),
	    AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",\"typ\":\"application/jwt\"}"),
	    AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",\"typ\":1}"), AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}"),
	    AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}"),
	    AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",\"cr\\u0069t\":[]}"),
	    AUTH_E_MALFORMED);
	/* not an object, not JSON, not UTF-8 */
	CHECK_EQ(t_hdr("[\"HS256\"]"), AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("\"HS256\""), AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("null"), AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\""), AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",}"), AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\"} x"), AUTH_E_MALFORMED);
	CHECK_EQ(t_hdr("{\"alg\":\"HS256\",\"kid\":\"\xFF\"}"),
	    AUTH_E_MALFORMED);
}

/* --- segments and base64url ---------------------------------------------- */

static void
test_segments(void)
{
	char tok[1024], m[4096];
	const char *d1, *d2;
	size_t n;

	init_hs(key1);
	n = t_make(HDR, "{\"sub\":\"1\",\"exp\":1700003600}", key1, tok);
	CHECK_EQ(t_str(tok), AUTH_OK);
	d1 = strchr(tok, '.');
	d2 = strrchr(tok, '.');
	CHECK_EQ(t_str(""), AUTH_E_MALFORMED);
	CHECK_EQ(auth_verify(NULL, 0, NOW, LEEWAY, true,
	    &(struct auth_claims){ .role = "" }), AUTH_E_MALFORMED);
	CHECK_EQ(t_str("."), AUTH_E_MALFORMED);
	CHECK_EQ(t_str(".."), AUTH_E_MALFORMED);
	CHECK_EQ(t_str("..."), AUTH_E_MALFORMED);
	CHECK_EQ(t_str("abc"), AUTH_E_MALFORMED);
	/* two segments */
	snprintf(m, sizeof m, "%.*s", (int)(d2 - tok), tok);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	/* four segments */
	snprintf(m, sizeof m, "%s.%s", tok, d2 + 1);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	snprintf(m, sizeof m, "%s.", tok);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	/* empty header, payload, signature */
	snprintf(m, sizeof m, "%s", d1);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	snprintf(m, sizeof m, "%.*s.%s", (int)(d1 - tok), tok, d2);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	snprintf(m, sizeof m, "%.*s", (int)(d2 - tok + 1), tok);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	/* the length passed is what counts, not a NUL */
	CHECK_EQ(auth_verify(tok, n - 1, NOW, LEEWAY, true,
	    &(struct auth_claims){ .sub = "" }) != AUTH_OK, 1);
}

static void
test_base64url(void)
{
	char tok[1024], m[4096], h64[128], p64[256];
	const char *d1;
	size_t n;

	init_hs(key1);
	n = t_make(HDR, "{\"sub\":\"1\",\"exp\":1700003600}", key1, tok);
	d1 = strchr(tok, '.');
	/* padding: on the header, on a signed payload, on the signature */
	t_b64url(HDR, strlen(HDR), h64);
	snprintf(m, sizeof m, "%s=%s", h64, d1);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	base64_encode((const uint8_t *)"{\"sub\":\"1\",\"exp\":1700003600}", 28,
	    p64);
	CHECK(strchr(p64, '=') != NULL);
	t_make_raw(h64, p64, key1, m);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	snprintf(m, sizeof m, "%s=", tok);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	/* characters outside base64url, signed */
	t_make_raw(h64, "eyJzdWIiOiIxIn0+", key1, m);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	t_make_raw(h64, "eyJzdWIiOiIxIn0/", key1, m);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	t_make_raw(h64, "eyJzdWIi OiIxIn0", key1, m);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	snprintf(m, sizeof m, "%s", tok);
	m[2] = '*';
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	/* non-canonical trailing bits: "e30" is {}, "e31" decodes to it too
	 * in lax decoders */
	t_make_raw(h64, "e30", key1, m);
	CHECK_EQ(t_str(m), AUTH_E_NO_EXP);
	t_make_raw(h64, "e31", key1, m);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	snprintf(m, sizeof m, "%s", tok);
	m[n - 1] = (char)(m[n - 1] + 1);	/* low bits of the last char */
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
	/* a length that is 1 mod 4 */
	t_make_raw(h64, "e30AA", key1, m);
	CHECK_EQ(t_str(m), AUTH_E_MALFORMED);
}

static void
test_too_long(void)
{
	static char pay[5000], tok[8192];
	size_t last_ok = 0, first_long = 0, n;
	int rc_ok = -100, rc_long = -100;
	struct auth_claims c;

	init_hs(key1);
	CHECK_EQ(auth_verify(tok, AUTH_TOKEN_MAX + 1, NOW, LEEWAY, true, &c),
	    AUTH_E_TOO_LONG);
	memset(tok, 'A', sizeof tok);
	CHECK_EQ(auth_verify(tok, sizeof tok, NOW, LEEWAY, true, &c),
	    AUTH_E_TOO_LONG);
	/* good tokens around the limit: an unknown claim pads them */
	for (size_t pad = 2900; pad < 3100 && first_long == 0; pad++) {
		int rc;

		snprintf(pay, sizeof pay,
		    "{\"sub\":\"9\",\"exp\":1700003600,\"x\":\"%0*d\"}",
		    (int)pad, 0);
		n = t_make(HDR, pay, key1, tok);
		rc = auth_verify(tok, n, NOW, LEEWAY, true, &c);
		if (n <= AUTH_TOKEN_MAX) {
			last_ok = n;
			rc_ok = rc;
		} else {
			first_long = n;
			rc_long = rc;
		}
	}
	CHECK(last_ok > AUTH_TOKEN_MAX - 4 && last_ok <= AUTH_TOKEN_MAX);
	CHECK_EQ(rc_ok, AUTH_OK);
	CHECK(first_long > AUTH_TOKEN_MAX);
	CHECK_EQ(rc_long, AUTH_E_TOO_LONG);
}

/* --- claims -------------------------------------------------------------- */

static void
test_times(void)
{
	struct auth_claims c;
	char pay[256];

	init_hs(key1);
	/* expired, at the leeway boundary, within the leeway */
	snprintf(pay, sizeof pay, "{\"sub\":\"5\",\"exp\":%lld}", NOW - 31);
	CHECK_EQ(t_pay(pay, &c), AUTH_E_EXPIRED);
	CHECK_STR(c.sub, "5");		/* authentic: kept for the audit */
	snprintf(pay, sizeof pay, "{\"exp\":%lld}", NOW - LEEWAY);
	CHECK_EQ(t_pay(pay, &c), AUTH_E_EXPIRED);
	snprintf(pay, sizeof pay, "{\"exp\":%lld}", NOW - LEEWAY + 1);
	CHECK_EQ(t_pay(pay, &c), AUTH_OK);
	snprintf(pay, sizeof pay, "{\"exp\":%lld}", NOW);
	CHECK_EQ(t_pay(pay, &c), AUTH_OK);
	/* decimals truncate */
	snprintf(pay, sizeof pay, "{\"exp\":%lld.75,\"iat\":%lld.5}",
	    NOW + 100, NOW);
	CHECK_EQ(t_pay(pay, &c), AUTH_OK);
	CHECK_EQ(c.exp, NOW + 100);
	CHECK_EQ(c.iat, NOW);
	CHECK_EQ(t_pay("{\"exp\":1.7e9}", &c), AUTH_OK);
	CHECK_EQ(c.exp, 1700000000);
	/* not yet valid */
	snprintf(pay, sizeof pay, "{\"exp\":%lld,\"nbf\":%lld}", NOW + 999,
	    NOW + 31);
	CHECK_EQ(t_pay(pay, &c), AUTH_E_NOT_YET);
	snprintf(pay, sizeof pay, "{\"exp\":%lld,\"nbf\":%lld}", NOW + 999,
	    NOW + 30);
	CHECK_EQ(t_pay(pay, &c), AUTH_OK);
	CHECK(c.has_nbf);
}

static void
test_times_types(void)
{
	struct auth_claims c;
	char pay[256];

	init_hs(key1);
	/* missing exp, required or not */
	CHECK_EQ(t_pay("{\"sub\":\"3\"}", &c), AUTH_E_NO_EXP);
	CHECK_STR(c.sub, "3");
	{
		char tok[512];
		size_t n = t_make(HDR, "{\"sub\":\"3\"}", key1, tok);

		CHECK_EQ(auth_verify(tok, n, NOW, LEEWAY, false, &c), AUTH_OK);
		CHECK(!c.has_exp);
		n = t_make(HDR, "{\"exp\":1}", key1, tok);
		CHECK_EQ(auth_verify(tok, n, NOW, LEEWAY, false, &c),
		    AUTH_E_EXPIRED);
		/* negative leeway counts as none */
		snprintf(pay, sizeof pay, "{\"exp\":%lld}", NOW + 1);
		n = t_make(HDR, pay, key1, tok);
		CHECK_EQ(auth_verify(tok, n, NOW, -100, true, &c), AUTH_OK);
	}
	CHECK_EQ(t_pay("{\"exp\":null}", &c), AUTH_E_NO_EXP);
	/* wrong types and absurd values */
	CHECK_EQ(t_pay("{\"exp\":\"1800000000\"}", &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay("{\"exp\":true}", &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay("{\"exp\":[1800000000]}", &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay("{\"exp\":1e300}", &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay("{\"exp\":1e400}", &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"nbf\":\"0\"}", &c),
	    AUTH_E_CLAIMS);
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"iat\":{}}", &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"exp\":1800000000}", &c),
	    AUTH_E_CLAIMS);
	CHECK_STR(c.sub, "");
}

#define P(x)	"{\"exp\":1800000000," x "}"

static void
test_ids(void)
{
	struct auth_claims c;

	init_hs(key1);
	CHECK_EQ(t_pay(P("\"sub\":7"), &c), AUTH_OK);
	CHECK_STR(c.sub, "7");
	CHECK_EQ(t_pay(P("\"sub\":-12,\"practice_id\":40"), &c), AUTH_OK);
	CHECK_STR(c.sub, "-12");
	CHECK_STR(c.tenant, "40");
	CHECK_EQ(t_pay(P("\"sub\":\"u-1\",\"practice_id\":\"clinic-a\""), &c),
	    AUTH_OK);
	CHECK_STR(c.tenant, "clinic-a");
	CHECK_EQ(t_pay(P("\"sub\":null,\"role\":null"), &c), AUTH_OK);
	CHECK_STR(c.sub, "");
	CHECK_EQ(t_pay(P("\"sub\":7.5"), &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay(P("\"sub\":7e0"), &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay(P("\"sub\":true"), &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay(P("\"sub\":{\"id\":7}"), &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay(P("\"sub\":\"7\",\"sub\":\"8\""), &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay(P("\"practice_id\":[1]"), &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay(P("\"role\":1"), &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay(P("\"name\":false"), &c), AUTH_E_CLAIMS);
	/* an escaped NUL would cut the C string: "admin\0x" is not "admin" */
	CHECK_EQ(t_pay(P("\"role\":\"admin\\u0000x\""), &c), AUTH_E_CLAIMS);
	CHECK_EQ(t_pay(P("\"sub\":\"\\u0000\""), &c), AUTH_E_CLAIMS);
	/* escapes decode; a literal backslash-u is not a NUL */
	CHECK_EQ(t_pay(P("\"role\":\"d\\u006fctor\",\"name\":\"a\\\\u0000\""),
	    &c), AUTH_OK);
	CHECK_STR(c.role, "doctor");
	CHECK_STR(c.name, "a\\u0000");
}

static void
test_sizes(void)
{
	struct auth_claims c;
	char pay[512], big[128];

	init_hs(key1);
	/* identifiers must fit; a long name is cut at a character boundary */
	memset(big, 'x', 63);
	big[63] = '\0';
	snprintf(pay, sizeof pay, P("\"sub\":\"%s\""), big);
	CHECK_EQ(t_pay(pay, &c), AUTH_OK);
	CHECK_EQ(strlen(c.sub), 63);
	snprintf(pay, sizeof pay, P("\"sub\":\"%sx\""), big);
	CHECK_EQ(t_pay(pay, &c), AUTH_E_CLAIMS);
	snprintf(pay, sizeof pay, P("\"role\":\"%.32s\""), big);
	CHECK_EQ(t_pay(pay, &c), AUTH_E_CLAIMS);
	memset(big, '1', 64);
	big[64] = '\0';
	snprintf(pay, sizeof pay, P("\"sub\":%s"), big);
	CHECK_EQ(t_pay(pay, &c), AUTH_E_CLAIMS);
	snprintf(pay, sizeof pay, P("\"name\":\"x%s\""),
	    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
	    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
	    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
	    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
	    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
	    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
	CHECK_EQ(t_pay(pay, &c), AUTH_OK);
	CHECK_EQ(strlen(c.name), 95);
	CHECK(utf8_valid((const uint8_t *)c.name, strlen(c.name)));
	/* unknown claims of any type are ignored */
	CHECK_EQ(t_pay(P("\"aud\":[\"a\",{\"b\":null}],\"subs\":1,\"su\":2"),
	    &c), AUTH_OK);
	/* payload not an object, not JSON */
	CHECK_EQ(t_pay("[{\"exp\":1800000000}]", &c), AUTH_E_MALFORMED);
	CHECK_EQ(t_pay("1800000000", &c), AUTH_E_MALFORMED);
	CHECK_EQ(t_pay("hello", &c), AUTH_E_MALFORMED);
	CHECK_EQ(t_pay(P("\"sub\":\"7\","), &c), AUTH_E_MALFORMED);
	CHECK_EQ(t_pay("{'sub':7}", &c), AUTH_E_MALFORMED);
}

static void
test_utf8(void)
{
	struct auth_claims c;

	init_hs(key1);
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"name\":\"\xFF\"}", &c),
	    AUTH_E_MALFORMED);
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"sub\":\"\xC0\xAF\"}", &c),
	    AUTH_E_MALFORMED);	/* overlong '/' */
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"name\":\"\xED\xA0\x80\"}", &c),
	    AUTH_E_MALFORMED);	/* a surrogate */
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"other\":\"\xE2\x82\"}", &c),
	    AUTH_E_MALFORMED);	/* truncated, in a claim we do not read */
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"\xFE\":1}", &c),
	    AUTH_E_MALFORMED);
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"name\":\"\xF0\x9F\xA9\"}",
	    &c), AUTH_E_MALFORMED);
	/* valid: 4-byte characters, and an escaped lone surrogate (U+FFFD) */
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"name\":\"\xF0\x9F\xA9\xBA\"}",
	    &c), AUTH_OK);
	CHECK_STR(c.name, "\xF0\x9F\xA9\xBA");
	CHECK_EQ(t_pay("{\"exp\":1800000000,\"name\":\"\\ud800\"}", &c),
	    AUTH_OK);
	CHECK_STR(c.name, "\xEF\xBF\xBD");
}

static void
test_roles(void)
{
	struct auth_claims c;

	memset(&c, 0, sizeof c);
	strcpy(c.role, "doctor");
	CHECK(auth_role_in(&c, "admin,superadmin,doctor"));
	CHECK(auth_role_in(&c, "doctor"));
	CHECK(auth_role_in(&c, " admin , doctor "));
	CHECK(auth_role_in(&c, ",doctor,"));
	CHECK(!auth_role_in(&c, "admin,superadmin"));
	CHECK(!auth_role_in(&c, "doc"));
	CHECK(!auth_role_in(&c, "doctors"));
	CHECK(!auth_role_in(&c, "Doctor"));
	CHECK(!auth_role_in(&c, "admin,doct"));
	CHECK(!auth_role_in(&c, ""));
	CHECK(!auth_role_in(&c, NULL));
	CHECK(!auth_role_in(NULL, "doctor"));
	c.role[0] = '\0';
	CHECK(!auth_role_in(&c, ""));
	CHECK(!auth_role_in(&c, ","));
	CHECK(!auth_role_in(&c, "admin,,doctor"));
}

static void
test_strerror(void)
{
	CHECK_STR(auth_strerror(AUTH_OK), "ok");
	CHECK_STR(auth_strerror(AUTH_E_MALFORMED), "invalid token");
	CHECK_STR(auth_strerror(AUTH_E_SIGNATURE), "invalid token");
	CHECK_STR(auth_strerror(AUTH_E_EXPIRED), "token expired");
	CHECK_STR(auth_strerror(12345), "invalid token");
	for (int e = AUTH_E_TOO_LONG; e <= AUTH_OK; e++)
		CHECK(auth_strerror(e) != NULL &&
		    strlen(auth_strerror(e)) < 64);
}

/* --- public keys --------------------------------------------------------- */

static void
test_rs256(void)
{
	struct auth_claims c;
	char err[160], tok[2048];
	size_t n = strlen(a2_tok);

	CHECK_EQ(init_pem(NULL, a2_spki, err, sizeof err), 0);
	CHECK(auth_configured());
	CHECK_EQ(auth_verify(a2_tok, n, A1_EXP - 1, LEEWAY, true, &c),
	    AUTH_OK);
	CHECK_EQ(c.exp, A1_EXP);
	CHECK_EQ(auth_verify(a2_tok, n, NOW, LEEWAY, true, &c),
	    AUTH_E_EXPIRED);
	/* alg confusion: HS256 keyed with the public key text */
	t_make(HDR, "{\"exp\":1800000000}", a2_spki, tok);
	CHECK_EQ(t_str(tok), AUTH_E_ALG);
	CHECK_EQ(t_str(a1_tok), AUTH_E_ALG);
	CHECK_EQ(auth_verify(a3_tok, strlen(a3_tok), A1_EXP - 1, LEEWAY, true,
	    &c), AUTH_E_ALG);
	/* signature changed, cut, or of the wrong length */
	memcpy(tok, a2_tok, n + 1);
	tok[n - 10] = tok[n - 10] == 'A' ? 'B' : 'A';
	CHECK_EQ(auth_verify(tok, n, A1_EXP - 1, LEEWAY, true, &c),
	    AUTH_E_SIGNATURE);
	snprintf(tok, sizeof tok, "%.*s%s", (int)n - 6, a2_tok, a2_tok + n - 2);
	CHECK_EQ(t_str(tok), AUTH_E_SIGNATURE);	/* 253 bytes, canonical */
	/* the same key as PKCS#1 "RSA PUBLIC KEY", without a final newline */
	CHECK_EQ(init_pem(NULL, a2_pkcs1, err, sizeof err), 0);
	CHECK_EQ(auth_verify(a2_tok, n, A1_EXP - 1, LEEWAY, true, &c),
	    AUTH_OK);
	CHECK_EQ(auth_sign_hs256(&c, tok, sizeof tok), AUTH_E_NO_KEY);
}

static void
test_es256(void)
{
	struct auth_claims c;
	char err[160], tok[512];
	size_t n = strlen(a3_tok);

	CHECK_EQ(init_pem(NULL, a3_spki, err, sizeof err), 0);
	CHECK_EQ(auth_verify(a3_tok, n, A1_EXP - 1, LEEWAY, true, &c),
	    AUTH_OK);
	CHECK_EQ(auth_verify(a2_tok, strlen(a2_tok), A1_EXP - 1, LEEWAY, true,
	    &c), AUTH_E_ALG);
	t_make(HDR, "{\"exp\":1800000000}", a3_spki, tok);
	CHECK_EQ(t_str(tok), AUTH_E_ALG);
	memcpy(tok, a3_tok, n + 1);
	tok[n - 20] = tok[n - 20] == 'A' ? 'B' : 'A';
	CHECK_EQ(auth_verify(tok, n, A1_EXP - 1, LEEWAY, true, &c),
	    AUTH_E_SIGNATURE);
	/* 48 bytes instead of 64 */
	CHECK_EQ(auth_verify(a3_tok, n - 22, A1_EXP - 1, LEEWAY, true, &c),
	    AUTH_E_SIGNATURE);
	/* after 2 KB of other text and another object: read in pieces */
	{
		static char text[4096];
		size_t l = 0;

		for (int i = 0; i < 40; i++)
			l += (size_t)sprintf(text + l, "comment line %02d "
			    "...................................\n", i);
		sprintf(text + l, "-----BEGIN OTHER-----\nAAAA\n"
		    "-----END OTHER-----\n%s", a3_spki);
		CHECK_EQ(init_pem(NULL, text, err, sizeof err), 0);
		CHECK_EQ(auth_verify(a3_tok, n, A1_EXP - 1, LEEWAY, true, &c),
		    AUTH_OK);
	}
	/* from a certificate; and together with a secret */
	CHECK_EQ(init_pem(NULL, a3_cert, err, sizeof err), 0);
	CHECK_EQ(auth_verify(a3_tok, n, A1_EXP - 1, LEEWAY, true, &c),
	    AUTH_OK);
	CHECK_EQ(init_pem(key1, a3_spki, err, sizeof err), 0);
	CHECK_EQ(auth_verify(a3_tok, n, A1_EXP - 1, LEEWAY, true, &c),
	    AUTH_OK);
	t_make(HDR, "{\"exp\":1800000000}", key1, tok);
	CHECK_EQ(t_str(tok), AUTH_OK);
	CHECK_EQ(auth_verify(a2_tok, strlen(a2_tok), A1_EXP - 1, LEEWAY, true,
	    &c), AUTH_E_ALG);
}

static void
test_bad_keys(void)
{
	char err[160], path[128];
	struct auth_claims c;

	err[0] = '\0';
	snprintf(path, sizeof path, "%s/absent.pem", tmpdir);
	CHECK_EQ(auth_init(key1, strlen(key1), path, err, sizeof err),
	    WARD_ENOENT);
	CHECK(err[0] != '\0');
	CHECK(!auth_configured());	/* a failed init configures nothing */
	CHECK_EQ(t_str(a1_tok), AUTH_E_NO_KEY);
	err[0] = '\0';
	CHECK_EQ(init_pem(key1, "not a key\n", err, sizeof err), WARD_EINVAL);
	CHECK(err[0] != '\0');
	CHECK_EQ(init_pem(key1, priv_pem, err, sizeof err), WARD_EINVAL);
	CHECK(strstr(err, "private") != NULL);
	CHECK_EQ(init_pem(key1, bad_point, err, sizeof err), WARD_EINVAL);
	CHECK_EQ(init_pem(key1, "-----BEGIN PUBLIC KEY-----\nMAA=\n"
	    "-----END PUBLIC KEY-----\n", err, sizeof err), WARD_EINVAL);
	CHECK_EQ(init_pem(key1, "-----BEGIN PUBLIC KEY-----\n!!!!\n"
	    "-----END PUBLIC KEY-----\n", err, sizeof err), WARD_EINVAL);
	CHECK(!auth_configured());
	/* the error text never carries key material */
	CHECK(strstr(err, "MFkw") == NULL && strstr(err, key1) == NULL);
	/* not a PEM file at all, and endless: bounded */
	CHECK(auth_init(key1, strlen(key1), "/dev/zero", err, sizeof err) < 0);
	CHECK(auth_init(key1, strlen(key1), tmpdir, err, sizeof err) < 0);
	/* an empty path means "no public key" */
	CHECK_EQ(auth_init(key1, strlen(key1), "", err, sizeof err), 0);
	CHECK(auth_configured());
	memset(&c, 0, sizeof c);
	CHECK_EQ(auth_verify(a2_tok, strlen(a2_tok), A1_EXP - 1, LEEWAY, true,
	    &c), AUTH_E_ALG);
}

static void
test_public_keys(void)
{
	char path[128];

	snprintf(tmpdir, sizeof tmpdir, "/tmp/ward-auth-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	test_rs256();
	test_es256();
	test_bad_keys();
	snprintf(path, sizeof path, "%s/key.pem", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* Reason codes for logs and /metrics (issue 11). */
static void
test_reasons(void)
{
	uint64_t n0, n1;
	const char *r;

	init_hs(key1);
	CHECK_STR(auth_reason(t_hdr("{\"alg\":\"HS512\"}")), "alg_not_allowed");
	CHECK_STR(auth_reason(t_hdr("{\"alg\":\"none\"}")), "alg_not_allowed");
	CHECK_STR(auth_reason(t_hdr("{\"alg\":\"ES256\"}")), "unknown_key");
	CHECK_STR(auth_reason(t_hdr("{\"alg\":\"RS256\"}")), "unknown_key");
	/* the flag does not stick to the next refusal */
	CHECK_STR(auth_reason(t_hdr("{\"alg\":\"HS384\"}")), "alg_not_allowed");
	CHECK_STR(auth_reason(t_str("a.b")), "malformed");
	CHECK_STR(auth_reason(AUTH_E_SIGNATURE), "bad_signature");
	CHECK_STR(auth_reason(AUTH_E_EXPIRED), "expired");
	CHECK_STR(auth_reason(AUTH_E_NOT_YET), "not_yet_valid");
	CHECK_STR(auth_reason(AUTH_E_NO_EXP), "no_exp");
	CHECK_STR(auth_reason(AUTH_E_CLAIMS), "malformed");
	CHECK_STR(auth_reason(AUTH_E_TOO_LONG), "too_large");
	CHECK_STR(auth_reason(AUTH_E_NO_KEY), "no_secret");
	auth_init(NULL, 0, NULL, NULL, 0);
	CHECK_STR(auth_reason(t_str("a.b.c")), "no_secret");
	/* counts by name; unknown names are not counted */
	r = auth_refusal_count(2, &n0);
	CHECK_STR(r, "expired");
	auth_refusal_note("expired");
	auth_refusal_note("no-such-reason");
	CHECK(auth_refusal_count(2, &n1) != NULL && n1 == n0 + 1);
	CHECK(auth_refusal_count(10, &n1) != NULL);
	CHECK(auth_refusal_count(11, &n1) == NULL);
}

void
suite_auth(void)
{
	test_rfc7515_a1();
	test_roundtrip();
	test_tamper();
	test_mutations();
	test_header();
	test_header_typ();
	test_segments();
	test_base64url();
	test_too_long();
	test_times();
	test_times_types();
	test_ids();
	test_sizes();
	test_utf8();
	test_roles();
	test_strerror();
	test_public_keys();
	test_reasons();
	auth_init(NULL, 0, NULL, NULL, 0);
}
