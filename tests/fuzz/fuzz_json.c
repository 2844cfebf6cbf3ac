/*
 * fuzz_json.c - json_parse on arbitrary bytes, then every token through
 * the getters, and the whole document written back out with the jw_*
 * writer (strings decoded with json_str and re-encoded with jw_strn,
 * primitives copied raw) and parsed again: the copy must parse, with the
 * same tokens, types, sizes, primitives and decoded strings.  Duplicate
 * keys (json_check_dups) are checked against a pairwise oracle.
 *
 * The input is an exact-size heap buffer, so ASan sees any read past it.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct json_doc d1, d2;
static char out[1 << 20];	/* the re-serialised document */
static char s1[1 << 16], s2[1 << 16];

/*
 * json_str into buf (cap bytes) and the decoded length, which may contain
 * NUL bytes (\u0000): the buffer is pre-filled with 0xFF, a byte valid
 * UTF-8 never holds, so the terminator is the last NUL before the fill.
 */
static int
decode(const struct json_doc *d, int i, char *buf, size_t cap, size_t *len)
{
	int rc;
	size_t n = cap;

	memset(buf, 0xFF, cap);
	rc = json_str(d, i, buf, cap);
	if (rc != 0)
		return rc;
	while (n > 0 && (uint8_t)buf[n - 1] == 0xFF)
		n--;
	if (n == 0 || buf[n - 1] != '\0')
		abort();		/* not terminated */
	*len = n - 1;
	if (!utf8_valid((const uint8_t *)buf, *len))
		abort();		/* decoded text is always UTF-8 */
	return 0;
}

/* Write token i and its subtree; returns the index after it. */
static int
emit(struct jw *w, const struct json_doc *d, int i)
{
	const struct json_tok *t = &d->tok[i];
	struct str raw;
	size_t len;
	int k, n;

	switch (t->type) {
	case JSON_OBJ:
	case JSON_ARR:
		if (t->type == JSON_OBJ)
			jw_obj(w);
		else
			jw_arr(w);
		n = t->size;
		k = i + 1;
		for (int c = 0; c < n; c++) {
			if (t->type == JSON_OBJ) {
				/* a key: raw bytes, escapes and all */
				raw = json_raw(d, k);
				jw_raw(w, raw.p, raw.n);
				/* ':' and the value take no comma (as jw_key) */
				w->comma &= ~(1u << (w->depth & 31));
				jw_raw(w, ":", 1);
				w->comma &= ~(1u << (w->depth & 31));
				k++;
			}
			k = emit(w, d, k);
		}
		if (t->type == JSON_OBJ)
			jw_obj_end(w);
		else
			jw_arr_end(w);
		return k;
	case JSON_STR:
		if (decode(d, i, s1, sizeof s1, &len) != 0)
			abort();	/* decoded <= raw, and raw fits */
		jw_strn(w, s1, len);
		return i + 1;
	default:
		raw = json_raw(d, i);
		jw_raw(w, raw.p, raw.n);
		return i + 1;
	}
}

/* Every getter on every token: the documented answers only. */
static void
getters(const struct json_doc *d)
{
	for (int i = -1; i <= d->ntok; i++) {
		int64_t iv;
		double dv;
		bool bv;
		size_t len;
		int rs = i >= 0 && i < d->ntok ? decode(d, i, s1, sizeof s1,
		    &len) : json_str(d, i, s1, sizeof s1);
		int ri = json_int(d, i, &iv), rn = json_num(d, i, &dv);
		int rb = json_bool(d, i, &bv);

		if (i < 0 || i == d->ntok) {
			if (rs != WARD_ENOENT || ri != WARD_ENOENT ||
			    rn != WARD_ENOENT || rb != WARD_ENOENT)
				abort();
			continue;
		}
		if ((rs == 0) != (d->tok[i].type == JSON_STR))
			abort();
		if (ri == 0 && (rn != 0 || dv != (double)iv))
			abort();
		if (rn == 0 && !isfinite(dv))
			abort();
		if (rb == 0 && !json_tok_eq(d, i, bv ? "true" : "false"))
			abort();
		if (json_is_null(d, i) && (ri == 0 || rn == 0 || rb == 0))
			abort();
		if (d->tok[i].type == JSON_OBJ) {
			/* keys are found, unless an earlier one shadows them */
			int k = i + 1;

			for (int c = 0; c < d->tok[i].size; c++) {
				struct str key = json_raw(d, k);
				char name[64];
				int f;

				if (key.n >= 2 && key.n - 2 < sizeof name &&
				    memchr(key.p + 1, '\\', key.n - 2) == NULL) {
					memcpy(name, key.p + 1, key.n - 2);
					name[key.n - 2] = '\0';
					f = json_find(d, i, name);
					if (f < 0 || f > k + 1 ||
					    !json_key_eq(d, f - 1, name))
						abort();
				}
				k = json_skip(d, k + 1);
			}
		}
	}
}

/*
 * json_check_dups against a plain oracle: decode every key of every
 * object and compare each pair; the first pair found in key order must
 * be the one reported (the second key of it), or none at all.
 */
static void
dups(struct json_doc *d)
{
	int rc = json_check_dups(d), want = -1;

	for (int o = 0; o < d->ntok && want < 0; o++) {
		int k = o + 1;

		if (d->tok[o].type != JSON_OBJ)
			continue;
		for (int c = 0; c < d->tok[o].size && want < 0; c++) {
			size_t l1, l2;
			int j = o + 1;

			if (decode(d, k, s1, sizeof s1, &l1) != 0)
				abort();
			for (int e = 0; e < c; e++) {
				if (decode(d, j, s2, sizeof s2, &l2) != 0)
					abort();
				if (l1 == l2 && memcmp(s1, s2, l1) == 0) {
					want = k;
					break;
				}
				j = json_skip(d, j + 1);
			}
			k = json_skip(d, k + 1);
		}
	}
	if (want < 0 ? rc != 0 : rc != JSON_E_DUP || d->dup != want)
		abort();
}

static void
same(const struct json_doc *a, const struct json_doc *b)
{
	if (a->ntok != b->ntok)
		abort();
	for (int i = 0; i < a->ntok; i++) {
		const struct json_tok *x = &a->tok[i], *y = &b->tok[i];
		size_t l1, l2;

		if (x->type != y->type || x->size != y->size ||
		    x->parent != y->parent)
			abort();
		if (x->type == JSON_STR) {
			if (decode(a, i, s1, sizeof s1, &l1) != 0 ||
			    decode(b, i, s2, sizeof s2, &l2) != 0)
				abort();
			/* invalid UTF-8 cannot come out of a decode, so the
			 * writer copies it unchanged (escaped) */
			if (l1 != l2 || memcmp(s1, s2, l1) != 0)
				abort();
		} else if (x->type == JSON_PRIM) {
			struct str p = json_raw(a, i), q = json_raw(b, i);

			if (p.n != q.n || memcmp(p.p, q.p, p.n) != 0)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jw w;
	int rc;

	if (size >= sizeof s1 - 1)
		return 0;
	rc = json_parse(&d1, (const char *)data, size);
	if (rc != 0 && rc != JSON_E_SYNTAX && rc != JSON_E_TOOBIG &&
	    rc != JSON_E_DEPTH)
		abort();
	if (rc != 0)
		return 0;
	if (d1.ntok < 1 || d1.ntok > WARD_JSON_TOKENS ||
	    json_skip(&d1, 0) != d1.ntok)
		abort();
	for (int i = 0; i < d1.ntok; i++) {
		const struct json_tok *t = &d1.tok[i];

		if (t->start < 0 || t->end < t->start || (size_t)t->end > size ||
		    t->parent >= i || t->type == JSON_UNDEF)
			abort();
	}
	getters(&d1);
	dups(&d1);
	jw_init(&w, out, sizeof out);
	if (emit(&w, &d1, 0) != d1.ntok)
		abort();
	if (w.err || w.depth != 0)
		abort();
	if (json_parse(&d2, w.p, w.len) != 0)
		abort();
	same(&d1, &d2);
	return 0;
}
