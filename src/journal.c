/*
 * journal.c - the storage journal (SPEC §6): the families' records (each
 * family declares its range of types, a replay and a snapshot), as an
 * append-only file of CRC-checked records in data_dir.
 *
 * Record: 'W', type, payload length (16 bits, little endian), CRC-32 of
 * type + length + payload (little endian), payload.  At start the file is
 * replayed into the families that own the records (offline queues through
 * mailbox.c); a torn or corrupt tail is cut there with a
 * warning, never a crash.  A bad record with good ones after it is damage
 * in the middle: replay resynchronises on the next offset where a whole
 * record checks (mark, length, CRC), the damaged file is renamed to
 * journal.wj.corrupt-<unix time> and the journal rewritten from what
 * replayed, with an error naming the regions and bytes skipped.  Changes
 * are written ahead: a handler appends its records, then
 * journal_commit() (fsync with fsync = always; with interval the tick
 * syncs once a second), and only then changes memory and answers; a
 * failed write is a 503, memory stays as it was and the file is cut back
 * to before the change.  From a failed write until one succeeds,
 * journal_failing() is true (/health "storage", /health/ready 503); the
 * tick retries every 5 s with an empty record replay ignores.  At a
 * tick (memory and file agree there), when the file has grown past four
 * times what a fresh copy of the live state took (and 256 KiB), it is
 * rewritten: the families write their state into journal.tmp, which is
 * synced and renamed over it.
 *
 * Without a usable data_dir the server still runs; changes then answer
 * 503 (nothing is accepted that would be lost).
 */
#include <stdio.h>

#include "internal.h"

#define J_HDR		8
#define J_MAX		JOURNAL_MAX
#define J_COMPACT_MIN	(256u * 1024)

static int jfd = -1;
static bool jdirty, jbroken, jfailing;
static uint64_t jsize, jsynced, live_size, last_sync_ms, last_probe_ms;
static char jpath[300], tpath[300];

static uint32_t crc_table[256];

static int journal_compact(void);

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t
journal_crc(const uint8_t *p, size_t n, uint32_t crc)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static const struct journal_family *fams[WARD_JOURNAL_FAMILIES];
static size_t nfams;

int
journal_add_family(const struct journal_family *f)
{
	if (f->lo == JOURNAL_NOP || f->hi < f->lo)
		return WARD_EINVAL;
	for (size_t i = 0; i < nfams; i++)
		if (f->lo <= fams[i]->hi && fams[i]->lo <= f->hi)
			return WARD_EINVAL;
	if (nfams >= ARRAY_LEN(fams))
		return WARD_ENOSPC;
	fams[nfams++] = f;
	return 0;
}

/* A record to the family owning its type (none: ignored). */
static void
replay_one(int type, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < nfams; i++)
		if (type >= fams[i]->lo && type <= fams[i]->hi) {
			fams[i]->replay(type, p, n);
			return;
		}
}

/* Every family writes its whole state (compaction). */
static int
snapshot_all(void)
{
	for (size_t i = 0; i < nfams; i++)
		if (fams[i]->snapshot() != 0)
			return WARD_EIO;
	return 0;
}

bool
journal_storage_ok(void)
{
	if (cfg.data_dir[0] == '\0')
		return false;
	if (port_dir_writable(cfg.data_dir) == 0)
		return true;
	/* gone or never made: make it, then ask again */
	return port_mkdir_p(cfg.data_dir) == 0 &&
	    port_dir_writable(cfg.data_dir) == 0;
}

/* A window on the file: bytes [off, off + n) of it, read as needed. */
struct rd {
	int		 fd;
	bool		 err;
	uint64_t	 size, base;
	size_t		 have;
	uint8_t		 buf[65536];
};

static const uint8_t *
rd_get(struct rd *r, uint64_t off, size_t n)
{
	long got;

	if (off + n > r->size)
		return NULL;
	if (off >= r->base && off + n <= r->base + r->have)
		return r->buf + (off - r->base);
	got = port_file_pread(r->fd, r->buf, sizeof r->buf, off);
	if (got < 0) {
		r->err = true;
		return NULL;
	}
	r->base = off;
	r->have = (size_t)got;
	return off + n <= r->base + r->have ? r->buf : NULL;
}

/* The whole record at off (0 when it is not a good one), its length in
 * *len; *h its header. */
static const uint8_t *
rec_at(struct rd *r, uint64_t off, size_t *len)
{
	const uint8_t *h = rd_get(r, off, J_HDR);
	uint32_t crc;

	if (h == NULL || h[0] != 'W')
		return NULL;
	*len = (size_t)h[2] | (size_t)h[3] << 8;
	if (*len > J_MAX || (h = rd_get(r, off, J_HDR + *len)) == NULL)
		return NULL;
	crc = journal_crc(h + 1, 3, 0);
	crc = journal_crc(h + J_HDR, *len, crc);
	return crc == get32(h + 4) ? h : NULL;
}

/* The offset of the next good record after a bad one at off, or -1. */
static int64_t
resync(struct rd *r, uint64_t off)
{
	size_t len;

	for (uint64_t at = off + 1; at + J_HDR <= r->size && !r->err; at++)
		if (rec_at(r, at, &len) != NULL)
			return (int64_t)at;
	return -1;
}

struct replayed {
	uint64_t	good;		/* end of the last good record */
	uint64_t	records, skipped_bytes;
	uint32_t	regions;	/* damaged stretches skipped */
};

/*
 * Apply every good record.  A bad one (wrong mark, length or CRC) is
 * resynchronised on: the next offset where a whole record checks is
 * where replay goes on, and the bytes between are counted as skipped.
 * With no good record after it, it is the tail (torn or corrupt): cut
 * there.  -1 when the file could not be read.
 */
static int
replay(int fd, uint64_t size, struct replayed *out)
{
	static struct rd r;
	uint64_t off = 0;

	memset(out, 0, sizeof *out);
	r.fd = fd;
	r.err = false;
	r.size = size;
	r.base = 0;
	r.have = 0;
	while (off < size) {
		size_t len;
		const uint8_t *h = rec_at(&r, off, &len);
		int64_t next;

		if (h != NULL) {
			replay_one(h[1], h + J_HDR, len);
			off += J_HDR + len;
			out->good = off;
			out->records++;
			continue;
		}
		if (r.err || (next = resync(&r, off)) < 0)
			break;
		out->regions++;
		out->skipped_bytes += (uint64_t)next - off;
		off = (uint64_t)next;
	}
	return r.err ? -1 : 0;
}

static int
write_rec(int fd, int type, const void *p, size_t n)
{
	uint8_t h[J_HDR];
	uint32_t crc;

	if (n > J_MAX)
		return WARD_ETOOBIG;
	h[0] = 'W';
	h[1] = (uint8_t)type;
	put16(h + 2, (uint32_t)n);
	crc = journal_crc(h + 1, 3, 0);
	put32(h + 4, journal_crc(p, n, crc));
	if (port_file_write(fd, h, J_HDR) != J_HDR ||
	    (n > 0 && port_file_write(fd, p, n) != (long)n))
		return WARD_EIO;
	return 0;
}

/* Damage in the middle: the file as it was goes aside (renamed, so the
 * bytes stay for a post-mortem), and what replayed is written afresh. */
static int
set_aside(int fd, const struct replayed *rp, long size)
{
	char cpath[sizeof jpath + 32];

	snprintf(cpath, sizeof cpath, "%s.corrupt-%lld", jpath,
	    (long long)(port_wall_us() / 1000000));
	log_error("journal", "path=\"%s\" size=%ld records=%llu regions=%u "
	    "skipped_bytes=%llu kept=\"%s\" detail=\"corrupt records in the "
	    "middle skipped; the damaged file is kept aside and the journal "
	    "rewritten from what replayed\"", jpath, size,
	    (unsigned long long)rp->records, rp->regions,
	    (unsigned long long)rp->skipped_bytes, cpath);
	if (port_file_rename(jpath, cpath) != 0)
		return WARD_EIO;
	jfd = fd;
	jsize = (uint64_t)size;
	if (journal_compact() != 0) {
		port_file_rename(cpath, jpath);
		return WARD_EIO;
	}
	return 0;
}

int
journal_open(void)
{
	struct replayed rp;
	long size;
	int fd, rfd, rc;

	crc_init();
	jfd = -1;
	jbroken = true;
	if (!journal_storage_ok())
		return WARD_EIO;
	snprintf(jpath, sizeof jpath, "%s/journal.wj", cfg.data_dir);
	snprintf(tpath, sizeof tpath, "%s/journal.tmp", cfg.data_dir);
	port_file_unlink(tpath);	/* a compaction that did not finish */
	fd = port_file_append(jpath);
	if (fd < 0) {
		log_error("journal", "path=\"%s\" detail=\"cannot open\"", jpath);
		return fd;
	}
	size = port_file_size(jpath);
	rfd = port_file_open(jpath);
	rc = rfd >= 0 && size >= 0 ? replay(rfd, (uint64_t)size, &rp) : -1;
	if (rfd >= 0)
		port_file_close(rfd);
	if (rc < 0) {
		log_error("journal", "path=\"%s\" detail=\"cannot read; "
		    "left as it is, changes answer 503\"", jpath);
		port_file_close(fd);
		return WARD_EIO;
	}
	if (rp.regions > 0) {
		jbroken = false;
		if (set_aside(fd, &rp, size) != 0) {
			jbroken = true;
			jfd = -1;
			port_file_close(fd);
			log_error("journal", "path=\"%s\" detail=\"could not "
			    "rewrite it; changes answer 503\"", jpath);
			return WARD_EIO;
		}
		jsynced = jsize;
		return 0;
	}
	if (rp.good < (uint64_t)size) {
		log_warn("journal", "path=\"%s\" size=%ld good=%llu "
		    "detail=\"torn or corrupt tail cut\"", jpath, size,
		    (unsigned long long)rp.good);
		if (port_file_truncate(fd, rp.good) != 0) {
			port_file_close(fd);
			return WARD_EIO;
		}
	}
	jfd = fd;
	jsize = rp.good;
	jsynced = jsize;
	live_size = jsize;
	jbroken = false;
	log_info("journal", "path=\"%s\" bytes=%llu records=%llu", jpath,
	    (unsigned long long)rp.good, (unsigned long long)rp.records);
	return 0;
}

void
journal_close(void)
{
	if (jfd >= 0) {
		if (jdirty)
			port_file_sync(jfd);
		port_file_close(jfd);
	}
	jfd = -1;
	jdirty = false;
	jbroken = true;
}

bool
journal_ok(void)
{
	return jfd >= 0 && !jbroken;
}

bool
journal_failing(void)
{
	return jfailing;
}

static void
failed(const char *what)
{
	if (!jfailing)
		log_error("journal", "detail=\"%s; changes answer 503 and "
		    "/health/ready 503 until a write succeeds\"", what);
	jfailing = true;
	last_probe_ms = now_ms;
}

int
journal_put(int type, const void *p, size_t n)
{
	int rc;

	if (!journal_ok())
		return WARD_EIO;
	if ((rc = write_rec(jfd, type, p, n)) != 0) {
		/* a partial record: cut it, so the file stays whole */
		port_file_truncate(jfd, jsize);
		if (rc == WARD_EIO)
			failed("write failed: disk full?");
		return rc;
	}
	jsize += J_HDR + n;
	jdirty = true;
	return 0;
}

/* Durable (per fsync).  A failed sync cuts the file back to the last
 * good sync with fsync = always, so the change that now answers 503
 * leaves nothing behind (records of deliveries since then may go too:
 * a repeat, never a loss). */
int
journal_commit(void)
{
	if (!journal_ok())
		return WARD_EIO;
	if (!jdirty)
		return 0;	/* nothing written: says nothing of the disk */
	if (!cfg.fsync_always && now_ms - last_sync_ms < 1000) {
		jfailing = false;
		return 0;
	}
	if (port_file_sync(jfd) != 0) {
		if (cfg.fsync_always && port_file_truncate(jfd, jsynced) == 0)
			jsize = jsynced;
		failed("fsync failed");
		return WARD_EIO;
	}
	jdirty = false;
	jsynced = jsize;
	last_sync_ms = now_ms;
	if (jfailing)
		log_info("journal", "detail=\"writes succeed again\"");
	jfailing = false;
	return 0;
}

/* After a failure, every 5 s: an 8-byte record replay ignores, synced;
 * storage is reported good again when it takes it. */
static void
probe(void)
{
	if (now_ms - last_probe_ms < 5000)
		return;
	last_probe_ms = now_ms;
	if (write_rec(jfd, JOURNAL_NOP, NULL, 0) != 0) {
		port_file_truncate(jfd, jsize);
		return;
	}
	jsize += J_HDR;
	jdirty = true;
	journal_commit();
}

void
journal_tick(void)
{
	if (!journal_ok())
		return;
	if (jfailing) {
		probe();
		return;
	}
	if (jdirty) {
		if (port_file_sync(jfd) == 0) {
			jdirty = false;
			jsynced = jsize;
			last_sync_ms = now_ms;
		} else {
			failed("fsync failed");
		}
	}
	/* between turns memory and file agree: a fresh copy is safe */
	if (jsize > J_COMPACT_MIN && jsize > 4 * live_size)
		journal_compact();
}

/* Snapshot writers call journal_put; during compaction it goes here. */
static int
journal_compact(void)
{
	int old = jfd, tfd = port_file_create(tpath);
	uint64_t old_size = jsize;

	if (tfd < 0)
		return tfd;
	jfd = tfd;
	jsize = 0;
	if (snapshot_all() != 0 || port_file_sync(tfd) != 0 ||
	    port_file_rename(tpath, jpath) != 0) {
		port_file_close(tfd);
		port_file_unlink(tpath);
		jfd = old;
		jsize = old_size;
		log_warn("journal", "detail=\"compaction failed; kept the "
		    "old file\"");
		return WARD_EIO;
	}
	port_file_close(old);
	port_file_close(tfd);
	jfd = port_file_append(jpath);
	if (jfd < 0) {
		jbroken = true;
		return WARD_EIO;
	}
	log_info("journal", "detail=\"compacted\" from=%llu to=%llu",
	    (unsigned long long)old_size, (unsigned long long)jsize);
	live_size = jsize;
	jsynced = jsize;
	return 0;
}

/* --- payload helpers ------------------------------------------------------ */

void
journal_rec_init(struct jbuf *b)
{
	b->n = 0;
	b->bad = false;
}

void
journal_rec_bytes(struct jbuf *b, const void *p, size_t n)
{
	if (b->bad || n > sizeof b->p - b->n) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

void
journal_rec_u64(struct jbuf *b, uint64_t v)
{
	uint8_t t[8];

	for (int i = 0; i < 8; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	journal_rec_bytes(b, t, 8);
}

void
journal_rec_str(struct jbuf *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t l = (uint8_t)(n > 255 ? 255 : n);

	journal_rec_bytes(b, &l, 1);
	journal_rec_bytes(b, s, l);
}

bool
journal_read_u64(struct jread *r, uint64_t *v)
{
	if (r->n - r->at < 8)
		return false;
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v |= (uint64_t)r->p[r->at + (size_t)i] << (8 * i);
	r->at += 8;
	return true;
}

bool
journal_read_str(struct jread *r, char *out, size_t cap)
{
	size_t l;

	if (r->n - r->at < 1)
		return false;
	l = r->p[r->at];
	if (r->n - r->at - 1 < l || l >= cap)
		return false;
	memcpy(out, r->p + r->at + 1, l);
	out[l] = '\0';
	r->at += 1 + l;
	return true;
}
