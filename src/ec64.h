/*
 * ec64.h - elliptic-curve arithmetic on 64-bit limbs, as a BearSSL
 * br_ec_impl.
 *
 * ec64_get() is a drop-in br_ec_impl for every curve BearSSL's
 * br_ec_all_m31 supports: Curve25519 (X25519, RFC 7748) and NIST P-256
 * run our own code on 64-bit limbs (unsigned __int128 products); P-384
 * and P-521 go to br_ec_all_m31.  Encodings, return codes and the
 * in-place conventions are those of br_ec_c25519_m31 and br_ec_p256_m31
 * (bearssl_ec.h): a point is 32 bytes (X25519, little-endian u) or 65
 * bytes (P-256, 0x04 || X || Y, big-endian); a multiplier is
 * little-endian for X25519 (as in RFC 7748), big-endian for P-256.
 * mul() and mulgen() run in constant time for the multiplier and the
 * point; muladd() (ECDSA verification, public data) is BearSSL's.
 *
 * ec64_ecdsa_sign_asn1() is an ECDSA signer (br_ecdsa_sign, ASN.1 output)
 * for P-256 keys on the same arithmetic, with RFC 6979 deterministic
 * nonces as BearSSL's i31 signer makes them: the signatures are the same
 * bytes.  Other curves go to br_ecdsa_i31_sign_asn1.
 *
 * Where the compiler has no unsigned __int128 (32-bit boards), ec64_get()
 * returns br_ec_get_default(), ec64_ecdsa_sign_asn1() BearSSL's default
 * signer, and ec64_native() is false.
 */
#ifndef WARD_EC64_H
#define WARD_EC64_H

#include <stdbool.h>

#include <bearssl.h>

const br_ec_impl	*ec64_get(void);
br_ecdsa_sign		 ec64_ecdsa_sign_asn1(void);
bool			 ec64_native(void);

#endif
