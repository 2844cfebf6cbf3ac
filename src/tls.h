/*
 * tls.h - TLS 1.2 server transport: a byte pump around BearSSL's engine.
 *
 * tls.c is the only user of BearSSL's SSL engine.  A connection that came
 * in on a TLS listener takes a context from a fixed pool (tls_conn_take)
 * and from then on its transport is either the memory pump below (the
 * _buf/_ack pairs, no I/O: what the unit tests and the fuzz target drive)
 * or the fd pump (tls_conn_recv/tls_conn_writev/tls_conn_events), which
 * has the shape of port_recv/port_writev so that conn.c swaps one for the
 * other and http.c, ws.c and svc/ never learn that TLS is on.
 *
 * Memory: nothing allocates.  Contexts, record buffers, the session cache
 * and the two credential slots are static arrays sized by the macros
 * in config.h.
 *
 * Return convention as in internal.h: commands 0 or a negative WARD_E*,
 * predicates bool, byte pumps bytes or a negative code.
 */
#ifndef WARD_TLS_H
#define WARD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "../port/port.h"

/* The limits (WARD_TLS_CONNS, WARD_TLS_OBUF_PLAIN, WARD_TLS_SESSIONS,
 * WARD_TLS_CHAIN_*, WARD_TLS_PEM_BYTES) are in config.h. */

/* Static bytes of one pooled TLS connection (context and buffers). */
size_t	tls_conn_bytes(void);
/* Static bytes of the session cache and of the two credential slots. */
size_t	tls_cache_bytes(void);
size_t	tls_creds_bytes(void);

/* --- credentials ---------------------------------------------------------- */

/*
 * Load a PEM certificate chain (leaf first) and a PEM private key (RSA or
 * EC on P-256/P-384/P-521; PKCS#1, SEC1 or PKCS#8, unencrypted) into the
 * spare slot, check that the key matches the leaf's public key, and make
 * that slot current: new handshakes use it, connections already past
 * their handshake are not touched, connections in their handshake finish
 * with the slot they started with.
 *
 * Returns 0, WARD_EINVAL (the pair is refused: err has one line naming
 * the file and the reason; the current slot stays), or WARD_EAGAIN (the
 * spare slot is still used by handshakes begun two loads ago: retry at a
 * later tick).  On success err is "" or holds a warning to log (the leaf
 * has expired or is not valid yet, with its notAfter / notBefore date).
 * tls_creds_reload is the same call, named for SIGHUP.
 */
int	tls_creds_load(const char *cert_path, const char *key_path, char *err,
	    size_t errlen);
int	tls_creds_reload(const char *cert_path, const char *key_path,
	    char *err, size_t errlen);
/* Has a pair been loaded? */
bool	tls_creds_ready(void);
/* Generation of the current slot: 1 after the first load, +1 per load. */
unsigned tls_creds_generation(void);
/* The current leaf's notAfter, microseconds since the Unix epoch. */
int64_t	tls_creds_not_after_us(void);
/* Forget both slots (tests; no connection may be in a handshake). */
void	tls_creds_reset(void);

/* --- the pool --------------------------------------------------------------- */

struct tls_conn;

/* A fresh server context in its handshake state, or NULL: the pool is
 * full or no credentials are loaded.  The caller owns it until
 * tls_conn_reset. */
struct tls_conn *tls_conn_take(void);
/* Back to the pool (no bytes are sent: call tls_conn_close first for a
 * close_notify). */
void	tls_conn_reset(struct tls_conn *t);
unsigned tls_conn_used(void);		/* slots taken now */
unsigned tls_conn_peak(void);		/* most slots taken at once */
/* Does BearSSL use AES instructions here?  Without them the server
 * enforces its own suite order, ChaCha20-Poly1305 first. */
bool	tls_hw_aes(void);
unsigned tls_conn_refused(void);	/* tls_conn_take gave NULL, ever */

/* --- the memory pump: BearSSL's engine as _buf/_ack pairs ----------------- */

/*
 * Ciphertext in: room for bytes read from the peer, NULL (and *len 0) when
 * the engine wants no input now (it has records to send first, or it is
 * closed).  Ack what was written there.  Every _ack of 0 bytes is a no-op
 * (BearSSL's own sendapp_ack(0) on a full buffer would seal it again).
 */
uint8_t	*tls_conn_recvrec_buf(struct tls_conn *t, size_t *len);
void	 tls_conn_recvrec_ack(struct tls_conn *t, size_t n);
/* Ciphertext out: bytes to send to the peer, or NULL. */
const uint8_t *tls_conn_sendrec_buf(struct tls_conn *t, size_t *len);
void	 tls_conn_sendrec_ack(struct tls_conn *t, size_t n);
/* Plaintext for the application (decrypted), or NULL. */
const uint8_t *tls_conn_recvapp_buf(struct tls_conn *t, size_t *len);
void	 tls_conn_recvapp_ack(struct tls_conn *t, size_t n);
/* Room for application plaintext to encrypt, or NULL (handshake not done,
 * output records not yet sent, or closing). */
uint8_t	*tls_conn_sendapp_buf(struct tls_conn *t, size_t *len);
void	 tls_conn_sendapp_ack(struct tls_conn *t, size_t n);
/* Seal the plaintext written so far into a record now. */
void	 tls_conn_flush(struct tls_conn *t);
/* Start closing: a close_notify alert is queued as ciphertext out. */
void	 tls_conn_close(struct tls_conn *t);

/* State bits (a snapshot; any call above may change it). */
#define TLS_ST_CLOSED	1u	/* finished: cleanly or failed (see error) */
#define TLS_ST_SENDREC	2u	/* ciphertext waiting to be sent */
#define TLS_ST_RECVREC	4u	/* the engine takes ciphertext */
#define TLS_ST_SENDAPP	8u	/* the engine takes plaintext */
#define TLS_ST_RECVAPP	16u	/* plaintext waiting for the application */
unsigned tls_conn_state(const struct tls_conn *t);
/* The handshake has completed (the first time; stays true). */
bool	tls_conn_handshake_done(const struct tls_conn *t);
/* Was this handshake a resumption from the session cache? */
bool	tls_conn_resumed(const struct tls_conn *t);
/* 0 while fine or after a clean close; else BearSSL's error code (> 0 for
 * ours, BR_ERR_SEND_FATAL_ALERT + n / BR_ERR_RECV_FATAL_ALERT + n for an
 * alert n sent / received). */
int	tls_conn_error(const struct tls_conn *t);
/* A short text for an error code ("bad record", "peer alert 40", ...). */
const char *tls_error_text(int err);
/* Its class for counters: TLSF_NOT_TLS (the bytes are not TLS 1.2
 * records: plain HTTP, garbage, SSLv2, TLS 1.0/1.1 only), TLSF_ALERT (the peer sent a fatal alert:
 * it refused our certificate, say), TLSF_PROTOCOL (the rest), TLSF_CLOSED
 * (no error: the TCP stream ended).  TLSF_* are in internal.h. */
int	tls_error_class(int err);
/* Negotiated: cipher suite number, ECDHE curve (BR_EC_*: 29 X25519, 23
 * P-256), ALPN name or NULL, credentials generation used. */
unsigned tls_conn_suite(const struct tls_conn *t);
int	tls_conn_curve(const struct tls_conn *t);
const char *tls_conn_alpn(const struct tls_conn *t);
unsigned tls_conn_creds_generation(const struct tls_conn *t);

/* --- the fd pump: in place of port_recv / port_writev ---------------------- */

/*
 * Plaintext into buf: pumps ciphertext between fd and the engine as far as
 * it goes without blocking (handshake records included).  Returns bytes
 * (> 0), 0 at the end of the stream (close_notify, or a TCP EOF: check
 * tls_conn_error for a truncation), PORT_EAGAIN (wait for
 * tls_conn_events), or a negative code (PORT_ERESET, PORT_EIO, or
 * WARD_EPROTO when the TLS layer failed: tls_conn_error says why).
 */
long	tls_conn_recv(struct tls_conn *t, int fd, void *buf, size_t n);
/*
 * Encrypt and send from iov: the bytes taken (>= 0; fewer than given when
 * the engine or the socket is full), PORT_EAGAIN before the handshake is
 * done, or a negative code as above.  Bytes taken are owned by the
 * engine: ciphertext not yet sent leaves with tls_conn_pump.
 */
long	tls_conn_writev(struct tls_conn *t, int fd, const struct port_iov *iov,
	    int n);
/* Send pending ciphertext and take incoming records (no plaintext is
 * returned).  0, PORT_EAGAIN, or a negative code. */
int	tls_conn_pump(struct tls_conn *t, int fd);
/* PORT_EV_IN / PORT_EV_OUT the engine needs on fd now (the application's
 * own wishes are added by the caller). */
unsigned tls_conn_events(const struct tls_conn *t);
/* Input waits in the engine, no poll needed: plaintext, or ciphertext
 * read ahead of the engine (tls_conn_recv goes on without the socket). */
bool	tls_conn_pending(const struct tls_conn *t);
/* Queue close_notify and send what goes out now.  true when every byte is
 * out (then the caller half-closes and closes). */
bool	tls_conn_shutdown(struct tls_conn *t, int fd);

#define WARD_EPROTO	(-71)	/* the TLS layer failed (tls_conn_error) */

#endif
