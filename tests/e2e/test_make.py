#!/usr/bin/python3
"""The make front door (issue 11): plain `make` without BearSSL/jsmn says
in one line to run `make deps`; nested sub-makes under -j print no
"-jN forced in submake" warning; `make test`'s closing total
(tests/total.sh) sums every step and fails when anything failed.  Runs
make in the source tree; outputs stay under build/."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import check, run_tests  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make(*args, timeout=120):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory"] + list(args),
                          cwd=ROOT, capture_output=True, timeout=timeout,
                          env=env)


def test_missing_deps_message():
    b = "build/test-make-deps"
    try:
        # a compiler that finds no system header stands for a machine
        # without libbearssl-dev / libjsmn-dev
        r = make("B=" + b, "CC=cc -nostdinc", b + "/src/buf.o")
    finally:
        shutil.rmtree(os.path.join(ROOT, b), ignore_errors=True)
    err = r.stderr.decode(errors="replace")
    lines = [ln for ln in err.splitlines()
             if ln and not ln.startswith("make: ***")]
    check(r.returncode != 0, "make without the headers fails", r.returncode)
    check(len(lines) == 1 and "make deps" in lines[0] and
          "bearssl.h" in lines[0],
          "one clear line naming make deps", err[-800:])
    check("No such file" not in err, "no raw compiler error", err[-400:])


def test_no_forced_j():
    r = make("-j2", "board-unit-small", timeout=300)
    out = (r.stdout + r.stderr).decode(errors="replace")
    check(r.returncode == 0, "make -j2 board-unit-small passes", out[-600:])
    check("forced in submake" not in out and "jobserver unavailable" not in
          out, "no -jN forced / jobserver warning in nested sub-makes",
          [ln for ln in out.splitlines() if "submake" in ln
           or "jobserver" in ln])


def total(logs):
    d = tempfile.mkdtemp(prefix="ward-total-")
    paths = []
    for i, (text, rc) in enumerate(logs):
        p = os.path.join(d, "%02d-step.log" % i)
        with open(p, "w") as f:
            f.write(text)
        with open(p + ".rc", "w") as f:
            f.write("%d\n" % rc)
        paths.append(p)
    r = subprocess.run(["sh", os.path.join(ROOT, "tests", "total.sh")] +
                       paths, capture_output=True, timeout=30)
    shutil.rmtree(d, ignore_errors=True)
    last = r.stdout.decode().strip().splitlines()[-1:] or [""]
    return r.returncode, last[0]


def test_total():
    rc, last = total([
        ("FAIL x\n3 passed, 1 failed\n=== summary\n10 passed, 2 failed\n", 1),
        ("check-limits: 1 passed, 0 failed\n", 0),
        ("fuzz-replay json: 4 passed, 0 failed\n4 passed, 0 failed\n", 0),
        ("test-boards: 4 passed, 0 failed\n...\n7 passed, 0 failed\n", 0),
    ])
    check(last == "26 passed, 2 failed" and rc != 0,
          "total sums each step's closing lines and fails", (rc, last))
    rc, last = total([("2 passed, 0 failed\n", 0), ("no summary\n", 2)])
    check(last == "2 passed, 1 failed" and rc != 0,
          "a step that failed without a count adds one failure", (rc, last))
    rc, last = total([("5 passed, 0 failed\n", 0)])
    check(last == "5 passed, 0 failed" and rc == 0, "all passed: exit 0",
          (rc, last))
    # (not `make -n test`: a recipe naming $(MAKE) runs even under -n)
    with open(os.path.join(ROOT, "Makefile")) as f:
        mk = f.read()
    rule = re.search(r"^test: deps\n((?:\t.*\n)+)", mk, re.M)
    check(rule and "tests/total.sh $(TEST_LOGS)/*.log" in rule.group(1)
          and "tee $$log" in rule.group(1),
          "make test tees every step into build/test-logs and ends with "
          "tests/total.sh", rule.group(1)[-300:] if rule else mk[:0])


def test_bearssl_from_source():
    """The host build links BearSSL built from Debian's source at -O2
    (boards/host.mk), statically, and says so in --version; the library
    was kept only because BearSSL's own tests passed."""
    r = make("-s", "board-info")
    out = r.stdout.decode()
    check(r.returncode == 0 and "libbearssl.a" in out and
          "deps/bearssl-host" in out,
          "the host board names the source-built libbearssl.a", out[-400:])
    ward = os.environ.get("WARD_BIN") or os.path.join(ROOT, "build", "host",
                                                      "ward")
    v = subprocess.run([ward, "--version"], capture_output=True, timeout=10)
    lines = v.stdout.decode().splitlines()
    check(v.returncode == 0 and len(lines) == 2 and
          lines[1] == "BearSSL: Debian source package, -O2, static",
          "--version names the BearSSL the build linked", lines)
    ldd = subprocess.run(["ldd", ward], capture_output=True, timeout=10)
    check("libbearssl" not in ldd.stdout.decode(),
          "no libbearssl.so among the server's shared libraries",
          ldd.stdout.decode())
    logs = [os.path.join(ROOT, "build", "deps", "bearssl-host", f)
            for f in ("testcrypto.log", "testx509.log")]
    text = ""
    for f in logs:
        if os.path.exists(f):
            text += open(f, errors="replace").read()
    check("Test GCM" in text and "Name extraction: OK" in text,
          "BearSSL's own testcrypto and testx509 ran on that build",
          text[-300:])


if __name__ == "__main__":
    run_tests([test_missing_deps_message, test_no_forced_j, test_total,
               test_bearssl_from_source])
