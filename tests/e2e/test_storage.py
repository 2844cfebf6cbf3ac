#!/usr/bin/python3
"""The storage journal (SPEC §6): doctor records, diagnoses with owners,
queued diagnosis messages (and their dropped count) and queued
notifications survive kill -9; what was delivered is not delivered
again; a torn tail and a corrupt record are cut at start with a warning
(earlier records kept); compaction shrinks the file and keeps the state;
fsync = interval works the same after a clean stop.

Issue 9: a change answered 503 on a full disk leaves nothing on disk (a
push and the drop it causes are one record) and /health, /health/ready
say storage is failing until a write succeeds again; a corrupt record in
the middle is skipped (replay resynchronises on the next good record),
the damaged file kept aside as journal.wj.corrupt-<time>; journals of
the format before the mailbox (separate push/pop records) still
replay."""

import glob
import json
import os
import resource
import signal
import struct
import sys
import tempfile
import time
import zlib

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


class FsizeServer(Server):
    """ward with SIGXFSZ ignored, so a file-size limit set on it later
    (prlimit) makes its writes fail like a full disk, instead of killing
    it."""

    def argv(self, port):
        return (["/bin/sh", "-c", 'trap "" XFSZ; exec "$@"', "sh"] +
                Server.argv(self, port))


def disk_limit(s, n):
    lim = resource.RLIM_INFINITY if n is None else n
    resource.prlimit(s.proc.pid, resource.RLIMIT_FSIZE,
                     (lim, resource.RLIM_INFINITY))


def ready_status(s):
    return http_request(s.port, "GET", "/health/ready").status


def storage_field(s):
    try:
        return http_request(s.port, "GET", "/health").json().get("storage")
    except ValueError:
        return None


def feedback(s, did, i):
    return req(s, "POST", "/ws/broadcast-feedback-update",
               {"diagnosis_id": did, "feedback_id": i, "rating": 2,
                "effectiveness": 0.5}, role="service")


def test_full_disk_503_leaves_no_trace():
    data = tempfile.mkdtemp(prefix="ward-e2e-full-")
    journal = os.path.join(data, "journal.wj")
    args = ("jwt_secret=" + SECRET, "data_dir=" + data)
    s = FsizeServer(*args, label="storage-full")
    try:
        req(s, "POST", "/api/diagnoses", {"diagnosis_id": 31})
        ok = all(feedback(s, 31, i)[0].status == 200 for i in range(100))
        for i in range(100):
            r, _j = req(s, "POST", "/api/notifications",
                        {"user_id": "u9", "notification": {"n": i}},
                        role="service")
            ok = ok and r.status == 200
        check(ok, "100 queued for diagnosis 31 and for user u9 (full)")
        check(storage_field(s) == "ok" and ready_status(s) == 200,
              "storage ok, ready before the disk fills")
        size = os.path.getsize(journal)
        # room for a small record (a pop), not for a queued message
        disk_limit(s, size + 60)
        r, j = feedback(s, 31, 100)
        check(r.status == 503, "a broadcast that would drop the oldest: "
              "503 on a full disk", (r.status, j))
        disk_limit(s, os.path.getsize(journal) + 60)
        r, j = req(s, "POST", "/api/notifications",
                   {"user_id": "u9", "notification": {"n": 100}},
                   role="service")
        check(r.status == 503, "a notification that would drop the "
              "oldest: 503", (r.status, j))
        check(os.path.getsize(journal) == size,
              "the 503s left nothing in the journal",
              (size, os.path.getsize(journal)))
        check(storage_field(s) not in (None, "ok"),
              "/health storage is not ok after a failed write",
              storage_field(s))
        check(ready_status(s) == 503, "/health/ready 503 after a failed "
              "write")
        disk_limit(s, None)
        t0 = time.monotonic()
        while ready_status(s) != 200 and time.monotonic() - t0 < 12:
            time.sleep(0.2)
        check(ready_status(s) == 200 and storage_field(s) == "ok",
              "ready again once the disk takes writes (its own probe)",
              storage_field(s))
        kill9(s)
        s = start("data_dir=" + data)
        ws = WS(s.port, "/ws/31")
        w = recv_json(ws)
        got = [recv_json(ws) for _ in range(100)]
        ws.abort()
        check(w and w.get("queued") == 100 and "dropped" not in w,
              "after a restart: 100 queued, none dropped", w)
        check([m and m["data"]["feedback_id"] for m in got] ==
              list(range(100)), "the messages answered 200, all of them")
        ws = WS(s.port, "/ws/notifications/?token=" + tok("patient", "u9"))
        got = [recv_json(ws) for _ in range(100)]
        ws.abort()
        check([m and m["data"].get("n") for m in got] == list(range(100)),
              "u9's 100 notifications, the first one included")
    finally:
        s.stop()


def doctor_ids(s):
    return sorted(int(k) for k in doctors(s))


def test_corrupt_record_in_the_middle():
    data = tempfile.mkdtemp(prefix="ward-e2e-corrupt-")
    journal = os.path.join(data, "journal.wj")
    s = start("data_dir=" + data)
    try:
        for i in range(1, 41):
            req(s, "POST", "/api/doctors", {"doctor_id": i,
                                            "name": "Doctor %d" % i})
        check(doctor_ids(s) == list(range(1, 41)), "40 doctor records")
    finally:
        s.stop()
    raw = bytearray(open(journal, "rb").read())
    first = 8 + struct.unpack("<H", bytes(raw[2:4]))[0]
    raw[first + 12] ^= 0x55          # inside the 2nd record's payload
    open(journal, "wb").write(bytes(raw))
    s = start("data_dir=" + data)
    try:
        ids = doctor_ids(s)
        check(ids == [1] + list(range(3, 41)),
              "every record after the damaged one is kept", ids)
        aside = glob.glob(journal + ".corrupt-*")
        check(len(aside) == 1 and open(aside[0], "rb").read() == raw,
              "the damaged file is kept aside, byte for byte", aside)
        log = s.log()
        check("skipped_bytes=" in log and "regions=1" in log,
              "the log says how much was skipped", log[-600:])
        r, _j = req(s, "POST", "/api/doctors", {"doctor_id": 41})
        check(r.status == 201, "writes go on", r.status)
    finally:
        s.stop()
    s = start("data_dir=" + data)
    try:
        check(doctor_ids(s) == [1] + list(range(3, 42)),
              "the rewritten journal replays whole", doctor_ids(s))
        check(len(glob.glob(journal + ".corrupt-*")) == 1 and
              "skipped" not in s.log() and "tail cut" not in s.log(),
              "and finds no damage again", s.log()[-600:])
    finally:
        s.stop()


def rec(t, payload):
    head = bytes([t]) + struct.pack("<H", len(payload))
    return (b"W" + head + struct.pack("<I", zlib.crc32(head + payload)) +
            payload)


def u64(v):
    return struct.pack("<Q", v)


def jstr(t):
    return bytes([len(t)]) + t.encode()


def frame(obj):
    p = json.dumps(obj).encode()
    return b"\x81" + bytes([len(p)]) + p


def test_old_format_replays():
    data = tempfile.mkdtemp(prefix="ward-e2e-legacy-")
    recs = [rec(10, u64(44) + u64(0) + jstr("") + u64(2))]   # dropped 2
    for seq in range(1, 5):
        recs.append(rec(12, u64(seq) + u64(44) + frame({"m": seq})))
    recs.append(rec(13, u64(1)))                             # 1 delivered
    recs.append(rec(20, u64(7) + jstr("old") + frame({"n": "a"})))
    recs.append(rec(20, u64(8) + jstr("old") + frame({"n": "b"})))
    recs.append(rec(21, u64(7)))
    open(os.path.join(data, "journal.wj"), "wb").write(b"".join(recs))
    s = start("data_dir=" + data)
    try:
        ws = WS(s.port, "/ws/44")
        w = recv_json(ws)
        got = [recv_json(ws) for _ in range(3)]
        ws.abort()
        check(w and w.get("queued") == 3 and w.get("dropped") == 2,
              "old diagnosis records: queued 3, dropped 2", w)
        check([m and m.get("m") for m in got] == [2, 3, 4],
              "old queued frames in order", got)
        ws = WS(s.port, "/ws/notifications/?token=" + tok("patient", "old"))
        m = recv_json(ws)
        check(m == {"n": "b"} and recv_json(ws, 0.3) is None,
              "old queued notification", m)
        ws.abort()
    finally:
        s.stop()
    s = start("data_dir=" + data)
    try:
        ws = WS(s.port, "/ws/44")
        w = recv_json(ws)
        ws.abort()
        check(w and w.get("queued") == 0 and "dropped" not in w,
              "delivered and acknowledged in the new records", w)
    finally:
        s.stop()


if __name__ == "__main__":
    run_tests([test_survives_kill9, test_torn_and_corrupt_tail,
               test_compaction, test_unusable_storage,
               test_full_disk_503_leaves_no_trace,
               test_corrupt_record_in_the_middle, test_old_format_replays])
