/*
 * ct_ec64.c - constant-time check of src/ec64.c under valgrind's memcheck
 * (`make check-ec64-ct`), built from src/ec64.c with EC64_CT_CHECK (see
 * there).  The multiplier, the point, the private key are marked
 * undefined; memcheck then reports every conditional jump and every
 * memory address computed from them.  Each operation must add no report.
 * A first check branches on a secret on purpose and must be reported, so
 * the harness is known to see what it looks for.  Not run outside
 * valgrind (RUNNING_ON_VALGRIND is 0: one failure).
 */
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "ec64.h"

static unsigned passed, failed;

static void
secret(void *p, size_t n)
{
	VALGRIND_MAKE_MEM_UNDEFINED(p, n);
}

static void
expect(const char *what, unsigned long before, int want_reports)
{
	unsigned long got = VALGRIND_COUNT_ERRORS - before;

	if ((got != 0) == (want_reports != 0)) {
		passed++;
	} else {
		failed++;
		printf("FAIL %s: %lu memcheck reports\n", what, got);
	}
}

/* deliberately not constant time */
static volatile int sink;

static void __attribute__((noinline))
leaky(const unsigned char *k)
{
	if (k[0] & 1)
		sink++;
}

int
main(void)
{
	const br_ec_impl *ec = ec64_get();
	const unsigned char *g;
	unsigned char k[32], u[32], pt[65], out[65], hv[32] = { 7 }, sig[80];
	br_ec_private_key sk = { BR_EC_secp256r1, NULL, 32 };
	unsigned long e;
	size_t glen;

	if (!RUNNING_ON_VALGRIND) {
		printf("ct_ec64: run under valgrind\n0 passed, 1 failed\n");
		return 1;
	}
	for (int i = 0; i < 32; i++) {
		k[i] = (unsigned char)(0x5a ^ (i * 37));
		u[i] = (unsigned char)(i * 11 + 3);
	}
	k[0] &= 0x7f;

	secret(k, sizeof k);
	e = VALGRIND_COUNT_ERRORS;
	leaky(k);
	expect("the harness sees a secret branch", e, 1);

	e = VALGRIND_COUNT_ERRORS;
	ec->mulgen(out, k, 32, BR_EC_curve25519);
	expect("X25519 mulgen", e, 0);

	secret(u, sizeof u);
	e = VALGRIND_COUNT_ERRORS;
	ec->mul(u, 32, k, 32, BR_EC_curve25519);
	expect("X25519 mul", e, 0);

	e = VALGRIND_COUNT_ERRORS;
	ec->mulgen(out, k, 32, BR_EC_secp256r1);
	expect("P-256 mulgen", e, 0);

	g = ec->generator(BR_EC_secp256r1, &glen);
	memcpy(pt, g, glen);
	secret(pt, sizeof pt);
	e = VALGRIND_COUNT_ERRORS;
	ec->mul(pt, 65, k, 32, BR_EC_secp256r1);
	expect("P-256 mul", e, 0);

	memcpy(pt, k, 32);		/* a private key */
	sk.x = pt;
	secret(pt, 32);
	secret(hv, sizeof hv);
	e = VALGRIND_COUNT_ERRORS;
	ec64_ecdsa_sign_asn1()(ec, &br_sha256_vtable, hv, &sk, sig);
	expect("ECDSA P-256 sign", e, 0);

	printf("ct_ec64 (%s): %u passed, %u failed\n",
	    ec64_native() ? "ec64" : "BearSSL default", passed, failed);
	return failed == 0 ? 0 : 1;
}
