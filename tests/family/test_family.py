#!/usr/bin/python3
"""The test family (tests/family/hello.c) in a ward built with one line
added to src/svc/index.c (make check-family): its HTTP route, its
WebSocket with its own socket type, its config key, its /docs rows; and
every built-in family still there.  WARD_BIN names that build; argv[1]
the generated index, compared with src/svc/index.c: one line more."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from wardtest import (Server, WS, check, http_request,  # noqa: E402
                      recv_json, run_tests)

INDEX = sys.argv.pop(1) if len(sys.argv) > 1 else None


def get(port, path):
    r = http_request(port, "GET", path)
    try:
        return r, r.json()
    except ValueError:
        return r, None


def test_one_line():
    src = os.path.join(HERE, "..", "..", "src", "svc", "index.c")
    with open(src) as f:
        a = f.read().splitlines()
    with open(INDEX) as f:
        b = f.read().splitlines()
    added = [x for x in b if x not in a]
    check(len(b) == len(a) + 1 and [x.strip() for x in added] ==
          ["X(hello) \\"], "the test index is src/svc/index.c plus one "
          "line", added)


def test_routes():
    with Server("hello_greeting=ward", label="family") as s:
        r, j = get(s.port, "/hello")
        check(r.status == 200 and j == {"hello": "ward"},
              "GET /hello answers with the family's own key", (r.status, j))
        ws = WS(s.port, "/ws/hello")
        ws.send_text('{"type":"hi","name":"Ada"}')
        m = recv_json(ws)
        check(m == {"type": "hello", "name": "Ada"},
              "/ws/hello answers hi with hello", m)
        ws.send_text('{"type":"what"}')
        m = recv_json(ws)
        check(m and m.get("type") == "error" and
              m.get("error") == "unknown_type",
              "/ws/hello: the shared error message", m)
        r, j = get(s.port, "/consultation/socket-status/")
        check(j and j.get("sockets_by_type") == {"hello": 1},
              "the registry counts the family's socket type", j)
        ws.close()
        r, j = get(s.port, "/openapi.json")
        paths = (j or {}).get("paths", {})
        check("/hello" in paths and "/ws/hello" in paths and
              paths["/hello"]["get"]["summary"] ==
              "A greeting (the test family)",
              "/openapi.json documents the family from its rows",
              sorted(paths)[:50])
        check("/health" in paths and "/ws/echo" in paths and
              "/admin/api/send" in paths,
              "the built-in families are all still there", sorted(paths))
        r = http_request(s.port, "GET", "/docs")
        check(r.status == 200 and b"/ws/hello" in r.body and
              b"Greetings by WebSocket" in r.body,
              "/docs lists the family's WebSocket", r.status)


if __name__ == "__main__":
    run_tests([test_one_line, test_routes])
