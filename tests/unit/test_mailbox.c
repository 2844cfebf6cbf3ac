/*
 * test_mailbox.c - the offline-queue module (src/mailbox.c): messages
 * filed under string keys, oldest first; the per-key bound drops the
 * oldest and counts it; a full arena refuses (or, with evict, drops the
 * key's own oldest); counts are per key; a failed write changes nothing;
 * the records it writes replay into the same state (a push and the drop
 * it causes as one record), and so does a snapshot; the legacy loaders.
 *
 * A real journal in a temporary data_dir takes the records; the test
 * reads the file back and feeds the records to mailbox_replay itself (the
 * test mailboxes use a record range no module owns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

#define JT	40		/* a range nobody replays */

MAILBOX_STORAGE(a, 6) = MAILBOX_INIT(a, JT, 3, false);
MAILBOX_STORAGE(b, 6) = MAILBOX_INIT(b, JT, 3, false);
MAILBOX_STORAGE(e, 4) = MAILBOX_INIT(e, JT + 3, 100, true);

static char dir[64], path[160];
static uint8_t file[1 << 16];

static int
push(struct mailbox *mb, const char *key, const char *text)
{
	return mailbox_push(mb, key, text, strlen(text));
}

/* The oldest text under key, "" when none. */
static const char *
peek(struct mailbox *mb, const char *key)
{
	static char out[64];
	const struct mailbox_msg *m = mailbox_peek(mb, key);

	out[0] = '\0';
	if (m != NULL)
		snprintf(out, sizeof out, "%.*s", (int)m->len, m->data);
	return out;
}

static void
reset(struct mailbox *mb)
{
	mb->ready = false;
}

/* Feed every record of the journal file to mb; the records seen. */
static int
replay_file(struct mailbox *mb)
{
	long n = port_file_read(path, (char *)file, sizeof file);
	int recs = 0;

	CHECK(n >= 0);
	for (long at = 0; at + 8 <= n; recs++) {
		size_t len = (size_t)file[at + 2] | (size_t)file[at + 3] << 8;

		CHECK_EQ(file[at], 'W');
		mailbox_replay(mb, file[at + 1], file + at + 8, len);
		at += 8 + (long)len;
	}
	return recs;
}

static bool
open_journal(void)
{
	snprintf(dir, sizeof dir, "/tmp/ward-mbox-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return false;
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
	snprintf(path, sizeof path, "%s/journal.wj", dir);
	cfg.fsync_always = 1;
	return journal_open() == 0;
}

static void
test_basic(void)
{
	CHECK_EQ(mailbox_count(&a, "u1"), 0);
	CHECK(mailbox_peek(&a, "u1") == NULL);
	CHECK_EQ(push(&a, "u1", "one"), 0);
	CHECK_EQ(push(&a, "u2", "x"), 0);
	CHECK_EQ(push(&a, "u1", "two"), 0);
	CHECK_EQ(mailbox_count(&a, "u1"), 2);
	CHECK_EQ(mailbox_count(&a, "u2"), 1);
	CHECK_EQ(mailbox_count(&a, "u3"), 0);
	CHECK_STR(peek(&a, "u1"), "one");
	mailbox_pop(&a, "u1");
	CHECK_STR(peek(&a, "u1"), "two");
	CHECK_EQ(mailbox_count(&a, "u1"), 1);
	mailbox_pop(&a, "u1");
	CHECK(mailbox_peek(&a, "u1") == NULL);
	mailbox_pop(&a, "u1");		/* nothing: no harm */
	CHECK_EQ(mailbox_count(&a, "u1"), 0);
	CHECK_EQ(a.used, 1);
	/* keys compare whole: "u" and "u22" are others */
	CHECK_EQ(mailbox_count(&a, "u"), 0);
	CHECK_EQ(mailbox_count(&a, "u22"), 0);
	CHECK_EQ(push(&a, "", "x"), WARD_EINVAL);
	{
		char big[WARD_MBOX_KEY + 2];

		memset(big, 'k', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		CHECK_EQ(push(&a, big, "x"), WARD_EINVAL);
		big[WARD_MBOX_KEY] = '\0';
		CHECK_EQ(push(&a, big, "x"), 0);
		CHECK_EQ(mailbox_count(&a, big), 1);
		mailbox_pop(&a, big);
	}
	CHECK_EQ(mailbox_push(&a, "u1", file, WARD_MBOX_DATA + 1),
	    WARD_ETOOBIG);
}

static void
test_per_key_and_full(void)
{
	/* per_key 3: the 4th drops the oldest and counts it */
	CHECK_EQ(push(&a, "p", "1"), 0);
	CHECK_EQ(push(&a, "p", "2"), 0);
	CHECK_EQ(push(&a, "p", "3"), 0);
	CHECK_EQ(mailbox_dropped(&a, "p"), 0);
	CHECK_EQ(push(&a, "p", "4"), 0);
	CHECK_EQ(mailbox_count(&a, "p"), 3);
	CHECK_EQ(mailbox_dropped(&a, "p"), 1);
	CHECK_STR(peek(&a, "p"), "2");
	/* arena of 6: u2 1 + p 3 = 4; two more fit, then a full arena */
	CHECK_EQ(push(&a, "q", "a"), 0);
	CHECK_EQ(push(&a, "q", "b"), 0);
	CHECK_EQ(push(&a, "r", "z"), WARD_ENOMEM);
	CHECK_EQ(push(&a, "q", "c"), WARD_ENOMEM);	/* no evict here */
	CHECK_EQ(mailbox_count(&a, "r"), 0);
	/* p at its bound still takes one: its own oldest goes */
	CHECK_EQ(push(&a, "p", "5"), 0);
	CHECK_EQ(mailbox_dropped(&a, "p"), 2);
	CHECK_STR(peek(&a, "p"), "3");
	mailbox_seen(&a, "p");
	CHECK_EQ(mailbox_dropped(&a, "p"), 0);
	CHECK_EQ(mailbox_count(&a, "p"), 3);

	/* evict: a full arena drops the key's own oldest, else refuses */
	for (int i = 0; i < 4; i++) {
		char t[8];

		snprintf(t, sizeof t, "e%d", i & 7);
		CHECK_EQ(push(&e, "k", t), 0);
	}
	CHECK_EQ(push(&e, "k", "e4"), 0);
	CHECK_EQ(mailbox_count(&e, "k"), 4);
	CHECK_EQ(mailbox_dropped(&e, "k"), 1);
	CHECK_STR(peek(&e, "k"), "e1");
	CHECK_EQ(push(&e, "other", "x"), WARD_ENOMEM);
	mailbox_forget(&e, "k");
	CHECK_EQ(mailbox_count(&e, "k"), 0);
	CHECK_EQ(mailbox_dropped(&e, "k"), 0);
	CHECK_EQ(e.used, 0);
	CHECK_EQ(push(&e, "other", "x"), 0);
}

/* Every key and its messages, as text, for comparing two mailboxes. */
static void
dump(struct mailbox *mb, const char *const *keys, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (; *keys != NULL; keys++) {
		uint32_t k = 0;

		n += (size_t)snprintf(out + n, cap - n, "%s:%u:%u[", *keys,
		    mailbox_count(mb, *keys), mailbox_dropped(mb, *keys));
		for (uint32_t i = 0; i < mb->cap; i++)
			if (mb->key[i].used && strcmp(mb->key[i].name,
			    *keys) == 0)
				k = i + 1;
		for (uint32_t m = k ? mb->key[k - 1].head : 0; m != 0;
		    m = mb->msg[m - 1].next)
			n += (size_t)snprintf(out + n, cap - n, "%u=%.*s,",
			    mb->msg[m - 1].seq, (int)mb->msg[m - 1].len,
			    mb->msg[m - 1].data);
		n += (size_t)snprintf(out + n, cap - n, "] ");
	}
}

static void
test_replay(void)
{
	static const char *const keys[] = { "u1", "u2", "p", "q", "r", NULL };
	char want[1024], got[1024];
	int recs;

	/* the whole history of a (pushes, drops, pops, seen) replays into
	 * the same state, in order, with the same seqs and counts */
	dump(&a, keys, want, sizeof want);
	reset(&b);
	b.jtype = JT;
	recs = replay_file(&b);
	CHECK(recs > 10);
	dump(&b, keys, got, sizeof got);
	CHECK_STR(got, want);
	CHECK_EQ(b.next_seq, a.next_seq);
	CHECK_EQ(b.used, a.used);

	/* a snapshot alone replays into the same state too */
	CHECK_EQ(port_file_unlink(path), 0);
	journal_close();
	CHECK_EQ(journal_open(), 0);
	CHECK_EQ(push(&a, "p", "6"), 0);	/* a drop, counted again */
	CHECK_EQ(mailbox_dropped(&a, "p"), 1);
	CHECK_EQ(port_file_unlink(path), 0);
	journal_close();
	CHECK_EQ(journal_open(), 0);
	CHECK_EQ(mailbox_snapshot(&a), 0);
	CHECK_EQ(journal_commit(), 0);
	dump(&a, keys, want, sizeof want);
	reset(&b);
	replay_file(&b);
	dump(&b, keys, got, sizeof got);
	CHECK_STR(got, want);
}

static void
test_failed_write(void)
{
	static const char *const keys[] = { "p", "q", NULL };
	char want[512], got[512];
	long before;

	dump(&a, keys, want, sizeof want);
	before = port_file_size(path);
	journal_close();		/* every write fails from here */
	CHECK_EQ(push(&a, "p", "7"), WARD_EIO);	/* would drop "4" */
	CHECK_EQ(push(&a, "q", "d"), WARD_ENOMEM);
	dump(&a, keys, got, sizeof got);
	CHECK_STR(got, want);			/* nothing changed */
	CHECK_EQ(port_file_size(path), before);	/* nothing written */
	CHECK_EQ(journal_open(), 0);
	CHECK_EQ(push(&a, "p", "7"), 0);
}

static void
test_legacy(void)
{
	reset(&b);
	mailbox_load(&b, 5, "u", (const uint8_t *)"five", 4);
	mailbox_load(&b, 9, "u", (const uint8_t *)"nine", 4);
	mailbox_load(&b, 7, "v", (const uint8_t *)"seven", 5);
	mailbox_load(&b, 0, "v", (const uint8_t *)"bad", 3);	/* no seq */
	CHECK_EQ(mailbox_count(&b, "u"), 2);
	CHECK_EQ(mailbox_count(&b, "v"), 1);
	mailbox_unload(&b, 5);
	mailbox_unload(&b, 1234);			/* unknown: no harm */
	CHECK_STR(peek(&b, "u"), "nine");
	CHECK_EQ(b.next_seq, 10);
	mailbox_set_dropped(&b, "w", 4);	/* a count, no messages */
	CHECK_EQ(mailbox_dropped(&b, "w"), 4);
	mailbox_set_dropped(&b, "w", 0);
	CHECK_EQ(b.used, 2);
	/* a record of a later format (first byte not 0) is left alone */
	{
		uint8_t rec[] = { 1, 0, 0, 0, 0, 0, 0, 0, 9 };

		CHECK(mailbox_replay(&b, JT, rec, sizeof rec));
		CHECK(!mailbox_replay(&b, JT + 3, rec, sizeof rec));
		CHECK_EQ(b.used, 2);
	}
}

void
suite_mailbox(void)
{
	char keep[sizeof cfg.data_dir];
	int fs = cfg.fsync_always;

	utf8_copy(keep, sizeof keep, cfg.data_dir);
	if (!open_journal()) {
		CHECK(!"a journal in a temporary directory");
		return;
	}
	test_basic();
	test_per_key_and_full();
	test_replay();
	test_failed_write();
	test_legacy();
	journal_close();
	port_file_unlink(path);
	rmdir(dir);
	utf8_copy(cfg.data_dir, sizeof cfg.data_dir, keep);
	cfg.fsync_always = fs;
}
