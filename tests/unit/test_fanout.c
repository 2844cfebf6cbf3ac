/*
 * test_fanout.c - groups of connections (src/fanout.c): join / leave,
 * find, the two membership slots, caps (WARD_ETOOBIG), pool exhaustion
 * (WARD_ENOMEM at WARD_MAX_GROUPS), freeing of empty groups, iteration,
 * and per-group sequence numbers; then merging of a turn's frames
 * (fanout_send) through real connections on socketpairs.
 *
 * The members are entries of the global conns[] pool used directly (state
 * CS_WS, fd -1; conn_new is never called and nothing is sent).  Every
 * entry used is saved first and restored at the end, and the group pool is
 * re-initialised before and after the suite.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

/* Group kinds are only numbers to fanout.c (the families name them): the
 * suite's own. */
enum {
	GK_CALL = 1, GK_STT_ROOM, GK_STT_ADMIN, GK_ADMIN, GK_OTHER
};

#define FIRST	1		/* first conns[] slot used */
#define NFAKE	(WARD_MAX_GROUPS / 2 + 8)
#if FIRST + NFAKE <= WARD_CONN_SLOTS
#define HAVE_EXHAUST 1
#define NUSE	NFAKE
#else
#define HAVE_EXHAUST 0
#define NUSE	(WARD_CONN_SLOTS - FIRST)
#endif

static struct conn saved[NUSE];

static struct conn *
fake(int i)
{
	return &conns[FIRST + i];
}

static void
fakes_init(void)
{
	for (int i = 0; i < NUSE; i++) {
		saved[i] = *fake(i);
		memset(fake(i), 0, sizeof *fake(i));
		fake(i)->state = CS_WS;
		fake(i)->fd = -1;
	}
}

static void
fakes_restore(void)
{
	for (int i = 0; i < NUSE; i++)
		*fake(i) = saved[i];
}

/*
 * Walk group g: every member must be one of want[0..n) and each seen
 * exactly once, and the walk must end (bounded by the pool size).
 */
static bool
visits(int g, struct conn *const *want, int n)
{
	static uint8_t seen[WARD_CONN_SLOTS];
	uint32_t steps = 0;
	int found = 0;

	memset(seen, 0, sizeof seen);
	for (struct conn *m = fanout_first(g); m != NULL; m = fanout_next(m,
	    g)) {
		bool ok = false;

		if (++steps > WARD_CONN_SLOTS)
			return false;		/* a cycle */
		for (int i = 0; i < n; i++)
			if (want[i] == m)
				ok = true;
		if (!ok || seen[conn_id(m)]++)
			return false;
		found++;
	}
	return found == n && fanout_size(g) == (uint32_t)n;
}

static int
join(struct conn *c, int ms, int kind, const char *name, uint32_t cap)
{
	return fanout_join(c, ms, kind, name, strlen(name), cap);
}

static int
find(int kind, const char *name)
{
	return fanout_find(kind, name, strlen(name));
}

static void
basics(void)
{
	struct conn *a = fake(0), *b = fake(1), *c = fake(2), *d = fake(3);
	int g, g2, gs;

	CHECK_EQ(fanout_count(), 0);
	CHECK_EQ(find(GK_CALL, "r1"), 0);
	CHECK(fanout_first(0) == NULL);
	CHECK_EQ(fanout_size(0), 0);

	g = join(a, 0, GK_CALL, "r1", 0);
	CHECK(g > 0);
	CHECK_EQ(find(GK_CALL, "r1"), g);
	CHECK_EQ(fanout_of(a, 0), g);
	CHECK_EQ(fanout_of(a, 1), 0);
	CHECK_EQ(fanout_size(g), 1);
	CHECK_STR(fanout_name(g), "r1");
	CHECK_EQ(fanout_count(), 1);
	{
		struct conn *w[] = { a };
		CHECK(visits(g, w, 1));
	}
	CHECK_EQ(join(b, 0, GK_CALL, "r1", 0), g);
	CHECK_EQ(join(c, 0, GK_CALL, "r1", 0), g);
	CHECK_EQ(fanout_size(g), 3);
	CHECK_EQ(fanout_count(), 1);
	{
		struct conn *w[] = { a, b, c };
		CHECK(visits(g, w, 3));
	}

	/* same name, other kind: another group; names are exact */
	gs = join(d, 0, GK_STT_ROOM, "r1", 0);
	CHECK(gs > 0 && gs != g);
	CHECK_EQ(find(GK_STT_ROOM, "r1"), gs);
	CHECK_EQ(find(GK_CALL, "r1"), g);
	CHECK_EQ(find(GK_CALL, "R1"), 0);
	CHECK_EQ(find(GK_CALL, "r"), 0);
	CHECK_EQ(find(GK_CALL, "r10"), 0);
	CHECK_EQ(fanout_count(), 2);

	/* second membership slot: a and b also in an admin group */
	g2 = join(a, 1, GK_STT_ADMIN, "all", 0);
	CHECK(g2 > 0 && g2 != g && g2 != gs);
	CHECK_EQ(join(b, 1, GK_STT_ADMIN, "all", 0), g2);
	CHECK_EQ(fanout_of(a, 0), g);
	CHECK_EQ(fanout_of(a, 1), g2);
	{
		struct conn *w1[] = { a, b, c };
		struct conn *w2[] = { a, b };

		CHECK(visits(g, w1, 3));
		CHECK(visits(g2, w2, 2));
	}
	/* d joins the admin group in slot 1 while in gs in slot 0 */
	CHECK_EQ(join(d, 1, GK_STT_ADMIN, "all", 0), g2);
	{
		struct conn *w2[] = { a, b, d };
		struct conn *ws[] = { d };

		CHECK(visits(g2, w2, 3));
		CHECK(visits(gs, ws, 1));
	}

	/* leave slot 0 of b (middle of r1's list): slot 1 untouched */
	fanout_leave(b, 0);
	CHECK_EQ(fanout_of(b, 0), 0);
	CHECK_EQ(fanout_of(b, 1), g2);
	{
		struct conn *w1[] = { a, c };
		struct conn *w2[] = { a, b, d };

		CHECK(visits(g, w1, 2));
		CHECK(visits(g2, w2, 3));
	}
	fanout_leave(b, 0);		/* not a member: harmless */
	CHECK_EQ(fanout_size(g), 2);

	/* leave the head (the last joiner) and the tail */
	fanout_leave(c, 0);
	{
		struct conn *w1[] = { a };
		CHECK(visits(g, w1, 1));
	}
	CHECK_EQ(find(GK_CALL, "r1"), g);
	fanout_leave(a, 0);
	/* empty: freed at once */
	CHECK_EQ(find(GK_CALL, "r1"), 0);
	CHECK_EQ(fanout_size(g), 0);
	CHECK_EQ(fanout_count(), 2);
	CHECK_EQ(fanout_of(a, 1), g2);	/* a is still an admin member */

	/* leave from the admin group in every position */
	fanout_leave(b, 1);		/* middle */
	{
		struct conn *w2[] = { a, d };
		CHECK(visits(g2, w2, 2));
	}
	fanout_leave(d, 1);		/* head */
	fanout_leave(d, 0);
	CHECK_EQ(find(GK_STT_ROOM, "r1"), 0);
	fanout_leave(a, 1);
	CHECK_EQ(find(GK_STT_ADMIN, "all"), 0);
	CHECK_EQ(fanout_count(), 0);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(fanout_of(fake(i), 0), 0);
		CHECK_EQ(fanout_of(fake(i), 1), 0);
	}
}

static void
switching(void)
{
	struct conn *a = fake(0), *b = fake(1);
	int g1, g2;

	g1 = join(a, 0, GK_CALL, "one", 0);
	CHECK_EQ(join(b, 0, GK_CALL, "one", 0), g1);
	/* joining another group in the same slot leaves the first */
	g2 = join(a, 0, GK_CALL, "two", 0);
	CHECK(g2 > 0 && g2 != g1);
	CHECK_EQ(fanout_of(a, 0), g2);
	CHECK_EQ(fanout_size(g1), 1);
	{
		struct conn *w1[] = { b };
		struct conn *w2[] = { a };

		CHECK(visits(g1, w1, 1));
		CHECK(visits(g2, w2, 1));
	}
	/* b moves too: "one" is freed */
	CHECK_EQ(join(b, 0, GK_CALL, "two", 0), g2);
	CHECK_EQ(find(GK_CALL, "one"), 0);
	CHECK_EQ(fanout_size(g2), 2);
	fanout_leave(a, 0);
	fanout_leave(b, 0);
	CHECK_EQ(fanout_count(), 0);
}

static void
names(void)
{
	static char n64[65], n65[66];
	struct conn *a = fake(0);
	int g;

	memset(n64, 'x', 64);
	memset(n65, 'y', 65);
	CHECK_EQ(fanout_join(a, 0, GK_CALL, "", 0, 0), WARD_EINVAL);
	CHECK_EQ(join(a, 0, GK_CALL, n65, 0), WARD_EINVAL);
	CHECK_EQ(fanout_of(a, 0), 0);
	CHECK_EQ(fanout_count(), 0);
	g = join(a, 0, GK_CALL, n64, 0);
	CHECK(g > 0);
	CHECK_STR(fanout_name(g), n64);
	CHECK_EQ(find(GK_CALL, n64), g);
	/* a name with a NUL inside is its bytes, not a C string */
	{
		int h = fanout_join(fake(1), 0, GK_CALL, "a\0b", 3, 0);

		CHECK(h > 0 && h != g);
		CHECK_EQ(fanout_find(GK_CALL, "a\0b", 3), h);
		CHECK_EQ(fanout_find(GK_CALL, "a", 1), 0);
		fanout_leave(fake(1), 0);
	}
	fanout_leave(a, 0);
	CHECK_EQ(fanout_count(), 0);
}

static void
caps(void)
{
	struct conn *x = fake(0), *y = fake(1), *z = fake(2), *u = fake(3);
	int g;

	g = join(x, 0, GK_CALL, "capped", 2);
	CHECK(g > 0);
	CHECK_EQ(join(y, 0, GK_CALL, "capped", 2), g);
	CHECK_EQ(join(z, 0, GK_CALL, "capped", 2), WARD_ETOOBIG);
	CHECK_EQ(fanout_of(z, 0), 0);
	CHECK_EQ(fanout_size(g), 2);
	{
		struct conn *w[] = { x, y };
		CHECK(visits(g, w, 2));
	}
	/* the other slot of z is free and usable */
	CHECK(join(z, 1, GK_OTHER, "elsewhere", 0) > 0);
	/* room again after one leaves */
	fanout_leave(y, 0);
	CHECK_EQ(join(z, 0, GK_CALL, "capped", 2), g);
	CHECK_EQ(join(u, 0, GK_CALL, "capped", 2), WARD_ETOOBIG);
	{
		struct conn *w[] = { x, z };
		CHECK(visits(g, w, 2));
	}
	fanout_leave(x, 0);
	fanout_leave(z, 0);
	fanout_leave(z, 1);
	CHECK_EQ(fanout_count(), 0);

	/* cap 0: no limit (the whole pool may join) */
	g = 0;
	for (int i = 0; i < NUSE; i++) {
		int r = join(fake(i), 0, GK_STT_ROOM, "big", 0);

		if (i == 0)
			g = r;
		if (r != g)
			break;
	}
	CHECK_EQ(fanout_size(g), NUSE);
	for (int i = 0; i < NUSE; i++)
		fanout_leave(fake(i), 0);
	CHECK_EQ(fanout_count(), 0);
	CHECK_EQ(find(GK_STT_ROOM, "big"), 0);
}

static void
big_walk(void)
{
	static struct conn *w[NUSE];
	int g = 0;

	for (int i = 0; i < NUSE; i++) {
		w[i] = fake(i);
		g = join(fake(i), 1, GK_ADMIN, "walk", 0);
	}
	CHECK(visits(g, w, NUSE));
	/* remove every third member, walk again */
	{
		static struct conn *rest[NUSE];
		int n = 0;

		for (int i = 0; i < NUSE; i++) {
			if (i % 3 == 0)
				fanout_leave(fake(i), 1);
			else
				rest[n++] = fake(i);
		}
		CHECK(visits(g, rest, n));
	}
	for (int i = 0; i < NUSE; i++)
		fanout_leave(fake(i), 1);
	CHECK_EQ(fanout_count(), 0);
}

static void
sequences(void)
{
	struct conn *a = fake(0), *b = fake(1);
	int g1 = join(a, 0, GK_STT_ROOM, "s1", 0);
	int g2 = join(b, 0, GK_STT_ROOM, "s2", 0);

	CHECK_EQ(fanout_next_seq(g1), 1);
	CHECK_EQ(fanout_next_seq(g1), 2);
	CHECK_EQ(fanout_next_seq(g2), 1);
	CHECK_EQ(fanout_next_seq(g1), 3);
	CHECK_EQ(fanout_next_seq(g2), 2);
	/* a freed and re-created group starts again at 1 */
	fanout_leave(a, 0);
	g1 = join(a, 0, GK_STT_ROOM, "s1", 0);
	CHECK_EQ(fanout_next_seq(g1), 1);
	/* a member joining does not reset it */
	CHECK_EQ(join(fake(2), 0, GK_STT_ROOM, "s1", 0), g1);
	CHECK_EQ(fanout_next_seq(g1), 2);
	fanout_leave(a, 0);
	fanout_leave(b, 0);
	fanout_leave(fake(2), 0);
	CHECK_EQ(fanout_count(), 0);
}

static void
exhaustion(void)
{
#if HAVE_EXHAUST
	char name[16];
	int made = 0, rc;

	/* WARD_MAX_GROUPS groups: two per fake connection (both slots) */
	for (int k = 0; k < WARD_MAX_GROUPS; k++) {
		snprintf(name, sizeof name, "g%d", k);
		rc = join(fake(k / 2), k % 2, GK_OTHER, name, 0);
		if (rc > 0)
			made++;
	}
	CHECK_EQ(made, WARD_MAX_GROUPS);
	CHECK_EQ(fanout_count(), WARD_MAX_GROUPS);
	/* one more group: the pool is empty */
	rc = join(fake(NUSE - 1), 0, GK_OTHER, "one-too-many", 0);
	CHECK_EQ(rc, WARD_ENOMEM);
	CHECK_EQ(fanout_of(fake(NUSE - 1), 0), 0);
	CHECK_EQ(find(GK_OTHER, "one-too-many"), 0);
	/* joining an existing group still works */
	rc = join(fake(NUSE - 1), 0, GK_OTHER, "g7", 0);
	CHECK_EQ(rc, find(GK_OTHER, "g7"));
	CHECK(rc > 0);
	/* every group is still found by its name */
	{
		int missing = 0;

		for (int k = 0; k < WARD_MAX_GROUPS; k++) {
			snprintf(name, sizeof name, "g%d", k);
			if (find(GK_OTHER, name) <= 0)
				missing++;
		}
		CHECK_EQ(missing, 0);
	}
	/* free one group: a new one fits */
	fanout_leave(fake(0), 1);		/* "g1" had only fake(0) */
	CHECK_EQ(find(GK_OTHER, "g1"), 0);
	rc = join(fake(NUSE - 2), 0, GK_OTHER, "one-too-many", 0);
	CHECK(rc > 0);
	CHECK_EQ(fanout_count(), WARD_MAX_GROUPS);
	rc = join(fake(NUSE - 3), 0, GK_OTHER, "and-another", 0);
	CHECK_EQ(rc, WARD_ENOMEM);
	for (int i = 0; i < NUSE; i++) {
		fanout_leave(fake(i), 0);
		fanout_leave(fake(i), 1);
	}
	CHECK_EQ(fanout_count(), 0);
	/* after all that, the pool is whole again */
	made = 0;
	for (int k = 0; k < WARD_MAX_GROUPS; k++) {
		snprintf(name, sizeof name, "h%d", k);
		if (join(fake(k / 2), k % 2, GK_OTHER, name, 0) > 0)
			made++;
	}
	CHECK_EQ(made, WARD_MAX_GROUPS);
	for (int i = 0; i < NUSE; i++) {
		fanout_leave(fake(i), 0);
		fanout_leave(fake(i), 1);
	}
	CHECK_EQ(fanout_count(), 0);
#else
	printf("fanout: pool exhaustion skipped (%d connection slots cannot "
	    "hold %d groups)\n", WARD_CONN_SLOTS, WARD_MAX_GROUPS);
#endif
}

/* --- merging, on real connections ---------------------------------------- */

#define NM 4
static struct conn *mc[NM];
static int mpeer[NM];

static bool
merge_open(void)
{
	for (int i = 0; i < NM; i++) {
		int sv[2];

		mc[i] = NULL;
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
			return false;
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		mc[i] = conn_new(sv[0], 0, &(struct port_addr){ .family = 4 });
		if (mc[i] == NULL) {
			close(sv[0]);
			close(sv[1]);
			return false;
		}
		mc[i]->state = CS_WS;
		mpeer[i] = sv[1];
	}
	return true;
}

static void
merge_close(void)
{
	for (int i = 0; i < NM; i++) {
		if (mc[i] == NULL)
			continue;
		fanout_leave(mc[i], 0);
		conn_drop(mc[i], true);
		close(mpeer[i]);
		mc[i] = NULL;
	}
	conn_reap();
}

/* Everything member i's peer can read now. */
static size_t
peer_read(int i, uint8_t *out, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap && (r = read(mpeer[i], out + n, cap - n)) > 0)
		n += (size_t)r;
	return n;
}

static uint32_t
text(const char *s)
{
	return ws_frame(WS_OP_TEXT, s, strlen(s));
}

static size_t
cat(uint8_t *out, const uint32_t *f, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		memcpy(out + len, buf_data(f[i]), buf_len(f[i]));
		len += buf_len(f[i]);
	}
	return len;
}

static void
merging(void)
{
	static uint8_t got[8192], want[8192];
	struct buf_stats b0, b1;
	uint32_t f[4], d;
	size_t n, wn;
	int g;

	cfg_defaults();
	log_level = -1;
	buf_init();
	conn_init();
	fanout_init();
	buf_stats(&b0);
	CHECK(merge_open());
	if (mc[NM - 1] == NULL) {
		merge_close();
		return;
	}
	for (int i = 0; i < NM; i++)
		CHECK((g = fanout_join(mc[i], 0, GK_STT_ROOM, "m", 1, 0)) > 0);
	f[0] = text("one");
	f[1] = text("two, a little longer");
	f[2] = text("three");
	d = text("direct");
	/* a turn: f0 to all; d to member 2 alone; f1 to all but member 3;
	 * f2 to all */
	CHECK_EQ(fanout_send(g, f[0], NULL), NM);
	CHECK(conn_send(mc[2], d) == 0);
	CHECK_EQ(fanout_send(g, f[1], mc[3]), NM - 1);
	CHECK_EQ(fanout_send(g, f[2], NULL), NM);
	/* members 0 and 1 hold one merged buffer; 2 and 3 fell out of step
	 * (a direct frame, an exclusion) and get the rest apart */
	CHECK_EQ(mc[0]->q_count, 1);
	CHECK_EQ(mc[1]->q_count, 1);
	CHECK(conn_tail_buf(mc[0]) == conn_tail_buf(mc[1]));
	CHECK_EQ(mc[2]->q_count, 4);	/* f0, d, f1, f2 */
	CHECK_EQ(mc[3]->q_count, 2);	/* f0, f2 */
	CHECK_EQ(mc[0]->q_bytes, buf_len(f[0]) + buf_len(f[1]) +
	    buf_len(f[2]));
	conn_flush_all();
	for (int i = 0; i < NM; i++) {
		uint32_t seq2[] = { f[0], d, f[1], f[2] };
		uint32_t seq3[] = { f[0], f[2] };

		n = peer_read(i, got, sizeof got);
		if (i == 2)
			wn = cat(want, seq2, 4);
		else if (i == 3)
			wn = cat(want, seq3, 2);
		else
			wn = cat(want, f, 3);
		CHECK_EQ(n, wn);
		CHECK(n == wn && memcmp(got, want, n) == 0);
		CHECK_EQ(mc[i]->q_count, 0);
	}
	/* the flush let go of the merged buffers: only our frames remain */
	for (int i = 0; i < 3; i++)
		buf_unref(f[i]);
	buf_unref(d);
	buf_stats(&b1);
	CHECK_EQ(b1.used[BUF_SMALL], b0.used[BUF_SMALL]);
	CHECK_EQ(b1.used[BUF_MED], b0.used[BUF_MED]);

	/* the next turn starts afresh: nothing merges into last turn's
	 * buffer, even when its handle has been reused */
	f[0] = text("four");
	CHECK_EQ(fanout_send(g, f[0], NULL), NM);
	CHECK_EQ(mc[0]->q_count, 1);
	CHECK(conn_tail_buf(mc[0]) == f[0]);

	/* bytes of the merged-into buffer already written stay written */
	mc[0]->q_off = 2;
	mc[0]->q_bytes -= 2;
	f[1] = text("five");
	CHECK_EQ(fanout_send(g, f[1], NULL), NM);
	CHECK_EQ(mc[0]->q_count, 1);
	CHECK_EQ(mc[0]->q_bytes, buf_len(f[0]) + buf_len(f[1]) - 2);
	conn_flush_all();
	n = peer_read(0, got, sizeof got);
	wn = cat(want, f, 2);
	CHECK_EQ(n, wn - 2);
	CHECK(n == wn - 2 && memcmp(got, want + 2, n) == 0);
	n = peer_read(1, got, sizeof got);
	CHECK(n == wn && memcmp(got, want, n) == 0);
	for (int i = 2; i < NM; i++)
		peer_read(i, got, sizeof got);
	buf_unref(f[0]);
	buf_unref(f[1]);

	/* no small or medium buffer left: frames are queued apart, whole */
	{
		static uint32_t hs[WARD_SMALLBUF_COUNT + WARD_MEDBUF_COUNT];
		size_t nh = 0;
		uint32_t h;

		f[0] = text("six");
		f[1] = text("seven");
		while ((h = buf_get_class(BUF_SMALL)) != 0)
			hs[nh++] = h;
		while ((h = buf_get_class(BUF_MED)) != 0)
			hs[nh++] = h;
		CHECK_EQ(fanout_send(g, f[0], NULL), NM);
		CHECK_EQ(fanout_send(g, f[1], NULL), NM);
		CHECK_EQ(mc[1]->q_count, 2);
		for (size_t i = 0; i < nh; i++)
			buf_unref(hs[i]);
		conn_flush_all();
		wn = cat(want, f, 2);
		for (int i = 0; i < NM; i++) {
			n = peer_read(i, got, sizeof got);
			CHECK(n == wn && memcmp(got, want, n) == 0);
		}
		buf_unref(f[0]);
		buf_unref(f[1]);
	}

	/* too long to merge (over a medium buffer): queued apart */
	{
		static char big[WARD_MEDBUF_SIZE];

		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		f[0] = text("eight");
		f[1] = text(big);
		CHECK(f[1] != 0);
		CHECK_EQ(fanout_send(g, f[0], NULL), NM);
		CHECK_EQ(fanout_send(g, f[1], NULL), NM);
		CHECK_EQ(mc[3]->q_count, 2);
		conn_flush_all();
		wn = cat(want, f, 2);
		for (int i = 0; i < NM; i++) {
			n = peer_read(i, got, sizeof got);
			CHECK(n == wn && memcmp(got, want, n) == 0);
		}
		buf_unref(f[0]);
		buf_unref(f[1]);
	}

	/* a group emptied and made again in the same turn */
	f[0] = text("nine");
	CHECK_EQ(fanout_send(g, f[0], NULL), NM);
	for (int i = 0; i < NM; i++)
		fanout_leave(mc[i], 0);
	CHECK_EQ(fanout_count(), 0);
	CHECK((g = fanout_join(mc[0], 0, GK_STT_ROOM, "m2", 2, 0)) > 0);
	f[1] = text("ten");
	CHECK_EQ(fanout_send(g, f[1], NULL), 1);
	CHECK_EQ(mc[0]->q_count, 2);	/* the old group's buffer is gone */
	conn_flush_all();
	n = peer_read(0, got, sizeof got);
	wn = cat(want, f, 2);
	CHECK(n == wn && memcmp(got, want, n) == 0);
	for (int i = 1; i < NM; i++) {
		n = peer_read(i, got, sizeof got);
		CHECK(n == buf_len(f[0]) &&
		    memcmp(got, buf_data(f[0]), n) == 0);
	}
	buf_unref(f[0]);
	buf_unref(f[1]);

	merge_close();
	buf_stats(&b1);
	CHECK_EQ(b1.used[BUF_SMALL], b0.used[BUF_SMALL]);
	CHECK_EQ(b1.used[BUF_MED], b0.used[BUF_MED]);
	log_level = PORT_LOG_INFO;
}

/* Kinds declared by name: numbered once, found by name, named back. */
static void
kinds(void)
{
	int a = fanout_kind_add("t_kind_a"), b = fanout_kind_add("t_kind_b");

	CHECK(a > 0 && b > 0 && a != b);
	CHECK_EQ(fanout_kind_add("t_kind_a"), a);
	CHECK_EQ(fanout_kind_of("t_kind_b"), b);
	CHECK_EQ(fanout_kind_of("t_kind_none"), 0);
	CHECK_STR(fanout_kind_name(a), "t_kind_a");
	CHECK_STR(fanout_kind_name(0), "other");
	CHECK_STR(fanout_kind_name(WARD_GROUP_KINDS + 1), "other");
	CHECK_EQ(fanout_kind_add(""), WARD_ENOSPC);
	CHECK_STR(fanout_kind_name(fanout_kind_of("call")),
	    "call");	/* the index's */
}

void
suite_fanout(void)
{
	kinds();
	fanout_init();
	fakes_init();
	basics();
	switching();
	names();
	caps();
	big_walk();
	sequences();
	exhaustion();
	fakes_restore();
	fanout_init();
	merging();
	fanout_init();
}
