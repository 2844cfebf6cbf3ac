/*
 * journal.c - the storage journal (SPEC §6): doctor records, diagnoses
 * and owners, queued diagnosis messages and queued notifications, as an
 * append-only file of CRC-checked records in data_dir.
 *
 * Record: 'W', type, payload length (16 bits, little endian), CRC-32 of
 * type + length + payload (little endian), payload.  At start the file is
 * replayed into the modules (doctors.c, diagnosis.c, notify.c); a torn or
 * corrupt tail is cut there with a warning, never a crash.  Changes are
 * written ahead: a handler appends its records, then journal_commit()
 * (fsync with fsync = always; with interval the tick syncs once a
 * second), and only then changes memory and answers; a failed write is a
 * 503 and memory stays as it was.  At a tick (memory and file agree
 * there), when the file has grown past four times what a fresh copy of
 * the live state took (and 256 KiB), it is rewritten: the modules write
 * their state into journal.tmp, which is synced and renamed over it.
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
static bool jdirty, jbroken;
static uint64_t jsize, live_size, last_sync_ms;
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

static void
replay_one(int type, const uint8_t *p, size_t n)
{
	if (type >= J_DOCTOR && type < J_DIAG)
		doctors_replay(type, p, n);
	else if (type >= J_DIAG && type < J_NOTE_PUSH)
		diag_replay(type, p, n);
	else if (type >= J_NOTE_PUSH && type <= J_NOTE_CLEAR)
		notify_replay(type, p, n);
}

/* Read the whole file, apply good records; the offset after the last,
 * or -1 when the file could not be read (then nothing is cut). */
static int64_t
replay(int fd)
{
	static uint8_t buf[65536];
	uint64_t off = 0, good = 0;
	size_t have = 0;
	long r;

	for (;;) {
		size_t at = 0;

		r = port_file_pread(fd, buf + have, sizeof buf - have,
		    off + have);
		if (r < 0)
			return -1;
		have += (size_t)r;
		while (have - at >= J_HDR) {
			const uint8_t *h = buf + at;
			size_t len = (size_t)h[2] | (size_t)h[3] << 8;
			uint32_t crc;

			if (h[0] != 'W' || len > J_MAX)
				goto done;
			if (have - at < J_HDR + len)
				break;
			crc = journal_crc(h + 1, 3, 0);
			crc = journal_crc(h + J_HDR, len, crc);
			if (crc != get32(h + 4))
				goto done;
			replay_one(h[1], h + J_HDR, len);
			at += J_HDR + len;
			good = off + at;
		}
		if (r == 0)
			break;		/* end of file */
		memmove(buf, buf + at, have - at);
		off += at;
		have -= at;
	}
done:
	return (int64_t)good;
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

int
journal_open(void)
{
	long size;
	int64_t good;
	int fd, rfd;

	crc_init();
	jfd = -1;
	jbroken = true;
	if (!health_storage_ok())
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
	good = rfd >= 0 ? replay(rfd) : -1;
	if (rfd >= 0)
		port_file_close(rfd);
	if (good < 0) {
		log_error("journal", "path=\"%s\" detail=\"cannot read; "
		    "left as it is, changes answer 503\"", jpath);
		port_file_close(fd);
		return WARD_EIO;
	}
	if (size >= 0 && good < (int64_t)size) {
		log_warn("journal", "path=\"%s\" size=%ld good=%llu "
		    "detail=\"torn or corrupt tail cut\"", jpath, size,
		    (unsigned long long)good);
		if (port_file_truncate(fd, (uint64_t)good) != 0) {
			port_file_close(fd);
			return WARD_EIO;
		}
	}
	jfd = fd;
	jsize = (uint64_t)good;
	live_size = jsize;
	jbroken = false;
	log_info("journal", "path=\"%s\" bytes=%llu", jpath,
	    (unsigned long long)good);
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

int
journal_put(int type, const void *p, size_t n)
{
	int rc;

	if (!journal_ok())
		return WARD_EIO;
	if ((rc = write_rec(jfd, type, p, n)) != 0) {
		/* a partial record: cut it, so the file stays whole */
		port_file_truncate(jfd, jsize);
		log_error("journal", "detail=\"write failed: disk full?\"");
		return rc;
	}
	jsize += J_HDR + n;
	jdirty = true;
	return 0;
}

int
journal_commit(void)
{
	if (!journal_ok())
		return WARD_EIO;
	if (!jdirty)
		return 0;
	if (!cfg.fsync_always && now_ms - last_sync_ms < 1000)
		return 0;
	if (port_file_sync(jfd) != 0) {
		log_error("journal", "detail=\"fsync failed\"");
		return WARD_EIO;
	}
	jdirty = false;
	last_sync_ms = now_ms;
	return 0;
}

void
journal_tick(void)
{
	if (!journal_ok())
		return;
	if (jdirty && port_file_sync(jfd) == 0) {
		jdirty = false;
		last_sync_ms = now_ms;
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
	if (doctors_snapshot() != 0 || diag_snapshot() != 0 ||
	    notify_snapshot() != 0 || port_file_sync(tfd) != 0 ||
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
	return 0;
}

/* --- payload helpers ------------------------------------------------------ */

void
jb_init(struct jbuf *b)
{
	b->n = 0;
	b->bad = false;
}

void
jb_bytes(struct jbuf *b, const void *p, size_t n)
{
	if (b->bad || n > sizeof b->p - b->n) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

void
jb_u64(struct jbuf *b, uint64_t v)
{
	uint8_t t[8];

	for (int i = 0; i < 8; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	jb_bytes(b, t, 8);
}

void
jb_str(struct jbuf *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t l = (uint8_t)(n > 255 ? 255 : n);

	jb_bytes(b, &l, 1);
	jb_bytes(b, s, l);
}

bool
jr_u64(struct jread *r, uint64_t *v)
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
jr_str(struct jread *r, char *out, size_t cap)
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
