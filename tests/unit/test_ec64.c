/*
 * test_ec64.c - src/ec64.c against RFC 7748 (the section 5.2 vectors,
 * the iterated vector at 1 and 1,000 steps, the section 6.1
 * Diffie-Hellman exchange) and, input for input, against BearSSL's own
 * br_ec_c25519_m31 and br_ec_p256_m31: random multipliers and points,
 * short multipliers, edge multipliers (0, 1, n - 1, n, n + 1, all ones),
 * invalid points (prefix, length, off the curve, coordinates >= p, the
 * encoded point at infinity), and ECDSA signatures made with one and
 * checked with the other.  Where ec64 is BearSSL's default (no 128-bit
 * integers) the same checks hold trivially.
 */
#include "internal.h"
#include "check.h"
#include "ec64.h"

#include <bearssl.h>

static unsigned seed = 0x2545f491u;

static void
rnd(unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)check_rand(&seed);
}

static void
unhex(unsigned char *out, const char *hex)
{
	for (size_t i = 0; hex[2 * i]; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

/* RFC 7748 multipliers are little-endian, as BearSSL 0.6 takes them */
static uint32_t
x25519(const br_ec_impl *ec, unsigned char *u, const char *khex)
{
	unsigned char k[32], kb[32];

	unhex(k, khex);
	memcpy(kb, k, 32);
	return ec->mul(u, 32, kb, 32, BR_EC_curve25519);
}

static void
test_rfc7748(void)
{
	const br_ec_impl *ec = ec64_get();
	unsigned char u[32], want[32], k[32], kb[32], a[32], b[32];
	int steps = check_scale(1000) == 1000 ? 1000 : 1;

	unhex(u, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
	unhex(want, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	CHECK_EQ(x25519(ec, u, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"), 1);
	CHECK_MEM(u, want, 32);
	unhex(u, "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
	unhex(want, "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
	CHECK_EQ(x25519(ec, u, "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"), 1);
	CHECK_MEM(u, want, 32);

	/* iterated: k, u = X25519(k, u), k starting from k = u = 9 */
	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (int i = 1; i <= steps; i++) {
		unsigned char r[32];

		memcpy(r, u, 32);
		memcpy(kb, k, 32);
		ec->mul(r, 32, kb, 32, BR_EC_curve25519);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1) {
			unhex(want, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
			CHECK_MEM(k, want, 32);
		}
	}
	unhex(want, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	if (steps == 1000)	/* the 1,000-step answer: full runs only */
		CHECK_MEM(k, want, 32);

	/* section 6.1: both public keys, then the shared secret both ways */
	unhex(k, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	memcpy(kb, k, 32);
	CHECK_EQ(ec->mulgen(a, kb, 32, BR_EC_curve25519), 32);
	unhex(want, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	CHECK_MEM(a, want, 32);
	unhex(k, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	memcpy(kb, k, 32);
	CHECK_EQ(ec->mulgen(b, kb, 32, BR_EC_curve25519), 32);
	unhex(want, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	CHECK_MEM(b, want, 32);
	unhex(want, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	CHECK_EQ(x25519(ec, b, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), 1);
	CHECK_MEM(b, want, 32);
	CHECK_EQ(x25519(ec, a, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"), 1);
	CHECK_MEM(a, want, 32);
}

/* Same call on both implementations: same return, same bytes. */
static int
diff_mul(int curve, const unsigned char *g, size_t glen,
    const unsigned char *x, size_t xlen, bool cmp_out)
{
	const br_ec_impl *ref = curve == BR_EC_curve25519 ?
	    &br_ec_c25519_m31 : &br_ec_p256_m31;
	unsigned char a[80], b[80];
	uint32_t ra, rb;

	memcpy(a, g, glen);
	memcpy(b, g, glen);
	ra = ec64_get()->mul(a, glen, x, xlen, curve);
	rb = ref->mul(b, glen, x, xlen, curve);
	if (ra != rb || (cmp_out && ra && memcmp(a, b, glen) != 0)) {
		fprintf(stderr, "ec64 mul differs: curve %d glen %zu xlen %zu"
		    " ret %u/%u\n", curve, glen, xlen, ra, rb);
		return 1;
	}
	return 0;
}

static int
diff_mulgen(int curve, const unsigned char *x, size_t xlen)
{
	const br_ec_impl *ref = curve == BR_EC_curve25519 ?
	    &br_ec_c25519_m31 : &br_ec_p256_m31;
	unsigned char a[80], b[80];
	size_t la, lb;

	la = ec64_get()->mulgen(a, x, xlen, curve);
	lb = ref->mulgen(b, x, xlen, curve);
	if (la != lb || memcmp(a, b, la) != 0) {
		fprintf(stderr, "ec64 mulgen differs: curve %d xlen %zu\n",
		    curve, xlen);
		return 1;
	}
	return 0;
}

static void
test_impl(void)
{
	const br_ec_impl *ec = ec64_get();
	size_t la, lb;

	CHECK_EQ(ec->supported_curves, br_ec_all_m31.supported_curves);
	for (int c = 0; c < 32; c++) {
		const unsigned char *a, *b;

		if (!((br_ec_all_m31.supported_curves >> c) & 1))
			continue;
		a = ec->generator(c, &la);
		b = br_ec_all_m31.generator(c, &lb);
		CHECK(la == lb && memcmp(a, b, la) == 0);
		a = ec->order(c, &la);
		b = br_ec_all_m31.order(c, &lb);
		CHECK(la == lb && memcmp(a, b, la) == 0);
		CHECK_EQ(ec->xoff(c, &la), br_ec_all_m31.xoff(c, &lb));
		CHECK_EQ(la, lb);
	}
	CHECK(ec64_native() == (sizeof(void *) == 8));
}

static void
test_c25519_diff(void)
{
	unsigned char u[33], k[40];
	int bad = 0;

	for (int i = 0; i < check_scale(1000); i++) {
		size_t kl = i % 5 == 0 ? (size_t)(check_rand(&seed) % 33) : 32;

		rnd(u, 32);
		rnd(k, kl);
		if (i % 7 == 0)	/* u >= p: 2^255 - 19 .. 2^255 - 1, bit 255 */
			memset(u, 0xff, 32), u[0] = (unsigned char)(0xed + i % 18);
		bad += diff_mul(BR_EC_curve25519, u, 32, k, kl, true);
		if (i % 3 == 0)
			bad += diff_mulgen(BR_EC_curve25519, k, kl);
	}
	/* low-order u (0, 1) and edge multipliers */
	memset(u, 0, 32);
	memset(k, 0xff, 40);
	bad += diff_mul(BR_EC_curve25519, u, 32, k, 32, true);
	u[0] = 1;
	bad += diff_mul(BR_EC_curve25519, u, 32, k, 32, true);
	memset(k, 0, 40);
	u[0] = 9;
	bad += diff_mul(BR_EC_curve25519, u, 32, k, 32, true);
	bad += diff_mul(BR_EC_curve25519, u, 32, k, 0, true);
	/* refused: a point not of 32 bytes, a multiplier over 32 bytes */
	bad += diff_mul(BR_EC_curve25519, u, 31, k, 32, false);
	bad += diff_mul(BR_EC_curve25519, u, 33, k, 32, false);
	bad += diff_mul(BR_EC_curve25519, u, 32, k, 33, false);
	bad += diff_mulgen(BR_EC_curve25519, k, 33);
	CHECK_EQ(bad, 0);
	CHECK_EQ(ec64_get()->muladd(u, u, 32, k, 32, k, 32,
	    BR_EC_curve25519), 0);
}

static const unsigned char p256_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};

static void
p256_point(unsigned char pt[65])
{
	unsigned char k[32];

	rnd(k, 32);
	k[0] &= 0x7f;
	br_ec_p256_m31.mulgen(pt, k, 32, BR_EC_secp256r1);
}

static void
test_p256_diff(void)
{
	unsigned char pt[65], k[40];
	int bad = 0;

	for (int i = 0; i < check_scale(300); i++) {
		size_t kl = i % 4 == 0 ? (size_t)(check_rand(&seed) % 33) : 32;

		p256_point(pt);
		rnd(k, kl);
		if (kl == 32)
			k[0] &= 0x7f;
		bad += diff_mul(BR_EC_secp256r1, pt, 65, k, kl, true);
	}
	for (int i = 0; i < check_scale(1200); i++) {
		size_t kl = i % 4 == 0 ? (size_t)(check_rand(&seed) % 33) : 32;

		rnd(k, kl);
		if (kl == 32 && i % 2)
			k[0] &= 0x7f;
		bad += diff_mulgen(BR_EC_secp256r1, k, kl);
	}
	CHECK_EQ(bad, 0);
}

/* n + d as 32 big-endian bytes (d small, no wrap past 2^256) */
static void
n_plus(unsigned char out[32], int d)
{
	int c = d;

	for (int i = 31; i >= 0; i--) {
		int v = p256_n[i] + c;

		c = v < 0 ? -1 : v >> 8;
		out[i] = (unsigned char)v;
	}
}

static void
test_p256_edges(void)
{
	unsigned char pt[65], k[40], a[65], b[65];
	int bad = 0;

	p256_point(pt);
	for (int d = -2; d <= 1; d++) {		/* n - 2 .. n + 1 */
		n_plus(k, d);
		bad += diff_mul(BR_EC_secp256r1, pt, 65, k, 32, true);
		bad += diff_mulgen(BR_EC_secp256r1, k, 32);
	}
	memset(k, 0, sizeof k);			/* zero, at every length */
	for (size_t l = 0; l <= 33; l += 11)
		bad += diff_mulgen(BR_EC_secp256r1, k, l);
	bad += diff_mul(BR_EC_secp256r1, pt, 65, k, 32, true);
	k[31] = 1;
	bad += diff_mul(BR_EC_secp256r1, pt, 65, k, 32, true);
	bad += diff_mulgen(BR_EC_secp256r1, k, 32);
	memset(k, 0xff, sizeof k);		/* all ones, 32 and 40 bytes */
	bad += diff_mul(BR_EC_secp256r1, pt, 65, k, 32, true);
	bad += diff_mulgen(BR_EC_secp256r1, k, 32);
	bad += diff_mulgen(BR_EC_secp256r1, k, 40);
	rnd(k, 40);
	bad += diff_mul(BR_EC_secp256r1, pt, 65, k, 40, true);
	CHECK_EQ(bad, 0);

	/* x * G: 1 * G is the generator; 0 * G and n * G the zero point */
	memset(k, 0, 32);
	k[31] = 1;
	ec64_get()->mulgen(a, k, 32, BR_EC_secp256r1);
	CHECK_MEM(a, br_ec_p256_m31.generator(BR_EC_secp256r1,
	    &(size_t){ 0 }), 65);
	memset(b, 0, sizeof b);
	b[0] = 4;
	ec64_get()->mulgen(a, p256_n, 32, BR_EC_secp256r1);
	CHECK_MEM(a, b, 65);
	/* the encoded zero point is not a valid input */
	CHECK_EQ(ec64_get()->mul(b, 65, k, 32, BR_EC_secp256r1), 0);
}

static void
test_p256_invalid(void)
{
	unsigned char pt[65], bad_pt[66], k[32];
	int bad = 0;

	p256_point(pt);
	rnd(k, 32);
	k[0] &= 0x7f;
	for (int pre = 0; pre < 8; pre++) {	/* prefix other than 0x04 */
		memcpy(bad_pt, pt, 65);
		bad_pt[0] = (unsigned char)pre;
		bad += diff_mul(BR_EC_secp256r1, bad_pt, 65, k, 32, pre == 4);
		CHECK_EQ(ec64_get()->mul(bad_pt, 65, k, 32, BR_EC_secp256r1),
		    pre == 4);
	}
	for (int i = 0; i < 64; i++) {		/* one bit off: off the curve */
		memcpy(bad_pt, pt, 65);
		bad_pt[1 + (check_rand(&seed) % 64)] ^=
		    (unsigned char)(1u << (i & 7));
		bad += diff_mul(BR_EC_secp256r1, bad_pt, 65, k, 32, false);
		CHECK_EQ(ec64_get()->mul(bad_pt, 65, k, 32, BR_EC_secp256r1),
		    0);
	}
	/* x >= p, y >= p: the same point with p added to one coordinate
	 * (only possible when the coordinate is below 2^256 - p) */
	memset(bad_pt, 0, 65);
	bad_pt[0] = 4;
	memset(bad_pt + 1, 0xff, 32);		/* x = 2^256 - 1 >= p */
	memcpy(bad_pt + 33, pt + 33, 32);
	bad += diff_mul(BR_EC_secp256r1, bad_pt, 65, k, 32, false);
	CHECK_EQ(ec64_get()->mul(bad_pt, 65, k, 32, BR_EC_secp256r1), 0);
	memcpy(bad_pt, pt, 33);
	memset(bad_pt + 33, 0xff, 32);		/* y = 2^256 - 1 >= p */
	bad += diff_mul(BR_EC_secp256r1, bad_pt, 65, k, 32, false);
	CHECK_EQ(ec64_get()->mul(bad_pt, 65, k, 32, BR_EC_secp256r1), 0);
	for (size_t l = 0; l <= 66; l += (l < 60 ? 32 : 1)) {	/* length */
		memcpy(bad_pt, pt, 65);
		bad_pt[65] = 0;
		bad += diff_mul(BR_EC_secp256r1, bad_pt, l, k, 32, l == 65);
	}
	bad_pt[0] = 0;				/* the one-byte zero point */
	bad += diff_mul(BR_EC_secp256r1, bad_pt, 1, k, 32, false);
	CHECK_EQ(bad, 0);
}

/* (5, y) is on P-256; (5 + p, y) is the same point, not canonical */
static void
test_p256_coord_ge_p(void)
{
	unsigned char pt[65], k[32];

	pt[0] = 4;
	unhex(pt + 1, "0000000000000000000000000000000000000000000000000000000000000005");
	unhex(pt + 33, "459243b9aa581806fe913bce99817ade11ca503c64d9a3c533415c083248fbcc");
	rnd(k, 32);
	k[0] &= 0x7f;
	CHECK_EQ(diff_mul(BR_EC_secp256r1, pt, 65, k, 32, true), 0);
	pt[0] = 4;
	unhex(pt + 1, "0000000000000000000000000000000000000000000000000000000000000005");
	unhex(pt + 33, "459243b9aa581806fe913bce99817ade11ca503c64d9a3c533415c083248fbcc");
	CHECK_EQ(ec64_get()->mul(pt, 65, k, 32, BR_EC_secp256r1), 1);
	unhex(pt + 1, "ffffffff00000001000000000000000000000001000000000000000000000004");
	unhex(pt + 33, "459243b9aa581806fe913bce99817ade11ca503c64d9a3c533415c083248fbcc");
	CHECK_EQ(diff_mul(BR_EC_secp256r1, pt, 65, k, 32, false), 0);
	CHECK_EQ(ec64_get()->mul(pt, 65, k, 32, BR_EC_secp256r1), 0);
}

static void
test_ecdsa(void)
{
	static const unsigned char d[32] = {
		0x3c, 0x9a, 0x11, 0x05, 0x6e, 0x72, 0x81, 0x44,
		0xa0, 0x0b, 0x9e, 0xd3, 0x17, 0x64, 0x2f, 0x58,
		0xc2, 0x05, 0x33, 0x9a, 0x7d, 0x18, 0x6b, 0x90,
		0x11, 0x02, 0xfe, 0xe1, 0x47, 0x2d, 0x60, 0x09
	};
	br_ec_private_key sk = { BR_EC_secp256r1, (unsigned char *)d, 32 };
	br_ec_public_key pk;
	unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE], q2[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char hv[32], sig[80];
	int bad = 0;

	CHECK_EQ(br_ec_compute_pub(ec64_get(), &pk, q, &sk), 65);
	CHECK_EQ(br_ec_compute_pub(&br_ec_p256_m31, NULL, q2, &sk), 65);
	CHECK_MEM(q, q2, 65);
	for (int i = 0; i < 40; i++) {
		size_t n;

		rnd(hv, 32);
		n = br_ecdsa_i31_sign_asn1(i & 1 ? ec64_get() : &br_ec_p256_m31,
		    &br_sha256_vtable, hv, &sk, sig);
		if (n == 0 || br_ecdsa_i31_vrfy_asn1(i & 1 ?
		    &br_ec_p256_m31 : ec64_get(), hv, 32, &pk, sig, n) != 1)
			bad++;
		sig[n - 1] ^= 1;		/* a bad signature is refused */
		if (br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hv, 32, &pk,
		    sig, n) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/* ec64's signer against BearSSL's i31 one: the same RFC 6979 bytes */
static int
sign_both(const br_hash_class *hf, const unsigned char *hv,
    const unsigned char *x, size_t xlen)
{
	br_ec_private_key sk = { BR_EC_secp256r1, (unsigned char *)x, xlen };
	unsigned char a[80], b[80];
	size_t la, lb;

	la = ec64_ecdsa_sign_asn1()(ec64_get(), hf, hv, &sk, a);
	lb = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, hf, hv, &sk, b);
	if (la != lb || memcmp(a, b, la) != 0) {
		fprintf(stderr, "ec64 signature differs: xlen %zu, %zu/%zu\n",
		    xlen, la, lb);
		return 1;
	}
	return 0;
}

static void
test_ecdsa_signer(void)
{
	static const br_hash_class *const hfs[5] = {
		&br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
		&br_sha384_vtable, &br_sha512_vtable
	};
	unsigned char x[40], hv[64], sig[160], q[65];	/* sig: P-384 ASN.1 up to 104 */
	br_ec_private_key sk = { BR_EC_secp256r1, x, 32 };
	br_ec_public_key pk = { BR_EC_secp256r1, q, 65 };
	int bad = 0;

	for (int i = 0; i < 60; i++) {
		const br_hash_class *hf = hfs[i % 5];
		size_t xl = i % 7 == 0 ? 31 : 32, n;

		rnd(x, 32);
		x[0] &= 0x7f;
		rnd(hv, 64);
		if (i % 11 == 0)
			memset(hv, 0xff, 64);	/* hash >= n */
		bad += sign_both(hf, hv, x, xl);
		sk.xlen = xl;
		br_ec_compute_pub(&br_ec_p256_m31, NULL, q, &sk);
		n = ec64_ecdsa_sign_asn1()(ec64_get(), hf, hv, &sk, sig);
		if (n == 0 || br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hv,
		    (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK,
		    &pk, sig, n) != 1)
			bad++;
	}
	CHECK_EQ(bad, 0);
	/* keys: 0, 1, n - 1, n, n + 1, all ones, 33 bytes, 40 bytes */
	memset(x, 0, sizeof x);
	rnd(hv, 32);
	CHECK_EQ(sign_both(&br_sha256_vtable, hv, x, 32), 0);
	CHECK_EQ(ec64_ecdsa_sign_asn1()(ec64_get(), &br_sha256_vtable, hv,
	    &(br_ec_private_key){ BR_EC_secp256r1, x, 32 }, sig), 0);
	x[31] = 1;
	CHECK_EQ(sign_both(&br_sha256_vtable, hv, x, 32), 0);
	CHECK_EQ(sign_both(&br_sha256_vtable, hv, x, 1), 0);
	for (int d = -1; d <= 1; d++) {
		n_plus(x, d);
		CHECK_EQ(sign_both(&br_sha256_vtable, hv, x, 32), 0);
	}
	memset(x, 0xff, 32);
	CHECK_EQ(sign_both(&br_sha256_vtable, hv, x, 32), 0);
	memset(x, 0, sizeof x);
	rnd(x + 8, 32);
	x[8] &= 0x7f;
	CHECK_EQ(sign_both(&br_sha256_vtable, hv, x, 40), 0);
	x[0] = 1;
	CHECK_EQ(sign_both(&br_sha256_vtable, hv, x, 40), 0);
	/* P-384: BearSSL's signer */
	rnd(x, 40);
	x[0] &= 0x7f;
	CHECK(ec64_ecdsa_sign_asn1()(ec64_get(), &br_sha384_vtable, hv,
	    &(br_ec_private_key){ BR_EC_secp384r1, x, 40 }, sig) > 0);
}

static void
test_other_curves(void)
{
	unsigned char a[140], b[140], k[48];
	size_t la, lb;

	rnd(k, 48);
	k[0] &= 0x7f;
	la = ec64_get()->mulgen(a, k, 48, BR_EC_secp384r1);
	lb = br_ec_all_m31.mulgen(b, k, 48, BR_EC_secp384r1);
	CHECK(la == 97 && la == lb && memcmp(a, b, la) == 0);
	CHECK_EQ(ec64_get()->mul(a, 97, k, 48, BR_EC_secp384r1),
	    br_ec_all_m31.mul(b, 97, k, 48, BR_EC_secp384r1));
	CHECK_MEM(a, b, 97);
}

void
suite_ec64(void)
{
	test_impl();
	test_rfc7748();
	test_c25519_diff();
	test_p256_diff();
	test_p256_edges();
	test_p256_invalid();
	test_p256_coord_ge_p();
	test_ecdsa();
	test_ecdsa_signer();
	test_other_curves();
}
