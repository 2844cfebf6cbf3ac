#!/usr/bin/python3
"""Hostile JSON (issue 9, findings 5 and 6).

Finding 5: a message or body with a key given twice in one object (keys
compared after unescaping, at any depth) is refused: an `error`
`invalid_json` message on a WebSocket, 400 `invalid_json` naming the key
over HTTP; nothing is relayed.  A lone escaped key (`fr\\u006fm`) is the
key it spells: the sender's `from` is dropped however it is written, and
`typ\\u0065` is read as the type.

Finding 6: ids and names holding NUL or control characters once
unescaped (`nulu\\u0000ser`) are refused with 400 (or an error message)
naming the field, and never reach the user or record they would be cut
to."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests)

SECRET = "e2e-hostile-json-secret-0123456789abcdef0"
S = None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="hostile")
    return S


def tok(role, sub="1", **kw):
    return make_token(SECRET, role, role.title(), sub, 600, **kw)


def post(path, raw, role="service", method="POST"):
    h = [("Content-Type", "application/json"),
         ("Authorization", "Bearer " + tok(role, "900"))]
    r = http_request(server().port, method, path, h, raw)
    try:
        j = r.json()
    except ValueError:
        j = None
    return r, j


def quiet(ws, t=0.3):
    return recv_json(ws, t) is None


def unified(token=None):
    ws = WS(server().port, "/ws" + ("?token=" + token if token else ""))
    recv_json(ws)       # connected
    return ws


def subscribe(ws, p):
    ws.send_text(json.dumps({"type": "subscribe", "practiceId": p}))
    return recv_json(ws)


def is_dup_error(m, key):
    return (m is not None and m.get("type") == "error" and
            m.get("error") == "invalid_json" and
            ('"%s"' % key) in m.get("detail", ""))


# --- finding 5 ----------------------------------------------------------


def test_ws_unified_duplicates():
    a, b, c = unified(), unified(), unified()
    try:
        for ws, p in ((a, "p1"), (b, "p1"), (c, "p2")):
            subscribe(ws, p)
        spoof = ('{"type":"whiteboard_update","practiceId":"p1","data":{},'
                 '"type":"telemedicine_chat_message","userName":'
                 '"Dr. Trusted","fr\\u006fm":"x","practiceId":"p2"}')
        a.send_text(spoof)
        e = recv_json(a)
        check(is_dup_error(e, "type"),
              "/ws: duplicate type refused with invalid_json naming it", e)
        check(quiet(b) and quiet(c), "/ws: nothing relayed to p1 or p2")
        a.send_text('{"type":"whiteboard_update","data":{"k":1,"\\u006b":2}}')
        e = recv_json(a)
        check(is_dup_error(e, "k"),
              "/ws: duplicate inside a nested (relayed raw) object", e)
        check(quiet(b), "/ws: nested duplicate not relayed")
        a.send_text('{"type":"whiteboard_update","data":{"v":1},'
                    '"fr\\u006fm":"Dr. Trusted",'
                    '"fromClientId":"000000000001"}')
        m = b.recv_message(3.0)
        raw = m[1].decode() if m else ""
        j = json.loads(raw) if raw else {}
        check(j.get("from") not in (None, "Dr. Trusted") and
              "Dr. Trusted" not in raw and "\\u006f" not in raw and
              raw.count('"fromClientId"') == 1,
              "/ws: an escaped fr\\u006fm is dropped like from", raw)
        a.send_text('{"typ\\u0065":"whiteboard_update","data":{"w":2}}')
        m = recv_json(b)
        check(m and m.get("data") == {"w": 2},
              "/ws: typ\\u0065 is read as type", m)
    finally:
        for ws in (a, b, c):
            ws.abort()


def test_ws_call_duplicates():
    p = server().port
    a = WS(p, "/ws/call/hostile/")
    wa = recv_json(a)
    b = WS(p, "/ws/call/hostile/")
    wb = recv_json(b)
    recv_json(a)        # peer_joined
    try:
        a.send_text('{"type":"offer","type":"peer_left","peer_id":"%s"}'
                    % (wa or {}).get("peer_id", ""))
        e = recv_json(a)
        check(is_dup_error(e, "type"),
              "/ws/call: duplicate type refused", e)
        check(quiet(b), "/ws/call: nothing relayed")
        a.send_text('{"type":"offer","sdp":{"a":1,"a":2}}')
        e = recv_json(a)
        check(is_dup_error(e, "a"), "/ws/call: nested duplicate refused", e)
        a.send_text('{"type":"offer","fr\\u006fm":"%s"}'
                    % (wb or {}).get("peer_id", ""))
        m = b.recv_message(3.0)
        raw = m[1].decode() if m else ""
        check(raw.count('"from"') == 1 and "\\u006f" not in raw and
              json.loads(raw).get("from") == (wa or {}).get("peer_id"),
              "/ws/call: escaped from dropped, the server's from", raw)
        a.send_text('{"type":"offer","to":"%s\\u0000x"}'
                    % (wb or {}).get("peer_id", ""))
        e = recv_json(a)
        check(e and e.get("error") == "invalid_field" and
              "to" in e.get("detail", ""),
              "/ws/call: to with an escaped NUL: error naming to", e)
        check(quiet(b), "/ws/call: and the peer it would cut to got "
              "nothing")
    finally:
        a.abort()
        b.abort()


def test_http_duplicates():
    cases = (
        ("/api/notifications",
         b'{"user_id":"5","notification":{"t":1},"user_id":"6"}', "user_id"),
        ("/api/notifications",
         b'{"user_id":"5","notification":{"t":1,"\\u0074":2}}', "t"),
        ("/api/diagnoses",
         b'{"diagnosis_id":5,"owner":"a","own\\u0065r":"b"}', "owner"),
        ("/api/consultations/updates",
         b'{"consultation_id":"c1","status":"s","data":{"x":[{"y":1,'
         b'"y":2}]}}', "y"),
        ("/admin/api/send",
         b'{"target":"practice","id":"p1","message":{"type":"a",'
         b'"type":"b"}}', "type"),
    )
    for path, body, key in cases:
        r, j = post(path, body, role="admin")
        check(r.status == 400 and j and j.get("error") == "invalid_json" and
              ('"%s"' % key) in j.get("detail", ""),
              "%s: duplicate %s -> 400 naming it" % (path, key),
              (r.status, j))


# --- finding 6 ----------------------------------------------------------


def test_nul_user_id():
    nu = WS(server().port, "/ws/notifications/?token=" + tok("patient", "nulu"))
    try:
        r, j = post("/api/notifications",
                    b'{"user_id":"nulu\\u0000ser","notification":{"a":1}}')
        check(r.status == 400 and j and "user_id" in j.get("detail", ""),
              "user_id with an escaped NUL: 400 naming user_id",
              (r.status, j))
        check(quiet(nu, 0.5), "user nulu got nothing")
        r, j = post("/api/notifications",
                    b'{"user_id":"a\\tb","notification":{"a":1}}')
        check(r.status == 400 and j and "user_id" in j.get("detail", ""),
              "user_id with a tab: 400", (r.status, j))
    finally:
        nu.abort()


def test_nul_owner_and_ids():
    r, j = post("/api/diagnoses",
                b'{"diagnosis_id":77001,"owner":"own\\u0000er"}')
    check(r.status == 400 and j and "owner" in j.get("detail", ""),
          "owner with an escaped NUL: 400 naming owner", (r.status, j))
    r, j = post("/api/diagnoses", b'{}', method="GET")
    ids = [d.get("diagnosis_id") for d in (j or {}).get("diagnoses", [])]
    check(77001 not in ids, "and the diagnosis was not made", ids)
    r, j = post("/api/doctors", b'{"doctor_id":"doc\\u0000x","name":"X"}',
                role="admin")
    check(r.status == 400 and j and "doctor_id" in j.get("detail", ""),
          "doctor_id with an escaped NUL: 400", (r.status, j))
    r, j = post("/api/doctors", b'{"doctor_id":"d1","name":"X\\u0001"}',
                role="admin")
    check(r.status == 400 and j and "name" in j.get("detail", ""),
          "doctor name with a control character: 400", (r.status, j))
    r, j = post("/api/consultations/updates",
                b'{"consultation_id":"c\\u0000x","status":"s"}')
    check(r.status == 400 and j and
          "consultation_id" in j.get("detail", ""),
          "consultation_id with an escaped NUL: 400", (r.status, j))
    r, j = post("/admin/api/send", b'{"target":"user","id":"nulu\\u0000x",'
                b'"message":{"type":"a"}}', role="admin")
    check(r.status == 400 and j and "id" in j.get("detail", ""),
          "admin send id with an escaped NUL: 400", (r.status, j))


def test_nul_ws_fields():
    a, b = unified(), unified()
    try:
        subscribe(b, "p")
        a.send_text('{"type":"subscribe","practiceId":"p\\u0000x"}')
        e = recv_json(a)
        check(e and e.get("type") == "error" and
              "practiceId" in e.get("detail", ""),
              "subscribe practiceId with NUL: error naming it", e)
        a.send_text('{"type":"whiteboard_update","data":{}}')
        e = recv_json(a)
        check(e and e.get("error") == "not_subscribed",
              "and a was not subscribed to p", e)
        check(quiet(b), "p got nothing")
        a.send_text('{"type":"telemedicine_join","roomId":"r\\u0000x",'
                    '"userId":"u"}')
        e = recv_json(a)
        check(e and "roomId" in e.get("detail", ""),
              "telemedicine roomId with NUL: error naming it", e)
        a.send_text('{"type":"telemedicine_join","roomId":"r",'
                    '"userId":"u\\u0000v"}')
        e = recv_json(a)
        check(e and "userId" in e.get("detail", ""),
              "telemedicine userId with NUL: error naming it", e)
        a.send_text('{"type":"telemedicine_join","roomId":"r",'
                    '"userId":"u","userName":"Dr.\\u0000 Trusted"}')
        e = recv_json(a)
        check(e and "userName" in e.get("detail", ""),
              "telemedicine userName with NUL: error naming it", e)
    finally:
        a.abort()
        b.abort()


def test_nul_stt_name():
    ws = WS(server().port, "/ws/stt/room/?role=doctor&name=Dr%00X")
    c = ws.collect(3.0).close()
    ws.abort()
    check(c is not None and c[1] == 1008 and "name" in str(c[2]),
          "stt room name with %00: closed 1008 naming name", c)


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_ws_unified_duplicates, test_ws_call_duplicates,
               test_http_duplicates, test_nul_user_id,
               test_nul_owner_and_ids, test_nul_ws_fields,
               test_nul_stt_name, test_server_survives])
