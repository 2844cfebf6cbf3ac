/*
 * test_base64.c - RFC 4648 base64 (§4) and base64url (§5): the §10 test
 * vectors both ways, strict decoding (alphabet, padding, canonical trailing
 * bits, output capacity), and random round trips.
 */
#include <stdlib.h>

#include "internal.h"
#include "check.h"

static const struct {
	const char	*raw, *enc;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

/* Decode from an exact-size heap copy (ASan sees any over-read). */
static long
dec(const char *s, uint8_t *out, size_t cap, bool url)
{
	size_t n = strlen(s);
	char *p = malloc(n ? n : 1);
	long r;

	memcpy(p, s, n);
	r = base64_decode(p, n, out, cap, url);
	free(p);
	return r;
}

static void
test_vectors(void)
{
	for (size_t i = 0; i < ARRAY_LEN(rfc4648); i++) {
		const char *raw = rfc4648[i].raw, *enc = rfc4648[i].enc;
		size_t rl = strlen(raw), el = strlen(enc);
		char out[16];
		uint8_t back[16];
		size_t n;

		memset(out, 'X', sizeof out);
		n = base64_encode((const uint8_t *)raw, rl, out);
		CHECK_EQ(n, el);
		CHECK_STR(out, enc);		/* NUL-terminated */
		CHECK_EQ(dec(enc, back, sizeof back, false), (long)rl);
		CHECK_MEM(back, raw, rl);
	}
	/* base64url: the same data without padding */
	{
		static const char *const url[] = { "", "Zg", "Zm8", "Zm9v",
		    "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
		uint8_t back[16];

		for (size_t i = 0; i < ARRAY_LEN(url); i++) {
			size_t rl = strlen(rfc4648[i].raw);

			CHECK_EQ(dec(url[i], back, sizeof back, true), (long)rl);
			CHECK_MEM(back, rfc4648[i].raw, rl);
		}
	}
}

/* The two alphabets differ in 62/63: '+' '/' vs '-' '_' (§5). */
static void
test_alphabets(void)
{
	static const uint8_t raw[] = { 0xFB, 0xFF, 0xBF };
	uint8_t back[8];
	char out[8];

	CHECK_EQ(base64_encode(raw, 2, out), 4);
	CHECK_STR(out, "+/8=");
	CHECK_EQ(base64_encode(raw, 3, out), 4);
	CHECK_STR(out, "+/+/");
	CHECK_EQ(dec("+/8=", back, sizeof back, false), 2);
	CHECK_MEM(back, raw, 2);
	CHECK_EQ(dec("-_8", back, sizeof back, true), 2);
	CHECK_MEM(back, raw, 2);
	CHECK_EQ(dec("-_-_", back, sizeof back, true), 3);
	CHECK_MEM(back, raw, 3);
	CHECK_EQ(dec("-_8=", back, sizeof back, false), -1);
	CHECK_EQ(dec("+/8", back, sizeof back, true), -1);
	CHECK_EQ(dec("+/+/", back, sizeof back, true), -1);
	CHECK_EQ(dec("-_-_", back, sizeof back, false), -1);
}

static void
test_reject(void)
{
	static const char *const bad_std[] = {
		"Zg=",		/* length not a multiple of 4 */
		"Zg",
		"Zm9vY",
		"Z===",		/* three pad characters */
		"====",
		"=Zg=",		/* padding first */
		"Zg==Zg==",	/* padding in the middle */
		"Zm8==",
		"Z=g=",
		"Zh==",		/* non-zero unused bits (§3.5) */
		"Zm9=",
		"Zm9vYh==",
		"Zm9vYmF=",
		"Zm9v\n",	/* characters outside the alphabet */
		"Zm 9v",
		"Zm9v!Zm9",
		"Zm9v\x80Zm9",
		"Zm9v====",
	};
	static const char *const bad_url[] = {
		"Z",		/* one character left over */
		"Zm9vY",
		"Zh",
		"Zm9",
		"Zm9vYh",
		"Zm9v+",
		"Zm9v/",
		"Zm9v.",
	};
	uint8_t out[32];

	for (size_t i = 0; i < ARRAY_LEN(bad_std); i++)
		CHECK_EQ(dec(bad_std[i], out, sizeof out, false), -1);
	for (size_t i = 0; i < ARRAY_LEN(bad_url); i++)
		CHECK_EQ(dec(bad_url[i], out, sizeof out, true), -1);
	/* an embedded NUL is not the end of the input */
	CHECK_EQ(base64_decode("Zg\0=", 4, out, sizeof out, false), -1);
}

/* Each byte value as the last character of a full quantum. */
static void
test_every_char(void)
{
	static const char std[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int bad = 0;

	for (int c = 0; c < 256; c++) {
		char in[4] = { 'A', 'A', 'A', (char)c };
		uint8_t out[4];
		long want = c != 0 && strchr(std, c) ? 3 : c == '=' ? 2 : -1;
		long want_url = c != 0 && (strchr(std, c) || c == '-' ||
		    c == '_') && c != '+' && c != '/' ? 3 : -1;

		if (base64_decode(in, 4, out, sizeof out, false) != want)
			bad++;
		if (base64_decode(in, 4, out, sizeof out, true) != want_url)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/* The output capacity is honoured exactly. */
static void
test_capacity(void)
{
	uint8_t out[8];

	memset(out, 0xAA, sizeof out);
	CHECK_EQ(dec("Zm9vYmFy", out, 5, false), -1);
	CHECK_EQ(out[5], 0xAA);
	CHECK_EQ(dec("Zm9vYmFy", out, 6, false), 6);
	CHECK_EQ(out[6], 0xAA);
	CHECK_EQ(dec("Zm9vYg==", out, 3, false), -1);
	CHECK_EQ(dec("Zm9vYg==", out, 4, false), 4);
	CHECK_EQ(dec("", out, 0, false), 0);
	CHECK_EQ(dec("Zg", out, 0, true), -1);
}

/* Random bytes of every length 0..96 encode and decode back. */
static void
test_round_trip(void)
{
	unsigned seed = 77;
	int bad = 0;

	for (size_t n = 0; n <= 96; n++) {
		uint8_t raw[96], back[96];
		char enc[132];
		size_t el;

		for (size_t i = 0; i < n; i++)
			raw[i] = (uint8_t)check_rand(&seed);
		el = base64_encode(raw, n, enc);
		if (el != (n + 2) / 3 * 4 || strlen(enc) != el)
			bad++;
		if (base64_decode(enc, el, back, sizeof back,
		    false) != (long)n ||
		    memcmp(back, raw, n) != 0)
			bad++;
		/* the same text as base64url without padding */
		while (el > 0 && enc[el - 1] == '=')
			el--;
		for (size_t i = 0; i < el; i++)
			enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' :
			    enc[i];
		if (base64_decode(enc, el, back, sizeof back,
		    true) != (long)n ||
		    memcmp(back, raw, n) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

void
suite_base64(void)
{
	test_vectors();
	test_alphabets();
	test_reject();
	test_every_char();
	test_capacity();
	test_round_trip();
}
