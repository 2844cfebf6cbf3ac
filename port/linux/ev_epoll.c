/*
 * ev_epoll.c - Linux event wait on epoll (build option PORT_EV=epoll), for
 * hosts holding thousands of mostly idle connections where poll()'s O(n)
 * scan per wait dominates.  Level-triggered, so it is a drop-in for
 * ev_poll.c: the loop above sees the same events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../port.h"
#include "../../src/config.h"

static int epfd = -1;
static struct epoll_event evbuf[256];

static int
ensure(void)
{
	if (epfd < 0)
		epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? PORT_EIO : 0;
}

static uint32_t
to_epoll(unsigned ev)
{
	return ((ev & PORT_EV_IN) ? EPOLLIN : 0) |
	    ((ev & PORT_EV_OUT) ? EPOLLOUT : 0);
}

static int
ctl(int op, int fd, uint32_t token, unsigned events)
{
	struct epoll_event e;

	if (ensure() != 0 || token >= WARD_EV_SLOTS)
		return PORT_EINVAL;
	e.events = to_epoll(events);
	e.data.u64 = token;
	return epoll_ctl(epfd, op, fd, &e) == 0 ? 0 : PORT_EIO;
}

int
port_ev_add(int fd, uint32_t token, unsigned events)
{
	return ctl(EPOLL_CTL_ADD, fd, token, events);
}

int
port_ev_mod(int fd, uint32_t token, unsigned events)
{
	return ctl(EPOLL_CTL_MOD, fd, token, events);
}

void
port_ev_del(int fd, uint32_t token)
{
	(void)token;
	if (epfd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

int
port_ev_wait(struct port_event *out, int max, int timeout_ms)
{
	int n;

	if (ensure() != 0)
		return 0;
	if (max > (int)(sizeof evbuf / sizeof evbuf[0]))
		max = (int)(sizeof evbuf / sizeof evbuf[0]);
	n = epoll_wait(epfd, evbuf, max, timeout_ms);
	for (int i = 0; i < n; i++) {
		uint32_t e = evbuf[i].events;

		out[i].token = (uint32_t)evbuf[i].data.u64;
		out[i].events = ((e & EPOLLIN) ? PORT_EV_IN : 0) |
		    ((e & EPOLLOUT) ? PORT_EV_OUT : 0) |
		    ((e & (EPOLLERR | EPOLLHUP)) ? PORT_EV_ERR : 0);
	}
	return n < 0 ? 0 : n;
}

const char *
port_ev_backend(void)
{
	return "epoll";
}
