#!/usr/bin/python3
"""HTTP/1.1 over raw sockets: SPEC §1.2, RFC 9110/9112."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (Closed, Conn, Sender, Server, Timeout,  # noqa
                      build_request, check, is_json_error, run_tests)

S = None


def port():
    return S.port


def still_serving(after):
    check(S.healthy(), "server still answers GET /health after %s" % after)


def one(raw, head=False, timeout=5.0, chop=None):
    """Send raw bytes on a fresh connection, return (response, conn)."""
    c = Conn(port(), timeout)
    c.send_quiet(raw, chop=chop)
    try:
        r = c.read_response(head=head, timeout=timeout)
    except (Closed, Timeout, ValueError) as e:
        c.close()
        return e, None
    return r, c


def expect_error(name, raw, status, code=None, timeout=5.0):
    r, c = one(raw, timeout=timeout)
    if c is None:
        check(False, "%s -> %d" % (name, status), "no response: %r" % (r,))
    else:
        check(r.status == status, "%s -> %d" % (name, status),
              "got %d %r" % (r.status, r.body[:200]))
        check(is_json_error(r), "%s: JSON error body with error+detail"
              % name, "ctype=%r body=%r" % (r.header("content-type"),
                                            r.body[:200]))
        if code is not None and is_json_error(r):
            check(r.json()["error"] == code, "%s: error code %r"
                  % (name, code), r.json())
        c.close()
    still_serving(name)
    return r


# ------------------------------------------------------------------ tests

def test_health_get():
    r, c = one(build_request("GET", "/health"))
    check(c is not None and r.status == 200, "GET /health -> 200", r)
    if c is None:
        return
    ctype = r.header("content-type") or ""
    check(ctype.lower().startswith("application/json"),
          "GET /health Content-Type application/json", ctype)
    try:
        j = json.loads(r.body.decode("utf-8"))
    except ValueError as e:
        j = None
        check(False, "GET /health body is JSON", "%s %r" % (e, r.body))
    check(isinstance(j, dict) and j.get("status") == "healthy",
          'GET /health {"status":"healthy"}', j)
    cl = r.header("content-length")
    check(cl is not None and int(cl) == len(r.body),
          "GET /health Content-Length matches the body", cl)
    c.close()


def test_health_head():
    g, c1 = one(build_request("GET", "/health"))
    if c1:
        c1.close()
    # HEAD followed by GET on the same connection: the HEAD answer must
    # carry no body, so the next bytes are the GET's status line.
    c = Conn(port())
    c.send(build_request("HEAD", "/health") + build_request("GET", "/health"))
    try:
        h = c.read_response(head=True)
        check(h.status == 200, "HEAD /health -> 200", h)
        check((h.header("content-type") or "").lower()
              .startswith("application/json"),
              "HEAD /health Content-Type like GET", h.headers)
        if c1 is not None:
            check(h.header("content-length") is not None,
                  "HEAD /health has Content-Length", h.headers)
        nxt = c.read_response()
        check(nxt.status == 200 and b"healthy" in nxt.body,
              "HEAD /health sends no body (next response parses)", nxt)
    except (Closed, Timeout, ValueError) as e:
        check(False, "HEAD /health then GET on one connection", repr(e))
    c.close()


def test_keepalive():
    c = Conn(port())
    ok = True
    try:
        for i in range(3):
            c.send(build_request("GET", "/health"))
            r = c.read_response()
            ok = ok and r.status == 200
    except (Closed, Timeout, ValueError) as e:
        ok = False
        r = e
    check(ok, "keep-alive: 3 requests answered on one connection", r)
    c.close()


def test_pipelining():
    c = Conn(port())
    c.send(build_request("GET", "/health") +
           build_request("GET", "/no/such/path") +
           build_request("HEAD", "/health"))
    got = []
    try:
        got.append(c.read_response().status)
        got.append(c.read_response().status)
        got.append(c.read_response(head=True).status)
    except (Closed, Timeout, ValueError) as e:
        got.append(repr(e))
    check(got == [200, 404, 200],
          "pipelining: 3 requests in one send -> 3 responses in order", got)
    # and the connection is still usable
    try:
        c.send(build_request("GET", "/health"))
        r = c.read_response()
        check(r.status == 200, "pipelining: connection usable afterwards", r)
    except (Closed, Timeout, OSError, ValueError) as e:
        check(False, "pipelining: connection usable afterwards", repr(e))
    c.close()


def test_pipelining_many():
    c = Conn(port())
    n = 50
    c.send(build_request("GET", "/health") * n)
    ok = 0
    try:
        for _ in range(n):
            if c.read_response().status == 200:
                ok += 1
    except (Closed, Timeout, ValueError) as e:
        print("  pipelining 50: %r" % e)
    check(ok == n, "pipelining: 50 requests in one send -> 50 answers",
          "%d answered" % ok)
    c.close()


def test_pipelining_burst():
    # a deep pipeline in one burst, the client reading all the while: the
    # server may stop reading (backpressure) but must answer every request
    # in order (RFC 9112 §9.3.2; config.h: when buffers are dry "an HTTP
    # request waits"), never drop the connection
    n = 1000
    c = Conn(port(), 10.0)
    snd = Sender(c, build_request("GET", "/health") * n)
    ok = 0
    err = None
    try:
        for _ in range(n):
            if c.read_response().status == 200:
                ok += 1
    except (Closed, Timeout, ValueError) as e:
        err = e
    snd.join(5)
    check(ok == n, "pipelining: 1000 requests in one burst -> 1000 answers",
          "%d answered, then %r" % (ok, err))
    c.close()
    still_serving("a 1000-deep pipeline")


def test_byte_by_byte():
    raw = build_request("GET", "/health", [("User-Agent", "e2e-slow")])
    r, c = one(raw, chop=1)
    check(c is not None and r.status == 200,
          "request arriving byte by byte -> 200", r)
    if c:
        c.close()
    # and with small delays between bytes
    c = Conn(port())
    c.send(raw, chop=1, delay=0.002)
    try:
        r = c.read_response()
        check(r.status == 200, "request byte by byte with delays -> 200", r)
    except (Closed, Timeout, ValueError) as e:
        check(False, "request byte by byte with delays -> 200", repr(e))
    c.close()


def test_body_skipped_keepalive():
    # A POST body on keep-alive must be consumed, not parsed as a request.
    c = Conn(port())
    body = b"GET /nope HTTP/1.1\r\n\r\n"    # looks like a request
    c.send(build_request("POST", "/health", body=body) +
           build_request("GET", "/health"))
    try:
        r1 = c.read_response()
        r2 = c.read_response()
        check(r1.status == 405 and r2.status == 200,
              "request body is skipped on keep-alive (405 then 200)",
              (r1.status, r2.status))
    except (Closed, Timeout, ValueError) as e:
        check(False, "request body is skipped on keep-alive", repr(e))
    c.close()


def test_http10():
    r, c = one(b"GET /health HTTP/1.0\r\n\r\n")
    check(c is not None and r.status == 200, "HTTP/1.0 GET /health -> 200",
          r)
    if c:
        check(c.wait_eof(3.0), "HTTP/1.0: connection closed after answer")
        c.close()


def test_connection_close():
    r, c = one(build_request("GET", "/health", [("Connection", "close")]))
    check(c is not None and r.status == 200, "Connection: close -> 200", r)
    if c:
        check(c.wait_eof(3.0), "Connection: close: server closes after "
              "answer")
        c.close()


def test_404():
    r = expect_error("GET /no/such/path", build_request("GET",
                                                        "/no/such/path"),
                     404, "not_found")
    if hasattr(r, "json") and is_json_error(r):
        check(len(r.json()["detail"]) > 0, "404 detail is not empty",
              r.json())


def test_405():
    r = expect_error("POST /health", build_request("POST", "/health",
                                                   [("Content-Length", "0")]),
                     405)
    if hasattr(r, "header"):
        allow = r.header("allow") or ""
        check("GET" in allow.upper(), "405 has an Allow header naming GET",
              r.headers)


def test_missing_host():
    expect_error("HTTP/1.1 without Host", b"GET /health HTTP/1.1\r\n\r\n",
                 400)


def test_double_host():
    expect_error("two Host headers",
                 b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)


def test_bare_lf():
    # a bare LF inside an otherwise CRLF head
    expect_error("bare LF inside the head",
                 b"GET /health HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400)
    # a head with only LF line endings (RFC 9112 §2.2): must be answered
    # (400) promptly, not left waiting for a CRLFCRLF that never comes
    expect_error("head with bare LF line endings only",
                 b"GET /health HTTP/1.1\nHost: x\n\n", 400, timeout=3.0)


def test_space_before_colon():
    expect_error("header name with space before colon",
                 b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", 400)


def test_obs_fold():
    expect_error("obs-fold continuation line",
                 b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
                 400)


def test_chunked():
    expect_error("Transfer-Encoding: chunked",
                 b"POST /health HTTP/1.1\r\nHost: x\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                 411)


def test_body_too_large():
    expect_error("Content-Length 70000 > 64 KiB",
                 b"POST /health HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 70000\r\n\r\n", 413)


def test_bad_content_length():
    expect_error("Content-Length not a number",
                 b"POST /health HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 12abc\r\n\r\n", 400)


def test_uri_too_long():
    expect_error("request line of 5000 bytes",
                 b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 414)


def test_head_too_large():
    hdrs = b"".join(b"X-Pad-%02d: %s\r\n" % (i, b"v" * 180)
                    for i in range(50))               # ~9.5 KiB
    expect_error("header block > 8 KiB (complete)",
                 b"GET /health HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n",
                 431)
    # an endless head: the server must not wait for its end
    expect_error("header block > 8 KiB (never ending)",
                 b"GET /health HTTP/1.1\r\nHost: x\r\n" + hdrs, 431)


def test_many_headers():
    hdrs = b"".join(b"X-H%d: 1\r\n" % i for i in range(200))   # < 8 KiB
    r, c = one(b"GET /health HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n")
    check(c is not None and r.status in (200, 431),
          "200 header lines -> 200 or 431", r)
    if c:
        if r.status != 200:
            check(is_json_error(r), "too many headers: JSON error", r)
        c.close()
    still_serving("200 header lines")


def test_http2_version():
    expect_error("GET / HTTP/2.0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
                 505)


def test_bad_version_syntax():
    expect_error("version HTTX/1.1", b"GET / HTTX/1.1\r\nHost: x\r\n\r\n",
                 400)


def test_bad_method():
    expect_error("method with invalid chars (G@T)",
                 b"G@T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    expect_error("method with a control char",
                 b"GE\x01T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400)


def test_bad_target():
    expect_error("request target without leading slash",
                 b"GET health HTTP/1.1\r\nHost: x\r\n\r\n", 400)


def test_nul_in_header():
    expect_error("NUL byte in a header value",
                 b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
                 400)


def test_garbage():
    r, c = one(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 40 +
               b"\r\n\r\n")
    check(c is None or r.status == 400,
          "binary garbage (TLS hello) -> 400 or closed", r)
    if c:
        c.close()
    still_serving("binary garbage")


def test_options_preflight():
    r, c = one(build_request("OPTIONS", "/health", [
        ("Origin", "http://app.example"),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "authorization")]))
    check(c is not None and r.status == 204, "OPTIONS preflight -> 204", r)
    if c:
        check(r.header("access-control-allow-origin") is not None,
              "preflight has Access-Control-Allow-Origin", r.headers)
        m = r.header("access-control-allow-methods") or ""
        check("GET" in m.upper(),
              "preflight Access-Control-Allow-Methods names GET", r.headers)
        h = (r.header("access-control-allow-headers") or "").lower()
        check("authorization" in h,
              "preflight allows the requested header (authorization)",
              r.headers)
        c.close()
    # without Access-Control-Request-Headers: the default list must name
    # complete header names, incl. Idempotency-Key (SPEC §10)
    r, c = one(build_request("OPTIONS", "/health", [
        ("Origin", "http://app.example"),
        ("Access-Control-Request-Method", "POST")]))
    check(c is not None and r.status == 204,
          "OPTIONS preflight (no request headers) -> 204", r)
    if c:
        h = r.header("access-control-allow-headers")
        names = [x.strip().lower() for x in (h or "").split(",")]
        check(h is None or ("authorization" in names and
                            "content-type" in names and
                            "idempotency-key" in names),
              "preflight default Access-Control-Allow-Headers lists "
              "Authorization, Content-Type, Idempotency-Key (not cut)", h)
        c.close()


def test_cors_simple():
    r, c = one(build_request("GET", "/health",
                             [("Origin", "http://app.example")]))
    check(c is not None and r.status == 200 and
          r.header("access-control-allow-origin") is not None,
          "GET with Origin gets Access-Control-Allow-Origin (default *)",
          r if c is None else r.headers)
    if c:
        c.close()


def test_concurrent_after_errors():
    # many bad clients at once, then good ones still served
    conns = []
    for i in range(20):
        c = Conn(port())
        c.send_quiet(b"BAD REQUEST LINE %d\r\n\r\n" % i)
        conns.append(c)
    good = 0
    for _ in range(10):
        if S.healthy():
            good += 1
    for c in conns:
        c.close()
    check(good == 10, "good clients served while 20 bad ones are around",
          good)


def test_idle_client_does_not_block():
    # a client that connects and says nothing must not block others
    idle = Conn(port())
    half = Conn(port())
    half.send(b"GET /health HTTP/1.1\r\nHo")
    t0 = time.monotonic()
    ok = S.healthy()
    check(ok and time.monotonic() - t0 < 2.0,
          "idle and half-sent clients do not block others")
    idle.close()
    half.close()


def main():
    global S
    S = Server(label="http")
    try:
        run_tests([
            test_health_get, test_health_head, test_keepalive,
            test_pipelining, test_pipelining_many, test_pipelining_burst,
            test_byte_by_byte,
            test_body_skipped_keepalive, test_http10, test_connection_close,
            test_404, test_405, test_missing_host, test_double_host,
            test_bare_lf, test_space_before_colon, test_obs_fold,
            test_chunked, test_body_too_large, test_bad_content_length,
            test_uri_too_long, test_head_too_large, test_many_headers,
            test_http2_version, test_bad_version_syntax, test_bad_method,
            test_bad_target, test_nul_in_header, test_garbage,
            test_options_preflight, test_cors_simple,
            test_concurrent_after_errors, test_idle_client_does_not_block,
        ])
    finally:
        Server.stop_all()


if __name__ == "__main__":
    main()
