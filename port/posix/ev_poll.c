/*
 * ev_poll.c - the portable event wait: poll() over a compact pollfd array.
 *
 * The array is maintained incrementally: add appends, delete swaps the last
 * entry into the hole, and pos[token] maps a token to its slot, so every
 * operation is O(1) and poll() sees no holes.  When more descriptors are
 * ready than the caller takes, the next scan starts where this one
 * stopped, so no descriptor waits behind a busy front of the array.
 */
#include <poll.h>
#include <errno.h>

#include "../port.h"
#include "../../src/config.h"

#define NONE UINT32_MAX

static struct pollfd pfd[WARD_EV_SLOTS];
static uint32_t tok_of[WARD_EV_SLOTS];	/* slot -> token */
static uint32_t pos[WARD_EV_SLOTS];	/* token -> slot */
static uint32_t used;
static uint32_t start;			/* where the next scan begins */
static int ready;

static short
to_poll(unsigned ev)
{
	return (short)(((ev & PORT_EV_IN) ? POLLIN : 0) |
	    ((ev & PORT_EV_OUT) ? POLLOUT : 0));
}

static void
init_once(void)
{
	if (ready)
		return;
	for (uint32_t i = 0; i < WARD_EV_SLOTS; i++)
		pos[i] = NONE;
	ready = 1;
}

int
port_ev_add(int fd, uint32_t token, unsigned events)
{
	init_once();
	if (token >= WARD_EV_SLOTS || pos[token] != NONE || used >= WARD_EV_SLOTS)
		return PORT_EINVAL;
	pfd[used].fd = fd;
	pfd[used].events = to_poll(events);
	pfd[used].revents = 0;
	tok_of[used] = token;
	pos[token] = used++;
	return 0;
}

int
port_ev_mod(int fd, uint32_t token, unsigned events)
{
	(void)fd;
	if (token >= WARD_EV_SLOTS || pos[token] == NONE)
		return PORT_EINVAL;
	pfd[pos[token]].events = to_poll(events);
	return 0;
}

void
port_ev_del(int fd, uint32_t token)
{
	uint32_t at, last;

	(void)fd;
	if (token >= WARD_EV_SLOTS || pos[token] == NONE)
		return;
	at = pos[token];
	last = --used;
	if (at != last) {
		pfd[at] = pfd[last];
		tok_of[at] = tok_of[last];
		pos[tok_of[at]] = at;
	}
	pos[token] = NONE;
}

int
port_ev_wait(struct port_event *out, int max, int timeout_ms)
{
	int n, got = 0;

	init_once();
	n = poll(pfd, used, timeout_ms);
	if (n <= 0)
		return 0;
	if (start >= used)
		start = 0;
	for (uint32_t k = 0; k < used && n > 0; k++) {
		uint32_t i = start + k < used ? start + k : start + k - used;
		short re = pfd[i].revents;
		unsigned ev = 0;

		if (re == 0)
			continue;
		if (got == max) {	/* more ready than taken: begin here */
			start = i;
			break;
		}
		n--;
		if (re & POLLIN)
			ev |= PORT_EV_IN;
		if (re & POLLOUT)
			ev |= PORT_EV_OUT;
		if (re & (POLLERR | POLLHUP | POLLNVAL))
			ev |= PORT_EV_ERR;
		out[got].token = tok_of[i];
		out[got].events = ev;
		got++;
	}
	return got;
}

const char *
port_ev_backend(void)
{
	return "poll";
}
