#!/usr/bin/python3
"""The storage journal (SPEC §6): doctor records, diagnoses with owners,
queued diagnosis messages (and their dropped count) and queued
notifications survive kill -9; what was delivered is not delivered
again; a torn tail and a corrupt record are cut at start with a warning
(earlier records kept); compaction shrinks the file and keeps the state;
fsync = interval works the same after a clean stop."""

import json
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests)

SECRET = "e2e-storage-secret-0123456789abcdef01234"
DATA = tempfile.mkdtemp(prefix="ward-e2e-storage-")
JOURNAL = os.path.join(DATA, "journal.wj")


def start(*extra):
    return Server("jwt_secret=" + SECRET, "data_dir=" + DATA, *extra,
                  label="storage")


def kill9(s):
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait(5)
    s.stop(check_status=False)


def tok(role, sub="1"):
    return make_token(SECRET, role, role.title(), sub, 600)


def req(s, method, path, body=None, role="admin", sub="1"):
    h = [("Content-Type", "application/json"),
         ("Authorization", "Bearer " + tok(role, sub))]
    r = http_request(s.port, method, path, h,
                     json.dumps(body).encode() if body is not None else b"")
    try:
        return r, r.json()
    except ValueError:
        return r, None


def doctors(s):
    _r, j = req(s, "GET", "/api/doctors/status")
    return {d["doctor_id"]: d for d in (j or {}).get("doctors", [])}


def fill(s):
    req(s, "POST", "/api/doctors", {"doctor_id": 7, "name": "Dr Seven"})
    req(s, "PUT", "/api/doctors/7/status",
        {"current_status": "surgery", "status_note": "until 3",
         "is_available": False})
    req(s, "POST", "/api/diagnoses", {"diagnosis_id": 21, "owner": "5"})
    for i in range(103):         # 3 over the bound: dropped 3
        r, j = req(s, "POST", "/ws/broadcast-feedback-update",
                   {"diagnosis_id": 21, "feedback_id": i, "rating": 2,
                    "effectiveness": 0.5}, role="service")
        if r.status != 200 or j.get("status") != "queued":
            return False
    r, j = req(s, "POST", "/api/notifications",
               {"user_id": "u1", "notification": {"k": "v"}},
               role="service")
    return r.status == 200 and j.get("status") == "queued"


def test_survives_kill9():
    s = start()
    check(fill(s), "state written (doctor, diagnosis, 103 queued, a note)")
    kill9(s)
    s = start()
    try:
        d = doctors(s).get("7")
        check(d and d["name"] == "Dr Seven" and
              d["current_status"] == "surgery" and
              d["status_note"] == "until 3" and d["is_available"] is False,
              "doctor record back after kill -9", d)
        _r, j = req(s, "GET", "/api/diagnoses")
        ds = {x["diagnosis_id"]: x for x in (j or {}).get("diagnoses", [])}
        check(21 in ds and ds[21]["owner"] == "5" and
              ds[21]["queued"] == 100,
              "diagnosis 21, owner 5, 100 queued", ds.get(21))
        ws = WS(s.port, "/ws/21?token=" + tok("patient", "5"))
        w = recv_json(ws)
        got = [recv_json(ws) for _ in range(100)]
        ws.abort()
        check(w and w.get("queued") == 100 and w.get("dropped") == 3,
              "welcome: queued 100, dropped 3 (persisted)", w)
        check([m and m["data"]["feedback_id"] for m in got] ==
              list(range(3, 103)), "the 100 newest, in order")
        ws = WS(s.port, "/ws/notifications/?token=" + tok("patient", "u1"))
        m = recv_json(ws)
        ws.abort()
        check(m and m.get("type") == "notification" and
              m["data"].get("k") == "v", "queued notification delivered", m)
    finally:
        kill9(s)
    s = start()
    try:
        ws = WS(s.port, "/ws/21?token=" + tok("patient", "5"))
        w = recv_json(ws)
        ws.abort()
        check(w and w.get("queued") == 0 and "dropped" not in w,
              "delivered ones are not delivered again after kill -9", w)
        ws = WS(s.port, "/ws/notifications/?token=" + tok("patient", "u1"))
        check(recv_json(ws, 0.4) is None, "nor the notification")
        ws.abort()
    finally:
        s.stop()


def test_torn_and_corrupt_tail():
    size = os.path.getsize(JOURNAL)
    with open(JOURNAL, "ab") as f:
        f.write(b"W\x01\x40\x00garbage")          # a torn record
    s = start()
    try:
        check(os.path.getsize(JOURNAL) == size,
              "torn tail cut back to the last good record",
              (size, os.path.getsize(JOURNAL)))
        check("torn or corrupt tail cut" in s.log(), "a warning says so")
        check(doctors(s).get("7", {}).get("current_status") == "surgery",
              "earlier records kept")
        r, _j = req(s, "PUT", "/api/doctors/7/status",
                    {"current_status": "ward round"})
        check(r.status == 200, "writes go on after the cut", r.status)
    finally:
        s.stop()
    # flip a byte inside the last record: its CRC no longer matches
    data = bytearray(open(JOURNAL, "rb").read())
    data[-3] ^= 0x55
    open(JOURNAL, "wb").write(bytes(data))
    s = start()
    try:
        st = doctors(s).get("7", {}).get("current_status")
        check(st == "surgery", "the corrupt last update is dropped, the "
              "one before it stands", st)
        check(s.alive() and s.healthy(), "no crash on a corrupt record")
    finally:
        s.stop()


def test_compaction():
    s = start("fsync=interval")
    try:
        big = "x" * 200
        t0 = time.monotonic()
        n, peak = 0, 0
        while "compacted" not in s.log() and time.monotonic() - t0 < 30:
            r, _j = req(s, "PUT", "/api/doctors/7/status",
                        {"current_status": "s%d" % (n % 10),
                         "status_note": big})
            if r.status != 200:
                break
            n += 1
            peak = max(peak, os.path.getsize(JOURNAL))
        check("compacted" in s.log(), "compacted after %d updates "
              "(the file reached %d bytes)" % (n, peak))
        check(peak >= 256 * 1024, "not before 256 KiB", peak)
        req(s, "PUT", "/api/doctors/7/status", {"current_status": "last"})
        size = os.path.getsize(JOURNAL)
        check(size < 64 * 1024, "the file is small again: %d bytes" % size)
    finally:
        s.stop()
    s = start()
    try:
        d = doctors(s).get("7", {})
        check(d.get("current_status") == "last" and
              d.get("name") == "Dr Seven" and
              d.get("status_note") == "x" * 200,
              "state after compaction and restart", d)
        check(not os.path.exists(os.path.join(DATA, "journal.tmp")),
              "no journal.tmp left behind")
    finally:
        s.stop()


def test_unusable_storage():
    blocker = os.path.join(DATA, "blocker")
    open(blocker, "w").close()
    s = Server("jwt_secret=" + SECRET,
               "data_dir=" + os.path.join(blocker, "d"),
               label="storage-bad")
    try:
        r, j = req(s, "POST", "/api/doctors", {"doctor_id": 1})
        check(r.status == 503 and j and j.get("error") == "unavailable",
              "no storage: a change answers 503", (r.status, j))
        check(doctors(s) == {}, "and memory did not change")
        r, j = req(s, "POST", "/api/diagnoses", {"diagnosis_id": 1})
        check(r.status == 503, "diagnoses too", r.status)
    finally:
        s.stop()


if __name__ == "__main__":
    run_tests([test_survives_kill9, test_torn_and_corrupt_tail,
               test_compaction, test_unusable_storage])
