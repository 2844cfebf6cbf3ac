#!/usr/bin/python3
"""Speech-to-text transcript hub /ws/stt/... (SPEC §2 "Speech-to-text
transcript hub", §1.3, §1.4, §1.5)."""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token, sign_jwt  # noqa: E402
from wardtest import (SLOW, WS, Server, check, recv_json,  # noqa: E402
                      run_tests)

S = None
SECRET = "e2e-stt-secret-0123456789abcdef0123456789"
ISO_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SOCKET_ID = re.compile(r"^[0-9a-f]{12}$")


# ------------------------------------------------------------ helpers

def jwt(claims, secret=SECRET, header=None):
    return sign_jwt(claims, secret, header)


def token(role, name="User", sub="1", ttl=600, **extra):
    return make_token(SECRET, role, name, sub, ttl, **extra)


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, label="stt")
    return S


def recv_type(ws, typ, timeout=3.0, limit=20):
    """Next message of this type (others skipped); None if none comes."""
    for _ in range(limit):
        m = recv_json(ws, timeout)
        if m is None or m.get("type") == typ:
            return m
    return None


def quiet(ws, t=0.3):
    ev = ws.collect(t, stop=lambda e: bool(e.messages()) or e.has("close")
                    or e.has("eof"), answer_pings=True, wait_eof=False)
    return not ev.messages() and not ev.has("close"), ev


def drain(ws, t=0.15):
    ev = ws.collect(t, answer_pings=True, wait_eof=False)
    return [json.loads(p) for _op, p in ev.messages()]


def send_json(ws, obj):
    ws.send_text(json.dumps(obj) if not isinstance(obj, str) else obj)


def connect(path, headers=None):
    return WS(server().port, path, headers=headers)


def closed_with(ws, code, name, reason=None):
    ev = ws.collect(3.0 * SLOW)
    c = ev.close()
    check(c is not None and c[1] == code, "%s -> close %d" % (name, code),
          ev)
    if reason is not None:
        check(c is not None and c[2] == reason.encode(),
              "%s: close reason %r" % (name, reason), ev)
    ws.close()
    return ev


def bye(*wss):
    for ws in wss:
        try:
            ws.close_handshake(1000, timeout=2.0)
        except OSError:
            pass
        ws.close()


def is_segment(m, text, final):
    return (m is not None and m.get("type") == "transcript" and
            m.get("text") == text and m.get("final") is final)


# -------------------------------------------------------------- tests

def test_rooms():
    admin = connect("/ws/stt/admin/?token=" + token("admin", "Root"))
    check(quiet(admin, 0.2)[0], "admin monitor opens (no close)")

    doc = connect("/ws/stt/room/?role=doctor&name=Smith&room=r1")
    w = recv_json(doc)
    check(w is not None and w.get("type") == "welcome" and
          w.get("room") == "r1", "room participant gets welcome", w)
    m = recv_type(admin, "participant_joined")
    check(m is not None and m.get("role") == "doctor" and
          m.get("name") == "Smith", "admin sees participant_joined", m)
    check(m is not None and m.get("source") ==
          {"type": "stt_room", "room": "r1"},
          "admin participant_joined has source stt_room r1", m)

    pat = connect("/ws/stt/room/?role=patient&name=Pat&room=r1")
    w = recv_json(pat)
    check(w is not None and w.get("type") == "welcome", "patient welcome",
          w)
    m = recv_json(doc)
    check(m is not None and m.get("type") == "participant_joined" and
          m.get("role") == "patient" and m.get("name") == "Pat",
          "doctor told of the patient joining (role, name)", m)
    m = recv_type(admin, "participant_joined")
    check(m is not None and m.get("name") == "Pat" and
          (m.get("source") or {}).get("room") == "r1",
          "admin told of the patient joining", m)
    ok, ev = quiet(pat, 0.2)
    check(ok, "joiner does not get its own participant_joined", ev)

    other = connect("/ws/stt/room/?role=doctor&name=Jones&room=r2")
    recv_json(other)  # welcome
    recv_type(admin, "participant_joined")
    ok, ev = quiet(doc, 0.2)
    check(ok, "r1 not told of an r2 join", ev)

    # three segments in r1: seq 1, 2, 3; everyone in r1 gets each
    sends = [(doc, "Hello, how are you?", True),
             (pat, "Fine, thanks", False),
             (doc, "Good \u2013 caf\u00e9 \"quoted\"\n", True)]
    last_ts = ""
    for i, (sender, text, fin) in enumerate(sends, 1):
        send_json(sender, {"type": "transcript", "text": text,
                           "final": fin})
        who = "doctor" if sender is doc else "patient"
        exp_from = {"role": "doctor", "name": "Smith"} if sender is doc \
            else {"role": "patient", "name": "Pat"}
        got = {}
        for label, ws in (("doctor", doc), ("patient", pat)):
            m = recv_json(ws)
            got[label] = m
            check(is_segment(m, text, fin),
                  "segment %d from %s reaches %s" % (i, who, label), m)
            check(m is not None and m.get("seq") == i,
                  "segment %d has seq %d (at %s)" % (i, i, label), m)
            check(m is not None and ISO_US.match(str(m.get("timestamp"))),
                  "segment %d timestamp ISO 8601 UTC us Z" % i, m)
            check(m is not None and m.get("from") == exp_from,
                  "segment %d from = {role, name} of %s" % (i, who), m)
            check(m is not None and "source" not in m,
                  "room copy has no source tag", m)
        if got["doctor"]:
            ts = got["doctor"].get("timestamp", "")
            check(ts >= last_ts, "timestamps do not go back", (last_ts, ts))
            last_ts = ts
        a = recv_type(admin, "transcript")
        check(is_segment(a, text, fin) and a.get("seq") == i and
              a.get("from") == exp_from,
              "admin gets segment %d (text, seq, from)" % i, a)
        check(a is not None and a.get("source") ==
              {"type": "stt_room", "room": "r1"},
              "admin segment %d source stt_room r1" % i, a)
    ok, ev = quiet(other, 0.3)
    check(ok, "r2 participant received nothing of r1", ev)

    # r2 has its own sequence
    send_json(other, {"type": "transcript", "text": "r2 text",
                      "final": True})
    m = recv_json(other)
    check(is_segment(m, "r2 text", True) and m.get("seq") == 1,
          "r2 sender gets its segment with seq 1 (per-room sequence)", m)
    a = recv_type(admin, "transcript")
    check(a is not None and a.get("source") ==
          {"type": "stt_room", "room": "r2"}, "admin sees r2 segment", a)
    ok, ev = quiet(doc, 0.2)
    check(ok, "r1 receives nothing of r2", ev)

    # final omitted: the segment still goes out (final false)
    send_json(doc, {"type": "transcript", "text": "partial"})
    m = recv_json(doc)
    check(m is not None and m.get("type") == "transcript" and
          m.get("seq") == 4, "segment without final accepted, seq 4", m)
    recv_json(pat)
    recv_type(admin, "transcript")

    # leave: announced to the others and the admin
    bye(pat)
    m = recv_json(doc)
    check(m is not None and m.get("type") == "participant_left" and
          m.get("role") == "patient" and m.get("name") == "Pat",
          "participant_left (role, name) to the room", m)
    m = recv_type(admin, "participant_left")
    check(m is not None and m.get("name") == "Pat" and
          m.get("source") == {"type": "stt_room", "room": "r1"},
          "admin gets participant_left with source", m)
    # abrupt leave
    other2 = connect("/ws/stt/room/?role=nurse&name=Ann&room=r1")
    recv_json(other2)
    recv_json(doc)
    recv_type(admin, "participant_joined")
    other2.abort()
    m = recv_json(doc)
    check(m is not None and m.get("type") == "participant_left" and
          m.get("name") == "Ann", "participant_left after a TCP reset", m)
    recv_type(admin, "participant_left")
    bye(doc, other, admin)


def test_default_room_and_required_params():
    a = connect("/ws/stt/room/?role=doctor&name=Default")
    w = recv_json(a)
    check(w is not None and w.get("room") == "default",
          "no room= -> room 'default'", w)
    bye(a)
    for name, q in (("missing role", "?name=Smith&room=r1"),
                    ("missing name", "?role=doctor&room=r1"),
                    ("empty name", "?role=doctor&name=&room=r1"),
                    ("no query", "")):
        ws = connect("/ws/stt/room/" + q)
        closed_with(ws, 1008, "stt room with %s" % name)
    # name with percent-encoded UTF-8 and a space
    ws = connect("/ws/stt/room/?role=doctor&name=Dr%20M%C3%BCller&room=r9")
    recv_json(ws)
    send_json(ws, {"type": "transcript", "text": "t", "final": True})
    m = recv_json(ws)
    check(m is not None and m.get("from") ==
          {"role": "doctor", "name": "Dr M\u00fcller"},
          "percent-decoded UTF-8 name in from", m)
    bye(ws)


def test_single_session():
    admin = connect("/ws/stt/admin/?token=" + token("superadmin", "Su"))
    s = connect("/ws/stt/")
    m = recv_type(admin, "participant_joined")
    check(m is not None and (m.get("source") or {}).get("type") == "stt",
          "admin told of a single session joining (source stt)", m)
    for i in (1, 2):
        send_json(s, {"type": "transcript", "text": "single %d" % i,
                      "final": i == 2})
        m = recv_json(s)
        check(is_segment(m, "single %d" % i, i == 2),
              "single session gets its segment %d back" % i, m)
        check(m is not None and m.get("seq") == i,
              "single session seq %d" % i, m)
        check(m is not None and ISO_US.match(str(m.get("timestamp"))),
              "single session timestamp ISO", m)
        fr = m.get("from") if m else None
        check(isinstance(fr, str) and SOCKET_ID.match(fr),
              "anonymous single session: from is the socket id (12 hex)", m)
        a = recv_type(admin, "transcript")
        check(a is not None and a.get("text") == "single %d" % i and
              (a.get("source") or {}).get("type") == "stt" and
              a.get("seq") == i, "admin sees the single segment (stt)", a)
    # with a token: from = {role, name} of the token
    t = connect("/ws/stt/?token=" + token("doctor", "Dr X", sub="7"))
    recv_type(admin, "participant_joined")
    send_json(t, {"type": "transcript", "text": "tok", "final": True})
    m = recv_json(t)
    check(m is not None and m.get("from") ==
          {"role": "doctor", "name": "Dr X"} and m.get("seq") == 1,
          "single session with token: from = {role,name}, own seq", m)
    recv_type(admin, "transcript")
    ok, ev = quiet(s, 0.2)
    check(ok, "a single session does not see another's segments", ev)
    bye(s)
    m = recv_type(admin, "participant_left")
    check(m is not None and (m.get("source") or {}).get("type") == "stt",
          "admin told of a single session leaving", m)
    bye(t, admin)


def test_sales():
    admin = connect("/ws/stt/admin/?token=" + token("admin", "Root"))
    a = connect("/ws/stt/sales/")
    wa = recv_json(a)
    check(wa is not None and wa.get("type") == "welcome",
          "sales welcome", wa)
    b = connect("/ws/stt/sales/?role=sales&name=Sam")
    recv_json(b)
    m = recv_json(a)
    check(m is not None and m.get("type") == "participant_joined",
          "sales: join announced to the room", m)
    joins = [x for x in drain(admin) if x.get("type") ==
             "participant_joined"]
    check(len(joins) == 2 and all(x.get("source") == {"type": "stt_sales",
                                                       "room": "sales"}
                                  for x in joins),
          "admin sees both sales joins with source stt_sales", joins)
    send_json(b, {"type": "transcript", "text": "deal", "final": True})
    for who, ws in (("sender", b), ("other", a)):
        m = recv_json(ws)
        check(is_segment(m, "deal", True) and m.get("seq") == 1,
              "sales segment reaches the %s with seq" % who, m)
        check(m is not None and m.get("from") ==
              {"role": "sales", "name": "Sam"}, "sales from", m)
    x = recv_type(admin, "transcript")
    check(x is not None and x.get("source") ==
          {"type": "stt_sales", "room": "sales"},
          "admin sees sales segment with source stt_sales", x)
    send_json(a, {"type": "transcript", "text": "anon", "final": False})
    m = recv_json(b)
    check(m is not None and m.get("seq") == 2,
          "sales seq increases to 2", m)
    bye(a, b, admin)


def test_admin_auth():
    ws = connect("/ws/stt/admin/")
    closed_with(ws, 1008, "admin monitor, anonymous")
    ws = connect("/ws/stt/admin/?token=" + token("patient", "P"))
    closed_with(ws, 1008, "admin monitor, patient token", "access denied")
    ws = connect("/ws/stt/admin/?token=" + token("doctor", "D"))
    closed_with(ws, 1008, "admin monitor, doctor token")
    now = int(time.time())
    exp = jwt({"sub": "1", "role": "admin", "iat": now - 600,
               "exp": now - 300})
    ws = connect("/ws/stt/admin/?token=" + exp)
    closed_with(ws, 1008, "admin monitor, expired token", "token expired")
    ws = connect("/ws/stt/admin/",
                 headers=[("Authorization", "Bearer " + token("admin"))])
    ok, ev = quiet(ws, 0.3)
    check(ok, "admin monitor with Authorization: Bearer stays open", ev)
    send_json(ws, {"type": "ping"})
    m = recv_json(ws)
    check(m is not None and m.get("type") == "pong", "admin ping -> pong",
          m)
    send_json(ws, {"type": "transcript", "text": "x"})
    m = recv_json(ws)
    check(m is not None and m.get("type") == "error",
          "admin monitor may not send transcripts (error)", m)
    bye(ws)


def test_bad_input():
    ws = connect("/ws/stt/room/?role=doctor&name=Bad&room=bad")
    recv_json(ws)
    cases = [
        ("unknown type", {"type": "bogus"}, "unknown_type"),
        ("text not a string", {"type": "transcript", "text": 42}, None),
        ("text null", {"type": "transcript", "text": None}, None),
        ("missing text", {"type": "transcript"}, None),
        ("final not a bool", {"type": "transcript", "text": "x",
                              "final": "yes"}, None),
        ("not JSON", "{oops", "invalid_json"),
        ("not an object", "[1]", None),
        ("no type", {"text": "x"}, None),
    ]
    for name, msg, code in cases:
        send_json(ws, msg)
        m = recv_json(ws)
        check(m is not None and m.get("type") == "error" and
              isinstance(m.get("error"), str) and
              isinstance(m.get("detail"), str),
              "%s -> error message" % name, m)
        if code:
            check(m is not None and m.get("error") == code,
                  "%s -> error %s" % (name, code), m)
    # nothing was stamped: the next good segment is seq 1
    send_json(ws, {"type": "transcript", "text": "ok", "final": True})
    m = recv_json(ws)
    check(m is not None and m.get("type") == "transcript" and
          m.get("seq") == 1, "connection stays open; rejected input used "
          "no seq", m)
    send_json(ws, {"type": "ping"})
    m = recv_json(ws)
    check(m is not None and m.get("type") == "pong" and
          ISO_US.match(str(m.get("timestamp"))), "ping -> pong", m)
    ws.send_binary(b"\x01\x02")
    closed_with(ws, 1003, "binary on /ws/stt/room/")
    for path in ("/ws/stt/", "/ws/stt/sales/"):
        ws = connect(path)
        ws.send_binary(b"bin")
        closed_with(ws, 1003, "binary on %s" % path)


def test_escapes_and_size():
    ws = connect("/ws/stt/room/?role=doctor&name=Esc&room=esc")
    recv_json(ws)
    texts = [
        ("quotes", '"' * 5000),
        ("newlines", "line\n" * 3000),
        ("control characters", "\x01\x1f\x7f" * 400),
        ("backslashes", "\\" * 8000),
        ("non-ASCII", "\u00e9\u4e2d\U0001f600" * 4000),
        ("60 000 ASCII bytes", "x" * 60000),
        ("empty", ""),
    ]
    for seq, (name, text) in enumerate(texts, 1):
        ws.send_text(json.dumps({"type": "transcript", "text": text,
                                 "final": True}, ensure_ascii=False))
        m = recv_json(ws, 5.0)
        check(is_segment(m, text, True) and m.get("seq") == seq,
              "segment of %s is stamped and comes back intact" % name,
              None if m is None else {k: (v if k != "text" else len(v))
                                      for k, v in m.items()})
    bye(ws)


def test_long_names():
    """A role or name is either refused (close 1008) or carried whole in
    welcome, stamped segments and presence: never silently cut (SPEC §2:
    segments carry from {role, name}; §1.3: refusals close 1008)."""
    role, name = "physiotherapist-" + "r" * 14, "Dr " + "N" * 57  # 30, 60
    ws = connect("/ws/stt/room/?role=%s&name=%s&room=long" % (
        role, name.replace(" ", "%20")))
    w = recv_json(ws)
    if w is None or w.get("type") != "welcome":
        check(ws.eof or w is None, "long role/name refused", w)
        ws.close()
        return
    got = (w.get("participants") or [{}])[0]
    check(got == {"role": role, "name": name},
          "welcome carries the 30-byte role and 60-byte name whole",
          got)
    send_json(ws, {"type": "transcript", "text": "t", "final": True})
    m = recv_json(ws)
    check(m is not None and m.get("from") == {"role": role, "name": name},
          "segment from carries the long role and name whole",
          m and m.get("from"))
    bye(ws)
    # a token's name (up to what the token parser accepts) on /ws/stt/
    tname = "Dr " + "T" * 57
    ws = connect("/ws/stt/?token=" + token("doctor", tname, sub="8"))
    send_json(ws, {"type": "transcript", "text": "t", "final": True})
    m = recv_json(ws)
    check(m is not None and m.get("from") == {"role": "doctor",
                                              "name": tname},
          "single session: from.name of a 60-byte token name is whole",
          m and m.get("from"))
    bye(ws)


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_rooms, test_default_room_and_required_params,
               test_single_session, test_sales, test_admin_auth,
               test_bad_input, test_escapes_and_size, test_long_names,
               test_server_survives])
