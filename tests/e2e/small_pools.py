#!/usr/bin/python3
"""small_pools - issue 9 finding 8, on the small-pool build (make
VARIANT=small: 8 connections, 4 I/O buffers, 1 big buffer).

Not a test_*.py (run.py would run it against the laptop build): `make
test` runs it through `make VARIANT=small e2e-small` (boards/rules.mk)
with WARD_BIN set to build/host-small/ward.

A burst of malformed frames on 6 WebSocket sockets that then close their
side: every socket must be closed by the server promptly (none left in
CLOSE-WAIT, paused waiting for a buffer), /health must answer throughout,
and the pools must be back to empty.  Bounded: ~15 s.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (SLOW, HOST, OP_TEXT, OP_BINARY, WS, Closed, Server,
                      Timeout, check, frame, http_request, run_tests,
                      wait_until)
from test_fair_buffers import metrics, pool_used, timed_health, read_all


def limits():
    import subprocess
    from wardtest import ward_bin
    out = subprocess.run([ward_bin(), "--print-limits"], capture_output=True,
                         timeout=20).stdout.decode()
    got = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            got[f[0]] = int(f[1])
    return got


def test_small_build():
    lim = limits()
    check(lim.get("connections", 0) <= 16 and lim.get("buf_io", 99) <= 4,
          "WARD_BIN is the small-pool build", lim)


def burst(i):
    """A 30 KB text frame cut after 5 KB (the socket is left mid-message:
    the reassembly needs the one big buffer, the rest of the bytes sit
    in I/O buffers), and what follows it parses as its payload: a burst
    of malformed frames (RSV bit, bad UTF-8).  Then the FIN."""
    bad = (frame(OP_TEXT, b"x", rsv=4) + frame(OP_TEXT, b"\xff" * 10)) * 20
    return frame(OP_TEXT, b"a" * 30000)[:5000 - len(bad)] + bad


def io_idle(port):
    """buf_io in use, less the one GET /metrics itself may hold."""
    return pool_used(metrics(port), "buf_io") <= 1


def test_malformed_burst_no_close_wait():
    srv = Server("rate_limit=0", label="small burst")
    socks = []
    for i in range(6):
        w = WS(srv.port, "/ws/stt/", timeout=5.0, rcvbuf=4096)
        socks.append(w)
    for i, w in enumerate(socks):
        try:
            w.sock.sendall(burst(i))
        except OSError:
            pass
    for w in socks:
        try:
            w.sock.shutdown(socket.SHUT_WR)   # our FIN: CLOSE-WAIT there
        except OSError:
            pass
    t0 = time.monotonic()
    worst = 0.0
    bad = []
    for _ in range(6):                  # ~3 s, the clients do not read
        st, dt = timed_health(srv.port, timeout=6.0)
        worst = max(worst, dt)
        if st != 200:
            bad.append(st)
        time.sleep(0.3)
    check(not bad and worst < 1.0 * SLOW,
          "/health answers within 1 s while the burst is stuck",
          "worst %.2f s, %s" % (worst, bad))
    done = [None] * len(socks)
    t1 = time.monotonic()

    def rd(i):
        read_all(socks[i].sock, 8.0 * SLOW)
        done[i] = time.monotonic() - t1
    ths = [threading.Thread(target=rd, args=(i,), daemon=True)
           for i in range(len(socks))]
    for t in ths:
        t.start()
    for t in ths:
        t.join(10.0 * SLOW)
    late = [d for d in done if d is None or d > 4.0 * SLOW]
    check(not late, "every socket is then closed by the server within 4 s",
          ["%.1f" % d if d else "open" for d in done])
    ok = wait_until(lambda: io_idle(srv.port) and pool_used(
        metrics(srv.port), "connections") <= 1, 3.0)
    m = metrics(srv.port)
    check(ok, "pools back to empty",
          {k: v for k, v in m.items() if k.startswith("ward_pool_used")})
    for w in socks:
        w.close()
    srv.stop()


def test_paused_reader_sees_eof():
    """Connections paused on a dry pool still end when the peer goes."""
    srv = Server("rate_limit=0", label="small eof")
    hold = []
    for i in range(6):
        w = WS(srv.port, "/ws/echo", timeout=5.0, rcvbuf=4096)
        w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # 48 KiB in: the echo fills the queue, the reader never reads
        try:
            w.sock.sendall(frame(OP_BINARY, b"e" * 49152))
        except OSError:
            pass
        hold.append(w)
    time.sleep(0.5)
    for w in hold:
        w.sock.close()          # FIN, unread data: no reset from us
    ok = wait_until(lambda: pool_used(metrics(srv.port), "connections") <= 1
                    and io_idle(srv.port), 4.0 * SLOW)
    m = metrics(srv.port)
    check(ok, "gone peers free their slots and buffers within 4 s",
          {k: v for k, v in m.items() if k.startswith("ward_pool_used")})
    st, dt = timed_health(srv.port)
    check(st == 200 and dt < 1.0 * SLOW, "/health answers after", (st, dt))
    srv.stop()


def test_dry_pool_cuts_idle_holder():
    """The one big buffer held by a message that stopped halfway: a
    client that needs it gets it after the idle holder is cut (close
    1008, ward_cuts_total{reason="evicted_message"}), not never."""
    srv = Server("rate_limit=0", "progress_timeout=0", label="small evict")
    hold = WS(srv.port, "/ws/stt/", timeout=5.0)
    hold.send(frame(OP_TEXT, b"a" * 30000)[:20000])   # grows to the big one
    time.sleep(0.3)
    check(pool_used(metrics(srv.port), "buf_big") == 1,
          "the half message holds the big buffer")
    w = WS(srv.port, "/ws/stt/", timeout=5.0)
    big = ('{"type":"ping","pad":"%s"}' % ("y" * 30000)).encode()
    t0 = time.monotonic()
    w.send_frame(OP_TEXT, big)
    try:
        f = w.recv_frame(6.0 * SLOW)
        ok = f.opcode == OP_TEXT
    except (Closed, Timeout):
        ok = False
    dt = time.monotonic() - t0
    check(ok and dt < 3.0 * SLOW,
          "the waiting client is served once the idle holder is cut",
          "%s after %.1f s" % (ok, dt))
    ev = hold.collect(timeout=3.0)
    check(ev.close_code() == 1008, "the idle holder got close 1008",
          ev.items[-2:])
    m = metrics(srv.port)
    check(m.get('ward_cuts_total{reason="evicted_message"}') == 1,
          "counted as evicted_message",
          m.get('ward_cuts_total{reason="evicted_message"}'))
    hold.close()
    w.close()
    srv.stop()


if __name__ == "__main__":
    run_tests([test_small_build, test_malformed_burst_no_close_wait,
               test_paused_reader_sees_eof, test_dry_pool_cuts_idle_holder])
