#!/usr/bin/python3
"""Autobahn|Testsuite categories 1-7, 9 and 10 against /ws/echo.

Our own implementation of the fuzzingclient cases, with Autobahn's "OK"
criteria (SPEC §1.3: every case must be OK, not merely non-strict):

  - an expected echo is compared as reassembled messages (the echo
    endpoint streams and may re-fragment), pongs must carry the ping's
    payload, in order;
  - a case that must fail the connection needs a close frame with the
    expected code, no echo/pong for anything sent after the bad frame,
    and then the server closes the TCP connection;
  - a case that succeeds ends with a clean close handshake (we send 1000,
    the server answers 1000, then closes the TCP connection).

Each case is one check, named "case <id>".  Run one case (or a prefix):
    test_autobahn.py 6.4 9.1.6
"""

import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG,  # noqa
                      OP_TEXT, SLOW, VERBOSE, WS, Closed,
                      HandshakeError, Sender, Server, Timeout, check,
                      close_payload, finish, fragment_bytes, frame)

S = None
CASES = []


def case(cid, desc):
    def reg(fn):
        CASES.append((cid, desc, fn))
        return fn
    return reg


class Fail(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Fail(what)


# --------------------------------------------------------------- helpers

def sendf(ws, frames, mode=None):
    """Send a list of encoded frames: all at once, 'frame'-wise (one send
    per frame with a short pause) or 'octet'-wise (1-byte chops, 1 ms)."""
    if mode is None:
        return ws.send_quiet(b"".join(frames))
    ok = True
    for f in frames:
        if mode == "frame":
            ok = ws.send_quiet(f) and ok
            time.sleep(0.02)
        else:
            ok = ws.send_quiet(f, chop=1, delay=0.0005) and ok
    return ok


def finish_clean(ws, ev_so_far=None):
    """Close handshake initiated by us: server answers 1000 (or echoes),
    then closes TCP."""
    extra = ws.collect(0.1, reply_close=False, wait_eof=False)
    need(not extra.messages() and not extra.pongs() and
         not extra.has("close") and not extra.has("eof"),
         "unexpected events before our close: %r" % extra)
    try:
        ws.send_close(1000)
    except OSError as e:
        raise Fail("send close: %r" % e)
    ev = ws.collect(3.0 * SLOW, reply_close=False, eof_timeout=3.0)
    c = ev.close()
    need(c is not None, "no close frame answered to our close: %r" % ev)
    need(c[1] in (1000, None), "server answered close code %r" % c[1])
    need(ev.items[-1][0] == "eof",
         "server did not close TCP after the close handshake: %r" % ev)
    need(not ev.bad(), "protocol errors in server frames: %r" % ev.bad())
    return True


def expect_ok(ws, msgs=(), pongs=(), order=None, timeout=5.0):
    """Expect exactly these echoed messages and pongs, then a clean close.
    order: optional list of "message"/"pong" kinds in arrival order."""
    msgs, pongs = list(msgs), list(pongs)
    ev = ws.collect(timeout * SLOW, stop=lambda e: len(e.messages()) >=
                    len(msgs) and len(e.pongs()) >= len(pongs),
                    reply_close=False, wait_eof=False)
    need(not ev.has("close") and not ev.has("eof"),
         "connection closed: %r" % ev)
    got = ev.messages()
    if got != msgs:
        raise Fail("messages differ: expected %s, got %s" % (
            summary(msgs), summary(got)))
    need(ev.pongs() == pongs, "pongs: expected %r, got %r" % (
        pongs, ev.pongs()))
    need(not ev.bad(), "protocol errors in server frames: %r" % ev.bad())
    if order is not None:
        kinds = [k for k in ev.kinds() if k in ("message", "pong")]
        need(kinds == order, "order: expected %r, got %r" % (order, kinds))
    return finish_clean(ws)


def summary(msgs):
    return [(op, len(p), p[:16]) for op, p in msgs]


def expect_fail(ws, code, msgs=(), timeout=5.0, allow_pongs=()):
    """Expect the server to fail the connection with a close frame `code`
    (an int or a tuple), after exactly `msgs`; no pong beyond allow_pongs;
    then the server closes TCP."""
    codes = code if isinstance(code, tuple) else (code,)
    ev = ws.collect(timeout * SLOW, reply_close=True, eof_timeout=3.0)
    c = ev.close()
    need(c is not None, "no close frame (expected %r): %r" % (codes, ev))
    need(c[1] in codes, "close code %r, expected %r" % (c[1], codes))
    got = ev.messages()
    need(got == list(msgs), "messages before close: expected %s, got %s"
         % (summary(list(msgs)), summary(got)))
    need(ev.pongs() == list(allow_pongs), "pongs: expected %r, got %r" % (
        list(allow_pongs), ev.pongs()))
    need(ev.items[-1][0] == "eof",
         "server did not close TCP after the close frame: %r" % ev)
    need(not ev.bad(), "protocol errors in server frames: %r" % ev.bad())
    return True


def expect_close_reply(ws, codes, msgs=None, timeout=5.0):
    """We sent a close: the server answers with one of codes (None means
    an empty close payload), then closes TCP; optional exact msgs."""
    ev = ws.collect(timeout * SLOW, reply_close=False, eof_timeout=3.0)
    c = ev.close()
    need(c is not None, "no close frame: %r" % ev)
    need(c[1] in codes, "close code %r, expected one of %r" % (c[1], codes))
    if msgs is not None:
        need(ev.messages() == list(msgs), "messages: expected %s, got %s"
             % (summary(list(msgs)), summary(ev.messages())))
    need(not ev.pongs(), "pong after our close: %r" % ev.pongs())
    need(ev.items[-1][0] == "eof",
         "server did not close TCP after the close handshake: %r" % ev)
    need(not ev.bad(), "protocol errors in server frames: %r" % ev.bad())
    return ev


T, B = OP_TEXT, OP_BINARY


def F(op, payload=b"", fin=True, rsv=0, **kw):
    return frame(op, payload, fin, rsv, **kw)


def text(n):
    return b"*" * n


def binary(n):
    return b"\xfe" * n


# ------------------------------------------------------ 1. framing

for _i, _n in enumerate([0, 125, 126, 127, 128, 65535, 65536], 1):
    def _mk(n, op, gen):
        def fn(ws):
            ws.send(F(op, gen(n)))
            return expect_ok(ws, [(op, gen(n))])
        return fn
    case("1.1.%d" % _i, "text message, payload length %d" % _n)(
        _mk(_n, T, text))
    case("1.2.%d" % _i, "binary message, payload length %d" % _n)(
        _mk(_n, B, binary))


@case("1.1.8", "text 65536 sent in chops of 997 octets")
def c1_1_8(ws):
    ws.send(F(T, text(65536)), chop=997)
    return expect_ok(ws, [(T, text(65536))])


@case("1.2.8", "binary 65536 sent in chops of 997 octets")
def c1_2_8(ws):
    ws.send(F(B, binary(65536)), chop=997)
    return expect_ok(ws, [(B, binary(65536))])


# ------------------------------------------------------ 2. ping/pong

@case("2.1", "ping without payload")
def c2_1(ws):
    ws.ping()
    return expect_ok(ws, pongs=[b""])


@case("2.2", "ping with small text payload")
def c2_2(ws):
    ws.ping(b"Hello, world!")
    return expect_ok(ws, pongs=[b"Hello, world!"])


@case("2.3", "ping with small binary (non UTF-8) payload")
def c2_3(ws):
    p = bytes([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])
    ws.ping(p)
    return expect_ok(ws, pongs=[p])


@case("2.4", "ping with 125-octet binary payload")
def c2_4(ws):
    ws.ping(binary(125))
    return expect_ok(ws, pongs=[binary(125)])


@case("2.5", "ping with 126-octet payload -> 1002")
def c2_5(ws):
    ws.send_quiet(F(OP_PING, binary(126)))
    return expect_fail(ws, 1002)


@case("2.6", "ping with 125-octet payload sent in 1-octet chops")
def c2_6(ws):
    ws.send(F(OP_PING, binary(125)), chop=1, delay=0.0005)
    return expect_ok(ws, pongs=[binary(125)])


@case("2.7", "unsolicited pong without payload is ignored")
def c2_7(ws):
    ws.send(F(OP_PONG))
    ev = ws.collect(0.3, reply_close=False, wait_eof=False)
    need(ev.kinds() == ["timeout"], "server reacted: %r" % ev)
    return finish_clean(ws)


@case("2.8", "unsolicited pong with payload is ignored")
def c2_8(ws):
    ws.send(F(OP_PONG, b"unsolicited pong payload"))
    ev = ws.collect(0.3, reply_close=False, wait_eof=False)
    need(ev.kinds() == ["timeout"], "server reacted: %r" % ev)
    return finish_clean(ws)


@case("2.9", "unsolicited pong, then ping: one pong for the ping")
def c2_9(ws):
    ws.send(F(OP_PONG, b"unsolicited pong payload") +
            F(OP_PING, b"ping payload"))
    return expect_ok(ws, pongs=[b"ping payload"])


@case("2.10", "10 pings -> 10 pongs")
def c2_10(ws):
    ps = [b"payload-%d" % i for i in range(10)]
    ws.send(b"".join(F(OP_PING, p) for p in ps))
    return expect_ok(ws, pongs=ps)


@case("2.11", "10 pings sent in 1-octet chops -> 10 pongs")
def c2_11(ws):
    ps = [b"payload-%d" % i for i in range(10)]
    ws.send(b"".join(F(OP_PING, p) for p in ps), chop=1, delay=0.0005)
    return expect_ok(ws, pongs=ps)


# ------------------------------------------------------ 3. reserved bits

HW = b"Hello, world!"


@case("3.1", "text with RSV=1 -> 1002")
def c3_1(ws):
    ws.send_quiet(F(T, HW, rsv=1))
    return expect_fail(ws, 1002)


def _rsv_case(rsv, mode):
    def fn(ws):
        sendf(ws, [F(T, HW), F(T, HW, rsv=rsv), F(OP_PING, HW)], mode)
        return expect_fail(ws, 1002, msgs=[(T, HW)])
    return fn


case("3.2", "text, text RSV=2, ping -> echo, 1002, no pong")(
    _rsv_case(2, None))
case("3.3", "text, text RSV=3, ping; frame-wise")(_rsv_case(3, "frame"))
case("3.4", "text, text RSV=4, ping; octet-wise")(_rsv_case(4, "octet"))


@case("3.5", "binary with RSV=5 -> 1002")
def c3_5(ws):
    ws.send_quiet(F(B, b"\xff" * 8, rsv=5))
    return expect_fail(ws, 1002)


@case("3.6", "ping with RSV=6 -> 1002, no pong")
def c3_6(ws):
    ws.send_quiet(F(OP_PING, HW, rsv=6))
    return expect_fail(ws, 1002)


@case("3.7", "close with RSV=7 -> 1002")
def c3_7(ws):
    ws.send_quiet(F(OP_CLOSE, close_payload(1000), rsv=7))
    ws.closed_sent = True     # do not answer its close: we "sent" one
    ev = ws.collect(5.0 * SLOW, reply_close=False, eof_timeout=3.0)
    c = ev.close()
    need(c is not None and c[1] == 1002, "expected close 1002: %r" % ev)
    need(ev.items[-1][0] == "eof", "no TCP close: %r" % ev)
    return True


# ------------------------------------------------------ 4. opcodes

def _op_case(op, with_payload, prefix, mode=None):
    def fn(ws):
        body = b"reserved opcode payload" if with_payload else b""
        if not prefix:
            ws.send_quiet(F(op, body))
            return expect_fail(ws, 1002)
        sendf(ws, [F(T, HW), F(op, body), F(OP_PING, HW)], mode)
        return expect_fail(ws, 1002, msgs=[(T, HW)])
    return fn


for _base, _ops in (("4.1", (3, 4, 5, 6, 7)), ("4.2", (11, 12, 13, 14, 15))):
    case(_base + ".1", "opcode %d, no payload -> 1002" % _ops[0])(
        _op_case(_ops[0], False, False))
    case(_base + ".2", "opcode %d with payload -> 1002" % _ops[1])(
        _op_case(_ops[1], True, False))
    case(_base + ".3", "text, opcode %d, ping -> echo, 1002" % _ops[2])(
        _op_case(_ops[2], False, True))
    case(_base + ".4", "text, opcode %d + payload, ping" % _ops[3])(
        _op_case(_ops[3], True, True))
    case(_base + ".5", "text, opcode %d + payload, ping; octet-wise"
         % _ops[4])(_op_case(_ops[4], True, True, "octet"))


# ------------------------------------------------------ 5. fragmentation

@case("5.1", "ping in 2 fragments -> 1002")
def c5_1(ws):
    ws.send_quiet(F(OP_PING, b"fragment1", fin=False) +
                  F(OP_CONT, b"fragment2"))
    return expect_fail(ws, 1002)


@case("5.2", "pong in 2 fragments -> 1002")
def c5_2(ws):
    ws.send_quiet(F(OP_PONG, b"fragment1", fin=False) +
                  F(OP_CONT, b"fragment2"))
    return expect_fail(ws, 1002)


def _frag2(mode):
    def fn(ws):
        sendf(ws, [F(T, b"fragment1", fin=False), F(OP_CONT, b"fragment2")],
              mode)
        return expect_ok(ws, [(T, b"fragment1fragment2")])
    return fn


case("5.3", "text in 2 fragments")(_frag2(None))
case("5.4", "text in 2 fragments, octet-wise")(_frag2("octet"))
case("5.5", "text in 2 fragments, frame-wise")(_frag2("frame"))


def _frag2_ping(mode):
    def fn(ws):
        sendf(ws, [F(T, b"fragment1", fin=False), F(OP_PING, b"ping payload"),
                   F(OP_CONT, b"fragment2")], mode)
        return expect_ok(ws, [(T, b"fragment1fragment2")],
                         pongs=[b"ping payload"], order=["pong", "message"])
    return fn


case("5.6", "text in 2 fragments, ping in between")(_frag2_ping(None))
case("5.7", "text in 2 fragments, ping in between; octet-wise")(
    _frag2_ping("octet"))
case("5.8", "text in 2 fragments, ping in between; frame-wise")(
    _frag2_ping("frame"))


def _cont_first(fin, mode):
    def fn(ws):
        sendf(ws, [F(OP_CONT, b"non-continuation payload", fin=fin),
                   F(T, HW)], mode)
        return expect_fail(ws, 1002)
    return fn


case("5.9", "continuation FIN=1 with nothing to continue -> 1002")(
    _cont_first(True, None))
case("5.10", "as 5.9, frame-wise")(_cont_first(True, "frame"))
case("5.11", "as 5.9, octet-wise")(_cont_first(True, "octet"))
case("5.12", "continuation FIN=0 with nothing to continue -> 1002")(
    _cont_first(False, None))
case("5.13", "as 5.12, frame-wise")(_cont_first(False, "frame"))
case("5.14", "as 5.12, octet-wise")(_cont_first(False, "octet"))


@case("5.15", "2-fragment text, then continuation with nothing to continue")
def c5_15(ws):
    ws.send_quiet(F(T, b"fragment1", fin=False) + F(OP_CONT, b"fragment2") +
                  F(OP_CONT, b"fragment3", fin=False) + F(T, b"fragment4"))
    return expect_fail(ws, 1002, msgs=[(T, b"fragment1fragment2")])


@case("5.16", "2x (continuation FIN=0, text FIN=0, continuation) -> 1002")
def c5_16(ws):
    g = (F(OP_CONT, b"fragment1", fin=False) + F(T, b"fragment2", fin=False)
         + F(OP_CONT, b"fragment3"))
    ws.send_quiet(g + g)
    return expect_fail(ws, 1002)


@case("5.17", "2x (continuation FIN=1, text FIN=0, continuation) -> 1002")
def c5_17(ws):
    g = (F(OP_CONT, b"fragment1") + F(T, b"fragment2", fin=False) +
         F(OP_CONT, b"fragment3"))
    ws.send_quiet(g + g)
    return expect_fail(ws, 1002)


@case("5.18", "text FIN=0 followed by a new text frame -> 1002")
def c5_18(ws):
    ws.send_quiet(F(T, b"fragment1", fin=False) + F(T, b"fragment2"))
    return expect_fail(ws, 1002)


def _five_frags(sync):
    def fn(ws):
        parts = [b"fragment%d" % i for i in range(1, 6)]
        seq = [F(T, parts[0], fin=False), F(OP_CONT, parts[1], fin=False),
               F(OP_PING, b"pongme 1!"), None,
               F(OP_CONT, parts[2], fin=False),
               F(OP_CONT, parts[3], fin=False),
               F(OP_PING, b"pongme 2!"), None, F(OP_CONT, parts[4])]
        for f in seq:
            if f is None:
                time.sleep(0.1)
            elif sync:
                ws.send(f)
                time.sleep(0.01)
            else:
                ws.send(f)
        return expect_ok(ws, [(T, b"".join(parts))],
                         pongs=[b"pongme 1!", b"pongme 2!"],
                         order=["pong", "pong", "message"])
    return fn


case("5.19", "5 fragments, 2 pings in between, with delays")(
    _five_frags(False))
case("5.20", "as 5.19, each frame sent on its own")(_five_frags(True))


# ------------------------------------------------------ 6. UTF-8

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!".encode()
INVALID_MSG = KOSME + b"\xed\xa0\x80" + b"edited"


@case("6.1.1", "empty text message")
def c6_1_1(ws):
    ws.send(F(T, b""))
    return expect_ok(ws, [(T, b"")])


@case("6.1.2", "empty text message in 3 empty fragments")
def c6_1_2(ws):
    ws.send(F(T, b"", fin=False) + F(OP_CONT, b"", fin=False) +
            F(OP_CONT, b""))
    return expect_ok(ws, [(T, b"")])


@case("6.1.3", "3 fragments: empty, 'middle frame payload', empty")
def c6_1_3(ws):
    ws.send(F(T, b"", fin=False) + F(OP_CONT, b"middle frame payload",
                                     fin=False) + F(OP_CONT, b""))
    return expect_ok(ws, [(T, b"middle frame payload")])


@case("6.2.1", "valid UTF-8 in one frame")
def c6_2_1(ws):
    ws.send(F(T, HELLO_UTF8))
    return expect_ok(ws, [(T, HELLO_UTF8)])


@case("6.2.2", "valid UTF-8 in 2 fragments split at a code point")
def c6_2_2(ws):
    cut = "Hello-µ@ßöä".encode()
    ws.send(F(T, cut, fin=False) + F(OP_CONT, HELLO_UTF8[len(cut):]))
    return expect_ok(ws, [(T, HELLO_UTF8)])


def _octet_frags(payload):
    fr = [F(T if i == 0 else OP_CONT, payload[i:i + 1],
            fin=(i == len(payload) - 1)) for i in range(len(payload))]
    return b"".join(fr)


@case("6.2.3", "valid UTF-8 in 1-octet fragments")
def c6_2_3(ws):
    ws.send(_octet_frags(HELLO_UTF8))
    return expect_ok(ws, [(T, HELLO_UTF8)])


@case("6.2.4", "kosme in 1-octet fragments")
def c6_2_4(ws):
    ws.send(_octet_frags(KOSME))
    return expect_ok(ws, [(T, KOSME)])


@case("6.3.1", "invalid UTF-8 (surrogate) in one frame -> 1007")
def c6_3_1(ws):
    ws.send_quiet(F(T, INVALID_MSG))
    return expect_fail(ws, 1007)


@case("6.3.2", "invalid UTF-8 in 1-octet fragments -> 1007")
def c6_3_2(ws):
    ws.send_quiet(_octet_frags(INVALID_MSG))
    return expect_fail(ws, 1007)


def _fail_fast(first, second, rest, framed):
    """Send `first`, pause, `second` (which makes the text invalid), then
    wait: the 1007 must arrive BEFORE `rest` is sent."""
    def fn(ws):
        if framed:      # three fragments
            ws.send(F(T, first, fin=False))
            time.sleep(0.05)
            ws.send(F(OP_CONT, second, fin=False))
            tail = F(OP_CONT, rest)
        else:           # one frame, sent in three chops
            whole = F(T, first + second + rest)
            hl = len(whole) - len(first + second + rest)
            ws.send(whole[:hl + len(first)])
            time.sleep(0.05)
            ws.send(whole[hl + len(first):hl + len(first + second)])
            tail = whole[hl + len(first + second):]
        ev = ws.collect(2.0 * SLOW, stop=lambda e: e.has("close"),
                        reply_close=False, wait_eof=False)
        need(ev.has("close"), "no close before the rest was sent "
             "(not fail-fast): %r" % ev)
        need(ev.close_code() == 1007, "close code %r, expected 1007"
             % ev.close_code())
        need(not ev.messages(), "a message completed: %r" % ev)
        ws.send_quiet(tail)
        ws.send_quiet(F(OP_CLOSE, ev.close()[3][:2]))
        ws.closed_sent = True
        need(ws.wait_eof(3.0), "server did not close TCP")
        return True
    return fn


case("6.4.1", "fail fast: 3 fragments, the 2nd is F4 90 80 80")(
    _fail_fast(KOSME, b"\xf4\x90\x80\x80", b"\x65\x64\x69\x74\x65\x64",
               True))
case("6.4.2", "fail fast: 3 fragments split inside F4|90|80 80")(
    _fail_fast(KOSME + b"\xf4", b"\x90", b"\x80\x80edited", True))
case("6.4.3", "fail fast: one frame in 3 chops, 2nd chop F4 90 80 80")(
    _fail_fast(KOSME, b"\xf4\x90\x80\x80", b"\x65\x64\x69\x74\x65\x64",
               False))
case("6.4.4", "fail fast: one frame in 3 chops split inside F4|90")(
    _fail_fast(KOSME + b"\xf4", b"\x90", b"\x80\x80edited", False))


def _prefixes(s):
    out = []
    for n in range(1, len(s) + 1):
        p = s[:n]
        try:
            p.decode("utf-8")
            out.append((True, p))
        except UnicodeDecodeError:
            out.append((False, p))
    return out


def _noncharacters():
    out = [chr(0xFFFE).encode("utf-8", "surrogatepass"),
           chr(0xFFFF).encode("utf-8", "surrogatepass")]
    for plane in range(1, 17):
        for low in (0xFFFE, 0xFFFF):
            out.append(chr(plane << 16 | low).encode())
    return out


def _surr(*cps):
    return b"".join(chr(c).encode("utf-8", "surrogatepass") for c in cps)


# (group, description, [(valid, payload), ...]) after Markus Kuhn's
# UTF-8 decoder stress test, as Autobahn's 6.5-6.23 use it.
UTF8_GROUPS = [
    ("6.5", "valid UTF-8 samples", [
        (True, KOSME), (True, b"\xf0\x90\x80\x80"),
        (True, KOSME + b"\xf0\x9f\x98\x80"),
        (True, "Ω≈ç√∫˜µ≤≥÷ 𝄞 日本語".encode()),
        (True, b"\x00\x7f\xc2\x80\xdf\xbf")]),
    ("6.6", "prefixes of kosme", _prefixes(KOSME)),
    ("6.7", "first sequence of each length", [
        (True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"),
        (True, b"\xf0\x90\x80\x80")]),
    ("6.8", "first 5- and 6-byte sequences", [
        (False, b"\xf8\x88\x80\x80\x80"),
        (False, b"\xfc\x84\x80\x80\x80\x80")]),
    ("6.9", "last sequence of each length", [
        (True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"),
        (True, b"\xf4\x8f\xbf\xbf")]),
    ("6.10", "last 4/5/6-byte sequences beyond U+10FFFF", [
        (False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"),
        (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]),
    ("6.11", "other boundaries", [
        (True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"),
        (True, b"\xef\xbf\xbd"), (True, b"\xf4\x8f\xbf\xbf"),
        (False, b"\xf4\x90\x80\x80")]),
    ("6.12", "unexpected continuation bytes", [
        (False, b"\x80"), (False, b"\xbf"), (False, b"\x80\xbf"),
        (False, b"\x80\xbf\x80"), (False, b"\x80\xbf\x80\xbf"),
        (False, b"\x80\xbf\x80\xbf\x80"),
        (False, b"\x80\xbf\x80\xbf\x80\xbf"),
        (False, bytes(range(0x80, 0xc0)))]),
    ("6.13", "lonely start characters", [
        (False, b"".join(bytes([c, 0x20]) for c in range(0xc0, 0xe0))),
        (False, b"".join(bytes([c, 0x20]) for c in range(0xe0, 0xf0))),
        (False, b"".join(bytes([c, 0x20]) for c in range(0xf0, 0xf8))),
        (False, b"".join(bytes([c, 0x20]) for c in range(0xf8, 0xfc))),
        (False, b"".join(bytes([c, 0x20]) for c in range(0xfc, 0xfe)))]),
    ("6.14", "sequences with the last continuation byte missing", [
        (False, b"\xc0"), (False, b"\xe0\x80"), (False, b"\xf0\x80\x80"),
        (False, b"\xf8\x80\x80\x80"), (False, b"\xfc\x80\x80\x80\x80"),
        (False, b"\xdf"), (False, b"\xef\xbf"), (False, b"\xf7\xbf\xbf"),
        (False, b"\xfb\xbf\xbf\xbf"), (False, b"\xfd\xbf\xbf\xbf\xbf")]),
    ("6.15", "concatenated incomplete sequences", [
        (False, b"\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80"
                b"\x80\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf"
                b"\xbf\xbf")]),
    ("6.16", "impossible bytes", [
        (False, b"\xfe"), (False, b"\xff"), (False, b"\xfe\xfe\xff\xff")]),
    ("6.17", "overlong ASCII '/'", [
        (False, b"\xc0\xaf"), (False, b"\xe0\x80\xaf"),
        (False, b"\xf0\x80\x80\xaf"), (False, b"\xf8\x80\x80\x80\xaf"),
        (False, b"\xfc\x80\x80\x80\x80\xaf")]),
    ("6.18", "maximum overlong sequences", [
        (False, b"\xc1\xbf"), (False, b"\xe0\x9f\xbf"),
        (False, b"\xf0\x8f\xbf\xbf"), (False, b"\xf8\x87\xbf\xbf\xbf"),
        (False, b"\xfc\x83\xbf\xbf\xbf\xbf")]),
    ("6.19", "overlong NUL", [
        (False, b"\xc0\x80"), (False, b"\xe0\x80\x80"),
        (False, b"\xf0\x80\x80\x80"), (False, b"\xf8\x80\x80\x80\x80"),
        (False, b"\xfc\x80\x80\x80\x80\x80")]),
    ("6.20", "single UTF-16 surrogates", [
        (False, _surr(c)) for c in (0xD800, 0xDB7F, 0xDB80, 0xDBFF,
                                    0xDC00, 0xDF80, 0xDFFF)]),
    ("6.21", "paired UTF-16 surrogates", [
        (False, _surr(a, b)) for a, b in (
            (0xD800, 0xDC00), (0xD800, 0xDFFF), (0xDB7F, 0xDC00),
            (0xDB7F, 0xDFFF), (0xDB80, 0xDC00), (0xDB80, 0xDFFF),
            (0xDBFF, 0xDC00), (0xDBFF, 0xDFFF))]),
    ("6.22", "noncharacters U+FFFE, U+FFFF ... U+10FFFF (valid)", [
        (True, p) for p in _noncharacters()]),
    ("6.23", "specials U+FFF9..U+FFFF (valid)", [
        (True, chr(c).encode()) for c in range(0xFFF9, 0x10000)]),
]


def _utf8_case(valid, payload):
    def fn(ws):
        if valid:
            ws.send(F(T, payload))
            return expect_ok(ws, [(T, payload)])
        ws.send_quiet(F(T, payload))
        return expect_fail(ws, 1007)
    return fn


for _g, _desc, _items in UTF8_GROUPS:
    for _k, (_valid, _p) in enumerate(_items, 1):
        case("%s.%d" % (_g, _k), "%s: %s %s" % (
            _desc, _p[:12].hex(" ") + (" ..." if len(_p) > 12 else ""),
            "valid" if _valid else "invalid -> 1007"))(
            _utf8_case(_valid, _p))


@case("6.x.split", "invalid sequences split across fragments -> 1007")
def c6_split(ws):
    # an overlong split between two fragments: C0 | AF
    ws.send_quiet(F(T, b"ab\xc0", fin=False))
    time.sleep(0.02)
    ws.send_quiet(F(OP_CONT, b"\xafcd"))
    return expect_fail(ws, 1007)


@case("6.x.trunc-frag", "message ending inside a sequence split over "
      "fragments -> 1007")
def c6_trunc_frag(ws):
    ws.send_quiet(F(T, b"ab\xf0\x9f", fin=False) + F(OP_CONT, b"\x98"))
    return expect_fail(ws, 1007)


@case("6.x.valid-split", "4-byte sequence split over 4 fragments is valid")
def c6_valid_split(ws):
    p = b"\xf0\x9f\x98\x80"
    ws.send(b"".join(F(T if i == 0 else OP_CONT, p[i:i + 1], fin=(i == 3))
                     for i in range(4)))
    return expect_ok(ws, [(T, p)])


@case("6.x.binary-any", "binary messages are not UTF-8 checked")
def c6_binary(ws):
    ws.send(F(B, INVALID_MSG))
    return expect_ok(ws, [(B, INVALID_MSG)])


# ------------------------------------------------------ 7. close

@case("7.1.1", "text message then close")
def c7_1_1(ws):
    ws.send(F(T, b"Hello World!"))
    ws.send_close(1000)
    expect_close_reply(ws, (1000, None), msgs=[(T, b"Hello World!")])
    return True


@case("7.1.2", "close, then close again")
def c7_1_2(ws):
    ws.send_close(1000)
    ws.send_quiet(F(OP_CLOSE, close_payload(1000)))
    expect_close_reply(ws, (1000, None))
    return True


@case("7.1.3", "close, then ping: no pong")
def c7_1_3(ws):
    ws.send_close(1000)
    ws.send_quiet(F(OP_PING, b"Hello World!"))
    expect_close_reply(ws, (1000, None))
    return True


@case("7.1.4", "close, then text: no echo")
def c7_1_4(ws):
    ws.send_close(1000)
    ws.send_quiet(F(T, b"Hello World!"))
    expect_close_reply(ws, (1000, None), msgs=[])
    return True


@case("7.1.5", "fragment, close, last fragment: no echoed message")
def c7_1_5(ws):
    ws.send(F(T, b"fragment1", fin=False))
    ws.send_close(1000)
    ws.send_quiet(F(OP_CONT, b"fragment2"))
    expect_close_reply(ws, (1000, None), msgs=[])
    return True


@case("7.1.6", "256 KiB message, close, ping: close answered, no pong")
def c7_1_6(ws):
    big = b"BAsd7&jh23" * 26215
    snd = Sender(ws, F(T, big) + F(OP_CLOSE, close_payload(1000)) +
                 F(OP_PING, b"Hello World!"))
    ws.closed_sent = True
    ev = expect_close_reply(ws, (1000, None), timeout=10.0)
    snd.join(5)
    # the echo may be complete, or absent (implementation-defined)
    need(ev.messages() in ([], [(T, big)]),
         "echo neither complete nor absent: %s" % summary(ev.messages()))
    return True


@case("7.3.1", "close with empty payload -> close answered")
def c7_3_1(ws):
    ws.send_close()
    expect_close_reply(ws, (1000, None))
    return True


@case("7.3.2", "close with 1-byte payload -> 1002")
def c7_3_2(ws):
    ws.send_quiet(F(OP_CLOSE, b"\x03"))
    ws.closed_sent = True
    expect_close_reply(ws, (1002,))
    return True


@case("7.3.3", "close 1000")
def c7_3_3(ws):
    ws.send_close(1000)
    expect_close_reply(ws, (1000,))
    return True


@case("7.3.4", "close 1000 with reason")
def c7_3_4(ws):
    ws.send_close(1000, b"Hello World!")
    expect_close_reply(ws, (1000,))
    return True


@case("7.3.5", "close 1000 with a 123-byte reason")
def c7_3_5(ws):
    ws.send_close(1000, b"*" * 123)
    expect_close_reply(ws, (1000,))
    return True


@case("7.3.6", "close with a 126-byte payload -> 1002")
def c7_3_6(ws):
    ws.send_quiet(F(OP_CLOSE, close_payload(1000, b"*" * 124)))
    ws.closed_sent = True
    expect_close_reply(ws, (1002,))
    return True


@case("7.5.1", "close reason with invalid UTF-8 -> 1007")
def c7_5_1(ws):
    ws.send_quiet(F(OP_CLOSE, close_payload(1000, INVALID_MSG)))
    ws.closed_sent = True
    expect_close_reply(ws, (1007,))
    return True


for _k, _code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                            1011, 3000, 3999, 4000, 4999], 1):
    def _mk(code):
        def fn(ws):
            ws.send_close(code)
            expect_close_reply(ws, (code, 1000))
            return True
        return fn
    case("7.7.%d" % _k, "close with valid code %d" % _code)(_mk(_code))

for _k, _code in enumerate([0, 999, 1004, 1005, 1006, 1016, 1100, 2000,
                            2999], 1):
    def _mk(code):
        def fn(ws):
            ws.send_close(code)
            expect_close_reply(ws, (1002,))
            return True
        return fn
    case("7.9.%d" % _k, "close with invalid code %d -> 1002" % _code)(
        _mk(_code))

for _k, _code in enumerate([5000, 65535], 1):
    def _mk(code):
        def fn(ws):
            ws.send_close(code)
            expect_close_reply(ws, (1002,))
            return True
        return fn
    case("7.13.%d" % _k, "close with out-of-range code %d -> 1002" % _code)(
        _mk(_code))


# ------------------------------------------------------ 9. limits/performance

def _bulk(op, size, frag=None, chop=None, timeout=60.0):
    """Send one (possibly fragmented/chopped) message of `size` bytes while
    reading the echo concurrently; compare the reassembled echo."""
    def fn(ws):
        payload = _pattern(size, op)
        t0 = time.monotonic()
        data = fragment_bytes(op, payload, frag) if frag else F(op, payload)
        snd = Sender(ws, data, chop=chop)
        ev = ws.collect(timeout * SLOW, stop=lambda e: bool(e.messages()) or
                        e.has("close"), reply_close=False, wait_eof=False)
        snd.join(10)
        need(snd.error is None, "send failed: %r" % snd.error)
        msgs = ev.messages()
        need(len(msgs) == 1, "no echo: %r" % ev)
        need(msgs[0][0] == op, "echo opcode %d" % msgs[0][0])
        need(len(msgs[0][1]) == len(payload), "echo length %d != %d" % (
            len(msgs[0][1]), len(payload)))
        need(msgs[0][1] == payload, "echo content differs")
        need(not ev.bad(), "protocol errors: %r" % ev.bad())
        if VERBOSE:
            print("     %d bytes echoed in %.3fs (%d server frames)" % (
                len(payload), time.monotonic() - t0, len(ev.frames)))
        return finish_clean(ws)
    return fn


def _pattern(n, op):
    if op == T:
        return (b"BAsd7&jh23" * (n // 10 + 1))[:n]
    return (bytes(range(256)) * (n // 256 + 1))[:n]


_SIZES = [64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20]
for _k, _n in enumerate(_SIZES, 1):
    case("9.1.%d" % _k, "text message of %d bytes, one frame" % _n)(
        _bulk(T, _n))
    case("9.2.%d" % _k, "binary message of %d bytes, one frame" % _n)(
        _bulk(B, _n))

_FRAGS = [64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10,
          1 << 20, 4 << 20]
for _k, _f in enumerate(_FRAGS, 1):
    case("9.3.%d" % _k, "4 MiB text in fragments of %d" % _f)(
        _bulk(T, 4 << 20, frag=_f))
    case("9.4.%d" % _k, "4 MiB binary in fragments of %d" % _f)(
        _bulk(B, 4 << 20, frag=_f))

for _k, _c in enumerate([64, 128, 256, 512, 1024, 2048, 4096], 1):
    case("9.5.%d" % _k, "1 MiB text sent in chops of %d" % _c)(
        _bulk(T, 1 << 20, chop=_c))
    case("9.6.%d" % _k, "1 MiB binary sent in chops of %d" % _c)(
        _bulk(B, 1 << 20, chop=_c))


def _roundtrips(op, size, count=1000):
    def fn(ws):
        payload = _pattern(size, op)
        data = F(op, payload)      # same mask each time: allowed
        t0 = time.monotonic()
        for i in range(count):
            ws.send(data)
            try:
                got = ws.recv_message(5.0 * SLOW)
            except (Closed, Timeout) as e:
                raise Fail("message %d: %r" % (i, e))
            need(got == (op, payload), "message %d differs" % i)
        if VERBOSE:
            print("     %d round trips of %d bytes in %.3fs" % (
                count, size, time.monotonic() - t0))
        return finish_clean(ws)
    return fn


for _k, _n in enumerate([0, 16, 64, 256, 1024, 4096], 1):
    case("9.7.%d" % _k, "1000 text messages of %d bytes, round trips" % _n)(
        _roundtrips(T, _n))
    case("9.8.%d" % _k, "1000 binary messages of %d bytes, round trips"
         % _n)(_roundtrips(B, _n))


@case("9.x.interleave", "1 MiB text in 4 KiB fragments with a ping after "
      "every fragment")
def c9_interleave(ws):
    payload = _pattern(1 << 20, T)
    fr = []
    n = len(payload)
    for i in range(0, n, 4096):
        fr.append(F(T if i == 0 else OP_CONT, payload[i:i + 4096],
                    fin=(i + 4096 >= n)))
        if i + 4096 < n:
            fr.append(F(OP_PING, b"p%d" % i))
    snd = Sender(ws, b"".join(fr))
    ev = ws.collect(30.0 * SLOW, stop=lambda e: bool(e.messages()) or
                    e.has("close"), reply_close=False, wait_eof=False)
    snd.join(10)
    need(ev.messages() == [(T, payload)], "echo differs: %s" %
         summary(ev.messages()))
    want = [b"p%d" % i for i in range(0, n - 4096, 4096)]
    # pongs may still be in flight after the message completed
    if len(ev.pongs()) < len(want):
        more = ws.collect(5.0 * SLOW, stop=lambda e: len(e.pongs()) >=
                          len(want) - len(ev.pongs()), reply_close=False,
                          wait_eof=False)
        ev.items += more.items
    need(ev.pongs() == want, "pongs: %d of %d, first differing %r" % (
        len(ev.pongs()), len(want),
        next((i for i, (a, b) in enumerate(zip(ev.pongs(), want))
              if a != b), None)))
    return finish_clean(ws)


# ------------------------------------------------------ 10. misc

@case("10.1.1", "65536-byte text message auto-fragmented into 1300-byte "
      "frames")
def c10_1_1(ws):
    p = _pattern(65536, T)
    ws.send(fragment_bytes(T, p, 1300))
    return expect_ok(ws, [(T, p)])


# ------------------------------------------------------ extras (RFC 6455 §5)

@case("x.unmasked", "unmasked client frame -> 1002")
def cx_unmasked(ws):
    ws.send_quiet(F(T, b"no mask", mask=False))
    return expect_fail(ws, 1002)


@case("x.len63", "64-bit length with the most significant bit set -> 1002")
def cx_len63(ws):
    ws.send_quiet(frame(B, b"", length=1 << 63, len_form="64",
                        mask_key=b"\0\0\0\0") + b"abcd")
    return expect_fail(ws, 1002)


def _nonminimal(n, form):
    def fn(ws):
        p = _pattern(n, T)
        ws.send_quiet(frame(T, p, len_form=form))
        ev = ws.collect(3.0 * SLOW, stop=lambda e: bool(e.messages()) or
                        e.has("close"), reply_close=True, wait_eof=True)
        if ev.has("close"):
            need(ev.close_code() == 1002 and not ev.messages(),
                 "non-minimal length: expected echo or close 1002: %r" % ev)
            need(ev.items[-1][0] == "eof", "no TCP close: %r" % ev)
            return True
        need(ev.messages() == [(T, p)], "no echo, no close: %r" % ev)
        return finish_clean(ws)
    return fn


case("x.nonmin16", "5-byte payload with a 16-bit length: echo or 1002")(
    _nonminimal(5, "16"))
case("x.nonmin64", "200-byte payload with a 64-bit length: echo or 1002")(
    _nonminimal(200, "64"))


@case("x.ctrl-len", "close frame with a 16-bit length of 2 -> 1002 or "
      "answered")
def cx_ctrl_len(ws):
    ws.send_quiet(frame(OP_CLOSE, close_payload(1000), len_form="16"))
    ws.closed_sent = True
    expect_close_reply(ws, (1000, 1002))
    return True


@case("x.ping-in-middle-bytes", "ping whose bytes interleave no data: "
      "125-byte ping inside a 3-fragment binary message")
def cx_ping_mid(ws):
    ws.send(F(B, b"\x00" * 10, fin=False) + F(OP_PING, binary(125)) +
            F(OP_CONT, b"\x01" * 10, fin=False) + F(OP_CONT, b"\x02" * 10))
    return expect_ok(ws, [(B, b"\x00" * 10 + b"\x01" * 10 + b"\x02" * 10)],
                     pongs=[binary(125)], order=["pong", "message"])


# ------------------------------------------------------ echo_max_message

def echo_max_message_cases():
    srv = Server("echo_max_message=1024", label="echo_max_message=1024")
    try:
        def run(cid, desc, fn):
            ws = WS(srv.port)
            try:
                fn(ws)
                check(True, "case %s %s" % (cid, desc))
            except Fail as e:
                check(False, "case %s %s" % (cid, desc), str(e))
            finally:
                ws.close()

        run("m.1", "echo_max_message=1024: 1024-byte message echoed",
            lambda ws: (ws.send(F(B, binary(1024))),
                        expect_ok(ws, [(B, binary(1024))])))
        run("m.2", "echo_max_message=1024: 1025-byte message -> 1009",
            lambda ws: (ws.send_quiet(F(B, binary(1025))),
                        expect_fail(ws, 1009)))
        run("m.3", "echo_max_message=1024: 3 fragments of 400 -> 1009",
            lambda ws: (ws.send_quiet(F(T, text(400), fin=False) +
                                      F(OP_CONT, text(400), fin=False) +
                                      F(OP_CONT, text(400))),
                        expect_fail(ws, 1009)))
        run("m.4", "echo_max_message=1024: 1 MiB text -> 1009",
            lambda ws: (Sender(ws, F(T, text(1 << 20))),
                        expect_fail(ws, 1009, timeout=10.0)))
        run("m.5", "echo_max_message=1024: header announcing 2^40 bytes -> "
            "1009 at once",
            lambda ws: (ws.send_quiet(frame(B, b"", length=1 << 40,
                                            len_form="64") + b"x" * 100),
                        expect_fail(ws, 1009, timeout=3.0)))
        run("m.6", "echo_max_message=1024: 1024 bytes in 4 fragments echoed",
            lambda ws: (ws.send(fragment_bytes(T, text(1024), 256)),
                        expect_ok(ws, [(T, text(1024))])))
        check(srv.healthy(), "echo_max_message=1024: server still healthy")
    finally:
        srv.stop()


# ------------------------------------------------------ runner

def main():
    global S
    sel = sys.argv[1:]
    S = Server(label="autobahn")
    failed_ids = []
    t_all = time.monotonic()
    try:
        for cid, desc, fn in CASES:
            if sel and not any(cid == s or cid.startswith(s + ".")
                               for s in sel):
                continue
            t0 = time.monotonic()
            try:
                ws = WS(S.port)
            except (HandshakeError, OSError, Closed, Timeout) as e:
                check(False, "case %s %s" % (cid, desc),
                      "handshake failed: %r" % e)
                failed_ids.append(cid)
                continue
            try:
                ok = bool(fn(ws))
                detail = ""
            except Fail as e:
                ok, detail = False, str(e)
            except (OSError, Closed, Timeout) as e:
                ok, detail = False, "%s: %s" % (type(e).__name__, e)
            except Exception as e:  # noqa: BLE001
                ok, detail = False, "%r\n%s" % (e, traceback.format_exc(
                    limit=5))
            finally:
                ws.close()
            if not check(ok, "case %s %s" % (cid, desc), detail):
                failed_ids.append(cid)
                if not S.alive():
                    check(False, "server died during case %s" % cid,
                          S.log()[-3000:])
                    break
            if VERBOSE:
                print("     %.3fs" % (time.monotonic() - t0))
        if not sel or "m" in sel:
            echo_max_message_cases()
        check(S.healthy(), "server healthy after all cases")
    finally:
        Server.stop_all()
    if failed_ids:
        print("failed cases: %s" % " ".join(failed_ids))
    print("autobahn cases took %.1fs" % (time.monotonic() - t_all))
    finish()


if __name__ == "__main__":
    main()
