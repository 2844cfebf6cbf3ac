/*
 * redis.h - a non-blocking RESP2 client: an incremental reply parser, a
 * command encoder, and one client with two links (commands, pipelined;
 * SUBSCRIBE/PSUBSCRIBE) driven by the ward event loop.
 *
 * The core knows no clinic word: the client carries opaque bytes on named
 * channels; the bus that maps fan-out groups onto channels lives above it
 * (docs/redis.md).  Nothing here allocates: every buffer is static and
 * sized below.  The OS is reached only through port/port.h.
 */
#ifndef WARD_REDIS_H
#define WARD_REDIS_H

#include "internal.h"

/* Limits: src/config.h (WARD_REDIS_*). */

_Static_assert(WARD_REDIS_REPLY_BYTES >= WARD_REDIS_MAX_BULK,
    "a largest bulk fits one assembled reply");
_Static_assert(WARD_REDIS_SUB_TXBUF >=
    WARD_REDIS_MAX_SUBS * (WARD_REDIS_NAME_MAX + 32) + 256,
    "every subscription is sent again at once after a reconnect");
_Static_assert(WARD_REDIS_TOKEN + 2 <= WARD_EV_SLOTS,
    "two event tokens for the Redis links");
_Static_assert(WARD_REDIS_MAX_DEPTH >= 1 && WARD_REDIS_MAX_DEPTH <= 64,
    "array depth");

/* ------------------------------------------------------------- parser */

enum resp_type {
	RESP_NONE = 0,
	RESP_STATUS,		/* +OK */
	RESP_ERROR,		/* -ERR ... */
	RESP_INT,		/* :42 */
	RESP_BULK,		/* $3\r\nabc */
	RESP_NIL,		/* $-1 */
	RESP_ARRAY,		/* *2 (header; elements follow) */
	RESP_NIL_ARRAY		/* *-1 */
};

/*
 * One parser event.  Strings (STATUS, ERROR, BULK) come as one or more
 * chunks pointing into the caller's input (never copied): `first` on the
 * first, `last` on the one that completes the element (a chunk may be
 * empty).  INT, NIL, NIL_ARRAY and ARRAY headers are one event with
 * first = last = 1.  `done` marks the event that completes a top-level
 * reply.  depth is the element's nesting level (0: the reply itself).
 */
struct resp_ev {
	uint8_t		 type;
	uint8_t		 depth;
	bool		 first, last, done;
	int64_t		 num;	/* INT value; ARRAY count; BULK length */
	const uint8_t	*p;
	size_t		 n;
};

/* All-zero is the start state; max_bulk 0 means WARD_REDIS_MAX_BULK. */
struct resp_parser {
	uint32_t	max_bulk;
	uint8_t		state, type, depth, neg;
	uint8_t		ndig;
	bool		chunked;	/* a chunk of this element was given */
	int		err;		/* sticky error, 0 while healthy */
	uint64_t	num;
	uint64_t	left;		/* bulk/line bytes left or seen */
	uint32_t	open[WARD_REDIS_MAX_DEPTH];	/* elements left */
};

/*
 * Consume input until one event is ready.  Returns the bytes consumed
 * (>= 1) with *ev filled, WARD_NEED_MORE when all n bytes were consumed
 * without an event, or a negative error: WARD_EINVAL (protocol: bad type
 * byte, bad length, CRLF violation, too deep) or WARD_ETOOBIG (a bulk,
 * line or array above its limit).  Errors are sticky until resp_reset.
 */
long	resp_feed(struct resp_parser *p, const void *in, size_t n,
	    struct resp_ev *ev);
/* Back to the start state, keeping max_bulk. */
void	resp_reset(struct resp_parser *p);

/* ------------------------------------------------------------ encoder */

/*
 * Encode one command as a RESP array of bulk strings into out.  Returns
 * the length, or 0 when it does not fit (nothing useful written).
 */
size_t	redis_encode(uint8_t *out, size_t cap, int argc,
	    const struct str *argv);
/* The encoded length of that command. */
size_t	redis_encoded_len(int argc, const struct str *argv);

/* ------------------------------------------------------------ replies */

/* One element of an assembled reply; arrays are followed by their
 * elements (pre-order); p/n are valid only during the callback. */
struct redis_elem {
	uint8_t		 type;		/* enum resp_type */
	uint8_t		 depth;
	int64_t		 num;		/* INT value, ARRAY count */
	const char	*p;		/* STATUS, ERROR, BULK bytes */
	size_t		 n;
};

struct redis_reply {
	const struct redis_elem	*e;	/* e[0] is the reply */
	uint32_t		 n;
};

/* A reply to a command; r is NULL when the link went down first. */
typedef void (*redis_reply_fn)(void *arg, const struct redis_reply *r);

enum redis_push {
	REDIS_PUSH_NONE = 0,	/* not a pub/sub push */
	REDIS_PUSH_MESSAGE,	/* ["message", channel, payload] */
	REDIS_PUSH_PMESSAGE,	/* ["pmessage", pattern, channel, payload] */
	REDIS_PUSH_SUBSCRIBE,	/* ["subscribe"|"psubscribe", name, count] */
	REDIS_PUSH_UNSUBSCRIBE,	/* ["unsubscribe"|"punsubscribe", ...] */
	REDIS_PUSH_PONG		/* ["pong", ""] (PING while subscribed) */
};

struct redis_msg {
	int		kind;		/* enum redis_push */
	struct str	pattern;	/* PMESSAGE only */
	struct str	channel;	/* or the (p)subscribed name */
	struct str	payload;
	int64_t		count;		/* (UN)SUBSCRIBE: subscriptions now */
};

/* Classify a reply as a pub/sub push (pure; fills *m). */
int	redis_push_kind(const struct redis_reply *r, struct redis_msg *m);

/* Backoff with full jitter: rnd scaled into [0, min(cap, base << n)]. */
uint32_t redis_backoff_ms(unsigned attempt, uint32_t base, uint32_t cap,
	    uint32_t rnd);

/* ------------------------------------------------------------- client */

struct redis_opts {
	const char	*addr;		/* host:port, [v6]:port, unix:/path */
	const char	*user;		/* ACL user, NULL or "" for none */
	const char	*password;	/* NULL or "" for no AUTH */
	int		 db;		/* SELECT on the command link if > 0 */
	uint32_t	 backoff_min_ms, backoff_max_ms;  /* 0: defaults */
	/* pub/sub messages (MESSAGE and PMESSAGE) */
	void		(*on_message)(void *arg, const struct redis_msg *m);
	/* the client came up (both links ready) or went down */
	void		(*on_state)(void *arg, bool up);
	void		*arg;
};

struct redis_stats {
	bool		up;		/* both links ready */
	bool		configured;
	uint64_t	commands;	/* commands written to the link */
	uint64_t	replies;	/* replies matched, command link */
	uint64_t	messages;	/* pub/sub messages delivered */
	uint64_t	refused;	/* commands refused (down, full) */
	uint64_t	failed;		/* commands lost with a link */
	uint64_t	reconnects;	/* connect attempts after the first */
	uint64_t	downs;		/* times the client went down */
	uint64_t	bytes_in, bytes_out;
	uint32_t	pending;	/* replies awaited now */
	uint32_t	subs;		/* subscriptions confirmed now */
};

/*
 * Start: parse addr (WARD_EINVAL), resolve a host name once (here, at
 * start-up: later reconnects do no lookups and no allocation), begin
 * connecting both links.  Strings are copied.  Returns 0 or negative.
 */
int	redis_start(const struct redis_opts *o);
/* Close both links; pending callbacks get NULL. */
void	redis_stop(void);
bool	redis_up(void);
void	redis_stats(struct redis_stats *st);
/* The last error Redis or the link reported ("" when none). */
const char *redis_last_error(void);

/* Remember a channel / pattern (resubscribed on every reconnect). */
int	redis_subscribe(const char *channel);
int	redis_psubscribe(const char *pattern);

/*
 * Queue a command on the command link; cb (may be NULL) gets its reply in
 * order.  WARD_EIO while down, WARD_ENOMEM when the ring or the output
 * buffer is full, WARD_ETOOBIG when it can never fit.
 */
int	redis_cmd(redis_reply_fn cb, void *arg, int argc,
	    const struct str *argv);

/*
 * Event-loop integration.  The client registers its fds itself with
 * port_ev_add/mod/del under tokens WARD_REDIS_TOKEN + 0 (commands) and
 * + 1 (subscribe), asking for PORT_EV_OUT only while connecting or with
 * output pending.  The loop hands it those tokens' events, calls
 * redis_flush() after dispatch (writes what handlers queued this turn,
 * one writev per link), and redis_tick() at least every
 * redis_timeout_ms().
 */
bool	redis_owns_token(uint32_t token);
void	redis_on_event(uint32_t token, unsigned events);
void	redis_flush(void);
void	redis_tick(uint64_t now);
int	redis_timeout_ms(uint64_t now);
/* For a loop that polls by itself: a link's fd (-1 when none) and the
 * events it wants. */
int	redis_link_fd(int link, unsigned *events);

#endif
