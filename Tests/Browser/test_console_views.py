"""The console's workflows, runs-list filters and paging, webhook deliveries and timeline
queue time, in a real browser against a real server: what a person sees."""
import hashlib
import hmac
import json
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def wait(driver, condition, timeout=20):
    """Until `condition` holds; an element replaced by a live re-render meanwhile is retried."""
    return WebDriverWait(driver, timeout, poll_frequency=0.05,
                         ignored_exceptions=[StaleElementReferenceException]).until(condition)


def severe_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
            and "favicon" not in entry["message"]]


def api_json(server, method, path, body=None, expect=200):
    status, _, data = server.request(method, path, body)
    assert status == expect, (method, path, status, data)
    return json.loads(data) if data else None


# Pages re-render when an event comes in, so what is read from several elements is read in
# one script (atomically), never element by element.

def meta(driver, label):
    """The text of the <dd> after the <dt> reading `label` (the workflow and run headers)."""
    return driver.execute_script(
        "const dt = [...document.querySelectorAll('dl.meta dt')].find((d) => d.textContent === arguments[0]);"
        "return dt ? dt.nextElementSibling.innerText : null;", label)


def meta_times(driver, label):
    """The datetime attributes of the <time> elements in that <dd>."""
    return driver.execute_script(
        "const dt = [...document.querySelectorAll('dl.meta dt')].find((d) => d.textContent === arguments[0]);"
        "return dt ? [...dt.nextElementSibling.querySelectorAll('time')].map((t) => t.dateTime) : null;", label)


def shown_run_ids(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=run-row]')].map((r) => r.dataset.runId);")


def table_cells(driver, selector):
    """The text of every cell of the rows matching `selector`."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((r) => [...r.cells].map((c) => c.innerText));",
        selector)


def enabled(driver, testid):
    return driver.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]").is_enabled()


def press(driver, testid):
    """Clicks the button once it is enabled (retried if a re-render replaced it meanwhile)."""
    wait(driver, lambda d: enabled(d, testid) and (d.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]").click()
                                                   or True))


def live(driver):
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=live]").text == "live")


# Installed before the page's own script: the answer to the fetch whose path matches
# HOLD_PATTERN is held back until window.batonRelease() (window.batonHeld counts them).
HOLD_FETCH = """
window.batonHeld = 0;
const waiting = [];
const realFetch = window.fetch;
window.fetch = async (...args) => {
  const answer = await realFetch(...args);
  if (new RegExp(HOLD_PATTERN).test(String(args[0]))) {
    window.batonHeld += 1;
    await new Promise((resolve) => waiting.push(resolve));
  }
  return answer;
};
window.batonRelease = () => { window.fetch = realFetch; waiting.splice(0).forEach((resolve) => resolve()); };
"""


def hold_fetch(driver, pattern):
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                           {"source": HOLD_FETCH.replace("HOLD_PATTERN", json.dumps(pattern))})


# ------------------------------------------------------------------------ page loads

def test_a_run_that_ends_while_its_page_loads_is_shown_ended(server, browser):
    # The page fetched the run while it ran; it ends before the page is ready. The end
    # must still show (the event stream is open before the fetch; its events wait).
    marker = f"{server.scratch}/go"
    run = server.submit({"name": "quick", "tasks": [{"name": "a", "command": f"while [ ! -f {marker} ]; do sleep 0.05; done"}]})
    hold_fetch(browser, "^/v1/runs/" + re.escape(run["id"]) + "$")
    browser.get(server.base + f"/#/runs/{run['id']}")
    wait(browser, lambda d: d.execute_script("return window.batonHeld") == 1)
    open(marker, "w").close()
    assert server.wait_for_run(run["id"])["status"] == "succeeded"
    browser.execute_script("window.batonRelease()")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=task-row][data-task=a]")
         .get_attribute("data-status") == "succeeded")
    wait(browser, lambda d: "succeeded" in d.find_element(By.CSS_SELECTOR, "[data-testid=run-status]").text)
    wait(browser, lambda d: not enabled(d, "cancel"))
    assert severe_errors(browser) == []


def test_a_run_submitted_while_the_runs_list_loads_is_listed(server, browser):
    before = server.submit({"name": "before", "tasks": [{"name": "a", "command": "true"}]})
    server.wait_for_run(before["id"])
    hold_fetch(browser, "^/v1/runs\\?")
    browser.get(server.base + "/#/runs")
    wait(browser, lambda d: d.execute_script("return window.batonHeld") == 1)
    during = server.submit({"name": "during", "tasks": [{"name": "a", "command": "true"}]})
    server.wait_for_run(during["id"])
    browser.execute_script("window.batonRelease()")
    wait(browser, lambda d: shown_run_ids(d) == [during["id"], before["id"]])
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"[data-run-id='{during['id']}']")
         .get_attribute("data-status") == "succeeded")
    assert severe_errors(browser) == []


# ------------------------------------------------------------------------ workflows

def test_a_workflow_shows_its_schedule_runs_now_and_pauses_and_resumes(server, browser):
    api_json(server, "PUT", "/v1/workflows/nightly", {
        "spec": {"name": "nightly", "tasks": [{"name": "build", "command": "true"}]},
        "schedule": {"cron": "30 2 * * *", "timezone": "Europe/Paris"}}, expect=201)
    next_runs = api_json(server, "GET", "/v1/workflows/nightly")["next_runs"]
    assert len(next_runs) == 5

    # The list: schedule with its timezone, state, the next three fire times.
    browser.get(server.base + "/#/workflows")
    row = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=workflow-row][data-workflow=nightly]"))
    assert "cron 30 2 * * * (Europe/Paris)" in row.text
    assert "active" in row.text
    assert [t.get_attribute("datetime") for t in row.find_elements(By.CSS_SELECTOR, "time")] == next_runs[:3]
    assert all(t.text for t in row.find_elements(By.CSS_SELECTOR, "time")), "fire times are written out"

    # Its page: schedule, timezone, all five next fires.
    row.find_element(By.LINK_TEXT, "nightly").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=run-now]"))
    assert meta(browser, "Schedule") == "cron 30 2 * * * (Europe/Paris)"
    assert meta(browser, "State") == "active"
    assert meta_times(browser, "Next fires") == next_runs
    assert enabled(browser, "pause") and not enabled(browser, "resume")

    # Run now: the console opens the new run, which is a manual run of the workflow.
    press(browser, "run-now")
    wait(browser, lambda d: d.current_url.split("#")[1].startswith("/runs/"))
    run_id = browser.current_url.split("#/runs/")[1]
    wait(browser, lambda d: "succeeded" in d.find_element(By.CSS_SELECTOR, "[data-testid=run-status]").text)
    assert meta(browser, "Workflow") == "nightly"
    assert meta(browser, "Trigger") == "manual"
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=task-row][data-task=build]")
         .get_attribute("data-status") == "succeeded")
    assert [r["id"] for r in api_json(server, "GET", "/v1/runs?workflow=nightly")["runs"]] == [run_id]

    # Back on the workflow: the run is listed with its status, and the last status shows it.
    browser.find_element(By.LINK_TEXT, "nightly").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"[data-testid=run-row][data-run-id='{run_id}']"))
    assert browser.find_element(By.CSS_SELECTOR, f"[data-run-id='{run_id}']").get_attribute("data-status") == "succeeded"
    assert "succeeded" in meta(browser, "Last status")

    # Pause: shown as paused, no next fires, only resume offered; the API agrees.
    press(browser, "pause")
    wait(browser, lambda d: meta(d, "State") == "paused")
    assert meta_times(browser, "Next fires") == []
    wait(browser, lambda d: not enabled(d, "pause") and enabled(d, "resume"))
    assert api_json(server, "GET", "/v1/workflows/nightly")["state"] == "paused"

    # Resume: active again with its next fires back.
    press(browser, "resume")
    wait(browser, lambda d: meta(d, "State") == "active")
    wait(browser, lambda d: meta_times(d, "Next fires") == next_runs)
    assert api_json(server, "GET", "/v1/workflows/nightly")["state"] == "active"
    wait(browser, lambda d: enabled(d, "pause") and not enabled(d, "resume"))

    # The list shows the pause too, live (workflow.updated), without a reload.
    browser.get(server.base + "/#/workflows")
    live(browser)
    api_json(server, "POST", "/v1/workflows/nightly/pause")
    wait(browser, lambda d: "paused" in d.find_element(By.CSS_SELECTOR, "[data-workflow=nightly]").text)
    assert severe_errors(browser) == []


def test_the_workflow_page_shows_a_run_it_started_finishing_without_reload(server, browser):
    marker = f"{server.scratch}/go"
    api_json(server, "PUT", "/v1/workflows/slow", {
        "spec": {"name": "slow", "tasks": [{"name": "wait", "command": f"while [ ! -f {marker} ]; do sleep 0.05; done"}]},
        "schedule": {"cron": "0 3 * * *"}}, expect=201)
    browser.get(server.base + "/#/workflows/slow")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=run-now]"))
    live(browser)
    run = api_json(server, "POST", "/v1/workflows/slow/runs", expect=201)
    row = f"[data-testid=run-row][data-run-id='{run['id']}']"
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row)
         and d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "running")
    open(marker, "w").close()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "succeeded")
    wait(browser, lambda d: "succeeded" in meta(d, "Last status"))


# ------------------------------------------------------------------------ runs list

def test_the_runs_list_filters_by_status_name_and_workflow_and_pages_without_duplicates(server, browser):
    api_json(server, "PUT", "/v1/workflows/wf", {"spec": {"name": "wf", "tasks": [{"name": "a", "command": "true"}]}},
             expect=201)
    runs = [server.submit({"name": "bulk", "tasks": [{"name": "a", "command": ["true"]}]}) for _ in range(57)]
    failed = [server.submit({"name": "broken", "tasks": [{"name": "a", "command": "exit 4"}]}) for _ in range(2)]
    from_workflow = api_json(server, "POST", "/v1/workflows/wf/runs", expect=201)
    every = runs + failed + [from_workflow]
    for run in every:
        server.wait_for_run(run["id"])
    newest_first = [r["id"] for r in reversed(every)]

    # Paging: 50 on the first page, the rest after "Older runs", in order, none twice.
    browser.get(server.base + "/#/runs")
    wait(browser, lambda d: len(shown_run_ids(d)) == 50)
    assert shown_run_ids(browser) == newest_first[:50]
    older = browser.find_element(By.XPATH, "//button[text()='Older runs']")
    assert older.is_displayed()
    older.click()
    wait(browser, lambda d: len(shown_run_ids(d)) == 60)
    assert shown_run_ids(browser) == newest_first
    assert not older.is_displayed(), "no older runs left"

    def apply_filters(status="", name="", workflow=""):
        Select(browser.find_element(By.NAME, "status")).select_by_value(status)
        for field, value in (("name", name), ("workflow", workflow)):
            box = browser.find_element(By.NAME, field)
            box.clear()
            box.send_keys(value)
        browser.find_element(By.XPATH, "//form[@role='search']//button[text()='Filter']").click()

    # Status.
    apply_filters(status="failed")
    wait(browser, lambda d: "status=failed" in d.current_url)
    wait(browser, lambda d: shown_run_ids(d) == [r["id"] for r in reversed(failed)])
    assert {row.get_attribute("data-status") for row in browser.find_elements(By.CSS_SELECTOR, "[data-testid=run-row]")} \
        == {"failed"}
    assert Select(browser.find_element(By.NAME, "status")).first_selected_option.get_attribute("value") == "failed"

    # Workflow.
    apply_filters(workflow="wf")
    wait(browser, lambda d: shown_run_ids(d) == [from_workflow["id"]])
    assert "wf" in browser.find_element(By.CSS_SELECTOR, "[data-testid=run-row]").text

    # Name, which pages too: 57 runs named bulk.
    apply_filters(name="bulk")
    wait(browser, lambda d: len(shown_run_ids(d)) == 50)
    browser.find_element(By.XPATH, "//button[text()='Older runs']").click()
    wait(browser, lambda d: len(shown_run_ids(d)) == 57)
    assert shown_run_ids(browser) == [r["id"] for r in reversed(runs)]

    # Name and status together: none.
    apply_filters(status="failed", name="bulk")
    wait(browser, lambda d: "No runs" in d.find_element(By.CSS_SELECTOR, "main table tbody").text)
    assert shown_run_ids(browser) == []
    assert severe_errors(browser) == []


def test_a_filtered_runs_list_updates_live(server, browser):
    # Name filter: a new run of that name appears, another name does not.
    browser.get(server.base + "/#/runs?name=wanted")
    wait(browser, lambda d: "No runs" in d.find_element(By.CSS_SELECTOR, "main table tbody").text)
    live(browser)
    other = server.submit({"name": "unwanted", "tasks": [{"name": "a", "command": "true"}]})
    wanted = server.submit({"name": "wanted", "tasks": [{"name": "a", "command": "true"}]})
    # Events arrive in order: once `wanted` is shown, `unwanted` has been seen and left out.
    wait(browser, lambda d: shown_run_ids(d) == [wanted["id"]])
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"[data-run-id='{wanted['id']}']")
         .get_attribute("data-status") == "succeeded")
    assert other["id"] not in shown_run_ids(browser)

    # Status filter: a run that ends failed joins the list when it fails, one that succeeds
    # never shows, and a running one leaves the "running" list when it ends.
    server.wait_for_run(other["id"])
    browser.get(server.base + "/#/runs?status=failed")
    wait(browser, lambda d: "No runs" in d.find_element(By.CSS_SELECTOR, "main table tbody").text)
    live(browser)
    fine = server.submit({"name": "fine", "tasks": [{"name": "a", "command": "true"}]})
    server.wait_for_run(fine["id"])
    broken = server.submit({"name": "broken", "tasks": [{"name": "a", "command": "sleep 0.2; exit 2"}]})
    wait(browser, lambda d: shown_run_ids(d) == [broken["id"]])
    assert "broken" in browser.find_element(By.CSS_SELECTOR, f"[data-run-id='{broken['id']}']").text
    assert browser.find_element(By.CSS_SELECTOR, f"[data-run-id='{broken['id']}']").get_attribute("data-status") \
        == "failed"

    marker = f"{server.scratch}/go"
    slow = server.submit({"name": "slow", "tasks": [{"name": "a", "command": f"while [ ! -f {marker} ]; do sleep 0.05; done"}]})
    browser.get(server.base + "/#/runs?status=running")
    wait(browser, lambda d: shown_run_ids(d) == [slow["id"]])
    live(browser)
    open(marker, "w").close()
    wait(browser, lambda d: shown_run_ids(d) == [])
    assert severe_errors(browser) == []


# ------------------------------------------------------------------------ deliveries

def test_the_workflow_page_shows_webhook_deliveries_as_they_arrive(server, browser):
    secret = "hook-s3cret"
    api_json(server, "PUT", "/v1/workflows/hooked", {
        "spec": {"name": "hooked", "tasks": [{"name": "a", "command": "true"}]}, "webhook": {"secret": secret}},
        expect=201)
    browser.get(server.base + "/#/workflows/hooked")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=run-now]"))
    assert meta(browser, "Webhook") == "POST /v1/hooks/hooked"
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=delivery-row]") == []
    live(browser)

    payload = {"ref": "refs/heads/main"}
    body = json.dumps(payload).encode()  # the bytes Server.request sends
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    status, _, data = server.request("POST", "/v1/hooks/hooked", payload, headers={
        "X-Hub-Signature-256": signature, "X-GitHub-Event": "push", "X-GitHub-Delivery": "delivery-0001"})
    assert status == 202, data
    run_id = json.loads(data)["run_id"]
    rows = wait(browser, lambda d: table_cells(d, "[data-testid=delivery-row]"))
    assert len(rows) == 1
    assert rows[0][1:] == ["delivery-0001", "push", "accepted", run_id]
    assert rows[0][0], "when it was received"
    # The run it started is listed on the page too.
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"[data-testid=run-row][data-run-id='{run_id}']"))

    # A refused one (bad signature) is shown as well, newest first.
    status, _, _ = server.request("POST", "/v1/hooks/hooked", payload, headers={
        "X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Event": "push", "X-GitHub-Delivery": "delivery-0002"})
    assert status == 401
    rows = wait(browser, lambda d: (lambda rows: rows if len(rows) == 2 else None)(
        table_cells(d, "[data-testid=delivery-row]")))
    assert [r[1:4] for r in rows] == [["delivery-0002", "push", "bad_signature"], ["delivery-0001", "push", "accepted"]]

    # The run link opens the run the delivery started.
    browser.find_element(By.LINK_TEXT, run_id).click()
    wait(browser, lambda d: meta(d, "Id") == run_id)
    assert meta(browser, "Trigger").startswith("webhook push")
    assert severe_errors(browser) == []


# ------------------------------------------------------------------------ timeline

def ms(text):
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def duration_text(milliseconds):
    """What the console's seconds() writes for a duration under a minute."""
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    return f"{(Decimal(milliseconds) / 1000).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} s"


def test_the_timeline_shows_the_queue_time_of_an_attempt_that_waited_for_a_worker(make_server, browser):
    server = make_server("--workers", "1")
    run = server.submit({"name": "one slot", "tasks": [{"name": "left", "command": "sleep 0.6"},
                                                       {"name": "right", "command": "sleep 0.6"}]})
    server.wait_for_run(run["id"])
    timeline = api_json(server, "GET", f"/v1/runs/{run['id']}/timeline")
    attempts = {t["name"]: t["attempts"][0] for t in timeline["tasks"]}
    waited = [name for name, a in attempts.items() if ms(a["started_at"]) > ms(a["queued_at"])]
    assert len(waited) == 1, attempts
    waiter = waited[0]
    first = "right" if waiter == "left" else "left"
    queue_ms = ms(attempts[waiter]["started_at"]) - ms(attempts[waiter]["queued_at"])
    assert queue_ms >= 500

    browser.get(server.base + f"/#/runs/{run['id']}?tab=timeline")
    holder = "[data-testid=timeline]"
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, f"{holder} .bar")) == 2)

    def row_of(name):
        return browser.find_element(By.XPATH, f"//div[@data-testid='timeline']//div[@class='row']"
                                              f"[span[@class='label' and text()='{name}']]")

    # The task that started at once has no queue segment; the one that waited has one,
    # ending where its bar starts, as long (relative to the bar) as the wait was.
    assert row_of(first).find_elements(By.CSS_SELECTOR, ".queue") == []
    queues = row_of(waiter).find_elements(By.CSS_SELECTOR, ".queue")
    assert len(queues) == 1
    queue = queues[0]
    bar = row_of(waiter).find_element(By.CSS_SELECTOR, ".bar")
    assert queue.is_displayed()
    q, b = queue.rect, bar.rect
    assert abs(q["x"] + q["width"] - b["x"]) <= 1.5, (q, b)
    run_ms = ms(attempts[waiter]["finished_at"]) - ms(attempts[waiter]["started_at"])
    assert abs(q["width"] / b["width"] - queue_ms / run_ms) < 0.1, (q, b, queue_ms, run_ms)
    # Its wait is written out (the tooltip), not only shown as a shade.
    assert queue.get_attribute("title") == f"{waiter} #1 queued {duration_text(queue_ms)}"
    # The queue segment is lighter than the bar: a different colour from the attempt's.
    assert queue.value_of_css_property("background-color") != bar.value_of_css_property("background-color")
    assert "waiting for a slot" in browser.find_element(By.CSS_SELECTOR, "main .note").text
    assert severe_errors(browser) == []
