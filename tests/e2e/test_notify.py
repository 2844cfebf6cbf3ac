#!/usr/bin/python3
"""Supervisor integration (SPEC §10): the sd_notify datagram protocol.

A fake supervisor binds an AF_UNIX datagram socket and starts ward with
NOTIFY_SOCKET=<path> (and WATCHDOG_USEC / WATCHDOG_PID as systemd sets
them).  Checked: READY=1 once the listeners are open; WATCHDOG=1 every
WATCHDOG_USEC/2 (400 ms -> ~200 ms, never a gap near 400 ms), only when
asked (WATCHDOG_USEC set, WATCHDOG_PID unset or ours), only while the loop
turns (none while the process is SIGSTOPped); STOPPING=1 after SIGTERM,
then exit 0; abstract socket names (@name); a dead NOTIFY_SOCKET is
harmless.  Works with WARD_BIN pointing at a qemu-user wrapper (exec keeps
the pid).
"""

import os
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wardtest import (OP_TEXT, SLOW, WS, Server, check,  # noqa: E402
                      run_tests, ward_bin)

WATCHDOG_USEC = 400000          # systemd's WatchdogSec=0.4s
PERIOD = WATCHDOG_USEC / 2e6    # ward pings at half the interval: 0.2 s


class Supervisor:
    """The fake service manager's end of NOTIFY_SOCKET."""

    def __init__(self, abstract=False):
        self.tmp = tempfile.mkdtemp(prefix="ward-notify-")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "ward-notify-%d-%d" % (os.getpid(), time.monotonic_ns())
            self.sock.bind("\0" + name)
            self.addr = "@" + name
        else:
            self.addr = os.path.join(self.tmp, "notify.sock")
            self.sock.bind(self.addr)
        self.msgs = []          # (monotonic time, {key: value}, raw)

    def env(self, watchdog=True, pid=None):
        e = {"NOTIFY_SOCKET": self.addr}
        if watchdog:
            e["WATCHDOG_USEC"] = str(WATCHDOG_USEC)
        if pid is not None:
            e["WATCHDOG_PID"] = str(pid)
        return e

    def pump(self, seconds, until=None):
        """Receive datagrams for `seconds` (or until until(msg) is true)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                raw = self.sock.recv(4096)
            except socket.timeout:
                return None
            kv = {}
            for line in raw.decode("utf-8", "replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    kv[k] = v
            msg = (time.monotonic(), kv, raw)
            self.msgs.append(msg)
            if until and until(kv):
                return msg

    def wait_for(self, key, seconds):
        for m in self.msgs:
            if key in m[1]:
                return m
        return self.pump(seconds, lambda kv: key in kv)

    def times(self, key, since=0.0, before=float("inf")):
        return [t for t, kv, _ in self.msgs if key in kv and
                since <= t < before]

    def close(self):
        self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class OwnPidServer(Server):
    """Start ward through `sh -c 'WATCHDOG_PID=$$ exec ...'` so the pid in
    WATCHDOG_PID is the server's own, as systemd sets it."""

    def argv(self, port):
        return ["/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; '
                'exec "$@"', "sh"] + super().argv(port)


def gaps(ts):
    return [b - a for a, b in zip(ts, ts[1:])]


def fmt(xs):
    return "[%s]" % ", ".join("%.3f" % x for x in xs)


def test_ready_watchdog_stopping():
    sup = Supervisor()
    try:
        srv = Server(env=sup.env(), label="notify")
        ready = sup.wait_for("READY", 10 * SLOW)
        check(ready is not None, "READY=1 arrives once the server serves",
              [m[2] for m in sup.msgs])
        if ready:
            check(ready[1].get("READY") == "1", "READY value is 1",
                  ready[2])
        check(srv.healthy(), "healthy after READY=1")
        # watchdog: ~2 s of pings, with a WebSocket session in between
        t0 = time.monotonic()
        sup.pump(1.0)
        w = WS(srv.port)
        w.send_frame(OP_TEXT, b"watchdog?")
        echo = w.recv_message(3.0)
        check(echo is not None and echo[1] == b"watchdog?",
              "echo works between watchdog pings", echo)
        w.close_handshake()
        sup.pump(1.0)
        t1 = time.monotonic()
        ts = sup.times("WATCHDOG", t0, t1)
        g = gaps(ts)
        span = t1 - t0
        check(len(ts) >= span / (2 * PERIOD) and
              len(ts) <= span / (PERIOD * 0.6) + 1,
              "WATCHDOG=1 every ~%.0f ms (%d in %.1f s)"
              % (PERIOD * 1000, len(ts), span), fmt(g))
        check(all(m[1].get("WATCHDOG") == "1" for m in sup.msgs
                  if "WATCHDOG" in m[1]), "WATCHDOG value is 1")
        if g:
            check(max(g) < WATCHDOG_USEC / 1e6 * max(1.0, SLOW / 2),
                  "no watchdog gap reaches WATCHDOG_USEC (max %.3f s)"
                  % max(g), fmt(g))
            check(min(g) > PERIOD * 0.5,
                  "no watchdog burst (min gap %.3f s)" % min(g), fmt(g))
        # SIGTERM: STOPPING=1, then exit 0 (Server.stop checks the status)
        before = len(sup.msgs)
        srv.stop()
        sup.pump(0.3)
        after = [m[1] for m in sup.msgs[before:]]
        check(any("STOPPING" in kv and kv["STOPPING"] == "1" for kv in after),
              "STOPPING=1 after SIGTERM", [m[2] for m in sup.msgs[before:]])
        check(not any("READY" in kv for kv in after),
              "no READY=1 after SIGTERM")
        check(sum("READY" in m[1] for m in sup.msgs) == 1,
              "READY=1 sent exactly once")
    finally:
        sup.close()


def test_watchdog_only_while_loop_turns():
    """SIGSTOP freezes the loop: no pings; SIGCONT: pings resume."""
    sup = Supervisor()
    try:
        srv = Server(env=sup.env(), label="notify-sigstop")
        sup.wait_for("READY", 10 * SLOW)
        sup.pump(0.6)
        check(len(sup.times("WATCHDOG")) >= 1, "pinging before SIGSTOP")
        os.kill(srv.pid, signal.SIGSTOP)
        time.sleep(0.05)        # a datagram already in flight may land
        t_stop = time.monotonic()
        sup.pump(1.0)
        t_cont = time.monotonic()
        os.kill(srv.pid, signal.SIGCONT)
        frozen = sup.times("WATCHDOG", t_stop + 0.01, t_cont)
        check(not frozen, "no WATCHDOG=1 while the process is stopped",
              fmt([t - t_stop for t in frozen]))
        sup.pump(0.8)
        check(len(sup.times("WATCHDOG", t_cont)) >= 2,
              "WATCHDOG=1 resumes after SIGCONT",
              fmt(sup.times("WATCHDOG", t_cont)))
        check(srv.healthy(), "healthy after SIGSTOP/SIGCONT")
        srv.stop()
    finally:
        sup.close()


def test_watchdog_only_when_asked():
    # no WATCHDOG_USEC: READY and STOPPING only
    sup = Supervisor()
    try:
        srv = Server(env=sup.env(watchdog=False), label="notify-no-wd")
        check(sup.wait_for("READY", 10 * SLOW) is not None,
              "READY=1 without a watchdog")
        sup.pump(0.8)
        check(not sup.times("WATCHDOG"), "no WATCHDOG=1 without WATCHDOG_USEC")
        srv.stop()
        sup.pump(0.3)
        check(sup.times("STOPPING"), "STOPPING=1 without a watchdog")
    finally:
        sup.close()
    # WATCHDOG_PID names another process (an inherited environment)
    sup = Supervisor()
    try:
        srv = Server(env=sup.env(pid=1), label="notify-other-pid")
        sup.wait_for("READY", 10 * SLOW)
        sup.pump(0.8)
        check(not sup.times("WATCHDOG"),
              "no WATCHDOG=1 when WATCHDOG_PID is another process")
        srv.stop()
    finally:
        sup.close()
    # WATCHDOG_PID is the server's own pid (what systemd does)
    sup = Supervisor()
    try:
        srv = OwnPidServer(env=sup.env(), label="notify-own-pid")
        sup.wait_for("READY", 10 * SLOW)
        sup.pump(0.8)
        check(len(sup.times("WATCHDOG")) >= 2,
              "WATCHDOG=1 when WATCHDOG_PID is the server's own pid",
              len(sup.times("WATCHDOG")))
        srv.stop()
    finally:
        sup.close()


def test_abstract_socket():
    sup = Supervisor(abstract=True)
    try:
        srv = Server(env=sup.env(), label="notify-abstract")
        check(sup.wait_for("READY", 10 * SLOW) is not None,
              "READY=1 over an abstract socket (@name)")
        sup.pump(0.6)
        check(len(sup.times("WATCHDOG")) >= 1,
              "WATCHDOG=1 over an abstract socket")
        srv.stop()
        sup.pump(0.3)
        check(sup.times("STOPPING"), "STOPPING=1 over an abstract socket")
    finally:
        sup.close()


def test_dead_notify_socket_is_harmless():
    tmp = tempfile.mkdtemp(prefix="ward-notify-")
    try:
        env = {"NOTIFY_SOCKET": os.path.join(tmp, "nobody-listens"),
               "WATCHDOG_USEC": str(WATCHDOG_USEC)}
        srv = Server(env=env, label="notify-dead")
        time.sleep(0.5)
        check(srv.healthy(), "serves with a NOTIFY_SOCKET nobody reads")
        srv.stop()
        env = {"NOTIFY_SOCKET": "relative/path", "WATCHDOG_USEC": "1000"}
        srv = Server(env=env, label="notify-bad-path")
        time.sleep(0.3)
        check(srv.healthy(), "serves with an invalid NOTIFY_SOCKET")
        srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if not os.access(ward_bin(), os.X_OK):
        print("FAIL WARD_BIN %s is not executable" % ward_bin())
        print("0 passed, 1 failed")
        sys.exit(1)
    run_tests([test_ready_watchdog_stopping,
               test_watchdog_only_while_loop_turns,
               test_watchdog_only_when_asked,
               test_abstract_socket,
               test_dead_notify_socket_is_harmless])
