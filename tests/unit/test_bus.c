/*
 * test_bus.c - the bus's wire (src/bus.c, docs/redis.md): channel name
 * escaping and the message header, the parts an outside publisher feeds.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "check.h"

/* Every byte value escapes and comes back; only [A-Za-z0-9_.-] stay. */
static void
test_escape_roundtrip(void)
{
	char in[256], out[800], back[300];
	size_t at = 0;
	long n;
	int plain = 0;

	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	CHECK(bus_escape(out, sizeof out, &at, in, sizeof in));
	for (size_t i = 0; i < at; i++) {
		CHECK(out[i] != ':' && out[i] != '*' && out[i] != '?' &&
		    out[i] != '[' && out[i] != ' ');
		plain += out[i] != '%';
	}
	/* 26 + 26 + 10 + "_.-" plain, the rest three bytes each */
	CHECK_EQ(at, 65 + 3 * (256 - 65));
	n = bus_unescape(out, at, back, sizeof back);
	CHECK_EQ(n, 256);
	CHECK(n == 256 && memcmp(back, in, 256) == 0);
	at = 0;
	CHECK(bus_escape(out, sizeof out, &at, "u 1/x", 5));
	CHECK_STR(out, "u%201%2Fx");
	at = 0;
	CHECK(bus_escape(out, sizeof out, &at, "room-42_a.b", 11));
	CHECK_STR(out, "room-42_a.b");
	/* does not fit: false, and never past cap */
	at = 0;
	memset(out, 'Z', sizeof out);
	CHECK(!bus_escape(out, 8, &at, "abcdefghij", 10));
	CHECK(at <= 8);
	CHECK_EQ(out[8], 'Z');
}

static void
test_unescape_bad(void)
{
	static const char *const bad[] = { "%", "%4", "a%G1", "%1g", "ab%",
	    "ab%2" };
	char out[16];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		CHECK_EQ(bus_unescape(bad[i], strlen(bad[i]), out, sizeof out),
		    -1);
	CHECK_EQ(bus_unescape("%41%62c", 7, out, sizeof out), 3);
	CHECK_STR(out, "Abc");
	CHECK_EQ(bus_unescape("%6a", 3, out, sizeof out), 1);
	CHECK_STR(out, "j");
	/* too long for out (room for the NUL too) */
	CHECK_EQ(bus_unescape("abcd", 4, out, 4), -1);
	CHECK_EQ(bus_unescape("abc", 3, out, 4), 3);
}

static long
hdr(const char *s, struct str *inst, uint64_t *seq, int *op)
{
	struct str m = { s, strlen(s) };

	return bus_header(&m, inst, seq, op);
}

static void
test_header(void)
{
	static const char *const bad[] = {
		"", "w1", "w1 ", "w1 a", "w1 a 1", "w1 a 1 t", "w2 a 1 t\n",
		"w1  1 t\n", "w1 a  t\n", "w1 a x t\n", "w1 a 1 q\n",
		"w1 a 1 tt\n", "w1 a 1\n", "w1 a1 t\n", "x1 a 1 t\nbody",
		"w1 a 1 \n", "W1 a 1 t\n",
	};
	struct str inst;
	uint64_t seq;
	int op;
	long off;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		off = hdr(bad[i], &inst, &seq, &op);
		if (off != -1)
			printf("  accepted: \"%s\"\n", bad[i]);
		CHECK_EQ(off, -1);
	}
	off = hdr("w1 5f3a9c0e12ab44d1 1042 t\n{\"a\":1}", &inst, &seq, &op);
	CHECK_EQ(off, 27);
	CHECK(inst.n == 16 && memcmp(inst.p, "5f3a9c0e12ab44d1", 16) == 0);
	CHECK_EQ(seq, 1042);
	CHECK_EQ(op, WS_OP_TEXT);
	off = hdr("w1 x-billing 7 b flag1,flag2\n\x01\x02", &inst, &seq, &op);
	CHECK_EQ(off, 29);
	CHECK(inst.n == 9 && memcmp(inst.p, "x-billing", 9) == 0);
	CHECK_EQ(seq, 7);
	CHECK_EQ(op, WS_OP_BINARY);
	/* an empty payload is a message too */
	CHECK_EQ(hdr("w1 a 1 t\n", &inst, &seq, &op), 9);
	/* every proper prefix of a good header (no newline yet) is refused */
	{
		const char *g = "w1 abc 12 t\n";

		for (size_t n = 0; n < strlen(g); n++) {
			struct str m = { g, n };

			CHECK_EQ(bus_header(&m, &inst, &seq, &op), -1);
		}
	}
}

/* Every name starts with redis_prefix; a name that does not fit is -1. */
static void
test_name(void)
{
	char out[64], small[8];
	char saved[sizeof cfg.redis_prefix];

	memcpy(saved, cfg.redis_prefix, sizeof saved);
	snprintf(cfg.redis_prefix, sizeof cfg.redis_prefix, "ward");
	CHECK_EQ(bus_name(out, sizeof out, "i:%04x:*", 0x5f3a), 13);
	CHECK_STR(out, "ward:i:5f3a:*");
	snprintf(cfg.redis_prefix, sizeof cfg.redis_prefix, "site-2.a");
	CHECK_EQ(bus_name(out, sizeof out, "counts"), 15);
	CHECK_STR(out, "site-2.a:counts");
	CHECK_EQ(bus_name(small, sizeof small, "counts"), -1);
	CHECK_EQ(bus_name(out, 10, "%s", ""), 9);	/* "site-2.a:" */
	CHECK_EQ(bus_name(out, 9, "%s", ""), -1);
	memcpy(cfg.redis_prefix, saved, sizeof saved);
}

/* Socket ids with a tag: the tag on top, 12 hex digits, unique among the
 * live ones after the 16-bit sequence wrapped. */
static void
test_tagged_ids(void)
{
	uint64_t first;
	bool same = false;

	reg_set_tag(0x5f3a);
	reg_register(0, 1);
	reg_register(1, 1);
	CHECK_EQ(reg_id_tag(reg[0].id), 0x5f3a);
	CHECK_EQ(reg[0].id >> 48, 0);
	CHECK(reg[0].id != reg[1].id);
	first = reg[0].id;
	/* 70,000 more on slot 1: the sequence wraps, slot 0's id stays
	 * unique among the live ones */
	for (int i = 0; i < 70000; i++) {
		reg_register(1, 1);
		same |= reg[1].id == first;
		CHECK_EQ(reg_id_tag(reg[1].id), 0x5f3a);
	}
	CHECK(!same);
	reg_unregister(0);
	reg_unregister(1);
	reg_set_tag(0);
}

void
suite_bus(void)
{
	test_escape_roundtrip();
	test_unescape_bad();
	test_header();
	test_name();
	test_tagged_ids();
}
