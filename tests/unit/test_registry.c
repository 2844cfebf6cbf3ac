/*
 * test_registry.c - the socket registry (src/registry.c; SPEC §2, the
 * seeds' SocketStatusService): register / unregister, counts per type and
 * total, socket ids (unique, 12 hex, parse and find), message and byte
 * counters, and the JSON it writes (parsed back with json_parse).
 *
 * The registry is global: the suite works on a few slots, measures counts
 * relative to what it found, and unregisters everything it registered.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "check.h"

/* The types this suite uses, by name (numbers come from the index). */
#define ST_NONE		REG_TYPE_NONE
#define ST_COUNT	(reg_type_count() + 1)
#define ST_CALL		reg_type_of("call")
#define ST_ECHO		reg_type_of("echo")
#define ST_STT		reg_type_of("stt")
#define ST_STT_ROOM	reg_type_of("stt_room")
#define ST_STT_ADMIN	reg_type_of("stt_admin")
#define ST_ADMIN	reg_type_of("admin")

static struct json_doc doc;

static bool
is_hex12(const char *s)
{
	if (strlen(s) != 12)
		return false;
	for (int i = 0; i < 12; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool
is_iso_us(const char *s)
{
	/* 2024-02-24T10:30:45.123456Z */
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	if (strlen(s) != sizeof pat - 1)
		return false;
	for (size_t i = 0; i < sizeof pat - 1; i++) {
		if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
			return false;
	}
	return true;
}

static struct str
S(const char *s)
{
	return (struct str){ s, strlen(s) };
}

/* Value of key in object obj as text ("" if absent or not a string). */
static const char *
get_str(int obj, const char *key)
{
	static char out[256];
	int v = json_find(&doc, obj, key);

	out[0] = '\0';
	if (v < 0 || json_str(&doc, v, out, sizeof out) != 0)
		out[0] = '\0';
	return out;
}

static int64_t
get_int(int obj, const char *key)
{
	int64_t x = -1;
	int v = json_find(&doc, obj, key);

	if (v < 0 || json_int(&doc, v, &x) != 0)
		return -12345;
	return x;
}

/* The families' socket types (declared by the index, numbered in its
 * order); the runner registered them (svc_index_register). */
static void
types(void)
{
	static const char *const names[] = { "echo", "call", "stt",
	    "stt_room", "stt_sales", "stt_admin", "consultations",
	    "notifications", "doctor_status", "unified", "diagnosis",
	    "admin" };

	CHECK_EQ(ST_COUNT - 1, (int)ARRAY_LEN(names));
	for (int t = 1; t < ST_COUNT; t++) {
		CHECK_STR(reg_type_name(t), names[t - 1]);
		CHECK_EQ(reg_type_of(names[t - 1]), t);
		CHECK_EQ(reg_type_add(names[t - 1]), t);	/* once */
	}
	CHECK_STR(reg_type_name(ST_NONE), "");
	CHECK_STR(reg_type_name(ST_COUNT), "");
	CHECK_STR(reg_type_name(-1), "");
	CHECK_EQ(reg_type_of("bogus"), ST_NONE);
	CHECK_EQ(reg_type_of(""), ST_NONE);
	CHECK_EQ(reg_type_of("CALL"), ST_NONE);
	CHECK_EQ(reg_type_of("call "), ST_NONE);
}

static void
register_unregister(void)
{
	uint32_t t0 = reg_count(ST_NONE), c0 = reg_count(ST_CALL);
	uint32_t e0 = reg_count(ST_ECHO), s0 = reg_count(ST_STT);
	uint64_t id1, id2, id3, old;
	char txt[13];
	uint64_t back;

	reg_register(1, ST_CALL);
	reg_register(2, ST_CALL);
	reg_register(3, ST_ECHO);
	CHECK_EQ(reg_count(ST_NONE), t0 + 3);
	CHECK_EQ(reg_count(ST_CALL), c0 + 2);
	CHECK_EQ(reg_count(ST_ECHO), e0 + 1);
	CHECK_EQ(reg_count(ST_STT), s0);
	CHECK_EQ(reg[1].type, ST_CALL);
	CHECK_EQ(reg[3].type, ST_ECHO);
	CHECK(reg[1].connected_us > 0);
	CHECK(reg[1].last_us >= reg[1].connected_us);
	CHECK_EQ(reg[1].msgs_in, 0);
	CHECK_EQ(reg[1].bytes_out, 0);

	id1 = reg[1].id;
	id2 = reg[2].id;
	id3 = reg[3].id;
	CHECK(id1 != 0 && id2 != 0 && id3 != 0);
	CHECK(id1 != id2 && id2 != id3 && id1 != id3);

	/* text form: 12 lowercase hex digits that parse back to the id */
	reg_id_text(id1, txt);
	CHECK(is_hex12(txt));
	CHECK(reg_id_parse(S(txt), &back));
	CHECK(back == id1);
	CHECK_EQ(reg_find(back), 1);
	reg_id_text(id3, txt);
	CHECK(is_hex12(txt));
	CHECK(reg_id_parse(S(txt), &back) && back == id3);
	CHECK_EQ(reg_find(id3), 3);
	CHECK_EQ(reg_find(id2), 2);
	CHECK_EQ(reg_find(0), -1);

	/* ids of many registrations of one slot: all different */
	{
		static uint64_t seen[200];
		int dup = 0;

		for (int i = 0; i < 200; i++) {
			reg_register(4, ST_STT);
			seen[i] = reg[4].id;
			reg_id_text(seen[i], txt);
			if (!is_hex12(txt))
				dup++;
			for (int j = 0; j < i; j++)
				if (seen[j] == seen[i])
					dup++;
		}
		CHECK_EQ(dup, 0);
		/* re-registering a live slot replaced it: counted once */
		CHECK_EQ(reg_count(ST_STT), s0 + 1);
		CHECK_EQ(reg_count(ST_NONE), t0 + 4);
		CHECK_EQ(reg_find(seen[0]), -1);
		CHECK_EQ(reg_find(seen[199]), 4);
		reg_unregister(4);
	}

	/* re-register a slot with another type: counts move between types */
	old = reg[2].id;
	reg_register(2, ST_STT_ROOM);
	CHECK_EQ(reg_count(ST_CALL), c0 + 1);
	CHECK_EQ(reg_count(ST_STT_ROOM), 1);
	CHECK_EQ(reg_count(ST_NONE), t0 + 3);
	CHECK_EQ(reg_find(old), -1);
	CHECK_EQ(reg_find(reg[2].id), 2);

	/* unregister; twice is harmless */
	reg_unregister(1);
	CHECK_EQ(reg_count(ST_CALL), c0);
	CHECK_EQ(reg_count(ST_NONE), t0 + 2);
	CHECK_EQ(reg[1].type, ST_NONE);
	CHECK_EQ(reg_find(id1), -1);
	reg_unregister(1);
	CHECK_EQ(reg_count(ST_CALL), c0);
	CHECK_EQ(reg_count(ST_NONE), t0 + 2);

	/* out of range and bad types change nothing */
	reg_unregister(WARD_CONN_SLOTS);
	reg_unregister(UINT32_MAX);
	reg_register(WARD_CONN_SLOTS, ST_CALL);
	reg_register(5, ST_NONE);
	reg_register(5, ST_COUNT);
	reg_register(5, -3);
	CHECK_EQ(reg_count(ST_NONE), t0 + 2);
	CHECK_EQ(reg[5].type, ST_NONE);
	CHECK_EQ(reg_count(ST_COUNT), 0);
	CHECK_EQ(reg_count(-1), 0);

	reg_unregister(2);
	reg_unregister(3);
	CHECK_EQ(reg_count(ST_NONE), t0);
	CHECK_EQ(reg_count(ST_ECHO), e0);
	CHECK_EQ(reg_count(ST_STT_ROOM), 0);
	CHECK_EQ(reg_find(id3), -1);
}

static void
id_parse(void)
{
	static const char *const bad[] = {
		"", "0", "00000000000", "0000000000000", "00000000000g",
		"-00000000001", " 00000000001", "00000000001 ", "0x0000000001",
		"00000000000/", "00000000000:", "zzzzzzzzzzzz", "0000 0000001",
		"000000000001/",
	};
	uint64_t v = 77;
	char txt[13];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		v = 77;
		CHECK(!reg_id_parse(S(bad[i]), &v));
		CHECK(v == 77);		/* untouched on failure */
	}
	/* a string with a NUL inside is not an id */
	CHECK(!reg_id_parse((struct str){ "00000000\0" "001", 12 }, &v));
	CHECK(reg_id_parse(S("000000000000"), &v) && v == 0);
	CHECK(reg_id_parse(S("0123456789ab"), &v) && v == 0x0123456789abull);
	CHECK(reg_id_parse(S("ffffffffffff"), &v) && v == 0xffffffffffffull);
	/* an id nobody has is parsed, and not found */
	CHECK_EQ(reg_find(0xfffffffffffeull), -1);
	/* text of a few values */
	reg_id_text(0, txt);
	CHECK_STR(txt, "000000000000");
	reg_id_text(0xabcdefull, txt);
	CHECK_STR(txt, "000000abcdef");
	reg_id_text(0x123456789abcull, txt);
	CHECK_STR(txt, "123456789abc");
}

static void
counters(void)
{
	uint32_t s = 6;

	reg_register(s, ST_ECHO);
	reg_note_in(s, 10);
	reg_note_in(s, 0);
	reg_note_in(s, 65536);
	reg_note_out(s, 12);
	reg_note_out(s, 3);
	CHECK_EQ(reg[s].msgs_in, 3);
	CHECK_EQ(reg[s].bytes_in, 65546);
	CHECK_EQ(reg[s].msgs_out, 2);
	CHECK_EQ(reg[s].bytes_out, 15);
	/* a new registration of the slot starts from zero */
	reg_register(s, ST_ECHO);
	CHECK_EQ(reg[s].msgs_in, 0);
	CHECK_EQ(reg[s].bytes_in, 0);
	CHECK_EQ(reg[s].msgs_out, 0);
	CHECK_EQ(reg[s].bytes_out, 0);
	reg_unregister(s);
}

static void
summary_json(void)
{
	static char buf[4096];
	uint32_t t0 = reg_count(ST_NONE);
	struct jw w;
	int v, o;
	bool b = false;

	reg_register(7, ST_CALL);
	reg_register(8, ST_CALL);
	reg_register(9, ST_STT_ADMIN);
	jw_init(&w, buf, sizeof buf);
	jw_obj(&w);
	reg_summary_json(&w);
	jw_obj_end(&w);
	CHECK(!w.err);
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	CHECK_EQ(doc.tok[0].type, JSON_OBJ);
	CHECK_EQ(doc.tok[0].size, 4);
	v = json_find(&doc, 0, "active");
	CHECK(v >= 0 && json_bool(&doc, v, &b) == 0 && b);
	CHECK_EQ(get_int(0, "total_sockets"), t0 + 3);
	o = json_find(&doc, 0, "sockets_by_type");
	CHECK(o >= 0 && doc.tok[o].type == JSON_OBJ);
	if (t0 == 0) {
		/* only types with n > 0 are listed */
		CHECK(o >= 0 && doc.tok[o].size == 2);
		CHECK_EQ(get_int(o, "echo"), -12345);
	}
	CHECK_EQ(get_int(o, "call"), reg_count(ST_CALL));
	CHECK_EQ(get_int(o, "stt_admin"), reg_count(ST_STT_ADMIN));
	CHECK(is_iso_us(get_str(0, "timestamp")));

	reg_unregister(7);
	reg_unregister(8);
	reg_unregister(9);
	if (t0 == 0) {
		/* nothing open: active false, total 0, an empty object */
		jw_init(&w, buf, sizeof buf);
		jw_obj(&w);
		reg_summary_json(&w);
		jw_obj_end(&w);
		CHECK(!w.err);
		CHECK_EQ(json_parse(&doc, buf, w.len), 0);
		v = json_find(&doc, 0, "active");
		CHECK(v >= 0 && json_bool(&doc, v, &b) == 0 && !b);
		CHECK_EQ(get_int(0, "total_sockets"), 0);
		o = json_find(&doc, 0, "sockets_by_type");
		CHECK(o >= 0 && doc.tok[o].type == JSON_OBJ &&
		    doc.tok[o].size == 0);
	}
}

static void
entry_json(void)
{
	static char buf[4096];
	static const char *const fields[] = { "socket_id", "socket_type",
	    "user_info", "connected_at", "last_activity", "messages_in",
	    "messages_out", "bytes_in", "bytes_out", "remote" };
	struct reg_entry *e = &reg[10];
	struct reg_profile *p;
	char id[13];
	struct jw w;
	int u, v;
	bool b = true;

	reg_register(10, ST_STT_ROOM);
	p = reg_prof_w(10);
	snprintf(p->role, sizeof p->role, "doctor");
	snprintf(p->name, sizeof p->name, "Dr \"Q\" \\ \xc3\xa9");
	snprintf(p->room, sizeof p->room, "r1");
	reg_note_in(10, 5);
	reg_note_out(10, 7);
	reg_note_out(10, 9);
	reg_id_text(e->id, id);

	jw_init(&w, buf, sizeof buf);
	reg_entry_json(&w, 10, "127.0.0.1:5555");
	CHECK(!w.err);
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	CHECK_EQ(doc.tok[0].type, JSON_OBJ);
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		CHECK(json_find(&doc, 0, fields[i]) >= 0);
	CHECK_STR(get_str(0, "socket_id"), id);
	CHECK_STR(get_str(0, "socket_type"), "stt_room");
	CHECK(is_iso_us(get_str(0, "connected_at")));
	CHECK_EQ(get_int(0, "messages_in"), 1);
	CHECK_EQ(get_int(0, "bytes_in"), 5);
	CHECK_EQ(get_int(0, "messages_out"), 2);
	CHECK_EQ(get_int(0, "bytes_out"), 16);
	CHECK_STR(get_str(0, "remote"), "127.0.0.1:5555");
	u = json_find(&doc, 0, "user_info");
	CHECK(u >= 0 && doc.tok[u].type == JSON_OBJ);
	CHECK_STR(get_str(u, "role"), "doctor");
	CHECK_STR(get_str(u, "name"), "Dr \"Q\" \\ \xc3\xa9");
	CHECK_STR(get_str(u, "room"), "r1");
	v = json_find(&doc, u, "authenticated");
	CHECK(v >= 0 && json_bool(&doc, v, &b) == 0 && !b);

	/* no remote: an empty string, still valid JSON */
	jw_init(&w, buf, sizeof buf);
	reg_entry_json(&w, 10, NULL);
	CHECK(!w.err);
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	CHECK(json_find(&doc, 0, "remote") >= 0);
	CHECK_STR(get_str(0, "remote"), "");

	/* an authenticated entry with a user id; no name: key left out */
	reg_register(11, ST_ADMIN);
	reg[11].authed = 1;
	p = reg_prof_w(11);
	snprintf(p->role, sizeof p->role, "admin");
	snprintf(p->user, sizeof p->user, "7");
	jw_init(&w, buf, sizeof buf);
	jw_arr(&w);		/* two entries in an array, as the listing */
	reg_entry_json(&w, 10, "a");
	reg_entry_json(&w, 11, "b");
	jw_arr_end(&w);
	CHECK(!w.err);
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	CHECK_EQ(doc.tok[0].type, JSON_ARR);
	CHECK_EQ(doc.tok[0].size, 2);
	{
		int second = json_skip(&doc, 1);

		CHECK_STR(get_str(second, "socket_type"), "admin");
		u = json_find(&doc, second, "user_info");
		CHECK_STR(get_str(u, "user_id"), "7");
		CHECK_STR(get_str(u, "role"), "admin");
		CHECK_EQ(json_find(&doc, u, "name"), -1);
		v = json_find(&doc, u, "authenticated");
		CHECK(v >= 0 && json_bool(&doc, v, &b) == 0 && b);
	}

	/* the writer refuses, not truncates, when the buffer is too small */
	jw_init(&w, buf, 40);
	reg_entry_json(&w, 10, "127.0.0.1:5555");
	CHECK(w.err);

	reg_unregister(10);
	reg_unregister(11);
}

/*
 * The identity behind a socket (role, name, user id, room, practice) is
 * kept whole up to the SPEC's sizes (a room name is up to 64 characters),
 * and a new socket in a reused slot never inherits the previous one's.
 */
static void
profiles(void)
{
	static char buf[4096];
	static char room[65], name[97], user[65];
	struct reg_profile *p;
	struct jw w;
	int u;

	memset(room, 'r', 64);
	memset(name, 'n', 96);
	memset(user, '9', 64);
	reg_register(12, ST_CALL);
	CHECK_STR(reg_prof(12)->role, "");
	CHECK_STR(reg_prof(12)->room, "");
	p = reg_prof_w(12);
	CHECK(sizeof p->room >= 65);
	CHECK(sizeof p->name >= 97);
	snprintf(p->room, sizeof p->room, "%s", room);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->user, sizeof p->user, "%s", user);
	snprintf(p->role, sizeof p->role, "doctor");
	CHECK_STR(reg_prof(12)->room, room);
	/* a second writer sees the same profile (not cleared again) */
	CHECK_STR(reg_prof_w(12)->name, name);

	jw_init(&w, buf, sizeof buf);
	reg_entry_json(&w, 12, "x");
	CHECK(!w.err);
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	u = json_find(&doc, 0, "user_info");
	CHECK_STR(get_str(u, "room"), room);
	CHECK_STR(get_str(u, "name"), name);
	CHECK_STR(get_str(u, "user_id"), user);
	CHECK_STR(get_str(u, "role"), "doctor");

	/* the slot reused by an anonymous socket: nothing inherited */
	reg_unregister(12);
	reg_register(12, ST_ECHO);
	CHECK_STR(reg_prof(12)->role, "");
	CHECK_STR(reg_prof(12)->name, "");
	CHECK_STR(reg_prof(12)->user, "");
	CHECK_STR(reg_prof(12)->room, "");
	jw_init(&w, buf, sizeof buf);
	reg_entry_json(&w, 12, "x");
	CHECK_EQ(json_parse(&doc, buf, w.len), 0);
	u = json_find(&doc, 0, "user_info");
	CHECK(u >= 0 && doc.tok[u].type == JSON_OBJ);
	CHECK_EQ(json_find(&doc, u, "name"), -1);
	CHECK_EQ(json_find(&doc, u, "room"), -1);
	CHECK_EQ(json_find(&doc, u, "user_id"), -1);
	/* and a first write after the reuse starts from an empty profile */
	p = reg_prof_w(12);
	CHECK_STR(p->name, "");
	CHECK_STR(p->room, "");
	reg_unregister(12);
}

/* Slots of type t found by walking its index (bit per slot < 64). */
static uint64_t
walk_type(int t, int *n)
{
	uint64_t seen = 0;

	*n = 0;
	for (long s = reg_type_first(t); s >= 0 && *n < 100;
	    s = reg_type_next((uint32_t)s)) {
		if (s < 64)
			seen |= 1ull << s;
		++*n;
	}
	return seen;
}

static uint64_t
walk_user(const char *u, int *n)
{
	uint64_t seen = 0;

	*n = 0;
	for (long s = reg_user_first(u); s >= 0 && *n < 100;
	    s = reg_user_next((uint32_t)s)) {
		if (s < 64)
			seen |= 1ull << s;
		++*n;
	}
	return seen;
}

/*
 * The type index: every registered socket of a type exactly once, none
 * of another type, none unregistered; the head, middle and tail each
 * removed; a slot re-registered under another type moves lists.
 */
static void
type_index(void)
{
	int n, stt = ST_STT, call = ST_CALL, base;

	walk_type(stt, &base);		/* other suites' sockets: none */
	CHECK_EQ(base, 0);
	CHECK_EQ(reg_type_first(REG_TYPE_NONE), -1);
	CHECK_EQ(reg_type_first(reg_type_count() + 1), -1);
	for (uint32_t s = 0; s < 10; s++)
		reg_register(s, s % 2 ? stt : call);
	CHECK(walk_type(stt, &n) == 0x2AAull);	/* 1 3 5 7 9 */
	CHECK_EQ(n, 5);
	CHECK(walk_type(call, &n) == 0x155ull);	/* 0 2 4 6 8 */
	CHECK_EQ(n, 5);
	CHECK_EQ((uint32_t)n, reg_count(call));
	reg_unregister(9);		/* the newest: the head */
	reg_unregister(1);		/* the oldest: the tail */
	reg_unregister(5);		/* the middle */
	CHECK(walk_type(stt, &n) == ((1ull << 3) | (1ull << 7)));
	CHECK_EQ(n, 2);
	reg_register(3, call);		/* moves to the other list */
	CHECK(walk_type(stt, &n) == 1ull << 7);
	CHECK(walk_type(call, &n) & 1ull << 3);
	CHECK_EQ(n, 6);
	for (uint32_t s = 0; s < 10; s++)
		reg_unregister(s);
	walk_type(stt, &n);
	CHECK_EQ(n, 0);
	walk_type(call, &n);
	CHECK_EQ(n, 0);
}

/* registry.c's user bucket of a name (FNV-1a). */
static uint32_t
fnv(const char *u)
{
	uint32_t h = 2166136261u;

	while (*u != '\0')
		h = (h ^ (uint8_t)*u++) * 16777619u;
	return h & (WARD_USER_BUCKETS - 1);
}

/*
 * The user index: a user's sockets whatever their type, never another
 * user's (even in the same hash bucket: every bucket is shared once
 * there are more users than buckets), gone on unregister, moved when a
 * socket's user changes, and "" is nobody.
 */
static void
user_index(void)
{
	char name[16];
	int n;

	reg_register(0, ST_CALL);
	reg_register(1, ST_ECHO);
	reg_register(2, ST_CALL);
	reg_register(3, ST_ECHO);
	reg_set_user(0, "u-1");
	reg_set_user(1, "u-1");
	reg_set_user(2, "u-2");
	CHECK_STR(reg_prof(0)->user, "u-1");
	CHECK(walk_user("u-1", &n) == ((1ull << 0) | (1ull << 1)));
	CHECK_EQ(n, 2);
	CHECK(walk_user("u-2", &n) == 1ull << 2);
	walk_user("u-3", &n);
	CHECK_EQ(n, 0);
	walk_user("", &n);
	CHECK_EQ(n, 0);
	reg_set_user(2, "u-1");	/* changes user */
	walk_user("u-2", &n);
	CHECK_EQ(n, 0);
	CHECK(walk_user("u-1", &n) & 1ull << 2);
	CHECK_EQ(n, 3);
	reg_set_user(1, "");		/* nobody */
	CHECK(walk_user("u-1", &n) == ((1ull << 0) | (1ull << 2)));
	reg_unregister(0);
	CHECK(walk_user("u-1", &n) == 1ull << 2);
	/* a user sharing u-1's hash bucket (registry.c hashes FNV-1a):
	 * the chain holds both, each walk answers only its own */
	for (uint32_t i = 0; i < 1000000; i++) {
		snprintf(name, sizeof name, "x%u", (unsigned)i);
		if (fnv(name) == fnv("u-1"))
			break;
	}
	CHECK(fnv(name) == fnv("u-1") && strcmp(name, "u-1") != 0);
	reg_register(3, ST_ECHO);
	reg_set_user(3, name);
	CHECK(walk_user(name, &n) == 1ull << 3);
	CHECK_EQ(n, 1);
	CHECK(walk_user("u-1", &n) == 1ull << 2);
	CHECK_EQ(n, 1);
	reg_unregister(3);
	reg_register(4, ST_ECHO);	/* a new socket: not in the index */
	CHECK_EQ(reg_prof(4)->user[0], '\0');
	reg_set_user(4, "u-1");
	reg_set_user(4, "u-1");	/* twice: still once */
	walk_user("u-1", &n);
	CHECK_EQ(n, 2);
	reg_set_user(5, "u-1");	/* not registered: ignored */
	walk_user("u-1", &n);
	CHECK_EQ(n, 2);
	for (uint32_t s = 0; s < 6; s++)
		reg_unregister(s);
	walk_user("u-1", &n);
	CHECK_EQ(n, 0);
}

void
suite_registry(void)
{
	types();
	register_unregister();
	id_parse();
	counters();
	summary_json();
	entry_json();
	profiles();
	type_index();
	user_index();
}
