/*
 * auth.h - JSON Web Tokens (RFC 7519) in the JWS compact form (RFC 7515).
 *
 * Include after internal.h.  One key family is configured at start-up: an
 * HS256 secret, and/or a public key file (P-256 for ES256, RSA 2048..4096
 * bits for RS256).  A token's "alg" must name a configured family; "none",
 * HS512 and every other value are refused, and so is HS256 when only a
 * public key is configured (and ES256/RS256 when only a secret is).
 *
 * Nothing here allocates; verification uses static scratch buffers, so it
 * is not reentrant (ward has one thread).  Token text never reaches a log
 * line or an error string.
 */
#ifndef WARD_AUTH_H
#define WARD_AUTH_H

/* Longest token accepted: AUTH_TOKEN_MAX (config.h).  Longer ones get
 * AUTH_E_TOO_LONG before anything is decoded. */

/*
 * Claims read from a verified token.  Strings are NUL-terminated UTF-8;
 * an absent (or null) claim is "".  `sub` and the tenant claim may be JSON
 * integers in the token: their decimal text is stored, so 7 and "7" are
 * the same user (SPEC §1.5).  Times are Unix seconds, truncated.
 */
struct auth_claims {
	char	sub[64];
	char	role[32];
	char	name[96];	/* display text: cut at a character boundary */
	char	tenant[64];	/* the claim auth_tenant_claim() names */
	int64_t	exp, nbf, iat;
	bool	has_exp, has_nbf, has_iat;
};

enum auth_err {
	AUTH_OK = 0,
	AUTH_E_MALFORMED = -1,	/* not three base64url segments of JSON */
	AUTH_E_ALG = -2,	/* alg missing, "none", unknown, not configured */
	AUTH_E_SIGNATURE = -3,
	AUTH_E_EXPIRED = -4,	/* exp <= now - leeway */
	AUTH_E_NOT_YET = -5,	/* nbf > now + leeway */
	AUTH_E_NO_EXP = -6,	/* no exp and one is required */
	AUTH_E_CLAIMS = -7,	/* a known claim has the wrong type or size */
	AUTH_E_NO_KEY = -8,	/* auth_init configured neither secret nor key */
	AUTH_E_TOO_LONG = -9	/* longer than AUTH_TOKEN_MAX */
};

/*
 * Configure the keys; start-up only (may be called again: it starts from
 * scratch).  secret may be NULL or empty (no HS256); it is not kept, only
 * its HMAC state.  pubkey_pem_path may be NULL or "": otherwise a PEM file
 * whose first "PUBLIC KEY" (SubjectPublicKeyInfo), "RSA PUBLIC KEY"
 * (PKCS#1) or "CERTIFICATE" object gives the key (a certificate's dates and
 * issuer are not checked).  With neither, 0 is returned and every
 * auth_verify() answers AUTH_E_NO_KEY.  On failure returns WARD_EINVAL or
 * WARD_ENOENT with a message in err (no key material in it), and no key at
 * all is configured.
 */
int	auth_init(const char *hs256_secret, size_t secret_len,
	    const char *pubkey_pem_path, char *err, size_t errlen);

/* Is any key configured (a token can be verified)? */
bool	auth_configured(void);
/*
 * The claim read into auth_claims.tenant (and written back by the token
 * writer), named by the application at start-up (up to 15 bytes); until
 * then no claim is read as the tenant.
 */
void	auth_tenant_claim_set(const char *name);
const char *auth_tenant_claim(void);	/* "" when unset */

/*
 * Verify tok[0..len) (not NUL-terminated) at wall time now_s, allowing
 * leeway_s seconds of clock skew (negative counts as 0).  Returns AUTH_OK
 * or an AUTH_E_*.  *out is filled on AUTH_OK, and also on AUTH_E_EXPIRED,
 * AUTH_E_NOT_YET and AUTH_E_NO_EXP (the signature was good, so the claims
 * are authentic and may be named in an audit line); after any other error
 * it is all zero.
 */
int	auth_verify(const char *tok, size_t len, int64_t now_s, int leeway_s,
	    bool require_exp, struct auth_claims *out);

/* Short, token-free text for an AUTH_* code ("invalid token", ...);
 * fits a WebSocket close reason. */
const char *auth_strerror(int e);

/*
 * The reason code of an AUTH_E_* from the last auth_verify(), for logs and
 * /metrics: no_secret, bad_signature, expired, not_yet_valid, no_exp,
 * alg_not_allowed, unknown_key (an algorithm whose key family is not
 * configured here), malformed (incl. bad claims) or too_large.
 */
const char *auth_reason(int e);
/* Count one refusal by reason code: the above, "ambiguous" (two different
 * tokens in one request) or "clock_unset". */
void	auth_refusal_note(const char *reason);
/* The i-th reason code and its count in *n; NULL after the last. */
const char *auth_refusal_count(size_t i, uint64_t *n);

/*
 * Sign claims with the HS256 secret (for `ward token` and --dev).  Empty
 * strings and claims without has_* are left out; `sub` is written as a
 * string.  Writes a NUL-terminated token into out; returns its length, or
 * AUTH_E_NO_KEY (no secret), AUTH_E_TOO_LONG (does not fit cap or
 * AUTH_TOKEN_MAX), AUTH_E_CLAIMS (claims too large to encode).
 */
int	auth_sign_hs256(const struct auth_claims *c, char *out, size_t cap);

/* Is c->role one of the comma-separated roles ("admin,staff")?  Exact,
 * case-sensitive match; blanks around items are ignored; "" never matches. */
bool	auth_role_in(const struct auth_claims *c, const char *roles_csv);

#endif
