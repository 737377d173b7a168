#!/usr/bin/python3
"""Resident memory of every omo service, at rest and under load.

    bench_memory.py BIN_DIR SOURCE_DIR [ORDERS=5000] [THREADS=8]

Starts the local stack (`omo up`, fsync on every commit, in a temporary state
directory), then reads VmRSS and VmHWM from /proc/PID/status of each service:
at rest after start, every 100 ms while `omo-sim demo` drives ORDERS orders
as fast as they are answered, and at rest again once they have settled. It
prints one row per service, RSS split into anonymous memory (heap, stacks)
and file pages (the LMDB map and the binary), the size of its LMDB file, and
the ratio to the target of 32 MB at rest; and, measured in the same run, the
floor any process of this machine starts from (the RSS of a process that only
sleeps) and the RSS of the omo CLI, which links the same runtime.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

TARGET_MB = 32.0
MB = 1024.0  # /proc reports kB


def status(pid):
    """VmRSS, VmHWM, RssAnon, RssFile of pid, in kB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0])
    return out


def floor_rss(argv):
    """RSS of a process that just started argv and is blocked, in kB."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    rss = status(p.pid)["VmRSS"]
    p.kill()
    p.wait()
    return rss


def main():
    bin_dir, src = sys.argv[1], sys.argv[2]
    orders = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    network = os.path.join(src, "simulators", "scenarios", "demo")
    state = tempfile.mkdtemp(prefix="omo-mem-")
    omo = [os.path.join(bin_dir, "omo"), "--state=" + state, "--network=" + network]
    try:
        subprocess.run(omo + ["up", "--pick_ms=50", "--transit_ms=100", "--pickup_ms=100"],
                       check=True, stdout=subprocess.DEVNULL)
        run = os.path.join(state, "run")
        pids = {}
        for f in sorted(os.listdir(run)):
            if f.endswith(".pid") and f != "supervisor.pid":
                pids[f[:-4]] = int(open(os.path.join(run, f)).read())
        time.sleep(2)  # past start-up: catch-up, first heartbeats, first metrics
        idle = {s: status(p) for s, p in pids.items()}

        peak = {s: dict(v) for s, v in idle.items()}
        done = threading.Event()

        def sample():
            while not done.wait(0.1):
                for s, p in pids.items():
                    now = status(p)
                    peak[s]["VmRSS"] = max(peak[s]["VmRSS"], now["VmRSS"])

        sampler = threading.Thread(target=sample)
        sampler.start()
        t0 = time.time()
        demo = subprocess.run([os.path.join(bin_dir, "omo-sim"), "demo", "--state=" + state,
                               "--network=" + network, "--orders=%d" % orders, "--rate=0",
                               "--threads=%d" % threads], capture_output=True, text=True)
        elapsed = time.time() - t0
        done.set()
        sampler.join()
        time.sleep(2)
        after = {s: status(p) for s, p in pids.items()}
        settled = [l for l in demo.stdout.splitlines() if "unsettled" in l or "orders/s" in l]

        print("omo memory: %d orders from %d client threads in %.1f s (omo-sim exit %d)%s" %
              (orders, threads, elapsed, demo.returncode, "".join("\n  " + l.strip() for l in settled)))
        print("%-18s %9s %9s %9s %9s %9s %9s %9s %9s %7s" %
              ("service", "idle_rss", "idle_anon", "idle_file", "load_rss", "load_hwm",
               "rest_rss", "rest_anon", "lmdb_mb", "rest/32"))
        worst = 0.0
        for s in pids:
            mdb = os.path.join(state, "data", s, "data.mdb")
            size = os.path.getsize(mdb) / 1048576.0 if os.path.exists(mdb) else 0.0
            ratio = after[s]["VmRSS"] / MB / TARGET_MB
            worst = max(worst, ratio, idle[s]["VmRSS"] / MB / TARGET_MB)
            print("%-18s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %7.2f" %
                  (s, idle[s]["VmRSS"] / MB, idle[s]["RssAnon"] / MB, idle[s]["RssFile"] / MB,
                   peak[s]["VmRSS"] / MB, after[s]["VmHWM"] / MB, after[s]["VmRSS"] / MB,
                   after[s]["RssAnon"] / MB, size, ratio))
        print("(MB; load_rss: highest sample under load; load_hwm: the kernel's high-water mark)")
        print("floor measured now: a process that only sleeps %.1f MB, the omo CLI %.1f MB" %
              (floor_rss(["sleep", "30"]) / MB, floor_rss(omo + ["submit", "-"]) / MB))
        print("target: under %.0f MB each at rest; worst service at rest: %.0f%% of it -> %s" %
              (TARGET_MB, worst * 100, "met" if worst < 1 else "NOT MET"))
        return 0 if demo.returncode == 0 else 1
    finally:
        subprocess.run(omo + ["down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
