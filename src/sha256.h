/*
 * sha256.h - SHA-256 as a BearSSL br_hash_class, faster than Debian's.
 *
 * sha256_get() is a drop-in for br_sha256_vtable (the same context
 * type, br_sha256_context; the same state()/set_state() encoding, so
 * BearSSL's multihash and HMAC take it): the TLS engine's transcript
 * hash, its HMAC_DRBG and the TLS 1.2 PRF below run on it.  On x86-64
 * CPUs with the SHA extensions (cpuid, asked once) the compression is
 * the SHA-NI instructions (~36 ns per block here against BearSSL's
 * ~214); elsewhere sha256_get() is br_sha256_vtable itself and
 * sha256_prf() br_tls12_sha256_prf (a plain-C compression at -O2 was
 * tried and was no faster than Debian's BearSSL).
 *
 * sha256_prf() is the TLS 1.2 PRF with SHA-256 (RFC 5246 section 5),
 * a br_tls_prf_impl: BearSSL's br_tls12_sha256_prf names
 * br_sha256_vtable itself, so the engine gets this one instead.
 */
#ifndef WARD_SHA256_H
#define WARD_SHA256_H

#include <stdbool.h>
#include <stddef.h>

#include <bearssl.h>

const br_hash_class *sha256_get(void);
void sha256_prf(void *dst, size_t len, const void *secret,
    size_t secret_len, const char *label, size_t seed_num,
    const br_tls_prf_seed_chunk *seed);
/* true when SHA-NI runs; tests may force BearSSL's own SHA-256 */
bool sha256_hw(void);
void sha256_force_portable(bool on);

#endif
