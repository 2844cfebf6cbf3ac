/*
 * random.c - secure random bytes from /dev/urandom (any POSIX board).
 * The descriptor is opened once, at the first call during start-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "../port.h"

int
port_random(void *buf, size_t n)
{
	static int fd = -1;
	unsigned char *p = buf;

	if (fd < 0)
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PORT_EIO;
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return PORT_EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
