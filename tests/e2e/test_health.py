#!/usr/bin/python3
"""GET /health, /health/live, /health/ready (SPEC §5, §10): ready means
not draining and data_dir writable; data_dir is made when missing; a
data_dir that cannot be a directory makes ready 503 (and /health says
so) without stopping the server."""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import Server, check, http_request, run_tests  # noqa: E402


def get(port, path):
    r = http_request(port, "GET", path)
    try:
        j = r.json()
    except ValueError:
        j = None
    return r, j


def test_ready_and_storage():
    with Server(label="health") as s:
        r, j = get(s.port, "/health")
        check(r.status == 200 and j and j.get("status") == "healthy" and
              j.get("storage") == "ok", "/health: healthy, storage ok", j)
        r, j = get(s.port, "/health/live")
        check(r.status == 200 and j == {"status": "alive"}, "/health/live",
              j)
        r, j = get(s.port, "/health/ready")
        check(r.status == 200 and j == {"status": "ready"},
              "/health/ready 200 ready", (r.status, j))
        # data_dir removed while running: ready makes it again
        shutil.rmtree(s.data_dir)
        r, j = get(s.port, "/health/ready")
        check(r.status == 200 and os.path.isdir(s.data_dir),
              "data_dir removed: ready 200 and the directory is back",
              (r.status, j))
        # data_dir replaced by a file: not ready, still serving
        shutil.rmtree(s.data_dir)
        with open(s.data_dir, "w") as f:
            f.write("not a directory\n")
        r, j = get(s.port, "/health/ready")
        check(r.status == 503 and j and j.get("status") == "not_ready" and
              "data_dir" in j.get("detail", ""),
              "data_dir is a file: ready 503 not_ready", (r.status, j))
        r, j = get(s.port, "/health")
        check(r.status == 200 and j and j.get("storage") == "unwritable",
              "/health 200 with storage unwritable", j)
        os.unlink(s.data_dir)
        r, j = get(s.port, "/health/ready")
        check(r.status == 200, "file gone: ready again", (r.status, j))


def test_missing_parents():
    s = Server(label="health-nested", start=False)
    nested = os.path.join(s.tmp, "a", "b", "c")
    s.sets.append("data_dir=" + nested)
    s.start()
    try:
        check(os.path.isdir(nested), "data_dir and its parents made at start",
              nested)
        r, _j = get(s.port, "/health/ready")
        check(r.status == 200, "nested data_dir: ready 200", r.status)
    finally:
        s.stop()


def test_unusable_at_start():
    s = Server(label="health-bad", start=False)
    blocker = os.path.join(s.tmp, "blocker")
    with open(blocker, "w") as f:
        f.write("x")
    s.sets.append("data_dir=" + os.path.join(blocker, "data"))
    s.start()
    try:
        r, j = get(s.port, "/health/ready")
        check(r.status == 503 and j and j.get("status") == "not_ready",
              "data_dir under a file: server up, ready 503", (r.status, j))
        check("event=data_dir" in s.log() and "not writable" in s.log(),
              "a warning names data_dir at start", s.log()[-300:])
        r, _j = get(s.port, "/health/live")
        check(r.status == 200, "still live", r.status)
    finally:
        s.stop()


if __name__ == "__main__":
    run_tests([test_ready_and_storage, test_missing_parents,
               test_unusable_at_start])
