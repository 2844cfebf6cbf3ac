#!/usr/bin/python3
"""JWT on WebSocket endpoints: token sources, bad tokens, expiry of a live
socket, require_auth = all (SPEC §1.3 "Auth ... after the upgrade close
with 1008", §1.4 Authentication, §2 stt_admin)."""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import recv_json  # noqa: E402
from wardtest import (SLOW, WS, AuthAllServer, Closed, Server, Timeout,  # noqa
                      check, http_request, is_json_error, run_tests,
                      ward_bin)

SECRET = "e2e-auth-ws-secret-0123456789abcdef01234"
S = None


# ------------------------------------------------------------ helpers

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(claims, secret=SECRET, header=None, sig=None):
    h = header if header is not None else {"alg": "HS256", "typ": "JWT"}
    si = b64u(json.dumps(h, separators=(",", ":")).encode()) + "." + \
        b64u(json.dumps(claims, separators=(",", ":")).encode())
    if sig is None:
        sig = b64u(hmac.new(secret.encode(), si.encode(),
                            hashlib.sha256).digest())
    return si + "." + sig


def claims(role="admin", ttl=600, **extra):
    now = int(time.time())
    c = {"sub": "1", "role": role, "name": "Tester", "iat": now,
         "exp": now + ttl}
    c.update(extra)
    return c


def token(role="admin", ttl=600, **extra):
    return jwt(claims(role, ttl, **extra))


def tamper(t):
    h, p, s = t.split(".")
    return "%s.%s.%s%s" % (h, p, "B" if s[0] == "A" else "A", s[1:])


def ward_token(*args):
    """A token printed by `ward token ... --set jwt_secret=SECRET`."""
    cp = subprocess.run([ward_bin(), "token"] + list(args) +
                        ["--set", "jwt_secret=" + SECRET],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        timeout=20, stdin=subprocess.DEVNULL)
    out = cp.stdout.decode().strip().splitlines()
    return out[-1].strip() if cp.returncode == 0 and out else None


def server():
    global S
    if S is None or not S.alive():
        S = Server("jwt_secret=" + SECRET, label="auth_ws")
    return S


def alive(ws, name):
    """Open and answering: {"type":"ping"} gets a pong."""
    try:
        ws.send_text('{"type":"ping"}')
    except OSError as e:
        check(False, "%s: socket open" % name, e)
        return False
    m = recv_json(ws)
    return check(m is not None and m.get("type") == "pong",
                 "%s: socket open (ping -> pong)" % name, m)


def refused(port, path, name, reasons=("invalid token",), headers=None):
    """The upgrade succeeds, then the server closes with 1008 + reason."""
    try:
        ws = WS(port, path, headers=headers)
    except Exception as e:  # noqa: BLE001
        check(False, "%s: upgrade" % name, e)
        return None
    ev = ws.collect(3.0 * SLOW)
    c = ev.close()
    check(c is not None and c[1] == 1008, "%s -> close 1008" % name, ev)
    check(c is not None and c[2].decode("utf-8", "replace") in reasons,
          "%s: reason in %r" % (name, list(reasons)), ev)
    check(not ev.messages(), "%s: no data message before the close" % name,
          ev)
    ws.close()
    return ev


def bye(*wss):
    for ws in wss:
        try:
            ws.close_handshake(1000, timeout=2.0)
        except OSError:
            pass
        ws.close()


# -------------------------------------------------------------- tests

def test_bearer_subprotocol():
    p = server().port
    ws = WS(p, "/ws/stt/admin/",
            headers=[("Sec-WebSocket-Protocol", "bearer, " + token())])
    check(ws.response.status == 101, "bearer subprotocol: 101", ws.response)
    check(ws.response.header("sec-websocket-protocol") == "bearer",
          "101 answers Sec-WebSocket-Protocol: bearer (token not echoed)",
          ws.response.headers)
    alive(ws, "admin via bearer subprotocol")
    bye(ws)
    # no space after the comma
    ws = WS(p, "/ws/stt/admin/",
            headers=[("Sec-WebSocket-Protocol", "bearer," + token())])
    alive(ws, "bearer,<token> (no blank)")
    bye(ws)
    # a doctor's token through the subprotocol: authenticated, not allowed
    refused(p, "/ws/stt/admin/", "doctor token via subprotocol",
            ("access denied",),
            headers=[("Sec-WebSocket-Protocol", "bearer, " +
                      token("doctor"))])
    refused(p, "/ws/stt/admin/", "tampered token via subprotocol",
            headers=[("Sec-WebSocket-Protocol", "bearer, " +
                      tamper(token()))])
    # Authorization: Bearer on the handshake
    ws = WS(p, "/ws/stt/admin/",
            headers=[("Authorization", "Bearer " + token())])
    check(ws.response.header("sec-websocket-protocol") is None,
          "no Sec-WebSocket-Protocol in the 101 when none was asked",
          ws.response.headers)
    alive(ws, "admin via Authorization: Bearer")
    bye(ws)
    # ?token=
    ws = WS(p, "/ws/stt/admin/?token=" + token("superadmin"))
    alive(ws, "superadmin via ?token=")
    bye(ws)
    # an unsupported subprotocol is not echoed (SPEC §1.3)
    ws = WS(p, "/ws/echo", headers=[("Sec-WebSocket-Protocol", "chat")])
    check(ws.response.status == 101 and
          ws.response.header("sec-websocket-protocol") is None,
          "unsupported subprotocol 'chat' is not echoed", ws.response.headers)
    bye(ws)
    # `ward token` output is accepted by the server
    t = ward_token("--sub", "7", "--role", "admin", "--name", "Dr X",
                   "--ttl", "60")
    check(t is not None and t.count(".") == 2, "`ward token` prints a JWT",
          t)
    if t:
        ws = WS(p, "/ws/stt/admin/?token=" + t)
        alive(ws, "token from `ward token`")
        bye(ws)


def test_websockets_library_client():
    """The same with an independent client (Debian's websockets): it checks
    that the server picks one of the offered subprotocols."""
    try:
        import websockets
    except ImportError:
        check(False, "python3 websockets importable (apt python3-websockets)")
        return
    uri = "ws://127.0.0.1:%d/ws/stt/admin/" % server().port

    async def good():
        async with websockets.connect(
                uri, subprotocols=["bearer", token()],
                open_timeout=5 * SLOW, close_timeout=2) as ws:
            proto = ws.subprotocol
            await ws.send('{"type":"ping"}')
            m = json.loads(await asyncio.wait_for(ws.recv(), 3 * SLOW))
            return proto, m

    async def bad(tok):
        async with websockets.connect(
                uri, subprotocols=["bearer", tok],
                open_timeout=5 * SLOW, close_timeout=2) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 3 * SLOW)
            except websockets.ConnectionClosed as e:
                return e.code, e.reason
            return None, "no close"

    try:
        proto, m = asyncio.run(good())
    except Exception as e:  # noqa: BLE001
        proto, m = repr(e), None
    check(proto == "bearer", "websockets client: subprotocol 'bearer' "
          "negotiated", proto)
    check(m is not None and m.get("type") == "pong",
          "websockets client: admin socket answers ping", m)
    for name, tok, reason in (
            ("tampered", tamper(token()), "invalid token"),
            ("expired", token(ttl=-300), "token expired"),
            ("patient", token("patient"), "access denied")):
        try:
            got = asyncio.run(bad(tok))
        except Exception as e:  # noqa: BLE001
            got = repr(e)
        check(got == (1008, reason), "websockets client, %s token -> "
              "1008 %r" % (name, reason), got)


def test_bad_tokens():
    p = server().port
    now = int(time.time())
    good = claims()
    cases = [
        ("tampered signature", tamper(token()), ("invalid token",)),
        ("tampered payload", "%s.%s.%s" % (
            token("patient").split(".")[0],
            b64u(json.dumps(claims("admin")).encode()),
            token("patient").split(".")[2]), ("invalid token",)),
        ("alg none, no signature", jwt(good, header={"alg": "none",
                                                     "typ": "JWT"}, sig=""),
         ("invalid token",)),
        ("alg None, no signature", jwt(good, header={"alg": "None"}, sig=""),
         ("invalid token",)),
        ("alg none, HS256 signature", jwt(good, header={"alg": "none"}),
         ("invalid token",)),
        ("alg HS512", jwt(good, header={"alg": "HS512"}),
         ("invalid token",)),
        ("alg missing", jwt(good, header={"typ": "JWT"}),
         ("invalid token",)),
        ("wrong secret", jwt(good, secret=SECRET + "x"),
         ("invalid token",)),
        ("expired", token(ttl=-300), ("token expired",)),
        ("expired beyond leeway", token(ttl=-31), ("token expired",)),
        ("nbf in the future", token(nbf=now + 3600),
         ("invalid token", "token expired")),
        ("no exp (required)", jwt({"sub": "1", "role": "admin",
                                   "iat": now}), ("invalid token",)),
        ("garbage", "garbage", ("invalid token",)),
        ("two segments", ".".join(token().split(".")[:2]),
         ("invalid token",)),
        ("empty ?token=", "", ("invalid token",)),
        ("role not a string", token(role=["admin"]), ("invalid token",)),
    ]
    for name, tok, reasons in cases:
        refused(p, "/ws/stt/admin/?token=" + tok, name, reasons)
    # within the 30 s clock-skew allowance: accepted
    ws = WS(p, "/ws/stt/admin/?token=" + token(ttl=-10))
    alive(ws, "exp 10 s ago (inside 30 s leeway) accepted")
    bye(ws)
    ws = WS(p, "/ws/stt/admin/?token=" + token(nbf=now + 10))
    alive(ws, "nbf 10 s ahead (inside 30 s leeway) accepted")
    bye(ws)
    # numeric sub is text (§1.5): the registry shows "7"
    ws = WS(p, "/ws/stt/admin/?token=" + token(sub=7))
    alive(ws, "numeric sub accepted")
    r = http_request(p, "GET", "/consultation/socket-status/sockets/"
                     "?type=stt_admin",
                     [("Authorization", "Bearer " + token())])
    ents = r.json().get("sockets", []) if r.status == 200 else []
    check(r.status == 200 and len(ents) == 1 and
          ents[0]["user_info"].get("user_id") == "7",
          "numeric sub 7 listed as user_id \"7\"", r.body[:300])
    bye(ws)
    # a bad token on an endpoint that allows anonymous clients
    ws = WS(p, "/ws/call/auth-room/?token=" + tamper(token()))
    ev = ws.collect(1.0 * SLOW, stop=lambda e: bool(e.messages()) or
                    e.has("close"))
    cc = ev.close_code()
    print("info: /ws/call/<room>/ with a bad token: %s" % (
        "close %s" % cc if cc else "opened anonymously (%r)" % ev))
    check(cc in (None, 1008), "bad token on an anonymous endpoint: either "
          "refused with 1008 or ignored, never another failure", ev)
    ws.close()
    check(server().healthy(), "server healthy after bad tokens")


def test_live_expiry():
    srv = Server("jwt_secret=" + SECRET, "jwt_leeway=0",
                 "heartbeat_interval=30", label="auth_ws leeway=0")
    try:
        t = ward_token("--sub", "1", "--role", "admin", "--name", "Exp",
                       "--ttl", "2")
        if t is None:
            t = token(ttl=2)
        t0 = time.monotonic()
        ws = WS(srv.port, "/ws/stt/admin/?token=" + t)
        time.sleep(0.3)
        alive(ws, "ttl 2 s admin socket open at first")
        ev = ws.collect(4.0 * SLOW, stop=lambda e: e.has("close"),
                        answer_pings=True)
        dt = time.monotonic() - t0
        c = ev.close()
        check(c is not None and c[1] == 1008,
              "expired live token -> close 1008", ev)
        check(c is not None and c[2] == b"token expired",
              "expired live token: reason 'token expired'", ev)
        check(c is not None and dt <= 3.5 * max(1.0, SLOW / 2),
              "closed within ~3 s of the connect (token ttl 2 s)",
              "%.2fs" % dt)
        check(c is not None and dt >= 0.9,
              "not closed before the token expired", "%.2fs" % dt)
        ws.close()
        # a socket with a longer token is still open
        ws2 = WS(srv.port, "/ws/stt/admin/?token=" + token(ttl=600))
        alive(ws2, "ttl 600 s admin socket unaffected")
        bye(ws2)
    finally:
        srv.stop()


def test_require_auth_all():
    tok = token("patient")
    srv = AuthAllServer(tok, "jwt_secret=" + SECRET, "require_auth=all",
                        label="auth_ws require_auth=all")
    try:
        p = srv.port
        refused(p, "/ws/echo", "require_auth=all: /ws/echo anonymous")
        refused(p, "/ws/call/x/", "require_auth=all: /ws/call/x/ anonymous")
        refused(p, "/ws/stt/", "require_auth=all: /ws/stt/ anonymous")
        refused(p, "/ws/call/x/?token=" + tamper(tok),
                "require_auth=all: /ws/call/x/ tampered token")
        ws = WS(p, "/ws/call/x/?token=" + tok)
        w = recv_json(ws)
        check(w is not None and w.get("type") == "welcome",
              "require_auth=all: call room with a token works", w)
        bye(ws)
        ws = WS(p, "/ws/echo", headers=[("Authorization", "Bearer " + tok)])
        try:
            op, got = ws.echo(1, b"hi")
        except (Closed, Timeout) as e:
            got = repr(e)
        check(got == b"hi", "require_auth=all: echo with a token works", got)
        bye(ws)
        r = http_request(p, "GET", "/consultation/socket-status/")
        check(r.status == 401 and is_json_error(r),
              "require_auth=all: socket-status summary anonymous -> 401", r)
        r = http_request(p, "GET", "/consultation/socket-status/",
                         [("Authorization", "Bearer " + tok)])
        check(r.status == 200, "require_auth=all: summary with any valid "
              "token -> 200", r)
        r = http_request(p, "GET", "/consultation/socket-status/sockets/",
                         [("Authorization", "Bearer " + tok)])
        check(r.status == 403, "require_auth=all: listing still needs "
              "admin (patient -> 403)", r)
        r = http_request(p, "GET", "/health")
        print("info: require_auth=all: anonymous GET /health -> %d %r"
              % (r.status, r.body[:80]))
        check(r.status in (200, 401),
              "require_auth=all: anonymous /health answers 200 or 401 "
              "(observed %d)" % r.status, r)
        if r.status == 401:
            check(is_json_error(r), "401 on /health is a JSON error", r)
        r = http_request(p, "GET", "/health",
                         [("Authorization", "Bearer " + tok)])
        check(r.status == 200, "require_auth=all: /health with a token "
              "-> 200", r)
        for sub in ("/health/live", "/health/ready"):
            r = http_request(p, "GET", sub)
            print("info: require_auth=all: anonymous GET %s -> %d"
                  % (sub, r.status))
    finally:
        srv.stop()


def test_server_survives():
    check(server().alive() and server().healthy(),
          "server alive and healthy at the end")


if __name__ == "__main__":
    run_tests([test_bearer_subprotocol, test_websockets_library_client,
               test_bad_tokens, test_live_expiry,
               test_require_auth_all, test_server_survives])
