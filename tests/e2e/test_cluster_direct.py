#!/usr/bin/python3
"""Several ward instances as one (issue 14), the parts after the fan-out:
cluster-wide counts in /ws/status and the admin overview, direct sends to
one socket on another instance (a call room's `to`, admin send to a socket
id), `redis_required` (/health/ready while Redis is down) and
`redis_prefix` (two clusters on one Redis).  A real redis-server on a free
loopback port (tests/e2e/test_cluster.py starts it), instances A, B, C of
the default prefix, R with redis_required, P and Q of another prefix."""

import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cluster as tc  # noqa: E402
from test_cluster import (REDIS, SECRET, quiet, recv_type,  # noqa: E402
                          redis_cmds, redis_kill, redis_start, send, tok)
from wardtest import (WS, Server, ServerError, check,  # noqa: E402
                      http_request, recv_json, run_tests)

NODES = {}
SETS = {"A": (), "B": (), "C": (), "R": ("redis_required=on",),
        "P": ("redis_prefix=other",), "Q": ("redis_prefix=other",)}


def node(name):
    n = NODES.get(name)
    if n is None or not n.alive():
        n = NODES[name] = Server("jwt_secret=" + SECRET, "rate_limit=0",
                                 "redis=127.0.0.1:%d" % REDIS["port"],
                                 *SETS[name], label="direct-" + name)
    return n


def get(name, path, role=None):
    h = [("Authorization", "Bearer " + tok(role))] if role else []
    r = http_request(node(name).port, "GET", path, h)
    try:
        return r, r.json()
    except ValueError:
        return r, {}


def post(name, path, body, role="admin"):
    h = [("Content-Type", "application/json"),
         ("Authorization", "Bearer " + tok(role))]
    r = http_request(node(name).port, "POST", path, h,
                     json.dumps(body).encode())
    try:
        return r, r.json()
    except ValueError:
        return r, {}


def ws(name, path):
    return WS(node(name).port, path)


def wait(fn, cond, timeout=8.0):
    """Poll fn() until cond(result); (ok, last result)."""
    end, j = time.monotonic() + timeout, None
    while time.monotonic() < end:
        j = fn()
        if cond(j):
            return True, j
        time.sleep(0.1)
    return False, j


def up(names, state="up", timeout=12.0):
    return wait(lambda: [get(n, "/health")[1].get("redis") for n in names],
                lambda s: all(x == state for x in s), timeout)[0]


def metric(name, key):
    return tc.metric_at(node(name).port, key)


def client_id(name, role="doctor", sub="5"):
    w = ws(name, "/ws?token=" + tok(role, sub))
    m = recv_json(w)
    return w, (m or {}).get("clientId", "")


# -------------------------------------------------------------- tests

def test_start():
    check(redis_start(), "redis-server starts on a free loopback port")
    for n in "ABC":
        node(n)
    check(up("ABC"), "A, B and C see Redis up")


def test_status_counts():
    for n, d in (("A", 701), ("B", 701), ("C", 702)):
        r, _ = post(n, "/api/diagnoses", {"diagnosis_id": d}, "service")
        check(r.status in (200, 201), "diagnosis %d registered on %s" % (d, n),
              r.status)
    held = [ws("A", "/ws/701"), ws("A", "/ws/701"), ws("B", "/ws/701"),
            ws("C", "/ws/702")]
    for w in held:
        recv_json(w)
    try:
        want = {"701": 3, "702": 1}
        ok, j = wait(lambda: get("A", "/ws/status")[1],
                     lambda j: j.get("instances") == 3 and
                     j.get("connections_by_diagnosis") == want)
        check(ok and j.get("scope") == "cluster" and
              j.get("total_connections") == 4 and
              j.get("total_diagnoses") == 2 and
              j.get("local_connections") == 2,
              "/ws/status on A: the cluster's diagnosis sockets, scope "
              "cluster, 3 instances, A's own 2 apart", j)
        ok, o = wait(lambda: get("B", "/admin/api/overview", "admin")[1],
                     lambda o: o.get("connections", {}).get("instances") == 3
                     and o["connections"].get("by_type", {})
                     .get("diagnosis") == 4)
        c = (o or {}).get("connections", {})
        check(ok and c.get("scope") == "cluster" and
              c.get("websockets", 0) >= 4 and
              c.get("local_websockets", 0) >= 1 and
              c.get("local_websockets") < c.get("websockets"),
              "admin overview on B: cluster websockets and by_type, scope, "
              "instances, B's own apart", c)
        t = time.monotonic()
        cn = node("C")
        cn.proc.kill()
        cn.proc.wait(5)
        cn.stop(check_status=False)
        ok, j = wait(lambda: get("A", "/ws/status")[1],
                     lambda j: j.get("instances") == 2 and
                     j.get("connections_by_diagnosis") == {"701": 3}, 10)
        check(ok and j.get("total_connections") == 3,
              "C killed with kill -9: /ws/status leaves it within the "
              "expiry (%.1f s)" % (time.monotonic() - t), j)
        ok, o = wait(lambda: get("A", "/admin/api/overview", "admin")[1],
                     lambda o: o.get("connections", {}).get("instances") == 2
                     and o["connections"].get("by_type", {})
                     .get("diagnosis") == 3, 5)
        check(ok, "... and the admin overview too", o)
    finally:
        for w in held:
            w.abort()
        NODES.pop("C", None)


def test_status_local_without_redis():
    s = Server("jwt_secret=" + SECRET, label="direct-alone")
    try:
        r, j = get_port(s.port, "/ws/status")
        check(r.status == 200 and "scope" not in j and
              "total_connections" in j,
              "/ws/status without Redis: local, no scope", j)
    finally:
        s.stop()


def get_port(port, path):
    r = http_request(port, "GET", path)
    try:
        return r, r.json()
    except ValueError:
        return r, {}


def test_ids_carry_the_instance():
    wa, ida = client_id("A")
    wb, idb = client_id("B")
    try:
        check(re.match(r"^[0-9a-f]{12}$", ida) and
              re.match(r"^[0-9a-f]{12}$", idb),
              "socket ids stay 12 hex digits", (ida, idb))
        check(ida[:4] != idb[:4],
              "socket ids of two instances differ in their instance tag",
              (ida, idb))
    finally:
        wa.abort()
        wb.abort()


def test_call_to():
    a = ws("A", "/ws/call/dr1/")
    wa = recv_json(a) or {}
    time.sleep(0.1)
    b = ws("B", "/ws/call/dr1/")
    recv_json(b)
    b2 = ws("B", "/ws/call/dr1/")
    recv_json(b2)
    a2 = ws("A", "/ws/call/dr1/")
    recv_json(a2)
    try:
        j = recv_type(a, "peer_joined") or {}
        pb = j.get("peer_id", "")
        for w in (a, b, b2):
            while recv_json(w, 0.3) is not None:
                pass
        pa = wa.get("peer_id", "")
        send(a, {"type": "offer", "to": pb, "sdp": "direct"})
        m = recv_json(b)
        check(m and m.get("type") == "offer" and m.get("sdp") == "direct" and
              m.get("from") == pa and m.get("to") == pb,
              "call `to` a peer on B: reaches it, from A's peer", m)
        check(quiet(b, 0.4), "... once")
        check(quiet(b2, 0.1) and quiet(a2, 0.1) and quiet(a, 0.1),
              "... and no other peer (here or there), no echo")
        for i in range(20):
            send(a, {"type": "ice_candidate", "to": pb, "n": i})
        got = [recv_json(b) for _ in range(20)]
        check([g.get("n") if g else None for g in got] == list(range(20)),
              "20 direct messages from one publisher arrive in order", got)
        send(b, {"type": "answer", "to": pa, "sdp": "back"})
        m = recv_json(a)
        check(m and m.get("sdp") == "back" and quiet(a2, 0.2),
              "call `to` from B's peer to A's: reaches it only", m)
        other = pb[:4] + "%04x" % (int(pb[4:], 16) ^ 0x5a5a)
        send(a, {"type": "offer", "to": other, "sdp": "x"})
        m = recv_json(a)
        check(m and m.get("type") == "error" and
              m.get("error") == "unknown_peer",
              "call `to` an unknown peer id with B's tag: unknown_peer "
              "(answered by B)", m)
        check(quiet(b, 0.2) and quiet(b2, 0.1), "... nothing delivered")
        tags = {pa[:4], pb[:4]}
        nobody = next("%04x" % t for t in range(0x1234, 0xffff)
                      if "%04x" % t not in tags)
        send(a, {"type": "offer", "to": nobody + "abcd", "sdp": "x"})
        m = recv_json(a)
        check(m and m.get("error") == "unknown_peer",
              "call `to` a peer of no live instance: unknown_peer", m)
    finally:
        for w in (a, a2, b, b2):
            w.abort()


def test_admin_to_socket():
    u, uid = client_id("B", sub="31")
    v, vid = client_id("A", sub="32")
    msg = {"type": "announcement", "text": "direct"}
    try:
        r, j = post("A", "/admin/api/send",
                    {"target": "socket", "id": uid, "message": msg})
        m = recv_json(u)
        check(r.status == 200 and j.get("status") in ("sent", "forwarded"),
              "admin send to a socket on B, posted to A: accepted", (r, j))
        check(m == msg, "... arrives at the socket on B", m)
        check(quiet(u, 0.4) and quiet(v, 0.1), "... once, nobody else")
        r, j = post("B", "/admin/api/send",
                    {"target": "socket", "id": vid, "message": msg})
        check(recv_json(v) == msg and quiet(u, 0.1),
              "admin send to a socket on A, posted to B", j)
        n0 = metric("B", "ward_redis_direct_unknown_total") or 0
        gone = uid[:8] + "%04x" % (int(uid[8:], 16) ^ 0x1111)
        r, j = post("A", "/admin/api/send",
                    {"target": "socket", "id": gone, "message": msg})
        ok, n1 = wait(lambda: metric("B", "ward_redis_direct_unknown_total"),
                      lambda n: n is not None and n >= n0 + 1, 3)
        check(r.status == 200 and j.get("clients_notified") == 0 and ok,
              "an unknown id with B's tag: 0 notified, B counts it unknown",
              (j, n0, n1))
        check(quiet(u, 0.2), "... and delivers nothing")
        tags = {uid[:4], vid[:4]}
        nobody = next("%04x" % t for t in range(0x4321, 0xffff)
                      if "%04x" % t not in tags)
        r, j = post("A", "/admin/api/send",
                    {"target": "socket", "id": nobody + uid[4:],
                     "message": msg})
        check(r.status == 200 and j == {"status": "sent",
                                        "clients_notified": 0},
              "an id of no live instance: sent, 0 notified (as an unknown "
              "id here)", j)
    finally:
        u.abort()
        v.abort()


def test_redis_required():
    try:
        node("R")
    except ServerError as e:
        check(False, "an instance with redis_required=on starts", e)
        return
    check(up("AR"), "A and R see Redis up")
    r = get("R", "/health/ready")[0]
    check(r.status == 200, "redis_required, Redis up: ready 200", r.status)
    redis_kill()
    try:
        check(up("AR", "down"), "Redis killed: A and R see it down")
        ra, rr = get("A", "/health/ready")[0], get("R", "/health/ready")[0]
        check(ra.status == 200,
              "Redis down, redis_required off (default): ready 200",
              ra.status)
        check(rr.status == 503 and b"redis" in rr.body,
              "Redis down, redis_required on: ready 503 naming Redis",
              (rr.status, rr.body))
    finally:
        check(redis_start(), "redis-server restarts on its port")
    check(up("AR"), "Redis back: both up")
    check(get("R", "/health/ready")[0].status == 200,
          "redis_required, Redis back: ready 200 again")


def test_prefix():
    try:
        node("P")
        node("Q")
    except ServerError as e:
        check(False, "instances with redis_prefix=other start", e)
        return
    check(up("ABPQ"), "A, B, P, Q see Redis up")
    pa, pp, pq = (ws(n, "/ws/call/shared/") for n in "APQ")
    for w in (pa, pp, pq):
        recv_json(w)
    try:
        for w in (pa, pp, pq):
            while recv_json(w, 0.3) is not None:
                pass
        send(pp, {"type": "chat", "text": "other cluster"})
        m = recv_json(pq)
        check(m and m.get("text") == "other cluster",
              "prefix other: P's room message reaches Q", m)
        check(quiet(pa, 0.4),
              "... never the same room name in the ward cluster (A)")
        send(pa, {"type": "chat", "text": "ward cluster"})
        check(quiet(pp, 0.3) and quiet(pq, 0.1),
              "ward's room message never reaches P or Q")
        ok, j = wait(lambda: get("P", "/consultation/socket-status/")[1],
                     lambda j: j.get("instances") == 2 and
                     j.get("total_sockets") == 2)
        check(ok, "P's cluster counts: its 2 instances and their 2 sockets",
              j)
        ok, j = wait(lambda: get("A", "/consultation/socket-status/")[1],
                     lambda j: j.get("instances") == 3 and
                     j.get("total_sockets") == 1)
        check(ok, "the ward cluster's counts: A, B, R only, A's 1 socket", j)
        keys = redis_cmds(("KEYS", "other:*"))
        check(b"other:counts" in keys, "P and Q write other:counts", keys)
    finally:
        for w in (pa, pp, pq):
            w.abort()
    # the shared queues use the prefix too: queued on P, in other:q:...,
    # collected on Q once, never seen by the ward cluster
    r, j = post("P", "/api/notifications",
                {"user_id": "pq1", "notification": {"k": 7}}, "service")
    check(r.status == 200 and j.get("status") == "queued",
          "a notification for a user with no socket, posted on P: queued", j)
    ok, keys = wait(lambda: redis_cmds(("KEYS", "*pq1*")),
                    lambda k: b"other:q:user:pq1" in k, 3)
    check(ok and b"ward:" not in keys,
          "it waits in other:q:user:pq1, no ward: key", keys)
    got = collect("A", "pq1")
    check(got == [], "the ward cluster (A) does not collect it", got)
    got = collect("Q", "pq1")
    check([m.get("data", {}).get("k") for m in got] == [7],
          "Q (prefix other) collects it, once", got)
    check(collect("P", "pq1") == [], "and not again on P")
    # and the shared records: registered on P, known on Q, in other:r:,
    # unknown to the ward cluster
    r, j = post("P", "/api/diagnoses", {"diagnosis_id": 7791, "owner": None},
                "service")
    check(r.status == 201, "diagnosis 7791 registered on P: 201", (r.status, j))

    def ids(name):
        return [d.get("diagnosis_id")
                for d in get(name, "/api/diagnoses", "service")[1]
                .get("diagnoses", [])]
    ok, got = wait(lambda: ids("Q"), lambda v: 7791 in v, 3)
    check(ok, "Q (prefix other) lists the diagnosis registered on P", got)
    got = redis_cmds(("HEXISTS", "other:r:diagnosis", "7791"),
                     ("HEXISTS", "ward:r:diagnosis", "7791"))
    check(got == b":1\r\n:0\r\n",
          "the record is in other:r:diagnosis, not in ward:r:diagnosis", got)
    check(7791 not in ids("A"), "the ward cluster (A) does not list it",
          ids("A"))


def collect(name, user):
    w = ws(name, "/ws/notifications/?token=" + tok("doctor", user))
    out = []
    try:
        for _ in range(20):
            m = recv_json(w, 0.5)
            if m is None:
                break
            if m.get("type") == "notification":
                out.append(m)
    finally:
        w.abort()
    return out


def test_stop():
    for n in list(NODES):
        NODES[n].stop()
    redis_kill()
    shutil.rmtree(REDIS["dir"], ignore_errors=True)


if __name__ == "__main__":
    try:
        run_tests([test_start, test_ids_carry_the_instance,
                   test_status_counts, test_status_local_without_redis,
                   test_call_to, test_admin_to_socket, test_redis_required,
                   test_prefix, test_stop])
    finally:
        redis_kill()
        tc.redis_kill()
