/*
 * wardload: loopback load generator for ward's benchmarks (issue 5).
 *
 * Notes
 * - One thread, one epoll set (level-triggered), non-blocking sockets with
 *   TCP_NODELAY. Every connection is a struct conn in one array; its role
 *   (echo, subscriber, publisher, ...) decides what a complete message does.
 * - Targets are loopback only (127.0.0.0/8 or ::1); no name is resolved.
 * - Every run ends at a hard deadline fixed up front: setup timeout +
 *   warm-up + duration + hold + a grace second, whatever the server does.
 *   Numeric options are bounded (WL_MAX_*).
 * - WebSocket client side per RFC 6455: random 16-byte key, the 101 and
 *   Sec-WebSocket-Accept checked (§4.1), a fresh mask per frame (§5.3),
 *   7/16/64-bit lengths (§5.2), fragments reassembled (§5.4), pings
 *   answered (§5.5.2). SHA-1 (RFC 3174) and base64 (RFC 4648) live here
 *   so that nothing is linked.
 * - Reads go to one scratch buffer; only an incomplete tail is copied into
 *   the connection's own buffer, so 10,000 idle connections stay cheap.
 * - The clock is read once per recv(), right after it returns; every
 *   message in that read is received at that time (latency = that time
 *   minus the send time).
 * - Latencies go into a log-linear histogram (32 linear steps per power of
 *   two, < 3.2 % error); nothing is stored per sample.
 * - Pacing (--rate, handshake and fanout): a schedule of one send every
 *   1/R s on CLOCK_MONOTONIC, woken by a timerfd; a send more than 1 ms
 *   behind its slot is counted late, a backlog over 1 s is dropped.
 * - Server CPU: utime+stime from /proc/PID/stat (clock ticks) and the
 *   run time from /proc/PID/schedstat (ns, main thread), read when the
 *   measured window opens and when it closes.
 * - TLS (--tls, issue 12): OpenSSL's client (libssl), non-blocking on
 *   the same sockets and the same epoll set; a connection is C_TLS from
 *   connect() to the end of its handshake, then exactly as in clear.
 *   The server's certificate is not verified (a benchmark, loopback
 *   only).  --tls-groups picks the key exchange (X25519, P-256),
 *   --tls-resume offers the last session so the server can resume it,
 *   and handshake mode with --tls-only counts a finished TLS handshake
 *   (close_notify, then close) without a WebSocket upgrade.
 *   --tls-lib bearssl swaps in a BearSSL client (TLS 1.2, no resumption),
 *   lighter per record than OpenSSL's: under saturation the generator's
 *   own CPU per round trip shows in the server's figure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bearssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define WL_MAX_CONNS	65536
#define WL_MAX_INFLIGHT	1024
#define WL_MAX_SIZE	(1 << 20)		/* echo message bytes */
#define WL_MAX_FRAME	(WL_MAX_SIZE + 1024)	/* largest message accepted */
#define WL_MAX_SECONDS	600
#define WL_MAX_RATE	100000
#define WL_MAX_COUNT	1000000000.0
#define WL_MAX_HEADERS	4
#define WL_MAX_HEAD	8192	/* HTTP response head */
#define WL_MSG_MAX	16384	/* rendered fanout message or path */
#define WL_SETUP_BATCH	256	/* connections being opened at once */
#define WL_SCRATCH	(256 * 1024)
#define WL_EVENTS	2048	/* epoll_wait() array */
#define WL_NS		1000000000ULL
#define MIN_SZ(a, b)	((a) < (b) ? (a) : (b))

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define DEFAULT_PUB_MSG	\
	"{\"type\":\"transcript\",\"text\":\"wardload-seq={seq} ts={ts}\"," \
	"\"final\":true}"

enum mode {
	M_ECHO, M_TCP_ECHO, M_FANOUT, M_IDLE, M_HANDSHAKE, M_PROBE, M_SELFTEST
};

enum role {
	ROLE_ECHO, ROLE_TCP, ROLE_SUB, ROLE_PUB, ROLE_HTTP, ROLE_IDLE,
	ROLE_HS, ROLE_PROBE
};

enum cstate {
	C_FREE, C_CONNECTING, C_TLS, C_UPGRADING, C_OPEN, C_CLOSING, C_DONE
};

enum phase {
	P_SETUP, P_WARMUP, P_MEASURE, P_HOLD, P_DONE
};

/* Log-linear histogram of nanosecond values. */
#define H_SUB_BITS	5
#define H_SUB		(1u << H_SUB_BITS)
#define H_BUCKETS	((64 - H_SUB_BITS + 1) * H_SUB)

struct hist {
	uint64_t	n;
	uint64_t	max;
	uint64_t	b[H_BUCKETS];
};

struct sha1 {
	uint32_t	h[5];
	uint64_t	len;
	unsigned char	buf[64];
};

/* A server frame header (RFC 6455 §5.2). */
struct wsh {
	unsigned	fin;
	unsigned	op;
	unsigned	masked;
	unsigned char	mask[4];
	uint64_t	len;
};

struct buf {
	unsigned char	*p;
	size_t		 pos;
	size_t		 len;
	size_t		 cap;
};

/* --tls-lib bearssl: a certificate "validator" that takes any chain, and
 * a connection's engine (see "TLS with BearSSL" below). */
struct wl_x509 {
	const br_x509_class	*vtable;
	br_x509_decoder_context	 dec;		/* the leaf's */
	unsigned		 certs;		/* certificates ended */
};

struct brconn {
	br_ssl_client_context	 cc;
	struct wl_x509		 x509;
	struct buf		 in;	/* ciphertext the engine did not take */
	unsigned char		 io[BR_SSL_BUFSIZE_BIDI];
};

struct conn {
	int		 fd;
	int		 idx;
	enum role	 role;
	enum cstate	 st;
	bool		 setup;		/* counted in R.pending */
	bool		 paced;		/* echo --rate: waits for its slot */
	uint32_t	 ev;		/* epoll interest */
	uint64_t	 t0;		/* connect() called */
	struct buf	 rb;		/* incomplete input */
	struct buf	 wb;		/* pending output */
	struct buf	 frag;		/* fragmented message */
	unsigned	 fop;		/* its opcode, 0 when none */
	char		 accept[32];	/* expected Sec-WebSocket-Accept */
	uint64_t	*ts;		/* echo: send times, a ring */
	unsigned	 tshead;
	unsigned	 tsn;
	size_t		 tcp_got;	/* tcp-echo: bytes of the current reply */
	uint64_t	 hi;		/* fanout: highest seq seen */
	uint64_t	 seen;		/* bit k: seq hi - k seen */
	SSL		*ssl;		/* --tls */
	struct brconn	*br;		/* --tls --tls-lib bearssl */
};

/* A fanout message on its way to every subscriber. */
struct slot {
	uint64_t	seq;
	uint64_t	t;
	uint32_t	got;
	uint32_t	want;		/* subscribers open at publication */
	bool		active;
};

struct opts {
	enum mode		 mode;
	const char		*mode_name;
	struct sockaddr_storage	 addr;
	socklen_t		 alen;
	struct sockaddr_storage	 sub_addr;	/* --sub-target: odd subs */
	socklen_t		 sub_alen;
	char			 host[80];	/* Host header */
	const char		*path;
	const char		*pub_path;
	const char		*http_pub;
	const char		*pub_msg;
	char			 marker[40];
	size_t			 marker_len;
	const char		*headers[WL_MAX_HEADERS];
	int			 nheaders;
	long			 conns;
	long			 size;
	long			 inflight;
	long			 rate;
	long			 burn_ns;	/* echo: CPU spent per reply */
	uint64_t		 count;
	double			 duration;
	double			 warmup;
	double			 hold;
	double			 timeout;
	double			 setup_timeout;
	int			 server_pid;
	bool			 binary;
	bool			 spin;		/* never sleep in epoll_wait */
	bool			 tls;
	bool			 tls_resume;
	bool			 tls_only;	/* handshake: no upgrade */
	const char		*tls_groups;
	bool			 tls_bearssl;	/* --tls-lib bearssl */
};

struct srvcpu {
	uint64_t	ticks;
	uint64_t	uticks;		/* of which in user mode */
	uint64_t	ns;
	bool		sched;
};

struct run {
	struct opts	 o;
	int		 ep;
	struct conn	*c;
	long		 nconn;		/* entries of c */
	long		 nsubs;		/* fanout subscribers */
	long		 subs_open;
	long		 next;		/* next connection to open */
	long		 pending;	/* being opened */
	long		 opened;
	long		 failed;
	enum phase	 phase;
	bool		 measuring;
	bool		 reached;
	uint64_t	 t_start;
	uint64_t	 t_setup_end;
	uint64_t	 t_measure;
	uint64_t	 t_end;
	uint64_t	 t_hard;
	uint64_t	 t_sweep;
	struct hist	 h1;		/* rtt, delivery per copy, to-101 */
	struct hist	 h2;		/* fanout: per message, to the last */
	unsigned char	*payload;
	uint64_t	*ts;
	/* counters */
	uint64_t	 sent;
	uint64_t	 msgs;
	uint64_t	 bad;
	uint64_t	 errors;
	uint64_t	 server_closes;
	uint64_t	 pings;
	uint64_t	 t_read;	/* when the current recv() returned */
	uint64_t	 reads;		/* recv()s with data, in the window */
	uint64_t	 frames;	/* frames parsed, in the window */
	int		 last_status;
	int		 last_close;
	char		 why[96];
	/* fanout */
	struct conn	*pub;
	struct slot	*slots;
	long		 nslots;	/* a power of two, >= 2 x inflight */
	uint64_t	 next_seq;
	long		 outstanding;
	bool		 http_busy;
	uint64_t	 published;
	uint64_t	 receipts;
	uint64_t	 delivered;
	uint64_t	 lost;
	uint64_t	 dups;
	uint64_t	 late;
	uint64_t	 other;
	uint64_t	 late_sends;	/* paced: > 1 ms behind, in the window */
	/* handshake */
	uint64_t	 started;
	uint64_t	 next_slot;
	long		 kick_i;	/* echo --rate: next to look at */
	uint64_t	 period;
	int		 tfd;		/* wakes hs_kick for the next slot */
	uint64_t	 tfd_at;
	uint64_t	 late_starts;
	uint64_t	 close_eof;
	/* measurements */
	struct srvcpu	 cpu0;
	struct srvcpu	 cpu1;
	bool		 cpu_ok;
	double		 gen0;		/* own CPU time, s */
	double		 gen1;
	double		 gen0u;		/* of which in user mode */
	double		 gen1u;
	long		 rss0;
	long		 rss1;
	long		 rss2;
	/* --tls */
	SSL_CTX		*tls_ctx;
	SSL_SESSION	*tls_sess;	/* offered with --tls-resume */
	uint64_t	 tls_full;	/* handshakes done, in the window */
	uint64_t	 tls_reused;	/* of which resumed */
	char		 tls_info[96];	/* the last one's group and suite */
	br_ec_impl	 br_ec;		/* --tls-lib bearssl: curves offered */
};

static struct run R;
static volatile sig_atomic_t interrupted;
static uint64_t rng_state;
static char res[4096];
static size_t resn;

static void conn_fail(struct conn *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void conn_flush(struct conn *);
static void pub_try(void);

/* ---- small utilities ---- */

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("wardload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WL_NS + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: masks and keys must be unpredictable (RFC 6455 §10.3). */
static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void
rng_seed(void)
{
	if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state)
		rng_state = now_ns() ^ ((uint64_t)getpid() << 32);
	if (rng_state == 0)
		rng_state = 0x9E3779B97F4A7C15ULL;
}

static void
rng_fill(unsigned char *p, size_t n)
{
	uint64_t v;

	while (n > 0) {
		v = rng_next();
		for (int i = 0; i < 8 && n > 0; i++, n--)
			*p++ = (unsigned char)(v >> (8 * i));
	}
}

static unsigned char *
buf_space(struct buf *b, size_t n)
{
	size_t cap;

	if (b->cap - b->len >= n)
		return b->p + b->len;
	if (b->pos > 0) {
		memmove(b->p, b->p + b->pos, b->len - b->pos);
		b->len -= b->pos;
		b->pos = 0;
		if (b->cap - b->len >= n)
			return b->p + b->len;
	}
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (b->p == NULL)
		die("out of memory");
	b->cap = cap;
	return b->p + b->len;
}

static void
buf_put(struct buf *b, const void *p, size_t n)
{
	memcpy(buf_space(b, n), p, n);
	b->len += n;
}

static void
buf_reset(struct buf *b)
{
	b->pos = 0;
	b->len = 0;
}

/*
 * Copies template t into d (capacity cap), replacing every key[k] with
 * val[k]. Returns the length, or 0 when the result does not fit.
 */
static size_t
tmpl_render(char *d, size_t cap, const char *t, const char *const *key,
    const char *const *val, int nkeys)
{
	size_t n = 0, kl = 0, vl;
	int k;

	while (*t != '\0') {
		for (k = 0; k < nkeys; k++) {
			kl = strlen(key[k]);
			if (strncmp(t, key[k], kl) == 0)
				break;
		}
		if (k == nkeys) {
			if (n + 1 >= cap)
				return 0;
			d[n++] = *t++;
			continue;
		}
		vl = strlen(val[k]);
		if (n + vl >= cap)
			return 0;
		memcpy(d + n, val[k], vl);
		n += vl;
		t += kl;
	}
	d[n] = '\0';
	return n;
}

/* ---- histogram ---- */

static unsigned
hist_index(uint64_t v)
{
	unsigned e;

	if (v < H_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);
	return (e - H_SUB_BITS + 1) * H_SUB +
	    (unsigned)((v >> (e - H_SUB_BITS)) & (H_SUB - 1));
}

/* Lowest value of bucket i; *width gets the bucket's width. */
static uint64_t
hist_low(unsigned i, uint64_t *width)
{
	unsigned e;

	if (i < H_SUB) {
		*width = 1;
		return i;
	}
	e = i / H_SUB + H_SUB_BITS - 1;
	*width = 1ULL << (e - H_SUB_BITS);
	return (uint64_t)(H_SUB + i % H_SUB) << (e - H_SUB_BITS);
}

static void
hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

/* The p-quantile (0 < p <= 1): the middle of its bucket, at most max. */
static uint64_t
hist_pct(const struct hist *h, double p)
{
	uint64_t rank, seen = 0, low, width;
	unsigned i;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(p * (double)h->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank >= h->n)
		return h->max;
	for (i = 0; i < H_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			break;
	}
	low = hist_low(i, &width);
	low += width / 2;
	return low < h->max ? low : h->max;
}

static double
us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* ---- SHA-1 (RFC 3174) and base64 (RFC 4648) ---- */

#define ROL(x, n)	(((x) << (n)) | ((x) >> (32 - (n))))

static void
sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5A827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ED9EBA1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
		else
			f = b ^ c ^ d, k = 0xCA62C1D6;
		t = ROL(a, 5) + f + e + k + w[i];
		e = d, d = c, c = ROL(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void
sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = {
		0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
	};

	memcpy(s->h, iv, sizeof iv);
	s->len = 0;
}

static void
sha1_update(struct sha1 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t used = (size_t)(s->len & 63), k;

	s->len += n;
	while (n > 0) {
		k = 64 - used < n ? 64 - used : n;
		memcpy(s->buf + used, p, k);
		used += k, p += k, n -= k;
		if (used == 64) {
			sha1_block(s->h, s->buf);
			used = 0;
		}
	}
}

static void
sha1_final(struct sha1 *s, unsigned char out[20])
{
	static const unsigned char pad[64] = { 0x80 };
	unsigned char len[8];
	uint64_t bits = s->len * 8;
	size_t used = (size_t)(s->len & 63);
	int i;

	sha1_update(s, pad, used < 56 ? 56 - used : 120 - used);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, len, 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* Writes the base64 of in[0..n) and a NUL to out; returns its length. */
static size_t
b64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = t[(v >> 6) & 63];
		out[o++] = t[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* Sec-WebSocket-Accept for key (RFC 6455 §4.2.2 step 5.4); out >= 29. */
static void
ws_accept(const char *key, char *out)
{
	struct sha1 s;
	unsigned char d[20];

	sha1_init(&s);
	sha1_update(&s, key, strlen(key));
	sha1_update(&s, WS_GUID, strlen(WS_GUID));
	sha1_final(&s, d);
	b64_encode(d, sizeof d, out);
}

/* ---- WebSocket framing (RFC 6455 §5.2) ---- */

/* Writes a masked client frame header; returns its size (6, 8 or 14). */
static size_t
ws_header(unsigned char *p, unsigned op, uint64_t len,
    const unsigned char mask[4])
{
	size_t n = 2;
	int i;

	p[0] = (unsigned char)(0x80 | op);
	if (len < 126) {
		p[1] = (unsigned char)(0x80 | len);
	} else if (len <= 0xFFFF) {
		p[1] = 0x80 | 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		n = 4;
	} else {
		p[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			p[2 + i] = (unsigned char)(len >> (56 - 8 * i));
		n = 10;
	}
	memcpy(p + n, mask, 4);
	return n + 4;
}

/* d = s XOR mask, eight bytes at a time (§5.3). */
static void
ws_mask(unsigned char *d, const unsigned char *s, size_t n,
    const unsigned char mask[4])
{
	uint64_t m, x;
	size_t i = 0;

	memcpy(&m, mask, 4);
	memcpy((unsigned char *)&m + 4, mask, 4);
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		x ^= m;
		memcpy(d + i, &x, 8);
	}
	for (; i < n; i++)
		d[i] = s[i] ^ mask[i & 3];
}

/*
 * Parses a frame header at p[0..n). Returns the header size, 0 when more
 * bytes are needed, -1 when the header breaks §5.2 or §5.5.
 */
static int
ws_parse(const unsigned char *p, size_t n, struct wsh *h)
{
	size_t need = 2;
	int i;

	if (n < 2)
		return 0;
	h->fin = p[0] >> 7;
	h->op = p[0] & 15;
	h->masked = p[1] >> 7;
	h->len = p[1] & 127;
	if ((p[0] & 0x70) != 0 || (h->op > 2 && h->op < 8) || h->op > 10)
		return -1;
	if (h->op >= 8 && (h->len > 125 || !h->fin))
		return -1;
	need += h->len == 126 ? 2 : h->len == 127 ? 8 : 0;
	need += h->masked ? 4 : 0;
	if (n < need)
		return 0;
	if (h->len == 126) {
		h->len = (uint64_t)p[2] << 8 | p[3];
	} else if (h->len == 127) {
		for (h->len = 0, i = 0; i < 8; i++)
			h->len = h->len << 8 | p[2 + i];
		if (h->len >> 63)
			return -1;
	}
	if (h->masked)
		memcpy(h->mask, p + need - 4, 4);
	return (int)need;
}

/* ---- HTTP response heads ---- */

static int
http_status(const unsigned char *p, size_t n)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return -1;
	if (p[9] < '0' || p[9] > '9' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9')
		return -1;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

/* Finds header name in head p[0..n); returns its value, trimmed. */
static const unsigned char *
http_header(const unsigned char *p, size_t n, const char *name, size_t *vl)
{
	const unsigned char *line = p, *end = p + n, *eol, *v;
	size_t nl = strlen(name);

	while (line < end) {
		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (eol == NULL)
			return NULL;
		if ((size_t)(eol - line) > nl && line[nl] == ':' &&
		    strncasecmp((const char *)line, name, nl) == 0) {
			v = line + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
				eol--;
			*vl = (size_t)(eol - v);
			return v;
		}
		line = eol + 2;
	}
	return NULL;
}

/* True when header name holds token (case-insensitive), RFC 7230 §6.1. */
static bool
http_has(const unsigned char *p, size_t n, const char *name, const char *token)
{
	size_t vl = 0, tl = strlen(token), i;
	const unsigned char *v = http_header(p, n, name, &vl);

	for (i = 0; v != NULL && i + tl <= vl; i++)
		if (strncasecmp((const char *)v + i, token, tl) == 0)
			return true;
	return false;
}

/* ---- server side measurements ---- */

static bool
srv_cpu_read(struct srvcpu *s)
{
	char path[64], line[1024], *p;
	unsigned long long ut, st, ns;
	FILE *f;
	int i;

	snprintf(path, sizeof path, "/proc/%d/stat", R.o.server_pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	p = fgets(line, sizeof line, f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL)
		return false;
	/* fields 3..13 precede utime (14) and stime (15), proc(5) */
	for (i = 0; i < 12 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, "%llu %llu", &ut, &st) != 2)
		return false;
	s->ticks = ut + st;
	s->uticks = ut;
	snprintf(path, sizeof path, "/proc/%d/schedstat", R.o.server_pid);
	s->sched = false;
	if ((f = fopen(path, "r")) != NULL) {
		s->sched = fscanf(f, "%llu", &ns) == 1;
		s->ns = ns;
		fclose(f);
	}
	return true;
}

/* VmRSS of the server in kB, or -1. */
static long
srv_rss(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	if (R.o.server_pid == 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/status", R.o.server_pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The generator's own CPU time in s; *user gets the user-mode part. */
static double
gen_cpu(double *user)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec +
	    (double)ru.ru_utime.tv_usec / 1e6;
	return *user + (double)ru.ru_stime.tv_sec +
	    (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- connections ---- */

static void
conn_watch(struct conn *c, bool out)
{
	struct epoll_event e;
	uint32_t want = EPOLLIN | (out ? EPOLLOUT : 0);

	if (c->fd < 0 || want == c->ev)
		return;
	e.events = want;
	e.data.ptr = c;
	if (epoll_ctl(R.ep, c->ev ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd,
	    &e) != 0)
		die("epoll_ctl: %s", strerror(errno));
	c->ev = want;
}

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		/* not a "bad" session for OpenSSL: it stays resumable */
		SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN |
		    SSL_RECEIVED_SHUTDOWN);
		SSL_free(c->ssl);
	}
	c->ssl = NULL;
	if (c->br != NULL) {
		free(c->br->in.p);
		free(c->br);
	}
	c->br = NULL;
	if (c->fd >= 0)
		close(c->fd);	/* also leaves the epoll set */
	c->fd = -1;
	c->ev = 0;
	c->st = C_DONE;
}

static void
conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	R.errors++;
	if (R.why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(R.why, sizeof R.why, fmt, ap);
		va_end(ap);
	}
	if (c->setup) {
		c->setup = false;
		R.pending--;
	}
	if (c->st < C_OPEN)
		R.failed++;
	else if (c->role == ROLE_SUB)
		R.subs_open--;
	conn_close(c);
}

/* Queues a masked frame (§5.3: a fresh key per frame). */
static void
ws_send(struct conn *c, unsigned op, const void *p, size_t n)
{
	unsigned char mask[4], *d;
	uint64_t r = rng_next();
	size_t hl;

	memcpy(mask, &r, 4);
	d = buf_space(&c->wb, n + 14);
	hl = ws_header(d, op, n, mask);
	ws_mask(d + hl, p, n, mask);
	c->wb.len += hl + n;
}

static void tls_flush(struct conn *);

static void
conn_flush(struct conn *c)
{
	ssize_t n;

	if (c->fd < 0 || c->st == C_CONNECTING)
		return;
	if (c->st == C_TLS)
		return;
	if (c->ssl != NULL || c->br != NULL) {
		tls_flush(c);
		return;
	}
	while (c->wb.pos < c->wb.len) {
		n = send(c->fd, c->wb.p + c->wb.pos, c->wb.len - c->wb.pos,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			conn_fail(c, "send: %s", strerror(errno));
			return;
		}
		if (n < 0)
			break;
		c->wb.pos += (size_t)n;
	}
	if (c->wb.pos == c->wb.len)
		buf_reset(&c->wb);
	conn_watch(c, c->wb.len > 0);
}

static const char *
conn_path(struct conn *c, char *d, size_t cap)
{
	static const char *const key[] = { "{i}" };
	const char *t = R.o.path;
	char idx[24];
	const char *val[] = { idx };

	if (c->role == ROLE_PUB)
		t = R.o.pub_path;
	else if (c->role == ROLE_HTTP)
		t = R.o.http_pub;
	if (c->role == ROLE_PUB || c->role == ROLE_HTTP)
		snprintf(idx, sizeof idx, "pub");
	else
		snprintf(idx, sizeof idx, "%d", c->idx);
	if (tmpl_render(d, cap, t, key, val, 1) == 0)
		die("path too long: %s", t);
	return d;
}

static void
conn_upgrade(struct conn *c)
{
	unsigned char raw[16];
	char key[32], path[WL_MSG_MAX];
	int i;

	rng_fill(raw, sizeof raw);
	b64_encode(raw, sizeof raw, key);
	ws_accept(key, c->accept);
	conn_path(c, path, sizeof path);
	c->wb.len += (size_t)snprintf((char *)buf_space(&c->wb, 512 +
	    strlen(path)), 512 + strlen(path),
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n", path, R.o.host, key);
	for (i = 0; i < R.o.nheaders; i++) {
		buf_put(&c->wb, R.o.headers[i], strlen(R.o.headers[i]));
		buf_put(&c->wb, "\r\n", 2);
	}
	buf_put(&c->wb, "\r\n", 2);
	c->st = C_UPGRADING;
}

static void echo_fill(struct conn *);
static void hs_opened(struct conn *);

static void
conn_opened(struct conn *c)
{
	c->st = C_OPEN;
	R.opened++;
	if (c->setup) {
		c->setup = false;
		R.pending--;
	}
	switch (c->role) {
	case ROLE_ECHO:
	case ROLE_TCP:
		if (R.phase != P_SETUP)
			echo_fill(c);
		break;
	case ROLE_SUB:
		R.subs_open++;
		break;
	case ROLE_PUB:
	case ROLE_HTTP:
		R.pub = c;
		pub_try();
		break;
	case ROLE_HS:
		hs_opened(c);
		break;
	case ROLE_PROBE:
		R.last_status = 101;
		break;
	default:
		break;
	}
}

static void tls_start(struct conn *);

static void
conn_connected(struct conn *c)
{
	R.reached = true;
	if (R.o.tls && c->ssl == NULL && c->br == NULL) {
		tls_start(c);
		return;
	}
	if (c->role == ROLE_TCP || c->role == ROLE_HTTP) {
		conn_opened(c);
		return;
	}
	conn_upgrade(c);
	conn_flush(c);
}

/*
 * Handshake mode opens and closes tens of thousands of connections a
 * second; the server keeps each closed one in TIME_WAIT (it closes first,
 * RFC 6455 §7.1.1) for a minute.  From one source address the client's
 * ports soon meet those entries again, and connect() slows down searching
 * for a free one -- latency that is the kernel's, not the server's.  So
 * every new IPv4 connection of that mode comes from the next address of
 * 127.2.0.1 .. 127.2.255.254 (all loopback; the kernel still picks the
 * port at connect time).
 */
static void
src_rotate(int fd)
{
	static uint32_t next;
	struct sockaddr_in sin;
	int one = 1;

	if (R.o.mode != M_HANDSHAKE || R.o.addr.ss_family != AF_INET)
		return;
	next = next % 65024 + 1;	/* 254 * 256 addresses */
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7F020000u | ((next / 254) << 8) |
	    (next % 254 + 1));
#ifdef IP_BIND_ADDRESS_NO_PORT
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#else
	(void)one;
#endif
	bind(fd, (struct sockaddr *)&sin, sizeof sin);	/* best effort */
}

static void
conn_start(struct conn *c)
{
	int one = 1, r;
	bool alt = c->role == ROLE_SUB && R.o.sub_alen > 0 && (c->idx & 1);
	const struct sockaddr_storage *to = alt ? &R.o.sub_addr : &R.o.addr;

	buf_reset(&c->rb);
	buf_reset(&c->wb);
	buf_reset(&c->frag);
	c->fop = 0;
	c->tshead = c->tsn = 0;
	c->tcp_got = 0;
	c->ev = 0;
	c->t0 = now_ns();
	c->st = C_CONNECTING;
	c->fd = socket(to->ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(c, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	src_rotate(c->fd);
	r = connect(c->fd, (const struct sockaddr *)to,
	    alt ? R.o.sub_alen : R.o.alen);
	if (r != 0 && errno != EINPROGRESS) {
		conn_fail(c, "connect: %s", strerror(errno));
		return;
	}
	conn_watch(c, true);
	if (r == 0) {
		c->st = C_UPGRADING;	/* anything but C_CONNECTING */
		conn_connected(c);
	}
}

/* ---- TLS (--tls) ---- */

static SSL_CTX *
tls_ctx_new(const char *groups)
{
	SSL_CTX *x = SSL_CTX_new(TLS_client_method());

	if (x == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_verify(x, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(x, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* one recv() per event, as in clear: without read-ahead OpenSSL
	 * reads a record's 5-byte header and its body apart (two system
	 * calls), and tls_recv() below would read again until EAGAIN */
	SSL_CTX_set_read_ahead(x, 1);
	/* ward speaks TLS 1.2 (BearSSL); resumption by session id */
	SSL_CTX_set_max_proto_version(x, TLS1_2_VERSION);
	SSL_CTX_set_options(x, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
	if (groups != NULL && SSL_CTX_set1_groups_list(x, groups) != 1)
		die("--tls-groups %s: not a group list OpenSSL knows", groups);
	return x;
}

static void
tls_fail(struct conn *c, const char *what, int err)
{
	char e[120];

	ERR_error_string_n(ERR_get_error(), e, sizeof e);
	ERR_clear_error();
	conn_fail(c, "tls %s: %d %s", what, err, e);
}

static void br_bye(struct conn *);

/* A handshake is done (either library; R.t_read is its time): count it,
 * then on as in clear, or with --tls-only close_notify and close. */
static void
tls_opened(struct conn *c, bool reused)
{
	if (R.measuring) {
		R.tls_full++;
		R.tls_reused += reused;
	}
	c->st = C_UPGRADING;
	if (R.o.tls_only) {
		if (R.measuring) {
			hist_add(&R.h1, R.t_read - c->t0);
			R.msgs++;
		}
		R.opened++;
		if (c->ssl != NULL)
			SSL_shutdown(c->ssl);	/* close_notify; no wait */
		else
			br_bye(c);
		conn_close(c);
		return;
	}
	conn_connected(c);
}

/* OpenSSL's handshake is done: note it, keep the session. */
static void
tls_done(struct conn *c)
{
	SSL_SESSION *s;

	R.t_read = now_ns();
	snprintf(R.tls_info, sizeof R.tls_info, "%s %s",
	    SSL_group_to_name(c->ssl, SSL_get_negotiated_group(c->ssl)),
	    SSL_get_cipher_name(c->ssl));
	if (R.o.tls_resume && !SSL_session_reused(c->ssl) &&
	    (s = SSL_get1_session(c->ssl)) != NULL) {
		if (R.tls_sess != NULL)
			SSL_SESSION_free(R.tls_sess);
		R.tls_sess = s;
	}
	tls_opened(c, SSL_session_reused(c->ssl) == 1);
}

static void br_step(struct conn *);
static void br_start(struct conn *);
static ssize_t br_recv(struct conn *, unsigned char *, size_t);
static void br_flush(struct conn *);

static void
tls_step(struct conn *c)
{
	int r, e;

	if (c->br != NULL) {
		br_step(c);
		return;
	}
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		tls_done(c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		conn_watch(c, e == SSL_ERROR_WANT_WRITE);
		return;
	}
	tls_fail(c, "handshake", e);
}

static void
tls_start(struct conn *c)
{
	if (R.o.tls_bearssl) {
		br_start(c);
		return;
	}
	c->ssl = SSL_new(R.tls_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		die("SSL_new failed");
	SSL_set_connect_state(c->ssl);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	if (R.o.tls_resume && R.tls_sess != NULL)
		SSL_set_session(c->ssl, R.tls_sess);
	c->st = C_TLS;
	tls_step(c);
}

/* Everything the TLS layer has, up to cap: > 0, 0 at the peer's close,
 * -1 with errno EAGAIN (nothing yet, or failed: said and closed). */
static ssize_t
tls_recv(struct conn *c, unsigned char *d, size_t cap)
{
	size_t got = 0;
	int r, e;

	if (c->br != NULL)
		return br_recv(c, d, cap);
	while (got < cap) {
		r = SSL_read(c->ssl, d + got, (int)MIN_SZ(cap - got, 1 << 30));
		if (r > 0) {
			got += (size_t)r;
			/* what the one recv() brought is used up: the rest
			 * comes with the next event (level-triggered) */
			if (!SSL_has_pending(c->ssl))
				break;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (got > 0 && e != SSL_ERROR_SSL && e != SSL_ERROR_SYSCALL)
			break;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			errno = EAGAIN;
			return got > 0 ? (ssize_t)got : -1;
		}
		if (e == SSL_ERROR_ZERO_RETURN ||
		    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 &&
		    got == 0))
			return 0;
		if (got > 0)
			break;
		tls_fail(c, "read", e);	/* closed: nothing more */
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)got;
}

static void
tls_flush(struct conn *c)
{
	int r, e;

	if (c->br != NULL) {
		br_flush(c);
		return;
	}
	while (c->wb.pos < c->wb.len) {
		r = SSL_write(c->ssl, c->wb.p + c->wb.pos,
		    (int)MIN_SZ(c->wb.len - c->wb.pos, 1 << 30));
		if (r > 0) {
			c->wb.pos += (size_t)r;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			break;
		tls_fail(c, "write", e);
		return;
	}
	if (c->wb.pos == c->wb.len)
		buf_reset(&c->wb);
	conn_watch(c, c->wb.len > 0);
}

/* ---- TLS with BearSSL (--tls --tls-lib bearssl) ---- */

/*
 * A second client, lighter than OpenSSL's: saturated, both CPUs busy, the
 * generator's own cost per round trip shows up in the server's figure
 * (loopback TCP work lands on either side), so a cheaper client lets the
 * row measure the server.  One engine per connection with its
 * bidirectional buffer, allocated when the connection starts, driven from
 * the same epoll loop with the same contracts as tls_step(), tls_recv()
 * and tls_flush() above: one recv() per event into a scratch buffer, fed
 * to the engine (recvrec) while the plaintext is taken out (recvapp) as
 * records complete, ciphertext it cannot take yet kept for the next
 * call; sends go in with sendapp, a flush, then one send() per record.
 * TLS 1.2, the ECDHE AES-GCM and ChaCha20 suites, SNI "localhost", no
 * resumption.  The certificate is not verified (as OpenSSL's
 * SSL_VERIFY_NONE): brx_* accepts any chain and gives the engine the
 * leaf's public key.
 */

static const uint16_t br_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

static struct wl_x509 *
brx_of(const br_x509_class *const *ctx)
{
	return (struct wl_x509 *)(uintptr_t)ctx;
}

static void
brx_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct wl_x509 *x = brx_of(ctx);

	(void)server_name;	/* not matched: loopback, not verified */
	x->certs = 0;
}

static void
brx_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct wl_x509 *x = brx_of(ctx);

	(void)length;
	if (x->certs == 0)
		br_x509_decoder_init(&x->dec, NULL, NULL);
}

static void
brx_append(const br_x509_class **ctx, const unsigned char *p, size_t n)
{
	struct wl_x509 *x = brx_of(ctx);

	if (x->certs == 0)
		br_x509_decoder_push(&x->dec, p, n);
}

static void
brx_end_cert(const br_x509_class **ctx)
{
	brx_of(ctx)->certs++;
}

/* 0 when the leaf decoded to a public key; nothing else is checked. */
static unsigned
brx_end_chain(const br_x509_class **ctx)
{
	struct wl_x509 *x = brx_of(ctx);

	if (x->certs == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	return (unsigned)br_x509_decoder_last_error(&x->dec);
}

static const br_x509_pkey *
brx_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct wl_x509 *x = brx_of(ctx);

	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return x->certs > 0 ? br_x509_decoder_get_pkey(&x->dec) : NULL;
}

static const br_x509_class brx_class = {
	sizeof(struct wl_x509), brx_start_chain, brx_start_cert, brx_append,
	brx_end_cert, brx_end_chain, brx_get_pkey
};

static const char *
br_suite_name(unsigned s)
{
	switch (s) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-ECDSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-RSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-ECDSA-CHACHA20-POLY1305";
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-RSA-CHACHA20-POLY1305";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-ECDSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-RSA-AES256-GCM-SHA384";
	default:
		return "unknown-suite";
	}
}

static const struct {
	const char	*opt;		/* --tls-groups name */
	const char	*name;		/* as OpenSSL prints it */
	int		 id;
} br_curves[] = {
	{ "X25519", "x25519", BR_EC_curve25519 },
	{ "P-256", "secp256r1", BR_EC_secp256r1 },
	{ "P-384", "secp384r1", BR_EC_secp384r1 },
	{ "P-521", "secp521r1", BR_EC_secp521r1 },
};
#define BR_NCURVES	(sizeof br_curves / sizeof br_curves[0])

static const char *
br_curve_name(int id)
{
	size_t i;

	for (i = 0; i < BR_NCURVES; i++)
		if (br_curves[i].id == id)
			return br_curves[i].name;
	return "unknown-curve";
}

/*
 * The curves offered (--tls-groups, OpenSSL's names; default: all four):
 * BearSSL's default EC implementation with its supported_curves mask cut
 * down.  BearSSL lists them in its own order (by id), whatever the order
 * given.
 */
static void
br_groups(const char *list)
{
	const char *p = list;
	uint32_t mask = 0;
	size_t n, i;

	R.br_ec = *br_ec_get_default();
	if (list == NULL)
		return;
	while (*p != '\0') {
		n = strcspn(p, ":");
		for (i = 0; i < BR_NCURVES; i++)
			if (strlen(br_curves[i].opt) == n &&
			    strncasecmp(p, br_curves[i].opt, n) == 0)
				break;
		if (i == BR_NCURVES)
			die("--tls-groups %s: BearSSL's are X25519, P-256, "
			    "P-384, P-521", list);
		mask |= (uint32_t)1 << br_curves[i].id;
		p += n + (p[n] == ':');
	}
	R.br_ec.supported_curves &= mask;
	if (R.br_ec.supported_curves == 0)
		die("--tls-groups %s: none that BearSSL has", list);
}

static void
br_fail(struct conn *c, const char *what)
{
	conn_fail(c, "tls %s: BearSSL error %d", what,
	    br_ssl_engine_last_error(&c->br->cc.eng));
}

/* Plaintext or ciphertext left over by an earlier read, or an end or
 * error it returned data before: a read is due without the socket being
 * readable. */
static bool
br_pending(struct conn *c)
{
	if (c->br == NULL || c->fd < 0)
		return false;
	return c->br->in.pos < c->br->in.len ||
	    (br_ssl_engine_current_state(&c->br->cc.eng) &
	    (BR_SSL_RECVAPP | BR_SSL_CLOSED));
}

/* What the engine has to send, one send() per record: 1 all sent, 0 the
 * socket is full, -1 failed (said and closed). */
static int
br_send(struct conn *c)
{
	br_ssl_engine_context *e = &c->br->cc.eng;
	unsigned char *p;
	size_t n;
	ssize_t r;

	while ((p = br_ssl_engine_sendrec_buf(e, &n)) != NULL) {
		r = send(c->fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r < 0) {
			conn_fail(c, "send: %s", strerror(errno));
			return -1;
		}
		br_ssl_engine_sendrec_ack(e, (size_t)r);
	}
	return 1;
}

/* Plaintext out of the engine into d[*got..cap). */
static size_t
br_take(br_ssl_engine_context *e, unsigned char *d, size_t cap, size_t *got)
{
	unsigned char *p;
	size_t n, t = 0;

	while (*got < cap && (p = br_ssl_engine_recvapp_buf(e, &n)) != NULL) {
		n = MIN_SZ(n, cap - *got);
		memcpy(d + *got, p, n);
		br_ssl_engine_recvapp_ack(e, n);
		*got += n;
		t += n;
	}
	return t;
}

/* Ciphertext p[0..n) into the engine, the plaintext out into d[*got..cap)
 * as records complete, until neither moves; the bytes the engine took. */
static size_t
br_pump(br_ssl_engine_context *e, const unsigned char *p, size_t n,
    unsigned char *d, size_t cap, size_t *got)
{
	unsigned char *in;
	size_t used = 0, k, t;

	for (;;) {
		t = br_take(e, d, cap, got);
		k = 0;
		if (used < n && (in = br_ssl_engine_recvrec_buf(e, &k)) !=
		    NULL) {
			k = MIN_SZ(k, n - used);
			memcpy(in, p + used, k);
			br_ssl_engine_recvrec_ack(e, k);	/* runs it */
			used += k;
		}
		if (k == 0 && t == 0)
			return used;
	}
}

/* The held ciphertext, as far as the engine takes it now. */
static void
br_held(struct conn *c, unsigned char *d, size_t cap, size_t *got)
{
	struct buf *b = &c->br->in;

	if (b->pos == b->len) {
		br_take(&c->br->cc.eng, d, cap, got);
		return;
	}
	b->pos += br_pump(&c->br->cc.eng, b->p + b->pos, b->len - b->pos, d,
	    cap, got);
	if (b->pos == b->len)
		buf_reset(b);
}

/* recv() once into ct, fed to the engine; what it cannot take is held.
 * recv()'s result. */
static ssize_t
br_recv_once(struct conn *c, unsigned char *ct, size_t room,
    unsigned char *d, size_t cap, size_t *got)
{
	ssize_t r = recv(c->fd, ct, room, 0);
	size_t used;

	if (r > 0) {
		used = br_pump(&c->br->cc.eng, ct, (size_t)r, d, cap, got);
		if (used < (size_t)r)
			buf_put(&c->br->in, ct + used, (size_t)r - used);
	}
	return r;
}

static void
br_done(struct conn *c)
{
	br_ssl_engine_context *e = &c->br->cc.eng;
	br_ssl_session_parameters sp;

	R.t_read = now_ns();
	br_ssl_engine_get_session_parameters(e, &sp);
	snprintf(R.tls_info, sizeof R.tls_info, "%s %s (BearSSL)",
	    br_curve_name(br_ssl_engine_get_ecdhe_curve(e)),
	    br_suite_name(sp.cipher_suite));
	memset(&sp, 0, sizeof sp);	/* the master secret */
	tls_opened(c, false);
}

/* The handshake, as far as it goes: done once the engine takes
 * application data.  At most one recv() per call. */
static void
br_step(struct conn *c)
{
	static unsigned char ct[WL_SCRATCH];
	br_ssl_engine_context *e = &c->br->cc.eng;
	size_t got = 0, held;
	unsigned st, i;
	bool did = false;
	ssize_t r;

	for (i = 0; i < 64; i++) {
		st = br_ssl_engine_current_state(e);
		if (st & BR_SSL_CLOSED) {
			br_fail(c, "handshake");
			return;
		}
		if (st & BR_SSL_SENDREC) {
			if ((r = br_send(c)) <= 0) {
				if (r == 0)
					conn_watch(c, true);
				return;
			}
			continue;
		}
		if (st & BR_SSL_SENDAPP) {
			br_done(c);
			return;
		}
		if ((held = c->br->in.len - c->br->in.pos) > 0) {
			br_held(c, NULL, 0, &got);
			if (c->br->in.len - c->br->in.pos < held)
				continue;
		}
		if (did || held > 0)
			break;
		did = true;
		r = br_recv_once(c, ct, sizeof ct, NULL, 0, &got);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r <= 0) {
			conn_fail(c, "tls handshake: %s", r == 0 ?
			    "connection closed" : strerror(errno));
			return;
		}
	}
	conn_watch(c, false);
}

static void
br_start(struct conn *c)
{
	static br_x509_minimal_context unused;	/* replaced by brx_class */
	br_ssl_engine_context *e;
	struct brconn *b;

	if (R.br_ec.mul == NULL)
		br_groups(R.o.tls_groups);
	if ((b = calloc(1, sizeof *b)) == NULL)
		die("out of memory");
	c->br = b;
	e = &b->cc.eng;
	br_ssl_client_init_full(&b->cc, &unused, NULL, 0);
	br_ssl_engine_set_versions(e, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(e, br_suites,
	    sizeof br_suites / sizeof br_suites[0]);
	br_ssl_engine_set_ec(e, &R.br_ec);
	b->x509.vtable = &brx_class;
	br_ssl_engine_set_x509(e, &b->x509.vtable);
	br_ssl_engine_set_buffer(e, b->io, sizeof b->io, 1);
	c->st = C_TLS;
	if (!br_ssl_client_reset(&b->cc, "localhost", 0)) {
		br_fail(c, "reset");
		return;
	}
	br_step(c);
}

/*
 * As tls_recv(): everything up to cap, > 0; 0 at the peer's close
 * (close_notify, or a plain end of stream); -1 with errno EAGAIN when
 * nothing is complete yet (or failed: said and closed), or recv()'s
 * errno.  First what an earlier call left (plaintext in the engine,
 * ciphertext held), then at most one recv() of up to cap bytes less a
 * record's worth, so that the plaintext of a record the engine holds
 * part of still fits.
 */
static ssize_t
br_recv(struct conn *c, unsigned char *d, size_t cap)
{
	static unsigned char ct[WL_SCRATCH];
	br_ssl_engine_context *e = &c->br->cc.eng;
	size_t got = 0, room;
	ssize_t r = -1;
	unsigned st;
	int err = EAGAIN;

	br_held(c, d, cap, &got);
	if (got < cap && c->br->in.pos == c->br->in.len) {
		room = MIN_SZ(sizeof ct, cap - got);
		if (room > 2 * BR_SSL_BUFSIZE_INPUT)
			room -= BR_SSL_BUFSIZE_INPUT;
		r = br_recv_once(c, ct, room, d, cap, &got);
		if (r < 0 && errno != EINTR)
			err = errno;
	}
	if (got > 0)
		return (ssize_t)got;	/* an end or an error: next call */
	st = br_ssl_engine_current_state(e);
	if ((st & BR_SSL_SENDREC) && !(st & BR_SSL_SENDAPP)) {
		/* closing (a close_notify came): ours back, best effort */
		if (br_send(c) < 0) {
			errno = EAGAIN;
			return -1;
		}
		st = br_ssl_engine_current_state(e);
	}
	if (st & BR_SSL_CLOSED) {
		if (br_ssl_engine_last_error(e) == BR_ERR_OK)
			return 0;
		br_fail(c, "read");
		errno = EAGAIN;
		return -1;
	}
	if (r == 0)
		return 0;
	errno = err;
	return -1;
}

/* As tls_flush(): c->wb into records, sent as far as the socket takes. */
static void
br_flush(struct conn *c)
{
	br_ssl_engine_context *e = &c->br->cc.eng;
	unsigned char *p;
	size_t n;
	int r;

	while ((r = br_send(c)) > 0 && c->wb.pos < c->wb.len) {
		if ((p = br_ssl_engine_sendapp_buf(e, &n)) == NULL) {
			if (br_ssl_engine_current_state(e) & BR_SSL_CLOSED) {
				br_fail(c, "write");
				return;
			}
			break;
		}
		n = MIN_SZ(n, c->wb.len - c->wb.pos);
		memcpy(p, c->wb.p + c->wb.pos, n);
		br_ssl_engine_sendapp_ack(e, n);
		c->wb.pos += n;
		br_ssl_engine_flush(e, 0);
	}
	if (r < 0)
		return;
	if (c->wb.pos == c->wb.len)
		buf_reset(&c->wb);
	conn_watch(c, c->wb.len > 0 || br_pending(c) ||
	    (br_ssl_engine_current_state(e) & BR_SSL_SENDREC));
}

/* --tls-only: close_notify, one send(), no wait (as SSL_shutdown()). */
static void
br_bye(struct conn *c)
{
	br_ssl_engine_context *e = &c->br->cc.eng;
	unsigned char *p;
	size_t n;

	br_ssl_engine_close(e);
	if ((p = br_ssl_engine_sendrec_buf(e, &n)) != NULL)
		(void)send(c->fd, p, n, MSG_NOSIGNAL);
}

/* ---- echo ---- */

static void
echo_send(struct conn *c)
{
	if (R.sent >= R.o.count)
		return;
	R.sent++;
	c->ts[(c->tshead + c->tsn++) % (unsigned)R.o.inflight] = now_ns();
	if (c->role == ROLE_TCP)
		buf_put(&c->wb, R.payload, (size_t)R.o.size);
	else
		ws_send(c, R.o.binary ? 2 : 1, R.payload, (size_t)R.o.size);
}

static void
echo_fill(struct conn *c)
{
	while (c->tsn < (unsigned)R.o.inflight && R.phase < P_DONE &&
	    R.sent < R.o.count)
		echo_send(c);
	conn_flush(c);
}

static void
echo_done(struct conn *c)
{
	uint64_t t;

	if (c->tsn == 0) {
		R.bad++;
		return;
	}
	t = c->ts[c->tshead];
	c->tshead = (c->tshead + 1) % (unsigned)R.o.inflight;
	c->tsn--;
	if (R.o.burn_ns > 0) {
		uint64_t b0 = now_ns();

		while (now_ns() - b0 < (uint64_t)R.o.burn_ns)
			;
	}
	if (R.measuring) {
		hist_add(&R.h1, R.t_read - t);
		R.msgs++;
	}
	if (R.phase < P_DONE && R.o.rate > 0)
		c->paced = true;	/* echo_kick sends it in its slot */
	else if (R.phase < P_DONE)
		echo_send(c);
}

static void
echo_message(struct conn *c, unsigned op, const unsigned char *p, size_t n)
{
	if (op != (R.o.binary ? 2u : 1u) || n != (size_t)R.o.size ||
	    memcmp(p, R.payload, n) != 0)
		R.bad++;
	echo_done(c);
}

static size_t
tcp_input(struct conn *c, size_t n)
{
	c->tcp_got += n;
	while (c->fd >= 0 && c->tcp_got >= (size_t)R.o.size) {
		c->tcp_got -= (size_t)R.o.size;
		R.frames += R.measuring;	/* messages per read */
		echo_done(c);
	}
	return n;
}

/* ---- pacing (--rate) ---- */

#define PACE_LATE	(WL_NS / 1000)	/* a send this far behind is late */
#define PACE_BACKLOG	WL_NS		/* a backlog this long is dropped */

/*
 * Whether a send is due at now on the schedule *next (one per period ns).
 * 0: not yet, *next unchanged; 1: due, *next moves on by one period;
 * 2: the same but over PACE_LATE behind. Over PACE_BACKLOG behind, the
 * schedule restarts at now (no burst to catch up a long stall).
 */
static int
pace_due(uint64_t now, uint64_t *next, uint64_t period)
{
	int r = 1;

	if (now < *next)
		return 0;
	if (now - *next > PACE_LATE)
		r = 2;
	if (now - *next > PACE_BACKLOG)
		*next = now;
	*next += period;
	return r;
}

static void timer_arm(uint64_t);

/* ---- fanout ---- */

/* Marks seq seen by subscriber c: 0 new, 1 duplicate, 2 too old to tell. */
static int
sub_mark(struct conn *c, uint64_t seq)
{
	uint64_t d;

	if (seq > c->hi) {
		d = seq - c->hi;
		c->seen = d >= 64 ? 1 : (c->seen << d) | 1;
		c->hi = seq;
		return 0;
	}
	d = c->hi - seq;
	if (d >= 64)
		return 2;
	if (c->seen & (1ULL << d))
		return 1;
	c->seen |= 1ULL << d;
	return 0;
}

static void
slot_retire(struct slot *s)
{
	s->active = false;
	R.outstanding--;
}

static void
pub_send(struct conn *c, uint64_t seq, uint64_t t)
{
	static const char *const key[] = { "{seq}", "{ts}" };
	static char msg[WL_MSG_MAX];
	char s[24], ts[24], path[WL_MSG_MAX];
	const char *val[] = { s, ts };
	size_t n;

	snprintf(s, sizeof s, "%" PRIu64, seq);
	snprintf(ts, sizeof ts, "%" PRIu64, t);
	n = tmpl_render(msg, sizeof msg, R.o.pub_msg, key, val, 2);
	if (c->role == ROLE_PUB) {
		ws_send(c, 1, msg, n);
		return;
	}
	conn_path(c, path, sizeof path);
	c->wb.len += (size_t)snprintf((char *)buf_space(&c->wb, 256 +
	    strlen(path)), 256 + strlen(path),
	    "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json"
	    "\r\nContent-Length: %zu\r\n", path, R.o.host, n);
	for (int i = 0; i < R.o.nheaders; i++) {
		buf_put(&c->wb, R.o.headers[i], strlen(R.o.headers[i]));
		buf_put(&c->wb, "\r\n", 2);
	}
	buf_put(&c->wb, "\r\n", 2);
	buf_put(&c->wb, msg, n);
	R.http_busy = true;
}

static void
pub_try(void)
{
	struct conn *c = R.pub;
	struct slot *s;
	uint64_t now;
	int due;

	if (c == NULL || c->fd < 0 || c->st != C_OPEN ||
	    R.phase == P_SETUP || R.phase == P_DONE)
		return;
	while (R.outstanding < R.o.inflight && !R.http_busy &&
	    R.next_seq <= R.o.count) {
		s = &R.slots[R.next_seq & (uint64_t)(R.nslots - 1)];
		if (s->active)
			break;
		now = now_ns();
		if (R.o.rate > 0) {
			/* paced; --inflight still caps (a held send is late) */
			due = pace_due(now, &R.next_slot, R.period);
			if (due == 0) {
				timer_arm(R.next_slot);
				break;
			}
			if (due == 2 && R.measuring)
				R.late_sends++;
		}
		s->seq = R.next_seq;
		s->t = now;
		s->got = 0;
		s->want = (uint32_t)R.subs_open;
		s->active = true;
		pub_send(c, R.next_seq++, now);
		R.outstanding++;
		R.published++;
	}
	conn_flush(c);
}

/*
 * The first occurrence of m[0..ml) in p[0..n), like memmem(), or NULL.
 * memchr() for the first byte, then memcmp(): cheaper than memmem()'s
 * set-up for a short haystack and a needle whose first byte is rare.
 */
static const unsigned char *
marker_find(const unsigned char *p, size_t n, const char *m, size_t ml)
{
	const unsigned char *q, *end = p + n;

	if (ml == 0 || ml > n)
		return ml == 0 ? p : NULL;
	while ((q = memchr(p, (unsigned char)m[0], (size_t)(end - p) - ml +
	    1)) != NULL) {
		if (memcmp(q + 1, m + 1, ml - 1) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

/* The sequence number after the marker in p[0..n); false when none. */
static bool
fanout_seq(const unsigned char *p, size_t n, uint64_t *seq)
{
	const unsigned char *m, *end = p + n;
	uint64_t v = 0;
	int digits = 0;

	m = marker_find(p, n, R.o.marker, R.o.marker_len);
	if (m == NULL)
		return false;
	for (m += R.o.marker_len; m < end && *m >= '0' && *m <= '9' &&
	    digits < 19; m++, digits++)
		v = v * 10 + (uint64_t)(*m - '0');
	*seq = v;
	return digits > 0;
}

static void
fanout_message(struct conn *c, const unsigned char *p, size_t n)
{
	struct slot *s;
	uint64_t seq, now;

	if (!fanout_seq(p, n, &seq)) {
		R.other++;
		return;
	}
	switch (sub_mark(c, seq)) {
	case 1:
		R.dups++;
		return;
	case 2:
		R.late++;
		return;
	}
	s = &R.slots[seq & (uint64_t)(R.nslots - 1)];
	if (!s->active || s->seq != seq) {
		R.late++;
		return;
	}
	now = R.t_read;
	if (R.measuring) {
		hist_add(&R.h1, now - s->t);	/* this copy */
		R.receipts++;
	}
	if (++s->got < s->want)
		return;
	if (R.measuring) {
		hist_add(&R.h2, now - s->t);
		R.delivered++;
	}
	slot_retire(s);
	pub_try();
}

/* One HTTP response per published message (keep-alive, not pipelined). */
static size_t
http_input(struct conn *c, const unsigned char *p, size_t n)
{
	const unsigned char *end, *v;
	size_t hl, vl, used = 0;
	unsigned long cl = 0;
	int status;

	while (c->fd >= 0 && used < n) {
		end = memmem(p + used, n - used, "\r\n\r\n", 4);
		if (end == NULL)
			break;
		hl = (size_t)(end - (p + used)) + 4;
		status = http_status(p + used, hl);
		if (http_header(p + used, hl, "Transfer-Encoding", &vl)) {
			conn_fail(c, "publisher: chunked response");
			return n;
		}
		if ((v = http_header(p + used, hl, "Content-Length", &vl)))
			cl = strtoul((const char *)v, NULL, 10);
		if (n - used - hl < cl)
			break;
		used += hl + cl;
		R.http_busy = false;
		if (status < 200 || status > 299) {
			R.last_status = status;
			R.errors++;
		}
	}
	pub_try();
	return used;
}

/* ---- handshake ---- */

static void
hs_opened(struct conn *c)
{
	static const unsigned char code[2] = { 0x03, 0xE8 };	/* 1000 */

	if (R.measuring) {
		hist_add(&R.h1, R.t_read - c->t0);	/* only from a read */
		R.msgs++;
	}
	ws_send(c, 8, code, sizeof code);
	c->st = C_CLOSING;
}

/* Arms the pacing timer for t (CLOCK_MONOTONIC ns), once per slot. */
static void
timer_arm(uint64_t t)
{
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };

	if (R.tfd_at == t)
		return;
	R.tfd_at = t;
	it.it_value.tv_sec = (time_t)(t / WL_NS);
	it.it_value.tv_nsec = (long)(t % WL_NS);
	timerfd_settime(R.tfd, TFD_TIMER_ABSTIME, &it, NULL);
}

/* echo --rate: the next waiting connection sends when the schedule says */
static void
echo_kick(uint64_t now)
{
	struct conn *c;

	for (long k = 0; k < R.nconn; k++) {
		c = &R.c[R.kick_i];
		R.kick_i = (R.kick_i + 1) % R.nconn;
		if (!c->paced || c->fd < 0 || R.sent >= R.o.count)
			continue;
		switch (pace_due(now, &R.next_slot, R.period)) {
		case 0:
			R.kick_i = (R.kick_i + R.nconn - 1) % R.nconn;
			timer_arm(R.next_slot);
			return;
		case 2:
			R.late_sends += R.measuring;
			break;
		}
		c->paced = false;
		echo_send(c);
		conn_flush(c);
	}
}

static void
hs_kick(uint64_t now)
{
	struct conn *c;
	long i;

	for (i = 0; i < R.nconn; i++) {
		c = &R.c[i];
		if (c->st != C_FREE && c->st != C_DONE)
			continue;
		if (R.started >= R.o.count)
			return;
		if (R.o.rate > 0) {
			switch (pace_due(now, &R.next_slot, R.period)) {
			case 0:
				timer_arm(R.next_slot);
				return;
			case 2:
				R.late_starts++;
				break;
			}
		}
		R.started++;
		conn_start(c);
	}
}

/* ---- input ---- */

static void
ws_closed(struct conn *c, const unsigned char *p, size_t n)
{
	if (n >= 2)
		R.last_close = p[0] << 8 | p[1];
	if (c->st == C_CLOSING) {
		conn_close(c);
		return;
	}
	/* §5.5.1: answer with the same code, then drop the connection */
	R.server_closes++;
	ws_send(c, 8, p, n >= 2 ? 2 : 0);
	conn_flush(c);
	if (c->fd >= 0)
		conn_fail(c, "server closed%s%d", n >= 2 ? " with " : "",
		    n >= 2 ? R.last_close : 0);
}

static void
ws_message(struct conn *c, unsigned op, const unsigned char *p, size_t n)
{
	switch (c->role) {
	case ROLE_ECHO:
		echo_message(c, op, p, n);
		break;
	case ROLE_SUB:
		fanout_message(c, p, n);
		break;
	default:
		R.other++;
		break;
	}
}

static void
ws_frame(struct conn *c, const struct wsh *h, const unsigned char *p)
{
	if (h->op == 9) {
		R.pings++;
		ws_send(c, 10, p, (size_t)h->len);
		return;
	}
	if (h->op == 10)
		return;
	if (h->op == 8) {
		ws_closed(c, p, (size_t)h->len);
		return;
	}
	if ((h->op == 0) != (c->fop != 0)) {
		conn_fail(c, "bad fragment sequence");
		return;
	}
	if (h->fin && h->op != 0) {
		ws_message(c, h->op, p, (size_t)h->len);
		return;
	}
	if (h->op != 0)
		c->fop = h->op;
	if (c->frag.len + h->len > WL_MAX_FRAME) {
		conn_fail(c, "message too long");
		return;
	}
	buf_put(&c->frag, p, (size_t)h->len);
	if (h->fin) {
		ws_message(c, c->fop, c->frag.p, c->frag.len);
		c->fop = 0;
		buf_reset(&c->frag);
	}
}

static size_t
ws_input(struct conn *c, const unsigned char *p, size_t n)
{
	struct wsh h;
	size_t used = 0;
	int hl;

	while (c->fd >= 0 && used < n) {
		hl = ws_parse(p + used, n - used, &h);
		if (hl < 0 || (hl > 0 && (h.masked || h.len > WL_MAX_FRAME))) {
			conn_fail(c, "bad frame from server");
			return n;
		}
		if (hl == 0 || n - used - (size_t)hl < h.len)
			break;
		used += (size_t)hl + (size_t)h.len;
		R.frames += R.measuring;
		ws_frame(c, &h, p + used - h.len);
	}
	return used;
}

/* Checks the 101 and its Sec-WebSocket-Accept (§4.1, client step 4). */
static size_t
ws_upgrade_input(struct conn *c, const unsigned char *p, size_t n)
{
	const unsigned char *end, *v;
	size_t hl, vl;
	int status;

	end = memmem(p, n, "\r\n\r\n", 4);
	if (end == NULL) {
		if (n > WL_MAX_HEAD)
			conn_fail(c, "response head too long");
		return 0;
	}
	hl = (size_t)(end - p) + 4;
	status = http_status(p, hl);
	if (status != 101) {
		R.last_status = status;
		conn_fail(c, "upgrade answered %d", status);
		return hl;
	}
	if (!http_has(p, hl, "Upgrade", "websocket") ||
	    !http_has(p, hl, "Connection", "upgrade")) {
		conn_fail(c, "101 without Upgrade/Connection");
		return hl;
	}
	v = http_header(p, hl, "Sec-WebSocket-Accept", &vl);
	if (v == NULL || vl != strlen(c->accept) ||
	    memcmp(v, c->accept, vl) != 0) {
		conn_fail(c, "bad Sec-WebSocket-Accept");
		return hl;
	}
	conn_opened(c);
	return hl;
}

static size_t
conn_input(struct conn *c, const unsigned char *p, size_t n)
{
	size_t used = 0;

	if (c->st == C_UPGRADING) {
		used = ws_upgrade_input(c, p, n);
		if (c->fd < 0 || c->st == C_UPGRADING)
			return used;
	}
	switch (c->role) {
	case ROLE_TCP:
		return used + tcp_input(c, n - used);
	case ROLE_HTTP:
		return used + http_input(c, p + used, n - used);
	default:
		return used + ws_input(c, p + used, n - used);
	}
}

static void
conn_eof(struct conn *c)
{
	if (c->st == C_CLOSING) {
		R.close_eof++;
		conn_close(c);
		return;
	}
	R.server_closes++;
	conn_fail(c, "connection closed by server");
}

/*
 * One recv() of up to WL_SCRATCH per event (level-triggered: what is left
 * comes back in the next epoll_wait()). The clock is read once per recv().
 */
static ssize_t tls_recv(struct conn *, unsigned char *, size_t);

static void
conn_read(struct conn *c)
{
	static unsigned char scratch[WL_SCRATCH];
	struct buf *b = &c->rb;
	size_t used;
	ssize_t n;

	n = c->ssl != NULL || c->br != NULL ?
	    tls_recv(c, scratch, sizeof scratch) :
	    recv(c->fd, scratch, sizeof scratch, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(c, "recv: %s", strerror(errno));
		return;
	}
	if (n == 0) {
		conn_eof(c);
		return;
	}
	R.t_read = now_ns();
	R.reads += R.measuring;
	if (b->pos == b->len) {
		used = conn_input(c, scratch, (size_t)n);
		if (c->fd >= 0 && used < (size_t)n)
			buf_put(b, scratch + used, (size_t)n - used);
		return;
	}
	buf_put(b, scratch, (size_t)n);
	used = conn_input(c, b->p + b->pos, b->len - b->pos);
	b->pos += used;
	if (b->pos == b->len)
		buf_reset(b);
}

static void tls_step(struct conn *);

static void
conn_event(struct conn *c, uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (c->st == C_CONNECTING) {
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			conn_fail(c, "connect: %s", strerror(err));
			return;
		}
		c->st = C_UPGRADING;
		conn_connected(c);
		return;
	}
	if (c->st == C_TLS) {
		tls_step(c);
		return;
	}
	/* BearSSL: plaintext or ciphertext an earlier read left over
	 * (tls_flush then watches EPOLLOUT, to be woken) */
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) || br_pending(c))
		conn_read(c);
	if (c->fd >= 0)
		conn_flush(c);
}

/* ---- phases ---- */

static void
setup_kick(void)
{
	struct conn *c;

	while (R.pending < WL_SETUP_BATCH && R.next < R.nconn) {
		c = &R.c[R.next];
		if ((c->role == ROLE_PUB || c->role == ROLE_HTTP) &&
		    R.pending > 0)
			return;	/* the publisher comes last */
		R.next++;
		R.pending++;
		c->setup = true;
		conn_start(c);
	}
}

static void
phase_measure(uint64_t now)
{
	R.phase = P_MEASURE;
	R.measuring = true;
	R.t_measure = now;
	R.t_end = now + (uint64_t)(R.o.duration * WL_NS);
	R.gen0 = gen_cpu(&R.gen0u);
	if (R.o.server_pid)
		R.cpu_ok = srv_cpu_read(&R.cpu0);
}

static void
phase_done(uint64_t now)
{
	if (R.measuring) {
		R.measuring = false;
		R.t_end = now;
		R.gen1 = gen_cpu(&R.gen1u);
		if (R.cpu_ok)
			R.cpu_ok = srv_cpu_read(&R.cpu1);
	}
	if (R.o.mode == M_IDLE)
		R.rss2 = srv_rss();
	R.phase = P_DONE;
}

static void
phase_warmup(uint64_t now)
{
	long i;

	if (R.o.mode == M_IDLE) {
		R.rss1 = srv_rss();
		R.phase = P_HOLD;
		R.t_end = now + (uint64_t)(R.o.hold * WL_NS);
		return;
	}
	if (R.o.mode == M_PROBE) {
		phase_done(now);
		return;
	}
	R.phase = P_WARMUP;
	R.t_measure = now + (uint64_t)(R.o.warmup * WL_NS);
	R.next_slot = now;
	for (i = 0; i < R.nconn; i++)
		if (R.c[i].st == C_OPEN && (R.c[i].role == ROLE_ECHO ||
		    R.c[i].role == ROLE_TCP))
			echo_fill(&R.c[i]);
	pub_try();
}

/* Timeouts: stuck connects and handshakes, undelivered fanout messages. */
static void
sweep(uint64_t now)
{
	uint64_t limit = (uint64_t)(R.o.timeout * WL_NS);
	struct slot *s;
	long i;

	R.t_sweep = now + WL_NS / 10;
	for (i = 0; i < R.nconn; i++) {
		struct conn *c = &R.c[i];

		if (c->st != C_CONNECTING && c->st != C_TLS &&
		    c->st != C_UPGRADING && c->st != C_CLOSING)
			continue;
		if (c->setup ? now >= R.t_setup_end : now > c->t0 + limit)
			conn_fail(c, "timeout");
	}
	for (i = 0; i < R.nslots; i++) {
		s = &R.slots[i];
		if (s->active && now > s->t + limit) {
			R.lost += s->want > s->got ? s->want - s->got : 0;
			slot_retire(s);
		}
	}
	pub_try();
}

static void
tick(uint64_t now)
{
	if (now >= R.t_hard || interrupted) {
		phase_done(now);
		return;
	}
	if (!R.reached && R.errors > 0 && now - R.t_start > 2 * WL_NS) {
		phase_done(now);	/* nothing answers */
		return;
	}
	if (now >= R.t_sweep)
		sweep(now);
	switch (R.phase) {
	case P_SETUP:
		setup_kick();
		if (R.next == R.nconn && R.pending == 0 && R.opened == 0 &&
		    R.o.mode != M_HANDSHAKE)
			phase_done(now);	/* nothing to measure */
		else if ((R.next == R.nconn && R.pending == 0) ||
		    now >= R.t_setup_end)
			phase_warmup(now);
		break;
	case P_WARMUP:
		if (now >= R.t_measure)
			phase_measure(now);
		break;
	case P_MEASURE:
	case P_HOLD:
		if (now >= R.t_end)
			phase_done(now);
		break;
	case P_DONE:
		return;
	}
	if (R.o.mode == M_HANDSHAKE && R.phase != P_DONE)
		hs_kick(now);
	if (R.o.mode == M_FANOUT && R.o.rate > 0)
		pub_try();	/* the pacing timer woke us */
	if ((R.o.mode == M_ECHO || R.o.mode == M_TCP_ECHO) && R.o.rate > 0 &&
	    R.phase != P_DONE)
		echo_kick(now);
}

static void
run_loop(void)
{
	static struct epoll_event ev[WL_EVENTS];
	uint64_t expired;
	int i, n;

	for (;;) {
		tick(now_ns());
		if (R.phase == P_DONE)
			break;
		n = epoll_wait(R.ep, ev, WL_EVENTS, R.o.spin ? 0 : 10);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr != NULL)
				conn_event(ev[i].data.ptr, ev[i].events);
			else if (read(R.tfd, &expired, sizeof expired) < 0)
				continue;	/* EAGAIN: already read */
		}
	}
}

/* ---- set-up ---- */

static enum role
role_of(long i)
{
	switch (R.o.mode) {
	case M_ECHO:
		return ROLE_ECHO;
	case M_TCP_ECHO:
		return ROLE_TCP;
	case M_FANOUT:
		if (i < R.nsubs)
			return ROLE_SUB;
		return R.o.http_pub ? ROLE_HTTP : ROLE_PUB;
	case M_IDLE:
		return ROLE_IDLE;
	case M_HANDSHAKE:
		return ROLE_HS;
	default:
		return ROLE_PROBE;
	}
}

/* Raises RLIMIT_NOFILE towards the hard limit; may lower --conns. */
static void
fd_limit(void)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)R.o.conns + 32;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need) {
		fprintf(stderr, "wardload: open files limited to %lu, "
		    "using %lu connections\n", (unsigned long)rl.rlim_cur,
		    (unsigned long)(rl.rlim_cur - 32));
		R.o.conns = (long)rl.rlim_cur - 32;
	}
}

static void
timer_init(void)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };

	R.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (R.tfd < 0 || epoll_ctl(R.ep, EPOLL_CTL_ADD, R.tfd, &e) != 0)
		die("timerfd: %s", strerror(errno));
}

static void
run_init(void)
{
	long i;

	R.ep = epoll_create1(EPOLL_CLOEXEC);
	if (R.ep < 0)
		die("epoll_create1: %s", strerror(errno));
	R.nsubs = R.o.mode == M_FANOUT ? R.o.conns : 0;
	R.nconn = R.o.mode == M_PROBE ? 1 : R.o.conns + (R.nsubs ? 1 : 0);
	R.c = calloc((size_t)R.nconn, sizeof *R.c);
	R.ts = calloc((size_t)(R.nconn * R.o.inflight), sizeof *R.ts);
	R.payload = malloc((size_t)R.o.size);
	for (R.nslots = 2; R.nslots < 2 * R.o.inflight; R.nslots *= 2)
		;
	R.slots = calloc((size_t)R.nslots, sizeof *R.slots);
	if (!R.c || !R.ts || !R.payload || !R.slots)
		die("out of memory");
	for (i = 0; i < R.o.size; i++)
		R.payload[i] = (unsigned char)('a' + i % 26);
	for (i = 0; i < R.nconn; i++) {
		R.c[i].fd = -1;
		R.c[i].idx = (int)i;
		R.c[i].role = role_of(i);
		R.c[i].ts = R.ts + i * R.o.inflight;
	}
	if (R.o.mode == M_HANDSHAKE)
		R.next = R.nconn;	/* connectors start in hs_kick */
	R.next_seq = 1;
	R.period = R.o.rate > 0 ? WL_NS / (uint64_t)R.o.rate : 0;
	if (R.o.rate > 0)
		timer_init();
	R.t_start = now_ns();
	R.t_setup_end = R.t_start + (uint64_t)(R.o.setup_timeout * WL_NS);
	R.t_hard = R.t_setup_end + (uint64_t)((R.o.warmup + R.o.duration +
	    R.o.hold + 1) * WL_NS);
	if (R.o.tls && R.o.tls_bearssl)
		br_groups(R.o.tls_groups);
	else if (R.o.tls)
		R.tls_ctx = tls_ctx_new(R.o.tls_groups);
	R.rss0 = srv_rss();
}

/* ---- report ---- */

static void
res_add(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(res + resn, sizeof res - resn, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof res - resn)
		resn += (size_t)n;
}

static double
window_s(void)
{
	if (R.t_end <= R.t_measure)
		return 0;
	return (double)(R.t_end - R.t_measure) / 1e9;
}

static double
per_s(uint64_t n)
{
	double w = window_s();

	return w > 0 ? (double)n / w : 0;
}

/* Prints and records the server's CPU time per unit of work. */
static void
report_cpu(const char *unit, uint64_t n)
{
	double stat_s, usr_s, sched_s = 0, gen = 0, usr = 0, gen_us, fpr;

	if (window_s() > 0) {
		gen = 100 * (R.gen1 - R.gen0) / window_s();
		usr = 100 * (R.gen1u - R.gen0u) / window_s();
	}
	gen_us = n > 0 ? (R.gen1 - R.gen0) * 1e6 / (double)n : 0;
	fpr = R.reads ? (double)R.frames / (double)R.reads : 0;
	printf("  generator CPU   %.0f %% of one core (%.0f %% user), %.2f us "
	    "per %s; %.0f reads/s, %.2f frames per read\n", gen, usr, gen_us,
	    unit, per_s(R.reads), fpr);
	res_add(" gen_cpu_pct=%.0f gen_usr_pct=%.0f gen_cpu_us_per_%s=%.2f"
	    " gen_reads_per_s=%.0f gen_frames_per_read=%.2f", gen, usr, unit,
	    gen_us, per_s(R.reads), fpr);
	if (!R.cpu_ok || n == 0)
		return;
	stat_s = (double)(R.cpu1.ticks - R.cpu0.ticks) /
	    (double)sysconf(_SC_CLK_TCK);
	usr_s = (double)(R.cpu1.uticks - R.cpu0.uticks) /
	    (double)sysconf(_SC_CLK_TCK);
	if (R.cpu0.sched && R.cpu1.sched)
		sched_s = (double)(R.cpu1.ns - R.cpu0.ns) / 1e9;
	printf("  server CPU      %.3f s (stat), %.3f s (schedstat), "
	    "%.0f %% of one core (%.0f %% user)\n", stat_s, sched_s,
	    100 * stat_s / window_s(), 100 * usr_s / window_s());
	printf("  per %-11s %.2f us (stat), %.2f us (schedstat), %.2f us "
	    "user\n", unit, stat_s * 1e6 / (double)n,
	    sched_s * 1e6 / (double)n, usr_s * 1e6 / (double)n);
	res_add(" srv_cpu_s=%.3f srv_cpu_pct=%.0f srv_cpu_us_per_%s=%.2f"
	    " srv_sched_us_per_%s=%.2f srv_usr_us_per_%s=%.2f", stat_s,
	    100 * stat_s / window_s(), unit, stat_s * 1e6 / (double)n, unit,
	    sched_s * 1e6 / (double)n, unit, usr_s * 1e6 / (double)n);
}

static void
report_lat(const char *label, const char *key, const struct hist *h)
{
	printf("  %-15s p50 %.1f  p90 %.1f  p99 %.1f  max %.1f us\n", label,
	    us(hist_pct(h, .5)), us(hist_pct(h, .9)), us(hist_pct(h, .99)),
	    us(h->max));
	res_add(" %s_p50_us=%.1f %s_p90_us=%.1f %s_p99_us=%.1f %s_max_us=%.1f",
	    key, us(hist_pct(h, .5)), key, us(hist_pct(h, .9)), key,
	    us(hist_pct(h, .99)), key, us(h->max));
}

static void
report_echo(void)
{
	printf("  messages        %" PRIu64 " in %.2f s: %.0f msg/s, "
	    "%" PRIu64 " bad\n", R.msgs, window_s(), per_s(R.msgs), R.bad);
	res_add(" size=%ld inflight=%ld window_s=%.2f msgs=%" PRIu64
	    " msgs_per_s=%.0f bad=%" PRIu64, R.o.size, R.o.inflight,
	    window_s(), R.msgs, per_s(R.msgs), R.bad);
	report_lat("round trip", "rtt", &R.h1);
	report_cpu("rt", R.msgs);
}

static void
report_fanout(void)
{
	uint64_t unfinished = (uint64_t)R.outstanding;

	printf("  published       %" PRIu64 "; in %.2f s %" PRIu64
	    " delivered to all: %.0f msg/s, %.0f deliveries/s\n",
	    R.published, window_s(), R.delivered, per_s(R.delivered),
	    per_s(R.receipts));
	printf("  lost %" PRIu64 "  duplicated %" PRIu64 "  late %" PRIu64
	    "  unfinished %" PRIu64 "  other messages %" PRIu64 "\n",
	    R.lost, R.dups, R.late, unfinished, R.other);
	if (R.o.rate > 0)
		printf("  paced           %ld msg/s, %" PRIu64
		    " sends over 1 ms behind their slot\n", R.o.rate,
		    R.late_sends);
	res_add(" subs=%ld inflight=%ld rate=%ld window_s=%.2f published=%"
	    PRIu64 " delivered=%" PRIu64 " msgs_per_s=%.0f"
	    " deliveries_per_s=%.0f lost=%" PRIu64 " dups=%" PRIu64
	    " late=%" PRIu64 " unfinished=%" PRIu64 " late_sends=%" PRIu64,
	    R.nsubs, R.o.inflight, R.o.rate, window_s(), R.published,
	    R.delivered, per_s(R.delivered), per_s(R.receipts), R.lost,
	    R.dups, R.late, unfinished, R.late_sends);
	/* copy_*: each subscriber's copy, publish to that subscriber's read;
	 * all_*: each message, publish to the read of its last copy */
	report_lat("per copy", "copy", &R.h1);
	report_lat("msg to all subs", "all", &R.h2);
	report_cpu("delivery", R.receipts);
}

static void
report_idle(void)
{
	long d = R.rss1 - R.rss0;
	double per = R.opened > 0 ? (double)d * 1024 / (double)R.opened : 0;

	printf("  held            %.1f s, %" PRIu64 " closed by the server\n",
	    R.o.hold, R.server_closes);
	res_add(" hold_s=%.1f closed=%" PRIu64, R.o.hold, R.server_closes);
	if (R.o.server_pid == 0)
		return;
	printf("  server VmRSS    %ld kB before, %ld kB open, %ld kB at end\n",
	    R.rss0, R.rss1, R.rss2);
	printf("  per connection  %.0f bytes\n", per);
	res_add(" rss_before_kb=%ld rss_open_kb=%ld rss_end_kb=%ld"
	    " rss_per_conn_b=%.0f", R.rss0, R.rss1, R.rss2, per);
}

static void
report_hs(void)
{
	printf("  handshakes      %" PRIu64 " in %.2f s: %.0f /s, "
	    "%" PRIu64 " late starts, %" PRIu64 " closes without frame\n",
	    R.msgs, window_s(), per_s(R.msgs), R.late_starts, R.close_eof);
	res_add(" rate=%ld window_s=%.2f handshakes=%" PRIu64
	    " hs_per_s=%.0f late_starts=%" PRIu64 " close_eof=%" PRIu64,
	    R.o.rate, window_s(), R.msgs, per_s(R.msgs), R.late_starts,
	    R.close_eof);
	report_lat(R.o.tls_only ? "connect to TLS up" : "connect to 101",
	    "hs", &R.h1);
	report_cpu("hs", R.msgs);
}

static void
report(void)
{
	printf("wardload %s %s%s%s\n", R.o.mode_name, R.o.host,
	    R.o.mode == M_TCP_ECHO ? "" : " ",
	    R.o.mode == M_TCP_ECHO ? "" : R.o.path);
	printf("  connections     %ld opened, %ld failed, %" PRIu64
	    " errors%s%s\n", R.opened, R.failed, R.errors,
	    R.why[0] ? ", first: " : "", R.why);
	if (R.pings > 0)
		printf("  pings answered  %" PRIu64 "\n", R.pings);
	res_add("RESULT mode=%s target=%s conns=%ld opened=%ld failed=%ld"
	    " errors=%" PRIu64 " pings=%" PRIu64 " reached=%d", R.o.mode_name,
	    R.o.host, R.o.conns, R.opened, R.failed, R.errors, R.pings,
	    R.reached);
	if (R.o.tls) {
		printf("  tls             %" PRIu64 " handshakes in the window, "
		    "%" PRIu64 " resumed; offered %s; last: %s\n", R.tls_full,
		    R.tls_reused, R.o.tls_groups ? R.o.tls_groups : "default",
		    R.tls_info);
		res_add(" tls=1 tls_lib=%s tls_hs=%" PRIu64
		    " tls_resumed=%" PRIu64, R.o.tls_bearssl ? "bearssl" :
		    "openssl", R.tls_full, R.tls_reused);
	}
	if (R.last_status)
		res_add(" status=%d", R.last_status);
	if (!R.reached || R.o.mode == M_PROBE) {
		printf("  status          %d\n", R.last_status);
		printf("%s\n", res);
		return;
	}
	switch (R.o.mode) {
	case M_ECHO:
	case M_TCP_ECHO:
		report_echo();
		break;
	case M_FANOUT:
		report_fanout();
		break;
	case M_IDLE:
		report_idle();
		break;
	default:
		report_hs();
		break;
	}
	printf("%s\n", res);
}

/* ---- options ---- */

static double
opt_num(const char *s, double lo, double hi, const char *name)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		die("--%s: want a number from %g to %g, got '%s'", name, lo,
		    hi, s);
	return v;
}

/* Accepts 127.0.0.0/8 and ::1 only ("localhost" means 127.0.0.1). */
static bool
addr_loopback(const char *host, struct sockaddr_storage *ss,
    socklen_t *len, unsigned port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof *a4;
		return (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof *a6;
		return IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	}
	return false;
}

/* HOST:PORT or [V6]:PORT; false unless it is a loopback address. */
static bool
addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;
	char *end;
	unsigned long port;

	if (colon == NULL || colon == s)
		return false;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return false;
		s++, hl -= 2;
	}
	if (hl >= sizeof host)
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return false;
	return addr_loopback(host, ss, len, (unsigned)port);
}

/* Default marker: what precedes {seq} back to a quote or a blank. */
static void
marker_default(void)
{
	const char *t = R.o.pub_msg, *q = strstr(t, "{seq}"), *b = q;

	if (q == NULL)
		die("--pub-msg needs a {seq}");
	while (b > t && b[-1] != '"' && b[-1] != ' ' && q - b < 32)
		b--;
	if (q - b < 3)
		die("cannot derive a marker from --pub-msg; give --marker");
	memcpy(R.o.marker, b, (size_t)(q - b));
	R.o.marker[q - b] = '\0';
}

static void
usage(void)
{
	fputs(
"usage: wardload MODE [options] HOST:PORT      (loopback addresses only)\n"
"       wardload selftest\n"
"modes: echo tcp-echo fanout idle handshake probe\n"
"  --conns N         connections, subscribers or connectors (1)\n"
"  --size B          echo message size (32)\n"
"  --inflight K      in flight per connection (echo) or in all (fanout) (1)\n"
"  --duration S      measured window (5)      --warmup S   before it (1)\n"
"  --hold S          idle: hold time (5)      --timeout S  per handshake,\n"
"  --setup-timeout S for opening all (30)     close or delivery (2)\n"
"  --path P          WebSocket path (/ws/echo); {i}: connection index\n"
"  --pub-path P      fanout publisher path (--path with {i} = pub)\n"
"  --sub-target H:P  fanout: every other subscriber connects here (a\n"
"                    second instance; cross-instance fan-out via Redis)\n"
"  --http-pub P      fanout: publish by HTTP POST to P instead\n"
"  --pub-msg T       fanout message; {seq} and {ts} (ns) are substituted\n"
"  --marker M        fanout: text right before the seq in received messages\n"
"  --rate R          handshake: R handshakes/s in all; fanout and echo:\n"
"                    R messages/s in all\n"
"                    (--inflight still caps messages in flight)\n"
"  --count N         at most N messages or handshakes\n"
"  --server-pid P    read the server's CPU time and VmRSS from /proc/P\n"
"  --header H        extra request header 'Name: value' (up to 4)\n"
"  --binary          echo with binary frames\n"
"  --spin            poll with zero timeout instead of sleeping: on a VM an\n"
"                    idle vCPU can take milliseconds to wake, which would be\n"
"                    counted as the server's latency\n"
"  --tls             TLS (OpenSSL client, certificate not verified)\n"
"  --tls-lib L       the TLS client: openssl (default) or bearssl (TLS 1.2,\n"
"                    ECDHE with AES-GCM or ChaCha20; lighter per record)\n"
"  --tls-groups G    key exchange, OpenSSL's names: X25519, P-256 (--tls;\n"
"                    with bearssl, the curves offered, in BearSSL's order)\n"
"  --tls-resume      offer the last session again (--tls, openssl only)\n"
"  --tls-only        handshake: TLS handshake, close_notify, close; no\n"
"                    WebSocket upgrade (--tls)\n"
"  --burn-ns N       echo: spend N ns of the generator's CPU per reply (a\n"
"                    method check: how much a costlier generator moves the\n"
"                    server's CPU per round trip when both saturate)\n", stderr);
	exit(2);
}

static const struct option longopts[] = {
	{ "conns", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, 's' },
	{ "inflight", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "warmup", required_argument, NULL, 'w' },
	{ "hold", required_argument, NULL, 'H' },
	{ "timeout", required_argument, NULL, 't' },
	{ "setup-timeout", required_argument, NULL, 'T' },
	{ "path", required_argument, NULL, 'p' },
	{ "pub-path", required_argument, NULL, 'P' },
	{ "sub-target", required_argument, NULL, 'B' },
	{ "http-pub", required_argument, NULL, 'u' },
	{ "pub-msg", required_argument, NULL, 'm' },
	{ "marker", required_argument, NULL, 'k' },
	{ "rate", required_argument, NULL, 'r' },
	{ "count", required_argument, NULL, 'n' },
	{ "server-pid", required_argument, NULL, 'S' },
	{ "header", required_argument, NULL, 'h' },
	{ "binary", no_argument, NULL, 'b' },
	{ "spin", no_argument, NULL, 'y' },
	{ "tls", no_argument, NULL, 'L' },
	{ "tls-resume", no_argument, NULL, 'R' },
	{ "tls-only", no_argument, NULL, 'O' },
	{ "tls-groups", required_argument, NULL, 'G' },
	{ "tls-lib", required_argument, NULL, 'K' },
	{ "burn-ns", required_argument, NULL, 'N' },
	{ NULL, 0, NULL, 0 }
};

static void
opt_str(struct opts *o, int ch, const char *a)
{
	switch (ch) {
	case 'p':
		o->path = a;
		break;
	case 'P':
		o->pub_path = a;
		break;
	case 'B':
		if (!addr_parse(a, &o->sub_addr, &o->sub_alen))
			die("--sub-target %s: not a loopback HOST:PORT", a);
		break;
	case 'u':
		o->http_pub = a;
		break;
	case 'm':
		o->pub_msg = a;
		break;
	case 'k':
		if (strlen(a) >= sizeof o->marker || a[0] == '\0')
			die("--marker: 1 to %zu bytes", sizeof o->marker - 1);
		memcpy(o->marker, a, strlen(a) + 1);
		break;
	case 'h':
		if (o->nheaders == WL_MAX_HEADERS || !strchr(a, ':') ||
		    strpbrk(a, "\r\n"))
			die("--header: up to %d, as 'Name: value'",
			    WL_MAX_HEADERS);
		o->headers[o->nheaders++] = a;
		break;
	case 'b':
		o->binary = true;
		break;
	case 'y':
		o->spin = true;
		break;
	case 'L':
		o->tls = true;
		break;
	case 'R':
		o->tls = o->tls_resume = true;
		break;
	case 'O':
		o->tls = o->tls_only = true;
		break;
	case 'G':
		o->tls = true;
		o->tls_groups = a;
		break;
	case 'K':
		o->tls = true;
		if (strcmp(a, "bearssl") != 0 && strcmp(a, "openssl") != 0)
			die("--tls-lib %s: openssl or bearssl", a);
		o->tls_bearssl = strcmp(a, "bearssl") == 0;
		break;
	default:
		usage();
	}
}

static void
opt_one(struct opts *o, int ch, const char *a)
{
	switch (ch) {
	case 'c':
		o->conns = (long)opt_num(a, 1, WL_MAX_CONNS, "conns");
		break;
	case 's':
		o->size = (long)opt_num(a, 1, WL_MAX_SIZE, "size");
		break;
	case 'i':
		o->inflight = (long)opt_num(a, 1, WL_MAX_INFLIGHT, "inflight");
		break;
	case 'd':
		o->duration = opt_num(a, 0.1, WL_MAX_SECONDS, "duration");
		break;
	case 'w':
		o->warmup = opt_num(a, 0, WL_MAX_SECONDS, "warmup");
		break;
	case 'H':
		o->hold = opt_num(a, 0, WL_MAX_SECONDS, "hold");
		break;
	case 't':
		o->timeout = opt_num(a, 0.01, 60, "timeout");
		break;
	case 'T':
		o->setup_timeout = opt_num(a, 0.1, WL_MAX_SECONDS,
		    "setup-timeout");
		break;
	case 'r':
		o->rate = (long)opt_num(a, 1, WL_MAX_RATE, "rate");
		break;
	case 'n':
		o->count = (uint64_t)opt_num(a, 1, WL_MAX_COUNT, "count");
		break;
	case 'N':
		o->burn_ns = (long)opt_num(a, 0, 1000000, "burn-ns");
		break;
	case 'S':
		o->server_pid = (int)opt_num(a, 1, 4194304, "server-pid");
		break;
	default:
		opt_str(o, ch, a);
		break;
	}
}

static enum mode
mode_parse(const char *s)
{
	static const char *const names[] = {
		"echo", "tcp-echo", "fanout", "idle", "handshake", "probe",
		"selftest"
	};
	int i;

	for (i = 0; i <= M_SELFTEST; i++)
		if (strcmp(s, names[i]) == 0)
			return (enum mode)i;
	usage();
	return M_SELFTEST;
}

static void
opts_parse(int argc, char **argv, struct opts *o)
{
	static char pub_path[WL_MSG_MAX];
	int ch;

	if (argc < 2)
		usage();
	*o = (struct opts){ .conns = 1, .size = 32, .inflight = 1,
	    .duration = 5, .warmup = 1, .hold = 5, .timeout = 2,
	    .setup_timeout = 30, .path = "/ws/echo", .count = WL_MAX_COUNT,
	    .pub_msg = DEFAULT_PUB_MSG };
	o->mode_name = argv[1];
	o->mode = mode_parse(argv[1]);
	if (o->mode == M_SELFTEST)
		return;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		opt_one(o, ch, optarg);
	if (optind != argc - 1)
		usage();
	if (!addr_parse(argv[optind], &o->addr, &o->alen))
		die("%s: not a loopback HOST:PORT (127.0.0.0/8 or [::1])",
		    argv[optind]);
	snprintf(o->host, sizeof o->host, "%s", argv[optind]);
	if (o->mode != M_ECHO && o->mode != M_TCP_ECHO &&
	    o->mode != M_FANOUT)
		o->inflight = 1;
	if (o->conns * o->inflight > WL_MAX_CONNS * 16)
		die("--conns x --inflight: at most %d", WL_MAX_CONNS * 16);
	if (o->mode == M_FANOUT && o->pub_path == NULL) {
		static const char *const key[] = { "{i}" };
		static const char *const val[] = { "pub" };

		if (!tmpl_render(pub_path, sizeof pub_path, o->path, key, val, 1))
			die("--path too long");
		o->pub_path = pub_path;
	}
	if (o->mode == M_FANOUT && o->marker[0] == '\0')
		marker_default();
	o->marker_len = strlen(o->marker);
	if (o->mode != M_IDLE)
		o->hold = 0;
	if (o->tls_only && o->mode != M_HANDSHAKE)
		die("--tls-only: handshake mode only");
	if (o->tls && o->mode == M_TCP_ECHO)
		die("--tls: not with tcp-echo");
	if (o->tls_bearssl && o->tls_resume)
		die("--tls-resume: OpenSSL only (--tls-lib openssl)");
}

/* ---- self-test (RFC known answers, framing, histogram) ---- */

static int st_pass, st_fail;

static void
st_check(bool ok, const char *what)
{
	if (ok) {
		st_pass++;
		return;
	}
	st_fail++;
	printf("FAIL %s\n", what);
}

static void
st_sha1(const char *in, size_t reps, const char *hex)
{
	struct sha1 s;
	unsigned char d[20];
	char got[41];
	size_t i;

	sha1_init(&s);
	for (i = 0; i < reps; i++)
		sha1_update(&s, in, strlen(in));
	sha1_final(&s, d);
	for (i = 0; i < 20; i++)
		snprintf(got + 2 * i, 3, "%02x", d[i]);
	st_check(strcmp(got, hex) == 0, hex);
}

static void
st_hash(void)
{
	static const char *const b64[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" }
	};
	char out[64];
	size_t i;

	/* RFC 3174 §7.3 test vectors */
	st_sha1("abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
	st_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	    "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	st_sha1("a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	st_sha1("0123456701234567012345670123456701234567012345670123456701"
	    "234567", 10, "dea356a2cddd90c7a7ecedc5ebb563934f460452");
	st_sha1("", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	/* RFC 4648 §10 */
	for (i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
		b64_encode((const unsigned char *)b64[i][0],
		    strlen(b64[i][0]), out);
		st_check(strcmp(out, b64[i][1]) == 0, b64[i][1]);
	}
	/* RFC 6455 §1.3 */
	ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	printf("accept(dGhlIHNhbXBsZSBub25jZQ==) = %s\n", out);
	st_check(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0,
	    "RFC 6455 accept key");
}

/* Encodes a header for len, checks its bytes and parses it at every split. */
static void
st_frame(uint64_t len, const char *expect, size_t elen)
{
	static const unsigned char mask[4] = { 1, 2, 3, 4 };
	unsigned char p[14];
	struct wsh h;
	size_t n, k;
	char what[64];
	bool ok = true;

	n = ws_header(p, 2, len, mask);
	snprintf(what, sizeof what, "frame header for length %" PRIu64, len);
	st_check(n == elen + 4 && memcmp(p, expect, elen) == 0 &&
	    memcmp(p + elen, mask, 4) == 0, what);
	for (k = 0; k < n; k++)
		ok = ok && ws_parse(p, k, &h) == 0;
	ok = ok && ws_parse(p, n, &h) == (int)n && h.len == len &&
	    h.op == 2 && h.fin && h.masked && memcmp(h.mask, mask, 4) == 0;
	snprintf(what, sizeof what, "frame parse for length %" PRIu64, len);
	st_check(ok, what);
}

static void
st_framing(void)
{
	static const unsigned char bad[][2] = {
		{ 0x89, 126 },		/* control frame over 125 */
		{ 0x09, 0 },		/* fragmented control frame */
		{ 0xC1, 0 },		/* RSV1 without an extension */
		{ 0x83, 0 },		/* reserved opcode */
	};
	unsigned char p[64], q[64], m[4] = { 0x37, 0xfa, 0x21, 0x3d };
	struct wsh h;
	size_t i;

	st_frame(0, "\x82\x80", 2);
	st_frame(125, "\x82\xfd", 2);
	st_frame(126, "\x82\xfe\x00\x7e", 4);
	st_frame(65535, "\x82\xfe\xff\xff", 4);
	st_frame(65536, "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	st_frame(1ULL << 32, "\x82\xff\x00\x00\x00\x01\x00\x00\x00\x00", 10);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		st_check(ws_parse(bad[i], 2, &h) < 0, "bad header refused");
	st_check(ws_parse((const unsigned char *)"\x82\x7f\x80\0\0\0\0\0\0\0",
	    10, &h) < 0, "64-bit length with its top bit refused");
	/* RFC 6455 §5.7: a masked "Hello" */
	ws_mask(p, (const unsigned char *)"Hello", 5, m);
	st_check(memcmp(p, "\x7f\x9f\x4d\x51\x58", 5) == 0, "mask Hello");
	for (i = 0; i < sizeof p; i++)
		p[i] = (unsigned char)(i * 7);
	ws_mask(q, p, 37, m);
	ws_mask(q, q, 37, m);
	st_check(memcmp(p, q, 37) == 0, "mask twice is identity");
}

static void
st_misc(void)
{
	static struct hist h;
	static const char *const key[] = { "{seq}", "{ts}" };
	static const char *const val[] = { "42", "7" };
	struct sockaddr_storage ss;
	socklen_t len;
	struct conn c = { .fd = -1 };
	char out[64];
	uint64_t v, p50, p99;

	for (v = 1; v <= 100000; v++)
		hist_add(&h, v * 1000);
	p50 = hist_pct(&h, .5), p99 = hist_pct(&h, .99);
	st_check(p50 > 48500000 && p50 < 51500000, "histogram p50");
	st_check(p99 > 96000000 && p99 < 102000000, "histogram p99");
	st_check(hist_pct(&h, 1) == 100000000, "histogram max");
	for (v = 0; v < H_BUCKETS; v++) {
		uint64_t w, lo = hist_low((unsigned)v, &w);
		if (hist_index(lo) != v || hist_index(lo + w - 1) != v)
			break;
	}
	st_check(v == H_BUCKETS, "histogram buckets are contiguous");
	tmpl_render(out, sizeof out, "a{seq}b{ts}{seq}", key, val, 2);
	st_check(strcmp(out, "a42b742") == 0, "template");
	st_check(tmpl_render(out, 4, "{seq}{seq}", key, val, 2) == 0,
	    "template overflow refused");
	st_check(sub_mark(&c, 1) == 0 && sub_mark(&c, 3) == 0 &&
	    sub_mark(&c, 2) == 0 && sub_mark(&c, 3) == 1 &&
	    sub_mark(&c, 200) == 0 && sub_mark(&c, 100) == 2,
	    "subscriber window");
	st_check(addr_parse("127.0.0.1:80", &ss, &len), "127.0.0.1");
	st_check(addr_parse("127.9.8.7:80", &ss, &len), "127.9.8.7");
	st_check(addr_parse("[::1]:80", &ss, &len), "[::1]");
	st_check(addr_parse("localhost:80", &ss, &len), "localhost");
	st_check(!addr_parse("10.0.0.1:80", &ss, &len), "10.0.0.1 refused");
	st_check(!addr_parse("0.0.0.0:80", &ss, &len), "0.0.0.0 refused");
	st_check(!addr_parse("[::ffff:127.0.0.1]:80", &ss, &len),
	    "v4-mapped refused");
	st_check(!addr_parse("example.org:80", &ss, &len), "names refused");
	st_check(!addr_parse("127.0.0.1:0", &ss, &len), "port 0 refused");
}

static void
st_http(void)
{
	static const char r[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
	    "Sec-WebSocket-Accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n\r\n";
	const unsigned char *p = (const unsigned char *)r, *v;
	size_t n = sizeof r - 1, vl;

	st_check(http_status(p, n) == 101, "status 101");
	st_check(http_status((const unsigned char *)"HTTP/1.1 404 x\r\n", 16)
	    == 404, "status 404");
	st_check(http_status((const unsigned char *)"GET / HTTP/1.1\r\n", 16)
	    == -1, "not a status line");
	st_check(http_has(p, n, "Upgrade", "websocket") &&
	    http_has(p, n, "Connection", "upgrade") &&
	    !http_has(p, n, "Connection", "close"), "header tokens");
	v = http_header(p, n, "sec-websocket-accept", &vl);
	st_check(v != NULL && vl == 28 &&
	    memcmp(v, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28) == 0,
	    "header value trimmed");
}

/* Pacing: the schedule, late sends and the dropped backlog. */
static void
st_pace(void)
{
	uint64_t next, t, n = 0, late = 0;
	int d;

	/* 1,000/s polled every 100 us for a second: 1,000 sends, none late */
	for (next = 1000, t = 1000; t < 1000 + WL_NS; t += 100000)
		while ((d = pace_due(t, &next, 1000000)) != 0)
			n++, late += d == 2;
	st_check(n == 1000 && late == 0, "pacing: 1000/s on time");
	st_check(pace_due(next - 1, &next, 1000000) == 0,
	    "pacing: nothing before the slot");
	/* a 5 ms stall: slots 0..5 ms are due at once, 0..3 ms are late */
	for (n = late = 0, next = 0; (d = pace_due(5000000, &next,
	    1000000)) != 0 && n < 100;)
		n++, late += d == 2;
	st_check(n == 6 && late == 4 && next == 6000000,
	    "pacing: a short stall is caught up, late sends counted");
	/* a 2 s stall: the backlog is dropped, one late send */
	for (n = late = 0, next = 0; (d = pace_due(2 * WL_NS, &next,
	    1000000)) != 0 && n < 100;)
		n++, late += d == 2;
	st_check(n == 1 && late == 1 && next == 2 * WL_NS + 1000000,
	    "pacing: a long stall drops the backlog");
}

/* marker_find() agrees with memmem(); sequence numbers parse. */
static void
st_marker(void)
{
	static const char *const ok[][2] = {
		{ "{\"text\":\"wardload-seq=123 ts=9\"}", "123" },
		{ "wwardload-seq=7", "7" },
		{ "wardload-seq=1 wardload-seq=2", "1" },
		{ "wardload-seq=18446744073709551615", "1844674407370955161" },
	};
	static const char *const bad[] = {
		"", "wardload-seq", "wardload-seq=", "wardload-seq=x",
		"wardload-se q=1", "text only"
	};
	unsigned char h[40];
	uint64_t seq, want;
	size_t i, k, n, mismatches = 0;

	snprintf(R.o.marker, sizeof R.o.marker, "wardload-seq=");
	R.o.marker_len = strlen(R.o.marker);
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		want = strtoull(ok[i][1], NULL, 10);
		st_check(fanout_seq((const unsigned char *)ok[i][0],
		    strlen(ok[i][0]), &seq) && seq == want, ok[i][0]);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		st_check(!fanout_seq((const unsigned char *)bad[i],
		    strlen(bad[i]), &seq), "no sequence number refused");
	/* every string of a, b up to 12 long, needle "aab" and "ab" */
	for (n = 0; n <= 12; n++)
		for (k = 0; k < (1u << n); k++) {
			for (i = 0; i < n; i++)
				h[i] = (k >> i) & 1 ? 'b' : 'a';
			mismatches += marker_find(h, n, "aab", 3) !=
			    memmem(h, n, "aab", 3);
			mismatches += marker_find(h, n, "ab", 2) !=
			    memmem(h, n, "ab", 2);
		}
	st_check(mismatches == 0, "marker_find() agrees with memmem()");
}

/* A server frame (unmasked) at d; returns its size. */
static size_t
st_srv_frame(unsigned char *d, unsigned fin, unsigned op, const void *p,
    size_t n)
{
	static const unsigned char nomask[4];
	size_t hl = ws_header(d, op, n, nomask) - 4;

	d[0] = (unsigned char)((fin ? 0x80 : 0) | op);
	d[1] &= 0x7f;
	memcpy(d + hl, p, n);
	return hl + n;
}

/* Reads one client frame from fd: true when masked, final, op and p[0..n). */
static bool
st_client_frame(int fd, unsigned op, const void *p, size_t n)
{
	unsigned char b[256];
	struct wsh h;
	ssize_t got;
	int hl;

	got = recv(fd, b, sizeof b, 0);
	if (got <= 0 || (hl = ws_parse(b, (size_t)got, &h)) <= 0)
		return false;
	ws_mask(b + hl, b + hl, (size_t)h.len, h.mask);
	return h.masked && h.fin && h.op == op && h.len == n &&
	    (size_t)got == (size_t)hl + n && memcmp(b + hl, p, n) == 0;
}

/*
 * The subscriber read path over a socketpair, as the server would feed it:
 * frames split across reads, a fragmented message with a ping in the
 * middle (RFC 6455 §5.4, §5.5.2), a duplicate, a 16-bit length, and the
 * closing handshake (§5.5.1). No network.
 */
static void
st_wire(void)
{
	static struct conn c;
	static struct slot slots[8];
	char m5[] = "{\"text\":\"wardload-seq=5 ts=1\",\"seq\":5}";
	char m7[300];
	unsigned char f[1024];
	size_t n = 0, k;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) != 0 || (R.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		st_check(false, "socketpair and epoll");
		return;
	}
	rng_seed();
	snprintf(R.o.marker, sizeof R.o.marker, "wardload-seq=");
	R.o.marker_len = strlen(R.o.marker);
	R.slots = slots;
	R.nslots = 8;
	slots[5] = (struct slot){ .seq = 5, .t = 1, .want = 1, .active = true };
	slots[6] = (struct slot){ .seq = 6, .t = 1, .want = 2, .active = true };
	slots[7] = (struct slot){ .seq = 7, .t = 1, .want = 1, .active = true };
	R.outstanding = 3;
	R.measuring = true;
	c = (struct conn){ .fd = sv[0], .role = ROLE_SUB, .st = C_OPEN };
	conn_watch(&c, false);

	/* seq 5 whole and 3 bytes of a fragmented seq 6, then the rest */
	k = st_srv_frame(f, 1, 1, m5, strlen(m5));
	n = k + st_srv_frame(f + k, 0, 1, "{\"text\":\"wardload-se", 20);
	n += st_srv_frame(f + n, 1, 9, "hi", 2);
	n += st_srv_frame(f + n, 1, 0, "q=6\"}", 5);
	st_check(send(sv[1], f, k + 3, 0) == (ssize_t)(k + 3), "send");
	conn_event(&c, EPOLLIN);
	st_check(R.receipts == 1 && R.delivered == 1 && c.rb.len == 3,
	    "a whole frame and the start of the next");
	st_check(send(sv[1], f + k + 3, n - k - 3, 0) == (ssize_t)(n - k - 3),
	    "send");
	conn_event(&c, EPOLLIN);
	st_check(R.receipts == 2 && R.delivered == 1 && slots[6].got == 1 &&
	    R.pings == 1 && R.other == 0 && c.rb.len == 0 && c.fop == 0,
	    "fragmented message with a ping inside reassembled");
	st_check(st_client_frame(sv[1], 10, "hi", 2), "ping answered, masked");

	/* a duplicate of 5, and seq 7 with a 16-bit length */
	memset(m7, ' ', sizeof m7);
	memcpy(m7, "wardload-seq=7 ", 15);
	n = st_srv_frame(f, 1, 1, m5, strlen(m5));
	n += st_srv_frame(f + n, 1, 1, m7, sizeof m7);
	st_check(f[n - sizeof m7 - 3] == 126, "16-bit length used");
	send(sv[1], f, n, 0);
	conn_event(&c, EPOLLIN);
	st_check(R.dups == 1 && R.receipts == 3 && R.delivered == 2 &&
	    R.h1.n == 3 && R.h2.n == 2, "duplicate counted, 16-bit frame");

	/* the server closes with 1001: the same code back, masked, then EOF */
	n = st_srv_frame(f, 1, 8, "\x03\xe9" "bye", 5);
	send(sv[1], f, n, 0);
	conn_event(&c, EPOLLIN);
	st_check(c.fd < 0 && R.server_closes == 1 && R.last_close == 1001,
	    "server close handled");
	st_check(st_client_frame(sv[1], 8, "\x03\xe9", 2),
	    "close answered with the same code, masked");
	st_check(recv(sv[1], f, sizeof f, 0) == 0, "then the connection ends");
	close(sv[1]);
	close(R.ep);
	free(c.rb.p), free(c.wb.p), free(c.frag.p);
	R = (struct run){ 0 };
}

/* A self-signed certificate for k (CN localhost), or NULL. */
static X509 *
st_cert(EVP_PKEY *k)
{
	X509 *crt = X509_new();

	if (crt == NULL || k == NULL)
		return NULL;
	X509_set_version(crt, 2);	/* v3 */
	ASN1_INTEGER_set(X509_get_serialNumber(crt), 1);
	X509_gmtime_adj(X509_getm_notBefore(crt), -60);
	X509_gmtime_adj(X509_getm_notAfter(crt), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(crt), "CN",
	    MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(crt, X509_get_subject_name(crt));
	if (X509_set_pubkey(crt, k) != 1 ||
	    X509_sign(crt, k, EVP_sha256()) <= 0) {
		X509_free(crt);
		return NULL;
	}
	return crt;
}

/* A throwaway server: an EC P-256 key and a self-signed certificate. */
static SSL_CTX *
st_tls_server(void)
{
	SSL_CTX *x = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *crt = st_cert(k);
	bool ok;

	if (x == NULL || k == NULL || crt == NULL)
		return NULL;
	ok = SSL_CTX_use_certificate(x, crt) == 1 &&
	    SSL_CTX_use_PrivateKey(x, k) == 1;
	X509_free(crt);
	EVP_PKEY_free(k);
	if (!ok) {
		SSL_CTX_free(x);
		return NULL;
	}
	SSL_CTX_set_session_id_context(x, (const unsigned char *)"wl", 2);
	return x;
}

/* One client connection against the server end: both sides driven here
 * (at most 64 turns).  The server's SSL, or NULL; *sv its socket. */
static SSL *
st_tls_pair(SSL_CTX *srv, struct conn *c, int *sv)
{
	int p[2], i;
	SSL *s;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    p) != 0 || (s = SSL_new(srv)) == NULL)
		return NULL;
	SSL_set_fd(s, p[1]);
	SSL_set_accept_state(s);
	*sv = p[1];
	*c = (struct conn){ .fd = p[0], .role = ROLE_ECHO, .st = C_UPGRADING };
	conn_connected(c);
	for (i = 0; i < 64 && c->st == C_TLS; i++) {
		SSL_do_handshake(s);
		conn_event(c, EPOLLIN | EPOLLOUT);
	}
	return s;
}

/* What the server end reads, up to cap - 1 bytes, as a string. */
static int
st_tls_read(SSL *s, char *d, size_t cap)
{
	int n = 0, r, i;

	for (i = 0; i < 64 && (size_t)n < cap - 1; i++) {
		r = SSL_read(s, d + n, (int)(cap - 1 - (size_t)n));
		if (r > 0)
			n += r;
		else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
			break;
	}
	d[n] = '\0';
	return n;
}

static void
st_tls(void)
{
	static struct conn c;
	SSL_CTX *srv = st_tls_server();
	char got[512];
	int sv = -1;
	SSL *s;

	if (srv == NULL || (R.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		st_check(false, "tls: a test server");
		return;
	}
	rng_seed();
	R.o.tls = R.o.tls_resume = true;
	R.o.path = "/ws/echo";
	snprintf(R.o.host, sizeof R.o.host, "127.0.0.1:1");
	R.tls_ctx = tls_ctx_new("X25519:P-256");
	R.measuring = true;
	s = st_tls_pair(srv, &c, &sv);
	st_check(s != NULL && c.st == C_UPGRADING && c.ssl != NULL,
	    "tls: the handshake completes, then the upgrade starts");
	st_check(s && SSL_version(s) == TLS1_2_VERSION &&
	    strncmp(R.tls_info, "x25519 ", 7) == 0,
	    "tls: TLS 1.2, as ward speaks it, X25519 as offered first");
	st_check(s && st_tls_read(s, got, sizeof got) > 0 &&
	    strncmp(got, "GET /ws/echo HTTP/1.1\r\n", 23) == 0,
	    "tls: the upgrade request arrives in the clear at the server");
	st_check(R.tls_full == 1 && R.tls_reused == 0 && R.tls_sess != NULL,
	    "tls: a full handshake counted, its session kept");
	conn_close(&c);
	if (s != NULL)
		SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(s);
	close(sv);

	/* the session offered again: resumed; --tls-only: close_notify */
	R.o.mode = M_HANDSHAKE;
	R.o.tls_only = true;
	s = st_tls_pair(srv, &c, &sv);
	st_check(s && SSL_session_reused(s) == 1 && R.tls_reused == 1,
	    "tls: the second handshake resumes the session");
	st_check(c.fd < 0 && R.msgs == 1 && s &&
	    st_tls_read(s, got, sizeof got) == 0 &&
	    SSL_get_error(s, 0) == SSL_ERROR_ZERO_RETURN,
	    "tls-only: counted, then close_notify and close");
	SSL_free(s);
	close(sv);
	SSL_SESSION_free(R.tls_sess);
	SSL_CTX_free(R.tls_ctx);
	SSL_CTX_free(srv);
	close(R.ep);
	R = (struct run){ 0 };
}

/* Runs a chain of DER certificates through brx_class as BearSSL's engine
 * would (in 7-byte pieces); the key it gives, or NULL (*err: end_chain). */
static const br_x509_pkey *
st_brx_chain(struct wl_x509 *x, unsigned char *const *der, const int *len,
    int n, unsigned *err)
{
	const br_x509_class **v = &x->vtable;
	unsigned usages = 0;
	const br_x509_pkey *pk;
	int i, k;

	x->vtable = &brx_class;
	brx_class.start_chain(v, "localhost");
	for (i = 0; i < n; i++) {
		brx_class.start_cert(v, (uint32_t)len[i]);
		for (k = 0; k < len[i]; k += 7)
			brx_class.append(v, der[i] + k,
			    (size_t)(len[i] - k < 7 ? len[i] - k : 7));
		brx_class.end_cert(v);
	}
	if ((*err = brx_class.end_chain(v)) != 0)
		return NULL;
	pk = brx_class.get_pkey((const br_x509_class *const *)v, &usages);
	return usages & BR_KEYTYPE_SIGN ? pk : NULL;
}

/* Whether pk is k's EC public key, on curve. */
static bool
st_brx_is(const br_x509_pkey *pk, EVP_PKEY *k, int curve)
{
	unsigned char *q = NULL;
	size_t n = EVP_PKEY_get1_encoded_public_key(k, &q);
	bool ok = pk != NULL && pk->key_type == BR_KEYTYPE_EC &&
	    pk->key.ec.curve == curve && n > 0 && pk->key.ec.qlen == n &&
	    memcmp(pk->key.ec.q, q, n) == 0;

	OPENSSL_free(q);
	return ok;
}

/* The any-chain x509 class: the leaf's key, whatever follows it. */
static void
st_brx(void)
{
	static struct wl_x509 x;
	EVP_PKEY *k256 = EVP_EC_gen("P-256"), *k384 = EVP_EC_gen("P-384");
	X509 *c256 = st_cert(k256), *c384 = st_cert(k384);
	unsigned char *der[2] = { NULL, NULL }, *one[1], junk[64];
	int len[2] = { 0, 0 }, one_len[1];
	unsigned err;

	if (c256 == NULL || c384 == NULL ||
	    (len[0] = i2d_X509(c256, &der[0])) <= 0 ||
	    (len[1] = i2d_X509(c384, &der[1])) <= 0) {
		st_check(false, "brx: test certificates");
		return;
	}
	st_check(st_brx_is(st_brx_chain(&x, der, len, 2, &err), k256,
	    BR_EC_secp256r1), "brx: a P-256 leaf's key, not the next one's");
	one[0] = der[1];
	one_len[0] = len[1];
	st_check(st_brx_is(st_brx_chain(&x, one, one_len, 1, &err), k384,
	    BR_EC_secp384r1), "brx: a P-384 leaf alone");
	one[0] = der[0];
	one_len[0] = len[0] - 1;
	st_check(st_brx_chain(&x, one, one_len, 1, &err) == NULL && err != 0,
	    "brx: a truncated leaf refused");
	memset(junk, 0x30, sizeof junk);
	one[0] = junk;
	one_len[0] = sizeof junk;
	st_check(st_brx_chain(&x, one, one_len, 1, &err) == NULL && err != 0,
	    "brx: a leaf that is no certificate refused");
	st_check(st_brx_chain(&x, der, len, 0, &err) == NULL &&
	    err == BR_ERR_X509_EMPTY_CHAIN, "brx: an empty chain refused");
	OPENSSL_free(der[0]);
	OPENSSL_free(der[1]);
	X509_free(c256);
	X509_free(c384);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(k384);
}

/* What the client sent, as the server reads it: one masked frame whose
 * payload is p[0..n). */
static bool
st_br_frame_in(SSL *s, const unsigned char *p, size_t n)
{
	static char got[512];
	struct wsh h;
	int r = st_tls_read(s, got, sizeof got), hl;

	if (r <= 0 || (hl = ws_parse((unsigned char *)got, (size_t)r,
	    &h)) <= 0)
		return false;
	ws_mask((unsigned char *)got + hl, (unsigned char *)got + hl,
	    (size_t)h.len, h.mask);
	return h.masked && h.len == n && (size_t)r == (size_t)hl + n &&
	    memcmp(got + hl, p, n) == 0;
}

/* The server's records for p[0..n), split after cut bytes, read raw off
 * the client's socket into ct; their length. */
static size_t
st_br_records(SSL *s, int cfd, const void *p, int n, int cut,
    unsigned char *ct, size_t cap)
{
	ssize_t r;

	SSL_write(s, p, cut);
	SSL_write(s, (const char *)p + cut, n - cut);
	r = recv(cfd, ct, cap, 0);
	return r > 0 ? (size_t)r : 0;
}

/* An echo round trip over the BearSSL client, every split of two records
 * carrying two frames (the second across them) delivered whole. */
static void
st_br_echo(SSL *s, struct conn *c, int sv)
{
	static uint64_t ts[1];
	static unsigned char ct[1024];
	char resp[256];
	unsigned char two[128];
	size_t n, L, k, bad = 0;
	uint64_t msgs;

	c->ts = ts;
	snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", c->accept);
	SSL_write(s, resp, (int)strlen(resp));
	conn_event(c, EPOLLIN);
	st_check(c->st == C_OPEN && c->fd >= 0,
	    "tls bearssl: the 101 read, the socket open");
	st_check(st_br_frame_in(s, R.payload, 32),
	    "tls bearssl: the first echo frame arrives, masked");
	n = st_srv_frame(two, 1, 1, R.payload, 32);
	SSL_write(s, two, (int)n);
	conn_event(c, EPOLLIN);
	st_check(R.msgs == 1 && R.bad == 0 && st_br_frame_in(s, R.payload, 32),
	    "tls bearssl: echoed back, counted, the next one sent");
	n += st_srv_frame(two + n, 1, 1, R.payload, 32);
	for (k = 1, L = 2; k < L && k < sizeof ct; k++) {
		msgs = R.msgs;
		L = st_br_records(s, c->fd, two, (int)n, 50, ct, sizeof ct);
		if (L < 2 || c->fd < 0 || send(sv, ct, k, 0) != (ssize_t)k)
			break;
		conn_event(c, EPOLLIN);
		send(sv, ct + k, L - k, 0);
		conn_event(c, EPOLLIN);
		bad += R.msgs != msgs + 2 || R.bad != 0 || c->fd < 0;
		while (st_br_frame_in(s, R.payload, 32))
			;	/* the client's next ones */
	}
	st_check(bad == 0 && L > 100 && k == L,
	    "tls bearssl: two records split at every byte deliver both frames");
}

/* tls_recv() with a small cap: a record's plaintext the engine holds,
 * ciphertext it cannot take yet kept, all of it delivered in order. */
static void
st_br_small(SSL *s, struct conn *c)
{
	static unsigned char big[1050], got[1100];
	size_t have = 0, i;
	bool held = false, pending = false;
	ssize_t r = 0;

	for (i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 13 + 5);
	SSL_write(s, big, 1000);
	SSL_write(s, big + 1000, 50);
	for (i = 0; i < 200 && have < sizeof big && c->br != NULL; i++) {
		r = tls_recv(c, got + have, 100);
		if (r <= 0 && errno != EAGAIN)
			break;
		have += r > 0 ? (size_t)r : 0;
		held = held || (c->br && c->br->in.len > c->br->in.pos);
		pending = pending || (have > 0 && have < 1000 &&
		    br_pending(c));
	}
	st_check(have == sizeof big && memcmp(got, big, have) == 0 && held &&
	    pending && !br_pending(c),
	    "tls bearssl: 100-byte reads deliver two records, leftovers held");
	SSL_shutdown(s);
	r = c->br != NULL ? tls_recv(c, got, sizeof got) : -1;
	st_check(r == 0, "tls bearssl: the server's close_notify is an end");
}

/* Two records, the second with a flipped byte: the first one's bytes
 * read, the engine's failure wakes the connection (EPOLLOUT) and fails
 * it, said. */
static void
st_br_corrupt(SSL *s, struct conn *c, int sv)
{
	static unsigned char ct[256];
	size_t L = st_br_records(s, c->fd, "0123456789", 10, 5, ct,
	    sizeof ct);
	uint64_t errors = R.errors;
	bool woken;

	if (L > 20)
		ct[L - 3] ^= 1;
	send(sv, ct, L, 0);
	conn_event(c, EPOLLIN);	/* the first record's 5 bytes */
	woken = c->fd >= 0 && (c->ev & EPOLLOUT);
	if (c->fd >= 0)
		conn_event(c, EPOLLOUT);
	st_check(L > 20 && woken && c->fd < 0 && c->br == NULL &&
	    R.errors == errors + 1 && strstr(R.why, "BearSSL error") != NULL,
	    "tls bearssl: a forged record fails the connection");
}

static void
st_tls_br_one(SSL_CTX *srv, const char *groups, const char *info,
    const char *what)
{
	static struct conn c;
	char got[512];
	int sv = -1;
	SSL *s;

	R.o.tls_groups = groups;
	R.br_ec.mul = NULL;	/* br_start: br_groups() again */
	R.why[0] = '\0';
	s = st_tls_pair(srv, &c, &sv);
	st_check(s != NULL && c.st == C_UPGRADING && c.br != NULL &&
	    c.ssl == NULL && SSL_version(s) == TLS1_2_VERSION &&
	    strcmp(R.tls_info, info) == 0, what);
	if (s == NULL || c.br == NULL || c.st != C_UPGRADING) {
		printf("  (tls_info '%s', why '%s')\n", R.tls_info, R.why);
		SSL_free(s);
		return;
	}
	st_check(st_tls_read(s, got, sizeof got) > 0 &&
	    strncmp(got, "GET /ws/echo HTTP/1.1\r\n", 23) == 0,
	    "tls bearssl: the upgrade request arrives in the clear");
	if (groups == NULL) {
		st_br_echo(s, &c, sv);
		if (c.fd >= 0)
			st_br_small(s, &c);
	} else {
		st_br_corrupt(s, &c, sv);
	}
	conn_close(&c);
	SSL_free(s);
	close(sv);
}

/* The BearSSL client against an in-process OpenSSL server that prefers
 * what ward picks (X25519, ECDHE-ECDSA with AES-128-GCM). */
static void
st_tls_br(void)
{
	static struct conn c;
	static unsigned char payload[32];
	SSL_CTX *srv = st_tls_server();
	char got[64];
	int sv = -1;
	SSL *s;

	if (srv == NULL || (R.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    SSL_CTX_set1_groups_list(srv, "X25519:P-256") != 1 ||
	    SSL_CTX_set_cipher_list(srv, "ECDHE-ECDSA-AES128-GCM-SHA256:"
	    "ECDHE-ECDSA-CHACHA20-POLY1305") != 1) {
		st_check(false, "tls bearssl: a test server");
		return;
	}
	SSL_CTX_set_options(srv, SSL_OP_CIPHER_SERVER_PREFERENCE);
	rng_seed();
	memset(payload, 'p', sizeof payload);
	R.o.tls = R.o.tls_bearssl = true;
	R.o.path = "/ws/echo";
	R.o.mode = M_ECHO;
	R.o.size = 32;
	R.o.inflight = 1;
	R.o.count = (uint64_t)WL_MAX_COUNT;
	R.payload = payload;
	R.phase = P_MEASURE;
	R.measuring = true;
	snprintf(R.o.host, sizeof R.o.host, "127.0.0.1:1");
	st_tls_br_one(srv, NULL, "x25519 ECDHE-ECDSA-AES128-GCM-SHA256 "
	    "(BearSSL)", "tls bearssl: TLS 1.2, X25519, ECDHE-ECDSA-AES128-GCM");
	st_tls_br_one(srv, "P-256", "secp256r1 ECDHE-ECDSA-AES128-GCM-SHA256 "
	    "(BearSSL)", "tls bearssl: --tls-groups P-256 offers P-256 only");
	st_check(R.br_ec.supported_curves == (uint32_t)1 << BR_EC_secp256r1,
	    "tls bearssl: the curve mask for P-256");

	/* --tls-only: counted, close_notify, closed, the engine freed */
	R.o.mode = M_HANDSHAKE;
	R.o.tls_only = true;
	R.o.tls_groups = NULL;
	R.msgs = 0;
	s = st_tls_pair(srv, &c, &sv);
	st_check(s && c.fd < 0 && c.br == NULL && R.msgs == 1 &&
	    st_tls_read(s, got, sizeof got) == 0 &&
	    SSL_get_error(s, 0) == SSL_ERROR_ZERO_RETURN,
	    "tls bearssl --tls-only: counted, then close_notify and close");
	SSL_free(s);
	close(sv);
	SSL_CTX_free(srv);
	close(R.ep);
	R = (struct run){ 0 };
}

static int
selftest(void)
{
	signal(SIGPIPE, SIG_IGN);	/* a failed check, not a crash */
	st_hash();
	st_framing();
	st_misc();
	st_http();
	st_pace();
	st_marker();
	st_wire();
	st_tls();
	st_brx();
	st_tls_br();
	printf("selftest: %d passed, %d failed\n", st_pass, st_fail);
	return st_fail ? 1 : 0;
}

/* Ends the run early; the report still comes out. */
static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int
main(int argc, char **argv)
{
	opts_parse(argc, argv, &R.o);
	if (R.o.mode == M_SELFTEST)
		return selftest();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rng_seed();
	fd_limit();
	if (R.o.server_pid && srv_rss() < 0)
		die("--server-pid %d: cannot read /proc/%d/status",
		    R.o.server_pid, R.o.server_pid);
	run_init();
	run_loop();
	report();
	return R.reached ? 0 : 1;
}
