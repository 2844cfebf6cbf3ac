/*
 * pools.h - every static pool of the core, one line each, in the manner of
 * lwIP's memp_std.h: WARD_POOL(name, count, bytes each, what).  The
 * counts are config.h's limits (or what the module reports of them);
 * an includer defines WARD_POOL, includes this file, and gets one
 * expansion per pool (main.c: the --print-limits rows, with bs the
 * buffer pools' buf_stats()).  The families declare their own pools in
 * their own files (struct family .pools).  No include guard: the list is
 * meant to be expanded more than once.
 */
WARD_POOL(connections, WARD_CONN_SLOTS,
    sizeof(struct conn) + 3 * sizeof(uint32_t),
    "per-connection state (incl. spare slots)")
WARD_POOL(registry, WARD_CONN_SLOTS, sizeof(struct reg_entry),
    "socket registry, one per slot")
WARD_POOL(profiles, WARD_CONN_SLOTS, sizeof(struct reg_profile),
    "who is behind a socket (touched only when known)")
WARD_POOL(reg_index, WARD_CONN_SLOTS, reg_index_bytes(),
    "the registry's type and user indexes, a link set per slot")
WARD_POOL(user_buckets, WARD_USER_BUCKETS, sizeof(uint32_t),
    "the user index's hash buckets")
WARD_POOL(event_slots, WARD_EV_SLOTS, 16, "poll()/epoll registrations")
WARD_POOL(groups, WARD_MAX_GROUPS, fanout_bytes(),
    "rooms, subscriber sets, channels")
WARD_POOL(buf_small, bs.cap[BUF_SMALL], bs.size[BUF_SMALL],
    "small outbound frames")
WARD_POOL(buf_medium, bs.cap[BUF_MED], bs.size[BUF_MED],
    "answers and frames up to 2 KiB")
WARD_POOL(buf_io, bs.cap[BUF_IO], bs.size[BUF_IO],
    "reads in flight, heads, responses")
WARD_POOL(buf_big, bs.cap[BUF_BIG], bs.size[BUF_BIG],
    "reassembled messages, request bodies")
WARD_POOL(buf_headers, bs.cap[BUF_SMALL] + bs.cap[BUF_MED] +
    bs.cap[BUF_IO] + bs.cap[BUF_BIG] + bs.cap[BUF_EXT] + 1, buf_desc_bytes(),
    "buffer descriptors (incl. static refs)")
WARD_POOL(queue_entries, WARD_QENT_COUNT, 8,
    "outbound (recipient, frame) references")
WARD_POOL(json_tokens, WARD_JSON_TOKENS, json_tok_bytes(),
    "JSON tokens (one document at a time)")
WARD_POOL(routes, WARD_MAX_ROUTES + 1, sizeof(void *),
    "the families' routes, in matching order")
WARD_POOL(redis_out, 1, WARD_REDIS_TXBUF + WARD_REDIS_SUB_TXBUF,
    "Redis command and subscribe link output")
WARD_POOL(redis_replies, 2, WARD_REDIS_REPLY_BYTES +
    WARD_REDIS_REPLY_ELEMS * sizeof(struct redis_elem),
    "one assembled Redis reply per link")
WARD_POOL(redis_rx, 1, WARD_REDIS_RXBUF, "one Redis recv")
WARD_POOL(redis_pending, WARD_REDIS_PENDING, 2 * sizeof(void *),
    "Redis replies in flight (pipelining ring)")
WARD_POOL(redis_bus, 1, bus_bytes(),
    "the bus: the message being published, the cluster counts")
WARD_POOL(tls_connections, WARD_TLS_CONNS, tls_conn_bytes(),
    "TLS: engine, 16.3 KiB record in, 2 KiB out (tls_max_connections)")
WARD_POOL(tls_sessions, WARD_TLS_SESSIONS, WARD_TLS_SESSIONS > 0 ?
    tls_cache_bytes() / WARD_TLS_SESSIONS : 0,
    "TLS session cache (resumption), LRU")
WARD_POOL(tls_credentials, 2, tls_creds_bytes() / 2,
    "TLS certificate chain and key: current and spare (reload)")
