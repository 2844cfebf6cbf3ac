#!/usr/bin/python3
"""The command line and the configuration as a new user meets them (issue
11): --help names the subcommand and every key with its default and
environment name; --print-config prints and exits; --config without a file
says so; `ward token` refuses bad arguments; every bad value is refused by
--check-config and at start with one line naming the key; the example
configs pass; the man page renders and names every key; the dev banner is
printed whole; a start without a key warns what to set."""

import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import HOST, check, free_port, run_tests, ward_bin  # noqa

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECRET = "cli-secret-0123456789abcdef0123456789ab"


def env():
    return {k: v for k, v in os.environ.items() if not k.startswith("WARD_")}


def ward(*args, timeout=10, **kw):
    """Run ward with args; (rc, stdout, stderr) or rc 'timeout'."""
    try:
        r = subprocess.run([ward_bin()] + list(args), capture_output=True,
                           timeout=timeout, env=env(), cwd=kw.get("cwd", ROOT),
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode(), \
            (e.stderr or b"").decode()
    return r.returncode, r.stdout.decode(errors="replace"), \
        r.stderr.decode(errors="replace")


def keys():
    rc, out, _ = ward("--print-config", timeout=5)
    return [ln.split(" = ")[0] for ln in out.splitlines() if " = " in ln]


def test_help():
    rc, out, err = ward("--help")
    check(rc == 0, "--help exits 0", rc)
    check("ward token" in out and "--ttl" in out,
          "--help names `ward token` and its options", out[:400])
    for o in ("--config", "--set", "--dev", "--check-config",
              "--print-config", "--print-limits", "--version"):
        check(o in out, "--help names %s" % o)
    ks = keys()
    check(len(ks) >= 25, "--print-config lists the keys", ks)
    for k in ks:
        line = [ln for ln in out.splitlines()
                if ln.strip().startswith(k + " ")]
        envname = "WARD_" + k.upper()
        check(line and "default" in line[0] and envname in line[0],
              "--help: %s with its default and %s" % (k, envname), line)
    line = [ln for ln in out.splitlines() if ln.strip().startswith("listen ")]
    check(line and "127.0.0.1:8000" in line[0], "--help: listen's default",
          line)


def test_print_config_exits():
    port = free_port()
    rc, out, err = ward("--print-config", "--set",
                        "listen=%s:%d" % (HOST, port), timeout=5)
    check(rc == 0, "--print-config exits 0 (does not start the server)", rc)
    check("listen = %s:%d" % (HOST, port) in out,
          "--print-config prints the effective listen", out[:200])
    check("event=listen" not in err, "--print-config opens no listener", err)


def test_config_needs_file():
    rc, out, err = ward("--config")
    check(rc == 2, "--config without a file: exit 2", rc)
    check("needs a file" in err and "unknown option" not in err,
          "--config without a file says it needs a file", err)
    rc, out, err = ward("--set")
    check(rc == 2 and "KEY=VALUE" in err, "--set without a value says so",
          (rc, err))


def test_token_args():
    bad = [["--ttl", "abc"], ["--ttl", "-5"], ["--ttl", "0"],
           ["--ttl", "10s"], ["--ttl", ""], ["--bogus", "1"], ["--name"]]
    for extra in bad:
        rc, out, err = ward("token", "--sub", "7", "--role", "doctor",
                            "--set", "jwt_secret=" + SECRET, *extra)
        check(rc == 2 and not re.search(r"eyJ[\w-]+\.[\w-]+\.", out),
              "ward token %s: refused, no token" % " ".join(extra),
              (rc, out, err))
    rc, out, err = ward("token", "--sub", "7", "--set",
                        "jwt_secret=" + SECRET)
    check(rc == 2, "ward token without --role: refused", rc)
    rc, out, err = ward("token", "--sub", "7", "--role", "doctor", "--ttl",
                        "120", "--set", "jwt_secret=" + SECRET)
    tok = out.strip()
    check(rc == 0 and tok.count(".") == 2, "ward token --ttl 120: a token",
          (rc, out, err))
    if tok.count(".") == 2:
        import base64
        import json
        p = tok.split(".")[1]
        c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        check(c.get("exp", 0) - c.get("iat", 0) == 120,
              "the token expires after --ttl seconds", c)
    rc, out, err = ward("token", "--sub", "7", "--role", "doctor")
    check(rc == 1 and "jwt_secret" in err,
          "ward token without a secret names jwt_secret", (rc, err))


BAD = [
    ("listen", "127.0.0.1:99999"), ("listen", "999.1.1.1:80"),
    ("listen", "1.2.3:80"), ("listen", "127.0.0.1"), ("listen", "a b:80"),
    ("listen", "127.0.0.1:http"), ("listen", "[zz]:80"),
    ("redis", "nohost"), ("cors_origins", "example.com"),
    ("ws_origins", "ftp://x"), ("max_connections", "abc"),
    ("max_connections", "-1"), ("max_message", "12x"),
    ("idle_timeout", "-1"), ("heartbeat_interval", "-0.5"),
    ("handshake_timeout", "abc"), ("close_timeout", "nan"),
    ("log_level", "verbose"), ("fsync", "sometimes"),
    ("require_auth", "some"), ("websocket_enabled", "maybe"),
    ("jwt_leeway", "1e3"), ("rate_burst", "0"), ("no_such_key", "1"),
]


def test_bad_values():
    for k, v in BAD:
        rc, out, err = ward("--check-config", "--set", "%s=%s" % (k, v))
        lines = [ln for ln in err.splitlines() if "level=error" in ln]
        check(rc == 2 and len(lines) == 1 and k in lines[0] and
              "configuration ok" not in out,
              "--check-config refuses %s=%s with one line naming it"
              % (k, v), (rc, out, err))
    # the same at start: no listener is opened
    rc, out, err = ward("--set", "listen=127.0.0.1:99999", timeout=5)
    check(rc == 2 and "99999" in err and "event=listen " not in err,
          "start with listen=127.0.0.1:99999: refused before binding",
          (rc, err))
    # from a file: the line is named
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# a comment\nlisten = 999.1.1.1:80\n")
    rc, out, err = ward("--check-config", "--config", f.name)
    os.unlink(f.name)
    check(rc == 2 and "listen" in err and "999.1.1.1" in err,
          "a bad value in a file is refused naming the key", err)
    for k, v in [("listen", "0.0.0.0:8000"), ("listen", "[::1]:8000"),
                 ("listen", "localhost:0"), ("listen", ":8000"),
                 ("cors_origins", "http://a.example:8080, https://b.example"),
                 ("ws_origins", "null"), ("redis", "127.0.0.1:6379")]:
        rc, out, err = ward("--check-config", "--set", "%s=%s" % (k, v),
                            "--set", "jwt_secret=" + SECRET)
        check(rc == 0 and "configuration ok" in out,
              "--check-config accepts %s=%s" % (k, v), (rc, err))


def test_examples():
    for name in ("ward.conf", "ward-board.conf"):
        path = os.path.join(ROOT, "examples", name)
        check(os.path.exists(path), "examples/%s exists" % name)
        rc, out, err = ward("--check-config", "--config", path)
        check(rc == 0 and "configuration ok" in out,
              "examples/%s passes --check-config" % name, (rc, err))
        with open(path) as f:
            text = f.read()
        check(text.count("\n#") >= 10, "examples/%s is commented" % name)


def test_man_page():
    path = os.path.join(ROOT, "docs", "ward.8")
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", path],
                       capture_output=True, timeout=20)
    txt = r.stdout.decode(errors="replace")
    txt = re.sub(r".\x08", "", txt)
    check(r.returncode == 0 and "NAME" in txt and "SYNOPSIS" in txt,
          "docs/ward.8 renders with groff -man", r.stderr[-500:])
    check(b"warning" not in r.stderr, "docs/ward.8: no groff warnings",
          r.stderr[-500:])
    for k in keys():
        check(re.search(r"\b%s\b" % re.escape(k), txt) is not None,
              "the man page names %s" % k)
    check("ward token" in txt, "the man page has `ward token`")


def test_banner_whole():
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        p = subprocess.Popen([ward_bin(), "--dev", "--set",
                              "listen=%s:%d" % (HOST, port), "--set",
                              "data_dir=" + d], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env(),
                             stdin=subprocess.DEVNULL)
        out = b""
        deadline = time.monotonic() + 10
        while b"stt/admin" not in out and time.monotonic() < deadline:
            import select
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
        p.terminate()
        rest, err = p.communicate(timeout=10)
        out += rest
    text = out.decode(errors="replace")
    check(len(out) > 1023, "the banner is longer than 1023 bytes", len(out))
    check("stt/admin/?token=$ADMIN\"" in text and text.endswith("\n"),
          "the banner's last example is printed whole, newline-ended",
          text[-200:])
    check(p.returncode == 0, "--dev exits 0 on SIGTERM", p.returncode)


def banner_of(*sets):
    """ward --dev's stdout until the TLS lines (or 10 s), then SIGTERM."""
    argv = [ward_bin(), "--dev"]
    for x in sets:
        argv += ["--set", x]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env(),
                         stdin=subprocess.DEVNULL, cwd=ROOT)
    import select
    out = b""
    deadline = time.monotonic() + 10
    until = b"wss://" if any(x.startswith("tls_listen=") for x in sets) \
        else b"stt/admin"
    while until not in out and time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
    return p, out.decode(errors="replace")


def test_banner_tls():
    """make run's TLS: the banner names the CA next to tls_cert and gives
    a curl --cacert line that works as printed, and a wss:// line; the
    port is the TLS listener's even after two plain ones (issue 12)."""
    certs = os.path.join("build", "dev-tls")
    check(os.path.exists(os.path.join(ROOT, certs, "ca.pem")),
          "build/dev-tls holds the dev CA (make dev-tls)")
    p1, p2, tp = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory() as d:
        p, text = banner_of(
            "listen=%s:%d,%s:%d" % (HOST, p1, HOST, p2),
            "tls_listen=%s:%d" % (HOST, tp), "data_dir=" + d,
            "tls_cert=%s/server-ec.pem" % certs,
            "tls_key=%s/server-ec.key" % certs)
        ca = "%s/ca.pem" % certs
        line = "curl --cacert %s https://127.0.0.1:%d/health" % (ca, tp)
        check(line in text, "the banner: " + line, text[-600:])
        check("https://127.0.0.1:%d" % tp in text and
              "CA %s" % ca in text, "the banner names the TLS port and CA")
        check("SSL_CERT_FILE=%s /usr/bin/python3 -m websockets "
              "wss://127.0.0.1:%d/ws/echo" % (ca, tp) in text,
              "the banner has a wss:// example")
        r = subprocess.run(["/bin/sh", "-c", line + " -s"], cwd=ROOT,
                           capture_output=True, timeout=20)
        check(r.returncode == 0 and b"healthy" in r.stdout,
              "the banner's curl --cacert line works as printed",
              r.stdout[-300:] + r.stderr[-300:])
        p.terminate()
        p.communicate(timeout=10)
        check(p.returncode == 0, "--dev with TLS exits 0 on SIGTERM",
              p.returncode)
    with tempfile.TemporaryDirectory() as d:
        import shutil
        for f in ("server-ec.pem", "server-ec.key"):
            shutil.copy(os.path.join(ROOT, certs, f), d)
        tp = free_port()
        p, text = banner_of("listen=%s:%d" % (HOST, free_port()),
                            "tls_listen=%s:%d" % (HOST, tp),
                            "data_dir=" + d,
                            "tls_cert=%s/server-ec.pem" % d,
                            "tls_key=%s/server-ec.key" % d)
        p.terminate()
        p.communicate(timeout=10)
        check("curl --cacert YOUR-CA.pem https://127.0.0.1:%d/health" % tp
              in text, "no ca.pem next to tls_cert: a placeholder, not a "
              "wrong path", text[-400:])
    with tempfile.TemporaryDirectory() as d:
        p, text = banner_of("listen=%s:%d" % (HOST, free_port()),
                            "data_dir=" + d)
        p.terminate()
        p.communicate(timeout=10)
        check("https://" not in text and "--cacert" not in text,
              "no tls_listen: no TLS lines in the banner", text[-300:])


def test_no_key_warning():
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        p = subprocess.Popen([ward_bin(), "--set",
                              "listen=%s:%d" % (HOST, port), "--set",
                              "data_dir=" + d], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env(),
                             stdin=subprocess.DEVNULL)
        time.sleep(0.5)
        p.terminate()
        out, err = p.communicate(timeout=10)
    err = err.decode(errors="replace")
    warn = [ln for ln in err.splitlines() if "level=warn" in ln and
            "jwt_secret" in ln]
    check(warn and "WARD_JWT_SECRET" in warn[0] and
          "jwt_public_key" in warn[0],
          "no key configured: a start-up warning saying what to set", err)
    rc, out, err = ward("--check-config", "--set", "jwt_secret=" + SECRET)
    check("jwt_secret" not in err, "no warning when a secret is set", err)


if __name__ == "__main__":
    run_tests([test_help, test_print_config_exits, test_config_needs_file,
               test_token_args, test_bad_values, test_examples,
               test_man_page, test_banner_whole, test_banner_tls,
               test_no_key_warning])
