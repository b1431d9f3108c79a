#!/usr/bin/env python3
"""Baton reactor benchmark: N tasks running at once (`sleep S` each, `--workers N`).

Driven by bench/reactor.sh; see bench/README.md. For each binary (this one, and the one
given with --reference) and each N of --sizes, `baton run SPEC --workers N` runs N
argv tasks `["sleep", S]` on a fresh data dir. Measured:

  wall      first exec to exit; the floor is S seconds
  overhead  wall - S: spawning N processes, then handling N exits
  cpu       the baton process's OWN user+system time (utime+stime of /proc/PID/stat,
            sampled every 20 ms until it exits: the sleeps' exec costs are theirs, not
            Baton's); per task = cpu / N

The targets: the per-task CPU at the largest N is at most 1.5x that at the smallest
(the cost of an event does not grow with the number of children), and with --reference,
this binary's CPU at the largest N is at most the reference's.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time

from bench_common import git_revision, print_checks, write_results

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
GROWTH_TARGET = 1.5


def own_cpu_seconds(pid):
    """utime + stime of `pid` itself (children excluded), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After "(comm)": state is field 3; utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_once(baton, tasks, seconds, work):
    spec = os.path.join(work, f"spec-{tasks}.json")
    with open(spec, "w") as f:
        json.dump({"name": f"reactor-{tasks}",
                   "tasks": [{"name": f"t{i}", "command": ["sleep", str(seconds)], "timeout_seconds": 0}
                             for i in range(tasks)]}, f)
    data = tempfile.mkdtemp(prefix="data-", dir=work)
    # Progress goes to stderr, a line per task change: to a file, which never fills up as
    # an unread pipe would (and then blocks the runner).
    errors = open(os.path.join(work, f"stderr-{tasks}.txt"), "w+b")
    started = time.monotonic()
    process = subprocess.Popen([baton, "run", spec, "--workers", str(tasks), "--data-dir", data, "--json"],
                               stdout=subprocess.DEVNULL, stderr=errors)
    cpu = 0.0
    peak_children = 0
    while process.poll() is None:
        sample = own_cpu_seconds(process.pid)
        if sample is not None:
            cpu = sample
        # Children belong to the thread that spawned them (the executor's), so every
        # thread's list is read.
        count = 0
        try:
            for thread in os.listdir(f"/proc/{process.pid}/task"):
                with open(f"/proc/{process.pid}/task/{thread}/children") as f:
                    count += len(f.read().split())
        except OSError:
            pass
        peak_children = max(peak_children, count)
        time.sleep(0.02)
    wall = time.monotonic() - started
    errors.seek(0)
    stderr = errors.read().decode(errors="replace")
    errors.close()
    if process.returncode != 0:
        raise RuntimeError(f"{baton} run exited {process.returncode}: {stderr[-2000:]}")
    return {"tasks": tasks, "wall_s": wall, "overhead_s": wall - seconds, "cpu_s": cpu,
            "cpu_per_task_ms": cpu / tasks * 1000, "peak_children": peak_children}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baton", default=os.path.join(REPO, ".build", "release", "baton"))
    parser.add_argument("--reference", help="an older baton binary to compare with (same load, same run)")
    parser.add_argument("--sizes", default="500,1000,2000,5000")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--out", default=None)
    parser.add_argument("--no-build", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    binaries = [("baton", args.baton)] + ([("reference", args.reference)] if args.reference else [])
    for _, path in binaries:
        if not os.access(path, os.X_OK):
            print(f"reactor.sh: {path} is not an executable", file=sys.stderr)
            return 2
    load = os.getloadavg()[0]
    if load > 1.5:
        print(f"WARNING: load average {load:.2f} on {os.cpu_count()} CPUs: figures will be noisy")

    results = {name: [] for name, _ in binaries}
    with tempfile.TemporaryDirectory(prefix="baton-reactor-") as work:
        for tasks in sizes:
            # Alternate the binaries per size so that both see the same machine state.
            for name, path in binaries:
                row = run_once(path, tasks, args.seconds, work)
                results[name].append(row)
                print(f"{name:9} {tasks:6} tasks  wall {row['wall_s']:7.2f} s  overhead {row['overhead_s']:6.2f} s"
                      f"  cpu {row['cpu_s']:6.2f} s  ({row['cpu_per_task_ms']:.3f} ms/task)"
                      f"  peak children {row['peak_children']}", flush=True)

    checks = []
    mine = results["baton"]
    growth = mine[-1]["cpu_per_task_ms"] / max(mine[0]["cpu_per_task_ms"], 1e-9)
    checks.append({"check": f"cpu per task at {sizes[-1]} / at {sizes[0]} <= {GROWTH_TARGET}",
                   "value": growth, "ok": growth <= GROWTH_TARGET})
    if args.reference:
        ref = results["reference"]
        ratio = mine[-1]["cpu_s"] / max(ref[-1]["cpu_s"], 1e-9)
        ref_growth = ref[-1]["cpu_per_task_ms"] / max(ref[0]["cpu_per_task_ms"], 1e-9)
        print(f"reference: cpu per task at {sizes[-1]} / at {sizes[0]} = {ref_growth:.2f}")
        checks.append({"check": f"cpu at {sizes[-1]} tasks / reference's <= 1.0", "value": ratio, "ok": ratio <= 1.0})
    ok = print_checks(checks)
    print(f"targets: {'MET' if ok else 'NOT MET'}")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or os.path.join(BENCH_DIR, "results", f"reactor-{stamp}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_results(out, {"bench": "reactor", "revision": git_revision(), "sizes": sizes,
                        "seconds": args.seconds, "load_average": load, "results": results, "checks": checks})
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
