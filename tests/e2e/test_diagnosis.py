#!/usr/bin/python3
"""Diagnosis channels (SPEC §5): registration (POST/GET/DELETE
/api/diagnoses), /ws/<id> access (not found, owner, admin/service,
unowned), welcome with queued count, the three broadcast endpoints with
validation naming the field, offline queue of 100 with oldest dropped
and counted, GET /ws/status maps, delete closing sockets."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests)

SECRET = "e2e-diagnosis-secret-0123456789abcdef0123"
S = None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="diag")
    return S


def tok(role, sub="1"):
    return make_token(SECRET, role, role.title(), sub, 600)


def req(method, path, role="service", sub="1", body=None, raw=None):
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


def register(did, owner=None):
    return req("POST", "/api/diagnoses", body={"diagnosis_id": did,
                                               "owner": owner})


def open_ws(did, role=None, sub="1"):
    path = "/ws/%s" % did + ("?token=" + tok(role, sub) if role else "")
    return WS(server().port, path, expect_101=False)


def refused(ws):
    c = ws.collect(3.0).close() if ws.ok else None
    ws.close()
    return c


def status():
    r = http_request(server().port, "GET", "/ws/status")
    return r.json()


RECO = {"old_data": {"dose": 1, "drug": "a", "gone": True},
        "new_data": {"dose": 2, "drug": "a", "new": "x"}, "reason": "lab"}


def test_registry():
    r, j = register(101, "7")
    check(r.status == 201 and j == {"diagnosis_id": 101, "owner": "7",
                                    "connections": 0, "queued": 0,
                                    "dropped": 0},
          "register 101 owned by 7 -> 201", (r.status, j))
    r, j = register(101, 7)
    check(r.status == 200 and j["owner"] == "7", "again -> 200", j)
    r, j = register(102)
    check(r.status == 201 and j["owner"] is None, "unowned 102", j)
    for body, field in (({"owner": "x"}, "diagnosis_id"),
                        ({"diagnosis_id": 0}, "diagnosis_id"),
                        ({"diagnosis_id": "5"}, "diagnosis_id"),
                        ({"diagnosis_id": 5, "owner": True}, "owner")):
        r, j = req("POST", "/api/diagnoses", body=body)
        check(r.status == 400 and field in j.get("detail", ""),
              "400 naming %s" % field, (r.status, j))
    r, _j = req("POST", "/api/diagnoses", role="doctor",
                body={"diagnosis_id": 9})
    check(r.status == 403, "doctor may not register", r.status)
    r, j = req("GET", "/api/diagnoses", role="admin")
    ids = [x["diagnosis_id"] for x in (j or {}).get("diagnoses", [])]
    check(r.status == 200 and {101, 102} <= set(ids) and
          j["count"] == len(ids), "list has 101 and 102", j)
    r, _j = req("DELETE", "/api/diagnoses/999")
    check(r.status == 404, "delete unknown -> 404", r.status)


def test_access():
    c = refused(open_ws(555))
    check(c and c[1] == 1008 and c[2] == b"diagnosis not found",
          "unknown diagnosis: 1008 diagnosis not found", c)
    c = refused(open_ws(101))
    check(c and c[1] == 1008 and c[2] == b"access denied",
          "owned, no token: access denied", c)
    c = refused(open_ws(101, "patient", "8"))
    check(c and c[1] == 1008 and c[2] == b"access denied",
          "owned by 7, user 8: access denied", c)
    for role, sub in (("patient", "7"), ("admin", "1"), ("service", "2")):
        ws = open_ws(101, role, sub)
        m = recv_json(ws) if ws.ok else None
        ws.abort()
        check(m and m.get("type") == "welcome" and
              m.get("diagnosis_id") == 101 and m.get("queued") == 0,
              "%s %s: welcome" % (role, sub), m)
    ws = open_ws(102)
    m = recv_json(ws) if ws.ok else None
    ws.abort()
    check(m and m.get("type") == "welcome", "unowned: anonymous welcome", m)


def test_broadcasts():
    a, b = open_ws(102), open_ws(102, "doctor", "3")
    recv_json(a)
    recv_json(b)
    try:
        r, j = req("POST", "/ws/broadcast-recommendation-update",
                   body=dict(RECO, diagnosis_id=102))
        check(r.status == 200 and j == {"status": "broadcasted",
                                        "diagnosis_id": 102,
                                        "clients_notified": 2},
              "recommendation: broadcasted to 2", (r.status, j))
        for ws in (a, b):
            m = recv_json(ws)
            d = (m or {}).get("data", {})
            check(m and m.get("type") == "recommendation_update" and
                  m.get("diagnosis_id") == 102 and
                  d.get("old_recommendation") == RECO["old_data"] and
                  d.get("new_recommendation") == RECO["new_data"] and
                  d.get("reason") == "lab" and
                  sorted(d.get("changed_fields", [])) ==
                  ["dose", "gone", "new"],
                  "recommendation_update with changed_fields", m)
        r, j = req("POST", "/ws/broadcast-effectiveness-update",
                   body={"diagnosis_id": 102, "recommendation_id": 4,
                         "new_effectiveness": 0.8, "confidence": 1,
                         "sample_size": 0})
        m = recv_json(a)
        recv_json(b)
        d = (m or {}).get("data", {})
        check(r.status == 200 and m.get("type") == "effectiveness_update" and
              d.get("recommendation_id") == 4 and
              d.get("new_effectiveness") == 0.8 and d.get("sample_size") == 0,
              "effectiveness_update", m)
        r, j = req("POST", "/ws/broadcast-feedback-update", role="admin",
                   body={"diagnosis_id": 102, "feedback_id": 9,
                         "rating": 5, "effectiveness": 0})
        m = recv_json(b)
        recv_json(a)
        check(r.status == 200 and m.get("type") == "feedback_update" and
              m["data"].get("rating") == 5, "feedback_update", m)
        st = status()
        check(st.get("connections_by_diagnosis", {}).get("102") == 2 and
              st.get("total_connections", 0) >= 2 and
              st.get("total_diagnoses", 0) >= 1,
              "/ws/status counts the two", st)
    finally:
        a.abort()
        b.abort()


def test_validation_and_callers():
    bad = [
        ("/ws/broadcast-effectiveness-update",
         {"diagnosis_id": 102, "recommendation_id": 1,
          "new_effectiveness": 1.5, "confidence": 0.5, "sample_size": 1},
         "new_effectiveness"),
        ("/ws/broadcast-effectiveness-update",
         {"diagnosis_id": 102, "recommendation_id": 1,
          "new_effectiveness": 0.5, "confidence": -0.1, "sample_size": 1},
         "confidence"),
        ("/ws/broadcast-effectiveness-update",
         {"diagnosis_id": 102, "recommendation_id": 1,
          "new_effectiveness": 0.5, "confidence": 0.5, "sample_size": -1},
         "sample_size"),
        ("/ws/broadcast-effectiveness-update",
         {"diagnosis_id": 102, "recommendation_id": "x",
          "new_effectiveness": 0.5, "confidence": 0.5, "sample_size": 1},
         "recommendation_id"),
        ("/ws/broadcast-feedback-update",
         {"diagnosis_id": 102, "feedback_id": 1, "rating": 6,
          "effectiveness": 0.5}, "rating"),
        ("/ws/broadcast-feedback-update",
         {"diagnosis_id": 102, "feedback_id": 1, "rating": 2.5,
          "effectiveness": 0.5}, "rating"),
        ("/ws/broadcast-recommendation-update",
         dict(RECO, diagnosis_id=102, old_data=[1]), "old_data"),
        ("/ws/broadcast-recommendation-update",
         dict(RECO, diagnosis_id=102, reason=1), "reason"),
        ("/ws/broadcast-recommendation-update",
         dict(RECO, diagnosis_id=-1), "diagnosis_id"),
    ]
    for path, body, field in bad:
        r, j = req("POST", path, body=body)
        check(r.status == 400 and field in (j or {}).get("detail", ""),
              "400 naming %s" % field, (r.status, j))
    r, _j = req("POST", "/ws/broadcast-recommendation-update",
                body=dict(RECO, diagnosis_id=777))
    check(r.status == 404, "unknown diagnosis -> 404", r.status)
    r, _j = req("POST", "/ws/broadcast-recommendation-update", role=None,
                body=dict(RECO, diagnosis_id=101))
    check(r.status == 401, "no token -> 401", r.status)
    r, _j = req("POST", "/ws/broadcast-recommendation-update",
                role="patient", sub="8", body=dict(RECO, diagnosis_id=101))
    check(r.status == 403, "not the owner -> 403", r.status)
    r, j = req("POST", "/ws/broadcast-recommendation-update",
               role="patient", sub="7", body=dict(RECO, diagnosis_id=101))
    check(r.status == 200 and j.get("status") == "queued",
          "the owner may broadcast (queued: nobody there)", (r.status, j))
    ws = open_ws(101, "patient", "7")     # takes that one
    recv_json(ws)
    recv_json(ws)
    ws.abort()


def test_queue():
    register(300)
    for i in range(105):
        r, j = req("POST", "/ws/broadcast-feedback-update",
                   body={"diagnosis_id": 300, "feedback_id": i,
                         "rating": 1, "effectiveness": 0})
        if r.status != 200 or j.get("status") != "queued":
            check(False, "queued %d" % i, (r.status, j))
            return
    st = status()
    check(st.get("queued_messages_by_diagnosis", {}).get("300") == 100,
          "/ws/status: 100 queued for 300", st)
    ws = open_ws(300)
    w = recv_json(ws)
    check(w and w.get("queued") == 100 and w.get("dropped") == 5,
          "welcome: queued 100, dropped 5", w)
    got = []
    for _ in range(100):
        m = recv_json(ws)
        if m is None:
            break
        got.append(m["data"]["feedback_id"])
    check(got == list(range(5, 105)), "the newest 100, in order",
          (len(got), got[:3]))
    check(recv_json(ws, 0.3) is None, "nothing more")
    ws.abort()
    ws = open_ws(300)
    w = recv_json(ws)
    ws.abort()
    check(w and w.get("queued") == 0 and "dropped" not in w,
          "next welcome: empty queue, no dropped", w)


def test_idempotent_queue():
    register(500)
    h = [("Content-Type", "application/json"),
         ("Authorization", "Bearer " + tok("service")),
         ("Idempotency-Key", "feedback-500-1")]
    body = json.dumps({"diagnosis_id": 500, "feedback_id": 1, "rating": 4,
                       "effectiveness": 0.5}).encode()
    for _ in range(3):
        r = http_request(server().port, "POST",
                         "/ws/broadcast-feedback-update", h, body)
    check(r.status == 200 and r.json().get("status") == "queued",
          "retries answer queued", r.body)
    check(status().get("queued_messages_by_diagnosis", {}).get("500") == 1,
          "Idempotency-Key: three posts, one queued message", status())


def test_delete():
    register(400)
    ws = open_ws(400)
    recv_json(ws)
    r, j = req("DELETE", "/api/diagnoses/400", role="admin")
    check(r.status == 200 and j == {"status": "deleted",
                                    "diagnosis_id": 400}, "delete 400", j)
    c = ws.collect(3.0).close()
    ws.close()
    check(c and c[1] == 1008, "its socket closed 1008", c)
    c = refused(open_ws(400))
    check(c and c[2] == b"diagnosis not found", "gone", c)


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_registry, test_access, test_broadcasts,
               test_validation_and_callers, test_queue,
               test_idempotent_queue, test_delete,
               test_server_survives])
