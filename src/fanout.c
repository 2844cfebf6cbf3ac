/*
 * fanout.c - groups of connections and encode-once delivery.
 *
 * A group is (kind, name) -> a doubly linked list threaded through the
 * members' ud[] slots (membership slot ms uses ud[3*ms .. 3*ms+2]: group
 * id, next, prev; slots are stored +1 so 0 means none).  Joining, leaving
 * and finding are O(1) (a hash of the name); sending walks the members and
 * queues one shared frame on each: n recipients cost one encode and n
 * queue entries.  An empty group returns to the pool at once.
 *
 * Frames sent to a group in one turn are merged: the group remembers the
 * buffer it queued last, and a member whose queue still ends with that
 * buffer gets, in its place, one buffer holding both (made once for all
 * such members).  A burst of k messages to n members then costs n queue
 * entries and n one-piece writes instead of k*n.  What a member receives
 * is unchanged: bytes of the old buffer already written are the new
 * buffer's first bytes.  The remembered buffer is let go at the flush, so
 * a group pins no buffer between turns.
 */
#include "internal.h"

#define GRP_NAME_MAX	64
#define GRP_HASH	(2 * WARD_MAX_GROUPS)

struct group {
	uint8_t		kind;
	uint8_t		used;
	uint8_t		name_len;
	char		name[GRP_NAME_MAX + 1];
	uint32_t	head;		/* first member slot + 1 */
	uint8_t		in_turn;	/* on the turn list */
	uint32_t	count, cap, seq;
	uint32_t	hnext;		/* hash chain / free list */
	uint32_t	last;		/* buffer queued last this turn (ref) */
};

static struct group groups[WARD_MAX_GROUPS + 1];	/* [0] = none */
static uint32_t htab[GRP_HASH];
static uint32_t free_head, nused;
static uint32_t turn[WARD_MAX_GROUPS];	/* groups holding a last buffer */
static uint32_t nturn;

void
fanout_init(void)
{
	memset(htab, 0, sizeof htab);
	nturn = 0;
	for (uint32_t i = 1; i <= WARD_MAX_GROUPS; i++) {
		groups[i].used = 0;
		groups[i].in_turn = 0;
		groups[i].last = 0;
		groups[i].hnext = i < WARD_MAX_GROUPS ? i + 1 : 0;
	}
	free_head = 1;
	nused = 0;
}

static uint32_t
hash(int kind, const char *s, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h % GRP_HASH;
}

int
fanout_find(int kind, const char *name, size_t n)
{
	for (uint32_t g = htab[hash(kind, name, n)]; g != 0; g = groups[g].hnext)
		if (groups[g].kind == kind && groups[g].name_len == n &&
		    memcmp(groups[g].name, name, n) == 0)
			return (int)g;
	return 0;
}

static int
fanout_create(int kind, const char *name, size_t n, uint32_t cap)
{
	uint32_t g = free_head, h;
	struct group *gr;

	if (g == 0)
		return WARD_ENOMEM;
	gr = &groups[g];
	free_head = gr->hnext;
	gr->used = 1;
	gr->kind = (uint8_t)kind;
	gr->name_len = (uint8_t)n;
	memcpy(gr->name, name, n);
	gr->name[n] = '\0';
	gr->head = 0;
	gr->count = 0;
	gr->seq = 0;
	gr->cap = cap;
	h = hash(kind, name, n);
	gr->hnext = htab[h];
	htab[h] = g;
	nused++;
	return (int)g;
}

static void
fanout_destroy(uint32_t g)
{
	struct group *gr = &groups[g];
	uint32_t *pp = &htab[hash(gr->kind, gr->name, gr->name_len)];

	while (*pp != 0 && *pp != g)
		pp = &groups[*pp].hnext;
	if (*pp == g)
		*pp = gr->hnext;
	gr->used = 0;
	buf_unref(gr->last);	/* stays on the turn list until the flush */
	gr->last = 0;
	gr->hnext = free_head;
	free_head = g;
	nused--;
}

int
fanout_join(struct conn *c, int ms, int kind, const char *name, size_t n,
    uint32_t cap)
{
	uint32_t *u = &c->ud[3 * ms];
	int g;

	if (n == 0 || n > GRP_NAME_MAX)
		return WARD_EINVAL;
	if (u[0] != 0)
		fanout_leave(c, ms);
	g = fanout_find(kind, name, n);
	if (g == 0 && (g = fanout_create(kind, name, n, cap)) < 0)
		return g;
	if (groups[g].cap > 0 && groups[g].count >= groups[g].cap)
		return WARD_ETOOBIG;
	u[0] = (uint32_t)g;
	u[1] = groups[g].head;
	u[2] = 0;
	if (groups[g].head != 0)
		conns[groups[g].head - 1].ud[3 * ms + 2] = conn_id(c) + 1;
	groups[g].head = conn_id(c) + 1;
	groups[g].count++;
	return g;
}

void
fanout_leave(struct conn *c, int ms)
{
	uint32_t *u = &c->ud[3 * ms];
	uint32_t g = u[0];

	if (g == 0)
		return;
	if (u[2] != 0)
		conns[u[2] - 1].ud[3 * ms + 1] = u[1];
	else
		groups[g].head = u[1];
	if (u[1] != 0)
		conns[u[1] - 1].ud[3 * ms + 2] = u[2];
	u[0] = u[1] = u[2] = 0;
	if (--groups[g].count == 0)
		fanout_destroy(g);
}

int
fanout_of(const struct conn *c, int ms)
{
	return (int)c->ud[3 * ms];
}

uint32_t
fanout_size(int g)
{
	return g > 0 && groups[g].used ? groups[g].count : 0;
}

const char *
fanout_name(int g)
{
	return g > 0 ? groups[g].name : "";
}

uint32_t
fanout_next_seq(int g)
{
	return ++groups[g].seq;
}

int
fanout_next_used(int g)
{
	for (uint32_t i = (uint32_t)(g < 0 ? 0 : g) + 1; i <= WARD_MAX_GROUPS;
	    i++)
		if (groups[i].used)
			return (int)i;
	return 0;
}

int
fanout_kind(int g)
{
	return g > 0 && groups[g].used ? groups[g].kind : 0;
}

/* Kinds are the families' names, numbered from 1 as they are declared. */
static const char *kind_names[WARD_GROUP_KINDS + 1];
static int nkinds;

int
fanout_kind_of(const char *name)
{
	for (int k = 1; k <= nkinds; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return 0;
}

int
fanout_kind_add(const char *name)
{
	int k = fanout_kind_of(name);

	if (k != 0)
		return k;
	if (nkinds >= WARD_GROUP_KINDS || name[0] == '\0')
		return WARD_ENOSPC;
	kind_names[++nkinds] = name;
	return nkinds;
}

const char *
fanout_kind_name(int kind)
{
	return kind > 0 && kind <= nkinds ? kind_names[kind] : "other";
}

size_t
fanout_bytes(void)
{
	return sizeof(struct group) + sizeof(uint32_t) * (GRP_HASH /
	    WARD_MAX_GROUPS + 1);
}

uint32_t
fanout_count(void)
{
	return nused;
}

/* Which membership slot of c is in group g. */
static int
slot_in(const struct conn *c, int g)
{
	return c->ud[0] == (uint32_t)g ? 0 : 1;
}

struct conn *
fanout_first(int g)
{
	return g > 0 && groups[g].head ? &conns[groups[g].head - 1] : NULL;
}

struct conn *
fanout_next(const struct conn *c, int g)
{
	uint32_t nx = c->ud[3 * slot_in(c, g) + 1];

	return nx ? &conns[nx - 1] : NULL;
}

/* A buffer holding x's bytes, then f's: small and medium classes only
 * (reads need the io class); 0 when too long or none is free. */
static uint32_t
grown(uint32_t x, uint32_t f)
{
	size_t xl = buf_len(x), fl = buf_len(f), need = xl + fl;
	uint32_t m;

	if (need <= WARD_SMALLBUF_SIZE && buf_free_in(BUF_SMALL))
		m = buf_get_class(BUF_SMALL);
	else if (need <= WARD_MEDBUF_SIZE)
		m = buf_get_class(BUF_MED);
	else
		return 0;
	if (m == 0)
		return 0;
	memcpy(buf_base(m), buf_data(x), xl);
	memcpy(buf_base(m) + xl, buf_data(f), fl);
	buf_set(m, 0, (uint32_t)need);
	return m;
}

/* Remember b (new reference) as what the members' queues end with. */
static void
set_last(uint32_t g, uint32_t b)
{
	struct group *gr = &groups[g];

	buf_ref(b);
	buf_unref(gr->last);
	gr->last = b;
	if (!gr->in_turn) {
		gr->in_turn = 1;
		turn[nturn++] = g;
	}
}

void
fanout_turn_end(void)
{
	for (uint32_t i = 0; i < nturn; i++) {
		struct group *gr = &groups[turn[i]];

		buf_unref(gr->last);
		gr->last = 0;
		gr->in_turn = 0;
	}
	nturn = 0;
}

static uint32_t
deliver(int g, uint32_t frame, const struct conn *except)
{
	uint32_t x = groups[g].last, m2 = 0, n = 0;

	for (struct conn *m = fanout_first(g); m != NULL; m = fanout_next(m,
	    g)) {
		if (m == except || m->state != CS_WS)
			continue;
		if (x != 0 && conn_tail_buf(m) == x) {
			if (m2 == 0 && (m2 = grown(x, frame)) == 0)
				x = 0;		/* no merging: queue it apart */
			else {
				if (conn_send_grown(m, x, m2) == 0)
					n++;
				continue;
			}
		}
		if (conn_send(m, frame) == 0)
			n++;
	}
	set_last((uint32_t)g, m2 != 0 ? m2 : frame);
	buf_unref(m2);
	return n;
}

uint32_t
fanout_deliver(int g, uint32_t frame)
{
	return deliver(g, frame, NULL);
}

uint32_t
fanout_send(int g, uint32_t frame, const struct conn *except)
{
	uint32_t n = deliver(g, frame, except);

	bus_group(groups[g].kind, groups[g].name, groups[g].name_len, frame);
	return n;
}

uint32_t
fanout_send_flags(int g, uint32_t frame, const struct conn *except,
    const char *flags)
{
	uint32_t n = deliver(g, frame, except);

	bus_group_flags(groups[g].kind, groups[g].name, groups[g].name_len,
	    frame, flags);
	return n;
}

uint32_t
fanout_send_named(int kind, const char *name, size_t n, uint32_t frame,
    const struct conn *except)
{
	int g = fanout_find(kind, name, n);
	uint32_t k = g > 0 ? deliver(g, frame, except) : 0;

	bus_group(kind, name, n, frame);
	return k;
}

uint32_t
fanout_send_type(int type, uint32_t frame, const struct conn *except)
{
	uint32_t k = 0;

	for (long s = reg_type_first(type); s >= 0;
	    s = reg_type_next((uint32_t)s))
		if (&conns[s] != except && conns[s].state == CS_WS)
			k += conn_send(&conns[s], frame) == 0;
	bus_type(type, frame);
	return k;
}

uint32_t
fanout_send_user(const char *user, uint32_t frame)
{
	uint32_t k = 0;

	for (long s = reg_user_first(user); s >= 0;
	    s = reg_user_next((uint32_t)s))
		if (conns[s].state == CS_WS)
			k += conn_send(&conns[s], frame) == 0;
	bus_user(user, frame);
	return k;
}

uint32_t
fanout_send_text(int g, const char *s, size_t len, const struct conn *except)
{
	uint32_t f = ws_frame(WS_OP_TEXT, s, len), n;

	if (f == 0)
		return 0;
	n = fanout_send(g, f, except);
	buf_unref(f);
	return n;
}
