#!/usr/bin/python3
"""Call rooms /ws/call/<room>/ - WebRTC signaling relay (SPEC §2 "Call
rooms", §1.3 JSON endpoint rules, §1.5 JSON conventions)."""

import asyncio
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (SLOW, WS, Closed, Server,  # noqa
                      Timeout, check, run_tests, ward_bin)

S = None
SECRET = "e2e-call-secret-0123456789abcdef0123456789"
ISO_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
PEER_ID = re.compile(r"^[0-9a-f]{8}$")


# ------------------------------------------------------------ helpers

def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, label="call")
    return S


def decode(payload):
    """JSON object of a text payload; duplicate keys are kept visible."""
    pairs_seen = []

    def hook(pairs):
        pairs_seen.append([k for k, _ in pairs])
        return dict(pairs)
    obj = json.loads(payload.decode("utf-8"), object_pairs_hook=hook)
    return obj, pairs_seen


def recv_json(ws, timeout=3.0):
    """Next JSON message, or None (timeout, close, EOF, not JSON)."""
    try:
        _op, p = ws.recv_message(timeout * SLOW)
    except (Timeout, Closed, OSError):
        return None
    try:
        return json.loads(p.decode("utf-8"))
    except ValueError:
        return {"_raw": p}


def recv_raw(ws, timeout=3.0):
    try:
        _op, p = ws.recv_message(timeout * SLOW)
        return p
    except (Timeout, Closed, OSError):
        return None


def quiet(ws, t=0.3):
    """True if no data message (nor close) arrives within t seconds."""
    ev = ws.collect(t, stop=lambda e: bool(e.messages()) or e.has("close")
                    or e.has("eof"), answer_pings=True, wait_eof=False)
    return not ev.messages() and not ev.has("close"), ev


def drain(ws, t=0.15):
    """Read and drop whatever data messages arrive within t seconds."""
    ev = ws.collect(t, answer_pings=True, wait_eof=False)
    return ev.messages()


def send_json(ws, obj):
    ws.send_text(json.dumps(obj) if not isinstance(obj, str) else obj)


def join(room, timeout=3.0):
    """Open a peer in room; returns (ws, welcome)."""
    ws = WS(server().port, "/ws/call/%s/" % room, timeout=timeout)
    w = recv_json(ws, timeout)
    return ws, w


def still_open(ws, name):
    """An application ping gets a pong: the connection stayed open."""
    send_json(ws, {"type": "ping"})
    m = recv_json(ws)
    check(m is not None and m.get("type") == "pong",
          "%s: connection stays open (ping -> pong)" % name, m)


def bye(*wss):
    for ws in wss:
        try:
            ws.close_handshake(1000, timeout=2.0)
        except OSError:
            pass
        ws.close()


def group_pool():
    """Capacity of the group pool from `ward --print-limits` (1024 if it
    cannot be read)."""
    try:
        out = subprocess.run([ward_bin(), "--print-limits"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=20, stdin=subprocess.DEVNULL).stdout
        for line in out.decode("utf-8", "replace").splitlines():
            f = line.split()
            if len(f) >= 2 and f[0] == "groups" and f[1].isdigit():
                return int(f[1])
    except (OSError, subprocess.SubprocessError):
        pass
    return 1024


# -------------------------------------------------------------- tests

def test_welcome_and_join():
    a, wa = join("room-a")
    check(wa is not None and wa.get("type") == "welcome",
          "first peer gets welcome", wa)
    check(wa and PEER_ID.match(str(wa.get("peer_id", ""))),
          "welcome.peer_id is 8 hex digits", wa)
    check(wa and wa.get("room") == "room-a", "welcome.room is the room", wa)
    check(wa and wa.get("peers") == [], "first peer: peers = []", wa)
    ida = wa["peer_id"]

    b, wb = join("room-a")
    idb = wb["peer_id"]
    check(wb.get("peers") == [ida], "second peer: peers = [first]", wb)
    j = recv_json(a)
    check(j == {"type": "peer_joined", "peer_id": idb},
          "first peer gets peer_joined(second)", j)

    c, wc = join("room-a")
    idc = wc["peer_id"]
    check(sorted(wc.get("peers", [])) == sorted([ida, idb]),
          "third peer: peers = the two others", wc)
    check(idc not in wc.get("peers", []), "welcome.peers excludes self", wc)
    check(len({ida, idb, idc}) == 3, "peer ids are distinct",
          (ida, idb, idc))
    for who, ws in (("first", a), ("second", b)):
        j = recv_json(ws)
        check(j == {"type": "peer_joined", "peer_id": idc},
              "%s peer gets peer_joined(third)" % who, j)
    ok, ev = quiet(c)
    check(ok, "the joiner does not get its own peer_joined", ev)
    return (a, ida), (b, idb), (c, idc)


def test_relay():
    (a, ida), (b, idb), (c, idc) = test_welcome_and_join()
    d, wd = join("room-b")
    idd = wd["peer_id"]
    check(wd.get("peers") == [], "room-b is a separate room", wd)

    # --- targeted: offer A -> B only
    send_json(a, {"type": "offer", "to": idb, "sdp": "v=0 offer"})
    raw = recv_raw(b)
    m, pairs = decode(raw) if raw else (None, [])
    check(m is not None and m.get("type") == "offer" and
          m.get("sdp") == "v=0 offer", "offer with to reaches that peer", m)
    check(m is not None and m.get("from") == ida,
          "relayed offer carries from = sender's peer id", m)
    check(m is not None and m.get("to") == idb, "relayed offer keeps to", m)
    # a broadcast sent after: C's first message must be it (not the offer)
    send_json(a, {"type": "chat", "text": "marker-1"})
    mc = recv_json(c)
    check(mc is not None and mc.get("text") == "marker-1",
          "targeted offer did not reach the third peer", mc)
    mb = recv_json(b)
    check(mb is not None and mb.get("text") == "marker-1" and
          mb.get("from") == ida, "broadcast chat reaches the second peer", mb)
    ok, ev = quiet(a, 0.3)
    check(ok, "the sender does not get its own relays back", ev)

    # --- answer B -> A with a forged "from"
    send_json(b, {"type": "answer", "to": ida, "from": "deadbeef",
                  "sdp": "v=0 answer"})
    raw = recv_raw(a)
    m, pairs = decode(raw) if raw else (None, [])
    check(m is not None and m.get("type") == "answer" and
          m.get("from") == idb, "client-supplied from is replaced", m)
    check(m is not None and pairs and pairs[-1].count("from") == 1,
          "relayed answer has exactly one from key", raw)

    # --- forged "fr\u006fm" (escaped key) on ice_candidate C -> A
    txt = ('{"type":"ice_candidate","to":"%s","fr\\u006fm":"deadbeef",'
           '"candidate":{"candidate":"c1","sdpMid":"0"}}' % ida)
    c.send_text(txt)
    raw = recv_raw(a)
    m, pairs = decode(raw) if raw else (None, [])
    check(m is not None and m.get("type") == "ice_candidate" and
          m.get("from") == idc and
          m.get("candidate") == {"candidate": "c1", "sdpMid": "0"},
          "escaped fr\\u006fm is replaced too; candidate relayed", raw)
    check(raw is not None and b"deadbeef" not in raw,
          "forged from value does not survive", raw)
    check(m is not None and pairs and pairs[-1].count("from") == 1,
          "exactly one from key (escaped duplicate dropped)", raw)
    # B must not have the ice_candidate: its next message is a marker
    send_json(c, {"type": "chat", "text": "marker-2"})
    mb = recv_json(b)
    check(mb is not None and mb.get("text") == "marker-2",
          "ice_candidate to A did not reach B", mb)
    ma = recv_json(a)
    check(ma is not None and ma.get("text") == "marker-2",
          "A gets C's broadcast", ma)

    # --- no "to": every other peer, not the sender
    send_json(a, {"type": "ice_candidate", "candidate": "c2"})
    for who, ws in (("B", b), ("C", c)):
        m = recv_json(ws)
        check(m is not None and m.get("type") == "ice_candidate" and
              m.get("candidate") == "c2" and m.get("from") == ida,
              "broadcast ice_candidate reaches %s with from" % who, m)
    send_json(a, {"type": "ping"})
    m = recv_json(a)
    check(m is not None and m.get("type") == "pong",
          "sender's next message is its pong (no echo of broadcast)", m)

    # "to": null counts as no "to"
    send_json(b, {"type": "chat", "to": None, "text": "null-to"})
    for who, ws in (("A", a), ("C", c)):
        m = recv_json(ws)
        check(m is not None and m.get("text") == "null-to",
              "to:null is a broadcast (reaches %s)" % who, m)

    # --- unknown "to"
    send_json(a, {"type": "offer", "to": "00000000", "sdp": "x"})
    m = recv_json(a)
    check(m is not None and m.get("type") == "error" and
          m.get("error") == "unknown_peer", "unknown to -> unknown_peer", m)
    check(m is not None and isinstance(m.get("detail"), str),
          "error has a detail text", m)
    # a peer of another room is unknown here
    send_json(a, {"type": "offer", "to": idd, "sdp": "x"})
    m = recv_json(a)
    check(m is not None and m.get("error") == "unknown_peer",
          "peer of room-b is unknown in room-a", m)
    still_open(a, "after unknown_peer")

    # --- room-b hears nothing of room-a
    ok, ev = quiet(d, 0.3)
    check(ok, "peer in room-b received nothing from room-a", ev)
    send_json(d, {"type": "chat", "text": "from-b"})
    for who, ws in (("A", a), ("B", b), ("C", c)):
        ok, ev = quiet(ws, 0.2)
        check(ok, "room-a peer %s received nothing from room-b" % who, ev)

    # --- peer_left on a clean close
    bye(c)
    for who, ws in (("A", a), ("B", b)):
        m = recv_json(ws)
        check(m == {"type": "peer_left", "peer_id": idc},
              "peer_left(C) reaches %s after a clean close" % who, m)
    # --- peer_left on an abrupt reset
    b.abort()
    m = recv_json(a)
    check(m == {"type": "peer_left", "peer_id": idb},
          "peer_left(B) after a TCP reset (SO_LINGER 0)", m)
    bye(a, d)


def test_room_full():
    peers = []
    try:
        for i in range(16):
            ws, w = join("full-room")
            if not (w and w.get("type") == "welcome"):
                check(False, "peer %d of 16 is welcome" % (i + 1), w)
                return
            peers.append(ws)
        check(len(w.get("peers", [])) == 15, "16th peer sees 15 others", w)
        # the first peer heard the 15 later joins
        joins = [recv_json(peers[0]) for _ in range(15)]
        check(all(j and j.get("type") == "peer_joined" for j in joins),
              "first peer got 15 peer_joined", joins)
        for ws in peers[1:]:
            drain(ws)
        x = WS(server().port, "/ws/call/full-room/")
        ev = x.collect(3.0 * SLOW)
        c = ev.close()
        check(c is not None and c[1] == 1013,
              "17th peer closed with 1013", ev)
        check(c is not None and c[2] == b"room full",
              "17th peer close reason 'room full'", ev)
        check(not ev.messages(), "17th peer gets no welcome", ev)
        x.close()
        # the 16 others were not told about a 17th peer
        ok, ev = quiet(peers[0], 0.3)
        check(ok, "members hear nothing of the refused peer", ev)
        # one leaves: a new peer fits again
        bye(peers.pop())
        ws, w = join("full-room")
        check(w is not None and w.get("type") == "welcome" and
              len(w.get("peers", [])) == 15,
              "after one leaves, a new 16th peer is welcome", w)
        peers.append(ws)
    finally:
        for ws in peers:
            ws.abort()


def test_room_freed():
    a, w = join("ephemeral")
    b, w2 = join("ephemeral")
    check(w2.get("peers") == [w["peer_id"]], "two peers in ephemeral", w2)
    bye(a, b)
    c, w3 = join("ephemeral")
    check(w3 is not None and w3.get("peers") == [],
          "rejoining an emptied room gives peers = []", w3)
    bye(c)
    # more rooms in sequence than the group pool holds: each one is freed
    # when its only peer leaves, so every join is welcome
    n, bad, t0 = group_pool() + 76, None, time.monotonic()
    for i in range(n):
        ws = WS(server().port, "/ws/call/seq-%d/" % i)
        m = recv_json(ws)
        if not (m and m.get("type") == "welcome" and m.get("peers") == []):
            bad = (i, m)
            ws.close()
            break
        ws.send_close(1000)
        ws.wait_eof(2.0 * SLOW)
        ws.close()
        if time.monotonic() - t0 > 25 * SLOW:
            bad = (i, "too slow")
            break
    check(bad is None, "%d rooms joined and left in sequence: all welcome "
          "(empty rooms are freed)" % n, bad)


def test_test_socket_room():
    a, wa = join("test-socket")
    check(wa is not None and wa.get("type") == "welcome" and
          wa.get("room") == "test-socket", "/ws/call/test-socket/ welcome",
          wa)
    b, wb = join("test-socket")
    check(wb.get("peers") == [wa["peer_id"]],
          "test-socket is an ordinary room (peers)", wb)
    recv_json(a)  # peer_joined
    send_json(b, {"type": "chat", "text": "hi"})
    m = recv_json(a)
    check(m is not None and m.get("text") == "hi" and
          m.get("from") == wb["peer_id"], "test-socket relays", m)
    bye(a, b)


def test_room_names():
    ok64 = "a" * 64
    ws, w = join(ok64)
    check(w is not None and w.get("room") == ok64,
          "64-character room name accepted", w)
    bye(ws)
    ws, w = join("A-z_0-9")
    check(w is not None and w.get("room") == "A-z_0-9",
          "room name with - and _ accepted", w)
    bye(ws)
    for name, path in (("65 characters", "/ws/call/%s/" % ("a" * 65)),
                       ("%20", "/ws/call/a%20b/"),
                       ("space-encoded only", "/ws/call/%20/"),
                       ("dot", "/ws/call/a.b/"),
                       ("empty", "/ws/call//"),
                       ("nested", "/ws/call/a/b/"),
                       ("non-ASCII", "/ws/call/%C3%A9/")):
        x = WS(server().port, path, expect_101=False)
        st = x.response.status
        check(st == 404, "invalid room name (%s) -> 404" % name,
              "got %d %r" % (st, x.response.body[:120]))
        x.close()
    check(server().healthy(), "server healthy after bad room names")


def test_bad_input():
    a, wa = join("bad-input")
    a.send_text("{not json")
    m = recv_json(a)
    check(m is not None and m.get("type") == "error" and
          m.get("error") == "invalid_json" and
          isinstance(m.get("detail"), str), "bad JSON -> error", m)
    a.send_text("[1,2,3]")
    m = recv_json(a)
    check(m is not None and m.get("type") == "error" and
          m.get("error") == "invalid_message", "non-object -> error", m)
    a.send_text('"just a string"')
    m = recv_json(a)
    check(m is not None and m.get("type") == "error",
          "JSON string -> error", m)
    a.send_text('{"to":"x","sdp":"y"}')
    m = recv_json(a)
    check(m is not None and m.get("type") == "error" and
          m.get("error") == "missing_field", "missing type -> error", m)
    a.send_text('{"type":42}')
    m = recv_json(a)
    check(m is not None and m.get("type") == "error",
          "type not a string -> error", m)
    still_open(a, "after bad input")

    # application ping
    send_json(a, {"type": "ping"})
    m = recv_json(a)
    check(m is not None and m.get("type") == "pong" and
          ISO_US.match(str(m.get("timestamp", ""))),
          "ping -> pong with ISO 8601 UTC timestamp (microseconds, Z)", m)

    # binary frame -> 1003
    a.send_binary(b"\x00\x01binary")
    ev = a.collect(3.0 * SLOW)
    check(ev.close_code() == 1003, "binary frame -> close 1003", ev)
    a.close()


def test_large_and_edge_messages():
    a, wa = join("edge-room")
    b, wb = join("edge-room")
    recv_json(a)  # peer_joined(b)
    ida, idb = wa["peer_id"], wb["peer_id"]
    # a relay near the 64 KiB message limit arrives whole
    for n in (20000, 65500):
        msg = json.dumps({"type": "chat", "text": "y" * n})
        a.send_text(msg)
        m = recv_json(b, 5.0)
        check(m is not None and m.get("text") == "y" * n and
              m.get("from") == ida,
              "relay of a %d-byte message arrives whole" % len(msg),
              None if m is None else {k: (v if k != "text" else len(v))
                                      for k, v in m.items()})
    # values are relayed verbatim (escapes, nesting, numbers)
    raw = (r'{"type":"offer","sdp":"v=0\r\no=- \"x\" \u00e9\ud83d'
           r'\ude00","n":1.5e3,"deep":{"a":[1,{"b":null}],"t":true}}')
    a.send_text(raw)
    rb = recv_raw(b)
    m = json.loads(rb) if rb else None
    check(m is not None and m.get("sdp") == 'v=0\r\no=- "x" \u00e9\U0001f600'
          and m.get("n") == 1500.0 and
          m.get("deep") == {"a": [1, {"b": None}], "t": True},
          "escaped strings and nested values relayed intact", m)
    check(rb is not None and b'"n":1.5e3' in rb,
          "numbers relayed verbatim (raw JSON text)", rb)
    # "to" that is not a peer id string
    for name, to in (("number", 12345678), ("too long", ida * 3),
                     ("object", {"id": idb})):
        send_json(a, {"type": "offer", "to": to})
        m = recv_json(a)
        check(m is not None and m.get("type") == "error" and
              m.get("error") == "unknown_peer",
              "to = %s -> unknown_peer" % name, m)
    ok, ev = quiet(b, 0.2)
    check(ok, "nothing relayed for rejected to values", ev)
    # more JSON tokens than the parser holds: an error, still open
    send_json(a, {"type": "chat", "arr": list(range(1000))})
    m = recv_json(a)
    check(m is not None and m.get("type") == "error",
          "a message with too many JSON tokens -> error", m)
    still_open(a, "after a too-complex message")
    # a peer closed by the server (protocol violation) is announced
    b.send_binary(b"x")
    m = recv_json(a)
    check(m == {"type": "peer_left", "peer_id": idb},
          "peer_left after the server closed a peer (1003)", m)
    b.close()
    bye(a)


def test_websockets_library_client():
    """Two peers on Debian's websockets client: welcome, relay, peer_left."""
    try:
        import websockets
    except ImportError:
        check(False, "python3 websockets importable (apt python3-websockets)")
        return
    uri = "ws://127.0.0.1:%d/ws/call/lib-room/" % server().port

    async def recv(ws):
        return json.loads(await asyncio.wait_for(ws.recv(), 3 * SLOW))

    async def run():
        out = {}
        async with websockets.connect(uri, open_timeout=5 * SLOW) as a:
            out["wa"] = await recv(a)
            async with websockets.connect(uri, open_timeout=5 * SLOW) as b:
                out["wb"] = await recv(b)
                out["joined"] = await recv(a)
                await b.send(json.dumps({"type": "offer", "sdp": "s",
                                         "to": out["wa"]["peer_id"]}))
                out["offer"] = await recv(a)
            out["left"] = await recv(a)
        return out

    try:
        o = asyncio.run(run())
    except Exception as e:  # noqa: BLE001
        check(False, "websockets client session", repr(e))
        return
    ida, idb = o["wa"].get("peer_id"), o["wb"].get("peer_id")
    check(o["wa"].get("type") == "welcome" and o["wa"].get("peers") == [],
          "websockets client: welcome", o["wa"])
    check(o["wb"].get("peers") == [ida], "websockets client: peers", o["wb"])
    check(o["joined"] == {"type": "peer_joined", "peer_id": idb},
          "websockets client: peer_joined", o["joined"])
    check(o["offer"].get("type") == "offer" and
          o["offer"].get("from") == idb, "websockets client: relay", o)
    check(o["left"] == {"type": "peer_left", "peer_id": idb},
          "websockets client: peer_left", o["left"])


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_relay, test_room_full, test_room_freed,
               test_test_socket_room, test_room_names, test_bad_input,
               test_large_and_edge_messages, test_websockets_library_client,
               test_server_survives])
