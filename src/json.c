/*
 * json.c - the JSON layer: a strict reader over jsmn and a writer.
 *
 * jsmn is a tokenizer, not a validator (it accepts "[1,2,]", bare words in
 * non-strict mode, bad escapes).  So a document first passes a small
 * recursive-descent check of RFC 8259 (depth-limited, UTF-8 checked), and
 * only then is tokenized by jsmn into a fixed token array.  This is the only
 * file that includes jsmn.h.
 *
 * The writer appends into a caller's fixed buffer; overflow latches err and
 * the caller answers an error instead of sending a truncated document.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include <jsmn.h>

#define JSON_MAX_DEPTH 32

struct chk {
	const uint8_t	*p;
	size_t		 n, i;
	int		 depth;
};

static void
ws_skip(struct chk *c)
{
	while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t' ||
	    c->p[c->i] == '\n' || c->p[c->i] == '\r'))
		c->i++;
}

static bool
is_hex(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') ||
	    (b >= 'A' && b <= 'F');
}

static bool
chk_string(struct chk *c)
{
	size_t start;

	c->i++;				/* opening quote */
	start = c->i;
	while (c->i < c->n) {
		uint8_t b = c->p[c->i];

		if (b == '"') {
			if (!utf8_valid(c->p + start, c->i - start))
				return false;
			c->i++;
			return true;
		}
		if (b < 0x20)
			return false;
		if (b == '\\') {
			if (++c->i >= c->n)
				return false;
			b = c->p[c->i];
			if (b == 'u') {
				if (c->i + 4 >= c->n)
					return false;
				for (int k = 1; k <= 4; k++)
					if (!is_hex(c->p[c->i + k]))
						return false;
				c->i += 4;
			} else if (strchr("\"\\/bfnrt", b) == NULL || b == 0) {
				return false;
			}
		}
		c->i++;
	}
	return false;
}

static bool
chk_digits(struct chk *c)
{
	size_t s = c->i;

	while (c->i < c->n && c->p[c->i] >= '0' && c->p[c->i] <= '9')
		c->i++;
	return c->i > s;
}

static bool
chk_number(struct chk *c)
{
	if (c->p[c->i] == '-')
		c->i++;
	if (c->i < c->n && c->p[c->i] == '0')
		c->i++;
	else if (!chk_digits(c))
		return false;
	if (c->i < c->n && c->p[c->i] == '.') {
		c->i++;
		if (!chk_digits(c))
			return false;
	}
	if (c->i < c->n && (c->p[c->i] == 'e' || c->p[c->i] == 'E')) {
		c->i++;
		if (c->i < c->n && (c->p[c->i] == '+' || c->p[c->i] == '-'))
			c->i++;
		if (!chk_digits(c))
			return false;
	}
	return true;
}

static bool
chk_word(struct chk *c, const char *w)
{
	size_t l = strlen(w);

	if (c->n - c->i < l || memcmp(c->p + c->i, w, l) != 0)
		return false;
	c->i += l;
	return true;
}

static bool chk_value(struct chk *c);

static bool
chk_container(struct chk *c, uint8_t close, bool obj)
{
	if (++c->depth > JSON_MAX_DEPTH)
		return false;
	c->i++;
	ws_skip(c);
	if (c->i < c->n && c->p[c->i] == close) {
		c->i++;
		c->depth--;
		return true;
	}
	for (;;) {
		if (obj) {
			if (c->i >= c->n || c->p[c->i] != '"' || !chk_string(c))
				return false;
			ws_skip(c);
			if (c->i >= c->n || c->p[c->i++] != ':')
				return false;
		}
		if (!chk_value(c))
			return false;
		ws_skip(c);
		if (c->i >= c->n)
			return false;
		if (c->p[c->i] == close) {
			c->i++;
			c->depth--;
			return true;
		}
		if (c->p[c->i++] != ',')
			return false;
		ws_skip(c);
	}
}

static bool
chk_value(struct chk *c)
{
	ws_skip(c);
	if (c->i >= c->n)
		return false;
	switch (c->p[c->i]) {
	case '{':
		return chk_container(c, '}', true);
	case '[':
		return chk_container(c, ']', false);
	case '"':
		return chk_string(c);
	case 't':
		return chk_word(c, "true");
	case 'f':
		return chk_word(c, "false");
	case 'n':
		return chk_word(c, "null");
	default:
		return chk_number(c);
	}
}

static int
hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static size_t
put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static uint32_t
hex4(const char *p)
{
	return (uint32_t)(hexval(p[0]) << 12 | hexval(p[1]) << 8 |
	    hexval(p[2]) << 4 | hexval(p[3]));
}

/* Decode the character of a string token at *k (an escape or one byte)
 * into tmp; advance *k past it; return the bytes written. */
static size_t
dec_one(const char *src, int *k, int end, char tmp[4])
{
	char ch = src[*k];
	uint32_t cp;

	if (ch != '\\') {
		tmp[0] = ch;
		(*k)++;
		return 1;
	}
	ch = src[*k + 1];
	*k += 2;
	switch (ch) {
	case 'b': tmp[0] = '\b'; return 1;
	case 'f': tmp[0] = '\f'; return 1;
	case 'n': tmp[0] = '\n'; return 1;
	case 'r': tmp[0] = '\r'; return 1;
	case 't': tmp[0] = '\t'; return 1;
	case 'u': break;
	default: tmp[0] = ch; return 1;
	}
	cp = hex4(src + *k);
	*k += 4;
	if (cp >= 0xD800 && cp <= 0xDBFF && *k + 5 < end &&
	    src[*k] == '\\' && src[*k + 1] == 'u') {
		uint32_t lo = hex4(src + *k + 2);

		if (lo >= 0xDC00 && lo <= 0xDFFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			*k += 6;
		}
	}
	if (cp >= 0xD800 && cp <= 0xDFFF)
		cp = 0xFFFD;	/* lone surrogate */
	return put_utf8(tmp, cp);
}

/* Do string tokens a and b decode to the same text? */
static bool
str_same(const struct json_doc *d, int a, int b)
{
	const struct json_tok *ta = &d->tok[a], *tb = &d->tok[b];
	int ka = ta->start, kb = tb->start;
	char ca[4], cb[4];
	size_t na = 0, nb = 0, ia = 0, ib = 0;

	if (ta->end - ta->start == tb->end - tb->start &&
	    memcmp(d->src + ka, d->src + kb, (size_t)(ta->end - ka)) == 0)
		return true;
	for (;;) {
		if (ia == na && ka < ta->end) {
			na = dec_one(d->src, &ka, ta->end, ca);
			ia = 0;
		}
		if (ib == nb && kb < tb->end) {
			nb = dec_one(d->src, &kb, tb->end, cb);
			ib = 0;
		}
		if (ia == na || ib == nb)
			return ia == na && ib == nb;
		if (ca[ia++] != cb[ib++])
			return false;
	}
}

bool
json_key_eq(const struct json_doc *d, int i, const char *lit)
{
	const struct json_tok *t = &d->tok[i];
	size_t l = strlen(lit), o = 0;
	char tmp[4];

	if (t->type != JSON_STR)
		return false;
	for (int k = t->start; k < t->end;) {
		size_t w = dec_one(d->src, &k, t->end, tmp);

		if (o + w > l || memcmp(lit + o, tmp, w) != 0)
			return false;
		o += w;
	}
	return o == l;
}

/* Every object's keys, compared by their decoded text: a key twice in
 * one object is refused (JSON_E_DUP, d->dup names the second), so what
 * ward reads is what any last-wins or first-wins reader sees.  Keys are
 * hashed first, so an object of many long keys costs O(bytes). */
static uint64_t
key_hash(const struct json_doc *d, int i)
{
	const struct json_tok *t = &d->tok[i];
	uint64_t h = 1469598103934665603ull;
	char tmp[4];

	for (int k = t->start; k < t->end;) {
		size_t w = dec_one(d->src, &k, t->end, tmp);

		for (size_t b = 0; b < w; b++)
			h = (h ^ (uint8_t)tmp[b]) * 1099511628211ull;
	}
	return h;
}

int
json_check_dups(struct json_doc *d)
{
	static int keys[WARD_JSON_TOKENS];
	static uint64_t hash[WARD_JSON_TOKENS];

	for (int o = 0; o < d->ntok; o++) {
		int nk = 0;

		if (d->tok[o].type != JSON_OBJ)
			continue;
		for (int i = o + 1, k = 0; k < d->tok[o].size && i < d->ntok;
		    k++) {
			uint64_t h = key_hash(d, i);

			for (int j = 0; j < nk; j++)
				if (hash[j] == h && str_same(d, keys[j], i)) {
					d->dup = i;
					return JSON_E_DUP;
				}
			hash[nk] = h;
			keys[nk++] = i;
			i = json_skip(d, i + 1);
		}
	}
	return 0;
}

static uint8_t
tok_type(jsmntype_t t)
{
	switch (t) {
	case JSMN_OBJECT: return JSON_OBJ;
	case JSMN_ARRAY: return JSON_ARR;
	case JSMN_STRING: return JSON_STR;
	case JSMN_PRIMITIVE: return JSON_PRIM;
	default: return JSON_UNDEF;
	}
}

size_t
json_tok_bytes(void)
{
	return sizeof(jsmntok_t);
}

int
json_parse(struct json_doc *d, const char *src, size_t len)
{
	static jsmntok_t toks[WARD_JSON_TOKENS];
	struct chk c = { (const uint8_t *)src, len, 0, 0 };
	jsmn_parser p;
	int n;

	d->src = src;
	d->len = len;
	d->ntok = 0;
	d->dup = -1;
	if (!chk_value(&c))
		return c.depth > JSON_MAX_DEPTH ? JSON_E_DEPTH : JSON_E_SYNTAX;
	ws_skip(&c);
	if (c.i != len)
		return JSON_E_SYNTAX;
	jsmn_init(&p);
	n = jsmn_parse(&p, src, len, toks, WARD_JSON_TOKENS);
	if (n == JSMN_ERROR_NOMEM)
		return JSON_E_TOOBIG;
	if (n <= 0) {
		/* jsmn's strict mode refuses a bare top-level primitive,
		 * which RFC 8259 allows; model it as one token. */
		if (n == JSMN_ERROR_PART && src[c.i - 1] != '}' &&
		    src[c.i - 1] != ']') {
			size_t s = 0;

			while (s < len && (src[s] == ' ' || src[s] == '\t' ||
			    src[s] == '\n' || src[s] == '\r'))
				s++;
			d->tok[0] = (struct json_tok){ src[s] == '"' ?
			    JSON_STR : JSON_PRIM, (int32_t)s + (src[s] == '"'),
			    0, 0, -1 };
			d->tok[0].end = (int32_t)len;
			while (d->tok[0].end > d->tok[0].start &&
			    strchr(" \t\r\n\"", src[d->tok[0].end - 1]))
				d->tok[0].end--;
			d->ntok = 1;
			return 0;
		}
		return JSON_E_SYNTAX;
	}
	for (int i = 0; i < n; i++) {
		d->tok[i].type = tok_type(toks[i].type);
		d->tok[i].start = toks[i].start;
		d->tok[i].end = toks[i].end;
		d->tok[i].size = toks[i].size;
		d->tok[i].parent = toks[i].parent;
	}
	d->ntok = n;
	return 0;
}

int
json_skip(const struct json_doc *d, int i)
{
	int end = d->tok[i].end;

	i++;
	while (i < d->ntok && d->tok[i].start < end)
		i++;
	return i;
}

bool
json_tok_eq(const struct json_doc *d, int i, const char *lit)
{
	const struct json_tok *t = &d->tok[i];
	size_t l = strlen(lit);

	return (size_t)(t->end - t->start) == l &&
	    memcmp(d->src + t->start, lit, l) == 0;
}

int
json_find(const struct json_doc *d, int obj, const char *key)
{
	int i, k;

	if (obj < 0 || obj >= d->ntok || d->tok[obj].type != JSON_OBJ)
		return -1;
	i = obj + 1;
	for (k = 0; k < d->tok[obj].size && i < d->ntok; k++) {
		/* decoded: "typ\u0065" is "type" for us as for anyone */
		if (json_key_eq(d, i, key))
			return i + 1 < d->ntok ? i + 1 : -1;
		i = json_skip(d, i + 1);
	}
	return -1;
}

bool
json_is_str(const struct json_doc *d, int i)
{
	return i >= 0 && i < d->ntok && d->tok[i].type == JSON_STR;
}

bool
json_is_null(const struct json_doc *d, int i)
{
	return i >= 0 && i < d->ntok && d->tok[i].type == JSON_PRIM &&
	    json_tok_eq(d, i, "null");
}

struct str
json_raw(const struct json_doc *d, int i)
{
	const struct json_tok *t = &d->tok[i];
	int s = t->start, e = t->end;

	if (t->type == JSON_STR) {	/* include the quotes */
		s--;
		e++;
	}
	return (struct str){ d->src + s, (size_t)(e - s) };
}

int
json_strn(const struct json_doc *d, int i, char *out, size_t cap,
    size_t *len)
{
	const struct json_tok *t;
	size_t o = 0;

	if (i < 0 || i >= d->ntok)
		return WARD_ENOENT;
	t = &d->tok[i];
	if (t->type != JSON_STR)
		return WARD_EINVAL;
	if (cap == 0)
		return WARD_ETOOBIG;
	for (int k = t->start; k < t->end;) {
		char tmp[4];
		size_t w = dec_one(d->src, &k, t->end, tmp);

		if (o + w >= cap)
			return WARD_ETOOBIG;
		memcpy(out + o, tmp, w);
		o += w;
	}
	out[o] = '\0';
	if (len != NULL)
		*len = o;
	return 0;
}

int
json_str(const struct json_doc *d, int i, char *out, size_t cap)
{
	return json_strn(d, i, out, cap, NULL);
}

int
json_id(const struct json_doc *d, int i, char *out, size_t cap)
{
	const struct json_tok *t;
	int rc;

	if (out != NULL && (rc = json_str(d, i, out, cap)) != 0)
		return rc;
	if (!json_is_str(d, i))
		return WARD_EINVAL;
	t = &d->tok[i];
	for (int k = t->start; k < t->end;) {
		char tmp[4];
		size_t w = dec_one(d->src, &k, t->end, tmp);

		if (w == 1 && ((uint8_t)tmp[0] < 0x20 || tmp[0] == 0x7F))
			return WARD_EINVAL;
	}
	return 0;
}

int
json_num(const struct json_doc *d, int i, double *out)
{
	char tmp[64];
	const struct json_tok *t;
	size_t l;
	char c0;

	if (i < 0 || i >= d->ntok)
		return WARD_ENOENT;
	t = &d->tok[i];
	c0 = d->src[t->start];
	if (t->type != JSON_PRIM || !(c0 == '-' || (c0 >= '0' && c0 <= '9')))
		return WARD_EINVAL;
	l = (size_t)(t->end - t->start);
	if (l >= sizeof tmp)
		return WARD_EINVAL;
	memcpy(tmp, d->src + t->start, l);
	tmp[l] = '\0';
	*out = strtod(tmp, NULL);
	return isfinite(*out) ? 0 : WARD_EINVAL;
}

/* An integer literal parsed exactly from the text (|v| <= 2^53). */
static int
int_literal(const char *p, size_t n, int64_t *out)
{
	const int64_t lim = 9007199254740992LL;	/* 2^53 */
	bool neg = n > 0 && p[0] == '-';
	int64_t v = 0;

	for (size_t i = neg; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return WARD_ENOENT;	/* not a plain integer */
		v = v * 10 + (p[i] - '0');
		if (v > lim)
			return WARD_EINVAL;
	}
	*out = neg ? -v : v;
	return 0;
}

int
json_int(const struct json_doc *d, int i, int64_t *out)
{
	double v;
	int rc = json_num(d, i, &v);

	if (rc != 0)
		return rc;
	rc = int_literal(d->src + d->tok[i].start,
	    (size_t)(d->tok[i].end - d->tok[i].start), out);
	if (rc != WARD_ENOENT)
		return rc;
	/* 1e3, 2.0: only values a double holds exactly, |v| < 2^53 */
	if (v != floor(v) || v <= -9007199254740992.0 || v >= 9007199254740992.0)
		return WARD_EINVAL;
	*out = (int64_t)v;
	return 0;
}

int
json_bool(const struct json_doc *d, int i, bool *out)
{
	if (i < 0 || i >= d->ntok)
		return WARD_ENOENT;
	if (d->tok[i].type == JSON_PRIM && json_tok_eq(d, i, "true"))
		*out = true;
	else if (d->tok[i].type == JSON_PRIM && json_tok_eq(d, i, "false"))
		*out = false;
	else
		return WARD_EINVAL;
	return 0;
}

/* --- value equality ------------------------------------------------------ */

/* The next character of a string token's text at *k, as UTF-8 bytes in
 * out (escapes decoded, raw bytes copied); returns their count. */
static size_t
str_unit(const char *s, int *k, int end, char *out)
{
	uint32_t cp, lo;
	char ch = s[(*k)++];

	if (ch != '\\' || *k >= end) {
		out[0] = ch;
		return 1;
	}
	switch ((ch = s[(*k)++])) {
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u': break;
	default: out[0] = ch; return 1;
	}
	cp = hex4(s + *k);
	*k += 4;
	if (cp >= 0xD800 && cp <= 0xDBFF && *k + 6 <= end &&
	    s[*k] == '\\' && s[*k + 1] == 'u' &&
	    (lo = hex4(s + *k + 2)) >= 0xDC00 && lo <= 0xDFFF) {
		*k += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	} else if (cp >= 0xD800 && cp <= 0xDFFF) {
		cp = 0xFFFD;	/* lone surrogate, as json_str */
	}
	return put_utf8(out, cp);
}

/* Two string tokens, compared after unescaping: an escaped code point is
 * compared as its UTF-8 bytes, so "\u00e9" equals the raw bytes C3 A9. */
static bool
str_equal(const struct json_doc *a, int i, const struct json_doc *b, int j)
{
	int ka = a->tok[i].start, kb = b->tok[j].start;
	int ea = a->tok[i].end, eb = b->tok[j].end;
	char ua[4], ub[4];
	size_t na = 0, nb = 0, pa = 0, pb = 0;

	for (;;) {
		if (pa == na && ka < ea) {
			na = str_unit(a->src, &ka, ea, ua);
			pa = 0;
		}
		if (pb == nb && kb < eb) {
			nb = str_unit(b->src, &kb, eb, ub);
			pb = 0;
		}
		if (pa == na || pb == nb)
			return pa == na && pb == nb;
		if (ua[pa++] != ub[pb++])
			return false;
	}
}

/* A number token's value; false if the token is not a number. */
static bool
num_of(const struct json_doc *d, int i, double *v)
{
	char tmp[400];
	size_t l = (size_t)(d->tok[i].end - d->tok[i].start);
	char c0 = d->src[d->tok[i].start];

	if (!(c0 == '-' || (c0 >= '0' && c0 <= '9')) || l >= sizeof tmp)
		return false;
	memcpy(tmp, d->src + d->tok[i].start, l);
	tmp[l] = '\0';
	*v = strtod(tmp, NULL);
	return true;
}

static bool
prim_equal(const struct json_doc *a, int i, const struct json_doc *b, int j)
{
	struct str x = json_raw(a, i), y = json_raw(b, j);
	int64_t ix, iy;
	double dx, dy;

	if (x.n == y.n && memcmp(x.p, y.p, x.n) == 0)
		return true;
	if (!num_of(a, i, &dx) || !num_of(b, j, &dy))
		return false;
	/* two plain integers: exactly, beyond a double's 2^53 too (the
	 * texts differ here, so only 0 and -0 can still be equal) */
	if (int_literal(x.p, x.n, &ix) != WARD_ENOENT &&
	    int_literal(y.p, y.n, &iy) != WARD_ENOENT)
		return dx == 0 && dy == 0;
	return dx == dy;
}

/* Does object b have key (a's token k) with a value equal to a's k + 1? */
static bool
member_in(const struct json_doc *a, int k, const struct json_doc *b, int o)
{
	int m = o + 1;

	for (int n = 0; n < b->tok[o].size && m + 1 < b->ntok; n++) {
		if (str_equal(a, k, b, m))
			return json_equal(a, k + 1, b, m + 1);
		m = json_skip(b, m + 1);
	}
	return false;
}

bool
json_equal(const struct json_doc *a, int i, const struct json_doc *b, int j)
{
	const struct json_tok *x, *y;
	int p, q;

	if (i < 0 || i >= a->ntok || j < 0 || j >= b->ntok)
		return false;
	x = &a->tok[i];
	y = &b->tok[j];
	if (x->type != y->type || ((x->type == JSON_OBJ ||
	    x->type == JSON_ARR) && x->size != y->size))
		return false;
	switch (x->type) {
	case JSON_STR:
		return str_equal(a, i, b, j);
	case JSON_ARR:
		for (p = i + 1, q = j + 1; p < json_skip(a, i);
		    p = json_skip(a, p), q = json_skip(b, q))
			if (!json_equal(a, p, b, q))
				return false;
		return true;
	case JSON_OBJ:
		/* member order never matters; keys are unique (json_parse) */
		for (p = i + 1; p < json_skip(a, i); p = json_skip(a, p + 1))
			if (!member_in(a, p, b, j))
				return false;
		return true;
	default:
		return prim_equal(a, i, b, j);
	}
}

/* --- writer ------------------------------------------------------------- */

void
jw_init(struct jw *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof *w);
	w->p = buf;
	w->cap = cap;
	w->err = buf != NULL && cap == 0;
	if (buf != NULL && cap > 0)
		buf[0] = '\0';
}

static void
put(struct jw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	w->total += n;
	if (w->p == NULL)
		return;			/* counting */
	while (n > 0) {
		size_t room = w->cap - w->len - 1, k;

		if (room == 0) {
			if (w->spill == NULL || w->spill(w) != 0) {
				w->err = true;
				return;
			}
			continue;
		}
		k = MIN(room, n);
		memcpy(w->p + w->len, s, k);
		w->len += k;
		w->p[w->len] = '\0';
		s += k;
		n -= k;
	}
}

/* Before a value (or a key): a comma if a sibling precedes. */
static void
sep(struct jw *w)
{
	uint32_t bit = 1u << (w->depth & 31);

	if (w->comma & bit)
		put(w, ",", 1);
	w->comma |= bit;
}

static void
open_c(struct jw *w, const char *c)
{
	sep(w);
	put(w, c, 1);
	w->depth++;
	w->comma &= ~(1u << (w->depth & 31));
}

static void
close_c(struct jw *w, const char *c)
{
	w->depth--;
	put(w, c, 1);
}

void jw_obj(struct jw *w) { open_c(w, "{"); }
void jw_obj_end(struct jw *w) { close_c(w, "}"); }
void jw_arr(struct jw *w) { open_c(w, "["); }
void jw_arr_end(struct jw *w) { close_c(w, "]"); }

size_t
json_escape(const char *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		char e[6];
		size_t l = 0;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			l = 2;
		} else if (c == '\n') {
			memcpy(e, "\\n", 2);
			l = 2;
		} else if (c == '\r') {
			memcpy(e, "\\r", 2);
			l = 2;
		} else if (c == '\t') {
			memcpy(e, "\\t", 2);
			l = 2;
		} else if (c < 0x20 || c == 0x7F) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			l = 6;
		} else {
			e[0] = (char)c;
			l = 1;
		}
		if (o + l > cap)
			return (size_t)-1;
		memcpy(out + o, e, l);
		o += l;
	}
	return o;
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	char tmp[6 * 32];

	sep(w);
	put(w, "\"", 1);
	/* text that is not valid UTF-8 is never emitted raw */
	if (!utf8_valid((const uint8_t *)s, n)) {
		s = "\xEF\xBF\xBD";
		n = 3;
	}
	while (n > 0 && !w->err) {
		size_t k = MIN(n, (size_t)32);

		put(w, tmp, json_escape(s, k, tmp, sizeof tmp));
		s += k;
		n -= k;
	}
	put(w, "\"", 1);
}

void
jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s, strlen(s));
}

void
jw_key(struct jw *w, const char *k)
{
	jw_str(w, k);
	put(w, ":", 1);
	w->comma &= ~(1u << (w->depth & 31));	/* the value takes no comma */
}

void
jw_int(struct jw *w, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);

	sep(w);
	put(w, tmp, (size_t)n);
}

void
jw_num(struct jw *w, double v)
{
	char tmp[32];
	int n;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	n = snprintf(tmp, sizeof tmp, "%.17g", v);
	sep(w);
	put(w, tmp, (size_t)n);
}

void
jw_bool(struct jw *w, bool v)
{
	sep(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void
jw_null(struct jw *w)
{
	sep(w);
	put(w, "null", 4);
}

void
jw_raw(struct jw *w, const char *s, size_t n)
{
	sep(w);
	put(w, s, n);
}

void
jw_member_raw(struct jw *w, struct str key, struct str val)
{
	sep(w);
	put(w, key.p, key.n);
	put(w, ":", 1);
	put(w, val.p, val.n);
}

void
jw_time(struct jw *w, int64_t wall_us)
{
	char ts[40];

	log_time_iso(wall_us, ts);
	jw_str(w, ts);
}
