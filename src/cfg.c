/*
 * cfg.c - run-time configuration: one table of keys.
 *
 * Sources, later ones winning: built-in defaults (the board's), a
 * `key = value` file (--config), environment variables (WARD_<KEY> for
 * every key, plus the seeds' names), then --set key=value.  Values are
 * checked when set; relations between keys in cfg_validate().  Pool sizes
 * are compile-time: max_connections and max_message only lower them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

struct ward_cfg cfg;

#define T_STR	CFG_T_STR
#define T_INT	CFG_T_INT
#define T_BOOL	CFG_T_BOOL
#define T_SECS	CFG_T_SECS
#define T_ENUM	CFG_T_ENUM

/* The application's key tables (cfg_add_keys), after the core's. */
static const struct cfg_key *app_keys[4];
static size_t napp;
/* The application's names for config-declared services. */
static const char *const *app_reserved, *const *app_scopes;

#define S(k, e) { #k, e, T_STR, offsetof(struct ward_cfg, k), \
	sizeof(((struct ward_cfg *)0)->k), 0, 0, NULL, NULL }
#define I(k, f, lo, hi) { #k, NULL, T_INT, offsetof(struct ward_cfg, f), 0, lo, hi, NULL, NULL }
#define B(k, f, e) { #k, e, T_BOOL, offsetof(struct ward_cfg, f), 0, 0, 1, NULL, NULL }
#define SEC(k, f, e, lo, hi) { #k, e, T_SECS, offsetof(struct ward_cfg, f), 0, lo, hi, NULL, NULL }
#define E(k, f, e, ch) { #k, e, T_ENUM, offsetof(struct ward_cfg, f), 0, 0, 0, ch, NULL }

static const struct cfg_key keys[] = {
	S(listen, "WARD_LISTEN"),
	S(tls_listen, "WARD_TLS_LISTEN"),
	S(tls_cert, NULL),
	S(tls_key, NULL),
	I(tls_max_connections, tls_max_conns, 1, 65535),
	S(jwt_secret, "WARD_JWT_SECRET"),
	S(jwt_public_key, NULL),
	I(jwt_leeway, jwt_leeway, 0, 3600),
	B(jwt_require_exp, jwt_require_exp, NULL),
	E(require_auth, require_auth_all, NULL, "documented|all"),
	S(data_dir, "WARD_DATA_DIR"),
	E(fsync, fsync_always, NULL, "interval|always"),
	SEC(heartbeat_interval, heartbeat_ms, "WEBSOCKET_HEARTBEAT_INTERVAL",
	    0, 86400000),
	SEC(handshake_timeout, handshake_timeout_ms, NULL, 100, 600000),
	SEC(idle_timeout, idle_timeout_ms, NULL, 100, 86400000),
	SEC(close_timeout, close_timeout_ms, NULL, 50, 60000),
	B(websocket_enabled, websocket_enabled, "WEBSOCKET_ENABLED"),
	B(echo_endpoint, echo_endpoint, NULL),
	I(max_connections, max_connections, 1, 1000000),
	I(max_connections_per_ip, max_conns_per_ip, 0, 1000000),
	I(max_pending_per_ip, max_pending_per_ip, 0, 1000000),
	SEC(progress_timeout, progress_ms, NULL, 0, 600000),
	I(progress_min_bytes, progress_min_bytes, 0, 1048576),
	I(max_message, max_message, 125, WARD_MAX_MESSAGE),
	I(echo_max_message, echo_max_message, 0, 2147483647),
	I(rate_limit, rate_limit, 0, 1000000),
	I(rate_burst, rate_burst, 1, 1000000),
	S(cors_origins, NULL),
	S(ws_origins, NULL),
	S(public_origin, NULL),
	S(redis, NULL),
	S(redis_password, "REDIS_PASSWORD"),
	S(redis_user, NULL),
	I(redis_db, redis_db, 0, 1000000),
	S(redis_prefix, NULL),
	B(redis_required, redis_required, NULL),
	E(log_level, log_level, "WARD_LOG_LEVEL", "error|warn|info|debug"),
	E(log, log_syslog, NULL, "stderr|syslog"),
};

/* The i-th key: the core's, then each application table's; NULL after. */
static const struct cfg_key *
key_at(size_t i)
{
	if (i < ARRAY_LEN(keys))
		return &keys[i];
	i -= ARRAY_LEN(keys);
	for (size_t t = 0; t < napp; t++) {
		size_t n = 0;

		while (app_keys[t][n].name != NULL)
			n++;
		if (i < n)
			return &app_keys[t][i];
		i -= n;
	}
	return NULL;
}

/* Where key k's value lives. */
static char *
key_base(const struct cfg_key *k)
{
	return (k->base != NULL ? (char *)k->base : (char *)&cfg) + k->off;
}

int
cfg_add_keys(const struct cfg_key *k)
{
	if (napp >= ARRAY_LEN(app_keys))
		return WARD_ENOSPC;
	app_keys[napp++] = k;
	return 0;
}

void
cfg_services_names(const char *const *reserved, const char *const *scopes)
{
	app_reserved = reserved;
	app_scopes = scopes;
}

#ifndef BOARD_LISTEN
#define BOARD_LISTEN "127.0.0.1:8000"
#endif
#ifndef BOARD_DATA_DIR
#define BOARD_DATA_DIR "./ward-data"
#endif
#ifndef BOARD_CORS
#define BOARD_CORS "*"
#endif
#ifndef BOARD_LOG_SYSLOG
#define BOARD_LOG_SYSLOG 0
#endif

void
cfg_defaults(void)
{
	memset(&cfg, 0, sizeof cfg);
	snprintf(cfg.listen, sizeof cfg.listen, "%s", BOARD_LISTEN);
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", BOARD_DATA_DIR);
	snprintf(cfg.cors_origins, sizeof cfg.cors_origins, "%s", BOARD_CORS);
	snprintf(cfg.ws_origins, sizeof cfg.ws_origins, "%s", BOARD_CORS);
	snprintf(cfg.redis_prefix, sizeof cfg.redis_prefix, "ward");
	cfg.jwt_leeway = 30;
	cfg.jwt_require_exp = 1;
	cfg.fsync_always = 1;
	cfg.heartbeat_ms = 30000;
	cfg.handshake_timeout_ms = WARD_HANDSHAKE_TIMEOUT_MS;
	cfg.idle_timeout_ms = WARD_IDLE_TIMEOUT_MS;
	cfg.close_timeout_ms = WARD_CLOSE_TIMEOUT_MS;
	cfg.websocket_enabled = 1;
	cfg.echo_endpoint = 1;
	cfg.max_connections = WARD_DEFAULT_CONNS;
	cfg.tls_max_conns = WARD_TLS_CONNS;
	cfg.max_conns_per_ip = WARD_CONNS_PER_IP;
	cfg.max_pending_per_ip = WARD_PENDING_PER_IP;
	cfg.progress_ms = WARD_PROGRESS_MS;
	cfg.progress_min_bytes = WARD_PROGRESS_MIN_BYTES;
	cfg.max_message = WARD_MAX_MESSAGE;
	cfg.rate_limit = 100;
	cfg.rate_burst = 200;
	cfg.log_level = PORT_LOG_INFO;
	cfg.log_syslog = BOARD_LOG_SYSLOG;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "true", "on", "yes" };
	static const char *const no[] = { "0", "false", "off", "no" };

	for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static int
parse_enum(const char *choices, const char *v, int *out)
{
	size_t vl = strlen(v);
	int idx = 0;

	for (const char *p = choices; *p != '\0'; idx++) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == vl && memcmp(p, v, l) == 0)
			return *out = idx, 0;
		p += l + (e != NULL);
	}
	return -1;
}

static int
set_num(const struct cfg_key *k, const char *v, int *field, char *err,
    size_t errlen)
{
	char *end;
	double d;
	long n;

	if (k->type == T_SECS) {
		d = strtod(v, &end);
		/* range-check the double first: converting nan, inf or a huge
		 * value to long is undefined (C11 6.3.1.4) */
		n = isfinite(d) && d >= 0 && d <= k->hi / 1000.0 ?
		    (long)(d * 1000.0 + 0.5) : -1;
		if (*v == '\0' || *end != '\0' || n < k->lo || n > k->hi) {
			snprintf(err, errlen, "%s: expected seconds between "
			    "%.3g and %.6g, got \"%s\"", k->name, k->lo / 1000.0,
			    k->hi / 1000.0, v);
			return WARD_EINVAL;
		}
	} else {
		/* strtoll: long is 32 bits on armhf and saturates at our
		 * upper bounds */
		long long ll = strtoll(v, &end, 10);

		n = ll < k->lo || ll > k->hi ? k->lo - 1 : (long)ll;
		if (*v == '\0' || *end != '\0' || n < k->lo || n > k->hi) {
			snprintf(err, errlen, "%s: expected an integer between "
			    "%ld and %ld, got \"%s\"", k->name, k->lo, k->hi, v);
			return WARD_EINVAL;
		}
	}
	*field = (int)n;
	return 0;
}

/* A comma list of names [A-Za-z0-9_]{1,47}. */
static bool
type_list_ok(const char *v)
{
	size_t run = 0;

	for (const char *p = v;; p++) {
		if (*p == ',' || *p == '\0') {
			if (run == 0 || run > 47)
				return false;
			if (*p == '\0')
				return true;
			run = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_') {
			run++;
		} else {
			return false;
		}
	}
}

/* service.<name>.<field> = v */
/* service.<name>.scope: one of the application's scope names (its
 * index is stored); the message lists them "a, b or c". */
static int
set_scope(struct cfg_service *s, const char *key, const char *v, char *err,
    size_t errlen)
{
	char list[160] = "";
	size_t o = 0;
	int i;

	for (i = 0; app_scopes && app_scopes[i]; i++)
		if (strcmp(v, app_scopes[i]) == 0) {
			s->scope = i;
			return 0;
		}
	for (int j = 0; j < i && o < sizeof list; j++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
		    j == 0 ? "" : j == i - 1 ? " or " : ", ", app_scopes[j]);
	snprintf(err, errlen, "service.%s: expected %s, got \"%s\"", key, list,
	    v);
	return WARD_EINVAL;
}

static int
set_service(const char *key, const char *v, char *err, size_t errlen)
{
	const char *dot = strrchr(key, '.');
	struct cfg_service *s = NULL;
	size_t n = dot ? (size_t)(dot - key) : 0;
	int on;

	if (dot == NULL || n == 0 || n >= sizeof s->name) {
		snprintf(err, errlen, "service.%s: expected "
		    "service.<name>.types|scope|enabled", key);
		return WARD_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') ||
		    (key[i] >= '0' && key[i] <= '9') || key[i] == '_' ||
		    key[i] == '-')) {
			snprintf(err, errlen, "service.%s: a service name is "
			    "[a-z0-9_-]", key);
			return WARD_EINVAL;
		}
	for (const char *const *r = app_reserved; r && *r; r++)
		if (strlen(*r) == n && memcmp(key, *r, n) == 0) {
			snprintf(err, errlen, "service.%s: %.*s is built in",
			    key, (int)n, key);
			return WARD_EINVAL;
		}
	for (int i = 0; i < cfg.nservices; i++)
		if (strlen(cfg.services[i].name) == n &&
		    memcmp(cfg.services[i].name, key, n) == 0)
			s = &cfg.services[i];
	if (s == NULL) {
		if (cfg.nservices >= WARD_MAX_SERVICES) {
			snprintf(err, errlen, "service.%s: at most %d services",
			    key, WARD_MAX_SERVICES);
			return WARD_ENOMEM;
		}
		s = &cfg.services[cfg.nservices++];
		memset(s, 0, sizeof *s);
		memcpy(s->name, key, n);
	}
	if (strcmp(dot + 1, "types") == 0) {
		if (strlen(v) >= sizeof s->types || !type_list_ok(v)) {
			snprintf(err, errlen, "service.%s: a comma list of "
			    "message types ([A-Za-z0-9_], up to 47 each)", key);
			return WARD_EINVAL;
		}
		snprintf(s->types, sizeof s->types, "%s", v);
	} else if (strcmp(dot + 1, "scope") == 0) {
		return set_scope(s, key, v, err, errlen);
	} else if (strcmp(dot + 1, "enabled") == 0) {
		if (parse_bool(v, &on) != 0) {
			snprintf(err, errlen, "service.%s: expected true/false",
			    key);
			return WARD_EINVAL;
		}
		s->disabled = !on;
	} else {
		snprintf(err, errlen, "service.%s: expected "
		    "service.<name>.types|scope|enabled", key);
		return WARD_EINVAL;
	}
	return 0;
}

int
cfg_set(const char *name, const char *v, char *err, size_t errlen)
{
	if (strncmp(name, "service.", 8) == 0)
		return set_service(name + 8, v, err, errlen);
	const struct cfg_key *k;

	for (size_t i = 0; (k = key_at(i)) != NULL; i++) {
		char *base = key_base(k);

		if (strcmp(k->name, name) != 0)
			continue;
		switch (k->type) {
		case T_STR:
			if (strlen(v) >= k->size) {
				snprintf(err, errlen, "%s: value longer than %zu "
				    "bytes", name, k->size - 1);
				return WARD_EINVAL;
			}
			memcpy(base, v, strlen(v) + 1);
			return 0;
		case T_BOOL:
			if (parse_bool(v, (int *)(void *)base) == 0)
				return 0;
			snprintf(err, errlen, "%s: expected true/false, on/off, "
			    "yes/no or 1/0, got \"%s\"", name, v);
			return WARD_EINVAL;
		case T_ENUM:
			if (parse_enum(k->choices, v, (int *)(void *)base) == 0)
				return 0;
			snprintf(err, errlen, "%s: expected one of %s, got "
			    "\"%s\"", name, k->choices, v);
			return WARD_EINVAL;
		default:
			return set_num(k, v, (int *)(void *)base, err, errlen);
		}
	}
	snprintf(err, errlen, "unknown config key \"%s\"", name);
	return WARD_ENOENT;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
		e[-1] = '\0';
		s++;
	}
	return s;
}

int
cfg_load_file(const char *path, char *err, size_t errlen)
{
	static char text[65536];
	char msg[256];
	long n = port_file_read(path, text, sizeof text - 1);
	int line = 0;

	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read config file", path);
		return (int)n;
	}
	text[n] = '\0';
	for (char *p = text, *nl; p != NULL && *p != '\0'; p = nl) {
		char *eq, *k;

		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		line++;
		k = trim(p);
		if (*k == '\0' || *k == '#' || *k == ';')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value", path,
			    line);
			return WARD_EINVAL;
		}
		*eq = '\0';
		if (cfg_set(trim(k), trim(eq + 1), msg, sizeof msg) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, line, msg);
			return WARD_EINVAL;
		}
	}
	return 0;
}

static int
env_redis(char *err, size_t errlen)
{
	const char *h = port_getenv("REDIS_HOST"), *p = port_getenv("REDIS_PORT");
	char v[160];

	if (h == NULL || *h == '\0')
		return 0;
	snprintf(v, sizeof v, "%s:%s", h, p && *p ? p : "6379");
	return cfg_set("redis", v, err, errlen);
}

int
cfg_load_env(char *err, size_t errlen)
{
	const struct cfg_key *k;

	for (size_t i = 0; (k = key_at(i)) != NULL; i++) {
		char name[64], msg[200];
		const char *v;
		size_t l;

		l = (size_t)snprintf(name, sizeof name, "WARD_%s", k->name);
		for (size_t j = 5; j < l; j++)
			if (name[j] >= 'a' && name[j] <= 'z')
				name[j] = (char)(name[j] - 32);
		v = port_getenv(name);
		if (v == NULL && k->env != NULL)
			v = port_getenv(k->env);
		if (v == NULL)
			continue;
		if (cfg_set(k->name, v, msg, sizeof msg) != 0) {
			snprintf(err, errlen, "environment %s: %s",
			    v == port_getenv(name) ? name : k->env, msg);
			return WARD_EINVAL;
		}
	}
	return env_redis(err, errlen);
}

/* A dotted IPv4 address: four decimal octets 0..255. */
static bool
ipv4_ok(const char *h, size_t n)
{
	int parts = 0;
	size_t i = 0;

	while (i < n) {
		size_t d = 0;
		long v = 0;

		while (i < n && h[i] >= '0' && h[i] <= '9' && d < 4) {
			v = v * 10 + (h[i++] - '0');
			d++;
		}
		if (d == 0 || d > 3 || v > 255 || ++parts > 4)
			return false;
		if (i < n && h[i++] != '.')
			return false;
		if (i == n && h[n - 1] == '.')
			return false;
	}
	return parts == 4;
}

/* The host part of host:port: "" or "*" (every address), [IPv6], a
 * dotted IPv4 address, or a host name. */
static const char *
host_problem(const char *h, size_t n)
{
	if (n == 0 || (n == 1 && h[0] == '*'))
		return NULL;
	if (h[0] == '[')
		return n >= 4 && h[n - 1] == ']' && strspn(h + 1,
		    "0123456789abcdefABCDEF:.") == n - 2 &&
		    memchr(h + 1, ':', n - 2) != NULL ? NULL :
		    "is not an IPv6 address in brackets";
	if (strspn(h, "0123456789.") >= n)
		return ipv4_ok(h, n) ? NULL :
		    "is not an IPv4 address (four numbers 0..255)";
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' &&
		    h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ||
		    h[i] == '-' || h[i] == '.'))
			return "is not a host name or address";
	return NULL;
}

/* One host:port item (port 0..65535; 0: any free port). */
static const char *
addr_problem(const char *p, size_t l)
{
	size_t c;
	long port = 0;

	for (c = l; c > 0 && p[c - 1] != ':'; c--)
		;
	if (c == 0)
		return "is not host:port";
	if (c == l || l - c > 5 || strspn(p + c, "0123456789") != l - c)
		return "has no port number (host:port)";
	for (size_t i = c; i < l; i++)
		port = port * 10 + (p[i] - '0');
	if (port > 65535)
		return "has a port above 65535";
	return host_problem(p, c - 1);
}

/* Every item of a listen list is host:port, [v6]:port or :port. */
static bool
addr_list_ok(const char *key, const char *list, char *err, size_t errlen)
{
	const char *p = list, *why;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		while (l > 0 && *p == ' ') {
			p++;
			l--;
		}
		if ((why = addr_problem(p, l)) != NULL) {
			snprintf(err, errlen, "%s: \"%.*s\" %s", key,
			    (int)MIN(l, (size_t)100), p, why);
			return false;
		}
		p += l + (e != NULL);
	}
	return true;
}

/* An origin list: "*", "null" (file: pages), or http(s)://host[:port]. */
static bool
origins_ok(const char *key, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p), s;

		while (l > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			l--;
		}
		while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		s = l > 7 && strncmp(p, "http://", 7) == 0 ? 7 :
		    l > 8 && strncmp(p, "https://", 8) == 0 ? 8 : 0;
		if (!(l == 1 && p[0] == '*') && !(l == 4 &&
		    memcmp(p, "null", 4) == 0) && (s == 0 ||
		    memchr(p + s, '/', l - s) != NULL ||
		    memchr(p + s, ' ', l - s) != NULL)) {
			snprintf(err, errlen, "%s: \"%.*s\" is not *, null or "
			    "an origin like https://host[:port]", key,
			    (int)MIN(l, (size_t)100), p);
			return false;
		}
		p += l + (e != NULL);
	}
	return true;
}

/* A Redis name prefix: plain bytes only (no ':' and no glob character,
 * since it starts a PSUBSCRIBE pattern). */
static bool
prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > 32)
		return false;
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		    *p == '-'))
			return false;
	return true;
}

int
cfg_validate(char *err, size_t errlen)
{
	if (cfg.listen[0] == '\0' && cfg.tls_listen[0] == '\0') {
		snprintf(err, errlen, "listen: at least one listener is needed");
		return WARD_EINVAL;
	}
	if (!addr_list_ok("listen", cfg.listen, err, errlen) ||
	    !addr_list_ok("tls_listen", cfg.tls_listen, err, errlen) ||
	    (cfg.redis[0] != '\0' && strncmp(cfg.redis, "unix:/", 6) != 0 &&
	    !addr_list_ok("redis", cfg.redis, err, errlen)) ||
	    !origins_ok("cors_origins", cfg.cors_origins, err, errlen) ||
	    !origins_ok("ws_origins", cfg.ws_origins, err, errlen))
		return WARD_EINVAL;
	if (!prefix_ok(cfg.redis_prefix)) {
		snprintf(err, errlen, "redis_prefix: 1 to 32 of A-Z a-z 0-9 "
		    "_ . -");
		return WARD_EINVAL;
	}
	if (cfg.tls_listen[0] != '\0' &&
	    (cfg.tls_cert[0] == '\0' || cfg.tls_key[0] == '\0')) {
		snprintf(err, errlen, "tls_listen needs tls_cert and tls_key");
		return WARD_EINVAL;
	}
	if (cfg.tls_max_conns > WARD_TLS_CONNS) {
		log_warn("config", "key=tls_max_connections asked=%d pool=%d "
		    "detail=\"lowered to this build's TLS pool\"",
		    cfg.tls_max_conns, WARD_TLS_CONNS);
		cfg.tls_max_conns = WARD_TLS_CONNS;
	}
	if (cfg.max_connections > WARD_MAX_CONNS) {
		log_warn("config", "key=max_connections asked=%d pool=%d "
		    "detail=\"lowered to this build's pool\"",
		    cfg.max_connections, WARD_MAX_CONNS);
		cfg.max_connections = WARD_MAX_CONNS;
	}
	if (cfg.max_pending_per_ip > 0 && cfg.max_conns_per_ip > 0 &&
	    cfg.max_pending_per_ip > cfg.max_conns_per_ip) {
		snprintf(err, errlen, "max_pending_per_ip (%d) is above "
		    "max_connections_per_ip (%d)", cfg.max_pending_per_ip,
		    cfg.max_conns_per_ip);
		return WARD_EINVAL;
	}
	if (cfg.progress_ms > 0 && cfg.progress_ms < 2 * WARD_TICK_MS) {
		snprintf(err, errlen, "progress_timeout must be 0 (off) or at "
		    "least %d ms", 2 * WARD_TICK_MS);
		return WARD_EINVAL;
	}
	log_level = cfg.log_level;
	port_log_syslog(cfg.log_syslog != 0);
	return 0;
}

bool
cfg_origin_allowed(const char *list, struct str origin)
{
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		struct str item = { p, l };

		while (item.n > 0 && (*item.p == ' ' || *item.p == '\t')) {
			item.p++;
			item.n--;
		}
		while (item.n > 0 && (item.p[item.n - 1] == ' ' ||
		    item.p[item.n - 1] == '\t'))
			item.n--;
		if (item.n == 1 && item.p[0] == '*')
			return true;
		if (item.n == origin.n && item.n > 0) {
			char tmp[512];

			if (item.n < sizeof tmp) {
				memcpy(tmp, item.p, item.n);
				tmp[item.n] = '\0';
				if (str_ieq(origin, tmp))
					return true;
			}
		}
		p += l + (e != NULL);
	}
	return false;
}

/* Key k's current value as text (secrets as "(set)"). */
static void
value_text(const struct cfg_key *k, char *out, size_t cap)
{
	const char *base = key_base(k);
	int v = *(const int *)(const void *)base;

	if (k->type == T_STR)
		snprintf(out, cap, "%s", strcmp(k->name, "jwt_secret") == 0 ||
		    strcmp(k->name, "redis_password") == 0 ?
		    (*base ? "(set)" : "") : base);
	else if (k->type == T_SECS)
		snprintf(out, cap, "%g", v / 1000.0);
	else if (k->type == T_ENUM) {
		const char *c = k->choices;

		for (int j = 0; j < v && strchr(c, '|'); j++)
			c = strchr(c, '|') + 1;
		snprintf(out, cap, "%.*s", (int)(strchr(c, '|') ?
		    strchr(c, '|') - c : (long)strlen(c)), c);
	} else if (k->type == T_BOOL)
		snprintf(out, cap, "%s", v ? "true" : "false");
	else
		snprintf(out, cap, "%d", v);
}

/* What a key takes, for --help. */
static void
kind_text(const struct cfg_key *k, char *out, size_t cap)
{
	switch (k->type) {
	case T_STR:	snprintf(out, cap, "text"); break;
	case T_BOOL:	snprintf(out, cap, "true|false"); break;
	case T_ENUM:	snprintf(out, cap, "%s", k->choices); break;
	case T_SECS:	snprintf(out, cap, "seconds %g..%g", k->lo / 1000.0,
			    k->hi / 1000.0); break;
	default:	snprintf(out, cap, "%ld..%ld", k->lo, k->hi); break;
	}
}

/* Every key with its value now (the defaults, when called after
 * cfg_defaults), what it takes and its environment names. */
void
cfg_help(void)
{
	char line[900], val[600], kind[64], env[64];

	const struct cfg_key *k;

	for (size_t i = 0; (k = key_at(i)) != NULL; i++) {
		size_t l;
		int n;

		value_text(k, val, sizeof val);
		kind_text(k, kind, sizeof kind);
		l = (size_t)snprintf(env, sizeof env, "WARD_%s", k->name);
		for (size_t j = 5; j < l && j < sizeof env; j++)
			if (env[j] >= 'a' && env[j] <= 'z')
				env[j] = (char)(env[j] - 32);
		n = snprintf(line, sizeof line, "  %-20s default %s%s%s (%s; "
		    "env %s%s%s)\n", k->name, !*val ? "(empty)" :
		    k->type == T_STR ? "\"" : "", val,
		    *val && k->type == T_STR ? "\"" : "", kind, env,
		    k->env && strcmp(k->env, env) ? " or " : "",
		    k->env && strcmp(k->env, env) ? k->env : "");
		port_print(line, (size_t)MIN((size_t)n, sizeof line - 1));
	}
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Is origin exactly scheme://host[:port] (case-insensitive; the port
 * may be left out when it is the scheme's default)? */
static bool
origin_is(struct str origin, const char *host, int port)
{
	char a[96], b[96];

	snprintf(a, sizeof a, "http://%s:%d", host, port);
	snprintf(b, sizeof b, "https://%s:%d", host, port);
	if (str_ieq(origin, a) || str_ieq(origin, b))
		return true;
	snprintf(a, sizeof a, "http://%s", host);
	snprintf(b, sizeof b, "https://%s", host);
	return (port == 80 && str_ieq(origin, a)) ||
	    (port == 443 && str_ieq(origin, b));
}

/* Listener i (an entry of cfg.listen) as an origin: its host when it is
 * a concrete address (a wildcard names no origin), with localhost for a
 * loopback one, and the port it really bound. */
static bool
listener_origin(const char *a, size_t n, int port, struct str origin)
{
	char host[72];
	const char *colon = NULL;

	for (size_t k = 0; k < n; k++)
		if (a[k] == ':')
			colon = a + k;
	if (colon == NULL || port <= 0 || (size_t)(colon - a) + 1 > 64)
		return false;
	snprintf(host, sizeof host, "%.*s", (int)(colon - a), a);
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "[::]") == 0 || strcmp(host, "*") == 0)
		return false;
	if ((strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "localhost") == 0) && origin_is(origin, "localhost",
	    port))
		return true;
	return origin_is(origin, host, port);
}

/* A Host that is an address, not a name: an IPv4 literal (digits and
 * dots, as a browser reads it), an IPv6 literal or localhost, with or
 * without a port.  DNS rebinding cannot make a browser send one. */
static bool
host_is_address(struct str h)
{
	size_t n = h.n;

	if (n > 0 && h.p[0] == '[')
		return memchr(h.p, ']', n) != NULL;
	for (size_t i = 0; i < h.n; i++)
		if (h.p[i] == ':')
			n = i;
	if (str_ieq((struct str){ h.p, n }, "localhost"))
		return true;
	for (size_t i = 0; i < n; i++)
		if (!(h.p[i] == '.' || (h.p[i] >= '0' && h.p[i] <= '9')))
			return false;
	return n > 0;
}

/* Origin is scheme://host, host being the request's Host. */
static bool
origin_is_host(struct str origin, struct str host)
{
	size_t s;

	if (origin.n > 7 && str_ieq((struct str){ origin.p, 7 }, "http://"))
		s = 7;
	else if (origin.n > 8 && str_ieq((struct str){ origin.p, 8 },
	    "https://"))
		s = 8;
	else
		return false;
	if (origin.n - s != host.n)
		return false;
	for (size_t i = 0; i < host.n; i++)
		if (lower(origin.p[s + i]) != lower(host.p[i]))
			return false;
	return true;
}

/*
 * Same origin is decided against what the operator configured, never
 * against a name in the client's Host header (DNS rebinding sends any
 * name as Host): an Origin equal to an entry of public_origin, or, with
 * public_origin empty, to a listener's own address (http or https, its
 * bound port; localhost for a loopback listener; a wildcard listener
 * names none), or to scheme://Host when Host is an address (a board
 * reached by its IP), never a name.
 */
bool
cfg_same_origin(const struct http_req *r, struct str origin)
{
	const char *p;
	struct str host;
	int i = 0;

	if (origin.n == 0)
		return false;
	if (cfg.public_origin[0] != '\0')
		return strchr(cfg.public_origin, '*') == NULL &&
		    cfg_origin_allowed(cfg.public_origin, origin);
	for (p = cfg.listen; *p != '\0'; i++) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		while (l > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			l--;
		}
		if (listener_origin(p, l, loop_listen_port(i), origin))
			return true;
		p += l + (e != NULL);
	}
	host = http_header(r, "host");
	return host.p != NULL && host_is_address(host) &&
	    origin_is_host(origin, host);
}

void
cfg_print(void)
{
	char line[700], val[600];

	const struct cfg_key *k;

	for (size_t i = 0; (k = key_at(i)) != NULL; i++) {
		int n;

		value_text(k, val, sizeof val);
		n = snprintf(line, sizeof line, "%s = %s\n", k->name, val);
		port_print(line, (size_t)MIN((size_t)n, sizeof line - 1));
	}
	for (int i = 0; i < cfg.nservices; i++) {
		const struct cfg_service *sv = &cfg.services[i];
		int n = snprintf(line, sizeof line, "service.%s.types = %s\n"
		    "service.%s.scope = %s\nservice.%s.enabled = %s\n",
		    sv->name, sv->types, sv->name, app_scopes[sv->scope], sv->name,
		    sv->disabled ? "false" : "true");

		port_print(line, (size_t)MIN((size_t)n, sizeof line - 1));
	}
}
