/*
 * redis_client_test.c - src/redis.c against a real redis-server.
 *
 * Starts redis-server (Debian's) with requirepass on a free loopback port
 * and a Unix socket in a temporary directory, and drives the client
 * through port_ev_wait exactly as loop.c will (tokens WARD_REDIS_TOKEN +
 * 0/1, redis_flush after dispatch, redis_tick).  Checks: AUTH with a
 * wrong password is a clean error, AUTH ok, SELECT, 1,000 pipelined
 * SET/GET/INCR matched in order, PUBLISH received on the subscribe link
 * (SUBSCRIBE and PSUBSCRIBE, binary and large payloads), the list
 * operations of the shared queues, a reply above the limits resetting the
 * link and the client coming back, redis-server killed and restarted
 * (down, pending answered with NULL, reconnect with backoff, resubscribed,
 * bounded in time), a silent server (SIGSTOP) found by the keep-alive,
 * the Unix socket, an ACL user; and no heap call in the
 * process while the client runs (malloc interposed, outside ASan).
 *
 * Every wait is bounded; an alarm ends a stuck run.  Prints
 * "N passed, M failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "redis.h"

unsigned check_passed, check_failed;
const char *check_suite = "redis";

#define PASSWORD	"w4rd-test-pw"

/* ------------------------------------------------------ heap counting */

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_COUNTED	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_COUNTED	0
#endif
#endif
#ifndef HEAP_COUNTED
#define HEAP_COUNTED	1
#endif

static volatile int heap_on;
static volatile unsigned long heap_calls;

#if HEAP_COUNTED
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *
malloc(size_t n)
{
	heap_calls += heap_on;
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	heap_calls += heap_on;
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	heap_calls += heap_on;
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	if (p != NULL)
		heap_calls += heap_on;
	__libc_free(p);
}
#endif

/* ------------------------------------------------------- redis-server */

static char tmpdir[256], sockpath[300];
static int rport;
static pid_t rpid = -1;

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

static bool
port_open(int p)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)p);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void
ms_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool
server_start(void)
{
	char port[16], log[300];

	snprintf(port, sizeof port, "%d", rport);
	snprintf(log, sizeof log, "%s/redis.log", tmpdir);
	rpid = fork();
	if (rpid < 0)
		return false;
	if (rpid == 0) {
		int nul = open("/dev/null", O_RDWR);

		/* never outlive the driver (a crash must not leave it) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execlp("redis-server", "redis-server", "--port", port,
		    "--bind", "127.0.0.1", "--requirepass", PASSWORD,
		    "--save", "", "--appendonly", "no", "--daemonize", "no",
		    "--unixsocket", sockpath, "--unixsocketperm", "700",
		    "--dir", tmpdir, "--logfile", log, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int st;

		if (port_open(rport))
			return true;
		if (waitpid(rpid, &st, WNOHANG) == rpid) {
			rpid = -1;
			return false;
		}
		ms_sleep(10);
	}
	return false;
}

static void
server_kill(void)
{
	if (rpid > 0) {
		kill(rpid, SIGKILL);
		waitpid(rpid, NULL, 0);
		rpid = -1;
	}
}

static void
cleanup(void)
{
	char p[320];

	server_kill();
	unlink(sockpath);
	snprintf(p, sizeof p, "%s/redis.log", tmpdir);
	unlink(p);
	snprintf(p, sizeof p, "%s/dump.rdb", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

static void
on_alarm(int sig)
{
	(void)sig;
	if (rpid > 0)
		kill(rpid, SIGKILL);
	unlink(sockpath);
	fprintf(stderr, "redis_client_test: timed out (files left in %s)\n",
	    tmpdir);
	printf("%u passed, %u failed\n", check_passed, check_failed + 1);
	_exit(1);
}

/* --------------------------------------------------------- the loop */

/* One turn as loop.c will do it. */
static void
turn(int max_ms)
{
	struct port_event ev[8];
	uint64_t now = port_now_ms();
	int t = redis_timeout_ms(now), n;

	if (t < 0 || t > max_ms)
		t = max_ms;
	n = port_ev_wait(ev, (int)ARRAY_LEN(ev), t);
	for (int i = 0; i < n; i++)
		if (redis_owns_token(ev[i].token))
			redis_on_event(ev[i].token, ev[i].events);
	redis_flush();
	redis_tick(port_now_ms());
}

/* Turn until cond() or ms have passed; true if cond() held. */
static bool
pump(bool (*cond)(void), int ms)
{
	uint64_t end = port_now_ms() + (uint64_t)ms;

	while (!cond()) {
		if (port_now_ms() >= end)
			return false;
		turn(20);
	}
	return true;
}

static bool
is_up(void)
{
	return redis_up();
}

static bool
is_down(void)
{
	return !redis_up();
}

static bool
has_error(void)
{
	return redis_last_error()[0] != '\0';
}

/* -------------------------------------------------------- callbacks */

static struct {
	unsigned	seq, order_bad, value_bad, nulls, got;
	int64_t		incr;
} pl;

static struct {
	unsigned	n;
	char		channel[64], pattern[64];
	size_t		len;
	uint8_t		payload[70000];
} msg;

/* A single reply kept for a check (copied out of the callback). */
static struct {
	bool		got, null;
	int		type;
	int64_t		num;
	uint32_t	nelem;
	char		text[512];
	size_t		n;
	char		first[32], last[32];
} one;

static void
keep_one(void *arg, const struct redis_reply *r)
{
	(void)arg;
	memset(&one, 0, sizeof one);
	one.got = true;
	if (r == NULL) {
		one.null = true;
		return;
	}
	one.type = r->e[0].type;
	one.num = r->e[0].num;
	one.nelem = r->n;
	one.n = r->e[0].n;
	if (r->e[0].p != NULL)
		snprintf(one.text, sizeof one.text, "%.*s",
		    (int)MIN(r->e[0].n, sizeof one.text - 1), r->e[0].p);
	if (r->n > 1) {
		snprintf(one.first, sizeof one.first, "%.*s",
		    (int)MIN(r->e[1].n, (size_t)31), r->e[1].p);
		snprintf(one.last, sizeof one.last, "%.*s",
		    (int)MIN(r->e[r->n - 1].n, (size_t)31), r->e[r->n - 1].p);
	}
}

static bool
got_one(void)
{
	return one.got;
}

static void
on_message(void *arg, const struct redis_msg *m)
{
	(void)arg;
	msg.n++;
	snprintf(msg.channel, sizeof msg.channel, "%.*s", (int)m->channel.n,
	    m->channel.p);
	snprintf(msg.pattern, sizeof msg.pattern, "%.*s", (int)m->pattern.n,
	    m->pattern.p);
	msg.len = MIN(m->payload.n, sizeof msg.payload);
	memcpy(msg.payload, m->payload.p, msg.len);
}

static unsigned ups, downs;

static void
on_state(void *arg, bool up)
{
	(void)arg;
	if (up)
		ups++;
	else
		downs++;
}

/* Send a command and wait for its reply into `one`. */
static bool
call(int argc, const struct str *argv)
{
	memset(&one, 0, sizeof one);
	if (redis_cmd(keep_one, NULL, argc, argv) != 0)
		return false;
	return pump(got_one, 3000);
}

#define S(x)	((struct str){ (x), strlen(x) })

static bool
call2(const char *a, const char *b)
{
	struct str v[2] = { S(a), { b, b != NULL ? strlen(b) : 0 } };

	return call(b != NULL ? 2 : 1, v);
}

static bool
call3(const char *a, const char *b, const char *c)
{
	struct str v[3] = { S(a), S(b), S(c) };

	return call(3, v);
}

static struct redis_opts
opts(const char *addr, const char *user, const char *pw, int db)
{
	struct redis_opts o;

	memset(&o, 0, sizeof o);
	o.addr = addr;
	o.user = user;
	o.password = pw;
	o.db = db;
	o.backoff_min_ms = 50;
	o.backoff_max_ms = 800;
	o.on_message = on_message;
	o.on_state = on_state;
	return o;
}

/* ------------------------------------------------------------ tests */

static char tcp_addr[64];

static void
test_wrong_password(void)
{
	struct redis_opts o = opts(tcp_addr, NULL, "not-the-password", 0);

	CHECK_EQ(redis_start(&o), 0);
	CHECK(pump(has_error, 3000));
	CHECK(!redis_up());
	CHECK(strstr(redis_last_error(), "WRONGPASS") != NULL ||
	    strstr(redis_last_error(), "invalid") != NULL);
	CHECK_EQ(redis_cmd(NULL, NULL, 1, &STR_LIT("PING")), WARD_EIO);
	fprintf(stderr, "  wrong password: \"%s\"\n", redis_last_error());
	redis_stop();
}

static void
test_auth_select(void)
{
	struct redis_opts o = opts(tcp_addr, NULL, PASSWORD, 3);

	CHECK_EQ(redis_start(&o), 0);
	CHECK(pump(is_up, 3000));
	CHECK(call2("PING", NULL) && one.type == RESP_STATUS &&
	    strcmp(one.text, "PONG") == 0);
	CHECK(call2("CLIENT", "INFO") && one.type == RESP_BULK &&
	    strstr(one.text, " db=3 ") != NULL);
	CHECK(call3("SET", "sel:key", "in-db-3") && one.type == RESP_STATUS);
	CHECK(call2("FLUSHDB", NULL) && strcmp(one.text, "OK") == 0);
	CHECK(call2("GET", "nokey") && one.type == RESP_NIL);
	CHECK(call2("NOSUCHCOMMAND", NULL) && one.type == RESP_ERROR &&
	    strncmp(one.text, "ERR", 3) == 0);
	CHECK(redis_up());	/* an error reply is not a link failure */
}

static void
pipe_cb(void *arg, const struct redis_reply *r)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	char want[32];

	pl.got++;
	if (r == NULL) {
		pl.nulls++;
		return;
	}
	if (i != pl.seq++)
		pl.order_bad++;
	switch (i % 3) {
	case 0:
		pl.value_bad += r->e[0].type != RESP_STATUS;
		break;
	case 1:
		snprintf(want, sizeof want, "v%u", i - 1);
		pl.value_bad += r->e[0].type != RESP_BULK ||
		    r->e[0].n != strlen(want) ||
		    memcmp(r->e[0].p, want, r->e[0].n) != 0;
		break;
	default:
		pl.value_bad += r->e[0].type != RESP_INT ||
		    r->e[0].num != ++pl.incr;
	}
}

static bool
pipe_done(void)
{
	return pl.got == 1000;
}

static void
test_pipeline(void)
{
	struct redis_stats st;
	char key[1000][16], val[1000][16];
	unsigned refused = 0;

	memset(&pl, 0, sizeof pl);
	for (unsigned i = 0; i < 1000; i++) {
		struct str a[3];
		int argc;

		snprintf(key[i], sizeof key[i], "p:%u", i % 3 == 1 ? i - 1 : i);
		snprintf(val[i], sizeof val[i], "v%u", i);
		if (i % 3 == 0) {
			a[0] = S("SET");
			a[1] = S(key[i]);
			a[2] = S(val[i]);
			argc = 3;
		} else if (i % 3 == 1) {
			a[0] = S("GET");
			a[1] = S(key[i]);
			argc = 2;
		} else {
			a[0] = S("INCR");
			a[1] = S("p:counter");
			argc = 2;
		}
		refused += redis_cmd(pipe_cb, (void *)(uintptr_t)i, argc,
		    a) != 0;
	}
	CHECK_EQ(refused, 0);
	redis_stats(&st);
	CHECK_EQ(st.pending, 1000);	/* all in flight through the ring */
	CHECK(pump(pipe_done, 5000));
	CHECK_EQ(pl.seq, 1000);
	CHECK_EQ(pl.order_bad, 0);
	CHECK_EQ(pl.value_bad, 0);
	CHECK_EQ(pl.nulls, 0);
	CHECK_EQ(pl.incr, 333);
	redis_stats(&st);
	CHECK_EQ(st.pending, 0);
	CHECK(st.replies >= 1000 && st.commands >= 1000);
}

static unsigned msg_want;

static bool
msg_arrived(void)
{
	return msg.n >= msg_want;
}

static bool
two_subs(void)
{
	struct redis_stats st;

	redis_stats(&st);
	return st.subs == 2 && redis_up();
}

static bool
publish(const char *ch, const void *p, size_t n)
{
	struct str a[3] = { S("PUBLISH"), S(ch), { p, n } };

	msg_want = msg.n + 1;
	if (!call(3, a) || one.type != RESP_INT || one.num != 1)
		return false;
	return pump(msg_arrived, 3000);
}

static void
test_pubsub(void)
{
	static uint8_t big[60000];
	static const uint8_t bin[] = "a\r\nb\0c\r\n";

	CHECK_EQ(redis_subscribe("ward:test:a"), 0);
	CHECK_EQ(redis_psubscribe("ward:p:*"), 0);
	CHECK_EQ(redis_subscribe("ward:test:a"), 0);	/* once only */
	CHECK(pump(two_subs, 3000));
	CHECK(publish("ward:test:a", "hello", 5));
	CHECK_STR(msg.channel, "ward:test:a");
	CHECK(msg.len == 5 && memcmp(msg.payload, "hello", 5) == 0);
	CHECK_STR(msg.pattern, "");
	CHECK(publish("ward:p:room1", "pm", 2));
	CHECK_STR(msg.pattern, "ward:p:*");
	CHECK_STR(msg.channel, "ward:p:room1");
	CHECK(publish("ward:test:a", bin, sizeof bin - 1));
	CHECK(msg.len == sizeof bin - 1 &&
	    memcmp(msg.payload, bin, sizeof bin - 1) == 0);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7 + 1);
	CHECK(publish("ward:test:a", big, sizeof big));
	CHECK(msg.len == sizeof big && memcmp(msg.payload, big,
	    sizeof big) == 0);
	/* nobody on this channel */
	CHECK(call3("PUBLISH", "ward:nobody", "x") && one.num == 0);
}

static void
test_lists(void)
{
	char v[16];
	unsigned bad = 0;

	CHECK(call2("DEL", "ward:q:test"));
	for (int i = 0; i < 120; i++) {
		snprintf(v, sizeof v, "m%d", i);
		bad += !call3("LPUSH", "ward:q:test", v) || one.num != i + 1;
	}
	CHECK_EQ(bad, 0);
	{
		struct str a[4] = { S("LTRIM"), S("ward:q:test"), S("0"),
		    S("99") };

		CHECK(call(4, a) && strcmp(one.text, "OK") == 0);
	}
	CHECK(call2("LLEN", "ward:q:test") && one.num == 100);
	{
		struct str a[4] = { S("LRANGE"), S("ward:q:test"), S("0"),
		    S("-1") };

		CHECK(call(4, a) && one.type == RESP_ARRAY && one.num == 100 &&
		    one.nelem == 101);
		CHECK_STR(one.first, "m119");	/* newest first */
		CHECK_STR(one.last, "m20");	/* oldest kept */
	}
	CHECK(call2("RPOP", "ward:q:test") && one.type == RESP_BULK);
	CHECK_STR(one.text, "m20");
	CHECK(call2("LLEN", "ward:q:test") && one.num == 99);
	CHECK(call2("RPOP", "ward:q:none") && one.type == RESP_NIL);
	/* after 1.5 s of steady traffic (no keep-alive PING due), the loop
	 * may still sleep: no busy wake-ups */
	{
		uint64_t end = port_now_ms() + 1500;
		unsigned zero = 0, pongs = 0;

		while (port_now_ms() < end) {
			pongs += call2("PING", NULL);
			for (int i = 0; i < 5; i++) {
				zero += redis_timeout_ms(port_now_ms()) == 0;
				turn(20);
			}
		}
		CHECK(pongs >= 10);
		CHECK_EQ(zero, 0);
	}
	/* a reply with more elements than WARD_REDIS_REPLY_ELEMS: an error
	 * for that command only, the link stays up and in sync */
	{
		static struct str a[WARD_REDIS_REPLY_ELEMS + 2];
		static char wide[WARD_REDIS_REPLY_ELEMS][12];
		struct str r[4] = { S("LRANGE"), S("ward:q:wide"), S("0"),
		    S("-1") };

		a[0] = S("RPUSH");
		a[1] = S("ward:q:wide");
		for (int i = 0; i < WARD_REDIS_REPLY_ELEMS; i++) {
			snprintf(wide[i], sizeof wide[i], "%d", i);
			a[i + 2] = S(wide[i]);
		}
		CHECK(call(WARD_REDIS_REPLY_ELEMS + 2, a) &&
		    one.num == WARD_REDIS_REPLY_ELEMS);
		CHECK(call(4, r) && one.type == RESP_ERROR);
		CHECK_STR(one.text, "ERR ward: reply too large");
		CHECK(redis_up());
		CHECK(call2("LLEN", "ward:q:wide") &&
		    one.num == WARD_REDIS_REPLY_ELEMS);
		CHECK(call2("DEL", "ward:q:wide") && one.num == 1);
	}
}

/* A bulk above WARD_REDIS_MAX_BULK: the link resets, the client returns. */
static void
test_oversize(void)
{
	static char big[WARD_REDIS_MAX_BULK + 100];
	struct str a[3] = { S("SET"), S("ward:big"), { big, sizeof big } };

	memset(big, 'x', sizeof big);
	CHECK(call(3, a) && strcmp(one.text, "OK") == 0);
	CHECK(call2("GET", "ward:big") && one.null);
	CHECK(!redis_up());
	CHECK(strstr(redis_last_error(), "limits") != NULL);
	CHECK(pump(is_up, 3000));
	CHECK(call2("DEL", "ward:big") && one.num == 1);
	CHECK(pump(two_subs, 3000));
}

static void
test_restart(void)
{
	struct redis_stats st0, st;
	uint64_t t0;
	int ok = 0;

	redis_stats(&st0);
	/* three commands in flight when the server dies */
	memset(&pl, 0, sizeof pl);
	for (unsigned i = 0; i < 3; i++)
		ok += redis_cmd(pipe_cb, (void *)(uintptr_t)(i * 3 + 2), 3,
		    (struct str[]){ S("BLPOP"), S("ward:never"), S("0") }) == 0;
	CHECK_EQ(ok, 3);
	redis_flush();
	heap_on = 0;
	server_kill();
	heap_on = 1;
	CHECK(pump(is_down, 2000));
	CHECK_EQ(pl.nulls, 3);
	CHECK_EQ(redis_cmd(NULL, NULL, 1, &STR_LIT("PING")), WARD_EIO);
	pump(is_up, 600);	/* a few refused attempts, backing off */
	CHECK(!redis_up());
	heap_on = 0;
	CHECK(server_start());
	heap_on = 1;
	t0 = port_now_ms();
	CHECK(pump(two_subs, 5000));
	fprintf(stderr, "  back up %llu ms after the restart\n",
	    (unsigned long long)(port_now_ms() - t0));
	CHECK(port_now_ms() - t0 < 800 + 2000);	/* backoff cap + slack */
	redis_stats(&st);
	CHECK(st.reconnects > st0.reconnects);
	CHECK(st.downs > st0.downs);
	CHECK(st.failed >= st0.failed + 3);
	CHECK(publish("ward:test:a", "after", 5));
	CHECK(msg.len == 5 && memcmp(msg.payload, "after", 5) == 0);
	CHECK(publish("ward:p:again", "p2", 2));
	CHECK_STR(msg.pattern, "ward:p:*");
}

/* A silent server (SIGSTOP: no RST, no EOF) is found by the keep-alive. */
static void
test_silence(void)
{
	uint64_t t0, waited;

	CHECK(pump(two_subs, 3000));
	kill(rpid, SIGSTOP);
	t0 = port_now_ms();
	CHECK(pump(is_down, WARD_REDIS_DEAD_MS + WARD_REDIS_PING_MS + 1000));
	waited = port_now_ms() - t0;
	fprintf(stderr, "  silent server found down after %llu ms\n",
	    (unsigned long long)waited);
	CHECK(waited >= WARD_REDIS_PING_MS);
	CHECK(strstr(redis_last_error(), "no reply") != NULL);
	kill(rpid, SIGCONT);
	CHECK(pump(two_subs, WARD_REDIS_CONNECT_MS + 3000));
	CHECK(publish("ward:test:a", "awake", 5));
}

static void
test_unix_and_acl(void)
{
	char addr[320];
	struct redis_opts o;

	redis_stop();
	snprintf(addr, sizeof addr, "unix:%s", sockpath);
	o = opts(addr, NULL, PASSWORD, 0);
	CHECK_EQ(redis_start(&o), 0);
	CHECK(pump(is_up, 3000));
	CHECK(call2("PING", NULL) && strcmp(one.text, "PONG") == 0);
	CHECK(call2("CLIENT", "INFO") && strstr(one.text, "addr=/") != NULL);
	{
		struct str a[8] = { S("ACL"), S("SETUSER"), S("wardu"),
		    S("on"), S(">upw"), S("~*"), S("&*"), S("+@all") };

		CHECK(call(8, a) && strcmp(one.text, "OK") == 0);
	}
	redis_stop();
	o = opts(tcp_addr, "wardu", "upw", 0);
	CHECK_EQ(redis_start(&o), 0);
	CHECK(pump(is_up, 3000));
	CHECK(call2("ACL", "WHOAMI") && strcmp(one.text, "wardu") == 0);
	redis_stop();
	o = opts(tcp_addr, "wardu", "wrong", 0);
	CHECK_EQ(redis_start(&o), 0);
	CHECK(pump(has_error, 3000));
	CHECK(!redis_up() && strstr(redis_last_error(), "WRONGPASS") != NULL);
	redis_stop();
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	signal(SIGALRM, on_alarm);
	alarm(90);
	port_init();
	log_level = PORT_LOG_WARN;
	snprintf(tmpdir, sizeof tmpdir, "%s/ward-redis-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	snprintf(sockpath, sizeof sockpath, "%s/redis.sock", tmpdir);
	rport = free_port();
	snprintf(tcp_addr, sizeof tcp_addr, "127.0.0.1:%d", rport);
	if (rport <= 0 || !server_start()) {
		fprintf(stderr, "redis_client_test: cannot start redis-server "
		    "(Debian package redis-server; tests/deps.sh)\n");
		cleanup();
		printf("0 passed, 1 failed\n");
		return 1;
	}
	test_wrong_password();
	test_auth_select();
	fflush(stderr);
	if (HEAP_COUNTED) {
		/* the counter counts (a pair the compiler cannot drop) */
		void *volatile p;

		heap_calls = 0;
		heap_on = 1;
		p = malloc(16);
		free(p);
		heap_on = 0;
		CHECK_EQ(heap_calls, 2);
	}
	heap_calls = 0;
	heap_on = 1;
	test_pipeline();
	test_pubsub();
	test_lists();
	test_oversize();
	test_restart();
	test_silence();
	heap_on = 0;
	fprintf(stderr, "  heap calls while the client ran: %lu%s\n",
	    heap_calls, HEAP_COUNTED ? "" : " (not counted under ASan)");
	CHECK_EQ(heap_calls, 0);
	test_unix_and_acl();
	cleanup();
	printf("%u passed, %u failed\n", check_passed, check_failed);
	return check_failed == 0 ? 0 : 1;
}
