/*
 * fuzz_jwt.c - libFuzzer target for auth_verify() (src/auth.c).
 *
 * Each input is tried three ways:
 *   1. as a whole token (split, base64url, header, signature);
 *   2. as the payload of a token the harness signs with the fixed secret,
 *      so the claims parser is reached (a fuzzer cannot forge HMACs);
 *   3. as the header of such a token (alg/typ/crit handling).
 * Invariants checked: a verified token's claims are NUL-terminated valid
 * UTF-8, and signing them again gives a token that verifies to the same
 * claims.  Seeds: tests/fuzz/corpus/jwt/.
 */
#include <stdio.h>
#include <stdlib.h>

#include <bearssl.h>

#include "internal.h"
#include "auth.h"

#define FUZZ_SECRET	"ward-fuzz-secret-0123456789abcdef"
#define FUZZ_NOW	1700000000LL

static bool
text_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	return n < cap && utf8_valid((const uint8_t *)s, n);
}

static void
check_claims(const struct auth_claims *c)
{
	static char tok[AUTH_TOKEN_MAX + 1];
	struct auth_claims again;
	int n;

	if (!text_ok(c->sub, sizeof c->sub) ||
	    !text_ok(c->role, sizeof c->role) ||
	    !text_ok(c->name, sizeof c->name) ||
	    !text_ok(c->tenant, sizeof c->tenant))
		abort();
	n = auth_sign_hs256(c, tok, sizeof tok);
	if (n < 0)
		return;		/* escaped form too long: allowed */
	if (auth_verify(tok, (size_t)n, FUZZ_NOW, 30, false, &again) != 0 ||
	    strcmp(again.sub, c->sub) != 0 || strcmp(again.role, c->role) != 0 ||
	    strcmp(again.name, c->name) != 0 ||
	    strcmp(again.tenant, c->tenant) != 0 ||
	    again.has_exp != c->has_exp || again.exp != c->exp)
		abort();
}

static size_t
b64url(const uint8_t *in, size_t n, char *out)
{
	size_t l = base64_encode(in, n, out);

	while (l > 0 && out[l - 1] == '=')
		l--;
	for (size_t k = 0; k < l; k++)
		out[k] = out[k] == '+' ? '-' : out[k] == '/' ? '_' : out[k];
	return l;
}

/* header.payload.HMAC with the fixed secret; either part may be raw. */
static size_t
make(const uint8_t *h, size_t hn, const uint8_t *p, size_t pn, char *out)
{
	static br_hmac_key_context kc;
	static bool kc_ready;
	br_hmac_context hc;
	uint8_t mac[32];
	size_t n;

	if (!kc_ready) {
		br_hmac_key_init(&kc, &br_sha256_vtable, FUZZ_SECRET,
		    sizeof FUZZ_SECRET - 1);
		kc_ready = true;
	}
	n = b64url(h, hn, out);
	out[n++] = '.';
	n += b64url(p, pn, out + n);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, out, n);
	br_hmac_out(&hc, mac);
	out[n++] = '.';
	return n + b64url(mac, sizeof mac, out + n);
}

static void
try_token(const char *tok, size_t n)
{
	struct auth_claims c;
	int rc = auth_verify(tok, n, FUZZ_NOW, 30, true, &c);

	if (rc == AUTH_OK)
		check_claims(&c);
	if (auth_strerror(rc) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const char pay[] = "{\"sub\":7,\"exp\":4102444800}";
	static char tok[2 * AUTH_TOKEN_MAX];
	static bool ready;
	size_t n;

	if (!ready) {
		char err[128];

		if (auth_init(FUZZ_SECRET, sizeof FUZZ_SECRET - 1, NULL, err,
		    sizeof err) != 0)
			abort();
		auth_tenant_claim_set("practice_id");	/* as the server */
		ready = true;
	}
	try_token((const char *)data, size);
	if (size > AUTH_TOKEN_MAX / 2)
		return 0;
	n = make((const uint8_t *)hdr, sizeof hdr - 1, data, size, tok);
	try_token(tok, n);
	n = make(data, size, (const uint8_t *)pay, sizeof pay - 1, tok);
	try_token(tok, n);
	return 0;
}
