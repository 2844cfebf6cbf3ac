/*
 * test_buf.c - the buffer pools: size classes, smallest-class-first with
 * fall-through, exhaustion and recovery, reference counts, windows
 * (off/len), external buffers, statistics.
 *
 * The pools are global statics shared with every other suite: buf_init()
 * first, and every handle taken here is given back before the suite ends.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

#define N_SMALL	WARD_SMALLBUF_COUNT
#define N_IO	WARD_IOBUF_COUNT
#define N_BIG	WARD_BIGBUF_COUNT
#define N_EXT	WARD_EXTBUF_COUNT
#define N_MED	WARD_MEDBUF_COUNT

static uint32_t hs[N_SMALL + N_MED + N_IO + N_BIG + N_EXT + 8];

static int
class_of(uint32_t h)
{
	size_t cap = buf_cap(h);

	return cap == WARD_SMALLBUF_SIZE ? BUF_SMALL : cap == WARD_MEDBUF_SIZE ?
	    BUF_MED : cap == WARD_IOBUF_SIZE ? BUF_IO : cap == WARD_BIGBUF_SIZE ?
	    BUF_BIG : -1;
}

static uint32_t
used(int cls)
{
	struct buf_stats st;

	buf_stats(&st);
	return st.used[cls];
}

static void
test_classes(void)
{
	struct buf_stats st;
	uint32_t h;

	buf_init();
	buf_stats(&st);
	CHECK_EQ(st.cap[BUF_SMALL], N_SMALL);
	CHECK_EQ(st.cap[BUF_IO], N_IO);
	CHECK_EQ(st.cap[BUF_BIG], N_BIG);
	CHECK_EQ(st.cap[BUF_EXT], N_EXT);
	CHECK_EQ(st.size[BUF_SMALL], WARD_SMALLBUF_SIZE);
	CHECK_EQ(st.size[BUF_IO], WARD_IOBUF_SIZE);
	CHECK_EQ(st.size[BUF_BIG], WARD_BIGBUF_SIZE);
	for (int c = 0; c < BUF_NCLASS; c++) {
		CHECK_EQ(st.used[c], 0);
		CHECK_EQ(st.peak[c], 0);
	}
	CHECK_EQ(st.fails, 0);
	for (int c = BUF_SMALL; c <= BUF_EXT; c++)
		CHECK(buf_free_in(c));

	/* the smallest class that holds need */
	{
		static const struct {
			size_t	need;
			int	cls;
		} v[] = {
			{ 0, BUF_SMALL }, { 1, BUF_SMALL },
			{ WARD_SMALLBUF_SIZE, BUF_SMALL },
			{ WARD_SMALLBUF_SIZE + 1, BUF_MED },
			{ WARD_MEDBUF_SIZE, BUF_MED },
			{ WARD_MEDBUF_SIZE + 1, BUF_IO },
			{ WARD_IOBUF_SIZE, BUF_IO },
			{ WARD_IOBUF_SIZE + 1, BUF_BIG },
			{ WARD_BIGBUF_SIZE, BUF_BIG },
		};

		for (size_t i = 0; i < ARRAY_LEN(v); i++) {
			h = buf_get(v[i].need);
			CHECK(h != 0);
			CHECK_EQ(class_of(h), v[i].cls);
			CHECK(buf_cap(h) >= v[i].need);
			CHECK_EQ(buf_len(h), 0);
			CHECK(buf_data(h) == buf_base(h));
			buf_unref(h);
		}
	}
	/* larger than any class */
	buf_stats(&st);
	CHECK_EQ(buf_get(WARD_BIGBUF_SIZE + 1), 0);
	CHECK_EQ(buf_get(SIZE_MAX), 0);
	{
		struct buf_stats st2;

		buf_stats(&st2);
		CHECK_EQ(st2.fails, st.fails + 2);
	}
	for (int c = 0; c < BUF_NCLASS; c++)
		CHECK_EQ(used(c), 0);
}

/* Take every buffer of one class; returns how many were taken. */
static size_t
drain_class(int cls, uint32_t *out)
{
	size_t n = 0;
	uint32_t h;

	while ((h = buf_get_class(cls)) != 0)
		out[n++] = h;
	return n;
}

static void
test_fall_through(void)
{
	size_t ns, ni, nb, nm;
	uint32_t h, extra[4];
	int distinct = 1;

	buf_init();
	ns = drain_class(BUF_SMALL, hs);
	CHECK_EQ(ns, N_SMALL);
	CHECK(!buf_free_in(BUF_SMALL));
	CHECK_EQ(used(BUF_SMALL), N_SMALL);
	/* handles are distinct, 1-based, and storage does not overlap */
	for (size_t i = 0; i < ns; i++) {
		if (hs[i] == 0)
			distinct = 0;
		memset(buf_base(hs[i]), (int)(i & 0xFF), WARD_SMALLBUF_SIZE);
	}
	for (size_t i = 0; i < ns; i++) {
		uint8_t *p = buf_base(hs[i]);

		if (p[0] != (uint8_t)i ||
		    p[WARD_SMALLBUF_SIZE - 1] != (uint8_t)i)
			distinct = 0;
	}
	CHECK(distinct);

	/* small dry: a small request falls through to medium, io, then big */
	nm = drain_class(BUF_MED, hs + ns);
	CHECK_EQ(nm, N_MED);
	ns += nm;
	h = extra[0] = buf_get(10);
	CHECK_EQ(class_of(h), BUF_IO);
	ni = drain_class(BUF_IO, hs + ns);
	CHECK_EQ(ni + 1, N_IO);
	extra[1] = buf_get(10);
	CHECK_EQ(class_of(extra[1]), BUF_BIG);
	nb = drain_class(BUF_BIG, hs + ns + ni);
	CHECK_EQ(nb + 1, N_BIG);
	/* everything dry: 0, and the failure is counted */
	CHECK_EQ(buf_get(1), 0);
	CHECK_EQ(buf_get_class(BUF_SMALL), 0);
	CHECK_EQ(buf_get_class(BUF_BIG), 0);
	/* recovery: one small back and it is used first again */
	buf_unref(hs[0]);
	CHECK(buf_free_in(BUF_SMALL));
	h = buf_get(1);
	CHECK_EQ(h, hs[0]);
	CHECK_EQ(class_of(h), BUF_SMALL);
	/* a big request cannot use a small slot */
	buf_unref(hs[1]);
	CHECK_EQ(buf_get(WARD_SMALLBUF_SIZE + 1), 0);
	hs[1] = buf_get(1);
	CHECK(hs[1] != 0);

	for (size_t i = 0; i < ns + ni + nb; i++)
		buf_unref(hs[i]);
	buf_unref(extra[0]);
	buf_unref(extra[1]);
	for (int c = 0; c < BUF_NCLASS; c++)
		CHECK_EQ(used(c), 0);
	{
		struct buf_stats st;

		buf_stats(&st);
		CHECK_EQ(st.peak[BUF_SMALL], N_SMALL);
		CHECK_EQ(st.peak[BUF_IO], N_IO);
		CHECK_EQ(st.peak[BUF_BIG], N_BIG);
		CHECK(st.fails >= 4);
	}
	/* and the whole pool can be taken again */
	CHECK_EQ(drain_class(BUF_SMALL, hs), N_SMALL);
	for (size_t i = 0; i < N_SMALL; i++)
		buf_unref(hs[i]);
}

static void
test_refcount(void)
{
	uint32_t h, h2;

	buf_init();
	h = buf_get(100);
	CHECK_EQ(used(BUF_SMALL), 1);
	buf_ref(h);
	buf_ref(h);
	buf_unref(h);
	buf_unref(h);
	CHECK_EQ(used(BUF_SMALL), 1);		/* one reference left */
	buf_unref(h);
	CHECK_EQ(used(BUF_SMALL), 0);
	/* an extra unref of a free buffer changes nothing */
	buf_unref(h);
	CHECK_EQ(used(BUF_SMALL), 0);
	buf_unref(0);				/* 0 is "none" */
	CHECK_EQ(used(BUF_SMALL), 0);
	/* a reused slot starts clean */
	h2 = buf_get(100);
	CHECK_EQ(h2, h);
	CHECK_EQ(buf_len(h2), 0);
	buf_set(h2, 10, 5);
	CHECK(buf_data(h2) == buf_base(h2) + 10);
	CHECK_EQ(buf_len(h2), 5);
	buf_unref(h2);
	h2 = buf_get(100);
	CHECK_EQ(buf_len(h2), 0);
	CHECK(buf_data(h2) == buf_base(h2));
	buf_unref(h2);
	/* a shared frame goes back with the last of many references */
	h = buf_get(10);
	for (int i = 0; i < 1000; i++)
		buf_ref(h);
	for (int i = 0; i < 1000; i++)
		buf_unref(h);
	CHECK_EQ(used(BUF_SMALL), 1);
	buf_unref(h);
	CHECK_EQ(used(BUF_SMALL), 0);
}

static void
test_ext(void)
{
	static const char page[] = "<html>static</html>";
	uint32_t h;
	size_t n;

	buf_init();
	h = buf_ext(page, sizeof page - 1);
	CHECK(h != 0);
	CHECK(buf_base(h) == (const uint8_t *)page);
	CHECK(buf_data(h) == (const uint8_t *)page);
	CHECK_EQ(buf_len(h), sizeof page - 1);
	CHECK_EQ(buf_cap(h), sizeof page - 1);
	CHECK_EQ(used(BUF_EXT), 1);
	CHECK_EQ(used(BUF_SMALL), 0);
	buf_set(h, 6, 6);
	CHECK_MEM(buf_data(h), "static", 6);
	buf_ref(h);
	buf_unref(h);
	CHECK_EQ(used(BUF_EXT), 1);
	buf_unref(h);
	CHECK_EQ(used(BUF_EXT), 0);
	/* exhaustion and recovery */
	n = 0;
	while ((h = buf_ext(page, 4)) != 0)
		hs[n++] = h;
	CHECK_EQ(n, N_EXT);
	CHECK(!buf_free_in(BUF_EXT));
	CHECK_EQ(buf_ext(page, 4), 0);
	buf_unref(hs[3]);
	h = buf_ext(page + 6, 6);
	CHECK_EQ(h, hs[3]);
	CHECK_MEM(buf_data(h), "static", 6);
	CHECK_EQ(buf_len(h), 6);
	hs[3] = h;
	for (size_t i = 0; i < n; i++)
		buf_unref(hs[i]);
	CHECK_EQ(used(BUF_EXT), 0);
	/* an ext buffer of length 0 */
	h = buf_ext(page, 0);
	CHECK(h != 0);
	CHECK_EQ(buf_len(h), 0);
	buf_unref(h);
}

static struct conn *
new_conn(int *peer)
{
	int sv[2];
	struct conn *c;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return NULL;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	c = conn_new(sv[0], 0, &(struct port_addr){ .family = 4 });
	if (c == NULL) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	*peer = sv[1];
	return c;
}

/*
 * Recovery reaches every connection that paused for a buffer: with the
 * I/O pool dry, A and B pause while reading (B last, so the pause list is
 * B -> A).  B goes away and is reaped while still on that list, and a new
 * connection takes B's slot before the next conn_resume_paused() -- the
 * order loop.c runs in when B fails during the turn's last flush and a
 * client is accepted in the next turn.  When buffers come back, A must be
 * read again.
 */
static void
test_pause_resume(void)
{
	int pa = -1, pb = -1, pn = -1;
	struct conn *a, *b, *n;
	size_t nio;

	cfg_defaults();
	log_level = -1;
	buf_init();
	conn_init();
	a = new_conn(&pa);
	b = new_conn(&pb);
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		return;
	nio = drain_class(BUF_IO, hs);
	CHECK(write(pa, "GET ", 4) == 4);
	CHECK(write(pb, "GET ", 4) == 4);
	conn_on_event(a, PORT_EV_IN);
	conn_on_event(b, PORT_EV_IN);
	CHECK(a->flags & CF_PAUSED);
	CHECK(b->flags & CF_PAUSED);
	conn_drop(b, true);
	conn_reap();
	close(pb);
	n = new_conn(&pn);
	CHECK(n != NULL);
	for (size_t i = 0; i < nio; i++)
		buf_unref(hs[i]);
	conn_resume_paused();
	CHECK(!(a->flags & CF_PAUSED));
	if (!(a->flags & CF_PAUSED)) {
		/* and it reads again: the 4 bytes arrive */
		conn_on_event(a, PORT_EV_IN);
		CHECK_EQ(a->rx_len, 4);
	}

	conn_drop(a, true);
	if (n != NULL)
		conn_drop(n, true);
	conn_reap();
	conn_resume_paused();
	conn_flush_all();
	close(pa);
	if (pn >= 0)
		close(pn);
	log_level = PORT_LOG_INFO;
}

/* The reserve: incomplete work stops above it, answers may take it. */
static void
test_reserve(void)
{
	size_t n = 0;
	uint32_t h;
	int wait = -2;
	bool big_spare;

	buf_init();
	CHECK_EQ(buf_reserve(BUF_EXT), 0);
	CHECK(buf_reserve(BUF_IO) >= 1);
	CHECK(buf_reserve(BUF_IO) <= N_IO / 8 + 1);
	CHECK_EQ(buf_reserve(BUF_BIG), N_BIG < 4 ? 0 : N_BIG / 8 > 0 ?
	    N_BIG / 8 : 1);
	while ((h = buf_get_spare(BUF_IO)) != 0)
		hs[n++] = h;
	CHECK_EQ(n, N_IO - buf_reserve(BUF_IO));
	CHECK(!buf_spare_in(BUF_IO));
	CHECK(buf_free_in(BUF_IO));	/* the reserve is still there */
	h = buf_get_class(BUF_IO);	/* complete work may take it */
	CHECK(h != 0);
	buf_unref(h);
	/* a need that fits I/O falls through to big, above its reserve */
	big_spare = buf_spare_in(BUF_BIG);
	h = buf_get_spare_fit(WARD_MEDBUF_SIZE + 1, &wait);
	CHECK_EQ(wait, BUF_IO);
	if (big_spare) {
		CHECK(h != 0 && class_of(h) == BUF_BIG);
	} else {
		CHECK_EQ(h, 0);
	}
	buf_unref(h);
	/* a small need takes a small buffer first */
	h = buf_get_spare_fit(10, &wait);
	CHECK(h != 0 && class_of(h) == BUF_SMALL);
	CHECK_EQ(wait, BUF_SMALL);
	CHECK_EQ(buf_class(h), BUF_SMALL);
	CHECK_EQ(buf_refs(h), 1);
	buf_unref(h);
	CHECK_EQ(buf_class_for(WARD_BIGBUF_SIZE + 1), -1);
	CHECK_EQ(buf_class_for(WARD_SMALLBUF_SIZE + 1), BUF_MED);
	while (n > 0)
		buf_unref(hs[--n]);
	for (int c = 0; c < BUF_NCLASS; c++)
		CHECK_EQ(used(c), 0);
}

/* A partial head holds a small buffer, not an I/O one; a head waiting
 * for room above the reserve does not make the loop spin. */
static void
test_small_heads(void)
{
	int pa = -1, pb = -1;
	struct conn *a, *b;
	size_t n = 0;
	uint32_t h;

	cfg_defaults();
	log_level = -1;
	buf_init();
	conn_init();
	a = new_conn(&pa);
	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK(write(pa, "G", 1) == 1);
	conn_on_event(a, PORT_EV_IN);
	CHECK_EQ(a->rx_len, 1);
	CHECK(a->rx != 0 && buf_class(a->rx) == BUF_SMALL);
	CHECK_EQ(used(BUF_IO), 0);
	CHECK_EQ(used(BUF_MED), 0);
	/* more bytes than a small buffer: it grows */
	{
		char big[600];

		memset(big, 'a', sizeof big);
		memcpy(big, "ET /", 4);
		CHECK(write(pa, big, sizeof big) == (long)sizeof big);
		conn_on_event(a, PORT_EV_IN);
		CHECK_EQ(a->rx_len, 601);
		CHECK(a->rx != 0 && buf_cap(a->rx) >= 601);
		CHECK(a->rx != 0 && buf_class(a->rx) == BUF_MED);
	}
	/* every class above its reserve taken: a newcomer waits, and the
	 * loop is not told to go on (the reserve is not for it) */
	while ((h = buf_get_spare(BUF_SMALL)) != 0)
		hs[n++] = h;
	while ((h = buf_get_spare(BUF_MED)) != 0)
		hs[n++] = h;
	while ((h = buf_get_spare(BUF_IO)) != 0)
		hs[n++] = h;
	b = new_conn(&pb);
	CHECK(b != NULL);
	if (b != NULL) {
		CHECK(write(pb, "G", 1) == 1);
		conn_on_event(b, PORT_EV_IN);
		CHECK(b->flags & CF_PAUSED);
		CHECK(b->rx == 0);
		CHECK(!conn_paused_ready());
		CHECK_EQ(conn_resume_paused(), 0);
		buf_unref(hs[--n]);		/* one comes back */
		CHECK(conn_paused_ready());
		CHECK_EQ(conn_resume_paused(), 1);
		conn_on_event(b, PORT_EV_IN);
		CHECK_EQ(b->rx_len, 1);
		conn_drop(b, true);
	}
	while (n > 0)
		buf_unref(hs[--n]);
	conn_drop(a, true);
	conn_reap();
	conn_flush_all();
	close(pa);
	if (pb >= 0)
		close(pb);
	for (int c = 0; c < BUF_NCLASS; c++)
		CHECK_EQ(used(c), 0);
	log_level = PORT_LOG_INFO;
}

/* The slow-consumer budget counts buffers pinned: frames of 2.1 KB in
 * I/O buffers cut the recipient at conn_heavy_max(), the queue trimmed
 * to a frame boundary with the 1013 close frame behind it. */
static void
test_pinned_budget(void)
{
	int pa = -1;
	struct conn *a;
	uint32_t sent = 0, f;
	uint64_t cuts0 = stats.cuts[CUT_SLOW_CONSUMER];
	static uint8_t pl[2100];

	cfg_defaults();
	log_level = -1;
	buf_init();
	conn_init();
	a = new_conn(&pa);
	CHECK(a != NULL);
	if (a == NULL)
		return;
	a->state = CS_WS;
	a->flags &= ~CF_IN_REQ;
	while (a->state == CS_WS && sent < 1000) {
		/* its output has not moved for a while: the strict limit */
		if (sent == 1)
			now_ms += 10 * WARD_TICK_MS;
		/* a second reference keeps each frame shared (no packing) */
		f = ws_frame(WS_OP_TEXT, pl, sizeof pl);
		CHECK(f != 0 && buf_class(f) == BUF_IO);
		if (f == 0)
			break;
		hs[sent] = f;
		if (conn_send(a, f) == 0)
			sent++;
		else
			buf_unref(f);
	}
	CHECK_EQ(sent, conn_heavy_max());
	CHECK_EQ(a->state, CS_CLOSING);
	CHECK_EQ(stats.cuts[CUT_SLOW_CONSUMER], cuts0 + 1);
	CHECK_EQ(a->q_count, 1);	/* nothing was written: only the close */
	CHECK_EQ(a->q_heavy, 0);
	CHECK(a->q_pin <= WARD_SMALLBUF_SIZE);
	if (a->q_count == 1) {
		f = conn_tail_buf(a);
		CHECK_EQ(buf_data(f)[0], 0x88);
		CHECK_EQ(buf_data(f)[2], 1013 >> 8);
		CHECK_EQ(buf_data(f)[3], 1013 & 0xFF);
	}
	for (uint32_t i = 0; i < sent; i++)
		buf_unref(hs[i]);
	CHECK_EQ(used(BUF_IO), 0);
	conn_drop(a, true);
	conn_reap();
	conn_flush_all();
	close(pa);
	log_level = PORT_LOG_INFO;
}

void
suite_buf(void)
{
	test_classes();
	test_fall_through();
	test_refcount();
	test_ext();
	test_pause_resume();
	test_reserve();
	test_small_heads();
	test_pinned_budget();
	buf_init();
}
