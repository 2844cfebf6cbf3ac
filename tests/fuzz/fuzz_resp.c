/*
 * fuzz_resp.c - the RESP2 reply parser (resp_feed) fed whole, split at
 * one and two points chosen by the input, and one byte at a time must
 * deliver the same completed replies and end in the same error; every
 * call consumes between 1 and n bytes; chunks keep their discipline
 * (first on the first only, bytes within the limit, depth within bounds);
 * errors are sticky.  Then the encoder: the input cut into arguments,
 * encoded, must parse back to exactly those arguments.
 *
 * Input: byte 0 picks max_bulk (0: the default; else 4 * byte), the rest
 * is the reply stream.
 */
#include <stdlib.h>

#include "redis.h"

struct fold {
	uint64_t	h, h_done;	/* running hash, hash at the last done */
	unsigned	replies;
	int		err;
	bool		open;
	uint64_t	elem_bytes;
};

static void
mix(struct fold *f, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		f->h = (f->h ^ b[i]) * 0x100000001b3ull;
}

static void
on_event(struct fold *f, const struct resp_ev *ev, uint64_t max)
{
	uint8_t hdr[4] = { ev->type, ev->depth, ev->first, ev->last };

	if (ev->first == f->open || ev->type == RESP_NONE ||
	    ev->depth > WARD_REDIS_MAX_DEPTH)
		abort();
	if (ev->n > 0 && ev->p == NULL)
		abort();
	if (ev->first) {
		f->elem_bytes = 0;
		mix(f, hdr, 2);
		mix(f, &ev->num, sizeof ev->num);
	}
	f->elem_bytes += ev->n;
	if (f->elem_bytes > max)
		abort();
	if (ev->type == RESP_BULK && f->elem_bytes > (uint64_t)ev->num)
		abort();
	mix(f, ev->p, ev->n);
	f->open = !ev->last;
	if (ev->last)
		mix(f, ";", 1);
	if (ev->done) {
		if (!ev->last)
			abort();
		f->replies++;
		f->h_done = f->h;
	}
}

static void
feed(struct resp_parser *p, struct fold *f, const uint8_t *b, size_t n,
    uint64_t max)
{
	while (f->err == 0) {
		struct resp_ev ev;
		long rc = resp_feed(p, b, n, &ev);

		if (rc == WARD_NEED_MORE)
			return;
		if (rc < 0) {
			if (rc != WARD_EINVAL && rc != WARD_ETOOBIG)
				abort();
			f->err = (int)rc;
			/* sticky */
			if (resp_feed(p, b, n, &ev) != rc)
				abort();
			return;
		}
		if (rc < 1 || (size_t)rc > n)
			abort();
		on_event(f, &ev, max);
		b += rc;
		n -= (size_t)rc;
		if (n == 0)
			return;
	}
}

static void
run(const uint8_t *b, size_t n, uint32_t max, const size_t *cut, int ncut,
    struct fold *f)
{
	struct resp_parser p;
	size_t at = 0;

	memset(&p, 0, sizeof p);
	memset(f, 0, sizeof *f);
	f->h = f->h_done = 0xcbf29ce484222325ull;
	p.max_bulk = max;
	for (int i = 0; i <= ncut; i++) {
		size_t end = i < ncut ? cut[i] : n;

		feed(&p, f, b + at, end - at, max ? max : WARD_REDIS_MAX_BULK);
		at = end;
	}
}

static void
agree(const struct fold *a, const struct fold *b)
{
	if (a->err != b->err || a->replies != b->replies ||
	    a->h_done != b->h_done)
		abort();
	if (a->err == 0 && (a->h != b->h || a->open != b->open))
		abort();
}

static void
parse_all(const uint8_t *b, size_t n)
{
	uint32_t max = b[0] ? (uint32_t)b[0] * 4 : 0;
	struct fold whole, f;
	size_t cut[4096];

	b++;
	n--;
	run(b, n, max, NULL, 0, &whole);
	cut[0] = n ? b[0] % (n + 1) : 0;
	run(b, n, max, cut, 1, &f);
	agree(&whole, &f);
	cut[1] = n ? cut[0] + b[n - 1] % (n - cut[0] + 1) : 0;
	run(b, n, max, cut, 2, &f);
	agree(&whole, &f);
	if (n > 1 && n <= ARRAY_LEN(cut)) {
		for (size_t i = 1; i < n; i++)
			cut[i - 1] = i;
		run(b, n, max, cut, (int)n - 1, &f);
		agree(&whole, &f);
	}
}

/* Arguments cut at 0xFF bytes, encoded, parsed back. */
static void
encode_back(const uint8_t *b, size_t n)
{
	static uint8_t out[8192];
	struct str arg[16];
	int argc = 0;
	size_t s = 0, len, at = 0, k = 0;
	struct resp_parser p;

	for (size_t i = 0; i <= n && argc < 16; i++)
		if (i == n || b[i] == 0xFF) {
			arg[argc++] = (struct str){ (const char *)b + s, i - s };
			s = i + 1;
		}
	len = redis_encode(out, sizeof out, argc, arg);
	if (len != (redis_encoded_len(argc, arg) <= sizeof out ?
	    redis_encoded_len(argc, arg) : 0))
		abort();
	if (len == 0)
		return;
	memset(&p, 0, sizeof p);
	p.max_bulk = 8192;
	while (at < len) {
		struct resp_ev ev;
		long rc = resp_feed(&p, out + at, len - at, &ev);

		if (rc <= 0)
			abort();
		at += (size_t)rc;
		if (ev.depth == 0) {
			if (ev.type != RESP_ARRAY || ev.num != argc)
				abort();
			continue;
		}
		if (ev.type != RESP_BULK || !ev.first || !ev.last ||
		    k >= (size_t)argc || ev.n != arg[k].n ||
		    (ev.n && memcmp(ev.p, arg[k].p, ev.n) != 0))
			abort();
		if (ev.done != (k + 1 == (size_t)argc))
			abort();
		k++;
	}
	if (k != (size_t)argc)
		abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	parse_all(data, size);
	encode_back(data, size);
	return 0;
}
