#!/usr/bin/python3
"""Socket status family: GET /consultation/socket-status/[sockets/[<id>/]]
(SPEC §2 table, §1.2 error answers, §1.4 tokens, §1.5 conventions)."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token, sign_jwt  # noqa: E402
from wardtest import (SLOW, WS, Server, check, http_request,  # noqa: E402
                      is_json_error, recv_json, run_tests, wait_until)

S = None
SECRET = "e2e-status-secret-0123456789abcdef012345"
ISO_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SOCKET_ID = re.compile(r"^[0-9a-f]{12}$")
BASE = "/consultation/socket-status/"
ENTRY_FIELDS = {"socket_id", "socket_type", "user_info", "connected_at",
                "last_activity", "messages_in", "messages_out", "bytes_in",
                "bytes_out", "remote"}
SPEC_ENDPOINTS = {
    "call": "/ws/call/<room>/",
    "stt": "/ws/stt/",
    "stt_room": "/ws/stt/room/?role=<role>&name=<name>",
    "stt_sales": "/ws/stt/sales/",
    "stt_admin": "/ws/stt/admin/",
    "echo": "/ws/echo",
}


# ------------------------------------------------------------ helpers

def jwt(claims, secret=SECRET, header=None):
    return sign_jwt(claims, secret, header)


def token(role, name="User", sub="1", ttl=600, **extra):
    return make_token(SECRET, role, name, sub, ttl, **extra)


def tamper(t):
    """The same token with the first signature character changed."""
    h, p, s = t.split(".")
    return "%s.%s.%s%s" % (h, p, "B" if s[0] == "A" else "A", s[1:])


ADMIN = None


def server():
    global S, ADMIN
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "log_level=debug",
                   label="status")
        ADMIN = token("admin", "Root", sub="99")
    return S


def get(path, tok=None, how="bearer", headers=None):
    h = list(headers or [])
    if tok is not None and how == "bearer":
        h.append(("Authorization", "Bearer " + tok))
    elif tok is not None:
        path += ("&" if "?" in path else "?") + "token=" + tok
    return http_request(server().port, "GET", path, h,
                        timeout=10.0 * SLOW)


def summary():
    r = get(BASE)
    return r, (r.json() if r.status == 200 else None)


def total():
    _r, j = summary()
    return j["total_sockets"] if j else None


def by_type():
    _r, j = summary()
    return j["sockets_by_type"] if j else None


def listing(q="", tok=None):
    r = get(BASE + "sockets/" + q, tok or ADMIN)
    try:
        j = r.json()
    except ValueError:
        j = None
    return r, j


def bye(*wss):
    for ws in wss:
        try:
            ws.close_handshake(1000, timeout=2.0)
        except OSError:
            pass
        ws.close()


def wait_total(n, timeout=3.0):
    return wait_until(lambda: total() == n, timeout * SLOW, 0.03)


def is_error(r, status, name):
    check(r.status == status, "%s -> %d" % (name, status),
          "got %d %r" % (r.status, r.body[:200]))
    check(is_json_error(r), "%s: JSON error body" % name,
          (r.header("content-type"), r.body[:200]))


# -------------------------------------------------------------- tests

def test_summary_empty():
    r, j = summary()
    check(r.status == 200, "summary -> 200", r)
    check((r.header("content-type") or "").startswith("application/json"),
          "summary Content-Type application/json", r.headers)
    if j is None:
        return
    check(set(j) == {"active", "total_sockets", "sockets_by_type",
                     "timestamp", "ws_endpoints"},
          "summary has exactly the SPEC keys", sorted(j))
    check(j.get("active") is False, "no sockets: active false", j)
    check(j.get("total_sockets") == 0, "no sockets: total_sockets 0", j)
    check(j.get("sockets_by_type") == {}, "no sockets: sockets_by_type {}",
          j)
    check(ISO_US.match(str(j.get("timestamp"))),
          "summary timestamp ISO 8601 UTC with microseconds and Z", j)
    ep = j.get("ws_endpoints") or {}
    for k, v in SPEC_ENDPOINTS.items():
        check(ep.get(k) == v, "ws_endpoints.%s = %s" % (k, v), ep)
    check(all(isinstance(v, str) and v.startswith("/ws") for v in
              ep.values()), "every ws_endpoints value is a /ws path", ep)
    r2 = http_request(server().port, "HEAD", BASE)
    check(r2.status == 200 and r2.body == b"", "HEAD summary -> 200, no "
          "body", r2)


def test_counts_follow():
    c1 = WS(server().port, "/ws/call/status-a/")
    c2 = WS(server().port, "/ws/call/status-a/")
    e1 = WS(server().port, "/ws/echo")
    s1 = WS(server().port, "/ws/stt/")
    check(wait_total(4), "total_sockets 4 after four opens", total())
    _r, j = summary()
    check(j and j["active"] is True, "active true with sockets open", j)
    check(j and j["sockets_by_type"] == {"call": 2, "echo": 1, "stt": 1},
          "sockets_by_type lists only types with n>0", j)
    bye(c2)
    check(wait_total(3), "clean close: total drops to 3", total())
    check(by_type() == {"call": 1, "echo": 1, "stt": 1},
          "clean close: call count 2 -> 1", by_type())
    c1.abort()
    check(wait_total(2, 3.0), "TCP reset: total drops to 2 within 3 s",
          total())
    check("call" not in (by_type() or {"call": 1}),
          "type with zero sockets disappears from sockets_by_type",
          by_type())
    e1.abort()
    s1.sock.close()   # FIN without a close frame
    check(wait_total(0, 3.0), "reset + FIN: total back to 0", total())
    _r, j = summary()
    check(j and j["active"] is False and j["sockets_by_type"] == {},
          "all gone: active false, sockets_by_type {}", j)
    # a refused WebSocket (auth failure) is never counted
    x = WS(server().port, "/ws/stt/admin/")
    x.collect(2.0 * SLOW)
    x.close()
    check(wait_total(0), "refused admin socket not counted", total())


def test_listing():
    call = WS(server().port, "/ws/call/list-room/")
    recv_json(call)
    echo = WS(server().port, "/ws/echo")
    adm = WS(server().port, "/ws/stt/admin/?token=" + ADMIN)
    stt = WS(server().port, "/ws/stt/room/?role=doctor&name=Smith&room=q1")
    recv_json(stt)
    check(wait_total(4), "four sockets open for the listing", total())
    r, j = listing()
    check(r.status == 200 and j is not None, "listing with admin -> 200", r)
    if j is None:
        return
    check(set(j) == {"count", "sockets"}, "listing keys count, sockets",
          sorted(j))
    check(j["count"] == 4 and len(j["sockets"]) == 4,
          "listing count 4 and 4 entries", j)
    ids = set()
    for e in j["sockets"]:
        check(set(e) >= ENTRY_FIELDS, "entry %s has every registry field"
              % e.get("socket_type"), sorted(set(e) ^ ENTRY_FIELDS))
        check(SOCKET_ID.match(str(e.get("socket_id"))),
              "socket_id is 12 hex digits", e.get("socket_id"))
        ids.add(e.get("socket_id"))
        check(ISO_US.match(str(e.get("connected_at"))) and
              ISO_US.match(str(e.get("last_activity"))),
              "connected_at/last_activity ISO", e)
        check(all(isinstance(e.get(k), int) and e.get(k) >= 0 for k in
                  ("messages_in", "messages_out", "bytes_in", "bytes_out")),
              "counters are non-negative integers", e)
        check(str(e.get("remote", "")).startswith("127.0.0.1"),
              "remote is the client address", e.get("remote"))
        check(isinstance(e.get("user_info"), dict), "user_info is an object",
              e)
    check(len(ids) == 4, "socket ids unique", ids)
    bt = {e["socket_type"]: e for e in j["sockets"]}
    check(set(bt) == {"call", "echo", "stt_admin", "stt_room"},
          "one entry per type opened", sorted(bt))
    ui = bt.get("stt_admin", {}).get("user_info", {})
    check(ui.get("role") == "admin" and ui.get("name") == "Root" and
          ui.get("user_id") == "99",
          "admin entry user_info from the token (role, name, user_id)", ui)
    ui = bt.get("stt_room", {}).get("user_info", {})
    check(ui.get("role") == "doctor" and ui.get("name") == "Smith" and
          ui.get("room") == "q1", "stt_room user_info from the query", ui)
    ui = bt.get("call", {}).get("user_info", {})
    check(ui.get("room") == "list-room", "call user_info.room", ui)
    check(bt.get("stt_admin", {}).get("user_info", {})
          .get("authenticated") is True and ui.get("authenticated") is False,
          "user_info.authenticated true with a token, false without",
          (bt.get("stt_admin"), ui))

    # counters move after messages
    before = bt.get("echo")
    payloads = [b"one", b"two-two", b"three-three-three"]
    for p in payloads:
        op, got = echo.echo(1, p)
        check(got == p, "echo works", got)
    time.sleep(0.05)
    r, e = None, None
    r = get(BASE + "sockets/%s/" % before["socket_id"], ADMIN)
    check(r.status == 200, "/sockets/<id>/ -> 200", r)
    e = r.json() if r.status == 200 else {}
    check(e.get("socket_id") == before["socket_id"] and
          e.get("socket_type") == "echo" and set(e) >= ENTRY_FIELDS,
          "/sockets/<id>/ is the entry itself", e)
    check(e.get("messages_in") == before["messages_in"] + 3,
          "messages_in +3 after three messages", (before, e))
    check(e.get("bytes_in") == before["bytes_in"] + sum(map(len, payloads)),
          "bytes_in grows by the payload bytes", (before, e))
    check(e.get("messages_out", 0) >= before["messages_out"] + 3,
          "messages_out grows", (before, e))
    check(e.get("bytes_out", 0) >= before["bytes_out"] +
          sum(map(len, payloads)), "bytes_out grows", (before, e))
    check(e.get("last_activity", "") > before["last_activity"],
          "last_activity moves", (before, e))
    check(e.get("connected_at") == before["connected_at"],
          "connected_at unchanged", (before, e))

    # ?type= filters
    r, j = listing("?type=call")
    check(r.status == 200 and j and j["count"] == 1 and
          [x["socket_type"] for x in j["sockets"]] == ["call"],
          "?type=call lists only call sockets", j)
    r, j = listing("?type=echo")
    check(r.status == 200 and j and j["count"] == 1, "?type=echo", j)
    r, j = listing("?type=doctor_status")
    check(r.status == 200 and j == {"count": 0, "sockets": []},
          "?type= of a known type with no sockets -> count 0", j)
    r, _j = listing("?type=bogus")
    is_error(r, 400, "?type=bogus")
    r, _j = listing("?type=")
    check(r.status in (200, 400), "?type= (empty) -> 200 or 400", r)

    # one entry: unknown ids
    is_error(get(BASE + "sockets/000000000000/", ADMIN), 404,
             "unknown socket id")
    is_error(get(BASE + "sockets/zzzz/", ADMIN), 404, "malformed socket id")
    bye(call, echo, adm, stt)
    is_error(get(BASE + "sockets/%s/" % before["socket_id"], ADMIN), 404,
             "id of a closed socket")


def test_long_fields():
    """SPEC §2: call room names are [A-Za-z0-9_-]{1,64}; the registry's
    user_info.room must name the room the socket is in, whole."""
    room = "R" * 40 + "-" + "z" * 23          # 64 characters, valid
    call = WS(server().port, "/ws/call/%s/" % room)
    w = recv_json(call)
    check(w is not None and w.get("room") == room,
          "64-character call room joined", w)
    stt = WS(server().port,
             "/ws/stt/room/?role=doctor&name=Long&room=%s" % room)
    recv_json(stt)
    for typ, ws in (("call", call), ("stt_room", stt)):
        r, j = listing("?type=" + typ)
        ents = (j or {}).get("sockets", [])
        got = ents[0]["user_info"].get("room") if ents else None
        check(got == room, "%s: user_info.room is the whole 64-character "
              "room name" % typ, "got %r (%d chars)" % (
                  got, len(got or "")))
    bye(call, stt)
    check(wait_total(0), "back to 0 after long-room sockets", total())


def test_auth():
    ws = WS(server().port, "/ws/echo")
    check(wait_total(1), "one socket open", total())
    _r, j = listing()
    sid = j["sockets"][0]["socket_id"] if j and j.get("sockets") else "x"
    now = int(time.time())
    expired = jwt({"sub": "1", "role": "admin", "iat": now - 600,
                   "exp": now - 300})
    patient = token("patient", "Pat")
    for path, what in ((BASE + "sockets/", "listing"),
                       (BASE + "sockets/%s/" % sid, "known id"),
                       (BASE + "sockets/000000000001/", "unknown id")):
        is_error(get(path), 401, "%s anonymous" % what)
        is_error(get(path, patient), 403, "%s patient token" % what)
        is_error(get(path, token("doctor")), 403, "%s doctor token" % what)
        is_error(get(path, expired), 401, "%s expired admin token" % what)
        is_error(get(path, tamper(ADMIN)), 401,
                 "%s tampered admin token" % what)
        is_error(get(path, "not.a.token"), 401, "%s garbage token" % what)
    r = get(BASE + "sockets/", ADMIN, how="query")
    check(r.status == 200, "token via ?token= -> 200", r)
    r = get(BASE + "sockets/", ADMIN, how="bearer")
    check(r.status == 200, "token via Authorization: Bearer -> 200", r)
    r = get(BASE + "sockets/", token("superadmin"), how="bearer")
    check(r.status == 200, "superadmin token -> 200", r)
    r = get(BASE + "sockets/%s/" % sid, ADMIN, how="query")
    check(r.status == 200 and r.json().get("socket_id") == sid,
          "entry via ?token=", r)
    # the summary is public
    r = get(BASE)
    check(r.status == 200, "summary without token -> 200", r)
    # a bad token on the public summary is refused, not ignored
    r = get(BASE, expired)
    check(r.status in (200, 401), "summary with an expired token -> 200 "
          "or 401 (documented choice)", r)
    bye(ws)
    check(wait_total(0), "back to 0", total())


def test_token_not_logged():
    tok = token("admin", "Logcheck", sub="4242")
    bad = tamper(token("admin", "Bad"))
    get(BASE + "sockets/", tok, how="query")
    get(BASE + "sockets/", tok, how="bearer")
    get(BASE + "sockets/", bad, how="query")
    get(BASE + "sockets/000000000000/", bad, how="bearer")
    ws = WS(server().port, "/ws/stt/admin/?token=" + tok)
    ws2 = WS(server().port, "/ws/stt/admin/?token=" + bad)
    ws2.collect(2.0 * SLOW)
    ws2.close()
    ws3 = WS(server().port, "/ws/stt/admin/",
             headers=[("Sec-WebSocket-Protocol", "bearer, " + tok)])
    bye(ws, ws3)
    time.sleep(0.1)
    log = server().log() + server().stdout()
    check("event=auth_refused" in log and "event=conn_open" in log,
          "the refusals and connections were logged (the check is "
          "meaningful)", log[-500:])
    for name, t in (("good", tok), ("bad", bad)):
        sig = t.split(".")[2]
        body = t.split(".")[1]
        check(t not in log, "%s token never in the log" % name)
        check(sig not in log, "%s token signature never in the log" % name)
        check(body not in log, "%s token payload never in the log" % name)


def test_many_sockets():
    n = 300
    socks = []
    try:
        for i in range(n):
            socks.append(WS(server().port, "/ws/echo", timeout=10.0))
        check(wait_total(n, 5.0), "%d sockets counted" % n, total())
        r, j = listing()
        check(r.status == 200, "listing of %d sockets -> 200" % n, r)
        check(len(r.body) > 16384, "listing is larger than one I/O buffer",
              len(r.body))
        check(j is not None and j.get("count") == n and
              len(j.get("sockets", [])) == n,
              "listing JSON parses; count matches entries (%d)" % n,
              None if j is None else (j.get("count"),
                                      len(j.get("sockets", []))))
        if j:
            ids = {e["socket_id"] for e in j["sockets"]}
            check(len(ids) == n, "%d distinct socket ids" % n, len(ids))
        r, j = listing("?type=echo")
        check(j is not None and j.get("count") == n, "?type=echo count", j
              and j.get("count"))
        _r, s = summary()
        check(s and s["sockets_by_type"] == {"echo": n} and
              s["total_sockets"] == n, "summary with %d sockets" % n,
              s and s["sockets_by_type"])
    finally:
        for ws in socks:
            ws.abort()
    check(wait_total(0, 5.0), "all %d gone after resets" % n, total())


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_summary_empty, test_counts_follow, test_listing,
               test_long_fields, test_auth, test_token_not_logged, test_many_sockets,
               test_server_survives])
