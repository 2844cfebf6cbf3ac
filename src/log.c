/*
 * log.c - key=value log lines to the port's sink.
 *
 * A line is "level=info event=<event> <fields>".  Callers pass fields that
 * never contain tokens or payloads (patient data): that rule is kept at the
 * call sites and checked by the e2e suite, which greps the log.
 */
#include <stdio.h>
#include <time.h>

#include "internal.h"

int log_level = PORT_LOG_INFO;

static const char *const level_name[] = { "error", "warn", "info", "debug" };

void
log_emit(int level, const char *event, const char *fmt, ...)
{
	char line[1024];
	char ts[40];
	va_list ap;
	int n, m;

	if (level > log_level)
		return;
	time_iso(port_wall_us(), ts);
	n = snprintf(line, sizeof line, "ts=%s level=%s event=%s ", ts,
	    level_name[level], event);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	while (n > 0 && line[n - 1] == ' ')
		n--;
	port_log_line(level, line, (size_t)n);
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
time_iso(int64_t us, char *out)
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
