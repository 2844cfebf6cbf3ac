#!/usr/bin/python3
"""The faces of ward (issue 13, SPEC §7): GET / (HTML, or JSON for Accept:
application/json), the dashboard page, the embedded /static/ files with
their Content-Type, ETag and 304, and the admin read endpoints the
dashboard uses (GET /admin/api/sockets, /admin/api/rooms; admin only,
bounded), plus the overview's Redis/TLS state."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (WS, Server, check, http_request, recv_json,  # noqa
                      run_tests)

SECRET = "e2e-web-secret-0123456789abcdef0123456789"
S = None
HERE = os.path.dirname(os.path.abspath(__file__))
WEB = os.path.join(HERE, "..", "..", "src", "web")


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, "rate_limit=0", label="web")
    return S


def get(path, headers=(), role=None, method="GET"):
    h = list(headers)
    if role:
        h.append(("Authorization", "Bearer " +
                  make_token(SECRET, role, role.title(), "1", 600)))
    return http_request(server().port, method, path, h)


def test_index():
    r = get("/", [("Accept", "text/html,application/xhtml+xml,*/*")])
    body = r.body.decode()
    check(r.status == 200 and r.header("content-type", "").startswith(
        "text/html"), "GET / is HTML for a browser", (r.status, r.headers))
    for link in ("/docs", "/admin/websocket-admin", "/health", "/metrics"):
        check('href="%s"' % link in body, "index links " + link)
    check("@VERSION@" not in body and "0." in body, "index names the version")
    r = get("/", [("Accept", "application/json")])
    j = r.json() if r.status == 200 else {}
    check(r.header("content-type", "").startswith("application/json") and
          j.get("name") == "ward" and j.get("version") and
          j.get("links", {}).get("dashboard") == "/admin/websocket-admin",
          "GET / with Accept: application/json is JSON", (r.status, j))
    r = get("/nothing-here")
    check(r.status == 404, "other paths still 404", r.status)


def test_static():
    want = {"/static/ward-client.js": ("text/javascript", "ward-client.js"),
            "/static/ward-client.d.ts": ("application/typescript",
                                         "ward-client.d.ts"),
            "/static/ward-status.js": ("text/javascript", "ward-status.js"),
            "/static/admin.js": ("text/javascript", "admin.js"),
            "/static/admin.css": ("text/css", "admin.css"),
            "/admin/websocket-admin": ("text/html", "admin.html")}
    for path, (ct, f) in want.items():
        r = get(path)
        with open(os.path.join(WEB, f), "rb") as fh:
            src = fh.read()
        check(r.status == 200 and r.header("content-type", "")
              .startswith(ct), "%s is %s" % (path, ct),
              (r.status, r.header("content-type")))
        check(r.body == src, "%s is the file src/web/%s" % (path, f),
              (len(r.body), len(src)))
        et = r.header("etag")
        check(et and et.startswith('"') and r.header("cache-control") ==
              "no-cache", "%s has ETag and Cache-Control" % path,
              r.headers)
        r2 = get(path, [("If-None-Match", et or "x")])
        check(r2.status == 304 and r2.body == b"", "%s revalidates: 304"
              % path, r2.status)
        r3 = get(path, method="HEAD")
        check(r3.status == 200 and r3.header("content-length") ==
              str(len(src)), "HEAD %s" % path, r3.headers)
    r = get("/admin/websocket-admin")
    check(r.header("x-frame-options") == "DENY", "dashboard not frameable")
    body = r.body.decode()
    check('type="password"' in body and 'src="/static/admin.js"' in body,
          "dashboard page asks for the token", len(body))
    r = get("/static/nope.js")
    check(r.status == 404, "unknown static file 404", r.status)


def test_admin_reads():
    port = server().port
    call = WS(port, "/ws/call/web-room/?name=Alice&user_id=u7")
    recv_json(call)
    uni = WS(port, "/ws")
    recv_json(uni)
    try:
        for path in ("/admin/api/sockets", "/admin/api/rooms"):
            for role, st in ((None, 401), ("doctor", 403), ("admin", 200)):
                r = get(path, role=role)
                check(r.status == st, "%s as %s -> %d" % (path, role, st),
                      r.status)
        j = get("/admin/api/sockets", role="admin").json()
        types = sorted(s["socket_type"] for s in j["sockets"])
        check(j["total"] == 2 and types == ["call", "unified"],
              "sockets lists both", j)
        j = get("/admin/api/sockets?limit=1", role="admin").json()
        check(len(j["sockets"]) == 1 and j["limit"] == 1, "limit bounds",
              j)
        for bad in ("0", "1001", "x"):
            r = get("/admin/api/sockets?limit=" + bad, role="admin")
            check(r.status == 400, "limit=%s -> 400" % bad, r.status)
        j = get("/admin/api/rooms", role="admin").json()
        rooms = [x for x in j["rooms"] if x["name"] == "web-room"]
        check(rooms and rooms[0]["kind"] == "call" and rooms[0]["size"] == 1
              and len(rooms[0]["members"]) == 1 and
              len(rooms[0]["members"][0]["socket_id"]) == 12,
              "rooms with members", j)
        j = get("/admin/api/overview", role="admin").json()
        check(j.get("redis") == "not configured" and
              j.get("tls") == "not configured" and j.get("version"),
              "overview: redis and tls state", j)
    finally:
        call.abort()
        uni.abort()


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_index, test_static, test_admin_reads,
               test_server_survives])
