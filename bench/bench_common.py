"""Helpers every benchmark driver shares: the revision measured, the PASS/FAIL lines, the
results file. Imported by core_bench.py, http_bench.py, cron_bench.py, events_bench.py,
console_bench.py and bench_server.py."""

import json
import math
import os
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def git_revision():
    """The short HEAD of the repo, with `-dirty` when tracked files are modified."""
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def print_checks(checks, digits=2):
    """One `PASS|FAIL  check  (value)` line per target; returns whether all passed."""
    for c in checks:
        v = c["value"]
        vs = "-" if v is None else (f"{v:.{digits}f}" if isinstance(v, float) else str(v))
        print(f"{'PASS' if c['ok'] else 'FAIL'}  {c['check']}  ({vs})")
    return bool(checks) and all(c["ok"] for c in checks)


def write_results(out, document):
    """Writes the results JSON and says where."""
    with open(out, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    shown = os.path.relpath(out, os.getcwd()) if out.startswith(os.getcwd()) else out
    print(f"results: {shown}", flush=True)


def log(msg):
    """A progress line, flushed at once (the drivers run for minutes)."""
    print(msg, flush=True)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    k = max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)
    return sorted_values[k]


def report_checks(checks, failures, load_at_start, unreliable, digits=2, failure_check="every part completed"):
    """Prints the PASS/FAIL lines (a failed part is a failed check) and, when the machine
    was busy at the start (1-min load average above 3/4 of the CPUs), a warning that the
    `unreliable` figures are. Returns (all targets met, machine was busy)."""
    if failures:
        checks.append({"check": failure_check, "value": len(failures), "ok": False})
    print()
    ok = print_checks(checks, digits=digits)
    cpus = os.cpu_count() or 1
    busy = load_at_start > 0.75 * cpus
    if busy:
        print(f"\nWARNING: the machine was busy before the start (1-min load average {load_at_start:.1f} on {cpus} CPUs):"
              f" {unreliable} are unreliable; rerun on a quiet machine.")
    return ok, busy


def remove_workdir(path, keep):
    """Removes a benchmark's work dir, or says where it was kept (--keep)."""
    if keep:
        print(f"# kept {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)
