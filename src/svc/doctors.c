/*
 * doctors.c - doctor status (SPEC §3): /ws/doctor-status/ (admin,
 * superadmin, doctor), PUT /api/doctors/<id>/status (that doctor or an
 * admin), GET /api/doctors/status (admin, superadmin, doctor) and
 * POST /api/doctors {doctor_id, name} (admin, superadmin, service).
 *
 * A record: doctor_id, name, current_status (free text up to 32 bytes),
 * status_note (up to 256), is_available (boolean), updated_at.  It is
 * made on a doctor's first update (named from the token) or by POST.
 * Every change goes, encoded once, to every doctor-status subscriber
 * (the sender included) as {"type":"status_update","data":{record}}.
 * An update may carry any of the three fields; the others stay.
 *
 * The table is fixed (WARD_DOCTORS); every change is written ahead to
 * the journal (journal.c) and replayed at start, so records survive a
 * restart; storage that fails answers 503 and changes nothing.
 */
#include <stdio.h>

#include "svc.h"
#include "../auth.h"

static int gk_doctors;		/* group kind "doctor_status" */

#define ID_MAX		64
#define STATUS_MAX	32
#define NOTE_MAX	256

struct doctor {
	bool		used, available;
	char		id[ID_MAX + 1];
	char		name[97];
	char		status[STATUS_MAX + 1];
	char		note[NOTE_MAX + 1];
	int64_t		updated_us;
	struct rstate_meta m;	/* version (shared through Redis) */
};

static struct doctor docs[WARD_DOCTORS];
static const char ROLES_WS[] = "admin,superadmin,doctor";
static struct rstate rs;

static struct doctor *
find(const char *id)
{
	for (size_t i = 0; i < WARD_DOCTORS; i++)
		if (docs[i].used && strcmp(docs[i].id, id) == 0)
			return &docs[i];
	return NULL;
}

/*
 * The slot for id and, in *cur, its record: the existing one, or a new
 * one (named name, "offline") for a free slot.  Nothing changes until the
 * caller stores *cur there (after the journal took it).  NULL: the table
 * is full or the id unusable.
 */
static struct doctor *
slot_for(const char *id, const char *name, struct doctor *cur)
{
	struct doctor *d = find(id);

	if (d != NULL) {
		*cur = *d;
		return d;
	}
	if (id[0] == '\0' || strlen(id) > ID_MAX)
		return NULL;
	for (size_t i = 0; i < WARD_DOCTORS; i++) {
		if (docs[i].used)
			continue;
		memset(cur, 0, sizeof *cur);
		cur->used = true;
		utf8_copy(cur->id, sizeof cur->id, id);
		utf8_copy(cur->name, sizeof cur->name, name);
		utf8_copy(cur->status, sizeof cur->status, "offline");
		cur->updated_us = now_wall_us;
		return &docs[i];
	}
	return NULL;
}

/* The fields a reader and a shared record both carry. */
static void
write_status(struct jw *w, const struct doctor *d)
{
	jw_key(w, "name");
	jw_str(w, d->name);
	jw_key(w, "current_status");
	jw_str(w, d->status);
	jw_key(w, "status_note");
	jw_str(w, d->note);
	jw_key(w, "is_available");
	jw_bool(w, d->available);
}

static void
write_doc(struct jw *w, const struct doctor *d)
{
	jw_obj(w);
	jw_key(w, "doctor_id");
	jw_str(w, d->id);
	write_status(w, d);
	jw_key(w, "updated_at");
	jw_time(w, d->updated_us);
	jw_obj_end(w);
}

/* --- the journal --------------------------------------------------------- */

static struct jbuf jb;

static int
put_doc(const struct doctor *d)
{
	struct jbuf *b = &jb;

	journal_rec_init(b);
	journal_rec_str(b, d->id);
	journal_rec_str(b, d->name);
	journal_rec_str(b, d->status);
	journal_rec_str(b, d->note);
	journal_rec_u64(b, d->available);
	journal_rec_u64(b, (uint64_t)d->updated_us);
	journal_rec_u64(b, (uint64_t)d->m.us);
	journal_rec_str(b, d->m.inst);
	return b->bad ? WARD_ETOOBIG : journal_put(J_DOCTOR, b->p, b->n);
}

/* Write d ahead; 0 when it is durable. */
static int
persist(const struct doctor *d)
{
	if (put_doc(d) != 0 || journal_commit() != 0)
		return WARD_EIO;
	return 0;
}

/* A local change of cur: a new version, written ahead; 0 when durable. */
static int
change(struct doctor *cur)
{
	rstate_stamp(&cur->m);
	return persist(cur);
}

static void
doctors_replay(int type, const uint8_t *p, size_t n)
{
	struct jread r = { p, n, 0 };
	struct doctor d, *slot;
	uint64_t a, u;

	memset(&d, 0, sizeof d);
	if (type != J_DOCTOR || !journal_read_str(&r, d.id, sizeof d.id) ||
	    !journal_read_str(&r, d.name, sizeof d.name) ||
	    !journal_read_str(&r, d.status, sizeof d.status) ||
	    !journal_read_str(&r, d.note,
	    sizeof d.note) || !journal_read_u64(&r, &a) ||
	    !journal_read_u64(&r, &u) || d.id[0] == '\0')
		return;
	d.used = true;
	d.available = a != 0;
	d.updated_us = (int64_t)u;
	if (journal_read_u64(&r, &u) &&
	    journal_read_str(&r, d.m.inst, sizeof d.m.inst))
		d.m.us = (int64_t)u;
	if ((slot = find(d.id)) == NULL)
		for (size_t i = 0; i < WARD_DOCTORS && slot == NULL; i++)
			if (!docs[i].used)
				slot = &docs[i];
	if (slot != NULL)
		*slot = d;
}

static int
doctors_snapshot(void)
{
	for (size_t i = 0; i < WARD_DOCTORS; i++)
		if (docs[i].used && put_doc(&docs[i]) != 0)
			return WARD_EIO;
	return 0;
}

/* seed: "doctor_id,name" lines (the doctors_file key) */
static char doctors_file[256];

/*
 * doctors_file: one "doctor_id,name" a line (the name may hold commas;
 * blank lines and lines starting with # are skipped).  A doctor not yet
 * known is created ("offline") and written to the journal; a known one is
 * left as it is, so a restart changes nothing.
 */
static void
doctors_seed(const char *path)
{
	static char text[32768];
	long n = port_file_read(path, text, sizeof text - 1);
	unsigned made = 0, line = 0;
	char *p, *nl;

	if (n < 0) {
		log_error("doctors_file", "path=\"%s\" detail=\"cannot read\"",
		    path);
		return;
	}
	text[n] = '\0';
	for (p = text; *p != '\0'; p = nl) {
		struct doctor cur, *slot;
		char *comma, *end;

		line++;
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		end = nl;
		while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
			end--;
		*end = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		comma = strchr(p, ',');
		if (comma == NULL || comma == p || comma - p > ID_MAX) {
			log_warn("doctors_file", "line=%u detail=\"expected "
			    "doctor_id,name\"", line);
			continue;
		}
		*comma = '\0';
		if (find(p) != NULL)
			continue;
		if ((slot = slot_for(p, comma + 1, &cur)) == NULL) {
			log_warn("doctors_file", "line=%u detail=\"doctor "
			    "table full\"", line);
			break;
		}
		cur.m.us = 1;	/* the weakest version: any change wins */
		if (put_doc(&cur) != 0) {
			log_error("doctors_file", "detail=\"journal write "
			    "failed\"");
			break;
		}
		*slot = cur;
		made++;
	}
	journal_commit();
	log_info("doctors_file", "path=\"%s\" created=%u", path, made);
}

static void
all_gen(struct jw *w, void *arg)
{
	bool msg = arg != NULL;

	jw_obj(w);
	if (msg) {
		jw_key(w, "type");
		jw_str(w, "initial_status");
		jw_key(w, "data");
	} else {
		size_t n = 0;

		for (size_t i = 0; i < WARD_DOCTORS; i++)
			n += docs[i].used;
		jw_key(w, "count");
		jw_int(w, (int64_t)n);
		jw_key(w, "doctors");
	}
	jw_arr(w);
	for (size_t i = 0; i < WARD_DOCTORS; i++)
		if (docs[i].used)
			write_doc(w, &docs[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void
update_gen(struct jw *w, void *arg)
{
	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "status_update");
	jw_key(w, "data");
	write_doc(w, arg);
	jw_obj_end(w);
}

static void
broadcast(const struct doctor *d)
{
	uint32_t f;

	if ((f = ws_jw_frame(update_gen, (void *)d)) != 0) {
		fanout_send_named(gk_doctors, "all", 3, f, NULL);
		buf_unref(f);
	}
}

/*
 * Check the fields of an update object (index o of d) and apply them to
 * rec; NULL, or a message naming the bad field (rec unchanged then).
 */
static const char *
apply(const struct json_doc *d, int o, struct doctor *rec)
{
	char status[STATUS_MAX + 1], note[NOTE_MAX + 1];
	int s = json_find(d, o, "current_status");
	int n = json_find(d, o, "status_note");
	int a = json_find(d, o, "is_available");
	bool avail = rec->available;

	if (s >= 0 && (!json_is_str(d, s) ||
	    json_str(d, s, status, sizeof status) != 0))
		return "current_status must be a string of up to 32 bytes";
	if (n >= 0 && !json_is_null(d, n) && (!json_is_str(d, n) ||
	    json_str(d, n, note, sizeof note) != 0))
		return "status_note must be a string of up to 256 bytes";
	if (a >= 0 && json_bool(d, a, &avail) != 0)
		return "is_available must be a boolean";
	if (s >= 0)
		utf8_copy(rec->status, sizeof rec->status, status);
	if (n >= 0)
		utf8_copy(rec->note, sizeof rec->note,
		    json_is_null(d, n) ? "" : note);
	rec->available = avail;
	rec->updated_us = now_wall_us;
	return NULL;
}

/* --- the socket ---------------------------------------------------------- */

static void
open_ws(struct conn *c, const struct http_req *r)
{
	uint32_t f;

	audit("channel_open", r->auth, "channel=doctor_status");
	if (fanout_join(c, 0, gk_doctors, "all", 3, 0) < 0) {
		conn_close_ws(c, 1013, "no room left on this server");
		return;
	}
	if ((f = ws_jw_frame(all_gen, c)) == 0) {
		conn_close_ws(c, 1011, "status list too large");
		return;
	}
	conn_send_owned(c, f);
}

static void
close_ws(struct conn *c)
{
	fanout_leave(c, 0);
}

static void
message_ws(struct conn *c, int op, uint8_t *p, size_t n)
{
	const struct reg_profile *who = reg_prof(conn_id(c));
	const struct json_doc *d;
	struct doctor *rec, copy;
	const char *bad;
	char type[32];
	int o;

	(void)op;
	if ((d = svc_json_msg(c, p, n, type, sizeof type)) == NULL)
		return;
	if (strcmp(type, "status_update") != 0)
		return svc_error(c, "unknown_type",
		    "expected status_update or ping");
	if (strcmp(who->role, "doctor") != 0)
		return svc_error(c, "forbidden",
		    "only a doctor may update a status");
	if ((o = json_find(d, 0, "data")) < 0 || d->tok[o].type != JSON_OBJ)
		return svc_error(c, "invalid_field", "data must be an object");
	if ((rec = slot_for(who->user, who->name, &copy)) == NULL)
		return svc_error(c, "unavailable", "doctor table full");
	if ((bad = apply(d, o, &copy)) != NULL)
		return svc_error(c, "invalid_field", bad);
	if (change(&copy) != 0)
		return svc_error(c, "unavailable", "storage unavailable");
	*rec = copy;
	rstate_changed(&rs);
	broadcast(rec);
}

/* --- HTTP ---------------------------------------------------------------- */

static int
answer(struct conn *c, int status, const struct doctor *d)
{
	char body[1024];
	struct jw w;

	jw_init(&w, body, sizeof body);
	write_doc(&w, d);
	return reply_json(c, status, &w);
}

static bool
is_admin(const struct http_req *r)
{
	return r->auth != NULL && auth_role_in(r->auth, "admin,superadmin");
}

static int
put_status(struct conn *c, struct http_req *r)
{
	const struct json_doc *d;
	struct doctor *rec, copy;
	char id[ID_MAX + 1];
	const char *bad;

	snprintf(id, sizeof id, "%.*s", (int)r->param[0].n, r->param[0].p);
	if (!is_admin(r) && (r->auth == NULL || strcmp(r->auth->sub, id) != 0))
		return reply_error(c, 403, "forbidden",
		    "only that doctor or an admin may set this status");
	if ((d = svc_json_body(c, r)) == NULL)
		return 0;
	rec = slot_for(id, r->auth && strcmp(r->auth->sub, id) == 0 ?
	    r->auth->name : "", &copy);
	if (rec == NULL)
		return reply_error(c, 503, "unavailable", "doctor table full");
	if ((bad = apply(d, 0, &copy)) != NULL)
		return reply_error(c, 400, "invalid_field", bad);
	if (change(&copy) != 0)
		return reply_error(c, 503, "unavailable",
		    "storage unavailable");
	*rec = copy;
	rstate_changed(&rs);
	broadcast(rec);
	return answer(c, 200, rec);
}

static int
get_status(struct conn *c, struct http_req *r)
{
	(void)r;
	return reply_json_gen(c, 200, all_gen, NULL);
}

static int
post_doctor(struct conn *c, struct http_req *r)
{
	const struct json_doc *d = svc_json_body(c, r);
	char id[ID_MAX + 1], name[97];
	struct doctor *rec, copy;
	int i, k;
	bool made;

	if (d == NULL)
		return 0;
	if ((i = json_find(d, 0, "doctor_id")) < 0)
		return reply_error(c, 400, "missing_field",
		    "doctor_id is required");
	if (svc_text_of(d, i, id, sizeof id) != 0)
		return reply_error(c, 400, "invalid_field", "doctor_id must be "
		    "a non-empty string (up to 64 bytes) or an integer");
	name[0] = '\0';
	if ((k = json_find(d, 0, "name")) >= 0 && (!json_is_str(d, k) ||
	    json_id(d, k, name, sizeof name) != 0))
		return reply_error(c, 400, "invalid_field", "name must be a "
		    "string of up to 96 bytes without control characters");
	made = find(id) == NULL;
	if ((rec = slot_for(id, name, &copy)) == NULL)
		return reply_error(c, 503, "unavailable", "doctor table full");
	if (k >= 0)
		utf8_copy(copy.name, sizeof copy.name, name);
	if (change(&copy) != 0)
		return reply_error(c, 503, "unavailable",
		    "storage unavailable");
	*rec = copy;
	rstate_changed(&rs);
	if (made)
		broadcast(rec);
	return answer(c, made ? 201 : 200, rec);
}

static const struct ws_ops doctor_ops = {
	.type = "doctor_status", .listing = "/ws/doctor-status/",
	.open = open_ws, .message = message_ws, .close = close_ws,
	.text_only = 1,
};

static const struct route doctor_routes[] = {
	{
		.pattern = "/ws/doctor-status/",
		.ws = &doctor_ops,
		.refused = audit_refused,
		.roles = ROLES_WS,
		.summary = "Doctor statuses (admin, superadmin, "
		    "doctor)",
		.params = "token",
		.msg_in = "status_update,ping",
		.msg_out = "initial_status,status_update,pong,error",
	},
	{
		.pattern = "/api/doctors/status",
		.methods = HTTP_M(HTTP_GET),
		.http = get_status,
		.roles = ROLES_WS,
		.summary = "Every doctor's status",
		.res = "DoctorList",
	},
	{
		.pattern = "/api/doctors/*/status",
		.methods = HTTP_M(HTTP_PUT),
		.http = put_status,
		.roles = ROLES_WS,
		.doc_path = "/api/doctors/{doctor_id}/status",
		.summary = "Set a doctor's status (that doctor or admin)",
		.req = "DoctorStatusUpdate",
		.res_w = "Doctor",
	},
	{
		.pattern = "/api/doctors",
		.methods = HTTP_M(HTTP_POST),
		.http = post_doctor,
		.roles = "admin,superadmin,service",
		.summary = "Register a doctor (201; 200 when known)",
		.req = "DoctorCreate",
		.res_w = "Doctor",
		.ok_w = 201,
	},
	{ .pattern = NULL }
};

/* After the journal: the records doctors_file names. */
static void
doctors_start(void)
{
	if (doctors_file[0] != '\0')
		doctors_seed(doctors_file);
}

/* --- shared through Redis (rstate.c) --------------------------------------- */

static struct rstate_meta *
rs_meta(uint32_t i)
{
	return docs[i].used ? &docs[i].m : NULL;
}

static void
rs_key(uint32_t i, char *out, size_t cap)
{
	utf8_copy(out, cap, docs[i].id);
}

static void
rs_body(struct jw *w, uint32_t i)
{
	const struct doctor *d = &docs[i];

	jw_obj(w);
	write_status(w, d);
	jw_key(w, "updated_us");
	jw_int(w, d->updated_us);
	jw_obj_end(w);
}

static int
rs_find(const char *key)
{
	struct doctor *d = find(key);

	return d != NULL ? (int)(d - docs) : -1;
}

/* A status_update to this instance's subscribers only. */
static void
tell_here(const struct doctor *d)
{
	int g = fanout_find(gk_doctors, "all", 3);
	uint32_t f;

	if (g > 0 && (f = ws_jw_frame(update_gen, (void *)d)) != 0) {
		fanout_deliver(g, f);
		buf_unref(f);
	}
}

/* A string field of o into out (absent: left as it is). */
static int
field(const struct json_doc *d, int o, const char *k, char *out, size_t cap)
{
	int i = json_find(d, o, k);

	if (i < 0)
		return 0;
	return json_is_str(d, i) ? json_str(d, i, out, cap) : WARD_EINVAL;
}

/* A newer record from another instance: stored; told to this
 * instance's subscribers only when the bus did not carry its instance's
 * fan-out (tell: made during an outage, or read from Redis's hash). */
static int
rs_apply(const char *key, const struct rstate_meta *m,
    const struct json_doc *d, int o, bool tell)
{
	struct doctor *rec, copy;
	int64_t us;
	int i;

	if (o < 0)
		return 0;	/* no deletes */
	if ((rec = slot_for(key, "", &copy)) == NULL)
		return find(key) == NULL && key[0] != '\0' &&
		    strlen(key) <= ID_MAX ? WARD_ENOMEM : WARD_EINVAL;
	if (field(d, o, "name", copy.name, sizeof copy.name) != 0 ||
	    field(d, o, "current_status", copy.status,
	    sizeof copy.status) != 0 ||
	    field(d, o, "status_note", copy.note, sizeof copy.note) != 0)
		return WARD_EINVAL;
	if ((i = json_find(d, o, "is_available")) >= 0 &&
	    json_bool(d, i, &copy.available) != 0)
		return WARD_EINVAL;
	if ((i = json_find(d, o, "updated_us")) >= 0 &&
	    json_int(d, i, &us) == 0)
		copy.updated_us = us;
	copy.m = *m;
	copy.m.dirty = false;
	if (persist(&copy) != 0)
		return WARD_EIO;
	*rec = copy;
	if (tell)
		tell_here(rec);
	return 0;
}

static struct rstate rs = {
	.name = "doctors", .cap = WARD_DOCTORS, .meta = rs_meta,
	.key = rs_key, .body = rs_body, .find = rs_find, .apply = rs_apply,
};

static void
doctors_init(void)
{
	rstate_add(&rs);
}

const struct family doctors_family = {
	.name = "doctors",
	.routes = doctor_routes,
	.kinds = (const struct fanout_kind[]){
		{ "doctor_status", &gk_doctors },
		{ NULL, NULL },
	},
	.types = (const char *const[]){ "doctor_status", NULL },
	.journal = &(const struct journal_family){ J_DOCTOR, 9, doctors_replay,
	    doctors_snapshot },
	.keys = (const struct cfg_key[]){
		{ .name = "doctors_file", .type = CFG_T_STR,
		    .size = sizeof doctors_file, .base = doctors_file },
		{ .name = NULL },
	},
	.init = doctors_init,
	.start = doctors_start,
	.pools = (const struct ward_pool[]){
		{ "doctors", WARD_DOCTORS, sizeof(struct doctor),
		    "doctor records and statuses" },
		{ NULL, 0, 0, NULL },
	},
};

