#!/usr/bin/env python3
"""Baton nested-workflow benchmark: CHILDREN tasks that each run a TASKS-task workflow
(written in place) against the same CHILDREN x TASKS `true` tasks in one flat run.

Driven by bench/nested.sh; see bench/README.md. Both shapes run with `baton run SPEC
--workers W --data-dir <fresh dir> --json`, alternating, --repeat times; the median wall
time of each is compared. Target: nested <= 1.3 x flat (a child run costs little beyond
its tasks: one run row, one engine entry).
"""

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import git_revision, print_checks, write_results

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
RATIO_TARGET = 1.3


def flat(children, tasks):
    return {"name": "flat", "tasks": [{"name": f"t{c}-{t}", "command": ["true"]}
                                      for c in range(children) for t in range(tasks)]}


def nested(children, tasks):
    return {"name": "nested", "tasks": [{"name": f"c{c}", "tasks": [{"name": f"t{t}", "command": ["true"]}
                                                                   for t in range(tasks)]}
                                        for c in range(children)]}


def run(baton, spec_path, workers, work):
    data = tempfile.mkdtemp(prefix="data-", dir=work)
    started = time.monotonic()
    result = subprocess.run([baton, "run", spec_path, "--workers", str(workers), "--data-dir", data, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"baton run {spec_path} exited {result.returncode}: {result.stderr.decode()[-2000:]}")
    status = json.loads(result.stdout)["status"]
    if status != "succeeded":
        raise RuntimeError(f"{spec_path}: run {status}")
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baton", default=os.path.join(REPO, ".build", "release", "baton"))
    parser.add_argument("--children", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None)
    parser.add_argument("--no-build", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.access(args.baton, os.X_OK):
        print(f"nested.sh: {args.baton} is not an executable", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    if load > 1.5:
        print(f"WARNING: load average {load:.2f} on {os.cpu_count()} CPUs: figures will be noisy")
    times = {"flat": [], "nested": []}
    with tempfile.TemporaryDirectory(prefix="baton-nested-") as work:
        paths = {}
        for name, make in (("flat", flat), ("nested", nested)):
            paths[name] = os.path.join(work, f"{name}.json")
            with open(paths[name], "w") as f:
                json.dump(make(args.children, args.tasks), f)
        for round_ in range(args.repeat):
            for name in ("flat", "nested"):
                wall = run(args.baton, paths[name], args.workers, work)
                times[name].append(wall)
                print(f"round {round_ + 1}  {name:6}  {wall:7.2f} s", flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["nested"] / medians["flat"]
    total = args.children * args.tasks
    print(f"{total} tasks, --workers {args.workers}: flat {medians['flat']:.2f} s, "
          f"nested ({args.children} x {args.tasks}) {medians['nested']:.2f} s, ratio {ratio:.3f}")
    checks = [{"check": f"nested / flat <= {RATIO_TARGET}", "value": ratio, "ok": ratio <= RATIO_TARGET}]
    ok = print_checks(checks, digits=3)
    print(f"targets: {'MET' if ok else 'NOT MET'}")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or os.path.join(BENCH_DIR, "results", f"nested-{stamp}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_results(out, {"bench": "nested", "revision": git_revision(), "children": args.children,
                        "tasks": args.tasks, "workers": args.workers, "load_average": load,
                        "times": times, "medians": medians, "ratio": ratio, "checks": checks})
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
