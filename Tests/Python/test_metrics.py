"""`GET /metrics` read by Prometheus' own text parser (prometheus_client) after a known
workload: what a Prometheus server would ingest."""
import time

from prometheus_client.parser import text_string_to_metric_families


def scrape(server):
    status, headers, body = server.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {family.name: family for family in text_string_to_metric_families(body.decode())}


def sample(families, name, **labels):
    for family in families.values():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def test_metrics_follow_a_known_workload(server):
    runs = [
        server.submit({"tasks": [{"name": "a", "command": "true"}, {"name": "b", "command": "exit 3", "depends_on": ["a"]}]}),
        server.submit({"tasks": [{"name": "x", "command": "true"}]}),
        server.submit({"tasks": [{"name": "slow", "command": "sleep 30"}]}),
    ]
    server.wait_for_run(runs[0]["id"])
    server.wait_for_run(runs[1]["id"])
    status, _, _ = server.request("POST", f"/v1/runs/{runs[2]['id']}/cancel")
    assert status == 202
    server.wait_for_run(runs[2]["id"])
    for _ in range(50):
        families = scrape(server)
        if sample(families, "baton_runs_total", status="cancelled") == 1:
            break
        time.sleep(0.1)

    # Counters: names end in _total in the exposition; the parser strips it off the family.
    assert sample(families, "baton_runs_total", status="failed", trigger="api") == 1
    assert sample(families, "baton_runs_total", status="succeeded", trigger="api") == 1
    assert sample(families, "baton_runs_total", status="cancelled", trigger="api") == 1
    assert sample(families, "baton_tasks_total", status="succeeded") == 2
    assert sample(families, "baton_tasks_total", status="failed") == 1
    assert sample(families, "baton_tasks_total", status="cancelled") == 1
    assert families["baton_runs"].type == "counter"
    # Histograms: every attempt observed, buckets cumulative and ending in +Inf == count.
    duration = families["baton_task_duration_seconds"]
    assert duration.type == "histogram"
    count = sample(families, "baton_task_duration_seconds_count")
    assert count == 4
    buckets = [s for s in duration.samples if s.name.endswith("_bucket")]
    values = [s.value for s in buckets]
    assert values == sorted(values)
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == count
    assert sample(families, "baton_task_queue_wait_seconds_count") == 4
    assert sample(families, "baton_run_duration_seconds_count") == 3
    # Gauges.
    assert sample(families, "baton_runs_active", status="running") == 0
    assert sample(families, "baton_worker_slots_busy") == 0
    assert sample(families, "baton_worker_slots") >= 1
    assert sample(families, "baton_event_streams") == 0
    assert sample(families, "process_resident_memory_bytes") > 1_000_000
    assert sample(families, "process_open_fds") > 3
    assert sample(families, "baton_build_info") == 1
    # HTTP requests by route template and status class, never by raw path.
    assert sample(families, "baton_http_requests_total", route="/v1/runs", code="2xx") == 3
    assert sample(families, "baton_http_requests_total", route="/v1/runs/{id}/cancel", code="2xx") == 1
    # No unbounded labels: no run id anywhere.
    for family in families.values():
        for s in family.samples:
            for value in s.labels.values():
                assert all(run["id"] not in value for run in runs), (s.name, s.labels)


def test_metrics_need_the_token_unless_public(make_server):
    private = make_server(token="t0k3n")
    status, _, _ = private.request("GET", "/metrics", headers={"Authorization": "Bearer wrong"})
    assert status == 401
    status, _, _ = private.request("GET", "/metrics")
    assert status == 200
    public = make_server("--metrics-public", token="t0k3n")
    status, _, body = public.request("GET", "/metrics", headers={"Authorization": ""})
    assert status == 200 and b"baton_runs_total" in body
