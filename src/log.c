/*
 * log.c - key=value log lines to the port's sink.
 *
 * A line is "ts=... level=info event=<event> <fields>".  Callers pass
 * fields that never contain tokens or payloads (personal data): that rule
 * is kept at the call sites and checked by the e2e suite, which greps the
 * log.  Every %s value is escaped here (quote, backslash and control
 * characters as \" \\ \n \r \t \xHH), so a value can never end its quotes
 * or its line and key=value parsing holds.  A line longer than the buffer
 * ends in " truncated=true" instead of being cut silently.
 *
 * Lines a client can cause (connection open/close, token refusals) go
 * through log_allow(kind), a token bucket per kind (WARD_LOG_RATE,
 * WARD_LOG_BURST each).
 */
#include <stdio.h>
#include <time.h>

#include "internal.h"

int log_level = PORT_LOG_INFO;

static const char *const level_name[] = { "error", "warn", "info", "debug" };

#define LOG_LINE	1024
static const char trunc_mark[] = " truncated=true";

/* Append s escaped at line[*n], keeping room for the truncation mark. */
static void
put_escaped(char *line, size_t *n, const char *s, bool *over)
{
	const size_t cap = LOG_LINE - sizeof trunc_mark;

	for (; *s != '\0'; s++) {
		char e[5];
		size_t l = 1;
		uint8_t ch = (uint8_t)*s;

		e[0] = (char)ch;
		if (ch == '"' || ch == '\\' || ch == '\n' || ch == '\r' ||
		    ch == '\t') {
			e[0] = '\\';
			e[1] = ch == '\n' ? 'n' : ch == '\r' ? 'r' :
			    ch == '\t' ? 't' : (char)ch;
			l = 2;
		} else if (ch < 0x20 || ch == 0x7F) {
			snprintf(e, sizeof e, "\\x%02x", ch);
			l = 4;
		}
		if (*n + l > cap) {
			*over = true;
			return;
		}
		memcpy(line + *n, e, l);
		*n += l;
	}
}

/* Parse one conversion at fmt (after '%') into spec; its length. */
static size_t
conv_spec(const char *fmt, char *spec, size_t cap)
{
	size_t i = strspn(fmt, "-+ #0");

	i += strspn(fmt + i, "0123456789*");
	if (fmt[i] == '.') {
		i++;
		i += strspn(fmt + i, "0123456789*");
	}
	i += strspn(fmt + i, "hlLqjzt");
	if (fmt[i] != '\0')
		i++;
	if (i + 2 > cap)
		return 0;
	spec[0] = '%';
	memcpy(spec + 1, fmt, i);
	spec[i + 1] = '\0';
	return i;
}

/* Format one conversion (spec) taking its arguments from *ap into out. */
static int
conv_one(const char *spec, size_t sl, char *out, size_t cap, va_list *ap)
{
	char conv = spec[sl];
	int star[2] = { -1, -1 }, ns = 0;
	bool l = strstr(spec, "l") != NULL, ll = strstr(spec, "ll") != NULL;
	bool z = strpbrk(spec, "zt") != NULL, j = strchr(spec, 'j') != NULL;
	bool L = strchr(spec, 'L') != NULL;

	for (const char *p = spec; *p != '\0'; p++)
		if (*p == '*' && ns < 2)
			star[ns++] = va_arg(*ap, int);
#define FMT(v) (ns == 2 ? snprintf(out, cap, spec, star[0], star[1], v) : \
	ns == 1 ? snprintf(out, cap, spec, star[0], v) : snprintf(out, cap, spec, v))
	switch (conv) {
	case 'd': case 'i':
		return ll ? FMT(va_arg(*ap, long long)) : l ? FMT(va_arg(*ap,
		    long)) : z ? FMT(va_arg(*ap, ptrdiff_t)) : j ?
		    FMT(va_arg(*ap, intmax_t)) : FMT(va_arg(*ap, int));
	case 'u': case 'x': case 'X': case 'o':
		return ll ? FMT(va_arg(*ap, unsigned long long)) : l ?
		    FMT(va_arg(*ap, unsigned long)) : z ? FMT(va_arg(*ap,
		    size_t)) : j ? FMT(va_arg(*ap, uintmax_t)) :
		    FMT(va_arg(*ap, unsigned));
	case 'c':
		return FMT(va_arg(*ap, int));
	case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
		return L ? FMT(va_arg(*ap, long double)) :
		    FMT(va_arg(*ap, double));
	case 'p':
		return FMT(va_arg(*ap, void *));
	case 's':
		return FMT(va_arg(*ap, const char *));
	default:
		return snprintf(out, cap, "%%");
	}
#undef FMT
}

/* printf into line[*n..] with every %s value escaped. */
static void
format_fields(char *line, size_t *n, const char *fmt, va_list *ap, bool *over)
{
	static char val[LOG_LINE];
	char spec[32];

	for (const char *p = fmt; *p != '\0' && !*over; p++) {
		size_t sl;
		int m;

		if (*p != '%' || p[1] == '%') {
			p += *p == '%';		/* "%%" is one '%' */
			if (*n + 1 > LOG_LINE - sizeof trunc_mark) {
				*over = true;
				return;
			}
			line[(*n)++] = *p;
			continue;
		}
		if ((sl = conv_spec(p + 1, spec, sizeof spec)) == 0)
			return;
		m = conv_one(spec, sl, val, sizeof val, ap);
		if (m < 0)
			m = 0;
		if ((size_t)m >= sizeof val)
			*over = true;
		put_escaped(line, n, val, over);
		p += sl;
	}
}

void
log_emit(int level, const char *event, const char *fmt, ...)
{
	char line[LOG_LINE];
	char ts[40];
	va_list ap;
	bool over = false;
	size_t n;
	int m;

	if (level > log_level)
		return;
	log_time_iso(port_wall_us(), ts);
	m = snprintf(line, sizeof line, "ts=%s level=%s event=%s ", ts,
	    level_name[level], event);
	if (m < 0 || (size_t)m >= sizeof line - sizeof trunc_mark)
		return;
	n = (size_t)m;
	va_start(ap, fmt);
	format_fields(line, &n, fmt, &ap, &over);
	va_end(ap);
	while (n > 0 && line[n - 1] == ' ')
		n--;
	if (over) {
		memcpy(line + n, trunc_mark, sizeof trunc_mark - 1);
		n += sizeof trunc_mark - 1;
	}
	port_log_line(level, line, n);
}

/* --- client-caused lines: a token bucket per kind ------------------------ */

static const char *const rl_name[LOG_RL_COUNT] = { "conn", "auth" };
static struct {
	uint32_t	milli;		/* tokens x 1000 */
	uint32_t	suppressed;
	uint64_t	last_us;	/* 0: never refilled (full) */
} rl[LOG_RL_COUNT];

bool
log_allow(int kind)
{
	uint64_t now = port_now_us(), add;

	if (log_level < PORT_LOG_INFO || kind < 0 || kind >= LOG_RL_COUNT)
		return false;
	add = rl[kind].last_us == 0 ? (uint64_t)WARD_LOG_BURST * 1000u :
	    (now - rl[kind].last_us) * WARD_LOG_RATE / 1000;
	rl[kind].last_us = now;
	rl[kind].milli = (uint32_t)MIN((uint64_t)rl[kind].milli + add,
	    (uint64_t)WARD_LOG_BURST * 1000u);
	if (rl[kind].milli < 1000) {
		rl[kind].suppressed++;
		return false;
	}
	rl[kind].milli -= 1000;
	if (rl[kind].suppressed > 0) {
		log_info("log_suppressed", "what=%s lines=%u detail=\"over %d "
		    "lines/s\"", rl_name[kind], rl[kind].suppressed,
		    WARD_LOG_RATE);
		rl[kind].suppressed = 0;
	}
	return true;
}

/* --- connection open/close ----------------------------------------------- */

static uint32_t opened_ms[WARD_CONN_SLOTS];

void
log_conn_open(const struct conn *c)
{
	char peer[64];

	opened_ms[conn_id(c)] = now_ms;
	if (!log_allow(LOG_RL_CONN))
		return;
	port_addr_text(&c->peer, peer, sizeof peer);
	log_info("conn_open", "conn=%u peer=%s%s", conn_id(c), peer,
	    (c->flags & CF_REFUSED) ? " refused=full" : "");
}

void
log_conn_close(const struct conn *c)
{
	char peer[64];
	const char *type = "http";

	if (!log_allow(LOG_RL_CONN))
		return;
	if (c->flags & CF_WS_OPEN)
		type = reg_type_name(reg[conn_id(c)].type);
	port_addr_text(&c->peer, peer, sizeof peer);
	log_info("conn_close", "conn=%u type=%s peer=%s duration_ms=%u code=%u",
	    conn_id(c), type, peer, now_ms - opened_ms[conn_id(c)],
	    (unsigned)c->close_code);
}

/* Days from civil date (proleptic Gregorian), after H. Hinnant's method. */
static void
civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

size_t
log_time_iso(int64_t us, char *out)
{
	/* years 0000..9999 keep the fixed 27-character form */
	const int64_t lo = -62167219200LL * 1000000, hi = 253402300799999999LL;
	int64_t secs, frac;

	us = us < lo ? lo : us > hi ? hi : us;
	secs = us / 1000000;
	frac = us % 1000000;
	int64_t days, rem;
	unsigned mo, d;
	int y, n;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil(days, &y, &mo, &d);
	n = snprintf(out, 28, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", y, mo, d,
	    (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
	return n > 0 ? (size_t)n : 0;
}

void (*ward_assert_stop)(void) __attribute__((noreturn)) = port_abort;

void
ward_assert_fail(const char *what, const char *file, int line)
{
	log_emit(PORT_LOG_ERROR, "assert", "file=%s line=%d failed=\"%s\"",
	    file, line, what);
	ward_assert_stop();
}
