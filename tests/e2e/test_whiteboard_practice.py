#!/usr/bin/python3
"""whiteboard_practice (issue 13, seed 003 compatibility): where an
anonymous /ws client's practice comes from.  subscribe (default): the
subscribe message or ?practiceId=; message: also the client's first
whiteboard_update (the seed 003 whiteboard never subscribes), fixed for
good afterwards (no crossing practices by message or subscribe); token:
only the token's practice_id (subscribe and ?practiceId= refused)."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import WS, Server, check, recv_json, run_tests  # noqa: E402

SECRET = "e2e-wbp-secret-0123456789abcdef0123456789"
SERVERS = {}


def server(mode):
    s = SERVERS.get(mode)
    if s is None or not s.alive():
        s = SERVERS[mode] = Server("jwt_secret=" + SECRET, "rate_limit=0",
                                   "whiteboard_practice=" + mode,
                                   label="wbp-" + mode)
    return s


def client(mode, query=""):
    ws = WS(server(mode).port, "/ws" + query)
    recv_json(ws)
    return ws


def send(ws, obj):
    ws.send_text(json.dumps(obj))


def update(ws, practice, data):
    send(ws, {"type": "whiteboard_update", "practiceId": practice,
              "data": data})


def quiet(ws, t=0.3):
    return recv_json(ws, t) is None


def test_message_mode():
    a, b, c = client("message"), client("message"), client("message")
    try:
        update(a, "p7", {"hello": "a"})
        check(quiet(a), "first update: no error, practice chosen")
        update(b, "p7", {"hello": "b"})
        m = recv_json(a)
        check(m and m.get("type") == "whiteboard_update" and
              m.get("data") == {"hello": "b"} and m.get("practiceId") == "p7",
              "the other tab of p7 gets the update", m)
        update(c, "p8", {"hello": "c"})
        check(quiet(a) and quiet(b), "p8's update reaches nobody in p7")
        update(a, "p8", {"cross": 1})
        e = recv_json(a)
        check(e and e.get("error") == "forbidden",
              "then another practice by message: forbidden", e)
        check(quiet(c), "and p8 got nothing")
        send(a, {"type": "subscribe", "practiceId": "p8"})
        e = recv_json(a)
        check(e and e.get("error") == "forbidden",
              "nor by subscribe afterwards", e)
        send(b, {"type": "whiteboard_update", "data": {"no": "id"}})
        m = recv_json(a)
        check(m and m.get("practiceId") == "p7",
              "an update without practiceId stays in p7", m)
        d = client("message")
        send(d, {"type": "whiteboard_update", "data": {}})
        e = recv_json(d)
        check(e and e.get("error") == "not_subscribed",
              "no practiceId and none yet: not_subscribed", e)
        d.abort()
        q = client("message", "?practiceId=p7")
        update(a, "p7", {"to": "q"})
        m = recv_json(q)
        check(m and m.get("data") == {"to": "q"},
              "?practiceId= joins a listener without sending", m)
        send(q, {"type": "subscribe", "practiceId": "p8"})
        e = recv_json(q)
        check(e and e.get("error") == "forbidden",
              "?practiceId= is fixed too", e)
        q.abort()
        t = WS(server("message").port, "/ws?token=" + make_token(
            SECRET, "doctor", "D", "9", 600, practice_id="p9"))
        recv_json(t)
        update(t, "p7", {})
        e = recv_json(t)
        check(e and e.get("error") == "forbidden",
              "a token's practice still wins", e)
        t.abort()
    finally:
        for ws in (a, b, c):
            ws.abort()


def test_subscribe_mode():
    a, b = client("subscribe"), client("subscribe")
    try:
        update(a, "p1", {})
        e = recv_json(a)
        check(e and e.get("error") == "not_subscribed",
              "default mode: an update before subscribe is refused", e)
        q = client("subscribe", "?practiceId=p1")
        send(b, {"type": "subscribe", "practiceId": "p1"})
        recv_json(b)
        update(b, "p1", {"x": 1})
        m = recv_json(q)
        check(m and m.get("data") == {"x": 1}, "?practiceId= joins", m)
        q.abort()
    finally:
        a.abort()
        b.abort()


def test_token_mode():
    a = client("token")
    q = client("token", "?practiceId=p1")
    t = WS(server("token").port, "/ws?token=" + make_token(
        SECRET, "doctor", "D", "9", 600, practice_id="p1"))
    recv_json(t)
    try:
        send(a, {"type": "subscribe", "practiceId": "p1"})
        e = recv_json(a)
        check(e and e.get("error") == "forbidden",
              "token mode: subscribe refused", e)
        update(a, "p1", {})
        e = recv_json(a)
        check(e and e.get("error") == "not_subscribed",
              "token mode: no practice by message", e)
        update(t, "p1", {"y": 1})
        check(quiet(q) and quiet(a), "token mode: ?practiceId= ignored")
    finally:
        for ws in (a, q, t):
            ws.abort()


def test_bad_value():
    import subprocess
    from wardtest import ward_bin
    r = subprocess.run([ward_bin(), "--set", "whiteboard_practice=sometimes",
                        "--check-config"], capture_output=True, timeout=10)
    check(r.returncode != 0 and b"whiteboard_practice" in r.stderr,
          "a bad value is a config error naming the key",
          (r.returncode, r.stderr[-300:]))


def test_servers_survive():
    for mode, s in SERVERS.items():
        check(s.alive() and s.healthy(), "%s server alive" % mode)


if __name__ == "__main__":
    run_tests([test_message_mode, test_subscribe_mode, test_token_mode,
               test_bad_value, test_servers_survive])
