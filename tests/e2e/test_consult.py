#!/usr/bin/python3
"""Consultation updates (SPEC §3): /ws/consultations/ for every
authenticated user (no or bad token: upgrade, then 1008), and
POST /api/consultations/updates (service, admin, doctor) fanned out to
every subscriber as consultation_update; 400 naming the field for bad
bodies; 401/403 for callers."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests, wait_until)

SECRET = "e2e-consult-secret-0123456789abcdef01234"
ISO_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
URL = "/api/consultations/updates"
S = None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="consult")
    return S


def tok(role, sub="1"):
    return make_token(SECRET, role, role.title(), sub, 600)


def post(body, role="doctor", raw=None):
    headers = [("Content-Type", "application/json")]
    if role:
        headers.append(("Authorization", "Bearer " + tok(role)))
    data = raw if raw is not None else json.dumps(body).encode()
    r = http_request(server().port, "POST", URL, headers, data)
    try:
        j = r.json()
    except ValueError:
        j = None
    return r, j


def sub(role="patient", sub_id="1"):
    return WS(server().port, "/ws/consultations/?token=" + tok(role, sub_id))


def closed_with(ws, code):
    c = ws.collect(3.0).close()
    ws.close()
    return c is not None and c[1] == code, c


def test_auth_on_socket():
    ws = WS(server().port, "/ws/consultations/", expect_101=False)
    ok, c = closed_with(ws, 1008) if ws.ok else (False, ws.response.status)
    check(ok, "no token: upgrade, then 1008", c)
    bad = tok("patient")[:-2] + "xx"
    ws = WS(server().port, "/ws/consultations/?token=" + bad,
            expect_101=False)
    ok, c = closed_with(ws, 1008) if ws.ok else (False, ws.response.status)
    check(ok, "bad token: 1008", c)
    ws = WS(server().port, "/ws/consultations/",
            headers=[("Authorization", "Bearer " + tok("patient"))])
    check(ws.ok, "Bearer header token accepted")
    ws.close()


def test_fan_out():
    socks = [sub("patient", "1"), sub("doctor", "2"), sub("admin", "3")]
    try:
        r, j = post({"consultation_id": 42, "status": "in_progress",
                     "data": {"room": "a", "n": [1, 2]}})
        check(r.status == 200 and j == {"status": "broadcasted",
                                        "clients_notified": 3},
              "doctor POST: broadcasted to 3", (r.status, j))
        for i, ws in enumerate(socks):
            m = recv_json(ws)
            d = (m or {}).get("data", {})
            check(m and m.get("type") == "consultation_update" and
                  d.get("consultation_id") == 42 and
                  d.get("status") == "in_progress" and
                  d.get("data") == {"room": "a", "n": [1, 2]} and
                  ISO_US.match(d.get("updated_at", "")),
                  "subscriber %d got the update" % i, m)
        r, j = post({"consultation_id": "c-7", "status": "done"},
                    role="service")
        check(r.status == 200 and j.get("clients_notified") == 3,
              "service POST, string id, no data", (r.status, j))
        m = recv_json(socks[0])
        d = (m or {}).get("data", {})
        check(d.get("consultation_id") == "c-7" and d.get("data") == {},
              "string id kept, data {} when absent", m)
        for ws in socks[1:]:
            recv_json(ws)
        r, j = post({"consultation_id": 1e3, "status": "x"}, role="admin")
        m = recv_json(socks[1])
        check(r.status == 200 and m and
              m["data"]["consultation_id"] == 1000,
              "admin POST; 1e3 sent as the integer 1000", m)
        recv_json(socks[0])
        recv_json(socks[2])
        socks.pop().close()

        def two():
            _r, j2 = post({"consultation_id": 1, "status": "s"})
            for ws in socks:
                recv_json(ws, 1.0)
            return j2 and j2.get("clients_notified") == 2
        check(wait_until(two, 5.0), "one left: clients_notified 2")
    finally:
        for ws in socks:
            ws.abort()


def test_post_callers():
    r, _j = post({"consultation_id": 1, "status": "s"}, role=None)
    check(r.status == 401, "no token -> 401", r.status)
    r, _j = post({"consultation_id": 1, "status": "s"}, role="patient")
    check(r.status == 403, "patient -> 403", r.status)
    r = http_request(server().port, "GET", URL,
                     [("Authorization", "Bearer " + tok("admin"))])
    check(r.status == 405, "GET -> 405", r.status)


def test_validation():
    cases = [
        (None, b"{not json", "invalid_json", None),
        (None, b"[1,2]", "invalid_body", None),
        ({"status": "s"}, None, "missing_field", "consultation_id"),
        ({"consultation_id": True, "status": "s"}, None, "invalid_field",
         "consultation_id"),
        ({"consultation_id": 1.5, "status": "s"}, None, "invalid_field",
         "consultation_id"),
        ({"consultation_id": "", "status": "s"}, None, "invalid_field",
         "consultation_id"),
        ({"consultation_id": {"a": 1}, "status": "s"}, None,
         "invalid_field", "consultation_id"),
        ({"consultation_id": 1}, None, "missing_field", "status"),
        ({"consultation_id": 1, "status": 5}, None, "invalid_field",
         "status"),
        ({"consultation_id": 1, "status": ""}, None, "invalid_field",
         "status"),
        ({"consultation_id": 1, "status": "x" * 65}, None, "invalid_field",
         "status"),
        ({"consultation_id": 1, "status": "s", "data": [1]}, None,
         "invalid_field", "data"),
        ({"consultation_id": 1, "status": "s", "data": "x"}, None,
         "invalid_field", "data"),
    ]
    for body, raw, code, field in cases:
        r, j = post(body, raw=raw)
        ok = r.status == 400 and j and j.get("error") == code and \
            (field is None or field in j.get("detail", ""))
        check(ok, "400 %s%s" % (code, " naming " + field if field else ""),
              (r.status, j, body or raw))
    r, j = post({"consultation_id": 1, "status": "x" * 64})
    check(r.status == 200, "status of 64 bytes accepted", (r.status, j))


def test_socket_messages():
    ws = sub()
    try:
        ws.send_text('{"type":"ping"}')
        m = recv_json(ws)
        check(m and m.get("type") == "pong", "ping -> pong", m)
        ws.send_text('{"type":"status_update"}')
        m = recv_json(ws)
        check(m and m.get("type") == "error" and
              m.get("error") == "unknown_type", "other type -> error", m)
        ws.send_text('nope')
        m = recv_json(ws)
        check(m and m.get("error") == "invalid_json", "bad JSON -> error", m)
        r = http_request(server().port, "GET", "/consultation/socket-status/")
        check(r.json().get("sockets_by_type", {}).get("consultations") == 1,
              "registry counts the consultations socket", r.json())
        ws.send_binary(b"\x00\x01")
        ok, c = closed_with(ws, 1003)
        check(ok, "binary frame -> 1003", c)
    finally:
        ws.abort()


def test_status_lists_endpoint():
    r = http_request(server().port, "GET", "/consultation/socket-status/")
    check(r.json().get("ws_endpoints", {}).get("consultations") ==
          "/ws/consultations/", "ws_endpoints lists /ws/consultations/")
    r = http_request(server().port, "GET", "/ws/consultations/")
    check(r.status == 426, "plain GET -> 426", r.status)


def test_idempotency_key():
    ws = sub("patient", "31")
    try:
        def send(key, role="doctor", sub_id="1"):
            h = [("Content-Type", "application/json"),
                 ("Authorization", "Bearer " + tok(role, sub_id))]
            if key:
                h.append(("Idempotency-Key", key))
            return http_request(server().port, "POST", URL, h,
                                b'{"consultation_id":9,"status":"once"}')
        r1 = send("k-1")
        m1 = recv_json(ws)
        r2 = send("k-1")
        check(r1.status == 200 and r2.status == 200 and
              r2.body == r1.body and
              r2.header("idempotent-replayed") == "true",
              "a retry with the same key answers the first result",
              (r1.body, r2.body, r2.header("idempotent-replayed")))
        check(m1 and recv_json(ws, 0.3) is None,
              "and nothing is sent twice")
        send("k-2")
        check(recv_json(ws) is not None, "another key sends again")
        send("k-1", role="service", sub_id="77")
        check(recv_json(ws) is not None,
              "the same key from another caller is its own")
        send(None)
        check(recv_json(ws) is not None, "no key: every post sends")
    finally:
        ws.abort()


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_auth_on_socket, test_fan_out, test_post_callers,
               test_validation, test_socket_messages,
               test_status_lists_endpoint, test_idempotency_key,
               test_server_survives])
