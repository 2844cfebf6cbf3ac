/*
 * epoll_echo: the physical-limit reference for ward's benchmarks.
 *
 * usage: epoll_echo PORT    (binds 127.0.0.1:PORT, runs until killed)
 *
 * Notes
 * - One thread, one epoll set, level-triggered, non-blocking sockets: the
 *   least a server can do per round trip (one recv, one send), so the
 *   generator's tcp-echo mode against it measures the kernel's share.
 * - Whatever send() cannot take now waits in a per-descriptor buffer;
 *   while it waits the descriptor is watched for EPOLLOUT instead of
 *   EPOLLIN (the peer sets the pace).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define EE_BUF		65536
#define EE_EVENTS	256

/* Bytes owed to descriptor fd, indexed by fd. */
struct pend {
	char	*p;
	size_t	 len;
};

static struct pend	*pend;
static size_t		 npend;
static int		 ep;

static void
die(const char *what)
{
	fprintf(stderr, "epoll_echo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
watch(int fd, int op, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.fd = fd };

	if (epoll_ctl(ep, op, fd, &e) != 0)
		die("epoll_ctl");
}

static void
drop(int fd)
{
	free(pend[fd].p);
	pend[fd].p = NULL;
	pend[fd].len = 0;
	close(fd);
}

/* Sends p[0..n); keeps what the socket does not take. 0, or -1 to drop. */
static int
echo_out(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	if (n == 0)
		return 0;
	pend[fd].p = malloc(n);
	if (pend[fd].p == NULL)
		return -1;
	memcpy(pend[fd].p, p, n);
	pend[fd].len = n;
	watch(fd, EPOLL_CTL_MOD, EPOLLOUT);
	return 0;
}

static void
on_readable(int fd)
{
	static char buf[EE_BUF];
	ssize_t n;

	n = recv(fd, buf, sizeof buf, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || echo_out(fd, buf, (size_t)n) != 0)
		drop(fd);
}

static void
on_writable(int fd)
{
	struct pend q = pend[fd];

	pend[fd].p = NULL;
	pend[fd].len = 0;
	watch(fd, EPOLL_CTL_MOD, EPOLLIN);
	if (echo_out(fd, q.p, q.len) != 0)
		drop(fd);
	free(q.p);
}

static void
on_accept(int ls)
{
	int fd, one = 1;

	while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
	    >= 0) {
		if ((size_t)fd >= npend) {
			close(fd);	/* beyond RLIMIT_NOFILE at start */
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		watch(fd, EPOLL_CTL_ADD, EPOLLIN);
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
	    errno != EMFILE && errno != ENFILE)
		die("accept4");
}

static int
listen_on(const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char *end;
	long p = strtol(port, &end, 10);
	int ls, one = 1;

	if (*end != '\0' || p < 1 || p > 65535) {
		fprintf(stderr, "epoll_echo: bad port '%s'\n", port);
		exit(2);
	}
	a.sin_port = htons((uint16_t)p);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0)
		die("bind");
	if (listen(ls, SOMAXCONN) != 0)
		die("listen");
	return ls;
}

int
main(int argc, char **argv)
{
	struct epoll_event ev[EE_EVENTS];
	struct rlimit rl;
	int ls, i, n;

	if (argc != 2) {
		fprintf(stderr, "usage: epoll_echo PORT\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	npend = rl.rlim_cur > 1048576 ? 1048576 : (size_t)rl.rlim_cur;
	if ((pend = calloc(npend, sizeof *pend)) == NULL)
		die("calloc");
	ls = listen_on(argv[1]);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	watch(ls, EPOLL_CTL_ADD, EPOLLIN);
	for (;;) {
		n = epoll_wait(ep, ev, EE_EVENTS, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == ls)
				on_accept(ls);
			else if (ev[i].events & EPOLLOUT)
				on_writable(ev[i].data.fd);
			else
				on_readable(ev[i].data.fd);
		}
	}
}
