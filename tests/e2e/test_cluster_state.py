#!/usr/bin/python3
"""Records shared through Redis (issue 14): diagnosis registrations and
doctor records made on any instance are known on every instance.  A real
redis-server on a free loopback port and three ward instances (A, B by
host:port, C by unix:/path; test_cluster's helpers), later a fourth (D)
started after the changes, and a fifth over a snapshot larger than its
table.  Registration, update and delete replicate; a doctor record changed
on A reads back on B; Redis killed, changes made, Redis restarted: the
other instance has them within seconds, once, the newer change winning
when both sides changed; an instance killed with kill -9 keeps its
records (journal) and learns those made while it was down (Redis)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cluster as tc  # noqa: E402
from test_cluster import (RECO, node, quiet, redis_cmds, redis_kill,  # noqa
                          redis_start, req, wait_redis)
from wardtest import WS, Server, check, recv_json, run_tests  # noqa: E402

EXTRA = []      # instances this suite starts besides A, B and C


def diag_ids(name):
    r, j = req(name, "GET", "/api/diagnoses")
    if r.status != 200 or not j:
        return None
    return [d["diagnosis_id"] for d in j.get("diagnoses", [])]


def diag(name, did):
    r, j = req(name, "GET", "/api/diagnoses")
    for d in (j or {}).get("diagnoses", []):
        if d.get("diagnosis_id") == did:
            return d
    return None


def doctors(name):
    r, j = req(name, "GET", "/api/doctors/status", role="admin")
    return (j or {}).get("doctors", []) if r.status == 200 else []


def doctor(name, did):
    for d in doctors(name):
        if d.get("doctor_id") == did:
            return d
    return None


def until(fn, timeout=3.0):
    """fn() until it is true (bounded); its last value."""
    end = time.monotonic() + timeout
    v = fn()
    while not v and time.monotonic() < end:
        time.sleep(0.05)
        v = fn()
    return v


def hlen(family):
    got = redis_cmds(("HLEN", "ward:r:" + family))
    return int(got[1:].split(b"\r\n")[0]) if got.startswith(b":") else None


TOMBS = ("local n = 0 for _, v in ipairs(redis.call('HVALS', KEYS[1])) "
         "do if string.find(v, ' d\\n', 1, true) then n = n + 1 end end "
         "return n")


def put_status(name, did, body):
    return req(name, "PUT", "/api/doctors/%s/status" % did, body,
               role="admin")


# -------------------------------------------------------------- tests

def test_start():
    check(redis_start(), "redis-server starts on a free loopback port")
    for n in "ABC":
        node(n)
    check(wait_redis("ABC", "up"), "A, B and C have Redis up")


def test_register_replicates():
    r, j = req("A", "POST", "/api/diagnoses",
               {"diagnosis_id": 7701, "owner": None})
    check(r.status == 201, "diagnosis 7701 registered on A: 201",
          (r.status, j))
    check(until(lambda: diag("B", 7701)) is not None,
          "B lists the diagnosis registered on A", diag_ids("B"))
    c = WS(node("B").port, "/ws/7701")
    hello = recv_json(c)
    try:
        check(hello and hello.get("type") == "welcome",
              "a client opens diagnosis 7701 on B (welcome, not 1008)",
              hello)
        r, j = req("C", "POST", "/ws/broadcast-recommendation-update",
                   dict(RECO, diagnosis_id=7701))
        check(r.status == 200, "a broadcast for 7701 posted on C: 200",
              (r.status, j))
        m = recv_json(c)
        check(m and m.get("type") == "recommendation_update" and
              m.get("diagnosis_id") == 7701,
              "the broadcast posted on C reaches the client on B", m)
        check(quiet(c), "once")
    finally:
        c.abort()


def test_update_delete():
    r, j = req("B", "POST", "/api/diagnoses",
               {"diagnosis_id": 7701, "owner": "u9"})
    check(r.status == 200 and j.get("owner") == "u9",
          "7701 updated on B (owner u9): 200", (r.status, j))
    got = until(lambda: (diag("A", 7701) or {}).get("owner") == "u9" and
                (diag("C", 7701) or {}).get("owner") == "u9")
    check(got, "A and C read the new owner",
          (diag("A", 7701), diag("C", 7701)))
    a = WS(node("A").port, "/ws/7701?token=" + tc.tok("doctor", "u9"))
    hello = recv_json(a)
    check(hello and hello.get("type") == "welcome",
          "the owner's client opens 7701 on A", hello)
    r, j = req("C", "DELETE", "/api/diagnoses/7701")
    check(r.status == 200, "7701 deleted on C: 200", (r.status, j))
    try:
        c = a.collect(3.0).close()
        check(c and c[1] == 1008 and c[2] == b"diagnosis deleted",
              "the client on A is closed 1008 by the delete made on C", c)
    finally:
        a.abort()
    gone = until(lambda: all(diag_ids(n) is not None and
                             7701 not in diag_ids(n) for n in "AB"))
    check(gone, "A and B no longer list 7701",
          (diag_ids("A"), diag_ids("B")))
    r, _ = req("A", "POST", "/ws/broadcast-feedback-update",
               {"diagnosis_id": 7701, "feedback_id": 1, "rating": 3,
                "effectiveness": 0.5})
    check(r.status == 404, "a broadcast for the deleted 7701 on A: 404",
          r.status)


def test_doctor_record():
    s = WS(node("B").port, "/ws/doctor-status/?token=" + tc.tok("admin"))
    recv_json(s)            # initial_status
    try:
        r, j = put_status("A", "d77", {"current_status": "busy",
                                       "status_note": "in surgery",
                                       "is_available": False})
        check(r.status == 200, "d77's status set on A: 200", (r.status, j))
        d = until(lambda: (doctor("B", "d77") or {}).get(
            "current_status") == "busy" and doctor("B", "d77"))
        check(d and d.get("status_note") == "in surgery" and
              d.get("is_available") is False,
              "B reads d77's record as A set it", d)
        m = recv_json(s)
        check(m and m.get("type") == "status_update" and
              m["data"]["doctor_id"] == "d77",
              "B's status subscriber was told once", m)
        check(quiet(s), "only once")
        r, j = put_status("B", "d77", {"is_available": True})
        check(r.status == 200, "d77 changed again on B", (r.status, j))
        d = until(lambda: (doctor("A", "d77") or {}).get("is_available")
                  is True and doctor("A", "d77"))
        check(d and d.get("current_status") == "busy",
              "A reads B's change, the other fields kept", d)
        n = [x["doctor_id"] for x in doctors("C")].count("d77")
        check(n == 1, "C holds d77 once", doctors("C"))
    finally:
        s.abort()


def test_malformed_messages():
    bad = [b"", b"d77", b"d77 -", b"d77 - x", b"d77 - 12 x s",
           b"d77 - abc x s\n{}", b"d77 - 99999999999999999999 x s\n{}",
           b"d77 - 99999999999999999 x s\n{not json",
           b"d77 - 99999999999999999 x s\n[1]",
           b"d77 - 99999999999999999 x q\n{}",
           b"%zz - 99999999999999999 x s\n{}",
           b"d77 - 99999999999999999 x s\n{\"is_available\":3}",
           b"d77 - 99999999999999999 " + b"i" * 40 + b" s\n{}",
           b"x" * 200 + b" - 99999999999999999 x s\n{}"]
    before = doctor("B", "d77")
    redis_cmds(*[("PUBLISH", "ward:a:r.doctors", b"w1 x-test 0 t\n" + m)
                 for m in bad] + [("PUBLISH", "ward:a:r.nosuch",
                                   b"w1 x-test 0 t\nk - 1 x s\n{}")])
    time.sleep(0.3)
    check(node("B").healthy(), "malformed record messages: B serves on")
    check(doctor("B", "d77") == before,
          "and its record of d77 is unchanged", (before, doctor("B", "d77")))
    check(len(doctors("B")) == len(doctors("A")),
          "no record made from them", [x["doctor_id"] for x in doctors("B")])


def test_outage():
    req("A", "POST", "/api/diagnoses", {"diagnosis_id": 7703, "owner": "a0"})
    check(until(lambda: diag("B", 7703)) is not None,
          "7703 known on B before the outage")
    sub = WS(node("B").port, "/ws/doctor-status/?token=" + tc.tok("admin"))
    recv_json(sub)          # initial_status
    redis_kill()
    check(wait_redis("AB", "down", 8), "Redis killed: A and B see it down")
    r, _ = req("A", "POST", "/api/diagnoses",
               {"diagnosis_id": 7702, "owner": None})
    check(r.status == 201, "outage: 7702 registered on A (local journal)",
          r.status)
    r, _ = put_status("A", "d78", {"current_status": "away"})
    check(r.status == 200, "outage: d78's status set on A", r.status)
    r, _ = req("A", "POST", "/api/diagnoses",
               {"diagnosis_id": 7703, "owner": "a1"})
    time.sleep(0.05)        # B's change is the later one
    r2, _ = req("B", "POST", "/api/diagnoses",
                {"diagnosis_id": 7703, "owner": "b1"})
    check(r.status == 200 and r2.status == 200,
          "outage: 7703 changed on A, then on B", (r.status, r2.status))
    check(diag("B", 7702) is None and doctor("B", "d78") is None,
          "during the outage B does not know A's changes (documented)")
    check(redis_start(), "redis-server restarted (empty)")
    check(wait_redis("ABC", "up", 12), "Redis back on A, B and C")
    t0 = time.monotonic()
    ok = until(lambda: diag("B", 7702) is not None and
               (doctor("B", "d78") or {}).get("current_status") == "away",
               4)
    check(ok, "B has A's outage changes within seconds (%.1f s)"
          % (time.monotonic() - t0), (diag_ids("B"), doctor("B", "d78")))
    ok = until(lambda: all((diag(n, 7703) or {}).get("owner") == "b1"
                           for n in "ABC"), 4)
    told = [m for m in tc.drain_all(sub, 0.5)
            if m.get("type") == "status_update" and
            m["data"]["doctor_id"] == "d78"]
    sub.abort()
    check(len(told) == 1 and told[0]["data"]["current_status"] == "away",
          "B's status subscriber is told of A's outage change once", told)
    check(ok, "both sides changed 7703: the newer (B's) wins everywhere",
          [diag(n, 7703) for n in "ABC"])
    check(diag_ids("B").count(7702) == 1 and
          [x["doctor_id"] for x in doctors("B")].count("d78") == 1,
          "nothing doubled on B")
    got = redis_cmds(("HEXISTS", "ward:r:diagnosis", "7702"),
                     ("HEXISTS", "ward:r:doctors", "d78"))
    check(got == b":1\r\n:1\r\n", "both records are in Redis again", got)


def test_late_instance():
    d = Server("jwt_secret=" + tc.SECRET, "rate_limit=0",
               "redis=127.0.0.1:%d" % tc.REDIS["port"], label="state-D")
    EXTRA.append(d)
    tc.NODES["D"] = d
    ok = until(lambda: diag("D", 7702) is not None and
               diag("D", 7703) is not None and
               doctor("D", "d77") is not None and
               doctor("D", "d78") is not None, 5)
    check(ok, "an instance started after the changes loads them",
          (diag_ids("D"), [x["doctor_id"] for x in doctors("D")]))
    check((diag("D", 7703) or {}).get("owner") == "b1" and
          (doctor("D", "d77") or {}).get("is_available") is True,
          "with their latest versions", (diag("D", 7703), doctor("D", "d77")))
    check(7701 not in (diag_ids("D") or [7701]),
          "the deleted 7701 is not resurrected", diag_ids("D"))


def test_kill9_restart():
    a = node("A")
    a.proc.kill()
    a.proc.wait(5)
    r, _ = req("B", "POST", "/api/diagnoses",
               {"diagnosis_id": 7704, "owner": None})
    check(r.status == 201, "7704 registered on B while A is dead", r.status)
    r, _ = put_status("C", "d79", {"current_status": "ward round"})
    check(r.status == 200, "d79 set on C while A is dead", r.status)
    time.sleep(0.2)
    a.start()
    check(diag("A", 7702) is not None and diag("A", 7703) is not None and
          doctor("A", "d78") is not None,
          "A restarted after kill -9 keeps its records (journal)",
          (diag_ids("A"), [x["doctor_id"] for x in doctors("A")]))
    ok = until(lambda: diag("A", 7704) is not None and
               (doctor("A", "d79") or {}).get("current_status") ==
               "ward round", 5)
    check(ok, "and learns what was made while it was down (Redis)",
          (diag_ids("A"), doctor("A", "d79")))
    check(7701 not in (diag_ids("A") or [7701]) and
          diag_ids("A").count(7704) == 1,
          "nothing resurrected or doubled on A", diag_ids("A"))


def test_snapshot_over_capacity():
    cap = 1024      # WARD_DIAGNOSES of the default build
    now = int(time.time() * 1e6)
    cmds = [("HSET", "ward:r:diagnosis") + tuple(
        x for k in range(900000 + i, 900000 + i + 100)
        for x in (str(k), "%d x-test s\n{\"owner\":null}" % now))
        for i in range(0, 1100, 100)]
    redis_cmds(*cmds)
    got = redis_cmds(("EVAL", TOMBS, "1", "ward:r:diagnosis"))
    tombs = int(got[1:].split(b"\r\n")[0]) if got[:1] == b":" else -1
    total = hlen("diagnosis") - tombs   # a tombstone takes no slot
    check(tombs >= 0 and total > cap,
          "Redis holds more registrations than one table", total)
    e = Server("jwt_secret=" + tc.SECRET, "rate_limit=0",
               "redis=127.0.0.1:%d" % tc.REDIS["port"], label="state-E")
    EXTRA.append(e)
    tc.NODES["E"] = e
    n = until(lambda: len(diag_ids("E") or []) >= cap and
              tc.metric("E", "ward_redis_state_refused_total"), 8)
    check(len(diag_ids("E") or []) == cap,
          "the new instance fills its table", len(diag_ids("E") or []))
    refused = tc.metric("E", "ward_redis_state_refused_total")
    check(n and refused == total - cap,
          "the rest is refused per record and counted", (refused, total))
    check("shared record refused" in e.log(), "with a log line")
    check(e.healthy(), "and the instance serves on")
    redis_cmds(("DEL", "ward:r:diagnosis"))
    e.stop()


def test_stop():
    for s in EXTRA:
        s.stop()
    for n in "ABC":
        node(n).stop()
    redis_kill()


if __name__ == "__main__":
    try:
        run_tests([test_start, test_register_replicates, test_update_delete,
                   test_doctor_record, test_malformed_messages, test_outage, test_late_instance,
                   test_kill9_restart, test_snapshot_over_capacity,
                   test_stop])
    finally:
        redis_kill()
