#!/usr/bin/python3
"""Per-user notifications (SPEC §3): /ws/notifications/ delivers only
what is addressed to the token's sub; POST /api/notifications (service,
admin) answers delivered with the count, or queued when the user has no
open connection, and the queue is delivered in order on the next
connect; user ids compare as text; per-user bound; 400 naming the
field; 401/403; a real client (Debian python3-websockets)."""

import asyncio
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests)

import websockets  # noqa: E402

SECRET = "e2e-notify-secret-0123456789abcdef012345"
ISO_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
URL = "/api/notifications"
S = None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="notif")
    return S


def tok(role, sub="1"):
    return make_token(SECRET, role, role.title(), sub, 600)


def post(body, role="service", raw=None):
    headers = [("Content-Type", "application/json")]
    if role:
        headers.append(("Authorization", "Bearer " + tok(role, "900")))
    data = raw if raw is not None else json.dumps(body).encode()
    r = http_request(server().port, "POST", URL, headers, data)
    try:
        j = r.json()
    except ValueError:
        j = None
    return r, j


def user(sub_id, role="patient"):
    return WS(server().port, "/ws/notifications/?token=" + tok(role, sub_id))


def quiet(ws, t=0.3):
    return recv_json(ws, t) is None


def test_socket_auth():
    ws = WS(server().port, "/ws/notifications/", expect_101=False)
    c = ws.collect(3.0).close() if ws.ok else None
    ws.close()
    check(c is not None and c[1] == 1008, "no token: upgrade, then 1008", c)


def test_delivered_to_owner_only():
    a1, a2, b = user("7"), user("7"), user("8")
    try:
        r, j = post({"user_id": "7", "notification": {"title": "Lab",
                                                      "n": 1}})
        check(r.status == 200 and j.get("status") == "delivered" and
              j.get("clients_notified") == 2,
              "user 7 with two sockets: delivered to 2", (r.status, j))
        for name, ws in (("first", a1), ("second", a2)):
            m = recv_json(ws)
            d = (m or {}).get("data", {})
            check(m and m.get("type") == "notification" and
                  d.get("title") == "Lab" and d.get("n") == 1 and
                  isinstance(d.get("id"), str) and d["id"] and
                  ISO_US.match(d.get("created_at", "")),
                  "user 7's %s socket got it with id, created_at" % name, m)
        check(quiet(b), "user 8 got nothing")
        # ids compare as text: 7 == "7"; the server's id wins
        r, j = post({"user_id": 7, "notification": {"id": "fake",
                                                    "created_at": "x"}},
                    role="admin")
        m = recv_json(a1)
        recv_json(a2)
        check(r.status == 200 and j.get("clients_notified") == 2 and
              m and m["data"]["id"] != "fake" and
              ISO_US.match(m["data"]["created_at"]),
              "integer 7 reaches sub \"7\"; id/created_at set by server", m)
    finally:
        for ws in (a1, a2, b):
            ws.abort()


def test_queued_then_delivered():
    for i in range(3):
        r, j = post({"user_id": "55", "notification": {"k": i}})
        check(r.status == 200 and j.get("status") == "queued",
              "offline user: queued #%d" % i, (r.status, j))

    async def fetch():
        uri = "ws://127.0.0.1:%d/ws/notifications/?token=%s" % (
            server().port, tok("doctor", "55"))
        got = []
        async with websockets.connect(uri) as ws:
            for _ in range(3):
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 3)))
            try:
                extra = await asyncio.wait_for(ws.recv(), 0.3)
                got.append(json.loads(extra))
            except asyncio.TimeoutError:
                pass
        return got
    got = asyncio.run(fetch())
    check([m["data"].get("k") for m in got] == [0, 1, 2],
          "queued ones delivered in order on connect, nothing more",
          [m.get("data") for m in got])
    ws = user("55")
    try:
        check(quiet(ws), "queue emptied: nothing on the next connect")
    finally:
        ws.abort()


def test_per_user_bound():
    for i in range(105):
        r, j = post({"user_id": "bound", "notification": {"i": i}})
        if r.status != 200 or j.get("status") != "queued":
            check(False, "queued %d" % i, (r.status, j))
            return
    ws = user("bound")
    got = []
    try:
        while True:
            m = recv_json(ws, 0.5)
            if m is None:
                break
            got.append(m["data"]["i"])
    finally:
        ws.abort()
    check(got == list(range(5, 105)),
          "105 queued: the newest 100 arrive, oldest dropped first",
          (len(got), got[:3]))


def test_arena_full():
    full_at = None
    for i in range(400):
        r, j = post({"user_id": "full-%d" % i, "notification": {"i": i}})
        if r.status == 503:
            full_at = i
            check(j and j.get("error") == "unavailable",
                  "arena full: 503 unavailable", j)
            break
        if r.status != 200 or j.get("status") != "queued":
            check(False, "queued for full-%d" % i, (r.status, j))
            return
    check(full_at is not None and 0 < full_at <= 256,
          "the queue is bounded (full after %s)" % full_at)
    if full_at is None:
        return
    ws = user("full-0")
    try:
        m = recv_json(ws)
        check(m and m["data"].get("i") == 0, "full-0 gets its own", m)
    finally:
        ws.abort()
    r, j = post({"user_id": "after", "notification": {}})
    check(r.status == 200 and j.get("status") == "queued",
          "a delivered slot is free again", (r.status, j))
    for i in range(1, full_at):     # empty the arena for later tests
        ws = user("full-%d" % i)
        recv_json(ws)
        ws.abort()
    ws = user("after")
    recv_json(ws)
    ws.abort()


def test_callers():
    body = {"user_id": "1", "notification": {}}
    r, _j = post(body, role=None)
    check(r.status == 401, "no token -> 401", r.status)
    for role in ("patient", "doctor"):
        r, _j = post(body, role=role)
        check(r.status == 403, "%s -> 403" % role, r.status)


def test_validation():
    cases = [
        (None, b"nope", "invalid_json", None),
        ({"notification": {}}, None, "missing_field", "user_id"),
        ({"user_id": "", "notification": {}}, None, "invalid_field",
         "user_id"),
        ({"user_id": True, "notification": {}}, None, "invalid_field",
         "user_id"),
        ({"user_id": "u" * 65, "notification": {}}, None, "invalid_field",
         "user_id"),
        ({"user_id": "1"}, None, "missing_field", "notification"),
        ({"user_id": "1", "notification": [1]}, None, "invalid_field",
         "notification"),
    ]
    for body, raw, code, field in cases:
        r, j = post(body, raw=raw)
        check(r.status == 400 and j and j.get("error") == code and
              (field is None or field in j.get("detail", "")),
              "400 %s%s" % (code, " naming " + field if field else ""),
              (r.status, j))
    r, j = post({"user_id": "big", "notification": {"x": "y" * 5000}})
    check(r.status == 413, "too large to queue -> 413", (r.status, j))


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_socket_auth, test_delivered_to_owner_only,
               test_queued_then_delivered, test_per_user_bound,
               test_arena_full, test_callers, test_validation, test_server_survives])
