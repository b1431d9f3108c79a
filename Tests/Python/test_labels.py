"""`runs_on` on a single server (no cluster): a task this server's `--labels` do not
satisfy cannot run anywhere, so it fails at once with a reason that says why."""
import subprocess

from baton_server import BATON


def test_a_task_whose_labels_this_single_server_lacks_fails_with_the_reason(make_server):
    server = make_server("--labels", "zone=a")
    run = server.submit({"name": "labels", "mode": "waitall", "tasks": [
        {"name": "here", "command": "true", "runs_on": {"zone": "a"}},
        {"name": "gpu", "command": "true", "runs_on": {"gpu": "true"}},
    ]})
    ended = server.wait_for_run(run["id"])
    tasks = {task["name"]: task for task in ended["tasks"]}
    assert tasks["here"]["status"] == "succeeded"
    assert tasks["gpu"]["status"] == "failed"
    assert tasks["gpu"]["reason"] == "runs_on gpu=true: this node has zone=a and there is no cluster"
    status, _, body = server.request("GET", "/v1/nodes")
    assert status == 200 and b'"labels":{"zone":"a"}' in body


def test_bad_labels_flags_are_refused_by_name(tmp_path):
    answer = subprocess.run([BATON, "serve", "--data-dir", str(tmp_path), "--labels", "gpu"],
                            capture_output=True, text=True, timeout=30)
    assert answer.returncode != 0
    assert "--labels must be NAME=VALUE pairs" in answer.stderr
