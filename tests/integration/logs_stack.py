#!/usr/bin/python3
"""Every line the stack logs during a demo run is one logfmt record.

    logs_stack.py BIN_DIR SOURCE_DIR

Runs the stack under its supervisor with nodes declining a fifth of their
requests, kills one service (so the supervisor logs a death and a restart),
drives a demo day of orders (some invalid, some cancelled) through it, stops
it, then parses every line of every log: key=value pairs (a value bare, or
quoted with \\" and \\\\ escaped), no key twice, and first ts (RFC 3339, UTC),
level, svc (the service whose log it is) and event. A line about one order
carries its id as order_id, and that id is an order the orders service
knows.
"""
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN, SRC = sys.argv[1], sys.argv[2]
STATE = tempfile.mkdtemp(prefix="omo-logs-")
NETWORK = os.path.join(SRC, "simulators", "scenarios", "demo")
PAIR = re.compile(r'([a-z_][a-z0-9_]*)=("(?:[^"\\]|\\.)*"|[^\s"=]*)(?: |$)')
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LEVELS = {"error", "warn", "info", "debug"}
# Log events that are about one order: each must name it.
ORDER_EVENTS = {"fulfillment_rejected", "reserve_refused"}


def omo(*args, check=True):
    r = subprocess.run([os.path.join(BIN, "omo"), "--state=" + STATE, "--network=" + NETWORK] + list(args),
                       capture_output=True, text=True)
    assert r.returncode == 0 or not check, "omo %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr)
    return r.stdout


def logfmt(line):
    """The pairs of one logfmt line, in order, or an error."""
    pairs, pos = [], 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        if m is None:
            raise ValueError("not key=value at column %d" % (pos + 1))
        pairs.append((m.group(1), m.group(2)))
        pos = m.end()
    if line.endswith(" "):
        raise ValueError("trailing space")
    return pairs


def check_file(path, service, problems, seen):
    with open(path, "rb") as f:
        raw = f.read()
    for n, data in enumerate(raw.split(b"\n")[:-1], 1):
        where = "%s:%d" % (os.path.basename(path), n)
        try:
            line = data.decode("utf-8")
            pairs = logfmt(line)
        except ValueError as e:  # also UnicodeDecodeError
            problems.append("%s: %s: %r" % (where, e, data[:200]))
            continue
        keys = [k for k, _ in pairs]
        rec = dict(pairs)
        if len(set(keys)) != len(keys):
            problems.append("%s: a key twice: %s" % (where, line))
        if keys[:4] != ["ts", "level", "svc", "event"]:
            problems.append("%s: does not start with ts level svc event: %s" % (where, line))
            continue
        if not TS.match(rec["ts"]) or rec["level"] not in LEVELS or rec["svc"] != service or \
                not re.fullmatch(r"[a-z][a-z0-9_]*", rec["event"]):
            problems.append("%s: bad ts, level, svc or event: %s" % (where, line))
        if rec["event"] in ORDER_EVENTS and not UUID.match(rec.get("order_id", "")):
            problems.append("%s: about an order, without its order_id: %s" % (where, line))
        seen[rec["event"]].append(rec)
    if raw and not raw.endswith(b"\n"):
        problems.append("%s: the last line is cut" % os.path.basename(path))


def main():
    try:
        omo("up", "--reject_pct=20", "--pick_ms=50", "--transit_ms=100", "--pickup_ms=100")
        router = int(open(os.path.join(STATE, "run", "router.pid")).read())
        os.kill(router, signal.SIGKILL)
        for _ in range(100):
            if re.search(r"^router +\d+ +yes .* 1$", omo("status", check=False), re.M):
                break
            time.sleep(0.1)
        demo = subprocess.run([os.path.join(BIN, "omo-sim"), "demo", "--state=" + STATE, "--network=" + NETWORK,
                               "--orders=300"], capture_output=True, text=True)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        logs = os.path.join(STATE, "log")
        problems, seen = [], collections.defaultdict(list)
        for name in sorted(os.listdir(logs)):
            check_file(os.path.join(logs, name), name[:-len(".log")], problems, seen)
        # the orders named in the logs exist (asked while the stack is up)
        named = {r["order_id"] for e in ORDER_EVENTS for r in seen[e] if UUID.match(r.get("order_id", ""))}
        for order_id in sorted(named)[:50]:
            assert json.loads(omo("order", order_id))["order_id"] == order_id
        omo("down")
        problems, seen = [], collections.defaultdict(list)
        files = sorted(os.listdir(logs))
        for name in files:
            check_file(os.path.join(logs, name), name[:-len(".log")], problems, seen)
        for p in problems[:20]:
            print(p)
        assert not problems, "%d log lines are not well-formed records" % len(problems)
        # what the run must have logged, so that the checks above saw it
        assert {"supervisor.log", "orders.log", "router.log", "node-store.log"} <= set(files), files
        for event in ("started", "stopped", "service_died", "service_restarted", "fulfillment_rejected",
                      "request_refused"):
            assert seen[event], "no %s line in the logs of the run" % event
        lines = sum(len(v) for v in seen.values())
        print("logs_stack: ok (%d lines in %d files, %d events about %d orders named by order_id)" %
              (lines, len(files), sum(len(seen[e]) for e in ORDER_EVENTS), len(named)))
    finally:
        subprocess.run([os.path.join(BIN, "omo"), "--state=" + STATE, "down"], capture_output=True)
        shutil.rmtree(STATE, ignore_errors=True)


if __name__ == "__main__":
    main()
