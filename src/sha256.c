/*
 * sha256.c - SHA-256 (FIPS 180-4) as a BearSSL hash class; see sha256.h.
 * Same output and state encoding as br_sha256_vtable, checked byte for
 * byte by tests/unit/test_sha256.c.
 */
#include "sha256.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(WARD_NO_SHA_NI)
#include <immintrin.h>
#define SHA_NI 1
#else
#define SHA_NI 0
#endif

#if SHA_NI
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static const uint32_t IV[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* 4 rounds: the message words plus constants in m, two rnds2 steps */
#define RNDS4(s0, s1, m, i)	do {					\
	__m128i mk = _mm_add_epi32((m),					\
	    _mm_loadu_si128((const __m128i *)(const void *)&K[4 * (i)])); \
	(s1) = _mm_sha256rnds2_epu32((s1), (s0), mk);			\
	(s0) = _mm_sha256rnds2_epu32((s0), (s1),			\
	    _mm_shuffle_epi32(mk, 0x0e));				\
} while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void
compress_ni(uint32_t *st, const uint8_t *blk, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i t, s0, s1, w[16];

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(void *)st),
	    0xb1);					/* CDAB */
	s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(void *)
	    (st + 4)), 0x1b);				/* EFGH */
	s0 = _mm_alignr_epi8(t, s1, 8);			/* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xf0);		/* CDGH */
	for (; n > 0; n--, blk += 64) {
		__m128i a0 = s0, c0 = s1;

		for (int i = 0; i < 4; i++) {
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128(
			    (const __m128i *)(const void *)(blk + 16 * i)),
			    bswap);
			RNDS4(s0, s1, w[i], i);
		}
		for (int i = 4; i < 16; i++) {
			__m128i x = _mm_sha256msg1_epu32(w[i - 4], w[i - 3]);

			x = _mm_add_epi32(x, _mm_alignr_epi8(w[i - 1],
			    w[i - 2], 4));
			w[i] = _mm_sha256msg2_epu32(x, w[i - 1]);
			RNDS4(s0, s1, w[i], i);
		}
		s0 = _mm_add_epi32(s0, a0);
		s1 = _mm_add_epi32(s1, c0);
	}
	t = _mm_shuffle_epi32(s0, 0x1b);		/* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xb1);		/* DCHG */
	_mm_storeu_si128((__m128i *)(void *)st,
	    _mm_blend_epi16(t, s1, 0xf0));		/* DCBA */
	_mm_storeu_si128((__m128i *)(void *)(st + 4),
	    _mm_alignr_epi8(s1, t, 8));			/* HGFE */
}

static const br_hash_class vt;

static void
h_init(const br_hash_class **ctx)
{
	br_sha256_context *cc = (br_sha256_context *)(void *)ctx;

	cc->vtable = &vt;
	memcpy(cc->val, IV, sizeof IV);
	cc->count = 0;
}

static void
h_update(const br_hash_class **ctx, const void *data, size_t len)
{
	br_sha256_context *cc = (br_sha256_context *)(void *)ctx;
	const uint8_t *p = data;
	size_t ptr = (size_t)cc->count & 63;

	cc->count += len;
	if (ptr > 0) {
		size_t take = 64 - ptr < len ? 64 - ptr : len;

		memcpy(cc->buf + ptr, p, take);
		p += take;
		len -= take;
		if (ptr + take < 64)
			return;
		compress_ni(cc->val, cc->buf, 1);
	}
	if (len >= 64) {
		compress_ni(cc->val, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	memcpy(cc->buf, p, len);
}

static void
h_out(const br_hash_class *const *ctx, void *dst)
{
	const br_sha256_context *cc = (const br_sha256_context *)
	    (const void *)ctx;
	uint8_t buf[128];
	uint32_t val[8];
	size_t ptr = (size_t)cc->count & 63, n;
	uint64_t bits = cc->count << 3;

	memcpy(val, cc->val, sizeof val);
	memcpy(buf, cc->buf, ptr);
	buf[ptr++] = 0x80;
	n = ptr > 56 ? 128 : 64;
	memset(buf + ptr, 0, n - ptr);
	put32(buf + n - 8, (uint32_t)(bits >> 32));
	put32(buf + n - 4, (uint32_t)bits);
	compress_ni(val, buf, n / 64);
	for (int i = 0; i < 8; i++)
		put32((uint8_t *)dst + 4 * i, val[i]);
}

static uint64_t
h_state(const br_hash_class *const *ctx, void *dst)
{
	const br_sha256_context *cc = (const br_sha256_context *)
	    (const void *)ctx;

	for (int i = 0; i < 8; i++)
		put32((uint8_t *)dst + 4 * i, cc->val[i]);
	return cc->count;
}

static void
h_set_state(const br_hash_class **ctx, const void *stb, uint64_t count)
{
	br_sha256_context *cc = (br_sha256_context *)(void *)ctx;

	for (int i = 0; i < 8; i++)
		cc->val[i] = be32((const uint8_t *)stb + 4 * i);
	cc->count = count;
}

static const br_hash_class vt = {
	sizeof(br_sha256_context),
	BR_HASHDESC_ID(br_sha256_ID) | BR_HASHDESC_OUT(32) |
	    BR_HASHDESC_STATE(32) | BR_HASHDESC_LBLEN(6) |
	    BR_HASHDESC_MD_PADDING | BR_HASHDESC_MD_PADDING_BE,
	h_init, h_update, h_out, h_state, h_set_state
};

#endif

static bool picked, hw, forced;

/* the SHA extensions, asked once (cpuid traps to the hypervisor in a VM) */
bool
sha256_hw(void)
{
	if (!picked) {
		hw = false;
#if SHA_NI
		__builtin_cpu_init();
		hw = !forced && __builtin_cpu_supports("sha") &&
		    __builtin_cpu_supports("sse4.1");
#endif
		picked = true;
	}
	return hw;
}

void
sha256_force_portable(bool on)
{
	forced = on;
	picked = false;
	(void)sha256_hw();
}

const br_hash_class *
sha256_get(void)
{
#if SHA_NI
	if (sha256_hw())
		return &vt;
#endif
	return &br_sha256_vtable;
}

#if SHA_NI
/* one HMAC over a (32 bytes, may be NULL), the label and the seed */
static void
hmac_over(const br_hmac_key_context *kc, uint8_t *out, const uint8_t *a,
    const char *label, size_t llen, size_t seed_num,
    const br_tls_prf_seed_chunk *seed)
{
	br_hmac_context hc;

	br_hmac_init(&hc, kc, 0);
	if (a != NULL)
		br_hmac_update(&hc, a, 32);
	br_hmac_update(&hc, label, llen);
	for (size_t u = 0; u < seed_num; u++)
		br_hmac_update(&hc, seed[u].data, seed[u].len);
	br_hmac_out(&hc, out);
}

/* P_SHA256(secret, label + seed), as br_tls12_sha256_prf writes it */
static void
prf_ni(void *dst, size_t len, const void *secret, size_t secret_len,
    const char *label, size_t seed_num, const br_tls_prf_seed_chunk *seed)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint8_t a[32], tmp[32], *out = dst;
	size_t llen = strlen(label);

	if (len == 0)
		return;
	br_hmac_key_init(&kc, &vt, secret, secret_len);
	hmac_over(&kc, a, NULL, label, llen, seed_num, seed);	/* A(1) */
	for (;;) {
		size_t u = len < 32 ? len : 32;

		hmac_over(&kc, tmp, a, label, llen, seed_num, seed);
		memcpy(out, tmp, u);
		out += u;
		len -= u;
		if (len == 0)
			break;
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, a, 32);
		br_hmac_out(&hc, a);
	}
	memset(tmp, 0, sizeof tmp);
	memset(a, 0, sizeof a);
	memset(&kc, 0, sizeof kc);
}
#endif

void
sha256_prf(void *dst, size_t len, const void *secret, size_t secret_len,
    const char *label, size_t seed_num, const br_tls_prf_seed_chunk *seed)
{
#if SHA_NI
	if (sha256_hw()) {
		prf_ni(dst, len, secret, secret_len, label, seed_num, seed);
		return;
	}
#endif
	br_tls12_sha256_prf(dst, len, secret, secret_len, label, seed_num,
	    seed);
}
