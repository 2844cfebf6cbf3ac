#!/usr/bin/python3
"""Pools, heartbeat, resets and slow readers: SPEC §1.1, §1.3."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (OP_BINARY, OP_PING, OP_PONG,  # noqa: E402
                      OP_TEXT, SLOW, WS, Closed, Conn, HandshakeError,
                      Sender, Server, Timeout, check, frame,
                      handshake_request, is_json_error, new_key, run_tests)


def echo_ok(ws, payload=b"ping?", timeout=3.0):
    try:
        return ws.echo(OP_TEXT, payload, timeout * SLOW) == (OP_TEXT, payload)
    except (Closed, Timeout, OSError):
        return False


def test_pool_exhaustion():
    srv = Server("max_connections=8", label="max_connections=8")
    clients = []
    try:
        for i in range(8):
            try:
                clients.append(WS(srv.port))
            except (HandshakeError, Closed, Timeout, OSError) as e:
                check(False, "pool: WebSocket client %d of 8 accepted" % i,
                      repr(e))
                return
        check(len(clients) == 8, "pool: 8 WebSocket clients accepted")
        # the 9th: HTTP 503 with a JSON error, then closed
        c = Conn(srv.port)
        c.send_quiet(handshake_request("/ws/echo", new_key()))
        try:
            r = c.read_response(head=True)
            cl = r.header("content-length")
            if cl:
                r.body = c.read_exact(int(cl), time.monotonic() + 3)
            check(r.status == 503, "pool: 9th connection gets HTTP 503", r)
            check(is_json_error(r), "pool: 503 has a JSON error body",
                  r.body[:200])
        except (Closed, Timeout, ValueError) as e:
            check(False, "pool: 9th connection gets HTTP 503", repr(e))
        check(c.wait_eof(3.0), "pool: 9th connection closed after the 503")
        c.close()
        # plain HTTP is refused the same way while full
        c = Conn(srv.port)
        c.send_quiet(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            r = c.read_response()
            check(r.status == 503, "pool: HTTP request while full -> 503",
                  r)
        except (Closed, Timeout, ValueError) as e:
            check(False, "pool: HTTP request while full -> 503", repr(e))
        c.close()
        ok = sum(echo_ok(w, b"still %d" % i) for i, w in enumerate(clients))
        check(ok == 8, "pool: the 8 clients keep echoing", ok)
        # close one cleanly; a new client then gets in
        code, eof = clients[0].close_handshake(1000)
        check(code in (1000, "empty") and eof,
              "pool: clean close of one client", (code, eof))
        clients.pop(0).close()
        newc = None
        deadline = time.monotonic() + 3.0
        while newc is None and time.monotonic() < deadline:
            try:
                newc = WS(srv.port)
            except (HandshakeError, Closed, Timeout, OSError):
                time.sleep(0.05)
        check(newc is not None and echo_ok(newc),
              "pool: after one left, a new client gets in and echoes")
        if newc:
            clients.append(newc)
        # aborted clients free their slots too
        for w in clients[:4]:
            w.abort()
        del clients[:4]
        got = []
        deadline = time.monotonic() + 3.0
        while len(got) < 4 and time.monotonic() < deadline:
            try:
                got.append(WS(srv.port))
            except (HandshakeError, Closed, Timeout, OSError):
                time.sleep(0.05)
        check(len(got) == 4, "pool: slots of 4 reset clients are reused",
              len(got))
        clients += got
        ok = sum(echo_ok(w) for w in clients)
        check(ok == len(clients) == 8, "pool: all 8 echo at the end",
              (ok, len(clients)))
    finally:
        for w in clients:
            w.close()
        srv.stop()


def test_pool_churn():
    # many connect/disconnect cycles on a small pool: no slot leaks
    srv = Server("max_connections=8", label="max_connections=8 churn")
    try:
        fails = 0
        for i in range(60):
            try:
                ws = WS(srv.port)
                if i % 3 == 0:
                    ws.close_handshake()
                elif i % 3 == 1:
                    ws.abort()
                else:
                    ws.send_quiet(frame(OP_TEXT, b"x", rsv=4))  # 1002
                    ws.wait_eof(2.0)
                ws.close()
            except (HandshakeError, Closed, Timeout, OSError):
                fails += 1
                time.sleep(0.05)
        check(fails <= 3, "pool churn: 60 connect/close cycles on 8 slots",
              "%d handshakes failed" % fails)
        clients = []
        deadline = time.monotonic() + 3.0
        while len(clients) < 8 and time.monotonic() < deadline:
            try:
                clients.append(WS(srv.port))
            except (HandshakeError, Closed, Timeout, OSError):
                time.sleep(0.05)
        check(len(clients) == 8, "pool churn: all 8 slots free afterwards",
              len(clients))
        for w in clients:
            w.close()
    finally:
        srv.stop()


def test_close_timeout():
    # the server fails a connection (1002); the client neither answers the
    # close nor closes TCP: the server must close TCP by itself
    srv = Server(label="close timeout")
    try:
        ws = WS(srv.port)
        t0 = time.monotonic()
        ws.send_quiet(frame(OP_TEXT, b"x", rsv=2))
        ev = ws.collect(3.0 * SLOW, reply_close=False, wait_eof=False,
                        stop=lambda e: e.has("close"))
        check(ev.close_code() == 1002, "close timeout: 1002 sent", ev)
        eof = ws.wait_eof(4.0)
        dt = time.monotonic() - t0
        check(eof and dt < 3.5, "close timeout: server closes TCP when the "
              "client never answers its close (within ~close_timeout 2 s)",
              "eof=%r after %.2fs" % (eof, dt))
        ws.close()
        # the same when the server initiates a close for shutdown-like
        # reasons is covered by test_shutdown; here: a client that sends a
        # close but then keeps the TCP connection open gets EOF at once
        ws = WS(srv.port)
        ws.send_close(1000)
        ev = ws.collect(3.0, reply_close=False, eof_timeout=1.0)
        check(ev.close_code() == 1000 and ev.items[-1][0] == "eof",
              "client-initiated close: server closes TCP right after its "
              "close reply", ev)
        ws.close()
        check(srv.healthy(), "close timeout: server healthy")
    finally:
        srv.stop()


def test_heartbeat():
    srv = Server("heartbeat_interval=1", label="heartbeat_interval=1")
    try:
        silent = WS(srv.port)
        answering = WS(srv.port)
        t0 = time.monotonic()
        ping_at = closed_at = close_code = eof_after_close = None
        pongs_sent = 0
        deadline = t0 + 5.0
        while time.monotonic() < deadline and closed_at is None:
            # the answering client: pong every ping
            ev = answering.collect(0.05, stop=lambda e: e.has("ping"),
                                   reply_close=False, wait_eof=False)
            for it in ev.items:
                if it[0] == "ping":
                    answering.send_frame(OP_PONG, it[1])
                    pongs_sent += 1
            # the silent client: never answers
            ev = silent.collect(0.05, reply_close=False, wait_eof=False)
            for it in ev.items:
                if it[0] == "ping" and ping_at is None:
                    ping_at = time.monotonic() - t0
                elif it[0] == "close":
                    close_code = it[1]
                    if closed_at is None:
                        closed_at = time.monotonic() - t0
                    # we never answer: the server must still drop TCP
                    # (at the latest after its close timeout)
                    eof_after_close = silent.wait_eof(3.0)
                elif it[0] == "eof" and closed_at is None:
                    closed_at = time.monotonic() - t0
                    eof_after_close = True
        check(ping_at is not None and ping_at < 1.6,
              "heartbeat: silent client gets a ping within ~1.5 s",
              ping_at)
        check(closed_at is not None and closed_at < 3.6,
              "heartbeat: client that never answers closed within ~3.5 s",
              "closed_at=%r code=%r" % (closed_at, close_code))
        check(close_code in (None, 1001),
              "heartbeat: close code is 1001 (or a TCP abort)", close_code)
        check(eof_after_close is True,
              "heartbeat: TCP closed after the 1001 though the client never "
              "answers it", eof_after_close)
        check(pongs_sent >= 1, "heartbeat: answering client got pings",
              pongs_sent)
        # keep answering a little longer, then it must still echo
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            ev = answering.collect(0.1, stop=lambda e: e.has("ping"),
                                   reply_close=False, wait_eof=False)
            for it in ev.items:
                if it[0] == "ping":
                    answering.send_frame(OP_PONG, it[1])
        check(echo_ok(answering),
              "heartbeat: client answering pongs stays open")
        silent.close()
        answering.close()
        # a client that is busy sending data is not pinged off either
        busy = WS(srv.port)
        ok = True
        t1 = time.monotonic()
        while time.monotonic() - t1 < 3.0 and ok:
            try:
                busy.send_frame(OP_TEXT, b"busy")
                ok = busy.recv_message(2.0) == (OP_TEXT, b"busy")
            except (Closed, Timeout, OSError):
                ok = False
            time.sleep(0.2)
        check(ok, "heartbeat: a client that keeps talking stays open")
        busy.close()
    finally:
        srv.stop()


def test_reset_does_not_disturb():
    srv = Server(label="limits")
    try:
        other = WS(srv.port)
        for i in range(10):
            ws = WS(srv.port)
            if i % 2:
                # reset in the middle of a big message
                ws.send_quiet(frame(OP_BINARY, b"\x00" * 300000)[:150000])
            else:
                ws.send_quiet(frame(OP_TEXT, b"a" * 1000))
            ws.abort()
        check(echo_ok(other), "reset: other client unaffected by 10 resets")
        check(srv.healthy(), "reset: server healthy")
        # a half-close (FIN) mid-frame does not disturb either
        ws = WS(srv.port)
        ws.send_quiet(frame(OP_TEXT, b"x" * 100)[:50])
        ws.sock.shutdown(socket.SHUT_WR)
        check(ws.wait_eof(3.0 * SLOW),
              "half-closed client mid-frame: server closes it")
        ws.close()
        check(echo_ok(other), "reset: other client still fine")
        other.close()
    finally:
        srv.stop()


def test_slow_reader():
    srv = Server(label="slow reader")
    try:
        other = WS(srv.port)
        # warm up every buffer class the echo path uses
        warm = WS(srv.port)
        for n in (100, 20000, 300000, 1 << 20):
            s = Sender(warm, frame(OP_BINARY, b"w" * n))
            try:
                got = warm.recv_message(10 * SLOW)
                check(got == (OP_BINARY, b"w" * n),
                      "slow reader: warm-up echo of %d bytes" % n)
            except (Closed, Timeout) as e:
                check(False, "slow reader: warm-up echo of %d" % n, repr(e))
            s.join(5)
        warm.close_handshake()
        warm.close()
        time.sleep(0.2)
        rss0 = srv.rss_kb()
        # a client that never reads, with a small receive buffer
        slow = WS(srv.port, rcvbuf=32768)
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
        slow.sock.setblocking(False)
        payload = os.urandom(1 << 20)
        # 8 MiB as the brief says, then up to 24 MiB: more than the kernel
        # socket buffers of both ends can absorb, so the server itself must
        # push back (stop reading) or drop the client (1013)
        data = b"".join(frame(OP_BINARY, payload) for _ in range(24))
        sent = 0
        t0 = time.monotonic()
        stuck_since = None
        served_meanwhile = 0
        while sent < len(data) and time.monotonic() - t0 < 6.0:
            try:
                n = slow.sock.send(data[sent:sent + 65536])
                sent += n
                stuck_since = None
            except BlockingIOError:
                if stuck_since is None:
                    stuck_since = time.monotonic()
                elif time.monotonic() - stuck_since > 1.0:
                    break        # server stopped reading: backpressure
                time.sleep(0.01)
                if echo_ok(other, b"meanwhile"):
                    served_meanwhile += 1
            except OSError:
                break            # server closed it (1013): also fine
        stuck = sent < len(data)
        time.sleep(0.3)
        rss1 = srv.rss_kb()
        grow = (rss1 - rss0) / 1024.0
        print("  slow reader: sent %.1f MiB without reading; RSS %d -> %d "
              "KiB (%+.1f MiB)" % (sent / 1048576.0, rss0, rss1, grow))
        check(sent >= 8 << 20 or stuck,
              "slow reader: 8 MiB sent, or the server pushed back",
              sent)
        check(stuck, "slow reader: the server stops reading (or closes) a "
              "client that does not read (%.1f of 24 MiB taken)"
              % (sent / 1048576.0))
        check(grow < 6.0, "slow reader: server RSS grows < 6 MiB while a "
              "client does not read its echo", "%+.1f MiB" % grow)
        check(echo_ok(other, b"after"),
              "slow reader: other clients still served")
        check(served_meanwhile > 0 or not stuck,
              "slow reader: other client served while it was stuck",
              served_meanwhile)
        # a second one at the same time: memory stays bounded
        slow2 = WS(srv.port, rcvbuf=32768)
        slow2.sock.setblocking(False)
        sent2 = 0
        t0 = time.monotonic()
        while sent2 < len(data) and time.monotonic() - t0 < 3.0:
            try:
                sent2 += slow2.sock.send(data[sent2:sent2 + 65536])
            except BlockingIOError:
                time.sleep(0.05)
            except OSError:
                break
        time.sleep(0.3)
        rss2 = srv.rss_kb()
        check((rss2 - rss0) / 1024.0 < 8.0,
              "slow reader: two stuck clients, RSS still bounded",
              "%d -> %d KiB" % (rss0, rss2))
        check(srv.healthy(), "slow reader: /health answers")
        slow.abort()
        slow2.abort()
        check(echo_ok(other), "slow reader: other client fine at the end")
        other.close()
    finally:
        srv.stop()


def test_many_slow_readers():
    # 20 clients each send 4 MiB to /ws/echo and never read the echo.
    # Each may be paused (backpressure) or closed with 1013, but together
    # they must not stall everyone else (SPEC §1.3: a client that cannot
    # keep up "never slows other clients"; §1.1 the server keeps serving
    # everyone else when a pool is full).
    srv = Server(label="many slow readers")
    slows = []
    try:
        other = WS(srv.port)
        check(echo_ok(other), "many slow readers: other client echoes "
              "before")
        data = b"".join(frame(OP_BINARY, os.urandom(1 << 20))
                        for _ in range(4))
        for _ in range(20):
            w = WS(srv.port, rcvbuf=32768)
            w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
            w.sock.setblocking(False)
            slows.append([w, 0])
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.0:
            for sl in slows:
                if sl[1] >= len(data):
                    continue
                try:
                    sl[1] += sl[0].sock.send(data[sl[1]:sl[1] + 65536])
                except BlockingIOError:
                    pass
                except OSError:
                    sl[1] = len(data)
            time.sleep(0.01)
        print("  many slow readers: %.1f MiB taken from 20 clients" % (
            sum(sl[1] for sl in slows) / 1048576.0))
        t1 = time.monotonic()
        ok = echo_ok(other, b"while 20 clients do not read")
        check(ok, "many slow readers: other client still echoes",
              "%.2fs" % (time.monotonic() - t1))
        check(srv.healthy(2.0 * SLOW),
              "many slow readers: /health still answers")
        try:
            w = WS(srv.port, timeout=2.0 * SLOW)
            check(echo_ok(w), "many slow readers: a new client connects "
                  "and echoes")
            w.close()
        except (HandshakeError, Closed, Timeout, OSError) as e:
            check(False, "many slow readers: a new client connects and "
                  "echoes", repr(e))
        other.close()
    finally:
        for sl in slows:
            sl[0].abort()
        srv.stop()


def test_slow_http_reader():
    # one HTTP client pipelines GET /health (4 MB of requests) and never
    # reads the answers: it may be paused or dropped, but others must be
    # served (SPEC §1.1 "the server keeps serving everyone else", §1.2)
    srv = Server(label="slow HTTP reader")
    c = None
    try:
        c = Conn(srv.port, 5.0, rcvbuf=8192)
        c.sock.setblocking(False)
        data = (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") * 100000
        sent = 0
        t0 = time.monotonic()
        while sent < len(data) and time.monotonic() - t0 < 3.0:
            try:
                sent += c.sock.send(data[sent:sent + 65536])
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
        print("  slow HTTP reader: %.1f MB of pipelined requests taken"
              % (sent / 1e6))
        answered = tries = 0
        t1 = time.monotonic()
        while time.monotonic() - t1 < 2.0 and tries < 6:
            tries += 1
            answered += srv.healthy(2.0 * SLOW)
            time.sleep(0.2)
        check(answered == tries, "slow HTTP reader: /health keeps answering "
              "other clients", "%d of %d answered" % (answered, tries))
        try:
            w = WS(srv.port, timeout=2.0 * SLOW)
            check(echo_ok(w), "slow HTTP reader: a WebSocket client "
                  "connects and echoes")
            w.close()
        except (HandshakeError, Closed, Timeout, OSError) as e:
            check(False, "slow HTTP reader: a WebSocket client connects "
                  "and echoes", repr(e))
    finally:
        if c is not None:
            c.abort()
        srv.stop()


def test_control_flood():
    # 2000 pings in one burst without reading pongs for a while
    srv = Server(label="ping flood")
    try:
        ws = WS(srv.port, rcvbuf=32768)
        other = WS(srv.port)
        data = b"".join(frame(OP_PING, b"%04d" % i + b"x" * 100)
                        for i in range(2000))
        s = Sender(ws, data)
        time.sleep(0.5)
        check(echo_ok(other), "ping flood: other client served")
        ev = ws.collect(10 * SLOW, stop=lambda e: len(e.pongs()) >= 2000 or
                        e.has("close") or e.has("eof"), reply_close=True)
        s.join(5)
        n = len(ev.pongs())
        check(n == 2000 or ev.close_code() in (1008, 1013),
              "ping flood: all pongs, or closed 1008/1013 as abuse",
              "%d pongs, close %r" % (n, ev.close_code()))
        ws.close()
        # 8000 tiny pings in one burst from a client that reads normally:
        # all pongs, or a clear error (close frame 1008/1013, SPEC §1.1
        # "when a pool is full the request gets a clear error"), never a
        # bare TCP reset that also discards the pongs already sent
        ws = WS(srv.port)
        n = 8000
        s = Sender(ws, b"".join(frame(OP_PING, b"%d" % (i % 10))
                                for i in range(n)))
        ev = ws.collect(10 * SLOW, stop=lambda e: len(e.pongs()) >= n or
                        e.has("close") or e.has("eof"), reply_close=True)
        s.join(5)
        check(len(ev.pongs()) == n or ev.close_code() in (1008, 1013),
              "burst of 8000 tiny pings: all pongs, or close 1008/1013",
              "%d pongs, close %r, last event %r" % (
                  len(ev.pongs()), ev.close_code(), ev.items[-1]))
        ws.close()
        check(echo_ok(other), "ping burst: other client served")
        other.close()
        check(srv.healthy(), "ping flood: server healthy")
    finally:
        srv.stop()


def test_buffer_pressure():
    # more clients with large messages in flight than the server has I/O
    # buffers: reading pauses ("nobody is failed", config.h), all echo
    import threading
    srv = Server(label="buffer pressure")
    n = 300
    res = [None] * n

    def worker(i):
        try:
            w = WS(srv.port, timeout=20.0)
        except (HandshakeError, Closed, Timeout, OSError) as e:
            res[i] = "handshake %r" % e
            return
        try:
            p = bytes([i % 256]) * (100000 + i)
            for _ in range(3):
                snd = Sender(w, frame(OP_BINARY, p))
                got = w.recv_message(30.0 * SLOW)
                snd.join(10)
                if got != (OP_BINARY, p):
                    res[i] = "echo differs"
                    return
            code, eof = w.close_handshake()
            res[i] = True if code in (1000, "empty") and eof else \
                "close %r eof %r" % (code, eof)
        except (Closed, Timeout, OSError) as e:
            res[i] = repr(e)
        finally:
            w.close()
    ts = [threading.Thread(target=worker, args=(i,), daemon=True)
          for i in range(n)]
    try:
        for t in ts:
            t.start()
        for t in ts:
            t.join(90)
        bad = [r for r in res if r is not True]
        check(not bad, "buffer pressure: 300 clients x 3 echoes of ~100 KB "
              "at once all succeed", "%d failed: %r" % (len(bad), bad[:3]))
        # and a burst of 20000 small messages on one connection
        ws = WS(srv.port)
        msgs = [b"%08d" % i for i in range(20000)]
        snd = Sender(ws, b"".join(frame(OP_TEXT, m) for m in msgs))
        got = 0
        try:
            for m in msgs:
                if ws.recv_message(10.0 * SLOW) != (OP_TEXT, m):
                    break
                got += 1
        except (Closed, Timeout) as e:
            print("  burst: %r" % e)
        snd.join(5)
        check(got == len(msgs), "burst of 20000 small messages in one send "
              "all echoed in order", got)
        ws.close()
    finally:
        srv.stop()


def test_many_idle_connections():
    srv = Server(label="many idle")
    socks = []
    try:
        for _ in range(300):
            s = socket.socket()
            s.settimeout(3)
            s.connect(("127.0.0.1", srv.port))
            socks.append(s)
        check(srv.healthy(), "300 idle TCP connections: /health answers")
        ws = WS(srv.port)
        check(echo_ok(ws), "300 idle TCP connections: WebSocket echoes")
        ws.close()
    finally:
        for s in socks:
            s.close()
        srv.stop()


def main():
    run_tests([test_pool_exhaustion, test_pool_churn, test_close_timeout,
               test_heartbeat,
               test_reset_does_not_disturb, test_slow_reader,
               test_many_slow_readers, test_slow_http_reader,
               test_control_flood, test_buffer_pressure,
               test_many_idle_connections])


if __name__ == "__main__":
    main()
