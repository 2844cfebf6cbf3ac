#!/usr/bin/python3
"""TLS listeners (issue 12): real clients over https:// and wss://, the
refusals, 10,000 hostile records, certificate reload, key errors.

  - curl --cacert on /health and /metrics (TLS 1.2, ALPN http/1.1);
  - Debian's python3-websockets over wss:// on /ws/echo, a call room and
    /ws/notifications/ (the notification POSTed over https);
  - a returning client resumes its session (the session cache);
  - tls_max_connections=2: the third TLS client is closed while the two
    and the plain listener go on; a freed slot is taken again;
  - a stalled handshake is cut after handshake_timeout, its slot back;
  - plain HTTP on the TLS port gets no HTTP answer (a close or an alert);
  - 10,000 random and mutated records (random records, mutated
    ClientHellos, garbage after a real handshake): the server stays up,
    keeps serving, and /metrics pools come back to their baseline;
  - SIGHUP swaps the certificate while a wss echo keeps going: new
    handshakes see the new certificate (sha256 of the served DER), the
    old connection keeps echoing; a bad pair is refused with a log line
    and the current one stays; a change of the files on disk is seen at
    the tick without a signal;
  - --check-config: one line naming the file for a missing file, a key
    that does not match, an unsupported key; an expired certificate is a
    warning.
All on 127.0.0.1, every loop bounded in count and time.
"""

import asyncio
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (HOST, OP_TEXT, SLOW, WS, Closed, Server,  # noqa: E402
                      Timeout, TLSSocket, check, http_request, recv_json,
                      run_tests, tls_context, tls_dir, ward_bin,
                      wait_until)

import websockets  # noqa: E402

SECRET = "e2e-tls-secret-0123456789abcdef0123456789"


def cert(name):
    return os.path.join(tls_dir(), name)


def metrics(srv):
    """name{labels} -> value from GET /metrics on the plain listener."""
    r = http_request(srv.http_port, path="/metrics")
    out = {}
    for ln in r.body.decode().splitlines():
        if ln and not ln.startswith("#"):
            k, _, v = ln.rpartition(" ")
            out[k] = float(v)
    return out


def tls_used(srv):
    return metrics(srv).get('ward_pool_used{pool="tls_connections"}')


def der_sha256(path):
    """sha256 of the first certificate of a PEM file (the leaf)."""
    with open(path) as f:
        pem = f.read()
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                  pem, re.S)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(m.group(0))).hexdigest()


def served_sha256(port):
    with socket.create_connection((HOST, port), timeout=5) as raw:
        t = TLSSocket(raw)
        return hashlib.sha256(t.getpeercert(True)).hexdigest()


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=20, stdin=subprocess.DEVNULL)


# ------------------------------------------------------------ real clients

def test_curl():
    srv = Server("jwt_secret=" + SECRET, tls=True, label="tls-curl")
    url = "https://127.0.0.1:%d" % srv.port
    r = curl("--cacert", cert("ca.pem"), "-v", url + "/health")
    j = json.loads(r.stdout or b"{}")
    err = r.stderr.decode("utf-8", "replace")
    check(r.returncode == 0 and j.get("status") == "healthy",
          "curl --cacert https /health: 200 healthy", (r.returncode, err[-500:]))
    check("TLSv1.2" in err, "curl: TLS 1.2 negotiated", err[-800:])
    check(re.search(r"ALPN.*accepted.*http/1\.1", err) is not None,
          "curl: ALPN http/1.1 accepted", err[-800:])
    r = curl("--cacert", cert("ca.pem"), url + "/metrics")
    body = r.stdout.decode()
    check(r.returncode == 0 and "ward_tls_handshakes_total" in body and
          'ward_pool_used{pool="tls_connections"}' in body,
          "curl --cacert https /metrics: Prometheus text with the TLS rows",
          body[:200])
    m = re.search(r"^ward_tls_handshakes_total (\d+)$", body, re.M)
    check(m and int(m.group(1)) >= 2, "/metrics counts the handshakes",
          m and m.group(0))
    r = curl(url + "/health")
    check(r.returncode != 0, "curl without the CA refuses the certificate",
          r.returncode)
    m = metrics(srv)
    check(m.get('ward_tls_handshake_failures_total{reason="peer_alert"}',
                0) >= 1, "the refusing client's alert is counted",
          {k: v for k, v in m.items() if "tls" in k})
    r = curl("--cacert", cert("ca.pem"), "--tls-max", "1.1", url + "/health")
    check(r.returncode != 0, "a TLS 1.1-only client is refused",
          r.returncode)
    check(srv.healthy(), "server healthy after curl")
    srv.stop()


def test_websockets_library():
    srv = Server("jwt_secret=" + SECRET, "rate_limit=0", tls=True,
                 label="tls-websockets")
    ctx = tls_context()
    base = "wss://127.0.0.1:%d" % srv.port
    tok = make_token(SECRET, "doctor", "Doc", "42", 600)
    svc = make_token(SECRET, "service", "Svc", "1", 600)

    async def run():
        out = {}
        async with websockets.connect(base + "/ws/echo", ssl=ctx) as ws:
            await ws.send("hello over wss")
            out["text"] = await asyncio.wait_for(ws.recv(), 5)
            big = bytes(range(256)) * 400            # 100 KiB, many records
            await ws.send(big)
            out["binary"] = await asyncio.wait_for(ws.recv(), 5) == big
        async with websockets.connect(base + "/ws/call/tls-room/",
                                      ssl=ctx) as a, \
                websockets.connect(base + "/ws/call/tls-room/",
                                   ssl=ctx) as b:
            wa = json.loads(await asyncio.wait_for(a.recv(), 5))
            wb = json.loads(await asyncio.wait_for(b.recv(), 5))
            joined = json.loads(await asyncio.wait_for(a.recv(), 5))
            await a.send(json.dumps({"type": "offer", "to": wb["peer_id"],
                                     "sdp": "v=0 tls"}))
            offer = json.loads(await asyncio.wait_for(b.recv(), 5))
            out["call"] = (wa.get("type"), joined.get("type"),
                           offer.get("sdp"), offer.get("from") ==
                           wa.get("peer_id"))
        async with websockets.connect(
                base + "/ws/notifications/?token=" + tok, ssl=ctx) as n:
            await asyncio.sleep(0.1)
            r = await asyncio.get_running_loop().run_in_executor(
                None, lambda: http_request(
                    srv.port, "POST", "/api/notifications",
                    headers=[("Content-Type", "application/json"),
                             ("Authorization", "Bearer " + svc)],
                    body=json.dumps({"user_id": "42", "notification": {
                        "title": "over tls"}}).encode()))
            out["post"] = r.status
            out["notif"] = json.loads(await asyncio.wait_for(n.recv(), 5))
        return out

    out = asyncio.run(run())
    check(out.get("text") == "hello over wss",
          "websockets wss:// /ws/echo: text echoed", out.get("text"))
    check(out.get("binary") is True, "wss:// /ws/echo: 100 KiB binary echoed")
    check(out.get("call") == ("welcome", "peer_joined", "v=0 tls", True),
          "wss:// call room: welcome, peer_joined, offer relayed",
          out.get("call"))
    n = out.get("notif") or {}
    check(out.get("post") == 200 and n.get("type") == "notification" and
          n.get("data", {}).get("title") == "over tls",
          "wss:// /ws/notifications/: the https POST is delivered",
          (out.get("post"), n))
    check(srv.healthy(), "server healthy after the websockets clients")
    srv.stop()


def test_resumption():
    srv = Server(tls=True, label="tls-resume")
    ctx = tls_context()
    with socket.create_connection((HOST, srv.port), timeout=5) as raw:
        t = TLSSocket(raw, ctx)
        t.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = t.recv(4096)
        sess = t.obj.session
    with socket.create_connection((HOST, srv.port), timeout=5) as raw:
        t = TLSSocket(raw, ctx, session=sess)
        t.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        second = t.recv(4096)
        reused = t.session_reused()
    check(first.startswith(b"HTTP/1.1 200") and
          second.startswith(b"HTTP/1.1 200"),
          "both handshakes serve /health", (first[:20], second[:20]))
    check(reused, "the second handshake resumed the session")
    m = metrics(srv)
    check(m.get("ward_tls_resumed_total") == 1 and
          m.get("ward_tls_handshakes_total") == 2,
          "/metrics: 2 handshakes, 1 resumed",
          (m.get("ward_tls_handshakes_total"), m.get("ward_tls_resumed_total")))
    srv.stop()


# ----------------------------------------------------------------- refusals

def tls_ws_or_none(port):
    try:
        return WS(port, timeout=3.0)
    except (OSError, Closed, Timeout, ssl.SSLError):
        return None


def test_pool_full():
    srv = Server("tls_max_connections=2", tls=True, label="tls-pool-full")
    a, b = WS(srv.port), WS(srv.port)
    c = tls_ws_or_none(srv.port)
    check(c is None, "tls_max_connections=2: the third TLS client is closed")
    check(a.echo(OP_TEXT, b"a still here") is not None and
          b.echo(OP_TEXT, b"b still here") is not None,
          "the two TLS connections go on echoing")
    check(srv.healthy(), "the plain listener serves while the TLS pool is "
          "full")
    m = metrics(srv)
    check(m.get("ward_tls_refused_total", 0) >= 1 and
          m.get('ward_pool_capacity{pool="tls_connections"}') == 2 and
          m.get('ward_pool_used{pool="tls_connections"}') == 2,
          "/metrics: refused counted, TLS pool 2 of 2",
          {k: v for k, v in m.items() if "tls" in k})
    a.close_handshake()
    a.close()
    check(wait_until(lambda: tls_used(srv) == 1, 3.0 * SLOW),
          "a closed TLS connection gives its slot back")
    d = tls_ws_or_none(srv.port)
    check(d is not None and d.echo(OP_TEXT, b"d") is not None,
          "a new TLS client takes the freed slot")
    for w in (b, d):
        if w:
            w.close()
    srv.stop()


def test_stalled_handshake():
    srv = Server("handshake_timeout=1", tls=True, label="tls-stall")
    hello = client_hello()
    socks = []
    t0 = time.monotonic()
    for part in (b"", hello[:5], hello[:len(hello) // 2]):
        s = socket.create_connection((HOST, srv.port), timeout=5)
        s.sendall(part)
        socks.append(s)
    check(wait_until(lambda: tls_used(srv) == 3, 2.0),
          "three stalled handshakes hold three TLS slots")
    ok = wait_until(lambda: tls_used(srv) == 0, 4.0 * SLOW)
    took = time.monotonic() - t0
    check(ok and took >= 0.9, "stalled handshakes cut after "
          "handshake_timeout (1 s), slots back", took)
    closed = 0
    for s in socks:
        try:
            s.settimeout(2.0)
            if s.recv(100) == b"":
                closed += 1
        except OSError:
            closed += 1
        s.close()
    check(closed == 3, "the three stalled clients were closed", closed)
    m = metrics(srv)
    check(m.get('ward_tls_handshake_failures_total{reason="timeout"}') == 3,
          "/metrics: 3 handshake timeouts",
          {k: v for k, v in m.items() if "failures" in k})
    w = WS(srv.port)
    check(w.echo(OP_TEXT, b"after") is not None,
          "a TLS client after the stalls is served")
    w.close()
    # SIGTERM does not wait for a handshake that does not come
    s = socket.create_connection((HOST, srv.port), timeout=5)
    s.sendall(hello[:5])
    wait_until(lambda: tls_used(srv) == 1, 2.0)
    t0 = time.monotonic()
    srv.stop()
    check(time.monotonic() - t0 < 0.9,
          "SIGTERM: a connection in its TLS handshake does not hold the "
          "drain", time.monotonic() - t0)
    s.close()


def test_plain_http_on_tls_port():
    srv = Server(tls=True, label="tls-plain-http")
    got = b""
    with socket.create_connection((HOST, srv.port), timeout=3) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            while len(got) < 4096:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except OSError:
            pass
    check(not got.startswith(b"HTTP") and (got == b"" or got[0] == 0x15),
          "plain HTTP on the TLS port: a close or a TLS alert, no HTTP",
          got[:40])
    m = metrics(srv)
    check(m.get('ward_tls_handshake_failures_total{reason="not_tls"}') == 1,
          "/metrics: counted as not_tls",
          {k: v for k, v in m.items() if "failures" in k})
    check(tls_used(srv) == 0, "its TLS slot is back")
    check(srv.healthy(), "server healthy")
    srv.stop()


# ------------------------------------------------------ 10,000 hostile records

def client_hello():
    """A real ClientHello (Python's ssl, TLS 1.2 offered) as bytes."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = tls_context().wrap_bio(inc, out, server_hostname=HOST)
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def random_record(rng):
    kind = rng.randrange(4)
    if kind == 0:                       # anything
        return rng.randbytes(rng.randrange(1, 64))
    typ = rng.choice((20, 21, 22, 23, rng.randrange(256)))
    ver = rng.choice((0x0303, 0x0301, 0x0300, rng.randrange(65536)))
    n = rng.choice((0, 1, 5, 200, rng.randrange(1, 1200), 16384 + 2048,
                    65535))
    body = rng.randbytes(min(n, 1200))
    return bytes([typ, ver >> 8, ver & 255, n >> 8, n & 255]) + body


def mutated_hello(rng, hello):
    b = bytearray(hello)
    for _ in range(rng.randrange(1, 9)):
        i = rng.randrange(len(b))
        b[i] = rng.randrange(256)
    if rng.randrange(4) == 0:
        b = b[:rng.randrange(1, len(b))]
    return bytes(b)


def send_batch(port, payloads):
    """Send each payload on its own connection and half-close (a stall is
    test_stalled_handshake's), then wait (bounded) for each to end."""
    socks = []
    for p in payloads:
        try:
            s = socket.create_connection((HOST, port), timeout=3)
            s.sendall(p)
            s.shutdown(socket.SHUT_WR)  # an incomplete record ends here
            socks.append(s)
        except OSError:
            pass
    for s in socks:
        try:
            s.settimeout(3.0)
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()


def garbage_after_handshake(port, rng, nrec):
    """A real handshake, a request answered, then nrec garbage records
    (random application-data records: bad MACs) on the raw socket."""
    raw = socket.create_connection((HOST, port), timeout=5)
    t = TLSSocket(raw)
    t.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    ok = t.recv(4096).startswith(b"HTTP/1.1 200")
    recs = b"".join(bytes([23, 3, 3, 0, 40]) + rng.randbytes(40)
                    if rng.randrange(2) else random_record(rng)
                    for _ in range(nrec))
    try:
        raw.sendall(recs)
        raw.settimeout(3.0)
        while raw.recv(65536):
            pass
    except OSError:
        pass
    raw.close()
    return ok


def test_hostile_records():
    srv = Server("handshake_timeout=2", tls=True, label="tls-hostile")
    rng = random.Random(12)
    time.sleep(0.2)
    base = metrics(srv)
    hello = client_hello()
    sent = 0
    t0 = time.monotonic()
    # 4,000 random records, one connection each, in batches of 50
    for _ in range(80):
        send_batch(srv.port, [random_record(rng) for _ in range(50)])
        sent += 50
    # 4,000 mutated ClientHellos
    for _ in range(80):
        send_batch(srv.port, [mutated_hello(rng, hello) for _ in range(50)])
        sent += 50
    # 2,000 garbage records after 100 real handshakes
    served = sum(garbage_after_handshake(srv.port, rng, 20)
                 for _ in range(100))
    sent += 2000
    took = time.monotonic() - t0
    check(sent == 10000, "10,000 hostile records sent", sent)
    check(served == 100, "each real handshake was served before its "
          "garbage", served)
    check(srv.alive(), "the server never crashed")
    check(srv.healthy(), "it keeps serving (plain)")
    w = WS(srv.port)
    check(w.echo(OP_TEXT, b"still") is not None, "it keeps serving (wss)")
    w.close()
    keys = [k for k in base if k.startswith("ward_pool_used")]

    def back():
        m = metrics(srv)
        return all(m.get(k) == base[k] for k in keys)
    ok = wait_until(back, 5.0 * SLOW)
    m = metrics(srv)
    check(ok, "every pool back to its baseline (TLS slots, buffers, "
          "connections)", {k: (base[k], m.get(k)) for k in keys
                           if m.get(k) != base[k]})
    fails = sum(v for k, v in m.items()
                if k.startswith("ward_tls_handshake_failures_total"))
    check(fails >= 8000, "the hostile handshakes are counted as failures",
          fails)
    print("hostile records: %d in %.1fs" % (sent, took))
    srv.stop()


# ------------------------------------------------------------------- reload

class EchoLoop(threading.Thread):
    """A wss echo that keeps going until stopped; counts and errors."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.ws = WS(port)
        self.n = 0
        self.errors = []
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        while not self.stop_ev.is_set() and self.n < 100000:
            msg = b"tick %d" % self.n
            try:
                if self.ws.echo(OP_TEXT, msg, timeout=5.0) is None:
                    self.errors.append("no echo at %d" % self.n)
                    return
            except Exception as e:  # noqa: BLE001
                self.errors.append(repr(e))
                return
            self.n += 1
            time.sleep(0.005)

    def finish(self):
        self.stop_ev.set()
        self.join(10)
        self.ws.close()


def test_reload():
    tmp = tempfile.mkdtemp(prefix="ward-tls-")
    crt, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    shutil.copy(cert("server-ec.pem"), crt)
    shutil.copy(cert("server-ec.key"), key)
    srv = Server("tls_cert=" + crt, "tls_key=" + key, tls=True,
                 label="tls-reload")
    fp1, fp2 = der_sha256(cert("server-ec.pem")), der_sha256(
        cert("server-ec2.pem"))
    check(served_sha256(srv.port) == fp1, "the first certificate is served")
    loop = EchoLoop(srv.port)
    time.sleep(0.3)
    n0 = loop.n
    shutil.copy(cert("server-ec2.pem"), crt)
    shutil.copy(cert("server-ec2.key"), key)
    srv.signal(signal.SIGHUP)
    check(wait_until(lambda: served_sha256(srv.port) == fp2, 5.0),
          "after SIGHUP new handshakes get the new certificate")
    time.sleep(0.3)
    check(loop.is_alive() and not loop.errors and loop.n > n0 + 5,
          "the connection opened before keeps echoing through the reload",
          (loop.n, n0, loop.errors))
    check(metrics(srv).get("ward_tls_credentials_generation") == 2,
          "/metrics: credentials generation 2")
    # a bad pair: the first certificate with the second key
    shutil.copy(cert("server-ec.pem"), crt)
    srv.signal(signal.SIGHUP)
    check(wait_until(lambda: "event=tls_reload" in srv.log() and
                     "level=error event=tls_reload" in srv.log(), 3.0),
          "a mismatched pair is refused with a log line",
          srv.log()[-600:])
    check(served_sha256(srv.port) == fp2 and
          metrics(srv).get("ward_tls_credentials_generation") == 2,
          "the refused pair leaves the current certificate")
    # no signal: the files change on disk (a good pair again), the tick
    # sees it (once a second, once the change holds still)
    shutil.copy(cert("server-ec.pem"), crt)
    shutil.copy(cert("server-ec.key"), key)
    check(wait_until(lambda: served_sha256(srv.port) == fp1, 6.0 * SLOW),
          "a changed certificate file is loaded without a signal",
          srv.log()[-600:])
    check("certificate or key file changed" in srv.log() and
          metrics(srv).get("ward_tls_credentials_generation") == 3,
          "logged, generation 3")
    n1 = loop.n
    time.sleep(0.3)
    loop.finish()
    check(not loop.errors and loop.n > n1,
          "the old connection still echoes at the end", loop.errors)
    srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------ key errors

def check_config(crt, key):
    r = subprocess.run(
        [ward_bin(), "--check-config", "--set", "listen=127.0.0.1:0",
         "--set", "tls_listen=127.0.0.1:0", "--set", "tls_cert=" + crt,
         "--set", "tls_key=" + key, "--set", "jwt_secret=x"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20,
        stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr.decode(), r.stdout.decode()


def test_key_errors():
    ok = check_config(cert("server-ec.pem"), cert("server-ec.key"))
    check(ok[0] == 0 and "configuration ok" in ok[2],
          "--check-config: a good pair is ok", ok)
    cases = [
        ("missing certificate", cert("nope.pem"), cert("server-ec.key"),
         "nope.pem"),
        ("missing key", cert("server-ec.pem"), cert("nope.key"), "nope.key"),
        ("key not matching", cert("server-ec.pem"), cert("server-ec2.key"),
         "match"),
        ("unsupported key (Ed25519)", cert("server-ec.pem"),
         cert("ed25519.key"), "ed25519.key"),
        ("encrypted key", cert("server-ec.pem"), cert("encrypted.key"),
         "encrypted.key"),
    ]
    for name, crt, key, word in cases:
        rc, err, _ = check_config(crt, key)
        lines = [ln for ln in err.splitlines() if "level=error" in ln]
        check(rc == 2 and len(lines) == 1 and word in lines[0],
              "--check-config, %s: exit 2, one error line naming it" % name,
              (rc, err[-400:]))
    rc, err, out = check_config(cert("expired.pem"), cert("expired.key"))
    check(rc == 0 and "level=warn" in err and "2021" in err,
          "--check-config, expired certificate: a warning with its date",
          (rc, err[-400:]))


if __name__ == "__main__":
    run_tests([test_curl, test_websockets_library, test_resumption,
               test_pool_full, test_stalled_handshake,
               test_plain_http_on_tls_port, test_hostile_records,
               test_reload, test_key_errors])
