#!/usr/bin/env python3
"""Baton core benchmark: Baton vs the process-spawn floor (xargs) vs ninja.

Driven by bench/core.sh (which builds the release binary first); see bench/README.md.

For each DAG shape (wide, chain, layered) the same set of `true` tasks is run by
  baton   `baton run SPEC.json --workers 2 --data-dir <fresh dir> --json`
  xargs   `xargs -P 2 -n 1 true` (one exec of /usr/bin/true per task, no shell; -P 1 for chain)
  ninja   `ninja -j 2 -f build.ninja` with one edge per task and the same DAG
and the wall time (median of --repeat runs) and peak RSS (wait4 ru_maxrss) are reported.
"""

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import git_revision, print_checks, write_results

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)

SHAPES = ("wide", "chain", "layered")
RATIO_TARGET = 1.5
MEMORY_TARGET_MB = 150.0


# --------------------------------------------------------------------------- generators

def generate(shape, seed, scale=1.0):
    """Returns (tasks, parallelism): tasks is a list of (name, [dependency names]).

    Deterministic for a given (shape, seed, scale). Names are t1..tN, listed in a
    topological order.
    """
    rng = random.Random(f"{shape}:{seed}")
    if shape == "wide":
        n = max(1, int(10_000 * scale))
        return [(f"t{i}", []) for i in range(1, n + 1)], 2
    if shape == "chain":
        n = max(1, int(1_000 * scale))
        return [(f"t{i}", [f"t{i - 1}"] if i > 1 else []) for i in range(1, n + 1)], 1
    if shape == "layered":
        layers = max(2, int(100 * scale))
        width = 100
        tasks = []
        previous = []
        index = 0
        for _layer in range(layers):
            current = []
            for _ in range(width):
                index += 1
                name = f"t{index}"
                deps = sorted(rng.sample(previous, 2), key=lambda s: int(s[1:])) if previous else []
                tasks.append((name, deps))
                current.append(name)
            previous = current
        return tasks, 2
    raise ValueError(f"unknown shape {shape!r}")


def write_baton_spec(path, shape, tasks):
    spec = {
        "name": f"bench-{shape}",
        "tasks": [
            {"name": name, "command": ["true"], "depends_on": deps, "timeout_seconds": 0}
            for name, deps in tasks
        ],
    }
    with open(path, "w") as f:
        json.dump(spec, f, separators=(",", ":"))


def write_ninja(path, tasks):
    # One plain rule, one edge per task. Dependencies are implicit inputs (`|`), so the
    # edge order is exactly the DAG; outputs are never created, so every edge is dirty
    # and runs exactly once per build. No phony edges, no default: ninja builds every
    # root, which reaches every edge.
    lines = ["rule t", "  command = true", ""]
    for name, deps in tasks:
        lines.append(f"build {name}: t | {' '.join(deps)}" if deps else f"build {name}: t")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_xargs_input(path, tasks):
    with open(path, "w") as f:
        f.write("\n".join(name for name, _ in tasks) + "\n")


# --------------------------------------------------------------------------- measuring

TIME = "/usr/bin/time"


def measure(argv, cwd, stdout_path, stderr_path, stdin_path=None):
    """Runs argv; returns (wall seconds, peak RSS in MB, CPU seconds, exit code).

    CPU seconds = user + sys of the process and every child it reaped (the `true`s too),
    from GNU time (10 ms resolution); much less sensitive than wall time to other load
    on the machine.

    The peak RSS comes from GNU time (`%M`, wait4's ru_maxrss: the max RSS of the process
    and of the descendants it waited for). It is not taken from Python's own wait4: a
    child forked/vforked from Python starts with Python's RSS as its high-water mark,
    which would floor every reading at ~20 MB. GNU time's own RSS (~2 MB) is the floor
    instead. The wall time is perf_counter around the whole thing (GNU time adds one
    fork+exec, ~2 ms, alike for every tool).
    """
    rss_path = stdout_path + ".rss"
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            start = time.perf_counter()
            code = subprocess.call([TIME, "-f", "rss=%M cpu=%U+%S", "-o", rss_path, "--"] + argv,
                                   cwd=cwd, stdin=stdin, stdout=out, stderr=err)
            wall = time.perf_counter() - start
    finally:
        if stdin_path:
            stdin.close()
    with open(rss_path) as f:
        # a "Command exited with non-zero status" line may precede ours
        m = re.search(r"^rss=(\d+) cpu=([\d.]+)\+([\d.]+)$", f.read(), re.M)
    if not m:
        raise RunError(f"could not read peak RSS / CPU from {TIME}")
    return wall, int(m.group(1)) / 1024.0, float(m.group(2)) + float(m.group(3)), code


def tail(path, n=15):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-n:])


class RunError(Exception):
    pass


def run_baton(baton, workdir, spec_path, n, workers):
    data_dir = tempfile.mkdtemp(prefix="data-", dir=workdir)
    out, err = os.path.join(workdir, "baton.out"), os.path.join(workdir, "baton.err")
    argv = [baton, "run", spec_path, "--workers", str(workers), "--data-dir", data_dir, "--json"]
    wall, rss, cpu, code = measure(argv, workdir, out, err)
    if code != 0:
        raise RunError(f"baton exited {code}: {' '.join(argv)}\n{tail(err)}\n{tail(out)}")
    try:
        with open(out) as f:
            run = json.loads(f.read().strip().splitlines()[-1])
        succeeded = run.get("counts", {}).get("succeeded")
        if succeeded is None:
            succeeded = sum(1 for t in run.get("tasks", []) if t.get("status") == "succeeded")
    except (ValueError, IndexError, OSError) as e:
        raise RunError(f"could not read baton --json output: {e}\n{tail(out)}")
    if succeeded != n or run.get("status") != "succeeded":
        raise RunError(f"baton: run {run.get('status')}, {succeeded}/{n} tasks succeeded")
    # The data dir is NOT removed here but with the whole work dir at the end: on ext4
    # without a journal (as on the reference VM) inodes freed in the last seconds make the
    # next inode allocations scan (recently_deleted), which would slow the next Baton run.
    return wall, rss, cpu


def run_xargs(workdir, input_path, n, parallelism):
    out, err = os.path.join(workdir, "xargs.out"), os.path.join(workdir, "xargs.err")
    argv = ["xargs", "-P", str(parallelism), "-n", "1", "true"]
    wall, rss, cpu, code = measure(argv, workdir, out, err, stdin_path=input_path)
    if code != 0:
        raise RunError(f"xargs exited {code}\n{tail(err)}")
    return wall, rss, cpu


NINJA_STATUS = re.compile(rb"^\[(\d+)/(\d+)\]", re.M)


def run_ninja(workdir, ninja_path, n, parallelism):
    build_dir = tempfile.mkdtemp(prefix="ninja-", dir=workdir)
    out, err = os.path.join(workdir, "ninja.out"), os.path.join(workdir, "ninja.err")
    # -j 2 even for the chain (the chain's DAG serialises it, as it does for Baton).
    argv = ["ninja", "-j", "2", "-f", ninja_path]
    wall, rss, cpu, code = measure(argv, build_dir, out, err)
    if code != 0:
        raise RunError(f"ninja exited {code}\n{tail(err)}\n{tail(out)}")
    with open(out, "rb") as f:
        statuses = NINJA_STATUS.findall(f.read())
    done = len(statuses)
    last = statuses[-1] if statuses else (b"0", b"0")
    if done != n or last != (str(n).encode(), str(n).encode()):
        raise RunError(f"ninja ran {done} commands, last status [{last[0].decode()}/{last[1].decode()}], expected [{n}/{n}]")
    return wall, rss, cpu


# --------------------------------------------------------------------------- main



def fs_type(path):
    try:
        return subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True).stdout.strip()
    except OSError:
        return None


def cleanup(workroot, keep):
    if keep:
        print(f"# kept {workroot}")
    else:
        shutil.rmtree(workroot, ignore_errors=True)


def file_info(path):
    try:
        st = os.stat(path)
        return {"path": os.path.abspath(path), "bytes": st.st_size,
                "mtime": dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).isoformat(timespec="seconds")}
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baton", default=os.path.join(REPO, ".build", "release", "baton"))
    ap.add_argument("--repeat", type=int, default=3, help="runs per (shape, tool); the median is reported (default 3)")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated subset of wide,chain,layered")
    ap.add_argument("--tools", default="baton,xargs,ninja", help="comma-separated subset of baton,xargs,ninja")
    ap.add_argument("--seed", type=int, default=1, help="seed of the layered shape's random dependencies (default 1)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply task counts (e.g. 0.1 for a quick smoke run)")
    ap.add_argument("--workers", type=int, default=2, help="baton --workers and xargs/ninja parallelism (default 2)")
    ap.add_argument("--tmp", default=None, help="where fresh work dirs are made (default: $TMPDIR or /tmp)")
    ap.add_argument("--output", default=None, help="results JSON (default bench/results/core-<UTC time>.json)")
    ap.add_argument("--generate-only", metavar="DIR", help="write the specs / build.ninja / xargs inputs to DIR and exit")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (for inspection)")
    ap.add_argument("--strict", action="store_true", help="exit 3 when a target is not met (default: exit 0)")
    args = ap.parse_args()

    shapes = [s for s in args.shapes.split(",") if s]
    for s in shapes:
        if s not in SHAPES:
            ap.error(f"unknown shape {s!r} (choose from {', '.join(SHAPES)})")
    tools = [t for t in args.tools.split(",") if t]
    for t in tools:
        if t not in ("baton", "xargs", "ninja"):
            ap.error(f"unknown tool {t!r}")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")

    if args.generate_only:
        os.makedirs(args.generate_only, exist_ok=True)
        for shape in shapes:
            tasks, _ = generate(shape, args.seed, args.scale)
            write_baton_spec(os.path.join(args.generate_only, f"{shape}.json"), shape, tasks)
            write_ninja(os.path.join(args.generate_only, f"{shape}.ninja"), tasks)
            write_xargs_input(os.path.join(args.generate_only, f"{shape}.txt"), tasks)
            print(f"{shape}: {len(tasks)} tasks")
        return 0

    if "baton" in tools and not os.access(args.baton, os.X_OK):
        print(f"core_bench: no baton binary at {args.baton} (run bench/core.sh, which builds it)", file=sys.stderr)
        return 2
    if not os.access(TIME, os.X_OK):
        print(f"core_bench: {TIME} not found (apt-get install time)", file=sys.stderr)
        return 2
    for tool in ("xargs", "ninja"):
        if tool in tools and shutil.which(tool) is None:
            print(f"core_bench: {tool} not found on PATH", file=sys.stderr)
            return 2

    workroot = tempfile.mkdtemp(prefix="baton-core-bench-", dir=args.tmp)
    print(f"# work dir {workroot} ({fs_type(workroot)}), repeat {args.repeat}, seed {args.seed}, workers {args.workers},"
          f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    results = []
    failures = []
    try:
        # Warm-up: page in every binary once (not measured).
        warm = os.path.join(workroot, "warmup")
        os.makedirs(warm)
        wtasks, _ = generate("wide", args.seed, 0.002)
        write_baton_spec(os.path.join(warm, "spec.json"), "warmup", wtasks)
        write_ninja(os.path.join(warm, "build.ninja"), wtasks)
        write_xargs_input(os.path.join(warm, "tasks.txt"), wtasks)
        try:
            if "baton" in tools:
                run_baton(args.baton, warm, os.path.join(warm, "spec.json"), len(wtasks), args.workers)
            if "xargs" in tools:
                run_xargs(warm, os.path.join(warm, "tasks.txt"), len(wtasks), args.workers)
            if "ninja" in tools:
                run_ninja(warm, os.path.join(warm, "build.ninja"), len(wtasks), args.workers)
        except RunError as e:
            print(f"warm-up failed: {e}", file=sys.stderr)
            return 1

        for shape in shapes:
            tasks, parallel = generate(shape, args.seed, args.scale)
            n = len(tasks)
            par = args.workers if parallel > 1 else 1
            sdir = os.path.join(workroot, shape)
            os.makedirs(sdir)
            spec = os.path.join(sdir, "spec.json")
            ninja_file = os.path.join(sdir, "build.ninja")
            xin = os.path.join(sdir, "tasks.txt")
            write_baton_spec(spec, shape, tasks)
            write_ninja(ninja_file, tasks)
            write_xargs_input(xin, tasks)
            samples = {t: [] for t in tools}
            for r in range(args.repeat):
                # Interleave the tools within each repetition so drift hits them alike.
                for tool in tools:
                    try:
                        if tool == "baton":
                            wall, rss, cpu = run_baton(args.baton, sdir, spec, n, args.workers)
                        elif tool == "xargs":
                            wall, rss, cpu = run_xargs(sdir, xin, n, par)
                        else:
                            wall, rss, cpu = run_ninja(sdir, ninja_file, n, args.workers)
                    except RunError as e:
                        failures.append({"shape": shape, "tool": tool, "error": str(e)})
                        print(f"  {shape:8} {tool:6} run {r + 1}: FAILED: {e}", file=sys.stderr)
                        continue
                    samples[tool].append({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss,
                                          "loadavg_1m": os.getloadavg()[0]})
                    print(f"  {shape:8} {tool:6} run {r + 1}/{args.repeat}: {wall:8.3f} s wall  {cpu:7.2f} s cpu  {rss:7.1f} MB"
                          f"  (load {os.getloadavg()[0]:.1f})", flush=True)
            for tool in tools:
                if not samples[tool]:
                    continue
                walls = [s["wall_s"] for s in samples[tool]]
                rsss = [s["peak_rss_mb"] for s in samples[tool]]
                cpus = [s["cpu_s"] for s in samples[tool]]
                med = statistics.median(walls)
                results.append({
                    "shape": shape, "tool": tool, "tasks": n,
                    "parallelism": args.workers if tool != "xargs" else par,
                    "wall_s_median": med, "wall_s_min": min(walls), "wall_s_max": max(walls),
                    "tasks_per_s": n / med if med > 0 else None,
                    "cpu_s_median": statistics.median(cpus),
                    "peak_rss_mb_max": max(rsss), "peak_rss_mb_median": statistics.median(rsss),
                    "samples": samples[tool],
                })
    except BaseException:
        cleanup(workroot, args.keep)
        raise

    by = {(r["shape"], r["tool"]): r for r in results}
    ratios = {}
    for shape in shapes:
        b, nj, x = by.get((shape, "baton")), by.get((shape, "ninja")), by.get((shape, "xargs"))
        ratios[shape] = {
            "baton_over_ninja": b["wall_s_median"] / nj["wall_s_median"] if b and nj else None,
            "baton_over_xargs": b["wall_s_median"] / x["wall_s_median"] if b and x else None,
            "ninja_over_xargs": nj["wall_s_median"] / x["wall_s_median"] if nj and x else None,
            "baton_over_ninja_cpu": b["cpu_s_median"] / nj["cpu_s_median"] if b and nj and nj["cpu_s_median"] else None,
            # best run over best run: the least disturbed by other load on the machine
            "baton_over_ninja_best": b["wall_s_min"] / nj["wall_s_min"] if b and nj else None,
        }

    # Table.
    print()
    header = (f"{'shape':8} {'tool':6} {'tasks':>6} {'wall s':>8} {'tasks/s':>9} {'cpu s':>7} {'peak MB':>8}"
              f"  {'baton/ninja':>11} {'baton/xargs':>11} {'cpu b/n':>8}")
    print(header)
    print("-" * len(header))
    for shape in shapes:
        for tool in tools:
            r = by.get((shape, tool))
            if not r:
                print(f"{shape:8} {tool:6} {'FAILED':>6}")
                continue
            extra = ""
            if tool == "baton":
                bn, bx, bc = (ratios[shape][k] for k in ("baton_over_ninja", "baton_over_xargs", "baton_over_ninja_cpu"))
                extra = f"  {(f'{bn:.2f}' if bn else '-'):>11} {(f'{bx:.2f}' if bx else '-'):>11} {(f'{bc:.2f}' if bc else '-'):>8}"
            print(f"{shape:8} {tool:6} {r['tasks']:6d} {r['wall_s_median']:8.3f} {r['tasks_per_s']:9.0f} {r['cpu_s_median']:7.2f}"
                  f" {r['peak_rss_mb_max']:8.1f}{extra}")

    best = [f"{shape} {ratios[shape]['baton_over_ninja_best']:.2f}" for shape in shapes
            if ratios[shape]["baton_over_ninja_best"] is not None]
    if best and args.repeat > 1:
        print(f"best-of-{args.repeat} baton/ninja (fastest run over fastest run): {', '.join(best)}")

    # Targets.
    checks = []
    if "baton" in tools and "ninja" in tools:
        for shape in shapes:
            v = ratios[shape]["baton_over_ninja"]
            checks.append({"check": f"{shape}: baton/ninja wall <= {RATIO_TARGET}", "value": v,
                           "ok": v is not None and v <= RATIO_TARGET})
    if "baton" in tools:
        for shape in shapes:
            r = by.get((shape, "baton"))
            if r is None or r["tasks"] < 10_000:
                continue
            checks.append({"check": f"{shape}: baton peak RSS < {MEMORY_TARGET_MB:.0f} MB", "value": r["peak_rss_mb_max"],
                           "ok": r["peak_rss_mb_max"] < MEMORY_TARGET_MB})
    if failures:
        checks.append({"check": "every run completed", "value": len(failures), "ok": False})
    print()
    all_ok = print_checks(checks, digits=2)
    loads = [smp["loadavg_1m"] for r in results for smp in r["samples"]]
    busy = bool(loads) and max(loads) > (os.cpu_count() or 1) + 0.5
    if busy:
        print(f"\nWARNING: the machine was busy (1-min load average up to {max(loads):.1f} on {os.cpu_count()} CPUs, "
              f"our own runs count ~2): wall times and ratios are unreliable; compare the cpu columns, or rerun on a quiet machine.")
    if checks:
        print(f"\ntargets: {'MET' if all_ok else 'NOT MET'}")

    # JSON.
    now = dt.datetime.now(dt.timezone.utc)
    out = args.output or os.path.join(BENCH_DIR, "results", f"core-{now.strftime('%Y%m%d-%H%M%S')}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)

    def version(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return None

    document = {
        "benchmark": "baton-core",
        "date": now.isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "baton_binary": file_info(args.baton) if "baton" in tools else None,
        "config": {"repeat": args.repeat, "shapes": shapes, "tools": tools, "seed": args.seed,
                   "scale": args.scale, "workers": args.workers, "tmp_fs": fs_type(args.tmp or tempfile.gettempdir())},
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "machine": platform.machine(),
                    "python": platform.python_version(), "ninja": version(["ninja", "--version"]),
                    "xargs": version(["xargs", "--version"])},
        "targets": {"baton_over_ninja_max": RATIO_TARGET, "baton_peak_rss_mb_max_10k": MEMORY_TARGET_MB},
        "results": results,
        "ratios": ratios,
        "checks": checks,
        "failures": failures,
        "targets_met": all_ok,
        "machine_busy": busy,
    }
    write_results(out, document)
    # Removed last: deleting Baton's ~10,000 log files per run takes a while on a slow disk.
    cleanup(workroot, args.keep)
    if failures:
        return 1
    return 3 if args.strict and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
