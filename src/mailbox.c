/*
 * mailbox.c - offline queues: messages filed under a key (a string) in a
 * fixed arena, at most per_key under one key, the oldest dropped first
 * and counted; written ahead to the journal and replayed at start.
 *
 * Storage is the owner's (MAILBOX_STORAGE: cap messages, cap keys, cap hash
 * buckets); nothing is allocated.  A key lives while it holds messages
 * or a dropped count; its messages are a list, oldest first, so peek,
 * pop and a depth are O(1) after a hash lookup of the key.
 *
 * Records (in the owner's range, from jtype):
 *   push     seq, key, dropped seq (0: none), data   jtype
 *   pop      seq, key                                jtype + 1
 *   dropped  key, count                              jtype + 2
 * A push that drops the key's oldest is one record: when the write
 * fails, the file is cut back to before it and memory is untouched, so
 * a 503 leaves no trace.  seq orders messages; replay appends in record
 * order and keeps seq above every seq seen.
 */
#include "internal.h"

static struct jbuf jb;

static void
init(struct mailbox *mb)
{
	if (mb->ready)
		return;
	for (uint32_t i = 0; i < mb->cap; i++) {
		mb->msg[i].seq = 0;
		mb->msg[i].next = i + 2 <= mb->cap ? i + 2 : 0;
		mb->key[i].used = false;
		mb->key[i].hnext = i + 2 <= mb->cap ? i + 2 : 0;
		mb->bucket[i] = 0;
	}
	mb->free_msg = mb->cap > 0;
	mb->free_key = mb->cap > 0;
	mb->next_seq = 1;
	mb->used = 0;
	mb->ready = true;
}

static uint32_t
bucket_of(const struct mailbox *mb, const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h % mb->cap;
}

/* The key's entry (index + 1), or 0. */
static uint32_t
find(struct mailbox *mb, const char *key)
{
	init(mb);
	if (mb->cap == 0)
		return 0;
	for (uint32_t k = mb->bucket[bucket_of(mb, key)]; k != 0;
	    k = mb->key[k - 1].hnext)
		if (strcmp(mb->key[k - 1].name, key) == 0)
			return k;
	return 0;
}

static uint32_t
key_make(struct mailbox *mb, const char *key)
{
	uint32_t k = find(mb, key), b;
	struct mailbox_key *e;

	if (k != 0 || (k = mb->free_key) == 0)
		return k;
	e = &mb->key[k - 1];
	mb->free_key = e->hnext;
	utf8_copy(e->name, sizeof e->name, key);
	e->used = true;
	e->head = e->tail = 0;
	e->count = e->dropped = 0;
	b = bucket_of(mb, key);
	e->hnext = mb->bucket[b];
	mb->bucket[b] = k;
	return k;
}

/* Release a key that holds nothing any more. */
static void
key_tidy(struct mailbox *mb, uint32_t k)
{
	struct mailbox_key *e = &mb->key[k - 1];
	uint32_t *at = &mb->bucket[bucket_of(mb, e->name)];

	if (e->count > 0 || e->dropped > 0)
		return;
	while (*at != k)
		at = &mb->key[*at - 1].hnext;
	*at = e->hnext;
	e->used = false;
	e->hnext = mb->free_key;
	mb->free_key = k;
}

/* Unlink message m (index + 1) from key k; prev is the one before it. */
static void
msg_free(struct mailbox *mb, uint32_t k, uint32_t prev, uint32_t m)
{
	struct mailbox_key *e = &mb->key[k - 1];
	struct mailbox_msg *x = &mb->msg[m - 1];

	if (prev == 0)
		e->head = x->next;
	else
		mb->msg[prev - 1].next = x->next;
	if (e->tail == m)
		e->tail = prev;
	e->count--;
	x->seq = 0;
	x->next = mb->free_msg;
	mb->free_msg = m;
	mb->used--;
}

/* Remove the message of key k with this seq; false if none. */
static bool
remove_seq(struct mailbox *mb, uint32_t k, uint32_t seq)
{
	uint32_t prev = 0;

	for (uint32_t m = mb->key[k - 1].head; m != 0;
	    prev = m, m = mb->msg[m - 1].next)
		if (mb->msg[m - 1].seq == seq) {
			msg_free(mb, k, prev, m);
			return true;
		}
	return false;
}

/* Append a message to key k (a free slot must exist). */
static void
append(struct mailbox *mb, uint32_t k, uint32_t seq, const uint8_t *p,
    size_t n)
{
	struct mailbox_key *e = &mb->key[k - 1];
	uint32_t m = mb->free_msg;
	struct mailbox_msg *x = &mb->msg[m - 1];

	mb->free_msg = x->next;
	x->seq = seq;
	x->next = 0;
	x->key = k;
	x->len = (uint16_t)n;
	memcpy(x->data, p, n);
	if (e->tail != 0)
		mb->msg[e->tail - 1].next = m;
	else
		e->head = m;
	e->tail = m;
	e->count++;
	mb->used++;
	if (seq >= mb->next_seq)
		mb->next_seq = seq + 1;
}

/* Apply a push (live, after the write, or replayed). */
static void
apply_push(struct mailbox *mb, uint32_t seq, const char *key, uint32_t drop,
    const uint8_t *p, size_t n)
{
	uint32_t k = key_make(mb, key);

	if (k == 0)
		return;
	if (drop != 0 && remove_seq(mb, k, drop))
		mb->key[k - 1].dropped++;
	if (mb->free_msg == 0 && mb->key[k - 1].head != 0) {
		/* replayed into a smaller arena: the key's own oldest */
		msg_free(mb, k, 0, mb->key[k - 1].head);
		mb->key[k - 1].dropped++;
	}
	if (mb->free_msg != 0)
		append(mb, k, seq, p, n);
	key_tidy(mb, k);
}

static int
put_push(const struct mailbox *mb, uint32_t seq, const char *key,
    uint32_t drop, const void *p, size_t n)
{
	uint8_t id = 0;

	journal_rec_init(&jb);
	journal_rec_bytes(&jb, &id, 1);	/* format 0 of the record */
	journal_rec_u64(&jb, seq);
	journal_rec_str(&jb, key);
	journal_rec_u64(&jb, drop);
	journal_rec_bytes(&jb, p, n);
	return jb.bad ? WARD_ETOOBIG : journal_put(mb->jtype, jb.p, jb.n);
}

int
mailbox_push(struct mailbox *mb, const char *key, const void *p, size_t n)
{
	uint32_t k = find(mb, key), drop = 0;
	const struct mailbox_key *e = k ? &mb->key[k - 1] : NULL;
	int rc;

	if (n > WARD_MBOX_DATA)
		return WARD_ETOOBIG;
	if (key[0] == '\0' || strlen(key) > WARD_MBOX_KEY)
		return WARD_EINVAL;
	if (e != NULL && e->count >= mb->per_key && e->head != 0)
		drop = mb->msg[e->head - 1].seq;	/* oldest dropped */
	else if (mb->free_msg == 0 && mb->evict && e != NULL && e->head != 0)
		drop = mb->msg[e->head - 1].seq;	/* arena full */
	else if (mb->free_msg == 0 || (e == NULL && mb->free_key == 0))
		return WARD_ENOMEM;
	if ((rc = put_push(mb, mb->next_seq, key, drop, p, n)) != 0 ||
	    (rc = journal_commit()) != 0)
		return rc == WARD_ETOOBIG ? rc : WARD_EIO;
	apply_push(mb, mb->next_seq, key, drop, p, n);
	return 0;
}

const struct mailbox_msg *
mailbox_peek(struct mailbox *mb, const char *key)
{
	uint32_t k = find(mb, key);

	if (k == 0 || mb->key[k - 1].head == 0)
		return NULL;
	return &mb->msg[mb->key[k - 1].head - 1];
}

void
mailbox_pop(struct mailbox *mb, const char *key)
{
	uint32_t k = find(mb, key);
	const struct mailbox_msg *x;

	if (k == 0 || mb->key[k - 1].head == 0)
		return;
	x = &mb->msg[mb->key[k - 1].head - 1];
	journal_rec_init(&jb);
	journal_rec_bytes(&jb, "", 1);
	journal_rec_u64(&jb, x->seq);
	journal_rec_str(&jb, key);
	journal_put(mb->jtype + 1, jb.p, jb.n);
	msg_free(mb, k, 0, mb->key[k - 1].head);
	key_tidy(mb, k);
}

uint32_t
mailbox_count(struct mailbox *mb, const char *key)
{
	uint32_t k = find(mb, key);

	return k ? mb->key[k - 1].count : 0;
}

uint32_t
mailbox_dropped(struct mailbox *mb, const char *key)
{
	uint32_t k = find(mb, key);

	return k ? mb->key[k - 1].dropped : 0;
}

static int
put_dropped(const struct mailbox *mb, const char *key, uint32_t n)
{
	journal_rec_init(&jb);
	journal_rec_bytes(&jb, "", 1);
	journal_rec_str(&jb, key);
	journal_rec_u64(&jb, n);
	return journal_put(mb->jtype + 2, jb.p, jb.n);
}

void
mailbox_set_dropped(struct mailbox *mb, const char *key, uint32_t n)
{
	uint32_t k = n > 0 ? key_make(mb, key) : find(mb, key);

	if (k == 0)
		return;
	mb->key[k - 1].dropped = n;
	key_tidy(mb, k);
}

void
mailbox_seen(struct mailbox *mb, const char *key)
{
	if (mailbox_dropped(mb, key) == 0)
		return;
	put_dropped(mb, key, 0);
	mailbox_set_dropped(mb, key, 0);
}

void
mailbox_forget(struct mailbox *mb, const char *key)
{
	uint32_t k = find(mb, key);

	if (k == 0)
		return;
	while (mb->key[k - 1].head != 0)
		msg_free(mb, k, 0, mb->key[k - 1].head);
	mb->key[k - 1].dropped = 0;
	key_tidy(mb, k);
}

void
mailbox_load(struct mailbox *mb, uint64_t seq, const char *key,
    const uint8_t *p,
    size_t n)
{
	if (seq == 0 || seq >= UINT32_MAX || n > WARD_MBOX_DATA ||
	    key[0] == '\0')
		return;
	init(mb);
	apply_push(mb, (uint32_t)seq, key, 0, p, n);
}

void
mailbox_unload(struct mailbox *mb, uint64_t seq)
{
	init(mb);
	for (uint32_t i = 0; i < mb->cap; i++)
		if (mb->msg[i].seq != 0 && mb->msg[i].seq == seq) {
			uint32_t k = mb->msg[i].key;

			remove_seq(mb, k, (uint32_t)seq);
			key_tidy(mb, k);
			return;
		}
}

bool
mailbox_replay(struct mailbox *mb, int type, const uint8_t *p, size_t n)
{
	struct jread r = { p, n, 0 };
	char key[WARD_MBOX_KEY + 1];
	uint64_t seq, drop;
	uint32_t k;

	if (type < mb->jtype || type > mb->jtype + 2)
		return false;
	init(mb);
	if (n < 1 || p[0] != 0)
		return true;	/* a later format: not ours to guess */
	r.at = 1;
	if (type == mb->jtype + 2) {
		if (journal_read_str(&r, key,
		    sizeof key) && journal_read_u64(&r, &seq) &&
		    seq < UINT32_MAX)
			mailbox_set_dropped(mb, key, (uint32_t)seq);
		return true;
	}
	if (!journal_read_u64(&r, &seq) || !journal_read_str(&r, key,
	    sizeof key) ||
	    seq == 0 || seq >= UINT32_MAX)
		return true;
	if (type == mb->jtype + 1) {
		if ((k = find(mb, key)) != 0) {
			remove_seq(mb, k, (uint32_t)seq);
			key_tidy(mb, k);
		}
		return true;
	}
	if (!journal_read_u64(&r, &drop) || drop >= UINT32_MAX ||
	    n - r.at > WARD_MBOX_DATA || key[0] == '\0')
		return true;
	apply_push(mb, (uint32_t)seq, key, (uint32_t)drop, p + r.at,
	    n - r.at);
	return true;
}

int
mailbox_snapshot(struct mailbox *mb)
{
	init(mb);
	for (uint32_t k = 1; k <= mb->cap; k++) {
		const struct mailbox_key *e = &mb->key[k - 1];

		if (!e->used)
			continue;
		if (e->dropped > 0 && put_dropped(mb, e->name, e->dropped) != 0)
			return WARD_EIO;
		for (uint32_t m = e->head; m != 0; m = mb->msg[m - 1].next) {
			const struct mailbox_msg *x = &mb->msg[m - 1];

			if (put_push(mb, x->seq, e->name, 0, x->data,
			    x->len) != 0)
				return WARD_EIO;
		}
	}
	return 0;
}
