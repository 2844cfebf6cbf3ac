/*
 * diagnosis.c - per-diagnosis channels with offline queues (SPEC §5):
 * /ws/<diagnosis_id>, GET /ws/status, POST/GET /api/diagnoses,
 * DELETE /api/diagnoses/<id>, and the three broadcast endpoints.
 *
 * A diagnosis is registered (id, owner or none).  A socket may open it
 * when it is unowned, or with a token whose sub is the owner or whose
 * role is admin or service; it gets {"type":"welcome","diagnosis_id",
 * "queued":n[,"dropped":k]} and then what was queued, in order.  A
 * broadcast with nobody connected is queued: at most WARD_DIAG_PER (100)
 * per diagnosis, the oldest dropped first and counted (the next welcome
 * carries "dropped").  Queued frames live in a mailbox (mailbox.c) keyed
 * by the id in decimal: a fixed arena (WARD_DIAG_QUEUE frames of
 * WARD_NOTIF_FRAME bytes); a full arena drops the diagnosis's own oldest,
 * or answers 503 when it has none queued.
 *
 * Registrations, owners, queued frames and dropped counts are written
 * ahead to the journal (journal.c) and replayed at start (the queue's
 * records of the format before the mailbox too); storage that fails
 * answers 503 and changes nothing, on disk included.
 */
#include <stdio.h>

#include "svc.h"
#include "../auth.h"

static int gk_diag;		/* group kind "diagnosis" */

#define OWNER_MAX	64

struct diag {
	bool			used, owned;
	int64_t			id;
	char			owner[OWNER_MAX + 1];
	struct rstate_meta	m;	/* version; a tombstone when !used */
};

static struct diag diags[WARD_DIAGNOSES];
/* Queued frames, keyed by the diagnosis id in decimal. */
MAILBOX_STORAGE(dq, WARD_DIAG_QUEUE) = MAILBOX_INIT(dq, J_DQ_MBOX,
    WARD_DIAG_PER, true);
static struct squeue sq = { &gk_diag, &dq };
static struct rstate rs;

/* The mailbox key of a diagnosis id. */
static const char *
key_of(int64_t id, char k[24])
{
	snprintf(k, 24, "%lld", (long long)id);
	return k;
}

static struct diag *
find(int64_t id)
{
	for (size_t i = 0; i < WARD_DIAGNOSES; i++)
		if (diags[i].used && diags[i].id == id)
			return &diags[i];
	return NULL;
}

/* A registration or a tombstone of id. */
static struct diag *
find_any(int64_t id)
{
	for (size_t i = 0; i < WARD_DIAGNOSES; i++)
		if ((diags[i].used || diags[i].m.tomb) && diags[i].id == id)
			return &diags[i];
	return NULL;
}

static uint32_t
queued(const struct diag *d)
{
	char k[24];

	return mailbox_count(&dq, key_of(d->id, k));
}

static uint32_t
dropped_of(const struct diag *d)
{
	char k[24];

	return mailbox_dropped(&dq, key_of(d->id, k));
}

/* --- the journal --------------------------------------------------------- */

static struct jbuf jb;

static int
put_diag(const struct diag *d, uint32_t dropped)
{
	journal_rec_init(&jb);
	journal_rec_u64(&jb, (uint64_t)d->id);
	journal_rec_u64(&jb, d->owned);
	journal_rec_str(&jb, d->owner);
	journal_rec_u64(&jb, dropped);
	journal_rec_u64(&jb, (uint64_t)d->m.us);
	journal_rec_str(&jb, d->m.inst);
	return journal_put(J_DIAG, jb.p, jb.n);
}

/* A delete: the id, then its version (a tombstone with Redis). */
static int
put_del(const struct diag *d)
{
	journal_rec_init(&jb);
	journal_rec_u64(&jb, (uint64_t)d->id);
	journal_rec_u64(&jb, (uint64_t)d->m.us);
	journal_rec_str(&jb, d->m.inst);
	return journal_put(J_DIAG_DEL, jb.p, jb.n);
}

/* id's slot: its own (a tombstone too), a free one, else the oldest
 * tombstone already in Redis; NULL when the table is full. */
static struct diag *
slot_for(int64_t id)
{
	struct diag *d = find_any(id), *t = NULL;

	for (size_t k = 0; d == NULL && k < WARD_DIAGNOSES; k++) {
		if (!diags[k].used && !diags[k].m.tomb)
			d = &diags[k];
		else if (!diags[k].used && !diags[k].m.dirty &&
		    (t == NULL || diags[k].m.us < t->m.us))
			t = &diags[k];
	}
	if (d == NULL && t != NULL) {
		memset(t, 0, sizeof *t);
		d = t;
	}
	return d;
}

/* The version fields after a record's own (absent before issue 14). */
static void
read_ver(struct jread *r, struct rstate_meta *m)
{
	uint64_t us;

	if (journal_read_u64(r, &us) &&
	    journal_read_str(r, m->inst, sizeof m->inst))
		m->us = (int64_t)us;
	m->dirty = false;
}

static void
diag_replay(int type, const uint8_t *p, size_t n)
{
	struct jread r = { p, n, 0 };
	uint64_t id, owned, dropped, seq;
	char owner[OWNER_MAX + 1], k[24];
	struct diag *d;

	if (mailbox_replay(&dq, type, p, n))
		return;
	switch (type) {
	case J_DIAG:
		if (!journal_read_u64(&r, &id) || !journal_read_u64(&r,
		    &owned) ||
		    !journal_read_str(&r, owner,
		    sizeof owner) || !journal_read_u64(&r, &dropped) ||
		    (d = slot_for((int64_t)id)) == NULL)
			return;
		if (!d->used) {
			memset(d, 0, sizeof *d);
			d->used = true;
			d->id = (int64_t)id;
		}
		read_ver(&r, &d->m);
		d->m.tomb = false;
		d->owned = owned != 0;
		utf8_copy(d->owner, sizeof d->owner, owner);
		mailbox_set_dropped(&dq, key_of(d->id, k), (uint32_t)dropped);
		return;
	case J_DIAG_DEL:
		if (!journal_read_u64(&r, &id))
			return;
		if ((d = find_any((int64_t)id)) == NULL && rstate_on())
			d = slot_for((int64_t)id);
		if (d == NULL)
			return;
		mailbox_forget(&dq, key_of((int64_t)id, k));
		d->used = false;
		d->id = (int64_t)id;
		read_ver(&r, &d->m);
		d->m.tomb = rstate_on();
		return;
	/* the queue's format before the mailbox */
	case J_DQ_PUSH:
		if (journal_read_u64(&r, &seq) && journal_read_u64(&r, &id) &&
		    find((int64_t)id) != NULL)
			mailbox_load(&dq, seq, key_of((int64_t)id, k), p + r.at,
			    n - r.at);
		return;
	case J_DQ_POP:
		if (journal_read_u64(&r, &seq))
			mailbox_unload(&dq, seq);
		return;
	}
}

static int
diag_snapshot(void)
{
	for (size_t i = 0; i < WARD_DIAGNOSES; i++)
		if ((diags[i].used && put_diag(&diags[i],
		    dropped_of(&diags[i])) != 0) ||
		    (diags[i].m.tomb && put_del(&diags[i]) != 0))
			return WARD_EIO;
	return mailbox_snapshot(&dq);
}

static int
group_of(int64_t id)
{
	char name[24];
	int n = snprintf(name, sizeof name, "%lld", (long long)id);

	return fanout_find(gk_diag, name, (size_t)n);
}

/* --- the socket ---------------------------------------------------------- */

static void
welcome_gen(struct jw *w, void *arg)
{
	const struct diag *d = arg;

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "welcome");
	jw_key(w, "diagnosis_id");
	jw_int(w, d->id);
	jw_key(w, "queued");
	jw_int(w, queued(d));
	if (dropped_of(d) > 0) {
		jw_key(w, "dropped");
		jw_int(w, dropped_of(d));
	}
	jw_obj_end(w);
}

static void
open_diag(struct conn *c, const struct http_req *r)
{
	struct str s = r->param[0];
	char name[24];
	int64_t id = 0;
	struct diag *d;
	uint32_t f;
	const struct mailbox_msg *q;

	for (size_t i = 0; i < s.n && id < 1000000000000000LL; i++)
		id = id * 10 + (s.p[i] - '0');
	if (s.n > 18 || id <= 0 || (d = find(id)) == NULL) {
		audit("channel_refused", r->auth, "channel=diagnosis id=%lld "
		    "reason=\"diagnosis not found\"", (long long)id);
		conn_close_ws(c, 1008, "diagnosis not found");
		return;
	}
	if (d->owned && (r->auth == NULL ||
	    (strcmp(r->auth->sub, d->owner) != 0 &&
	    !auth_role_in(r->auth, "admin,service")))) {
		audit("channel_refused", r->auth, "channel=diagnosis id=%lld "
		    "reason=\"access denied\"", (long long)id);
		conn_close_ws(c, 1008, "access denied");
		return;
	}
	audit("channel_open", r->auth, "channel=diagnosis id=%lld",
	    (long long)id);
	snprintf(name, sizeof name, "%lld", (long long)id);
	if (fanout_join(c, 0, gk_diag, name, strlen(name), 0) < 0) {
		conn_close_ws(c, 1013, "no room left on this server");
		return;
	}
	c->ud[6] = (uint32_t)(d - diags) + 1;
	if ((f = ws_jw_frame(welcome_gen, d)) == 0 ||
	    conn_send_owned(c, f) != 0)
		return;
	while ((q = mailbox_peek(&dq, name)) != NULL) {
		if (svc_send_copy(c, q->data, q->len) != 0)
			break;		/* stays queued */
		mailbox_pop(&dq, name);
	}
	mailbox_seen(&dq, name);	/* the welcome told the dropped count */
	/* delivered at least once: a failed write means a repeat after a
	 * restart, never a loss */
	journal_commit();
	squeue_open(&sq, name);	/* then what waited in Redis */
}

static void
close_diag(struct conn *c)
{
	char name[24];
	int g = fanout_of(c, 0);

	utf8_copy(name, sizeof name, fanout_name(g));
	fanout_leave(c, 0);
	if (g > 0)
		squeue_close(&sq, name);
}

static void
message_diag(struct conn *c, int op, uint8_t *p, size_t n)
{
	char type[32];

	(void)op;
	if (svc_json_msg(c, p, n, type, sizeof type) == NULL)
		return;
	svc_error(c, "unknown_type", "this channel only receives updates");
}

/* --- GET /ws/status -------------------------------------------------------- */

/* The cluster's diagnosis channels (bus_group_counts): sums, then the map. */
struct cl_sum {
	int64_t		with, total;
};

static void
cl_add(const char *name, uint64_t n, void *arg)
{
	struct cl_sum *s = arg;

	(void)name;
	s->with++;
	s->total += (int64_t)n;
}

static void
cl_put(const char *name, uint64_t n, void *arg)
{
	jw_key(arg, name);
	jw_int(arg, (int64_t)n);
}

static void
status_gen(struct jw *w, void *arg)
{
	int64_t total = 0, with = 0, regd = 0;
	struct cl_sum cs = { 0, 0 };
	bool cl = bus_group_counts(gk_diag, cl_add, &cs);

	(void)arg;
	for (size_t i = 0; i < WARD_DIAGNOSES; i++) {
		uint32_t n;

		if (!diags[i].used)
			continue;
		regd++;
		if ((n = fanout_size(group_of(diags[i].id))) > 0) {
			with++;
			total += n;
		}
	}
	jw_obj(w);
	jw_key(w, "total_diagnoses");
	jw_int(w, cl ? cs.with : with);
	jw_key(w, "total_connections");
	jw_int(w, cl ? cs.total : total);
	for (int pass = 0; pass < 2; pass++) {
		jw_key(w, pass == 0 ? "connections_by_diagnosis" :
		    "queued_messages_by_diagnosis");
		jw_obj(w);
		if (pass == 0 && cl)
			bus_group_counts(gk_diag, cl_put, w);
		for (size_t i = 0; i < WARD_DIAGNOSES && !(pass == 0 && cl);
		    i++) {
			char k[24];
			uint32_t n;

			if (!diags[i].used)
				continue;
			n = pass == 0 ? fanout_size(group_of(diags[i].id)) :
			    queued(&diags[i]);
			if (n == 0)
				continue;
			snprintf(k, sizeof k, "%lld", (long long)diags[i].id);
			jw_key(w, k);
			jw_int(w, n);
		}
		jw_obj_end(w);
	}
	jw_key(w, "registered_diagnoses");
	jw_int(w, regd);
	if (cl)
		bus_scope_json(w, "local_connections", total);
	jw_obj_end(w);
}

static int
ws_status(struct conn *c, struct http_req *r)
{
	(void)r;
	return reply_json_gen(c, 200, status_gen, NULL);
}

/* --- /api/diagnoses -------------------------------------------------------- */

static void
diag_json(struct jw *w, const struct diag *d)
{
	jw_obj(w);
	jw_key(w, "diagnosis_id");
	jw_int(w, d->id);
	jw_key(w, "owner");
	if (d->owned)
		jw_str(w, d->owner);
	else
		jw_null(w);
	jw_key(w, "connections");
	jw_int(w, fanout_size(group_of(d->id)));
	jw_key(w, "queued");
	jw_int(w, queued(d));
	jw_key(w, "dropped");
	jw_int(w, dropped_of(d));
	jw_obj_end(w);
}

static void
list_gen(struct jw *w, void *arg)
{
	int64_t n = 0;

	(void)arg;
	for (size_t i = 0; i < WARD_DIAGNOSES; i++)
		n += diags[i].used;
	jw_obj(w);
	jw_key(w, "count");
	jw_int(w, n);
	jw_key(w, "diagnoses");
	jw_arr(w);
	for (size_t i = 0; i < WARD_DIAGNOSES; i++)
		if (diags[i].used)
			diag_json(w, &diags[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

static int
answer(struct conn *c, int status, const struct diag *d)
{
	char body[256];
	struct jw w;

	jw_init(&w, body, sizeof body);
	diag_json(&w, d);
	return reply_json(c, status, &w);
}

/* diagnosis_id: an integer > 0; 0 after answering 400. */
static int64_t
want_id(struct conn *c, const struct json_doc *d)
{
	int i = json_find(d, 0, "diagnosis_id");
	int64_t v;

	if (i < 0) {
		reply_error(c, 400, "missing_field",
		    "diagnosis_id is required");
		return 0;
	}
	if (json_int(d, i, &v) != 0 || v <= 0 || v > 999999999999999999LL) {
		reply_error(c, 400, "invalid_field",
		    "diagnosis_id must be an integer > 0");
		return 0;
	}
	return v;
}

static int
post_diag(struct conn *c, struct http_req *r)
{
	const struct json_doc *d = svc_json_body(c, r);
	char owner[OWNER_MAX + 1];
	struct diag *g, next;
	bool owned = false, made;
	int64_t id;
	int i;

	if (d == NULL || (id = want_id(c, d)) == 0)
		return 0;
	owner[0] = '\0';
	if ((i = json_find(d, 0, "owner")) >= 0 && !json_is_null(d, i)) {
		if (svc_text_of(d, i, owner, sizeof owner) != 0)
			return reply_error(c, 400, "invalid_field",
			    "owner must "
			    "be null, a non-empty string or an integer");
		owned = true;
	}
	made = find(id) == NULL;
	if ((g = slot_for(id)) == NULL)
		return reply_error(c, 503, "unavailable",
		    "diagnosis table full");
	next = *g;
	if (made) {
		memset(&next, 0, sizeof next);
		next.used = true;
		next.id = id;
		next.m.us = g->id == id ? g->m.us : 0;	/* a tombstone's */
	}
	next.owned = owned;
	utf8_copy(next.owner, sizeof next.owner, owner);
	rstate_stamp(&next.m);
	next.m.tomb = false;
	if (put_diag(&next, made ? 0 : dropped_of(g)) != 0 ||
	    journal_commit() != 0)
		return reply_error(c, 503, "unavailable",
		    "storage unavailable");
	*g = next;
	rstate_changed(&rs);
	return answer(c, made ? 201 : 200, g);
}

static int
diagnoses(struct conn *c, struct http_req *r)
{
	if (r->method == HTTP_POST)
		return post_diag(c, r);
	return reply_json_gen(c, 200, list_gen, NULL);
}

static int
delete_diag(struct conn *c, struct http_req *r)
{
	struct str s = r->param[0];
	struct diag *d = NULL, next;
	char body[96], name[24];
	int64_t id = 0;
	struct jw w;
	int g;

	for (size_t i = 0; i < s.n && s.n <= 18; i++)
		id = id * 10 + (s.p[i] - '0');
	if (s.n > 18 || id <= 0 || (d = find(id)) == NULL)
		return reply_error(c, 404, "not_found", "no such diagnosis");
	next = *d;
	rstate_stamp(&next.m);
	if (put_del(&next) != 0 || journal_commit() != 0)
		return reply_error(c, 503, "unavailable",
		    "storage unavailable");
	if ((g = group_of(id)) > 0)
		for (struct conn *m = fanout_first(g); m; m = fanout_next(m, g))
			conn_close_ws(m, 1008, "diagnosis deleted");
	mailbox_forget(&dq, key_of(id, name));
	squeue_forget(&sq, name);
	d->used = false;
	d->m = next.m;
	d->m.tomb = rstate_on();
	rstate_changed(&rs);
	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "status");
	jw_str(&w, "deleted");
	jw_key(&w, "diagnosis_id");
	jw_int(&w, id);
	jw_obj_end(&w);
	return reply_json(c, 200, &w);
}

/* --- broadcasts ----------------------------------------------------------- */

enum { B_RECO, B_EFFECT, B_FEEDBACK };

struct bc {
	int			 kind;
	const struct json_doc	*d;
	int64_t			 id;
};

/* A number field in [lo, hi]; NULL or the message naming it. */
static const char *
num_in(const struct json_doc *d, const char *key, double lo, double hi,
    const char *msg)
{
	int i = json_find(d, 0, key);
	double v;

	if (i < 0 || json_num(d, i, &v) != 0 || v < lo || v > hi)
		return msg;
	return NULL;
}

static const char *
int_in(const struct json_doc *d, const char *key, int64_t lo, int64_t hi,
    const char *msg)
{
	int i = json_find(d, 0, key);
	int64_t v;

	if (i < 0 || json_int(d, i, &v) != 0 || v < lo || v > hi)
		return msg;
	return NULL;
}

static const char *
check_body(const struct json_doc *d, int kind)
{
	const char *bad = NULL;
	int i;

	switch (kind) {
	case B_RECO:
		if ((i = json_find(d, 0, "old_data")) < 0 ||
		    d->tok[i].type != JSON_OBJ)
			return "old_data must be an object";
		if ((i = json_find(d, 0, "new_data")) < 0 ||
		    d->tok[i].type != JSON_OBJ)
			return "new_data must be an object";
		if ((i = json_find(d, 0, "reason")) < 0 || !json_is_str(d, i))
			return "reason must be a string";
		return NULL;
	case B_EFFECT:
		if ((bad = int_in(d, "recommendation_id", INT64_MIN, INT64_MAX,
		    "recommendation_id must be an integer")) ||
		    (bad = num_in(d, "new_effectiveness", 0, 1,
		    "new_effectiveness must be a number from 0 to 1")) ||
		    (bad = num_in(d, "confidence", 0, 1,
		    "confidence must be a number from 0 to 1")) ||
		    (bad = int_in(d, "sample_size", 0, INT64_MAX,
		    "sample_size must be an integer >= 0")))
			return bad;
		return NULL;
	default:
		if ((bad = int_in(d, "feedback_id", INT64_MIN, INT64_MAX,
		    "feedback_id must be an integer")) ||
		    (bad = int_in(d, "rating", 1, 5,
		    "rating must be an integer from 1 to 5")) ||
		    (bad = num_in(d, "effectiveness", 0, 1,
		    "effectiveness must be a number from 0 to 1")))
			return bad;
		return NULL;
	}
}

/* Key k (of an object) in object other: -1 absent, 0 a different value,
 * 1 an equal JSON value (SPEC §5: whitespace, member order and number
 * spelling never make a change). */
static int
compare_in(const struct json_doc *d, int k, int other)
{
	int m = other + 1;

	for (int i = 0; i < d->tok[other].size && m + 1 < d->ntok; i++) {
		if (json_equal(d, k, d, m))	/* the same key */
			return json_equal(d, k + 1, d, m + 1);
		m = json_skip(d, m + 1);
	}
	return -1;
}

/* Keys whose values differ (as JSON values), were added or were removed. */
static void
changed_fields(struct jw *w, const struct json_doc *d, int o, int n)
{
	jw_arr(w);
	for (int k = n + 1; k < json_skip(d, n); k = json_skip(d, k + 1))
		if (compare_in(d, k, o) != 1) {
			struct str key = json_raw(d, k);

			jw_raw(w, key.p, key.n);
		}
	for (int k = o + 1; k < json_skip(d, o); k = json_skip(d, k + 1))
		if (compare_in(d, k, n) == -1) {
			struct str key = json_raw(d, k);

			jw_raw(w, key.p, key.n);
		}
	jw_arr_end(w);
}

static void
bc_gen(struct jw *w, void *arg)
{
	static const char *const types[] = { "recommendation_update",
	    "effectiveness_update", "feedback_update" };
	static const char *const fe[] = { "recommendation_id",
	    "new_effectiveness", "confidence", "sample_size", NULL };
	static const char *const ff[] = { "feedback_id", "rating",
	    "effectiveness", NULL };
	const struct bc *a = arg;
	const struct json_doc *d = a->d;

	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, types[a->kind]);
	jw_key(w, "diagnosis_id");
	jw_int(w, a->id);
	jw_key(w, "data");
	jw_obj(w);
	if (a->kind == B_RECO) {
		int o = json_find(d, 0, "old_data"), n = json_find(d, 0,
		    "new_data"), r = json_find(d, 0, "reason");
		struct str s;

		jw_key(w, "old_recommendation");
		s = json_raw(d, o);
		jw_raw(w, s.p, s.n);
		jw_key(w, "new_recommendation");
		s = json_raw(d, n);
		jw_raw(w, s.p, s.n);
		jw_key(w, "reason");
		s = json_raw(d, r);
		jw_raw(w, s.p, s.n);
		jw_key(w, "changed_fields");
		changed_fields(w, d, o, n);
	} else {
		const char *const *f = a->kind == B_EFFECT ? fe : ff;

		for (; *f != NULL; f++) {
			struct str s = json_raw(d, json_find(d, 0, *f));

			jw_key(w, *f);
			jw_raw(w, s.p, s.n);
		}
	}
	jw_key(w, "timestamp");
	jw_time(w, now_wall_us);
	jw_obj_end(w);
	jw_obj_end(w);
}

static int
broadcast(struct conn *c, struct http_req *r, int kind)
{
	const struct json_doc *d = svc_json_body(c, r);
	struct bc a = { kind, d, 0 };
	bool redis_queued = false;
	const char *bad;
	struct diag *g;
	uint32_t f, n = 0;
	char body[128], gname[24];
	struct jw w;
	int grp;

	if (d == NULL || svc_idem_replay(c, r) || (a.id = want_id(c, d)) == 0)
		return 0;
	if ((bad = check_body(d, kind)) != NULL)
		return reply_error(c, 400, "invalid_field", bad);
	if ((g = find(a.id)) == NULL)
		return reply_error(c, 404, "not_found", "no such diagnosis");
	if (!auth_role_in(r->auth, "admin,service") &&
	    !(g->owned && strcmp(r->auth->sub, g->owner) == 0))
		return reply_error(c, 403, "forbidden",
		    "only the owner, service or admin may broadcast");
	if ((f = ws_jw_frame(bc_gen, &a)) == 0)
		return reply_error(c, 413, "payload_too_large",
		    "update too large to send");
	grp = snprintf(gname, sizeof gname, "%lld", (long long)a.id);
	if (squeue_up()) {
		/* Redis decides: live on another instance, or its list */
		int lg = fanout_find(gk_diag, gname, (size_t)grp);

		if ((n = lg > 0 ? fanout_deliver(lg, f) : 0) > 0)
			bus_group(gk_diag, gname, (size_t)grp, f);
		else if (buf_len(f) <= WARD_NOTIF_FRAME &&
		    squeue_post(&sq, gname, f) == 0)
			redis_queued = true;
	} else {
		n = fanout_send_named(gk_diag, gname, (size_t)grp, f, NULL);
	}
	if (n == 0 && !redis_queued) {
		if (buf_len(f) > WARD_NOTIF_FRAME) {
			buf_unref(f);
			return reply_error(c, 413, "payload_too_large",
			    "update too large to queue");
		}
		char k[24];
		int q = mailbox_push(&dq, key_of(g->id, k), buf_data(f),
		    buf_len(f));

		if (q != 0) {
			buf_unref(f);
			return reply_error(c, 503, "unavailable",
			    q == WARD_ENOMEM ? "message queue full" :
			    "storage unavailable");
		}
	}
	buf_unref(f);
	audit("broadcast", r->auth, "diagnosis=%lld kind=%s status=%s "
	    "clients=%u", (long long)a.id, kind == B_RECO ? "recommendation" :
	    kind == B_EFFECT ? "effectiveness" : "feedback",
	    n > 0 ? "broadcasted" : "queued", n);
	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "status");
	jw_str(&w, n > 0 ? "broadcasted" : "queued");
	jw_key(&w, "diagnosis_id");
	jw_int(&w, a.id);
	jw_key(&w, "clients_notified");
	jw_int(&w, n);
	jw_obj_end(&w);
	svc_idem_store(r, w.p, w.len);
	return reply_json(c, 200, &w);
}

static int
bc_reco(struct conn *c, struct http_req *r)
{
	return broadcast(c, r, B_RECO);
}

static int
bc_effect(struct conn *c, struct http_req *r)
{
	return broadcast(c, r, B_EFFECT);
}

static int
bc_feedback(struct conn *c, struct http_req *r)
{
	return broadcast(c, r, B_FEEDBACK);
}

static const struct ws_ops diag_ops = {
	.type = "diagnosis", .listing = "/ws/{diagnosis_id}",
	.open = open_diag, .message = message_diag, .close = close_diag,
	.text_only = 1,
};

static const struct route diag_routes[] = {
	{
		.pattern = "/ws/status",
		.methods = HTTP_M(HTTP_GET),
		.http = ws_status,
		.summary = "Diagnosis connections and queues",
		.res = "DiagnosisStatus",
	},
	{
		.pattern = "/ws/#",
		.ws = &diag_ops,
		.refused = audit_refused,
		.doc_path = "/ws/{diagnosis_id}",
		.summary = "Diagnosis channel (queued messages "
		    "on connect)",
		.params = "token",
		.msg_in = "ping",
		.msg_out = "welcome,recommendation_update,effectiveness_update,"
		    "feedback_update,pong",
	},
	{
		.pattern = "/api/diagnoses",
		.methods = HTTP_M(HTTP_GET) | HTTP_M(HTTP_POST),
		.http = diagnoses,
		.roles = "service,admin",
		.summary = "List (GET) or register (POST; 201, 200 "
		    "when known) diagnoses",
		.req = "DiagnosisCreate",
		.res = "DiagnosisList",
		.res_w = "Diagnosis",
		.ok_w = 201,
	},
	{
		.pattern = "/api/diagnoses/#",
		.methods = HTTP_M(HTTP_DELETE),
		.http = delete_diag,
		.roles = "service,admin",
		.doc_path = "/api/diagnoses/{diagnosis_id}",
		.summary = "Remove a diagnosis (its sockets close 1008)",
		.res_w = "Status",
	},
	{
		.pattern = "/ws/broadcast-recommendation-update",
		.methods = HTTP_M(HTTP_POST),
		.http = bc_reco,
		.roles = "*",
		.summary = "Recommendation update "
		    "to a diagnosis (queued when nobody listens)",
		.params = SVC_IDEM_PARAM,
		.req = "RecommendationUpdate",
		.res_w = "Delivery",
	},
	{
		.pattern = "/ws/broadcast-effectiveness-update",
		.methods = HTTP_M(HTTP_POST),
		.http = bc_effect,
		.roles = "*",
		.summary = "Effectiveness update to "
		    "a diagnosis",
		.params = SVC_IDEM_PARAM,
		.req = "EffectivenessUpdate",
		.res_w = "Delivery",
	},
	{
		.pattern = "/ws/broadcast-feedback-update",
		.methods = HTTP_M(HTTP_POST),
		.http = bc_feedback,
		.roles = "*",
		.summary = "Feedback update to a "
		    "diagnosis",
		.params = SVC_IDEM_PARAM,
		.req = "FeedbackUpdate",
		.res_w = "Delivery",
	},
	{ .pattern = NULL }
};

/* --- shared through Redis (rstate.c) --------------------------------------- */

static struct rstate_meta *
rs_meta(uint32_t i)
{
	return diags[i].used || diags[i].m.tomb ? &diags[i].m : NULL;
}

static void
rs_key(uint32_t i, char *out, size_t cap)
{
	snprintf(out, cap, "%lld", (long long)diags[i].id);
}

static void
rs_body(struct jw *w, uint32_t i)
{
	jw_obj(w);
	jw_key(w, "owner");
	if (diags[i].owned)
		jw_str(w, diags[i].owner);
	else
		jw_null(w);
	jw_obj_end(w);
}

static int64_t
id_of(const char *key)
{
	int64_t id = 0;
	size_t n = strlen(key);

	for (size_t i = 0; i < n; i++) {
		if (n > 18 || key[i] < '0' || key[i] > '9')
			return 0;
		id = id * 10 + (key[i] - '0');
	}
	return id;
}

static int
rs_find(const char *key)
{
	struct diag *d = find_any(id_of(key));

	return d != NULL ? (int)(d - diags) : -1;
}

/* Another instance deleted id (newer than ours). */
static int
apply_del(int64_t id, const struct rstate_meta *m)
{
	struct diag *d = find_any(id), next;
	char name[24];
	int g;

	if (d == NULL)
		return 0;
	next = *d;
	next.m = *m;
	if (put_del(&next) != 0 || journal_commit() != 0)
		return WARD_EIO;
	if (d->used && (g = group_of(id)) > 0)
		for (struct conn *c = fanout_first(g); c;
		    c = fanout_next(c, g))
			conn_close_ws(c, 1008, "diagnosis deleted");
	mailbox_forget(&dq, key_of(id, name));
	d->used = false;
	d->m = *m;
	d->m.tomb = true;
	d->m.dirty = false;
	return 0;
}

static int
rs_apply(const char *key, const struct rstate_meta *m,
    const struct json_doc *d, int o, bool tell)
{
	int64_t id = id_of(key);
	struct diag *g, next;
	int i;
	bool made;

	(void)tell;		/* a registration sends nothing */
	if (id <= 0)
		return WARD_EINVAL;
	if (o < 0)
		return apply_del(id, m);
	if ((g = slot_for(id)) == NULL)
		return WARD_ENOMEM;
	made = !g->used;
	next = *g;
	if (made) {
		memset(&next, 0, sizeof next);
		next.used = true;
		next.id = id;
	}
	next.owned = false;
	next.owner[0] = '\0';
	if ((i = json_find(d, o, "owner")) >= 0 && json_is_str(d, i)) {
		if (json_str(d, i, next.owner, sizeof next.owner) != 0)
			return WARD_EINVAL;
		next.owned = true;
	}
	next.m = *m;
	next.m.tomb = false;
	next.m.dirty = false;
	if (put_diag(&next, made ? 0 : dropped_of(g)) != 0 ||
	    journal_commit() != 0)
		return WARD_EIO;
	*g = next;
	return 0;
}

static struct rstate rs = {
	.name = "diagnosis", .cap = WARD_DIAGNOSES, .meta = rs_meta,
	.key = rs_key, .body = rs_body, .find = rs_find, .apply = rs_apply,
};

static void
diag_init(void)
{
	squeue_add(&sq);
	rstate_add(&rs);
	bus_count_kind(gk_diag);	/* /ws/status: cluster figures */
}

const struct family diagnosis_family = {
	.name = "diagnosis",
	.routes = diag_routes,
	.init = diag_init,
	.pools = (const struct ward_pool[]){
		{ "diagnoses", WARD_DIAGNOSES, sizeof(struct diag),
		    "registered diagnoses and owners" },
		{ "diag_queue", WARD_DIAG_QUEUE, MAILBOX_SLOT_BYTES,
		    "queued diagnosis frames (mailbox)" },
		{ NULL, 0, 0, NULL },
	},
	.kinds = (const struct fanout_kind[]){
		{ "diagnosis", &gk_diag },
		{ NULL, NULL },
	},
	.types = (const char *const[]){ "diagnosis", NULL },
	.journal = &(const struct journal_family){ J_DIAG, 19, diag_replay,
	    diag_snapshot },
};


/* Messages waiting in the offline queue (/metrics ward_queue_depth). */
uint32_t
diag_queue_depth(void)
{
	return dq.used;
}
