/*
 * health.c - GET /health, /health/live, /health/ready (SPEC §5, §10).
 *
 * Ready means: not draining, data_dir a directory we may write in (made
 * if missing; checked with access(2), never by writing, so a probe every
 * second wears no flash), and no journal write failing: after a failed
 * write or sync, storage is "write_failed" and ready 503 until a write
 * succeeds again (the journal retries by itself every 5 s).  Redis down
 * fails ready only with redis_required (docs/redis.md, the outage
 * policy).
 */
#include "svc.h"

bool
health_storage_ok(void)
{
	if (cfg.data_dir[0] == '\0')
		return false;
	if (port_dir_writable(cfg.data_dir) == 0)
		return true;
	/* gone or never made: make it, then ask again */
	return port_mkdir_p(cfg.data_dir) == 0 &&
	    port_dir_writable(cfg.data_dir) == 0;
}

static int
health(struct conn *c, struct http_req *r)
{
	char body[512];
	struct jw w;

	(void)r;
	jw_init(&w, body, sizeof body);
	jw_obj(&w);
	jw_key(&w, "status");
	jw_str(&w, "healthy");
	jw_key(&w, "version");
	jw_str(&w, WARD_VERSION);
	jw_key(&w, "uptime_s");
	jw_int(&w, (int64_t)((port_now_us() - loop_started_us()) / 1000000));
	jw_key(&w, "connections");
	jw_int(&w, conn_admitted());
	jw_key(&w, "event_backend");
	jw_str(&w, port_ev_backend());
	jw_key(&w, "draining");
	jw_bool(&w, loop_draining);
	jw_key(&w, "storage");
	jw_str(&w, !journal_storage_ok() ? "unwritable" : journal_failing() ?
	    "write_failed" : "ok");
	jw_key(&w, "redis");
	jw_str(&w, bus_state());
	jw_key(&w, "timestamp");
	jw_time(&w, port_wall_us());
	jw_obj_end(&w);
	return reply_json(c, 200, &w);
}

static int
live(struct conn *c, struct http_req *r)
{
	static const char body[] = "{\"status\":\"alive\"}";

	(void)r;
	return reply_static(c, 200, "application/json", body,
	    sizeof body - 1, NULL);
}

static int
ready(struct conn *c, struct http_req *r)
{
	static const char ok[] = "{\"status\":\"ready\"}";
	static const char no[] = "{\"status\":\"draining\"}";
	static const char st[] = "{\"status\":\"not_ready\","
	    "\"detail\":\"data_dir is not writable\"}";
	static const char wf[] = "{\"status\":\"not_ready\","
	    "\"detail\":\"storage writes are failing\"}";
	static const char rd[] = "{\"status\":\"not_ready\","
	    "\"detail\":\"redis is down (redis_required)\"}";

	(void)r;
	if (loop_draining)
		return reply_static(c, 503, "application/json", no,
		    sizeof no - 1, NULL);
	if (!journal_storage_ok())
		return reply_static(c, 503, "application/json", st,
		    sizeof st - 1, NULL);
	if (journal_failing())
		return reply_static(c, 503, "application/json", wf,
		    sizeof wf - 1, NULL);
	if (cfg.redis_required && strcmp(bus_state(), "down") == 0)
		return reply_static(c, 503, "application/json", rd,
		    sizeof rd - 1, NULL);
	return reply_static(c, 200, "application/json", ok,
	    sizeof ok - 1, NULL);
}

static const struct route health_routes[] = {
	{
		.pattern = "/health",
		.methods = HTTP_M(HTTP_GET),
		.http = health,
		.summary = "Liveness and state: version, uptime, connections, "
		    "storage",
		.res = "Health",
	},
	{
		.pattern = "/health/live",
		.methods = HTTP_M(HTTP_GET),
		.http = live,
		.summary = "The loop turns: 200",
		.res = "Status",
	},
	{
		.pattern = "/health/ready",
		.methods = HTTP_M(HTTP_GET),
		.http = ready,
		.summary = "Ready: not draining, data_dir writable, "
		    "Redis up when redis_required (else 503)",
		.res = "Status",
	},
	{ .pattern = NULL }
};

const struct family health_family = {
	.name = "health",
	.routes = health_routes,
};

