/*
 * test_sha256.c - src/sha256.c against BearSSL, byte for byte, with
 * SHA-NI where the CPU has it and with it forced off: the FIPS
 * 180-4 "abc" vector, random messages of every length 0-300 fed in
 * random pieces, out() not disturbing the context, state()/set_state()
 * (what BearSSL's multihash and HMAC use), a multihash running ours
 * against one running BearSSL's, HMAC_DRBG output, and the TLS 1.2 PRF
 * against br_tls12_sha256_prf for lengths 0-200 and split seeds.
 */
#include "internal.h"
#include "check.h"
#include "sha256.h"

#include <bearssl.h>

static unsigned seed = 0x7b1d3a95u;

static void
rnd(unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)check_rand(&seed);
}

static void
vector(void)
{
	static const unsigned char abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41,
		0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3,
		0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
		0x15, 0xad
	};
	br_sha256_context c;
	unsigned char out[32];

	sha256_get()->init(&c.vtable);
	c.vtable->update(&c.vtable, "abc", 3);
	c.vtable->out(&c.vtable, out);
	CHECK_MEM(out, abc, 32);
}

/* every length 0-300, in random pieces; out() twice, mid-way too */
static unsigned
lengths(void)
{
	unsigned char msg[300], a[32], b[32], st1[32], st2[32];
	unsigned bad = 0;

	for (size_t len = 0; len <= sizeof msg; len++) {
		br_sha256_context ours, ref;
		size_t off = 0;

		rnd(msg, len);
		sha256_get()->init(&ours.vtable);
		br_sha256_init(&ref);
		while (off < len) {
			size_t k = check_rand(&seed) % 90;

			if (k > len - off)
				k = len - off;
			ours.vtable->update(&ours.vtable, msg + off, k);
			br_sha256_update(&ref, msg + off, k);
			off += k;
			ours.vtable->out(&ours.vtable, a);
			br_sha256_out(&ref, b);
			bad += memcmp(a, b, 32) != 0;
		}
		ours.vtable->out(&ours.vtable, a);
		ours.vtable->out(&ours.vtable, b);
		bad += memcmp(a, b, 32) != 0;
		br_sha256_out(&ref, b);
		bad += memcmp(a, b, 32) != 0;
		bad += ours.vtable->state(&ours.vtable, st1) !=
		    br_sha256_state(&ref, st2);
		bad += memcmp(st1, st2, 32) != 0;
	}
	return bad;
}

/* set_state at a block boundary, then more data, as multihash does */
static void
states(void)
{
	unsigned char msg[256], st[32], a[32], b[32];
	br_sha256_context ours, ref;
	uint64_t n;

	rnd(msg, sizeof msg);
	br_sha256_init(&ref);
	br_sha256_update(&ref, msg, 128);
	n = br_sha256_state(&ref, st);
	sha256_get()->init(&ours.vtable);
	ours.vtable->set_state(&ours.vtable, st, n);
	ours.vtable->update(&ours.vtable, msg + 128, 100);
	br_sha256_update(&ref, msg + 128, 100);
	ours.vtable->out(&ours.vtable, a);
	br_sha256_out(&ref, b);
	CHECK_MEM(a, b, 32);
}

static void
multihash(void)
{
	br_multihash_context m1, m2;
	unsigned char msg[700], a[64], b[64];

	rnd(msg, sizeof msg);
	br_multihash_zero(&m1);
	br_multihash_zero(&m2);
	br_multihash_setimpl(&m1, br_sha256_ID, sha256_get());
	br_multihash_setimpl(&m1, br_sha384_ID, &br_sha384_vtable);
	br_multihash_setimpl(&m2, br_sha256_ID, &br_sha256_vtable);
	br_multihash_setimpl(&m2, br_sha384_ID, &br_sha384_vtable);
	br_multihash_init(&m1);
	br_multihash_init(&m2);
	for (size_t off = 0; off < sizeof msg; off += 77) {
		size_t k = sizeof msg - off < 77 ? sizeof msg - off : 77;

		br_multihash_update(&m1, msg + off, k);
		br_multihash_update(&m2, msg + off, k);
		CHECK_EQ(br_multihash_out(&m1, br_sha256_ID, a), 32);
		br_multihash_out(&m2, br_sha256_ID, b);
		CHECK_MEM(a, b, 32);
	}
}

static void
drbg(void)
{
	br_hmac_drbg_context d1, d2;
	unsigned char s[48], a[100], b[100];

	rnd(s, sizeof s);
	br_hmac_drbg_init(&d1, sha256_get(), s, sizeof s);
	br_hmac_drbg_init(&d2, &br_sha256_vtable, s, sizeof s);
	for (int i = 0; i < 5; i++) {
		br_hmac_drbg_generate(&d1, a, sizeof a);
		br_hmac_drbg_generate(&d2, b, sizeof b);
		CHECK_MEM(a, b, sizeof a);
	}
}

static unsigned
prf(void)
{
	unsigned char sec[48], s1[64], s2[13], a[200], b[200];
	br_tls_prf_seed_chunk ch[2];
	unsigned bad = 0;

	for (size_t len = 0; len <= sizeof a; len++) {
		size_t slen = check_rand(&seed) % sizeof sec;

		rnd(sec, slen);
		rnd(s1, sizeof s1);
		rnd(s2, sizeof s2);
		ch[0].data = s1;
		ch[0].len = check_rand(&seed) % sizeof s1;
		ch[1].data = s2;
		ch[1].len = sizeof s2;
		memset(a, 0xa5, sizeof a);
		memset(b, 0xa5, sizeof b);
		sha256_prf(a, len, sec, slen, "key expansion", 2, ch);
		br_tls12_sha256_prf(b, len, sec, slen, "key expansion", 2,
		    ch);
		bad += memcmp(a, b, sizeof a) != 0;
	}
	return bad;
}

static void
all(void)
{
	vector();
	CHECK_EQ(lengths(), 0);
	states();
	multihash();
	drbg();
	CHECK_EQ(prf(), 0);
}

void
suite_sha256(void)
{
	bool hw = sha256_hw();

	all();
	sha256_force_portable(true);
	CHECK(!sha256_hw());
	all();
	sha256_force_portable(false);
	CHECK_EQ(sha256_hw(), hw);
	if (hw)
		fprintf(stderr, "sha256: SHA-NI checked against BearSSL\n");
}
