#!/usr/bin/python3
"""omo fault harness: the six real services under load and faults, then I1-I10.

    harness.py [--bin DIR] [--src DIR] [--seed S] [--orders N] [--clients C]
               [--rate R] [--faults kill,stop,late,drop,dup,drop_reply | all | none]
               [--plant skip_dedupe] [--long] [--keep] [--recheck DIR]

One run (one seed):
  1. starts omo-inventory, the three node agents, omo-router and omo-orders in a
     fresh temporary directory (ipc:// sockets, one LMDB store each, sync=1),
     some of them with OMO_FAULTS (dropped / duplicated events, dropped replies);
  2. drives N orders, made from the seed, from C client threads (one nng REQ
     socket each, raw msgpack over libnng through ctypes), recording every
     operation (ok / failed / unknown) with its idempotency key; unknown ones
     are sent again later with the same key, as a checkout would; some
     accepted orders are cancelled;
  3. meanwhile injects faults, every choice from the seed: kill -9 of a random
     service every 1-3 s (restarted after 0-2 s), SIGSTOP of a subscriber for
     seconds, a publisher restarted while one of its subscribers is down (that
     subscriber joins late);
  4. heals (no more faults; the services that ran with OMO_FAULTS, and the
     router, restarted cleanly without them), retries what is still unknown,
     waits (bounded) until every order is terminal or waiting and every
     consumer's inbox has caught up with its producers, stops the services
     with SIGTERM;
  5. reads every store with python3-lmdb and checks invariants I1-I10 of
     shared/TESTING.md, printing each one's result and counts, then the summary
     line. Exit status: 0 if no invariant is violated, 1 if one is, 2 if the
     harness itself could not run. With --plant the verdict is inverted: the
     run passes only if the checker catches the planted bug.

The timing of a run (which order meets which fault) depends on the machine;
the orders, the fault schedule and every other random choice come from the
printed seed, so a failing seed is replayed with the same command line.
See tests/fault/README.md.
"""

import argparse
import collections
import csv
import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import msgpack

try:
    import lmdb
except ImportError:  # pragma: no cover
    sys.stderr.write("fault harness: python3-lmdb is missing (deploy/install-deps installs it)\n")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- the system under test ------------------------------------------------------

NODE_AGENTS = ["node-manufacturer", "node-warehouse", "node-store"]
SERVICES = ["inventory"] + NODE_AGENTS + ["router", "orders"]
FOLLOWS = {
    "orders": ["router"] + NODE_AGENTS,
    "inventory": list(NODE_AGENTS),
    "router": ["orders"] + NODE_AGENTS,
    "node-manufacturer": ["router"],
    "node-warehouse": ["router"],
    "node-store": ["router"],
}
PUBLISHERS = ["orders", "router"] + NODE_AGENTS  # followed by someone
PAUSABLE = ["router", "inventory"] + NODE_AGENTS  # subscribers SIGSTOP is tried on
FOLLOWERS = {p: [c for c in SERVICES if p in FOLLOWS[c]] for p in PUBLISHERS}

TERMINAL = {"completed", "cancelled", "rejected"}
WORK_FINAL = {"rejected", "delivered", "picked_up", "cancelled"}
WORK_CONSUMED = {"shipped", "delivered", "picked_up"}  # units left on_hand
HOLDING = {"requested", "accepted", "ready_for_pickup"}  # a reservation still stands
PART_DEAD = {"rejected", "cancelled"}  # a part that allocates nothing
RETRYABLE = {"UNAVAILABLE", "STORE_FULL", "IO", "NOMEM", "INTERNAL"}
CHANNELS = ["web", "mobile", "marketplace", "social", "store", "b2b"]
ALL_FAULTS = ["kill", "stop", "late", "drop", "dup", "drop_reply"]
QUEUE_DEPTH = 8192  # nng PUB send and SUB receive buffers the services set (bus.c)

# Sizes. Node delays are short so that orders finish while faults still run.
NODE_ARGS = ["--pick_ms=%d", "--transit_ms=%d", "--pickup_ms=%d"]
BACKORDER_RETRY_MS = 2000  # while faults run
SETTLE_BACKORDER_RETRY_MS = 60000  # after the heal: waiting orders re-arm a minute ahead
LONG_SEEDS, LONG_ORDERS = 20, 100000


def now_us():
    return int(time.time() * 1e6)


def be64(b):
    return struct.unpack(">Q", b)[0]


def hexid(b):
    return b.hex() if isinstance(b, (bytes, bytearray)) else str(b)


# ---- nng through ctypes ------------------------------------------------------------

class _Sock(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint32)]


NNG_FLAG_ALLOC, NNG_FLAG_NONBLOCK = 1, 2
_nng = None


def nng():
    global _nng
    if _nng is None:
        lib = ctypes.CDLL("libnng.so.1")
        lib.nng_req0_open.argtypes = [ctypes.POINTER(_Sock)]
        lib.nng_dial.argtypes = [_Sock, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
        lib.nng_socket_set_ms.argtypes = [_Sock, ctypes.c_char_p, ctypes.c_int32]
        lib.nng_send.argtypes = [_Sock, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        lib.nng_recv.argtypes = [_Sock, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_int]
        lib.nng_free.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.nng_close.argtypes = [_Sock]
        lib.nng_strerror.restype = ctypes.c_char_p
        _nng = lib
    return _nng


class CallFailed(Exception):
    """No reply: the request may or may not have been applied (unknown)."""


class Req:
    """One nng REQ socket to one service. Not shared between threads."""

    def __init__(self, url, timeout_ms=4000, resend_ms=1000):
        lib = nng()
        self.sock = _Sock()
        rv = lib.nng_req0_open(ctypes.byref(self.sock))
        if rv != 0:
            raise RuntimeError("nng_req0_open: %s" % lib.nng_strerror(rv).decode())
        for opt, ms in ((b"recv-timeout", timeout_ms), (b"send-timeout", timeout_ms),
                        (b"req:resend-time", resend_ms), (b"reconnect-time-min", 20),
                        (b"reconnect-time-max", 300)):
            lib.nng_socket_set_ms(self.sock, opt, ms)
        rv = lib.nng_dial(self.sock, url.encode(), None, NNG_FLAG_NONBLOCK)
        if rv != 0:
            raise RuntimeError("nng_dial %s: %s" % (url, lib.nng_strerror(rv).decode()))

    def call(self, msg_type, body):
        lib = nng()
        rid = uuid.uuid4().bytes
        data = msgpack.packb({"type": msg_type, "v": 1, "id": rid, "body": body})
        rv = lib.nng_send(self.sock, data, len(data), 0)
        if rv != 0:
            raise CallFailed("send: %s" % lib.nng_strerror(rv).decode())
        p, n = ctypes.c_void_p(), ctypes.c_size_t()
        rv = lib.nng_recv(self.sock, ctypes.byref(p), ctypes.byref(n), NNG_FLAG_ALLOC)
        if rv != 0:
            raise CallFailed("recv: %s" % lib.nng_strerror(rv).decode())
        raw = ctypes.string_at(p, n.value)
        lib.nng_free(p, n)
        reply = msgpack.unpackb(raw, raw=False)
        if reply.get("corr") != rid:
            raise CallFailed("a reply to another request")
        return reply

    # No close(): nng 1.5.2 can hang in nng_close (see services/runtime/service.c),
    # and a connection closed before its listener accepted it breaks that listener
    # (nng issue #1518). The harness's sockets live as long as its process.


class Probe:
    """REQ sockets of one thread to every service: health and latest sequences.
    A socket that failed twice in a row is replaced by a new one (a new
    connection), as a client would do; the old one is kept, never closed."""

    def __init__(self, stack):
        self.stack = stack
        self.socks = {s: stack.req(s, timeout_ms=2000, resend_ms=500) for s in SERVICES}
        self.fails = collections.Counter()
        self.old = []

    def latest(self, service):
        """(epoch, latest_seq) of a producer, or None if it does not answer."""
        try:
            r = self.socks[service].call("fetch_events", {"epoch": 0, "from_seq": 1 << 62, "max": 1})
        except CallFailed:
            r = None
        if r is None or r.get("type") != "events":
            self.fails[service] += 1
            if self.fails[service] >= 2:
                self.old.append(self.socks[service])
                self.socks[service] = self.stack.req(service, timeout_ms=2000, resend_ms=500)
                self.fails[service] = 0
            return None
        self.fails[service] = 0
        return r["body"]["epoch"], r["body"]["latest_seq"]


# ---- the network the orders come from ------------------------------------------------

class Catalog:
    def __init__(self, network):
        self.stock = collections.Counter()  # (sku, node) -> seed units
        with open(os.path.join(network, "stock.csv")) as f:
            for row in csv.DictReader(f):
                self.stock[(row["sku"], row["node"])] += int(row["on_hand"])
        self.price = {}
        with open(os.path.join(network, "skus.csv")) as f:
            for row in csv.DictReader(f):
                self.price[row["sku"]] = int(row["price_minor"])
        self.nodes = {}
        with open(os.path.join(network, "nodes.csv")) as f:
            for row in csv.DictReader(f):
                self.nodes[row["id"]] = row
        self.stores = sorted(n for n, r in self.nodes.items() if r["type"] == "store")
        self.skus = sorted({sku for sku, _ in self.stock if sku in self.price})
        self.skus_at = {s: sorted(sku for (sku, node), q in self.stock.items() if node == s and q > 0)
                        for s in self.stores}


class Order:
    """One order the checkout places, and everything that happened to it."""

    __slots__ = ("i", "key", "body", "cancel_after", "status", "order_id", "ack_t", "attempts",
                 "ids_seen", "cancel_status", "cancel_code", "cancel_t", "cancel_attempts",
                 "first_outcome")

    def __init__(self, i, key, body, cancel_after):
        self.i, self.key, self.body, self.cancel_after = i, key, body, cancel_after
        self.status = "unsent"  # ok | failed | unknown
        self.order_id = None
        self.ack_t = None
        self.attempts = 0
        self.ids_seen = set()  # order ids of every "accepted" reply for this key
        self.cancel_status = None  # None (not tried) | ok | failed | unknown
        self.cancel_code = None
        self.cancel_t = None
        self.cancel_attempts = 0
        self.first_outcome = None


def make_orders(seed, n, cat):
    orders = []
    for i in range(n):
        r = random.Random("omo-fault-order:%d:%d" % (seed, i))
        key = "fh-%d-%06d" % (seed, i)
        body = {"idempotency_key": key, "channel": r.choice(CHANNELS),
                "customer_id": "cust-%05d" % r.randrange(100000)}
        if r.random() < 0.2:
            store = r.choice(cat.stores)
            body["fulfillment"] = "pickup_in_store"
            body["pickup_node"] = store
            pool = cat.skus_at[store] if r.random() < 0.9 and cat.skus_at[store] else cat.skus
        else:
            city = cat.nodes[r.choice(cat.stores)]
            body["fulfillment"] = "ship_to_home"
            body["ship_to"] = {"name": "Customer %d" % i, "city": city["name"], "country": "US",
                               "lat_udeg": int((float(city["lat"]) + r.uniform(-0.4, 0.4)) * 1e6),
                               "lon_udeg": int((float(city["lon"]) + r.uniform(-0.4, 0.4)) * 1e6)}
            pool = cat.skus
        skus = r.sample(pool, min(len(pool), r.choice([1, 1, 1, 2, 2, 3])))
        body["lines"] = [{"line_no": j + 1, "sku": s, "quantity": r.choice([1, 1, 1, 2, 3]),
                          "unit_price": cat.price[s]} for j, s in enumerate(skus)]
        cancel_after = None
        if r.random() < 0.08:  # mostly at once (before the goods leave), some later
            cancel_after = r.uniform(0.0, 0.08) if r.random() < 0.7 else r.uniform(0.1, 1.5)
        orders.append(Order(i, key, body, cancel_after))
    return orders


# ---- processes ---------------------------------------------------------------------------

class Service:
    def __init__(self, stack, name):
        self.stack, self.name = stack, name
        self.proc = None
        self.paused = False
        self.faults_env = None  # OMO_FAULTS value while faults run
        self.extra = []
        self.starts = 0

    def args(self):
        st = self.stack
        exe = "omo-node" if self.name.startswith("node-") else "omo-" + self.name
        a = [os.path.join(st.bin, exe), "--run_dir=" + st.run_dir,
             "--data_dir=" + os.path.join(st.data_dir, self.name),
             "--network_dir=" + st.network, "--log_level=" + st.log_level, "--sync=1"]
        if self.name == "inventory":
            a.append("--seed_stock=" + os.path.join(st.network, "stock.csv"))
        elif self.name.startswith("node-"):
            a.append("--role=" + self.name[5:])
            a += [fmt % v for fmt, v in zip(NODE_ARGS, st.node_ms[self.name])]
            a.append("--reject_pct=%d" % st.reject_pct)
        elif self.name == "router":
            a.append("--backorder_retry_ms=%d" % st.backorder_retry_ms)
            a.append("--retry_ms=500")
        return a + self.extra

    def start(self):
        env = dict(os.environ)
        env.pop("OMO_FAULTS", None)
        env.pop("OMO_PLANT", None)
        # A sanitizer build leaves nng 1.5.2's own teardown leaks unreported (tests/lsan.supp).
        env.setdefault("LSAN_OPTIONS", "suppressions=%s:print_suppressions=0"
                       % os.path.join(self.stack.src, "tests", "lsan.supp"))
        if self.faults_env and not self.stack.healed:
            env["OMO_FAULTS"] = self.faults_env
        if self.stack.plant:
            env["OMO_PLANT"] = self.stack.plant
        log = open(os.path.join(self.stack.dir, self.name + ".log"), "a")
        log.write("--- start %d at %.3f s%s\n" % (self.starts + 1, self.stack.clock(),
                                                   " OMO_FAULTS=" + env["OMO_FAULTS"] if "OMO_FAULTS" in env else ""))
        log.flush()
        self.proc = subprocess.Popen(self.args(), stdout=log, stderr=log, env=env,
                                     stdin=subprocess.DEVNULL)
        log.close()
        self.starts += 1
        self.paused = False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.paused = False

    def term(self, timeout=15):
        """SIGTERM; the exit status (None if it had to be killed)."""
        if self.proc is None:
            return 0
        if self.paused:
            self.resume()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.proc = None
        return rc

    def pause(self):
        if self.running():
            self.proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.proc is not None and self.paused:
            self.proc.send_signal(signal.SIGCONT)
        self.paused = False


class Stack:
    def __init__(self, args, seed, frng, tmp_root=None):
        self.bin, self.src = args.bin, args.src
        self.network = os.path.join(args.src, "simulators", "scenarios", "demo")
        self.dir = tempfile.mkdtemp(prefix="omo-fault-%d-" % seed, dir=tmp_root)
        self.run_dir = os.path.join(self.dir, "run")
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.run_dir)
        self.t0 = time.monotonic()
        self.plant = args.plant
        self.log_level = args.log_level
        self.healed = False
        self.backorder_retry_ms = BACKORDER_RETRY_MS
        self.reject_pct = frng.choice([2, 3, 4])
        self.node_ms = {n: (frng.randint(30, 80), frng.randint(50, 150), frng.randint(50, 150))
                        for n in NODE_AGENTS}
        self.svc = {n: Service(self, n) for n in SERVICES}

    def clock(self):
        return time.monotonic() - self.t0

    def req(self, service, **kw):
        """A REQ socket to service (never closed: see Req)."""
        return Req("ipc://%s/%s.rep" % (self.run_dir, service), **kw)


# ---- clients --------------------------------------------------------------------------------

class OpLog:
    """Every operation with its key and outcome, in the order they ended."""

    def __init__(self, stack):
        self.stack = stack
        self.lock = threading.Lock()
        self.rows = []
        self.count = collections.Counter()

    def add(self, kind, key, outcome, detail=""):
        with self.lock:
            self.rows.append((round(self.stack.clock(), 3), kind, key, outcome, detail))
            self.count[(kind, outcome)] += 1

    def dump(self, path):
        with open(path, "w") as f:
            for r in self.rows:
                f.write(json.dumps(r) + "\n")


class Client(threading.Thread):
    def __init__(self, tid, n_clients, orders, stack, oplog, rate, stop_evt, seed):
        super().__init__(daemon=True, name="client-%d" % tid)
        self.mine = [o for o in orders if o.i % n_clients == tid]
        self.stack, self.oplog, self.rate, self.stop_evt = stack, oplog, rate, stop_evt
        self.rng = random.Random("omo-fault-client:%d:%d" % (seed, tid))
        self.submitted_all = threading.Event()
        self.idle = threading.Event()
        self.error = None

    def run(self):
        try:
            self.loop()
        except Exception as e:  # a harness bug: reported, not hidden
            self.error = "%s: %r" % (self.name, e)
            self.submitted_all.set()
            self.idle.set()

    def loop(self):
        self.sock = self.stack.req("orders", timeout_ms=4000, resend_ms=1000)
        self.old_socks, self.unknown_run = [], 0
        fresh = collections.deque(self.mine)
        later = []  # (time, seq, kind, order): retries of unknown outcomes and planned cancels
        seq = 0
        start = time.monotonic()
        if not fresh:
            self.submitted_all.set()
        while not self.stop_evt.is_set():
            now = time.monotonic()
            later.sort(key=lambda x: (x[0], x[1]))
            if later and later[0][0] <= now:
                _, _, kind, o = later.pop(0)
                again = self.cancel(o) if kind == "cancel" else self.submit(o)
                if again is not None:
                    seq += 1
                    later.append((time.monotonic() + again[0], seq, again[1], o))
                continue
            if fresh and start + fresh[0].i / self.rate <= now:
                o = fresh.popleft()
                again = self.submit(o)
                if again is not None:
                    seq += 1
                    later.append((time.monotonic() + again[0], seq, again[1], o))
                if not fresh:
                    self.submitted_all.set()
                continue
            if not fresh and not later:
                self.idle.set()
                break
            due = ([later[0][0]] if later else []) + ([start + fresh[0].i / self.rate] if fresh else [])
            time.sleep(min(0.05, max(0.001, min(due) - now)))

    def call(self, msg_type, body):
        """One request; after three unknown outcomes in a row the checkout opens a
        new connection (the old socket is kept, never closed: see Req)."""
        try:
            r = self.sock.call(msg_type, body)
            self.unknown_run = 0
            return r
        except CallFailed:
            self.unknown_run += 1
            if self.unknown_run >= 3:
                self.unknown_run = 0
                self.old_socks.append(self.sock)
                self.sock = self.stack.req("orders", timeout_ms=4000, resend_ms=1000)
                self.oplog.add("client", self.name, "new connection", "three unknown outcomes in a row")
            raise

    def submit(self, o):
        """Sends o; returns (delay, kind) of what to do later, or None."""
        o.attempts += 1
        try:
            r = self.call("submit_order", o.body)
        except CallFailed as e:
            o.status = "unknown" if o.status != "ok" else o.status
            o.first_outcome = o.first_outcome or "unknown"
            self.oplog.add("submit", o.key, "unknown", str(e))
            return (self.rng.uniform(1.0, 3.0), "submit")
        if r["type"] == "submit_order_reply":
            oid = r["body"]["order_id"]
            o.ids_seen.add(oid)
            if o.status != "ok":
                o.order_id, o.ack_t, o.status = oid, time.monotonic(), "ok"
            o.first_outcome = o.first_outcome or "ok"
            self.oplog.add("submit", o.key, "ok", hexid(oid))
            if o.cancel_after is not None and o.cancel_status is None:
                o.cancel_status = "planned"
                return (o.cancel_after, "cancel")
            return None
        code = r["body"].get("code", "?") if r["type"] == "error" else r["type"]
        self.oplog.add("submit", o.key, "failed", code)
        o.first_outcome = o.first_outcome or "failed"
        if code in RETRYABLE:
            if o.status != "ok":
                o.status = "unknown"
            return (self.rng.uniform(1.0, 3.0), "submit")
        if o.status != "ok":
            o.status = "failed"
        return None

    def cancel(self, o):
        o.cancel_attempts += 1
        try:
            r = self.call("cancel_order", {"order_id": o.order_id, "reason": "changed my mind"})
        except CallFailed as e:
            o.cancel_status = "unknown"
            self.oplog.add("cancel", o.key, "unknown", str(e))
            return (self.rng.uniform(1.0, 3.0), "cancel")
        if r["type"] == "order_view" and r["body"].get("status") == "cancelled":
            o.cancel_status, o.cancel_t = "ok", time.monotonic()
            self.oplog.add("cancel", o.key, "ok")
            return None
        code = r["body"].get("code", "?") if r["type"] == "error" else r["type"]
        self.oplog.add("cancel", o.key, "failed", code)
        if code in RETRYABLE:
            o.cancel_status = "unknown"
            return (self.rng.uniform(1.0, 3.0), "cancel")
        o.cancel_status, o.cancel_code = "failed", code
        return None


# ---- faults ---------------------------------------------------------------------------------

class Faults:
    """Injects faults until told to stop, from two threads: one kills a random
    service with -9 every 1-3 s (restarting it 0-2 s later); the other pauses a
    subscriber with SIGSTOP for 3-8 s, or restarts a publisher while one of its
    subscribers is down (that subscriber joins late). Every choice comes from
    the seed; a service one thread works on is left alone by the other."""

    def __init__(self, stack, kinds, seed, stop_evt):
        self.stack, self.kinds, self.stop_evt = stack, kinds, stop_evt
        self.kill_rng = random.Random("omo-fault-kill:%d" % seed)
        self.other_rng = random.Random("omo-fault-other:%d" % seed)
        self.lock = threading.Lock()
        self.busy = set()
        self.timeline = []  # (t, what, target, detail)
        self.orders_kills = []  # monotonic times orders went down hard
        self.count = collections.Counter()
        self.pause_events = []  # events published to a paused subscriber, per pause
        self.errors = []
        self.threads = []
        if "kill" in kinds:
            self.threads.append(threading.Thread(target=self.guard, args=(self.killer,), daemon=True))
        if "stop" in kinds or "late" in kinds:
            self.threads.append(threading.Thread(target=self.guard, args=(self.other,), daemon=True))

    def start(self):
        for t in self.threads:
            t.start()

    def join(self, timeout):
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)

    def guard(self, fn):
        try:
            fn(Probe(self.stack))
        except Exception as e:  # a harness bug: reported, not hidden
            self.errors.append("%s: %r" % (fn.__name__, e))

    def note(self, what, target, detail=""):
        with self.lock:
            self.timeline.append((round(self.stack.clock(), 3), what, target, detail))
            self.count[what] += 1

    def take(self, rng, names, n=1):
        """Picks n of names that the other thread is not working on (by rng), or None."""
        with self.lock:
            free = [x for x in names if x not in self.busy]
            if len(free) < n:
                return None
            got = rng.sample(free, n)
            self.busy.update(got)
            return got

    def give(self, names):
        with self.lock:
            self.busy.difference_update(names)

    def wait_ready(self, probe, name, limit=5.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if probe.latest(name) is not None:
                return True
            if not self.stack.svc[name].running():
                return False
        return False

    def killer(self, probe):
        rng = self.kill_rng
        while not self.stop_evt.wait(rng.uniform(1.0, 3.0)):
            down = rng.uniform(0.0, 2.0)
            got = self.take(rng, SERVICES)
            if got is None:
                continue
            s = self.stack.svc[got[0]]
            if s.name == "orders":
                self.orders_kills.append(time.monotonic())
            self.note("kill -9", s.name, "down %.2f s" % down)
            s.kill9()
            time.sleep(down)
            s.start()
            self.give(got)

    def other(self, probe):
        rng = self.other_rng
        kinds = [k for k in ("stop", "late") if k in self.kinds]
        while not self.stop_evt.wait(rng.uniform(2.0, 5.0)):
            kind = rng.choice(kinds)
            if kind == "stop":
                dur = rng.uniform(3.0, 8.0)
                got = self.take(rng, PAUSABLE)
                if got is None:
                    continue
                s = self.stack.svc[got[0]]
                before = {p: probe.latest(p) for p in FOLLOWS[s.name]}
                t0 = round(self.stack.clock(), 3)
                s.pause()
                time.sleep(dur)
                after = {p: probe.latest(p) for p in FOLLOWS[s.name]}
                s.resume()
                self.give(got)
                n = sum(after[p][1] - before[p][1] for p in before
                        if before[p] and after[p] and before[p][0] == after[p][0])
                self.pause_events.append(n)
                self.note("SIGSTOP", s.name, "at %.1f s for %.2f s; %d events published to it meanwhile "
                          "(its queues hold about %d)" % (t0, dur, n, 2 * QUEUE_DEPTH))
            else:
                pub = rng.choice(PUBLISHERS)
                hard_sub, hard_pub, gap = rng.random() < 0.5, rng.random() < 0.5, rng.uniform(0.5, 2.0)
                got = self.take(rng, [pub])
                if got is None:
                    continue
                sub_got = self.take(rng, FOLLOWERS[pub])
                if sub_got is None:
                    self.give(got)
                    continue
                p, sub = self.stack.svc[pub], self.stack.svc[sub_got[0]]
                t0 = round(self.stack.clock(), 3)
                if (pub == "orders" and hard_pub) or (sub.name == "orders" and hard_sub):
                    self.orders_kills.append(time.monotonic())
                sub.kill9() if hard_sub else sub.term()
                p.kill9() if hard_pub else p.term()
                p.start()
                self.wait_ready(probe, pub)
                time.sleep(gap)  # the publisher publishes, the subscriber is away
                sub.start()
                self.give(got + sub_got)
                self.note("late join", "%s->%s" % (pub, sub.name),
                          "at %.1f s publisher %s and restarted, subscriber %s, back %.2f s later" % (
                              t0, "killed -9" if hard_pub else "stopped", "killed -9" if hard_sub else "stopped",
                              gap))


SP_HELLO_REQ = b"\x00SP\x00\x00\x30\x00\x00"  # SP over IPC: a REQ peer says hello
SP_HELLO_REP = b"\x00SP\x00\x00\x31\x00\x00"


class Monitor(threading.Thread):
    """Every 2 s, opens a new connection to each running service's REP socket and
    waits (2.5 s) for the SP handshake: tells when a service stops taking new
    connections although its process runs. A plain socket, closed only once its
    handshake is over (or after the services have stopped): closing one earlier
    is what breaks an nng 1.5.2 listener."""

    def __init__(self, stack, stop_evt):
        super().__init__(daemon=True, name="monitor")
        self.stack, self.stop_evt = stack, stop_evt
        self.misses = {}  # service -> (pid, consecutive misses, since)
        self.dead = {}  # service -> (since t, pid) while new connections get no handshake
        self.events = []  # (t, service, what, pid)
        self.unanswered = []  # sockets kept open until the services stop

    def hello(self, name):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(2.5)
        try:
            c.connect(os.path.join(self.stack.run_dir, name + ".rep"))
            c.sendall(SP_HELLO_REQ)
            got = b""
            while len(got) < 8:
                chunk = c.recv(8 - len(got))
                if not chunk:
                    break
                got += chunk
        except OSError:
            got = None
        if got == SP_HELLO_REP:
            c.close()
            return True
        self.unanswered.append(c)
        return False

    def run(self):
        while not self.stop_evt.wait(2.0):
            for name in SERVICES:
                s = self.stack.svc[name]
                proc = s.proc
                if proc is None or proc.poll() is not None or s.paused:
                    continue
                ok = self.hello(name)
                if s.proc is not proc or s.paused or proc.poll() is not None:
                    continue  # killed or paused meanwhile: says nothing
                t = round(self.stack.clock(), 1)
                if ok:
                    self.misses.pop(name, None)
                    if name in self.dead:
                        self.events.append((t, name, "takes new connections again", proc.pid))
                        del self.dead[name]
                    continue
                pid, n, since = self.misses.get(name, (proc.pid, 0, t))
                n = n + 1 if pid == proc.pid else 1
                self.misses[name] = (proc.pid, n, since if pid == proc.pid else t)
                if n == 2 and name not in self.dead:  # twice in a row, 2 s apart: not a hiccup
                    self.dead[name] = (self.misses[name][2], proc.pid)
                    self.events.append((self.misses[name][2], name, "stopped taking new connections",
                                        proc.pid))

    def close(self):
        for c in self.unanswered:
            c.close()


def fault_envs(stack, kinds, rng, seed, plant):
    """OMO_FAULTS per service, from the seed (drop/dup of events, drop of replies)."""
    out = {}
    for name in SERVICES:
        parts = []
        if "drop" in kinds and rng.random() < 0.6:
            parts.append("drop_event=%d" % rng.randint(1, 3))
        if "dup" in kinds and rng.random() < 0.6:
            parts.append("dup_event=%d" % rng.randint(1, 3))
        if "drop_reply" in kinds and name in ("orders", "inventory") and rng.random() < 0.6:
            parts.append("drop_reply=%d" % rng.randint(1, 2))
        if plant and name == "orders" and not any(p.startswith("dup_event") for p in parts):
            parts.append("dup_event=5")  # the planted bug shows on repeated events
        if parts:
            parts.append("seed=%d" % (seed * 100 + SERVICES.index(name)))
            out[name] = ",".join(parts)
    return out


# ---- reading the stores -------------------------------------------------------------------

def open_env(path):
    return lmdb.open(path, readonly=True, lock=True, max_dbs=32, create=False, subdir=True)


def read_tables(path, names):
    """{table: {key: value}} for the tables of names that exist in the env at path."""
    env = open_env(path)
    try:
        out = {}
        for n in names:
            try:
                db = env.open_db(n.encode(), create=False)
            except lmdb.NotFoundError:
                out[n] = {}
                continue
            with env.begin(db=db, buffers=False) as t:
                out[n] = dict(t.cursor())
        return out
    finally:
        env.close()


def unpack(v):
    return msgpack.unpackb(v, raw=False)


CORE = ["omo.outbox", "omo.inbox", "omo.meta", "omo.replies"]
APP_TABLES = {
    "orders": ["orders", "keys", "early"],
    "inventory": ["stock", "resv", "holds", "fids", "meta"],
    "router": ["orders", "retry"],
    "node-manufacturer": ["work", "due"],
    "node-warehouse": ["work", "due"],
    "node-store": ["work", "due"],
}


class State:
    """Every service's store, decoded."""

    def __init__(self, data_dir, full=True):
        self.raw = {}
        for s in SERVICES:
            tables = APP_TABLES[s] + (CORE if full else ["omo.inbox", "omo.meta"])
            if not full and s == "inventory":
                tables = ["omo.inbox"]
            self.raw[s] = read_tables(os.path.join(data_dir, s), tables)
        r = self.raw
        self.orders = {k: unpack(v) for k, v in r["orders"]["orders"].items()}
        self.routes = {k: unpack(v) for k, v in r["router"]["orders"].items()}
        self.retry = set(r["router"]["retry"])
        self.work = {}  # fid -> (agent, node_work)
        self.work_dups = []
        for a in NODE_AGENTS:
            for k, v in r[a]["work"].items():
                if k in self.work:
                    self.work_dups.append(k)
                self.work[k] = (a, unpack(v))
        self.due = sum(len(r[a]["due"]) for a in NODE_AGENTS)

    def inbox(self, consumer):
        return {k.decode(): (be64(v[:8]), be64(v[8:16])) for k, v in self.raw[consumer]["omo.inbox"].items()
                if len(v) == 16}

    def epoch(self, producer):
        v = self.raw[producer]["omo.meta"].get(b"epoch")
        return be64(v) if v else None


def settled_view(st, latest):
    """What still keeps the system from being settled (empty when settled)."""
    issues = []
    for c in SERVICES:
        inbox = st.inbox(c)
        for p in FOLLOWS[c]:
            if latest[p] is None:
                issues.append("%s not answering" % p)
                continue
            ep, seq = latest[p]
            got = inbox.get(p, (ep, 0))
            if seq and got != (ep, seq):
                issues.append("%s behind %s" % (c, p))
    waiting = not_terminal(st)
    if waiting:
        issues.append("%d orders not terminal" % len(waiting))
    busy = [f for f, (_, w) in st.work.items() if w["status"] not in WORK_FINAL]
    if busy:
        issues.append("%d node parts in progress" % len(busy))
    if st.raw["orders"]["early"]:
        issues.append("%d early updates held" % len(st.raw["orders"]["early"]))
    return issues


def live_timer(st, oid):
    rs = st.routes.get(oid)
    if rs is None or rs.get("cancelled") or not rs.get("retry_at_us"):
        return False
    return struct.pack(">Q", rs["retry_at_us"]) + oid in st.retry


def not_terminal(st):
    out = []
    for oid, o in st.orders.items():
        if o["status"] in TERMINAL:
            continue
        if o["status"] == "backordered" and live_timer(st, oid) and st.routes[oid].get("pending"):
            continue  # waiting for supply, with a live retry timer (I6)
        out.append(oid)
    return out


# ---- the invariants --------------------------------------------------------------------------

class Verdict:
    def __init__(self):
        self.results = collections.OrderedDict()  # id -> (violations, text)

    def add(self, inv, violations, text, samples=()):
        prev = self.results.get(inv, (0, [], []))
        self.results[inv] = (prev[0] + violations, prev[1] + [text], prev[2] + list(samples))

    def count(self, *invs):
        return sum(self.results.get(i, (0,))[0] for i in invs)


def line_key(line):
    return (line["line_no"], line["sku"])


def check(st, orders, cat, faults, data_dir, stops, n_orders, say):
    v = Verdict()
    by_key = {o.key: o for o in orders}

    # I1 conservation -------------------------------------------------------------------------
    stock = {}
    for k, val in st.raw["inventory"]["stock"].items():
        sku, node = k.split(b"\0", 1)
        stock[(sku.decode(), node.decode())] = struct.unpack("<qq", val[:16])
    shipped = collections.Counter()
    for fid, (agent, w) in st.work.items():
        if w["status"] in WORK_CONSUMED:
            for ln in w["lines"]:
                shipped[(ln["sku"], w["node"])] += ln["quantity"]
    bad = []
    for key in set(stock) | set(cat.stock) | set(shipped):
        on_hand = stock.get(key, (0, 0))[0]
        want = cat.stock.get(key, 0) - shipped.get(key, 0)
        if on_hand != want:
            bad.append("%s@%s on_hand %d, seed %d - shipped %d = %d"
                       % (key[0], key[1], on_hand, cat.stock.get(key, 0), shipped.get(key, 0), want))
    v.add("I1", len(bad), "%d (sku,node) rows; %d units shipped; %d rows off" %
          (len(stock), sum(shipped.values()), len(bad)), bad)

    # I2 no negative stock, no oversell -------------------------------------------------------
    bad = ["%s@%s on_hand %d reserved %d" % (k[0], k[1], oh, rs) for k, (oh, rs) in stock.items()
           if oh < 0 or rs < 0 or rs > oh]
    over = ["%s@%s shipped %d of %d" % (k[0], k[1], q, cat.stock.get(k, 0)) for k, q in shipped.items()
            if q > cat.stock.get(k, 0)]
    v.add("I2", len(bad) + len(over), "%d rows checked, %d reserved units; %d negative or over-reserved, "
          "%d shipped beyond stock" % (len(stock), sum(r for _, r in stock.values()), len(bad), len(over)),
          bad + over)

    # I3 reservations and allocation ----------------------------------------------------------
    inv = st.raw["inventory"]
    resv = {k: unpack(val) for k, val in inv["resv"].items()}
    held = collections.Counter()
    for r in resv.values():
        held[(r["sku"], r["node"])] += r["quantity"]
    bad = ["%s@%s reserved %d, rows sum %d" % (k[0], k[1], rs, held.get(k, 0))
           for k, (oh, rs) in stock.items() if rs != held.get(k, 0)]
    bad += ["%s@%s rows sum %d without a stock row" % (k[0], k[1], q) for k, q in held.items() if k not in stock]
    hold_keys = {k[24:] for k in inv["holds"]}
    bad += ["resv row %s without its hold" % hexid(k) for k in resv if k not in hold_keys]
    bad += ["hold %s without its resv row" % hexid(k) for k in hold_keys if k not in resv]
    parts_by_fid = {}
    for oid, rs in st.routes.items():
        for p in rs.get("parts") or []:
            parts_by_fid[p["fulfillment_id"]] = (oid, p)
    leaked = []
    for k, r in resv.items():
        fid = r["fulfillment_id"]
        w = st.work.get(fid)
        p = parts_by_fid.get(fid)
        if w is not None and w[1]["status"] in HOLDING:
            continue
        if w is None and p is not None and p[1]["status"] in HOLDING:
            continue
        leaked.append("resv %s %s@%s x%d: fulfilment %s, node work %s, router part %s" % (
            hexid(fid), r["sku"], r["node"], r["quantity"], hexid(fid),
            w[1]["status"] if w else "none", p[1]["status"] if p else "none (never announced)"))
    over_alloc, dup_fid, under = [], [], []
    for oid, o in st.orders.items():
        ordered = {line_key(ln): ln["quantity"] for ln in o["lines"]}
        sources = {"orders": o.get("fulfillments") or [],
                   "router": (st.routes.get(oid) or {}).get("parts") or [],
                   "nodes": [w for _, w in (st.work.get(f["fulfillment_id"], (None, None))
                                            for f in (st.routes.get(oid) or {}).get("parts") or []) if w]}
        for src, parts in sources.items():
            fids = [p["fulfillment_id"] for p in parts]
            if len(fids) != len(set(fids)):
                dup_fid.append("order %s: %s lists a fulfilment twice (%d parts, %d distinct)"
                               % (hexid(oid), src, len(fids), len(set(fids))))
            alloc = collections.Counter()
            for p in parts:
                if p["status"] in PART_DEAD:
                    continue
                for ln in p["lines"]:
                    alloc[line_key(ln)] += ln["quantity"]
            for lk, q in alloc.items():
                if q > ordered.get(lk, 0):
                    over_alloc.append("order %s (%s) line %d %s: %s allocate %d, ordered %d"
                                      % (hexid(oid), o["idempotency_key"], lk[0], lk[1], src, q, ordered.get(lk, 0)))
            if src == "orders" and o["status"] == "completed":
                for lk, q in ordered.items():
                    if alloc.get(lk, 0) != q:
                        under.append("completed order %s line %d %s: delivered %d of %d"
                                     % (hexid(oid), lk[0], lk[1], alloc.get(lk, 0), q))
    n3 = len(bad) + len(leaked) + len(over_alloc) + len(dup_fid) + len(under)
    v.add("I3", n3, "%d live reservation rows (%d units); %d reserved/rows mismatches, %d leaked holds, "
          "%d lines allocated beyond ordered, %d fulfilments listed twice, %d completed lines not fully "
          "allocated" % (len(resv), sum(held.values()), len(bad), len(leaked), len(over_alloc), len(dup_fid),
                         len(under)), over_alloc + dup_fid + leaked + bad + under)

    # I4 / I5 / I9: the operation log against the orders store ---------------------------------
    keys = {k.decode(): unpack(val) for k, val in st.raw["orders"]["keys"].items()}
    orders_by_key = collections.defaultdict(list)
    for oid, o in st.orders.items():
        orders_by_key[o["idempotency_key"]].append(oid)
    acked = [o for o in orders if o.status == "ok"]
    lost, lost_cancel = [], []
    for o in acked:
        k = keys.get(o.key)
        there = st.orders.get(o.order_id)
        if k is None or k["order_id"] != o.order_id or there is None or there["idempotency_key"] != o.key:
            lost.append("acknowledged %s (order %s): key row %s, order %s" % (
                o.key, hexid(o.order_id), "missing" if k is None else hexid(k["order_id"]),
                "missing" if there is None else "present"))
        if o.cancel_status == "ok" and (there is None or there["status"] != "cancelled"):
            lost_cancel.append("cancel of %s acknowledged, order is %s" % (o.key, there and there["status"]))
        if o.cancel_status == "failed" and o.cancel_code == "NOT_FOUND":
            lost_cancel.append("cancel of acknowledged %s answered NOT_FOUND" % o.key)
    unknown = [o for o in orders if o.status != "ok"]
    v.add("I4", len(lost) + len(lost_cancel),
          "%d submits acknowledged, %d present exactly once; %d cancels acknowledged; %d lost orders, "
          "%d lost cancels; %d submits never acknowledged (%s)" % (
              len(acked), len(acked) - len(lost), sum(o.cancel_status == "ok" for o in orders), len(lost),
              len(lost_cancel), len(unknown), ", ".join(sorted({o.status for o in unknown})) or "-"),
          lost + lost_cancel)
    dups = []
    for k, oids in orders_by_key.items():
        if len(oids) > 1:
            dups.append("key %s has %d orders" % (k, len(oids)))
        o = by_key.get(k)
        if o is None:
            dups.append("phantom order %s with key %s nobody submitted" % (hexid(oids[0]), k))
            continue
        stored = st.orders[oids[0]]
        want = [(ln["line_no"], ln["sku"], ln["quantity"]) for ln in o.body["lines"]]
        got = [(ln["line_no"], ln["sku"], ln["quantity"]) for ln in stored["lines"]]
        if want != got or stored["fulfillment"] != o.body["fulfillment"] or stored["channel"] != o.body["channel"]:
            dups.append("order %s (%s) differs from what was submitted" % (hexid(oids[0]), k))
    for o in orders:
        if len(o.ids_seen) > 1:
            dups.append("key %s was answered with %d different order ids" % (o.key, len(o.ids_seen)))
        if o.cancel_status == "failed" and o.cancel_code != "NOT_FOUND":
            there = st.orders.get(o.order_id)
            if there is not None and there["status"] == "cancelled":
                dups.append("order %s cancelled though its cancel was refused (%s)" % (o.key, o.cancel_code))
    if len(keys) != len(st.orders):
        dups.append("%d idempotency keys for %d orders" % (len(keys), len(st.orders)))
    for k, row in keys.items():
        if row["order_id"] not in st.orders:
            dups.append("key %s points at no order" % k)
    phantom_route = [oid for oid in st.routes if oid not in st.orders]
    phantom_work = [f for f, (_, w) in st.work.items() if w["order_id"] not in st.orders]
    dups += ["router has order %s that orders does not" % hexid(x) for x in phantom_route]
    dups += ["node work %s for an unknown order" % hexid(x) for x in phantom_work]
    v.add("I5", len(dups), "%d orders stored for %d keys submitted; %d duplicates or phantoms"
          % (len(st.orders), len(orders), len(dups)), dups)

    at_risk = [o for o in acked if any(0 <= k - o.ack_t <= 2.0 for k in faults.orders_kills)] if faults else []
    risk_lost = [o.key for o in at_risk if any(o.key in x for x in lost)]
    v.add("I9", len(risk_lost), "sync=1; %d orders kills with -9; %d acknowledgements within 2 s before one, "
          "%d of them lost" % (len(faults.orders_kills) if faults else 0, len(at_risk), len(risk_lost)), risk_lost)

    # I6 termination --------------------------------------------------------------------------
    statuses = collections.Counter(o["status"] for o in st.orders.values())
    stuck = not_terminal(st)
    busy = [(f, w) for f, (_, w) in st.work.items() if w["status"] not in WORK_FINAL]
    waiting = sum(1 for oid, o in st.orders.items() if o["status"] == "backordered" and oid not in stuck)
    samples = ["order %s (%s) is %s; router: %s" % (
        hexid(oid), st.orders[oid]["idempotency_key"], st.orders[oid]["status"],
        {k: st.routes[oid].get(k) for k in ("attempt", "cancelled", "retry_at_us", "pending")}
        if oid in st.routes else "no route state") for oid in stuck]
    samples += ["node part %s at %s is %s" % (hexid(f), w["node"], w["status"]) for f, w in busy]
    v.add("I6", len(stuck) + len(busy), "statuses %s; %d back-ordered waiting with a live retry timer; "
          "%d orders and %d node parts not terminal" % (dict(sorted(statuses.items())), waiting, len(stuck),
                                                        len(busy)), samples)

    # I7 stream integrity ---------------------------------------------------------------------
    latest = {}
    holes = []
    published = collections.defaultdict(collections.Counter)  # order id -> {(history event, node): n}
    pruned = set()
    for p in PUBLISHERS:
        out = st.raw[p]["omo.outbox"]
        seqs = sorted(be64(k) for k in out)
        ep = st.epoch(p)
        meta_seq = st.raw[p]["omo.meta"].get(b"seq")
        last = max(seqs[-1] if seqs else 0, be64(meta_seq) if meta_seq else 0)
        if seqs and seqs != list(range(seqs[0], last + 1)):
            holes.append("%s outbox has %d events for sequences %d..%d" % (p, len(seqs), seqs[0], last))
        if not seqs or seqs[0] > 1:
            pruned.add(p)  # retention dropped the oldest: their history cannot be compared
        stamped = True
        for k, val in out.items():
            e = unpack(val)
            if stamped and (e.get("producer") != p or e.get("epoch") != ep or e.get("seq") != be64(k)):
                holes.append("%s outbox event %d is stamped %s/%s/%s" % (p, be64(k), e.get("producer"),
                                                                       e.get("epoch"), e.get("seq")))
                stamped = False
            b = e.get("body", {})
            if e.get("type") == "order_routed":
                published[b["order_id"]][("routed", "")] += 1
            elif e.get("type") == "order_unroutable":
                published[b["order_id"]][("rejected", "")] += 1
            elif e.get("type") == "fulfillment_update":
                published[b["order_id"]][(b["status"], b["node"])] += 1
        latest[p] = (ep, last)
    # Each event an order's producers published shows once in its history (orders'
    # audit trail): more is an event applied twice, less one never applied.
    twice = []
    if not pruned & ({"router"} | set(NODE_AGENTS)):
        for oid, o in st.orders.items():
            hist = o.get("history") or []
            if len(hist) >= 400:
                continue  # the schema's cap: the trail is cut
            seen = collections.Counter()
            for h in hist:
                ev, node = h["event"], h.get("node") or ""
                if node == "" and ev in ("accepted", "cancelled"):
                    continue  # the order's own steps, not events it applied
                seen[("routed", "") if node == "" and ev == "backordered" else (ev, node)] += 1
            want = published.get(oid, collections.Counter())
            if seen != want:
                diff = {"%s@%s" % k: seen.get(k, 0) - want.get(k, 0) for k in set(seen) | set(want)
                        if seen.get(k, 0) != want.get(k, 0)}
                twice.append("order %s (%s): history minus published events %s" % (
                    hexid(oid), o["idempotency_key"], diff))
    lag = []
    for c in SERVICES:
        inbox = st.inbox(c)
        for p in FOLLOWS[c]:
            ep, seq = latest[p]
            got = inbox.get(p)
            if seq == 0 and got in (None, (ep, 0)):
                continue
            if got != (ep, seq):
                lag.append("%s applied %s up to %s, %s published %s" % (c, p, got, p, (ep, seq)))
    v.add("I7", len(holes) + len(lag) + len(twice),
          "%d follow links, producers' latest %s; %d consumers not caught up, %d outbox holes; %d orders whose "
          "history differs from the events published about them (applied twice or never)%s" % (
              sum(len(f) for f in FOLLOWS.values()), {p: latest[p][1] for p in PUBLISHERS}, len(lag),
              len(holes), len(twice), "" if not pruned & ({"router"} | set(NODE_AGENTS))
              else " [not compared: outbox pruned by retention]"), lag + holes + twice)

    # I8 convergence --------------------------------------------------------------------------
    div = []
    agent_of = {"manufacturer": "node-manufacturer", "warehouse": "node-warehouse", "store": "node-store"}
    for oid, o in st.orders.items():
        rs = st.routes.get(oid)
        if rs is None:
            div.append("order %s (%s): router has no state for it" % (hexid(oid), o["idempotency_key"]))
            continue
        of = collections.Counter(f["fulfillment_id"] for f in o.get("fulfillments") or [])
        rf = collections.Counter(p["fulfillment_id"] for p in rs.get("parts") or [])
        if of != rf:
            div.append("order %s (%s): orders lists %d parts, router %d" % (
                hexid(oid), o["idempotency_key"], sum(of.values()), sum(rf.values())))
        rparts = {p["fulfillment_id"]: p for p in rs.get("parts") or []}
        for f in o.get("fulfillments") or []:
            p = rparts.get(f["fulfillment_id"])
            w = st.work.get(f["fulfillment_id"])
            if p is not None and (p["node"] != f["node"] or p["lines"] != f["lines"]):
                div.append("part %s: orders and router disagree on node or lines" % hexid(f["fulfillment_id"]))
            if w is None:
                div.append("part %s at %s: no node work" % (hexid(f["fulfillment_id"]), f["node"]))
                continue
            if w[0] != agent_of.get(f["node_type"]):
                div.append("part %s handled by %s" % (hexid(f["fulfillment_id"]), w[0]))
            if w[1]["status"] != f["status"] or (p is not None and p["status"] != f["status"]):
                div.append("part %s at %s: orders says %s, router %s, node %s" % (
                    hexid(f["fulfillment_id"]), f["node"], f["status"], p and p["status"], w[1]["status"]))
        if o["status"] not in ("cancelled", "rejected"):
            ob = sorted((x["line_no"], x["sku"], x["quantity"]) for x in o.get("backordered") or [])
            rb = sorted((x["line_no"], x["sku"], x["quantity"]) for x in rs.get("pending") or [])
            if ob != rb:
                div.append("order %s (%s): orders back-orders %s, router pends %s" % (
                    hexid(oid), o["idempotency_key"], ob, rb))
        if bool(rs.get("cancelled")) != (o["status"] == "cancelled"):
            div.append("order %s: orders status %s, router cancelled=%s" % (hexid(oid), o["status"],
                                                                            rs.get("cancelled")))
    for f, (agent, w) in st.work.items():
        if f not in parts_by_fid:
            div.append("node work %s at %s that the router never requested" % (hexid(f), w["node"]))
    div += ["fulfilment %s held by two node agents" % hexid(f) for f in st.work_dups]
    early = st.raw["orders"]["early"]
    div += ["orders holds an early update for %s" % hexid(k[:16]) for k in early]
    v.add("I8", len(div), "%d orders and %d node parts compared with the router; %d divergences"
          % (len(st.orders), len(st.work), len(div)), div)

    # I10 storage health -------------------------------------------------------------------
    health, notes = [], []
    bound = 16 * 2 ** 20 + 32 * 1024 * n_orders
    for s in SERVICES:
        path = os.path.join(data_dir, s)
        try:
            env = open_env(path)
        except lmdb.Error as e:
            health.append("%s: does not open: %s" % (s, e))
            continue
        try:
            stale = env.reader_check()
            used = (env.info()["last_pgno"] + 1) * env.stat()["psize"]
            readers = [ln for ln in env.readers().splitlines()[1:] if ln.strip()]
        finally:
            env.close()
        size = os.path.getsize(os.path.join(path, "data.mdb"))
        if stale:
            health.append("%s: %d stale readers" % (s, stale))
        if readers:
            health.append("%s: reader slots still taken: %s" % (s, readers))
        if size > bound:
            health.append("%s: data.mdb %d bytes, over the bound %d" % (s, size, bound))
        notes.append("%s %.1f MiB (%.1f in pages used)" % (s, size / 2 ** 20, used / 2 ** 20))
    for s, rc in stops.items():
        if rc != 0:
            health.append("%s: exit status %s on SIGTERM (expected 0)" % (s, rc))
    # Every log, across every restart: a sanitizer report is a failure even
    # when the service was restarted after it and the invariants held.
    renewed = 0
    for s in SERVICES:
        try:
            with open(os.path.join(os.path.dirname(data_dir), s + ".log"), errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        renewed += text.count("listener_renewed")
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in text:
                at = text.index(marker)
                health.append("%s: %s" % (s, text[at:at + 300].replace("\n", " | ")))
    v.add("I10", len(health), "6 environments open; stale readers cleared: 0 expected; data.mdb sizes %s "
          "(bound 16 MiB + 32 KiB per order = %.0f MiB); clean SIGTERM stops %d/6; no sanitizer "
          "report in any log; listeners renewed %d times" % (
              ", ".join(notes), bound / 2 ** 20, sum(rc == 0 for rc in stops.values()), renewed), health)
    return v, len(acked)


# ---- one seed ---------------------------------------------------------------------------------

def run_seed(args, seed, n_orders, kinds, say):
    """Runs one seed; returns (verdict, acknowledged, ok_dir_to_remove, error)."""
    cat = Catalog(os.path.join(args.src, "simulators", "scenarios", "demo"))
    frng = random.Random("omo-fault-setup:%d" % seed)
    stack = Stack(args, seed, frng)
    envs = fault_envs(stack, kinds, frng, seed, args.plant)
    for name, e in envs.items():
        stack.svc[name].faults_env = e
    orders = make_orders(seed, n_orders, cat)
    load_s = max(10.0, n_orders / args.rate)
    say("seed %d: %d orders from %d clients over ~%.0f s; faults %s; dir %s" % (
        seed, n_orders, args.clients, load_s, ",".join(kinds) or "none", stack.dir))
    say("seed %d: node delays (pick, transit, pickup ms) %s, reject %d%%, OMO_FAULTS %s%s" % (
        seed, {n[5:]: v for n, v in stack.node_ms.items()}, stack.reject_pct, envs or "none",
        ", OMO_PLANT=" + args.plant if args.plant else ""))
    oplog = OpLog(stack)
    stop_clients, stop_faults, stop_monitor = threading.Event(), threading.Event(), threading.Event()
    clients, faults, monitor = [], None, None
    heal_stops, stops = {}, {}
    probe = None
    try:
        for name in SERVICES:
            stack.svc[name].start()
        probe = Probe(stack)
        for name in SERVICES:
            end = time.monotonic() + 20
            while probe.latest(name) is None:
                if time.monotonic() > end or not stack.svc[name].running():
                    raise RuntimeError("%s did not come up: %s" % (name, diagnose(stack, name)))
                time.sleep(0.05)
        rate = n_orders / load_s
        clients = [Client(t, args.clients, orders, stack, oplog, rate / 1.0, stop_clients, seed)
                   for t in range(args.clients)]
        monitor = Monitor(stack, stop_monitor)
        monitor.start()
        if set(kinds) & {"kill", "stop", "late"}:
            faults = Faults(stack, kinds, seed, stop_faults)
            faults.start()
        for c in clients:
            c.start()
        # Load: until every order was sent once.
        end = time.monotonic() + load_s * 4 + 120
        for c in clients:
            c.submitted_all.wait(max(0.0, end - time.monotonic()))
        say("seed %d: %.1f s: every order sent once (%s)" % (seed, stack.clock(), fmt_ops(oplog)))
        # Heal: faults off, every service restarted cleanly without OMO_FAULTS.
        stop_faults.set()
        if faults:
            if not faults.join(60):
                raise RuntimeError("the fault threads did not stop")
            if faults.errors:
                raise RuntimeError("; ".join(faults.errors))
        stack.healed = True
        stack.backorder_retry_ms = SETTLE_BACKORDER_RETRY_MS
        for name in SERVICES:
            s = stack.svc[name]
            s.resume()
            if s.proc is None:
                s.start()
        # One at a time, each given a second to reconnect with its peers: the
        # services with OMO_FAULTS come back without them, and the router with a
        # back-order retry of a minute, so that waiting orders leave a quiet
        # window for the final look.
        for name in SERVICES:
            s = stack.svc[name]
            if name != "router" and not s.faults_env:
                continue
            end = time.monotonic() + 10  # started just now? let it install its signal handlers
            while probe.latest(name) is None and time.monotonic() < end:
                time.sleep(0.05)
            heal_stops[name] = s.term()
            s.start()
            time.sleep(1.0)
        for name in SERVICES:
            end = time.monotonic() + 20
            while probe.latest(name) is None:
                if time.monotonic() > end:
                    raise RuntimeError("%s did not come back after the heal: %s" % (name, diagnose(stack, name)))
                time.sleep(0.05)
        say("seed %d: %.1f s: healed (restarted cleanly: exit statuses %s)" % (
            seed, stack.clock(), heal_stops))
        # Retries of unknown outcomes finish now that nothing fails.
        end = time.monotonic() + args.settle_timeout
        for c in clients:
            c.idle.wait(max(0.0, end - time.monotonic()))
        stop_clients.set()
        for c in clients:
            c.join(10)
            if c.error:
                raise RuntimeError(c.error)
        say("seed %d: %.1f s: clients done (%s)" % (seed, stack.clock(), fmt_ops(oplog)))
        settled, why = settle(stack, probe, args.settle_timeout, say, seed)
        stop_monitor.set()
        monitor.join(15)
        # Stop: the router first, so that nothing is published after the last look.
        stops = {"router": stack.svc["router"].term()}
        for name in SERVICES:
            if name != "router":
                stops[name] = stack.svc[name].term()
        say("seed %d: %.1f s: %s; stopped (exit statuses %s)" % (
            seed, stack.clock(), "settled" if settled else "NOT settled: " + "; ".join(why), stops))
    except Exception:
        stop_clients.set()
        stop_faults.set()
        stop_monitor.set()
        if monitor:
            say("seed %d: listener health: %s" % (seed, "; ".join("%.1f s %s %s (pid %d)" % e
                                                                  for e in monitor.events) or "-"))
        if faults:
            say("seed %d: last faults: %s" % (seed, faults.timeline[-8:]))
        say("seed %d: operations: %s" % (seed, fmt_ops(oplog)))
        for s in stack.svc.values():
            s.resume()
            s.kill9()
        raise
    finally:
        if monitor:
            stop_monitor.set()
            monitor.join(15)
            monitor.close()
        oplog.dump(os.path.join(stack.dir, "operations.jsonl"))
        if faults:
            with open(os.path.join(stack.dir, "faults.jsonl"), "w") as f:
                for row in faults.timeline:
                    f.write(json.dumps(row) + "\n")
    if faults:
        say("seed %d: faults injected: %s; orders killed %d times; events published to a paused "
            "subscriber per pause: %s" % (seed, dict(faults.count), len(faults.orders_kills),
                                         faults.pause_events or "-"))
    say("seed %d: listener health (a new connection to each running service every 2 s): %s" % (
        seed, "; ".join("%.1f s %s %s (pid %d)" % e for e in monitor.events) if monitor.events
        else "every service answered every new connection"))
    # Not invariants, but service bugs worth knowing about: printed as warnings.
    broken = sorted({e[1] for e in monitor.events if e[2].startswith("stopped")})
    if broken:
        say("WARN listeners that stopped taking new connections while their process ran: %s (nng 1.5.2 "
            "issue #1518: a connection its dialer closed before the listener accepted it breaks the "
            "listener for good; only a restart mends it)%s" % (
                ", ".join(broken), "; still broken at the end: " + ", ".join(sorted(monitor.dead))
                if monitor.dead else ""))
    slow = {n: rc for n, rc in list(heal_stops.items()) + list(stops.items()) if rc is None}
    if slow:
        say("WARN services that did not stop within 15 s of SIGTERM and were killed: %s" % ", ".join(sorted(slow)))
    st = State(stack.data_dir)
    verdict, acked = check(st, orders, cat, faults, stack.data_dir, stops, n_orders, say)
    return verdict, acked, stack


def diagnose(stack, name):
    """What a service that does not answer is doing: process state, a fresh socket's luck."""
    s = stack.svc[name]
    out = []
    if s.proc is None or s.proc.poll() is not None:
        out.append("not running (exit %s)" % (s.proc.poll() if s.proc else "-"))
    else:
        pid = s.proc.pid
        try:
            with open("/proc/%d/stat" % pid) as f:
                out.append("pid %d state %s" % (pid, f.read().split()[2]))
            with open("/proc/%d/wchan" % pid) as f:
                out.append("wchan %s" % f.read())
            out.append("threads %d" % len(os.listdir("/proc/%d/task" % pid)))
        except OSError as e:
            out.append(str(e))
    fresh = Probe(stack)
    out.append("a fresh connection gets %s" % (fresh.latest(name),))
    try:
        ss = subprocess.run(["ss", "-xpn"], capture_output=True, text=True, timeout=10).stdout
        unread = [ln.split()[2] for ln in ss.splitlines()
                  if "%s/%s.rep" % (stack.run_dir, name) in ln and ln.split()[1] == "ESTAB"
                  and ln.split()[2] != "0"]
        if unread:
            out.append("%d connections to %s.rep hold unread bytes (%s): its listener no longer "
                       "negotiates new connections (nng 1.5.2 issue #1518)" % (len(unread), name, ",".join(unread)))
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    try:
        with open(os.path.join(stack.dir, name + ".log")) as f:
            out.append("log tail: " + " | ".join(f.read().splitlines()[-4:]))
    except OSError:
        pass
    return "; ".join(out)


def recheck(args, say):
    """Checks a kept run directory again from its stores and operations.jsonl."""
    d = args.recheck
    cat = Catalog(os.path.join(args.src, "simulators", "scenarios", "demo"))
    orders = make_orders(args.seed, args.orders, cat)
    by_key = {o.key: o for o in orders}
    with open(os.path.join(d, "operations.jsonl")) as f:
        for line in f:
            t, kind, key, outcome, detail = json.loads(line)
            if kind not in ("submit", "cancel"):
                continue
            o = by_key[key]
            if kind == "submit" and outcome == "ok":
                oid = bytes.fromhex(detail)
                o.ids_seen.add(oid)
                if o.status != "ok":
                    o.status, o.order_id, o.ack_t = "ok", oid, t
            elif kind == "submit" and o.status != "ok":
                o.status = "unknown" if outcome == "unknown" or detail in RETRYABLE else "failed"
            elif kind == "cancel" and o.cancel_status != "ok":
                if outcome == "ok":
                    o.cancel_status = "ok"
                elif outcome == "failed" and detail not in RETRYABLE:
                    o.cancel_status, o.cancel_code = "failed", detail
                else:
                    o.cancel_status = "unknown"
    st = State(os.path.join(d, "data"))
    v, acked = check(st, orders, cat, None, os.path.join(d, "data"), {}, args.orders, say)
    report(v, say, max_samples=args.samples)
    say(summary("seed %d (recheck)" % args.seed, acked, v))
    return 1 if any(n for n, _, _ in v.results.values()) else 0


def fmt_ops(oplog):
    c = oplog.count
    return "submits ok %d, failed %d, unknown %d; cancels ok %d, failed %d, unknown %d; new client " \
           "connections after 3 unknown outcomes in a row: %d" % (
               c[("submit", "ok")], c[("submit", "failed")], c[("submit", "unknown")],
               c[("cancel", "ok")], c[("cancel", "failed")], c[("cancel", "unknown")],
               c[("client", "new connection")])


def settle(stack, probe, timeout, say, seed):
    """Waits until every order is terminal or waiting and every inbox has caught up,
    with the router's next timer far enough ahead that nothing is published while
    the services stop. Returns (settled, what was still missing)."""
    end = time.monotonic() + timeout
    last_say = time.monotonic()
    why = ["not looked"]
    while time.monotonic() < end:
        latest = {p: probe.latest(p) for p in PUBLISHERS}
        st = State(stack.data_dir, full=False)
        why = settled_view(st, latest)
        if not why:
            nxt = min((be64(k[:8]) for k in st.retry), default=None)
            if nxt is None or nxt - now_us() > 5e6:
                # Look once more: nothing may have moved since.
                again = {p: probe.latest(p) for p in PUBLISHERS}
                if again == latest:
                    return True, []
                why = ["producers moved"]
            else:
                why = ["a router retry is due in %.1f s" % ((nxt - now_us()) / 1e6)]
        if time.monotonic() - last_say > 10:
            say("seed %d: %.1f s: settling: %s" % (seed, stack.clock(), "; ".join(why[:4])))
            last_say = time.monotonic()
        time.sleep(0.5)
    # Not settled: tell whether a service stopped taking new connections.
    fresh = Probe(stack)
    for name in SERVICES:
        if fresh.latest(name) is None:
            why.append("%s does not answer a new connection: %s" % (name, diagnose(stack, name)))
    return False, why


# ---- main ---------------------------------------------------------------------------------------

def summary(label, acked, v):
    return ("fault harness: %s orders acknowledged %d, lost %d, duplicated %d, oversold %d, "
            "double-allocated %d, not terminal %d, stream gaps unrepaired %d" % (
                label, acked, v.count("I4"), v.count("I5"), v.count("I1", "I2"), v.count("I3"),
                v.count("I6"), v.count("I7")))


def report(v, say, max_samples=8):
    for inv in ["I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10"]:
        n, texts, samples = v.results.get(inv, (0, ["not checked"], []))
        say("%-3s %s: %s" % (inv, "ok  " if n == 0 else "FAIL", "; ".join(texts)))
        for s in samples[:max_samples] if n else []:
            say("      %s" % s)
        if n and len(samples) > max_samples:
            say("      ... and %d more" % (len(samples) - max_samples))


def parse_faults(text):
    if text in ("all", ""):
        return list(ALL_FAULTS) if text == "all" else []
    if text == "none":
        return []
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    for k in kinds:
        if k not in ALL_FAULTS:
            raise SystemExit("unknown fault %r; faults: %s, all, none" % (k, ",".join(ALL_FAULTS)))
    return kinds


def main():
    src_default = os.path.dirname(os.path.dirname(HERE))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(src_default, "build", "bin"),
                    help="directory of omo-orders, omo-router, omo-inventory, omo-node")
    ap.add_argument("--src", default=src_default, help="source tree (for the demo network)")
    ap.add_argument("--seed", type=int, default=1, help="seed of every random choice (first seed with --long)")
    ap.add_argument("--orders", type=int, default=1700, help="orders in the run")
    ap.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    ap.add_argument("--rate", type=float, default=40.0, help="orders submitted per second")
    ap.add_argument("--faults", default="all", help="comma list of %s; or all, none" % ",".join(ALL_FAULTS))
    ap.add_argument("--plant", choices=["skip_dedupe"], help="plant a bug; pass only if it is caught")
    ap.add_argument("--settle-timeout", dest="settle_timeout", type=float, default=150.0,
                    help="seconds to wait for retries and for the system to settle")
    ap.add_argument("--long", action="store_true",
                    help="%d orders over %d seeds from --seed, all faults" % (LONG_ORDERS, LONG_SEEDS))
    ap.add_argument("--keep", action="store_true", help="keep the run directory even if the run passes")
    ap.add_argument("--recheck", metavar="DIR", help="check a kept run directory again (same --seed, --orders)")
    ap.add_argument("--log-level", dest="log_level", default="warn", help="the services' log level")
    ap.add_argument("--samples", type=int, default=8, help="offending records printed per invariant")
    args = ap.parse_args()

    def say(msg):
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()

    if args.recheck:
        return recheck(args, say)
    for exe in ("omo-orders", "omo-router", "omo-inventory", "omo-node"):
        if not os.access(os.path.join(args.bin, exe), os.X_OK):
            say("fault harness: %s not found in %s (--bin)" % (exe, args.bin))
            return 2
    if args.long:
        return run_long(args, say)
    kinds = parse_faults(args.faults)
    seed = args.seed
    t0 = time.monotonic()
    try:
        v, acked, stack = run_seed(args, seed, args.orders, kinds, say)
    except Exception as e:
        say("fault harness: seed %d could not run: %s" % (seed, e))
        return 2
    report(v, say, max_samples=args.samples)
    violated = [i for i, (n, _, _) in v.results.items() if n]
    say("seed %d: %.0f s; %s" % (seed, time.monotonic() - t0,
                                 "violations in " + ", ".join(violated) if violated else "no violation"))
    if args.plant:
        say("planted bug %s %s" % (args.plant, "caught by " + ", ".join(violated) if violated
                                     else "NOT caught: the checker is not to be trusted"))
    if args.keep or (bool(violated) != bool(args.plant)):
        say("seed %d: run directory kept: %s" % (seed, stack.dir))
    else:
        shutil.rmtree(stack.dir, ignore_errors=True)
    say(summary("seed %d" % seed, acked, v))
    if args.plant:
        return 0 if violated else 1
    return 1 if violated else 0


SUMMARY_RE = re.compile(r"^fault harness: seed (\d+) orders acknowledged (\d+), lost (\d+), duplicated (\d+), "
                        r"oversold (\d+), double-allocated (\d+), not terminal (\d+), "
                        r"stream gaps unrepaired (\d+)$")


def run_long(args, say):
    """--long: LONG_SEEDS seeds of LONG_ORDERS / LONG_SEEDS orders, all faults, each
    in its own process (a fresh nng runtime; nothing is closed, see Req)."""
    seeds = list(range(args.seed, args.seed + LONG_SEEDS))
    per_seed = LONG_ORDERS // LONG_SEEDS
    names = ["acknowledged", "lost", "duplicated", "oversold", "double-allocated", "not terminal",
             "stream gaps unrepaired"]
    total = collections.Counter()
    lines, bad, t0 = [], [], time.monotonic()
    for seed in seeds:
        cmd = [sys.executable, os.path.abspath(__file__), "--bin", args.bin, "--src", args.src,
               "--seed", str(seed), "--orders", str(per_seed), "--clients", str(args.clients),
               "--rate", str(args.rate), "--faults", "all", "--settle-timeout", str(args.settle_timeout),
               "--samples", str(args.samples), "--log-level", args.log_level] + (["--keep"] if args.keep else [])
        say("fault harness --long: seed %d (replay: %s)" % (seed, " ".join(cmd[1:])))
        t = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = None
        for out in proc.stdout:
            sys.stdout.write("  " + out)
            sys.stdout.flush()
            if SUMMARY_RE.match(out.strip()):
                line = out.strip()
        rc = proc.wait()
        if line is None:
            bad.append(seed)
            lines.append("fault harness: seed %d could not run (exit status %d)" % (seed, rc))
            continue
        m = SUMMARY_RE.match(line)
        for name, val in zip(names, m.groups()[1:]):
            total[name] += int(val)
        if rc != 0:
            bad.append(seed)
        lines.append(line)
        say("fault harness --long: seed %d done in %.0f s" % (seed, time.monotonic() - t))
    say("fault harness --long: %d seeds, %d orders each, in %.0f s; seeds with violations or errors: %s" % (
        len(seeds), per_seed, time.monotonic() - t0, ", ".join(map(str, bad)) or "none"))
    for line in lines:
        say(line)
    say("fault harness: seeds %d-%d orders acknowledged %d, lost %d, duplicated %d, oversold %d, "
        "double-allocated %d, not terminal %d, stream gaps unrepaired %d" % (
            seeds[0], seeds[-1], *(total[n] for n in names)))
    return 1 if bad else 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)  # nng threads (and nng_close) are not waited for
