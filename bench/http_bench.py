#!/usr/bin/env python3
"""Baton HTTP benchmark: the v1 runs API under wrk, against nginx and ninja baselines.

Driven by bench/http.sh (which builds the release binary first); see bench/README.md.
Everything runs on 127.0.0.1, each part on a fresh `baton serve --workers 2` and data dir:

  get     GET /v1/runs/{id} of a finished 20-task run, `wrk -t2 -c32 -d10s`, requests/s;
          nginx (bench/nginx.conf, temporary prefix) serving the same bytes as a static
          file at the same path in the same invocation: Baton / nginx (target >= 0.6).
          Then both again with `If-None-Match: <their ETag>` (the 304 path).
  submit  POST /v1/runs of a 10-task spec of `["true"]` commands (bench/submit.lua),
          `wrk -t2 -c32 -d5s`: runs accepted per second, latency p50/p99. Every accepted
          run also executes (on the same 2 cores, during and after the window); the time
          to drain that backlog is reported too.
  dag     The core benchmark's 10,000-task layered DAG (bench/core_bench.py's generator,
          same seed) POSTed to /v1/runs; wall time from the POST to the first GET
          /v1/runs/{id} (polled with If-None-Match, every 20 ms and, in another run, every
          second: --poll-intervals) that shows `succeeded`; ninja -j 2 on the same DAG in
          the same invocation (core_bench.run_ninja): Baton / ninja with the 20 ms poller
          (target <= 1.2). The poller's own CPU (reading and parsing each 2 MB answer) is
          reported: it shares the 2 cores. `baton run` (the CLI, no server) for reference.
  idle    Cold start of `baton serve` on an empty data dir to the first 200 from /healthz
          (median of --starts, target < 10 ms); then the idle server's RSS, split into
          anonymous and file-backed pages, and its threads (target < 15 MiB).
"""

import argparse
import http.client
import signal
import subprocess
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

import core_bench
from bench_common import git_revision, log, print_checks, remove_workdir, write_results
from bench_server import (BENCH_DIR, REPO, BatonServer, BenchError, Client, CPUWindow, Nginx, Perf,
                          free_port, proc_rss_mb, version, wrk)

PARTS = ("get", "submit", "dag", "idle")
GET_RATIO_TARGET = 0.6
IDLE_RSS_TARGET_MB = 15
COLD_START_TARGET_MS = 10
SUBMIT_RATE_TARGET = 2000
SUBMIT_P99_TARGET_MS = 20
DAG_RATIO_TARGET = 1.2  # with the fastest poller (the first --poll-intervals value)
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


def spec_of_trues(name, n):
    return {"name": name, "tasks": [{"name": f"t{i}", "command": ["true"]} for i in range(1, n + 1)]}


def wait_run(client, run_id, timeout, interval=0.05):
    """Polls GET /v1/runs/{id} with If-None-Match until the run ends. Returns
    (run document, polls, number of 200s, number of 304s)."""
    deadline = time.monotonic() + timeout
    etag, doc = None, None
    polls = n200 = n304 = 0
    while True:
        headers = {"If-None-Match": etag} if etag else {}
        status, hdrs, body = client.request("GET", f"/v1/runs/{run_id}", headers=headers)
        polls += 1
        if status == 200:
            n200 += 1
            etag = hdrs.get("etag")
            doc = json.loads(body)
        elif status == 304:
            n304 += 1
        else:
            raise BenchError(f"GET /v1/runs/{run_id}: HTTP {status}: {body[:300]!r}")
        if doc is not None and doc.get("status") in TERMINAL:
            return doc, polls, n200, n304
        if time.monotonic() > deadline:
            raise BenchError(f"run {run_id} not finished after {timeout:.0f} s (status {doc and doc.get('status')})")
        time.sleep(interval)


def parse_ts(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def perf_path(args, name):
    return os.path.join(args.perf, f"http-{name}.perf.data") if args.perf else None


def rate(r):
    return r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0


def strip_wrk(r):
    """The wrk result without the raw text (kept in wrk.log)."""
    return {k: v for k, v in r.items() if k not in ("output",)}


# --------------------------------------------------------------------------- parts

def part_get(args, workroot, wrk_log):
    wd = os.path.join(workroot, "get")
    os.makedirs(wd)
    server = BatonServer(args.baton, wd, args.workers).start()
    nginx = None
    try:
        c = server.client()
        run = c.json("POST", "/v1/runs", spec_of_trues("bench-get", 20), expect=(201,))
        run_id = run["id"]
        doc, *_ = wait_run(c, run_id, 120)
        if doc["status"] != "succeeded":
            raise BenchError(f"the 20-task run ended {doc['status']}")
        path = f"/v1/runs/{run_id}"
        status, hdrs, body = c.request("GET", path)
        status2, hdrs2, body2 = c.request("GET", path)
        if status != 200 or body != body2 or hdrs.get("etag") != hdrs2.get("etag"):
            raise BenchError("GET of the finished run is not stable (body or ETag changed)")
        baton_etag = hdrs["etag"]
        if c.request("GET", path, headers={"If-None-Match": baton_etag})[0] != 304:
            raise BenchError("Baton did not answer 304 to its own ETag")
        c.close()

        root = os.path.join(wd, "www")
        os.makedirs(os.path.join(root, "v1", "runs"))
        with open(os.path.join(root, "v1", "runs", run_id), "wb") as f:
            f.write(body)
        os.chmod(wd, 0o755)  # nginx workers (dropped privileges when started as root) read it
        for d, _, files in os.walk(root):
            os.chmod(d, 0o755)
            for name in files:
                os.chmod(os.path.join(d, name), 0o644)
        nginx = Nginx(os.path.join(wd, "nginx"), root, workers=args.workers,
                      access_log=args.nginx_access_log == "on").start()
        nc = Client(nginx.port)
        st, nh, nbody = nc.request("GET", path)
        if st != 200 or nbody != body:
            raise BenchError(f"nginx answered {st} with {len(nbody)} bytes, not the {len(body)} bytes of Baton")
        nginx_etag = nh.get("etag")
        if nc.request("GET", path, headers={"If-None-Match": nginx_etag})[0] != 304:
            raise BenchError("nginx did not answer 304 to its own ETag")
        nc.close()
        log(f"# get: run {run_id}, {len(body)} bytes of JSON; Baton on :{server.port}, nginx on :{nginx.port}")

        common = dict(threads=args.threads, connections=args.connections, log_path=wrk_log)
        # Warm-up (not measured): page in, open the keep-alive connections, fill caches.
        for url in (server.url, nginx.url):
            wrk(url + path, "report.lua", duration="2s", **common)

        results = {"run_id": run_id, "body_bytes": len(body), "tasks": 20}
        for label, etags in (("200", None), ("304", (baton_etag, nginx_etag))):
            row = {}
            for tool, url, pid, etag in (("baton", server.url, server.pid, etags and etags[0]),
                                         ("nginx", nginx.url, nginx.pid, etags and etags[1])):
                headers = [f"If-None-Match: {etag}"] if etag else []
                perf = Perf(perf_path(args, f"get-{label}") if tool == "baton" else None).start(pid)
                window = CPUWindow(pid).start()
                nginx_cpu0 = nginx.cpu_s() if tool == "nginx" else None
                r = wrk(url + path, "report.lua", duration=args.duration, headers=headers, **common)
                cpu = window.stop()
                perf.stop()
                r["requests_per_s"] = rate(r)
                if tool == "baton":
                    r["server_cpu_s"] = cpu["cpu_s"]
                    r["server_threads_cpu_s"] = cpu["threads_cpu_s"]
                    r["server_rss_mb"] = proc_rss_mb(pid)
                else:  # nginx's CPU is in its workers (live children): master + workers
                    r["server_cpu_s"] = nginx.cpu_s() - nginx_cpu0
                r["server_cpu_us_per_request"] = 1e6 * r["server_cpu_s"] / r["requests"] if r["requests"] else None
                row[tool] = strip_wrk(r)
                bad = r["errors"]["status"] + r["errors"]["connect"] + r["errors"]["read"] + r["errors"]["timeout"]
                log(f"  get {label} {tool:6} {r['requests_per_s']:10.0f} req/s  p50 {r['latency_us']['p50'] / 1000:7.2f} ms"
                    f"  p99 {r['latency_us']['p99'] / 1000:7.2f} ms  errors {bad}"
                    f"  server cpu {r['server_cpu_s']:.1f} s = {r['server_cpu_us_per_request'] or 0:.0f} us/request"
                    f"  (load {os.getloadavg()[0]:.1f})")
            b, n = row["baton"]["requests_per_s"], row["nginx"]["requests_per_s"]
            row["baton_over_nginx"] = b / n if n else None
            results[label] = row
        return results
    finally:
        if nginx:
            nginx.stop()
        server.stop()


def count_runs(client):
    """({run status: count}, {task status: count}) over every run (GET /v1/runs, pages of 1000)."""
    counts, tasks = {}, {}
    cursor = None
    while True:
        q = "/v1/runs?limit=1000" + (f"&cursor={cursor}" if cursor else "")
        page = client.json("GET", q)
        for r in page["runs"]:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
            for k, v in (r.get("counts") or {}).items():
                tasks[k] = tasks.get(k, 0) + v
        cursor = page.get("next_cursor")
        if not cursor:
            return counts, tasks


def part_submit(args, workroot, wrk_log):
    wd = os.path.join(workroot, "submit")
    os.makedirs(wd)
    body_path = os.path.join(wd, "spec.json")
    with open(body_path, "w") as f:
        json.dump(spec_of_trues("bench-submit", 10), f, separators=(",", ":"))
    server = BatonServer(args.baton, wd, args.workers).start()
    try:
        c = server.client()
        # Warm-up (not measured): one run, through to the end.
        run = c.json("POST", "/v1/runs", spec_of_trues("bench-submit-warmup", 10), expect=(201,))
        wait_run(c, run["id"], 60)
        perf = Perf(perf_path(args, "submit")).start(server.pid)
        window = CPUWindow(server.pid).start()
        t0 = time.monotonic()
        r = wrk(server.url + "/v1/runs", "submit.lua", threads=args.threads, connections=args.submit_connections,
                duration=args.submit_duration, env={"BATON_BENCH_BODY": body_path}, log_path=wrk_log)
        t_wrk = time.monotonic() - t0
        cpu_wrk = window.stop()
        perf.stop()
        r["runs_accepted_per_s"] = r["accepted"] / (r["duration_us"] / 1e6)
        log(f"  submit {r['accepted']} runs accepted in {r['duration_us'] / 1e6:.2f} s: {r['runs_accepted_per_s']:.0f} runs/s"
            f"  p50 {r['latency_us']['p50'] / 1000:.1f} ms  p99 {r['latency_us']['p99'] / 1000:.1f} ms"
            f"  max {r['latency_us']['max'] / 1000:.1f} ms  other statuses {r['other_statuses'] or 'none'}"
            f"  (load {os.getloadavg()[0]:.1f})")
        # Drain: every accepted run executes; wait until none is queued or running.
        deadline = time.monotonic() + args.drain_timeout
        drained = False
        while time.monotonic() < deadline:
            busy = sum(len(c.json("GET", f"/v1/runs?status={s}&limit=1")["runs"]) for s in ("queued", "running"))
            if busy == 0:
                drained = True
                break
            time.sleep(0.2)
        t_all = time.monotonic() - t0
        counts, task_counts = count_runs(c)
        executed = counts.get("succeeded", 0) - 1  # less the warm-up run
        tasks_done = task_counts.get("succeeded", 0) - 10
        r = strip_wrk(r)
        r.update({
            "spec_tasks": 10,
            "wrk_wall_s": t_wrk,
            "drained": drained,
            "drain_s_after_wrk": t_all - t_wrk if drained else None,
            "runs_by_status": counts,
            "runs_succeeded": executed,
            "tasks_by_status": task_counts,
            "tasks_succeeded": tasks_done,
            "tasks_per_s_overall": tasks_done / t_all if t_all > 0 else None,
            "executed_runs_per_s": executed / t_all if drained and t_all > 0 else None,
            "server_cpu_s_during_wrk": cpu_wrk["cpu_s"],
            "children_cpu_s_during_wrk": cpu_wrk["children_cpu_s"],
            "server_threads_cpu_s_during_wrk": cpu_wrk["threads_cpu_s"],
        })
        log(f"  submit drain: {'all done' if drained else 'NOT drained'} {t_all - t_wrk:.1f} s after wrk;"
            f" runs by status {counts}; {tasks_done} tasks succeeded, {tasks_done / t_all:.0f} tasks/s since wrk began")
        # wrk stops reading when its time is up: the POSTs then in flight (at most one per
        # connection) may still be accepted by the server without wrk counting them.
        stored = sum(counts.values()) - 1
        r["runs_stored"] = stored
        r["runs_in_flight_at_end"] = stored - r["accepted"]
        if not 0 <= stored - r["accepted"] <= args.submit_connections:
            log(f"  WARNING: {r['accepted']} runs accepted (wrk) but {stored} stored (server)")
        if drained and executed != stored:
            log(f"  WARNING: {stored} runs stored but {executed} succeeded")
        return r
    finally:
        server.stop()


def part_dag(args, workroot):
    wd = os.path.join(workroot, "dag")
    os.makedirs(wd)
    tasks, _ = core_bench.generate("layered", args.seed, args.scale)
    n = len(tasks)
    spec_path = os.path.join(wd, "spec.json")
    ninja_path = os.path.join(wd, "build.ninja")
    core_bench.write_baton_spec(spec_path, "layered", tasks)
    core_bench.write_ninja(ninja_path, tasks)
    with open(spec_path, "rb") as f:
        spec_bytes = f.read()
    pollers = [f"baton-api@{interval:g}s" for interval in args.poll_intervals]
    tools = pollers + ["ninja"] + (["baton-run"] if args.cli else [])
    samples = {t: [] for t in tools}
    log(f"# dag: layered, {n} tasks, seed {args.seed}, {len(spec_bytes)} bytes of spec, poll intervals {args.poll_intervals} s")

    # Warm-up (not measured): the server, ninja and the CLI once on a small DAG.
    wtasks, _ = core_bench.generate("layered", args.seed, 0.02)
    wspec, wninja = os.path.join(wd, "warm.json"), os.path.join(wd, "warm.ninja")
    core_bench.write_baton_spec(wspec, "warm", wtasks)
    core_bench.write_ninja(wninja, wtasks)
    core_bench.run_ninja(wd, wninja, len(wtasks), args.workers)
    if args.cli:
        core_bench.run_baton(args.baton, wd, wspec, len(wtasks), args.workers)

    for rep in range(args.repeat):
        for tool in tools:
            if tool == "ninja":
                wall, rss, cpu = core_bench.run_ninja(wd, ninja_path, n, args.workers)
                s = {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss}
            elif tool == "baton-run":
                wall, rss, cpu = core_bench.run_baton(args.baton, wd, spec_path, n, args.workers)
                s = {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss}
            else:
                sd = os.path.join(wd, f"server-{rep + 1}-{pollers.index(tool) + 1}")
                os.makedirs(sd)
                server = BatonServer(args.baton, sd, args.workers).start()
                try:
                    c = server.client(timeout=600)
                    with open(wspec, "rb") as f:  # warm the server's code paths (not measured)
                        run = c.json("POST", "/v1/runs", f.read(), expect=(201,),
                                     headers={"Content-Type": "application/json"})
                    wait_run(c, run["id"], 60)
                    perf = Perf(perf_path(args, "dag") if rep == 0 and tool == pollers[0] else None).start(server.pid)
                    window = CPUWindow(server.pid).start()
                    t0 = time.perf_counter()
                    status, hdrs, body = c.request("POST", "/v1/runs", spec_bytes,
                                                   headers={"Content-Type": "application/json"})
                    t_post = time.perf_counter() - t0
                    if status != 201:
                        raise BenchError(f"POST of the DAG: HTTP {status}: {body[:300]!r}")
                    run_id = json.loads(body)["id"]
                    interval = args.poll_intervals[pollers.index(tool)]
                    poller_cpu0 = time.process_time()
                    doc, polls, n200, n304 = wait_run(c, run_id, args.dag_timeout, interval)
                    wall = time.perf_counter() - t0
                    poller_cpu = time.process_time() - poller_cpu0
                    cpu = window.stop()
                    perf.stop()
                    rss = proc_rss_mb(server.pid)
                    if doc["status"] != "succeeded" or doc["counts"]["succeeded"] != n:
                        raise BenchError(f"the DAG run ended {doc['status']} with counts {doc['counts']}")
                    server_s = parse_ts(doc["finished_at"]) - parse_ts(doc["created_at"])
                    s = {"wall_s": wall, "post_s": t_post, "server_created_to_finished_s": server_s,
                         "poll_interval_s": interval, "polls": polls, "polls_200": n200, "polls_304": n304,
                         # the poller's own CPU (HTTP reads, json.loads of every 200): it runs on the
                         # same cores as the tasks, as a dashboard on the same machine would
                         "poller_cpu_s": poller_cpu,
                         # as for ninja (GNU time): the server and the tasks it reaped
                         "cpu_s": cpu["cpu_s"] + cpu["children_cpu_s"],
                         "server_cpu_s": cpu["cpu_s"], "children_cpu_s": cpu["children_cpu_s"],
                         "threads_cpu_s": cpu["threads_cpu_s"], "rss_mb_at_end": rss}
                finally:
                    server.stop()
            s["loadavg_1m"] = os.getloadavg()[0]
            samples[tool].append(s)
            extra = ""
            if tool in pollers:
                extra = (f"  (POST {s['post_s']:.2f} s, created->finished {s['server_created_to_finished_s']:.2f} s,"
                         f" {s['polls']} polls: {s['polls_200']}x200 {s['polls_304']}x304, poller {s['poller_cpu_s']:.2f} s cpu)")
            log(f"  dag {tool:9} run {rep + 1}/{args.repeat}: {s['wall_s']:8.3f} s wall {s['cpu_s']:7.2f} s cpu{extra}"
                f"  (load {s['loadavg_1m']:.1f})")
    out = {"tasks": n, "seed": args.seed, "spec_bytes": len(spec_bytes), "poll_intervals_s": args.poll_intervals,
           "pollers": pollers}
    for tool in tools:
        walls = [s["wall_s"] for s in samples[tool]]
        out[tool] = {"wall_s_median": statistics.median(walls), "wall_s_min": min(walls), "wall_s_max": max(walls),
                     "cpu_s_median": statistics.median(s["cpu_s"] for s in samples[tool]),
                     "samples": samples[tool]}
    for tool in pollers:
        out[tool]["poller_cpu_s_median"] = statistics.median(s["poller_cpu_s"] for s in samples[tool])
        out[tool]["over_ninja"] = out[tool]["wall_s_median"] / out["ninja"]["wall_s_median"]
    out["baton_api_over_ninja"] = out[pollers[0]]["over_ninja"]
    if args.cli:
        out["baton_run_over_ninja"] = out["baton-run"]["wall_s_median"] / out["ninja"]["wall_s_median"]
    return out


def proc_status(pid):
    """/proc/PID/status as a dict of its fields (values as text)."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def part_idle(args, workroot):
    """Cold start: `baton serve` on a fresh, empty data dir until the first 200 from
    /healthz (the client retries as fast as it can), median of --starts. Then the idle
    server's RSS (with its anonymous / file-backed split) and threads after --idle-wait s."""
    starts = []
    for index in range(args.starts):
        data = os.path.join(workroot, "idle", f"start-{index}")
        os.makedirs(data)
        port = free_port()
        argv = [args.baton, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--workers", str(args.workers)]
        env = {k: v for k, v in os.environ.items() if k != "BATON_TOKEN"}
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
        try:
            while True:
                if proc.poll() is not None:
                    raise BenchError(f"baton serve exited {proc.returncode} during start-up")
                if time.perf_counter() - t0 > 30:
                    raise BenchError("baton serve did not answer /healthz within 30 s")
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        starts.append((time.perf_counter() - t0) * 1000)
                        break
                except (ConnectionError, OSError, http.client.HTTPException):
                    pass
                finally:
                    conn.close()
            if index == args.starts - 1:
                time.sleep(args.idle_wait)
                status = proc_status(proc.pid)
                kb = lambda name: int(status.get(name, "0 kB").split()[0])
                idle = {"rss_mb": kb("VmRSS") / 1024, "rss_anon_mb": kb("RssAnon") / 1024,
                        "rss_file_mb": kb("RssFile") / 1024, "threads": int(status["Threads"]),
                        "wait_s": args.idle_wait}
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    log(f"  cold starts (ms): {', '.join(f'{ms:.1f}' for ms in starts)}")
    log(f"  idle after {args.idle_wait:g} s: {idle['rss_mb']:.1f} MiB RSS ({idle['rss_anon_mb']:.1f} anon,"
        f" {idle['rss_file_mb']:.1f} file), {idle['threads']} threads")
    return {"cold_start_ms": starts, "cold_start_ms_median": statistics.median(starts), "idle": idle}


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baton", default=os.path.join(REPO, ".build", "release", "baton"))
    ap.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset of get,submit,dag")
    ap.add_argument("--workers", type=int, default=2, help="baton serve --workers, nginx workers, ninja -j (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    ap.add_argument("--connections", type=int, default=32, help="wrk -c of the GET part (default 32)")
    ap.add_argument("--duration", default="10s", help="wrk -d of each GET measurement (default 10s)")
    ap.add_argument("--submit-connections", type=int, default=32, help="wrk -c of the submit part (default 32)")
    ap.add_argument("--submit-duration", default="5s", help="wrk -d of the submit part (default 5s)")
    ap.add_argument("--drain-timeout", type=float, default=120,
                    help="seconds to wait, after wrk, for the submitted runs to finish (default 120)")
    ap.add_argument("--nginx-access-log", choices=("on", "off"), default="on",
                    help="nginx writes an access log like Baton's per-request log line (default on)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the DAG per tool; the median is reported (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the layered DAG (default 1, as bench/core.sh)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the DAG's task count (0.1 for a smoke run)")
    ap.add_argument("--poll-intervals", type=lambda text: [float(x) for x in text.split(",")], default=[0.02, 1.0],
                    help="seconds between GETs (If-None-Match) while waiting for the DAG run, one measured run per value"
                         " (default 0.02,1: a dashboard polling every 20 ms, and one polling every second)"),
    ap.add_argument("--dag-timeout", type=float, default=600)
    ap.add_argument("--starts", type=int, default=11, help="cold starts measured by the idle part (median; default 11)")
    ap.add_argument("--idle-wait", type=float, default=5, help="seconds the idle part lets the server settle (default 5)")
    ap.add_argument("--no-cli", dest="cli", action="store_false", help="skip the `baton run` reference on the DAG")
    ap.add_argument("--tmp", default=None, help="where the work dir is made (default: $TMPDIR or /tmp)")
    ap.add_argument("--output", default=None, help="results JSON (default bench/results/http-<UTC time>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (server logs, wrk output, nginx prefix)")
    ap.add_argument("--strict", action="store_true", help="exit 3 when a target is not met (default: exit 0)")
    ap.add_argument("--perf", metavar="DIR", default=None,
                    help="record the server with `perf record -g` during Baton's GET windows, the submit window and the"
                         " first DAG run, into DIR/http-<part>.perf.data")
    args = ap.parse_args()

    parts = [p for p in args.parts.split(",") if p]
    for p in parts:
        if p not in PARTS:
            ap.error(f"unknown part {p!r} (choose from {', '.join(PARTS)})")
    if not os.access(args.baton, os.X_OK):
        print(f"http_bench: no baton binary at {args.baton} (run bench/http.sh, which builds it)", file=sys.stderr)
        return 2
    for tool in (["wrk"] if {"get", "submit"} & set(parts) else []) + (["nginx"] if "get" in parts else []) \
            + (["ninja"] if "dag" in parts else []):
        if shutil.which(tool) is None and not os.access(f"/usr/sbin/{tool}", os.X_OK):
            print(f"http_bench: {tool} not found (apt-get install {tool if tool != 'ninja' else 'ninja-build'})",
                  file=sys.stderr)
            return 2

    workroot = tempfile.mkdtemp(prefix="baton-http-bench-", dir=args.tmp)
    wrk_log = os.path.join(workroot, "wrk.log")
    load0 = os.getloadavg()[0]
    log(f"# work dir {workroot}, workers {args.workers}, wrk -t{args.threads} -c{args.connections} -d{args.duration},"
        f" load average {load0:.1f} on {os.cpu_count()} CPUs")
    results, failures, loads = {}, [], [load0]
    part_loads = {}
    try:
        for part in parts:
            try:
                if part == "get":
                    results["get"] = part_get(args, workroot, wrk_log)
                elif part == "submit":
                    results["submit"] = part_submit(args, workroot, wrk_log)
                elif part == "idle":
                    results["idle"] = part_idle(args, workroot)
                else:
                    results["dag"] = part_dag(args, workroot)
            except (BenchError, core_bench.RunError, OSError) as e:
                failures.append({"part": part, "error": str(e)})
                print(f"  {part}: FAILED: {e}", file=sys.stderr)
            loads.append(os.getloadavg()[0])
            part_loads[part] = loads[-1]
    finally:
        remove_workdir(workroot, args.keep)

    # Table.
    print()
    header = f"{'measurement':34} {'baton':>12} {'baseline':>12} {'ratio':>7}  {'target':8}"
    print(header)
    print("-" * len(header))
    checks = []
    if "get" in results:
        g = results["get"]
        for label in ("200", "304"):
            row = g[label]
            ratio = row["baton_over_nginx"]
            target = f">= {GET_RATIO_TARGET}" if label == "200" else "(info)"
            print(f"{'GET run ' + label + ' req/s (vs nginx)':34} {row['baton']['requests_per_s']:12.0f}"
                  f" {row['nginx']['requests_per_s']:12.0f} {ratio:7.3f}  {target}")
            print(f"{'  latency p50 / p99 ms':34} {row['baton']['latency_us']['p50'] / 1000:5.2f} /{row['baton']['latency_us']['p99'] / 1000:6.2f}"
                  f" {row['nginx']['latency_us']['p50'] / 1000:5.2f} /{row['nginx']['latency_us']['p99'] / 1000:6.2f}")
            print(f"{'  server CPU us per request':34} {row['baton']['server_cpu_us_per_request'] or 0:12.0f}"
                  f" {row['nginx']['server_cpu_us_per_request'] or 0:12.0f}")
        checks.append({"check": f"GET /v1/runs/{{id}} baton/nginx req/s >= {GET_RATIO_TARGET}",
                       "value": g["200"]["baton_over_nginx"], "ok": g["200"]["baton_over_nginx"] >= GET_RATIO_TARGET})
    if "submit" in results:
        s = results["submit"]
        print(f"{'POST /v1/runs runs accepted/s':34} {s['runs_accepted_per_s']:12.0f}")
        print(f"{'  latency p50 / p99 / max ms':34} {s['latency_us']['p50'] / 1000:.1f} / {s['latency_us']['p99'] / 1000:.1f}"
              f" / {s['latency_us']['max'] / 1000:.1f}")
        if s["drained"]:
            print(f"{'  backlog drained after wrk, s':34} {s['drain_s_after_wrk']:12.1f}   ({s['runs_succeeded']} runs x 10 tasks,"
                  f" {s['executed_runs_per_s']:.0f} runs/s executed overall)")
        else:
            print(f"{'  backlog NOT drained after wrk, s':34} {args.drain_timeout:12.0f}   ({s['tasks_succeeded']} of"
                  f" {10 * s['runs_stored']} tasks done, {s['tasks_per_s_overall']:.0f} tasks/s;"
                  f" runs {s['runs_by_status']})")
        checks.append({"check": f"POST /v1/runs >= {SUBMIT_RATE_TARGET} runs/s", "value": s["runs_accepted_per_s"],
                       "ok": s["runs_accepted_per_s"] >= SUBMIT_RATE_TARGET})
        checks.append({"check": f"POST /v1/runs p99 < {SUBMIT_P99_TARGET_MS} ms", "value": s["latency_us"]["p99"] / 1000,
                       "ok": s["latency_us"]["p99"] / 1000 < SUBMIT_P99_TARGET_MS})
    if "dag" in results:
        d = results["dag"]
        for index, tool in enumerate(d["pollers"]):
            row = d[tool]
            print(f"{'DAG ' + str(d['tasks']) + ' tasks, poll ' + tool.split('@')[1] + ' (vs ninja)':34} {row['wall_s_median']:12.3f}"
                  f" {d['ninja']['wall_s_median']:12.3f} {row['over_ninja']:7.2f}  {'<= ' + str(DAG_RATIO_TARGET) if index == 0 else '(info)'}")
            print(f"{'  cpu s: server+tasks / poller':34} {row['cpu_s_median']:12.2f} {row['poller_cpu_s_median']:12.2f}")
        if "baton-run" in d:
            print(f"{'  baton run (CLI) wall s (vs ninja)':34} {d['baton-run']['wall_s_median']:12.3f}"
                  f" {d['ninja']['wall_s_median']:12.3f} {d['baton_run_over_ninja']:7.2f}  (info)")
        print(f"{'  cpu s incl. tasks (ninja)':34} {'':12} {d['ninja']['cpu_s_median']:12.2f}")
        checks.append({"check": f"DAG via API, {d['pollers'][0]}, baton/ninja wall <= {DAG_RATIO_TARGET}",
                       "value": d["baton_api_over_ninja"],
                       "ok": d["baton_api_over_ninja"] <= DAG_RATIO_TARGET})
    if "idle" in results:
        i = results["idle"]
        print(f"{'cold start to /healthz 200, ms':34} {i['cold_start_ms_median']:12.1f} {'':12} {'':7}  < {COLD_START_TARGET_MS}")
        print(f"{'idle serve RSS MiB (anon/file)':34} {i['idle']['rss_mb']:12.1f}   ({i['idle']['rss_anon_mb']:.1f} /"
              f" {i['idle']['rss_file_mb']:.1f})        < {IDLE_RSS_TARGET_MB}")
        print(f"{'idle serve threads':34} {i['idle']['threads']:12d}")
        checks.append({"check": f"cold start < {COLD_START_TARGET_MS} ms", "value": i["cold_start_ms_median"],
                       "ok": i["cold_start_ms_median"] < COLD_START_TARGET_MS})
        checks.append({"check": f"idle RSS < {IDLE_RSS_TARGET_MB} MiB", "value": i["idle"]["rss_mb"],
                       "ok": i["idle"]["rss_mb"] < IDLE_RSS_TARGET_MB})
    if failures:
        checks.append({"check": "every part completed", "value": len(failures), "ok": False})
    print()
    all_ok = print_checks(checks, digits=3)
    # Our own load: ~2.5 for the DAG (2 workers or ninja -j 2, the poller), ~4 under wrk (2 wrk threads
    # and the server's 2); more than that, or a loaded machine before we began, is others'.
    cpus = os.cpu_count() or 1
    own = {"get": 2.0, "submit": 2.0, "dag": 0.5, "idle": 0.5}
    busy = load0 > 0.75 * cpus or any(v > cpus + 0.5 + own[p] for p, v in part_loads.items())
    if busy:
        print(f"\nWARNING: the machine was busy (1-min load average {load0:.1f} at the start, at the end of each part"
              f" {', '.join(f'{p} {v:.1f}' for p, v in part_loads.items())}, on {cpus} CPUs; ours is ~2.5 for the DAG,"
              f" ~4 under wrk): wall times and ratios are unreliable; compare CPU, or rerun on a quiet machine.")
    if checks:
        print(f"\ntargets: {'MET' if all_ok else 'NOT MET'}")

    now = dt.datetime.now(dt.timezone.utc)
    out = args.output or os.path.join(BENCH_DIR, "results", f"http-{now.strftime('%Y%m%d-%H%M%S')}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    document = {
        "benchmark": "baton-http",
        "date": now.isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "config": {k: getattr(args, k) for k in ("workers", "threads", "connections", "duration", "submit_connections",
                                                 "submit_duration", "nginx_access_log", "repeat", "seed", "scale",
                                                 "poll_intervals", "starts", "idle_wait")} | {"parts": parts},
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "machine": platform.machine(),
                    "python": platform.python_version(), "wrk": version(["wrk", "-v"]),
                    "nginx": version(["nginx", "-v"]), "ninja": version(["ninja", "--version"])},
        "targets": {"get_baton_over_nginx_min": GET_RATIO_TARGET, "dag_baton_over_ninja_max": DAG_RATIO_TARGET,
                    "cold_start_ms_max": COLD_START_TARGET_MS, "idle_rss_mb_max": IDLE_RSS_TARGET_MB,
                    "submit_runs_per_s_min": SUBMIT_RATE_TARGET, "submit_p99_ms_max": SUBMIT_P99_TARGET_MS},
        "results": results,
        "checks": checks,
        "failures": failures,
        "targets_met": all_ok,
        "loadavg_1m": loads,
        "loadavg_1m_at_end_of_part": part_loads,
        "machine_busy": busy,
    }
    write_results(out, document)
    if failures:
        return 1
    return 3 if args.strict and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
