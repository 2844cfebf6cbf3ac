/*
 * test_resp.c - the RESP2 reply parser fed whole, one byte at a time, at
 * every split point and at every pair of split points, for every reply
 * type (nested arrays, nulls, errors) and every way a reply can be wrong
 * (bad type byte, bad length, overflow, oversize, CRLF violations); the
 * command encoder's known answers; the pub/sub classifier; the backoff.
 */
#include "check.h"
#include "redis.h"

/*
 * A rendering of the events: per element "T<type>d<depth>n<num>:" then its
 * bytes (all chunks), ";" when it completes, "|" when a reply completes.
 * Chunk discipline (first on the first chunk only, nothing between an
 * element's last chunk and the next element's first) is checked as well.
 */
struct rend {
	char		out[8192];
	size_t		n;
	size_t		done_at;	/* out length at the last "|" */
	int		err;
	unsigned	replies;
	unsigned	bad;		/* chunk discipline broken */
	bool		open;
};

static void
r_put(struct rend *r, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (r->n + n >= sizeof r->out) {
		r->bad++;
		return;
	}
	memcpy(r->out + r->n, p, n);
	r->n += n;
	r->out[r->n] = '\0';
}

static void
r_event(struct rend *r, const struct resp_ev *ev)
{
	char h[64];

	if (ev->first == r->open)
		r->bad++;
	if (ev->first) {
		snprintf(h, sizeof h, "T%dd%dn%lld:", ev->type, ev->depth,
		    (long long)ev->num);
		r_put(r, h, strlen(h));
	}
	r_put(r, ev->p, ev->n);
	r->open = !ev->last;
	if (ev->last)
		r_put(r, ";", 1);
	if (ev->done) {
		r_put(r, "|", 1);
		r->replies++;
		r->done_at = r->n;
	}
}

/* Feed one segment; stop at the first error. */
static void
r_feed(struct resp_parser *p, struct rend *r, const uint8_t *b, size_t n)
{
	while (r->err == 0) {
		struct resp_ev ev;
		long rc = resp_feed(p, b, n, &ev);

		if (rc == WARD_NEED_MORE)
			return;
		if (rc < 0) {
			r->err = (int)rc;
			return;
		}
		if (rc == 0 || (size_t)rc > n) {
			r->bad++;
			return;
		}
		r_event(r, &ev);
		b += rc;
		n -= (size_t)rc;
		if (n == 0)
			return;
	}
}

/* Render in with cuts at the given offsets (sorted). */
static void
render(const char *in, size_t len, const size_t *cut, int ncut,
    uint32_t max, struct rend *r)
{
	struct resp_parser p;
	size_t at = 0;

	memset(&p, 0, sizeof p);
	p.max_bulk = max;
	memset(r, 0, sizeof *r);
	for (int i = 0; i <= ncut; i++) {
		size_t end = i < ncut ? cut[i] : len;

		r_feed(&p, r, (const uint8_t *)in + at, end - at);
		at = end;
	}
}

/* Two renderings agree: same error, same replies, same completed text. */
static bool
same(const struct rend *a, const struct rend *b)
{
	if (a->err != b->err || a->replies != b->replies || b->bad != 0)
		return false;
	if (a->done_at != b->done_at)
		return false;
	if (memcmp(a->out, b->out, a->done_at) != 0)
		return false;
	return a->err != 0 || (a->n == b->n && memcmp(a->out, b->out, a->n) == 0);
}

/* Whole must match want (NULL: don't care) and err; every split agrees. */
static void
check_case(const char *in, size_t len, uint32_t max, const char *want,
    int want_err, unsigned want_replies)
{
	struct rend whole, r;
	size_t cut[2];
	unsigned mism = 0;

	render(in, len, NULL, 0, max, &whole);
	CHECK_EQ(whole.err, want_err);
	CHECK_EQ(whole.replies, want_replies);
	CHECK_EQ(whole.bad, 0);
	if (want != NULL)
		CHECK_STR(whole.out, want);
	if (want_err != 0 || want == NULL) {
		/* nothing after the error is delivered */
	}
	/* one byte at a time */
	{
		size_t bytes[512];

		for (size_t i = 1; i < len && i <= ARRAY_LEN(bytes); i++)
			bytes[i - 1] = i;
		if (len <= ARRAY_LEN(bytes)) {
			render(in, len, bytes, len > 0 ? (int)len - 1 : 0, max,
			    &r);
			mism += !same(&whole, &r);
		}
	}
	/* every split point */
	for (size_t i = 0; i <= len; i++) {
		cut[0] = i;
		render(in, len, cut, 1, max, &r);
		mism += !same(&whole, &r);
	}
	/* every pair of split points, for short inputs */
	for (size_t i = 1; len <= 80 && i < len; i++)
		for (size_t j = i; j < len; j++) {
			cut[0] = i;
			cut[1] = j;
			render(in, len, cut, 2, max, &r);
			mism += !same(&whole, &r);
		}
	if (mism != 0)
		fprintf(stderr, "  (input \"%.*s\": %u split mismatches)\n",
		    (int)MIN(len, (size_t)60), in, mism);
	CHECK_EQ(mism, 0);
}

#define OK(in, want, nrep) check_case(in, sizeof(in) - 1, 0, want, 0, nrep)
#define BAD(in, err) check_case(in, sizeof(in) - 1, 0, NULL, err, 0)

static void
test_scalars(void)
{
	OK("+OK\r\n", "T1d0n0:OK;|", 1);
	OK("+\r\n", "T1d0n0:;|", 1);
	OK("-ERR wrong number of arguments\r\n",
	    "T2d0n0:ERR wrong number of arguments;|", 1);
	OK("-WRONGPASS invalid username-password pair\r\n",
	    "T2d0n0:WRONGPASS invalid username-password pair;|", 1);
	OK(":0\r\n", "T3d0n0:;|", 1);
	OK(":-42\r\n", "T3d0n-42:;|", 1);
	OK(":-0\r\n", "T3d0n0:;|", 1);
	OK(":9223372036854775807\r\n", "T3d0n9223372036854775807:;|", 1);
	OK(":-9223372036854775808\r\n",
	    "T3d0n-9223372036854775808:;|", 1);
	OK("$3\r\nabc\r\n", "T4d0n3:abc;|", 1);
	OK("$0\r\n\r\n", "T4d0n0:;|", 1);
	OK("$-1\r\n", "T5d0n0:;|", 1);
	OK("$6\r\na\r\nb\r\n\r\n", "T4d0n6:a\r\nb\r\n;|", 1);
	/* binary bulk: NUL bytes */
	check_case("$3\r\n\0\1\0\r\n", 9, 0, NULL, 0, 1);
}

static void
test_arrays(void)
{
	OK("*0\r\n", "T6d0n0:;|", 1);
	OK("*-1\r\n", "T7d0n0:;|", 1);
	OK("*2\r\n$3\r\nfoo\r\n:1\r\n",
	    "T6d0n2:;T4d1n3:foo;T3d1n1:;|", 1);
	OK("*3\r\n$-1\r\n*-1\r\n*0\r\n",
	    "T6d0n3:;T5d1n0:;T7d1n0:;T6d1n0:;|", 1);
	OK("*3\r\n*2\r\n+a\r\n*1\r\n$1\r\nx\r\n:5\r\n-E\r\n",
	    "T6d0n3:;T6d1n2:;T1d2n0:a;T6d2n1:;T4d3n1:x;T3d1n5:;"
	    "T2d1n0:E;|", 1);
	OK("*1\r\n*1\r\n*1\r\n*0\r\n",
	    "T6d0n1:;T6d1n1:;T6d2n1:;T6d3n0:;|", 1);
	/* a pub/sub message and pmessage */
	OK("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n",
	    "T6d0n3:;T4d1n7:message;T4d1n2:ch;T4d1n5:hello;|", 1);
	OK("*4\r\n$8\r\npmessage\r\n$3\r\nw:*\r\n$3\r\nw:a\r\n$1\r\nx\r\n",
	    "T6d0n4:;T4d1n8:pmessage;T4d1n3:w:*;T4d1n3:w:a;T4d1n1:x;|", 1);
	OK("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
	    "T6d0n3:;T4d1n9:subscribe;T4d1n2:ch;T3d1n1:;|", 1);
	/* pipelined replies back to back */
	OK("+OK\r\n$1\r\n7\r\n:8\r\n*1\r\n$0\r\n\r\n-ERR x\r\n",
	    "T1d0n0:OK;|T4d0n1:7;|T3d0n8:;|T6d0n1:;T4d1n0:;|T2d0n0:ERR x;|",
	    5);
	/* exactly WARD_REDIS_MAX_DEPTH deep is fine, one more is not */
	{
		char in[256];
		size_t n = 0;

		for (int i = 0; i < WARD_REDIS_MAX_DEPTH; i++)
			n += (size_t)snprintf(in + n, sizeof in - n, "*1\r\n");
		n += (size_t)snprintf(in + n, sizeof in - n, ":1\r\n");
		check_case(in, n, 0, NULL, 0, 1);
		n = 0;
		for (int i = 0; i <= WARD_REDIS_MAX_DEPTH; i++)
			n += (size_t)snprintf(in + n, sizeof in - n, "*1\r\n");
		n += (size_t)snprintf(in + n, sizeof in - n, ":1\r\n");
		check_case(in, n, 0, NULL, WARD_EINVAL, 0);
	}
}

static void
test_errors(void)
{
	/* bad type bytes */
	BAD("?x\r\n", WARD_EINVAL);
	BAD("\r\n", WARD_EINVAL);
	BAD("%1\r\n", WARD_EINVAL);	/* RESP3 map: not RESP2 */
	BAD("_\r\n", WARD_EINVAL);	/* RESP3 null */
	/* bad lengths */
	BAD("$-2\r\n", WARD_EINVAL);
	BAD("*-2\r\n", WARD_EINVAL);
	BAD("$-0\r\n", WARD_EINVAL);
	BAD("$--1\r\n", WARD_EINVAL);
	BAD("$\r\n", WARD_EINVAL);
	BAD("$-\r\n", WARD_EINVAL);
	BAD("$1a\r\n", WARD_EINVAL);
	BAD("$ 1\r\n", WARD_EINVAL);
	BAD("$+1\r\n", WARD_EINVAL);
	BAD(":+1\r\n", WARD_EINVAL);
	BAD(":1-\r\n", WARD_EINVAL);
	BAD(":\r\n", WARD_EINVAL);
	BAD(":1.5\r\n", WARD_EINVAL);
	/* overflow */
	BAD(":9223372036854775808\r\n", WARD_EINVAL);
	BAD(":-9223372036854775809\r\n", WARD_EINVAL);
	BAD(":99999999999999999999\r\n", WARD_EINVAL);
	BAD("$99999999999999999999\r\n", WARD_EINVAL);
	BAD("*18446744073709551617\r\n", WARD_EINVAL);
	/* above the limits */
	BAD("*1000000000\r\n", WARD_ETOOBIG);
	BAD("$65537\r\n", WARD_ETOOBIG);
	BAD("$9223372036854775807\r\n", WARD_ETOOBIG);
	check_case("$5\r\nhello\r\n", 11, 4, NULL, WARD_ETOOBIG, 0);
	check_case("$4\r\nhell\r\n", 10, 4, "T4d0n4:hell;|", 0, 1);
	check_case("+hello\r\n", 8, 4, NULL, WARD_ETOOBIG, 0);
	check_case("-hello\r\n", 8, 4, NULL, WARD_ETOOBIG, 0);
	check_case("+hell\r\n", 7, 4, "T1d0n0:hell;|", 0, 1);
	/* CRLF violations */
	BAD("+OK\n", WARD_EINVAL);
	BAD("+OK\rX", WARD_EINVAL);
	BAD("+O\nK\r\n", WARD_EINVAL);
	BAD("+OK\r\r\n", WARD_EINVAL);
	BAD(":1\rX", WARD_EINVAL);
	BAD(":1\n", WARD_EINVAL);
	BAD("$3\nabc\r\n", WARD_EINVAL);
	BAD("$3\r\nabcX\r\n", WARD_EINVAL);
	BAD("$3\r\nabc\rX", WARD_EINVAL);
	BAD("$3\r\nabc\n", WARD_EINVAL);
	BAD("$0\r\nX", WARD_EINVAL);
	BAD("*1\rX", WARD_EINVAL);
	/* an error after complete replies: those were delivered */
	check_case("+OK\r\n:1\r\n?", 10, 0, NULL, WARD_EINVAL, 2);
	check_case("*2\r\n:1\r\n!", 9, 0, NULL, WARD_EINVAL, 0);
}

static void
test_sticky(void)
{
	struct resp_parser p;
	struct resp_ev ev;

	memset(&p, 0, sizeof p);
	CHECK_EQ(resp_feed(&p, "?", 1, &ev), WARD_EINVAL);
	CHECK_EQ(resp_feed(&p, "+OK\r\n", 5, &ev), WARD_EINVAL);
	CHECK_EQ(ev.type, RESP_NONE);
	resp_reset(&p);
	CHECK_EQ(resp_feed(&p, "+OK\r\n", 5, &ev), 5);
	CHECK(ev.done && ev.type == RESP_STATUS && ev.n == 2);
	/* empty input */
	CHECK_EQ(resp_feed(&p, "", 0, &ev), WARD_NEED_MORE);
	/* max_bulk survives a reset */
	p.max_bulk = 2;
	resp_reset(&p);
	CHECK_EQ(p.max_bulk, 2);
	CHECK_EQ(resp_feed(&p, "$3\r\n", 4, &ev), WARD_ETOOBIG);
	/* zero-copy: a whole bulk points into the input */
	{
		static const char in[] = "$5\r\nhello\r\n";

		memset(&p, 0, sizeof p);
		CHECK_EQ(resp_feed(&p, in, sizeof in - 1, &ev),
		    (long)(sizeof in - 1));
		CHECK(ev.p == (const uint8_t *)in + 4 && ev.n == 5 && ev.done);
	}
}

static void
test_encode(void)
{
	uint8_t out[256];
	struct str a[4];
	size_t n;

	a[0] = STR_LIT("PING");
	n = redis_encode(out, sizeof out, 1, a);
	CHECK_EQ(n, 14);
	CHECK_MEM(out, "*1\r\n$4\r\nPING\r\n", 14);
	a[0] = STR_LIT("SET");
	a[1] = STR_LIT("k");
	a[2] = STR_LIT("v");
	n = redis_encode(out, sizeof out, 3, a);
	CHECK_EQ(n, redis_encoded_len(3, a));
	CHECK_EQ(n, 27);
	CHECK_MEM(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", 27);
	a[2] = STR_LIT("");
	n = redis_encode(out, sizeof out, 3, a);
	CHECK_EQ(n, 26);
	CHECK_MEM(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", 26);
	a[0] = STR_LIT("PUBLISH");
	a[1] = STR_LIT("ward:call:r1");
	a[2] = STR_LIT("0123456789\r\n");
	n = redis_encode(out, sizeof out, 3, a);
	CHECK_EQ(n, 55);
	CHECK_MEM(out, "*3\r\n$7\r\nPUBLISH\r\n$12\r\nward:call:r1\r\n"
	    "$12\r\n0123456789\r\n\r\n", 55);
	/* exact fit, one short, nothing */
	CHECK_EQ(redis_encode(out, 55, 3, a), 55);
	CHECK_EQ(redis_encode(out, 54, 3, a), 0);
	CHECK_EQ(redis_encode(out, sizeof out, 0, a), 0);
	/* ten arguments: the count has two digits */
	{
		struct str ten[10];

		for (int i = 0; i < 10; i++)
			ten[i] = STR_LIT("x");
		n = redis_encode(out, sizeof out, 10, ten);
		CHECK_EQ(n, 5 + 10 * 7);
		CHECK_MEM(out, "*10\r\n$1\r\nx\r\n", 12);
	}
	/* what the encoder writes, the parser reads back */
	{
		struct rend r;

		a[0] = STR_LIT("LPUSH");
		a[1] = STR_LIT("q");
		a[2] = STR_LIT("a\r\nb");
		n = redis_encode(out, sizeof out, 3, a);
		render((const char *)out, n, NULL, 0, 0, &r);
		CHECK_STR(r.out, "T6d0n3:;T4d1n5:LPUSH;T4d1n1:q;T4d1n4:a\r\nb;|");
	}
}

static void
test_push(void)
{
	struct redis_elem e[5];
	struct redis_reply r = { e, 4 };
	struct redis_msg m;

	memset(e, 0, sizeof e);
	e[0] = (struct redis_elem){ RESP_ARRAY, 0, 3, NULL, 0 };
	e[1] = (struct redis_elem){ RESP_BULK, 1, 7, "message", 7 };
	e[2] = (struct redis_elem){ RESP_BULK, 1, 2, "ch", 2 };
	e[3] = (struct redis_elem){ RESP_BULK, 1, 2, "hi", 2 };
	CHECK_EQ(redis_push_kind(&r, &m), REDIS_PUSH_MESSAGE);
	CHECK(str_eq(m.channel, "ch") && str_eq(m.payload, "hi"));
	e[1] = (struct redis_elem){ RESP_BULK, 1, 9, "subscribe", 9 };
	e[3] = (struct redis_elem){ RESP_INT, 1, 2, NULL, 0 };
	CHECK_EQ(redis_push_kind(&r, &m), REDIS_PUSH_SUBSCRIBE);
	CHECK_EQ(m.count, 2);
	e[1] = (struct redis_elem){ RESP_BULK, 1, 12, "punsubscribe", 12 };
	CHECK_EQ(redis_push_kind(&r, &m), REDIS_PUSH_UNSUBSCRIBE);
	e[1] = (struct redis_elem){ RESP_BULK, 1, 3, "foo", 3 };
	CHECK_EQ(redis_push_kind(&r, &m), REDIS_PUSH_NONE);
	/* pmessage */
	e[0].num = 4;
	r.n = 5;
	e[1] = (struct redis_elem){ RESP_BULK, 1, 8, "pmessage", 8 };
	e[2] = (struct redis_elem){ RESP_BULK, 1, 3, "w:*", 3 };
	e[3] = (struct redis_elem){ RESP_BULK, 1, 3, "w:a", 3 };
	e[4] = (struct redis_elem){ RESP_BULK, 1, 1, "x", 1 };
	CHECK_EQ(redis_push_kind(&r, &m), REDIS_PUSH_PMESSAGE);
	CHECK(str_eq(m.pattern, "w:*") && str_eq(m.channel, "w:a") &&
	    str_eq(m.payload, "x"));
	/* the count must match the elements */
	e[0].num = 3;
	CHECK_EQ(redis_push_kind(&r, &m), REDIS_PUSH_NONE);
	/* pong while subscribed */
	e[0].num = 2;
	r.n = 3;
	e[1] = (struct redis_elem){ RESP_BULK, 1, 4, "pong", 4 };
	e[2] = (struct redis_elem){ RESP_BULK, 1, 0, "", 0 };
	CHECK_EQ(redis_push_kind(&r, &m), REDIS_PUSH_PONG);
	/* a plain reply is not a push */
	e[0] = (struct redis_elem){ RESP_STATUS, 0, 0, "PONG", 4 };
	r.n = 1;
	CHECK_EQ(redis_push_kind(&r, &m), REDIS_PUSH_NONE);
}

static void
test_backoff(void)
{
	CHECK_EQ(redis_backoff_ms(0, 100, 5000, 0), 0);
	CHECK_EQ(redis_backoff_ms(0, 100, 5000, 100), 100);
	CHECK_EQ(redis_backoff_ms(0, 100, 5000, 101), 0);
	CHECK_EQ(redis_backoff_ms(3, 100, 5000, 800), 800);
	CHECK_EQ(redis_backoff_ms(3, 100, 5000, 801), 0);
	CHECK_EQ(redis_backoff_ms(10, 100, 5000, 5000), 5000);
	CHECK_EQ(redis_backoff_ms(10, 100, 5000, 5001), 0);
	CHECK_EQ(redis_backoff_ms(1000, 100, 5000, 0xFFFFFFFFu),
	    0xFFFFFFFFu % 5001);
	{
		unsigned s = 7, over = 0;

		for (int i = 0; i < 1000; i++)
			over += redis_backoff_ms((unsigned)(i % 40), 100, 5000,
			    check_rand(&s)) > 5000;
		CHECK_EQ(over, 0);
	}
}

static void
test_client_api(void)
{
	struct redis_opts o;
	struct redis_stats st;

	memset(&o, 0, sizeof o);
	/* not started: commands are refused, nothing is up */
	CHECK_EQ(redis_cmd(NULL, NULL, 1, &STR_LIT("PING")), WARD_EIO);
	CHECK(!redis_up());
	/* bad addresses */
	o.addr = "nocolon";
	CHECK_EQ(redis_start(&o), WARD_EINVAL);
	o.addr = "host:port";
	CHECK_EQ(redis_start(&o), WARD_EINVAL);
	o.addr = "unix:";
	CHECK_EQ(redis_start(&o), WARD_EINVAL);
	o.addr = ":6379";
	CHECK_EQ(redis_start(&o), WARD_EINVAL);
	redis_stats(&st);
	CHECK(!st.configured);
}

void
suite_resp(void)
{
	test_scalars();
	test_arrays();
	test_errors();
	test_sticky();
	test_encode();
	test_push();
	test_backoff();
	test_client_api();
}
