#!/usr/bin/python3
"""Run every tests/e2e/test_*.py against $WARD_BIN and sum the results.

Each suite runs as its own process, prints its checks and ends with a line
"N passed, M failed".  This runner prints each suite's output, then one
final line "N passed, M failed" (the sums) and exits 1 if anything failed.
A suite that crashes, times out or prints no summary counts as one failure.

usage: WARD_BIN=/abs/path/ward run.py [test_name ...]
WARD_E2E_SKIP="test_a test_b" leaves suites out of a full run (the
Makefile sets it per VARIANT and says why); named suites always run.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE_TIMEOUT = 170          # seconds, per suite (ASan builds included)
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed\s*$", re.M)


def main():
    ward = os.environ.get("WARD_BIN")
    if not ward:
        ward = os.path.join(HERE, "..", "..", "build", "host", "ward")
    ward = os.path.abspath(ward)
    if not os.access(ward, os.X_OK):
        print("run.py: WARD_BIN %s is not an executable" % ward)
        print("0 passed, 1 failed")
        return 1
    env = dict(os.environ, WARD_BIN=ward, PYTHONDONTWRITEBYTECODE="1",
               PYTHONUNBUFFERED="1")
    want = [a[:-3] if a.endswith(".py") else a for a in sys.argv[1:]]
    suites = sorted(f for f in os.listdir(HERE)
                    if f.startswith("test_") and f.endswith(".py"))
    if want:
        suites = [s for s in suites if s[:-3] in want]
    skip = os.environ.get("WARD_E2E_SKIP", "").split()
    if skip and not want:
        print("run.py: left out for this build (Makefile E2E_SKIP_<variant>):"
              " %s" % " ".join(skip))
        suites = [s for s in suites if s[:-3] not in skip]
    total_p = total_f = 0
    t_all = time.monotonic()
    results = []
    for s in suites:
        print("=== %s" % s, flush=True)
        t0 = time.monotonic()
        try:
            cp = subprocess.run([sys.executable, os.path.join(HERE, s)],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                cwd=HERE, timeout=SUITE_TIMEOUT,
                                stdin=subprocess.DEVNULL)
            out = cp.stdout.decode("utf-8", "replace")
            rc = cp.returncode
            timed_out = False
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace")
            rc = None
            timed_out = True
        sys.stdout.write(out)
        if out and not out.endswith("\n"):
            sys.stdout.write("\n")
        sums = SUMMARY.findall(out)
        p, f = (int(sums[-1][0]), int(sums[-1][1])) if sums else (0, 0)
        if timed_out:
            print("FAIL %s: timed out after %ds" % (s, SUITE_TIMEOUT))
            f += 1
        elif not sums:
            print("FAIL %s: exited %s without a summary line" % (s, rc))
            f += 1
        elif rc != 0 and f == 0:
            print("FAIL %s: exited %s with no failed check" % (s, rc))
            f += 1
        dt = time.monotonic() - t0
        print("--- %s: %d passed, %d failed (%.1fs)" % (s, p, f, dt),
              flush=True)
        results.append((s, p, f, dt))
        total_p += p
        total_f += f
    print("=== summary (%.1fs)" % (time.monotonic() - t_all))
    for s, p, f, dt in results:
        print("  %-22s %4d passed, %3d failed  %6.1fs" % (s, p, f, dt))
    print("%d passed, %d failed" % (total_p, total_f), flush=True)
    return 1 if total_f or not results else 0


if __name__ == "__main__":
    sys.exit(main())
