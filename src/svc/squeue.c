/*
 * squeue.c - offline queues shared through Redis (issue 14): with Redis
 * configured and up, a message for a key (a user, a diagnosis) that no
 * socket of this instance took is handed to one Lua script that, in one
 * atomic step, either publishes it on the bus (some instance has a live
 * socket for the key: its presence is in Redis) or pushes it on the key's
 * Redis list (at most the family's per-key limit, the oldest dropped and
 * counted).  A socket that opens on any instance adds its presence and
 * pops its list in one script, so a message is delivered live or
 * collected, exactly once.
 *
 * Keys (every name escaped as the bus escapes channel names; "ward" is
 * redis_prefix, every name built by bus_name()):
 *   ward:q:<kind>:<key>       list, newest at the head (LPUSH)
 *   ward:q:dropped:<kind>     count of entries dropped by the trim
 *   ward:p:<instance>         set of "<kind>:<key>" with a live socket
 *                             here; PEXPIRE SQ_TTL_MS, refreshed each s
 *   ward:pi                   set of instances that wrote a presence
 *   ward:q:done:<instance>:<kind>:<seq>   a pushed journal entry (dedup)
 * An entry is the WebSocket frame exactly as queued locally.
 *
 * Redis down: the families queue in their mailbox (journalled) as
 * before; when the link is back, the presence set is written again and
 * every mailbox entry whose key has no local socket is pushed through
 * the same script (with a dedup marker, so a push whose reply was lost
 * is not done twice) and popped locally when Redis answers.
 */
#include <stdio.h>

#include "svc.h"
#include "../redis.h"

#define SQ_TTL_MS	WARD_BUS_COUNT_TTL_MS	/* presence expiry */
#define SQ_REFRESH_MS	WARD_BUS_COUNT_MS
/* One collection reply must fit the client's reply arena and table: the
 * first entry always fits (an entry is at most WARD_NOTIF_FRAME). */
#define SQ_DRAIN_BYTES	(WARD_REDIS_REPLY_BYTES - WARD_NOTIF_FRAME)
#define SQ_DRAIN_ITEMS	(WARD_REDIS_REPLY_ELEMS - 2)
#define SQ_MAX		4	/* families with a shared queue */
#define SQ_DRAINS	WARD_SQUEUE_DRAINS
#define SQ_NAME		(3 * WARD_MBOX_KEY + 64)

/*
 * ARGV: member, list, entry, channel, message, dropped key, dedup key
 * ("" for none), limit, "<prefix>:".  1: queued; 2: published (a live
 * socket somewhere); 0: already done (dedup).
 */
static const char post_lua[] =
    "if ARGV[7] ~= '' and not redis.call('SET', ARGV[7], '1', 'NX', "
    "'PX', '86400000') then return 0 end "
    "for _, i in ipairs(redis.call('SMEMBERS', ARGV[9] .. 'pi')) do "
    "local p = ARGV[9] .. 'p:' .. i "
    "if redis.call('EXISTS', p) == 0 then "
    "redis.call('SREM', ARGV[9] .. 'pi', i) "
    "elseif redis.call('SISMEMBER', p, ARGV[1]) == 1 then "
    "redis.call('PUBLISH', ARGV[4], ARGV[5]) return 2 end end "
    "local n = redis.call('LPUSH', ARGV[2], ARGV[3]) "
    "local lim = tonumber(ARGV[8]) "
    "if n > lim then redis.call('LTRIM', ARGV[2], 0, lim - 1) "
    "redis.call('INCRBY', ARGV[6], n - lim) end return 1";

/*
 * ARGV: instance, member, list, ttl, byte budget, item budget,
 * "<prefix>:".  Adds the presence and pops the oldest entries:
 * { remaining, oldest, ... }.
 */
static const char drain_lua[] =
    "redis.call('SADD', ARGV[7] .. 'pi', ARGV[1]) "
    "local p = ARGV[7] .. 'p:' .. ARGV[1] "
    "redis.call('SADD', p, ARGV[2]) redis.call('PEXPIRE', p, ARGV[4]) "
    "local out = { 0 } local b = 0 "
    "while #out <= tonumber(ARGV[6]) do "
    "local v = redis.call('LINDEX', ARGV[3], -1) "
    "if not v then break end "
    "if #out > 1 and b + #v > tonumber(ARGV[5]) then break end "
    "redis.call('RPOP', ARGV[3]) b = b + #v out[#out + 1] = v end "
    "out[1] = redis.call('LLEN', ARGV[3]) return out";

static struct squeue *qs[SQ_MAX];
static int nq;
static bool was_up;
static uint64_t next_refresh;

static struct drain {
	bool	busy;
	int	kind;
	char	key[WARD_MBOX_KEY + 1];
} drains[SQ_DRAINS];

static struct {
	bool		busy;
	struct squeue	*q;
	uint32_t	seq;
	char		key[WARD_MBOX_KEY + 1];
} outbox;

bool
squeue_up(void)
{
	return bus_on() && redis_up();
}

/* "<prefix>:<what><kind>:<key>" (what NULL: "<kind>:<key>") escaped into
 * out; false when too long. */
static bool
name_of(char *out, size_t cap, const char *what, int kind, const char *key)
{
	const char *k = fanout_kind_name(kind);
	int a = what != NULL ? bus_name(out, cap, "%s", what) : 0;
	size_t at = (size_t)a;

	if (a < 0 || at >= cap || !bus_escape(out, cap, &at, k, strlen(k)) ||
	    at + 2 > cap)
		return false;
	out[at++] = ':';
	out[at] = '\0';
	return bus_escape(out, cap, &at, key, strlen(key));
}

static struct str
S(const char *s)
{
	return (struct str){ s, strlen(s) };
}

/* Run the post script; 0 when the command was accepted. */
static int
post(const struct squeue *q, const char *key, const uint8_t *p, size_t n,
    uint32_t f, const char *dedup, redis_reply_fn cb, void *arg)
{
	int kind = *q->kind;
	char member[SQ_NAME], list[SQ_NAME], drop[SQ_NAME], lim[16], pfx[40];
	struct str chan, msg, a[12];

	if (!name_of(member, sizeof member, NULL, kind, key) ||
	    !name_of(list, sizeof list, "q:", kind, key) ||
	    bus_group_msg(kind, key, strlen(key), f, &chan, &msg) != 0)
		return WARD_EINVAL;
	if (bus_name(drop, sizeof drop, "q:dropped:%s",
	    fanout_kind_name(kind)) < 0 ||
	    bus_name(pfx, sizeof pfx, "%s", "") < 0)
		return WARD_EINVAL;
	snprintf(lim, sizeof lim, "%u", (unsigned)q->mb->per_key);
	a[0] = S("EVAL");
	a[1] = S(post_lua);
	a[2] = S("0");
	a[3] = S(member);
	a[4] = S(list);
	a[5] = (struct str){ (const char *)p, n };
	a[6] = chan;
	a[7] = msg;
	a[8] = S(drop);
	a[9] = S(dedup);
	a[10] = S(lim);
	a[11] = S(pfx);
	return redis_cmd(cb, arg, 12, a);
}

static void
post_done(void *arg, const struct redis_reply *r)
{
	(void)arg;
	if (r == NULL || r->e[0].type != RESP_INT)
		log_warn("squeue", "post failed: %.*s", r != NULL &&
		    r->e[0].type == RESP_ERROR ? (int)r->e[0].n : 4,
		    r != NULL && r->e[0].type == RESP_ERROR ? r->e[0].p :
		    "lost");
}

int
squeue_post(struct squeue *q, const char *key, uint32_t f)
{
	if (!squeue_up() || mailbox_count(q->mb, key) > 0)
		return WARD_EAGAIN;	/* behind what waits here: keep order */
	return post(q, key, buf_data(f), buf_len(f), f, "", post_done, NULL);
}

static void drain(int kind, const char *key);
static void present(int kind, const char *key);

/* verb (SADD or SREM) key's member of this instance's presence set. */
static bool
presence_cmd(const char *verb, int kind, const char *key)
{
	char set[64], member[SQ_NAME];
	struct str a[3];

	if (!name_of(member, sizeof member, NULL, kind, key))
		return false;
	bus_name(set, sizeof set, "p:%s", bus_instance());
	a[0] = S(verb);
	a[1] = S(set);
	a[2] = S(member);
	redis_cmd(NULL, NULL, 3, a);
	return true;
}

static void
drain_done(void *arg, const struct redis_reply *r)
{
	struct drain *d = arg;
	int g = fanout_find(d->kind, d->key, strlen(d->key));
	uint32_t n, k, i;
	struct str a[2 + SQ_DRAIN_ITEMS];

	d->busy = false;
	if (r == NULL || r->e[0].type != RESP_ARRAY || r->n < 2 ||
	    r->e[1].type != RESP_INT) {
		log_warn("squeue", "drain failed");
		return;
	}
	n = r->n - 2;
	if (g <= 0 && n > 0) {
		/* the socket left meanwhile: put them back at the old end */
		char list[SQ_NAME];

		if (!name_of(list, sizeof list, "q:", d->kind, d->key))
			return;
		a[0] = S("RPUSH");
		a[1] = S(list);
		for (i = 0; i < n && i < SQ_DRAIN_ITEMS; i++)
			a[2 + i] = (struct str){ r->e[r->n - 1 - i].p,
			    r->e[r->n - 1 - i].n };
		redis_cmd(NULL, NULL, 2 + (int)i, a);
		return;
	}
	for (k = 2; k < r->n; k++) {
		uint32_t h = buf_get(r->e[k].n);

		if (h == 0)
			break;
		memcpy(buf_base(h), r->e[k].p, r->e[k].n);
		buf_set(h, 0, (uint32_t)r->e[k].n);
		fanout_deliver(g, h);
		buf_unref(h);
	}
	if (r->e[1].num > 0)
		drain(d->kind, d->key);
}

static void
drain(int kind, const char *key)
{
	char member[SQ_NAME], list[SQ_NAME], ttl[16], bytes[16], items[16];
	char pfx[40];
	struct drain *d = NULL;
	struct str a[10];

	for (int i = 0; i < SQ_DRAINS && d == NULL; i++)
		if (!drains[i].busy)
			d = &drains[i];
	if (d == NULL) {
		present(kind, key);	/* the list waits for the next open */
		return;
	}
	if (!name_of(member, sizeof member, NULL, kind, key) ||
	    !name_of(list, sizeof list, "q:", kind, key))
		return;
	d->kind = kind;
	utf8_copy(d->key, sizeof d->key, key);
	snprintf(ttl, sizeof ttl, "%d", SQ_TTL_MS);
	snprintf(bytes, sizeof bytes, "%d", SQ_DRAIN_BYTES);
	snprintf(items, sizeof items, "%d", SQ_DRAIN_ITEMS);
	a[0] = S("EVAL");
	a[1] = S(drain_lua);
	a[2] = S("0");
	a[3] = S(bus_instance());
	a[4] = S(member);
	a[5] = S(list);
	a[6] = S(ttl);
	a[7] = S(bytes);
	a[8] = S(items);
	bus_name(pfx, sizeof pfx, "%s", "");
	a[9] = S(pfx);
	if (redis_cmd(drain_done, d, 10, a) == 0)
		d->busy = true;
}

void
squeue_open(struct squeue *q, const char *key)
{
	if (squeue_up())
		drain(*q->kind, key);
}

void
squeue_close(struct squeue *q, const char *key)
{
	if (!squeue_up() || fanout_find(*q->kind, key, strlen(key)) > 0)
		return;
	presence_cmd("SREM", *q->kind, key);
}

void
squeue_forget(struct squeue *q, const char *key)
{
	char list[SQ_NAME];
	struct str a[2];

	if (!squeue_up() || !name_of(list, sizeof list, "q:", *q->kind,
	    key))
		return;
	a[0] = S("DEL");
	a[1] = S(list);
	redis_cmd(NULL, NULL, 2, a);
}

/* --- after an outage ----------------------------------------------------- */

static void outbox_next(void);

static void
outbox_done(void *arg, const struct redis_reply *r)
{
	const struct mailbox_msg *m;

	(void)arg;
	outbox.busy = false;
	if (r == NULL || r->e[0].type != RESP_INT) {
		log_warn("squeue", "push of a local entry failed");
		return;		/* tried again at the next tick */
	}
	m = mailbox_peek(outbox.q->mb, outbox.key);
	if (m != NULL && m->seq == outbox.seq) {
		mailbox_pop(outbox.q->mb, outbox.key);
		journal_commit();
	}
	outbox_next();
}

/* Push the oldest local entry of a key with no local socket. */
static void
outbox_next(void)
{
	char dedup[SQ_NAME + 64];
	const struct mailbox_msg *m;
	uint32_t f;

	if (outbox.busy || !squeue_up())
		return;
	for (int i = 0; i < nq; i++) {
		struct mailbox *mb = qs[i]->mb;

		for (uint32_t k = 0; mb->ready && k < mb->cap; k++) {
			const char *key = mb->key[k].name;

			if (!mb->key[k].used || mb->key[k].count == 0 ||
			    fanout_find(*qs[i]->kind, key, strlen(key)) > 0)
				continue;
			m = mailbox_peek(mb, key);
			f = buf_get(m->len);
			if (f == 0)
				return;
			memcpy(buf_base(f), m->data, m->len);
			buf_set(f, 0, m->len);
			bus_name(dedup, sizeof dedup, "q:done:%s:%s:%u",
			    bus_instance(), fanout_kind_name(*qs[i]->kind),
			    (unsigned)m->seq);
			outbox.q = qs[i];
			outbox.seq = m->seq;
			utf8_copy(outbox.key, sizeof outbox.key, key);
			if (post(qs[i], key, m->data, m->len, f, dedup,
			    outbox_done, NULL) == 0)
				outbox.busy = true;
			buf_unref(f);
			return;
		}
	}
}

static void
refresh(void)
{
	char set[64], ttl[16];
	struct str a[3];

	bus_name(set, sizeof set, "p:%s", bus_instance());
	snprintf(ttl, sizeof ttl, "%d", SQ_TTL_MS);
	a[0] = S("PEXPIRE");
	a[1] = S(set);
	a[2] = S(ttl);
	redis_cmd(NULL, NULL, 3, a);
}

/* Add one presence (the drain script does it too, when a slot is free),
 * then push the set's expiry out again. */
static void
present(int kind, const char *key)
{
	if (presence_cmd("SADD", kind, key))
		refresh();
}

/* Write this instance's presence again (after an outage it expired). */
static void
presence_all(void)
{
	char pi[40];
	struct str a[3];

	bus_name(pi, sizeof pi, "pi");
	a[0] = S("SADD");
	a[1] = S(pi);
	a[2] = S(bus_instance());
	redis_cmd(NULL, NULL, 3, a);
	for (int g = fanout_next_used(0); g != 0; g = fanout_next_used(g))
		for (int i = 0; i < nq; i++) {
			if (fanout_kind(g) != *qs[i]->kind)
				continue;
			present(*qs[i]->kind, fanout_name(g));
			/* and deliver what waited (as slots allow) */
			drain(*qs[i]->kind, fanout_name(g));
		}
}

static void
tick(uint64_t now)
{
	bool up = squeue_up();

	if (up && !was_up) {
		presence_all();
		next_refresh = now + SQ_REFRESH_MS;
	}
	was_up = up;
	if (!up)
		return;
	if (now >= next_refresh) {
		next_refresh = now + SQ_REFRESH_MS;
		refresh();
	}
	outbox_next();
}

void
squeue_add(struct squeue *q)
{
	if (nq < SQ_MAX)
		qs[nq++] = q;
	bus_set_tick_hook(tick);
}
