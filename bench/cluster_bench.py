#!/usr/bin/env python3
"""Baton cluster benchmark (issue 9): nodes of `baton serve` over one real PostgreSQL.

Driven by bench/cluster.sh (which builds the release binary first); see bench/README.md.

Parts (`--parts`, default all):
  single    the core bench shapes (wide 10,000 / chain 1,000 / layered 100x100 `true` tasks)
            through ONE `baton serve --workers 2`, on SQLite and on PostgreSQL, in turn:
            the ratio PostgreSQL / SQLite of the run's own duration (created -> finished).
  dispatch  2 nodes: the owner (2 slots) gets `--rate` tasks/s (runs of 10 tasks) for
            `--seconds`; what has no local slot is dispatched to the other node (64 slots).
            Dispatch latency = when the task's process started (bench/start_stamp.c
            journals the wall clock first thing in main()) - when the attempt became
            ready (attempts.queued_at).
            --stages splits it: ready -> published -> claimed (database stamps) -> started.
  scaling   1, 2 and 4 nodes of 64 slots; one run of 4 waves of `sleep 0.5` tasks
            (256 per node) submitted to node 1: throughput and efficiency vs 1 node.
Round trips per attempt come from every node's baton_postgres_round_trips_total.
"""

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_common import git_revision, log, percentile, print_checks, write_results
from bench_server import BatonServer, BenchError, compile_helper
from core_bench import generate

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)

SINGLE_TARGET = 1.5
DISPATCH_P50_MS = 5.0
DISPATCH_P99_MS = 50.0
SCALING_TARGET = 0.9
ROUND_TRIPS_TARGET = 3.0


class Postgres:
    """A throwaway PostgreSQL (scripts/postgres.sh) with the durability of Baton's SQLite
    store: fsync on, commits not waited for (synchronous_commit=off, as SQLite's
    synchronous=NORMAL in WAL mode: a crash of the server process loses nothing, a power
    loss may lose the last commits)."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "postgres")
        out = subprocess.run(["bash", os.path.join(REPO, "scripts", "postgres.sh"), "start", self.dir, "--durable"],
                             check=True, capture_output=True, text=True).stdout.strip()
        self.server_url = out.splitlines()[-1]
        self.count = 0

    def database(self):
        self.count += 1
        name = f"bench_{os.getpid()}_{self.count}"
        self.sql(self.server_url, f"CREATE DATABASE {name}")
        return re.sub(r"/[^/?]*$", "/" + name, self.server_url)

    @staticmethod
    def sql(url, statement):
        out = subprocess.run(["psql", url, "-XAtF", "\t", "-c", statement], check=True, capture_output=True,
                             text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def stop(self):
        subprocess.run(["bash", os.path.join(REPO, "scripts", "postgres.sh"), "stop", self.dir],
                       capture_output=True)


def node(baton, workdir, name, workers, url=None):
    extra = ["--node-lease-seconds", "5"] + (["--database", url, "--node-id", name] if url else [])
    return BatonServer(baton, workdir, workers=workers, name=name, extra_args=extra).start()


def submit(server, spec):
    return server.client().json("POST", "/v1/runs", spec, expect=(201,))["id"]


def wait_run(server, run_id, name, timeout=600):
    """Polls the runs list until the run ends; returns its summary. Durations are the
    server's own timestamps, so the poll interval only delays noticing the end; it is
    long enough that the poller (a count of the run's tasks per poll) costs little."""
    client = server.client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = client.json("GET", f"/v1/runs?name={name}&limit=1")
        run = next((r for r in page["runs"] if r["id"] == run_id), None)
        if run and run["status"] in ("succeeded", "failed", "cancelled", "timed_out"):
            return run
        time.sleep(0.25)
    raise BenchError(f"run {run_id} did not end within {timeout} s")


def seconds(timestamp):
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def round_trips(servers):
    total = 0
    for server in servers:
        with urllib.request.urlopen(server.url + "/metrics", timeout=30) as answer:
            text = answer.read().decode()
        match = re.search(r"^baton_postgres_round_trips_total (\d+)", text, re.M)
        total += int(match.group(1)) if match else 0
    return total


def spec_of(shape, tasks, name):
    return {"name": name, "tasks": [{"name": n, "command": ["true"], "depends_on": deps} for n, deps in tasks]}


# --------------------------------------------------------------------------- parts

def part_single(args, workdir, pg):
    rows = []
    for shape in args.shapes:
        tasks, _ = generate(shape, args.seed, args.scale)
        times = {"sqlite": [], "postgres": []}
        trips = []
        for repetition in range(args.repeat):
            for store in ("sqlite", "postgres"):
                url = pg.database() if store == "postgres" else None
                server = node(args.baton, workdir, f"{store}-{shape}-{repetition}", 2, url)
                try:
                    name = f"{shape}-{store}-{repetition}"
                    before = round_trips([server]) if url else 0
                    run_id = submit(server, spec_of(shape, tasks, name))
                    run = wait_run(server, run_id, name)
                    if run["status"] != "succeeded":
                        raise BenchError(f"{name}: {run['status']}")
                    times[store].append(seconds(run["finished_at"]) - seconds(run["created_at"]))
                    if url:
                        trips.append((round_trips([server]) - before) / len(tasks))
                finally:
                    server.stop()
            log(f"  single {shape} #{repetition + 1}: sqlite {times['sqlite'][-1]:.2f} s, "
                f"postgres {times['postgres'][-1]:.2f} s")
        sqlite, postgres = statistics.median(times["sqlite"]), statistics.median(times["postgres"])
        rows.append({"shape": shape, "tasks": len(tasks), "sqlite_s": sqlite, "postgres_s": postgres,
                     "ratio": postgres / sqlite, "round_trips_per_attempt": statistics.median(trips)})
    return rows


def part_dispatch(args, workdir, pg):
    url = pg.database()
    journal = os.path.join(workdir, "dispatch-journal")
    owner = node(args.baton, workdir, "owner", 2, url)
    helper = node(args.baton, workdir, "helper", 64, url)
    try:
        time.sleep(1.5)  # both heartbeat: the owner's pool is 66 slots
        if args.stages:
            # Keeps every dispatch row the owner deletes (its outcome taken), with the
            # database's own stamps of each stage. Off by default: it adds work to every
            # delete, i.e. perturbs what it measures.
            pg.sql(url, "CREATE TABLE dispatch_log AS SELECT * FROM dispatches WITH NO DATA")
            pg.sql(url, "CREATE FUNCTION keep_dispatch() RETURNS trigger AS $$ BEGIN "
                        "INSERT INTO dispatch_log SELECT OLD.*; RETURN OLD; END $$ LANGUAGE plpgsql")
            pg.sql(url, "CREATE TRIGGER keep BEFORE DELETE ON dispatches FOR EACH ROW EXECUTE FUNCTION keep_dispatch()")
        command = [compile_helper("start_stamp.c", workdir, "the dispatch part"), journal]
        per_run = 10
        interval = per_run / args.rate
        before = round_trips([owner, helper])
        runs = []
        start = time.monotonic()
        next_at = start
        while time.monotonic() - start < args.seconds:
            name = f"d{len(runs)}"
            runs.append((submit(owner, {"name": name, "tasks": [
                {"name": f"t{i}", "command": command} for i in range(per_run)]}), name))
            next_at += interval
            time.sleep(max(0, next_at - time.monotonic()))
        offered = len(runs) * per_run / (time.monotonic() - start)
        for run_id, name in runs:
            wait_run(owner, run_id, name)
        trips = (round_trips([owner, helper]) - before) / (len(runs) * per_run)
        started = {}
        with open(journal) as lines:
            for line in lines:
                run_id, task, at = line.split()
                started[(run_id, task)] = float(at)
        rows = pg.sql(url, "SELECT a.run_id, t.name, a.queued_at, a.node FROM attempts a "
                           "JOIN tasks t ON t.run_id = a.run_id AND t.idx = a.task_idx")
        local, remote = [], []
        for run_id, task, queued, where in rows:
            latency = (started[(run_id, task)] - float(queued)) * 1000
            (remote if where == "helper" else local).append(latency)
        local.sort()
        remote.sort()
        stages = {}
        if args.stages:
            ready_published, published_claimed, claimed_started = [], [], []
            for run_id, task, queued, published, claimed in pg.sql(
                    url, "SELECT a.run_id, t.name, a.queued_at, d.published_at, d.claimed_at FROM attempts a "
                         "JOIN tasks t ON t.run_id = a.run_id AND t.idx = a.task_idx "
                         "JOIN dispatch_log d ON d.run_id = a.run_id AND d.task_idx = a.task_idx "
                         "AND d.attempt = a.attempt WHERE d.claimed_at IS NOT NULL"):
                ready_published.append((float(published) - float(queued)) * 1000)
                published_claimed.append((float(claimed) - float(published)) * 1000)
                claimed_started.append((started[(run_id, task)] - float(claimed)) * 1000)
            for name, values in (("ready_to_published", ready_published), ("published_to_claimed", published_claimed),
                                 ("claimed_to_started", claimed_started)):
                values.sort()
                stages[name] = {"p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99)}
        return {"offered_tasks_per_s": offered, "tasks": len(rows), "dispatched": len(remote), "stages": stages,
                "dispatched_p50_ms": percentile(remote, 50), "dispatched_p99_ms": percentile(remote, 99),
                "local_p50_ms": percentile(local, 50), "local_p99_ms": percentile(local, 99),
                "round_trips_per_attempt": trips}
    finally:
        owner.stop()
        helper.stop()


def part_scaling(args, workdir, pg):
    results = []
    for count in args.nodes:
        url = pg.database()
        servers = [node(args.baton, workdir, f"n{count}-{i}", 64, url) for i in range(count)]
        try:
            time.sleep(1.5)  # every node heartbeats: node 1's pool is every node's slots
            tasks = 64 * count * 4
            before = round_trips(servers)
            name = f"scale{count}"
            run_id = submit(servers[0], {"name": name, "tasks": [
                {"name": f"t{i}", "command": ["sleep", "0.5"]} for i in range(tasks)]})
            run = wait_run(servers[0], run_id, name)
            if run["status"] != "succeeded":
                raise BenchError(f"{name}: {run['status']}")
            makespan = seconds(run["finished_at"]) - seconds(run["started_at"])
            trips = (round_trips(servers) - before) / tasks
            per_node = dict(pg.sql(url, "SELECT node, count(*) FROM attempts GROUP BY node"))
        finally:
            for server in servers:
                server.stop()
        results.append({"nodes": count, "tasks": tasks, "makespan_s": makespan,
                        "tasks_per_s": tasks / makespan, "per_node": per_node,
                        "round_trips_per_attempt": trips})
        log(f"  scaling {count} node(s): {tasks} tasks in {makespan:.2f} s, {tasks / makespan:.0f} tasks/s, "
            f"{trips:.2f} round trips per attempt; attempts per node {per_node}")
    base = results[0]["tasks_per_s"] / results[0]["nodes"]
    for row in results:
        row["efficiency"] = row["tasks_per_s"] / (row["nodes"] * base)
    return results


# --------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baton", default=os.path.join(REPO, ".build", "release", "baton"))
    parser.add_argument("--parts", default="single,dispatch,scaling")
    parser.add_argument("--shapes", default="wide,chain,layered")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=500.0, help="dispatch part: tasks submitted per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="dispatch part: how long to submit")
    parser.add_argument("--nodes", default="1,2,4", help="scaling part: node counts")
    parser.add_argument("--stages", action="store_true",
                        help="dispatch part: also where a dispatched attempt's time goes, from the database's stamps "
                             "(a trigger keeps the deleted dispatch rows; it perturbs the measurement a little)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--tools", default="baton", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.shapes = args.shapes.split(",")
    args.nodes = [int(n) for n in args.nodes.split(",")]
    parts = args.parts.split(",")
    if not shutil.which("psql") or not any(os.path.exists(f"/usr/lib/postgresql/{v}/bin/initdb")
                                           for v in os.listdir("/usr/lib/postgresql")):
        sys.exit("cluster bench: needs PostgreSQL (apt-get install postgresql)")

    workdir = tempfile.mkdtemp(prefix="baton-cluster-bench-")
    os.chmod(workdir, 0o755)  # PostgreSQL runs as `postgres` when we are root
    pg = Postgres(workdir)
    document = {"revision": git_revision(), "date": dt.datetime.now(dt.timezone.utc).isoformat(),
                "cpus": os.cpu_count(), "load_at_start": os.getloadavg()[0]}
    checks = []
    try:
        if "single" in parts:
            log("# single node: SQLite vs PostgreSQL")
            document["single"] = part_single(args, workdir, pg)
            print(f"{'shape':8} {'tasks':>6} {'sqlite s':>9} {'postgres s':>11} {'ratio':>6} {'trips/attempt':>14}")
            for row in document["single"]:
                print(f"{row['shape']:8} {row['tasks']:6d} {row['sqlite_s']:9.2f} {row['postgres_s']:11.2f} "
                      f"{row['ratio']:6.2f} {row['round_trips_per_attempt']:14.2f}")
                checks.append({"check": f"single node {row['shape']}: PostgreSQL <= {SINGLE_TARGET} x SQLite",
                               "value": row["ratio"], "ok": row["ratio"] <= SINGLE_TARGET})
        if "dispatch" in parts:
            log(f"# dispatch latency at {args.rate:.0f} tasks/s over 2 nodes")
            d = document["dispatch"] = part_dispatch(args, workdir, pg)
            print(f"offered {d['offered_tasks_per_s']:.0f} tasks/s; {d['dispatched']} of {d['tasks']} dispatched; "
                  f"ready -> started: dispatched p50 {d['dispatched_p50_ms']:.1f} ms, p99 "
                  f"{d['dispatched_p99_ms']:.1f} ms; local p50 {d['local_p50_ms']:.1f} ms, p99 "
                  f"{d['local_p99_ms']:.1f} ms; {d['round_trips_per_attempt']:.2f} round trips per attempt")
            for name, stage in d["stages"].items():
                print(f"  {name.replace('_', ' ')}: p50 {stage['p50_ms']:.1f} ms, p99 {stage['p99_ms']:.1f} ms")
            checks.append({"check": f"dispatch p50 < {DISPATCH_P50_MS} ms", "value": d["dispatched_p50_ms"],
                           "ok": d["dispatched_p50_ms"] is not None and d["dispatched_p50_ms"] < DISPATCH_P50_MS})
            checks.append({"check": f"dispatch p99 < {DISPATCH_P99_MS} ms", "value": d["dispatched_p99_ms"],
                           "ok": d["dispatched_p99_ms"] is not None and d["dispatched_p99_ms"] < DISPATCH_P99_MS})
            checks.append({"check": f"round trips per attempt <= {ROUND_TRIPS_TARGET}",
                           "value": d["round_trips_per_attempt"],
                           "ok": d["round_trips_per_attempt"] <= ROUND_TRIPS_TARGET})
        if "scaling" in parts:
            log("# scaling with `sleep 0.5` tasks, 64 slots per node")
            document["scaling"] = part_scaling(args, workdir, pg)
            print(f"{'nodes':>5} {'tasks':>6} {'makespan s':>11} {'tasks/s':>8} {'efficiency':>10}")
            for row in document["scaling"]:
                print(f"{row['nodes']:5d} {row['tasks']:6d} {row['makespan_s']:11.2f} {row['tasks_per_s']:8.0f} "
                      f"{row['efficiency']:10.2f}")
            last = document["scaling"][-1]
            checks.append({"check": f"scaling to {last['nodes']} nodes >= {SCALING_TARGET} x linear",
                           "value": last["efficiency"], "ok": last["efficiency"] >= SCALING_TARGET})
    finally:
        pg.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    document["checks"] = checks
    ok = print_checks(checks)
    os.makedirs(os.path.join(BENCH_DIR, "results"), exist_ok=True)
    write_results(os.path.join(BENCH_DIR, "results",
                               f"cluster-{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"), document)
    return 0 if ok or "--strict" not in sys.argv else 1


if __name__ == "__main__":
    sys.exit(main())
