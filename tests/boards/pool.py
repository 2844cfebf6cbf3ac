#!/usr/bin/python3
"""pool.py - the board's whole connection pool, held under qemu-user, stays
within the memory bound `ward --print-limits` prints.

usage: pool.py [--qemu "qemu-arm -cpu cortex-a8 -L /usr/arm-linux-gnueabihf"]
               WARD_BIN

1. Reads `connections` (slots, incl. the spare ones for 503 refusals),
   `total` and `max_connections` from WARD_BIN --print-limits.
2. Starts WARD_BIN (through the qemu-user command when given) on a free port
   of 127.0.0.1 with max_connections = that figure, rate_limit = 0, a
   temporary data_dir, logs on stderr; waits for GET /health 200 and reads
   the process's VmRSS (/proc/PID/status: qemu and the guest are one
   process) as the baseline.
3. Opens max_connections WebSocket connections to /ws/echo (RFC 6455
   handshake, masked frames, a stdlib client: no library hides a failure),
   checks every 101 and its Sec-WebSocket-Accept; every connection echoes
   one text message (one after the other), then every connection sends a
   binary message of 32-48 KiB before any echo is read (the clients'
   receive buffers are 4 KiB, so what the kernel does not absorb waits in
   the server's buffers: more connections than I/O buffers, and in a
   typical run every I/O buffer of the pool gets touched); one connection
   more is refused with 503 and closed by the server while the others stay
   open; every held connection echoes again.
4. Checks the process measured maps WARD_BIN (no wrapper in between) and
   the peak RSS growth over the baseline (VmRSS samples and VmHWM) with
   all of them held is <= the --print-limits total; prints both and the
   growth per connection.
5. Closes every connection (1000 both ways); GET /health 200 again and
   counting only itself (every slot released); SIGTERM -> exit 0; no
   error line in the log.

Every socket operation has a timeout (10 s) and the run a deadline (75 s
after the start, ~105 s at worst with --print-limits and SIGTERM).
Prints "N passed, M failed" last; exits 1 if anything failed.
"""

import base64
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TIMEOUT = 10.0		# seconds, any single socket operation
DEADLINE = 75.0			# seconds, the whole run after the server started
RCVBUF = 4096			# bytes, the clients' SO_RCVBUF: slow readers
BIG = 32768			# bytes, the smallest concurrent binary message

passed = failed = 0
t_end = None


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


class Expired(Exception):
    pass


class Abort(Exception):
    """Stop here: the failure is already counted."""


def tmo():
    """Timeout for the next socket operation: OP_TIMEOUT, never past the
    run's deadline."""
    left = t_end - time.monotonic()
    if left <= 0:
        raise Expired("the run's %.0f s deadline passed" % DEADLINE)
    return min(OP_TIMEOUT, left)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_status(pid):
    """VmRSS, VmHWM, RssAnon, RssFile of pid in bytes (/proc/PID/status)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0]) * 1024
    return out


def kib(n):
    return "%.1f KiB" % (n / 1024.0)


def mask(data, key):
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^
            int.from_bytes(k, "little")).to_bytes(n, "little")


def http_get(port, path):
    """(status, body) of one GET with Connection: close; (0, why) when the
    server could not be reached or did not answer."""
    try:
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=tmo()) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Connection: close\r\n\r\n" % path.encode())
            data = b""
            while True:
                s.settimeout(tmo())
                d = s.recv(65536)
                if not d:
                    break
                data += d
    except (OSError, Expired) as e:
        return 0, "%s: %s" % (type(e).__name__, e)
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
    return (int(m.group(1)) if m else 0), body.decode("utf-8", "replace")


class WS:
    """A minimal RFC 6455 client on a blocking socket with timeouts."""

    def __init__(self, port, path="/ws/echo", rcvbuf=None):
        self.sock = None
        self.rcvbuf = rcvbuf
        self.rx = b""
        self.hdrs = {}
        self.port = port
        self.path = path
        self.pongs = 0

    def recv_more(self):
        self.sock.settimeout(tmo())
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed by the server")
        self.rx += d

    def head(self):
        """Reads one HTTP response head; the rest stays in self.rx."""
        while b"\r\n\r\n" not in self.rx:
            if len(self.rx) > 16384:
                raise ValueError("response head too long")
            self.recv_more()
        h, _, self.rx = self.rx.partition(b"\r\n\r\n")
        lines = h.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0] + " ")
        self.hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.hdrs[k.strip().lower()] = v.strip()
        return (int(m.group(1)) if m else 0), lines[0], self.hdrs

    def handshake(self):
        """(status, None) on a right 101, else (status, what is wrong)."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.rcvbuf:
            # before connect(): the window the server sees stays small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                 self.rcvbuf)
        self.sock.settimeout(tmo())
        self.sock.connect(("127.0.0.1", self.port))
        key = base64.b64encode(os.urandom(16))
        self.sock.settimeout(tmo())
        self.sock.sendall(
            b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (self.path.encode(), self.port, key))
        status, line, hdrs = self.head()
        if status != 101:
            return status, line
        want = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if hdrs.get("sec-websocket-accept") != want:
            return status, "Sec-WebSocket-Accept %r, want %r" % (
                hdrs.get("sec-websocket-accept"), want)
        if hdrs.get("upgrade", "").lower() != "websocket" or \
                "upgrade" not in hdrs.get("connection", "").lower():
            return status, "Upgrade/Connection headers %r" % hdrs
        return status, None

    def send(self, opcode, payload):
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        key = os.urandom(4)
        self.sock.settimeout(tmo())
        self.sock.sendall(hdr + key + mask(payload, key))

    def frame(self):
        """(fin, opcode, payload) of one server frame."""
        while len(self.rx) < 2:
            self.recv_more()
        b0, b1 = self.rx[0], self.rx[1]
        if b1 & 0x80:
            raise ValueError("masked frame from the server")
        if b0 & 0x70:
            raise ValueError("RSV bits set: 0x%02x" % b0)
        n, off = b1 & 0x7F, 2
        if n == 126:
            while len(self.rx) < 4:
                self.recv_more()
            n, off = struct.unpack("!H", self.rx[2:4])[0], 4
        elif n == 127:
            while len(self.rx) < 10:
                self.recv_more()
            n, off = struct.unpack("!Q", self.rx[2:10])[0], 10
        while len(self.rx) < off + n:
            self.recv_more()
        payload, self.rx = self.rx[off:off + n], self.rx[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def message(self):
        """(opcode, payload) of the next data message (fragments joined,
        pings answered) or (8, close payload)."""
        first, parts = None, []
        while True:
            fin, op, payload = self.frame()
            if op == 9:
                self.send(10, payload)
                continue
            if op == 10:
                self.pongs += 1
                continue
            if op == 8:
                return 8, payload
            if op == 0:
                if first is None:
                    raise ValueError("continuation without a message")
            elif op in (1, 2):
                if first is not None:
                    raise ValueError("new message inside a fragmented one")
                first = op
            else:
                raise ValueError("unknown opcode %d" % op)
            parts.append(payload)
            if fin:
                return first, b"".join(parts)

    def close(self):
        """Sends close 1000, returns the code of the server's answer."""
        self.send(8, struct.pack("!H", 1000) + b"bye")
        while True:
            op, payload = self.message()
            if op == 8:
                break
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 \
            else None
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(tmo())
            while self.sock.recv(4096):
                pass
        except OSError:
            pass
        return code

    def drop(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def echo_all(conns, make_msg, label, concurrent, on_sent=None):
    """Every connection in conns sends make_msg(i) and must get it back.
    concurrent: all send first (then on_sent() runs), then all read."""
    bad = []
    msgs = [make_msg(i) for i in range(len(conns))]
    pending = []
    for i, ws in enumerate(conns):
        op, msg = msgs[i]
        try:
            ws.send(op, msg)
            if concurrent:
                pending.append((i, ws))
                continue
            got = ws.message()
            if got != msgs[i]:
                bad.append((i, "got op %d, %d bytes" % (got[0], len(got[1]))))
        except (OSError, EOFError, ValueError, Expired) as e:
            bad.append((i, "%s: %s" % (type(e).__name__, e)))
    if on_sent:
        on_sent()
    for i, ws in pending:
        try:
            got = ws.message()
            if got != msgs[i]:
                bad.append((i, "got op %d, %d bytes" % (got[0], len(got[1]))))
        except (OSError, EOFError, ValueError, Expired) as e:
            bad.append((i, "%s: %s" % (type(e).__name__, e)))
    check(conns and not bad, "%s: %d/%d echoes correct (%s sent)"
          % (label, len(conns) - len(bad), len(conns),
             kib(sum(len(m[1]) for m in msgs))),
          "; ".join("#%d %s" % b for b in bad[:5]))


def text_msg(i, rnd):
    s = "pool %d round %d: grüße, 患者 ✓ \U0001F600 " % (i, rnd)
    return 1, (s * (1 + i % 7)).encode("utf-8")


def bin_msg(i):
    """32-48 KiB: two or three I/O buffers of echo per connection."""
    n = BIG + (64 * i) % 16384
    return 2, bytes(((i + k * 31) & 0xFF) for k in range(256)) * (n // 256) \
        + bytes(n % 256)


def parse_limits(out):
    """{pool: capacity}, total, max_connections from --print-limits."""
    caps, total, maxc = {}, None, None
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[1].isdigit() and f[2].isdigit() and \
                f[3].isdigit():
            caps[f[0]] = int(f[1])
        elif len(f) >= 2 and f[0] == "total" and f[1].isdigit():
            total = int(f[1])
        m = re.search(r"\bmax_connections=(\d+)", line)
        if m:
            maxc = int(m.group(1))
    return caps, total, maxc


def main():
    global t_end
    args = sys.argv[1:]
    qemu = []
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--qemu" and args:
            qemu = shlex.split(args.pop(0))
        else:
            args = []
            break
    if len(args) != 1:
        print("usage: pool.py [--qemu CMD] WARD_BIN")
        return 2
    ward = qemu + [os.path.abspath(args[0])]
    print("pool: %s" % (os.path.relpath(args[0]) +
                        (" under %s" % " ".join(qemu) if qemu else "")),
          flush=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WARD_") and k not in (
               "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
               "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD",
               "WEBSOCKET_ENABLED", "WEBSOCKET_HEARTBEAT_INTERVAL")}

    try:
        cp = subprocess.run(ward + ["--print-limits"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, timeout=15, env=env)
        rc, out = cp.returncode, cp.stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired) as e:
        rc, out = None, "%s: %s" % (type(e).__name__, e)
    caps, total, maxc = parse_limits(out)
    slots = caps.get("connections")
    if not check(rc == 0 and slots and total and maxc,
                 "--print-limits: connections=%s total=%s max_connections=%s"
                 % (slots, total, maxc), out[-600:]):
        print("%d passed, %d failed" % (passed, failed), flush=True)
        return 1
    check(maxc < slots, "spare slots for refusals: %d slots > "
          "max_connections %d" % (slots, maxc))

    tmp = tempfile.mkdtemp(prefix="ward-pool-")
    log_path = os.path.join(tmp, "stderr.log")
    port = free_port()
    argv = ward + ["--set", "listen=127.0.0.1:%d" % port,
                   "--set", "data_dir=%s" % os.path.join(tmp, "data"),
                   "--set", "jwt_secret=pool-test-secret-of-at-least-32-bytes",
                   "--set", "rate_limit=0",
                   "--set", "max_connections=%d" % maxc,
                   "--set", "log=stderr"]
    conns = []
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, cwd=tmp, env=env)
    t_end = time.monotonic() + DEADLINE
    try:
        t0 = time.monotonic()
        status = 0
        while time.monotonic() - t0 < 30 and proc.poll() is None:
            status, body = http_get(port, "/health")
            if status == 200:
                break
            time.sleep(0.1)
        if not check(status == 200, "listening: GET /health -> 200 "
                     "(%.1fs after start)" % (time.monotonic() - t0),
                     "status %s" % status):
            raise Abort()
        # the process measured is the one running ward (qemu-user maps
        # the guest binary into itself; no wrapper process in between)
        try:
            with open("/proc/%d/maps" % proc.pid) as f:
                maps = f.read()
        except OSError as e:
            maps = str(e)
        check(os.path.realpath(args[0]) in maps, "pid %d (measured) maps "
              "%s" % (proc.pid, os.path.basename(args[0])), maps[-600:])
        base = rss_status(proc.pid)
        print("     baseline: VmRSS %s (anon %s, file %s), VmHWM %s"
              % (kib(base["VmRSS"]), kib(base.get("RssAnon", 0)),
                 kib(base.get("RssFile", 0)), kib(base["VmHWM"])),
              flush=True)

        # -- max_connections handshakes, held ---------------------------
        t1 = time.monotonic()
        bad = []
        for i in range(maxc):
            ws = WS(port, rcvbuf=RCVBUF)
            try:
                st, why = ws.handshake()
                if st == 101 and why is None:
                    conns.append(ws)
                    continue
                bad.append((i, why))
            except (OSError, EOFError, ValueError, Expired) as e:
                bad.append((i, "%s: %s" % (type(e).__name__, e)))
            ws.drop()
            if len(bad) >= 5:
                break
        check(not bad and len(conns) == maxc,
              "%d/%d handshakes on /ws/echo -> 101 with the right "
              "Sec-WebSocket-Accept (%.1fs)"
              % (len(conns), maxc, time.monotonic() - t1),
              "; ".join("#%d %s" % b for b in bad))

        echo_all(conns, lambda i: text_msg(i, 1), "text echo, one by one",
                 False)
        samples = []
        echo_all(conns, bin_msg, "binary echo %d-%d KiB, all sent before "
                 "any is read" % (BIG // 1024, (BIG + 16384) // 1024), True,
                 lambda: samples.append(rss_status(proc.pid)))
        held = rss_status(proc.pid)

        # -- one more: refused, the held ones unharmed ------------------
        name = "connection %d: 503 {\"error\":\"unavailable\"}, then " \
            "closed by the server" % (maxc + 1)
        extra = WS(port, rcvbuf=RCVBUF)
        try:
            st, line = extra.handshake()
            if st != 503:
                check(False, name, "got %s" % (
                    "101 Switching Protocols: admitted beyond "
                    "max_connections" if st == 101 else line))
            else:
                while True:	# the server closes: EOF within the timeout
                    try:
                        extra.recv_more()
                    except EOFError:
                        break
                    if len(extra.rx) > 65536:
                        raise ValueError("no end of the refusal")
                body = extra.rx
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                clen = extra.hdrs.get("content-length", "")
                check(isinstance(doc, dict) and
                      doc.get("error") == "unavailable" and
                      clen == str(len(body)), name,
                      "Content-Length %r, body %r" % (clen, body[:200]))
        except (OSError, EOFError, ValueError, Expired) as e:
            check(False, name, "%s: %s" % (type(e).__name__, e))
        finally:
            extra.drop()
        echo_all(conns, lambda i: text_msg(i, 3),
                 "after the refusal: text echo on every held connection",
                 False)
        after = rss_status(proc.pid)

        # -- the bound ---------------------------------------------------
        # VmHWM is the peak RSS since start: it covers the moments between
        # the samples (conservative: a peak before the baseline counts too)
        peak = max([after["VmHWM"]] +
                   [x["VmRSS"] for x in samples + [held, after]])
        grow = peak - base["VmRSS"]
        print("     held: VmRSS %s with every echo in flight, %s after it, "
              "%s after the refusal (anon %s, file %s); VmHWM %s"
              % (", ".join(kib(x["VmRSS"]) for x in samples),
                 kib(held["VmRSS"]), kib(after["VmRSS"]),
                 kib(after.get("RssAnon", 0)), kib(after.get("RssFile", 0)),
                 kib(after["VmHWM"])), flush=True)
        check(conns and proc.poll() is None and 0 <= grow <= total,
              "peak RSS growth with %d connections held: %d bytes (%s, %s "
              "per connection) <= --print-limits total %d bytes (%s)"
              % (len(conns), grow, kib(grow),
                 kib(grow / max(1, len(conns))), total, kib(total)),
              "alive=%s" % (proc.poll() is None))

        # -- close, still healthy, SIGTERM -------------------------------
        bad = []
        for i, ws in enumerate(conns):
            try:
                code = ws.close()
                if code != 1000:
                    bad.append((i, "close code %r" % code))
            except (OSError, EOFError, ValueError, Expired) as e:
                bad.append((i, "%s: %s" % (type(e).__name__, e)))
            ws.drop()
        check(conns and not bad, "%d/%d closed 1000 both ways"
              % (len(conns) - len(bad), len(conns)),
              "; ".join("#%d %s" % b for b in bad[:5]))
        conns = []
        # every slot released: /health counts itself only
        t2 = time.monotonic()
        status, doc, body = 0, None, ""
        while time.monotonic() - t2 < 10 and proc.poll() is None:
            status, body = http_get(port, "/health")
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            if status == 200 and isinstance(doc, dict) and \
                    doc.get("connections") == 1:
                break
            time.sleep(0.2)
        check(proc.poll() is None and status == 200 and
              isinstance(doc, dict) and doc.get("connections") == 1,
              "alive and GET /health -> 200 afterwards, connections 1 "
              "(every slot released)", "alive=%s status=%s %s"
              % (proc.poll() is None, status, body[:200]))
    except Expired as e:
        check(False, "run finished in time", str(e))
    except Abort:
        pass
    finally:
        for ws in conns:
            ws.drop()
        if proc.poll() is None:
            t3 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
                rc = "killed"
            check(rc == 0, "SIGTERM -> exit 0 in %.2fs"
                  % (time.monotonic() - t3), "rc=%r" % rc)
        else:
            check(False, "SIGTERM -> exit 0", "the server had already "
                  "exited with %r" % proc.returncode)
    with open(log_path, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    check("level=error" not in log, "no error line in the log",
          "\n".join(ln for ln in log.splitlines()
                    if "level=error" in ln)[-1500:])
    if failed:
        print("--- server log (tail, %s):\n%s" % (log_path, log[-3000:]))
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
