#!/usr/bin/python3
"""The audit trail (SPEC §10): channel opens and refusals (diagnosis,
notifications, doctor status) and diagnosis broadcasts, one key=value
line each in data_dir/audit.log, no payload and no token in it;
GET /admin/api/audit?lines=N (admin); the file rotates to audit.log.1
and stays bounded."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests)

SECRET = "e2e-audit-secret-0123456789abcdef012345678"
S = None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="audit")
    return S


def tok(role, sub="1"):
    return make_token(SECRET, role, role.title(), sub, 600)


def req(method, path, body=None, role="service", sub="1"):
    h = [("Content-Type", "application/json"),
         ("Authorization", "Bearer " + tok(role, sub))]
    r = http_request(server().port, method, path, h,
                     json.dumps(body).encode() if body is not None else b"")
    try:
        return r, r.json()
    except ValueError:
        return r, None


def lines(n=100):
    r, j = req("GET", "/admin/api/audit?lines=%d" % n, role="admin")
    return r, (j or {}).get("lines", [])


def test_events():
    port = server().port
    req("POST", "/api/diagnoses", {"diagnosis_id": 61, "owner": "u61"})
    secret_token = tok("patient", "u61")
    ws = WS(port, "/ws/61?token=" + secret_token)
    recv_json(ws)
    ws.abort()
    bad = WS(port, "/ws/61?token=" + tok("patient", "intruder"),
             expect_101=False)
    bad.collect(2.0)
    bad.close()
    nf = WS(port, "/ws/notifications/?token=" + tok("patient", "u61"))
    nf.abort()
    ds = WS(port, "/ws/doctor-status/?token=" + tok("patient", "p9"),
            expect_101=False)
    ds.collect(2.0)
    ds.close()
    req("POST", "/ws/broadcast-feedback-update",
        {"diagnosis_id": 61, "feedback_id": 1, "rating": 5,
         "effectiveness": 0.25})
    r, ls = lines()
    text = "\n".join(ls)
    check(r.status == 200 and ls, "GET /admin/api/audit -> lines",
          r.status)
    want = [
        ("channel_open", "sub=u61", "channel=diagnosis id=61"),
        ("channel_refused", "sub=intruder", "reason=\"access denied\""),
        ("channel_open", "sub=u61", "channel=notifications"),
        ("channel_refused", "sub=p9", "channel=doctor_status"),
        ("broadcast", "role=service", "diagnosis=61 kind=feedback"),
    ]
    for ev, who, what in want:
        hit = [x for x in ls if "event=" + ev in x and who in x and
               what in x]
        check(hit and hit[0].startswith("ts=20"),
              "audit has %s %s %s" % (ev, who, what), ls[-6:])
    check(secret_token not in text and secret_token.split(".")[2] not in
          text and "0.25" not in text,
          "no token and no payload in the audit lines")
    r, ls2 = lines(2)
    check(len(ls2) == 2 and ls2 == ls[-2:], "?lines=2: the newest two",
          ls2)
    for q in ("lines=0", "lines=5000", "lines=x"):
        r, _j = req("GET", "/admin/api/audit?" + q, role="admin")
        check(r.status == 400, "?%s -> 400" % q, r.status)
    r, _j = req("GET", "/admin/api/audit", role="doctor")
    check(r.status == 403, "doctor -> 403", r.status)


def test_rotation():
    path = os.path.join(server().data_dir, "audit.log")
    old = path + ".1"
    n = 0
    while not os.path.exists(old) and n < 5000:
        req("POST", "/ws/broadcast-feedback-update",
            {"diagnosis_id": 61, "feedback_id": n, "rating": 1,
             "effectiveness": 0})
        n += 1
    check(os.path.exists(old), "rotated to audit.log.1 after %d events" % n)
    check(os.path.getsize(old) <= 256 * 1024 and
          os.path.getsize(path) <= 256 * 1024, "both files bounded",
          (os.path.getsize(old), os.path.getsize(path)))
    _r, ls = lines(3)
    check(len(ls) >= 1 and "event=broadcast" in ls[-1],
          "the API reads the new file", ls)


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_events, test_rotation, test_server_survives])
