#!/usr/bin/python3
"""GET /openapi.json and GET /docs (SPEC §5): an OpenAPI 3 document of
every HTTP endpoint (made from the router's table: nothing missing),
templated paths with their parameters, security on token routes, bodies
on POST/PUT; the page lists the same paths."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import Server, check, http_request, run_tests  # noqa: E402

S = None
HTTP = {
    "/health": {"get"}, "/health/live": {"get"}, "/health/ready": {"get"},
    "/metrics": {"get"}, "/consultation/socket-status/": {"get"},
    "/consultation/socket-status/sockets/": {"get"},
    "/consultation/socket-status/sockets/{socket_id}/": {"get"},
    "/api/consultations/updates": {"post"}, "/api/notifications": {"post"},
    "/api/doctors": {"post"}, "/api/doctors/status": {"get"},
    "/api/doctors/{doctor_id}/status": {"put"}, "/api/diagnoses": {"get", "post"},
    "/api/diagnoses/{diagnosis_id}": {"delete"}, "/ws/status": {"get"},
    "/ws/broadcast-recommendation-update": {"post"},
    "/ws/broadcast-effectiveness-update": {"post"},
    "/ws/broadcast-feedback-update": {"post"},
    "/openapi.json": {"get"}, "/docs": {"get"},
}
WS = ["/ws/echo", "/ws/call/{room}/", "/ws/stt/", "/ws/stt/room/",
      "/ws/stt/sales/", "/ws/stt/admin/", "/ws/consultations/",
      "/ws/notifications/", "/ws/doctor-status/", "/ws", "/ws/{diagnosis_id}"]


def server():
    global S
    if S is None or not S.alive():
        S = Server(label="docs")
    return S


def test_openapi():
    r = http_request(server().port, "GET", "/openapi.json")
    check(r.status == 200 and
          r.header("content-type", "").startswith("application/json"),
          "GET /openapi.json -> 200 JSON", r.status)
    try:
        d = r.json()
    except ValueError:
        check(False, "the document parses as JSON", r.body[:200])
        return
    check(str(d.get("openapi", "")).startswith("3."), "openapi 3.x",
          d.get("openapi"))
    check(d.get("info", {}).get("title") == "ward" and
          d["info"].get("version"), "info: title, version", d.get("info"))
    paths = d.get("paths", {})
    for p, ms in HTTP.items():
        got = set(paths.get(p, {}))
        check(got == ms, "%s: %s" % (p, sorted(ms)), sorted(got))
    for p in WS:
        op = paths.get(p, {}).get("get", {})
        check("101" in op.get("responses", {}), "%s: WebSocket, 101" % p,
              op)
    schemes = d.get("components", {}).get("securitySchemes", {})
    check(schemes.get("bearer", {}).get("scheme") == "bearer",
          "bearer security scheme", schemes)
    for p, item in paths.items():
        for m, op in item.items():
            if "{" in p:
                names = {x.get("name") for x in op.get("parameters", [])
                         if x.get("in") == "path" and x.get("required")}
                want = {p[p.index("{") + 1:p.index("}")]}
                if names != want:
                    check(False, "%s %s declares its path parameter" %
                          (m, p), names)
            if m in ("post", "put") and "requestBody" not in op:
                check(False, "%s %s has a requestBody" % (m, p))
            if not op.get("responses"):
                check(False, "%s %s has responses" % (m, p))
    check(paths["/api/diagnoses"]["post"].get("security") and
          "security" not in paths["/health"]["get"],
          "security only where a token is needed")


def test_page():
    r = http_request(server().port, "GET", "/docs")
    body = r.body.decode("utf-8", "replace")
    check(r.status == 200 and
          r.header("content-type", "").startswith("text/html"),
          "GET /docs -> 200 HTML", r.status)
    missing = [p for p in list(HTTP) + WS if "<code>%s</code>" % p not in
               body]
    check(not missing, "the page lists every path", missing)
    check(body.rstrip().endswith("</html>"), "a whole page")


if __name__ == "__main__":
    run_tests([test_openapi, test_page])
