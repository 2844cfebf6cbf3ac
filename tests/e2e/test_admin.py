#!/usr/bin/python3
"""The admin API (SPEC §7): GET /admin/api/overview, POST
/admin/api/services/<name> (switching a unified /ws service off answers
service_disabled), POST /admin/api/send to a socket, room, practice,
user, service or diagnosis; admin and superadmin only."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests)

SECRET = "e2e-admin-secret-0123456789abcdef01234567"
S = None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="admin")
    return S


def tok(role, sub="1", **kw):
    return make_token(SECRET, role, role.title(), sub, 600, **kw)


def req(method, path, body=None, role="admin"):
    h = [("Content-Type", "application/json")]
    if role:
        h.append(("Authorization", "Bearer " + tok(role)))
    r = http_request(server().port, method, path, h,
                     json.dumps(body).encode() if body is not None else b"")
    try:
        return r, r.json()
    except ValueError:
        return r, None


def test_auth():
    for role, want in ((None, 401), ("doctor", 403), ("service", 403),
                       ("admin", 200), ("superadmin", 200)):
        r, _j = req("GET", "/admin/api/overview", role=role)
        check(r.status == want, "overview as %s -> %d" % (role, want),
              r.status)
    r, _j = req("POST", "/admin/api/send", {}, role="doctor")
    check(r.status == 403, "send as doctor -> 403", r.status)


def test_overview():
    call = WS(server().port, "/ws/call/ov-room/")
    recv_json(call)
    try:
        r, j = req("GET", "/admin/api/overview")
        check(r.status == 200 and j["connections"]["by_type"].get("call")
              == 1, "connections by type", j and j.get("connections"))
        rooms = [x for x in j.get("rooms", []) if x["name"] == "ov-room"]
        check(rooms and rooms[0]["kind"] == "call" and
              rooms[0]["members"] == 1, "rooms with members", rooms)
        names = {s["name"] for s in j.get("services", [])}
        check(names == {"whiteboard", "telemedicine"}, "services", names)
        p = j.get("pools", {})
        check(all(k in p and p[k]["used"] <= p[k]["capacity"]
                  for k in ("connections", "queue_entries", "buf_small",
                            "buf_io")), "pools used <= capacity", p)
        check(j.get("totals", {}).get("handshakes", 0) >= 1, "totals",
              j.get("totals"))
    finally:
        call.abort()


def test_services():
    ws = WS(server().port, "/ws")
    recv_json(ws)
    try:
        r, j = req("POST", "/admin/api/services/whiteboard",
                   {"enabled": False})
        check(r.status == 200 and j == {"name": "whiteboard",
                                        "enabled": False},
              "whiteboard switched off", (r.status, j))
        ws.send_text(json.dumps({"type": "whiteboard_update", "data": 1}))
        e = recv_json(ws)
        check(e and e.get("error") == "service_disabled",
              "whiteboard_update -> service_disabled", e)
        ws.send_text(json.dumps({"type": "telemedicine_leave"}))
        e = recv_json(ws)
        check(e and e.get("error") == "not_in_room",
              "telemedicine still on", e)
        w2 = WS(server().port, "/ws")
        hello = recv_json(w2)
        w2.abort()
        en = {s["name"]: s["enabled"] for s in hello.get("services", [])}
        check(en == {"whiteboard": False, "telemedicine": True},
              "connected shows it disabled", en)
        r, j = req("POST", "/admin/api/services/whiteboard",
                   {"enabled": True})
        ws.send_text(json.dumps({"type": "whiteboard_update", "data": 1}))
        e = recv_json(ws)
        check(r.status == 200 and e and e.get("error") == "not_subscribed",
              "back on: handled again", e)
        r, _j = req("POST", "/admin/api/services/video", {"enabled": True})
        check(r.status == 404, "unknown service -> 404", r.status)
        r, j = req("POST", "/admin/api/services/whiteboard",
                   {"enabled": "no"})
        check(r.status == 400 and "enabled" in j.get("detail", ""),
              "enabled not boolean -> 400", (r.status, j))
    finally:
        ws.abort()


def test_send():
    port = server().port
    u = WS(port, "/ws?token=" + tok("doctor", "42", practice_id="pz"))
    hello = recv_json(u)
    call = WS(port, "/ws/call/send-room/")
    recv_json(call)
    n = WS(port, "/ws/notifications/?token=" + tok("patient", "42"))
    req("POST", "/api/diagnoses", {"diagnosis_id": 4242})
    dg = WS(port, "/ws/4242")
    recv_json(dg)
    msg = {"type": "announcement", "text": "hello"}
    try:
        cases = [
            ("socket", hello["clientId"], [u]),
            ("room", "send-room", [call]),
            ("practice", "pz", [u]),
            ("user", "42", [u, n]),
            ("service", None, [u]),
            ("diagnosis", 4242, [dg]),
        ]
        for target, tid, wants in cases:
            body = {"target": target, "message": msg}
            if tid is not None:
                body["id"] = tid
            r, j = req("POST", "/admin/api/send", body)
            got = [recv_json(w) for w in wants]
            check(r.status == 200 and j.get("status") == "sent" and
                  j.get("clients_notified") >= len(wants) and
                  all(g == msg for g in got),
                  "send to %s reaches its sockets" % target,
                  (r.status, j, got))
        r, j = req("POST", "/admin/api/send", {"target": "room",
                                               "id": "nobody-here",
                                               "message": msg})
        check(r.status == 200 and j.get("clients_notified") == 0,
              "empty target: 0 notified", j)
        for body, field in (({"target": "moon", "id": 1, "message": msg},
                             "target"),
                            ({"target": "room", "message": msg}, "id"),
                            ({"target": "room", "id": "x",
                              "message": {"text": 1}}, "message"),
                            ({"target": "room", "id": "x", "message": [1]},
                             "message")):
            r, j = req("POST", "/admin/api/send", body)
            check(r.status == 400 and field in j.get("detail", ""),
                  "400 naming %s" % field, (r.status, j))
    finally:
        for w in (u, call, n, dg):
            w.abort()


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_auth, test_overview, test_services, test_send,
               test_server_survives])
