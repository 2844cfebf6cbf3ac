/*
 * alloc_count.c - LD_PRELOAD shim for test_noalloc.py.
 *
 * Counts the heap calls (malloc, calloc, realloc, reallocarray, free of a
 * non-NULL pointer, posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc) a process makes between its FIRST and its LAST call to the
 * event wait (poll, ppoll, epoll_wait, epoll_pwait): that is, in the event
 * loop, after start-up and before shut-down.
 *
 * The counts go to the file named by $ALLOC_COUNT_FILE: rewritten (fixed
 * size, no allocation) at every event wait, so they survive an _exit(),
 * and once more with backtraces of the first offending calls in a
 * destructor.
 *
 *   cc -shared -fPIC -o alloc_count.so alloc_count.c -ldl
 *   ALLOC_COUNT_FILE=/tmp/counts LD_PRELOAD=./alloc_count.so ./ward ...
 *
 * Allocation goes to glibc's __libc_* entry points, so the shim itself
 * never recurses and needs no dlsym() for them.  The real event-wait
 * functions are looked up in a constructor (dlsym may allocate).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

enum {
	K_MALLOC, K_CALLOC, K_REALLOC, K_FREE, K_POSIX_MEMALIGN,
	K_ALIGNED_ALLOC, K_MEMALIGN, K_VALLOC, K_PVALLOC, K_REALLOCARRAY,
	K_N
};
static const char *const kname[K_N] = {
	"malloc", "calloc", "realloc", "free", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc", "reallocarray",
};

static unsigned long total[K_N];	/* since the process started */
static unsigned long at_first[K_N];	/* at the first event wait */
static unsigned long at_last[K_N];	/* at the latest event wait */
static unsigned long waits;		/* event waits seen */
static int out_fd = -1;

/* Backtraces of the first heap calls made inside the loop. */
#define NTRACE	16
#define DEPTH	12
static struct {
	int		 kind;
	unsigned long	 wait_no;	/* waits seen when it happened */
	int		 n;
	void		*pc[DEPTH];
} trace[NTRACE];
static int ntrace;
static int in_trace;		/* backtrace() itself may allocate */

static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *,
    const sigset_t *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int,
    const sigset_t *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);

static void
count(int k)
{
	total[k]++;
	if (waits == 0 || in_trace || ntrace >= NTRACE)
		return;
	in_trace = 1;
	trace[ntrace].kind = k;
	trace[ntrace].wait_no = waits;
	trace[ntrace].n = backtrace(trace[ntrace].pc, DEPTH);
	ntrace++;
	in_trace = 0;
}

/* ------------------------------------------------------------ report */

static size_t
put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return n;
}

/* Right-aligned decimal in a 20-character field. */
static size_t
put_num(char *p, unsigned long v)
{
	char tmp[20];
	int i = 20;

	memset(p, ' ', 20);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	memcpy(p + i, tmp + i, (size_t)(20 - i));
	return 20;
}

static size_t
put_line(char *p, const char *key, unsigned long v)
{
	size_t n = 0;

	n += put_str(p + n, key);
	memset(p + n, ' ', 24 - strlen(key));
	n += 24 - strlen(key);
	n += put_num(p + n, v);
	p[n++] = '\n';
	return n;
}

/* The counts, always the same size (so pwrite at 0 replaces them). */
static size_t
format_counts(char *buf)
{
	size_t n = 0;
	unsigned long sum = 0;

	n += put_line(buf + n, "waits", waits);
	for (int k = 0; k < K_N; k++) {
		unsigned long d = waits ? at_last[k] - at_first[k] : 0;

		sum += d;
		n += put_line(buf + n, kname[k], d);
	}
	n += put_line(buf + n, "loop_total", sum);
	for (int k = 0; k < K_N; k++) {
		char key[40] = "startup_";

		memcpy(key + 8, kname[k], strlen(kname[k]) + 1);
		n += put_line(buf + n, key, waits ? at_first[k] : total[k]);
	}
	return n;
}

static void
write_counts(void)
{
	char buf[2048];
	size_t n;

	if (out_fd < 0)
		return;
	n = format_counts(buf);
	if (pwrite(out_fd, buf, n, 0) < 0)
		return;
}

static void
event_wait(void)
{
	if (waits == 0)
		memcpy(at_first, total, sizeof at_first);
	memcpy(at_last, total, sizeof at_last);
	waits++;
	write_counts();
}

/* ------------------------------------------------------ interposers */

void *
malloc(size_t n)
{
	count(K_MALLOC);
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	count(K_CALLOC);
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	count(K_REALLOC);
	return __libc_realloc(p, n);
}

void *
reallocarray(void *p, size_t a, size_t b)
{
	count(K_REALLOCARRAY);
	if (b && a > SIZE_MAX / b)
		return NULL;
	return __libc_realloc(p, a * b);
}

void
free(void *p)
{
	if (p == NULL)
		return;		/* a no-op, not a heap call */
	count(K_FREE);
	__libc_free(p);
}

int
posix_memalign(void **pp, size_t al, size_t n)
{
	count(K_POSIX_MEMALIGN);
	if (real_posix_memalign)
		return real_posix_memalign(pp, al, n);
	*pp = __libc_memalign(al, n);
	return *pp ? 0 : 12;
}

void *
aligned_alloc(size_t al, size_t n)
{
	count(K_ALIGNED_ALLOC);
	if (real_aligned_alloc)
		return real_aligned_alloc(al, n);
	return __libc_memalign(al, n);
}

void *
memalign(size_t al, size_t n)
{
	count(K_MEMALIGN);
	return __libc_memalign(al, n);
}

void *
valloc(size_t n)
{
	count(K_VALLOC);
	if (real_valloc)
		return real_valloc(n);
	return __libc_memalign(4096, n);
}

void *
pvalloc(size_t n)
{
	count(K_PVALLOC);
	if (real_pvalloc)
		return real_pvalloc(n);
	return __libc_memalign(4096, (n + 4095) & ~(size_t)4095);
}

int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	event_wait();
	return real_poll(fds, n, timeout);
}

int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
    const sigset_t *mask)
{
	event_wait();
	return real_ppoll(fds, n, ts, mask);
}

int
epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
	event_wait();
	return real_epoll_wait(ep, ev, max, timeout);
}

int
epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout,
    const sigset_t *mask)
{
	event_wait();
	return real_epoll_pwait(ep, ev, max, timeout, mask);
}

/* ------------------------------------------------ start and finish */

__attribute__((constructor)) static void
shim_init(void)
{
	const char *path = getenv("ALLOC_COUNT_FILE");
	void *pc[2];

	real_poll = (int (*)(struct pollfd *, nfds_t, int))
	    dlsym(RTLD_NEXT, "poll");
	real_ppoll = (int (*)(struct pollfd *, nfds_t, const struct timespec *,
	    const sigset_t *))dlsym(RTLD_NEXT, "ppoll");
	real_epoll_wait = (int (*)(int, struct epoll_event *, int, int))
	    dlsym(RTLD_NEXT, "epoll_wait");
	real_epoll_pwait = (int (*)(int, struct epoll_event *, int, int,
	    const sigset_t *))dlsym(RTLD_NEXT, "epoll_pwait");
	real_posix_memalign = (int (*)(void **, size_t, size_t))
	    dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = (void *(*)(size_t, size_t))
	    dlsym(RTLD_NEXT, "aligned_alloc");
	real_valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
	real_pvalloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "pvalloc");
	/* load the unwinder now: its first use allocates */
	in_trace = 1;
	backtrace(pc, 2);
	in_trace = 0;
	if (path != NULL && *path != '\0')
		out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	write_counts();
}

__attribute__((destructor)) static void
shim_fini(void)
{
	char buf[256];
	size_t n;
	off_t end;

	if (out_fd < 0)
		return;
	write_counts();
	end = lseek(out_fd, 0, SEEK_END);
	(void)end;
	/* backtraces of heap calls that happened before a later wait */
	for (int i = 0; i < ntrace; i++) {
		if (trace[i].wait_no >= waits)
			continue;	/* after the last wait: shut-down */
		n = 0;
		n += put_str(buf + n, "trace ");
		n += put_str(buf + n, kname[trace[i].kind]);
		n += put_str(buf + n, " at wait");
		n += put_num(buf + n, trace[i].wait_no);
		buf[n++] = '\n';
		if (write(out_fd, buf, n) < 0)
			return;
		backtrace_symbols_fd(trace[i].pc, trace[i].n, out_fd);
	}
	if (write(out_fd, "end\n", 4) < 0)
		return;
	close(out_fd);
	out_fd = -1;
}
