#!/usr/bin/python3
"""Why a request was refused, told honestly (issue 11): every refused token
is logged at info with its reason code, route and peer (never the token)
and counted in /metrics by reason; ambiguous credentials (two token
parameters, query and header disagreeing) are refused; repeated handshake
fields are 400; changed_fields compares JSON values; the offline queues'
depths are gauges; log lines stay key=value (values escaped); connection
open/close lines at info, rate-limited with a "suppressed" count."""

import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token, sign_jwt  # noqa: E402
from wardtest import (HOST, WS, Server, check, handshake_request,  # noqa
                      http_request, recv_json, run_tests, ward_bin,
                      wait_until)

SECRET = "e2e-refusals-secret-0123456789abcdef01234"
ADMIN_PATH = "/consultation/socket-status/sockets/"
S = None
FIELD = re.compile(r'([a-z_]+)=("(?:[^"\\]|\\.)*"|[^ "]*)( |$)')


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="refusals")
    return S


def tok(role="admin", sub="1", ttl=600, **kw):
    return make_token(SECRET, role, role.title(), sub, ttl, **kw)


def metrics(port=None):
    r = http_request(port or server().port, "GET", "/metrics")
    out = {}
    for ln in r.body.decode().splitlines():
        m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", ln)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def auth_fail(p, reason):
    return p.get('ward_auth_failures_total{reason="%s"}' % reason, -1)


def log_lines(srv, event):
    return [ln for ln in srv.log().splitlines()
            if " event=%s " % event in ln + " "]


def parses(line):
    """Does the whole line read as key=value fields?"""
    pos = 0
    while pos < len(line):
        m = FIELD.match(line, pos)
        if not m or m.end() == pos:
            return False
        pos = m.end()
    return True


def get(path, headers=(), port=None):
    return http_request(port or server().port, "GET", path, list(headers))


def test_reasons_logged_and_counted():
    now = int(time.time())
    tokens = {
        "bad_signature": make_token("another-secret-0123456789abcdef0123",
                                    "admin"),
        "expired": tok(ttl=-1000),
        "not_yet_valid": tok(nbf=now + 1000),
        "no_exp": sign_jwt({"sub": "1", "role": "admin"}, SECRET),
        "alg_not_allowed": sign_jwt({"sub": "1", "role": "admin",
                                     "exp": now + 600}, SECRET,
                                    {"alg": "HS512", "typ": "JWT"}),
        "unknown_key": sign_jwt({"sub": "1", "role": "admin",
                                 "exp": now + 600}, SECRET,
                                {"alg": "ES256", "typ": "JWT"}),
        "malformed": "not-a-token",
        "too_large": "a" * 5000,
    }
    p0 = metrics()
    for reason, t in tokens.items():
        r = get(ADMIN_PATH, [("Authorization", "Bearer " + t)])
        check(r.status == 401, "%s: 401" % reason, r.status)
    p1 = metrics()
    lines = log_lines(server(), "auth_refused")
    for reason, t in tokens.items():
        check(auth_fail(p1, reason) - auth_fail(p0, reason) == 1,
              "ward_auth_failures_total{reason=%s} counts it" % reason,
              (auth_fail(p0, reason), auth_fail(p1, reason)))
        mine = [ln for ln in lines if " reason=%s " % reason in ln + " "]
        check(len(mine) == 1 and "level=info" in mine[0] and
              "route=%s" % ADMIN_PATH in mine[0] and
              re.search(r"peer=127\.0\.0\.1:\d+", mine[0]),
              "%s: one info line with route and peer" % reason, lines[-3:])
    log = server().log()
    for reason, t in tokens.items():
        if len(t) > 20:
            check(t not in log and t.split(".")[-1] not in log,
                  "%s: the token is not in the log" % reason)
    # a WebSocket refusal is logged the same way
    ws = WS(server().port, "/ws/stt/admin/?token=" + tokens["expired"],
            expect_101=False)
    c = ws.collect(3.0).close() if ws.ok else None
    ws.close()
    check(c and c[1] == 1008, "expired token on a WebSocket: 1008", c)
    check(any("route=/ws/stt/admin/" in ln and "reason=expired" in ln
              for ln in log_lines(server(), "auth_refused")),
          "the WebSocket refusal is logged with its route")


def test_no_secret():
    with Server("jwt_secret=", label="no-secret") as s:
        warn = [ln for ln in s.log().splitlines() if "level=warn" in ln
                and "no_secret" in ln]
        check(warn and "jwt_secret" in warn[0] and
              "WARD_JWT_SECRET" in warn[0],
              "start without a key: a warning saying what to set",
              s.log()[-600:])
        r = get(ADMIN_PATH, [("Authorization", "Bearer " + tok())],
                port=s.port)
        check(r.status == 401, "no key: 401", r.status)
        check(auth_fail(metrics(s.port), "no_secret") == 1,
              "no key: counted as no_secret")
        check(any("reason=no_secret" in ln
                  for ln in log_lines(s, "auth_refused")),
              "no key: logged as no_secret")


def test_ambiguous_tokens():
    a, b = tok("admin", "1"), tok("admin", "2")
    p0 = metrics()
    cases = [
        ("?token=A&token=B", [], "two token parameters"),
        ("?token=A&token=A", [], "the same token parameter twice"),
        ("?token=B", [("Authorization", "Bearer A")],
         "query and Authorization differ"),
    ]
    for q, h, name in cases:
        q = q.replace("A", a).replace("B", b)
        h = [(k, v.replace("A", a)) for k, v in h]
        r = get(ADMIN_PATH + q, h)
        check(r.status in (400, 401), "%s: refused" % name, r.status)
    r = get(ADMIN_PATH + "?token=" + a, [("Authorization", "Bearer " + a)])
    check(r.status == 200, "the same token in query and header: 200",
          r.status)
    r = get(ADMIN_PATH + "?token=" + a)
    check(r.status == 200, "one token parameter: 200", r.status)
    check(auth_fail(metrics(), "ambiguous") - auth_fail(p0, "ambiguous")
          == 3, "ambiguous refusals counted")
    for path, hdr in (("/ws/stt/admin/?token=%s&token=%s" % (a, b), []),
                      ("/ws/stt/admin/?token=" + b,
                       [("Sec-WebSocket-Protocol", "bearer, " + a)])):
        ws = WS(server().port, path, headers=hdr, expect_101=False)
        c = ws.collect(3.0).close() if ws.ok else None
        st = ws.response.status
        ws.close()
        check(st in (400, 401) or (c and c[1] == 1008),
              "WebSocket with disagreeing tokens: refused", (st, c))


def raw(data):
    with socket.create_connection((HOST, server().port), timeout=5) as s:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + 5
        while b"\r\n" not in out and time.monotonic() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    m = re.match(rb"HTTP/1\.1 (\d{3})", out)
    return int(m.group(1)) if m else None


def test_repeated_fields():
    k1, k2 = "dGhlIHNhbXBsZSBub25jZQ==", "AQIDBAUGBwgJCgsMDQ4PEA=="
    cases = [
        ("two Sec-WebSocket-Key", [("Sec-WebSocket-Key", k2)], k1, "13"),
        ("the same Sec-WebSocket-Key twice", [("Sec-WebSocket-Key", k1)],
         k1, "13"),
        ("two Sec-WebSocket-Version", [("Sec-WebSocket-Version", "13")],
         k1, "13"),
        ("two Authorization", [("Authorization", "Bearer a"),
                               ("Authorization", "Bearer b")], k1, "13"),
        ("two Host", [("Host", "other")], k1, "13"),
    ]
    for name, extra, key, ver in cases:
        st = raw(handshake_request("/ws/echo", key, extra, version=ver))
        check(st == 400, "%s: 400" % name, st)
    st = raw(handshake_request("/ws/echo", k1))
    check(st == 101, "one of each: 101", st)
    body = b'{"diagnosis_id": 1}'
    st = raw(b"POST /api/diagnoses HTTP/1.1\r\nHost: h\r\n"
             b"Content-Length: 19\r\nContent-Length: 20\r\n\r\n" + body)
    check(st == 400, "differing Content-Length: 400", st)


def svc_post(path, body):
    h = [("Content-Type", "application/json"),
         ("Authorization", "Bearer " + tok("service", "1"))]
    return http_request(server().port, "POST", path, h,
                        body if isinstance(body, bytes) else
                        json.dumps(body).encode())


def test_changed_fields_values():
    r = svc_post("/api/diagnoses", {"diagnosis_id": 9101})
    check(r.status in (200, 201), "diagnosis registered", r.status)
    ws = WS(server().port, "/ws/9101")
    recv_json(ws)
    body = (b'{"diagnosis_id": 9101, "reason": "r",\n'
            b' "old_data": {\n   "f": [1, 2, 3],\n   "p": {"p": 1, "q": 2},\n'
            b'   "n": 1,\n   "s": "caf\\u00e9",\n   "gone": true,\n'
            b'   "d": {"x": [1, {"y": null}]}\n },\n'
            b' "new_data": {"d":{"x":[1,{"y":null}]},"s":"caf\xc3\xa9",'
            b'"n":1.0e0,"p":{"q":2,"p":1},"f":[1,2,3],"new":1}}')
    try:
        r = svc_post("/ws/broadcast-recommendation-update", body)
        check(r.status == 200, "broadcast: 200", (r.status, r.body[:200]))
        m = recv_json(ws)
        cf = ((m or {}).get("data") or {}).get("changed_fields")
        check(cf is not None and sorted(cf) == ["gone", "new"],
              "changed_fields: only added and removed keys (whitespace, "
              "order, number spelling and escapes are not changes)", cf)
    finally:
        ws.abort()


def test_queue_depth():
    p0 = metrics()
    d0 = p0.get('ward_queue_depth{queue="diagnosis"}')
    n0 = p0.get('ward_queue_depth{queue="notification"}')
    check(d0 is not None and n0 is not None,
          "ward_queue_depth gauges for diagnosis and notification", p0.keys()
          if d0 is None else "")
    svc_post("/api/diagnoses", {"diagnosis_id": 9102})
    r = svc_post("/ws/broadcast-feedback-update",
                 {"diagnosis_id": 9102, "feedback_id": 1, "rating": 5,
                  "effectiveness": 0.5})
    check(r.status == 200 and b"queued" in r.body, "offline: queued",
          r.body[:200])
    r = svc_post("/api/notifications", {"user_id": "offline-9",
                                        "notification": {"t": 1}})
    check(r.status in (200, 202) and b"queued" in r.body,
          "notification queued", r.body[:200])
    p1 = metrics()
    check(p1.get('ward_queue_depth{queue="diagnosis"}') == (d0 or 0) + 1,
          "diagnosis queue depth + 1", p1.get(
              'ward_queue_depth{queue="diagnosis"}'))
    check(p1.get('ward_queue_depth{queue="notification"}') == (n0 or 0) + 1,
          "notification queue depth + 1", p1.get(
              'ward_queue_depth{queue="notification"}'))


def test_conn_lines():
    srv = server()
    http_request(srv.port, "GET", "/health")
    ws = WS(srv.port, "/ws/echo")
    ws.close_handshake(1000)
    ws.close()
    wait_until(lambda: len([ln for ln in log_lines(srv, "conn_close")
                            if "code=1000" in ln]) >= 1, 3.0)
    opens, closes = log_lines(srv, "conn_open"), log_lines(srv, "conn_close")
    check(opens and all("level=info" in ln and
                        re.search(r"conn=\d+ peer=127\.0\.0\.1:\d+", ln)
                        for ln in opens),
          "conn_open at info with id and peer", opens[-2:])
    check(any("type=http" in ln for ln in closes) and
          any("type=echo" in ln and "code=1000" in ln for ln in closes),
          "conn_close with type and close code", closes[-3:])
    check(all(re.search(r"duration_ms=\d+", ln) for ln in closes),
          "conn_close with duration_ms", closes[-2:])


def test_log_lines_parse():
    bad = [ln for ln in server().log().splitlines()
           if ln.startswith("ts=") and not parses(ln)]
    check(not bad, "every server log line is key=value", bad[:3])
    for v in ['abc"', 'a\\b"c', "x\ny", "t\tz\x01"]:
        r = subprocess.run([ward_bin(), "--check-config", "--set",
                            "max_message=" + v], capture_output=True,
                           timeout=10)
        err = r.stderr.decode(errors="replace")
        lines = [ln for ln in err.splitlines() if ln]
        check(len(lines) == 1 and parses(lines[0]) and "\x01" not in err,
              "a value with %r is escaped: one key=value line" % v, err)


def test_rate_limit():
    with Server(label="flood") as s:
        n = 400
        t0 = time.monotonic()
        for _ in range(n):
            c = socket.create_connection((HOST, s.port), timeout=5)
            c.close()
        dt = time.monotonic() - t0
        time.sleep(0.3)
        http_request(s.port, "GET", "/health")
        time.sleep(0.2)
        http_request(s.port, "GET", "/health")
        ok = wait_until(lambda: log_lines(s, "log_suppressed"), 3.0)
        lines = log_lines(s, "conn_open") + log_lines(s, "conn_close")
        sup = log_lines(s, "log_suppressed")
        allowed = 100 + 20 * (dt + 2.0) + 10
        check(len(lines) <= allowed,
              "a flood of %d connections: at most ~%d lines" % (n, allowed),
              len(lines))
        m = re.search(r"lines=(\d+)", sup[0]) if sup else None
        check(ok and m and int(m.group(1)) > 0,
              "the suppressed lines are counted when lines resume", sup)


if __name__ == "__main__":
    run_tests([test_reasons_logged_and_counted, test_no_secret,
               test_ambiguous_tokens, test_repeated_fields,
               test_changed_fields_values, test_queue_depth, test_conn_lines,
               test_log_lines_parse, test_rate_limit])
