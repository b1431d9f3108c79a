"""A real `baton serve` on a free loopback port with a scratch data directory (shared by
Tests/Python and Tests/Browser)."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATON = os.environ.get("BATON_BIN", os.path.join(REPO, ".build", "debug", "baton"))


class Server:
    def __init__(self, *extra, token=None):
        self.scratch = tempfile.mkdtemp(prefix="baton-py-")
        self.token = token
        args = [BATON, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.scratch, "data"), *extra]
        env = {k: v for k, v in os.environ.items() if k != "BATON_TOKEN"}
        if token:
            env["BATON_TOKEN"] = token
        self.stderr_path = os.path.join(self.scratch, "stderr.log")
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "w"), env=env, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert match, f"baton serve did not start: {line!r}"
        self.port = int(match.group(1))
        self.base = f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def submit(self, spec):
        status, _, body = self.request("POST", "/v1/runs", spec)
        assert status == 201, body
        return json.loads(body)

    def wait_for_run(self, run_id, limit=30):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            status, headers, body = self.request("GET", f"/v1/runs/{run_id}")
            run = json.loads(body)
            if run["status"] in ("succeeded", "failed", "timed_out", "cancelled"):
                return run
            # Long-poll instead of sleeping: answers as soon as the run changes.
            self.request("GET", f"/v1/runs/{run_id}?wait=5s", headers={"If-None-Match": headers["ETag"]})
        raise AssertionError(f"run {run_id} did not end within {limit}s")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.scratch, ignore_errors=True)


@pytest.fixture
def server():
    """A fresh server, stopped after the test."""
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def make_server():
    """Starts servers with extra flags or a token; all stopped after the test."""
    started = []

    def make(*extra, token=None):
        started.append(Server(*extra, token=token))
        return started[-1]

    yield make
    for running in started:
        running.stop()
