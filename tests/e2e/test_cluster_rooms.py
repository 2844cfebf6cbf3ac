#!/usr/bin/python3
"""Rooms across instances (issue 14): what a member learns of the members
on other instances, and a telemedicine `to` naming a user elsewhere.  A
real redis-server on a free loopback port (tests/e2e/test_cluster.py
starts it), instances A and B from the start, D started later (it missed
the joins before it came up).

- telemedicine: an offer with `to` (a userId, or a clientId) from A
  reaches only the named member on B, once, 20 in order; a `to` naming
  nobody here nor there reaches nobody;
- call rooms: a newcomer on B learns a peer already on A (and the other
  way round), exactly once each: in its welcome's `peers`, or (D, which
  missed the join) as one `peer_joined` right after it; peer_left
  crosses and the peer is then in no later welcome;
- telemedicine_joined lists the members on other instances, or (D) they
  follow as telemedicine_user_joined, once each;
- room full (16 peers) counts the peers of every instance;
- alone again (the others stopped), a `to` naming nobody is unknown_peer
  as without Redis."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cluster as tc  # noqa: E402
from test_cluster import (REDIS, SECRET, recv_type, redis_kill,  # noqa: E402
                          redis_start, send)
from wardtest import (WS, Server, check, http_request,  # noqa: E402
                      recv_json, run_tests)

NODES = {}


def node(name):
    n = NODES.get(name)
    if n is None or not n.alive():
        n = NODES[name] = Server("jwt_secret=" + SECRET, "rate_limit=0",
                                 "redis=127.0.0.1:%d" % REDIS["port"],
                                 label="rooms-" + name)
    return n


def ws(name, path):
    return WS(node(name).port, path)


def up(names, timeout=12.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ok = True
        for n in names:
            try:
                j = http_request(node(n).port, "GET", "/health").json()
            except ValueError:
                j = {}
            ok = ok and j.get("redis") == "up"
        if ok:
            return True
        time.sleep(0.1)
    return False


def instances(name, want, timeout=8.0):
    """Wait until name's counts see `want` live instances."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            j = http_request(node(name).port, "GET", "/ws/status").json()
        except ValueError:
            j = {}
        if j.get("instances") == want:
            return True
        time.sleep(0.1)
    return False


def drain(w, t=0.4):
    out = []
    while True:
        m = recv_json(w, t)
        if m is None:
            return out
        out.append(m)


def tm(name, room, user, uname):
    """A /ws client joined to telemedicine room `room`: (ws, joined msg,
    its clientId)."""
    w = ws(name, "/ws")
    c = recv_json(w) or {}
    send(w, {"type": "telemedicine_join", "roomId": room, "userId": user,
             "userName": uname})
    return w, recv_type(w, "telemedicine_joined") or {}, c.get("clientId")


def call(name, room):
    w = ws(name, "/ws/call/%s/" % room)
    return w, recv_json(w) or {}


def close_all(ws_list):
    for w in ws_list:
        try:
            w.abort()
        except OSError:
            pass


# -------------------------------------------------------------- tests

def test_start():
    check(redis_start(), "redis-server starts on a free loopback port")
    for n in "AB":
        node(n)
    check(up("AB"), "A and B see Redis up")
    check(instances("A", 2) and instances("B", 2),
          "A and B see each other in the counts")


def test_telemedicine_to():
    a1, _, _ = tm("A", "tt1", "u1", "Ann")
    time.sleep(0.1)
    b1, j1, _ = tm("B", "tt1", "u2", "Bob")
    b2, _, b2id = tm("B", "tt1", "u3", "Cy")
    a2, _, _ = tm("A", "tt1", "u4", "Di")
    every = (a1, a2, b1, b2)
    try:
        time.sleep(0.3)
        for w in every:
            drain(w, 0.2)
        for i in range(20):
            send(a1, {"type": "telemedicine_offer", "to": "u2", "n": i,
                      "sdp": "v=0 %d" % i})
        got = [recv_json(b1) for _ in range(20)]
        check([g.get("n") if g else None for g in got] == list(range(20)) and
              all(g.get("type") == "telemedicine_offer" and
                  g.get("from") == "u1" and g.get("to") == "u2"
                  for g in got),
              "telemedicine `to` u2 (on B) from u1 (on A): 20 offers reach "
              "it, in order, from u1", got)
        extra = drain(b1, 0.4)
        check(extra == [], "... each once", extra)
        others = [drain(w, 0.1) for w in (a1, a2, b2)]
        check(others == [[], [], []],
              "... and no other member (here or there), no echo", others)
        send(b1, {"type": "telemedicine_answer", "to": "u4", "sdp": "back"})
        m = recv_json(a2)
        check(m and m.get("type") == "telemedicine_answer" and
              m.get("sdp") == "back" and m.get("from") == "u2",
              "`to` u4 (on A) from u2 (on B): reaches it", m)
        check([drain(w, 0.1) for w in (a1, b2)] == [[], []],
              "... only", None)
        send(a1, {"type": "telemedicine_ice_candidate", "to": b2id,
                  "candidate": "c9"})
        m = recv_json(b2)
        check(m and m.get("candidate") == "c9" and m.get("from") == "u1",
              "`to` a clientId of B: reaches that member", m)
        send(a1, {"type": "telemedicine_offer", "to": "nobody", "sdp": "x"})
        left = [drain(w, 0.3) for w in every]
        check(left == [[], [], [], []],
              "`to` naming nobody in the cluster reaches nobody", left)
        send(a1, {"type": "telemedicine_offer", "to": "u1", "sdp": "self"})
        left = [drain(w, 0.3) for w in every]
        check(left == [[], [], [], []],
              "`to` naming only the sender reaches nobody", left)
        parts = sorted(p.get("userId") for p in j1.get("participants", []))
        check(parts == ["u1"],
              "telemedicine_joined on B lists u1 on A (remembered)", j1)
    finally:
        close_all(every)


def test_telemedicine_to_nobody():
    """Another instance live: a `to` naming nobody here may name a member
    there, so it is published and not answered."""
    w, _, _ = tm("A", "tt2", "v1", "Vi")
    try:
        send(w, {"type": "telemedicine_offer", "to": "ghost", "sdp": "x"})
        m = recv_json(w, 1.0)
        check(m is None,
              "two instances live: a `to` naming nobody here is published, "
              "no unknown_peer (B may hold it)", m)
    finally:
        w.abort()


def test_call_newcomer():
    p, wp = call("A", "nr1")
    time.sleep(0.2)
    n, wn = call("B", "nr1")
    try:
        pid, nid = wp.get("peer_id"), wn.get("peer_id")
        rest = drain(n, 0.5)
        told = wn.get("peers", []).count(pid) + sum(
            1 for m in rest if m.get("type") == "peer_joined" and
            m.get("peer_id") == pid)
        check(told == 1 and pid in wn.get("peers", []),
              "newcomer on B: the peer on A in its welcome, exactly once",
              (wn, rest))
        got = drain(p, 0.5)
        check([m.get("peer_id") for m in got
               if m.get("type") == "peer_joined"] == [nid],
              "the peer on A is told of the newcomer on B once", got)
        q, wq = call("A", "nr1")
        rest = drain(q, 0.5)
        check(sorted(wq.get("peers", [])) == sorted([pid, nid]) and
              [m for m in rest if m.get("type") == "peer_joined"] == [],
              "newcomer on A: the peer on B (and A's own) in its welcome, "
              "once", (wq, rest))
        for w in (p, n):
            drain(w, 0.2)
        n.abort()
        m = recv_type(p, "peer_left")
        check(m and m.get("peer_id") == nid,
              "peer_left of B's peer crosses to A", m)
        m2 = recv_type(q, "peer_left")
        check(m2 and m2.get("peer_id") == nid and drain(p, 0.3) == [],
              "... to each peer on A, once", (m2,))
        r, wr = call("B", "nr1")
        check(sorted(wr.get("peers", [])) == sorted([pid, wq.get(
              "peer_id")]), "a later newcomer on B: the two on A, not the "
              "peer that left", wr)
        check(drain(r, 0.5) == [], "... and no peer_joined after it")
        r.abort()
        q.abort()
    finally:
        close_all((p, n))


def test_late_instance():
    """D starts after the peers joined: it never saw their joins, so its
    newcomer's welcome lists D's own only and the others follow as one
    peer_joined each (their instances' roster answers)."""
    a, wa = call("A", "lr1")
    b, wb = call("B", "lr1")
    ta, _, _ = tm("A", "lt1", "w1", "Wa")
    tb, _, _ = tm("B", "lt1", "w2", "Wb")
    held = [a, b, ta, tb]
    try:
        for w in held:
            drain(w, 0.3)
        node("D")
        check(up("D") and instances("D", 3) and instances("A", 3),
              "D up and counted")
        d, wd = call("D", "lr1")
        held.append(d)
        rest = drain(d, 0.6)
        joined = sorted(m.get("peer_id") for m in rest
                        if m.get("type") == "peer_joined")
        check(wd.get("peers") == [] and
              joined == sorted([wa.get("peer_id"), wb.get("peer_id")]),
              "newcomer on D: welcome empty, then peer_joined of A's and "
              "B's peers, once each", (wd, rest))
        for w in (a, b):
            got = [m.get("peer_id") for m in drain(w, 0.4)
                   if m.get("type") == "peer_joined"]
            check(got == [wd.get("peer_id")],
                  "A's and B's peers told of D's newcomer once", got)
        td, jd, _ = tm("D", "lt1", "w3", "Wd")
        held.append(td)
        rest = drain(td, 0.6)
        check(jd.get("participants") == [] and
              sorted(m.get("userId") for m in rest
                     if m.get("type") == "telemedicine_user_joined") ==
              ["w1", "w2"],
              "telemedicine newcomer on D: the members on A and B follow "
              "as telemedicine_user_joined, once each", (jd, rest))
        for w in (ta, tb):
            got = [m.get("userId") for m in drain(w, 0.4)
                   if m.get("type") == "telemedicine_user_joined"]
            check(got == ["w3"], "A's and B's members told of w3 once", got)
        send(td, {"type": "telemedicine_offer", "to": "w1", "sdp": "d"})
        m = recv_json(ta)
        check(m and m.get("sdp") == "d" and drain(tb, 0.3) == [],
              "`to` from D reaches w1 on A only", m)
        a2, wa2 = call("A", "lr1")
        held.append(a2)
        check(sorted(wa2.get("peers", [])) == sorted(
              [wa.get("peer_id"), wb.get("peer_id"), wd.get("peer_id")]) and
              drain(a2, 0.5) == [],
              "a newcomer on A: A's, B's and D's peers in its welcome, "
              "nothing after", wa2)
    finally:
        close_all(held)


def test_room_full_cluster():
    peers = []
    try:
        for i in range(16):
            w, m = call("AB"[i % 2], "fr1")
            peers.append(w)
            if m.get("type") != "welcome":
                check(False, "peer %d of 16 welcome" % (i + 1), m)
                return
            time.sleep(0.05)
        time.sleep(0.3)
        for name in "AB":
            x = WS(node(name).port, "/ws/call/fr1/")
            ev = x.collect(3.0)
            c = ev.close()
            check(c is not None and c[1] == 1013 and c[2] == b"room full",
                  "17th peer on %s (8 here, 8 on the other): 1013 room full"
                  % name, ev)
            x.close()
    finally:
        close_all(peers)


def test_alone_again():
    """The other instances stopped and out of the counts: a `to` naming
    nobody is unknown_peer at once, as without Redis."""
    for n in "BD":
        NODES.pop(n).stop()
    check(instances("A", 1), "A alone in the counts")
    w, _, _ = tm("A", "tt3", "v1", "Vi")
    try:
        send(w, {"type": "telemedicine_offer", "to": "ghost", "sdp": "x"})
        m = recv_json(w, 2.0)
        check(m and m.get("type") == "error" and
              m.get("error") == "unknown_peer",
              "A alone: `to` naming nobody answered unknown_peer", m)
    finally:
        w.abort()


def test_stop():
    for n in list(NODES):
        NODES[n].stop()
    redis_kill()


if __name__ == "__main__":
    try:
        run_tests([test_start, test_telemedicine_to,
                   test_telemedicine_to_nobody, test_call_newcomer,
                   test_late_instance, test_room_full_cluster,
                   test_alone_again, test_stop])
    finally:
        redis_kill()
        tc.redis_kill()
