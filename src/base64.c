/*
 * base64.c - RFC 4648 base64 (§4) and base64url (§5).
 *
 * Decoding is strict: characters outside the alphabet, padding in the
 * wrong place, and non-zero unused bits in the last quantum are refused,
 * so one value has one encoding (keys and JWT segments compare exactly).
 */
#include "internal.h"

static const char base64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];

		out[o++] = base64_std[v >> 18];
		out[o++] = base64_std[(v >> 12) & 63];
		out[o++] = base64_std[(v >> 6) & 63];
		out[o++] = base64_std[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = base64_std[v >> 18];
		out[o++] = base64_std[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = base64_std[v >> 18];
		out[o++] = base64_std[(v >> 12) & 63];
		out[o++] = base64_std[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int
val(char c, bool url)
{
	const char *alpha = url ? base64_url : base64_std;

	for (int i = 0; i < 64; i++)
		if (alpha[i] == c)
			return i;
	return -1;
}

long
base64_decode(const char *in, size_t n, uint8_t *out, size_t cap, bool url)
{
	size_t o = 0, pad = 0, i;
	uint32_t acc = 0;
	int bits = 0;

	if (!url) {
		if (n % 4 != 0)
			return -1;
		while (pad < 2 && n > 0 && in[n - 1] == '=') {
			n--;
			pad++;
		}
	}
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		int v = val(in[i], url);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* leftover bits must be zero (canonical encoding) */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}
