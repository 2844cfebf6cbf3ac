"""wardtest - shared helpers for ward's end-to-end tests.

Everything here talks to 127.0.0.1 only, and every wait is bounded.

  Server      start ward on a free port with --set options, wait for
              GET /health, capture stderr, stop with SIGTERM and check
              the exit status and the log for sanitizer reports.
  check()     the tiny framework: counters, `finish()` prints
              "N passed, M failed" and exits non-zero on failure.
  Http        raw-socket HTTP/1.1 client (exact bytes in, parsed out).
  WS          raw WebSocket client: hand-made handshake, frames with any
              fin/rsv/opcode/mask/length encoding, chopped sends, frame
              reads with timeouts, close detection.
  TLS         Server(tls=True) (or use_tls() for every Server of a suite)
              adds a TLS listener with the development certificates
              (build/dev-tls, made by tests/tls/gen-certs.sh when
              missing); its .port is then the TLS port (.http_port the
              plain one) and every Conn/Http/WS to a TLS port speaks TLS
              (Python's ssl, trusting the development CA).
"""

import base64
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HOST = "127.0.0.1"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# --------------------------------------------------------------- checks

_passed = 0
_failed = 0
_skipped = 0
VERBOSE = os.environ.get("WARD_E2E_VERBOSE", "") not in ("", "0")


def check(cond, name, detail=""):
    """Count one check; print it when it fails (or always if verbose)."""
    global _passed, _failed
    if cond:
        _passed += 1
        if VERBOSE:
            print("ok   %s" % name, flush=True)
    else:
        _failed += 1
        msg = "FAIL %s" % name
        if detail:
            msg += ": " + str(detail)
        print(msg, flush=True)
    return bool(cond)


def skip(name, reason):
    """Report a skipped check (not counted as passed)."""
    global _skipped
    _skipped += 1
    print("skipped: %s (%s)" % (name, reason), flush=True)


def counts():
    return _passed, _failed


def finish():
    """Print the summary line and exit (1 if anything failed)."""
    if _skipped:
        print("%d skipped" % _skipped)
    print("%d passed, %d failed" % (_passed, _failed), flush=True)
    sys.exit(1 if _failed else 0)


def run_tests(tests, only=None):
    """Run test functions in order; an exception counts as one failure."""
    want = set(only or sys.argv[1:])
    for fn in tests:
        if want and fn.__name__ not in want:
            continue
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a crash is a failed check
            tb = traceback.format_exc(limit=6)
            check(False, "%s raised %s" % (fn.__name__, type(e).__name__),
                  "%s\n%s" % (e, tb))
        if VERBOSE:
            print("--- %s %.2fs" % (fn.__name__, time.monotonic() - t0),
                  flush=True)
    Server.stop_all()
    finish()


# ------------------------------------------------------------ the binary

def ward_bin():
    b = os.environ.get("WARD_BIN")
    if not b:
        here = os.path.dirname(os.path.abspath(__file__))
        b = os.path.join(here, "..", "..", "build", "host", "ward")
    return os.path.abspath(b)


_asan = None


def is_asan(path=None):
    """Is the binary built with AddressSanitizer?"""
    global _asan
    if path is None and _asan is not None:
        return _asan
    p = path or ward_bin()
    res = False
    try:
        with open(p, "rb") as f:
            res = b"__asan_init" in f.read()
    except OSError:
        res = False
    if path is None:
        _asan = res
    return res


# Timing tolerance: sanitizer builds are ~3x slower on CPU-bound paths.
SLOW = 3.0 if is_asan() else 1.0


# ------------------------------------------------------------------- TLS

_TLS_PORTS = set()      # ports of TLS listeners: Conn speaks TLS to them
_TLS_ALL = False        # use_tls(): every Server gets a TLS listener
_TLS_CTX = None


def tls_dir():
    """The development CA and certificates (made once, never committed)."""
    d = os.environ.get("WARD_TLS_TEST_DIR")
    if not d:
        here = os.path.dirname(os.path.abspath(__file__))
        d = os.path.join(here, "..", "..", "build", "dev-tls")
    d = os.path.abspath(d)
    if not os.path.exists(os.path.join(d, ".stamp")):
        gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                           "tls", "gen-certs.sh")
        subprocess.run(["sh", gen, d], check=True, timeout=120,
                       stdout=subprocess.DEVNULL)
    return d


def tls_context():
    """A client context trusting the development CA (TLS 1.2 and up)."""
    global _TLS_CTX
    if _TLS_CTX is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(tls_dir(), "ca.pem"))
        _TLS_CTX = ctx
    return _TLS_CTX


def use_tls(on=True):
    """Every Server started from now on listens with TLS (its .port)."""
    global _TLS_ALL
    _TLS_ALL = on


class TLSSocket:
    """TLS over a connected socket through ssl.MemoryBIO, shaped like a
    socket (sendall, recv, settimeout, ...).  The reader and a Sender
    thread may use it at once: the ssl object is only touched under a
    lock that is never held across a blocking call (an ssl.SSLSocket may
    not be read and written from two threads: OpenSSL's SSL object is
    not thread-safe, and such a test fails at random)."""

    def __init__(self, raw, ctx=None, hostname=HOST):
        self.raw = raw
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = (ctx or tls_context()).wrap_bio(
            self.inc, self.out, server_hostname=hostname)
        self.lock = threading.Lock()     # the ssl object
        self.wlock = threading.Lock()    # ciphertext leaves in order
        while True:
            try:
                with self.lock:
                    self.obj.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                self._feed()

    def _flush(self, wait=True):
        # the reader does not wait for a writer blocked in sendall (the
        # peer may not read until we read): what reading produced (an
        # alert at most, in TLS 1.2) leaves with the writer's next flush
        if not self.wlock.acquire(wait):
            return
        try:
            with self.lock:
                data = self.out.read()
            if data:
                self.raw.sendall(data)
        finally:
            self.wlock.release()

    def _feed(self):
        data = self.raw.recv(1 << 18)
        if not data:
            raise ssl.SSLEOFError("EOF in TLS")
        with self.lock:
            self.inc.write(data)

    def sendall(self, data):
        view = memoryview(bytes(data))
        for i in range(0, max(len(view), 1), 16384):
            with self.lock:
                self.obj.write(view[i:i + 16384])
            self._flush()

    def send(self, data):
        self.sendall(data)
        return len(data)

    def _take(self, n):
        """Plaintext already here (up to n bytes, many records), b"" at
        close_notify, None when the ssl object needs more ciphertext."""
        got = []
        left = n
        with self.lock:
            while left > 0:
                try:
                    d = self.obj.read(left)
                except ssl.SSLWantReadError:
                    break
                except ssl.SSLZeroReturnError:
                    if not got:
                        return b""
                    break
                if not d:
                    break
                got.append(d)
                left -= len(d)
        return b"".join(got) if got else None

    def recv(self, n):
        while True:
            d = self._take(n)
            if d is not None:
                return d
            self._flush(wait=False)
            try:
                self._feed()
            except ssl.SSLEOFError:
                return b""

    def getpeercert(self, binary_form=False):
        return self.obj.getpeercert(binary_form)

    def version(self):
        return self.obj.version()

    def cipher(self):
        return self.obj.cipher()

    def session_reused(self):
        return self.obj.session_reused

    def __getattr__(self, name):
        return getattr(self.raw, name)


def tls_wrap(sock):
    return TLSSocket(sock)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ----------------------------------------------------------------- server

class ServerError(Exception):
    pass


class Server:
    """One ward process on a free port of 127.0.0.1."""

    _live = []

    def __init__(self, *sets, env=None, label=None, start=True,
                 start_timeout=20.0, tls=None, cert="server-ec"):
        self.sets = list(sets)
        self.tls = _TLS_ALL if tls is None else tls
        self.tls_port = None
        self.http_port = None
        self.cert = cert
        self.env = dict(os.environ)
        # the server must not pick up a developer's settings
        for k in list(self.env):
            if k.startswith("WARD_") and k != "WARD_BIN" or k in (
                    "WEBSOCKET_ENABLED", "WEBSOCKET_HEARTBEAT_INTERVAL",
                    "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"):
                del self.env[k]
        self.env.update(env or {})
        self.label = label or "server(%s)" % " ".join(self.sets)
        self.tmp = tempfile.mkdtemp(prefix="ward-e2e-")
        self.data_dir = os.path.join(self.tmp, "data")
        os.mkdir(self.data_dir)
        self.log_path = os.path.join(self.tmp, "stderr.log")
        self.out_path = os.path.join(self.tmp, "stdout.log")
        self.proc = None
        self.port = None
        self.stopped = False
        if start:
            self.start(start_timeout)

    def argv(self, port):
        a = [ward_bin(), "--set", "listen=%s:%d" % (HOST, port),
             "--set", "data_dir=%s" % self.data_dir,
             "--set", "jwt_secret=test"]
        if self.tls:
            d = tls_dir()
            a += ["--set", "tls_listen=%s:%d" % (HOST, self.tls_port)]
            if not any(s.startswith("tls_cert=") for s in self.sets):
                a += ["--set", "tls_cert=%s" % os.path.join(
                    d, self.cert + ".pem"),
                      "--set", "tls_key=%s" % os.path.join(
                    d, self.cert + ".key")]
        for s in self.sets:
            a += ["--set", s]
        return a

    def start(self, timeout=20.0):
        last = ""
        for _attempt in range(3):
            port = free_port()
            if self.tls:
                self.tls_port = free_port()
            with open(self.log_path, "ab") as err, \
                    open(self.out_path, "ab") as out:
                self.proc = subprocess.Popen(
                    self.argv(port), stdin=subprocess.DEVNULL, stdout=out,
                    stderr=err, env=self.env, cwd=self.tmp)
            self.http_port = port
            self.port = port
            if self.tls:
                self.port = self.tls_port
                _TLS_PORTS.add(self.tls_port)
            if self.wait_healthy(timeout):
                Server._live.append(self)
                return self
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            last = self.log()[-2000:]
            if "in use" not in last.lower():
                break
        raise ServerError("%s did not become healthy; log tail:\n%s"
                          % (self.label, last))

    def wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout * (2 if SLOW > 1 else 1)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                st = self.health_status(timeout=1.0)
                if st == 200:
                    return True
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        return False

    def health_status(self, timeout=2.0):
        """Status of GET /health on a fresh connection (Connection: close)."""
        with socket.create_connection((HOST, self.http_port or self.port),
                                      timeout=timeout) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            deadline = time.monotonic() + timeout
            while b"\r\n" not in data and time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            m = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
            if not m:
                raise ValueError("no status line: %r" % data[:80])
            # drain until the server closes (its slot is then free)
            try:
                while time.monotonic() < deadline:
                    s.settimeout(max(0.01, deadline - time.monotonic()))
                    if not s.recv(65536):
                        break
            except OSError:
                pass
            return int(m.group(1))

    def healthy(self, timeout=3.0):
        try:
            return self.health_status(timeout) == 200
        except (OSError, ValueError):
            return False

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stdout(self):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def rss_kb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10.0, check_status=True):
        """SIGTERM; check exit status 0 and a clean log.  Returns rc."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self in Server._live:
            Server._live.remove(self)
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                rc = "killed after %.0fs" % timeout
        if check_status:
            check(rc == 0, "%s: exit status 0 after SIGTERM" % self.label,
                  "rc=%r; log tail:\n%s" % (rc, self.log()[-1500:]))
        self.check_log()
        return rc

    def check_log(self):
        log = self.log()
        bad = [m for m in ("AddressSanitizer", "runtime error:",
                           "LeakSanitizer", "UndefinedBehaviorSanitizer")
               if m in log]
        check(not bad, "%s: no sanitizer report in the log" % self.label,
              "%s\n%s" % (bad, log[-3000:]))

    @classmethod
    def stop_all(cls):
        for s in list(cls._live):
            try:
                s.stop()
            except Exception as e:  # noqa: BLE001
                check(False, "%s: stop raised" % s.label, e)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


# ------------------------------------------------------------------ HTTP

class AuthAllServer(Server):
    """A server started with require_auth=all: /health demands a token, so
    the readiness probe sends one."""

    def __init__(self, tok, *sets, **kw):
        self.probe_token = tok
        super().__init__(*sets, **kw)

    def health_status(self, timeout=2.0):
        try:
            r = http_request(self.port, "GET", "/health",
                             [("Authorization", "Bearer " + self.probe_token),
                              ("Connection", "close")], timeout=timeout)
        except (Closed, Timeout) as e:
            raise OSError(str(e)) from None
        return r.status


class Closed(Exception):
    """The peer closed the TCP connection (EOF or reset)."""


class Timeout(Exception):
    pass


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value)
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v
        return default

    def header_all(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.reason, self.body[:200])


class Conn:
    """A TCP connection with a read buffer (base of Http and WS)."""

    def __init__(self, port, timeout=5.0, rcvbuf=None, sock=None):
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(timeout)
            sock.connect((HOST, port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if port in _TLS_PORTS:
                sock = tls_wrap(sock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.port = port
        self.timeout = timeout
        self.buf = bytearray()
        self.off = 0
        self.eof = False

    # --- sending
    def send(self, data, chop=None, delay=0.0):
        """Send bytes, optionally in chops of `chop` bytes with delays."""
        data = bytes(data)
        if not chop:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), chop):
            self.sock.sendall(data[i:i + chop])
            if delay:
                time.sleep(delay)

    def send_quiet(self, data, **kw):
        """Send, ignoring a peer that has gone (EPIPE/ECONNRESET)."""
        try:
            self.send(data, **kw)
            return True
        except OSError:
            return False

    # --- receiving
    def avail(self):
        return len(self.buf) - self.off

    def _compact(self):
        if self.off > (1 << 20) or self.off == len(self.buf):
            del self.buf[:self.off]
            self.off = 0

    def fill(self, deadline):
        """Read more bytes; raise Closed on EOF/reset, Timeout at deadline."""
        if self.eof:
            raise Closed("eof")
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 18)
        except socket.timeout:
            raise Timeout() from None
        except (ConnectionResetError, ConnectionAbortedError,
                BrokenPipeError, ssl.SSLError) as e:
            self.eof = True
            raise Closed("reset") from e
        if not data:
            self.eof = True
            raise Closed("eof")
        self._compact()
        self.buf += data

    def take(self, n):
        b = bytes(self.buf[self.off:self.off + n])
        self.off += n
        return b

    def read_exact(self, n, deadline):
        while self.avail() < n:
            self.fill(deadline)
        return self.take(n)

    def read_until(self, sep, deadline, limit=1 << 20):
        while True:
            i = self.buf.find(sep, self.off)
            if i >= 0:
                return self.take(i + len(sep) - self.off)
            if self.avail() > limit:
                raise ValueError("separator not found within %d bytes"
                                 % limit)
            self.fill(deadline)

    def wait_eof(self, timeout=3.0, discard=True):
        """True when the peer closes (EOF or reset) within timeout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.fill(deadline)
                if discard:
                    self.off = len(self.buf)
        except Closed:
            return True
        except Timeout:
            return False
        except OSError:
            return True

    def read_response(self, head=False, timeout=None):
        """Parse one HTTP response (status line, headers, body)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        raw = self.read_until(b"\r\n\r\n", deadline, limit=65536)
        lines = raw[:-4].split(b"\r\n")
        m = re.match(rb"(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise ValueError("bad status line %r" % lines[0][:100])
        status = int(m.group(2))
        headers = []
        for ln in lines[1:]:
            k, sep, v = ln.partition(b":")
            if not sep:
                raise ValueError("bad header line %r" % ln[:100])
            headers.append((k.decode("latin-1"),
                            v.strip().decode("latin-1")))
        r = Response(m.group(1).decode(), status,
                     (m.group(3) or b"").decode("latin-1"), headers, b"",
                     raw)
        if head or status in (101, 204, 304) or 100 <= status < 200:
            return r
        cl = r.header("content-length")
        te = r.header("transfer-encoding")
        if cl is not None:
            r.body = self.read_exact(int(cl), deadline)
        elif te and "chunked" in te.lower():
            body = b""
            while True:
                size = int(self.read_until(b"\r\n", deadline).strip()
                           .split(b";")[0], 16)
                if size == 0:
                    self.read_until(b"\r\n", deadline)
                    break
                body += self.read_exact(size, deadline)
                self.read_exact(2, deadline)
            r.body = body
        else:
            try:
                while True:
                    self.fill(deadline)
            except Closed:
                pass
            r.body = self.take(self.avail())
        return r

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Close with RST (SO_LINGER 0)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def http_request(port, method="GET", path="/health", headers=None,
                 body=b"", timeout=5.0, version="HTTP/1.1", host=True):
    """One request on a fresh connection; returns the Response."""
    with Conn(port, timeout) as c:
        c.send(build_request(method, path, headers, body, version, host))
        return c.read_response(head=(method == "HEAD"))


def build_request(method="GET", path="/health", headers=None, body=b"",
                  version="HTTP/1.1", host=True):
    lines = ["%s %s %s" % (method, path, version)]
    if host:
        lines.append("Host: 127.0.0.1")
    for k, v in (headers or []):
        lines.append("%s: %s" % (k, v))
    if body and not any(k.lower() == "content-length"
                        for k, _ in (headers or [])):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def is_json_error(r):
    """Is r a JSON error answer {"error":..., "detail":...}?"""
    try:
        j = r.json()
    except (ValueError, UnicodeDecodeError):
        return False
    ctype = (r.header("content-type") or "").lower()
    return (isinstance(j, dict) and isinstance(j.get("error"), str)
            and isinstance(j.get("detail"), str)
            and ctype.startswith("application/json"))


# ------------------------------------------------------------- WebSocket

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


def accept_for(key):
    if isinstance(key, str):
        key = key.encode()
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def mask_bytes(payload, key):
    """XOR payload with the 4-byte key (fast for large payloads)."""
    n = len(payload)
    if n == 0:
        return b""
    rep = (key * ((n + 3) // 4))[:n]
    return (int.from_bytes(payload, "little")
            ^ int.from_bytes(rep, "little")).to_bytes(n, "little")


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None,
          length=None, len_form=None):
    """Encode one client frame.

    rsv: 3-bit value (RSV1=4, RSV2=2, RSV3=1); length: the length to put
    in the header (default len(payload)); len_form: force '7', '16' or
    '64' bit length encoding (non-minimal encodings included).
    """
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask else 0
    if len_form is None:
        len_form = "7" if n < 126 else "16" if n < 65536 else "64"
    if len_form == "7":
        hdr = struct.pack("!BB", b0, mbit | n)
    elif len_form == "16":
        hdr = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        key = mask_key if mask_key is not None else os.urandom(4)
        return hdr + key + mask_bytes(payload, key)
    return hdr + payload


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


class Frame:
    __slots__ = ("fin", "rsv", "opcode", "masked", "payload")

    def __init__(self, fin, rsv, opcode, masked, payload):
        self.fin, self.rsv, self.opcode = fin, rsv, opcode
        self.masked, self.payload = masked, payload

    @property
    def close_code(self):
        if self.opcode != OP_CLOSE or len(self.payload) < 2:
            return None
        return struct.unpack("!H", self.payload[:2])[0]

    @property
    def close_reason(self):
        return self.payload[2:]

    def __repr__(self):
        p = self.payload if len(self.payload) <= 40 else (
            self.payload[:40] + b"...(%d)" % len(self.payload))
        return "Frame(fin=%d rsv=%d op=%d%s %r)" % (
            self.fin, self.rsv, self.opcode, " MASKED" if self.masked else "",
            p)


class Events:
    """What a client observed: messages, control frames, close, EOF."""

    def __init__(self):
        self.items = []          # ("message", op, payload) / ("ping", p) /
        # ("pong", p) / ("close", code, reason, raw) / ("eof", how) /
        # ("timeout",) / ("partial", op, payload) / ("bad", text)
        self.frames = []

    def kinds(self):
        return [i[0] for i in self.items]

    def messages(self):
        return [(i[1], i[2]) for i in self.items if i[0] == "message"]

    def pongs(self):
        return [i[1] for i in self.items if i[0] == "pong"]

    def close(self):
        for i in self.items:
            if i[0] == "close":
                return i
        return None

    def close_code(self):
        c = self.close()
        return None if c is None else c[1]

    def has(self, kind):
        return any(i[0] == kind for i in self.items)

    def bad(self):
        return [i[1] for i in self.items if i[0] == "bad"]

    def __repr__(self):
        out = []
        for i in self.items:
            if i[0] in ("message", "partial"):
                p = i[2]
                out.append("%s(op=%d,len=%d,%r)" % (
                    i[0], i[1], len(p), p[:24]))
            elif i[0] == "close":
                out.append("close(%r,%r)" % (i[1], bytes(i[2][:40])))
            else:
                out.append(repr(i)[:80])
        return "[" + ", ".join(out) + "]"


class HandshakeError(Exception):
    def __init__(self, response):
        super().__init__("handshake answered %d" % response.status)
        self.response = response


def handshake_request(path="/ws/echo", key=None, headers=None,
                      method="GET", version="13", host=True,
                      upgrade="websocket", connection="Upgrade"):
    """Bytes of an upgrade request; None for a field omits it."""
    lines = ["%s %s HTTP/1.1" % (method, path)]
    if host:
        lines.append("Host: 127.0.0.1")
    if upgrade is not None:
        lines.append("Upgrade: %s" % upgrade)
    if connection is not None:
        lines.append("Connection: %s" % connection)
    if key is not None:
        lines.append("Sec-WebSocket-Key: %s" % key)
    if version is not None:
        lines.append("Sec-WebSocket-Version: %s" % version)
    for k, v in (headers or []):
        lines.append("%s: %s" % (k, v))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class WS(Conn):
    """Raw WebSocket client.  WS(port) connects and upgrades to /ws/echo."""

    def __init__(self, port, path="/ws/echo", headers=None, timeout=5.0,
                 rcvbuf=None, key=None, chop=None, delay=0.0,
                 request=None, expect_101=True):
        super().__init__(port, timeout, rcvbuf)
        self.key = key or new_key()
        self.response = None
        req = request or handshake_request(path, self.key, headers)
        self.send(req, chop=chop, delay=delay)
        self.response = self.read_response(head=True)
        if self.response.status != 101:
            # an error answer has a body: read it for the caller
            cl = self.response.header("content-length")
            if cl:
                try:
                    self.response.body = self.read_exact(
                        int(cl), time.monotonic() + timeout)
                except (Closed, Timeout):
                    pass
            if expect_101:
                self.close()
                raise HandshakeError(self.response)
        self.ok = self.response.status == 101
        self.closed_sent = False

    @classmethod
    def adopt(cls, conn, key=None, response=None):
        """Turn a Conn that has just read a 101 into a WS."""
        ws = cls.__new__(cls)
        Conn.__init__(ws, conn.port, conn.timeout, sock=conn.sock)
        ws.buf, ws.off, ws.eof = conn.buf, conn.off, conn.eof
        ws.key, ws.response = key, response
        ws.ok, ws.closed_sent = True, False
        return ws

    def accept_ok(self):
        return self.response.header("sec-websocket-accept") == \
            accept_for(self.key)

    # --- sending frames
    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=True,
                   chop=None, delay=0.0, **kw):
        self.send(frame(opcode, payload, fin, rsv, mask, **kw), chop=chop,
                  delay=delay)

    def send_text(self, s, **kw):
        self.send_frame(OP_TEXT, s.encode() if isinstance(s, str) else s,
                        **kw)

    def send_binary(self, b, **kw):
        self.send_frame(OP_BINARY, b, **kw)

    def ping(self, payload=b"", **kw):
        self.send_frame(OP_PING, payload, **kw)

    def send_close(self, code=None, reason=b"", **kw):
        self.closed_sent = True
        self.send_frame(OP_CLOSE, close_payload(code, reason), **kw)

    def send_message(self, opcode, payload, frag=None, mask_key=None):
        """A message, fragmented into frames of `frag` bytes (fast path:
        one mask key for all frames when frag % 4 == 0)."""
        payload = bytes(payload)
        if not frag or frag >= len(payload):
            self.send(frame(opcode, payload, mask_key=mask_key))
            return
        self.send(fragment_bytes(opcode, payload, frag))

    # --- receiving frames
    def recv_frame(self, timeout=None):
        """One frame; raises Closed (EOF/reset) or Timeout."""
        deadline = time.monotonic() + (timeout if timeout is not None
                                       else self.timeout)
        while self.avail() < 2:
            self.fill(deadline)
        b0, b1 = self.buf[self.off], self.buf[self.off + 1]
        n = b1 & 0x7F
        hl = 2
        if n == 126:
            hl = 4
        elif n == 127:
            hl = 10
        masked = bool(b1 & 0x80)
        if masked:
            hl += 4
        while self.avail() < hl:
            self.fill(deadline)
        if n == 126:
            n = struct.unpack_from("!H", self.buf, self.off + 2)[0]
        elif n == 127:
            n = struct.unpack_from("!Q", self.buf, self.off + 2)[0]
        while self.avail() < hl + n:
            self.fill(deadline)
        start = self.off + hl
        payload = bytes(self.buf[start:start + n])
        if masked:
            payload = mask_bytes(payload,
                                 bytes(self.buf[start - 4:start]))
        self.off = start + n
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, masked,
                     payload)

    def collect(self, timeout=3.0, stop=None, reply_close=True,
                answer_pings=False, wait_eof=True, eof_timeout=3.0):
        """Read frames into Events until close (+EOF), EOF, timeout, or
        stop(events) returns True.  Data frames are reassembled."""
        ev = Events()
        deadline = time.monotonic() + timeout
        cur_op, parts = None, []
        while True:
            if stop is not None and stop(ev):
                return ev
            try:
                f = self.recv_frame(max(0.0, deadline - time.monotonic()))
            except Timeout:
                ev.items.append(("timeout",))
                return ev
            except Closed as e:
                if parts:
                    ev.items.append(("partial", cur_op, b"".join(parts)))
                ev.items.append(("eof", str(e)))
                return ev
            ev.frames.append(f)
            if f.masked:
                ev.items.append(("bad", "server frame is masked"))
            if f.rsv:
                ev.items.append(("bad", "server frame has RSV %d" % f.rsv))
            op = f.opcode
            if op in (OP_TEXT, OP_BINARY):
                if cur_op is not None:
                    ev.items.append(("bad", "new data frame inside a "
                                     "fragmented server message"))
                cur_op, parts = op, [f.payload]
            elif op == OP_CONT:
                if cur_op is None:
                    ev.items.append(("bad", "server continuation without "
                                     "start"))
                    continue
                parts.append(f.payload)
            elif op == OP_PING:
                ev.items.append(("ping", f.payload))
                if answer_pings:
                    try:
                        self.send_frame(OP_PONG, f.payload)
                    except OSError:
                        pass
                continue
            elif op == OP_PONG:
                ev.items.append(("pong", f.payload))
                continue
            elif op == OP_CLOSE:
                if parts:
                    ev.items.append(("partial", cur_op, b"".join(parts)))
                    parts, cur_op = [], None
                p = f.payload
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
                if len(p) == 1 or len(p) > 125:
                    ev.items.append(("bad", "server close payload len %d"
                                     % len(p)))
                ev.items.append(("close", code, p[2:], p))
                if reply_close and not self.closed_sent:
                    self.closed_sent = True
                    try:
                        self.send_frame(OP_CLOSE, p[:2])
                    except OSError:
                        pass
                if wait_eof:
                    t0 = time.monotonic()
                    extra = self._drain_after_close(eof_timeout)
                    if extra:
                        ev.items.append(("bad", "frames after close: %r"
                                         % extra[:3]))
                    if self.eof:
                        ev.items.append(("eof", "after close %.2fs" % (
                            time.monotonic() - t0)))
                    else:
                        ev.items.append(("timeout",))
                return ev
            else:
                ev.items.append(("bad", "server sent opcode %d" % op))
                continue
            if f.fin:
                ev.items.append(("message", cur_op, b"".join(parts)))
                cur_op, parts = None, []

    def _drain_after_close(self, timeout):
        extra = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                extra.append(self.recv_frame(
                    max(0.0, deadline - time.monotonic())))
            except (Timeout, Closed):
                return extra
            except OSError:
                self.eof = True
                return extra

    def recv_message(self, timeout=5.0):
        """Next data message (op, payload); pings are answered.  Raises
        Closed/Timeout, or AssertionError on a close frame."""
        ev = self.collect(timeout, stop=lambda e: bool(e.messages()) or
                          e.has("close"), answer_pings=True)
        msgs = ev.messages()
        if msgs:
            return msgs[0]
        if ev.has("close"):
            raise Closed("close frame %r" % (ev.close_code(),))
        if ev.has("eof"):
            raise Closed("eof")
        raise Timeout()

    def echo(self, opcode, payload, timeout=5.0):
        """Send one message and return the echoed (op, payload)."""
        self.send_frame(opcode, payload)
        return self.recv_message(timeout)

    def close_handshake(self, code=1000, timeout=3.0):
        """Send close(code); return (server close code or 'empty', saw EOF)."""
        try:
            self.send_close(code)
        except OSError:
            return None, True
        ev = self.collect(timeout, stop=None, reply_close=False)
        c = ev.close()
        if c is None:
            return None, ev.has("eof")
        return (c[1] if c[1] is not None else "empty"), self.eof


def fragment_bytes(opcode, payload, frag):
    """Frames of a message cut into `frag`-byte fragments (masked)."""
    key = os.urandom(4)
    if frag % 4 == 0:
        m = mask_bytes(payload, key)
    out = []
    n = len(payload)
    for i in range(0, n, frag):
        chunk_len = min(frag, n - i)
        op = opcode if i == 0 else OP_CONT
        fin = i + frag >= n
        b0 = (0x80 if fin else 0) | op
        if chunk_len < 126:
            hdr = struct.pack("!BB", b0, 0x80 | chunk_len)
        elif chunk_len < 65536:
            hdr = struct.pack("!BBH", b0, 0x80 | 126, chunk_len)
        else:
            hdr = struct.pack("!BBQ", b0, 0x80 | 127, chunk_len)
        if frag % 4 == 0:
            out.append(hdr + key + m[i:i + chunk_len])
        else:
            out.append(hdr + key + mask_bytes(payload[i:i + chunk_len], key))
    if n == 0:
        out.append(frame(opcode, b""))
    return b"".join(out)


class Sender(threading.Thread):
    """Send bytes in the background (so the main thread can read)."""

    def __init__(self, conn, data, chop=None, delay=0.0):
        super().__init__(daemon=True)
        self.conn, self.data, self.chop, self.delay = conn, data, chop, delay
        self.error = None
        self.start()

    def run(self):
        try:
            if self.chop:
                self.conn.send(self.data, chop=self.chop, delay=self.delay)
            else:
                self.conn.sock.sendall(self.data)
        except OSError as e:
            self.error = e


def try_connect(port, timeout=2.0):
    """A connected socket, or the OSError raised by connect()."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((HOST, port))
        return s
    except OSError as e:
        s.close()
        return e


def wait_until(pred, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def recv_json(ws, timeout=3.0):
    """The next message parsed as JSON; None on timeout or close,
    {"_raw": bytes} when it is not JSON."""
    try:
        _op, p = ws.recv_message(timeout * SLOW)
    except (Timeout, Closed, OSError):
        return None
    try:
        return json.loads(p.decode("utf-8"))
    except ValueError:
        return {"_raw": p}
