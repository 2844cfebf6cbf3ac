/*
 * internal.h - the core's types and module contracts; the first include of
 * every core .c in src/ (src/svc/svc.h, the application's contract,
 * includes it).  Nothing here names an endpoint family: the families
 * declare themselves (struct family) and the core walks what they declare
 * (docs/design.md "Layers").
 *
 * Data flows one way: port_ev_wait -> conn (bytes in) -> http | ws (parse)
 * -> router -> a family's handler -> frames encoded once -> conn queues by
 * reference -> flush (writev) -> port.  Handlers never write to sockets;
 * answers go through reply.c.
 *
 * Return convention: commands return 0 or a negative WARD_E*; predicates
 * return bool; parsers return bytes consumed, WARD_NEED_MORE, or an error.
 */
#ifndef WARD_INTERNAL_H
#define WARD_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "../port/port.h"

#define WARD_EAGAIN	PORT_EAGAIN
#define WARD_EIO	PORT_EIO
#define WARD_ENOMEM	(-12)	/* a pool is full */
#define WARD_EINVAL	(-22)
#define WARD_ETOOBIG	(-27)
#define WARD_ENOENT	(-2)
#define WARD_EPERM	(-1)
#define WARD_ENOSPC	PORT_ENOSPC
#define WARD_NEED_MORE	(-1000)

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * An invariant of ours (never the peer's bytes: those go to conn_fail).
 * Checked when WARD_ASSERTS is defined (the asan and small builds, the
 * fuzz builds): a broken one logs file and line and aborts.  Elsewhere
 * it costs nothing: the expression is compiled, never evaluated.
 */
#ifdef WARD_ASSERTS
#define WARD_ASSERT(x)	((x) ? (void)0 : ward_assert_fail(#x, __FILE__, __LINE__))
#else
#define WARD_ASSERT(x)	((void)sizeof(!(x)))
#endif
void	ward_assert_fail(const char *what, const char *file, int line)
	    __attribute__((noreturn));
/* What a failed WARD_ASSERT calls after its log line: port_abort, or a
 * test's own stop (which must not return). */
extern void (*ward_assert_stop)(void) __attribute__((noreturn));
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))

struct auth_claims;
struct http_req;
struct tls_conn;

/* A borrowed byte range (never owns memory). */
struct str {
	const char	*p;
	size_t		 n;
};
#define STR_LIT(s)	((struct str){ (s), sizeof(s) - 1 })
bool	str_eq(struct str a, const char *lit);
bool	str_ieq(struct str a, const char *lit);

/* ---------------------------------------------------------------- buf.c */
/*
 * Fixed pools of reference-counted buffers in size classes.  A handle is
 * 1-based (0 = none).  A buffer carries [off, off+len) of valid bytes; a
 * frame encoded once is queued by reference on every recipient, and goes
 * back to its pool when the last reference is dropped.
 */
enum { BUF_SMALL = 0, BUF_IO, BUF_BIG, BUF_EXT, BUF_MED, BUF_NCLASS };

struct buf_stats {
	uint32_t	cap[BUF_NCLASS], used[BUF_NCLASS], peak[BUF_NCLASS];
	uint32_t	size[BUF_NCLASS];
	uint32_t	fails;
};

void	 buf_init(void);
/* A buffer of capacity >= need (smallest class with a free slot), or 0. */
uint32_t buf_get(size_t need);
/* A buffer of exactly this class, or 0. */
uint32_t buf_get_class(int cls);
/* A reference to static bytes (not copied), or 0. */
uint32_t buf_ext(const void *data, size_t len);
uint8_t	*buf_base(uint32_t h);		/* start of storage */
size_t	 buf_cap(uint32_t h);
uint8_t	*buf_data(uint32_t h);		/* base + off */
uint32_t buf_len(uint32_t h);
void	 buf_set(uint32_t h, uint32_t off, uint32_t len);
void	 buf_ref(uint32_t h);
void	 buf_unref(uint32_t h);
bool	 buf_free_in(int cls);		/* a slot of this class is free */
/*
 * Incomplete work (a partial head, an unfinished message, a read) takes
 * buffers only above the class's reserve (buf_reserve: an eighth); the
 * reserve is for complete work (answers, frames), so input that never
 * completes can never starve the answers of everyone else.
 */
uint32_t buf_reserve(int cls);
bool	 buf_spare_in(int cls);		/* free above the reserve */
uint32_t buf_get_spare(int cls);	/* 0 unless buf_spare_in */
/* Smallest class of capacity >= need above its reserve, or 0 with *wait
 * the smallest class that fits need (-1: none does). */
uint32_t buf_get_spare_fit(size_t need, int *wait);
int	 buf_class(uint32_t h);		/* BUF_* of a handle */
uint32_t buf_refs(uint32_t h);		/* references held */
int	 buf_class_for(size_t need);	/* smallest fitting class, or -1 */
void	 buf_stats(struct buf_stats *st);
size_t	 buf_desc_bytes(void);		/* one buffer descriptor */

/* --------------------------------------------------------------- utf8.c */
/* Incremental UTF-8 validation (RFC 3629): state 0 accepts, 1 rejects. */
#define UTF8_ACCEPT	0
#define UTF8_REJECT	1
/* Feed bytes; returns the new state; stops early at REJECT. */
uint32_t utf8_feed(uint32_t state, const uint8_t *p, size_t n);
bool	 utf8_valid(const uint8_t *p, size_t n);
/* Copy a NUL-terminated string, cut at a character boundary to fit. */
void	 utf8_copy(char *dst, size_t cap, const char *src);

/* ------------------------------------------------------------- base64.c */
size_t	base64_encode(const uint8_t *in, size_t n,
    char *out);	/* NUL-terminates */
/* Standard (url=false) or base64url (url=true, no padding required).
 * Returns bytes decoded or -1 on any invalid input. */
long	base64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
    bool url);

/* ---------------------------------------------------------------- log.c */
extern int log_level;
void	log_emit(int level, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
#define log_error(ev, ...)	log_emit(PORT_LOG_ERROR, ev, __VA_ARGS__)
#define log_warn(ev, ...)	log_emit(PORT_LOG_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...)	log_emit(PORT_LOG_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...)	do { if (log_level >= PORT_LOG_DEBUG) \
	log_emit(PORT_LOG_DEBUG, ev, __VA_ARGS__); } while (0)
/* May a client-caused info line of this kind be written now?  A token
 * bucket per kind (WARD_LOG_RATE, WARD_LOG_BURST); false also below
 * log_level info. */
enum { LOG_RL_CONN, LOG_RL_AUTH, LOG_RL_COUNT };
bool	log_allow(int kind);
struct conn;
/* Connection lines at info, rate-limited: called once by conn.c when a
 * slot is taken and once when it is reaped (id, type, peer, duration,
 * close code). */
void	log_conn_open(const struct conn *c);
void	log_conn_close(const struct conn *c);
/* ISO 8601 UTC with microseconds and Z into out (>= 28 bytes). */
size_t	log_time_iso(int64_t wall_us, char *out);

/* ---------------------------------------------------------------- cfg.c */
struct ward_cfg {
	char	listen[256];
	char	tls_listen[256];
	char	tls_cert[256];
	char	tls_key[256];
	char	jwt_secret[256];
	char	data_dir[256];
	char	cors_origins[512];
	char	ws_origins[512];
	char	public_origin[512];	/* this server's own origins */
	char	redis[128];
	char	redis_password[128];
	char	redis_user[64];
	int	redis_db;
	char	redis_prefix[33];	/* every Redis key and channel */
	int	redis_required;		/* /health/ready 503 while down */
	int	jwt_leeway;		/* s */
	int	jwt_require_exp;
	int	require_auth_all;
	int	fsync_always;
	int	heartbeat_ms;
	int	handshake_timeout_ms;
	int	idle_timeout_ms;
	int	close_timeout_ms;
	int	websocket_enabled;
	int	echo_endpoint;
	int	max_connections;
	int	max_message;
	int	echo_max_message;	/* 0: stream any size */
	int	rate_limit;		/* messages/s per connection, 0: off */
	int	rate_burst;
	int	log_level;
	int	log_syslog;
	int	dev;
	int	progress_ms;		/* 0: no progress deadline */
	int	progress_min_bytes;
	int	max_conns_per_ip;	/* 0: no cap below max_connections */
	int	max_pending_per_ip;	/* 0: no cap */
	int	tls_max_conns;		/* TLS pool in use, <= WARD_TLS_CONNS */
	char	jwt_public_key[256];	/* PEM file for ES256/RS256 */
	/* service.<name>.types / .scope / .enabled (unified /ws, SPEC §4) */
	struct cfg_service {
		char	name[32];
		char	types[256];	/* comma-separated message types */
		int	scope;		/* index of the application's scope
					 * names (cfg_services_names) */
		int	disabled;
	} services[WARD_MAX_SERVICES];
	int	nservices;
};
extern struct ward_cfg cfg;

/*
 * A key the application declares, its value in its own storage: base
 * (NULL: struct ward_cfg) + off; size is a string's capacity; lo, hi an
 * integer's bounds (seconds: in ms); choices an enum's "a|b|c" (the
 * index is stored).  Tables end at a NULL name.
 */
enum { CFG_T_STR, CFG_T_INT, CFG_T_BOOL, CFG_T_SECS, CFG_T_ENUM };
struct cfg_key {
	const char	*name;
	const char	*env;		/* extra env name (seeds), or NULL */
	uint8_t		 type;
	size_t		 off;
	size_t		 size;
	long		 lo, hi;
	const char	*choices;
	void		*base;
};
/* Add a table of keys after the core's (at start-up, before any value
 * is read): 0 or WARD_ENOSPC. */
int	cfg_add_keys(const struct cfg_key *k);
/* The application's words for service.<name>: names it keeps for itself
 * and the scope names (stored as their index); NULL-ended lists. */
void	cfg_services_names(const char *const *reserved,
	    const char *const *scopes);

void	cfg_defaults(void);
/* Set key=value; on failure writes a message into err. */
int	cfg_set(const char *key, const char *val, char *err, size_t errlen);
int	cfg_load_file(const char *path, char *err, size_t errlen);
int	cfg_load_env(char *err, size_t errlen);
int	cfg_validate(char *err, size_t errlen);
/* Is origin allowed by the comma list ("*" allows all, "" none)? */
bool	cfg_origin_allowed(const char *list, struct str origin);
/* An Origin naming this very server is always allowed: one of
 * public_origin, or (that empty) a concrete listen address; never
 * decided from the request's Host header. */
bool	cfg_same_origin(const struct http_req *r, struct str origin);
void	cfg_print(void);
/* --help: every key, its default, what it takes, its environment names. */
void	cfg_help(void);

/* --------------------------------------------------------------- json.c */
enum { JSON_UNDEF = 0, JSON_OBJ, JSON_ARR, JSON_STR, JSON_PRIM };
struct json_tok {
	uint8_t	type;
	int32_t	start, end, size, parent;
};
struct json_doc {
	const char	*src;
	size_t		 len;
	int		 ntok;
	int		 dup;	/* JSON_E_DUP: the second key's token */
	struct json_tok	 tok[WARD_JSON_TOKENS];
};
#define JSON_E_SYNTAX	(-1)
#define JSON_E_TOOBIG	(-2)
#define JSON_E_DEPTH	(-3)
#define JSON_E_DUP	(-4)	/* a key twice in one object (decoded) */
/* Strict RFC 8259 parse (one value, no trailing bytes).  0 or JSON_E_*. */
int	json_parse(struct json_doc *d, const char *src, size_t len);
/* After json_parse: 0 when every object's keys are distinct once
 * unescaped, else JSON_E_DUP with d->dup the second key's token.  Every
 * message or body a handler reads passes it (svc_json_msg/_body); the
 * token reader (auth.c) refuses twice-given claims itself. */
int	json_check_dups(struct json_doc *d);
/* Static bytes per token of the parser's own (jsmn) token array. */
size_t	json_tok_bytes(void);
/* Token index of key's value in object obj, or -1. */
int	json_find(const struct json_doc *d, int obj, const char *key);
/* Index of the first token after i's subtree. */
int	json_skip(const struct json_doc *d, int i);
bool	json_is_str(const struct json_doc *d, int i);
bool	json_is_null(const struct json_doc *d, int i);
bool	json_tok_eq(const struct json_doc *d, int i, const char *lit);
/* Is string token i, unescaped, exactly lit ("fr\u006fm" is "from")? */
bool	json_key_eq(const struct json_doc *d, int i, const char *lit);
struct str json_raw(const struct json_doc *d, int i);	/* source text */
/* Typed getters: 0, WARD_ENOENT (absent) or WARD_EINVAL (wrong type). */
int	json_str(const struct json_doc *d, int i, char *out, size_t cap);
/* The same with the decoded length (an escaped NUL stays in out). */
int	json_strn(const struct json_doc *d, int i, char *out, size_t cap,
	    size_t *len);
/* An id or a name: a string without NUL or control characters (after
 * unescaping); WARD_EINVAL when it has one.  out NULL: only check. */
int	json_id(const struct json_doc *d, int i, char *out, size_t cap);
int	json_int(const struct json_doc *d, int i, int64_t *out);
int	json_num(const struct json_doc *d, int i, double *out);
int	json_bool(const struct json_doc *d, int i, bool *out);
/*
 * Are a's value i and b's value j equal as JSON values?  Whitespace and
 * object member order never matter; strings are compared after unescaping;
 * numbers by value (1, 1.0 and 1e0 are equal; integers exactly).
 */
bool	json_equal(const struct json_doc *a, int i, const struct json_doc *b,
	    int j);

/*
 * JSON writer into a fixed buffer; err latches on overflow.  With p NULL
 * it only counts (total).  With spill set, a full buffer is handed to
 * spill (which must give a new one: p, cap, len = 0) instead of failing.
 */
struct jw {
	char	*p;
	size_t	 cap, len, total;
	bool	 err;
	uint8_t	 depth;
	uint32_t comma;		/* bit per depth: a value precedes */
	int	(*spill)(struct jw *w);
	void	*ctx;
	uint32_t buf;		/* spill mode: the buffer behind p */
};
void	jw_init(struct jw *w, char *buf, size_t cap);
void	jw_obj(struct jw *w);
void	jw_obj_end(struct jw *w);
void	jw_arr(struct jw *w);
void	jw_arr_end(struct jw *w);
void	jw_key(struct jw *w, const char *k);
void	jw_str(struct jw *w, const char *s);
void	jw_strn(struct jw *w, const char *s, size_t n);
void	jw_int(struct jw *w, int64_t v);
void	jw_num(struct jw *w, double v);
void	jw_bool(struct jw *w, bool v);
void	jw_null(struct jw *w);
void	jw_raw(struct jw *w, const char *s, size_t n);	/* trusted JSON */
/* "key":value from raw JSON texts (key with its quotes). */
void	jw_member_raw(struct jw *w, struct str key, struct str val);
void	jw_time(struct jw *w, int64_t wall_us);
/* Escape s into out as a JSON string body (no quotes); returns length or
 * (size_t)-1 if it does not fit. */
size_t	json_escape(const char *s, size_t n, char *out, size_t cap);

/* --------------------------------------------------------------- http.c */
enum {
	HTTP_GET = 1, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE,
	HTTP_OPTIONS, HTTP_PATCH, HTTP_OTHER
};
#define HTTP_M(m)	(1u << (m))

struct http_hdr {
	struct str	name, value;
};

#define HTTP_F_CLOSE		0x01	/* Connection: close / HTTP/1.0 */
#define HTTP_F_UPGRADE_WS	0x02	/* Upgrade token list has websocket */
#define HTTP_F_CONN_UPGRADE	0x04	/* Connection token list has upgrade */
#define HTTP_F_EXPECT_100	0x08
#define HTTP_F_KEEPALIVE	0x10	/* HTTP/1.0 keep-alive asked */

struct http_req {
	uint8_t		 method;
	uint8_t		 minor;		/* HTTP/1.<minor> */
	uint16_t	 flags;
	struct str	 method_s, target, path, query;
	int		 nhdr;
	struct http_hdr	 hdr[WARD_MAX_HEADERS];
	int64_t		 content_length;	/* -1: none */
	size_t		 head_len;
	const uint8_t	*body;
	size_t		 body_len;
	struct str	 param[4];	/* route captures */
	int		 nparam;
	/* Set by the router when a valid token came with the request. */
	const struct auth_claims *auth;
	bool		 bearer_proto;	/* token came as a subprotocol */
	/* Set by the router: the Origin allowed by cors_origins, echoed in
	 * the answer's CORS headers (NULL: none). */
	struct str	 cors_origin;
};

/*
 * Parse a complete request head in buf[0..len).  Returns the head length
 * (> 0), WARD_NEED_MORE if the blank line has not arrived, or the negative
 * HTTP status to answer (-400, -414, -431, -501, -505, -411, -413).
 */
int	http_parse(struct http_req *r, const char *buf, size_t len);
/* Find "\r\n\r\n" resuming at *scan; true when the head is complete. */
bool	http_head_complete(const char *buf, size_t len, size_t *scan);
/* First header value by name (case-insensitive), or {NULL,0}. */
struct str http_header(const struct http_req *r, const char *name);
/* Does a comma-separated header value list contain token (ci)? */
bool	http_list_has(struct str list, const char *token);
/* Decode query parameter name into out (percent and '+' decoding).
 * Returns length, -1 when absent, -2 when malformed or too long. */
int	http_query_get(struct str query, const char *name, char *out,
	    size_t cap);
const char *http_reason(int status);

/* ----------------------------------------------------------------- ws.c */
#define WS_OP_CONT	0x0
#define WS_OP_TEXT	0x1
#define WS_OP_BINARY	0x2
#define WS_OP_CLOSE	0x8
#define WS_OP_PING	0x9
#define WS_OP_PONG	0xA

struct ws_frame_hdr {
	uint8_t		fin, rsv, opcode, masked;
	uint8_t		mask[4];
	uint64_t	len;
};
/*
 * Parse a frame header from a client (RFC 6455 §5.2).  Returns header
 * bytes (2..14), WARD_NEED_MORE, or -1002 for a protocol violation
 * (reserved bits, unknown opcode, unmasked, fragmented or oversized
 * control frame, non-minimal or 2^63+ length).
 */
int	ws_parse_header(const uint8_t *p, size_t n, struct ws_frame_hdr *h);
/* Encode a server frame header (unmasked) into out[10]; returns bytes. */
size_t	ws_encode_header(uint8_t *out, int opcode, bool fin, uint64_t len);
size_t	ws_header_len(uint64_t len);
/* Unmask in place; returns the new mask position. */
unsigned ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], unsigned pos);
/* Unmask src into dst (the same or not overlapping); returns the new
 * mask position. */
unsigned ws_unmask_copy(uint8_t *dst, const uint8_t *src, size_t n,
	    const uint8_t mask[4], unsigned pos);
/* Sec-WebSocket-Accept for a key (RFC 6455 §1.3) into out[29]. */
void	ws_accept_key(const char *key, size_t keylen, char *out);
/* Is this a valid Sec-WebSocket-Key (base64 of exactly 16 bytes)? */
bool	ws_key_valid(struct str key);
/* May a peer send this close code (RFC 6455 §7.4)? */
bool	ws_close_code_valid(unsigned code);
/* Build a frame (header + payload) in one buffer: handle or 0. */
uint32_t ws_frame(int opcode, const void *payload, size_t len);
/* Write a JSON text message straight into a frame buffer (max payload
 * bytes): begin, jw_* calls, end -> frame handle (0 on overflow/pool). */
bool	ws_jw_begin(struct jw *w, size_t max);
uint32_t ws_jw_end(struct jw *w);
/* A JSON text frame of exactly the right size: gen runs twice (count,
 * then write) and must write the same bytes both times.  0 on failure. */
uint32_t ws_jw_frame(void (*gen)(struct jw *w, void *arg), void *arg);

/* Parser state carried in each connection (all zero at the start). */
struct ws_state {
	uint64_t	remain;		/* payload bytes left in this frame */
	uint32_t	utf8;		/* DFA state across fragments */
	uint32_t	msg_len;	/* bytes of the message so far */
	uint8_t		mask[4];
	uint8_t		mpos;
	uint8_t		fin;
	uint8_t		msg_op;		/* message in progress (0: none) */
	uint8_t		in_frame;
	uint8_t		out_first;	/* streaming: next out frame opens */
};

/* --------------------------------------------------------------- conn.c */
enum {
	CS_FREE = 0,
	CS_HTTP,	/* reading requests */
	CS_WS,		/* WebSocket open */
	CS_CLOSING,	/* close frame queued/sent, waiting for the peer's */
	CS_LINGER,	/* last bytes queued; then half-close and drain */
	CS_DEAD		/* to be reaped */
};

#define CF_WANT_OUT	0x0001	/* a flush left bytes: wait for POLLOUT */
#define CF_PAUSED	0x0002	/* not reading: waiting for a buffer */
#define CF_THROTTLED	0x0004	/* not reading: own backlog too large */
#define CF_DIRTY	0x0008	/* on the flush list */
#define CF_REAP		0x0010	/* on the reap list */
#define CF_HEAD_REQ	0x0020	/* current request is HEAD */
#define CF_CLOSE_AFTER	0x0040	/* close once the queue is flushed */
#define CF_PING_SENT	0x0080	/* heartbeat ping outstanding */
#define CF_CLOSE_RCVD	0x0100	/* peer's close frame received */
#define CF_SHUT_WR	0x0200	/* write side half-closed */
#define CF_EOF		0x0400	/* peer sent FIN */
#define CF_IN_REQ	0x0800	/* an HTTP request has begun arriving */
#define CF_ABORT	0x2000	/* close with RST */
#define CF_CONTINUE	0x4000	/* 100 Continue sent for this request */
#define CF_WS_OPEN	0x8000	/* the endpoint saw open: owes a close */
#define CF_REFUSED	0x10000	/* over max_connections: 503 then close */
#define CF_IN_INPUT	0x20000	/* process_input is running (no re-entry) */
#define CF_HOT		0x40000	/* its input fanned out this turn: read again */
#define CF_OWE_408	0x80000	/* cut head: its 408 is still to be queued */
#define CF_SERVED	0x100000 /* a request was complete (not "pending") */
#define CF_TLS_HS	0x200000 /* TLS: its handshake is done (counted) */
#define CF_TLS_PEND	0x400000 /* TLS: plaintext waits in the engine */

struct route;

struct conn {
	int32_t		fd;
	uint8_t		state;
	uint8_t		listener;
	uint32_t	flags;
	uint16_t	route;		/* router index (WebSocket endpoint) */
	uint16_t	close_code;	/* first failure reason wins */
	uint16_t	rx_scan;	/* head terminator search resume */
	uint8_t		ev;		/* interest registered with the port */
	uint8_t		wait_cls;	/* paused: the buffer class awaited */
	uint16_t	q_count;	/* entries in the outbound queue */
	uint32_t	t_out;		/* ms: output last made progress */
	uint32_t	rx;		/* buffer holding unconsumed input */
	uint32_t	rx_len;
	uint32_t	msg;		/* message reassembly / stream out */
	uint32_t	q_head, q_tail;	/* outbound queue (qent indexes) */
	uint32_t	q_off;		/* bytes of the head entry sent */
	uint32_t	q_bytes;	/* backlog */
	uint32_t	t_rx;		/* ms: last byte received */
	uint32_t	t_start;	/* ms: request/close started */
	uint32_t	dirty_next, reap_next, pause_next;
	uint32_t	t_prog;		/* ms: progress window began */
	uint32_t	prog_n;		/* bytes received in the window */
	uint32_t	q_pin;		/* capacity of the buffers queued */
	uint16_t	q_heavy;	/* I/O and big buffers queued */
	/* The request being dispatched (replies read its CORS headers). */
	const struct http_req *req;
	struct ws_state	ws;
	uint32_t	ud[8];		/* the endpoint's own per-connection data
					 * (ud[0..5]: two group memberships) */
	struct port_addr peer;		/* remote address */
	/* TLS listener: its transport (tls.c), else NULL (plain TCP). */
	struct tls_conn	*tls;
};

extern struct conn conns[WARD_CONN_SLOTS];
extern uint32_t now_ms;		/* monotonic ms, truncated, this turn */
extern int64_t now_wall_us;	/* wall clock, this turn */

void	conn_init(void);
/* Take a pool slot for an accepted fd; NULL when the pool is full. */
struct conn *conn_new(int fd, int listener, const struct port_addr *peer);
/* Connections counted against max_connections (refusals excluded). */
uint32_t conn_admitted(void);
/* Outbound queues, all connections together (GET /metrics). */
struct conn_qstats {
	uint64_t	bytes;		/* queued, not yet written */
	uint32_t	max_bytes;	/* the longest queue */
	uint32_t	waiting;	/* sockets full: waiting for POLLOUT */
	uint32_t	entries, capacity;	/* queue entries in use, pool */
};
void	conn_queue_stats(struct conn_qstats *q);
static inline uint32_t conn_id(const struct conn *c) { return (uint32_t)(c - conns); }
/* Queue a frame/response buffer by reference (takes a new reference).
 * Returns 0, or WARD_ENOMEM (the connection has been failed with 1013). */
int	conn_send(struct conn *c, uint32_t buf);
/* Queue and give up the caller's reference. */
int	conn_send_owned(struct conn *c, uint32_t buf);
/* The buffer at the tail of c's queue (0: nothing queued). */
uint32_t conn_tail_buf(const struct conn *c);
/* c's queue ends with buffer x and grown holds x's bytes followed by more:
 * put grown in x's place (takes a reference to grown, drops x's).  Bytes
 * of x already written stay valid, grown starts with them.  Returns 0,
 * WARD_EINVAL (the tail is not x) or WARD_ENOMEM (failed with 1013). */
int	conn_send_grown(struct conn *c, uint32_t x, uint32_t grown);
/* Read again the connections whose input fanned out this turn (zero
 * wait): true when any of them had more bytes. */
bool	conn_read_hot(void);
/* TLS connections whose engine holds plaintext not yet read (no poll
 * event will come for it): any that can read now?  Read them: true when
 * any read happened. */
bool	conn_tls_pending(void);
bool	conn_read_tls_pending(void);
/* Start a WebSocket close: queue the close frame and stop reading data. */
void	conn_close_ws(struct conn *c, unsigned code, const char *reason);
/* Fail the connection (first reason wins). */
void	conn_fail(struct conn *c, unsigned code, const char *why);
/* After the last queued byte: half-close, drain the peer, close. */
void	conn_linger(struct conn *c);
/* The core's bookkeeping when a WebSocket opens (registry, counters). */
void	conn_ws_opened(struct conn *c, const char *type,
	    const struct auth_claims *auth);
/* Drop immediately (reset, EOF in the middle, shutdown deadline). */
void	conn_drop(struct conn *c, bool abort);
/* Stop/resume reading. */
void	conn_update_events(struct conn *c);
/* Event from the port. */
void	conn_on_event(struct conn *c, unsigned events);
/* Write every dirty connection's queue: one writev each. */
void	conn_flush_all(void);
/* Timeouts and heartbeats; called every WARD_TICK_MS. */
void	conn_sweep(void);
/* Close reaped connections. */
void	conn_reap(void);
/* Wake connections paused for buffers: how many went on. */
uint32_t conn_resume_paused(void);
/* Is a paused connection able to go on now (its buffer class has room)?
 */
bool	conn_paused_ready(void);
/* wait_cls: the class, | WAIT_SPARE when it waits above the reserve. */
#define WAIT_SPARE	0x80
#define WAIT_READ	BUF_NCLASS	/* any buffer to read into */
/* I/O and big buffers one connection may hold queued (slow consumers). */
uint32_t conn_heavy_max(void);
uint32_t conn_active(void);
/* SIGTERM: close WebSockets with 1001, idle HTTP at once. */
void	conn_shutdown_all(void);

/* ------------------------------------------------------------- router.c */
/* What an endpoint needs to run on a WebSocket. */
struct ws_ops {
	const char	*type;		/* registry socket type (declared) */
	const char	*listing;	/* path shown in ws_endpoints */
	/* After the 101 went out.  May close the connection. */
	void		(*open)(struct conn *c, const struct http_req *r);
	/* A whole, validated message (text is valid UTF-8). */
	void		(*message)(struct conn *c, int opcode, uint8_t *p, size_t n);
	/* Connection is going away (before the fd closes). */
	void		(*close)(struct conn *c);
	uint8_t		 text_only;	/* binary frames close 1003 */
	/* Echo streaming: validated bytes go straight back as fragments, no
	 * reassembly, bounded by echo_max_message (0: any size). */
	uint8_t		 stream_echo;
};

/*
 * One route: a row of a family's table, written with designated
 * initializers; a table ends at a row without pattern.  The doc fields
 * are read only by the documentation (GET /docs, /openapi.json).
 */
struct route {
	const char	*pattern;	/* '*' = [A-Za-z0-9_-]{1,64}, '#' = digits */
	unsigned	 methods;	/* HTTP_M(...) set for HTTP routes */
	int		(*http)(struct conn *c, struct http_req *r);
	const struct ws_ops *ws;	/* non-NULL: a WebSocket endpoint */
	bool		(*enabled)(void);	/* NULL: always */
	/*
	 * Who may call: NULL = anyone (unless require_auth = all), "*" = any
	 * valid token, "admin,staff" = a valid token with one of these roles.
	 * HTTP answers 401/403; WebSockets upgrade, then close 1008.
	 */
	const char	*roles;
	/* A WebSocket upgrade refused for its token (the reason in why):
	 * told to the family (an audit line), NULL: nothing. */
	void		(*refused)(const struct http_req *r, const char *type,
			    const char *why);
	/* Documentation: summary; OpenAPI path when '*'/'#' need names;
	 * component parameters (comma list); request schema; answer schema
	 * of GET / of the write method ("text/..." for non-JSON); the
	 * write's status (0: 200); a WebSocket's messages in and out. */
	const char	*summary, *doc_path, *params, *req, *res, *res_w;
	int		 ok_w;
	const char	*msg_in, *msg_out;
};

/*
 * An endpoint family (src/svc/ one file): its route table and the socket
 * types its WebSockets register as.  Families are collected in one
 * index (src/svc/index.c) and handed to the core at start-up.
 */
/* A static pool, named (--print-limits): count of bytes each. */
struct ward_pool {
	const char	*name;
	uint64_t	 count, bytes;
	const char	*what;
};

struct family {
	const char		*name;
	const struct route	*routes;	/* ends at pattern NULL */
	const char *const	*types;		/* socket types, NULL-ended */
	const struct cfg_key	*keys;		/* its config keys, or NULL */
	void			(*init)(void);	/* once, when added */
	void			(*start)(void);	/* before serving (journal
						 * open): the index calls it */
	const struct ward_pool	*pools;		/* its arenas, NULL-named end */
	const struct journal_family *journal;	/* its records, or NULL */
	/* its group kinds, NULL-named end: ids written at add */
	const struct fanout_kind *kinds;
};

/*
 * Take a family's routes, socket types and config keys, and run its init
 * (at start-up, before the configuration is read).
 * WARD_EINVAL with a message in err: a route's socket type not declared,
 * more routes than WARD_MAX_ROUTES, more types than WARD_SOCK_TYPES.
 */
int	router_add_family(const struct family *f, char *err, size_t errlen);
/* Handle one complete request (body included). */
void	router_dispatch(struct conn *c, struct http_req *r);
const struct route *router_route(uint16_t idx);
/* Visit every WebSocket path pattern (for listings). */
void	router_each_ws(void (*fn)(const struct route *rt, void *arg), void *arg);

/* -------------------------------------------------------------- reply.c */
/*
 * The response writer: heads (status, Date, Content-Type, length, the
 * request's CORS headers, Connection: close) and bodies queued on the
 * connection.  Body is copied.
 */
int	reply_body(struct conn *c, int status, const char *ctype,
	    const void *body, size_t len, const char *extra);
/* Body is static and referenced, not copied. */
int	reply_static(struct conn *c, int status, const char *ctype,
	    const void *body, size_t len, const char *extra);
/* Queue bytes as they are (e.g. a 101 head). */
int	reply_raw(struct conn *c, const char *p, size_t n);
int	reply_error(struct conn *c, int status, const char *code,
	    const char *detail);
int	reply_json(struct conn *c, int status, const struct jw *w);
/* A JSON answer of any size: gen runs twice (count, then write across
 * pooled buffers), so it must write the same bytes both times. */
int	reply_json_gen(struct conn *c, int status,
	    void (*gen)(struct jw *w, void *arg), void *arg);
int	reply_json_error(struct conn *c, int status, const char *code,
	    const char *detail, const char *extra);

/* ----------------------------------------------------------------- ws.c */
/* Complete an upgrade: validate, answer 101, enter CS_WS.  With refuse
 * set (an auth failure), the socket opens and closes at once with 1008. */
void	ws_upgrade(struct conn *c, struct http_req *r, uint16_t route,
	    const char *refuse);
/* Consume WebSocket bytes; returns bytes consumed (rest kept). */
size_t	ws_feed(struct conn *c, uint8_t *p, size_t n);
/* Encode and queue a message on one connection. */
int	ws_send(struct conn *c, int opcode, const void *p, size_t n);
/* {"type":"error","error":code,"detail":detail} on one connection. */
void	ws_send_error(struct conn *c, const char *code, const char *detail);

/* ----------------------------------------------------------- registry.c */
/*
 * The socket registry (the seeds' SocketStatusService): one entry per
 * connection slot, filled when a WebSocket opens and cleared when it goes.
 * Socket types are declared by the families (router_add_family) and
 * numbered in that order from 1; 0 is none.  Two indexes keep lookups
 * O(members): every socket of a type, and every socket of a user.
 */
#define REG_TYPE_NONE	0

struct reg_entry {
	uint64_t	id;		/* socket_id, printed as 12 hex digits */
	int64_t		connected_us;	/* wall clock */
	int64_t		last_us;	/* wall clock of the last message */
	uint64_t	exp_ms;		/* token expiry, monotonic ms (0: none) */
	uint64_t	bytes_in, bytes_out;
	uint32_t	msgs_in, msgs_out;
	uint32_t	rl_milli;	/* rate limit bucket, 1/1000 message */
	uint32_t	rl_last;	/* ms of the last refill */
	uint16_t	rl_strikes;	/* messages refused in a row */
	uint8_t		type;
	uint8_t		authed;
	uint8_t		has_prof;	/* reg_profile written for this socket */
};

/*
 * Who is behind a socket (from the token and the query), kept whole.  A
 * parallel array: written only for sockets that have such data, so an
 * anonymous socket never touches (and never makes resident) its page.
 */
struct reg_profile {
	char		role[33];
	char		name[97];
	char		user[65];
	char		room[65];
	char		tenant[65];	/* the token's tenant claim */
};

extern struct reg_entry reg[WARD_CONN_SLOTS];
/* The socket's profile for writing (cleared on first use after register). */
struct reg_profile *reg_prof_w(uint32_t slot);
/* For reading: an all-empty profile when none was written. */
const struct reg_profile *reg_prof(uint32_t slot);

const char *reg_type_name(int type);
int	reg_type_of(const char *name);		/* REG_TYPE_NONE if unknown */
/* Declare a socket type: its number, or WARD_ENOSPC (WARD_SOCK_TYPES). */
int	reg_type_add(const char *name);
int	reg_type_count(void);			/* types declared; ids 1..n */
/* Register slot with a type; the id is new and unique. */
void	reg_register(uint32_t slot, int type);
void	reg_unregister(uint32_t slot);
void	reg_note_in(uint32_t slot, size_t bytes);
void	reg_note_out(uint32_t slot, size_t bytes);
/* Rate limit (SPEC §1.3): may this connection's next message pass? */
bool	reg_rate_ok(uint32_t slot);
/* Slot of a socket id, or -1. */
long	reg_find(uint64_t id);
uint32_t reg_count(int type);			/* REG_TYPE_NONE: all */
/* Every registered socket of a type: the first slot, the next (-1 at the
 * end).  O(members); the order is not specified. */
long	reg_type_first(int type);
long	reg_type_next(uint32_t slot);
/* Record the socket's user (profile and index); "" takes it out. */
void	reg_set_user(uint32_t slot, const char *user);
size_t	reg_index_bytes(void);			/* index links of one slot */
/* Every registered socket of a user: the first slot, the next (-1). */
long	reg_user_first(const char *user);
long	reg_user_next(uint32_t slot);
void	reg_id_text(uint64_t id, char out[13]);
/* With a tag (Redis: the instance's, bus.c), every new id is tag << 32 |
 * 16-bit sequence << 16 | 16 random bits (unique among live sockets: a
 * wrapped sequence is checked); the tag of an id (0: none). */
void	reg_set_tag(uint16_t tag);
uint16_t reg_id_tag(uint64_t id);
bool	reg_id_parse(struct str s, uint64_t *id);
/* Write one entry as a JSON object. */
void	reg_entry_json(struct jw *w, uint32_t slot, const char *remote);
/* {"active","total_sockets","sockets_by_type","timestamp"} fields. */
void	reg_summary_json(struct jw *w);

/* ------------------------------------------------------------- fanout.c */
/*
 * Groups: named sets of connections (a call room, a subscriber set, the
 * admin monitors...), each of a kind the families number themselves.  Membership is intrusive (two slots per
 * connection in ud[0..5]), so a group can hold every connection of the
 * pool; a frame sent to a group is encoded once and queued by reference.
 */

void	fanout_init(void);
/* Join (kind, name) in membership slot ms (0 or 1), creating the group.
 * cap > 0 limits members.  Returns the group id (> 0), WARD_ENOMEM (no
 * group left) or WARD_ETOOBIG (group full). */
int	fanout_join(struct conn *c, int ms, int kind, const char *name,
    size_t n,
	    uint32_t cap);
void	fanout_leave(struct conn *c, int ms);
int	fanout_of(const struct conn *c, int ms);		/* 0: none */
/* The group (kind, name), 0: none. */
int	fanout_find(int kind, const char *name, size_t n);
uint32_t fanout_size(int g);
const char *fanout_name(int g);
/* Next seq number of the group (stamps). */
uint32_t fanout_next_seq(int g);
/* First member, next member (NULL at the end). */
struct conn *fanout_first(int g);
struct conn *fanout_next(const struct conn *c, int g);
/* Queue a frame buffer to every member but except; returns recipients. */
uint32_t fanout_send(int g, uint32_t frame, const struct conn *except);
/* End of the turn (the flush): groups let go of their last buffers. */
void	fanout_turn_end(void);
/* Local delivery only (what the bus hands in from other instances). */
uint32_t fanout_deliver(int g, uint32_t frame);
/* fanout_send with header flags for the other instances' group hook. */
uint32_t fanout_send_flags(int g, uint32_t frame, const struct conn *except,
	    const char *flags);
/* Send to group (kind, name) here and on every instance: local members
 * (0 when none here) are counted. */
uint32_t fanout_send_named(int kind, const char *name, size_t n,
	    uint32_t frame, const struct conn *except);
/* Every socket of a type / of a user, here and on every instance. */
uint32_t fanout_send_type(int type, uint32_t frame, const struct conn *except);
uint32_t fanout_send_user(const char *user, uint32_t frame);
/* Encode a text message once and send it to the group. */
uint32_t fanout_send_text(int g, const char *s, size_t n,
	    const struct conn *except);
uint32_t fanout_count(void);

/* Groups in use, in id order: fanout_next_used(0) first, 0 at the end. */
int	fanout_next_used(int g);
int	fanout_kind(int g);			/* the family's kind, 0: none */
/* Group kinds are names the families declare (struct family .kinds),
 * numbered from 1: add (its number, or WARD_ENOSPC past
 * WARD_GROUP_KINDS), look up (0: none), name ("other" for none). */
int	fanout_kind_add(const char *name);
int	fanout_kind_of(const char *name);
const char *fanout_kind_name(int kind);
/* A family's kind: its name, and where the number given is written. */
struct fanout_kind {
	const char	*name;
	int		*id;
};
/* Static bytes per group (the group, its hash slots, its turn entry). */
size_t	fanout_bytes(void);

/* ------------------------------------------------------------ journal.c */
/* Record type 0 is the journal's own (the storage probe after a failed
 * write; replay ignores it); the families own ranges of the others. */
#define JOURNAL_NOP	0
/*
 * A family's records: types lo..hi, handed to replay at start (in file
 * order) and written whole by snapshot (with journal_put) when the file is
 * compacted.  Declared in the family's file (struct family .journal).
 */
struct journal_family {
	uint8_t	lo, hi;
	void	(*replay)(int type, const uint8_t *p, size_t n);
	int	(*snapshot)(void);
};
/* Take a family's records: 0, or WARD_EINVAL (a range that is empty,
 * holds 0 or overlaps another's), WARD_ENOSPC (WARD_JOURNAL_FAMILIES). */
int	journal_add_family(const struct journal_family *f);
/* data_dir exists (made if missing) and takes a write (access(2), never
 * a write: a probe every second wears no flash). */
bool	journal_storage_ok(void);
#define JOURNAL_MAX	(WARD_MBOX_DATA + 256)	/* payload bytes */
struct jbuf {
	uint8_t	p[JOURNAL_MAX];
	size_t	n;
	bool	bad;
};
struct jread {
	const uint8_t	*p;
	size_t		 n, at;
};
/* Open data_dir/journal.wj and replay it into the modules (at start). */
int	journal_open(void);
void	journal_close(void);		/* sync what is pending, close */
bool	journal_ok(void);
/* A write or sync failed, and none has succeeded since (/health). */
bool	journal_failing(void);
/* Append one record / make what was appended durable (per fsync). */
int	journal_put(int type, const void *p, size_t n);
int	journal_commit(void);
/* Every tick: the interval fsync, and compaction when it is due. */
void	journal_tick(void);
void	journal_rec_init(struct jbuf *b);
void	journal_rec_bytes(struct jbuf *b, const void *p, size_t n);
void	journal_rec_u64(struct jbuf *b, uint64_t v);
void	journal_rec_str(struct jbuf *b, const char *s);
bool	journal_read_u64(struct jread *r, uint64_t *v);
bool	journal_read_str(struct jread *r, char *out, size_t cap);

/* ------------------------------------------------------------ mailbox.c */
/*
 * Offline queues: a fixed arena of messages, each filed under a key (a
 * string); at most per_key under one key, the oldest dropped first and
 * counted.  Every change is written ahead to the journal as one record
 * (a push and the drop it causes are one record, so a failed write
 * leaves nothing behind) in the owner's record range: jtype (push),
 * jtype + 1 (pop), jtype + 2 (dropped count).  Counts per key are kept,
 * so a depth is a hash lookup, never an arena scan.
 */
struct mailbox_msg {
	uint32_t	seq;		/* 0: free */
	uint32_t	next;		/* newer of the key, or free; +1 */
	uint32_t	key;		/* key index + 1 */
	uint16_t	len;
	uint8_t		data[WARD_MBOX_DATA];
};
struct mailbox_key {
	char		name[WARD_MBOX_KEY + 1];
	bool		used;
	uint32_t	head, tail;	/* oldest, newest message; +1 */
	uint32_t	count, dropped;
	uint32_t	hnext;		/* hash chain, or free; +1 */
};
struct mailbox {
	int		 jtype;		/* the first of its 3 types */
	uint32_t	 per_key;
	bool		 evict;		/* full: drop its own oldest */
	uint32_t	 cap;
	struct mailbox_msg	*msg;		/* cap of each */
	struct mailbox_key	*key;
	uint32_t	*bucket;
	bool		 ready;
	uint32_t	 free_msg, free_key, next_seq, used;
};
#define MAILBOX_STORAGE(v, n) \
	static struct mailbox_msg v##_msg[n]; \
	static struct mailbox_key v##_key[n]; \
	static uint32_t v##_bucket[n]; \
	static struct mailbox v
/* Static bytes of one message slot of a MAILBOX_STORAGE arena. */
#define MAILBOX_SLOT_BYTES	(sizeof(struct mailbox_msg) + \
	sizeof(struct mailbox_key) + sizeof(uint32_t))
#define MAILBOX_INIT(v, jt, per, ev) { .jtype = (jt), .per_key = (per), \
	.evict = (ev), .cap = ARRAY_LEN(v##_msg), .msg = v##_msg, \
	.key = v##_key, .bucket = v##_bucket }
/* File a message under key (written ahead and committed, then applied):
 * 0, WARD_ENOMEM (arena full), WARD_ETOOBIG, WARD_EINVAL (key) or
 * WARD_EIO (storage: nothing changed, nothing left on disk). */
int	mailbox_push(struct mailbox *mb, const char *key, const void *p,
    size_t n);
/* The oldest message under key, or NULL. */
const struct mailbox_msg *mailbox_peek(struct mailbox *mb, const char *key);
/* Remove the oldest (delivered): a pop record, not committed here (the
 * caller commits once; a lost pop repeats a message, never loses one). */
void	mailbox_pop(struct mailbox *mb, const char *key);
uint32_t mailbox_count(struct mailbox *mb, const char *key);
uint32_t mailbox_dropped(struct mailbox *mb, const char *key);
/* The dropped count was reported: back to 0 (a record when it was not). */
void	mailbox_seen(struct mailbox *mb, const char *key);
/* In memory only (the owner's own record says so): forget key; set its
 * dropped count (a legacy record). */
void	mailbox_forget(struct mailbox *mb, const char *key);
void	mailbox_set_dropped(struct mailbox *mb, const char *key,
	    uint32_t n);
/* Replay: one of the mailbox's records (true), or not its type; legacy
 * push/pop records of the owner's older format. */
bool	mailbox_replay(struct mailbox *mb, int type, const uint8_t *p,
    size_t n);
void	mailbox_load(struct mailbox *mb, uint64_t seq, const char *key,
	    const uint8_t *p, size_t n);
void	mailbox_unload(struct mailbox *mb, uint64_t seq);
/* Write every key's count and messages (compaction). */
int	mailbox_snapshot(struct mailbox *mb);

/* --------------------------------------------------------------- loop.c */
int	loop_listen(const char *list, bool tls);
int	loop_run(void);
extern bool loop_draining;
uint64_t loop_started_us(void);
int	loop_listen_port(int i);

/* ---------------------------------------------------------------- bus.c */
struct bus_stats {
	bool		on, up;
	uint64_t	published;	/* publications accepted by the link */
	uint64_t	not_replicated;	/* local only: Redis down, too big */
	uint64_t	received;	/* other instances' messages */
	uint64_t	own;		/* this instance's, dropped */
	uint64_t	malformed;	/* bad channel or header */
	uint64_t	undelivered;	/* no frame buffer */
	uint64_t	deliveries;	/* local sockets reached from the bus */
	uint64_t	seq_gaps;	/* a publisher's <seq> not last + 1 */
	uint64_t	direct_sent;	/* direct sends published */
	uint64_t	direct_unknown;	/* direct sends here: no such socket */
	uint64_t	direct_unheard;	/* direct sends no instance took */
};
int	bus_start(void);
void	bus_stop(void);
void	bus_group(int kind, const char *name, size_t n, uint32_t frame);
/* The same with header flags ("a=v,b=v", values escaped with bus_escape)
 * for the kind's group hook on the other instances. */
void	bus_group_flags(int kind, const char *name, size_t n, uint32_t frame,
	    const char *flags);
/* Flag name's value in flags, unescaped: false when absent or too long. */
bool	bus_flag(const char *flags, const char *name, char *out, size_t cap);
/* A group message with flags from another instance for group name (n
 * bytes), g the group here (0: no member here): the hook delivers what it
 * decides; answers the sockets reached. */
typedef uint32_t (*bus_group_fn)(int g, const char *name, size_t n,
	    uint32_t frame, const char *flags);
void	bus_group_hook(int kind, bus_group_fn fn);
/* Is tag a live instance's (Redis up)?  Is this instance alone (no Redis,
 * Redis down, or no other live instance in the counts)? */
bool	bus_tag_live(uint16_t tag);
bool	bus_alone(void);
void	bus_type(int type, uint32_t frame);
void	bus_user(const char *user, uint32_t frame);
const char *bus_state(void);		/* "up", "down", "off" */
bool	bus_on(void);			/* Redis configured */
void	bus_tick(uint64_t now);
int	bus_group_msg(int kind, const char *name, size_t n, uint32_t frame,
	    struct str *chan, struct str *msg);
void	bus_set_tick_hook(void (*fn)(uint64_t now));	/* up to 4 */
/* Messages on <prefix>:a:<topic> from other instances (the standard
 * header, text): the topic as on the channel and the payload after the
 * header; for the application (one hook). */
void	bus_set_app_hook(void (*fn)(const struct str *topic,
	    const struct str *payload));
/* The wire (docs/redis.md), pure: a name escaped (every byte outside
 * [A-Za-z0-9_.-] as %XX) appended at *at, false when it does not fit;
 * unescaped (-1: a bad %XX or too long); a message header
 * "w1 <instance> <seq> <op>[ <flags>]\n" parsed: the payload offset or -1. */
bool	bus_escape(char *out, size_t cap, size_t *at, const char *s, size_t n);
long	bus_unescape(const char *s, size_t n, char *out, size_t cap);
long	bus_header(const struct str *m, struct str *inst, uint64_t *seq,
	    int *op);
/* The cluster's socket counts ("scope":"cluster"); false: none known
 * (no Redis, down, not read yet): the caller writes the local ones. */
bool	bus_summary_json(struct jw *w);
/* The same for any listing: total_key and by_key (sockets by type) with
 * the cluster's figures, then "scope":"cluster", "instances", and
 * local_key with this instance's socket count; false: none known. */
bool	bus_counts_json(struct jw *w, const char *total_key,
	    const char *by_key, const char *local_key);
/* "scope":"cluster","instances":n,"<local_key>":local. */
void	bus_scope_json(struct jw *w, const char *local_key, int64_t local);
/* Count the groups of this kind cluster-wide (members of each group,
 * written with the counts; at most WARD_BUS_COUNT_GROUPS). */
void	bus_count_kind(int kind);
/* fn(name, members) for each group of a counted kind with members in
 * the cluster; false: no cluster figures (the caller counts locally). */
bool	bus_group_counts(int kind, void (*fn)(const char *name, uint64_t n,
	    void *arg), void *arg);
/* Every Redis key and channel name: "<redis_prefix>:" then fmt; its
 * length or -1 (does not fit). */
int	bus_name(char *out, size_t cap, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Direct sends (docs/redis.md): to one socket, on the instance that holds
 * it.  A socket id's (and a call peer id's) top 16 bits are the tag of
 * the instance that gave it out (bus_tag(); 0: no Redis).  Answers: 1
 * delivered here, 0 no such socket (here, or no live instance has the
 * tag), BUS_FORWARDED published to its instance, WARD_EAGAIN Redis down
 * (or the pipeline full), WARD_EINVAL too long.
 */
#define BUS_FORWARDED	2
uint16_t bus_tag(void);
int	bus_send_socket(uint64_t sid, uint32_t frame);
/* The member key of group (kind, name) on instance tag: the receiving
 * instance calls the kind's hook with the group there (0: none), the key,
 * from (the sending socket, for an answer with bus_send_socket; 0: none),
 * the frame and the flags given here (NULL: none; "" there); the hook
 * answers the sockets it reached. */
typedef uint32_t (*bus_member_fn)(int g, const char *key, uint64_t from,
	    uint32_t frame, const char *flags);
void	bus_member_hook(int kind, bus_member_fn fn);
int	bus_direct_member(uint16_t tag, int kind, const char *name, size_t n,
	    const char *key, uint64_t from, uint32_t frame, const char *flags);
const char *bus_instance(void);
void	bus_stats(struct bus_stats *st);
size_t	bus_bytes(void);

/* --------------------------------------------------------------- stats */
struct ward_stats {
	uint64_t	accepted, refused_full, handshakes, handshake_fail;
	uint64_t	msgs_in, msgs_out, bytes_in, bytes_out;
	uint64_t	closes[16];	/* by close code bucket (see stats_close) */
	uint64_t	http_requests, http_errors;
	uint64_t	drops_slow;	/* 1013 for slow consumers */
	uint64_t	hs_fail[6];	/* handshake failures by HSF_* reason */
	uint64_t	cuts[12];	/* connections cut, by CUT_* reason */
	uint64_t	loop_spins;	/* zero waits with nothing to do */
	uint64_t	loop_zero_waits;	/* waits with timeout 0 */
	/* TLS listeners: handshakes done (resumed among them), refused
	 * (TLS pool full or tls_max_connections), failed by TLSF_* reason */
	uint64_t	tls_handshakes, tls_resumed, tls_refused;
	uint64_t	tls_fail[5];
};
/* Why a TLS handshake failed (GET /metrics labels). */
enum { TLSF_NOT_TLS, TLSF_ALERT, TLSF_PROTOCOL, TLSF_CLOSED, TLSF_TIMEOUT };
/* Why a connection was cut by the abuse policy (GET /metrics labels). */
enum {
	CUT_HEAD_TIMEOUT,	/* head not complete within handshake_timeout */
	CUT_HEAD_SLOW,		/* head below progress_min_bytes per interval */
	CUT_MSG_SLOW,		/* unfinished message below the same */
	CUT_SLOW_CONSUMER,	/* its queue passed the budget: 1013 */
	CUT_STALLED,		/* queued output did not move */
	CUT_EVICT_HEAD,		/* a pool ran dry: the idle head holding most */
	CUT_EVICT_MESSAGE,	/* ... the idle unfinished message */
	CUT_EVICT_QUEUE,	/* ... the non-reader holding most */
	CUT_PER_IP,		/* max_connections_per_ip */
	CUT_PENDING_IP,		/* max_pending_per_ip */
	CUT_NREASONS
};
/* Why a WebSocket handshake failed (GET /metrics labels). */
enum { HSF_REQUEST, HSF_VERSION, HSF_KEY, HSF_ORIGIN, HSF_AUTH, HSF_WRITE };
extern struct ward_stats stats;

#endif
