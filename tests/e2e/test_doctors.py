#!/usr/bin/python3
"""Doctor status (SPEC §3): /ws/doctor-status/ for admin, superadmin and
doctor (others: upgrade, then 1008 "access denied"), initial_status on
open, a doctor's status_update stored and broadcast to every subscriber
(sender included), non-doctors refused; PUT /api/doctors/<id>/status
(that doctor or an admin), GET /api/doctors/status, POST /api/doctors;
validation naming the field; HEAD without upgrade -> 426."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests)

SECRET = "e2e-doctors-secret-0123456789abcdef01234"
ISO_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
FIELDS = {"doctor_id", "name", "current_status", "status_note",
          "is_available", "updated_at"}
S = None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="doctors")
    return S


def tok(role, sub="1", name=None):
    return make_token(SECRET, role, name or role.title(), sub, 600)


def req(method, path, role=None, sub="1", body=None, raw=None):
    h = [("Content-Type", "application/json")]
    if role:
        h.append(("Authorization", "Bearer " + tok(role, sub)))
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else b"")
    r = http_request(server().port, method, path, h, data)
    try:
        j = r.json()
    except ValueError:
        j = None
    return r, j


def sock(role, sub="1", name=None):
    ws = WS(server().port, "/ws/doctor-status/?token=" +
            tok(role, sub, name), expect_101=False)
    return ws


def record_ok(rec):
    return isinstance(rec, dict) and set(rec) == FIELDS and \
        ISO_US.match(rec.get("updated_at", "")) is not None


def test_roles_on_socket():
    for role in ("patient", "service"):
        ws = sock(role)
        c = ws.collect(3.0).close() if ws.ok else None
        ws.close()
        check(c is not None and c[1] == 1008 and c[2] == b"access denied",
              "%s: upgrade, then 1008 access denied" % role, c)
    ws = WS(server().port, "/ws/doctor-status/", expect_101=False)
    c = ws.collect(3.0).close() if ws.ok else None
    ws.close()
    check(c is not None and c[1] == 1008, "no token: 1008", c)
    for role in ("doctor", "admin", "superadmin"):
        ws = sock(role, "50")
        m = recv_json(ws) if ws.ok else None
        ws.abort()
        check(m and m.get("type") == "initial_status" and
              isinstance(m.get("data"), list),
              "%s: initial_status list" % role, m)
    r = http_request(server().port, "HEAD", "/ws/doctor-status/")
    check(r.status == 426, "HEAD without upgrade -> 426", r.status)


def test_ws_update_broadcast():
    doc = sock("doctor", "d1", "Dr One")
    adm = sock("admin", "a1")
    try:
        recv_json(doc)
        recv_json(adm)
        doc.send_text(json.dumps({"type": "status_update", "data": {
            "current_status": "in_consultation", "status_note": "room 3",
            "is_available": False}}))
        for name, ws in (("sender", doc), ("admin", adm)):
            m = recv_json(ws)
            d = (m or {}).get("data", {})
            check(m and m.get("type") == "status_update" and record_ok(d) and
                  d["doctor_id"] == "d1" and d["name"] == "Dr One" and
                  d["current_status"] == "in_consultation" and
                  d["status_note"] == "room 3" and
                  d["is_available"] is False,
                  "%s got the full record" % name, m)
        # a partial update keeps the rest
        doc.send_text(json.dumps({"type": "status_update",
                                  "data": {"is_available": True}}))
        m = recv_json(adm)
        d = (m or {}).get("data", {})
        check(d.get("is_available") is True and
              d.get("current_status") == "in_consultation" and
              d.get("status_note") == "room 3",
              "partial update keeps the other fields", d)
        recv_json(doc)
        adm.send_text(json.dumps({"type": "status_update",
                                  "data": {"current_status": "x"}}))
        m = recv_json(adm)
        check(m and m.get("type") == "error" and
              m.get("error") == "forbidden", "admin sending: forbidden", m)
        for data, field in (({"current_status": "x" * 33},
                             "current_status"),
                            ({"is_available": "yes"}, "is_available"),
                            ({"status_note": 5}, "status_note")):
            doc.send_text(json.dumps({"type": "status_update",
                                      "data": data}))
            m = recv_json(doc)
            check(m and m.get("error") == "invalid_field" and
                  field in m.get("detail", ""),
                  "bad %s: invalid_field" % field, m)
        doc.send_text('{"type":"status_update"}')
        m = recv_json(doc)
        check(m and m.get("error") == "invalid_field", "no data: error", m)
        check(recv_json(adm, 0.3) is None, "bad updates broadcast nothing")
        ws = sock("doctor", "d2")
        m = recv_json(ws)
        ws.abort()
        ids = [x["doctor_id"] for x in (m or {}).get("data", [])]
        rec = [x for x in (m or {}).get("data", []) if
               x["doctor_id"] == "d1"]
        check("d1" in ids and rec and record_ok(rec[0]) and
              rec[0]["is_available"] is True,
              "a new subscriber's initial_status has the record", m)
    finally:
        doc.abort()
        adm.abort()


def test_rest():
    r, j = req("POST", "/api/doctors", "admin",
               body={"doctor_id": 77, "name": "Dr 77"})
    check(r.status == 201 and record_ok(j) and j["doctor_id"] == "77" and
          j["name"] == "Dr 77", "POST /api/doctors -> 201 record", (r.status,
                                                                    j))
    r, j = req("POST", "/api/doctors", "service",
               body={"doctor_id": "77", "name": "Dr Seventy-Seven"})
    check(r.status == 200 and j["name"] == "Dr Seventy-Seven",
          "again (id as text) -> 200, renamed", (r.status, j))
    r, _j = req("POST", "/api/doctors", "doctor", body={"doctor_id": 1})
    check(r.status == 403, "doctor may not POST /api/doctors", r.status)
    r, j = req("POST", "/api/doctors", "admin", body={"name": "x"})
    check(r.status == 400 and "doctor_id" in j.get("detail", ""),
          "missing doctor_id -> 400", j)
    sub_ws = sock("superadmin", "s1")
    recv_json(sub_ws)
    try:
        r, j = req("PUT", "/api/doctors/77/status", "doctor", sub="77",
                   body={"current_status": "away", "status_note": "lunch",
                         "is_available": False})
        check(r.status == 200 and record_ok(j) and
              j["current_status"] == "away" and j["status_note"] == "lunch",
              "PUT by that doctor -> 200 record", (r.status, j))
        m = recv_json(sub_ws)
        check(m and m.get("type") == "status_update" and
              m["data"]["doctor_id"] == "77" and
              m["data"]["current_status"] == "away",
              "PUT broadcast to subscribers", m)
        r, j = req("PUT", "/api/doctors/77/status", "doctor", sub="78",
                   body={"current_status": "x"})
        check(r.status == 403, "PUT by another doctor -> 403", r.status)
        r, j = req("PUT", "/api/doctors/77/status", "admin",
                   body={"status_note": None})
        check(r.status == 200 and j["status_note"] == "" and
              j["current_status"] == "away",
              "PUT by admin; null note clears it", (r.status, j))
        recv_json(sub_ws)
        r, j = req("PUT", "/api/doctors/77/status", "admin",
                   body={"is_available": 1})
        check(r.status == 400 and "is_available" in j.get("detail", ""),
              "PUT bad field -> 400 naming it", (r.status, j))
        r, _j = req("PUT", "/api/doctors/77/status", "patient",
                    body={"current_status": "x"})
        check(r.status == 403, "patient PUT -> 403", r.status)
        r, _j = req("PUT", "/api/doctors/77/status", None,
                    body={"current_status": "x"})
        check(r.status == 401, "no token PUT -> 401", r.status)
        r, _j = req("PUT", "/api/doctors/77/status", "admin", raw=b"{")
        check(r.status == 400, "bad JSON -> 400", r.status)
    finally:
        sub_ws.abort()
    r, j = req("GET", "/api/doctors/status", "doctor")
    recs = (j or {}).get("doctors", [])
    check(r.status == 200 and j.get("count") == len(recs) and
          any(x["doctor_id"] == "77" and x["current_status"] == "away"
              for x in recs) and all(record_ok(x) for x in recs),
          "GET /api/doctors/status lists the records", j)
    r, _j = req("GET", "/api/doctors/status", "patient")
    check(r.status == 403, "patient GET -> 403", r.status)


def test_doctors_file():
    import tempfile
    d = tempfile.mkdtemp(prefix="ward-e2e-doctors-")
    seed = os.path.join(d, "doctors.csv")
    with open(seed, "w") as f:
        f.write("# id,name\n11,Dr Eleven\n\n12,Dr Twelve, Jr.\r\n"
                "bad line\n11,Dr Duplicate\n")
    data = os.path.join(d, "data")

    def run(check_fn):
        s = Server("jwt_secret=" + SECRET, "doctors_file=" + seed,
                   "data_dir=" + data, label="doctors-file")
        try:
            h = [("Authorization", "Bearer " + tok("admin"))]
            r = http_request(s.port, "GET", "/api/doctors/status", h)
            recs = {x["doctor_id"]: x for x in r.json()["doctors"]}
            check_fn(s, recs)
        finally:
            s.stop()

    def first(s, recs):
        check(set(recs) == {"11", "12"} and
              recs["11"]["name"] == "Dr Eleven" and
              recs["12"]["name"] == "Dr Twelve, Jr." and
              recs["11"]["current_status"] == "offline",
              "doctors_file: two records, names with commas, first wins",
              recs)
        check("line=5" in s.log() and "created=2" in s.log(),
              "the bad line is named; two created", s.log()[-400:])
        h = [("Authorization", "Bearer " + tok("doctor", "11")),
             ("Content-Type", "application/json")]
        r = http_request(s.port, "PUT", "/api/doctors/11/status", h,
                         b'{"current_status":"in"}')
        check(r.status == 200, "a seeded doctor updates", r.status)

    def second(s, recs):
        check(recs.get("11", {}).get("current_status") == "in" and
              "created=0" in s.log(),
              "restart: the seed changes nothing, the update stays", recs)
    run(first)
    run(second)


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_roles_on_socket, test_ws_update_broadcast, test_rest,
               test_doctors_file, test_server_survives])
