"""Cluster mode (issue 9): several real `baton serve` processes over one real PostgreSQL.

Needs BATON_TEST_POSTGRES_URL (scripts/test.sh starts a throwaway server); skipped without
it unless BATON_REQUIRE_POSTGRES=1 (CI), which makes its absence a failure. Nodes run with
a 2-second lease so that take-overs happen within the test's patience.
"""
import collections
import http.client
import json
import random
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from baton_server import BATON

SERVER_URL = os.environ.get("BATON_TEST_POSTGRES_URL", "")
if not SERVER_URL and os.environ.get("BATON_REQUIRE_POSTGRES") == "1":
    raise RuntimeError("BATON_REQUIRE_POSTGRES=1 but BATON_TEST_POSTGRES_URL is not set")
pytestmark = pytest.mark.skipif(not SERVER_URL, reason="no test PostgreSQL (BATON_TEST_POSTGRES_URL)")

LEASE = 2.0
FINAL = ("succeeded", "failed", "timed_out", "cancelled")


def database_url(name):
    return re.sub(r"/[^/?]*(\?.*)?$", "/" + name, SERVER_URL)


def sql(url, statement):
    """Rows of `statement` as lists of strings (psql, unaligned)."""
    out = subprocess.run(
        ["psql", url, "-XAtF", "\t", "-c", statement], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


class Node:
    """One `baton serve` of the cluster, with a data directory that survives restarts."""

    def __init__(self, cluster, name, wait=True, extra=()):
        self.cluster = cluster
        self.name = name
        self.extra = list(extra)
        self.data = os.path.join(cluster.scratch, name)
        self.process = None
        self.launch()
        if wait:
            self.wait_listening()

    def start(self):
        self.launch()
        self.wait_listening()

    def launch(self):
        args = [BATON, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data,
                "--database", self.cluster.url, "--node-id", self.name,
                "--node-lease-seconds", str(LEASE), "--workers", "8", *self.extra]
        env = {k: v for k, v in os.environ.items() if k not in ("BATON_TOKEN", "BATON_DATABASE_URL")}
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=open(os.path.join(self.cluster.scratch, self.name + ".log"), "a"),
            env=env, text=True)

    def wait_listening(self):
        line = self.process.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert match, f"node {self.name} did not start: {line!r}"
        self.base = f"http://127.0.0.1:{match.group(1)}"

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def submit(self, spec):
        status, run = self.request("POST", "/v1/runs", spec)
        assert status == 201, run
        return run["id"]

    def run(self, run_id):
        status, run = self.request("GET", f"/v1/runs/{run_id}")
        assert status == 200, run
        return run

    def signal(self, number):
        self.process.send_signal(number)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self):
        self.process.kill()
        self.process.wait()


class Cluster:
    def __init__(self):
        self.scratch = tempfile.mkdtemp(prefix="baton-cluster-")
        self.database = "baton_cluster_" + uuid.uuid4().hex[:12]
        sql(SERVER_URL, f"CREATE DATABASE {self.database}")
        self.url = database_url(self.database)
        self.nodes = []
        self.journal = os.path.join(self.scratch, "journal")

    def start(self, count, extra=()):
        """Starts `count` nodes at once (launched together, then awaited)."""
        started = [Node(self, f"n{len(self.nodes) + i + 1}", wait=False, extra=extra) for i in range(count)]
        for node in started:
            node.wait_listening()
        self.nodes += started
        return started

    def sql(self, statement):
        return sql(self.url, statement)

    def wait(self, run_id, limit=60):
        """Polls the run through whichever node is up until it ends."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.process.poll() is None:
                    try:
                        run = node.run(run_id)
                    except (OSError, urllib.error.URLError):
                        continue
                    if run["status"] in FINAL:
                        return run
                    break
            time.sleep(0.2)
        raise AssertionError(f"run {run_id} did not end within {limit}s: {self.sql(f'SELECT status, owner_node FROM runs WHERE id = {quote(run_id)}')}")

    def journal_counts(self):
        if not os.path.exists(self.journal):
            return collections.Counter()
        with open(self.journal) as lines:
            return collections.Counter(line.strip() for line in lines if line.strip())

    def close(self):
        for node in self.nodes:
            node.stop()
        sql(SERVER_URL, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        shutil.rmtree(self.scratch, ignore_errors=True)


def quote(text):
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture
def cluster():
    made = Cluster()
    yield made
    made.close()


def journaled(journal, command="true"):
    """A command that runs `command`, then notes its run and task in the journal."""
    return f'{command} && echo "$BATON_RUN_ID/$BATON_TASK" >> {journal}'


def layered_dag(journal, layers, width, command="true"):
    tasks = []
    for layer in range(layers):
        for index in range(width):
            task = {"name": f"t{layer}_{index}", "command": journaled(journal, command)}
            if layer:
                task["depends_on"] = [f"t{layer - 1}_{index}", f"t{layer - 1}_{(index + 1) % width}"]
            tasks.append(task)
    return {"name": "dag", "tasks": tasks}


def test_nodes_starting_at_once_migrate_once_and_list_each_other(cluster):
    # Launched together on an empty database: the migrations run under an advisory lock,
    # once, and every node comes up.
    processes = cluster.start(3)
    assert cluster.sql("SELECT count(*) FROM baton_migrations") == [["2"]]
    status, body = processes[0].request("GET", "/v1/nodes")
    assert status == 200
    listed = {node["id"]: node for node in body["nodes"]}
    assert set(listed) == {"n1", "n2", "n3"}
    for node in listed.values():
        assert node["state"] == "live" and node["slots"] == 8
        assert set(node) >= {"hostname", "labels", "busy_slots", "version", "last_heartbeat_at", "started_at"}


def test_runs_submitted_to_every_node_run_each_task_exactly_once(cluster):
    nodes = cluster.start(3)
    runs = [nodes[i % 3].submit(layered_dag(cluster.journal, 10, 34)) for i in range(3)]
    for run_id in runs:
        assert cluster.wait(run_id, limit=120)["status"] == "succeeded"
    counts = cluster.journal_counts()
    assert len(counts) == 3 * 340
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v != 1][:5]
    # Each run was executed by the node it was submitted to: three nodes did work.
    rows = cluster.sql("SELECT DISTINCT node FROM attempts")
    assert {row[0] for row in rows} == {"n1", "n2", "n3"}


def test_a_killed_node_s_runs_finish_on_another_node(cluster):
    first, second = cluster.start(2)
    spec = layered_dag(cluster.journal, 20, 10, command="sleep 0.1")
    spec["tasks"].append({"name": "once", "command": journaled(cluster.journal, "sleep 4"), "restartable": False})
    run_id = first.submit(spec)
    time.sleep(1.5)
    assert attempt_processes(run_id, "once", 1)
    first.kill()
    killed_at = time.monotonic()
    run = cluster.wait(run_id, limit=120)
    # The killed node's processes died with it (the task's leader at once, its `sleep`
    # when the run was taken over): `once` never finishes behind the new owner's back.
    assert not attempt_processes(run_id, "once", 1)
    time.sleep(max(0, killed_at + 5 - time.monotonic()))
    assert cluster.journal_counts()[f"{run_id}/once"] == 0
    # The non-restartable task failed with the node's loss as its reason, failing the run
    # (failfast) once everything else that was running stopped; nothing stays running.
    tasks = {task["name"]: task for task in run["tasks"]}
    assert tasks["once"]["status"] == "failed"
    assert tasks["once"]["reason"] == "interrupted: node n1 lost"
    assert run["status"] == "failed"
    assert all(task["status"] != "running" for task in run["tasks"])
    assert cluster.sql(f"SELECT owner_node FROM runs WHERE id = {quote(run_id)}") == [["n2"]]
    # A task that ran once (no interrupted attempt) is in the journal at most once.
    counts = cluster.journal_counts()
    for task in run["tasks"]:
        if task["attempt"] == 1:
            assert counts[f"{run_id}/{task['name']}"] <= 1, task


def test_a_killed_node_s_restartable_tasks_run_again_elsewhere(cluster):
    first, second = cluster.start(2)
    run_id = first.submit(layered_dag(cluster.journal, 15, 8, command="sleep 0.1"))
    time.sleep(1.5)
    first.kill()
    run = cluster.wait(run_id, limit=120)
    assert run["status"] == "succeeded"
    counts = cluster.journal_counts()
    assert len(counts) == 120
    restarted = [task for task in run["tasks"] if task["attempt"] > 1]
    for task in run["tasks"]:
        if task["attempt"] == 1:
            assert counts[f"{run_id}/{task['name']}"] == 1, task
    # Both nodes recorded attempts of this run.
    assert {row[0] for row in cluster.sql(f"SELECT DISTINCT node FROM attempts WHERE run_id = {quote(run_id)}")} == {"n1", "n2"}
    # The tasks the lost node was running were restarted there as attempt 2.
    assert restarted, "no task was running when the node was killed"
    for task in restarted:
        assert task["reason"] is None or "restarting" not in (task["reason"] or "")


def test_a_frozen_node_comes_back_without_writing_over_the_new_owner(cluster):
    first, second = cluster.start(2)
    run_id = first.submit({"name": "long", "tasks": [
        {"name": "slow", "command": "sleep 30"},
        {"name": "after", "command": "true", "depends_on": ["slow"]},
    ]})
    deadline = time.monotonic() + 10
    while cluster.sql(f"SELECT status FROM tasks WHERE run_id = {quote(run_id)} AND name = 'slow'") != [["running"]]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    first.signal(signal.SIGSTOP)
    # Past the lease the second node takes the run over and starts attempt 2.
    deadline = time.monotonic() + 20
    while cluster.sql(f"SELECT runs.owner_node, tasks.attempt FROM tasks JOIN runs ON runs.id = tasks.run_id "
                      f"WHERE tasks.run_id = {quote(run_id)} AND tasks.name = 'slow'") != [["n2", "2"]]:
        assert time.monotonic() < deadline, cluster.sql(f"SELECT owner_node FROM runs WHERE id = {quote(run_id)}")
        time.sleep(0.2)
    first.signal(signal.SIGCONT)
    # The first node finds it lost the run and kills its attempt-1 process...
    deadline = time.monotonic() + 15
    while attempt_processes(run_id, "slow", 1):
        assert time.monotonic() < deadline, "the stale attempt still runs"
        time.sleep(0.2)
    time.sleep(1)
    # ...without recording anything over the new owner's attempt, which still runs.
    assert cluster.sql(f"SELECT status, attempt FROM tasks WHERE run_id = {quote(run_id)} AND name = 'slow'") == [["running", "2"]]
    assert attempt_processes(run_id, "slow", 2)
    rows = cluster.sql(f"SELECT attempt, node, status FROM attempts WHERE run_id = {quote(run_id)} ORDER BY attempt")
    assert rows[0][1] == "n1" and rows[1] == ["2", "n2", "running"], rows
    # A cancel sent to the node that lost the run reaches the owner.
    status, _ = first.request("POST", f"/v1/runs/{run_id}/cancel")
    assert status == 202
    assert cluster.wait(run_id)["status"] == "cancelled"
    assert not attempt_processes(run_id, "slow", 2)


def attempt_processes(run_id, task, attempt):
    """Pids whose environment marks them as this attempt's (as the server finds them)."""
    marks = {f"BATON_RUN_ID={run_id}".encode(), f"BATON_TASK={task}".encode(), f"BATON_ATTEMPT={attempt}".encode()}
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                entries = set(environ.read().split(b"\0"))
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[-1].startswith("Z"):
                    continue
        except OSError:
            continue
        if marks <= entries:
            found.append(int(pid))
    return found


def test_cancel_through_another_node_stops_the_tasks_where_they_run(cluster):
    first, second = cluster.start(2)
    run_id = first.submit({"name": "cancel-me", "tasks": [{"name": "wait", "command": "sleep 60"}]})
    deadline = time.monotonic() + 10
    while not attempt_processes(run_id, "wait", 1):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    started = time.monotonic()
    status, _ = second.request("POST", f"/v1/runs/{run_id}/cancel")
    assert status == 202
    run = cluster.wait(run_id)
    assert run["status"] == "cancelled"
    assert not attempt_processes(run_id, "wait", 1)
    # Woken by NOTIFY, not by the next heartbeat's poll of the queue.
    assert time.monotonic() - started < 5
    # A second cancel of the ended run, through either node: 409.
    assert second.request("POST", f"/v1/runs/{run_id}/cancel")[0] == 409


def test_rolling_restart_of_every_node_loses_no_run(cluster):
    first, second = cluster.start(2)
    runs = [first.submit(layered_dag(cluster.journal, 12, 5, command="sleep 0.2")),
            second.submit(layered_dag(cluster.journal, 12, 5, command="sleep 0.2"))]
    for node in (first, second):
        time.sleep(1)
        node.stop()  # a clean stop: the other node takes its runs at once
        node.start()
    for run_id in runs:
        assert cluster.wait(run_id, limit=120)["status"] == "succeeded"
    assert len(cluster.journal_counts()) == 120


def test_each_cron_instant_fires_once_while_the_cron_node_is_killed(cluster):
    # The scenario: 100 every-second workflows for 60 s over 3 nodes, the node
    # firing them killed halfway. Every instant from each workflow's first fire to its
    # last fires once (0 missed, 0 doubled), and each fired run's task runs exactly once.
    nodes = cluster.start(3)
    count, seconds, kill_at = 100, 60, 30
    started = time.monotonic()
    for index in range(count):
        status, body = nodes[index % 3].request("PUT", f"/v1/workflows/tick{index}", {
            "spec": {"name": f"tick{index}", "tasks": [{"name": "t", "command": journaled(cluster.journal)}]},
            # allow: a fire must not be skipped because the previous one's run is still
            # with the killed node until its lease expires (overlap: skip would skip it).
            "schedule": {"cron": "* * * * * *", "overlap": "allow"}})
        assert status in (200, 201), body
    time.sleep(max(0, started + kill_at - time.monotonic()))
    leader = cluster.sql("SELECT owner FROM leases WHERE name = 'cron'")[0][0]
    killed = next(node for node in nodes if node.name == leader)
    killed.kill()
    cluster.nodes.remove(killed)
    time.sleep(max(0, started + seconds - time.monotonic()))
    new_leader = cluster.sql("SELECT owner FROM leases WHERE name = 'cron'")[0][0]
    assert new_leader != leader
    survivor = nodes[0] if killed is not nodes[0] else nodes[1]
    for index in range(count):
        assert survivor.request("POST", f"/v1/workflows/tick{index}/pause")[0] == 200
    time.sleep(1.5)
    rows = cluster.sql("SELECT id, workflow, run_key FROM runs WHERE workflow LIKE 'tick%'")
    instants = collections.defaultdict(list)
    for _, workflow, key in rows:
        instants[workflow].append(int(key.rsplit(":", 1)[1]) // 1000)
    assert set(instants) == {f"tick{index}" for index in range(count)}
    for workflow, fired in instants.items():
        # 0 doubled (also guaranteed by the unique run key), 0 missed: every second from the
        # first fire to the last, across the take-over.
        assert len(fired) == len(set(fired)), workflow
        assert sorted(fired) == list(range(min(fired), max(fired) + 1)), (workflow, sorted(fired))
        assert len(fired) >= seconds - 10, (workflow, len(fired))
    # Every fired run ends (the killed node's runs on a survivor) with its task run once:
    # `true` cannot fail, so a run that is not succeeded lost its task to the kill.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        open_runs = cluster.sql("SELECT count(*) FROM runs WHERE workflow LIKE 'tick%' "
                                "AND status NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out')")
        if open_runs == [["0"]]:
            break
        time.sleep(0.5)
    assert open_runs == [["0"]]
    # A task may run twice only as a new attempt: its node was killed after it ran but
    # before its end was recorded, and the task is `restartable` (the default).
    journal = cluster.journal_counts()
    attempts = dict((run, int(n)) for run, n in cluster.sql(
        "SELECT run_id, count(*) FROM attempts WHERE run_id IN "
        "(SELECT id FROM runs WHERE workflow LIKE 'tick%') GROUP BY run_id"))
    for line, times in journal.items():
        assert times <= attempts.get(line.split("/")[0], 0), (line, times)
    succeeded = {run for run, status in cluster.sql(
        "SELECT id, status FROM runs WHERE workflow LIKE 'tick%'") if status == "succeeded"}
    assert succeeded <= {line.split("/")[0] for line in journal}
    assert len(succeeded) >= len(rows) - 20, (len(succeeded), len(rows))


def test_one_run_s_tasks_spread_over_every_node_each_exactly_once(cluster):
    nodes = cluster.start(3)
    # 1,000 tasks, 100 wide: far more than one node's 8 slots at every layer.
    run_id = nodes[0].submit(layered_dag(cluster.journal, 10, 100, command="sleep 0.02"))
    assert cluster.wait(run_id, limit=300)["status"] == "succeeded"
    counts = cluster.journal_counts()
    assert len(counts) == 1000
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v != 1][:5]
    per_node = dict(cluster.sql(f"SELECT node, count(*) FROM attempts WHERE run_id = {quote(run_id)} GROUP BY node"))
    assert set(per_node) == {"n1", "n2", "n3"}, per_node
    assert sum(int(count) for count in per_node.values()) == 1000
    # Nothing is left in the dispatch table.
    assert cluster.sql("SELECT count(*) FROM dispatches") == [["0"]]


def test_a_killed_node_s_share_of_another_node_s_run_runs_again(cluster):
    owner, worker = cluster.start(2)
    spec = {"name": "spread", "tasks": [
        {"name": f"t{i}", "command": journaled(cluster.journal, "sleep 3")} for i in range(16)]}
    spec["tasks"].append({"name": "once", "command": journaled(cluster.journal, "sleep 3"), "restartable": False})
    run_id = owner.submit(spec)
    # Wait until the worker node runs some of them, then kill it.
    deadline = time.monotonic() + 15
    while cluster.sql(f"SELECT count(*) FROM attempts WHERE run_id = {quote(run_id)} AND node = 'n2'") == [["0"]]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    on_worker = {row[0] for row in cluster.sql(
        f"SELECT t.name FROM attempts a JOIN tasks t ON t.run_id = a.run_id AND t.idx = a.task_idx "
        f"WHERE a.run_id = {quote(run_id)} AND a.node = 'n2'")}
    worker.kill()
    run = cluster.wait(run_id, limit=60)
    tasks = {task["name"]: task for task in run["tasks"]}
    for name in on_worker:
        if name == "once":
            assert tasks[name]["status"] == "failed" and tasks[name]["reason"] == "interrupted: node n2 lost"
        else:
            assert tasks[name]["status"] == "succeeded" and tasks[name]["attempt"] == 2, tasks[name]
    if "once" not in on_worker:
        assert tasks["once"]["status"] == "succeeded"
    # Attempt 2 of the worker's tasks ran on the owner.
    rows = cluster.sql(f"SELECT DISTINCT node FROM attempts WHERE run_id = {quote(run_id)} AND attempt = 2")
    assert rows in ([["n1"]], []), rows


def test_a_timeout_and_a_cancel_stop_tasks_running_on_another_node(cluster):
    owner, worker = cluster.start(2)
    # The owner's 8 slots are taken by `hold`; `slow` goes to the worker node.
    tasks = [{"name": f"hold{i}", "command": "sleep 60"} for i in range(8)]
    tasks.append({"name": "slow", "command": "sleep 60", "timeout_seconds": 1})
    run_id = owner.submit({"name": "remote-stops", "mode": "waitall", "tasks": tasks})
    deadline = time.monotonic() + 20
    while cluster.sql(f"SELECT status FROM tasks WHERE run_id = {quote(run_id)} AND name = 'slow'") != [["timed_out"]]:
        assert time.monotonic() < deadline, cluster.sql(f"SELECT name, status FROM tasks WHERE run_id = {quote(run_id)}")
        time.sleep(0.2)
    assert cluster.sql(f"SELECT a.node FROM attempts a JOIN tasks t ON t.run_id = a.run_id AND t.idx = a.task_idx "
                       f"WHERE a.run_id = {quote(run_id)} AND t.name = 'slow'") == [["n2"]]
    assert not attempt_processes(run_id, "slow", 1)
    # A cancel through the worker node stops the owner's tasks too.
    assert worker.request("POST", f"/v1/runs/{run_id}/cancel")[0] == 202
    assert cluster.wait(run_id)["status"] == "cancelled"
    assert not any(attempt_processes(run_id, f"hold{i}", 1) for i in range(8))


def raw_get(node, path):
    with urllib.request.urlopen(node.base + path, timeout=30) as answer:
        return answer.status, dict(answer.headers), answer.read()


def test_the_log_of_a_task_that_ran_on_another_node_is_served_by_any_node(cluster):
    owner, worker = cluster.start(2)
    tasks = [{"name": f"hold{i}", "command": "sleep 2"} for i in range(8)]
    tasks.append({"name": "elsewhere", "command": "echo out-$BATON_TASK; echo err >&2"})
    run_id = owner.submit({"name": "logs", "tasks": tasks})
    assert cluster.wait(run_id)["status"] == "succeeded"
    where = cluster.sql(f"SELECT a.node FROM attempts a JOIN tasks t ON t.run_id = a.run_id AND t.idx = a.task_idx "
                        f"WHERE a.run_id = {quote(run_id)} AND t.name = 'elsewhere'")
    assert where == [["n2"]]
    for node in (owner, worker):
        status, headers, body = raw_get(node, f"/v1/runs/{run_id}/tasks/elsewhere/log")
        assert status == 200
        assert body == b"out-elsewhere\nerr\n", (node.name, body)
        assert headers["X-Log-Complete"] == "true" and headers["X-Log-Size"] == str(len(body))
        # From an offset, as a client tailing it asks.
        assert raw_get(node, f"/v1/runs/{run_id}/tasks/elsewhere/log?offset=4")[2] == b"elsewhere\nerr\n"
    # The owner's own tasks' logs are served by the worker node too.
    assert raw_get(worker, f"/v1/runs/{run_id}/tasks/hold0/log")[0] == 200
    # The nodes list says where each node is reached.
    nodes = {n["id"]: n for n in owner.request("GET", "/v1/nodes")[1]["nodes"]}
    assert nodes["n2"]["url"] == worker.base


def test_tasks_run_on_the_nodes_whose_labels_they_ask_for_and_wait_for_one(cluster):
    plain, = cluster.start(1)
    gpu, = cluster.start(1, extra=["--labels", "gpu=true,zone=a"])
    run_id = plain.submit({"name": "labels", "tasks": [
        {"name": "train", "command": "true", "runs_on": {"gpu": "true"}},
        {"name": "anywhere", "command": "true"},
        {"name": "mars", "command": "true", "runs_on": {"zone": "mars"}},
    ]})
    deadline = time.monotonic() + 15
    while cluster.sql(f"SELECT status FROM tasks WHERE run_id = {quote(run_id)} AND name = 'train'") != [["succeeded"]]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    nodes = dict(cluster.sql(f"SELECT t.name, a.node FROM attempts a JOIN tasks t ON t.run_id = a.run_id "
                             f"AND t.idx = a.task_idx WHERE a.run_id = {quote(run_id)}"))
    assert nodes["train"] == "n2"
    # No live node is in zone mars: the task waits, saying so, and is not dropped.
    time.sleep(2)
    mars = next(task for task in plain.run(run_id)["tasks"] if task["name"] == "mars")
    assert mars["status"] == "running" and mars["reason"] == "needs a node with zone=mars", mars
    # A node of zone mars joins: it takes the task, and the run ends.
    cluster.start(1, extra=["--labels", "zone=mars"])
    assert cluster.wait(run_id)["status"] == "succeeded"
    assert cluster.sql(f"SELECT a.node FROM attempts a JOIN tasks t ON t.run_id = a.run_id AND t.idx = a.task_idx "
                       f"WHERE a.run_id = {quote(run_id)} AND t.name = 'mars'") == [["n3"]]
    listed = {n["id"]: n["labels"] for n in plain.request("GET", "/v1/nodes")[1]["nodes"]}
    assert listed == {"n1": {}, "n2": {"gpu": "true", "zone": "a"}, "n3": {"zone": "mars"}}


def test_a_node_restarted_at_once_reports_the_tasks_it_was_running_as_lost(cluster):
    owner, worker = cluster.start(2)
    tasks = [{"name": f"hold{i}", "command": "sleep 3"} for i in range(8)]
    tasks.append({"name": "remote", "command": journaled(cluster.journal, "sleep 3")})
    run_id = owner.submit({"name": "restart-within-lease", "tasks": tasks})
    deadline = time.monotonic() + 15
    while cluster.sql(f"SELECT a.node FROM attempts a JOIN tasks t ON t.run_id = a.run_id AND t.idx = a.task_idx "
                      f"WHERE a.run_id = {quote(run_id)} AND t.name = 'remote'") != [["n2"]]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # Killed and back under the same id before its lease could expire: its claim died with it.
    worker.kill()
    for pid in attempt_processes(run_id, "remote", 1):
        os.kill(pid, signal.SIGKILL)
    worker.start()
    run = cluster.wait(run_id)
    remote = next(task for task in run["tasks"] if task["name"] == "remote")
    assert run["status"] == "succeeded" and remote["attempt"] == 2, remote
    assert cluster.journal_counts()[f"{run_id}/remote"] == 1


def test_random_kills_freezes_and_restarts_leave_no_run_behind_and_no_task_run_unseen(cluster):
    """Chaos, bounded: 20 s of SIGKILL, SIGSTOP/SIGCONT and SIGTERM of random nodes (seeded)
    under 4 runs of 120 journaling tasks. Afterwards every run has ended, no task is
    `running`, every succeeded task wrote its journal line, and no task wrote more lines than
    it made attempts. A `restartable: false` task interrupted by a loss fails, as it must."""
    rng = random.Random(7)
    nodes = cluster.start(3)
    runs = []
    for index in range(4):
        spec = layered_dag(cluster.journal, 10, 12, command=f"sleep {rng.uniform(0.8, 1.6):.1f}")
        spec["mode"] = "waitall"
        spec["tasks"][5]["restartable"] = False
        runs.append(nodes[index % 3].submit(spec))
    frozen = set()
    end = time.monotonic() + 20
    while time.monotonic() < end:
        time.sleep(rng.uniform(0.5, 2.0))
        node = rng.choice(cluster.nodes)
        if node.process.poll() is not None:
            node.start()
        elif node.name in frozen:
            node.signal(signal.SIGCONT)
            frozen.discard(node.name)
        else:
            action = rng.choice(["kill", "freeze", "stop"])
            if action == "kill":
                node.kill()
            elif action == "stop":
                node.stop()
            else:
                node.signal(signal.SIGSTOP)
                frozen.add(node.name)
    for node in cluster.nodes:
        if node.name in frozen:
            node.signal(signal.SIGCONT)
        if node.process.poll() is not None:
            node.start()
    ended = {run_id: cluster.wait(run_id, limit=180) for run_id in runs}
    time.sleep(1)  # a killed node's orphan may still be finishing its journal line
    counts = cluster.journal_counts()
    for run_id, run in ended.items():
        for task in run["tasks"]:
            written = counts[f"{run_id}/{task['name']}"]
            assert task["status"] != "running", task
            assert written <= task["attempt"], (run_id, task, written)
            if task["status"] == "succeeded":
                assert written >= 1, (run_id, task)
    assert cluster.sql("SELECT count(*) FROM runs WHERE status IN ('queued', 'running')") == [["0"]]
    assert cluster.sql("SELECT count(*) FROM dispatches") == [["0"]]


class EventReader:
    """A live `GET /v1/events` stream of a node, read on a thread of its own."""

    def __init__(self, node, query=""):
        host, port = node.base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        self.connection.request("GET", "/v1/events" + query)
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        self.events = []
        self.lock = threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        kind, data = None, None
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and kind:
                    with self.lock:
                        self.events.append((kind, data))
                    kind, data = None, None
        except (OSError, ValueError, AttributeError):
            pass  # closed by the test (http.client drops its file under the reader)

    def wait_for(self, predicate, limit=20):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with self.lock:
                found = [event for event in self.events if predicate(*event)]
            if found:
                return found
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(f"no such event within {limit}s; got {[kind for kind, _ in self.events]}")

    def close(self):
        # Shut the socket first: a plain close waits for the reader's blocked read.
        if self.connection.sock is not None:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def test_live_events_of_a_run_on_another_node_reach_every_node_s_clients(cluster):
    owner, = cluster.start(1, extra=["--labels", "side=a"])
    watcher, = cluster.start(1, extra=["--labels", "side=b"])
    every = EventReader(watcher)
    # The watcher's first stream is announced at once: the owner relays from then on.
    time.sleep(0.5)
    spec = {"name": "far", "runs_on": {"side": "a"}, "tasks": [
        {"name": "talk", "command": "sleep 1; echo one; sleep 1; echo two; sleep 1"}]}
    run_id = owner.submit(spec)
    every.wait_for(lambda kind, data: kind == "run.created" and data["id"] == run_id)
    detail = EventReader(watcher, f"?run={run_id}&logs=talk")
    try:
        detail.wait_for(lambda kind, data: kind == "log.appended" and data["task"] == "talk" and data["size"] > 0)
        # A long-poll on the watcher answers as soon as the run changes on the owner.
        status, headers, _ = raw_get(watcher, f"/v1/runs/{run_id}")
        request = urllib.request.Request(
            watcher.base + f"/v1/runs/{run_id}?wait=30s", headers={"If-None-Match": headers["ETag"]})
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=40) as answer:
            changed = json.loads(answer.read())
        assert answer.status == 200 and time.monotonic() - started < 10
        assert changed["status"] in ("running", "succeeded")
        ended = detail.wait_for(lambda kind, data: kind == "task.updated" and data["task"]["status"] == "succeeded")
        assert ended[0][1]["run"] == run_id
        every.wait_for(lambda kind, data: kind == "run.updated" and data["id"] == run_id
                       and data["status"] == "succeeded")
        # Everything ran on the owner: the watcher saw it all through the relay.
        assert cluster.sql(f"SELECT DISTINCT node FROM attempts WHERE run_id = {quote(run_id)}") == [["n1"]]
        logs = detail.wait_for(lambda kind, data: kind == "log.appended" and data["complete"])
        assert logs[-1][1]["size"] == len(b"one\ntwo\n")
    finally:
        detail.close()
        every.close()


def test_one_webhook_delivery_sent_to_every_node_at_once_starts_one_run(cluster):
    import hashlib
    import hmac
    nodes = cluster.start(3)
    secret = "s3cret"
    status, body = nodes[0].request("PUT", "/v1/workflows/ci", {
        "spec": {"name": "ci", "tasks": [{"name": "t", "command": journaled(cluster.journal)}]},
        "webhook": {"secret": secret}})
    assert status in (200, 201), body
    payload = json.dumps({"ref": "refs/heads/main"}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    answers = []

    def deliver(node):
        request = urllib.request.Request(node.base + "/v1/hooks/ci", data=payload, method="POST", headers={
            "Content-Type": "application/json", "X-GitHub-Delivery": "d-42", "X-GitHub-Event": "push",
            "X-Hub-Signature-256": signature})
        with urllib.request.urlopen(request, timeout=30) as answer:
            answers.append((answer.status, json.loads(answer.read())))

    threads = [threading.Thread(target=deliver, args=(node,)) for node in nodes for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [202] * 6
    assert len({body["run_id"] for _, body in answers}) == 1, answers
    assert sorted(body["duplicate"] for _, body in answers) == [False] + [True] * 5
    run_id = answers[0][1]["run_id"]
    assert cluster.wait(run_id)["status"] == "succeeded"
    assert cluster.sql("SELECT count(*) FROM runs WHERE workflow = 'ci'") == [["1"]]
    assert cluster.journal_counts() == {f"{run_id}/t": 1}


def test_a_frozen_node_s_share_of_another_node_s_run_is_stopped_before_it_ends(cluster):
    # A frozen node's processes are not frozen with it: once its lease expires, the run's
    # owner gives its attempt up AND kills what of it runs on this machine, so a
    # `restartable: false` task that ended `failed` never finishes behind its back.
    owner, = cluster.start(1, extra=["--labels", "side=a"])
    frozen, = cluster.start(1, extra=["--labels", "side=b"])
    run_id = owner.submit({"name": "far", "tasks": [
        {"name": "there", "command": journaled(cluster.journal, "sleep 6"), "runs_on": {"side": "b"},
         "restartable": False}]})
    deadline = time.monotonic() + 20
    while not attempt_processes(run_id, "there", 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert attempt_processes(run_id, "there", 1), "the task never started on the labelled node"
    frozen.signal(signal.SIGSTOP)
    try:
        run = cluster.wait(run_id, limit=30)
        tasks = {task["name"]: task for task in run["tasks"]}
        assert tasks["there"]["status"] == "failed"
        assert tasks["there"]["reason"] == "interrupted: node n2 lost"
        assert not attempt_processes(run_id, "there", 1)
        time.sleep(6)
        assert cluster.journal_counts()[f"{run_id}/there"] == 0
    finally:
        frozen.signal(signal.SIGCONT)
