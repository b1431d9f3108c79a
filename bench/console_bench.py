#!/usr/bin/env python3
"""Baton console benchmark: how long the run detail of a 10,000-task run takes to become
interactive in headless Chromium, and how many bytes the console's own files weigh.

Driven by bench/console.sh (which builds the release binary first); see bench/README.md.
On one fresh `baton serve --workers 2` (127.0.0.1, temporary data dir):

  1. Submits the core benchmark's layered DAG (100 layers x 100 `["true"]` tasks, 2
     random dependencies each, same --seed), each layer a group (`layer-K`; --no-groups to
     leave them out), and waits until the run has ended.
  2. Opens Debian's chromium through chromium-driver (selenium; nothing is downloaded):
     headless, 1280x800, HTTP cache disabled (every load is a cold one). Before each load
     a script is installed in the page (CDP Page.addScriptToEvaluateOnNewDocument) that
     watches the DOM with a MutationObserver and records `performance.now()` (ms since the
     navigation started) at each milestone. For each of --repeat repetitions, three fresh
     navigations (about:blank first, so each is a new document):
       tasks     #/runs/ID            ready when the task table has rows, its note counts
                                      every task of the run ("(10000 in the run)": every
                                      page of /tasks is in) and the Graph / Timeline tabs
                                      are there;
       graph     #/runs/ID?tab=graph  ready when the SVG has a node;
       timeline  #/runs/ID?tab=timeline  ready when the timeline has a bar.
     "Interactive" = that milestone, then the next frame painted (requestAnimationFrame,
     then a task after it: the page is on screen and the main thread is free again).
     On the tasks view the driver then puts the last task's name into the Name filter (one
     `input` event) and the page records how long it took from that event to the frame
     that shows that one row (the response to a person's input, for information).
  3. The console's own files as the browser transferred them (Resource Timing
     transferSize: headers included; the document `/` and everything under /ui/), and the
     same files' bodies fetched directly (Content-Length).
Targets: p90 of each view's interactive time < 2 s; assets < 200 KB (200,000 bytes).
"""

import argparse
import datetime as dt
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

import core_bench
from bench_common import git_revision, log, percentile, remove_workdir, report_checks, write_results
from bench_server import BENCH_DIR, REPO, BatonServer, BenchError, version

INTERACTIVE_TARGET_MS = 2000.0
ASSETS_TARGET_BYTES = 200_000
VIEWS = ("tasks", "graph", "timeline")
ASSET_PATHS = ("/", "/ui/app.js", "/ui/app.css")

# Installed in every new document before the console's script runs. Milestones are
# performance.now() readings: milliseconds since the navigation started.
PROBE = """
(() => {
  const marks = {};
  window.batonBench = marks;
  const painted = (name) => requestAnimationFrame(() => setTimeout(() => { marks[name + "_painted"] = performance.now(); }));
  const mark = (name) => { if (!(name in marks)) { marks[name] = performance.now(); painted(name); } };
  const check = () => {
    if (document.querySelector("[data-testid=task-row]")) mark("first_task_row");
    const note = document.querySelector("#panel .note");
    if (document.querySelector("[data-testid=task-row]") && note && note.textContent.includes("(" + TOTAL + " in the run)")
        && document.querySelector("[data-testid=tab-graph]") && document.querySelector("[data-testid=tab-timeline]")) mark("tasks");
    if (document.querySelector("[data-testid=graph] svg .node")) mark("graph");
    if (document.querySelector("[data-testid=timeline] .bar")) mark("timeline");
    if (marks.filter_input !== undefined && !("filter" in marks)
        && document.querySelectorAll("[data-testid=task-row]").length === 1) mark("filter");
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
  document.addEventListener("input", (event) => {
    if (event.target.id === "task-name" && marks.filter_input === undefined) marks.filter_input = event.timeStamp;
  }, true);
})();
"""


def summary(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    return {"count": len(v), "min": v[0], "median": statistics.median(v), "p90": percentile(v, 90), "max": v[-1]}


def spec(seed, groups):
    tasks, _ = core_bench.generate("layered", seed)
    document = {"name": "console-bench", "tasks": []}
    if groups:
        document["groups"] = [{"name": f"layer-{k}"} for k in range(math.ceil(len(tasks) / 100))]
    for i, (name, deps) in enumerate(tasks):
        task = {"name": name, "command": ["true"], "depends_on": deps}
        if groups:
            task["group"] = f"layer-{i // 100}"
        document["tasks"].append(task)
    return document


def wait_for_run(client, run_id, timeout):
    """Polls the list (a summary, not the 1.7 MB run document) until the run has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in client.json("GET", "/v1/runs?name=console-bench&limit=10")["runs"]:
            if run["id"] == run_id and run["status"] not in ("queued", "running"):
                return run
        time.sleep(0.5)
    raise BenchError(f"run {run_id} did not end within {timeout:.0f} s")


# --------------------------------------------------------------------------- browser

def open_browser(browser_path, driver_path):
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager must not download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                     "--disable-dev-shm-usage", "--force-prefers-reduced-motion", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    return driver


def wait_until(driver, script, timeout):
    """Polls `script` (a JS expression) in the page every 20 ms until it is truthy; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {script};")
        if value:
            return value
        time.sleep(0.02)
    raise BenchError(f"timed out after {timeout:.0f} s waiting for {script}")


def resources(driver):
    """The document and every resource the page fetched: path, transferSize, bodies, duration."""
    return driver.execute_script("""
        const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
        return entries.map((e) => ({
          path: new URL(e.name).pathname + new URL(e.name).search, type: e.initiatorType || e.entryType,
          transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize,
          start_ms: e.startTime, duration_ms: e.duration }));""")


def load(driver, url, view, total, timeout, filter_name=None):
    """One cold navigation to `url`; returns the page's milestones (ms since navigation start)."""
    driver.get("about:blank")
    driver.get(url)
    marks = wait_until(driver, f"window.batonBench && window.batonBench['{view}_painted'] !== undefined"
                               f" && window.batonBench", timeout)
    sample = {"view": view, "interactive_ms": marks[f"{view}_painted"], "ready_ms": marks[view],
              "first_task_row_ms": marks.get("first_task_row"),
              "dom_content_loaded_ms": driver.execute_script(
                  "return performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd;")}
    sample["dom_rows"] = driver.execute_script("return document.querySelectorAll('[data-testid=task-row]').length;")
    sample["dom_elements"] = driver.execute_script("return document.getElementsByTagName('*').length;")
    if filter_name is not None:
        from selenium.webdriver.common.by import By
        # The whole name as one input event (typed key by key, every key would redraw).
        driver.execute_script("const box = document.getElementById('task-name'); box.value = arguments[0];"
                              "box.dispatchEvent(new Event('input', { bubbles: true }));", filter_name)
        marks = wait_until(driver, "window.batonBench.filter_painted !== undefined && window.batonBench", timeout)
        sample["filter_response_ms"] = marks["filter_painted"] - marks["filter_input"]
        rows = driver.find_elements(By.CSS_SELECTOR, "[data-testid=task-row]")
        if len(rows) != 1 or rows[0].get_attribute("data-task") != filter_name:
            raise BenchError(f"the Name filter did not leave the one task {filter_name}")
    entries = resources(driver)
    sample["api"] = [{k: e[k] for k in ("path", "transfer", "duration_ms")} for e in entries if e["path"].startswith("/v1/")]
    sample["api_bytes"] = sum(e["transfer"] for e in entries if e["path"].startswith("/v1/"))
    return sample, entries


def asset_sizes(entries):
    """The console's own files among the page's resources: the document and /ui/*."""
    own = [e for e in entries if e["type"] == "navigation" or e["path"].startswith("/ui/")]
    return [{"path": "/" if e["type"] == "navigation" else e["path"], "transfer_bytes": e["transfer"],
             "body_bytes": e["encoded"], "decoded_bytes": e["decoded"]} for e in own]


def direct_sizes(base):
    out = {}
    for path in ASSET_PATHS:
        with urllib.request.urlopen(base + path, timeout=30) as answer:
            out[path] = len(answer.read())
    return out


# --------------------------------------------------------------------------- main

def measure(args, workroot, results):
    total = 100 * 100
    server = BatonServer(args.baton, workroot, workers=args.workers).start()
    try:
        client = server.client()
        document = spec(args.seed, not args.no_groups)
        total = len(document["tasks"])
        t = time.monotonic()
        run = client.json("POST", "/v1/runs", document, expect=(201,))
        ended = wait_for_run(client, run["id"], args.run_timeout)
        results["run"] = {"id": run["id"], "tasks": total, "groups": len(document.get("groups", [])),
                          "status": ended["status"], "seconds_to_end": round(time.monotonic() - t, 2),
                          "counts": ended.get("counts")}
        log(f"# run {run['id']}: {total} tasks {ended['status']} in {results['run']['seconds_to_end']:.1f} s")
        if ended["status"] != "succeeded":
            raise BenchError(f"the run ended {ended['status']}, not succeeded")

        driver = open_browser(args.chromium, args.chromedriver)
        try:
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE.replace("TOTAL", str(total))})
            results["browser"] = driver.capabilities.get("browserVersion")
            base = server.url + "/"
            urls = {"tasks": f"{base}#/runs/{run['id']}", "graph": f"{base}#/runs/{run['id']}?tab=graph",
                    "timeline": f"{base}#/runs/{run['id']}?tab=timeline"}
            last_task = document["tasks"][-1]["name"]
            # One unmeasured load of each view: Chromium's own first-use costs (process
            # start, compiling the module) are not the console's.
            for view in VIEWS:
                load(driver, urls[view], view, total, args.page_timeout)
            samples = {view: [] for view in VIEWS}
            assets = None
            for rep in range(args.repeat):
                for view in VIEWS:
                    sample, entries = load(driver, urls[view], view, total, args.page_timeout,
                                           filter_name=last_task if view == "tasks" else None)
                    samples[view].append(sample)
                    if assets is None:
                        assets = asset_sizes(entries)
                line = "  ".join(f"{v} {samples[v][-1]['interactive_ms']:.0f} ms" for v in VIEWS)
                log(f"# repetition {rep + 1}/{args.repeat}: {line}")
            results["samples"] = samples
            results["interactive_ms"] = {view: summary([s["interactive_ms"] for s in samples[view]]) for view in VIEWS}
            results["ready_ms"] = {view: summary([s["ready_ms"] for s in samples[view]]) for view in VIEWS}
            results["first_task_row_ms"] = summary([s["first_task_row_ms"] for s in samples["tasks"]])
            results["filter_response_ms"] = summary([s["filter_response_ms"] for s in samples["tasks"]])
            results["api_bytes"] = {view: samples[view][0]["api_bytes"] for view in VIEWS}
            results["dom"] = {view: {"task_rows": samples[view][0]["dom_rows"], "elements": samples[view][0]["dom_elements"]}
                              for view in VIEWS}
            results["assets"] = assets
            results["assets_transfer_bytes"] = sum(a["transfer_bytes"] for a in assets)
            results["assets_direct_body_bytes"] = direct_sizes(server.url)
        finally:
            driver.quit()
    finally:
        server.stop()


def table(results):
    checks = []
    print(f"{'view of the run detail':28} {'interactive ms':>16} {'(DOM ready ms)':>16}  target")
    print(f"{'':28} {'median / p90':>16} {'median / p90':>16}")
    print("-" * 78)
    for view in VIEWS:
        i, r = (results.get("interactive_ms") or {}).get(view), (results.get("ready_ms") or {}).get(view)
        if not i:
            continue
        print(f"{view:28} {i['median']:>7.0f} / {i['p90']:<6.0f} {r['median']:>7.0f} / {r['p90']:<6.0f}  "
              f"p90 < {INTERACTIVE_TARGET_MS:.0f}")
        checks.append({"check": f"run detail ({view}) of {results['run']['tasks']} tasks interactive,"
                                f" p90 < {INTERACTIVE_TARGET_MS:.0f} ms", "value": i["p90"],
                       "ok": i["p90"] < INTERACTIVE_TARGET_MS})
    if results.get("first_task_row_ms"):
        f = results["first_task_row_ms"]
        print(f"{'  first task row (tasks)':28} {f['median']:>7.0f} / {f['p90']:<6.0f}")
    if results.get("filter_response_ms"):
        f = results["filter_response_ms"]
        print(f"{'  Name filter, input -> paint':28} {f['median']:>7.0f} / {f['p90']:<6.0f}")
    if results.get("api_bytes"):
        print("API bytes per load: " + ", ".join(f"{v} {n / 1e6:.2f} MB" for v, n in results["api_bytes"].items()))
        print("DOM: " + ", ".join(f"{v} {d['elements']} elements ({d['task_rows']} task rows)"
                                  for v, d in results["dom"].items()))
    if results.get("assets"):
        print("assets as transferred: " + ", ".join(f"{a['path']} {a['transfer_bytes']}" for a in results["assets"])
              + f" = {results['assets_transfer_bytes']} bytes (bodies fetched directly: "
              + ", ".join(f"{p} {n}" for p, n in results["assets_direct_body_bytes"].items()) + ")")
        checks.append({"check": f"console assets < {ASSETS_TARGET_BYTES} bytes", "value": results["assets_transfer_bytes"],
                       "ok": results["assets_transfer_bytes"] < ASSETS_TARGET_BYTES})
    return checks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baton", default=os.path.join(REPO, ".build", "release", "baton"))
    ap.add_argument("--repeat", type=int, default=5, help="measured loads of each view (default 5)")
    ap.add_argument("--workers", type=int, default=2, help="baton serve --workers (default 2)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the layered DAG's dependencies (default 1, as core.sh)")
    ap.add_argument("--no-groups", action="store_true", help="submit the DAG without groups (no layer-K groups)")
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"),
                    help="the browser (default: chromium on PATH)")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver"), help="the driver (default: chromedriver on PATH)")
    ap.add_argument("--run-timeout", type=float, default=300, help="seconds for the 10,000-task run to end (default 300)")
    ap.add_argument("--page-timeout", type=float, default=60, help="seconds for one view to become ready (default 60)")
    ap.add_argument("--tmp", default=None, help="where the work dir is made (default: $TMPDIR or /tmp)")
    ap.add_argument("--output", default=None, help="results JSON (default bench/results/console-<UTC time>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (server log and data dir)")
    ap.add_argument("--strict", action="store_true", help="exit 3 when a target is not met (default: exit 0)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if not os.access(args.baton, os.X_OK):
        print(f"console_bench: no baton binary at {args.baton} (run bench/console.sh, which builds it)", file=sys.stderr)
        return 2
    if not args.chromium or not args.chromedriver:
        print("console_bench: chromium and chromedriver are required (apt-get install chromium chromium-driver)",
              file=sys.stderr)
        return 2
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("console_bench: the selenium package is required (pip install -r Tests/requirements.txt)", file=sys.stderr)
        return 2

    workroot = tempfile.mkdtemp(prefix="baton-console-bench-", dir=args.tmp)
    load0 = os.getloadavg()[0]
    log(f"# work dir {workroot}, {args.repeat} loads of each view, {version([args.chromium, '--version'])},"
        f" load average {load0:.1f} on {os.cpu_count()} CPUs")
    results, failures = {}, []
    try:
        measure(args, workroot, results)
    except (BenchError, OSError, ValueError, KeyError) as e:
        failures.append({"part": "console", "error": str(e)})
        print(f"  console: FAILED: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        failures.append({"part": "console", "error": "interrupted"})
    except Exception as e:  # noqa: BLE001 -- selenium's errors, reported like the others
        failures.append({"part": "console", "error": f"{type(e).__name__}: {e}"})
        print(f"  console: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
    finally:
        remove_workdir(workroot, args.keep)

    print()
    checks = table(results) if "run" in results else []
    all_ok, busy = report_checks(checks, failures, load0, "page times", digits=0,
                                 failure_check="the benchmark completed")
    print(f"\ntargets: {'MET' if all_ok else 'NOT MET'}")

    now = dt.datetime.now(dt.timezone.utc)
    out = args.output or os.path.join(BENCH_DIR, "results", f"console-{now.strftime('%Y%m%d-%H%M%S')}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    write_results(out, {
        "benchmark": "baton-console",
        "date": now.isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "baton": args.baton,
        "config": {k: getattr(args, k) for k in ("repeat", "workers", "seed", "no_groups", "chromium", "chromedriver")},
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "machine": platform.machine(),
                    "python": platform.python_version()},
        "definitions": {
            "interactive_ms": "ms from the navigation start to the first frame painted after the view's milestone"
                              " (requestAnimationFrame, then a task after it)",
            "milestones": {"tasks": "task rows present, the note counts every task of the run, Graph and Timeline tabs"
                                    " present", "graph": "an SVG node present", "timeline": "a timeline bar present"},
            "filter_response_ms": "the Name filter's input event -> the frame painted showing the one matching row",
            "assets_transfer_bytes": "Resource Timing transferSize (headers included) of the document and /ui/*,"
                                     " HTTP cache disabled",
        },
        "targets": {"interactive_p90_ms_max": INTERACTIVE_TARGET_MS, "assets_bytes_max": ASSETS_TARGET_BYTES},
        "results": results,
        "checks": checks,
        "failures": failures,
        "targets_met": all_ok,
        "loadavg_1m_at_start": load0,
        "machine_busy": busy,
    })
    if failures:
        return 1
    return 3 if args.strict and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
