/*
 * test_cfg.c - run-time configuration: defaults, cfg_set for every value
 * type (bounds, forms, error text), the key = value file, the environment,
 * cfg_validate, and origin lists.
 *
 * cfg is global and other suites use it: defaults are restored at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

static char err[256];

static int
set(const char *k, const char *v)
{
	err[0] = '\0';
	return cfg_set(k, v, err, sizeof err);
}

static void
test_defaults(void)
{
	memset(&cfg, 0x5A, sizeof cfg);
	cfg_defaults();
	CHECK(cfg.listen[0] != '\0');
	CHECK_STR(cfg.tls_listen, "");
	CHECK_STR(cfg.jwt_secret, "");
	CHECK_EQ(cfg.jwt_leeway, 30);
	CHECK_EQ(cfg.jwt_require_exp, 1);
	CHECK_EQ(cfg.heartbeat_ms, 30000);
	CHECK_EQ(cfg.handshake_timeout_ms, WARD_HANDSHAKE_TIMEOUT_MS);
	CHECK_EQ(cfg.idle_timeout_ms, WARD_IDLE_TIMEOUT_MS);
	CHECK_EQ(cfg.close_timeout_ms, WARD_CLOSE_TIMEOUT_MS);
	CHECK_EQ(cfg.websocket_enabled, 1);
	CHECK_EQ(cfg.echo_endpoint, 1);
	CHECK_EQ(cfg.max_connections, WARD_DEFAULT_CONNS);
	CHECK(cfg.max_connections <= WARD_MAX_CONNS);
	CHECK_EQ(cfg.max_message, WARD_MAX_MESSAGE);
	CHECK_EQ(cfg.echo_max_message, 0);
	CHECK_EQ(cfg.rate_limit, 100);
	CHECK_EQ(cfg.rate_burst, 200);
	CHECK_STR(cfg.jwt_public_key, "");
	CHECK_EQ(cfg.log_level, PORT_LOG_INFO);
	CHECK_EQ(cfg.require_auth_all, 0);
}

static void
test_strings(void)
{
	char v[300];

	CHECK_EQ(set("listen", "0.0.0.0:9000"), 0);
	CHECK_STR(cfg.listen, "0.0.0.0:9000");
	CHECK_EQ(set("listen", ""), 0);
	CHECK_STR(cfg.listen, "");
	/* capacity 256: 255 characters fit, 256 do not */
	memset(v, 'a', sizeof v);
	v[255] = '\0';
	CHECK_EQ(set("data_dir", v), 0);
	CHECK_EQ(strlen(cfg.data_dir), 255);
	v[255] = 'a';
	v[256] = '\0';
	CHECK_EQ(set("data_dir", v), WARD_EINVAL);
	CHECK_STR(err, "data_dir: value longer than 255 bytes");
	CHECK_EQ(strlen(cfg.data_dir), 255);		/* unchanged */
	/* capacity 128 */
	v[127] = '\0';
	CHECK_EQ(set("redis", v), 0);
	v[127] = 'a';
	v[128] = '\0';
	CHECK_EQ(set("redis", v), WARD_EINVAL);
	CHECK_STR(err, "redis: value longer than 127 bytes");
	memset(v, 'a', sizeof v);
	v[255] = '\0';
	CHECK_EQ(set("jwt_public_key", v), 0);
	v[255] = 'a';
	v[256] = '\0';
	CHECK_EQ(set("jwt_public_key", v), WARD_EINVAL);
	CHECK_EQ(set("ws_origins", "https://a.example, https://b.example"), 0);
	CHECK_STR(cfg.ws_origins, "https://a.example, https://b.example");
}

static void
test_bools(void)
{
	static const char *const yes[] = { "1", "true", "on", "yes" };
	static const char *const no[] = { "0", "false", "off", "no" };
	static const char *const bad[] = { "", "2", "TRUE", "True", "y", "n",
	    "enabled", " true", "true ", "01" };

	for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
		cfg.websocket_enabled = 0;
		CHECK_EQ(set("websocket_enabled", yes[i]), 0);
		CHECK_EQ(cfg.websocket_enabled, 1);
		CHECK_EQ(set("echo_endpoint", no[i]), 0);
		CHECK_EQ(cfg.echo_endpoint, 0);
		CHECK_EQ(set("echo_endpoint", yes[i]), 0);
		CHECK_EQ(cfg.echo_endpoint, 1);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		CHECK_EQ(set("jwt_require_exp", bad[i]), WARD_EINVAL);
		CHECK_EQ(cfg.jwt_require_exp, 1);
	}
	CHECK_EQ(set("websocket_enabled", "maybe"), WARD_EINVAL);
	CHECK_STR(err, "websocket_enabled: expected true/false, on/off, yes/no "
	    "or 1/0, got \"maybe\"");
}

static void
test_enums(void)
{
	CHECK_EQ(set("require_auth", "all"), 0);
	CHECK_EQ(cfg.require_auth_all, 1);
	CHECK_EQ(set("require_auth", "documented"), 0);
	CHECK_EQ(cfg.require_auth_all, 0);
	CHECK_EQ(set("fsync", "interval"), 0);
	CHECK_EQ(cfg.fsync_always, 0);
	CHECK_EQ(set("fsync", "always"), 0);
	CHECK_EQ(cfg.fsync_always, 1);
	CHECK_EQ(set("log_level", "error"), 0);
	CHECK_EQ(cfg.log_level, PORT_LOG_ERROR);
	CHECK_EQ(set("log_level", "debug"), 0);
	CHECK_EQ(cfg.log_level, PORT_LOG_DEBUG);
	CHECK_EQ(set("log_level", "warn"), 0);
	CHECK_EQ(cfg.log_level, PORT_LOG_WARN);
	CHECK_EQ(set("log", "syslog"), 0);
	CHECK_EQ(cfg.log_syslog, 1);
	CHECK_EQ(set("log", "stderr"), 0);
	CHECK_EQ(cfg.log_syslog, 0);
	/* no prefixes, no case folding, no separators */
	CHECK_EQ(set("require_auth", "al"), WARD_EINVAL);
	CHECK_EQ(set("require_auth", "alll"), WARD_EINVAL);
	CHECK_EQ(set("require_auth", "ALL"), WARD_EINVAL);
	CHECK_EQ(set("require_auth", ""), WARD_EINVAL);
	CHECK_EQ(set("require_auth", "documented|all"), WARD_EINVAL);
	CHECK_EQ(set("require_auth", "|"), WARD_EINVAL);
	CHECK_EQ(cfg.require_auth_all, 0);
	CHECK_EQ(set("log_level", "verbose"), WARD_EINVAL);
	CHECK_STR(err, "log_level: expected one of error|warn|info|debug, got "
	    "\"verbose\"");
}

static void
test_seconds(void)
{
	static const struct {
		const char	*key, *val;
		int		 rc, ms;
	} v[] = {
		{ "heartbeat_interval", "0.5", 0, 500 },
		{ "heartbeat_interval", "30", 0, 30000 },
		{ "heartbeat_interval", "0", 0, 0 },
		{ "heartbeat_interval", "2.25", 0, 2250 },
		{ "heartbeat_interval", "0.0004", 0, 0 },
		{ "heartbeat_interval", "0.0006", 0, 1 },
		{ "heartbeat_interval", "86400", 0, 86400000 },
		{ "heartbeat_interval", "86400.001", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "-1", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "-0.1", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "abc", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "5s", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "5 ", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "1e300", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "inf", WARD_EINVAL, 0 },
		{ "heartbeat_interval", "nan", WARD_EINVAL, 0 },
		{ "handshake_timeout", "0.1", 0, 100 },
		{ "handshake_timeout", "0.05", WARD_EINVAL, 0 },
		{ "handshake_timeout", "600", 0, 600000 },
		{ "handshake_timeout", "601", WARD_EINVAL, 0 },
		{ "idle_timeout", "1.5", 0, 1500 },
		{ "close_timeout", "0.05", 0, 50 },
		{ "close_timeout", "0.04", WARD_EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		int rc = set(v[i].key, v[i].val);

		if (rc != v[i].rc)
			fprintf(stderr, "  %s = \"%s\": %d\n", v[i].key,
			    v[i].val, rc);
		CHECK_EQ(rc, v[i].rc);
		if (rc == 0 && v[i].rc == 0) {
			int got = strcmp(v[i].key, "heartbeat_interval") == 0 ?
			    cfg.heartbeat_ms : strcmp(v[i].key,
			    "handshake_timeout") == 0 ? cfg.handshake_timeout_ms :
			    strcmp(v[i].key, "idle_timeout") == 0 ?
			    cfg.idle_timeout_ms : cfg.close_timeout_ms;

			CHECK_EQ(got, v[i].ms);
		}
	}
	cfg.heartbeat_ms = 1234;
	CHECK_EQ(set("heartbeat_interval", "x"), WARD_EINVAL);
	CHECK_EQ(cfg.heartbeat_ms, 1234);		/* unchanged */
	CHECK_STR(err, "heartbeat_interval: expected seconds between 0 and "
	    "86400, got \"x\"");
	CHECK_EQ(set("handshake_timeout", "0"), WARD_EINVAL);
	CHECK_STR(err, "handshake_timeout: expected seconds between 0.1 and "
	    "600, got \"0\"");
}

static void
test_ints(void)
{
	char v[32];

	CHECK_EQ(set("max_connections", "1"), 0);
	CHECK_EQ(cfg.max_connections, 1);
	CHECK_EQ(set("max_connections", "1000000"), 0);
	CHECK_EQ(cfg.max_connections, 1000000);
	CHECK_EQ(set("max_connections", "0"), WARD_EINVAL);
	CHECK_STR(err, "max_connections: expected an integer between 1 and "
	    "1000000, got \"0\"");
	CHECK_EQ(set("max_connections", "1000001"), WARD_EINVAL);
	CHECK_EQ(set("max_connections", "-5"), WARD_EINVAL);
	CHECK_EQ(set("max_connections", "12abc"), WARD_EINVAL);
	CHECK_EQ(set("max_connections", "1.5"), WARD_EINVAL);
	CHECK_EQ(set("max_connections", ""), WARD_EINVAL);
	CHECK_EQ(set("max_connections", "99999999999999999999999"),
	    WARD_EINVAL);
	CHECK_EQ(cfg.max_connections, 1000000);		/* unchanged */
	CHECK_EQ(set("max_message", "124"), WARD_EINVAL);
	CHECK_EQ(set("max_message", "125"), 0);
	CHECK_EQ(cfg.max_message, 125);
	snprintf(v, sizeof v, "%d", WARD_MAX_MESSAGE);
	CHECK_EQ(set("max_message", v), 0);
	CHECK_EQ(cfg.max_message, WARD_MAX_MESSAGE);
	snprintf(v, sizeof v, "%d", WARD_MAX_MESSAGE + 1);
	CHECK_EQ(set("max_message", v), WARD_EINVAL);
	CHECK_EQ(set("echo_max_message", "0"), 0);
	CHECK_EQ(set("echo_max_message", "2147483647"), 0);
	CHECK_EQ(cfg.echo_max_message, 2147483647);
	CHECK_EQ(set("echo_max_message", "2147483648"), WARD_EINVAL);
	CHECK_EQ(set("rate_limit", "0"), 0);		/* 0: off */
	CHECK_EQ(cfg.rate_limit, 0);
	CHECK_EQ(set("rate_limit", "1000000"), 0);
	CHECK_EQ(set("rate_limit", "1000001"), WARD_EINVAL);
	CHECK_EQ(set("rate_burst", "0"), WARD_EINVAL);
	CHECK_EQ(set("rate_burst", "1"), 0);
	CHECK_EQ(cfg.rate_burst, 1);
	CHECK_EQ(set("jwt_leeway", "3600"), 0);
	CHECK_EQ(set("jwt_leeway", "3601"), WARD_EINVAL);
	CHECK_EQ(cfg.jwt_leeway, 3600);
}

static void
test_unknown(void)
{
	char small[12];

	CHECK_EQ(set("nope", "1"), WARD_ENOENT);
	CHECK_STR(err, "unknown config key \"nope\"");
	CHECK_EQ(set("", "1"), WARD_ENOENT);
	CHECK_EQ(set("LISTEN", "x"), WARD_ENOENT);	/* names are exact */
	CHECK_EQ(set("listen ", "x"), WARD_ENOENT);
	CHECK_EQ(set("heartbeat_ms", "1"), WARD_ENOENT);
	/* a short error buffer is truncated, not overrun */
	memset(small, 'Z', sizeof small);
	CHECK_EQ(cfg_set("nope", "1", small, 8), WARD_ENOENT);
	CHECK_STR(small, "unknown");
	CHECK_EQ(small[8], 'Z');
}

static void
test_file(void)
{
	static const char good[] =
	    "# a comment\n"
	    "; another\n"
	    "\n"
	    "  listen = \"127.0.0.1:8123\"  \r\n"
	    "heartbeat_interval=2.5\n"
	    "\twebsocket_enabled =\toff\n"
	    "ws_origins = https://x.example,https://y.example\n"
	    "data_dir = \"\"\n"
	    "log_level = debug";		/* no final newline */
	char path[64], msg[256];
	FILE *f;

	snprintf(path, sizeof path, "/tmp/ward-test-cfg-%ld.conf",
	    (long)getpid());
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(good, f);
	fclose(f);
	cfg_defaults();
	CHECK_EQ(cfg_load_file(path, msg, sizeof msg), 0);
	CHECK_STR(cfg.listen, "127.0.0.1:8123");
	CHECK_EQ(cfg.heartbeat_ms, 2500);
	CHECK_EQ(cfg.websocket_enabled, 0);
	CHECK_STR(cfg.ws_origins, "https://x.example,https://y.example");
	CHECK_STR(cfg.data_dir, "");
	CHECK_EQ(cfg.log_level, PORT_LOG_DEBUG);

	f = fopen(path, "w");
	fputs("listen = a:1\nthis line has no equals sign\n", f);
	fclose(f);
	CHECK_EQ(cfg_load_file(path, msg, sizeof msg), WARD_EINVAL);
	{
		char want[256];

		snprintf(want, sizeof want, "%s:2: expected key = value", path);
		CHECK_STR(msg, want);
		f = fopen(path, "w");
		fputs("# x\n\nmax_connections = 0\n", f);
		fclose(f);
		CHECK_EQ(cfg_load_file(path, msg, sizeof msg), WARD_EINVAL);
		snprintf(want, sizeof want, "%s:3: max_connections: expected "
		    "an integer between 1 and 1000000, got \"0\"", path);
		CHECK_STR(msg, want);
		f = fopen(path, "w");
		fputs("colour = blue\n", f);
		fclose(f);
		CHECK_EQ(cfg_load_file(path, msg, sizeof msg), WARD_EINVAL);
		snprintf(want, sizeof want, "%s:1: unknown config key "
		    "\"colour\"", path);
		CHECK_STR(msg, want);
	}
	unlink(path);
	CHECK(cfg_load_file(path, msg, sizeof msg) < 0);
	cfg_defaults();
}

static void
test_env(void)
{
	char msg[256];

	cfg_defaults();
	setenv("WARD_HEARTBEAT_INTERVAL", "7", 1);
	setenv("WEBSOCKET_ENABLED", "false", 1);	/* a seed's name */
	setenv("REDIS_HOST", "cache", 1);
	setenv("REDIS_PORT", "", 1);
	CHECK_EQ(cfg_load_env(msg, sizeof msg), 0);
	CHECK_EQ(cfg.heartbeat_ms, 7000);
	CHECK_EQ(cfg.websocket_enabled, 0);
	CHECK_STR(cfg.redis, "cache:6379");
	/* WARD_<KEY> wins over the seed's name */
	setenv("WARD_WEBSOCKET_ENABLED", "on", 1);
	setenv("REDIS_PORT", "6380", 1);
	CHECK_EQ(cfg_load_env(msg, sizeof msg), 0);
	CHECK_EQ(cfg.websocket_enabled, 1);
	CHECK_STR(cfg.redis, "cache:6380");
	setenv("WARD_MAX_CONNECTIONS", "0", 1);
	CHECK_EQ(cfg_load_env(msg, sizeof msg), WARD_EINVAL);
	CHECK_STR(msg, "environment WARD_MAX_CONNECTIONS: max_connections: "
	    "expected an integer between 1 and 1000000, got \"0\"");
	unsetenv("WARD_HEARTBEAT_INTERVAL");
	unsetenv("WEBSOCKET_ENABLED");
	unsetenv("WARD_WEBSOCKET_ENABLED");
	unsetenv("REDIS_HOST");
	unsetenv("REDIS_PORT");
	unsetenv("WARD_MAX_CONNECTIONS");
	cfg_defaults();
}

static void
test_validate(void)
{
	char msg[256];
	int saved = log_level;

	cfg_defaults();
	cfg.log_level = PORT_LOG_ERROR;
	log_level = PORT_LOG_ERROR;
	CHECK_EQ(cfg_validate(msg, sizeof msg), 0);
	CHECK_EQ(log_level, PORT_LOG_ERROR);
	cfg.listen[0] = '\0';
	CHECK_EQ(cfg_validate(msg, sizeof msg), WARD_EINVAL);
	CHECK_STR(msg, "listen: at least one listener is needed");
	CHECK_EQ(set("tls_listen", "0.0.0.0:8443"), 0);
	CHECK_EQ(cfg_validate(msg, sizeof msg), WARD_EINVAL);
	CHECK_STR(msg, "tls_listen needs tls_cert and tls_key");
	CHECK_EQ(set("tls_cert", "c.pem"), 0);
	CHECK_EQ(cfg_validate(msg, sizeof msg), WARD_EINVAL);
	CHECK_EQ(set("tls_key", "k.pem"), 0);
	/* the files are read at start (main.c: tls_creds_load) */
	CHECK_EQ(cfg_validate(msg, sizeof msg), 0);
	/* tls_max_connections lowers the TLS pool, never raises it */
	CHECK_EQ(cfg.tls_max_conns, WARD_TLS_CONNS);
	CHECK_EQ(set("tls_max_connections", "2"), 0);
	CHECK_EQ(cfg_validate(msg, sizeof msg), 0);
	CHECK_EQ(cfg.tls_max_conns, 2);
	cfg.tls_max_conns = WARD_TLS_CONNS + 1;
	CHECK_EQ(cfg_validate(msg, sizeof msg), 0);
	CHECK_EQ(cfg.tls_max_conns, WARD_TLS_CONNS);
	CHECK_EQ(set("tls_listen", ""), 0);
	CHECK_EQ(set("listen", "127.0.0.1:0"), 0);
	CHECK_EQ(cfg_validate(msg, sizeof msg), 0);
	/* exactly the pool: kept */
	cfg.max_connections = WARD_MAX_CONNS;
	CHECK_EQ(cfg_validate(msg, sizeof msg), 0);
	CHECK_EQ(cfg.max_connections, WARD_MAX_CONNS);
	/*
	 * More connections than the pool: lowered to the pool ("lowered to
	 * this build's pool", config.h: run-time config may lower a limit,
	 * never raise it), not down to the default.
	 */
	cfg.max_connections = WARD_MAX_CONNS + 1;
	CHECK_EQ(cfg_validate(msg, sizeof msg), 0);
	CHECK_EQ(cfg.max_connections, WARD_MAX_CONNS);
	cfg_defaults();
	log_level = saved;
}

static bool
allowed(const char *list, const char *origin)
{
	return cfg_origin_allowed(list, (struct str){ origin, strlen(origin) });
}

static void
test_origins(void)
{
	static const struct {
		const char	*list, *origin;
		bool		 ok;
	} v[] = {
		{ "*", "https://any.example", true },
		{ "*", "", true },
		{ " * ", "null", true },
		{ "https://a.example,*", "https://z.example", true },
		{ "", "https://a.example", false },
		{ "", "", false },
		{ "https://a.example", "https://a.example", true },
		{ "https://a.example", "HTTPS://A.EXAMPLE", true },
		{ "HTTPS://A.Example", "https://a.example", true },
		{ "https://a.example", "https://a.example:443", false },
		{ "https://a.example", "https://a.exampl", false },
		{ "https://a.example", "https://a.example.evil", false },
		{ "https://a.example", "http://a.example", false },
		{ "https://a.example", "", false },
		{ "https://a.example, https://b.example", "https://b.example",
		    true },
		{ "https://a.example ,\thttps://b.example\t",
		    "https://a.example", true },
		{ "https://a.example,,https://b.example", "https://b.example",
		    true },
		{ "https://a.example,", "", false },
		{ ",", "", false },
		{ "**", "https://a.example", false },
		{ "https://*.example", "https://a.example", false },
		{ "null", "null", true },
	};

	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		if (allowed(v[i].list, v[i].origin) != v[i].ok)
			fprintf(stderr, "  origin \"%s\" in \"%s\"\n",
			    v[i].origin, v[i].list);
		CHECK_EQ(allowed(v[i].list, v[i].origin), v[i].ok);
	}
	/* an origin is a byte range, not a C string */
	CHECK(cfg_origin_allowed("https://a.example",
	    (struct str){ "https://a.exampleXYZ", 17 }));
	CHECK(!cfg_origin_allowed("https://a.example",
	    (struct str){ "https://a.exampleXYZ", 18 }));
}

/* Every value checked by cfg_validate (issue 11): one message naming the
 * key and the problem. */
static void
test_validate_values(void)
{
	static const struct { const char *k, *v, *msg; } bad[] = {
		{ "listen", "127.0.0.1:99999", "listen: \"127.0.0.1:99999\" has "
		    "a port above 65535" },
		{ "listen", "999.1.1.1:80", "listen: \"999.1.1.1:80\" is not an "
		    "IPv4 address (four numbers 0..255)" },
		{ "listen", "1.2.3:80", NULL }, { "listen", "1.2.3.4.5:80", NULL },
		{ "listen", "1..2.3:80", NULL }, { "listen", "0127.0.0.1:80", NULL },
		{ "listen", "127.0.0.1", NULL }, { "listen", "h:", NULL },
		{ "listen", "h:123456", NULL }, { "listen", "a_b:80", NULL },
		{ "listen", "[::1:80", NULL }, { "listen", "[xyz]:80", NULL },
		{ "listen", "127.0.0.1:80,1.1.1.256:80", NULL },
		{ "redis", "localhost", NULL },
		{ "cors_origins", "example.com", NULL },
		{ "cors_origins", "http://a.example/path", NULL },
		{ "ws_origins", "*, ftp://x", NULL },
	};
	static const struct { const char *k, *v; } good[] = {
		{ "listen", "127.0.0.1:0" }, { "listen", "0.0.0.0:65535" },
		{ "listen", "[::1]:8000" }, { "listen", "[::]:80" },
		{ "listen", ":8000" }, { "listen", "*:8000" },
		{ "listen", "localhost:80, 10.0.0.1:81" },
		{ "redis", "127.0.0.1:6379" }, { "cors_origins", "" },
		{ "cors_origins", "http://a.example:8080, https://b.example" },
		{ "ws_origins", "null" },
	};
	char msg[256];
	int saved = log_level;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		cfg_defaults();
		CHECK_EQ(set(bad[i].k, bad[i].v), 0);
		msg[0] = '\0';
		CHECK_EQ(cfg_validate(msg, sizeof msg), WARD_EINVAL);
		CHECK(strncmp(msg, bad[i].k, strlen(bad[i].k)) == 0);
		if (bad[i].msg != NULL)
			CHECK_STR(msg, bad[i].msg);
	}
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		cfg_defaults();
		CHECK_EQ(set(good[i].k, good[i].v), 0);
		CHECK_EQ(cfg_validate(msg, sizeof msg), 0);
	}
	cfg_defaults();
	log_level = saved;
	port_log_syslog(false);
}

void
suite_cfg(void)
{
	test_defaults();
	test_strings();
	test_bools();
	test_enums();
	test_seconds();
	test_ints();
	test_unknown();
	test_file();
	test_env();
	test_validate();
	test_validate_values();
	test_origins();
	cfg_defaults();
}
