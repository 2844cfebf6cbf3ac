/*
 * random.c - secure random bytes from getrandom(2) (Linux >= 3.17).
 * Blocks only until the kernel pool is initialised, once per boot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/random.h>

#include "../port.h"

int
port_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return PORT_EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
