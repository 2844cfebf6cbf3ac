#!/usr/bin/python3
"""smoke.py - end-to-end smoke test of a (cross-)built ward, e.g. under qemu.

usage: smoke.py [--qemu "qemu-arm -cpu cortex-a8 -L /usr/arm-linux-gnueabihf"]
                [--config FILE] [--tls-dir DIR] WARD_BIN

Starts WARD_BIN (through the qemu-user command when given) on a free port of
127.0.0.1 with a temporary data_dir and logs on stderr, then checks:
--version/--print-limits/--check-config run; GET /health answers 200 JSON
(with curl); a plain GET on /ws/echo answers 426; unknown paths 404; a
WebSocket round trip on /ws/echo (text, UTF-8, binary, 0..64 KiB, ping)
with python3-websockets; with --tls-dir (build/dev-tls: ca.pem,
server-ec.pem, server-ec.key, made by `make dev-tls`) also a TLS listener:
https /health with curl --cacert, and a wss:// echo round trip trusting that
CA (issue 12); SIGTERM makes it exit 0 within 6 s.
Prints "N passed, M failed"; exits 1 if anything failed.
"""

import asyncio
import json
import os
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import websockets

passed = failed = 0


def check(cond, name, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL %s%s" % (name, ": %s" % detail if detail else ""),
              flush=True)
    return bool(cond)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl(url, timeout=5):
    """(status, body) of one GET through curl; (0, "") when unreachable."""
    cp = subprocess.run(["curl", "-s", "-m", str(timeout), "-o", "-",
                         "-w", "\n%{http_code}", url],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                        timeout=timeout + 5)
    out = cp.stdout.decode("utf-8", "replace")
    body, _, code = out.rpartition("\n")
    return (int(code) if code.isdigit() else 0), body


def run(cmd, timeout=60):
    cp = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL, timeout=timeout)
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


async def ws_round_trip(port):
    uri = "ws://127.0.0.1:%d/ws/echo" % port
    async with websockets.connect(uri, max_size=None, compression=None,
                                  open_timeout=20, close_timeout=10) as ws:
        res = []
        msgs = ["hello ward", "grüße, 患者 ✓ \U0001F600", "",
                bytes(range(256)) * 4, b"\x00" * 125, b"\xa5" * 126,
                bytes((i * 7) & 0xff for i in range(65535)),
                "x" * 60000]
        for m in msgs:
            await ws.send(m)
            got = await asyncio.wait_for(ws.recv(), 20)
            res.append((type(m).__name__, len(m), got == m))
        pong = await ws.ping(b"smoke")
        await asyncio.wait_for(pong, 20)
        res.append(("ping", 5, True))
        await ws.close(1000, "bye")
        res.append(("close", ws.close_code, ws.close_code == 1000))
        return res


async def wss_round_trip(port, ca):
    """The same echo over TLS, trusting only the dev CA."""
    ctx = ssl.create_default_context(cafile=ca)
    uri = "wss://127.0.0.1:%d/ws/echo" % port
    async with websockets.connect(uri, ssl=ctx, max_size=None,
                                  compression=None, open_timeout=30,
                                  close_timeout=10) as ws:
        res = [("tls", 0, ws.transport.get_extra_info("ssl_object")
                .version() == "TLSv1.2")]
        for m in ["hello over tls", "grüße ✓", bytes(range(256)) * 64,
                  "y" * 20000]:
            await ws.send(m)
            got = await asyncio.wait_for(ws.recv(), 30)
            res.append((type(m).__name__, len(m), got == m))
        pong = await ws.ping(b"tls")
        await asyncio.wait_for(pong, 30)
        res.append(("ping", 3, True))
        await ws.close(1000, "bye")
        res.append(("close", ws.close_code, ws.close_code == 1000))
        return res


def tls_checks(tls_port, tls_dir):
    ca = os.path.join(tls_dir, "ca.pem")
    cp = subprocess.run(["curl", "-s", "-m", "20", "--cacert", ca, "-o",
                         "/dev/null", "-w", "%{http_code}",
                         "https://127.0.0.1:%d/health" % tls_port],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        timeout=30)
    check(cp.stdout == b"200", "https /health -> 200 (curl --cacert)",
          cp.stdout + cp.stderr)
    try:
        for kind, n, ok in asyncio.run(wss_round_trip(tls_port, ca)):
            check(ok, "wss /ws/echo %s (%s)" % (kind, n))
    except Exception as e:  # noqa: BLE001 - any failure is one check
        check(False, "wss /ws/echo round trip", "%s: %s"
              % (type(e).__name__, e))


def main():
    args = sys.argv[1:]
    qemu, config, tls_dir = [], None, None
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--qemu":
            qemu = shlex.split(args.pop(0))
        elif opt == "--config":
            config = os.path.abspath(args.pop(0))
        elif opt == "--tls-dir":
            tls_dir = os.path.abspath(args.pop(0))
        else:
            print("usage: smoke.py [--qemu CMD] [--config FILE] "
                  "[--tls-dir DIR] WARD_BIN")
            return 2
    if len(args) != 1:
        print("usage: smoke.py [--qemu CMD] [--config FILE] "
              "[--tls-dir DIR] WARD_BIN")
        return 2
    ward = qemu + [os.path.abspath(args[0])]
    label = os.path.relpath(args[0]) + (" under %s" % qemu[0] if qemu else "")
    print("smoke: %s" % label, flush=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WARD_") and k not in (
               "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
               "REDIS_HOST", "REDIS_PORT", "WEBSOCKET_ENABLED")}
    subprocess_env = env

    rc, out = run(ward + ["--version"])
    check(rc == 0 and out.startswith("ward "), "--version", out.strip())
    rc, out = run(ward + ["--print-limits"])
    check(rc == 0 and "\ntotal " in out, "--print-limits", out[-300:])
    if config:
        rc, out = run(ward + ["--check-config", "--config", config])
        check(rc == 0 and "configuration ok" in out,
              "--check-config --config %s" % os.path.basename(config), out)

    tmp = tempfile.mkdtemp(prefix="ward-smoke-")
    log_path = os.path.join(tmp, "stderr.log")
    port = free_port()
    argv = ward + ["--set", "listen=127.0.0.1:%d" % port,
                   "--set", "data_dir=%s" % os.path.join(tmp, "data"),
                   "--set", "log=stderr", "--set", "jwt_secret=smoke"]
    tls_port = free_port() if tls_dir else 0
    if tls_dir:
        argv += ["--set", "tls_listen=127.0.0.1:%d" % tls_port,
                 "--set", "tls_cert=%s" % os.path.join(tls_dir,
                                                       "server-ec.pem"),
                 "--set", "tls_key=%s" % os.path.join(tls_dir,
                                                      "server-ec.key")]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, cwd=tmp,
                                env=subprocess_env)
    try:
        t0 = time.monotonic()
        status, body = 0, ""
        while time.monotonic() - t0 < 30 and proc.poll() is None:
            status, body = curl("http://127.0.0.1:%d/health" % port, 3)
            if status == 200:
                break
            time.sleep(0.1)
        check(status == 200, "GET /health -> 200 (curl, %.1fs after start)"
              % (time.monotonic() - t0), "status %s" % status)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        check(isinstance(doc, dict), "/health body is a JSON object",
              body[:200])
        status, _ = curl("http://127.0.0.1:%d/ws/echo" % port)
        check(status == 426, "plain GET /ws/echo -> 426", status)
        status, _ = curl("http://127.0.0.1:%d/no/such/path" % port)
        check(status == 404, "GET /no/such/path -> 404", status)
        try:
            for kind, n, ok in asyncio.run(ws_round_trip(port)):
                check(ok, "ws /ws/echo %s (%s)" % (kind, n))
        except Exception as e:  # noqa: BLE001 - any failure is one check
            check(False, "ws /ws/echo round trip", "%s: %s"
                  % (type(e).__name__, e))
        if tls_dir:
            tls_checks(tls_port, tls_dir)
        status, _ = curl("http://127.0.0.1:%d/health" % port)
        check(status == 200, "still healthy after the WebSocket session",
              status)
        t1 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "killed"
        check(rc == 0 and time.monotonic() - t1 < 6,
              "SIGTERM -> exit 0 in %.2fs" % (time.monotonic() - t1),
              "rc=%r" % rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    with open(log_path, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    check("level=error" not in log, "no error line in the log",
          log[-1500:])
    if failed:
        print("--- server log (tail):\n%s" % log[-3000:])
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
