/*
 * registry.c - the socket registry (SPEC §2; seeds 000/001
 * SocketStatusService): register, unregister, update, get, get all, get by
 * type, count, summary.
 *
 * One entry per connection slot (a static array), so registering can never
 * fail once a connection exists, and lookups by slot are O(1).  Counts per
 * type are kept incrementally; lookups by socket id scan the live entries
 * (an admin call, not a hot path).  Ids are a 32-bit sequence number and 16
 * random bits: unique for the process's life and not guessable in order.
 * With Redis the top 16 bits are the instance's tag instead (bus.c), so
 * an id names its instance across the cluster; the sequence is then 16
 * bits, and after it wraps a new id is drawn again while a live socket
 * has it.
 *
 * Socket types are names the families declare at start-up.  Two
 * intrusive indexes, one link pair per slot each: a doubly linked list
 * per type, and a hash of user names to chains of slots, so "every socket
 * of this type" and "every socket of this user" cost their members, not
 * the pool.  Links are slot + 1 (0: none).
 */
#include <stdio.h>

#include "internal.h"
#include "auth.h"

struct reg_entry reg[WARD_CONN_SLOTS];
static struct reg_profile prof[WARD_CONN_SLOTS];
static const struct reg_profile prof_empty;

struct reg_profile *
reg_prof_w(uint32_t slot)
{
	if (!reg[slot].has_prof) {
		memset(&prof[slot], 0, sizeof prof[slot]);
		reg[slot].has_prof = 1;
	}
	return &prof[slot];
}

const struct reg_profile *
reg_prof(uint32_t slot)
{
	return reg[slot].has_prof ? &prof[slot] : &prof_empty;
}

static uint32_t counts[WARD_SOCK_TYPES + 1];
static const char *type_names[WARD_SOCK_TYPES + 1] = { "" };
static int ntypes;
/* The two indexes (links are slot + 1). */
static uint32_t thead[WARD_SOCK_TYPES + 1];
static struct reg_link {
	uint32_t	tnext, tprev;	/* same type */
	uint32_t	unext, uprev;	/* same user hash bucket */
	uint32_t	ubucket;	/* bucket + 1 (0: not indexed) */
} link[WARD_CONN_SLOTS];
static uint32_t uhead[WARD_USER_BUCKETS];
static uint32_t total;
static uint32_t seq;
static uint16_t tag;		/* the instance's (bus.c), 0: none */
static uint64_t rng;		/* xorshift, seeded once from the port */

static uint16_t
rand16(void)
{
	if (rng == 0 && (port_random(&rng, sizeof rng) != 0 || rng == 0))
		rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)port_wall_us();
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint16_t)(rng >> 24);
}

const char *
reg_type_name(int type)
{
	return type > REG_TYPE_NONE && type <= ntypes ? type_names[type] : "";
}

int
reg_type_of(const char *name)
{
	for (int t = 1; t <= ntypes; t++)
		if (strcmp(type_names[t], name) == 0)
			return t;
	return REG_TYPE_NONE;
}

int
reg_type_add(const char *name)
{
	int t = reg_type_of(name);

	if (t != REG_TYPE_NONE)
		return t;
	if (ntypes >= WARD_SOCK_TYPES || name[0] == '\0')
		return WARD_ENOSPC;
	type_names[++ntypes] = name;
	return ntypes;
}

size_t
reg_index_bytes(void)
{
	return sizeof link[0];
}

int
reg_type_count(void)
{
	return ntypes;
}

static uint32_t
user_hash(const char *u)
{
	uint32_t h = 2166136261u;		/* FNV-1a */

	while (*u != '\0')
		h = (h ^ (uint8_t)*u++) * 16777619u;
	return h & (WARD_USER_BUCKETS - 1);
}

static void
type_link(uint32_t slot, int type)
{
	link[slot].tprev = 0;
	link[slot].tnext = thead[type];
	if (thead[type] != 0)
		link[thead[type] - 1].tprev = slot + 1;
	thead[type] = slot + 1;
}

static void
type_unlink(uint32_t slot, int type)
{
	struct reg_link *l = &link[slot];

	WARD_ASSERT(l->tprev != 0 || thead[type] == slot + 1);
	if (l->tprev != 0)
		link[l->tprev - 1].tnext = l->tnext;
	else
		thead[type] = l->tnext;
	if (l->tnext != 0)
		link[l->tnext - 1].tprev = l->tprev;
	l->tnext = l->tprev = 0;
}

static void
user_unlink(uint32_t slot)
{
	struct reg_link *l = &link[slot];

	if (l->ubucket == 0)
		return;
	WARD_ASSERT(l->uprev != 0 || uhead[l->ubucket - 1] == slot + 1);
	if (l->uprev != 0)
		link[l->uprev - 1].unext = l->unext;
	else
		uhead[l->ubucket - 1] = l->unext;
	if (l->unext != 0)
		link[l->unext - 1].uprev = l->uprev;
	l->unext = l->uprev = l->ubucket = 0;
}

void
reg_set_tag(uint16_t t)
{
	tag = t;
}

uint16_t
reg_id_tag(uint64_t id)
{
	return (uint16_t)(id >> 32);
}

/* A new id: without a tag, 32-bit sequence and 16 random bits; with one,
 * the tag, 16-bit sequence and 16 random bits, drawn again while a live
 * socket has it (only possible once the sequence wrapped). */
static uint64_t
new_id(void)
{
	uint64_t id;

	if (tag == 0)
		return (uint64_t)++seq << 16 | rand16();
	do
		id = (uint64_t)tag << 32 | (uint64_t)(uint16_t)++seq << 16 |
		    rand16();
	while (seq > 0xFFFF && reg_find(id) >= 0);
	return id;
}

void
reg_register(uint32_t slot, int type)
{
	struct reg_entry *e = &reg[slot];

	if (slot >= WARD_CONN_SLOTS || type <= REG_TYPE_NONE || type > ntypes)
		return;
	if (e->type != REG_TYPE_NONE)
		reg_unregister(slot);
	memset(e, 0, sizeof *e);
	e->id = new_id();
	e->rl_milli = (uint32_t)cfg.rate_burst * 1000u;
	e->rl_last = now_ms;
	e->type = (uint8_t)type;
	e->connected_us = e->last_us = port_wall_us();
	counts[type]++;
	total++;
	type_link(slot, type);
}

void
reg_unregister(uint32_t slot)
{
	struct reg_entry *e;

	if (slot >= WARD_CONN_SLOTS)
		return;
	e = &reg[slot];
	if (e->type == REG_TYPE_NONE)
		return;
	WARD_ASSERT(counts[e->type] > 0 && total > 0);
	counts[e->type]--;
	total--;
	type_unlink(slot, e->type);
	user_unlink(slot);
	e->type = REG_TYPE_NONE;
	e->id = 0;
}

void
reg_note_in(uint32_t slot, size_t bytes)
{
	struct reg_entry *e = &reg[slot];

	e->msgs_in++;
	e->bytes_in += bytes;
	e->last_us = now_wall_us;
}

void
reg_note_out(uint32_t slot, size_t bytes)
{
	reg[slot].msgs_out++;
	reg[slot].bytes_out += bytes;
}

bool
reg_rate_ok(uint32_t slot)
{
	struct reg_entry *e = &reg[slot];
	uint64_t cap = (uint64_t)cfg.rate_burst * 1000u, t;
	uint32_t dt = now_ms - e->rl_last;

	if (cfg.rate_limit == 0)
		return true;
	/* refill: rate_limit messages per second = rate_limit milli per ms */
	t = e->rl_milli + (uint64_t)dt * (uint64_t)cfg.rate_limit;
	e->rl_milli = (uint32_t)(t > cap ? cap : t);
	e->rl_last = now_ms;
	if (e->rl_milli >= 1000) {
		e->rl_milli -= 1000;
		e->rl_strikes = 0;
		return true;
	}
	if (e->rl_strikes < UINT16_MAX)
		e->rl_strikes++;
	return false;
}

long
reg_find(uint64_t id)
{
	if (id == 0)
		return -1;
	for (uint32_t i = 0; i < WARD_CONN_SLOTS; i++)
		if (reg[i].type != REG_TYPE_NONE && reg[i].id == id)
			return (long)i;
	return -1;
}

uint32_t
reg_count(int type)
{
	if (type == REG_TYPE_NONE)
		return total;
	return type > 0 && type <= ntypes ? counts[type] : 0;
}

long
reg_type_first(int type)
{
	if (type <= REG_TYPE_NONE || type > ntypes)
		return -1;
	return (long)thead[type] - 1;
}

long
reg_type_next(uint32_t slot)
{
	return (long)link[slot].tnext - 1;
}

void
reg_set_user(uint32_t slot, const char *user)
{
	uint32_t b;

	if (slot >= WARD_CONN_SLOTS || reg[slot].type == REG_TYPE_NONE)
		return;
	user_unlink(slot);
	utf8_copy(reg_prof_w(slot)->user, sizeof prof[slot].user, user);
	if (user[0] == '\0')
		return;
	b = user_hash(prof[slot].user);
	link[slot].ubucket = b + 1;
	link[slot].unext = uhead[b];
	if (uhead[b] != 0)
		link[uhead[b] - 1].uprev = slot + 1;
	uhead[b] = slot + 1;
}

/* The first slot from link l on (itself included) whose user is u. */
static long
user_match(uint32_t l, const char *u)
{
	for (; l != 0; l = link[l - 1].unext)
		if (strcmp(prof[l - 1].user, u) == 0)
			return (long)l - 1;
	return -1;
}

long
reg_user_first(const char *user)
{
	if (user[0] == '\0')
		return -1;
	return user_match(uhead[user_hash(user)], user);
}

long
reg_user_next(uint32_t slot)
{
	return user_match(link[slot].unext, prof[slot].user);
}

void
reg_id_text(uint64_t id, char out[13])
{
	snprintf(out, 13, "%012llx", (unsigned long long)(id & 0xFFFFFFFFFFFFull));
}

bool
reg_id_parse(struct str s, uint64_t *id)
{
	uint64_t v = 0;

	if (s.n != 12)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*id = v;
	return true;
}

static void
user_info(struct jw *w, const struct reg_entry *e,
    const struct reg_profile *p)
{
	jw_key(w, "user_info");
	jw_obj(w);
	if (p->role[0]) {
		jw_key(w, "role");
		jw_str(w, p->role);
	}
	if (p->name[0]) {
		jw_key(w, "name");
		jw_str(w, p->name);
	}
	if (p->user[0]) {
		jw_key(w, "user_id");
		jw_str(w, p->user);
	}
	if (p->room[0]) {
		jw_key(w, "room");
		jw_str(w, p->room);
	}
	if (p->tenant[0]) {
		jw_key(w, auth_tenant_claim());
		jw_str(w, p->tenant);
	}
	jw_key(w, "authenticated");
	jw_bool(w, e->authed);
	jw_obj_end(w);
}

void
reg_entry_json(struct jw *w, uint32_t slot, const char *remote)
{
	const struct reg_entry *e = &reg[slot];
	char id[13];

	reg_id_text(e->id, id);
	jw_obj(w);
	jw_key(w, "socket_id");
	jw_str(w, id);
	jw_key(w, "socket_type");
	jw_str(w, reg_type_name(e->type));
	user_info(w, e, reg_prof(slot));
	jw_key(w, "connected_at");
	jw_time(w, e->connected_us);
	jw_key(w, "last_activity");
	jw_time(w, e->last_us);
	jw_key(w, "messages_in");
	jw_int(w, e->msgs_in);
	jw_key(w, "messages_out");
	jw_int(w, e->msgs_out);
	jw_key(w, "bytes_in");
	jw_int(w, (int64_t)e->bytes_in);
	jw_key(w, "bytes_out");
	jw_int(w, (int64_t)e->bytes_out);
	jw_key(w, "remote");
	jw_str(w, remote ? remote : "");
	jw_obj_end(w);
}

void
reg_summary_json(struct jw *w)
{
	jw_key(w, "active");
	jw_bool(w, total > 0);
	jw_key(w, "total_sockets");
	jw_int(w, total);
	jw_key(w, "sockets_by_type");
	jw_obj(w);
	for (int t = 1; t <= ntypes; t++) {
		if (counts[t] == 0)
			continue;
		jw_key(w, type_names[t]);
		jw_int(w, counts[t]);
	}
	jw_obj_end(w);
	jw_key(w, "timestamp");
	jw_time(w, port_wall_us());
}
