/*
 * test_port.c - the event wait of the port (port_ev_*): readiness is
 * reported, and when more descriptors are ready than the caller takes,
 * successive waits report every one of them (no descriptor is starved by
 * a busy front of the set).
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

#define NP	20
#define TAKE	8
#define TOK0	(WARD_EV_SLOTS - 1 - NP)

static void
fairness(void)
{
	int sv[NP][2], nopen = 0;
	uint8_t seen[NP] = { 0 };
	struct port_event ev[TAKE];
	int all = 0, waits = 0;

	for (int i = 0; i < NP; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) != 0)
			break;
		nopen++;
		CHECK(write(sv[i][1], "x", 1) == 1);
		CHECK(port_ev_add(sv[i][0], TOK0 + (uint32_t)i, PORT_EV_IN) == 0);
	}
	CHECK_EQ(nopen, NP);
	/* all NP are ready and stay ready: each wait takes at most TAKE */
	for (waits = 0; waits < 4 * NP / TAKE && all < nopen; waits++) {
		int n = port_ev_wait(ev, TAKE, 0);

		CHECK(n > 0 && n <= TAKE);
		for (int k = 0; k < n; k++) {
			uint32_t t = ev[k].token;

			if (t < TOK0 || t >= TOK0 + NP)
				continue;
			CHECK(ev[k].events & PORT_EV_IN);
			if (!seen[t - TOK0]++)
				all++;
		}
	}
	CHECK_EQ(all, nopen);
	/* three waits of TAKE cover NP = 20 when nothing else is ready */
	CHECK(waits <= (NP + TAKE - 1) / TAKE + 1);
	/* a quiet descriptor is not reported */
	{
		char c;
		int n, hit = 0;

		CHECK(read(sv[0][0], &c, 1) == 1);
		for (int w = 0; w < 4; w++) {
			n = port_ev_wait(ev, TAKE, 0);
			for (int k = 0; k < n; k++)
				hit += ev[k].token == TOK0;
		}
		CHECK_EQ(hit, 0);
	}
	for (int i = 0; i < nopen; i++) {
		port_ev_del(sv[i][0], TOK0 + (uint32_t)i);
		close(sv[i][0]);
		close(sv[i][1]);
	}
}

void
suite_port(void)
{
	fairness();
}
