/*
 * svc.h - the application layer's contract: the endpoint families of
 * src/svc/, what they share, and the index that hands them to the core.
 * The first include of every .c file of src/svc/.
 *
 * The layer rule: src/svc/ may call the core (internal.h); the core never
 * calls src/svc/ by name.  A family reaches the core only through what it
 * declares: its route rows (handlers, socket ops, refusal hook, docs), its
 * socket types, its group kinds (numbers below, opaque to fanout.c).
 */
#ifndef WARD_SVC_H
#define WARD_SVC_H

#include "../internal.h"

struct auth_claims;

/* ------------------------------------------------------------ index.c */
/* Every family, in route-matching and documentation order, handed to
 * the core (router_add_family) and given the names the core leaves to
 * the application (the token's tenant claim).  0, or WARD_EINVAL with a
 * message in err (a start-up error). */
int	svc_index_register(char *err, size_t errlen);
/* Each family's start hook (after the journal is open, before serving). */
void	svc_index_start(void);
/* The i-th pool of the application (the families' .pools, then
 * svc_common_pools), or NULL after the last. */
const struct ward_pool *svc_index_pool(size_t i);
/* The pools of common.c (the Idempotency-Key table). */
extern const struct ward_pool svc_common_pools[];

/* A route's documented Idempotency-Key header (docs params). */
#define SVC_IDEM_PARAM	"idempotency_key"

/* The unified /ws endpoint's socket type (admin sends to "service"). */
#define UNIFIED_TYPE	"unified"

/* ---------------------------------------------------- journal records */
/* The families' record types (their struct journal_family ranges). */
enum {
	J_DOCTOR = 1,				/* doctors.c: 1-9 */
	J_DIAG = 10, J_DIAG_DEL, J_DQ_PUSH, J_DQ_POP, J_DQ_CLEAR, /* 10-19 */
	J_DQ_MBOX,	/* + 0, 1, 2: the queue as a mailbox (15-17) */
	J_NOTE_PUSH = 20, J_NOTE_POP, J_NOTE_CLEAR,	/* notify.c: 20-25 */
	J_NOTE_MBOX	/* + 0, 1, 2 (23-25) */
};
/* Messages waiting in the persisted offline queues (/metrics). */
uint32_t diag_queue_depth(void);
uint32_t notify_queue_depth(void);

/* ---------------------------------------------------------- unified.c */
/* service.<name>.scope values (cfg stores the index of these names). */
enum { SVC_SCOPE_PRACTICE, SVC_SCOPE_ROOM, SVC_SCOPE_ALL };
/* whiteboard_practice: the token only; or subscribe (and ?practiceId=);
 * or also an anonymous client's first whiteboard_update (seed 003). */
enum { WB_PRACTICE_TOKEN, WB_PRACTICE_SUBSCRIBE, WB_PRACTICE_MESSAGE };

/* ----------------------------------------------------------- common.c */
/* {"type":"error","error":code,"detail":detail} on one connection. */
void	svc_error(struct conn *c, const char *code, const char *detail);
/*
 * Parse a text message as a JSON object with a string "type".  Answers
 * {"type":"ping"} with a pong, and bad input with an error message; then
 * returns NULL.  Otherwise the document (shared; valid until the next
 * call), with the type in type[cap].
 */
const struct json_doc *svc_json_msg(struct conn *c, const uint8_t *p,
	    size_t n, char *type, size_t cap);
/* An HTTP request body as a JSON object (the same shared document), or
 * NULL after answering 400. */
const struct json_doc *svc_json_body(struct conn *c,
	    const struct http_req *r);
/* A copy of stored frame bytes, queued on c (a pooled buffer). */
int	svc_send_copy(struct conn *c, const uint8_t *p, size_t n);
/* An id: a JSON string (non-empty, no NUL or control character once
 * unescaped) or integer (in decimal) as text; -1 if neither or it does
 * not fit. */
int	svc_text_of(const struct json_doc *d, int i, char *out, size_t cap);
/* Text answers built with printf into a fixed buffer; over latches. */
struct tbuf {
	char	*p;
	size_t	 n, cap;
	bool	 over;
};
void	svc_tb_put(struct tbuf *o, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Idempotency-Key on a fan-out POST: answer a retry from the table
 * (true: answered), and keep a successful answer. */
bool	svc_idem_replay(struct conn *c, const struct http_req *r);
void	svc_idem_store(const struct http_req *r, const char *body,
	    size_t n);

/* ------------------------------------------------- unified.c, audit.c */
/* Unified /ws services (svc/unified.c): switch one on or off (0, or -1
 * when there is no such service); write them as a JSON array. */
int	unified_service_set(const char *name, bool on);
void	unified_services_json(struct jw *w);
/* The audit trail (svc/audit.c): one line to data_dir/audit.log. */
void	audit(const char *event, const struct auth_claims *who,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* -------------------------------------------------------------- far.c */
/* Members of rooms on other instances (far.c): (room hash, id) pairs in
 * caller-owned arrays of cap entries; tag gives an id's instance tag;
 * move (or NULL) moves the family's own per-member arrays from -> to. */
struct far {
	uint64_t	*room, *id;
	uint32_t	 cap, n;
	uint16_t	(*tag)(uint64_t id);
	void		(*move)(uint32_t to, uint32_t from);
};
uint64_t far_hash(const char *s, size_t n);	/* a room name's hash */
uint64_t far_room(int g);			/* fanout group g's */
long	far_find(const struct far *t, uint64_t room, uint64_t id);
bool	far_add(struct far *t, uint64_t room, uint64_t id, uint32_t *slot);
void	far_del(struct far *t, long i);
long	far_next(struct far *t, uint64_t room, uint32_t *i);
uint32_t far_count(struct far *t, uint64_t room);
void	far_tick(struct far *t);		/* forget all while down */
/* ----------------------------------------------------------- squeue.c */
/* An offline queue shared through Redis (squeue.c): the family's fanout
 * kind and its local mailbox (the store while Redis is off or down). */
struct squeue {
	int		*kind;
	struct mailbox	*mb;
};
bool	squeue_up(void);		/* Redis configured and up */
void	squeue_add(struct squeue *q);	/* at init: the outage push */
/* No local socket took frame f for key: queue it in Redis unless a live
 * socket elsewhere takes it.  0, or an error: queue it locally. */
int	squeue_post(struct squeue *q, const char *key, uint32_t f);
void	squeue_open(struct squeue *q, const char *key);	/* after join */
void	squeue_close(struct squeue *q, const char *key);	/* after leave */
void	squeue_forget(struct squeue *q, const char *key);
/* ----------------------------------------------------------- rstate.c */
/* Records shared through Redis (rstate.c, docs/redis.md): each record
 * of a family's table carries its version (the wall clock of its last
 * change and the instance that made it); a delete leaves a tombstone
 * while Redis is configured.  The family's table and journal stay the
 * store; rstate pushes local changes and merges remote ones by version
 * (the newer wins). */
struct rstate_meta {
	int64_t	us;		/* version: wall clock of the change, µs */
	char	inst[17];	/* and the instance ("" without Redis) */
	bool	tomb;		/* deleted (the slot is not in use) */
	bool	dirty;		/* not yet written to Redis */
	bool	late;		/* made while Redis was down: the others'
				 * sockets were not told (in memory only) */
};
struct rstate {
	const char	*name;	/* ward:r:<name>, channel ward:a:r.<name> */
	uint32_t	 cap;	/* slots */
	/* slot i's version (a record or a tombstone), NULL when free */
	struct rstate_meta *(*meta)(uint32_t i);
	void		(*key)(uint32_t i, char *out, size_t cap);
	void		(*body)(struct jw *w, uint32_t i);	/* an object */
	int		(*find)(const char *key);	/* tombstones too; -1 */
	/* A newer remote version: store it (journalled) and act on it; o
	 * the record's object in d, or -1 for a delete; tell: the local
	 * sockets were not told of it by the bus (a change made during an
	 * outage, or read from the hash).  0, WARD_ENOMEM (table full:
	 * refused) or another error. */
	int		(*apply)(const char *key, const struct rstate_meta *m,
			    const struct json_doc *d, int o, bool tell);
	/* the engine's */
	bool		 pending;	/* some slot may be dirty */
	bool		 scanning;
	char		 after[WARD_RSTATE_KEY + 1];	/* scan cursor */
	uint64_t	 refused;
};
void	rstate_add(struct rstate *s);		/* at init */
bool	rstate_on(void);			/* Redis configured */
/* A local change of m: a version newer than m's, not yet in Redis. */
void	rstate_stamp(struct rstate_meta *m);
/* After the change is durable here: write it through (or later). */
void	rstate_changed(struct rstate *s);
uint64_t rstate_refused(void);	/* remote records refused (table full) */
/* ------------------------------------------------------------ audit.c */
/* A route's refused WebSocket upgrade as an audit line (route.refused). */
void	audit_refused(const struct http_req *r, const char *type,
	    const char *why);

#endif
