/*
 * test_utf8.c - utf8_feed / utf8_valid (RFC 3629 §4) against known vectors
 * and against an independent reference written here.
 *
 * The reference decodes code points with no state table: a prefix is
 * "viable" while some completion of it could still be a valid scalar value
 * (the code points reachable from a partial sequence form one interval), so
 * it also defines where a fail-fast validator must reject.  Every input is
 * fed whole, one byte at a time, and split at every point.
 */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "check.h"

/* Reference results. */
enum { R_ACCEPT, R_REJECT, R_PARTIAL };

/* Can a sequence of length len whose code point lies in [lo, hi] still be
 * valid?  Valid: [min(len), 0x10FFFF] minus the surrogates. */
static bool
ref_viable(uint32_t lo, uint32_t hi, int len)
{
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };

	if (lo < min_cp[len])
		lo = min_cp[len];
	if (hi > 0x10FFFF)
		hi = 0x10FFFF;
	if (lo > hi)
		return false;
	return !(lo >= 0xD800 && hi <= 0xDFFF);
}

static int
ref_check(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t b = p[i++];
		uint32_t cp;
		int len, got;

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
			return R_REJECT;	/* continuation or F8..FF */
		}
		for (got = 1; got < len; got++) {
			int rem = len - got;
			uint32_t lo = cp << (6 * rem);

			if (!ref_viable(lo, lo | ((1u << (6 * rem)) - 1), len))
				return R_REJECT;
			if (i == n)
				return R_PARTIAL;
			if ((p[i] & 0xC0) != 0x80)
				return R_REJECT;
			cp = cp << 6 | (p[i++] & 0x3F);
		}
		if (!ref_viable(cp, cp, len))
			return R_REJECT;
	}
	return R_ACCEPT;
}

static int
class_of(uint32_t st)
{
	return st == UTF8_ACCEPT ? R_ACCEPT : st == UTF8_REJECT ? R_REJECT :
	    R_PARTIAL;
}

/* Feed p in pieces at the given cut points; returns the final state. */
static uint32_t
feed_cuts(const uint8_t *p, size_t n, const size_t *cut, int ncut)
{
	uint32_t s = UTF8_ACCEPT;
	size_t at = 0;

	for (int k = 0; k < ncut; k++) {
		s = utf8_feed(s, p + at, cut[k] - at);
		at = cut[k];
	}
	return utf8_feed(s, p + at, n - at);
}

/* Whole, one byte at a time, at every single split, and at 2 random cut
 * sets: all must agree.  Returns the class of the whole-feed state. */
static int
feed_all_ways(const uint8_t *p, size_t n, unsigned *seed, int *disagree)
{
	uint32_t whole = utf8_feed(UTF8_ACCEPT, p, n), s = UTF8_ACCEPT;
	size_t cut[3];

	for (size_t i = 0; i < n; i++)
		s = utf8_feed(s, p + i, 1);
	if (s != whole)
		(*disagree)++;
	for (size_t i = 0; i <= n; i++) {
		cut[0] = i;
		if (feed_cuts(p, n, cut, 1) != whole)
			(*disagree)++;
	}
	for (int r = 0; r < 2 && n > 0; r++) {
		cut[0] = check_rand(seed) % (n + 1);
		cut[1] = cut[0] + check_rand(seed) % (n - cut[0] + 1);
		cut[2] = cut[1] + check_rand(seed) % (n - cut[1] + 1);
		if (feed_cuts(p, n, cut, 3) != whole)
			(*disagree)++;
	}
	if ((utf8_valid(p, n) ? UTF8_ACCEPT : UTF8_REJECT) !=
	    (whole == UTF8_ACCEPT ? UTF8_ACCEPT : UTF8_REJECT))
		(*disagree)++;
	return class_of(whole);
}

/* The bytes as a heap copy of exact size, so ASan sees any over-read. */
static int
expect(const char *s, size_t n, int want)
{
	uint8_t *p = malloc(n ? n : 1);
	unsigned seed = 12345;
	int bad = 0, got;

	memcpy(p, s, n);
	got = feed_all_ways(p, n, &seed, &bad);
	free(p);
	if (bad)
		fprintf(stderr, "  split feeding disagrees on %zu bytes\n", n);
	return bad == 0 && got == want;
}

#define ACC(lit)	CHECK(expect(lit, sizeof(lit) - 1, R_ACCEPT))
#define REJ(lit)	CHECK(expect(lit, sizeof(lit) - 1, R_REJECT))
#define PART(lit)	CHECK(expect(lit, sizeof(lit) - 1, R_PARTIAL))

static void
test_vectors(void)
{
	ACC("");
	ACC("hello, world");
	ACC("\x00\x7F");
	/* kosme: the Greek word of Markus Kuhn's UTF-8 test file */
	ACC("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5");
	ACC("\xC2\x80");			/* U+0080 */
	ACC("\xDF\xBF");			/* U+07FF */
	ACC("\xE0\xA0\x80");			/* U+0800 */
	ACC("\xED\x9F\xBF");			/* U+D7FF */
	ACC("\xEE\x80\x80");			/* U+E000 */
	ACC("\xEF\xBF\xBE");			/* U+FFFE: noncharacter */
	ACC("\xEF\xBF\xBF");			/* U+FFFF */
	ACC("\xF0\x90\x80\x80");		/* U+10000 */
	ACC("\xF4\x8F\xBF\xBF");		/* U+10FFFF */
	ACC("\xF0\x9F\x98\x80 ok");		/* U+1F600 */
	/* overlongs (RFC 3629 §10) */
	REJ("\xC0\xAF");
	REJ("\xC1\xBF");
	REJ("\xC0\x80");
	REJ("\xE0\x80\xAF");
	REJ("\xE0\x9F\xBF");
	REJ("\xF0\x80\x80\xAF");
	REJ("\xF0\x8F\xBF\xBF");
	/* surrogates */
	REJ("\xED\xA0\x80");
	REJ("\xED\xAD\xBF");
	REJ("\xED\xAE\x80");
	REJ("\xED\xBF\xBF");
	REJ("\xED\xA0\x80\xED\xB0\x80");	/* a CESU-8 pair */
	/* beyond U+10FFFF and never-valid bytes */
	REJ("\xF4\x90\x80\x80");
	REJ("\xF7\xBF\xBF\xBF");
	REJ("\xF5");
	REJ("\xF8\x88\x80\x80\x80");
	REJ("\xFC\x84\x80\x80\x80\x80");
	REJ("\xFE");
	REJ("\xFF");
	/* stray continuations */
	REJ("\x80");
	REJ("\xBF");
	REJ("a\x80" "b");
	REJ("\xCE\xBA\x80");
	/* a lead byte followed by a non-continuation */
	REJ("\xC2" "A");
	REJ("\xE1\x80" "A");
	REJ("\xF1\x80\x80" "A");
	REJ("\xC2\xC2\x80");
	/* truncated: not ACCEPT at the end (and not REJECT yet) */
	PART("\xC2");
	PART("\xE1\x80");
	PART("\xF0\x90\x80");
	PART("abc\xCE");
	PART("\xCE\xBA\xE1\xBD");
}

/* Every byte value on its own. */
static void
test_single_bytes(void)
{
	int bad = 0;

	for (int b = 0; b < 256; b++) {
		uint8_t c = (uint8_t)b;
		int want = b < 0x80 ? R_ACCEPT :
		    (b >= 0xC2 && b <= 0xF4) ? R_PARTIAL : R_REJECT;

		if (class_of(utf8_feed(UTF8_ACCEPT, &c, 1)) != want ||
		    ref_check(&c, 1) != want || utf8_valid(&c, 1) != (b < 0x80))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

/* REJECT is sticky: nothing fed afterwards brings the state back. */
static void
test_sticky(void)
{
	static const uint8_t ok[] = "plain ascii then \xCE\xBA\xE1\xBD\xB9";
	int bad = 0;

	for (int b = 0; b < 256; b++) {
		uint8_t c = (uint8_t)b;

		if (utf8_feed(UTF8_REJECT, &c, 1) != UTF8_REJECT)
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(utf8_feed(UTF8_REJECT, ok, sizeof ok - 1), UTF8_REJECT);
	CHECK_EQ(utf8_feed(UTF8_REJECT, ok, 0), UTF8_REJECT);
	CHECK(!utf8_valid((const uint8_t *)"\xFF" "aaaaaaaaaaaaaaaa", 17));
}

/*
 * Fail fast (RFC 6455 §8.1 relies on it): the state turns REJECT at the
 * first byte that no continuation could make valid, not later.
 */
static void
test_fail_fast(void)
{
	static const struct {
		const char	*s;
		size_t		 bad;	/* the first bad byte */
	} v[] = {
		{ "abc\xC0\xAF", 3 },
		{ "abc\xE0\x80\xAF", 4 },
		{ "\xF0\x80\x80\xAF", 1 },
		{ "\xED\xA0\x80", 1 },
		{ "\xF4\x90\x80\x80", 1 },
		{ "xx\xCE\xBA\xF5", 4 },
		{ "\xE1\xBD" "A", 2 },
		{ "0123456789abcdef\x80", 16 },
		{ "0123456789abcde\xCE\xBA\xBA", 17 },
	};

	for (size_t k = 0; k < ARRAY_LEN(v); k++) {
		const uint8_t *p = (const uint8_t *)v[k].s;
		uint32_t s = utf8_feed(UTF8_ACCEPT, p, v[k].bad);

		CHECK(s != UTF8_REJECT);
		CHECK_EQ(utf8_feed(s, p + v[k].bad, 1), UTF8_REJECT);
		CHECK_EQ(utf8_feed(UTF8_ACCEPT, p, v[k].bad + 1), UTF8_REJECT);
	}
}

/* A multi-byte sequence split at every byte boundary, across 3 feeds. */
static void
test_split_sequences(void)
{
	static const char *const seqs[] = {
		"\xC2\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
		"\xF4\x8F\xBF\xBF", "\xED\x9F\xBF",
	};
	int bad = 0;

	for (size_t k = 0; k < ARRAY_LEN(seqs); k++) {
		const uint8_t *p = (const uint8_t *)seqs[k];
		size_t n = strlen(seqs[k]);

		for (size_t a = 0; a <= n; a++) {
			for (size_t b = a; b <= n; b++) {
				uint32_t s = utf8_feed(UTF8_ACCEPT, p, a);

				s = utf8_feed(s, p + a, b - a);
				if (b > 0 && b < n && s == UTF8_ACCEPT)
					bad++;	/* not mid-sequence */
				s = utf8_feed(s, p + b, n - b);
				if (s != UTF8_ACCEPT)
					bad++;
			}
		}
	}
	CHECK_EQ(bad, 0);
}

/* Byte values at every class boundary of the DFA and of the reference. */
static const uint8_t edge[] = {
	0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1,
	0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3,
	0xF4, 0xF5, 0xF7, 0xF8, 0xFF,
};

static int
compare(const uint8_t *p, size_t n, int *shown)
{
	int got = class_of(utf8_feed(UTF8_ACCEPT, p, n));
	int want = ref_check(p, n);

	if (got == want)
		return 0;
	if ((*shown)++ < 5) {
		fprintf(stderr, "  utf8 mismatch:");
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02X", p[i]);
		fprintf(stderr, " got %d want %d\n", got, want);
	}
	return 1;
}

/*
 * Brute force against the reference: every 1- and 2-byte sequence, every
 * 3-byte sequence with a non-ASCII lead, and every 4-byte sequence over the
 * boundary bytes (whose prefixes are the 1..3-byte classes again).
 */
static void
test_brute_force(void)
{
	uint8_t p[4];
	int bad = 0, shown = 0;

	for (unsigned a = 0; a < 256; a++) {
		p[0] = (uint8_t)a;
		bad += compare(p, 1, &shown);
		for (unsigned b = 0; b < 256; b++) {
			p[1] = (uint8_t)b;
			bad += compare(p, 2, &shown);
			if (a < 0xC0)
				continue;
			for (unsigned c = 0; c < 256; c++) {
				p[2] = (uint8_t)c;
				bad += compare(p, 3, &shown);
			}
		}
	}
	for (size_t a = 0; a < sizeof edge; a++)
		for (size_t b = 0; b < sizeof edge; b++)
			for (size_t c = 0; c < sizeof edge; c++)
				for (size_t d = 0; d < sizeof edge; d++) {
					p[0] = edge[a];
					p[1] = edge[b];
					p[2] = edge[c];
					p[3] = edge[d];
					bad += compare(p, 4, &shown);
				}
	CHECK_EQ(bad, 0);
}

/*
 * Random strings mixing ASCII runs (the 8-byte fast path) with edge bytes
 * and valid sequences, fed whole and split; checked against the reference.
 */
static void
test_random(void)
{
	static const char *const pieces[] = {
		"abcdefgh", "0123456789ABCDEFG", " ", "\xCE\xBA",
		"\xE1\xBD\xB9", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
	};
	unsigned seed = 0x9E3779B9u;
	int bad = 0, disagree = 0, shown = 0;
	uint8_t buf[96];

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 0;

		while (n < 64) {
			unsigned r = check_rand(&seed) % 10;

			if (r < 7) {
				const char *s = pieces[check_rand(&seed) %
				    ARRAY_LEN(pieces)];

				memcpy(buf + n, s, strlen(s));
				n += strlen(s);
			} else if (r < 9 || iter % 4 == 0) {
				buf[n++] = 'z';
			} else {
				buf[n++] =
				    edge[check_rand(&seed) % sizeof edge];
			}
			if (check_rand(&seed) % 8 == 0)
				break;
		}
		feed_all_ways(buf, n, &seed, &disagree);
		bad += compare(buf, n, &shown);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(disagree, 0);
}

/*
 * The 32- and 8-byte ASCII skips: one byte of every kind at every position
 * of ASCII runs up to 100 bytes, whole and split at every point.
 */
static void
test_ascii_runs(void)
{
	static const struct {
		const char	*s;
		bool		 ok;
	} ins[] = {
		{ "\x80", false }, { "\xC0\xAF", false }, { "\xFF", false },
		{ "\xCE\xBA", true }, { "\xE2\x82\xAC", true },
		{ "\xF0\x9F\x98\x80", true }, { "\xED\xA0\x80", false },
		{ "\xE2\x82", false },
	};
	uint8_t buf[128];
	int bad = 0;

	for (size_t n = 0; n <= 100; n++) {
		for (size_t k = 0; k <= n; k++) {
			for (size_t t = 0; t < ARRAY_LEN(ins); t++) {
				size_t il = strlen(ins[t].s), len = n + il;

				memset(buf, 'a', n);
				memmove(buf + k + il, buf + k, n - k);
				memcpy(buf + k, ins[t].s, il);
				if (utf8_valid(buf, len) != ins[t].ok)
					bad++;
				for (size_t cut = 0; cut <= len; cut += 7) {
					uint32_t st = utf8_feed(UTF8_ACCEPT,
					    buf, cut);

					st = utf8_feed(st, buf + cut, len - cut);
					if ((st == UTF8_ACCEPT) != ins[t].ok)
						bad++;
				}
			}
		}
		memset(buf, 'a', n);
		if (!utf8_valid(buf, n))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

void
suite_utf8(void)
{
	test_vectors();
	test_single_bytes();
	test_sticky();
	test_fail_fast();
	test_split_sequences();
	test_brute_force();
	test_random();
	test_ascii_runs();
}
