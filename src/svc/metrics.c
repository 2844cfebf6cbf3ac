/*
 * metrics.c - GET /metrics: Prometheus text exposition format 0.0.4
 * (SPEC §7): connections by type, messages and bytes, handshakes and
 * their failures by reason, refused tokens by reason, closes by code,
 * queues (incl. the offline queues' depths), drops, every pool against its
 * capacity, Redis state.
 *
 * Anonymous like /health (no names, no ids, no tokens in it); under
 * require_auth = all it needs a valid token like everything else.  The
 * text is written into one static scratch buffer and answered in one
 * response; the metric set is fixed, so its size is bounded.
 */
#include <stdio.h>

#include "svc.h"
#include "../redis.h"
#include "../auth.h"
#include "../tls.h"

/* # HELP and # TYPE lines of one metric family. */
static void
family(struct tbuf *o, const char *name, const char *type, const char *help)
{
	svc_tb_put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(struct tbuf *o, const char *name, const char *type, const char *help,
    unsigned long long v)
{
	family(o, name, type, help);
	svc_tb_put(o, "%s %llu\n", name, v);
}

/* TLS listeners: handshakes, resumptions, refusals, failures by reason,
 * the credentials in use. */
static void
tls_metrics(struct tbuf *o)
{
	static const char *const why[] = {
		[TLSF_NOT_TLS] = "not_tls", [TLSF_ALERT] = "peer_alert",
		[TLSF_PROTOCOL] = "protocol", [TLSF_CLOSED] = "closed",
		[TLSF_TIMEOUT] = "timeout",
	};

	one(o, "ward_tls_handshakes_total", "counter",
	    "TLS handshakes completed (resumed ones included).",
	    (unsigned long long)stats.tls_handshakes);
	one(o, "ward_tls_resumed_total", "counter",
	    "TLS handshakes resumed from the session cache.",
	    (unsigned long long)stats.tls_resumed);
	one(o, "ward_tls_refused_total", "counter",
	    "TLS clients closed at accept: the TLS pool was full.",
	    (unsigned long long)stats.tls_refused);
	family(o, "ward_tls_handshake_failures_total", "counter",
	    "TLS handshakes that did not complete, by reason.");
	for (size_t i = 0; i < ARRAY_LEN(why); i++)
		svc_tb_put(o, "ward_tls_handshake_failures_total{reason=\"%s\"} "
		    "%llu\n", why[i], (unsigned long long)stats.tls_fail[i]);
	one(o, "ward_tls_credentials_generation", "gauge",
	    "Certificate loads (1 at start, +1 per reload); 0: no TLS.",
	    tls_creds_generation());
	one(o, "ward_tls_certificate_not_after_seconds", "gauge",
	    "The current certificate's notAfter, Unix seconds.",
	    tls_creds_ready() ? (unsigned long long)
	    (tls_creds_not_after_us() / 1000000) : 0);
}

static void
pools(struct tbuf *o)
{
	static const char *const names[BUF_NCLASS] = {
		[BUF_SMALL] = "buf_small", [BUF_IO] = "buf_io",
		[BUF_BIG] = "buf_big", [BUF_EXT] = "buf_ext",
		[BUF_MED] = "buf_medium",
	};
	struct buf_stats bs;
	struct conn_qstats q;

	buf_stats(&bs);
	conn_queue_stats(&q);
	family(o, "ward_pool_used", "gauge", "Pool entries in use.");
	svc_tb_put(o, "ward_pool_used{pool=\"connections\"} %u\n",
	    conn_active());
	svc_tb_put(o, "ward_pool_used{pool=\"queue_entries\"} %u\n", q.entries);
	svc_tb_put(o, "ward_pool_used{pool=\"groups\"} %u\n", fanout_count());
	svc_tb_put(o, "ward_pool_used{pool=\"tls_connections\"} %u\n",
	    tls_conn_used());
	for (int i = 0; i < BUF_NCLASS; i++)
		if (names[i] != NULL)
			svc_tb_put(o, "ward_pool_used{pool=\"%s\"} %llu\n",
			    names[i],
			    (unsigned long long)bs.used[i]);
	family(o, "ward_pool_capacity", "gauge", "Pool size, fixed at start.");
	svc_tb_put(o, "ward_pool_capacity{pool=\"connections\"} %u\n",
	    (unsigned)WARD_CONN_SLOTS);
	svc_tb_put(o, "ward_pool_capacity{pool=\"queue_entries\"} %u\n",
	    q.capacity);
	svc_tb_put(o, "ward_pool_capacity{pool=\"groups\"} %u\n",
	    (unsigned)WARD_MAX_GROUPS);
	svc_tb_put(o, "ward_pool_capacity{pool=\"tls_connections\"} %d\n",
	    cfg.tls_max_conns);
	for (int i = 0; i < BUF_NCLASS; i++)
		if (names[i] != NULL)
			svc_tb_put(o, "ward_pool_capacity{pool=\"%s\"} %llu\n",
			    names[i], (unsigned long long)bs.cap[i]);
	family(o, "ward_pool_peak", "gauge",
	    "Most entries of a pool in use at once since start.");
	svc_tb_put(o, "ward_pool_peak{pool=\"tls_connections\"} %u\n",
	    tls_conn_peak());
	for (int i = 0; i < BUF_NCLASS; i++)
		if (names[i] != NULL)
			svc_tb_put(o, "ward_pool_peak{pool=\"%s\"} %llu\n",
			    names[i],
			    (unsigned long long)bs.peak[i]);
	one(o, "ward_pool_failures_total", "counter",
	    "Buffer requests that found their pool empty.",
	    (unsigned long long)bs.fails);
	one(o, "ward_queue_bytes", "gauge",
	    "Bytes queued for clients, not yet written.",
	    (unsigned long long)q.bytes);
	one(o, "ward_queue_max_bytes", "gauge",
	    "The longest single connection queue, bytes.",
	    (unsigned long long)q.max_bytes);
	one(o, "ward_queue_blocked_connections", "gauge",
	    "Connections whose socket is full (waiting to write).",
	    (unsigned long long)q.waiting);
}

/* Refused tokens by reason code (auth_reason), and the persisted
 * offline queues' depths. */
static void
auth_failures(struct tbuf *o)
{
	const char *why;
	uint64_t n;

	family(o, "ward_auth_failures_total", "counter",
	    "Tokens refused, by reason.");
	for (size_t i = 0; (why = auth_refusal_count(i, &n)) != NULL; i++)
		svc_tb_put(o, "ward_auth_failures_total{reason=\"%s\"} %llu\n",
		    why, (unsigned long long)n);
	family(o, "ward_queue_depth", "gauge",
	    "Messages waiting in a persisted offline queue.");
	svc_tb_put(o, "ward_queue_depth{queue=\"diagnosis\"} %u\n",
	    diag_queue_depth());
	svc_tb_put(o, "ward_queue_depth{queue=\"notification\"} %u\n",
	    notify_queue_depth());
}

static void
abuse(struct tbuf *o)
{
	static const char *const why[CUT_NREASONS] = {
		[CUT_HEAD_TIMEOUT] = "head_timeout",
		[CUT_HEAD_SLOW] = "head_slow",
		[CUT_MSG_SLOW] = "message_slow",
		[CUT_SLOW_CONSUMER] = "slow_consumer",
		[CUT_STALLED] = "stalled",
		[CUT_EVICT_HEAD] = "evicted_head",
		[CUT_EVICT_MESSAGE] = "evicted_message",
		[CUT_EVICT_QUEUE] = "evicted_queue",
		[CUT_PER_IP] = "per_ip",
		[CUT_PENDING_IP] = "pending_per_ip",
	};

	family(o, "ward_cuts_total", "counter",
	    "Connections cut by the abuse policy, by reason.");
	for (int i = 0; i < CUT_NREASONS; i++)
		svc_tb_put(o, "ward_cuts_total{reason=\"%s\"} %llu\n", why[i],
		    (unsigned long long)stats.cuts[i]);
	one(o, "ward_loop_spins_total", "counter",
	    "Loop turns that waited 0 ms and found nothing to do.",
	    (unsigned long long)stats.loop_spins);
	one(o, "ward_loop_zero_waits_total", "counter",
	    "Loop turns that waited 0 ms (buffers came back, a tick due).",
	    (unsigned long long)stats.loop_zero_waits);
	family(o, "ward_pool_reserve", "gauge",
	    "Buffers of a class kept for complete work (answers, frames).");
	svc_tb_put(o, "ward_pool_reserve{pool=\"buf_io\"} %u\n",
	    buf_reserve(BUF_IO));
	svc_tb_put(o, "ward_pool_reserve{pool=\"buf_big\"} %u\n",
	    buf_reserve(BUF_BIG));
}

/* The Redis client and the bus (docs/redis.md). */
static void
redis_rows(struct tbuf *o)
{
	struct redis_stats rs;
	struct bus_stats b;

	redis_stats(&rs);
	bus_stats(&b);
	one(o, "ward_redis_connected", "gauge",
	    "1 while the Redis link is up (multi-instance fan-out).",
	    b.up ? 1 : 0);
	one(o, "ward_redis_reconnects_total", "counter",
	    "Connect attempts after the first.",
	    (unsigned long long)rs.reconnects);
	one(o, "ward_redis_downs_total", "counter",
	    "Times the Redis client went down.", (unsigned long long)rs.downs);
	one(o, "ward_redis_published_total", "counter",
	    "Fan-outs published to the other instances.",
	    (unsigned long long)b.published);
	one(o, "ward_redis_not_replicated_total", "counter",
	    "Fan-outs delivered here only (Redis down or message too large).",
	    (unsigned long long)b.not_replicated);
	one(o, "ward_redis_received_total", "counter",
	    "Fan-outs received from other instances.",
	    (unsigned long long)b.received);
	one(o, "ward_redis_deliveries_total", "counter",
	    "Local sockets reached by fan-outs from other instances.",
	    (unsigned long long)b.deliveries);
	one(o, "ward_redis_seq_gaps_total", "counter",
	    "Bus messages whose publisher sequence skipped (lost upstream).",
	    (unsigned long long)b.seq_gaps);
	one(o, "ward_redis_malformed_total", "counter",
	    "Bus messages dropped: bad channel or header.",
	    (unsigned long long)b.malformed);
	one(o, "ward_redis_direct_sent_total", "counter",
	    "Direct sends (one socket) published to another instance.",
	    (unsigned long long)b.direct_sent);
	one(o, "ward_redis_direct_unknown_total", "counter",
	    "Direct sends from other instances for no socket here.",
	    (unsigned long long)b.direct_unknown);
	one(o, "ward_redis_direct_unheard_total", "counter",
	    "Direct sends no instance was subscribed for (it died).",
	    (unsigned long long)b.direct_unheard);
	one(o, "ward_redis_commands_failed_total", "counter",
	    "Redis commands refused or lost with a link.",
	    (unsigned long long)(rs.refused + rs.failed));
	one(o, "ward_redis_state_refused_total", "counter",
	    "Shared records from Redis refused: the local table is full.",
	    (unsigned long long)rstate_refused());
}

static void
write_metrics(struct tbuf *o)
{
	static const char *const hsf[] = {
		[HSF_REQUEST] = "bad_request", [HSF_VERSION] = "version",
		[HSF_KEY] = "bad_key", [HSF_ORIGIN] = "origin",
		[HSF_AUTH] = "refused", [HSF_WRITE] = "write",
	};
	static const unsigned codes[] = { 1000, 1001, 1002, 1003, 1007, 1008,
	    1009, 1010, 1011, 1012, 1013, 1014 };
	uint32_t ws = 0;

	one(o, "ward_up", "gauge", "1 while the server runs.", 1);
	family(o, "ward_build_info", "gauge", "Version and event backend.");
	svc_tb_put(o, "ward_build_info{version=\"%s\",backend=\"%s\"} 1\n",
	    WARD_VERSION, port_ev_backend());
	one(o, "ward_uptime_seconds", "gauge", "Seconds since the loop began.",
	    (unsigned long long)((port_now_us() - loop_started_us()) /
	    1000000));
	one(o, "ward_draining", "gauge", "1 after SIGTERM, while draining.",
	    loop_draining ? 1 : 0);

	family(o, "ward_connections", "gauge",
	    "Open connections by type (http: not upgraded).");
	for (int t = REG_TYPE_NONE + 1; t <= reg_type_count(); t++) {
		uint32_t n = reg_count(t);

		ws += n;
		svc_tb_put(o, "ward_connections{type=\"%s\"} %u\n",
		    reg_type_name(t),
		    n);
	}
	svc_tb_put(o, "ward_connections{type=\"http\"} %u\n",
	    conn_admitted() > ws ? conn_admitted() - ws : 0);
	one(o, "ward_connections_max", "gauge",
	    "max_connections: connections admitted at most.",
	    (unsigned long long)cfg.max_connections);

	one(o, "ward_accepted_total", "counter", "TCP connections accepted.",
	    (unsigned long long)stats.accepted);
	one(o, "ward_refused_total", "counter",
	    "Connections refused with 503 (server full).",
	    (unsigned long long)stats.refused_full);
	one(o, "ward_http_requests_total", "counter", "HTTP requests.",
	    (unsigned long long)stats.http_requests);
	one(o, "ward_http_errors_total", "counter",
	    "HTTP requests answered 4xx or 5xx.",
	    (unsigned long long)stats.http_errors);
	one(o, "ward_handshakes_total", "counter",
	    "WebSocket upgrades completed.",
	    (unsigned long long)stats.handshakes);
	family(o, "ward_handshake_failures_total", "counter",
	    "WebSocket upgrades refused, by reason.");
	for (size_t i = 0; i < ARRAY_LEN(hsf); i++)
		svc_tb_put(o,
		    "ward_handshake_failures_total{reason=\"%s\"} %llu\n",
		    hsf[i], (unsigned long long)stats.hs_fail[i]);
	auth_failures(o);
	one(o, "ward_messages_received_total", "counter",
	    "WebSocket messages received.",
	    (unsigned long long)stats.msgs_in);
	one(o, "ward_messages_sent_total", "counter",
	    "WebSocket messages sent (echo: whole messages).",
	    (unsigned long long)stats.msgs_out);
	one(o, "ward_bytes_received_total", "counter", "Bytes read.",
	    (unsigned long long)stats.bytes_in);
	one(o, "ward_bytes_sent_total", "counter", "Bytes written.",
	    (unsigned long long)stats.bytes_out);
	family(o, "ward_closes_total", "counter",
	    "WebSocket close frames sent, by code.");
	for (size_t i = 0; i < ARRAY_LEN(codes); i++)
		svc_tb_put(o, "ward_closes_total{code=\"%u\"} %llu\n", codes[i],
		    (unsigned long long)stats.closes[codes[i] - 1000]);
	one(o, "ward_slow_consumer_drops_total", "counter",
	    "Recipients closed 1013 (or dropped) for not reading.",
	    (unsigned long long)stats.drops_slow);
	pools(o);
	tls_metrics(o);
	abuse(o);
	one(o, "ward_redis_configured", "gauge",
	    "1 when a Redis address is configured.",
	    cfg.redis[0] != '\0' ? 1 : 0);
	redis_rows(o);
}

static int
metrics(struct conn *c, struct http_req *r)
{
	static char text[12288];
	struct tbuf o = { text, 0, sizeof text, false };

	(void)r;
	write_metrics(&o);
	if (o.over)
		return reply_error(c, 500, "internal_error",
		    "metrics larger than their buffer");
	return reply_body(c, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text, o.n, NULL);
}

static const struct route metrics_routes[] = {
	{
		.pattern = "/metrics",
		.methods = HTTP_M(HTTP_GET),
		.http = metrics,
		.summary = "Prometheus text: connections, messages, pools",
		.res = "text/plain",
	},
	{ .pattern = NULL }
};

const struct family metrics_family = {
	.name = "metrics",
	.routes = metrics_routes,
};

