#!/usr/bin/python3
"""`omo trace ORDER` against the real stack.

    trace_stack.py BIN_DIR SOURCE_DIR

Two orders flow to delivery; the trace of one must list, in time order, its
acceptance by orders, its routing and one fulfilment request per part by the
router, each part's updates by the node agent of its node type up to
delivery, and its completion, every service's events in its own sequence
order, and nothing of the other order. The same trace comes back after the
stack restarts (the events are read from each service's durable outbox).
Refusals: a malformed id (usage, exit 2), an id no service knows, and a
stack that is down (exit 1, naming the services that did not answer).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

BIN, SRC = sys.argv[1], sys.argv[2]
STATE = tempfile.mkdtemp(prefix="omo-trace-")
NETWORK = os.path.join(SRC, "simulators", "scenarios", "demo")
ROW = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})Z +([\w-]+) +(\d+) +(\w+) ?(.*)$")


def omo(*args, check=True):
    r = subprocess.run([os.path.join(BIN, "omo"), "--state=" + STATE, "--network=" + NETWORK] + list(args),
                       capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("omo %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


def submit(key, sku):
    path = os.path.join(STATE, key + ".json")
    with open(path, "w") as f:
        json.dump({"idempotency_key": key, "channel": "web", "fulfillment": "ship_to_home",
                   "ship_to": {"lat_udeg": 40712800, "lon_udeg": -74006000, "country": "US"},
                   "lines": [{"line_no": 1, "sku": sku, "quantity": 2}]}, f)
    return json.loads(omo("submit", path).stdout)["order_id"]


def settled(order_id):
    for _ in range(200):
        view = json.loads(omo("order", order_id).stdout)
        if view["status"] == "completed":
            return view
        time.sleep(0.05)
    raise AssertionError("order %s is %s, not completed" % (order_id, view["status"]))


def fields(detail):
    return dict(kv.split("=", 1) for kv in re.findall(r'\w+=(?:"[^"]*"|\S+)', detail))


def trace(order_id):
    r = omo("trace", order_id)
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["time", "service", "seq", "event"], lines[0]
    assert lines[-1] == "%d events of order %s from 6 of 6 services" % (len(lines) - 2, order_id), lines[-1]
    rows = []
    for line in lines[1:-1]:
        m = ROW.match(line)
        assert m, "not a trace row: %r" % line
        rows.append((m.group(1), m.group(2), int(m.group(3)), m.group(4), fields(m.group(5))))
    return rows


def check_trace(rows, view, other):
    assert [r[0] for r in rows] == sorted(r[0] for r in rows), "not in time order"
    for service in {r[1] for r in rows}:
        seqs = [r[2] for r in rows if r[1] == service]
        assert seqs == sorted(set(seqs)), "%s events out of sequence: %s" % (service, seqs)
    assert rows[0][1:4:2] == ("orders", "order_accepted"), rows[0]
    assert rows[-1][1] == "orders" and rows[-1][3] == "order_status_changed" and \
        rows[-1][4]["status"] == "completed", rows[-1]
    assert any(r[1] == "router" and r[3] == "order_routed" for r in rows)
    parts = {f["fulfillment_id"]: f for f in view["fulfillments"]}
    assert parts, "the order has no parts"
    requested = {r[4]["fulfillment_id"] for r in rows if r[3] == "fulfillment_requested"}
    assert requested == set(parts), "requests %s, parts %s" % (requested, set(parts))
    for fid, part in parts.items():
        updates = [r[4]["status"] for r in rows if r[3] == "fulfillment_update" and
                   r[4]["fulfillment_id"] == fid and r[1] == "node-" + part["node_type"] and
                   r[4]["node"] == part["node"]]
        assert updates == ["accepted", "shipped", "delivered"], "part %s: %s" % (fid, updates)
    theirs = {f["fulfillment_id"] for f in other["fulfillments"]}
    assert not theirs & {r[4].get("fulfillment_id") for r in rows}, "the other order's events leaked in"


def main():
    try:
        omo("up", "--pick_ms=50", "--transit_ms=100", "--pickup_ms=100")
        a, b = submit("trace-a", "SKU-0190"), submit("trace-b", "SKU-0001")
        view_a, view_b = settled(a), settled(b)
        rows = trace(a)
        check_trace(rows, view_a, view_b)
        check_trace(trace(b), view_b, view_a)

        r = omo("trace", "not-an-order", check=False)
        assert r.returncode == 2 and "is not an order id" in r.stderr, (r.returncode, r.stderr)
        unknown = str(uuid.uuid4())
        r = omo("trace", unknown, check=False)
        assert r.returncode == 1 and "no service keeps an event of order " + unknown in r.stderr, r.stderr
        assert r.stdout.splitlines()[-1] == "0 events of order %s from 6 of 6 services" % unknown

        omo("down")
        r = omo("trace", a, "--timeout_ms=300", check=False)
        assert r.returncode == 1 and r.stderr.count("UNAVAILABLE") == 6, r.stderr
        assert r.stdout.splitlines()[-1] == "0 events of order %s from 0 of 6 services" % a

        omo("up")
        again = trace(a)
        assert again == rows, "the trace changed across a restart:\n%s\n%s" % (rows, again)
        print("trace_stack: ok (%d events of %s from %d services)" % (len(rows), a, len({r[1] for r in rows})))
    finally:
        omo("down", check=False)
        shutil.rmtree(STATE, ignore_errors=True)


if __name__ == "__main__":
    main()
