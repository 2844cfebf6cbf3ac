#!/usr/bin/python3
"""GET /metrics (SPEC §7): Prometheus text format 0.0.4 that parses, every
family the SPEC names, counters that follow what clients do (connections
by type, messages, bytes, handshakes and failures by reason, closes by
code), pools against capacity, HEAD, no token values, and
require_auth = all."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, AuthAllServer, Server, check,  # noqa: E402
                      http_request, run_tests, wait_until)

SECRET = "e2e-metrics-secret-0123456789abcdef0123"
S = None

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^{}]*)\})? '
                  r'(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$')
LABEL = re.compile(r'^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"$')


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, label="metrics")
    return S


def parse(text):
    """{(name, frozenset(labels)): value}, families {name: type}, errors."""
    samples, types, helps, bad = {}, {}, set(), []
    for ln in text.split("\n"):
        if ln == "":
            continue
        if ln.startswith("# HELP "):
            helps.add(ln.split(" ")[2])
            continue
        if ln.startswith("# TYPE "):
            parts = ln.split(" ")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge"):
                bad.append(ln)
            else:
                types[parts[2]] = parts[3]
            continue
        m = LINE.match(ln)
        if not m:
            bad.append(ln)
            continue
        labels = []
        if m.group(3):
            for item in m.group(3).split(","):
                lm = LABEL.match(item)
                if not lm:
                    bad.append(ln)
                    break
                labels.append((lm.group(1), lm.group(2)))
        key = (m.group(1), frozenset(labels))
        if key in samples:
            bad.append("duplicate: " + ln)
        samples[key] = float(m.group(4))
        if m.group(1) not in types:
            bad.append("no TYPE before: " + ln)
    return samples, types, helps, bad


def scrape(headers=None):
    r = http_request(server().port, "GET", "/metrics",
                     headers=list((headers or {}).items()))
    return r, (parse(r.body.decode()) if r.status == 200 else None)


def val(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def test_format():
    r, p = scrape()
    check(r.status == 200, "GET /metrics -> 200", r.status)
    ct = r.header("content-type", "")
    check(ct.startswith("text/plain") and "version=0.0.4" in ct,
          "Content-Type text/plain; version=0.0.4", ct)
    check(r.body.endswith(b"\n"), "body ends with a newline")
    if p is None:
        return
    samples, types, helps, bad = p
    check(not bad, "every line parses (exposition format 0.0.4)", bad[:3])
    check(set(types) <= helps, "every family has HELP and TYPE",
          set(types) - helps)
    for name, t in types.items():
        if name.endswith("_total"):
            check(t == "counter", "%s is a counter" % name, t)
    want = ["ward_up", "ward_connections", "ward_messages_received_total",
            "ward_messages_sent_total", "ward_bytes_received_total",
            "ward_bytes_sent_total", "ward_handshakes_total",
            "ward_handshake_failures_total", "ward_closes_total",
            "ward_queue_bytes", "ward_slow_consumer_drops_total",
            "ward_pool_used", "ward_pool_capacity", "ward_redis_connected",
            "ward_redis_configured"]
    for w in want:
        check(w in types, "family %s present" % w)
    check(val(samples, "ward_up") == 1, "ward_up 1")
    check(val(samples, "ward_redis_configured") == 0 and
          val(samples, "ward_redis_connected") == 0,
          "no Redis configured: redis gauges 0")
    for pool in ("connections", "queue_entries", "groups", "buf_small",
                 "buf_medium", "buf_io", "buf_big"):
        u = val(samples, "ward_pool_used", pool=pool)
        c = val(samples, "ward_pool_capacity", pool=pool)
        check(u is not None and c is not None and 0 <= u <= c and c > 0,
              "pool %s: used %s <= capacity %s" % (pool, u, c))
    check(val(samples, "ward_connections", type="http") >= 1,
          "the scraping connection counts as http",
          val(samples, "ward_connections", type="http"))


def test_head():
    r = http_request(server().port, "HEAD", "/metrics")
    check(r.status == 200 and r.body == b"" and
          int(r.header("content-length", "0")) > 100,
          "HEAD /metrics: 200, length, no body",
          (r.status, r.header("content-length")))
    r = http_request(server().port, "POST", "/metrics")
    check(r.status == 405, "POST /metrics -> 405", r.status)


def test_counters_follow():
    _r, p0 = scrape()
    s0 = p0[0]
    socks = [WS(server().port) for _ in range(3)]
    try:
        for i, ws in enumerate(socks):
            ws.send_text("hello-%d" % i)
            m = ws.recv_message()
            check(m is not None and m[1] == ("hello-%d" % i).encode(),
                  "echo %d back" % i, m)
        _r, p1 = scrape()
        s1 = p1[0]
        check(val(s1, "ward_connections", type="echo") == 3,
              "ward_connections{type=echo} 3",
              val(s1, "ward_connections", type="echo"))
        check(val(s1, "ward_handshakes_total") -
              val(s0, "ward_handshakes_total") == 3,
              "handshakes +3")
        check(val(s1, "ward_messages_received_total") -
              val(s0, "ward_messages_received_total") == 3,
              "messages received +3")
        check(val(s1, "ward_messages_sent_total") -
              val(s0, "ward_messages_sent_total") >= 3,
              "messages sent +3")
        check(val(s1, "ward_bytes_received_total") >
              val(s0, "ward_bytes_received_total") + 3 * 7,
              "bytes received grew")
        # a protocol error: the server closes with 1002
        bad = socks.pop()
        bad.send_frame(0x3)        # reserved opcode
        c = bad.collect(3.0).close()
        bad.close()
        check(c is not None and c[1] == 1002, "reserved opcode -> 1002", c)
        code, _eof = socks[0].close_handshake(1000)
        check(code == 1000, "close 1000 answered 1000", code)
        socks.pop(0).close()

        def closes_seen():
            _r, p = scrape()
            s = p[0]
            return (val(s, "ward_closes_total", code="1002") -
                    val(s0, "ward_closes_total", code="1002") == 1 and
                    val(s, "ward_closes_total", code="1000") -
                    val(s0, "ward_closes_total", code="1000") == 1 and
                    val(s, "ward_connections", type="echo") == 1)
        check(wait_until(closes_seen, 5.0),
              "closes_total{code=1002} +1, {code=1000} +1, echo back to 1")
    finally:
        for ws in socks:
            ws.abort()


def test_handshake_failures():
    _r, p0 = scrape()
    s0 = p0[0]
    port = server().port
    r = http_request(port, "GET", "/ws/echo", headers=[
        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "8")])
    check(r.status == 426, "version 8 -> 426", r.status)
    r = http_request(port, "GET", "/ws/echo", headers=[
        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "short"), ("Sec-WebSocket-Version", "13")])
    check(r.status == 400, "bad key -> 400", r.status)
    # an admin-only socket with no token: upgraded, then 1008
    ws = WS(port, "/ws/stt/admin/", expect_101=False)
    c = ws.collect(3.0).close() if ws.ok else None
    ws.close()
    check(c is not None and c[1] == 1008,
          "anonymous /ws/stt/admin/: upgraded, then 1008", c)
    _r, p1 = scrape()
    s1 = p1[0]

    def d(reason):
        return (val(s1, "ward_handshake_failures_total", reason=reason) -
                val(s0, "ward_handshake_failures_total", reason=reason))
    check(d("version") == 1, "failures{reason=version} +1", d("version"))
    check(d("bad_key") == 1, "failures{reason=bad_key} +1", d("bad_key"))
    check(d("refused") == 1, "failures{reason=refused} +1", d("refused"))


def test_no_tokens():
    tok = make_token(SECRET, "admin", "Root", "42", 600)
    ws = WS(server().port, "/ws/stt/admin/?token=" + tok)
    try:
        r, _p = scrape({"Authorization": "Bearer " + tok})
        body = r.body.decode()
        check(tok not in body and tok.split(".")[2] not in body and
              "Root" not in body, "no token and no name in /metrics")
    finally:
        ws.abort()


def test_require_auth_all():
    tok = make_token(SECRET, "patient", "P", "7", 600)
    with AuthAllServer(tok, "jwt_secret=" + SECRET, "require_auth=all",
                       label="metrics-all") as s2:
        r = http_request(s2.port, "GET", "/metrics")
        check(r.status == 401, "require_auth=all: no token -> 401",
              r.status)
        r = http_request(s2.port, "GET", "/metrics",
                         headers=[("Authorization", "Bearer " + tok)])
        check(r.status == 200 and b"ward_up 1" in r.body,
              "require_auth=all: any valid token -> 200", r.status)


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_format, test_head, test_counters_follow,
               test_handshake_failures, test_no_tokens,
               test_require_auth_all, test_server_survives])
