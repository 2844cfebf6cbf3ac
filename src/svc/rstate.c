/*
 * rstate.c - records shared through Redis (issue 14): diagnosis
 * registrations and doctor records, the same on every instance.
 *
 * Reads stay local and synchronous: each instance keeps its table (the
 * family's, journalled as without Redis) and changes replicate.  A record
 * carries a version, (wall clock in µs, instance id); the newer wins
 * everywhere (last writer wins), and a delete is a tombstone that lives
 * WARD_RSTATE_TOMB_MS so a late write of an older version cannot bring
 * the record back.
 *
 *   ward:r:<name>        hash, field = the key, value = the record
 *   ward:a:r.<name>      the bus channel a written change is published on
 *   value:   "<us> <instance> s\n<JSON object>"  or  "<us> <instance> d\n"
 *   message: "w1 <instance> 0 t\n<escaped key> <flag> <value>"
 *            flag "l": made while Redis was down (receivers tell their
 *            sockets, the bus did not), else "-"
 *
 * Write-through: one script compares versions in Redis and, only when the
 * pushed one is newer, stores it and publishes it (so a push repeated
 * after a lost reply publishes nothing); when Redis holds a newer or
 * equal one it answers it and this instance merges it.  Other instances
 * merge what they receive.  When the link comes up (start, reconnect)
 * every local record is pushed again (idempotent) and the hash is read
 * in bounded pages (a script: keys in order after a cursor, at most what
 * one reply holds) and merged; a record the local table cannot hold is
 * refused, logged and counted.  Redis down: changes are local and
 * journalled, and pushed when the link is back.
 */
#include <stdio.h>
#include <stdlib.h>

#include "svc.h"
#include "../redis.h"

#define RS_MAX		4	/* families sharing records */
#define RS_PAGE_BYTES	(WARD_REDIS_REPLY_BYTES - WARD_RSTATE_VALUE - 256)
#define RS_PAGE_PAIRS	((WARD_REDIS_REPLY_ELEMS - 3) / 2)
#define RS_NAME		64
#define RS_MSG		(64 + 3 * WARD_RSTATE_KEY + WARD_RSTATE_VALUE)

/*
 * ARGV: hash, field, value, channel, message.  1: stored and published;
 * a bulk: Redis's own version is newer or the same (nothing written).
 */
static const char push_lua[] =
    "local cur = redis.call('HGET', ARGV[1], ARGV[2]) "
    "if cur then "
    "local cv, ci = string.match(cur, '^(%d+) (%S*) ') "
    "local nv, ni = string.match(ARGV[3], '^(%d+) (%S*) ') "
    "cv = tonumber(cv) nv = tonumber(nv) "
    "if cv and (cv > nv or (cv == nv and ci >= ni)) then return cur end "
    "end "
    "redis.call('HSET', ARGV[1], ARGV[2], ARGV[3]) "
    "redis.call('PUBLISH', ARGV[4], ARGV[5]) return 1";

/*
 * ARGV: hash, cursor (the last key read), byte budget, pair budget,
 * tombstone cut-off (µs).  Returns { done, last key, key, value, ... }
 * in key order; tombstones older than the cut-off are deleted instead.
 */
static const char page_lua[] =
    "local ks = redis.call('HKEYS', ARGV[1]) table.sort(ks) "
    "local out = { 1, ARGV[2] } local b = 0 "
    "local mb = tonumber(ARGV[3]) local mn = tonumber(ARGV[4]) "
    "local cut = tonumber(ARGV[5]) "
    "for _, k in ipairs(ks) do if k > ARGV[2] then "
    "local v = redis.call('HGET', ARGV[1], k) "
    "local t, op = string.match(v, '^(%d+) %S* (%a)') "
    "if op == 'd' and tonumber(t) < cut then redis.call('HDEL', ARGV[1], k) "
    "else "
    "if #out > 2 and (b + #k + #v > mb or (#out - 2) / 2 >= mn) then "
    "out[1] = 0 return out end "
    "out[#out + 1] = k out[#out + 1] = v b = b + #k + #v out[2] = k "
    "end end end return out";

static struct rstate *fams[RS_MAX];
static int nfam;
static bool was_up;
static uint64_t next_sweep, next_warn;

static struct push {
	bool		 busy;
	struct rstate	*s;
	uint32_t	 slot;
	int64_t		 us;
	char		 inst[17];
} pushes[WARD_RSTATE_PUSHES];

static char val[WARD_RSTATE_VALUE + 64];
static char msg[RS_MSG];
static struct json_doc doc;

static struct str
S(const char *s)
{
	return (struct str){ s, strlen(s) };
}

bool
rstate_on(void)
{
	return cfg.redis[0] != '\0';
}

static bool
up(void)
{
	return bus_on() && redis_up();
}

/* Is a newer than b? */
static bool
newer(int64_t aus, const char *ainst, const struct rstate_meta *b)
{
	return aus > b->us || (aus == b->us && strcmp(ainst, b->inst) > 0);
}

void
rstate_stamp(struct rstate_meta *m)
{
	int64_t now = now_wall_us;

	m->us = now > m->us ? now : m->us + 1;
	utf8_copy(m->inst, sizeof m->inst, bus_on() ? bus_instance() : "");
	m->dirty = true;
	m->late = bus_on() && !redis_up();
}

uint64_t
rstate_refused(void)
{
	uint64_t n = 0;

	for (int i = 0; i < nfam; i++)
		n += fams[i]->refused;
	return n;
}

/* --- merging a remote record ----------------------------------------- */

/*
 * Merge value v (n bytes) for key.  snap: it came from Redis's hash (a
 * page or a push answer), so a newer local version is pushed again;
 * tell: the local sockets have not heard of it.
 */
static void
merge(struct rstate *s, const char *key, const char *v, size_t n, bool snap,
    bool tell)
{
	struct rstate_meta rm, *lm;
	const char *nl = memchr(v, '\n', n), *sp;
	char num[24];
	int i, o = -1, rc;
	size_t l;

	memset(&rm, 0, sizeof rm);
	if (nl == NULL || (sp = memchr(v, ' ', (size_t)(nl - v))) == NULL ||
	    (l = (size_t)(sp - v)) == 0 || l >= sizeof num)
		goto bad;
	memcpy(num, v, l);
	num[l] = '\0';
	for (size_t k = 0; k < l; k++)
		if (num[k] < '0' || num[k] > '9' || l > 18)
			goto bad;
	rm.us = strtoll(num, NULL, 10);
	l = (size_t)(nl - sp - 1);
	if (l < 2 || sp[l - 1] != ' ' || (sp[l] != 's' && sp[l] != 'd') ||
	    l - 2 >= sizeof rm.inst)
		goto bad;
	memcpy(rm.inst, sp + 1, l - 2);
	rm.inst[l - 2] = '\0';
	rm.tomb = sp[l] == 'd';
	i = s->find(key);
	lm = i >= 0 ? s->meta((uint32_t)i) : NULL;
	if (lm != NULL && !newer(rm.us, rm.inst, lm)) {
		if (snap && newer(lm->us, lm->inst, &rm)) {
			lm->dirty = true;	/* Redis is behind: push ours */
			s->pending = true;
		}
		return;
	}
	if (rm.tomb && lm == NULL)
		return;		/* nothing here to delete */
	if (!rm.tomb) {
		const char *j = nl + 1;
		size_t jn = n - (size_t)(j - v);

		if (json_parse(&doc, j, jn) != 0 || doc.tok[0].type != JSON_OBJ)
			goto bad;
		o = 0;
	}
	if ((rc = s->apply(key, &rm, &doc, o, tell)) == WARD_ENOMEM) {
		s->refused++;
		log_warn("rstate", "family=%s key=\"%s\" detail=\"table full: "
		    "shared record refused\"", s->name, key);
	} else if (rc != 0) {
		log_warn("rstate", "family=%s key=\"%s\" detail=\"not "
		    "applied\" rc=%d", s->name, key, rc);
	}
	return;
bad:
	log_warn("rstate", "family=%s detail=\"malformed record\"", s->name);
}

/* A bus message on ward:a:r.<name>: "<escaped key> <flag> <value>". */
static void
on_app(const struct str *topic, const struct str *p)
{
	char key[WARD_RSTATE_KEY + 1];
	const char *sp = memchr(p->p, ' ', p->n);

	for (int i = 0; i < nfam; i++) {
		struct rstate *s = fams[i];
		size_t nl = strlen(s->name);

		if (topic->n != nl + 2 || memcmp(topic->p, "r.", 2) != 0 ||
		    memcmp(topic->p + 2, s->name, nl) != 0)
			continue;
		if (sp == NULL || bus_unescape(p->p, (size_t)(sp - p->p), key,
		    sizeof key) <= 0 || p->n - (size_t)(sp - p->p) < 4 ||
		    sp[2] != ' ')
			return;
		merge(s, key, sp + 3, p->n - (size_t)(sp + 3 - p->p), false,
		    sp[1] == 'l');
		return;
	}
}

/* --- pushing local records -------------------------------------------- */

static void pump(struct rstate *s);

static bool
in_flight(const struct rstate *s, uint32_t i)
{
	for (int k = 0; k < WARD_RSTATE_PUSHES; k++)
		if (pushes[k].busy && pushes[k].s == s && pushes[k].slot == i)
			return true;
	return false;
}

static void
push_done(void *arg, const struct redis_reply *r)
{
	struct push *p = arg;
	struct rstate *s = p->s;
	struct rstate_meta *m = s->meta(p->slot);
	char key[WARD_RSTATE_KEY + 1];

	p->busy = false;
	s->pending = true;	/* the next one, or this one again */
	if (r == NULL || (r->e[0].type != RESP_INT &&
	    r->e[0].type != RESP_BULK)) {
		if (port_now_ms() >= next_warn) {	/* at most 1 a second */
			next_warn = port_now_ms() + 1000;
			log_warn("rstate", "family=%s detail=\"push failed, "
			    "tried again\"", s->name);
		}
		return;		/* at the next tick */
	}
	if (m != NULL && m->us == p->us && strcmp(m->inst, p->inst) == 0) {
		m->dirty = false;
		m->late = false;
		if (r->e[0].type == RESP_BULK) {
			s->key(p->slot, key, sizeof key);
			merge(s, key, r->e[0].p, r->e[0].n, true, true);
		}
	}			/* else changed meanwhile: pushed again */
	pump(s);
}

/* val = slot i's value; its length, 0 when it does not fit. */
static size_t
value_of(struct rstate *s, uint32_t i, const struct rstate_meta *m)
{
	struct jw w;
	int h = snprintf(val, sizeof val, "%lld %s %c\n", (long long)m->us,
	    m->inst, m->tomb ? 'd' : 's');

	if (m->tomb)
		return (size_t)h;
	jw_init(&w, val + h, WARD_RSTATE_VALUE - (size_t)h);
	s->body(&w, i);
	return w.err ? 0 : (size_t)h + w.len;
}

/* Push slot i: 0 when sent. */
static int
push(struct rstate *s, uint32_t i, struct rstate_meta *m, struct push *p)
{
	char hash[RS_NAME], chan[RS_NAME], key[WARD_RSTATE_KEY + 1];
	size_t vn, at;
	struct str a[8];

	if ((vn = value_of(s, i, m)) == 0) {
		log_warn("rstate", "family=%s detail=\"record too large to "
		    "share\"", s->name);
		m->dirty = false;
		return 0;
	}
	s->key(i, key, sizeof key);
	bus_name(hash, sizeof hash, "r:%s", s->name);
	bus_name(chan, sizeof chan, "a:r.%s", s->name);
	at = (size_t)snprintf(msg, sizeof msg, "w1 %s 0 t\n", bus_instance());
	if (!bus_escape(msg, sizeof msg, &at, key, strlen(key)) ||
	    at + 3 + vn > sizeof msg)
		return WARD_ETOOBIG;
	msg[at++] = ' ';
	msg[at++] = m->late ? 'l' : '-';
	msg[at++] = ' ';
	memcpy(msg + at, val, vn);
	a[0] = S("EVAL");
	a[1] = S(push_lua);
	a[2] = S("0");
	a[3] = S(hash);
	a[4] = S(key);
	a[5] = (struct str){ val, vn };
	a[6] = S(chan);
	a[7] = (struct str){ msg, at + vn };
	if (redis_cmd(push_done, p, 8, a) != 0)
		return WARD_EAGAIN;
	p->busy = true;
	p->s = s;
	p->slot = i;
	p->us = m->us;
	utf8_copy(p->inst, sizeof p->inst, m->inst);
	return 0;
}

static struct push *
free_push(void)
{
	for (int k = 0; k < WARD_RSTATE_PUSHES; k++)
		if (!pushes[k].busy)
			return &pushes[k];
	return NULL;
}

/* Push every dirty record of s, as push slots allow. */
static void
pump(struct rstate *s)
{
	bool left = false;

	if (!s->pending || !up())
		return;
	for (uint32_t i = 0; i < s->cap; i++) {
		struct rstate_meta *m = s->meta(i);
		struct push *p;

		if (m == NULL || !m->dirty)
			continue;
		left = true;
		if (in_flight(s, i))
			continue;
		if ((p = free_push()) == NULL || push(s, i, m, p) != 0)
			break;	/* the rest at the next tick */
	}
	s->pending = left;
}

void
rstate_changed(struct rstate *s)
{
	s->pending = true;
	pump(s);
}

/* --- reading the hash ------------------------------------------------- */

static void page(struct rstate *s);

static void
page_done(void *arg, const struct redis_reply *r)
{
	struct rstate *s = arg;
	char key[WARD_RSTATE_KEY + 1];
	uint32_t k;

	s->scanning = false;
	if (r == NULL || r->e[0].type != RESP_ARRAY || r->n < 3 ||
	    r->e[1].type != RESP_INT || r->e[2].type != RESP_BULK) {
		log_warn("rstate", "family=%s detail=\"read failed\"", s->name);
		return;		/* read again at the next connect */
	}
	for (k = 3; k + 1 < r->n; k += 2) {
		if (r->e[k].n > WARD_RSTATE_KEY || r->e[k].n == 0)
			continue;
		memcpy(key, r->e[k].p, r->e[k].n);
		key[r->e[k].n] = '\0';
		merge(s, key, r->e[k + 1].p, r->e[k + 1].n, true, true);
	}
	if (r->e[1].num == 0 && r->e[2].n <= WARD_RSTATE_KEY) {
		memcpy(s->after, r->e[2].p, r->e[2].n);
		s->after[r->e[2].n] = '\0';
		page(s);
	}
	pump(s);
}

static void
page(struct rstate *s)
{
	char hash[RS_NAME], bytes[16], pairs[16], cut[24];
	struct str a[8];

	bus_name(hash, sizeof hash, "r:%s", s->name);
	snprintf(bytes, sizeof bytes, "%d", (int)RS_PAGE_BYTES);
	snprintf(pairs, sizeof pairs, "%d", (int)RS_PAGE_PAIRS);
	snprintf(cut, sizeof cut, "%lld", (long long)(now_wall_us -
	    WARD_RSTATE_TOMB_MS * 1000));
	a[0] = S("EVAL");
	a[1] = S(page_lua);
	a[2] = S("0");
	a[3] = S(hash);
	a[4] = S(s->after);
	a[5] = S(bytes);
	a[6] = S(pairs);
	a[7] = S(cut);
	if (redis_cmd(page_done, s, 8, a) == 0)
		s->scanning = true;
}

/* --- the tick ----------------------------------------------------------- */

/* The link came up: push everything (idempotent), read everything. */
static void
connected(struct rstate *s)
{
	for (uint32_t i = 0; i < s->cap; i++) {
		struct rstate_meta *m = s->meta(i);

		if (m != NULL)
			m->dirty = true;
	}
	s->pending = true;
	s->after[0] = '\0';
	if (!s->scanning)
		page(s);
	pump(s);
}

/* Tombstones older than WARD_RSTATE_TOMB_MS free their slot. */
static void
sweep(struct rstate *s)
{
	int64_t cut = now_wall_us - WARD_RSTATE_TOMB_MS * 1000;

	for (uint32_t i = 0; i < s->cap; i++) {
		struct rstate_meta *m = s->meta(i);

		if (m != NULL && m->tomb && !m->dirty && m->us < cut)
			m->tomb = false;
	}
}

static void
tick(uint64_t now)
{
	bool u = up();

	for (int i = 0; i < nfam; i++) {
		if (u && !was_up)
			connected(fams[i]);
		else if (u)
			pump(fams[i]);
		if (now >= next_sweep)
			sweep(fams[i]);
	}
	if (now >= next_sweep)
		next_sweep = now + 60000;
	was_up = u;
}

void
rstate_add(struct rstate *s)
{
	if (nfam < RS_MAX)
		fams[nfam++] = s;
	bus_set_tick_hook(tick);
	bus_set_app_hook(on_app);
}
