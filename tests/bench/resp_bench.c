/*
 * resp_bench.c - throughput of the RESP2 reply parser (resp_feed) and of
 * the client's reply assembly shape, offline: no socket, no server.
 *
 * Builds a stream of pub/sub messages as Redis sends them
 * (*3 $7 message $<channel> $<payload>) for a few payload sizes, feeds
 * it in 16 KiB reads (WARD_REDIS_RXBUF) and reports MB/s and messages/s;
 * also a stream of small pipelined replies (+OK, :n, $v).  `make
 * redis-bench`; not part of `make test`.  Figures: docs/redis.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "redis.h"

static uint8_t stream[64 << 20];
static uint8_t arena[WARD_REDIS_REPLY_BYTES];
static int copy;	/* also copy each chunk, as the client assembles */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse the whole stream in rx-sized reads; returns replies seen. */
static unsigned long
parse(size_t len, unsigned long *bytes_out)
{
	struct resp_parser p;
	unsigned long replies = 0, bytes = 0;
	size_t at = 0;

	memset(&p, 0, sizeof p);
	while (at < len) {
		size_t n = MIN((size_t)WARD_REDIS_RXBUF, len - at);
		const uint8_t *b = stream + at;

		at += n;
		while (n > 0) {
			struct resp_ev ev;
			long rc = resp_feed(&p, b, n, &ev);

			if (rc == WARD_NEED_MORE)
				break;
			if (rc < 0) {
				fprintf(stderr, "parse error %ld\n", rc);
				exit(1);
			}
			if (copy && ev.n > 0) {
				size_t o = ev.first ? 0 : bytes % sizeof arena;

				memcpy(arena + MIN(o, sizeof arena - ev.n), ev.p,
				    ev.n);
			}
			bytes += ev.n;
			replies += ev.done;
			b += rc;
			n -= (size_t)rc;
		}
	}
	*bytes_out = bytes;
	return replies;
}

static size_t
build_messages(size_t payload, unsigned long *count)
{
	static char pay[65536];
	size_t len = 0;
	int hl;

	memset(pay, 'x', sizeof pay);
	*count = 0;
	for (;;) {
		char hdr[128];

		hl = snprintf(hdr, sizeof hdr, "*3\r\n$7\r\nmessage\r\n"
		    "$14\r\nward:call:r123\r\n$%zu\r\n", payload);
		if (len + (size_t)hl + payload + 2 > sizeof stream)
			break;
		memcpy(stream + len, hdr, (size_t)hl);
		len += (size_t)hl;
		memcpy(stream + len, pay, payload);
		len += payload;
		memcpy(stream + len, "\r\n", 2);
		len += 2;
		(*count)++;
	}
	return len;
}

static size_t
build_small(unsigned long *count)
{
	static const char *const rep[3] = { "+OK\r\n", ":12345\r\n",
	    "$6\r\nvalue1\r\n" };
	size_t len = 0;

	*count = 0;
	for (unsigned i = 0;; i++) {
		size_t l = strlen(rep[i % 3]);

		if (len + l > sizeof stream)
			break;
		memcpy(stream + len, rep[i % 3], l);
		len += l;
		(*count)++;
	}
	return len;
}

static void
run(const char *name, size_t len, unsigned long want)
{
	unsigned long got = 0, bytes = 0;
	double best = 1e9;

	for (int r = 0; r < 5; r++) {
		double t0 = now_s(), t;

		got = parse(len, &bytes);
		t = now_s() - t0;
		if (t < best)
			best = t;
	}
	if (got != want) {
		fprintf(stderr, "%s: %lu replies, expected %lu\n", name, got,
		    want);
		exit(1);
	}
	printf("%-22s %8.0f MB/s %12.0f replies/s  (%lu replies, %zu bytes, "
	    "best of 5)\n", name, len / best / 1e6, got / best, got, len);
}

int
main(void)
{
	static const size_t sizes[] = { 64, 512, 4096, 60000 };
	unsigned long n;
	size_t len;

	for (copy = 0; copy < 2; copy++) {
		printf("%s\n", copy ? "parse + copy into the reply arena "
		    "(what the client does):" : "parse only (zero-copy "
		    "events):");
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			char name[64];

			len = build_messages(sizes[i], &n);
			snprintf(name, sizeof name, "message %zu B", sizes[i]);
			run(name, len, n);
		}
		len = build_small(&n);
		run("small replies", len, n);
	}
	return 0;
}
