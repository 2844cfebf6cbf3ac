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

static void
out(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		port_print(line, MIN((size_t)n, sizeof line - 1));
}

static void
usage(void)
{
	out("usage: ward [options]\n"
	    "  --config FILE        read key = value settings from FILE\n"
	    "  --set KEY=VALUE      set one key (repeatable; wins over the file "
	    "and the environment)\n"
	    "  --dev                development mode: random JWT secret, "
	    "banner with examples\n"
	    "  --check-config       validate the configuration and exit\n"
	    "  --print-config       print the effective configuration\n"
	    "  --print-limits       print every pool with its capacity and "
	    "bytes, and the total\n"
	    "  --version, --help\n"
	    "Configuration keys and environment variables: see README.md.\n");
}

struct pool_row {
	const char	*name;
	uint64_t	 count, bytes;
	const char	*what;
};

static void
print_limits(void)
{
	struct buf_stats bs;
	uint64_t total = 0;
	struct pool_row rows[8];
	size_t n = 0;

	buf_init();
	buf_stats(&bs);
	rows[n++] = (struct pool_row){ "connections", WARD_CONN_SLOTS,
	    sizeof(struct conn), "per-connection state (incl. spare slots)" };
	rows[n++] = (struct pool_row){ "event_slots", WARD_EV_SLOTS, 16,
	    "poll()/epoll registrations" };
	rows[n++] = (struct pool_row){ "buf_small", bs.cap[BUF_SMALL],
	    bs.size[BUF_SMALL], "small outbound frames" };
	rows[n++] = (struct pool_row){ "buf_io", bs.cap[BUF_IO],
	    bs.size[BUF_IO], "reads in flight, heads, responses" };
	rows[n++] = (struct pool_row){ "buf_big", bs.cap[BUF_BIG],
	    bs.size[BUF_BIG], "reassembled messages, request bodies" };
	rows[n++] = (struct pool_row){ "buf_headers", bs.cap[BUF_SMALL] +
	    bs.cap[BUF_IO] + bs.cap[BUF_BIG] + bs.cap[BUF_EXT], 32,
	    "buffer descriptors (incl. static refs)" };
	rows[n++] = (struct pool_row){ "queue_entries", WARD_QENT_COUNT, 8,
	    "outbound (recipient, frame) references" };
	rows[n++] = (struct pool_row){ "json_tokens", WARD_JSON_TOKENS, 40,
	    "JSON tokens (one document at a time)" };
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

static void
dev_banner(void)
{
	int port = loop_listen_port(0);

	out("\nward %s - development mode\n"
	    "  listening on http://127.0.0.1:%d (and the other listen= "
	    "addresses)\n"
	    "  a random JWT secret was made for this run\n\n"
	    "try:\n"
	    "  curl -s http://127.0.0.1:%d/health\n"
	    "  curl -si http://127.0.0.1:%d/ws/echo        # 426: a WebSocket "
	    "path\n"
	    "  python3 -m websockets ws://127.0.0.1:%d/ws/echo\n"
	    "  npx wscat -c ws://127.0.0.1:%d/ws/echo\n\n",
	    WARD_VERSION, port, port, port, port, port);
}

struct args {
	const char	*config;
	bool		 dev, check, print_limits, print_config;
};

/* First pass: options that are not --set. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--config") == 0 && i + 1 < argc)
			a->config = argv[++i];
		else if (strcmp(s, "--set") == 0 && i + 1 < argc)
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
			out("ward %s\n", WARD_VERSION);
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
	return 0;
}

int
main(int argc, char **argv)
{
	struct args a = { 0 };
	int rc;

	port_init();
	if ((rc = configure(argc, argv, &a)) != 0)
		return rc;
	if (a.print_config)
		cfg_print();
	if (a.print_limits) {
		print_limits();
		return 0;
	}
	if (a.check) {
		out("configuration ok\n");
		return 0;
	}
	buf_init();
	conn_init();
	if (loop_listen(cfg.listen, false) != 0)
		return 1;
	if (a.dev)
		dev_banner();
	return loop_run();
}
