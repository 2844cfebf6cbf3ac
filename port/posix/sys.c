/*
 * sys.c - POSIX clock, signals, logging, sockets, files, notify.
 *
 * Shared by every port; only the event wait and the randomness source
 * differ between port/linux and port/posix.  This is one of the few places
 * that may read errno: it is turned into PORT_E* here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../port.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

static volatile sig_atomic_t sig_pending;
static bool log_to_syslog;

static int
err_code(int e)
{
	switch (e) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
		return PORT_EAGAIN;
	case ECONNRESET:
	case EPIPE:
	case ENOTCONN:
	case ETIMEDOUT:
	case ECONNABORTED:
		return PORT_ERESET;
	case ENOENT:
		return PORT_ENOENT;
	case ENOSPC:
	case EDQUOT:
		return PORT_ENOSPC;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return PORT_EMFILE;
	case EADDRINUSE:
		return PORT_EADDRINUSE;
	case EINVAL:
		return PORT_EINVAL;
	default:
		return PORT_EIO;
	}
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_pending |= PORT_SIG_HUP;
	else
		sig_pending |= PORT_SIG_TERM;
}

int
port_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

unsigned
port_signals_take(void)
{
	unsigned s = (unsigned)sig_pending;

	sig_pending = 0;
	return s;
}

uint64_t
port_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
port_now_ms(void)
{
	return port_now_us() / 1000u;
}

int64_t
port_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
port_log_syslog(bool on)
{
	if (on && !log_to_syslog)
		openlog("ward", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_to_syslog = on;
}

void
port_abort(void)
{
	abort();
}

void
port_log_line(int level, const char *line, size_t len)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	struct iovec iov[2];

	if (level < 0 || level > PORT_LOG_DEBUG)
		level = PORT_LOG_INFO;
	if (log_to_syslog) {
		syslog(prio[level], "%.*s", (int)len, line);
		return;
	}
	iov[0].iov_base = (void *)line;
	iov[0].iov_len = len;
	iov[1].iov_base = "\n";
	iov[1].iov_len = 1;
	if (writev(2, iov, 2) < 0)
		return;
}

void
port_print(const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, s, len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

/* --- sockets ------------------------------------------------------------ */

static int
set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return PORT_EIO;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return PORT_EIO;
	return 0;
}

int
port_listen(const char *host, const char *service, int backlog)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = PORT_EINVAL, one = 1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (host != NULL && (host[0] == '\0' || strcmp(host, "*") == 0))
		host = NULL;
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0)
		return PORT_EINVAL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			fd = err_code(errno);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		/* Linux copies TCP_NODELAY to every accepted socket:
		 * port_accept then saves a system call per connection */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (ai->ai_family == AF_INET6 && host != NULL)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0 && set_nonblock_cloexec(fd) == 0)
			break;
		rc = err_code(errno);
		close(fd);
		fd = rc;
	}
	freeaddrinfo(res);
	return fd;
}

int
port_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return PORT_EIO;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return PORT_EINVAL;
}

static void
to_addr(const struct sockaddr_storage *ss, struct port_addr *a)
{
	memset(a, 0, sizeof *a);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		a->family = 4;
		a->port = ntohs(s->sin_port);
		memcpy(a->ip, &s->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		a->family = 6;
		a->port = ntohs(s->sin6_port);
		memcpy(a->ip, &s->sin6_addr, 16);
	}
}

size_t
port_addr_text(const struct port_addr *a, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int n;

	if (a->family == 4) {
		inet_ntop(AF_INET, a->ip, host, sizeof host);
		n = snprintf(out, cap, "%s:%u", host, a->port);
	} else if (a->family == 6) {
		inet_ntop(AF_INET6, a->ip, host, sizeof host);
		n = snprintf(out, cap, "[%s]:%u", host, a->port);
	} else {
		n = snprintf(out, cap, "unknown");
	}
	return n < 0 ? 0 : MIN((size_t)n, cap - 1);
}

int
port_accept(int lfd, struct port_addr *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int fd;

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
	/* one call instead of accept + four fcntl (Linux, the BSDs) */
	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return err_code(errno);
#else
	fd = accept(lfd, (struct sockaddr *)&ss, &len);
	if (fd < 0)
		return err_code(errno);
	if (set_nonblock_cloexec(fd) != 0) {
		close(fd);
		return PORT_EIO;
	}
#endif
#ifndef __linux__
	{
		int one = 1;	/* elsewhere it may not be inherited */

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
#endif
	if (peer != NULL)
		to_addr(&ss, peer);
	return fd;
}

long
port_recv(int fd, void *buf, size_t n)
{
	ssize_t r = recv(fd, buf, n, 0);

	if (r < 0)
		return err_code(errno);
	return (long)r;
}

long
port_writev(int fd, const struct port_iov *iov, int n)
{
	struct msghdr mh;
	ssize_t r;

	/* struct port_iov has the layout of struct iovec on every POSIX ABI
	 * we build for; checked at compile time below. */
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = (struct iovec *)(void *)iov;
	mh.msg_iovlen = (size_t)n;
	r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	if (r < 0)
		return err_code(errno);
	return (long)r;
}
_Static_assert(sizeof(struct port_iov) == sizeof(struct iovec),
    "port_iov matches iovec");
_Static_assert(offsetof(struct port_iov, len) == offsetof(struct iovec, iov_len),
    "port_iov matches iovec");

void
port_shutdown_wr(int fd)
{
	shutdown(fd, SHUT_WR);
}

void
port_close(int fd, bool abort)
{
	if (abort) {
		struct linger lg = { 1, 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	close(fd);
}

/* --- files -------------------------------------------------------------- */

long
port_file_read(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return err_code(errno);
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = err_code(errno);

			close(fd);
			return e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (long)got;
}

int64_t
port_file_mtime(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return err_code(errno);
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

static int
open_mode(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	return fd < 0 ? err_code(errno) : fd;
}

int
port_file_append(const char *path)
{
	return open_mode(path, O_WRONLY | O_CREAT | O_APPEND);
}

int
port_file_create(const char *path)
{
	return open_mode(path, O_WRONLY | O_CREAT | O_TRUNC);
}

int
port_file_open(const char *path)
{
	return open_mode(path, O_RDONLY);
}

long
port_file_pread(int fd, void *buf, size_t n, uint64_t off)
{
	ssize_t r = pread(fd, buf, n, (off_t)off);

	return r < 0 ? err_code(errno) : (long)r;
}

long
port_file_write(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = write(fd, (const char *)buf + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_code(errno);
		done += (size_t)r;
	}
	return (long)done;
}

int
port_file_sync(int fd)
{
	return fsync(fd) == 0 ? 0 : err_code(errno);
}

int
port_file_truncate(int fd, uint64_t len)
{
	return ftruncate(fd, (off_t)len) == 0 ? 0 : err_code(errno);
}

void
port_file_close(int fd)
{
	close(fd);
}

int
port_file_rename(const char *from, const char *to)
{
	return rename(from, to) == 0 ? 0 : err_code(errno);
}

int
port_file_unlink(const char *path)
{
	return unlink(path) == 0 ? 0 : err_code(errno);
}

int
port_mkdir_p(const char *path)
{
	char tmp[512];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof tmp)
		return PORT_EINVAL;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return err_code(errno);
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return err_code(errno);
	return 0;
}

int
port_dir_writable(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return err_code(errno);
	if (!S_ISDIR(st.st_mode))
		return PORT_EINVAL;
	return access(path, W_OK | X_OK) == 0 ? 0 : err_code(errno);
}

long
port_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return err_code(errno);
	return (long)st.st_size;
}

/* --- environment -------------------------------------------------------- */

const char *
port_getenv(const char *name)
{
	return getenv(name);
}

int
port_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t plen;
	int fd, rc = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof sun.sun_path)
		return PORT_EINVAL;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0)
		return err_code(errno);
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) < 0)
		rc = err_code(errno);
	close(fd);
	return rc;
}

uint64_t
port_watchdog_usec(void)
{
	const char *v = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");

	if (v == NULL)
		return 0;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	return strtoull(v, NULL, 10);
}

/* GNU ld (and lld) define these around .bss in every ELF executable. */
#if defined(__ELF__) && defined(__GNUC__)
extern char __bss_start[], _end[];

uint64_t
port_static_bytes(void)
{
	return (uint64_t)(_end - __bss_start);
}
#else
uint64_t
port_static_bytes(void)
{
	return 0;
}
#endif

uint64_t
port_rss_bytes(void)
{
	char buf[4096];
	long n = port_file_read("/proc/self/status", buf, sizeof buf - 1);
	char *p;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "VmRSS:");
	if (p == NULL)
		return 0;
	return strtoull(p + 6, NULL, 10) * 1024u;
}
