#!/usr/bin/python3
"""/ws/echo with a real client library (python3-websockets 10.4)."""

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import SLOW, Server, check, run_tests  # noqa: E402

import websockets  # noqa: E402

S = None


def uri(path="/ws/echo"):
    return "ws://127.0.0.1:%d%s" % (S.port, path)


def arun(coro, timeout=60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout * SLOW))


def connect(**kw):
    kw.setdefault("open_timeout", 5 * SLOW)
    kw.setdefault("close_timeout", 5 * SLOW)
    kw.setdefault("ping_interval", None)
    return websockets.connect(uri(), **kw)


def test_echo_text_binary():
    async def go():
        async with connect() as ws:
            check(ws.response_headers.get("Sec-WebSocket-Extensions") is None,
                  "websockets: permessage-deflate offer not accepted",
                  dict(ws.response_headers))
            await ws.send("hello, ward ✓")
            got = await asyncio.wait_for(ws.recv(), 5)
            check(got == "hello, ward ✓", "websockets: text echoed", got)
            await ws.send(b"\x00\x01\xfe\xff" * 100)
            got = await asyncio.wait_for(ws.recv(), 5)
            check(got == b"\x00\x01\xfe\xff" * 100,
                  "websockets: binary echoed", got[:20])
            await ws.send("")
            got = await asyncio.wait_for(ws.recv(), 5)
            check(got == "", "websockets: empty text echoed", got)
    arun(go())


def test_large_and_fragmented():
    async def go():
        async with connect(max_size=None) as ws:
            big = ("ab€" * 100000)
            await ws.send(big)
            got = await asyncio.wait_for(ws.recv(), 20 * SLOW)
            check(got == big, "websockets: 900 KB text echoed",
                  len(got) if isinstance(got, str) else got)

            async def parts():
                for i in range(50):
                    yield b"%05d" % i * 100
            await ws.send(parts())
            got = await asyncio.wait_for(ws.recv(), 10 * SLOW)
            want = b"".join(b"%05d" % i * 100 for i in range(50))
            check(got == want, "websockets: 50-fragment binary echoed",
                  len(got))
    arun(go())


def test_ping():
    async def go():
        async with connect() as ws:
            w = await ws.ping(b"are you there")
            t0 = time.monotonic()
            await asyncio.wait_for(w, 3 * SLOW)
            check(True, "websockets: ping answered by pong (%.1f ms)"
                  % ((time.monotonic() - t0) * 1000))
            waiters = [await ws.ping(b"p%d" % i) for i in range(5)]
            await asyncio.wait_for(asyncio.gather(*waiters), 3 * SLOW)
            check(True, "websockets: 5 pings answered")
    try:
        arun(go())
    except asyncio.TimeoutError:
        check(False, "websockets: ping answered by pong", "timeout")


def test_clean_close():
    async def go():
        ws = await connect()
        await ws.send("bye")
        await asyncio.wait_for(ws.recv(), 5)
        await ws.close(1000, "done")
        check(ws.close_code == 1000,
              "websockets: clean close with code 1000", ws.close_code)
        # close from the server side is 1000 (or an echo of ours)
        ws = await connect()
        await ws.close(4001, "app reason")
        check(ws.close_code in (4001, 1000),
              "websockets: close 4001 answered with 4001 or 1000",
              ws.close_code)
    arun(go())


def test_many_messages():
    async def go():
        async with connect() as ws:
            ok = 0
            for i in range(200):
                m = "message %d %s" % (i, "x" * (i % 97))
                await ws.send(m)
                if await asyncio.wait_for(ws.recv(), 5) == m:
                    ok += 1
            check(ok == 200, "websockets: 200 messages in a row echoed", ok)
            # and 200 sent before reading any
            for i in range(200):
                await ws.send(b"%d" % i)
            got = [await asyncio.wait_for(ws.recv(), 5) for _ in range(200)]
            check(got == [b"%d" % i for i in range(200)],
                  "websockets: 200 pipelined messages echoed in order")
    arun(go())


def test_concurrent_clients():
    async def client(i):
        async with connect() as ws:
            for k in range(20):
                m = "client %d message %d" % (i, k)
                await ws.send(m)
                if await asyncio.wait_for(ws.recv(), 10 * SLOW) != m:
                    return False
            await ws.close()
            return ws.close_code == 1000

    async def go():
        res = await asyncio.gather(*(client(i) for i in range(50)),
                                   return_exceptions=True)
        good = sum(1 for r in res if r is True)
        bad = [r for r in res if r is not True][:3]
        check(good == 50, "websockets: 50 concurrent clients echo and close "
              "cleanly", "%d good; %r" % (good, bad))
    arun(go())
    check(S.healthy(), "server healthy after 50 concurrent clients")


def test_client_dies():
    async def go():
        ws = await connect()
        await ws.send("x" * 1000)
        ws.transport.abort()      # no close handshake
        async with connect() as ws2:
            await ws2.send("still here")
            got = await asyncio.wait_for(ws2.recv(), 5)
            check(got == "still here",
                  "websockets: others unaffected by an aborted client")
    arun(go())


def main():
    global S
    S = Server(label="ws_client")
    run_tests([test_echo_text_binary, test_large_and_fragmented, test_ping,
               test_clean_close, test_many_messages, test_concurrent_clients,
               test_client_dies])


if __name__ == "__main__":
    main()
