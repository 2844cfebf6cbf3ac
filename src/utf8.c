/*
 * utf8.c - incremental UTF-8 validation (RFC 3629 §4).
 *
 * A small explicit state machine: the state says how many continuation
 * bytes are still due and, for the first one, which narrower range is
 * allowed (that is where overlongs, surrogates U+D800..DFFF and code points
 * above U+10FFFF are refused).  The state is carried across reads and
 * fragments, so a sequence split anywhere validates the same as whole.
 * REJECT is sticky.  ASCII runs are skipped 64 bytes at a time (SSE2;
 * 32 elsewhere), then 8.
 */
#include "internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define LOADU(p)	_mm_loadu_si128((const __m128i *)(const void *)(p))

/* Bytes at p that are ASCII, in steps of 64 (0..n rounded down). */
static size_t
ascii_run(const uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 64 <= n; i += 64) {
		__m128i a = LOADU(p + i), b = LOADU(p + i + 16);
		__m128i c = LOADU(p + i + 32), d = LOADU(p + i + 48);

		if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b),
		    _mm_or_si128(c, d))) != 0)
			break;
	}
	return i;
}
#else
static size_t
ascii_run(const uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		uint64_t w[4];

		memcpy(w, p + i, 32);
		if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull)
			break;
	}
	return i;
}
#endif

enum {
	S_ACC = UTF8_ACCEPT, S_REJ = UTF8_REJECT,
	S_1,		/* one continuation due */
	S_2,		/* two due */
	S_3,		/* three due */
	S_E0,		/* after E0: A0..BF (no overlong) */
	S_ED,		/* after ED: 80..9F (no surrogate) */
	S_F0,		/* after F0: 90..BF (no overlong) */
	S_F4		/* after F4: 80..8F (<= U+10FFFF) */
};

static uint32_t
lead(uint8_t b)
{
	if (b < 0x80)
		return S_ACC;
	if (b >= 0xC2 && b <= 0xDF)
		return S_1;
	if (b == 0xE0)
		return S_E0;
	if (b == 0xED)
		return S_ED;
	if (b >= 0xE1 && b <= 0xEF)
		return S_2;
	if (b == 0xF0)
		return S_F0;
	if (b >= 0xF1 && b <= 0xF3)
		return S_3;
	if (b == 0xF4)
		return S_F4;
	return S_REJ;		/* 80..C1 (stray/overlong), F5..FF */
}

static uint32_t
step(uint32_t s, uint8_t b)
{
	switch (s) {
	case S_ACC:
		return lead(b);
	case S_1:
		return (b & 0xC0) == 0x80 ? S_ACC : S_REJ;
	case S_2:
		return (b & 0xC0) == 0x80 ? S_1 : S_REJ;
	case S_3:
		return (b & 0xC0) == 0x80 ? S_2 : S_REJ;
	case S_E0:
		return b >= 0xA0 && b <= 0xBF ? S_1 : S_REJ;
	case S_ED:
		return b >= 0x80 && b <= 0x9F ? S_1 : S_REJ;
	case S_F0:
		return b >= 0x90 && b <= 0xBF ? S_2 : S_REJ;
	case S_F4:
		return b >= 0x80 && b <= 0x8F ? S_2 : S_REJ;
	default:
		return S_REJ;
	}
}

uint32_t
utf8_feed(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && s != S_REJ) {
		if (s == S_ACC) {
			i += ascii_run(p + i, n - i);
			while (i + 8 <= n) {
				uint64_t w;

				memcpy(&w, p + i, 8);
				if (w & 0x8080808080808080ull)
					break;
				i += 8;
			}
			if (i == n)
				break;
		}
		s = step(s, p[i++]);
	}
	return s;
}

bool
utf8_valid(const uint8_t *p, size_t n)
{
	return utf8_feed(UTF8_ACCEPT, p, n) == UTF8_ACCEPT;
}

void
utf8_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (cap == 0)
		return;
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((uint8_t)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}
