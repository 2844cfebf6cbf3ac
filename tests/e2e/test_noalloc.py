#!/usr/bin/python3
"""No heap allocation after start-up (SPEC §1.1), measured at run time.

The server runs under an LD_PRELOAD shim (alloc_count.c) that counts heap
calls made between its first and its last event wait (the event loop).
A mixed workload drives it: 200 WebSocket connections, 2,000 echoed
messages up to 256 KiB, handshake failures, HTTP requests and errors,
protocol errors, resets, then the same over TLS (https and wss, full and
resumed handshakes, a certificate reload, plain HTTP and garbage on the
TLS port), then SIGTERM.  Every count must be 0.

Redis is configured (issue 14): a redis-server on a free loopback port,
practice fan-out published through it, messages of another publisher
received from it, and Redis killed and restarted mid-run (the client
reconnects); the bus and the client must not allocate either.

Skipped for sanitizer builds (ASan replaces malloc itself).
"""

import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING,  # noqa: E402
                      OP_TEXT, WS, Closed, Conn, HandshakeError, Sender,
                      Server, Timeout, build_request, check, close_payload,
                      finish, frame, handshake_request, is_asan, new_key,
                      ward_bin, http_request, HOST, TLSSocket)
import test_cluster as cluster  # noqa: E402  (its redis-server helpers)

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ["malloc", "calloc", "realloc", "free", "posix_memalign",
         "aligned_alloc", "memalign", "valloc", "pvalloc", "reallocarray"]


def build_shim(tmp):
    so = os.path.join(tmp, "alloc_count.so")
    cp = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", so,
                         os.path.join(HERE, "alloc_count.c"), "-ldl"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=60)
    if cp.returncode != 0:
        check(False, "noalloc: build the LD_PRELOAD shim",
              cp.stdout.decode(errors="replace"))
        return None
    return so


def read_counts(path):
    d = {}
    traces = ""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None, ""
    for line in text.splitlines():
        m = re.match(r"^(\w+)\s+(\d+)$", line)
        if m:
            d[m.group(1)] = int(m.group(2))
    i = text.find("trace ")
    if i >= 0:
        traces = text[i:]
    return d, traces


def symbolize(traces):
    """Add file:line to frames of the ward binary (best effort)."""
    out = []
    binname = os.path.basename(ward_bin())
    for line in traces.splitlines():
        out.append(line)
        m = re.search(r"%s\((?:[^)+]*)\+(0x[0-9a-f]+)\)" % re.escape(binname),
                      line)
        if m:
            try:
                cp = subprocess.run(["addr2line", "-f", "-C", "-e",
                                     ward_bin(), m.group(1)],
                                    stdout=subprocess.PIPE, timeout=10)
                out.append("      -> " + " ".join(
                    cp.stdout.decode().split()))
            except (OSError, subprocess.SubprocessError):
                pass
    return "\n".join(out)


# ------------------------------------------------------------ workload

SIZES = [0, 1, 2, 100, 125, 126, 127, 1000, 4000, 16383, 16384, 16385,
         65535, 65536, 65537, 100000, 262144]
WEIGHTS = [5, 5, 3, 10, 3, 3, 3, 10, 6, 2, 2, 2, 2, 2, 2, 2, 2]


def client_worker(port, seed, nmsg, results, idx):
    rnd = random.Random(seed)
    ok = 0
    try:
        ws = WS(port)
    except (HandshakeError, Closed, Timeout, OSError) as e:
        results[idx] = (0, "handshake: %r" % e)
        return
    try:
        for i in range(nmsg):
            n = rnd.choices(SIZES, WEIGHTS)[0]
            if rnd.random() < 0.5:
                op = OP_TEXT
                unit = "aé€😀"[rnd.randrange(4)].encode()
                p = (unit * (n // len(unit) + 1))[:n]
                while True:          # trim to a valid UTF-8 boundary
                    try:
                        p.decode()
                        break
                    except UnicodeDecodeError:
                        p = p[:-1]
            else:
                op = OP_BINARY
                p = bytes(rnd.getrandbits(8) for _ in range(min(n, 64))) * \
                    (n // 64 + 1)
                p = p[:n]
            style = rnd.random()
            if style < 0.2 and len(p) > 10:
                data = (frame(op, p[:len(p) // 3], fin=False) +
                        frame(OP_PING, b"mid") +
                        frame(OP_CONT, p[len(p) // 3:]))
            else:
                data = frame(op, p)
            snd = Sender(ws, data) if len(data) > 32768 else None
            if snd is None:
                ws.send(data)
            got = ws.recv_message(20.0)
            if snd:
                snd.join(10)
            if got == (op, p):
                ok += 1
            else:
                results[idx] = (ok, "message %d differs" % i)
                return
        code, eof = ws.close_handshake(1000)
        results[idx] = (ok, None if code in (1000, "empty") else
                        "close %r" % (code,))
    except (Closed, Timeout, OSError) as e:
        results[idx] = (ok, repr(e))
    finally:
        ws.close()


def drive_websockets(port):
    """4 rounds x 50 concurrent clients x 10 messages = 200 conns, 2000."""
    total_ok = 0
    errors = []
    for rnd in range(4):
        results = [None] * 50
        threads = [threading.Thread(target=client_worker,
                                    args=(port, rnd * 100 + i, 10, results,
                                          i), daemon=True)
                   for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for r in results:
            if r is None:
                errors.append("worker hung")
                continue
            total_ok += r[0]
            if r[1]:
                errors.append(r[1])
    check(total_ok == 2000, "noalloc workload: 2000 messages echoed over 200 "
          "connections", "%d ok; %r" % (total_ok, errors[:5]))


def drive_http(port):
    n_ok = 0
    reqs = [
        (build_request("GET", "/health"), 200),
        (build_request("HEAD", "/health"), 200),
        (build_request("GET", "/nope"), 404),
        (build_request("POST", "/health", [("Content-Length", "0")]), 405),
        (build_request("OPTIONS", "/health", [
            ("Origin", "http://a.example"),
            ("Access-Control-Request-Method", "GET")]), 204),
        (b"GET /health HTTP/1.1\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        (b"POST /health HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n", 411),
        (b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n",
         413),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-P: " + b"v" * 9000 +
         b"\r\n\r\n", 431),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /health HTTP/1.0\r\n\r\n", 200),
        (b"GET /ws/echo HTTP/1.1\r\nHost: x\r\n\r\n", 426),
        (handshake_request("/ws/echo", "bad-key"), 400),
        (handshake_request("/ws/echo", new_key(), version="8"), 426),
        (handshake_request("/ws/unknown", new_key()), 404),
        (handshake_request("/ws/echo", new_key(), method="POST"), (400, 405)),
    ]
    for rep in range(5):
        for raw, want in reqs:
            c = Conn(port, 5.0)
            try:
                c.send_quiet(raw, chop=(7 if rep == 1 else None))
                r = c.read_response(head=raw.startswith(b"HEAD"))
                if r.status == want or (isinstance(want, tuple) and
                                        r.status in want):
                    n_ok += 1
            except (Closed, Timeout, ValueError, OSError):
                pass
            finally:
                c.close()
    # keep-alive and pipelining
    c = Conn(port, 5.0)
    try:
        c.send(build_request("GET", "/health") * 20)
        for _ in range(20):
            if c.read_response().status == 200:
                n_ok += 1
    except (Closed, Timeout, ValueError, OSError):
        pass
    c.close()
    want = len(reqs) * 5 + 20
    check(n_ok == want, "noalloc workload: HTTP requests and errors answered",
          "%d of %d" % (n_ok, want))


def drive_protocol_errors(port):
    bad = [
        frame(OP_TEXT, b"x", rsv=4),
        frame(3, b""),
        frame(OP_TEXT, b"\xed\xa0\x80"),
        frame(OP_PING, b"x" * 126),
        frame(OP_CLOSE, b"\x03"),
        frame(OP_CLOSE, close_payload(1005)),
        frame(OP_CLOSE, close_payload(1000, b"\xff")),
        frame(OP_CONT, b"x"),
        frame(OP_TEXT, b"a", fin=False) + frame(OP_TEXT, b"b"),
        frame(OP_TEXT, b"unmasked", mask=False),
        frame(OP_CLOSE, close_payload(1000, b"bye")),
        frame(OP_CLOSE, b""),
    ]
    n = 0
    for rep in range(3):
        for data in bad:
            try:
                ws = WS(port)
            except (HandshakeError, Closed, Timeout, OSError):
                continue
            ws.send_quiet(data)
            ev = ws.collect(5.0)
            if ev.has("close") and ev.has("eof"):
                n += 1
            ws.close()
    check(n == len(bad) * 3, "noalloc workload: protocol errors closed",
          "%d of %d" % (n, len(bad) * 3))


def drive_resets(port):
    for i in range(20):
        try:
            ws = WS(port)
        except (HandshakeError, Closed, Timeout, OSError):
            continue
        ws.send_quiet(frame(OP_BINARY, b"z" * 200000)[:70000])
        ws.abort()
    for i in range(20):
        c = Conn(port)
        c.send_quiet(b"GET /health HTTP/1.1\r\nHo")
        c.abort()


def drive_slow_reader(port):
    ws = WS(port, rcvbuf=16384)
    ws.sock.setblocking(False)
    data = frame(OP_BINARY, b"s" * (1 << 20)) * 3
    sent = 0
    t0 = time.monotonic()
    while sent < len(data) and time.monotonic() - t0 < 2.0:
        try:
            sent += ws.sock.send(data[sent:sent + 65536])
        except BlockingIOError:
            time.sleep(0.02)
        except OSError:
            break
    ws.abort()


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def redis_publish(port, n):
    """n messages of an outside publisher into practice nap."""
    s = socket.create_connection(("127.0.0.1", port), 3)
    try:
        s.sendall(b"".join(resp("PUBLISH", "ward:g:practice:nap",
                                "w1 x-noalloc %d t\n{\"type\":\"x\","
                                "\"k\":%d}" % (k, k))
                           for k in range(1, n + 1)))
        got, end = b"", time.monotonic() + 5
        while got.count(b"\r\n") < n and time.monotonic() < end:
            got += s.recv(65536)
    finally:
        s.close()


def drive_redis(port, srv):
    """Practice fan-out over the bus, an outside publisher, an outage."""
    a = WS(port, "/ws?practiceId=nap")
    b = WS(port, "/ws?practiceId=nap")
    got = 0
    try:
        for ws in (a, b):
            ws.recv_message(3)
        redis_publish(cluster.REDIS["port"], 200)
        for k in range(200):
            a.send_text('{"type":"whiteboard_update","practiceId":"nap",'
                        '"data":{"k":%d}}' % k)
        end = time.monotonic() + 10
        while got < 400 and time.monotonic() < end:
            try:
                b.recv_message(2)
                got += 1
            except (Timeout, Closed):
                break
        check(got == 400, "noalloc: 200 local + 200 from Redis delivered",
              got)
        cluster.redis_kill()
        for k in range(20):
            a.send_text('{"type":"whiteboard_update","practiceId":"nap",'
                        '"data":{"k":%d}}' % k)
        time.sleep(0.3)
        cluster.redis_start()
        end = time.monotonic() + 12
        while time.monotonic() < end:
            r = http_request(port, "GET", "/health")
            if b'"redis":"up"' in r.body:
                break
            time.sleep(0.1)
        check(b'"redis":"up"' in r.body,
              "noalloc: the client reconnects after a Redis restart")
    finally:
        a.abort()
        b.abort()


def drive_tls(srv):
    """TLS (issue 12): 20 wss clients, full and resumed handshakes, 10
    echoes each (one of 64 KiB: many records), https GETs, plain HTTP and
    garbage on the TLS port, a certificate reload (SIGHUP) in between."""
    port = srv.port
    ok = 0
    sess = None
    for i in range(20):
        with socket.create_connection((HOST, port), timeout=5) as raw:
            t = TLSSocket(raw, session=sess if i % 2 else None)
            sess = t.obj.session
            t.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            ok += t.recv(4096).startswith(b"HTTP/1.1 200")
    check(ok == 20, "noalloc: 20 https GETs (full and resumed handshakes)",
          ok)
    echoed = 0
    for i in range(20):
        if i == 10:
            srv.signal(signal.SIGHUP)
        ws = WS(port)
        for k in range(10):
            msg = os.urandom(65536 if k == 5 else 100)
            if ws.echo(OP_BINARY, msg) is not None:
                echoed += 1
        ws.close()
    check(echoed == 200, "noalloc: 200 echoes over 20 wss connections "
          "(SIGHUP reload midway)", echoed)
    for junk in (b"GET / HTTP/1.1\r\n\r\n", os.urandom(300),
                 b"\x16\x03\x01\x00\x05hello"):
        try:
            with socket.create_connection((HOST, port), timeout=3) as s:
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                s.settimeout(3)
                while s.recv(4096):
                    pass
        except OSError:
            pass


def main():
    if is_asan():
        print("skipped: asan build (AddressSanitizer replaces malloc; "
              "run test_noalloc against a plain build)")
        finish()
    tmp = tempfile.mkdtemp(prefix="ward-noalloc-")
    so = build_shim(tmp)
    if so is None:
        finish()
    counts_path = os.path.join(tmp, "counts")
    check(cluster.redis_start(), "noalloc: redis-server starts")
    srv = Server("redis=127.0.0.1:%d" % cluster.REDIS["port"], "rate_limit=0",
                 env={"LD_PRELOAD": so, "ALLOC_COUNT_FILE": counts_path},
                 label="noalloc", tls=True)
    try:
        d0, _ = read_counts(counts_path)
        check(d0 is not None and d0.get("waits", 0) > 0,
              "noalloc: the shim sees the server's event wait (poll/epoll)",
              d0)
        t0 = time.monotonic()
        drive_http(srv.http_port)
        drive_protocol_errors(srv.http_port)
        drive_websockets(srv.http_port)
        drive_resets(srv.http_port)
        drive_slow_reader(srv.http_port)
        drive_redis(srv.http_port, srv)
        drive_tls(srv)
        check(srv.healthy(), "noalloc: server healthy after the workload")
        print("  workload took %.1fs" % (time.monotonic() - t0))
    finally:
        srv.stop()
        cluster.redis_kill()
    d, traces = read_counts(counts_path)
    if d is None:
        check(False, "noalloc: counts file written", counts_path)
        finish()
    print("  event waits: %d; heap calls at start-up: %s" % (
        d.get("waits", 0), ", ".join("%s=%d" % (k, d.get("startup_" + k, 0))
                                     for k in KINDS
                                     if d.get("startup_" + k))))
    for k in KINDS:
        check(d.get(k, -1) == 0, "noalloc: no %s() in the event loop" % k,
              "%d calls" % d.get(k, -1))
    if d.get("loop_total", 0):
        print("  first heap calls inside the loop:\n" + symbolize(traces))
    finish()


if __name__ == "__main__":
    main()
