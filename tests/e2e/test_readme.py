#!/usr/bin/python3
"""README.md's own command blocks, run as written (issue 11).

Every ```sh block of README.md is read; each command line (a trailing
"# comment" cut off) runs from the repository root with /bin/sh against a
fresh server started for this suite: port 8000 (make run's default) and
the hand-start ports are replaced by free ones, and build/host/ward by the
binary under test (WARD_BIN).  Exceptions, each reported:
  - `make ...` lines are build commands (make test would run itself); not
    run here;
  - a line that starts the server (ward without an exiting option) runs in
    the background until /health answers 200, then gets SIGTERM and must
    exit 0;
  - the interactive WebSocket client reads its stdin from a pipe (one line,
    then end of file) and must report "Connected";
  - $ADMIN, $DOCTOR and $PATIENT hold tokens for the server, as exported by
    `make run`'s banner;
  - the server also listens with TLS (build/dev-tls's development CA and EC
    certificate, made by `make dev-tls`), as `make run` does on 8443: port
    8443 is replaced by its TLS port.
Every other command must exit 0 within 20 s, and a curl must print
something.  The suite also checks that a block exists at all, so an
emptied README does not pass silently."""

import os
import re
import shlex
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwtutil import make_token  # noqa: E402
from wardtest import (HOST, Server, check, free_port, run_tests,  # noqa
                      ward_bin)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXITING = ("--print-limits", "--check-config", "--help", "--version",
           "--print-config", " token ")


def commands():
    """(block number, command) for every command line of every sh block."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    out = []
    for n, block in enumerate(re.findall(r"^```sh\n(.*?)^```", text,
                                         re.M | re.S)):
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            out.append((n, strip_comment(line)))
    return out


def strip_comment(line):
    """The line without a trailing '# ...' outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and i > 0 and line[i - 1] in " \t":
            return line[:i].rstrip()
    return line.rstrip()


def localize(cmd, port, tls_port):
    cmd = cmd.replace("127.0.0.1:8000", "%s:%d" % (HOST, port))
    cmd = cmd.replace("127.0.0.1:8443", "%s:%d" % (HOST, tls_port))
    cmd = re.sub(r"127\.0\.0\.1:18\d\d\d", "%s:%d" % (HOST, free_port()),
                 cmd)
    return cmd.replace("build/host/ward", shlex.quote(ward_bin()))


SECRET = "s3cret-readme-0123456789abcdef0123"


def env():
    """No developer WARD_* settings; $ADMIN, $DOCTOR and $PATIENT hold
    tokens of the suite's server, as `make run`'s banner exports them."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("WARD_")}
    for var, role, sub in (("ADMIN", "admin", "1"), ("DOCTOR", "doctor", "7"),
                           ("PATIENT", "patient", "42")):
        e[var] = make_token(SECRET, role, var.title(), sub, 3600,
                            practice_id="1")
    return e


def run_server_cmd(cmd, label):
    """A command that starts ward: healthy, then SIGTERM, exit 0."""
    m = re.search(r"listen=([0-9.]+):(\d+)", cmd)
    if m is None:  # a config file's listen: a free port wins (--set)
        port = free_port()
        cmd += " --set listen=%s:%d" % (HOST, port)
    else:
        port = int(m.group(2))
    p = subprocess.Popen(["/bin/sh", "-c", "exec " + cmd], cwd=ROOT,
                         env=env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ok = False
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and p.poll() is None:
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                            "%{http_code}", "http://%s:%d/health"
                            % (HOST, port)], capture_output=True, timeout=5)
        if r.stdout == b"200":
            ok = True
            break
        time.sleep(0.1)
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    check(ok, "%s: the server answers /health 200" % label,
          out.decode(errors="replace")[-1500:])
    check(p.returncode == 0, "%s: exit 0 after SIGTERM" % label,
          p.returncode)


def run_cmd(cmd, label):
    interactive = "-m websockets" in cmd
    try:
        r = subprocess.run(["/bin/sh", "-c", cmd], cwd=ROOT, env=env(),
                           input=b"hello\n" if interactive else b"",
                           capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return check(False, "%s: done within 20 s" % label, cmd)
    out = (r.stdout + r.stderr).decode(errors="replace")
    check(r.returncode == 0, "%s: exit 0" % label,
          "rc=%d\n%s" % (r.returncode, out[-1500:]))
    if cmd.startswith("curl"):
        check(r.stdout.strip() != b"", "%s: prints an answer" % label, out)
    if interactive:
        check("Connected" in out, "%s: the client connected" % label, out)
    if "--check-config" in cmd:
        check("configuration ok" in out, "%s: configuration ok" % label,
              out)


def test_readme_blocks():
    cmds = commands()
    check(len(cmds) >= 8, "README has its command blocks", len(cmds))
    certs = os.path.join(ROOT, "build", "dev-tls")
    check(os.path.exists(os.path.join(certs, "ca.pem")),
          "build/dev-tls holds the development CA (make dev-tls)", certs)
    tls_port = free_port()
    srv = Server("jwt_secret=" + SECRET, "tls_listen=%s:%d" % (HOST, tls_port),
                 "tls_cert=" + os.path.join(certs, "server-ec.pem"),
                 "tls_key=" + os.path.join(certs, "server-ec.key"),
                 label="readme")
    ran = 0
    for n, raw in cmds:
        label = "README block %d: %s" % (n, raw[:70])
        if raw.startswith("make "):
            continue
        cmd = localize(raw, srv.port, tls_port)
        if "ward" in cmd.split()[0] and not any(x in cmd + " "
                                                for x in EXITING):
            run_server_cmd(cmd, label)
        else:
            run_cmd(cmd, label)
        ran += 1
    check(ran >= 8, "at least 8 README commands ran", ran)
    check(srv.alive() and srv.healthy(), "server alive at the end")
    srv.stop()


if __name__ == "__main__":
    run_tests([test_readme_blocks])
