#!/usr/bin/python3
"""WebSocket opening handshake: RFC 6455 §4, SPEC §1.3 and §7 config."""

import base64
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (OP_TEXT, WS, Closed, Conn, HandshakeError,  # noqa
                      Server, Timeout, accept_for, check,
                      handshake_request, is_json_error, new_key, run_tests)

S = None


def upgrade(raw, chop=None, delay=0.0, timeout=5.0):
    """Send a raw request, return (response, conn) or (exception, None)."""
    c = Conn(S.port, timeout)
    c.send_quiet(raw, chop=chop, delay=delay)
    try:
        r = c.read_response(head=True, timeout=timeout)
        if r.status != 101 and not raw.startswith(b"HEAD "):
            cl = r.header("content-length")
            if cl:
                r.body = c.read_exact(int(cl), time.monotonic() + timeout)
    except (Closed, Timeout, ValueError) as e:
        c.close()
        return e, None
    return r, c


def echo_works(c, name):
    """After a 101 on conn c: one masked text frame is echoed."""
    ws = WS.adopt(c)
    try:
        op, p = ws.echo(OP_TEXT, b"hello after " + name.encode())
        ok = op == OP_TEXT and p == b"hello after " + name.encode()
    except (Closed, Timeout) as e:
        ok, op, p = False, None, repr(e)
    check(ok, "%s: echo works after the handshake" % name, (op, p))
    ws.close()


def expect_status(name, raw, status, header=None):
    r, c = upgrade(raw)
    if c is None:
        check(False, "%s -> %d" % (name, status), "no response: %r" % (r,))
        check(S.healthy(), "server still serving after %s" % name)
        return None
    check(r.status == status, "%s -> %d" % (name, status),
          "got %d %r" % (r.status, r.body[:200]))
    if status >= 400 and r.status >= 400:
        check(is_json_error(r), "%s: JSON error body" % name,
              (r.header("content-type"), r.body[:200]))
    if header is not None:
        k, v = header
        got = r.header(k) or ""
        check(v.lower() in [x.strip().lower() for x in got.split(",")],
              "%s: header %s: %s" % (name, k, v), r.headers)
    c.close()
    check(S.healthy(), "server still serving after %s" % name)
    return r


# ------------------------------------------------------------------ tests

def test_rfc_example_key():
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    r, c = upgrade(handshake_request("/ws/echo", key))
    check(c is not None and r.status == 101, "valid upgrade -> 101", r)
    if c is None:
        return
    check(r.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
          "Sec-WebSocket-Accept for the RFC 6455 §1.3 key", r.headers)
    check((r.header("upgrade") or "").lower() == "websocket",
          "101 has Upgrade: websocket", r.headers)
    check("upgrade" in (r.header("connection") or "").lower(),
          "101 has Connection: Upgrade", r.headers)
    check(r.header("sec-websocket-extensions") is None and
          r.header("sec-websocket-protocol") is None,
          "101 negotiates no extension or subprotocol", r.headers)
    echo_works(c, "RFC key")


def test_offers_ignored():
    key = new_key()
    r, c = upgrade(handshake_request("/ws/echo", key, [
        ("Sec-WebSocket-Extensions",
         "permessage-deflate; client_max_window_bits"),
        ("Sec-WebSocket-Protocol", "chat, superchat")]))
    check(c is not None and r.status == 101,
          "upgrade offering deflate + subprotocols -> 101", r)
    if c is None:
        return
    check(r.header("sec-websocket-accept") == accept_for(key),
          "accept key correct (random key)", r.headers)
    check(r.header("sec-websocket-extensions") is None,
          "permessage-deflate offer is not accepted", r.headers)
    check(r.header("sec-websocket-protocol") is None,
          "unsupported subprotocol is not echoed", r.headers)
    echo_works(c, "offers ignored")


def test_split_handshake():
    key = new_key()
    raw = handshake_request("/ws/echo", key)
    for name, chop, delay in (("in 3 segments", len(raw) // 3 + 1, 0.05),
                              ("byte by byte", 1, 0.001)):
        r, c = upgrade(raw, chop=chop, delay=delay)
        check(c is not None and r.status == 101 and
              r.header("sec-websocket-accept") == accept_for(key),
              "handshake %s -> 101" % name, r)
        if c:
            echo_works(c, "handshake " + name)


def test_handshake_with_first_frame():
    # a client may send its first frame in the same segment as the head
    from wardtest import frame
    key = new_key()
    raw = handshake_request("/ws/echo", key) + frame(OP_TEXT, b"early")
    r, c = upgrade(raw)
    check(c is not None and r.status == 101, "head + first frame -> 101", r)
    if c is None:
        return
    ws = WS.adopt(c)
    try:
        m = ws.recv_message(3.0)
    except (Closed, Timeout) as e:
        m = repr(e)
    check(m == (OP_TEXT, b"early"),
          "frame sent with the handshake is echoed", m)
    ws.close()


def test_query_string():
    key = new_key()
    r, c = upgrade(handshake_request("/ws/echo?client=e2e&x=%20y", key))
    check(c is not None and r.status == 101 and
          r.header("sec-websocket-accept") == accept_for(key),
          "upgrade on /ws/echo?query -> 101", r)
    if c:
        echo_works(c, "query string")


def test_token_lists():
    r, c = upgrade(handshake_request("/ws/echo", new_key(),
                                     connection="keep-alive, Upgrade"))
    check(c is not None and r.status == 101,
          "Connection: keep-alive, Upgrade -> 101", r)
    if c:
        echo_works(c, "Connection token list")
    r, c = upgrade(handshake_request("/ws/echo", new_key(),
                                     upgrade="WebSocket",
                                     connection="upgrade"))
    check(c is not None and r.status == 101,
          "Upgrade: WebSocket / Connection: upgrade (any case) -> 101", r)
    if c:
        c.close()


def test_bad_keys():
    expect_status("upgrade without Sec-WebSocket-Key",
                  handshake_request("/ws/echo", None), 400)
    expect_status("key not base64",
                  handshake_request("/ws/echo", "!!!!not*base64!!!!!!!=="),
                  400)
    k15 = base64.b64encode(b"x" * 15).decode()
    k17 = base64.b64encode(b"x" * 17).decode()
    expect_status("key decoding to 15 bytes",
                  handshake_request("/ws/echo", k15), 400)
    expect_status("key decoding to 17 bytes",
                  handshake_request("/ws/echo", k17), 400)
    expect_status("empty key", handshake_request("/ws/echo", ""), 400)


def test_versions():
    expect_status("Sec-WebSocket-Version: 8",
                  handshake_request("/ws/echo", new_key(), version="8"), 426,
                  ("Sec-WebSocket-Version", "13"))
    expect_status("no Sec-WebSocket-Version",
                  handshake_request("/ws/echo", new_key(), version=None),
                  426, ("Sec-WebSocket-Version", "13"))


def test_no_upgrade():
    expect_status("plain GET /ws/echo", b"GET /ws/echo HTTP/1.1\r\n"
                  b"Host: x\r\n\r\n", 426, ("Upgrade", "websocket"))
    r, c = upgrade(b"HEAD /ws/echo HTTP/1.1\r\nHost: x\r\n\r\n")
    check(c is not None and r.status == 426, "HEAD /ws/echo -> 426", r)
    if c:
        # no body after a HEAD answer: the next response must parse
        c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            n = c.read_response()
            check(n.status == 200, "HEAD /ws/echo answer has no body", n)
        except (Closed, Timeout, ValueError) as e:
            check(False, "HEAD /ws/echo answer has no body", repr(e))
        c.close()


def test_post_upgrade():
    r, c = upgrade(handshake_request("/ws/echo", new_key(), method="POST"))
    check(c is not None and r.status in (400, 405),
          "POST with upgrade headers -> 405 or 400", r)
    if c:
        c.close()
    check(S.healthy(), "server still serving after POST upgrade")


def test_connection_without_upgrade():
    expect_status("Connection: keep-alive (no upgrade token)",
                  handshake_request("/ws/echo", new_key(),
                                    connection="keep-alive"), 400)


def test_http10_upgrade():
    raw = handshake_request("/ws/echo", new_key()).replace(b"HTTP/1.1",
                                                           b"HTTP/1.0", 1)
    r, c = upgrade(raw)
    check(c is not None and r.status != 101,
          "upgrade over HTTP/1.0 is refused", r)
    if c:
        c.close()


def test_unknown_ws_path():
    expect_status("upgrade on an unknown path",
                  handshake_request("/ws/nonexistent-endpoint", new_key()),
                  404)


def test_unmasked_right_after_upgrade():
    ws = WS(S.port)
    ws.send_frame(OP_TEXT, b"unmasked", mask=False)
    ev = ws.collect(3.0)
    check(ev.close_code() == 1002 and ev.has("eof") and
          not ev.messages(),
          "unmasked client frame -> close 1002 (RFC 6455 §5.1)", ev)
    ws.close()


def test_echo_endpoint_off():
    srv = Server("echo_endpoint=off", label="echo_endpoint=off")
    try:
        c = Conn(srv.port)
        c.send(handshake_request("/ws/echo", new_key()))
        try:
            r = c.read_response(head=True)
            check(r.status == 404, "echo_endpoint=off: /ws/echo -> 404", r)
        except (Closed, Timeout, ValueError) as e:
            check(False, "echo_endpoint=off: /ws/echo -> 404", repr(e))
        c.close()
        check(srv.healthy(), "echo_endpoint=off: /health still 200")
    finally:
        srv.stop()


def test_websocket_disabled():
    srv = Server("websocket_enabled=false", label="websocket_enabled=false")
    try:
        c = Conn(srv.port)
        c.send(handshake_request("/ws/echo", new_key()))
        try:
            r = c.read_response(head=True)
            check(r.status == 503,
                  "websocket_enabled=false: upgrade -> 503", r)
        except (Closed, Timeout, ValueError) as e:
            check(False, "websocket_enabled=false: upgrade -> 503", repr(e))
        c.close()
        check(srv.healthy(), "websocket_enabled=false: /health still 200")
    finally:
        srv.stop()


def test_ws_origins():
    srv = Server("ws_origins=http://ok.example", label="ws_origins")
    try:
        for origin, want in (("http://evil.example", 403),
                             ("http://ok.example", 101)):
            c = Conn(srv.port)
            c.send(handshake_request("/ws/echo", new_key(),
                                     [("Origin", origin)]))
            try:
                r = c.read_response(head=True)
                check(r.status == want, "ws_origins: Origin %s -> %d"
                      % (origin, want), r)
            except (Closed, Timeout, ValueError) as e:
                check(False, "ws_origins: Origin %s -> %d" % (origin, want),
                      repr(e))
            c.close()
        check(srv.healthy(), "ws_origins: /health still 200")
    finally:
        srv.stop()


def test_slowloris():
    srv = Server("handshake_timeout=1", label="handshake_timeout=1")
    try:
        # a partial head that never completes
        partial = Conn(srv.port)
        partial.send(b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: web")
        # a trickler: one byte every 0.2 s, never finishing in time
        trickle = Conn(srv.port)
        raw = handshake_request("/ws/echo", new_key())
        t0 = time.monotonic()
        served = 0
        closed_partial = closed_trickle = None
        i = 0
        while time.monotonic() - t0 < 4.0 and (closed_partial is None or
                                               closed_trickle is None):
            if closed_trickle is None and i < len(raw) - 1:
                if not trickle.send_quiet(raw[i:i + 1]):
                    closed_trickle = time.monotonic() - t0
                i += 1
            if srv.healthy(1.0):
                served += 1
            if closed_partial is None and partial.wait_eof(0.05):
                closed_partial = time.monotonic() - t0
            if closed_trickle is None and trickle.wait_eof(0.05):
                closed_trickle = time.monotonic() - t0
            time.sleep(0.1)
        check(closed_partial is not None and closed_partial < 3.0,
              "slow-loris: partial head closed within 3 s "
              "(handshake_timeout=1)", closed_partial)
        check(closed_trickle is not None and closed_trickle < 3.0,
              "slow-loris: byte-trickling head closed within 3 s",
              closed_trickle)
        check(served >= 5, "slow-loris: other clients served meanwhile",
              served)
        partial.close()
        trickle.close()
        # a normal upgrade is unaffected by the short timeout
        try:
            ws = WS(srv.port)
            op, p = ws.echo(OP_TEXT, b"x")
            check(p == b"x", "handshake_timeout=1: normal client echoes")
            time.sleep(1.5)   # longer than the handshake timeout
            op, p = ws.echo(OP_TEXT, b"y")
            check(p == b"y", "handshake_timeout does not apply to an "
                  "open WebSocket")
            ws.close()
        except (HandshakeError, Closed, Timeout) as e:
            check(False, "handshake_timeout=1: normal client echoes",
                  repr(e))
    finally:
        srv.stop()


def main():
    global S
    S = Server(label="handshake")
    run_tests([
        test_rfc_example_key, test_offers_ignored, test_split_handshake,
        test_handshake_with_first_frame, test_query_string,
        test_token_lists, test_bad_keys,
        test_versions, test_no_upgrade, test_post_upgrade,
        test_connection_without_upgrade, test_http10_upgrade,
        test_unknown_ws_path, test_unmasked_right_after_upgrade,
        test_echo_endpoint_off, test_websocket_disabled, test_ws_origins,
        test_slowloris,
    ])


if __name__ == "__main__":
    main()
