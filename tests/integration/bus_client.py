#!/usr/bin/python3
"""omo's bus as a client in another language sees it.

Requests are built from schemas/REFERENCE.md alone: raw msgpack made with
Debian's python3-msgpack (not omo's codec), sent with Debian's nngcat to the
real service processes, replies decoded here. Each case is its own ctest:

    bus_client.py BIN_DIR SOURCE_DIR CASE

Cases: submit_and_deliver (an order followed to delivery), idempotent,
and one per kind of bad input; every bad input must get its stable error
code and a sentence, change nothing, and leave the service serving.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import msgpack

BIN, SRC, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
NETWORK = os.path.join(SRC, "simulators", "scenarios", "demo")
MAX_MESSAGE = 4 << 20  # REFERENCE.md: "Messages larger than 4194304 bytes are refused"


class Stack:
    """The six service processes on ipc:// sockets in a fresh directory."""

    def __init__(self, tcp=False, slow_nodes=False):
        self.dir = tempfile.mkdtemp(prefix="omo-bus-")
        self.run = os.path.join(self.dir, "run")
        os.makedirs(self.run)
        self.procs = []
        self.argv = {}
        common = ["--run_dir=" + self.run, "--network_dir=" + NETWORK, "--log_level=warn"]
        self.endpoints = {}
        if tcp:  # every socket on a free loopback port instead of ipc://
            import socket
            for name in ("inventory", "node-manufacturer", "node-warehouse", "node-store",
                         "router", "orders"):
                for kind in ("rep", "pub"):
                    with socket.socket() as probe:
                        probe.bind(("127.0.0.1", 0))
                        port = probe.getsockname()[1]
                    self.endpoints["%s.%s" % (name, kind)] = "tcp://127.0.0.1:%d" % port
            common.append("--endpoints=" + ",".join("%s=%s" % kv for kv in self.endpoints.items()))
        # Slow nodes leave time to stop the centre while their work is still to do.
        delays = ["--pick_ms=500", "--transit_ms=1000"] if slow_nodes else ["--pick_ms=50", "--transit_ms=100"]
        services = [
            ("omo-inventory", "inventory", ["--seed_stock=" + os.path.join(NETWORK, "stock.csv")]),
            ("omo-node", "node-manufacturer", ["--role=manufacturer"] + delays),
            ("omo-node", "node-warehouse", ["--role=warehouse"] + delays),
            ("omo-node", "node-store", ["--role=store", "--pickup_ms=100"] + delays),
            ("omo-router", "router", []),
            ("omo-orders", "orders", []),
        ]
        for exe, name, extra in services:
            data = "--data_dir=" + os.path.join(self.dir, "data", name)
            self.argv[name] = [os.path.join(BIN, exe), data] + common + extra
            self.procs.append(self.spawn(name))
        for _, name, _ in services:
            self.wait_ready(name)

    def spawn(self, name):
        log = open(os.path.join(self.dir, name + ".log"), "a")
        return subprocess.Popen(self.argv[name], stdout=log, stderr=log)

    def kill9(self, name):
        """Kills a service as a crash or power cut would; returns its index."""
        i = list(self.argv).index(name)
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()
        return i

    def restart(self, name, index):
        self.procs[index] = self.spawn(name)
        self.wait_ready(name)

    def wait_ready(self, service):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if self.call(service, "fetch_events", {"epoch": 0, "from_seq": 1, "max": 1},
                             timeout=1)["type"] == "events":
                    return
            except (subprocess.TimeoutExpired, ValueError):
                time.sleep(0.05)
        raise SystemExit("%s did not come up" % service)

    def send(self, service, payload, timeout=10):
        """Sends raw bytes with nngcat; returns the raw reply bytes."""
        path = os.path.join(self.dir, "request.bin")
        with open(path, "wb") as f:
            f.write(payload)
        url = self.endpoints.get(service + ".rep", "ipc://%s/%s.rep" % (self.run, service))
        out = subprocess.run(["nngcat", "--req0", "--dial", url, "--file", path, "--raw",
                              "--recv-maxsz", str(2 * MAX_MESSAGE)],
                             capture_output=True, timeout=timeout, check=False)
        return out.stdout

    def call(self, service, msg_type, body, version=1, extra=None, timeout=10):
        envelope = {"type": msg_type, "v": version, "id": uuid.uuid4().bytes, "body": body}
        envelope.update(extra or {})
        reply = msgpack.unpackb(self.send(service, msgpack.packb(envelope), timeout), raw=False)
        # A request too large to read is answered without its id (nng still matches it).
        unread = reply["type"] == "error" and reply["body"]["code"] == "TOO_LARGE"
        assert reply["corr"] == (bytes(16) if unread else envelope["id"]), "reply answers another request"
        return reply

    def latest_seq(self, service):
        return self.call(service, "fetch_events", {"epoch": 0, "from_seq": 1, "max": 1})["body"]["latest_seq"]

    def stop(self):
        for p in reversed(self.procs):
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                rc = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = "killed"
            assert rc == 0, "a service did not stop cleanly (%s)" % rc
        shutil.rmtree(self.dir)


def order(key, **changes):
    body = {
        "idempotency_key": key,
        "channel": "web",
        "fulfillment": "ship_to_home",
        "ship_to": {"lat_udeg": 40712800, "lon_udeg": -74006000, "country": "US"},
        "lines": [{"line_no": 1, "sku": "SKU-0001", "quantity": 1},
                  {"line_no": 2, "sku": "SKU-0190", "quantity": 1}],
    }
    body.update(changes)
    return body


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def case_submit_and_deliver(s):
    r = s.call("orders", "submit_order", order("deliver-1"))
    expect(r["type"] == "submit_order_reply", r)
    expect(r["body"]["status"] == "accepted", r)
    oid = r["body"]["order_id"]
    expect(isinstance(oid, bytes) and len(oid) == 16, "order_id is a 16-byte uuid")
    deadline = time.time() + 20
    while time.time() < deadline:
        view = s.call("orders", "get_order", {"order_id": oid})["body"]
        if view["status"] == "completed":
            break
        time.sleep(0.1)
    expect(view["status"] == "completed", "order not delivered: %s" % view["status"])
    nodes = sorted((f["node_type"], f["status"]) for f in view["fulfillments"])
    expect(nodes == [("manufacturer", "delivered"), ("store", "delivered")] or
           nodes == [("manufacturer", "delivered"), ("warehouse", "delivered")], nodes)
    events = [h["event"] for h in view["history"]]
    for step in ("accepted", "routed", "shipped", "delivered"):
        expect(step in events, "history lacks %s: %s" % (step, events))


def accepted_events(s):
    """Counts order_accepted events in the orders service's outbox."""
    body = s.call("orders", "fetch_events", {"epoch": 0, "from_seq": 1, "max": 10000})["body"]
    # latest_seq comes in the same reply: later events (routing goes on) cannot skew the count.
    expect(len(body["events"]) == body["latest_seq"], "outbox lacks events")
    return sum(msgpack.unpackb(e["bytes"], raw=False)["type"] == "order_accepted" for e in body["events"])


def wait_status(s, oid, want, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        view = s.call("orders", "get_order", {"order_id": oid})["body"]
        if view["status"] == want:
            return view
        time.sleep(0.05)
    raise AssertionError("order is %s, not %s" % (view["status"], want))


def case_edge_keeps_working(s):
    """With the centre down, nodes go on working; the centre catches up after."""
    nodes = ("node-manufacturer", "node-warehouse", "node-store")
    oid = s.call("orders", "submit_order", order("edge-1"))["body"]["order_id"]
    deadline = time.time() + 10
    # until both parts (SKU-0001 at the store, SKU-0190 at a plant) are accepted
    while (s.latest_seq("node-store") < 1 or s.latest_seq("node-manufacturer") < 1) and \
            time.time() < deadline:
        time.sleep(0.005)
    before = sum(s.latest_seq(n) for n in nodes)
    down = [(name, s.kill9(name)) for name in ("orders", "router")]
    deadline = time.time() + 15  # shipped and delivered meanwhile (500 + 1000 ms; slower under sanitizers)
    while sum(s.latest_seq(n) for n in nodes) < 6 and time.time() < deadline:
        time.sleep(0.05)
    after = sum(s.latest_seq(n) for n in nodes)
    expect(before < after == 6,
           "nodes did not finish their work without the centre (%d -> %d events)" % (before, after))
    for name, index in down:
        s.restart(name, index)
    view = wait_status(s, oid, "completed")
    events = [h["event"] for h in view["history"]]
    expect(events.count("shipped") == 2 and events.count("delivered") == 2,
           "the centre did not catch up exactly once: %s" % events)


def scrape(s, service):
    """Reads a service's /metrics (its port is in run/<service>.http) as {series: value}."""
    import urllib.request
    addr = open(os.path.join(s.run, service + ".http")).read().strip()
    text = urllib.request.urlopen("http://%s/metrics" % addr, timeout=5).read().decode()
    series, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        base = name.split("{")[0]
        for suffix in ("_bucket", "_sum", "_count"):
            if base.endswith(suffix) and base[: -len(suffix)] in typed:
                base = base[: -len(suffix)]
        expect(base in typed, "%s has no # TYPE line" % name)
        series[name] = float(value)
    return series


def case_metrics(s):
    """Every service serves Prometheus text; its counters move when orders flow."""
    import urllib.request
    services = list(s.argv)
    before = {svc: scrape(s, svc) for svc in services}
    for i in range(5):
        s.call("orders", "submit_order", order("metrics-%d" % i))
    s.call("orders", "submit_order", order("metrics-bad", lines=[]))
    # Metrics are rendered once a second, and a subscriber that dialled before
    # its producer was up may take a couple of seconds to be connected.
    applied = ['omo_events_applied_total{service="%s"}' % svc
               for svc in ("router", "inventory", "node-store", "node-warehouse", "node-manufacturer")]
    deadline = time.time() + 15
    while True:
        time.sleep(1)
        after = {svc: scrape(s, svc) for svc in services}
        moved = all(after[k.split('"')[1]].get(k, 0) > before[k.split('"')[1]].get(k, 0) for k in applied)
        if moved or time.time() > deadline:
            break
    key = 'omo_requests_total{service="orders",type="submit_order"}'
    expect(after["orders"].get(key, 0) - before["orders"].get(key, 0) == 6, "submits not counted")
    bad = 'omo_request_errors_total{service="orders",code="EMPTY_ORDER"}'
    expect(after["orders"].get(bad, 0) == 1, "the refused order was not counted")
    for svc in ("router", "inventory", "node-store", "node-warehouse", "node-manufacturer"):
        k = 'omo_events_applied_total{service="%s"}' % svc
        expect(after[svc][k] > before[svc].get(k, 0), "%s applied no events" % svc)
    k = 'omo_commit_seconds_count{service="orders"}'
    expect(after["orders"][k] > before["orders"][k], "no commit measured")
    k = 'omo_request_seconds_count{service="orders",type="submit_order"}'
    expect(after["orders"].get(k, 0) - before["orders"].get(k, 0) == 6, "submit latencies not measured")
    # Orders by state: a gauge kept with the orders themselves, so it sums to
    # every order taken, whatever states they have reached.
    states = {k: v for k, v in after["orders"].items() if k.startswith('omo_orders{service="orders",state=')}
    expect(sum(states.values()) == 5 and all(v >= 0 for v in states.values()), "orders by state: %s" % states)
    # Stock by node, kept with the stock: on hand is what the seed put there, less what shipped.
    on_hand = sum(v for k, v in after["inventory"].items() if k.startswith('omo_units_on_hand{'))
    seeded = sum(int(row.split(",")[2]) for row in open(os.path.join(NETWORK, "stock.csv")).read().split()[1:])
    expect(0 < on_hand <= seeded, "units on hand %d, seeded %d" % (on_hand, seeded))
    expect(all(v >= 0 for k, v in after["inventory"].items() if k.startswith('omo_units_reserved{')),
           "negative reserved units")
    lag = 'omo_inbox_lag{service="router",producer="orders"}'
    expect(lag in after["router"] and after["router"][lag] >= 0, "no inbox lag for router <- orders")
    deadline = time.time() + 20
    while scrape(s, "router").get(lag) != 0 and time.time() < deadline:
        time.sleep(0.5)
    expect(scrape(s, "router").get(lag) == 0, "router never caught up with orders")
    for svc in services:
        addr = open(os.path.join(s.run, svc + ".http")).read().strip()
        for page, want in (("healthz", b"ok\n"), ("readyz", b"ready\n")):
            body = urllib.request.urlopen("http://%s/%s" % (addr, page), timeout=5).read()
            expect(body == want, "%s /%s says %r" % (svc, page, body))


def case_idempotent(s):
    a = s.call("orders", "submit_order", order("same-key"))
    b = s.call("orders", "submit_order", order("same-key"))
    expect(a["body"] == b["body"], "a retried submit got another reply: %s / %s" % (a, b))
    expect(accepted_events(s) == 1, "the retry made a second order")
    c = s.call("orders", "submit_order", order("same-key", channel="mobile"))
    expect(c["type"] == "error" and c["body"]["code"] == "CONFLICT", c)


def hang_up_early(path):
    """Connects and hangs up before the SP handshake, as a client killed or timed
    out against a stopped service does: nng 1.5.2 then stops accepting (#1518)."""
    import socket
    c = socket.socket(socket.AF_UNIX)
    c.connect(path)
    c.close()


def case_listener_renewed(s):
    """A service whose listeners stopped accepting notices and listens anew."""
    log_path = os.path.join(s.dir, "orders.log")
    for kind in ("rep", "pub"):
        # Whether one early hang-up wedges the listener depends on timing; a few make it near certain.
        for attempt in range(8):
            for _ in range(5):
                hang_up_early(os.path.join(s.run, "orders." + kind))
                time.sleep(0.01)
            deadline = time.time() + 5  # a probe every 2 s, judged after 1.2 s
            while "socket=%s" % kind not in open(log_path).read() and time.time() < deadline:
                time.sleep(0.1)
            if "socket=%s" % kind in open(log_path).read():
                break
        expect("socket=%s" % kind in open(log_path).read(),
               "no listener_renewed for %s after 40 early hang-ups:\n%s" % (kind, open(log_path).read()))
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if s.call("orders", "fetch_events", {"epoch": 0, "from_seq": 1, "max": 1}, timeout=1)["type"] == "events":
                break
        except (subprocess.TimeoutExpired, ValueError):
            pass
    else:
        raise AssertionError("orders never accepted a request again")
    # A new subscriber gets the next heartbeat (sent every half second).
    out = subprocess.run(["nngcat", "--sub0", "--dial", "ipc://%s/orders.pub" % s.run, "--subscribe", "",
                          "--raw", "--count", "1"], capture_output=True, timeout=10, check=False)
    expect(len(out.stdout) > 0, "a new subscriber got nothing from orders' PUB socket")
    # Peers that lost their connections dial again; orders still flow end to end.
    case_submit_and_deliver(s)


def bad(payload_or_call, code):
    """A case sending bad input: expects code, no event, and the service still serving."""
    def run(s):
        seq = s.latest_seq("orders")
        reply = payload_or_call(s)
        expect(reply["type"] == "error", "expected an error reply, got %s" % reply["type"])
        expect(reply["body"]["code"] == code, "expected %s, got %s" % (code, reply["body"]))
        expect(len(reply["body"]["message"]) > 10, "the error needs a sentence")
        expect(s.latest_seq("orders") == seq, "bad input changed state (an event was emitted)")
        # The key the bad request carried is still free, and the service still serves.
        ok = s.call("orders", "submit_order", order("bad-key"))
        expect(ok["type"] == "submit_order_reply", "service stopped serving: %s" % ok)
    return run


def raw(payload):
    return lambda s: msgpack.unpackb(s.send("orders", payload), raw=False)


def lines(*ls):
    return [{"line_no": i + 1, "sku": sku, "quantity": q} for i, (sku, q) in enumerate(ls)]


CASES = {
    "submit_and_deliver": case_submit_and_deliver,
        "idempotent": case_idempotent,
    "edge_keeps_working": case_edge_keeps_working,
    "metrics": case_metrics,
    "listener_renewed": case_listener_renewed,
    "tcp": case_submit_and_deliver,  # the same flow with every socket on tcp://
    "malformed_msgpack": bad(raw(b"\x85\xa4type\xc1\xff"), "MALFORMED"),
    "not_a_map": bad(raw(msgpack.packb([1, 2, 3])), "WRONG_TYPE"),
    "unknown_type": bad(lambda s: s.call("orders", "launch_rocket", {}), "UNKNOWN_TYPE"),
    "event_as_request": bad(lambda s: s.call("orders", "heartbeat", {"latest_seq": 1}), "UNKNOWN_TYPE"),
    "wrong_version": bad(lambda s: s.call("orders", "submit_order", order("bad-key"), version=99), "BAD_VERSION"),
    "missing_field": bad(lambda s: s.call("orders", "submit_order", {k: v for k, v in order("bad-key").items() if k != "channel"}), "MISSING_FIELD"),
    "extra_field": bad(lambda s: s.call("orders", "submit_order", order("bad-key", coupon="FREE")), "UNKNOWN_FIELD"),
    "extra_envelope_field": bad(lambda s: s.call("orders", "submit_order", order("bad-key"), extra={"priority": 1}), "UNKNOWN_FIELD"),
    "zero_quantity": bad(lambda s: s.call("orders", "submit_order", order("bad-key", lines=lines(("SKU-0001", 0)))), "OUT_OF_RANGE"),
    "negative_quantity": bad(lambda s: s.call("orders", "submit_order", order("bad-key", lines=lines(("SKU-0001", -3)))), "OUT_OF_RANGE"),
    "unknown_sku": bad(lambda s: s.call("orders", "submit_order", order("bad-key", lines=lines(("NO-SUCH-SKU", 1)))), "UNKNOWN_SKU"),
    "empty_order": bad(lambda s: s.call("orders", "submit_order", order("bad-key", lines=[])), "EMPTY_ORDER"),
    "bad_enum": bad(lambda s: s.call("orders", "submit_order", order("bad-key", channel="fax")), "BAD_ENUM"),
    "oversized": bad(lambda s: s.call("orders", "submit_order", order("bad-key", customer_id="x" * (MAX_MESSAGE + 1))), "TOO_LARGE"),
}


def main():
    if CASE not in CASES:
        raise SystemExit("unknown case %s; cases: %s" % (CASE, " ".join(CASES)))
    stack = Stack(tcp=CASE == "tcp", slow_nodes=CASE == "edge_keeps_working")
    try:
        CASES[CASE](stack)
    except BaseException:
        import traceback
        traceback.print_exc()  # the case's own failure first, whatever stopping says
        for name in stack.argv:
            sys.stderr.write("--- %s.log\n%s" % (name, open(os.path.join(stack.dir, name + ".log")).read()[-2000:]))
        stack.stop()
        sys.exit(1)
    stack.stop()
    print("bus_client %s: ok" % CASE)


if __name__ == "__main__":
    main()
