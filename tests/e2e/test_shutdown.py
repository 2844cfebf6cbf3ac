#!/usr/bin/python3
"""SIGTERM: stop accepting, close every WebSocket with 1001, exit 0 within
5 s (SPEC §1.3)."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (OP_CONT, OP_TEXT, WS, Closed, Conn,  # noqa: E402
                      Server, Timeout, check, frame, run_tests, try_connect)


def new_connection_refused(port):
    """After SIGTERM: refused, or closed without a successful answer."""
    s = try_connect(port, 1.0)
    if isinstance(s, OSError):
        return True, "connect: %s" % s
    c = Conn(port, 2.0, sock=s)
    c.send_quiet(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        r = c.read_response(timeout=2.0)
    except (Closed, OSError):
        c.close()
        return True, "closed without answer"
    except (Timeout, ValueError) as e:
        c.close()
        return False, "accepted and left hanging: %r" % e
    c.close()
    return r.status == 503, "answered %d" % r.status


def test_sigterm_with_clients():
    srv = Server(label="shutdown")
    clients = [WS(srv.port) for _ in range(5)]
    for i, w in enumerate(clients):
        w.send_frame(OP_TEXT, b"hello %d" % i)
        try:
            m = w.recv_message(3.0)
        except (Closed, Timeout) as e:
            m = repr(e)
        check(m == (OP_TEXT, b"hello %d" % i), "client %d echoes before "
              "SIGTERM" % i, m)
    # an HTTP keep-alive client idling, too
    idle = Conn(srv.port)
    idle.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    idle.read_response()
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    codes = []
    for i, w in enumerate(clients):
        # 3 clients answer the close, 2 stay silent (the server must not
        # wait for them beyond its deadline)
        ev = w.collect(5.0, reply_close=(i < 3), wait_eof=True,
                       eof_timeout=5.0)
        codes.append(ev.close_code())
        if i == 0:
            ok, how = new_connection_refused(srv.port)
            check(ok, "new connections refused after SIGTERM", how)
    check(codes == [1001] * 5, "SIGTERM: each WebSocket gets close 1001",
          codes)
    check(idle.wait_eof(5.0), "SIGTERM: idle keep-alive HTTP connection "
          "closed")
    try:
        rc = srv.proc.wait(max(0.1, 5.0 - (time.monotonic() - t0)))
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
        rc = None
    dt = time.monotonic() - t0
    check(rc == 0, "SIGTERM: exit status 0 within 5 s",
          "rc=%r after %.2fs" % (rc, dt))
    print("  SIGTERM to exit: %.2fs" % dt)
    srv.stop()       # collects the exit status / checks the log
    for w in clients:
        w.close()
    idle.close()
    s = try_connect(srv.port, 1.0)
    check(isinstance(s, OSError), "after exit: port closed")
    if not isinstance(s, OSError):
        s.close()


def test_sigterm_mid_message():
    srv = Server(label="shutdown mid-message")
    ws = WS(srv.port)
    # a fragmented message in progress, its second frame cut short
    ws.send(frame(OP_TEXT, b"part", fin=False))
    ws.send(frame(OP_CONT, b"x" * 100000)[:5000])
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    ev = ws.collect(5.0, reply_close=True, wait_eof=True, eof_timeout=5.0)
    check(ev.has("close") or ev.has("eof"),
          "SIGTERM mid-message: connection closed", ev)
    try:
        rc = srv.proc.wait(max(0.1, 5.0 - (time.monotonic() - t0)))
    except Exception:  # noqa: BLE001
        rc = None
    check(rc == 0, "SIGTERM mid-message: exit 0 within 5 s", rc)
    srv.stop()
    ws.close()


def test_sigterm_idle():
    srv = Server(label="shutdown idle")
    t0 = time.monotonic()
    srv.signal(signal.SIGTERM)
    try:
        rc = srv.proc.wait(5.0)
    except Exception:  # noqa: BLE001
        rc = None
    check(rc == 0, "SIGTERM with no clients: exit 0 within 5 s", rc)
    check(time.monotonic() - t0 < 2.0,
          "SIGTERM with no clients: exits promptly (< 2 s)",
          "%.2fs" % (time.monotonic() - t0))
    srv.stop()


def test_sigint():
    srv = Server(label="SIGINT")
    ws = WS(srv.port)
    srv.signal(signal.SIGINT)
    ev = ws.collect(5.0, reply_close=True, eof_timeout=5.0)
    check(ev.close_code() == 1001 or ev.has("eof"),
          "SIGINT: WebSocket closed (1001)", ev)
    try:
        rc = srv.proc.wait(5.0)
    except Exception:  # noqa: BLE001
        rc = None
    check(rc == 0, "SIGINT: exit 0 within 5 s", rc)
    srv.stop()
    ws.close()


def main():
    run_tests([test_sigterm_with_clients, test_sigterm_mid_message,
               test_sigterm_idle, test_sigint])


if __name__ == "__main__":
    main()
