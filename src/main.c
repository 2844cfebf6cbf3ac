/*
 * main.c - command line, start-up, and the dev-mode banner.
 *
 * Start-up is the only time anything may be prepared: configuration is
 * read, pools are initialised (all static), listeners opened.  Then the
 * loop runs until SIGTERM and the process exits 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "redis.h"
#include "auth.h"
#include "tls.h"
#include "svc/svc.h"

/* Print whole: the banner with three tokens is a few KiB; a longer text
 * says so instead of being cut silently. */
static void
out(const char *fmt, ...)
{
	static char line[8192];
	static const char cut[] = "\n[output longer than 8 KiB: cut]\n";
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	port_print(line, MIN((size_t)n, sizeof line - 1));
	if ((size_t)n >= sizeof line)
		port_print(cut, sizeof cut - 1);
}

static void
usage(void)
{
	cfg_defaults();
	out("usage: ward [options]\n"
	    "       ward token --sub ID --role ROLE [--name NAME] "
	    "[--practice ID]\n"
	    "                  [--ttl SECONDS] [--config FILE] "
	    "[--set jwt_secret=...]\n"
	    "\n"
	    "Runs the server until SIGTERM (exit 0).  `ward token` prints a "
	    "signed HS256\ntoken (needs jwt_secret) and exits.\n"
	    "\noptions:\n"
	    "  --config FILE        read key = value settings from FILE\n"
	    "  --set KEY=VALUE      set one key (repeatable; wins over the file "
	    "and the environment)\n"
	    "  --dev                development mode: random JWT secret, "
	    "banner with examples\n"
	    "  --check-config       validate the configuration, print "
	    "\"configuration ok\" and exit\n"
	    "  --print-config       print the effective configuration and "
	    "exit\n"
	    "  --print-limits       print every pool with its capacity and "
	    "bytes, and the total\n"
	    "  --version            print the version and exit\n"
	    "  --help, -h           this text\n"
	    "\nconfiguration keys (later sources win: defaults, --config file, "
	    "environment, --set):\n");
	cfg_help();
	out("  service.<name>.types|scope|enabled   a config-declared /ws "
	    "service (see README)\n"
	    "\nenvironment: WARD_<KEY> for every key (e.g. WARD_LISTEN, "
	    "WARD_JWT_SECRET), plus\nREDIS_HOST/REDIS_PORT.  See ward(8) and "
	    "README.md.\n");
}

/* The core's pools (pools.h), then each family's, then the rest. */
static size_t
pool_rows(struct ward_pool *rows, size_t cap)
{
	struct buf_stats bs;
	const struct ward_pool *p;
	size_t n = 0;

	buf_init();
	buf_stats(&bs);
#define WARD_POOL(nm, cnt, each, wh) \
	if (n < cap) \
		rows[n++] = (struct ward_pool){ #nm, (cnt), (each), (wh) };
#include "pools.h"
#undef WARD_POOL
	for (size_t i = 0; (p = svc_index_pool(i)) != NULL && n < cap; i++)
		rows[n++] = *p;
	return n;
}

static void
print_limits(void)
{
	uint64_t total = 0, bss = port_static_bytes();
	struct ward_pool rows[48];
	size_t n = pool_rows(rows, ARRAY_LEN(rows) - 1);

	for (size_t i = 0; i < n; i++)
		total += rows[i].count * rows[i].bytes;
	/* the rest of the static storage: parsed JSON documents, message
	 * and config scratch, small tables; all of it is in the bound */
	if (bss > total)
		rows[n++] = (struct ward_pool){ "other_static", 1, bss - total,
		    "JSON documents, message and config scratch, tables" };
	total = 0;
	out("%-16s %10s %10s %12s  %s\n", "pool", "capacity", "bytes", "total",
	    "what");
	for (size_t i = 0; i < n; i++) {
		uint64_t t = rows[i].count * rows[i].bytes;

		total += t;
		out("%-16s %10llu %10llu %12llu  %s\n", rows[i].name,
		    (unsigned long long)rows[i].count,
		    (unsigned long long)rows[i].bytes, (unsigned long long)t,
		    rows[i].what);
	}
	out("%-16s %10s %10s %12llu  (%.1f MiB)\n", "total", "", "",
	    (unsigned long long)total, total / 1048576.0);
	out("max_connections=%d max_message=%d max_head=%d max_body=%d\n",
	    cfg.max_connections, cfg.max_message, WARD_MAX_HEAD, WARD_MAX_BODY);
}

/* tls_listen: the certificate and key, or one line naming the file and
 * what is wrong with it (--check-config says the same). */
static int
tls_start(void)
{
	char err[256];

	if (cfg.tls_listen[0] == '\0')
		return 0;
	if (tls_creds_load(cfg.tls_cert, cfg.tls_key, err, sizeof err) != 0) {
		log_error("config", "key=tls_cert detail=\"%s\"", err);
		return WARD_EINVAL;
	}
	if (err[0] != '\0')
		log_warn("config", "key=tls_cert detail=\"%s\"", err);
	return 0;
}

static int
dev_secret(void)
{
	uint8_t raw[24];
	char hex[49];
	char err[128];

	if (cfg.jwt_secret[0] != '\0')
		return 0;
	if (port_random(raw, sizeof raw) != 0)
		return WARD_EIO;
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return cfg_set("jwt_secret", hex, err, sizeof err);
}

/* Mint a token with the configured secret; 0 or negative. */
static int
mint(const char *sub, const char *role, const char *name,
    const char *practice, long ttl, char *out, size_t cap)
{
	struct auth_claims c;
	int64_t now = port_wall_us() / 1000000;

	memset(&c, 0, sizeof c);
	snprintf(c.sub, sizeof c.sub, "%s", sub);
	snprintf(c.role, sizeof c.role, "%s", role);
	snprintf(c.name, sizeof c.name, "%s", name ? name : "");
	snprintf(c.tenant, sizeof c.tenant, "%s",
	    practice ? practice : "");
	c.iat = now;
	c.has_iat = true;
	c.exp = now + ttl;
	c.has_exp = ttl > 0;
	return auth_sign_hs256(&c, out, cap) < 0 ? WARD_EINVAL : 0;
}

/* The TLS listener's port: listeners open plain ones first (listen),
 * then tls_listen's, so its first is the one after every listen entry. */
static int
dev_tls_port(void)
{
	const char *p = cfg.listen;
	int n = cfg.listen[0] != '\0';

	if (cfg.tls_listen[0] == '\0')
		return -1;
	while (n > 0 && (p = strchr(p, ',')) != NULL) {
		p++;
		n++;
	}
	return loop_listen_port(n);
}

/* https and wss lines when tls_listen is set; the CA is named when a
 * ca.pem sits next to tls_cert (make run: build/dev-tls, made by the
 * openssl CLI at build time, never committed). */
static void
dev_banner_tls(void)
{
	char ca[sizeof cfg.tls_cert + 8];
	const char *slash = strrchr(cfg.tls_cert, '/');
	int port = dev_tls_port(), dl;

	if (port < 0)
		return;
	dl = slash ? (int)(slash - cfg.tls_cert) + 1 : 0;
	snprintf(ca, sizeof ca, "%.*sca.pem", dl, cfg.tls_cert);
	if (port_file_size(ca) <= 0)
		snprintf(ca, sizeof ca, "YOUR-CA.pem");
	out("TLS on https://127.0.0.1:%d and wss:// (certificate %s, "
	    "CA %s):\n"
	    "  curl --cacert %s https://127.0.0.1:%d/health\n"
	    "  SSL_CERT_FILE=%s /usr/bin/python3 -m websockets "
	    "wss://127.0.0.1:%d/ws/echo\n\n",
	    port, cfg.tls_cert, ca, ca, port, ca, port);
}

static void
dev_banner(void)
{
	static const struct { const char *sub, *role, *name; } who[] = {
		{ "1", "admin", "Admin" },
		{ "7", "doctor", "Dr. Smith" },
		{ "42", "patient", "Pat Doe" },
	};
	int port = loop_listen_port(0);
	char tok[3][1024];

	for (size_t i = 0; i < ARRAY_LEN(who); i++)
		if (mint(who[i].sub, who[i].role, who[i].name, "1", 86400,
		    tok[i], sizeof tok[i]) != 0)
			tok[i][0] = '\0';
	out("\nward %s - development mode on http://127.0.0.1:%d\n"
	    "a random JWT secret was made for this run; tokens valid 24 h:\n"
	    "  export ADMIN=%s\n  export DOCTOR=%s\n  export PATIENT=%s\n\n"
	    "try:\n"
	    "  curl -s http://127.0.0.1:%d/health\n"
	    "  curl -s http://127.0.0.1:%d/consultation/socket-status/\n"
	    "  curl -s -H \"Authorization: Bearer $ADMIN\" "
	    "http://127.0.0.1:%d/consultation/socket-status/sockets/\n"
	    "  /usr/bin/python3 -m websockets ws://127.0.0.1:%d/ws/echo\n"
	    "  /usr/bin/python3 -m websockets "
	    "ws://127.0.0.1:%d/ws/call/room1/\n"
	    "  /usr/bin/python3 -m websockets \"ws://127.0.0.1:%d/ws/stt/room/"
	    "?role=doctor&name=Smith&room=r1\"\n"
	    "  /usr/bin/python3 -m websockets \"ws://127.0.0.1:%d/ws/stt/admin/"
	    "?token=$ADMIN\"\n\n",
	    WARD_VERSION, port, tok[0], tok[1], tok[2], port, port, port, port,
	    port, port, port);
	dev_banner_tls();
}

/* A --ttl value: whole seconds, 1 .. 10 years; -1 if not. */
static long
parse_ttl(const char *v)
{
	long n = 0;

	if (*v == '\0' || strspn(v, "0123456789") != strlen(v) ||
	    strlen(v) > 9)
		return -1;
	for (; *v != '\0'; v++)
		n = n * 10 + (*v - '0');
	return n >= 1 && n <= 315360000L ? n : -1;
}

static int
token_usage(const char *arg, const char *why)
{
	if (arg != NULL)
		log_error("token", "arg=\"%s\" detail=\"%s\"", arg, why);
	out("usage: ward token --sub ID --role ROLE [--name NAME] "
	    "[--practice ID] [--ttl SECONDS] [--config FILE] "
	    "[--set jwt_secret=...]\n");
	return 2;
}

/* ward token --sub 7 --role doctor [--name N] [--practice P] [--ttl S] */
static int
cmd_token(int argc, char **argv)
{
	const char *sub = NULL, *role = NULL, *name = NULL, *pr = NULL;
	long ttl = 3600;
	char tok[AUTH_TOKEN_MAX + 1];
	int i;

	for (i = 2; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			return token_usage(o, "needs a value");
		if (strcmp(o, "--sub") == 0)
			sub = v;
		else if (strcmp(o, "--role") == 0)
			role = v;
		else if (strcmp(o, "--name") == 0)
			name = v;
		else if (strcmp(o, "--practice") == 0)
			pr = v;
		else if (strcmp(o, "--ttl") == 0) {
			if ((ttl = parse_ttl(v)) < 0)
				return token_usage(v, "--ttl: expected whole "
				    "seconds from 1 to 315360000");
		} else if (strcmp(o, "--set") != 0 &&
		    strcmp(o, "--config") != 0)
			return token_usage(o, "unknown option");
	}
	if (sub == NULL || role == NULL || *sub == '\0' || *role == '\0')
		return token_usage("", "--sub and --role are needed");
	if (mint(sub, role, name, pr, ttl, tok, sizeof tok) != 0) {
		log_error("token", "detail=\"cannot sign: set jwt_secret "
		    "(--set jwt_secret=... or WARD_JWT_SECRET)\"");
		return 1;
	}
	out("%s\n", tok);
	return 0;
}

struct args {
	const char	*config;
	bool		 dev, check, print_limits, print_config;
};

/* First pass: options that are not --set. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	if (argc > 1 && strcmp(argv[1], "token") == 0) {
		for (int i = 2; i + 1 < argc; i += 2)
			if (strcmp(argv[i], "--config") == 0)
				a->config = argv[i + 1];
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if ((strcmp(s, "--config") == 0 || strcmp(s, "--set") == 0) &&
		    i + 1 >= argc) {
			log_error("usage", "arg=\"%s\" detail=\"%s\"", s,
			    s[2] == 'c' ? "needs a file: --config FILE" :
			    "needs KEY=VALUE: --set KEY=VALUE");
			return WARD_EINVAL;
		}
		if (strcmp(s, "--config") == 0)
			a->config = argv[++i];
		else if (strcmp(s, "--set") == 0)
			i++;
		else if (strcmp(s, "--dev") == 0)
			a->dev = true;
		else if (strcmp(s, "--check-config") == 0)
			a->check = true;
		else if (strcmp(s, "--print-limits") == 0)
			a->print_limits = true;
		else if (strcmp(s, "--print-config") == 0)
			a->print_config = true;
		else if (strcmp(s, "--version") == 0) {
			out("ward %s\nBearSSL: %s\n", WARD_VERSION,
			    WARD_BEARSSL_BUILD);
			exit(0);
		} else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			usage();
			exit(0);
		} else {
			log_error("usage", "arg=\"%s\" detail=\"unknown option; "
			    "see --help\"", s);
			return WARD_EINVAL;
		}
	}
	return 0;
}

static int
apply_sets(int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 1; i + 1 < argc; i++) {
		char kv[1024], *eq;

		if (strcmp(argv[i], "--set") != 0)
			continue;
		snprintf(kv, sizeof kv, "%s", argv[++i]);
		eq = strchr(kv, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "--set %.200s: expected KEY=VALUE", kv);
			return WARD_EINVAL;
		}
		*eq = '\0';
		if (cfg_set(kv, eq + 1, err, errlen) != 0)
			return WARD_EINVAL;
	}
	return 0;
}

static int
configure(int argc, char **argv, struct args *a)
{
	char err[512] = "";

	cfg_defaults();
	if (parse_args(argc, argv, a) != 0)
		return 2;
	if ((a->config && cfg_load_file(a->config, err, sizeof err) != 0) ||
	    cfg_load_env(err, sizeof err) != 0 ||
	    apply_sets(argc, argv, err, sizeof err) != 0 ||
	    cfg_validate(err, sizeof err) != 0) {
		log_error("config", "detail=\"%s\"", err);
		return 2;
	}
	cfg.dev = a->dev;
	if (a->dev && dev_secret() != 0)
		return 1;
	if (auth_init(cfg.jwt_secret, strlen(cfg.jwt_secret),
	    cfg.jwt_public_key[0] ? cfg.jwt_public_key : NULL, err,
	    sizeof err) != 0) {
		log_error("config", "key=jwt detail=\"%s\"", err);
		return 2;
	}
	if (!auth_configured() && !a->print_config && !a->print_limits &&
	    !(argc > 1 && strcmp(argv[1], "token") == 0))
		log_warn("auth", "reason=no_secret detail=\"no token "
		    "verification key: every token is refused (401, close "
		    "1008); set jwt_secret (--set jwt_secret=<32+ random "
		    "bytes> or WARD_JWT_SECRET) or jwt_public_key (a PEM "
		    "file), or run --dev\"");
	return 0;
}

int
main(int argc, char **argv)
{
	struct args a = { 0 };
	char err[256];
	int rc;

	port_init();
	if (svc_index_register(err, sizeof err) != 0) {
		log_error("families", "detail=\"%s\"", err);
		return 1;
	}
	if ((rc = configure(argc, argv, &a)) != 0)
		return rc;
	if (argc > 1 && strcmp(argv[1], "token") == 0)
		return cmd_token(argc, argv);
	if (a.print_config) {
		cfg_print();
		return 0;
	}
	if (a.print_limits) {
		print_limits();
		return 0;
	}
	if (tls_start() != 0)
		return 2;
	if (a.check) {
		out("configuration ok\n");
		return 0;
	}
	buf_init();
	conn_init();
	fanout_init();
	if (loop_listen(cfg.listen, false) != 0 ||
	    loop_listen(cfg.tls_listen, true) != 0)
		return 1;
	if (!journal_storage_ok())
		log_warn("data_dir", "path=\"%s\" detail=\"not writable: "
		    "/health/ready answers 503\"", cfg.data_dir);
	else if (journal_open() != 0)
		log_error("journal", "detail=\"storage unusable: changes "
		    "answer 503\"");
	svc_index_start();
	if (bus_start() != 0) {
		log_error("redis", "addr=%s detail=\"cannot start the client\"",
		    cfg.redis);
		return 1;
	}
	if (a.dev)
		dev_banner();
	rc = loop_run();
	bus_stop();
	journal_close();
	return rc;
}
