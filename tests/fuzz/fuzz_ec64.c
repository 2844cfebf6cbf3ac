/*
 * fuzz_ec64.c - src/ec64.c against BearSSL's br_ec_c25519_m31 and
 * br_ec_p256_m31 on fuzzer-chosen points and multipliers: the same call
 * on both must give the same return value and, when it succeeds, the
 * same bytes (abort otherwise).
 *
 * The first input byte picks a mode, the rest is the payload:
 *   mode 0  X25519 mul: u = payload[0..31], multiplier = the rest
 *           (any length: over 32 bytes both refuse)
 *   mode 1  X25519 mulgen, multiplier = the payload
 *   mode 2  P-256 mul on a raw point: payload[0] is the point length
 *           (0..66), then the point bytes, then the multiplier; nearly
 *           always invalid, so this checks decoding and the return value
 *   mode 3  P-256 mul on a valid point: the point is m31's mulgen of
 *           payload[0..31], the multiplier is the rest
 *   mode 4  P-256 mulgen, multiplier = the payload
 *   mode 5  ECDSA P-256 signature: payload[0] picks the hash function,
 *           then 1..40 key bytes (payload[1] % 40 + 1), the rest is the
 *           hash value; ec64_ecdsa_sign_asn1() and br_ecdsa_i31_sign_asn1
 *           must give the same bytes (RFC 6979 nonces), or both refuse
 * P-256 multipliers are cut to 32 bytes and kept below the order n (the
 * contract of br_ec_impl: above it the result is indeterminate).
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "ec64.h"

#include <bearssl.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char p256_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};

static void
differ(const char *what)
{
	fprintf(stderr, "fuzz_ec64: ec64 and m31 differ: %s\n", what);
	abort();
}

/* a P-256 multiplier: at most 32 bytes, below n */
static size_t
p256_scalar(unsigned char k[32], const uint8_t *d, size_t n)
{
	if (n > 32)
		n = 32;
	memcpy(k, d, n);
	if (n == 32 && memcmp(k, p256_n, 32) >= 0)
		k[0] &= 0x7f;
	return n;
}

static void
mul_both(int curve, const unsigned char *g, size_t glen,
    const unsigned char *k, size_t klen)
{
	const br_ec_impl *ref = curve == BR_EC_curve25519 ?
	    &br_ec_c25519_m31 : &br_ec_p256_m31;
	unsigned char a[80], b[80];
	uint32_t ra, rb;

	memcpy(a, g, glen);
	memcpy(b, g, glen);
	ra = ec64_get()->mul(a, glen, k, klen, curve);
	rb = ref->mul(b, glen, k, klen, curve);
	if (ra != rb)
		differ("mul return value");
	if (ra && memcmp(a, b, glen) != 0)
		differ("mul result");
}

static void
mulgen_both(int curve, const unsigned char *k, size_t klen)
{
	const br_ec_impl *ref = curve == BR_EC_curve25519 ?
	    &br_ec_c25519_m31 : &br_ec_p256_m31;
	unsigned char a[80], b[80];
	size_t la, lb;

	la = ec64_get()->mulgen(a, k, klen, curve);
	lb = ref->mulgen(b, k, klen, curve);
	if (la != lb || memcmp(a, b, la) != 0)
		differ("mulgen");
}

static void
sign_both(unsigned which, const unsigned char *x, size_t xlen,
    const unsigned char *h, size_t hlen)
{
	static const br_hash_class *const hfs[5] = {
		&br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
		&br_sha384_vtable, &br_sha512_vtable
	};
	const br_hash_class *hf = hfs[which % 5];
	br_ec_private_key sk = { BR_EC_secp256r1, (unsigned char *)x, xlen };
	unsigned char hv[64], a[80], b[80];
	size_t la, lb;

	memset(hv, 0, sizeof hv);
	memcpy(hv, h, hlen < sizeof hv ? hlen : sizeof hv);
	la = ec64_ecdsa_sign_asn1()(ec64_get(), hf, hv, &sk, a);
	lb = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, hf, hv, &sk, b);
	if (la != lb || memcmp(a, b, la) != 0)
		differ("ECDSA signature");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char pt[80], k[64];
	size_t n, kl;

	if (size < 1)
		return 0;
	n = size - 1;
	data++;
	switch (data[-1] % 6) {
	case 0:
		if (n < 32)
			return 0;
		memcpy(pt, data, 32);
		kl = n - 32 > sizeof k ? sizeof k : n - 32;
		memcpy(k, data + 32, kl);
		mul_both(BR_EC_curve25519, pt, 32, k, kl);
		break;
	case 1:
		kl = n > sizeof k ? sizeof k : n;
		memcpy(k, data, kl);
		mulgen_both(BR_EC_curve25519, k, kl);
		break;
	case 2:
		if (n < 1 || data[0] > 66 || n - 1 < data[0])
			return 0;
		memset(pt, 0, sizeof pt);
		memcpy(pt, data + 1, data[0]);
		kl = p256_scalar(k, data + 1 + data[0], n - 1 - data[0]);
		mul_both(BR_EC_secp256r1, pt, data[0], k, kl);
		break;
	case 3:
		if (n < 32)
			return 0;
		p256_scalar(k, data, 32);
		br_ec_p256_m31.mulgen(pt, k, 32, BR_EC_secp256r1);
		kl = p256_scalar(k, data + 32, n - 32);
		mul_both(BR_EC_secp256r1, pt, 65, k, kl);
		break;
	case 4:
		kl = p256_scalar(k, data, n);
		mulgen_both(BR_EC_secp256r1, k, kl);
		break;
	default:
		if (n < 2)
			return 0;
		kl = (size_t)data[1] % 40 + 1;
		if (n - 2 < kl)
			return 0;
		sign_both(data[0], data + 2, kl, data + 2 + kl, n - 2 - kl);
		break;
	}
	return 0;
}
