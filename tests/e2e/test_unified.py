#!/usr/bin/python3
"""The unified endpoint /ws (SPEC §4): connected with clientId and the
services; routing by type prefix (unknown_type); whiteboard updates to
every other client of the same practice and never another practice;
practice from the token (not overridable) or from subscribe;
telemedicine rooms: join/user_joined, offer/answer/ICE to `to` or to
every other member (unknown_peer), chat to every member, leave/close ->
user_left; the sender's own `from` is replaced; Debian python3-websockets
as one of the clients."""

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

SECRET = "e2e-unified-secret-0123456789abcdef01234"
ISO_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
S = None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="unified")
    return S


def client(token=None):
    path = "/ws" + ("?token=" + token if token else "")
    ws = WS(server().port, path)
    hello = recv_json(ws)
    return ws, hello


def send(ws, obj):
    ws.send_text(json.dumps(obj))


def quiet(ws, t=0.3):
    return recv_json(ws, t) is None


def test_connected():
    ws, m = client()
    try:
        names = {s.get("name"): s for s in (m or {}).get("services", [])}
        check(m and m.get("type") == "connected" and
              re.match(r"^[0-9a-f]{8,}$", m.get("clientId", "")),
              "connected with a clientId", m)
        check(set(names) >= {"whiteboard", "telemedicine"} and
              all(s.get("enabled") is True for s in names.values()) and
              "whiteboard_update" in names["whiteboard"]["messageTypes"] and
              "telemedicine_offer" in names["telemedicine"]["messageTypes"],
              "services with messageTypes and enabled", names)
        send(ws, {"type": "video_start"})
        e = recv_json(ws)
        check(e and e.get("error") == "unknown_type", "unknown type", e)
        send(ws, {"type": "whiteboard_erase"})
        e = recv_json(ws)
        check(e and e.get("error") == "unknown_type",
              "unknown whiteboard type", e)
        send(ws, {"type": "ping"})
        e = recv_json(ws)
        check(e and e.get("type") == "pong", "ping -> pong", e)
        ws2, m2 = client()
        check(m2["clientId"] != m["clientId"], "clientIds differ")
        ws2.abort()
    finally:
        ws.abort()


def test_whiteboard_practices():
    a, _ = client()
    b, _ = client()
    c, _ = client()
    t, _ = client(make_token(SECRET, "doctor", "D", "9", 600,
                             practice_id="p1"))
    try:
        send(a, {"type": "whiteboard_update", "practiceId": "p1",
                 "data": {}})
        e = recv_json(a)
        check(e and e.get("error") == "not_subscribed",
              "update before subscribe: not_subscribed", e)
        for ws, p in ((a, "p1"), (b, "p1"), (c, "p2")):
            send(ws, {"type": "subscribe", "practiceId": p})
            r = recv_json(ws)
            check(r and r.get("type") == "subscribed" and
                  r.get("practiceId") == p, "subscribed to %s" % p, r)
        send(a, {"type": "whiteboard_update", "practiceId": "p1",
                 "data": {"cell": 3}, "from": "someone-else"})
        for name, ws in (("b (same practice)", b), ("token client", t)):
            m = recv_json(ws)
            check(m and m.get("type") == "whiteboard_update" and
                  m.get("data") == {"cell": 3} and
                  m.get("practiceId") == "p1" and
                  m.get("from") != "someone-else",
                  "%s gets it, from set by the server" % name, m)
        check(quiet(a), "the sender does not get its own update")
        check(quiet(c), "another practice gets nothing")
        send(a, {"type": "whiteboard_update", "practiceId": "p2",
                 "data": {}})
        e = recv_json(a)
        check(e and e.get("error") == "forbidden",
              "update for another practice: forbidden", e)
        check(quiet(c), "and p2 got nothing")
        send(t, {"type": "subscribe", "practiceId": "p2"})
        e = recv_json(t)
        check(e and e.get("error") == "forbidden",
              "token practice cannot be overridden", e)
        send(t, {"type": "whiteboard_update", "data": {"v": 1}})
        for ws in (a, b):
            m = recv_json(ws)
            check(m and m.get("practiceId") == "p1" and
                  m.get("data") == {"v": 1},
                  "token client's update reaches p1", m)
        check(quiet(c), "p2 still nothing")
        # 5 and "5" name one practice; the sender's type is kept
        send(c, {"type": "subscribe", "practiceId": 5})
        recv_json(c)
        send(b, {"type": "subscribe", "practiceId": "5"})
        recv_json(b)
        send(c, {"type": "whiteboard_update", "practiceId": 5, "data": 1})
        m = recv_json(b)
        check(m and m.get("practiceId") == 5, "practice 5 == \"5\"", m)
    finally:
        for ws in (a, b, c, t):
            ws.abort()


def join(ws, room, user, name, **extra):
    msg = {"type": "telemedicine_join", "roomId": room, "userId": user,
           "userName": name}
    msg.update(extra)
    send(ws, msg)
    return recv_json(ws)


def test_telemedicine():
    a, _ = client()
    b, _ = client()
    c, _ = client()
    x, _ = client()
    try:
        send(a, {"type": "telemedicine_offer", "sdp": "v=0"})
        e = recv_json(a)
        check(e and e.get("error") == "not_in_room", "offer before join", e)
        j = join(a, "r1", "u1", "Ann", appointmentId=12)
        check(j and j.get("type") == "telemedicine_joined" and
              j.get("participants") == [], "first joiner: empty room", j)
        j = join(b, "r1", "u2", "Bob")
        check(j and [p["userId"] for p in j.get("participants", [])] ==
              ["u1"], "second joiner sees u1", j)
        m = recv_json(a)
        check(m and m.get("type") == "telemedicine_user_joined" and
              m.get("userId") == "u2" and m.get("userName") == "Bob" and
              m.get("roomId") == "r1", "a told u2 joined", m)
        join(c, "r1", "u3", "Cy")
        recv_json(a)
        recv_json(b)
        join(x, "r2", "u9", "Xe")
        # offer to one user
        send(a, {"type": "telemedicine_offer", "to": "u2", "sdp": "v=0",
                 "from": "u3"})
        m = recv_json(b)
        check(m and m.get("type") == "telemedicine_offer" and
              m.get("sdp") == "v=0" and m.get("from") == "u1",
              "offer relayed to u2 with from=u1", m)
        check(quiet(c), "u3 did not get u2's offer")
        # ICE without to: every other member
        send(b, {"type": "telemedicine_ice_candidate", "candidate": "c1"})
        for name, ws in (("u1", a), ("u3", c)):
            m = recv_json(ws)
            check(m and m.get("candidate") == "c1" and
                  m.get("from") == "u2", "ICE to %s" % name, m)
        check(quiet(b), "sender gets no copy of its relay")
        check(quiet(x), "another room gets nothing")
        send(a, {"type": "telemedicine_answer", "to": "nobody", "sdp": "x"})
        e = recv_json(a)
        check(e and e.get("error") == "unknown_peer", "unknown to", e)
        # chat: everyone, sender too
        send(c, {"type": "telemedicine_chat_message", "message": "hello"})
        for name, ws in (("u1", a), ("u2", b), ("u3 (sender)", c)):
            m = recv_json(ws)
            check(m and m.get("type") == "telemedicine_chat_message" and
                  m.get("message") == "hello" and m.get("from") == "u3" and
                  m.get("userName") == "Cy" and
                  ISO_US.match(m.get("timestamp", "")),
                  "chat to %s" % name, m)
        send(c, {"type": "telemedicine_leave"})
        for ws in (a, b):
            m = recv_json(ws)
            check(m and m.get("type") == "telemedicine_user_left" and
                  m.get("userId") == "u3", "leave announced", m)
        b.abort()
        m = recv_json(a)
        check(m and m.get("type") == "telemedicine_user_left" and
              m.get("userId") == "u2", "close announced as user_left", m)
    finally:
        for ws in (a, b, c, x):
            ws.abort()


def test_real_client():
    async def run():
        uri = "ws://127.0.0.1:%d/ws" % server().port
        async with websockets.connect(uri) as p, \
                websockets.connect(uri) as q:
            await p.recv()
            await q.recv()
            for ws, u in ((p, "pa"), (q, "pb")):
                await ws.send(json.dumps({"type": "telemedicine_join",
                                          "roomId": 77, "userId": u}))
                await ws.recv()
            await p.recv()          # pb joined
            await p.send(json.dumps({"type": "telemedicine_offer",
                                     "to": "pb", "sdp": "s"}))
            return json.loads(await asyncio.wait_for(q.recv(), 3))
    m = asyncio.run(run())
    check(m.get("type") == "telemedicine_offer" and m.get("from") == "pa",
          "python3-websockets clients relay an offer", m)


def test_config_services():
    sets = ["jwt_secret=" + SECRET,
            "service.lab.types=lab_result,lab_note",
            "service.lab.scope=practice",
            "service.alerts.types=alert", "service.alerts.scope=all",
            "service.huddle.types=room_ping", "service.huddle.scope=room",
            "service.off.types=nope", "service.off.enabled=false"]
    with Server(*sets, label="unified-config") as s2:
        def c2():
            ws = WS(s2.port, "/ws")
            return ws, recv_json(ws)
        a, hello = c2()
        b, _ = c2()
        x, _ = c2()
        try:
            sv = {v["name"]: v for v in hello.get("services", [])}
            check(sv.get("lab", {}).get("messageTypes") ==
                  ["lab_result", "lab_note"] and
                  sv["lab"].get("scope") == "practice" and
                  sv["lab"].get("enabled") is True and
                  sv.get("off", {}).get("enabled") is False and
                  "whiteboard" in sv, "connected lists config services",
                  sv)
            send(a, {"type": "lab_result", "v": 1})
            e = recv_json(a)
            check(e and e.get("error") == "not_subscribed",
                  "practice scope needs a practice", e)
            for ws, p in ((a, "p1"), (b, "p1"), (x, "p2")):
                send(ws, {"type": "subscribe", "practiceId": p})
                recv_json(ws)
            send(a, {"type": "lab_note", "v": 2, "from": "forged"})
            m = recv_json(b)
            check(m and m.get("type") == "lab_note" and m.get("v") == 2 and
                  m.get("from") != "forged", "practice scope: relayed", m)
            check(quiet(x) and quiet(a), "not to p2, not to the sender")
            send(x, {"type": "alert", "level": "red"})
            for ws in (a, b):
                m = recv_json(ws)
                check(m and m.get("level") == "red", "scope all", m)
            check(quiet(x), "all but the sender")
            send(a, {"type": "room_ping"})
            e = recv_json(a)
            check(e and e.get("error") == "not_in_room",
                  "room scope needs a room", e)
            for ws, u in ((a, "ua"), (b, "ub")):
                send(ws, {"type": "telemedicine_join", "roomId": "h1",
                          "userId": u})
                recv_json(ws)
            recv_json(a)
            send(b, {"type": "room_ping", "n": 3})
            m = recv_json(a)
            check(m and m.get("n") == 3 and m.get("from") == "ub",
                  "room scope: to the room", m)
            send(a, {"type": "nope"})
            e = recv_json(a)
            check(e and e.get("error") == "service_disabled",
                  "enabled=false: service_disabled", e)
            h = [("Content-Type", "application/json"),
                 ("Authorization", "Bearer " + make_token(
                     SECRET, "admin", "A", "1", 600))]
            r = http_request(s2.port, "POST", "/admin/api/services/off",
                             h, b'{"enabled":true}')
            send(a, {"type": "nope"})
            check(r.status == 200 and quiet(a),
                  "switched on from the admin API: handled", r.status)
        finally:
            for ws in (a, b, x):
                ws.abort()


def test_config_errors():
    import subprocess
    from wardtest import ward_bin
    for kv, msg in (("service.lab.scope=galaxy", "practice, room or all"),
                    ("service.whiteboard.types=x", "built in"),
                    ("service.lab.types=a b", "comma list"),
                    ("service.lab.colour=red", "types|scope|enabled"),
                    ("service.Lab.types=a", "[a-z0-9_-]")):
        p = subprocess.run([ward_bin(), "--set", kv, "--check-config"],
                           capture_output=True, text=True, timeout=10)
        check(p.returncode != 0 and msg in p.stderr,
              "--check-config refuses %s" % kv, p.stderr[-200:])


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_connected, test_whiteboard_practices,
               test_telemedicine, test_real_client, test_config_services,
               test_config_errors, test_server_survives])
