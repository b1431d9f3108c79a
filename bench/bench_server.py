"""Helpers shared by bench/http_bench.py, bench/cron_bench.py, bench/events_bench.py and
bench/console_bench.py (see bench/README.md).

- BatonServer: starts `baton serve --listen 127.0.0.1:0` on a fresh data dir, reads the
  bound port from its first stdout line, stops it with SIGTERM (then SIGKILL after a
  grace period), and reads its CPU time from /proc.
- Nginx: renders bench/nginx.conf into a temporary prefix and runs nginx in the
  foreground (`daemon off`) as a child process on another loopback port.
- A tiny HTTP client (http.client, one keep-alive connection) for setup and polling.
- wrk(): runs wrk with one of the bench/*.lua scripts and parses the JSON line the
  script's done() prints.

Everything listens on and talks to 127.0.0.1 only.
"""

import http.client
import json
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


def compile_helper(source, workdir, needed_by):
    """Compiles bench/SOURCE (a small C helper of a benchmark) into `workdir` with the first
    of cc, clang and gcc found; returns the executable's path."""
    compiler = next((c for c in ("cc", "clang", "gcc") if shutil.which(c)), None)
    if compiler is None:
        raise BenchError(f"{needed_by} needs a C compiler (cc, clang or gcc) for bench/{source}")
    exe = os.path.join(workdir, os.path.splitext(source)[0])
    done = subprocess.run([compiler, "-O2", "-o", exe, os.path.join(BENCH_DIR, source)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"could not compile bench/{source}:\n{done.stderr}")
    return exe


def tail(path, n=15):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-n:])


# --------------------------------------------------------------------------- /proc

def proc_cpu(pid):
    """(utime + stime of the process itself, cutime + cstime of its reaped children) in
    seconds, from /proc/PID/stat (clock ticks, usually 10 ms)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime) / CLK_TCK, (cutime + cstime) / CLK_TCK


def thread_cpu(pid):
    """{"name:tid": utime + stime seconds} for every thread of `pid`."""
    out = {}
    base = f"/proc/{pid}/task"
    try:
        tids = os.listdir(base)
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"{base}/{tid}/stat") as f:
                data = f.read()
        except OSError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        out[f"{name}:{tid}"] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def proc_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


class CPUWindow:
    """CPU seconds used by a process (and per thread name) between start() and stop()."""

    def __init__(self, pid):
        self.pid = pid

    def start(self):
        self.t0 = time.monotonic()
        self.cpu0 = proc_cpu(self.pid)
        self.threads0 = thread_cpu(self.pid)
        return self

    def stop(self):
        wall = time.monotonic() - self.t0
        cpu1 = proc_cpu(self.pid)
        threads1 = thread_cpu(self.pid)
        self_s = cpu1[0] - self.cpu0[0]
        children_s = cpu1[1] - self.cpu0[1]
        threads = {name: round(threads1[name] - self.threads0.get(name, 0.0), 3)
                   for name in threads1 if threads1[name] - self.threads0.get(name, 0.0) > 0}
        return {"wall_s": wall, "cpu_s": self_s, "children_cpu_s": children_s,
                "cpu_percent": 100.0 * self_s / wall if wall > 0 else None,
                "threads_cpu_s": dict(sorted(threads.items(), key=lambda kv: -kv[1]))}


# --------------------------------------------------------------------------- HTTP

class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port (reconnects when dropped)."""

    def __init__(self, port, timeout=120):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers dict with lower-case names, body bytes)."""
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body, separators=(",", ":")).encode()
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
            except (http.client.HTTPException, ConnectionError, socket.timeout):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise

    def json(self, method, path, body=None, expect=(200,), headers=None):
        status, _, data = self.request(method, path, body, headers)
        if status not in expect:
            raise BenchError(f"{method} {path}: HTTP {status}: {data[:500].decode('utf-8', 'replace')}")
        return json.loads(data) if data else None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_for_port(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- servers

class BatonServer:
    """`baton serve --listen 127.0.0.1:0 --data-dir DIR --workers N`, stdout and stderr (the
    structured log) to files in `workdir`."""

    def __init__(self, baton, workdir, workers=2, name="baton", extra_args=()):
        self.baton = baton
        self.workdir = workdir
        self.workers = workers
        self.name = name
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None

    def start(self, timeout=30.0):
        self.data_dir = os.path.join(self.workdir, f"{self.name}-data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.out_path = os.path.join(self.workdir, f"{self.name}.out")
        self.log_path = os.path.join(self.workdir, f"{self.name}.log")
        argv = [self.baton, "serve", "--listen", f"{HOST}:0", "--data-dir", self.data_dir,
                "--workers", str(self.workers)] + self.extra_args
        env = dict(os.environ)
        env.pop("BATON_TOKEN", None)
        self.out = open(self.out_path, "wb")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.log, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        pattern = re.compile(rb"listening on http://[^:]+:(\d+)")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"baton serve exited {self.proc.returncode}\n{tail(self.log_path)}")
            with open(self.out_path, "rb") as f:
                m = pattern.search(f.read())
            if m:
                self.port = int(m.group(1))
                if wait_for_port(self.port):
                    self.url = f"http://{HOST}:{self.port}"
                    return self
            time.sleep(0.02)
        self.stop()
        raise BenchError(f"baton serve did not print its address within {timeout:.0f} s\n{tail(self.log_path)}")

    @property
    def pid(self):
        return self.proc.pid

    def client(self, timeout=120):
        return Client(self.port, timeout)

    def stop(self, grace=30.0):
        """SIGTERM, wait up to `grace` s, then SIGKILL the process group. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        for f in (self.out, self.log):
            f.close()
        code = self.proc.returncode
        self.proc = None
        return code


class Nginx:
    """nginx from bench/nginx.conf (a template), in a temporary prefix, in the foreground
    (`daemon off`) as our child, serving `root` on 127.0.0.1:<free port>."""

    def __init__(self, prefix, root, workers=2, access_log=True):
        self.prefix = prefix
        self.root = root
        self.workers = workers
        self.access_log = access_log
        self.proc = None

    def start(self, timeout=10.0):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.access(nginx, os.X_OK):
            raise BenchError("nginx not found (apt-get install nginx)")
        os.makedirs(self.prefix, exist_ok=True)
        self.port = free_port()
        with open(os.path.join(BENCH_DIR, "nginx.conf")) as f:
            template = f.read()
        values = {
            "PREFIX": self.prefix, "ROOT": self.root, "PORT": str(self.port), "WORKERS": str(self.workers),
            "USER": pwd.getpwuid(os.geteuid()).pw_name, "GROUP": grp.getgrgid(os.getegid()).gr_name,
            "ACCESS_LOG": os.path.join(self.prefix, "access.log") if self.access_log else "off",
        }
        conf = re.sub(r"@([A-Z_]+)@", lambda m: values.get(m.group(1), m.group(0)), template)
        self.conf_path = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf_path, "w") as f:
            f.write(conf)
        self.error_log = os.path.join(self.prefix, "error.log")
        # -e: the error log before the configuration is read (else /var/log/nginx/error.log).
        argv = [nginx, "-p", self.prefix + "/", "-e", self.error_log, "-c", self.conf_path]
        test = subprocess.run(argv + ["-t"], capture_output=True, text=True)
        if test.returncode != 0:
            raise BenchError(f"nginx -t failed:\n{test.stderr}")
        self.stderr = open(os.path.join(self.prefix, "nginx.stderr"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.stderr, stderr=self.stderr, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        if not wait_for_port(self.port, timeout):
            self.stop()
            raise BenchError(f"nginx did not listen on {self.port}\n{tail(self.error_log)}")
        self.url = f"http://{HOST}:{self.port}"
        return self

    @property
    def pid(self):
        return self.proc.pid

    def cpu_s(self):
        """utime + stime of the master and its (live) workers, in seconds."""
        pids = [self.proc.pid]
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        total = 0.0
        for pid in pids:
            try:
                total += proc_cpu(pid)[0]
            except OSError:
                pass
        return total

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful shutdown of master and workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.stderr.close()
        self.proc = None


# --------------------------------------------------------------------------- wrk

WRK_LINE = re.compile(r"^BATON_WRK (\{.*\})$", re.M)


def wrk(url, script, threads=2, connections=32, duration="10s", headers=(), env=None, log_path=None,
        timeout_s="10s"):
    """Runs wrk with bench/<script> (whose done() prints `BATON_WRK {json}`), --latency.
    Returns the parsed JSON, plus the wrk text output under "output"."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", "--timeout", timeout_s,
            "-s", os.path.join(BENCH_DIR, script)]
    for h in headers:
        argv += ["-H", h]
    argv.append(url)
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(argv, capture_output=True, text=True, env=e)
    if log_path:
        with open(log_path, "a") as f:
            f.write("$ " + " ".join(argv) + "\n" + p.stdout + p.stderr + "\n")
    if p.returncode != 0:
        raise BenchError(f"wrk exited {p.returncode}: {p.stderr.strip()[-500:]}")
    m = WRK_LINE.search(p.stdout)
    if not m:
        raise BenchError(f"wrk printed no BATON_WRK line:\n{p.stdout[-1000:]}")
    result = json.loads(m.group(1))
    result["argv"] = argv
    result["output"] = p.stdout
    return result




def version(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True)
        return (p.stdout.strip() or p.stderr.strip()).splitlines()[0]
    except (OSError, IndexError):
        return None


class Perf:
    """`perf record -g -F FREQ -p PID -o PATH` around a measured window (--perf DIR of the
    drivers), stopped with SIGINT. A no-op when `path` is None."""

    def __init__(self, path, freq=499):
        self.path = path
        self.freq = freq
        self.proc = None

    def start(self, pid):
        if self.path is None:
            return self
        if shutil.which("perf") is None:
            raise BenchError("perf not found (apt-get install linux-perf)")
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self.log = open(self.path + ".log", "wb")
        self.proc = subprocess.Popen(["perf", "record", "-g", "-F", str(self.freq), "-p", str(pid), "-o", self.path],
                                     stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        time.sleep(0.3)
        return self

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        self.proc = None
