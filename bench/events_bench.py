#!/usr/bin/env python3
"""Baton live-events benchmark: scheduling with 500 open event streams, the delivery
latency of their events, and the cost of a /metrics scrape with 10,000 finished runs.

Driven by bench/events.sh (which builds the release binary first); see bench/README.md.
Everything runs on 127.0.0.1, each phase on a fresh `baton serve --workers 64
--max-event-streams 1000` and data dir:

  streams  A: runs of one `["true"]` task POSTed on a fixed schedule of --rate runs/s
           (default 1,000) for --seconds (default 10) by --submitters processes (one
           keep-alive http.client connection each, run i is due at t0 + i/rate);
           throughput = runs accepted / (first POST -> the /metrics poll, every 50 ms,
           whose baton_runs_total shows them all ended).
           B: the same on a fresh server with --streams (default 500) `GET /v1/events`
           streams open (HTTP/1.1, chunked), read continuously by ONE epoll-based
           process (bench/sse_reader.c, built with cc: a Python reader took 2/3 of a core
           from the server on this machine), plus --stalled (default 1) stream with a 4 KB SO_RCVBUF that is never
           read during the phase. Delivery latency of every `run.created` on every read
           stream = its arrival (after recv) - the client-side time just before that run's
           POST (CLOCK_MONOTONIC, shared by the processes): p50/p99/max.
           Targets: throughput B / A >= 0.9; delivery p99 < 100 ms; and every read stream
           stayed open and got every run.created (else the latency misses events).
  metrics  --runs (default 10,000) one-task runs POSTed as fast as the submitters go and
           waited for; then --scrapes (default 200) `GET /metrics` over one keep-alive
           connection, alternating with as many `GET /healthz` (the floor of a request)
           on the same connection. Target: /metrics p99 < 5 ms.
"""

import argparse
import ctypes
import datetime as dt
import http.client
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import platform
import re
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from array import array

from bench_common import git_revision, log, percentile, remove_workdir, report_checks, write_results
from bench_server import BENCH_DIR, HOST, REPO, BatonServer, BenchError, CPUWindow, Perf, compile_helper, proc_rss_mb

PARTS = ("streams", "metrics")
RATIO_TARGET = 0.9
DELIVERY_P99_TARGET_MS = 100.0
SCRAPE_P99_TARGET_MS = 5.0
STALLED_RCVBUF = 4096
POLL_INTERVAL = 0.05
SPEC = {"name": "events-bench", "tasks": [{"name": "a", "command": ["true"]}]}
CREATED_PREFIX = b"event: run.created\ndata: "
RUNS_TOTAL = re.compile(r'^baton_runs_total\{status="([^"]+)",trigger="[^"]+"\} (\S+)$', re.M)
MP = multiprocessing.get_context("fork")
CHILDREN = []  # every process we start, stopped by stop_children()


def distribution_ms(values_s, presorted=False):
    v = values_s if presorted else sorted(values_s)
    if not v:
        return None
    return {"count": len(v), "min": 1000 * v[0], "p50": 1000 * percentile(v, 50), "p90": 1000 * percentile(v, 90),
            "p99": 1000 * percentile(v, 99), "p999": 1000 * percentile(v, 99.9), "max": 1000 * v[-1],
            "mean": 1000 * sum(v) / len(v)}


def fmt_ms(d, keys=("p50", "p99", "max")):
    return " / ".join(f"{d[k]:.0f}" if d[k] >= 100 else f"{d[k]:.1f}" if d[k] >= 10 else f"{d[k]:.2f}"
                      for k in keys) if d else "-"


# --------------------------------------------------------------------------- child processes

def child_setup():
    """In a forked child: die with the parent (PR_SET_PDEATHSIG), leave Ctrl-C and SIGTERM
    handling to the parent, which stops us."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os._exit(1)


def start_child(target, *args):
    parent, child = MP.Pipe()
    p = MP.Process(target=target, args=args + (child,), daemon=True)
    p.start()
    child.close()
    CHILDREN.append(p)
    return p, parent


def stop_children(procs=None):
    """Stops (SIGTERM, then SIGKILL after 5 s) and reaps `procs`, default every child."""
    procs = list(CHILDREN if procs is None else procs)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join()
        CHILDREN.remove(p)


def submitter(port, index, count, total, rate, t0, body, conn):
    """POSTs runs index, index + count, ... < total; run i is due at t0 + i / rate (rate 0:
    back to back). Sends back [(t_send, latency_s, run id or None, status)] and an error."""
    child_setup()
    sent, error = [], None
    c = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Content-Type": "application/json"}
    try:
        for i in range(index, total, count):
            if rate > 0:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            t = time.monotonic()
            try:
                c.request("POST", "/v1/runs", body=body, headers=headers)
                resp = c.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError) as e:
                c.close()
                sent.append((t, time.monotonic() - t, None, repr(e)))
                continue
            t1 = time.monotonic()
            rid = json.loads(data)["id"] if resp.status == 201 else None
            sent.append((t, t1 - t, rid, resp.status))
    except Exception as e:  # noqa: BLE001 -- reported to the parent
        error = repr(e)
    finally:
        c.close()
    conn.send({"sent": sent, "error": error})
    conn.close()


def stream_summary(line):
    """A "stream ..." line of sse_reader as the dict the results keep."""
    _, index, status, nbytes, events, created, resets, hello, ended_at, *reason = line.split(" ")
    reason = " ".join(reason)
    return {"index": int(index), "status": int(status) or None, "bytes": int(nbytes), "events": int(events),
            "run_created": int(created), "resets": int(resets), "hello": hello == "1",
            "ended": reason or None, "ended_at": float(ended_at) if reason else None}


def reader(exe, port, n_streams, n_stalled, arrivals_path, conn):
    """Runs sse_reader: it opens the streams; once each has its `hello` we say "ready";
    it reads them all until told to stop (recording the arrival time of every run.created),
    then reads the stalled ones; we answer with the latencies (given the submit times)."""
    child_setup()
    proc = subprocess.Popen([exe, str(port), str(n_streams), str(n_stalled), str(STALLED_RCVBUF), arrivals_path],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise BenchError(f"sse_reader did not get ready (exit {proc.wait()})")
        conn.send(("ready", {"open": int(ready[1]), "bad": [], "bad_count": int(ready[2]),
                             "stalled_rcvbuf": [int(v) for v in ready[3:]]}))
        stop = conn.recv()  # EOFError when the parent is gone
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        out = proc.stdout.read().splitlines()
        if proc.wait() != 0:
            raise BenchError(f"sse_reader failed (exit {proc.returncode})")
        summaries = [stream_summary(line) for line in out if line.startswith("stream ")]
        cpu, wall, drain_s = (float(v) for v in next(line for line in out if line.startswith("cpu ")).split()[1:])
        streams = [s for s in summaries if s["index"] >= 0]
        stalled = [s for s in summaries if s["index"] < 0]
        arrivals = {}
        with open(arrivals_path, "rb") as f:
            data = f.read()
        for rid, t in struct.iter_unpack("32sd", data):
            a = arrivals.get(rid)
            if a is None:
                arrivals[rid] = a = array("d")
            a.append(t)
        del data

        _, info = stop
        submit, t0 = info["submit"], info["t0"]
        by_second, unknown, per_run = {}, 0, []
        for rid, arr in arrivals.items():
            ts = submit.get(rid.rstrip(b"\0").decode())
            if ts is None:
                unknown += len(arr)
                continue
            values = [a - ts for a in arr]
            by_second.setdefault(int(ts - t0), []).extend(values)
            per_run.append(max(values))
        lat, trend = [], {}
        for sec in sorted(by_second):
            v = by_second.pop(sec)
            v.sort()
            trend[str(sec)] = {"count": len(v), "p50_ms": 1000 * percentile(v, 50), "p99_ms": 1000 * percentile(v, 99),
                               "max_ms": 1000 * v[-1]}
            lat.extend(v)
        lat.sort()  # a merge of the sorted seconds (timsort finds the runs)
        expected = len(submit) * len(streams)

        def described(s):
            s = dict(s)
            ended_at = s.pop("ended_at")
            s.pop("hello")
            return s | {"ended_after_s": ended_at - t0 if ended_at is not None else None}

        closed = [described(s) for s in streams if s["ended"]]
        result = {
            "streams": len(streams),
            "latency_ms": distribution_ms(lat, presorted=True),
            "latency_by_submit_second": trend,
            "slowest_stream_per_run_ms": distribution_ms(per_run),
            "deliveries_expected": expected,
            "deliveries_matched": len(lat),
            "deliveries_missing": expected - len(lat),
            "run_created_unknown_id": unknown,
            "runs_seen": len(arrivals),
            "streams_closed_by_server": len(closed),
            "closed_examples": closed[:5],
            "resets": sum(s["resets"] for s in streams),
            "bytes_total": sum(s["bytes"] for s in streams),
            "events_total": sum(s["events"] for s in streams),
            "events_per_stream_min": min((s["events"] for s in streams), default=0),
            "events_per_stream_max": max((s["events"] for s in streams), default=0),
            "reader": "bench/sse_reader.c",
            "reader_cpu_s": cpu,
            "reader_wall_s": wall,
            "reader_cpu_percent": 100.0 * cpu / wall if wall > 0 else None,
            "reader_drain_s_after_stop": drain_s,
            "stalled": [described(s) | {"rcvbuf": rcvbuf} for s, rcvbuf in
                        zip(sorted(stalled, key=lambda s: -s["index"]), [int(v) for v in ready[3:]])],
        }
        conn.send(("result", result))
    except (EOFError, BrokenPipeError):
        pass
    except Exception:  # noqa: BLE001 -- reported to the parent
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        conn.close()


# --------------------------------------------------------------------------- server side

class Metrics:
    """/metrics read through the shared keep-alive client."""

    def __init__(self, client):
        self.client = client

    def text(self):
        status, _, body = self.client.request("GET", "/metrics")
        if status != 200:
            raise BenchError(f"GET /metrics: HTTP {status}: {body[:300]!r}")
        return body.decode()

    @staticmethod
    def runs_ended(text):
        """{final status: count} of baton_runs_total (all triggers)."""
        out = {}
        for status, v in RUNS_TOTAL.findall(text):
            out[status] = out.get(status, 0) + int(float(v))
        return out

    @staticmethod
    def value(text, name, labels=None):
        pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else r"") + r" (\S+)$"
        m = re.search("^" + pattern, text, re.M)
        return float(m.group(1)) if m else None


def ended_total(metrics):
    return sum(Metrics.runs_ended(metrics.text()).values())


def wait_all_ended(metrics, target, timeout):
    deadline = time.monotonic() + timeout
    while True:
        n = ended_total(metrics)
        if n >= target:
            return n
        if time.monotonic() > deadline:
            raise BenchError(f"only {n} of {target} runs ended after {timeout:.0f} s")
        time.sleep(POLL_INTERVAL)


def start_server(args, wd, name):
    return BatonServer(args.baton, wd, args.workers, name=name,
                       extra_args=["--max-event-streams", str(args.max_event_streams)]).start()


def submit_load(args, server, total, rate, metrics, base, drain_timeout, perf_path=None):
    """Runs the submitters (run i due at t0 + i / rate; rate 0: as fast as they go), polls
    /metrics every POLL_INTERVAL until every accepted run has ended. Returns the figures."""
    body = json.dumps(SPEC, separators=(",", ":")).encode()
    t0 = time.monotonic() + 0.3
    perf = Perf(perf_path).start(server.pid)
    window = CPUWindow(server.pid).start()
    pipes, procs = {}, []
    for k in range(args.submitters):
        proc, conn = start_child(submitter, server.port, k, args.submitters, total, rate, t0, body)
        pipes[conn] = k
        procs.append(proc)
    sent, errors, timeline, stream_changes = [], [], [], []
    t_end, drained, ended = None, False, 0
    # The submitters must be done by the end of the schedule plus --drain-timeout; the runs
    # must have ended --drain-timeout after the last submitter was done.
    submit_deadline = t0 + (total / rate if rate > 0 else 0) + drain_timeout
    drain_deadline = None
    while True:
        for conn in multiprocessing.connection.wait(list(pipes), timeout=0):
            try:
                msg = conn.recv()
            except EOFError:
                msg = {"sent": [], "error": f"submitter {pipes[conn]} died"}
            sent.extend(msg["sent"])
            if msg["error"]:
                errors.append(msg["error"])
            del pipes[conn]
            conn.close()
        text = metrics.text()
        now = time.monotonic()
        ended = sum(Metrics.runs_ended(text).values()) - base
        open_streams = Metrics.value(text, "baton_event_streams")
        timeline.append((round(now - t0, 3), ended, open_streams, Metrics.value(text, "baton_events_sent_total")))
        if open_streams != (stream_changes[-1][1] if stream_changes else None):
            stream_changes.append((round(now - t0, 3), open_streams))
        accepted = sum(1 for s in sent if s[2])
        if not pipes and ended >= accepted:
            t_end, drained = now, True
            break
        if pipes and now > submit_deadline:
            raise BenchError(f"the submitters were not done {drain_timeout:.0f} s after their schedule ended"
                             f" ({len(sent)} POSTs answered)")
        if not pipes:
            drain_deadline = drain_deadline or now + drain_timeout
            if now > drain_deadline:
                break
        time.sleep(POLL_INTERVAL)
    cpu = window.stop()
    perf.stop()
    stop_children(procs)
    if errors:
        raise BenchError("submitter failed: " + "; ".join(errors[:3]))
    ok = [s for s in sent if s[2]]
    if not ok:
        raise BenchError("no run was accepted")
    statuses = {}
    for s in sent:
        if not s[2]:
            statuses[str(s[3])] = statuses.get(str(s[3]), 0) + 1
    t_first = min(s[0] for s in ok)
    t_last = max(s[0] for s in ok)
    post = distribution_ms([s[1] for s in ok])
    late = [s[0] - (t0 + i / rate) for i, s in enumerate(sorted(sent, key=lambda s: s[0]))] if rate > 0 else None
    r = {
        "runs_planned": total, "rate_target_per_s": rate or None, "submitters": args.submitters,
        "runs_accepted": len(ok), "other_results": statuses,
        "submit_window_s": t_last - t_first,
        "submitted_per_s": (len(ok) - 1) / (t_last - t_first) if t_last > t_first else None,
        "post_latency_ms": post,
        "send_behind_schedule_ms": distribution_ms(late) if late else None,
        "drained": drained,
        "runs_ended": ended,
        "first_post_to_all_ended_s": t_end - t_first if drained else None,
        "drain_s_after_last_post": t_end - t_last if drained else None,
        "completed_per_s": len(ok) / (t_end - t_first) if drained else None,
        # [s since t0, runs ended, open event streams, events sent to streams], every poll (at most 400)
        "timeline": timeline[::math.ceil(len(timeline) / 400)],
        # [s since t0, baton_event_streams] whenever the gauge changed
        "open_streams_changes": stream_changes,
        "server_cpu_s": cpu["cpu_s"], "children_cpu_s": cpu["children_cpu_s"],
        "server_threads_cpu_s": cpu["threads_cpu_s"], "server_rss_mb_at_end": proc_rss_mb(server.pid),
    }
    r["submit_times"] = {s[2]: s[0] for s in ok}
    r["t0"] = t0
    return r


def perf_path(args, name):
    return os.path.join(args.perf, f"events-{name}.perf.data") if args.perf else None


def phase(args, workroot, label, n_streams):
    wd = os.path.join(workroot, label)
    os.makedirs(wd)
    server = start_server(args, wd, "baton")
    try:
        c = server.client()
        metrics = Metrics(c)
        # Warm-up (not measured): 20 runs through to the end.
        for _ in range(20):
            c.json("POST", "/v1/runs", SPEC, expect=(201,))
        base = wait_all_ended(metrics, 20, 60)
        reader_conn, ready = None, None
        if n_streams:
            exe = compile_helper("sse_reader.c", workroot, "the events bench")
            _, reader_conn = start_child(reader, exe, server.port, n_streams, args.stalled,
                                         os.path.join(wd, "arrivals.bin"))
            if not reader_conn.poll(90):
                raise BenchError("the stream reader did not get ready within 90 s")
            kind, ready = reader_conn.recv()
            if kind != "ready":
                raise BenchError(f"the stream reader failed: {ready}")
            if ready["bad_count"]:
                raise BenchError(f"{ready['bad_count']} of {n_streams} streams did not open: {ready['bad'][:2]}")
            open_gauge = Metrics.value(metrics.text(), "baton_event_streams")
            if open_gauge != n_streams + args.stalled:
                raise BenchError(f"baton_event_streams is {open_gauge}, not {n_streams + args.stalled}")
            log(f"  {label}: {n_streams} streams open and read, {args.stalled} stalled"
                f" (SO_RCVBUF {ready['stalled_rcvbuf']}); baton_event_streams {open_gauge:.0f}")
        total = int(round(args.rate * args.seconds))
        r = submit_load(args, server, total, args.rate, metrics, base, args.drain_timeout, perf_path(args, label))
        submit_times, t0 = r.pop("submit_times"), r.pop("t0")
        if n_streams:
            reader_conn.send(("stop", {"submit": submit_times, "t0": t0}))
            if not reader_conn.poll(300):
                raise BenchError("the stream reader gave no result within 300 s")
            kind, r["events"] = reader_conn.recv()
            if kind != "result":
                raise BenchError(f"the stream reader failed: {r['events']}")
        text = metrics.text()
        r["server_metrics_at_end"] = {
            "runs_ended": Metrics.runs_ended(text),
            "event_streams": Metrics.value(text, "baton_event_streams"),
            "events_sent_total": Metrics.value(text, "baton_events_sent_total"),
            "stream_closes": {reason: Metrics.value(text, "baton_event_stream_closes_total", f'reason="{reason}"')
                              for reason in ("client", "overflow", "shutdown", "limit")},
        }
        r["streams"] = n_streams
        r["loadavg_1m"] = os.getloadavg()[0]
        tput = f"{r['completed_per_s']:.0f} runs/s completed" if r["drained"] else \
            f"NOT drained: {r['runs_ended']} of {r['runs_accepted']} ended"
        log(f"  {label}: {r['runs_accepted']} runs accepted in {r['submit_window_s']:.2f} s"
            f" ({r['submitted_per_s'] or 0:.0f}/s, POST p50 {r['post_latency_ms']['p50']:.1f} ms"
            f" p99 {r['post_latency_ms']['p99']:.1f} ms); {tput}"
            + (f", last ended {r['drain_s_after_last_post']:.2f} s after the last POST" if r["drained"] else "")
            + f"; server CPU {r['server_cpu_s']:.1f} s + tasks {r['children_cpu_s']:.1f} s  (load {r['loadavg_1m']:.1f})")
        if n_streams:
            e = r["events"]
            log(f"  {label}: run.created delivery p50/p99/max {fmt_ms(e['latency_ms'])} ms over"
                f" {e['deliveries_matched']} deliveries ({e['deliveries_missing']} missing),"
                f" {e['streams_closed_by_server']} streams closed by the server, {e['bytes_total'] / 1e6:.0f} MB read,"
                f" reader CPU {e['reader_cpu_percent'] or 0:.0f} % of a core")
            for s in e["stalled"]:
                log(f"  {label}: stalled stream: {s['bytes']} bytes when read after the phase, {s['run_created']} of"
                    f" {r['runs_accepted']} run.created, ended: {s['ended'] or 'no'}")
            if len(r["open_streams_changes"]) > 1:
                log(f"  {label}: open streams (baton_event_streams) while submitting: "
                    + ", ".join(f"{v:.0f} at {t:.1f} s" for t, v in r["open_streams_changes"]))
        return r
    finally:
        stop_children()
        server.stop()


def part_streams(args, workroot, out):
    """Phases A and B into `out` (A stays there when B fails)."""
    out["A"] = phase(args, workroot, "A-no-streams", 0)
    out["B"] = phase(args, workroot, "B-streams", args.streams)
    a, b = out["A"].get("completed_per_s"), out["B"].get("completed_per_s")
    out["throughput_ratio"] = b / a if a and b else None


def part_metrics(args, workroot):
    wd = os.path.join(workroot, "metrics")
    os.makedirs(wd)
    server = start_server(args, wd, "baton")
    try:
        c = server.client()
        metrics = Metrics(c)
        r = submit_load(args, server, args.runs, 0, metrics, 0, args.drain_timeout)
        r.pop("submit_times")
        r.pop("t0")
        if not r["drained"]:
            raise BenchError(f"only {r['runs_ended']} of {r['runs_accepted']} runs ended in {args.drain_timeout:.0f} s")
        # The store really holds them (GET /v1/runs, pages of 1000).
        stored, cursor = {}, None
        while True:
            page = c.json("GET", "/v1/runs?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
            for run in page["runs"]:
                stored[run["status"]] = stored.get(run["status"], 0) + 1
            cursor = page.get("next_cursor")
            if not cursor:
                break
        log(f"  metrics: {r['runs_accepted']} runs submitted in {r['submit_window_s']:.1f} s, all ended"
            f" {r['first_post_to_all_ended_s']:.1f} s after the first POST; store: {stored}")
        c.close()
        conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
        times = {"/metrics": [], "/healthz": []}
        sizes, sockets = {}, set()
        for i in range(10 + args.scrapes):
            for path in ("/metrics", "/healthz"):
                t = time.perf_counter()
                conn.request("GET", path)
                resp = conn.getresponse()
                data = resp.read()
                dt_s = time.perf_counter() - t
                if resp.status != 200:
                    raise BenchError(f"GET {path}: HTTP {resp.status}: {data[:300]!r}")
                sockets.add(id(conn.sock))
                sizes[path] = len(data)
                if i >= 10:  # the first 10 of each are a warm-up
                    times[path].append(dt_s)
        conn.close()
        r2 = {"runs_in_store": stored, "scrapes": args.scrapes, "connections_used": len(sockets),
              "metrics_bytes": sizes["/metrics"], "healthz_bytes": sizes["/healthz"],
              "metrics_ms": distribution_ms(times["/metrics"]), "healthz_ms": distribution_ms(times["/healthz"]),
              "submit": r}
        m, h = r2["metrics_ms"], r2["healthz_ms"]
        log(f"  metrics: GET /metrics ({sizes['/metrics']} bytes) p50/p99/max {fmt_ms(m)} ms;"
            f" GET /healthz p50/p99/max {fmt_ms(h)} ms; {args.scrapes} each over {len(sockets)} connection(s)"
            f"  (load {os.getloadavg()[0]:.1f})")
        return r2
    finally:
        stop_children()
        server.stop()


# --------------------------------------------------------------------------- main

def table(args, results):
    """Prints the table; returns the target checks."""
    W = 20
    header = f"{'measurement':46} {'no streams':>{W}} {str(args.streams) + ' streams':>{W}} {'ratio':>7}  target"
    print(header)
    print("-" * len(header))
    checks = []

    def row(label, a="", b="", ratio="", target=""):
        print(f"{label:46} {a:>{W}} {b:>{W}} {ratio:>7}  {target}".rstrip())

    def num(v, f="{:.0f}"):
        return f.format(v) if v is not None else "-"

    if "streams" in results:
        s = results["streams"]
        a, b = s.get("A") or {}, s.get("B") or {}
        ratio = s.get("throughput_ratio")
        row("runs completed/s (first POST -> all ended)", num(a.get("completed_per_s")), num(b.get("completed_per_s")),
            num(ratio, "{:.3f}"), f">= {RATIO_TARGET}")
        row(f"  runs submitted/s (schedule: {args.rate:.0f}/s)", num(a.get("submitted_per_s")),
            num(b.get("submitted_per_s")))
        row("  POSTs behind schedule p99 / max, ms", fmt_ms(a.get("send_behind_schedule_ms"), ("p99", "max")),
            fmt_ms(b.get("send_behind_schedule_ms"), ("p99", "max")))
        row("  POST latency p50 / p99 / max, ms", fmt_ms(a.get("post_latency_ms")), fmt_ms(b.get("post_latency_ms")))
        row("  last run ended after the last POST, s", num(a.get("drain_s_after_last_post"), "{:.2f}"),
            num(b.get("drain_s_after_last_post"), "{:.2f}"))
        cpu = [f"{x['server_cpu_s']:.1f} (+{x['children_cpu_s']:.1f})" if x else "-" for x in (a, b)]
        row("  server CPU s (+ its tasks)", *cpu)
        e = b.get("events")
        if e:
            row("run.created delivery p50 / p99 / max, ms", "", fmt_ms(e["latency_ms"]), "",
                f"p99 < {DELIVERY_P99_TARGET_MS:.0f}")
            row("  slowest stream per run p50 / p99 / max, ms", "", fmt_ms(e["slowest_stream_per_run_ms"]))
            trend = list(e["latency_by_submit_second"].values())
            if trend:
                step = max(1, math.ceil(len(trend) / 10))
                print(f"{'  p99 by second of submitting, ms':46} " + " ".join(f"{t['p99_ms']:.0f}" for t in trend[::step]))
            row("  deliveries matched (missing)", "", f"{e['deliveries_matched']} ({e['deliveries_missing']})")
            row("  streams closed by the server, resets", "", f"{e['streams_closed_by_server']}, {e['resets']}")
            row("  read MB, events; reader CPU % of a core", "",
                f"{e['bytes_total'] / 1e6:.0f}, {e['events_total']}; {e['reader_cpu_percent'] or 0:.0f} %")
            for st in e["stalled"]:
                print(f"{'  stalled stream, read after the phase':46} {st['bytes'] / 1024:.0f} KB, {st['run_created']} of"
                      f" {b['runs_accepted']} run.created; ended: {st['ended'] or 'no'}")
            closes = b["server_metrics_at_end"]["stream_closes"]
            print(f"{'  server: stream closes by reason':46} "
                  + (", ".join(f"{k} {v:.0f}" for k, v in closes.items() if v) or "none"))
        checks.append({"check": f"throughput with {args.streams} streams / without >= {RATIO_TARGET}", "value": ratio,
                       "ok": ratio is not None and ratio >= RATIO_TARGET})
        if e:
            p99 = e["latency_ms"]["p99"] if e["latency_ms"] else None
            checks.append({"check": f"run.created delivery p99 < {DELIVERY_P99_TARGET_MS:.0f} ms", "value": p99,
                           "ok": p99 is not None and p99 < DELIVERY_P99_TARGET_MS})
            complete = e["deliveries_missing"] == 0 and e["streams_closed_by_server"] == 0
            checks.append({"check": "every read stream stayed open and got every run.created (missing)",
                           "value": e["deliveries_missing"], "ok": complete})
    if "metrics" in results:
        m = results["metrics"]
        row(f"GET /metrics, {sum(m['runs_in_store'].values())} runs stored: p50/p99/max ms", fmt_ms(m["metrics_ms"]),
            "", "", f"p99 < {SCRAPE_P99_TARGET_MS:.0f}")
        row("  GET /healthz (reference): p50/p99/max ms", fmt_ms(m["healthz_ms"]))
        checks.append({"check": f"/metrics scrape p99 < {SCRAPE_P99_TARGET_MS:.0f} ms", "value": m["metrics_ms"]["p99"],
                       "ok": m["metrics_ms"]["p99"] < SCRAPE_P99_TARGET_MS})
    return checks


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baton", default=os.path.join(REPO, ".build", "release", "baton"))
    ap.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset of streams,metrics")
    ap.add_argument("--workers", type=int, default=64, help="baton serve --workers (default 64)")
    ap.add_argument("--max-event-streams", type=int, default=1000, help="baton serve --max-event-streams (default 1000)")
    ap.add_argument("--rate", type=float, default=1000, help="runs submitted per second in phases A and B (default 1000)")
    ap.add_argument("--seconds", type=float, default=10, help="seconds of submitting in phases A and B (default 10)")
    ap.add_argument("--streams", type=int, default=500, help="event streams read in phase B (default 500)")
    ap.add_argument("--stalled", type=int, default=1, help="extra streams never read during phase B (default 1)")
    ap.add_argument("--submitters", type=int, default=8,
                    help="client processes POSTing runs, one keep-alive connection each (default 8)")
    ap.add_argument("--runs", type=int, default=10000, help="finished runs in the store for the /metrics part (default 10000)")
    ap.add_argument("--scrapes", type=int, default=200, help="timed GET /metrics (and GET /healthz) (default 200)")
    ap.add_argument("--drain-timeout", type=float, default=120,
                    help="seconds to wait, after the last POST, for the runs to end (default 120)")
    ap.add_argument("--tmp", default=None, help="where the work dir is made (default: $TMPDIR or /tmp)")
    ap.add_argument("--output", default=None, help="results JSON (default bench/results/events-<UTC time>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (server logs and data dirs)")
    ap.add_argument("--strict", action="store_true", help="exit 3 when a target is not met (default: exit 0)")
    ap.add_argument("--perf", metavar="DIR", default=None,
                    help="record the server with `perf record -g` over the submit windows of phases A and B, into"
                         " DIR/events-<phase>.perf.data")
    args = ap.parse_args()

    parts = [p for p in args.parts.split(",") if p]
    for p in parts:
        if p not in PARTS:
            ap.error(f"unknown part {p!r} (choose from {', '.join(PARTS)})")
    if args.rate <= 0 or args.seconds <= 0 or args.submitters < 1 or args.streams < 1 or args.stalled < 0:
        ap.error("--rate, --seconds, --submitters and --streams must be positive, --stalled not negative")
    if args.streams + args.stalled > args.max_event_streams:
        ap.error(f"--streams + --stalled ({args.streams + args.stalled}) is above --max-event-streams")
    if not os.access(args.baton, os.X_OK):
        print(f"events_bench: no baton binary at {args.baton} (run bench/events.sh, which builds it)", file=sys.stderr)
        return 2
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.streams + args.stalled + 64
    if nofile[0] < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, nofile[1]) if nofile[1] >= 0 else need, nofile[1]))
        except (ValueError, OSError):
            pass
        if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
            print(f"events_bench: the open-file limit ({nofile[0]}) is below the {need} sockets needed (ulimit -n)",
                  file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    workroot = tempfile.mkdtemp(prefix="baton-events-bench-", dir=args.tmp)
    load0 = os.getloadavg()[0]
    log(f"# work dir {workroot}, workers {args.workers}, {args.rate:.0f} runs/s for {args.seconds:.0f} s from"
        f" {args.submitters} submitters, {args.streams} streams (+{args.stalled} stalled), load average {load0:.1f}"
        f" on {os.cpu_count()} CPUs")
    results, failures, part_loads = {}, [], {}
    interrupted = False
    try:
        for part in parts:
            try:
                if part == "streams":
                    part_streams(args, workroot, results.setdefault("streams", {}))
                else:
                    results["metrics"] = part_metrics(args, workroot)
            except (BenchError, OSError, ValueError, KeyError, EOFError, http.client.HTTPException) as e:
                failures.append({"part": part, "error": str(e)})
                print(f"  {part}: FAILED: {e}", file=sys.stderr)
            part_loads[part] = os.getloadavg()[0]
    except KeyboardInterrupt as e:
        interrupted = True
        failures.append({"part": "all", "error": f"interrupted ({e or 'Ctrl-C'})"})
        print("events_bench: interrupted", file=sys.stderr)
    finally:
        stop_children()
        remove_workdir(workroot, args.keep)

    print()
    checks = table(args, results)
    all_ok, busy = report_checks(checks, failures, load0, "throughput and latencies", digits=3)
    e = results.get("streams", {}).get("B", {}).get("events")
    if e and (e["reader_cpu_percent"] or 0) > 85:
        print(f"\nWARNING: the stream reader used {e['reader_cpu_percent']:.0f} % of a core: the delivery latencies"
              f" include its own queueing (and it took that CPU from the server on {os.cpu_count()} CPUs).")
    if checks:
        print(f"\ntargets: {'MET' if all_ok else 'NOT MET'}")

    now = dt.datetime.now(dt.timezone.utc)
    out = args.output or os.path.join(BENCH_DIR, "results", f"events-{now.strftime('%Y%m%d-%H%M%S')}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    document = {
        "benchmark": "baton-events",
        "date": now.isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "baton": args.baton,
        "config": {k: getattr(args, k) for k in ("workers", "max_event_streams", "rate", "seconds", "streams", "stalled",
                                                 "submitters", "runs", "scrapes", "drain_timeout")} | {"parts": parts},
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "machine": platform.machine(),
                    "python": platform.python_version()},
        "targets": {"throughput_ratio_min": RATIO_TARGET, "delivery_p99_ms_max": DELIVERY_P99_TARGET_MS,
                    "metrics_scrape_p99_ms_max": SCRAPE_P99_TARGET_MS},
        "results": results,
        "checks": checks,
        "failures": failures,
        "targets_met": all_ok,
        "loadavg_1m_at_start": load0,
        "loadavg_1m_at_end_of_part": part_loads,
        "machine_busy": busy,
    }
    write_results(out, document)
    if failures:
        return 130 if interrupted else 1
    return 3 if args.strict and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
