/*
 * config.h - every compile-time limit of ward.
 *
 * Each limit: its default (the laptop board), what it costs, what hitting
 * it does, and its hard bounds.  Boards override any of them with -D in
 * boards/<name>.mk.  Run-time config (cfg.c) may lower some of them at
 * start-up (max_connections, max_message) but never raise them: the pools
 * are static arrays sized here.
 */
#ifndef WARD_CONFIG_H
#define WARD_CONFIG_H

#define WARD_VERSION "0.1.0"
/* Which BearSSL the build linked (--version): a board that builds it from
 * source says how (boards/host.mk). */
#ifndef WARD_BEARSSL_BUILD
#define WARD_BEARSSL_BUILD "the toolchain's libbearssl"
#endif

/*
 * Connection pool.  Cost per slot: struct conn (~160 B), a registry entry
 * (~190 B) and an event slot (16 B) -- in .bss, so a slot never used costs
 * no resident memory.  max_connections (default WARD_DEFAULT_CONNS, SPEC
 * §1.1) admits up to this many.  Full: a new client gets "503" and is
 * closed; others are not disturbed.
 */
#ifndef WARD_MAX_CONNS
#define WARD_MAX_CONNS 16384
#endif
#ifndef WARD_DEFAULT_CONNS
#define WARD_DEFAULT_CONNS (WARD_MAX_CONNS < 1024 ? WARD_MAX_CONNS : 1024)
#endif

/* --- TLS (tls.c; issue 12) ---------------------------------------------- */

/*
 * TLS connection pool.  Cost per slot: the BearSSL server context (4.1 KiB
 * on 64-bit, ~3.8 KiB on 32-bit), the 16,709-byte input record buffer and
 * the WARD_TLS_OBUF_PLAIN + 85-byte output buffer, WARD_TLS_GATHER bytes
 * of small records going out: 23,264 B (22.7 KiB; 22,904 B on 32-bit), in
 * .bss, so a slot never used costs no resident memory.  A slot is held for
 * the whole life of a TLS connection (BearSSL cannot hand its buffers back
 * mid-connection).  Full: that one client is refused (tls_conn_take gives
 * NULL; conn.c closes it) while every other connection goes on.  Boards
 * set it with -D (a BeagleBone: 32 to 64).  Laptop default 1024: the issue
 * asks for 1,000 idle TLS connections measured; 1024 x 22.7 KiB = 23 MiB
 * of .bss, resident only for the slots ever used (a quiet server touches
 * a few).  tls_max_connections lowers it at start-up, never raises it.
 * Bounds 1..65535.
 */
#ifndef WARD_TLS_CONNS
#define WARD_TLS_CONNS 1024
#endif
#if WARD_TLS_CONNS < 1 || WARD_TLS_CONNS > 65535
#error "WARD_TLS_CONNS must be 1..65535"
#endif

/*
 * Largest plaintext per outgoing record.  The input side must take the
 * biggest record a client may send (16 KiB + 325: browsers do send full
 * records and none negotiates a smaller maximum), but the output side is
 * ours to choose: 2 KiB records cost 29 bytes of header, nonce and tag per
 * 2 KiB (1.4 %) and one AEAD call each, and save 14 KiB per connection.
 * Bounds 512..16384.
 */
#ifndef WARD_TLS_OBUF_PLAIN
#define WARD_TLS_OBUF_PLAIN 2048
#endif
#if WARD_TLS_OBUF_PLAIN < 512 || WARD_TLS_OBUF_PLAIN > 16384
#error "WARD_TLS_OBUF_PLAIN must be 512..16384"
#endif

/*
 * Session cache: BearSSL's LRU over a fixed buffer, 100 bytes an entry,
 * shared by all TLS connections.  A returning client within the last
 * WARD_TLS_SESSIONS distinct sessions resumes with an abbreviated
 * handshake (no signature, no ECDH).  Full: the least recently used
 * session is forgotten (that client does a full handshake).  Bounds
 * 0 (no cache) .. 1,000,000.
 */
#ifndef WARD_TLS_SESSIONS
#define WARD_TLS_SESSIONS 512
#endif
#if WARD_TLS_SESSIONS < 0 || WARD_TLS_SESSIONS > 1000000
#error "WARD_TLS_SESSIONS must be 0..1000000"
#endif

/*
 * Credentials, per slot (two slots: current and spare): the DER bytes of
 * the certificate chain and how many certificates; the PEM file read at
 * start-up or reload.  A longer chain or file is refused with a message.
 */
#ifndef WARD_TLS_CHAIN_BYTES
#define WARD_TLS_CHAIN_BYTES 12288
#endif
#ifndef WARD_TLS_CHAIN_CERTS
#define WARD_TLS_CHAIN_CERTS 6
#endif
#ifndef WARD_TLS_PEM_BYTES
#define WARD_TLS_PEM_BYTES 32768
#endif

/*
 * Random bytes for the TLS engines' generators (HMAC_DRBG state, 64 B per
 * connection), taken from the OS this many at a time: one getrandom per
 * 16 connections instead of one each, and no DRBG instantiation (about
 * 160,000 instructions of SHA-256 per connection with Debian's BearSSL)
 * nor BearSSL's own system seeder (a cpuid and rdrand, each a trap in a
 * virtual machine).  Used bytes are wiped at once.
 */
/*
 * Small records leave a TLS connection gathered: records of at most this
 * many bytes are copied into a per-connection buffer as the engine makes
 * them and go out in one send (BearSSL holds one record at a time).  A
 * resumed handshake's ServerHello, ChangeCipherSpec and Finished (~170 B)
 * leave in one send instead of three: each send on loopback costs ~6 % of
 * a resumed handshake's server CPU (perf).  Larger records are sent from
 * the engine's buffer.  Costs this many bytes per TLS connection.
 */
#ifndef WARD_TLS_GATHER
#define WARD_TLS_GATHER 256
#endif
#if WARD_TLS_GATHER < 64 || WARD_TLS_GATHER > 4096
#error "WARD_TLS_GATHER must be 64..4096"
#endif

#ifndef WARD_TLS_RAND_BYTES
#define WARD_TLS_RAND_BYTES 1024
#endif
#if WARD_TLS_RAND_BYTES < 64 || WARD_TLS_RAND_BYTES % 64 != 0
#error "WARD_TLS_RAND_BYTES must be a multiple of 64"
#endif

/* Listening sockets (plain and TLS).  Full: start-up error. */
#ifndef WARD_MAX_LISTENERS
#define WARD_MAX_LISTENERS 8
#endif

/*
 * I/O buffers: borrowed while bytes are in flight (a read being parsed, an
 * HTTP head not yet complete, a response or echo fragment being sent).  An
 * idle connection holds none.  Cost: count x WARD_IOBUF_SIZE.  Dry: reading
 * pauses (backpressure) until one is returned; nobody is failed.
 */
#ifndef WARD_IOBUF_SIZE
#define WARD_IOBUF_SIZE 16384
#endif
#ifndef WARD_IOBUF_COUNT
#define WARD_IOBUF_COUNT 256
#endif

/*
 * Small buffers for small outbound frames (control frames, short JSON
 * messages, error answers).  Dry: falls through to I/O buffers.
 */
#ifndef WARD_SMALLBUF_SIZE
#define WARD_SMALLBUF_SIZE 256
#endif
#ifndef WARD_SMALLBUF_COUNT
#define WARD_SMALLBUF_COUNT 4096
#endif

/*
 * Medium buffers for answers and frames of 256 B .. 2 KiB (most JSON
 * responses), so they do not pin a 16 KiB I/O buffer each.  Dry: falls
 * through to I/O buffers.
 */
#ifndef WARD_MEDBUF_SIZE
#define WARD_MEDBUF_SIZE 2048
#endif
#ifndef WARD_MEDBUF_COUNT
#define WARD_MEDBUF_COUNT (WARD_SMALLBUF_COUNT / 4)
#endif

/*
 * Output that makes no progress: a connection whose queued bytes have not
 * moved for STALL ms is dropped (a peer that stopped reading); while other
 * connections wait for a buffer, after PRESSURE ms already, so one group of
 * non-readers can never starve everyone else of the shared pools.
 */
#ifndef WARD_STALL_MS
#define WARD_STALL_MS 10000
#endif
#ifndef WARD_STALL_PRESSURE_MS
#define WARD_STALL_PRESSURE_MS 2000
#endif

/*
 * Big buffers: a WebSocket message being reassembled (max_message), an
 * HTTP request with a body (head + body), a large outbound frame.
 * Dry: reading pauses for connections that need one.
 */
#ifndef WARD_MAX_MESSAGE
#define WARD_MAX_MESSAGE 65536
#endif
#ifndef WARD_MAX_HEAD
#define WARD_MAX_HEAD 8192
#endif
#ifndef WARD_MAX_BODY
#define WARD_MAX_BODY 65536
#endif
#ifndef WARD_BIGBUF_COUNT
#define WARD_BIGBUF_COUNT 64
#endif

/* Static (read-only) buffers referencing const data, e.g. embedded pages. */
#ifndef WARD_EXTBUF_COUNT
#define WARD_EXTBUF_COUNT 256
#endif

/*
 * Outbound queue entries: one per (recipient, frame) pair waiting to be
 * written.  Cost: 8 B each.  Dry: the recipient that cannot be queued to is
 * closed with 1013 (it is the one not keeping up), or an HTTP request waits.
 */
#ifndef WARD_QENT_COUNT
#define WARD_QENT_COUNT 524288
#endif
/* Entries one WebSocket may have waiting; more: 1013 (slow consumer).
 * An eighth of the pool at most, so a few slow sockets cannot take it. */
#ifndef WARD_QCOUNT_BUDGET
#define WARD_QCOUNT_BUDGET (WARD_QENT_COUNT / 8 < 4096 ? \
	WARD_QENT_COUNT / 8 : 4096)
#endif

/*
 * Per-connection outbound budget.  Above HIGH a connection stops being
 * read (its own requests/echoes wait); above BUDGET a fan-out recipient is
 * closed with 1013.
 */
#ifndef WARD_OUT_HIGH
#define WARD_OUT_HIGH (256 * 1024)
#endif
#ifndef WARD_OUT_BUDGET
#define WARD_OUT_BUDGET (1024 * 1024)
#endif

/*
 * Queue entries per connection: above FLUSH the connection is written at
 * once (mid-turn) to return buffers to the pools; above HIGH it is not
 * read until they drain (a burst of pipelined requests or pings).
 */
#ifndef WARD_QCOUNT_FLUSH
#define WARD_QCOUNT_FLUSH 32
#endif
#ifndef WARD_QCOUNT_HIGH
#define WARD_QCOUNT_HIGH 256
#endif

/* HTTP header lines per request.  More: 431. */
#ifndef WARD_MAX_HEADERS
#define WARD_MAX_HEADERS 48
#endif

/* Request-line length.  More: 414. */
#ifndef WARD_MAX_REQLINE
#define WARD_MAX_REQLINE 4096
#endif

/* Timeouts in milliseconds (run-time configurable, these are defaults). */
#ifndef WARD_HANDSHAKE_TIMEOUT_MS
#define WARD_HANDSHAKE_TIMEOUT_MS 10000	/* head must arrive within */
#endif
#ifndef WARD_IDLE_TIMEOUT_MS
#define WARD_IDLE_TIMEOUT_MS 60000	/* idle keep-alive HTTP */
#endif
#ifndef WARD_CLOSE_TIMEOUT_MS
#define WARD_CLOSE_TIMEOUT_MS 2000	/* wait for the peer's close */
#endif
#ifndef WARD_SHUTDOWN_MS
#define WARD_SHUTDOWN_MS 4000	/* SIGTERM: exit within 5 s */
#endif

/*
 * Slow-loris policy (run-time: progress_timeout, progress_min_bytes).  A
 * request head or body still arriving, and an unfinished WebSocket
 * message, must bring at least MIN_BYTES in every PROGRESS_MS window (or
 * complete); else it is cut: 408 for a head, close 1008 for a message.
 * handshake_timeout still bounds a head's total time.
 */
#ifndef WARD_PROGRESS_MS
#define WARD_PROGRESS_MS 5000
#endif
#ifndef WARD_PROGRESS_MIN_BYTES
#define WARD_PROGRESS_MIN_BYTES 64
#endif

/*
 * Per-address caps (run-time: max_connections_per_ip, max_pending_per_ip;
 * 0 = no cap).  Beyond them a new connection from that address gets 503
 * and is closed; nobody else is touched.  Pending: connected, no complete
 * request yet.  The laptop leaves them off (a load generator or a NAT'd
 * test rig is one address); boards set them (boards/<name>.mk).  Checked
 * by a scan of the open connections, only when set.
 */
#ifndef WARD_CONNS_PER_IP
#define WARD_CONNS_PER_IP 0
#endif
#ifndef WARD_PENDING_PER_IP
#define WARD_PENDING_PER_IP 0
#endif

/*
 * A pool class ran dry while connections wait for it: each tick, up to
 * EVICT_MAX holders of that class that made no progress for EVICT_IDLE_MS
 * are cut, the one holding most first (a partial head gets 408, an
 * unfinished message 1008, a non-reader 1013) -- never the waiter.
 */
#ifndef WARD_EVICT_IDLE_MS
#define WARD_EVICT_IDLE_MS 1000
#endif
#ifndef WARD_EVICT_MAX
#define WARD_EVICT_MAX 4
#endif

/*
 * I/O and big buffers one WebSocket may pin in its outbound queue (a
 * 2.1 KB frame pins a whole 16 KiB buffer): an eighth of the I/O pool, at
 * least 2 (twice that while its socket took bytes in the last two
 * ticks: a reader that lags, not one that refuses).  More: the queue is
 * cut at a frame boundary and 1013 is sent.
 * The byte budget (WARD_OUT_BUDGET) counts the capacity of the buffers
 * pinned, not the bytes in them.
 */
#ifndef WARD_CONN_HEAVY_MAX
#define WARD_CONN_HEAVY_MAX (WARD_IOBUF_COUNT / 8 > 2 ? WARD_IOBUF_COUNT / 8 : 2)
#endif

/* Timer sweep period (ms).  Timeouts are precise to this. */
#ifndef WARD_TICK_MS
#define WARD_TICK_MS 100
#endif

/* Registry / service limits used by later modules. */
#ifndef WARD_MAX_ROOMS
#define WARD_MAX_ROOMS 256
#endif
#ifndef WARD_ROOM_PEERS
#define WARD_ROOM_PEERS 16
#endif
/* With Redis: call peers on other instances remembered (12 B each), so a
 * welcome lists them and room full counts them: every room full of remote
 * peers.  Full: a peer is not remembered (not in later welcomes, not
 * counted for room full; its instance's roster answer still tells it). */
#ifndef WARD_CALL_FAR
#define WARD_CALL_FAR (WARD_MAX_ROOMS * WARD_ROOM_PEERS)
#endif
/* With Redis: members of the unified endpoint's two-person rooms on
 * other instances remembered (178 B each: their user id and name), so
 * its join notice lists them: two per room.  Full: not remembered (not
 * in later join notices; their instance's roster answer still tells a
 * newcomer). */
#ifndef WARD_TM_FAR
#define WARD_TM_FAR (WARD_MAX_ROOMS * 2)
#endif

/* Deliveries queued from one connection's input that make the loop read
 * it again (zero wait) before flushing: fan-out coalescing. */
#ifndef WARD_COALESCE_MIN
#define WARD_COALESCE_MIN 64
#endif
/* Connections read again in one turn (conn.c): past it, the others wait
 * for the next poll.  Cost: 4 bytes each. */
#ifndef WARD_HOT_MAX
#define WARD_HOT_MAX 64
#endif

/* Groups (fanout.c): rooms, subscriber sets, channels, all kinds
 * together.  Cost: fanout_bytes() each (--print-limits "groups"); full: a
 * join answers "no room left" (the socket stays, outside the group). */
#ifndef WARD_MAX_GROUPS
#define WARD_MAX_GROUPS (WARD_MAX_ROOMS * 4)
#endif

/* A bearer token's longest text (auth.c): longer ones are refused
 * (AUTH_E_TOO_LONG) before anything is decoded.  Cost: about 2 x 3/4 of
 * it in static scratch, and a copy of the query's. */
#ifndef AUTH_TOKEN_MAX
#define AUTH_TOKEN_MAX 4096
#endif

/* Group kinds the families declare (fanout.c): a pointer each. */
#ifndef WARD_GROUP_KINDS
#define WARD_GROUP_KINDS 32
#endif

/* Families with journal records (journal.c): a pointer each. */
#ifndef WARD_JOURNAL_FAMILIES
#define WARD_JOURNAL_FAMILIES 8
#endif

/* The application's tables (src/svc/), each with its --print-limits row.
 * Doctor records (doctors.c): full, a new doctor answers 503.  Answers
 * kept for Idempotency-Key retries (common.c), 5 minutes each: full, the
 * oldest is forgotten (a late retry is done again).  The audit file
 * (audit.c) turns over to audit.log.1 past WARD_AUDIT_MAX bytes. */
#ifndef WARD_DOCTORS
#define WARD_DOCTORS (WARD_MAX_CONNS <= 1024 ? 64 : 512)
#endif
#ifndef WARD_IDEM
#define WARD_IDEM (WARD_MAX_CONNS <= 1024 ? 32 : 256)
#endif
#ifndef WARD_AUDIT_MAX
#define WARD_AUDIT_MAX (256 * 1024)
#endif

/* Diagnoses (diagnosis.c): registered ids and owners; full, a new one
 * answers 503.  Their offline queue: a mailbox of WARD_DIAG_QUEUE frames
 * in all, at most WARD_DIAG_PER a diagnosis, the oldest dropped and
 * counted (the next welcome says how many). */
#ifndef WARD_DIAGNOSES
#define WARD_DIAGNOSES (WARD_MAX_CONNS <= 1024 ? 64 : 1024)
#endif
#ifndef WARD_DIAG_QUEUE
#define WARD_DIAG_QUEUE (WARD_MAX_CONNS <= 1024 ? 32 : 512)
#endif
#ifndef WARD_DIAG_PER
#define WARD_DIAG_PER 100
#endif

/* Notifications queued for users with no open connection (SPEC §3): a
 * fixed arena of frames, at most WARD_NOTIF_PER_USER per user. */
#ifndef WARD_NOTIF_QUEUE
#define WARD_NOTIF_QUEUE (WARD_MAX_CONNS <= 1024 ? 32 : 256)
#endif
#ifndef WARD_NOTIF_PER_USER
#define WARD_NOTIF_PER_USER 100
#endif
#ifndef WARD_NOTIF_FRAME
#define WARD_NOTIF_FRAME 4096
#endif

/* Mailboxes (mailbox.c): offline queues of whole frames in fixed arenas,
 * keyed by a short string.  A message is at most WARD_MBOX_DATA bytes
 * (a frame with its header: one journal record must hold it), a key at
 * most WARD_MBOX_KEY bytes (a user id, a decimal channel id). */
#ifndef WARD_MBOX_DATA
#define WARD_MBOX_DATA 4096
#endif
#if WARD_NOTIF_FRAME > WARD_MBOX_DATA
#error "a queued frame (WARD_NOTIF_FRAME) must fit a mailbox message"
#endif
#ifndef WARD_MBOX_KEY
#define WARD_MBOX_KEY 64
#endif

/* Services a config may declare for the unified /ws (service.<name>.*). */
#ifndef WARD_MAX_SERVICES
#define WARD_MAX_SERVICES 8
#endif

/* Writev batch per flush. */
#ifndef WARD_IOV_MAX
#define WARD_IOV_MAX 64
#endif

/* jsmn tokens per JSON document. */
#ifndef WARD_JSON_TOKENS
#define WARD_JSON_TOKENS 512
#endif

#if WARD_MAX_CONNS < 4 || WARD_MAX_CONNS > 1000000
#error "WARD_MAX_CONNS out of range (4..1000000)"
#endif
#if WARD_IOBUF_SIZE < 4096
#error "WARD_IOBUF_SIZE must be at least 4096"
#endif
#if WARD_MAX_MESSAGE < 125 || WARD_MAX_MESSAGE > (64 * 1024 * 1024)
#error "WARD_MAX_MESSAGE out of range"
#endif
#if WARD_IOBUF_COUNT < 4 || WARD_BIGBUF_COUNT < 1 || WARD_SMALLBUF_COUNT < 4
#error "buffer pools too small"
#endif
_Static_assert(WARD_MAX_HEAD + 16 <= WARD_IOBUF_SIZE,
    "an HTTP head must fit one I/O buffer");
_Static_assert(WARD_MAX_REQLINE < WARD_MAX_HEAD, "request line inside head");
_Static_assert(WARD_OUT_HIGH < WARD_OUT_BUDGET, "watermarks ordered");
_Static_assert(WARD_MEDBUF_COUNT >= 1, "at least one medium buffer");
_Static_assert(WARD_SMALLBUF_SIZE >= 136, "a close frame fits a small buffer");

/* The big buffer class holds a whole message or a whole request. */
#define WARD_BIG_PAYLOAD (WARD_MAX_MESSAGE > WARD_MAX_HEAD + WARD_MAX_BODY ? \
    WARD_MAX_MESSAGE : WARD_MAX_HEAD + WARD_MAX_BODY)
#define WARD_BIGBUF_SIZE (WARD_BIG_PAYLOAD + 64)

/*
 * Spare connection slots, beyond max_connections, used only to answer
 * "503 server full" cleanly (queue, half-close, drain) instead of a reset.
 */
#ifndef WARD_SPARE_CONNS
#define WARD_SPARE_CONNS 8
#endif
#define WARD_CONN_SLOTS (WARD_MAX_CONNS + WARD_SPARE_CONNS)

/* Event slots the port layer must hold: connections + listeners + spare.
 * Tokens: [0, WARD_CONN_SLOTS) connections, then listeners. */
#define WARD_EV_SLOTS (WARD_CONN_SLOTS + WARD_MAX_LISTENERS + 8)

/*
 * The families' tables (router.c, registry.c): routes and socket types
 * declared at start-up.  Cost: a pointer per route, a pointer and a
 * count per type.  Declaring more is a start-up error naming the limit,
 * never a route silently dropped.
 */
#ifndef WARD_MAX_ROUTES
#define WARD_MAX_ROUTES 128
#endif
#ifndef WARD_SOCK_TYPES
#define WARD_SOCK_TYPES 32
#endif
#if WARD_SOCK_TYPES < 1 || WARD_SOCK_TYPES > 255
#error "WARD_SOCK_TYPES out of range (1..255; a type is one byte)"
#endif

/*
 * The registry's user index (admin send to a user): hash buckets of
 * socket chains, a power of two.  Cost: 4 bytes a bucket; fewer buckets
 * only lengthen the chains walked (sockets of users sharing a bucket).
 */
#ifndef WARD_USER_BUCKETS
#define WARD_USER_BUCKETS (WARD_CONN_SLOTS >= 8192 ? 4096 : 256)
#endif
_Static_assert((WARD_USER_BUCKETS & (WARD_USER_BUCKETS - 1)) == 0,
    "WARD_USER_BUCKETS is a power of two");

/*
 * Rate limit of the lines that a client can cause: connection open/close
 * and token refusals (log.c, a token bucket for each).  WARD_LOG_BURST
 * lines at once, then WARD_LOG_RATE per second; the rest are counted and
 * reported as "log_suppressed what=conn|auth lines=N" when lines flow
 * again, so a flood of connections cannot fill a board's flash.  Cost: a
 * few words, and 4 bytes per connection slot (the open time).
 */
#ifndef WARD_LOG_RATE
#define WARD_LOG_RATE 20
#endif
#ifndef WARD_LOG_BURST
#define WARD_LOG_BURST 100
#endif
#if WARD_LOG_RATE < 1 || WARD_LOG_BURST < 1
#error "WARD_LOG_RATE and WARD_LOG_BURST must be at least 1"
#endif

/*
 * The Redis client (src/redis.c, issue 14; docs/redis.md): each with what
 * it costs and what hitting it does.  Only with `redis` configured are the
 * links used; the buffers are static either way.
 */

/* Largest bulk string (or simple string line) the parser accepts.  A
 * fan-out frame travels as one bulk, so this bounds a replicated frame;
 * ward's own frames are below 64 KiB.  A larger one is a protocol error
 * that resets the link (it cannot be skipped without reading it). */
#ifndef WARD_REDIS_MAX_BULK
#define WARD_REDIS_MAX_BULK 65536
#endif
/* Nesting depth of arrays in one reply (pub/sub and every command ward
 * sends need 1; 8 leaves room for EXEC of a nested reply).  Deeper is a
 * protocol error (reset). */
#ifndef WARD_REDIS_MAX_DEPTH
#define WARD_REDIS_MAX_DEPTH 8
#endif
/* Largest array count the parser accepts (LRANGE of a 100-entry queue
 * is 100).  Larger is a protocol error (reset). */
#ifndef WARD_REDIS_MAX_ARRAY
#define WARD_REDIS_MAX_ARRAY 65536
#endif
/* One assembled reply: elements (pre-order) and payload bytes, per link.
 * A reply that does not fit reaches its callback as an error element
 * ("ERR ward: reply too large"); the link stays in sync. */
#ifndef WARD_REDIS_REPLY_ELEMS
#define WARD_REDIS_REPLY_ELEMS 256
#endif
#ifndef WARD_REDIS_REPLY_BYTES
#define WARD_REDIS_REPLY_BYTES (WARD_REDIS_MAX_BULK + 1024)
#endif
/* Receive scratch per link (one recv; the parser consumes it whole). */
#ifndef WARD_REDIS_RXBUF
#define WARD_REDIS_RXBUF 16384
#endif
/* Command link output: encoded commands not yet written.  Holds 1,000
 * pipelined small commands or one largest frame PUBLISH.  Full: the
 * command is refused (WARD_ENOMEM) and the caller counts it. */
#ifndef WARD_REDIS_TXBUF
#define WARD_REDIS_TXBUF (2 * WARD_REDIS_MAX_BULK)
#endif
/* Subscribe link output: AUTH, PING and every (P)SUBSCRIBE at once
 * (each at most NAME_MAX + 32 bytes encoded). */
#ifndef WARD_REDIS_SUB_TXBUF
#define WARD_REDIS_SUB_TXBUF \
	(WARD_REDIS_MAX_SUBS * (WARD_REDIS_NAME_MAX + 32) + 512)
#endif
/* Replies awaited on the command link (the pipelining ring).  Full: the
 * command is refused (WARD_ENOMEM). */
#ifndef WARD_REDIS_PENDING
#define WARD_REDIS_PENDING 1024
#endif
/* Channels plus patterns subscribed, and the longest name. */
#ifndef WARD_REDIS_MAX_SUBS
#define WARD_REDIS_MAX_SUBS 32
#endif
#ifndef WARD_REDIS_NAME_MAX
#define WARD_REDIS_NAME_MAX 96
#endif
/* Reconnect: full jitter, delay = random in [0, min(MAX, MIN * 2^n)]. */
#ifndef WARD_REDIS_BACKOFF_MIN_MS
#define WARD_REDIS_BACKOFF_MIN_MS 100
#endif
#ifndef WARD_REDIS_BACKOFF_MAX_MS
#define WARD_REDIS_BACKOFF_MAX_MS 5000
#endif
/* Connect + AUTH + first PONG must finish within this. */
#ifndef WARD_REDIS_CONNECT_MS
#define WARD_REDIS_CONNECT_MS 2000
#endif
/* An idle link sends PING this often; a link that heard nothing for
 * DEAD_MS is declared down (a silent partition, not only RST/EOF). */
#ifndef WARD_REDIS_PING_MS
#define WARD_REDIS_PING_MS 1000
#endif
#ifndef WARD_REDIS_DEAD_MS
#define WARD_REDIS_DEAD_MS 3500
#endif
/* Event tokens: two after the listeners (WARD_EV_SLOTS keeps 8 spare). */
#ifndef WARD_REDIS_TOKEN
#define WARD_REDIS_TOKEN (WARD_CONN_SLOTS + WARD_MAX_LISTENERS)
#endif

/* Cluster-wide counts (src/bus.c): each instance writes its socket counts
 * to Redis this often, with this expiry; an instance killed with kill -9
 * drops out of the totals within the expiry. */
#ifndef WARD_BUS_COUNT_MS
#define WARD_BUS_COUNT_MS 1000
#endif
#ifndef WARD_BUS_COUNT_TTL_MS
#define WARD_BUS_COUNT_TTL_MS 3000
#endif
/* Groups of a counted kind (a family asks with bus_count_kind: per-group
 * socket counts for its status endpoint)
 * each instance writes with its counts, and the cluster's groups the
 * reader keeps (72 B each); above: left out (that instance's figure, or
 * the cluster's listing, is short; the totals of the socket types stay
 * whole).  One instance's value is at most WARD_BUS_COUNT_BYTES, and the
 * whole hash must fit one reply (WARD_REDIS_REPLY_BYTES): at least
 * WARD_BUS_INSTANCES / 4 instances with full values.  WARD_BUS_INSTANCES
 * live instances' tags are remembered for direct sends (a tag past them
 * is treated as not live: its direct sends are refused). */
#ifndef WARD_BUS_COUNT_GROUPS
#define WARD_BUS_COUNT_GROUPS 128
#endif
#ifndef WARD_BUS_COUNT_BYTES
#define WARD_BUS_COUNT_BYTES 2048
#endif
#ifndef WARD_BUS_INSTANCES
#define WARD_BUS_INSTANCES 64
#endif
#if WARD_BUS_COUNT_BYTES < 512
#error "WARD_BUS_COUNT_BYTES must hold every socket type's count"
#endif
_Static_assert(WARD_BUS_COUNT_BYTES * (WARD_BUS_INSTANCES / 4) <=
    WARD_REDIS_REPLY_BYTES, "a counts hash of WARD_BUS_INSTANCES / 4 "
    "full values must fit one reply");

/* Shared offline queues (src/svc/squeue.c): an instance's presence set
 * in Redis is refreshed every WARD_BUS_COUNT_MS and expires after
 * WARD_BUS_COUNT_TTL_MS (a killed instance stops taking messages within
 * it); WARD_SQUEUE_DRAINS collections may be in flight at once (one per
 * opening socket, 40 B each; none free: the list waits for the next
 * open, the presence is written anyway).  A list holds the family's own
 * per-key limit (WARD_DIAG_PER, WARD_NOTIF_PER_USER). */
#ifndef WARD_SQUEUE_DRAINS
#define WARD_SQUEUE_DRAINS 64
#endif

/* Shared records (src/svc/rstate.c: diagnosis registrations, doctor
 * records).  WARD_RSTATE_PUSHES writes to Redis in flight at once (56 B
 * each; none free: the rest wait for the next tick; after a reconnect
 * every record is written again, idempotently, this many at a time so
 * the command ring, WARD_REDIS_PENDING, keeps room for the fan-out);
 * WARD_RSTATE_VALUE the largest record as text (a doctor record is at
 * most about 2 KiB escaped; above: not replicated, logged);
 * WARD_RSTATE_KEY the longest key (a doctor id is 64 bytes);
 * WARD_RSTATE_TOMB_MS how long a delete is remembered, here and in
 * Redis, so a late write of an older version cannot bring the record
 * back (1 day; a tombstone holds a table slot until then, or until the
 * table needs the slot for a new record). */
#ifndef WARD_RSTATE_PUSHES
#define WARD_RSTATE_PUSHES 32
#endif
#ifndef WARD_RSTATE_VALUE
#define WARD_RSTATE_VALUE 4096
#endif
#ifndef WARD_RSTATE_KEY
#define WARD_RSTATE_KEY 64
#endif
#ifndef WARD_RSTATE_TOMB_MS
#define WARD_RSTATE_TOMB_MS (24LL * 3600 * 1000)
#endif
#if WARD_RSTATE_PUSHES < 1 || WARD_RSTATE_PUSHES > WARD_REDIS_PENDING / 4
#error "WARD_RSTATE_PUSHES must be 1 .. WARD_REDIS_PENDING / 4"
#endif
_Static_assert(WARD_RSTATE_VALUE + 256 < WARD_REDIS_REPLY_BYTES,
    "one record must fit a Redis reply");

#endif
