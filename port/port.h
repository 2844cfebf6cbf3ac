/*
 * port.h - everything src/ may ask of the operating system.
 *
 * Two implementations: port/linux/ (getrandom, optional epoll, Linux
 * niceties) and port/posix/ (poll, /dev/urandom; for small boards with an
 * unknown libc).  errno never leaves port/: every call returns a value or a
 * negative PORT_E* code.  The event wait keeps its own fixed tables sized by
 * WARD_EV_SLOTS; nothing here allocates after port_init().
 */
#ifndef WARD_PORT_H
#define WARD_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Error codes (negative).  Shared with src/ as WARD_E* (internal.h). */
#define PORT_EAGAIN	(-11)	/* would block: try when the event says so */
#define PORT_EIO	(-5)	/* any other I/O failure */
#define PORT_ERESET	(-104)	/* peer reset / broken pipe */
#define PORT_ENOENT	(-2)	/* no such file */
#define PORT_ENOSPC	(-28)	/* disk full */
#define PORT_EMFILE	(-24)	/* out of descriptors */
#define PORT_EINVAL	(-22)	/* bad argument (address, path) */
#define PORT_EADDRINUSE	(-98)

/* Process set-up: signals (SIGPIPE ignored; TERM/INT/HUP recorded). */
int	port_init(void);

/* Monotonic clock, milliseconds and microseconds since an arbitrary start. */
uint64_t port_now_ms(void);
uint64_t port_now_us(void);
/* Wall clock, microseconds since the Unix epoch (UTC). */
int64_t	port_wall_us(void);

/* Cryptographically secure random bytes.  0, or PORT_EIO. */
int	port_random(void *buf, size_t n);

/* Logging sink: one preformatted line (no newline) at a syslog-like level. */
enum { PORT_LOG_ERROR = 0, PORT_LOG_WARN, PORT_LOG_INFO, PORT_LOG_DEBUG };
void	port_log_syslog(bool on);
void	port_log_line(int level, const char *line, size_t len);
/* Stop the process at once, leaving a core (a broken invariant). */
void	port_abort(void) __attribute__((noreturn));
/* Write a line to standard output (banner, --print-limits, tokens). */
void	port_print(const char *s, size_t len);

/* Signals received since the last call, as a bit set. */
#define PORT_SIG_TERM	1u	/* SIGTERM or SIGINT: shut down */
#define PORT_SIG_HUP	2u	/* SIGHUP: reopen/reload */
unsigned port_signals_take(void);

/* --- sockets ------------------------------------------------------------ */

/*
 * Listen on host:port (host may be an IPv4/IPv6 literal or a name; "" or
 * "*" for any).  Non-blocking, close-on-exec, SO_REUSEADDR.  Returns fd or
 * negative.
 */
int	port_listen(const char *host, const char *service, int backlog);
/* The port actually bound (for listen=...:0). */
int	port_local_port(int fd);

/* A peer address in 20 bytes (kept per connection). */
struct port_addr {
	uint8_t		family;		/* 4, 6, or 0 (unknown) */
	uint8_t		pad;
	uint16_t	port;
	uint8_t		ip[16];
};
/* "127.0.0.1:5555" or "[::1]:5555" into out; returns the length. */
size_t	port_addr_text(const struct port_addr *a, char *out, size_t cap);

/*
 * Accept one connection: non-blocking, close-on-exec, TCP_NODELAY; the
 * peer's address into *peer.  Returns fd, PORT_EAGAIN, PORT_EMFILE or
 * another negative code.
 */
int	port_accept(int lfd, struct port_addr *peer);

/* Bytes read (>0), 0 on orderly EOF, PORT_EAGAIN, PORT_ERESET, PORT_EIO. */
long	port_recv(int fd, void *buf, size_t n);

struct port_iov {
	const void	*base;
	size_t		 len;
};
/* Bytes written (>=0), PORT_EAGAIN, PORT_ERESET, PORT_EIO.  Never SIGPIPE. */
long	port_writev(int fd, const struct port_iov *iov, int n);
/* Half-close the sending side (after the last byte). */
void	port_shutdown_wr(int fd);
/* Close; with abort, send RST (SO_LINGER 0) instead of FIN. */
void	port_close(int fd, bool abort);

/*
 * Outgoing connections (port/posix/net_client.c).  port_resolve looks a
 * host up once (it may block and allocate: call it at start-up only);
 * port_connect then starts a non-blocking, close-on-exec connect to that
 * address with TCP_NODELAY, without lookups or allocation, and
 * port_connect_unix does the same to a Unix-domain stream socket.  Both
 * return an fd whose connect may be in progress (wait for PORT_EV_OUT,
 * then ask port_connect_result), or negative.
 */
int	port_resolve(const char *host, const char *service,
	    struct port_addr *out);
int	port_connect(const struct port_addr *a);
int	port_connect_unix(const char *path);
/* 0 connected, PORT_EAGAIN still in progress, or the connect's error. */
int	port_connect_result(int fd);

/* --- event wait --------------------------------------------------------- */

#define PORT_EV_IN	1u
#define PORT_EV_OUT	2u
#define PORT_EV_ERR	4u	/* error or hang-up: read to learn which */

struct port_event {
	uint32_t	token;
	unsigned	events;
};

/*
 * Register fd with a caller token and an interest set; modify; remove.
 * Tokens are < WARD_EV_SLOTS.  Returns 0 or negative.
 */
int	port_ev_add(int fd, uint32_t token, unsigned events);
int	port_ev_mod(int fd, uint32_t token, unsigned events);
void	port_ev_del(int fd, uint32_t token);
/* Wait up to timeout_ms (-1: forever).  Returns events written (>=0). */
int	port_ev_wait(struct port_event *out, int max, int timeout_ms);
/* Name of the backend ("poll" or "epoll"). */
const char *port_ev_backend(void);

/* --- files (storage, config) -------------------------------------------- */

/* Read a whole small file into buf.  Bytes read, or negative. */
long	port_file_read(const char *path, char *buf, size_t cap);
/* A file's modification time (ns since the epoch), or negative. */
int64_t	port_file_mtime(const char *path);
/* Open for appending (created 0600).  fd or negative. */
int	port_file_append(const char *path);
/* Open for writing from scratch (truncate, 0600).  fd or negative. */
int	port_file_create(const char *path);
/* Open read-only.  fd or negative. */
int	port_file_open(const char *path);
long	port_file_pread(int fd, void *buf, size_t n, uint64_t off);
long	port_file_write(int fd, const void *buf, size_t n);
int	port_file_sync(int fd);
int	port_file_truncate(int fd, uint64_t len);
void	port_file_close(int fd);
int	port_file_rename(const char *from, const char *to);
int	port_file_unlink(const char *path);
/* Create a directory (and parents); existing is fine. */
int	port_mkdir_p(const char *path);
/* 0 when path is a directory this process may create files in (checked
 * without writing: no flash wear), else negative (read-only mount, no
 * permission, not a directory). */
int	port_dir_writable(const char *path);
/* Size of a file, or negative. */
long	port_file_size(const char *path);

/* --- process environment ------------------------------------------------ */

/* getenv. */
const char *port_getenv(const char *name);
/*
 * Supervisor notification (sd_notify protocol) over $NOTIFY_SOCKET, e.g.
 * "READY=1".  No-op without the variable.  Returns 0 or negative.
 */
int	port_notify(const char *state);
/* Watchdog interval requested by the supervisor ($WATCHDOG_USEC), µs, or 0. */
uint64_t port_watchdog_usec(void);
/* Resident set size of this process in bytes, or 0 if unknown. */
uint64_t port_rss_bytes(void);
/* Bytes of the program's zero-initialised static storage (.bss), where
 * every fixed pool lives, or 0 if the toolchain does not say. */
uint64_t port_static_bytes(void);

#endif
