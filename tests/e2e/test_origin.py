#!/usr/bin/python3
"""Same-origin is decided against the server's own configured origins,
never the client's Host header (issue 9, finding 9: DNS rebinding).

With the origin lists restricted (cors_origins / ws_origins naming
another site), an Origin is this server's own only when it equals an
entry of public_origin, or, with public_origin empty, a listen address
(its bound port; localhost for a loopback listener) or scheme://Host
when Host is an address (IPv4/IPv6 literal), never a name.  `Host: evil.com`
with `Origin: http://evil.com` is refused on HTTP (403) and on the
WebSocket upgrade (403)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (Conn, Server, check, handshake_request,  # noqa: E402
                      new_key, run_tests)

RESTRICT = ("cors_origins=http://ok.example", "ws_origins=http://ok.example")


def raw(port, data):
    with Conn(port) as c:
        c.send(data)
        return c.read_response(head=True)


def http_status(port, host, origin):
    req = ("GET /health HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\n\r\n"
           % (host, origin)).encode()
    return raw(port, req).status


def ws_status(port, host, origin):
    req = handshake_request("/ws/echo", new_key(), [("Origin", origin)],
                            host=False)
    req = req.replace(b"GET /ws/echo HTTP/1.1\r\n",
                      ("GET /ws/echo HTTP/1.1\r\nHost: %s\r\n"
                       % host).encode(), 1)
    return raw(port, req).status


def both(port, host, origin):
    return http_status(port, host, origin), ws_status(port, host, origin)


def test_host_is_not_trusted():
    srv = Server(*RESTRICT, label="origin-listen")
    try:
        p = srv.port
        got = both(p, "evil.com", "http://evil.com")
        check(got == (403, 403),
              "Host: evil.com + Origin: http://evil.com refused", got)
        got = both(p, "evil.com:%d" % p, "http://evil.com:%d" % p)
        check(got == (403, 403), "the same with a port refused", got)
        got = both(p, "evil.com", "http://127.0.0.1:%d" % p)
        check(got == (200, 101),
              "Origin = the listen address: same origin, any Host", got)
        got = both(p, "127.0.0.1:%d" % p, "http://localhost:%d" % p)
        check(got == (200, 101), "localhost for a loopback listener", got)
        got = both(p, "127.0.0.1", "http://127.0.0.1:%d" % (p + 1))
        check(got == (403, 403), "another port is another origin", got)
        got = both(p, "evil.com", "http://ok.example")
        check(got == (200, 101), "the configured lists still apply", got)
        got = both(p, "10.9.8.7:%d" % p, "http://10.9.8.7:%d" % p)
        check(got == (200, 101), "Host an address (a board reached by its "
              "IP): scheme://Host is same origin", got)
        got = both(p, "[fd00::7]:%d" % p, "http://[fd00::7]:%d" % p)
        check(got == (200, 101), "the same for an IPv6 literal", got)
        got = both(p, "10.9.8.7.evil.com", "http://10.9.8.7.evil.com")
        check(got == (403, 403), "a name that starts like an address is "
              "a name", got)
        got = both(p, "10.9.8.7:%d" % p, "http://10.9.8.6:%d" % p)
        check(got == (403, 403), "another address is another origin", got)
    finally:
        srv.stop()


def test_public_origin():
    srv = Server(*RESTRICT, "public_origin=http://ward.example, "
                 "https://ward.example:8443", label="origin-public")
    try:
        p = srv.port
        for o in ("http://ward.example", "https://ward.example:8443",
                  "HTTP://WARD.EXAMPLE"):
            got = both(p, "evil.com", o)
            check(got == (200, 101), "public_origin %s allowed" % o, got)
        got = both(p, "ward.example", "http://evil.com")
        check(got == (403, 403), "Origin not in public_origin refused", got)
        got = both(p, "127.0.0.1:%d" % p, "http://127.0.0.1:%d" % p)
        check(got == (403, 403),
              "public_origin set: the listen address is not assumed", got)
    finally:
        srv.stop()


if __name__ == "__main__":
    run_tests([test_host_is_not_trusted, test_public_origin])
