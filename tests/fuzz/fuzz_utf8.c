/*
 * fuzz_utf8.c - utf8_feed fed whole, split at a point chosen by the input,
 * split in three, and one byte at a time must agree; utf8_valid must agree
 * with the state; and the verdict must match a reference decoder that
 * computes code points with no state table (RFC 3629 §4: no overlongs, no
 * surrogates, nothing above U+10FFFF; a partial sequence is "pending" while
 * some completion of it could still be valid, which is where a fail-fast
 * validator has to reject).
 */
#include <stdlib.h>

#include "internal.h"

enum { R_ACCEPT, R_REJECT, R_PENDING };

static int
ref_viable(uint32_t lo, uint32_t hi, int len)
{
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };

	if (lo < min_cp[len])
		lo = min_cp[len];
	if (hi > 0x10FFFF)
		hi = 0x10FFFF;
	return lo <= hi && !(lo >= 0xD800 && hi <= 0xDFFF);
}

static int
ref_check(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t b = p[i++];
		uint32_t cp;
		int len;

		if (b < 0x80)
			continue;
		if (b >= 0xC0 && b <= 0xDF) {
			len = 2;
			cp = b & 0x1F;
		} else if (b >= 0xE0 && b <= 0xEF) {
			len = 3;
			cp = b & 0x0F;
		} else if (b >= 0xF0 && b <= 0xF7) {
			len = 4;
			cp = b & 0x07;
		} else {
			return R_REJECT;
		}
		for (int got = 1; got < len; got++) {
			int rem = len - got;
			uint32_t lo = cp << (6 * rem);

			if (!ref_viable(lo, lo | ((1u << (6 * rem)) - 1), len))
				return R_REJECT;
			if (i == n)
				return R_PENDING;
			if ((p[i] & 0xC0) != 0x80)
				return R_REJECT;
			cp = cp << 6 | (p[i++] & 0x3F);
		}
		if (!ref_viable(cp, cp, len))
			return R_REJECT;
	}
	return R_ACCEPT;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t whole, s;
	size_t a, b;
	int want, got;

	whole = utf8_feed(UTF8_ACCEPT, data, size);
	a = size ? data[0] % (size + 1) : 0;
	b = size ? a + data[size - 1] % (size - a + 1) : 0;
	/* split once */
	s = utf8_feed(UTF8_ACCEPT, data, a);
	s = utf8_feed(s, data + a, size - a);
	if (s != whole)
		abort();
	/* split twice */
	s = utf8_feed(UTF8_ACCEPT, data, a);
	s = utf8_feed(s, data + a, b - a);
	s = utf8_feed(s, data + b, size - b);
	if (s != whole)
		abort();
	/* one byte at a time; once REJECT, it stays */
	s = UTF8_ACCEPT;
	for (size_t i = 0; i < size; i++) {
		uint32_t prev = s;

		s = utf8_feed(s, data + i, 1);
		if (prev == UTF8_REJECT && s != UTF8_REJECT)
			abort();
	}
	if (s != whole)
		abort();
	if (utf8_valid(data, size) != (whole == UTF8_ACCEPT))
		abort();
	/* against the reference, for the whole input and the first split */
	want = ref_check(data, size);
	got = whole == UTF8_ACCEPT ? R_ACCEPT : whole == UTF8_REJECT ?
	    R_REJECT : R_PENDING;
	if (want != got)
		abort();
	s = utf8_feed(UTF8_ACCEPT, data, a);
	got = s == UTF8_ACCEPT ? R_ACCEPT : s == UTF8_REJECT ? R_REJECT :
	    R_PENDING;
	if (ref_check(data, a) != got)
		abort();
	return 0;
}
