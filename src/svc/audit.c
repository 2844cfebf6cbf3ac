/*
 * audit.c - the audit trail (SPEC §10): who opened or was refused which
 * diagnosis, notification or doctor-status channel, and who broadcast to
 * which diagnosis.  One key=value line an event in data_dir/audit.log,
 * never a payload or a token; past WARD_AUDIT_MAX bytes the file turns
 * into audit.log.1 (one old file kept), so it stays bounded.
 * GET /admin/api/audit?lines=N (admin) answers the newest N lines.
 */
#include <stdarg.h>
#include <stdio.h>

#include "svc.h"
#include "../auth.h"

static int afd = -1;
static long asize;
static char apath[300], aold[300];

static bool
audit_open(void)
{
	if (afd >= 0)
		return true;
	snprintf(apath, sizeof apath, "%s/audit.log", cfg.data_dir);
	snprintf(aold, sizeof aold, "%s/audit.log.1", cfg.data_dir);
	if (!journal_storage_ok() || (afd = port_file_append(apath)) < 0) {
		afd = -1;
		return false;
	}
	asize = port_file_size(apath);
	if (asize < 0)
		asize = 0;
	return true;
}

/* "printable" for a field: no spaces, quotes or control bytes. */
static void
clean(char *s)
{
	for (; *s; s++)
		if ((uint8_t)*s <= ' ' || *s == '"' || *s == '\\' || *s == 127)
			*s = '_';
}

void
audit(const char *event, const struct auth_claims *who, const char *fmt,
    ...)
{
	char line[512], sub[65], role[33], ts[40];
	va_list ap;
	int n, k;

	if (!audit_open())
		return;
	snprintf(sub, sizeof sub, "%s", who != NULL ? who->sub : "");
	snprintf(role, sizeof role, "%s", who != NULL ? who->role : "");
	clean(sub);
	clean(role);
	{
		struct jw w;

		jw_init(&w, ts, sizeof ts);
		jw_time(&w, now_wall_us);	/* "…Z" with its quotes */
		ts[w.len > 1 ? w.len - 1 : 0] = '\0';
	}
	n = snprintf(line, sizeof line, "ts=%s event=%s sub=%s role=%s ",
	    ts + 1, event, sub[0] ? sub : "-", role[0] ? role : "-");
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	n += k;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (asize + n > WARD_AUDIT_MAX) {
		port_file_close(afd);
		afd = -1;
		port_file_rename(apath, aold);
		if (!audit_open())
			return;
	}
	if (port_file_write(afd, line, (size_t)n) == n)
		asize += n;
}

static int
audit_get(struct conn *c, struct http_req *r)
{
	static char text[65536];
	long n = 0, want = 100, off = 0;
	struct str q = r->query;
	struct jw w;
	uint32_t h;

	/* ?lines=N (the query without its '?', parameters split by '&') */
	for (size_t i = 0; q.p != NULL && i + 6 <= q.n; i++) {
		if ((i > 0 && q.p[i - 1] != '&' && q.p[i - 1] != '?') ||
		    memcmp(q.p + i, "lines=", 6) != 0)
			continue;
		want = 0;
		for (i += 6; i < q.n && q.p[i] >= '0' && q.p[i] <= '9' &&
		    want <= 1000; i++)
			want = want * 10 + (q.p[i] - '0');
		if (want < 1 || want > 1000 || (i < q.n && q.p[i] != '&'))
			return reply_error(c, 400, "invalid_field",
			    "lines must be 1 to 1000");
		break;
	}
	if (afd >= 0 || audit_open()) {
		long size = port_file_size(apath);
		int fd = port_file_open(apath);

		off = size > (long)sizeof text ? size - (long)sizeof text : 0;
		if (fd >= 0) {
			n = port_file_pread(fd, text, sizeof text, (uint64_t)off);
			port_file_close(fd);
			if (n < 0)
				n = 0;
		}
	}
	/* the newest `want` whole lines */
	{
		long start = 0, i = n - 1, count = 0;

		if (i >= 0 && text[i] == '\n')
			i--;
		for (; i >= 0; i--)
			if (text[i] == '\n' && ++count == want)
				break;
		if (i >= 0) {
			start = i + 1;
		} else if (off > 0) {	/* the buffer began mid-line */
			while (start < n && text[start] != '\n')
				start++;
			start++;
		}
		if ((h = buf_get_class(BUF_BIG)) == 0)
			return reply_error(c, 503, "unavailable", "no buffer");
		jw_init(&w, (char *)buf_base(h), buf_cap(h));
		jw_obj(&w);
		jw_key(&w, "lines");
		jw_arr(&w);
		for (long b = start; b < n;) {
			long e = b;

			while (e < n && text[e] != '\n')
				e++;
			if (e > b)
				jw_strn(&w, text + b, (size_t)(e - b));
			b = e + 1;
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		if (w.err) {
			buf_unref(h);
			return reply_error(c, 500, "internal_error",
			    "audit answer too large");
		}
		n = reply_body(c, 200, "application/json", w.p, w.len, NULL);
		buf_unref(h);
		return (int)n;
	}
}

void
audit_refused(const struct http_req *r, const char *type, const char *why)
{
	audit("channel_refused", r->auth, "channel=%s path=%.*s reason=\"%s\"",
	    type, (int)MIN(r->path.n, 80), r->path.p, why);
}

static const struct route audit_routes[] = {
	{
		.pattern = "/admin/api/audit",
		.methods = HTTP_M(HTTP_GET),
		.http = audit_get,
		.roles = "admin,superadmin",
		.summary = "The newest audit lines",
		.params = "lines",
		.res = "AuditLines",
	},
	{ .pattern = NULL }
};

const struct family audit_family = {
	.name = "audit",
	.routes = audit_routes,
};

