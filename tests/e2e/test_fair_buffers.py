#!/usr/bin/python3
"""test_fair_buffers - issue 9, findings 1, 2 and 3 (laptop pools), and the
slow-loris policy: a partial head or an unfinished message holds no I/O or
big buffer, a waiting connection never makes the loop spin, a non-reading
subscriber is cut with a 1013 it actually receives, heads that make no
progress get their 408, per-address caps.

Every socket has a timeout, every loop a bound; loopback only.
"""

import os
import resource
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (SLOW, HOST, OP_CLOSE, OP_TEXT, OP_CONT, WS, Closed,
                      Conn, Server, Timeout, build_request, check, frame,
                      handshake_request, http_request, new_key, run_tests,
                      wait_until)


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, n), hard)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def metrics(port):
    """GET /metrics as {name{labels}: value}."""
    r = http_request(port, "GET", "/metrics", timeout=5.0)
    out = {}
    for line in r.body.decode().splitlines():
        if line.startswith("#") or " " not in line:
            continue
        k, v = line.rsplit(" ", 1)
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def cut(m, reason):
    return m.get('ward_cuts_total{reason="%s"}' % reason, -1)


def pool_used(m, pool):
    return m.get('ward_pool_used{pool="%s"}' % pool, -1)


def loris(port, n, data=b"G", src=None):
    """n sockets that each sent data (one byte of a head by default)."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5.0)
        if src:
            s.bind((src, 0))
        s.connect((HOST, port))
        s.sendall(data)
        socks.append(s)
    return socks


def read_all(s, timeout):
    """Everything s receives until EOF/reset or timeout."""
    s.settimeout(0.2)
    got = bytearray()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            b = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not b:
            break
        got += b
    return bytes(got)


def timed_health(port, timeout=5.0):
    t0 = time.monotonic()
    try:
        r = http_request(port, "GET", "/health", timeout=timeout)
        return r.status, time.monotonic() - t0
    except (Closed, Timeout, OSError) as e:
        return str(e), time.monotonic() - t0


# --------------------------------------------------------------- finding 1

def test_loris_heads_hold_no_io_buffer():
    """300 sockets each with one byte of a head: /health still answers at
    once, the heads hold no I/O buffer, and every one gets its 408."""
    raise_nofile(4096)
    srv = Server("handshake_timeout=3", label="loris")
    socks = loris(srv.port, 300)
    try:
        time.sleep(0.3)
        st, dt = timed_health(srv.port)
        check(st == 200 and dt < 1.0 * SLOW,
              "GET /health answered at once with 300 loris heads held",
              "status %s after %.2f s" % (st, dt))
        m = metrics(srv.port)
        check(0 <= pool_used(m, "buf_io") <= 2,
              "partial heads hold no I/O buffer",
              "buf_io used %s" % pool_used(m, "buf_io"))
        # all are cut after handshake_timeout with their 408
        got = [None] * len(socks)

        def rd(i):
            got[i] = read_all(socks[i], 8.0 * SLOW)
        ths = [threading.Thread(target=rd, args=(i,), daemon=True)
               for i in range(len(socks))]
        for t in ths:
            t.start()
        for t in ths:
            t.join(12.0 * SLOW)
        n408 = sum(1 for g in got if g and g.startswith(b"HTTP/1.1 408"))
        check(n408 == len(socks), "every loris head got its 408",
              "%d of %d" % (n408, len(socks)))
        m = metrics(srv.port)
        check(cut(m, "head_timeout") >= len(socks),
              "cuts counted with reason head_timeout",
              cut(m, "head_timeout"))
    finally:
        for s in socks:
            s.close()
    srv.stop()


def test_head_progress_deadline():
    """A head that dribbles (1 byte per 0.3 s) is cut by the progress
    deadline with its 408, long before handshake_timeout."""
    srv = Server("handshake_timeout=30", "progress_timeout=1",
                 "progress_min_bytes=16", label="progress")
    s = socket.create_connection((HOST, srv.port), timeout=5.0)
    t0 = time.monotonic()
    got = b""
    try:
        for ch in b"GET /health HTTP/1.1\r\nHost: x\r\n":
            s.sendall(bytes([ch]))
            time.sleep(0.3)
            s.settimeout(0.01)
            try:
                got = s.recv(4096)
                break
            except socket.timeout:
                pass
            if time.monotonic() - t0 > 8:
                break
    except OSError:
        pass
    if not got:
        got = read_all(s, 3.0)
    dt = time.monotonic() - t0
    check(got.startswith(b"HTTP/1.1 408") and dt < 4.0 * SLOW,
          "a dribbling head gets 408 by the progress deadline",
          "%r after %.1f s" % (got[:40], dt))
    s.close()
    # a head that keeps up (>= 16 bytes per second) is answered
    c = Conn(srv.port, 10.0)
    req = build_request("GET", "/health",
                        [("X-Pad", "p" * 200)])
    c.send(req, chop=20, delay=0.25)
    r = c.read_response()
    check(r.status == 200, "a slow head that keeps up is answered", r)
    c.close()
    m = metrics(srv.port)
    check(cut(m, "head_slow") == 1, "counted as head_slow", cut(m, "head_slow"))
    srv.stop()


def test_per_ip_caps():
    """max_pending_per_ip / max_connections_per_ip: 503 for that address,
    the others untouched."""
    srv = Server("max_pending_per_ip=5", "max_connections_per_ip=8",
                 "progress_timeout=0", label="per-ip")
    held = loris(srv.port, 5, src="127.0.0.2")
    extra = loris(srv.port, 1, src="127.0.0.2")[0]
    got = read_all(extra, 3.0)
    check(got.startswith(b"HTTP/1.1 503"),
          "the 6th pending connection of one address gets 503", got[:60])
    st, dt = timed_health(srv.port)
    check(st == 200, "another address is served", st)
    # complete requests on keep-alive: not pending, still capped in total
    ka = []
    for _ in range(3):
        c = Conn(srv.port, 5.0, sock=_bound("127.0.0.2", srv.port))
        c.send(build_request("GET", "/health"))
        ka.append((c, c.read_response().status))
    check(all(st == 503 for _, st in ka),
          "over max_pending_per_ip even keep-alive starts are refused",
          [st for _, st in ka])
    for s in held:
        s.close()
    time.sleep(0.3)
    ok = []
    for _ in range(8):
        c = Conn(srv.port, 5.0, sock=_bound("127.0.0.3", srv.port))
        c.send(build_request("GET", "/health"))
        ok.append(c)
        c.read_response()
    c9 = Conn(srv.port, 5.0, sock=_bound("127.0.0.3", srv.port))
    c9.send(build_request("GET", "/health"))
    r = c9.read_response()
    check(r.status == 503, "the 9th connection of one address gets 503", r)
    m = metrics(srv.port)
    check(cut(m, "per_ip") >= 1 and cut(m, "pending_per_ip") >= 1,
          "refusals counted by reason",
          (cut(m, "per_ip"), cut(m, "pending_per_ip")))
    for c, _ in ka:
        c.close()
    for c in ok + [c9]:
        c.close()
    extra.close()
    srv.stop()


def _bound(src, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5.0)
    s.bind((src, 0))
    s.connect((HOST, port))
    return s


# --------------------------------------------------------------- finding 2

def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_idle_fragments_pin_nothing_no_spin():
    """64 /ws/stt/ clients with one unfinished 1-byte fragment each: a
    30 KB POST and a 30 KB message are answered, the loop does not spin."""
    srv = Server(label="fragments")
    holders = []
    for _ in range(64):
        w = WS(srv.port, "/ws/stt/")
        w.send_frame(OP_TEXT, b"{", fin=False)
        holders.append(w)
    time.sleep(0.5)
    m0 = metrics(srv.port)
    check(pool_used(m0, "buf_big") == 0,
          "64 unfinished 1-byte fragments hold no big buffer",
          pool_used(m0, "buf_big"))
    cpu0 = cpu_seconds(srv.pid)
    t0 = time.monotonic()
    body = b"x" * 30000
    try:
        r = http_request(srv.port, "POST", "/health", body=body,
                         timeout=5.0)
        st = r.status
    except (Closed, Timeout, OSError) as e:
        st = str(e)
    dt = time.monotonic() - t0
    check(st not in (408,) and isinstance(st, int) and dt < 1.0 * SLOW,
          "a 30 KB POST is answered at once (not 408)",
          "%s after %.2f s" % (st, dt))
    w = WS(srv.port, "/ws/stt/")
    big = ('{"type":"ping","pad":"%s"}' % ("y" * 30000)).encode()
    t0 = time.monotonic()
    w.send_frame(OP_TEXT, big)
    try:
        f = w.recv_frame(5.0)
        ok = f.opcode == OP_TEXT
    except (Closed, Timeout):
        ok = False
    dt = time.monotonic() - t0
    check(ok and dt < 1.0 * SLOW, "a 30 KB WebSocket message is answered",
          "%.2f s" % dt)
    time.sleep(1.0)
    cpu = cpu_seconds(srv.pid) - cpu0
    m1 = metrics(srv.port)
    check(cpu < 0.5 * SLOW, "the server does not burn CPU meanwhile",
          "%.2f s CPU in %.1f s" % (cpu, time.monotonic() - t0))
    spins = m1.get("ward_loop_spins_total", -1)
    check(0 <= spins <= 2, "no loop turn waited 0 ms with nothing to do",
          spins)
    for h in holders:
        h.close()
    w.close()
    srv.stop()


def test_idle_fragments_cut_by_progress():
    """An unfinished message that stops progressing is closed 1008 after
    progress_timeout, its buffers back in the pools."""
    srv = Server("progress_timeout=1", "progress_min_bytes=8",
                 label="fragment progress")
    w = WS(srv.port, "/ws/stt/")
    w.send_frame(OP_TEXT, b"{", fin=False)
    ev = w.collect(timeout=4.0 * SLOW)
    check(ev.close_code() == 1008, "an idle fragment is closed 1008",
          ev.items[-3:])
    m = metrics(srv.port)
    check(cut(m, "message_slow") == 1, "counted as message_slow",
          cut(m, "message_slow"))
    w.close()
    srv.stop()


# --------------------------------------------------------------- finding 3

def call_ws(port, room, rcvbuf=None):
    c = Conn(port, 5.0, rcvbuf=rcvbuf)
    key = new_key()
    c.send(handshake_request("/ws/call/%s/" % room, key))
    r = c.read_response(head=True)
    if r.status != 101:
        raise RuntimeError("call upgrade %d" % r.status)
    return WS.adopt(c, key, r)


def test_non_reader_pins_little_gets_1013():
    """A subscriber that never reads: the others keep receiving, it pins
    at most its share of I/O buffers, and its stream ends with a whole
    1013 close frame (cut at a frame boundary), not mid-frame."""
    srv = Server("rate_limit=0", label="non-reader")
    room = "r9"
    slow = call_ws(srv.port, room, rcvbuf=4096)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    fast = call_ws(srv.port, room)
    sender = call_ws(srv.port, room)
    time.sleep(0.3)
    for w in (fast, sender):         # joins announced: read them away
        w.collect(timeout=0.3)
    pad = "z" * 2050
    stop = threading.Event()
    gaps = []
    got = [0]

    def reader():
        last = time.monotonic()
        while not stop.is_set():
            try:
                f = fast.recv_frame(0.5)
            except Timeout:
                continue
            except Closed:
                return
            now = time.monotonic()
            if f.opcode == OP_TEXT:
                got[0] += 1
                gaps.append(now - last)
                last = now
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    peak_io = 0
    sent = 0
    t_end = time.monotonic() + 6.0
    while time.monotonic() < t_end and sent < 2000:
        time.sleep(0.0015)          # ~1 MB/s: a reader keeps up with it
        try:
            sender.send_text('{"type":"chat","n":%d,"pad":"%s"}'
                             % (sent, pad))
        except OSError:
            break
        sent += 1
        if sent % 200 == 0:
            m = metrics(srv.port)
            peak_io = max(peak_io, pool_used(m, "buf_io"))
            while True:     # the sender reads nothing back but errors
                try:
                    sender.recv_frame(0.001)
                except (Timeout, Closed):
                    break
    m = metrics(srv.port)
    peak_io = max(peak_io, pool_used(m, "buf_io"))
    cut_n = m.get("ward_slow_consumer_drops_total", 0)
    check(cut_n >= 1, "the non-reader was cut", cut_n)
    check(peak_io <= 256 // 8 + 8,
          "the non-reader pinned at most its share of I/O buffers",
          "peak buf_io used %d" % peak_io)
    # now the slow one reads: whole frames, then a 1013 close frame
    ev = slow.collect(timeout=3.0, reply_close=False, wait_eof=False)
    bad = [i for i in ev.items if i[0] in ("bad", "partial")]
    check(ev.close_code() == 1013 and not bad,
          "the non-reader receives whole frames, then close 1013",
          "close %s, %s" % (ev.close_code(),
                            [str(i)[:80] for i in (bad or ev.items[-2:])[:2]]))
    stop.set()
    th.join(2.0)
    worst = max(gaps[5:]) if len(gaps) > 5 else 99
    check(got[0] >= sent * 0.9 and worst < 0.5 * SLOW,
          "the reading subscriber kept receiving",
          "%d of %d, worst gap %.2f s" % (got[0], sent, worst))
    for w in (slow, fast, sender):
        w.close()
    srv.stop()


if __name__ == "__main__":
    run_tests([
        test_loris_heads_hold_no_io_buffer,
        test_head_progress_deadline,
        test_per_ip_caps,
        test_idle_fragments_pin_nothing_no_spin,
        test_idle_fragments_cut_by_progress,
        test_non_reader_pins_little_gets_1013,
    ])
