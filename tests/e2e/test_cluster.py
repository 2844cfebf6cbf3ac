#!/usr/bin/python3
"""Several ward instances as one through Redis (issue 14, SPEC §8): a real
redis-server (Debian's) on a free loopback port and a Unix socket, three
ward instances (A and B by host:port, C by unix:/path).  Rooms split over
instances (call, telemedicine, whiteboard practice, STT), a diagnosis
broadcast posted to A reaching B, admin sends, 10,000 messages from two
publishers counted by sequence number (0 lost, 0 doubled, in order),
Redis killed and restarted (local fan-out goes on, /health "down",
/metrics counts what was not replicated, then replication resumes with
nothing doubled)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Closed, Server, Timeout, check, free_port,  # noqa
                      http_request, recv_json, run_tests)

SECRET = "e2e-cluster-secret-0123456789abcdef0123456789"
REDIS = {"proc": None, "port": None, "dir": None, "sock": None}
NODES = {}


# ------------------------------------------------------------ helpers

def redis_start():
    if REDIS["dir"] is None:
        REDIS["dir"] = tempfile.mkdtemp(prefix="ward-cluster-")
        REDIS["sock"] = os.path.join(REDIS["dir"], "redis.sock")
        REDIS["port"] = free_port()
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    REDIS["proc"] = subprocess.Popen(
        [exe, "--port", str(REDIS["port"]), "--bind", "127.0.0.1",
         "--unixsocket", REDIS["sock"], "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", REDIS["dir"]],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", REDIS["port"]), 0.2).close()
            if os.path.exists(REDIS["sock"]):
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def redis_kill():
    p = REDIS["proc"]
    if p is not None and p.poll() is None:
        p.kill()
        p.wait(5)
    REDIS["proc"] = None


def node(name):
    n = NODES.get(name)
    if n is None or not n.alive():
        addr = ("unix:" + REDIS["sock"] if name == "C" else
                "127.0.0.1:%d" % REDIS["port"])
        n = NODES[name] = Server("jwt_secret=" + SECRET, "rate_limit=0",
                                 "redis=" + addr, label="cluster-" + name)
    return n


def health(name):
    r = http_request(node(name).port, "GET", "/health")
    try:
        return r.json()
    except ValueError:
        return {}


def wait_redis(names, state, timeout=12.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(health(n).get("redis") == state for n in names):
            return True
        time.sleep(0.1)
    return False


def metric(name, key):
    return metric_at(node(name).port, key)


def metric_at(port, key):
    """The value of the unlabelled metric key on the ward at port."""
    r = http_request(port, "GET", "/metrics")
    for line in r.body.decode("utf-8", "replace").splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == key:
            return float(f[1])
    return None


def tok(role, sub="1", **extra):
    return make_token(SECRET, role, role.title(), sub, 600, **extra)


def req(name, method, path, body=None, role="service", sub="1"):
    h = [("Content-Type", "application/json"),
         ("Authorization", "Bearer " + tok(role, sub))]
    r = http_request(node(name).port, method, path, h,
                     json.dumps(body).encode() if body is not None else b"")
    try:
        return r, r.json()
    except ValueError:
        return r, None


def ws(name, path):
    return WS(node(name).port, path)


def send(w, obj):
    w.send_text(json.dumps(obj))


def quiet(w, t=0.3):
    return recv_json(w, t) is None


def recv_type(w, typ, timeout=3.0, limit=20):
    for _ in range(limit):
        m = recv_json(w, timeout)
        if m is None or m.get("type") == typ:
            return m
    return None


def wb(name, practice):
    """A /ws client listening to a practice (anonymous, ?practiceId=)."""
    w = ws(name, "/ws?practiceId=" + practice)
    recv_json(w)
    return w


def settle():
    """Subscriptions are one pattern per instance: nothing to wait for but
    the messages in flight; a short pause keeps checks of silence fair."""
    time.sleep(0.1)


# -------------------------------------------------------------- tests

def test_start():
    check(redis_start(), "redis-server starts on a free loopback port")
    for n in "ABC":
        node(n)
    check(wait_redis("ABC", "up"),
          "/health shows redis up on A, B (host:port) and C (unix:/path)",
          [health(n) for n in "ABC"])


def test_call_room():
    a = ws("A", "/ws/call/cr1/")
    recv_json(a)
    settle()        # a's join announced before b is in the room on B
    b = ws("B", "/ws/call/cr1/")
    recv_json(b)
    try:
        j = recv_type(a, "peer_joined")
        check(j is not None, "A's peer told of B's peer joining", j)
        send(a, {"type": "offer", "sdp": "v=0 a"})
        m = recv_json(b)
        check(m and m.get("type") == "offer" and m.get("sdp") == "v=0 a",
              "call room: A's offer reaches the peer on B", m)
        check(quiet(a), "the sender gets no copy")
        send(b, {"type": "answer", "sdp": "v=0 b"})
        m = recv_json(a)
        check(m and m.get("type") == "answer" and m.get("sdp") == "v=0 b",
              "call room: B's answer reaches the peer on A", m)
        c = ws("C", "/ws/call/cr2/")
        recv_json(c)
        send(a, {"type": "ice", "candidate": "x"})
        recv_json(b)
        check(quiet(c), "another room on C gets nothing")
        c.abort()
    finally:
        a.abort()
        b.abort()


def test_telemedicine():
    a = ws("A", "/ws")
    recv_json(a)
    b = ws("B", "/ws")
    recv_json(b)
    try:
        send(a, {"type": "telemedicine_join", "roomId": "tm1",
                 "userId": "u1", "userName": "Ann"})
        recv_json(a)
        settle()    # u1's join announced before u2 is in the room on B
        send(b, {"type": "telemedicine_join", "roomId": "tm1",
                 "userId": "u2", "userName": "Bob"})
        recv_json(b)
        m = recv_type(a, "telemedicine_user_joined")
        check(m and m.get("userId") == "u2",
              "telemedicine: A told u2 (on B) joined", m)
        send(b, {"type": "telemedicine_ice_candidate", "candidate": "c1"})
        m = recv_json(a)
        check(m and m.get("candidate") == "c1" and m.get("from") == "u2",
              "telemedicine: ICE from B reaches A", m)
        send(a, {"type": "telemedicine_chat_message", "message": "hi"})
        got = [recv_json(x) for x in (a, b)]
        check(all(g and g.get("message") == "hi" for g in got),
              "telemedicine chat: sender on A and peer on B, once each", got)
        check(quiet(a) and quiet(b), "no second copy anywhere")
    finally:
        a.abort()
        b.abort()


def test_whiteboard_split():
    la, lb, lc = wb("A", "pr1"), wb("B", "pr1"), wb("C", "pr1")
    other = wb("B", "pr2")
    s = ws("A", "/ws")
    recv_json(s)
    try:
        send(s, {"type": "subscribe", "practiceId": "pr1"})
        recv_json(s)
        send(s, {"type": "whiteboard_update", "practiceId": "pr1",
                 "data": {"stroke": 1}})
        for n, w in (("A", la), ("B", lb), ("C", lc)):
            m = recv_json(w)
            check(m and m.get("type") == "whiteboard_update" and
                  m.get("data") == {"stroke": 1},
                  "practice split: listener on %s gets the stroke" % n, m)
        check(all(quiet(w, 0.2) for w in (la, lb, lc, s)),
              "exactly once each, none to the sender")
        check(quiet(other, 0.1), "another practice on B gets nothing")
    finally:
        for w in (la, lb, lc, other, s):
            w.abort()


def test_stt_split():
    spk = ws("A", "/ws/stt/room/?role=doctor&name=Smith&room=sr1")
    recv_json(spk)
    l1 = ws("B", "/ws/stt/room/?role=patient&name=Pat&room=sr1")
    recv_json(l1)
    l2 = ws("C", "/ws/stt/room/?role=patient&name=Pam&room=sr1")
    recv_json(l2)
    adm = ws("B", "/ws/stt/admin/?token=" + tok("admin"))
    try:
        for w in (spk, l1, l2):
            while recv_json(w, 0.3) is not None:
                pass
        send(spk, {"type": "transcript", "text": "hello", "final": True})
        for n, w in (("B", l1), ("C", l2)):
            m = recv_type(w, "transcript")
            check(m and m.get("text") == "hello",
                  "STT: speaker on A, listener on %s gets the segment" % n, m)
        m = recv_type(adm, "transcript")
        check(m and m.get("text") == "hello",
              "STT admin monitor on B sees the segment from A", m)
    finally:
        for w in (spk, l1, l2, adm):
            w.abort()


RECO = {"old_data": {"dose": 1}, "new_data": {"dose": 2}, "reason": "lab"}


def test_diagnosis_broadcast():
    for n in "AB":
        r, _ = req(n, "POST", "/api/diagnoses",
                   {"diagnosis_id": 4401, "owner": None})
    c = WS(node("B").port, "/ws/4401")
    recv_json(c)
    try:
        r, j = req("A", "POST", "/ws/broadcast-recommendation-update",
                   dict(RECO, diagnosis_id=4401))
        check(r.status == 200, "broadcast posted to A: 200", (r.status, j))
        m = recv_json(c)
        check(m and m.get("type") == "recommendation_update" and
              m.get("diagnosis_id") == 4401,
              "diagnosis broadcast posted to A reaches its client on B", m)
        check(quiet(c), "once")
    finally:
        c.abort()


def test_admin_send():
    u = WS(node("C").port, "/ws?token=" + tok("doctor", "77"))
    recv_json(u)
    p = wb("B", "pr9")
    try:
        msg = {"type": "notice", "text": "from admin"}
        req("A", "POST", "/admin/api/send",
            {"target": "user", "id": "77", "message": msg}, role="admin")
        m = recv_json(u)
        check(m == msg, "admin send to a user: posted to A, user on C", m)
        req("A", "POST", "/admin/api/send",
            {"target": "practice", "id": "pr9", "message": msg},
            role="admin")
        m = recv_json(p)
        check(m == msg, "admin send to a practice: posted to A, client on B",
              m)
        check(quiet(u, 0.1) and quiet(p, 0.1), "once each")
    finally:
        u.abort()
        p.abort()


def reader(w, out, want, deadline):
    """Read practice updates into out until want arrive or the deadline."""
    while len(out) < want and time.monotonic() < deadline:
        try:
            _op, pl = w.recv_message(max(0.1, deadline - time.monotonic()))
        except (Timeout, Closed, OSError):
            break
        try:
            out.append(json.loads(pl)["data"])
        except (ValueError, KeyError, TypeError):
            pass


def test_ten_thousand():
    n_each = 5000
    rx = wb("B", "seq")
    pubs = []
    for n in "AC":
        s = ws(n, "/ws")
        recv_json(s)
        send(s, {"type": "subscribe", "practiceId": "seq"})
        recv_json(s)
        pubs.append((n, s))
    got = []
    t = threading.Thread(target=reader, args=(rx, got, 2 * n_each,
                                              time.monotonic() + 30))
    t.start()
    t0 = time.monotonic()
    try:
        for i in range(0, n_each, 250):
            for n, s in pubs:
                batch = b"".join(
                    WS_frame({"type": "whiteboard_update",
                              "practiceId": "seq",
                              "data": {"p": n, "s": k}})
                    for k in range(i + 1, i + 251))
                s.send(batch)
            time.sleep(0.01)
        t.join(35)
        dt = time.monotonic() - t0
        seqs = {"A": [], "C": []}
        for d in got:
            seqs.get(d.get("p"), []).append(d.get("s"))
        for n in "AC":
            s = seqs[n]
            check(len(s) == n_each and len(set(s)) == n_each,
                  "10,000 across instances: publisher on %s: %d of %d, "
                  "0 lost, 0 duplicated" % (n, len(s), n_each),
                  (len(s), len(set(s))))
            check(s == sorted(s), "publisher on %s: in order" % n)
        print("  (10,000 messages A+C -> B in %.2f s)" % dt)
        check(metric("B", "ward_redis_seq_gaps_total") == 0,
              "B saw no sequence gap from any publisher")
    finally:
        for _n, s in pubs:
            s.abort()
        rx.abort()


def redis_cmds(*cmds):
    """Send RESP commands to the suite's Redis; the raw replies."""
    out = b""
    for args in cmds:
        out += b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
    s = socket.create_connection(("127.0.0.1", REDIS["port"]), 3)
    got, end = b"", time.monotonic() + 3
    try:
        s.sendall(out)
        while got.count(b"\r\n") < len(cmds) and time.monotonic() < end:
            got += s.recv(65536)
    finally:
        s.close()
    return got


def test_outside_publisher():
    la, lb = wb("A", "ext"), wb("B", "ext")
    u = WS(node("C").port, "/ws?token=" + tok("doctor", "u 1/x"))
    recv_json(u)
    try:
        bad0 = metric("A", "ward_redis_malformed_total")
        got = redis_cmds(
            ("PUBLISH", "ward:g:practice:ext",
             'w1 x-billing 1 t\n{"type":"notice","n":1}'),
            ("PUBLISH", "ward:u:u%201%2Fx",
             'w1 x-billing 2 t\n{"type":"notice","n":2}'),
            ("PUBLISH", "ward:g:practice:ext", b"w1 x-billing 3 t\n\xff\xfe"),
            ("PUBLISH", "ward:g:practice:ext", "no header"))
        check(got.startswith(b":"), "outside PUBLISH accepted by Redis", got)
        for n, w in (("A", la), ("B", lb)):
            m = recv_json(w)
            check(m == {"type": "notice", "n": 1},
                  "an outside service publishes into a practice: %s" % n, m)
        m = recv_json(u)
        check(m == {"type": "notice", "n": 2},
              "an outside service publishes to a user (escaped id) on C", m)
        check(quiet(la) and quiet(lb),
              "not UTF-8 text and a bad header: not delivered")
        bad1 = metric("A", "ward_redis_malformed_total")
        check(bad0 is not None and bad1 is not None and bad1 - bad0 == 2,
              "both counted in ward_redis_malformed_total", (bad0, bad1))
    finally:
        for w in (la, lb, u):
            w.abort()


def WS_frame(obj):
    from wardtest import frame
    return frame(1, json.dumps(obj).encode())


def test_outage():
    a1, a2, b1 = wb("A", "out"), wb("A", "out"), wb("B", "out")
    s = ws("A", "/ws")
    recv_json(s)
    send(s, {"type": "subscribe", "practiceId": "out"})
    recv_json(s)
    try:
        before = metric("A", "ward_redis_not_replicated_total")
        redis_kill()
        check(wait_redis("AB", "down", 8),
              "Redis killed: /health shows redis down on A and B",
              [health(n) for n in "AB"])
        r = http_request(node("A").port, "GET", "/health/ready")
        check(r.status == 200, "/health/ready stays 200 while Redis is down",
              r.status)
        for k in range(3):
            send(s, {"type": "whiteboard_update", "practiceId": "out",
                     "data": {"down": k}})
        for n, w in (("a1", a1), ("a2", a2)):
            got = [recv_json(w) for _ in range(3)]
            check([g and g.get("data") for g in got] ==
                  [{"down": 0}, {"down": 1}, {"down": 2}],
                  "outage: local fan-out on A goes on (%s)" % n, got)
        check(quiet(b1, 0.3), "outage: B gets nothing (not replayed later)")
        after = metric("A", "ward_redis_not_replicated_total")
        check(before is not None and after is not None and
              after - before >= 3, "/metrics counts messages not replicated",
              (before, after))
        check(metric("A", "ward_redis_connected") == 0,
              "ward_redis_connected 0 while down")
        check(redis_start(), "redis-server restarted on the same port")
        check(wait_redis("ABC", "up", 12),
              "replication resumes: /health redis up again without restart",
              [health(n) for n in "ABC"])
        send(s, {"type": "whiteboard_update", "practiceId": "out",
                 "data": {"up": 1}})
        for n, w in (("a1", a1), ("a2", a2), ("b1", b1)):
            m = recv_json(w)
            check(m and m.get("data") == {"up": 1},
                  "after the return: %s gets the update" % n, m)
        check(all(quiet(w, 0.3) for w in (a1, a2, b1)),
              "nothing doubled, the outage's messages not replayed")
        check(metric("A", "ward_redis_downs_total") >= 1,
              "ward_redis_downs_total counts the outage")
    finally:
        for w in (a1, a2, b1, s):
            w.abort()


# ------------------------------------------------- shared queues (Redis)

def drain_all(w, t=0.4):
    """Every message until the socket is quiet for t seconds (bounded)."""
    out = []
    for _ in range(50):
        m = recv_json(w, t)
        if m is None:
            break
        out.append(m)
    return out


def diag_ws(name, did):
    w = ws(name, "/ws/%d" % did)
    hello = recv_json(w)
    return w, hello


def note_ws(name, user):
    return ws(name, "/ws/notifications/?token=" + tok("doctor", user))


def collect(name, path_fn, *args):
    w = path_fn(name, *args)
    w = w[0] if isinstance(w, tuple) else w
    try:
        return drain_all(w)
    finally:
        w.abort()


def updates(msgs, typ):
    return [m for m in msgs if m.get("type") == typ]


def test_shared_queue_diagnosis():
    for n in "AB":
        req(n, "POST", "/api/diagnoses", {"diagnosis_id": 4402, "owner": None})
    r, j = req("A", "POST", "/ws/broadcast-recommendation-update",
               dict(RECO, diagnosis_id=4402))
    check(r.status == 200 and j and j.get("status") == "queued",
          "diagnosis broadcast with no client anywhere: queued", (r.status, j))
    time.sleep(0.3)     # whatever is in flight between instances lands
    got = collect("B", diag_ws, 4402)
    check(len(updates(got, "recommendation_update")) == 1,
          "a queued diagnosis message posted on A is collected on B, once",
          got)
    got = collect("A", diag_ws, 4402)
    check(updates(got, "recommendation_update") == [],
          "and not again on A (no per-instance copy)", got)
    got = collect("B", diag_ws, 4402)
    check(updates(got, "recommendation_update") == [],
          "nor on B a second time", got)


def test_shared_queue_notification():
    r, j = req("A", "POST", "/api/notifications",
               {"user_id": "q1", "notification": {"k": 1}})
    check(r.status == 200 and j and j.get("status") == "queued",
          "notification for a user with no socket: queued", (r.status, j))
    time.sleep(0.3)     # whatever is in flight between instances lands
    got = collect("B", note_ws, "q1")
    check([m.get("data", {}).get("k") for m in got] == [1],
          "a queued notification posted on A is collected on B, once", got)
    got = collect("A", note_ws, "q1")
    check(got == [], "and not again on A", got)
    got = collect("C", note_ws, "q1")
    check(got == [], "nor on C", got)


def queue_state(key, drops):
    """(LLEN key, the dropped counter) as raw replies."""
    return redis_cmds(("LLEN", key), ("GET", drops))


def test_shared_queue_trim():
    # Posts alternate between A and C.  Order across two publishers is
    # not promised (each answers before its write reaches Redis), so each
    # post waits until its entry is in the list before the next one.
    for k in range(103):
        r, j = req("A" if k % 2 else "C", "POST", "/api/notifications",
                   {"user_id": "q5", "notification": {"k": k}})
        if r.status != 200:
            break
        n, d = min(k + 1, 100), k + 1 - 100
        want = b":%d\r\n" % n + (b"$%d\r\n%d\r\n" % (len(str(d)), d)
                                  if d > 0 else b"$-1\r\n")
        end = time.monotonic() + 3
        while (queue_state("ward:q:user:q5", "ward:q:dropped:user") != want
               and time.monotonic() < end):
            time.sleep(0.005)
    check(r.status == 200, "103 notifications posted on A and C", r.status)
    end = time.monotonic() + 3    # the last EVAL may follow the answer
    while time.monotonic() < end:
        got = redis_cmds(("GET", "ward:q:dropped:user"))
        if got == b"$1\r\n3\r\n":
            break
        time.sleep(0.05)
    time.sleep(0.1)
    n = redis_cmds(("LLEN", "ward:q:user:q5"))
    check(n == b":100\r\n", "the shared list keeps 100 per key", n)
    check(got == b"$1\r\n3\r\n", "the 3 oldest dropped are counted", got)
    w = note_ws("B", "q5")
    try:
        got = []
        for _ in range(120):
            m = recv_json(w, 2.0)
            if m is None:
                break
            got.append(m.get("data", {}).get("k"))
    finally:
        w.abort()
    check(got == list(range(3, 103)),
          "collected on B: the newest 100, oldest first, once",
          got[:5] + ["..."] + got[-3:])


def test_live_elsewhere_not_queued():
    for n in "AB":
        req(n, "POST", "/api/diagnoses", {"diagnosis_id": 4403, "owner": None})
    c, _ = diag_ws("B", 4403)
    u = note_ws("B", "q3")
    time.sleep(0.2)
    try:
        req("A", "POST", "/ws/broadcast-recommendation-update",
            dict(RECO, diagnosis_id=4403))
        req("A", "POST", "/api/notifications",
            {"user_id": "q3", "notification": {"k": 3}})
        got = drain_all(c)
        check(len(updates(got, "recommendation_update")) == 1,
              "diagnosis message posted on A, client live on B: once", got)
        got = drain_all(u)
        check([m.get("data", {}).get("k") for m in got] == [3],
              "notification posted on A, user live on B: once", got)
    finally:
        c.abort()
        u.abort()
    time.sleep(0.2)
    for n in "AB":
        got = collect(n, diag_ws, 4403)
        check(updates(got, "recommendation_update") == [],
              "the live-delivered diagnosis message was not queued (%s)" % n,
              got)
        got = collect(n, note_ws, "q3")
        check(got == [], "the live-delivered notification was not queued "
              "(%s)" % n, got)


def test_queue_outage():
    for n in "AB":
        req(n, "POST", "/api/diagnoses", {"diagnosis_id": 4404, "owner": None})
    redis_kill()
    check(wait_redis("AB", "down", 8), "Redis killed for the queue outage")
    r, j = req("A", "POST", "/api/notifications",
               {"user_id": "q4", "notification": {"k": 4}})
    check(r.status == 200 and j and j.get("status") == "queued",
          "outage: a notification is queued in the local journal",
          (r.status, j))
    r, j = req("A", "POST", "/ws/broadcast-recommendation-update",
               dict(RECO, diagnosis_id=4404))
    check(r.status == 200 and j and j.get("status") == "queued",
          "outage: a diagnosis message is queued locally", (r.status, j))
    check(redis_start(), "redis-server restarted")
    check(wait_redis("ABC", "up", 12), "Redis back on A, B and C")
    end = time.monotonic() + 5
    lens = None
    while time.monotonic() < end:
        got = redis_cmds(("LLEN", "ward:q:user:q4"),
                         ("LLEN", "ward:q:diagnosis:4404"))
        lens = got
        if got == b":1\r\n:1\r\n":
            break
        time.sleep(0.1)
    check(lens == b":1\r\n:1\r\n",
          "the local entries were pushed to Redis once the link returned",
          lens)
    got = collect("B", note_ws, "q4")
    check([m.get("data", {}).get("k") for m in got] == [4],
          "the outage's notification collected on B, once", got)
    got = collect("B", diag_ws, 4404)
    check(len(updates(got, "recommendation_update")) == 1,
          "the outage's diagnosis message collected on B, once", got)
    got = collect("A", note_ws, "q4")
    check(got == [], "nothing left on A (removed locally)", got)
    got = collect("A", diag_ws, 4404)
    check(updates(got, "recommendation_update") == [],
          "nothing left on A for the diagnosis either", got)
    r = http_request(node("A").port, "GET", "/metrics")
    depth = [ln for ln in r.body.decode().splitlines()
             if ln.startswith("ward_queue_depth")]
    check(depth and all(ln.split()[-1] in ("0", "0.0") for ln in depth),
          "A's local queue depth is 0 again", depth)


def status(name):
    r = http_request(node(name).port, "GET", "/consultation/socket-status/")
    try:
        return r.json()
    except ValueError:
        return {}


def wait_status(name, cond, timeout=8.0):
    end = time.monotonic() + timeout
    j = {}
    while time.monotonic() < end:
        j = status(name)
        if cond(j):
            return True, j
        time.sleep(0.1)
    return False, j


def test_cluster_counts():
    ok, base = wait_status("C", lambda j: j.get("instances") == 3 and
                           j.get("total_sockets") == 0)
    check(ok and base.get("scope") == "cluster",
          "socket status on C: scope cluster, 3 instances, 0 sockets", base)
    t0 = 0
    d = node("D")
    held = [ws("A", "/ws/call/cc1/"), ws("A", "/ws/call/cc1/")] + \
        [ws("D", "/ws/call/cc1/") for _ in range(4)]
    try:
        ok, j = wait_status("C", lambda j: j.get("instances") == 4 and
                            j.get("total_sockets") == t0 + 6)
        check(ok, "a 4th instance and 6 sockets (2 on A, 4 on D) counted "
              "on C", (t0, j))
        check(j.get("sockets_by_type", {}).get("call", 0) >= 6 and
              j.get("local_sockets") == 0,
              "cluster sockets_by_type; C's own sockets apart", j)
        t = time.monotonic()
        d.proc.kill()
        d.proc.wait(5)
        d.stop(check_status=False)      # reaped: only the log is checked
        ok, j = wait_status("C", lambda j: j.get("instances") == 3 and
                            j.get("total_sockets") == t0 + 2, 10)
        check(ok, "D killed with kill -9: it leaves the totals within "
              "its expiry (%.1f s)" % (time.monotonic() - t), j)
    finally:
        for w in held:
            w.abort()
        NODES.pop("D", None)


def test_stop():
    for n in "ABC":
        node(n).stop()
    redis_kill()
    shutil.rmtree(REDIS["dir"], ignore_errors=True)


if __name__ == "__main__":
    try:
        run_tests([test_start, test_call_room, test_telemedicine,
                   test_whiteboard_split, test_stt_split,
                   test_diagnosis_broadcast, test_admin_send,
                   test_outside_publisher,
                   test_ten_thousand, test_outage,
                   test_shared_queue_diagnosis, test_shared_queue_notification,
                   test_shared_queue_trim,
                   test_live_elsewhere_not_queued, test_queue_outage,
                   test_cluster_counts,
                   test_stop])
    finally:
        redis_kill()
