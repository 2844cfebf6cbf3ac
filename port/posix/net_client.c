/*
 * net_client.c - outgoing stream connections for port.h (the Redis
 * client): resolve once at start-up, then non-blocking connects that do
 * no lookups and no allocation.  POSIX; used by both ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../port.h"

static int
net_err(int e)
{
	switch (e) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
	case EINPROGRESS:
	case EALREADY:
		return PORT_EAGAIN;
	case ECONNRESET:
	case ECONNREFUSED:
	case EPIPE:
	case ENOTCONN:
	case ETIMEDOUT:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return PORT_ERESET;
	case ENOENT:
		return PORT_ENOENT;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return PORT_EMFILE;
	case EINVAL:
	case EAFNOSUPPORT:
		return PORT_EINVAL;
	default:
		return PORT_EIO;
	}
}

static int
net_socket(int family)
{
	int fd = socket(family, SOCK_STREAM, 0), fl;

	if (fd < 0)
		return net_err(errno);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return PORT_EIO;
	}
	return fd;
}

/* connect(2) on a non-blocking socket: in progress counts as started. */
static int
net_start(int fd, const struct sockaddr *sa, socklen_t len)
{
	int rc;

	if (connect(fd, sa, len) == 0 || errno == EINPROGRESS ||
	    errno == EINTR)
		return fd;
	rc = net_err(errno);
	close(fd);
	return rc == PORT_EAGAIN ? PORT_EIO : rc;
}

int
port_resolve(const char *host, const char *service, struct port_addr *out)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc = PORT_EINVAL;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return PORT_EINVAL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		memset(out, 0, sizeof *out);
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)ai->ai_addr;

			out->family = 4;
			out->port = ntohs(s->sin_port);
			memcpy(out->ip, &s->sin_addr, 4);
			rc = 0;
			break;
		}
		if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *s =
			    (const void *)ai->ai_addr;

			out->family = 6;
			out->port = ntohs(s->sin6_port);
			memcpy(out->ip, &s->sin6_addr, 16);
			rc = 0;
			break;
		}
	}
	freeaddrinfo(res);
	return rc;
}

int
port_connect(const struct port_addr *a)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	int fd, one = 1;

	if (a->family != 4 && a->family != 6)
		return PORT_EINVAL;
	fd = net_socket(a->family == 4 ? AF_INET : AF_INET6);
	if (fd < 0)
		return fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (a->family == 4) {
		memset(&s4, 0, sizeof s4);
		s4.sin_family = AF_INET;
		s4.sin_port = htons(a->port);
		memcpy(&s4.sin_addr, a->ip, 4);
		return net_start(fd, (const struct sockaddr *)&s4, sizeof s4);
	}
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(a->port);
	memcpy(&s6.sin6_addr, a->ip, 16);
	return net_start(fd, (const struct sockaddr *)&s6, sizeof s6);
}

int
port_connect_unix(const char *path)
{
	struct sockaddr_un su;
	size_t l = strlen(path);
	int fd;

	if (l == 0 || l >= sizeof su.sun_path)
		return PORT_EINVAL;
	fd = net_socket(AF_UNIX);
	if (fd < 0)
		return fd;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	memcpy(su.sun_path, path, l);
	return net_start(fd, (const struct sockaddr *)&su, sizeof su);
}

int
port_connect_result(int fd)
{
	int e = 0;
	socklen_t len = sizeof e;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		return net_err(errno);
	if (e == 0)
		return 0;
	return net_err(e);
}
