/*
 * loop.c - the event loop: listeners, accepting, the turn, signals.
 *
 * One turn: wait for events -> accept / read / write -> flush every dirty
 * connection (one writev each) -> every WARD_TICK_MS sweep timers ->
 * reap the connections that failed during the turn -> wake connections
 * paused for buffers -> flush again.  SIGTERM starts draining: listeners
 * close, WebSockets get 1001, and the loop ends when the last connection
 * is gone or WARD_SHUTDOWN_MS has passed.  SIGHUP reloads the TLS
 * certificate and key (tls_creds_reload: new handshakes use the new pair,
 * live connections keep theirs; a refused pair leaves the old one).
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "tls.h"

struct listener {
	int	fd;
	bool	tls;
	bool	paused;
	int	port;
	char	addr[128];
};

static struct listener lst[WARD_MAX_LISTENERS];
static int nlst;
static bool reload_due;		/* SIGHUP seen, reload not yet done */
bool loop_draining;
static uint64_t started_us;

uint64_t
loop_started_us(void)
{
	return started_us;
}

int
loop_listen_port(int i)
{
	return i < nlst ? lst[i].port : -1;
}

/* Split "host:port" / "[v6]:port" / ":port" into host and port. */
static int
split_addr(const char *a, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon;
	size_t hl;

	if (a[0] == '[') {
		const char *rb = strchr(a, ']');

		if (rb == NULL || rb[1] != ':')
			return WARD_EINVAL;
		hl = (size_t)(rb - a - 1);
		if (hl >= hcap)
			return WARD_EINVAL;
		memcpy(host, a + 1, hl);
		host[hl] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL || (size_t)(colon - a) >= hcap)
			return WARD_EINVAL;
		hl = (size_t)(colon - a);
		memcpy(host, a, hl);
		host[hl] = '\0';
	}
	if (colon[1] == '\0' || strlen(colon + 1) >= pcap)
		return WARD_EINVAL;
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return WARD_EINVAL;
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

static int
listen_one(const char *a, bool tls)
{
	char host[64], port[8];
	struct listener *l;
	int fd;

	if (nlst >= WARD_MAX_LISTENERS)
		return WARD_ENOMEM;
	if (split_addr(a, host, sizeof host, port, sizeof port) != 0) {
		log_error("listen", "addr=\"%s\" detail=\"expected host:port\"", a);
		return WARD_EINVAL;
	}
	fd = port_listen(host, port, 511);
	if (fd < 0) {
		log_error("listen", "addr=%s error=%d detail=\"%s\"", a, fd,
		    fd == PORT_EADDRINUSE ? "address in use" : "cannot listen");
		return fd;
	}
	l = &lst[nlst];
	l->fd = fd;
	l->tls = tls;
	l->paused = false;
	l->port = port_local_port(fd);
	snprintf(l->addr, sizeof l->addr, "%s", a);
	if (port_ev_add(fd, WARD_CONN_SLOTS + (uint32_t)nlst, PORT_EV_IN) != 0) {
		port_close(fd, false);
		return WARD_EIO;
	}
	log_info("listen", "addr=%s port=%d tls=%d backend=%s", a, l->port,
	    tls, port_ev_backend());
	nlst++;
	return 0;
}

int
loop_listen(const char *list, bool tls)
{
	char item[128];
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		int rc;

		while (l > 0 && *p == ' ') {
			p++;
			l--;
		}
		if (l == 0 || l >= sizeof item)
			return WARD_EINVAL;
		memcpy(item, p, l);
		item[l] = '\0';
		if ((rc = listen_one(item, tls)) != 0)
			return rc;
		p += l + (e != NULL);
	}
	return 0;
}

/* No slot at all (spare slots used up): best-effort 503, then close. */
static void
refuse_now(int fd)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\nContent-Length: 45\r\n"
	    "Connection: close\r\nRetry-After: 1\r\n\r\n"
	    "{\"error\":\"unavailable\",\"detail\":\"server full\"}";
	struct port_iov iov = { msg, sizeof msg - 1 };

	port_writev(fd, &iov, 1);
	port_close(fd, false);
	stats.refused_full++;
}

/* A TLS listener: a slot of the TLS pool first; none (the pool, or
 * tls_max_connections, is full): that one client is closed, nobody else
 * notices. */
static void
accept_tls(int fd, int i, const struct port_addr *peer)
{
	struct tls_conn *t = NULL;
	struct conn *c;

	if (tls_conn_used() < (unsigned)cfg.tls_max_conns)
		t = tls_conn_take();
	if (t == NULL) {
		stats.tls_refused++;
		log_debug("tls_refused", "used=%u capacity=%d", tls_conn_used(),
		    cfg.tls_max_conns);
		port_close(fd, true);
		return;
	}
	c = conn_new(fd, i, peer);
	if (c == NULL) {
		tls_conn_reset(t);
		port_close(fd, true);
		stats.refused_full++;
		return;
	}
	c->tls = t;
}

static void
accept_ready(int i)
{
	struct listener *l = &lst[i];

	for (int k = 0; k < 64; k++) {
		struct port_addr peer;
		int fd = port_accept(l->fd, &peer);

		if (fd == PORT_EAGAIN)
			return;
		if (fd == PORT_EMFILE) {
			/* out of descriptors: stop accepting for a tick */
			log_warn("accept", "detail=\"out of file descriptors\"");
			port_ev_mod(l->fd, WARD_CONN_SLOTS + (uint32_t)i, 0);
			l->paused = true;
			return;
		}
		if (fd < 0)
			continue;
		stats.accepted++;
		if (l->tls)
			accept_tls(fd, i, &peer);
		else if (conn_new(fd, i, &peer) == NULL)
			refuse_now(fd);
	}
}

static void
listeners_resume(void)
{
	for (int i = 0; i < nlst; i++) {
		if (!lst[i].paused || lst[i].fd < 0)
			continue;
		lst[i].paused = false;
		port_ev_mod(lst[i].fd, WARD_CONN_SLOTS + (uint32_t)i, PORT_EV_IN);
	}
}

static void
listeners_close(void)
{
	for (int i = 0; i < nlst; i++) {
		if (lst[i].fd < 0)
			continue;
		port_ev_del(lst[i].fd, WARD_CONN_SLOTS + (uint32_t)i);
		port_close(lst[i].fd, false);
		lst[i].fd = -1;
	}
}

static void
drain_begin(void)
{
	loop_draining = true;
	port_notify("STOPPING=1");
	log_info("shutdown", "connections=%u", conn_active());
	listeners_close();
	conn_shutdown_all();
}

static void
dispatch_events(struct port_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		uint32_t t = ev[i].token;

		if (t >= WARD_CONN_SLOTS) {
			if (t - WARD_CONN_SLOTS < (uint32_t)nlst)
				accept_ready((int)(t - WARD_CONN_SLOTS));
		} else {
			conn_on_event(&conns[t], ev[i].events);
		}
	}
}

/* SIGHUP: the certificate and key again, into the spare slot. */
static void
tls_reload(void)
{
	char err[256];
	int rc;

	if (!reload_due)
		return;
	if (cfg.tls_listen[0] == '\0') {
		reload_due = false;
		return;
	}
	rc = tls_creds_reload(cfg.tls_cert, cfg.tls_key, err, sizeof err);
	if (rc == WARD_EAGAIN)
		return;			/* handshakes still pin the spare */
	reload_due = false;
	if (rc != 0) {
		log_error("tls_reload", "detail=\"%s\" kept=%u", err,
		    tls_creds_generation());
		return;
	}
	if (err[0] != '\0')
		log_warn("tls_reload", "detail=\"%s\"", err);
	log_info("tls_reload", "generation=%u cert=\"%s\"",
	    tls_creds_generation(), cfg.tls_cert);
}

static void
tick(uint64_t now, uint64_t *next_wd, uint64_t wd_us)
{
	tls_reload();
	conn_sweep();
	journal_tick();
	listeners_resume();
	if (wd_us > 0 && now >= *next_wd) {
		port_notify("WATCHDOG=1");	/* only while turns happen */
		*next_wd = now + wd_us / 2000;
	}
}

int
loop_run(void)
{
	static struct port_event ev[256];
	uint64_t now = port_now_ms(), next_tick = now + WARD_TICK_MS;
	uint64_t wd_us = port_watchdog_usec(), next_wd = now, deadline = 0;

	started_us = port_now_us();
	now_ms = (uint32_t)now;
	now_wall_us = port_wall_us();
	port_notify("READY=1\nSTATUS=serving");
	for (;;) {
		int timeout = next_tick > now ? (int)(next_tick - now) : 0, n;
		bool due = timeout == 0;
		uint32_t woke;
		unsigned sig;

		if (conn_paused_ready() || conn_tls_pending())
			timeout = 0;	/* buffers came back, or plaintext waits
					 * in a TLS engine: go on at once */

		n = port_ev_wait(ev, (int)ARRAY_LEN(ev), timeout);
		now = port_now_ms();
		now_ms = (uint32_t)now;
		now_wall_us = port_wall_us();
		dispatch_events(ev, n);
		woke = conn_read_tls_pending();
		/*
		 * A connection's input fanned out to many: read it again
		 * before writing (a recv each, not a poll of every socket), so
		 * each recipient gets what followed in the same writev, the
		 * group's frames merged into one buffer (fanout_send).
		 */
		for (int round = 0; round < 4 && conn_read_hot(); round++)
			;
		conn_flush_all();
		if (now >= next_tick) {
			tick(now, &next_wd, wd_us);
			next_tick = now + WARD_TICK_MS;
		}
		conn_reap();
		woke += conn_resume_paused();
		/* a zero wait must have been worth it: events, the tick, or a
		 * paused connection that went on (GET /metrics counts spins) */
		if (timeout == 0) {
			stats.loop_zero_waits++;
			if (n == 0 && !due && woke == 0)
				stats.loop_spins++;
		}
		conn_flush_all();
		conn_reap();
		sig = port_signals_take();
		if (sig & PORT_SIG_HUP) {
			reload_due = true;
			tls_reload();
		}
		if ((sig & PORT_SIG_TERM) && !loop_draining) {
			drain_begin();
			deadline = now + WARD_SHUTDOWN_MS;
		}
		if (loop_draining && (conn_active() == 0 || now >= deadline))
			break;
	}
	for (uint32_t i = 0; i < WARD_CONN_SLOTS; i++)
		if (conns[i].state != CS_FREE)
			conn_drop(&conns[i], false);
	conn_reap();
	log_info("stopped", "accepted=%llu handshakes=%llu",
	    (unsigned long long)stats.accepted,
	    (unsigned long long)stats.handshakes);
	return 0;
}
