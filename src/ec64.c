/*
 * ec64.c - X25519, P-256 and ECDSA P-256 signing on 64-bit limbs behind
 * BearSSL's br_ec_impl and br_ecdsa_sign (see ec64.h).  Written from
 * RFC 7748 (X25519: radix-2^51 field, the Montgomery ladder of section
 * 5), FIPS 186-4 / SEC 1 (P-256, point encoding, ECDSA), RFC 6979
 * (deterministic nonces) and the textbook Jacobian formulas for a = -3
 * (doubling "dbl-2001-b", addition "add-1998-cmo-2" and its mixed form).
 * Both P-256 fields (p and the order n) use Montgomery multiplication,
 * R = 2^256, on four 64-bit limbs.  src/ec64_table.h (made by
 * src/ec64_gen.py) holds j * 16^i * G for the fixed-base multiply.
 *
 * Constant time.  The multiplier, the point and the private key never
 * choose a branch or a memory address: the ladder swaps with masks
 * (x_cswap), window digits pick table entries by scanning every entry
 * with masks (p_pick, p_gpick), the point at infinity and the digit 0
 * are masked selects (p_select), reductions subtract with masks, and
 * inversions are fixed exponentiations (p - 2 and n - 2 are public).
 * Only the byte length of a multiplier shows, as in BearSSL.  The signer
 * branches on three values made from secrets that are meant to be
 * public: the key is valid, a nonce is out of range (RFC 6979 draws
 * again: a 2^-32 event), the signature (EC64_PUBLIC marks them).
 * Checked by `make check-ec64-ct` (tests/unit/ct_ec64.c): mul(),
 * mulgen() and the signer run under valgrind's memcheck with their
 * secrets marked undefined, and memcheck reports every jump or address
 * computed from them; none is reported.  Correctness: the RFC 7748
 * vectors and differential tests against br_ec_c25519_m31,
 * br_ec_p256_m31 and br_ecdsa_i31_sign_asn1 (tests/unit/test_ec64.c,
 * tests/fuzz/fuzz_ec64.c).
 *
 * Validity.  mul() decodes and checks a P-256 point (prefix 0x04,
 * coordinates below p, on the curve) and returns 0 when it is not
 * valid, but still computes (on the bad point) in the same time, like
 * BearSSL.  Multipliers must be below the order (bearssl_ec.h); then an
 * addition never meets two equal points (the one case the addition
 * formulas do not cover): in mul(), the accumulator is 16v * P and the
 * window point d * P with 16v < n and d < 16; in mulgen(), any 32-byte
 * multiplier is fine (window i adds d * 16^i * G to a sum below 16^i).
 */
#include "internal.h"
#include "ec64.h"

#if defined(__SIZEOF_INT128__)

typedef unsigned __int128 u128;

/*
 * Where a value made from secrets is meant to become public (a key's
 * validity, a rejected nonce, the signature): the constant-time check
 * builds this file with EC64_CT_CHECK and memcheck stops tracking it
 * there; otherwise a no-op.
 */
#ifdef EC64_CT_CHECK
#include <valgrind/memcheck.h>
#define EC64_PUBLIC(p, n)	((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define EC64_PUBLIC(p, n)	((void)(p), (void)(n))
#endif

static inline uint64_t
ec64_public(uint64_t v)
{
	EC64_PUBLIC(&v, sizeof v);
	return v;
}

/* 0 or all ones from a 0/1 bit */
static inline uint64_t
m64(uint64_t bit)
{
	return (uint64_t)0 - bit;
}

/* all ones when v == 0 */
static inline uint64_t
m64_zero(uint64_t v)
{
	return m64(((v | ((uint64_t)0 - v)) >> 63) ^ 1);
}

/* ---- Curve25519: field GF(2^255 - 19), five 51-bit limbs ------------ */

#define M51	((uint64_t)0x7ffffffffffff)

typedef uint64_t fe51[5];

static uint64_t
le64(const unsigned char *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

/* 32 bytes little-endian; bit 255 is ignored (RFC 7748 section 5). */
static void
x_load(fe51 r, const unsigned char *b)
{
	uint64_t w0 = le64(b), w1 = le64(b + 8), w2 = le64(b + 16),
	    w3 = le64(b + 24);

	r[0] = w0 & M51;
	r[1] = (w0 >> 51 | w1 << 13) & M51;
	r[2] = (w1 >> 38 | w2 << 26) & M51;
	r[3] = (w2 >> 25 | w3 << 39) & M51;
	r[4] = (w3 >> 12) & M51;
}

/* One carry pass: limbs below 2^51, except r[0] < 2^51 + 19 * 2^13. */
static inline void
x_carry(fe51 r)
{
	for (int i = 0; i < 4; i++) {
		r[i + 1] += r[i] >> 51;
		r[i] &= M51;
	}
	r[0] += 19 * (r[4] >> 51);
	r[4] &= M51;
}

/*
 * Sums and differences are not carried: every operand in the ladder is
 * a product (limbs below 2^52), so a result stays below 2^54 per limb,
 * which x_mul and x_sqr take (19 * 2^54 * 2^54 * 5 < 2^128).
 */
static inline void
x_add(fe51 r, const fe51 a, const fe51 b)
{
	for (int i = 0; i < 5; i++)
		r[i] = a[i] + b[i];
}

/* a - b + 4p keeps every limb positive for limbs of b below 2^53. */
static inline void
x_sub(fe51 r, const fe51 a, const fe51 b)
{
	r[0] = a[0] + 0x1fffffffffffb4 - b[0];
	for (int i = 1; i < 5; i++)
		r[i] = a[i] + 0x1ffffffffffffc - b[i];
}

static inline void
x_wrap(fe51 r, u128 t0, u128 t1, u128 t2, u128 t3, u128 t4)
{
	u128 c;

	t1 += t0 >> 51;
	t2 += t1 >> 51;
	t3 += t2 >> 51;
	t4 += t3 >> 51;
	c = ((u128)((uint64_t)t0 & M51)) + (t4 >> 51) * 19;
	r[0] = (uint64_t)c & M51;
	r[1] = ((uint64_t)t1 & M51) + (uint64_t)(c >> 51);
	r[2] = (uint64_t)t2 & M51;
	r[3] = (uint64_t)t3 & M51;
	r[4] = (uint64_t)t4 & M51;
}

static void
x_mul(fe51 r, const fe51 a, const fe51 b)
{
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3],
	    b4 = 19 * b[4];
	u128 t0, t1, t2, t3, t4;

	t0 = (u128)a[0] * b[0] + (u128)a[1] * b4 + (u128)a[2] * b3 +
	    (u128)a[3] * b2 + (u128)a[4] * b1;
	t1 = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4 +
	    (u128)a[3] * b3 + (u128)a[4] * b2;
	t2 = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] +
	    (u128)a[3] * b4 + (u128)a[4] * b3;
	t3 = (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] +
	    (u128)a[3] * b[0] + (u128)a[4] * b4;
	t4 = (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] +
	    (u128)a[3] * b[1] + (u128)a[4] * b[0];
	x_wrap(r, t0, t1, t2, t3, t4);
}

static void
x_sqr(fe51 r, const fe51 a)
{
	uint64_t d0 = 2 * a[0], d1 = 2 * a[1], d3_19 = 2 * 19 * a[3],
	    a3_19 = 19 * a[3], a4_19 = 19 * a[4];
	u128 t0, t1, t2, t3, t4;

	t0 = (u128)a[0] * a[0] + (u128)d1 * a4_19 + (u128)(2 * a[2]) * a3_19;
	t1 = (u128)d0 * a[1] + (u128)(2 * a[2]) * a4_19 + (u128)a[3] * a3_19;
	t2 = (u128)d0 * a[2] + (u128)a[1] * a[1] + (u128)d3_19 * a[4];
	t3 = (u128)d0 * a[3] + (u128)d1 * a[2] + (u128)a[4] * a4_19;
	t4 = (u128)d0 * a[4] + (u128)d1 * a[3] + (u128)a[2] * a[2];
	x_wrap(r, t0, t1, t2, t3, t4);
}

static void
x_mul_small(fe51 r, const fe51 a, uint64_t k)
{
	x_wrap(r, (u128)a[0] * k, (u128)a[1] * k, (u128)a[2] * k,
	    (u128)a[3] * k, (u128)a[4] * k);
}

static void
x_sqrn(fe51 r, const fe51 a, int n)
{
	x_sqr(r, a);
	while (--n > 0)
		x_sqr(r, r);
}

/* r = a^(p - 2) = 1/a (0 for 0): p - 2 = (2^250 - 1) * 2^5 + 11. */
static void
x_inv(fe51 r, const fe51 a)
{
	fe51 a2, a9, a11, e5, e10, e20, e40, e50, e100, t;

	x_sqr(a2, a);			/* 2 */
	x_sqrn(t, a2, 2);		/* 8 */
	x_mul(a9, t, a);		/* 9 */
	x_mul(a11, a9, a2);		/* 11 */
	x_sqr(t, a11);			/* 22 */
	x_mul(e5, t, a9);		/* 31 = 2^5 - 1 */
	x_sqrn(t, e5, 5);
	x_mul(e10, t, e5);		/* 2^10 - 1 */
	x_sqrn(t, e10, 10);
	x_mul(e20, t, e10);		/* 2^20 - 1 */
	x_sqrn(t, e20, 20);
	x_mul(e40, t, e20);		/* 2^40 - 1 */
	x_sqrn(t, e40, 10);
	x_mul(e50, t, e10);		/* 2^50 - 1 */
	x_sqrn(t, e50, 50);
	x_mul(e100, t, e50);		/* 2^100 - 1 */
	x_sqrn(t, e100, 100);
	x_mul(t, t, e100);		/* 2^200 - 1 */
	x_sqrn(t, t, 50);
	x_mul(t, t, e50);		/* 2^250 - 1 */
	x_sqrn(t, t, 5);
	x_mul(r, t, a11);		/* 2^255 - 21 */
}

/* Fully reduced little-endian bytes. */
static void
x_store(unsigned char *b, const fe51 a)
{
	fe51 t;
	uint64_t q, w[4];

	memcpy(t, a, sizeof t);
	x_carry(t);
	x_carry(t);
	x_carry(t);
	q = (t[0] + 19) >> 51;	/* q = 1 iff t >= p */
	for (int i = 1; i < 5; i++)
		q = (t[i] + q) >> 51;
	t[0] += 19 * q;
	for (int i = 0; i < 4; i++) {
		t[i + 1] += t[i] >> 51;
		t[i] &= M51;
	}
	t[4] &= M51;
	w[0] = t[0] | t[1] << 51;
	w[1] = t[1] >> 13 | t[2] << 38;
	w[2] = t[2] >> 26 | t[3] << 25;
	w[3] = t[3] >> 39 | t[4] << 12;
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)(w[i >> 3] >> (8 * (i & 7)));
}

static void
x_cswap(fe51 a, fe51 b, uint64_t mask)
{
	for (int i = 0; i < 5; i++) {
		uint64_t t = mask & (a[i] ^ b[i]);

		a[i] ^= t;
		b[i] ^= t;
	}
}

/* One ladder step (RFC 7748 section 5), in place. */
static void
x_step(const fe51 x1, fe51 x2, fe51 z2, fe51 x3, fe51 z3)
{
	fe51 a, aa, b, bb, e, c, d, da, cb;

	x_add(a, x2, z2);
	x_sqr(aa, a);
	x_sub(b, x2, z2);
	x_sqr(bb, b);
	x_sub(e, aa, bb);
	x_add(c, x3, z3);
	x_sub(d, x3, z3);
	x_mul(da, d, a);
	x_mul(cb, c, b);
	x_add(x3, da, cb);
	x_sqr(x3, x3);
	x_sub(z3, da, cb);
	x_sqr(z3, z3);
	x_mul(z3, z3, x1);
	x_mul(x2, aa, bb);
	x_mul_small(z2, e, 121665);
	x_add(z2, z2, aa);
	x_mul(z2, z2, e);
}

static const unsigned char c25519_gen[32] = { 9 };
static const unsigned char c25519_order[32] = {
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

/*
 * X25519 as br_ec_c25519_m31 (BearSSL 0.6) does it: the multiplier is
 * little-endian as in RFC 7748, a short one is zero-extended at its high
 * end, then clamped (bits 0-2 and 255 cleared, bit 254 set); bit 255 of
 * u is ignored; the result replaces u.
 */
static uint32_t
x_mul_api(unsigned char *g, size_t glen, const unsigned char *kb,
    size_t kblen)
{
	unsigned char k[32];
	fe51 x1, x2, z2, x3, z3;
	uint64_t swap = 0;

	if (glen != 32 || kblen > 32)
		return 0;
	memcpy(k, kb, kblen);
	memset(k + kblen, 0, sizeof k - kblen);
	k[0] &= 0xf8;
	k[31] &= 0x7f;
	k[31] |= 0x40;
	x_load(x1, g);
	memset(x2, 0, sizeof x2);
	x2[0] = 1;
	memset(z2, 0, sizeof z2);
	memcpy(x3, x1, sizeof x3);
	memcpy(z3, x2, sizeof z3);
	for (int i = 254; i >= 0; i--) {
		uint64_t bit = (k[i >> 3] >> (i & 7)) & 1;

		swap ^= bit;
		x_cswap(x2, x3, m64(swap));
		x_cswap(z2, z3, m64(swap));
		swap = bit;
		x_step(x1, x2, z2, x3, z3);
	}
	x_cswap(x2, x3, m64(swap));
	x_cswap(z2, z3, m64(swap));
	x_inv(z2, z2);
	x_mul(x2, x2, z2);
	x_store(g, x2);
	return 1;
}

/* ---- P-256: field GF(p), four 64-bit limbs, Montgomery form --------- */

typedef uint64_t f256[4];

/* p = 2^256 - 2^224 + 2^192 + 2^96 - 1, little-endian limbs */
static const f256 p256_p = {
	0xffffffffffffffff, 0x00000000ffffffff,
	0x0000000000000000, 0xffffffff00000001
};
static const f256 p256_r2 = {	/* 2^512 mod p */
	0x0000000000000003, 0xfffffffbffffffff,
	0xfffffffffffffffe, 0x00000004fffffffd
};
static const f256 p256_one = {	/* 2^256 mod p: 1 in Montgomery form */
	0x0000000000000001, 0xffffffff00000000,
	0xffffffffffffffff, 0x00000000fffffffe
};
static const f256 p256_bm = {	/* curve b, Montgomery form */
	0xd89cdf6229c4bddf, 0xacf005cd78843090,
	0xe5a220abf7212ed6, 0xdc30061d04874834
};

/* r = t - p when t (with carry bit hi) >= p, else t; t < 2p. */
static inline void
p_fold(f256 r, const uint64_t *t, uint64_t hi)
{
	f256 s;
	uint64_t borrow = 0, keep;

	for (int i = 0; i < 4; i++) {
		u128 w = (u128)t[i] - p256_p[i] - borrow;

		s[i] = (uint64_t)w;
		borrow = (uint64_t)(w >> 64) & 1;
	}
	keep = m64((hi ^ 1) & borrow);	/* t < p: keep t */
	for (int i = 0; i < 4; i++)
		r[i] = (t[i] & keep) | (s[i] & ~keep);
}

static inline void
p_add(f256 r, const f256 a, const f256 b)
{
	uint64_t t[4];
	u128 c = 0;

	for (int i = 0; i < 4; i++) {
		c += (u128)a[i] + b[i];
		t[i] = (uint64_t)c;
		c >>= 64;
	}
	p_fold(r, t, (uint64_t)c);
}

static inline void
p_sub(f256 r, const f256 a, const f256 b)
{
	uint64_t t[4], mask, borrow = 0;
	u128 c = 0;

	for (int i = 0; i < 4; i++) {
		u128 w = (u128)a[i] - b[i] - borrow;

		t[i] = (uint64_t)w;
		borrow = (uint64_t)(w >> 64) & 1;
	}
	mask = m64(borrow);
	for (int i = 0; i < 4; i++) {
		c += (u128)t[i] + (p256_p[i] & mask);
		r[i] = (uint64_t)c;
		c >>= 64;
	}
}

/*
 * One row of the product: (t4 t3 t2 t1 t0) += a * w, the carry out into
 * t5; then one Montgomery step: add m * p with m = t0 (-1/p mod 2^64 is
 * 1), which clears t0, and shift down a limb.  p's limbs are 2^64 - 1,
 * 2^32 - 1, 0, 2^64 - 2^32 + 1: m * p[0] + t0 = m * 2^64, carry m.
 */
#define P_ROW(w) do { \
	c = (u128)a[0] * (w) + t0; t0 = (uint64_t)c; \
	c = (c >> 64) + (u128)a[1] * (w) + t1; t1 = (uint64_t)c; \
	c = (c >> 64) + (u128)a[2] * (w) + t2; t2 = (uint64_t)c; \
	c = (c >> 64) + (u128)a[3] * (w) + t3; t3 = (uint64_t)c; \
	c = (c >> 64) + t4; t4 = (uint64_t)c; t5 = (uint64_t)(c >> 64); \
} while (0)
#define P_RED() do { \
	m = t0; \
	c = (u128)m + (u128)m * 0x00000000ffffffffu + t1; \
	t0 = (uint64_t)c; \
	c = (c >> 64) + t2; t1 = (uint64_t)c; \
	c = (c >> 64) + (u128)m * 0xffffffff00000001u + t3; \
	t2 = (uint64_t)c; \
	c = (c >> 64) + t4; t3 = (uint64_t)c; \
	t4 = t5 + (uint64_t)(c >> 64); \
} while (0)

/* r = a * b / 2^256 mod p, for a, b < p */
static void
p_mul(f256 r, const f256 a, const f256 b)
{
	uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5, m, t[4];
	u128 c;

	P_ROW(b[0]);
	P_RED();
	P_ROW(b[1]);
	P_RED();
	P_ROW(b[2]);
	P_RED();
	P_ROW(b[3]);
	P_RED();
	t[0] = t0;
	t[1] = t1;
	t[2] = t2;
	t[3] = t3;
	p_fold(r, t, t4);
}

static void
p_sqr(f256 r, const f256 a)
{
	p_mul(r, a, a);
}

static void
p_sqrn(f256 r, const f256 a, int n)
{
	p_sqr(r, a);
	while (--n > 0)
		p_sqr(r, r);
}

/*
 * r = a^(p - 2) = 1/a (0 for 0).  p - 2, from the top: 32 ones, 31
 * zeros, a one, 96 zeros, 94 ones, a zero, a one.
 */
static void
p_inv(f256 r, const f256 a)
{
	f256 x2, x4, x8, x16, x30, x32, t;

	p_sqr(t, a);
	p_mul(x2, t, a);		/* x_k = a^(2^k - 1) */
	p_sqrn(t, x2, 2);
	p_mul(x4, t, x2);
	p_sqrn(t, x4, 4);
	p_mul(x8, t, x4);
	p_sqrn(t, x8, 8);
	p_mul(x16, t, x8);
	p_sqrn(t, x16, 8);
	p_mul(t, t, x8);		/* x24 */
	p_sqrn(t, t, 4);
	p_mul(t, t, x4);		/* x28 */
	p_sqrn(t, t, 2);
	p_mul(x30, t, x2);
	p_sqrn(t, x30, 2);
	p_mul(x32, t, x2);
	p_sqrn(t, x32, 32);
	p_mul(t, t, a);			/* 32 ones, 31 zeros, 1 */
	p_sqrn(t, t, 96);
	p_sqrn(t, t, 32);
	p_mul(t, t, x32);
	p_sqrn(t, t, 32);
	p_mul(t, t, x32);
	p_sqrn(t, t, 30);
	p_mul(t, t, x30);		/* 94 ones */
	p_sqrn(t, t, 2);
	p_mul(r, t, a);			/* 01 */
}

static uint64_t
p_is_zero(const f256 a)
{
	return m64_zero(a[0] | a[1] | a[2] | a[3]);
}

/* Jacobian point (X / Z^2, Y / Z^3); Z = 0 is the point at infinity. */
struct p_jac {
	f256	x, y, z;
};

static void
p_select(struct p_jac *r, const struct p_jac *a, uint64_t mask)
{
	for (int i = 0; i < 4; i++) {
		r->x[i] ^= mask & (r->x[i] ^ a->x[i]);
		r->y[i] ^= mask & (r->y[i] ^ a->y[i]);
		r->z[i] ^= mask & (r->z[i] ^ a->z[i]);
	}
}

/* doubling, a = -3 (dbl-2001-b); the point at infinity stays there */
static void
p_double(struct p_jac *q)
{
	f256 delta, gamma, beta, alpha, t1, t2;

	p_sqr(delta, q->z);
	p_sqr(gamma, q->y);
	p_mul(beta, q->x, gamma);
	p_sub(t1, q->x, delta);
	p_add(t2, q->x, delta);
	p_mul(t1, t1, t2);
	p_add(alpha, t1, t1);
	p_add(alpha, alpha, t1);
	p_add(t1, q->y, q->z);
	p_sqr(t1, t1);
	p_sub(t1, t1, gamma);
	p_sub(q->z, t1, delta);
	p_add(beta, beta, beta);
	p_add(beta, beta, beta);		/* 4 beta */
	p_sqr(t1, alpha);
	p_add(t2, beta, beta);
	p_sub(q->x, t1, t2);			/* alpha^2 - 8 beta */
	p_sub(t1, beta, q->x);
	p_mul(t1, alpha, t1);
	p_sqr(gamma, gamma);
	p_add(gamma, gamma, gamma);
	p_add(gamma, gamma, gamma);
	p_add(gamma, gamma, gamma);		/* 8 gamma^2 */
	p_sub(q->y, t1, gamma);
}

/*
 * The sum from u1 = X1, s1 = Y1 (both scaled by z2 powers already),
 * u2, s2 and z3 before the factor h: shared by both additions.
 */
static void
p_add_tail(struct p_jac *r, const f256 u1, const f256 s1, const f256 u2,
    const f256 s2, const f256 zz)
{
	f256 h, rr, hh, hhh, v, t;

	p_sub(h, u2, u1);
	p_sub(rr, s2, s1);
	p_sqr(hh, h);
	p_mul(hhh, hh, h);
	p_mul(v, u1, hh);
	p_mul(r->z, zz, h);
	p_sqr(t, rr);
	p_sub(t, t, hhh);
	p_sub(t, t, v);
	p_sub(r->x, t, v);
	p_sub(t, v, r->x);
	p_mul(t, rr, t);
	p_mul(hhh, s1, hhh);
	p_sub(r->y, t, hhh);
}

/*
 * a += b (add-1998-cmo-2): an infinite operand gives the other one; the
 * caller never passes equal points (see the top of the file).
 */
static void
p_add_jac(struct p_jac *a, const struct p_jac *b)
{
	struct p_jac r;
	f256 z1z1, z2z2, u1, u2, s1, s2, zz;
	uint64_t ainf = p_is_zero(a->z), binf = p_is_zero(b->z);

	p_sqr(z1z1, a->z);
	p_sqr(z2z2, b->z);
	p_mul(u1, a->x, z2z2);
	p_mul(u2, b->x, z1z1);
	p_mul(s1, a->y, b->z);
	p_mul(s1, s1, z2z2);
	p_mul(s2, b->y, a->z);
	p_mul(s2, s2, z1z1);
	p_mul(zz, a->z, b->z);
	p_add_tail(&r, u1, s1, u2, s2, zz);
	p_select(&r, b, ainf);
	p_select(&r, a, binf);
	*a = r;
}

/* a += (x, y) (affine, finite); infinite a gives (x, y) */
static void
p_add_aff(struct p_jac *a, const f256 x, const f256 y)
{
	struct p_jac r, q;
	f256 z1z1, u2, s2;
	uint64_t ainf = p_is_zero(a->z);

	p_sqr(z1z1, a->z);
	p_mul(u2, x, z1z1);
	p_mul(s2, y, a->z);
	p_mul(s2, s2, z1z1);
	p_add_tail(&r, a->x, a->y, u2, s2, a->z);
	memcpy(q.x, x, sizeof q.x);
	memcpy(q.y, y, sizeof q.y);
	memcpy(q.z, p256_one, sizeof q.z);
	p_select(&r, &q, ainf);
	*a = r;
}

/* big-endian 32 bytes to limbs; returns all ones when the value < p */
static uint64_t
p_load(f256 r, const unsigned char *b)
{
	uint64_t borrow = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;

		for (int k = 0; k < 8; k++)
			v = (v << 8) | b[(3 - i) * 8 + k];
		r[i] = v;
	}
	for (int i = 0; i < 4; i++) {
		u128 w = (u128)r[i] - p256_p[i] - borrow;

		borrow = (uint64_t)(w >> 64) & 1;
	}
	return m64(borrow);
}

static void
p_store(unsigned char *b, const f256 a)
{
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 8; k++)
			b[(3 - i) * 8 + k] =
			    (unsigned char)(a[i] >> (56 - 8 * k));
}

/*
 * 0x04 || X || Y to a Jacobian point; all ones when it is on the curve:
 * y^2 = x^3 - 3x + b with x, y < p.
 */
static uint64_t
p_decode(struct p_jac *q, const unsigned char *buf)
{
	f256 t1, t2;
	uint64_t ok;

	ok = m64_zero((uint64_t)(buf[0] ^ 0x04));
	ok &= p_load(q->x, buf + 1);
	ok &= p_load(q->y, buf + 33);
	p_mul(q->x, q->x, p256_r2);
	p_mul(q->y, q->y, p256_r2);
	memcpy(q->z, p256_one, sizeof q->z);
	p_sqr(t1, q->x);
	p_mul(t1, t1, q->x);
	p_sub(t1, t1, q->x);
	p_sub(t1, t1, q->x);
	p_sub(t1, t1, q->x);
	p_add(t1, t1, p256_bm);
	p_sqr(t2, q->y);
	p_sub(t1, t1, t2);
	return ok & p_is_zero(t1);
}

/* affine 0x04 || X || Y; the point at infinity comes out as 0x04, zeros */
static void
p_encode(unsigned char *buf, const struct p_jac *q)
{
	static const f256 one = { 1, 0, 0, 0 };
	f256 zi, zi2, x, y;

	p_inv(zi, q->z);
	p_sqr(zi2, zi);
	p_mul(x, q->x, zi2);
	p_mul(zi2, zi2, zi);
	p_mul(y, q->y, zi2);
	p_mul(x, x, one);
	p_mul(y, y, one);
	buf[0] = 0x04;
	p_store(buf + 1, x);
	p_store(buf + 33, y);
}

/* r = tab[d] by a scan of all 16 entries */
static void
p_pick(struct p_jac *r, const struct p_jac tab[16], unsigned d)
{
	memset(r, 0, sizeof *r);
	for (unsigned k = 0; k < 16; k++)
		p_select(r, &tab[k], m64_zero((uint64_t)(k ^ d)));
}

/* q = x * q, x big-endian over xlen bytes, four bits at a time */
static void
p_mul_var(struct p_jac *q, const unsigned char *x, size_t xlen)
{
	struct p_jac tab[16], acc, t;

	memset(&tab[0], 0, sizeof tab[0]);
	tab[1] = *q;
	tab[2] = *q;
	p_double(&tab[2]);
	for (int k = 3; k < 16; k++) {
		tab[k] = tab[k - 1];
		p_add_jac(&tab[k], q);
	}
	memset(&acc, 0, sizeof acc);
	for (size_t i = 0; i < xlen; i++) {
		for (int s = 4; s >= 0; s -= 4) {
			for (int k = 0; k < 4; k++)
				p_double(&acc);
			p_pick(&t, tab, (x[i] >> s) & 15u);
			p_add_jac(&acc, &t);
		}
	}
	*q = acc;
}

#include "ec64_table.h"

/* (x, y) = the table's j * 16^i * G by a scan of window i; j = 0: zero */
static void
p_gpick(f256 x, f256 y, int i, unsigned j)
{
	memset(x, 0, sizeof(f256));
	memset(y, 0, sizeof(f256));
	for (unsigned k = 1; k < 16; k++) {
		uint64_t mask = m64_zero((uint64_t)(k ^ j));
		const uint64_t *e = ec64_p256_gtab[i][k - 1];

		for (int l = 0; l < 4; l++) {
			x[l] |= mask & e[l];
			y[l] |= mask & e[4 + l];
		}
	}
}

/* q = x * G for x of 32 bytes: one mixed addition per 4-bit window */
static void
p_mul_gen(struct p_jac *q, const unsigned char x[32])
{
	struct p_jac r;
	f256 gx, gy;

	memset(q, 0, sizeof *q);
	for (int i = 0; i < 64; i++) {
		unsigned d = (x[31 - (i >> 1)] >> (4 * (i & 1))) & 15u;

		p_gpick(gx, gy, i, d);
		r = *q;
		p_add_aff(&r, gx, gy);
		p_select(q, &r, ~m64_zero(d));
	}
}

static const unsigned char p256_gen[65] = {
	0x04,
	0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47,
	0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
	0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0,
	0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
	0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b,
	0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
	0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce,
	0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5
};
static const unsigned char p256_order[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};

static uint32_t
p_mul_api(unsigned char *g, size_t glen, const unsigned char *x,
    size_t xlen)
{
	struct p_jac q;
	uint64_t ok;

	if (glen != 65)
		return 0;
	ok = p_decode(&q, g);
	p_mul_var(&q, x, xlen);
	p_encode(g, &q);
	return (uint32_t)(ok & 1);
}

static size_t
p_mulgen_api(unsigned char *r, const unsigned char *x, size_t xlen)
{
	unsigned char k[32];
	struct p_jac q;

	if (xlen > 32) {
		memcpy(r, p256_gen, sizeof p256_gen);
		p_mul_api(r, sizeof p256_gen, x, xlen);
		return sizeof p256_gen;
	}
	memset(k, 0, sizeof k - xlen);
	memcpy(k + sizeof k - xlen, x, xlen);
	p_mul_gen(&q, k);
	p_encode(r, &q);
	return sizeof p256_gen;
}

/* ---- ECDSA P-256 signature: arithmetic modulo the order n ---------- */

static const f256 n256 = {
	0xf3b9cac2fc632551, 0xbce6faada7179e84,
	0xffffffffffffffff, 0xffffffff00000000
};
static const f256 n256_r2 = {	/* 2^512 mod n */
	0x83244c95be79eea2, 0x4699799c49bd6fa6,
	0x2845b2392b6bec59, 0x66e12d94f3d95620
};
#define N256_N0I	((uint64_t)0xccd1c8aaee00bc4f)	/* -1/n mod 2^64 */

/* all ones when a < n */
static uint64_t
n_below(const f256 a)
{
	uint64_t borrow = 0;

	for (int i = 0; i < 4; i++) {
		u128 w = (u128)a[i] - n256[i] - borrow;

		borrow = (uint64_t)(w >> 64) & 1;
	}
	return m64(borrow);
}

/* r = t - n when t (carry hi) >= n, else t; t < 2n */
static void
n_fold(f256 r, const uint64_t *t, uint64_t hi)
{
	f256 s;
	uint64_t borrow = 0, keep;

	for (int i = 0; i < 4; i++) {
		u128 w = (u128)t[i] - n256[i] - borrow;

		s[i] = (uint64_t)w;
		borrow = (uint64_t)(w >> 64) & 1;
	}
	keep = m64((hi ^ 1) & borrow);
	for (int i = 0; i < 4; i++)
		r[i] = (t[i] & keep) | (s[i] & ~keep);
}

static void
n_add(f256 r, const f256 a, const f256 b)
{
	uint64_t t[4];
	u128 c = 0;

	for (int i = 0; i < 4; i++) {
		c += (u128)a[i] + b[i];
		t[i] = (uint64_t)c;
		c >>= 64;
	}
	n_fold(r, t, (uint64_t)c);
}

/* r = a * b / 2^256 mod n (Montgomery, CIOS), for a, b < n */
static void
n_mul(f256 r, const f256 a, const f256 b)
{
	uint64_t t[6] = { 0, 0, 0, 0, 0, 0 }, m;
	u128 c;

	for (int i = 0; i < 4; i++) {
		c = 0;
		for (int j = 0; j < 4; j++) {
			c += (u128)a[j] * b[i] + t[j];
			t[j] = (uint64_t)c;
			c >>= 64;
		}
		c += t[4];
		t[4] = (uint64_t)c;
		t[5] = (uint64_t)(c >> 64);
		m = t[0] * N256_N0I;
		c = ((u128)m * n256[0] + t[0]) >> 64;
		for (int j = 1; j < 4; j++) {
			c += (u128)m * n256[j] + t[j];
			t[j - 1] = (uint64_t)c;
			c >>= 64;
		}
		c += t[4];
		t[3] = (uint64_t)c;
		t[4] = t[5] + (uint64_t)(c >> 64);
	}
	n_fold(r, t, t[4]);
}

/* r = a^(n - 2) = 1/a, Montgomery form in and out (public exponent) */
static void
n_inv(f256 r, const f256 a)
{
	static const f256 e = {
		0xf3b9cac2fc63254f, 0xbce6faada7179e84,
		0xffffffffffffffff, 0xffffffff00000000
	};
	f256 t;

	memcpy(t, a, sizeof t);		/* the top bit of e is set */
	for (int i = 254; i >= 0; i--) {
		n_mul(t, t, t);
		if ((e[i >> 6] >> (i & 63)) & 1)
			n_mul(t, t, a);
	}
	memcpy(r, t, sizeof t);
}

/*
 * bits2int (RFC 6979 section 2.3.2) of a hash for a 256-bit order: its
 * first 32 bytes, or all of a shorter one, big-endian; then reduced
 * modulo n (one subtraction: the value is below 2^256 < 2n).
 */
static void
n_from_hash(f256 r, unsigned char out[32], const unsigned char *h,
    size_t hlen)
{
	unsigned char b[32];

	if (hlen > 32)
		hlen = 32;
	memset(b, 0, sizeof b - hlen);
	memcpy(b + sizeof b - hlen, h, hlen);
	p_load(r, b);
	n_fold(r, r, 0);
	p_store(out, r);
}

/*
 * ECDSA (FIPS 186-4 section 6.4) on P-256 with the deterministic nonce
 * of RFC 6979 section 3.2 over the message's own hash function (BearSSL's
 * HMAC_DRBG is that construction: K = 0, V = 1, update with x || h, a
 * K/V update after each output).  Raw r || s; 0 on a bad key.
 */
static size_t
n_sign_raw(const br_hash_class *hf, const void *hash_value,
    const br_ec_private_key *sk, unsigned char *sig)
{
	br_hmac_drbg_context drbg;
	unsigned char seed[64], kb[32], pt[65];
	size_t hlen = (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	f256 x, m, k, r, s, t;
	uint64_t lead = 0;
	struct p_jac q;

	if (sk->xlen > 32) {		/* longer: only leading zeros */
		for (size_t i = 0; i < sk->xlen - 32; i++)
			lead |= sk->x[i];
		memcpy(seed, sk->x + sk->xlen - 32, 32);
	} else {
		memset(seed, 0, 32 - sk->xlen);
		memcpy(seed + 32 - sk->xlen, sk->x, sk->xlen);
	}
	p_load(x, seed);
	if ((ec64_public(n_below(x) & ~p_is_zero(x) & m64_zero(lead)) & 1)
	    == 0)
		return 0;
	n_from_hash(m, seed + 32, hash_value, hlen);
	br_hmac_drbg_init(&drbg, hf, seed, sizeof seed);
	for (;;) {	/* k in [1, n - 1]; a retry is a public 2^-32 event */
		br_hmac_drbg_generate(&drbg, kb, sizeof kb);
		p_load(k, kb);
		if ((ec64_public(n_below(k) & ~p_is_zero(k)) & 1) != 0)
			break;
	}
	p_mul_gen(&q, kb);
	p_encode(pt, &q);
	p_load(r, pt + 1);
	n_fold(r, r, 0);		/* x(kG) mod n: x < p < 2n */
	n_mul(x, x, n256_r2);		/* Montgomery form */
	n_mul(r, r, n256_r2);
	n_mul(m, m, n256_r2);
	n_mul(k, k, n256_r2);
	n_mul(t, r, x);
	n_add(t, t, m);			/* m + r x */
	n_inv(k, k);
	n_mul(s, t, k);
	memset(t, 0, sizeof t);
	t[0] = 1;
	n_mul(s, s, t);			/* out of Montgomery form */
	n_mul(r, r, t);
	if ((ec64_public(p_is_zero(r) | p_is_zero(s)) & 1) != 0)
		return 0;		/* probability 2^-255 */
	p_store(sig, r);
	p_store(sig + 32, s);
	EC64_PUBLIC(sig, 64);
	return 64;
}

static size_t
ec64_sign(const br_ec_impl *impl, const br_hash_class *hf,
    const void *hash_value, const br_ec_private_key *sk, void *sig)
{
	size_t len;

	if (sk->curve != BR_EC_secp256r1)
		return br_ecdsa_i31_sign_asn1(impl, hf, hash_value, sk, sig);
	len = n_sign_raw(hf, hash_value, sk, sig);
	return len == 0 ? 0 : br_ecdsa_raw_to_asn1(sig, len);
}

br_ecdsa_sign
ec64_ecdsa_sign_asn1(void)
{
	return ec64_sign;
}

/* ---- the br_ec_impl ------------------------------------------------- */

static const br_ec_impl *
fallback(void)
{
	return &br_ec_all_m31;
}

static const unsigned char *
api_generator(int curve, size_t *len)
{
	switch (curve) {
	case BR_EC_curve25519:
		*len = sizeof c25519_gen;
		return c25519_gen;
	case BR_EC_secp256r1:
		*len = sizeof p256_gen;
		return p256_gen;
	default:
		return fallback()->generator(curve, len);
	}
}

static const unsigned char *
api_order(int curve, size_t *len)
{
	switch (curve) {
	case BR_EC_curve25519:
		*len = sizeof c25519_order;
		return c25519_order;
	case BR_EC_secp256r1:
		*len = sizeof p256_order;
		return p256_order;
	default:
		return fallback()->order(curve, len);
	}
}

static size_t
api_xoff(int curve, size_t *len)
{
	switch (curve) {
	case BR_EC_curve25519:
		*len = 32;
		return 0;
	case BR_EC_secp256r1:
		*len = 32;
		return 1;
	default:
		return fallback()->xoff(curve, len);
	}
}

static uint32_t
api_mul(unsigned char *g, size_t glen, const unsigned char *x, size_t xlen,
    int curve)
{
	switch (curve) {
	case BR_EC_curve25519:
		return x_mul_api(g, glen, x, xlen);
	case BR_EC_secp256r1:
		return p_mul_api(g, glen, x, xlen);
	default:
		return fallback()->mul(g, glen, x, xlen, curve);
	}
}

static size_t
api_mulgen(unsigned char *r, const unsigned char *x, size_t xlen, int curve)
{
	switch (curve) {
	case BR_EC_curve25519:
		memcpy(r, c25519_gen, sizeof c25519_gen);
		x_mul_api(r, sizeof c25519_gen, x, xlen);
		return sizeof c25519_gen;
	case BR_EC_secp256r1:
		return p_mulgen_api(r, x, xlen);
	default:
		return fallback()->mulgen(r, x, xlen, curve);
	}
}

static uint32_t
api_muladd(unsigned char *a, const unsigned char *b, size_t len,
    const unsigned char *x, size_t xlen, const unsigned char *y,
    size_t ylen, int curve)
{
	if (curve == BR_EC_curve25519)
		return 0;
	return fallback()->muladd(a, b, len, x, xlen, y, ylen, curve);
}

static const br_ec_impl ec64_impl = {
	(uint32_t)0x03800000 | ((uint32_t)1 << BR_EC_curve25519),
	api_generator, api_order, api_xoff, api_mul, api_mulgen, api_muladd
};

const br_ec_impl *
ec64_get(void)
{
	return &ec64_impl;
}

bool
ec64_native(void)
{
	return true;
}

#else /* no unsigned __int128: BearSSL's default */

br_ecdsa_sign
ec64_ecdsa_sign_asn1(void)
{
	return br_ecdsa_sign_asn1_get_default();
}

const br_ec_impl *
ec64_get(void)
{
	return br_ec_get_default();
}

bool
ec64_native(void)
{
	return false;
}

#endif
