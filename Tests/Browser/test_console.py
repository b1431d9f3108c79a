"""The web console in a real browser against a real server: what a person sees."""
import json
import os
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import axe_playwright_python

AXE = os.path.join(os.path.dirname(axe_playwright_python.__file__), "axe.min.js")


def wait(driver, condition, timeout=20):
    """Until `condition` holds; an element replaced by a re-render meanwhile (the task table
    is drawn again once every page of tasks is in) is looked up again."""
    return WebDriverWait(driver, timeout, poll_frequency=0.05,
                         ignored_exceptions=[StaleElementReferenceException]).until(condition)


def severe_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
            and "favicon" not in entry["message"]]


def request_log(server):
    with open(server.stderr_path) as f:
        return f.read()


def list_fetches(server):
    """How many GET /v1/runs (the list) the server answered."""
    return sum(1 for line in request_log(server).splitlines()
               if "method=GET" in line and "path=/v1/runs " in line)


def run_rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "[data-testid=run-row]")


def test_a_run_appears_live_and_reaches_its_status_without_reload(server, browser):
    browser.get(server.base + "/#/runs")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=live]").text == "live")
    gets_before = list_fetches(server)
    assert gets_before == 1
    run = server.submit({"name": "appears", "tasks": [{"name": "a", "command": "sleep 0.5"},
                                                       {"name": "b", "command": "exit 3", "depends_on": ["a"]}]})
    row = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"[data-run-id='{run['id']}']"))
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"[data-run-id='{run['id']}']")
         .get_attribute("data-status") == "failed")
    assert "failed" in browser.find_element(By.CSS_SELECTOR, f"[data-run-id='{run['id']}']").text
    # Pushed, not polled: no further GET /v1/runs after the first load.
    assert list_fetches(server) == gets_before
    assert row is not None
    assert severe_errors(browser) == []


def test_a_task_turns_from_running_to_failed_in_the_run_detail(server, browser):
    marker = os.path.join(server.scratch, "go")
    run = server.submit({"name": "detail", "tasks": [
        {"name": "slow", "command": f"while [ ! -f {marker} ]; do sleep 0.05; done; exit 7"}]})
    browser.get(server.base + f"/#/runs/{run['id']}")
    row = "[data-testid=task-row][data-task=slow]"
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "running")
    open(marker, "w").close()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "failed")
    text = browser.find_element(By.CSS_SELECTOR, row).text
    assert "failed" in text and "7" in text
    wait(browser, lambda d: "failed" in d.find_element(By.CSS_SELECTOR, "[data-testid=run-status]").text)
    assert severe_errors(browser) == []


def test_the_log_follows_a_task_that_prints(server, browser):
    marker = os.path.join(server.scratch, "more")
    run = server.submit({"name": "talk", "tasks": [{"name": "talker", "command":
        f"echo first line; while [ ! -f {marker} ]; do sleep 0.05; done; echo second line; sleep 0.3; echo third line"}]})
    browser.get(server.base + f"/#/runs/{run['id']}/tasks/talker")
    log = "[data-testid=log]"
    wait(browser, lambda d: "first line" in d.find_element(By.CSS_SELECTOR, log).text)
    open(marker, "w").close()
    wait(browser, lambda d: "third line" in d.find_element(By.CSS_SELECTOR, log).text)
    assert browser.find_element(By.CSS_SELECTOR, log).text.count("second line") == 1


def test_a_big_log_opens_at_its_tail_and_loads_earlier_chunks(server, browser):
    run = server.submit({"name": "big", "tasks": [{"name": "big", "command":
        "seq 1 400000"}]})
    server.wait_for_run(run["id"])
    started = time.monotonic()
    browser.get(server.base + f"/#/runs/{run['id']}/tasks/big")
    wait(browser, lambda d: "400000" in d.find_element(By.CSS_SELECTOR, "[data-testid=log]").text)
    assert time.monotonic() - started < 5
    text = browser.find_element(By.CSS_SELECTOR, "[data-testid=log]").text
    assert "\n1\n" not in "\n" + text, "opens at the tail, not the head"
    length = len(text)
    browser.find_element(By.CSS_SELECTOR, "[data-testid=log-earlier]").click()
    wait(browser, lambda d: len(d.find_element(By.CSS_SELECTOR, "[data-testid=log]").text) > length)


def test_cancel_from_the_button_stops_the_run(server, browser):
    run = server.submit({"name": "cancel me", "tasks": [{"name": "sleeper", "command": "sleep 60"}]})
    browser.get(server.base + f"/#/runs/{run['id']}")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=task-row][data-task=sleeper]")
         .get_attribute("data-status") == "running")
    button = browser.find_element(By.CSS_SELECTOR, "[data-testid=cancel]")
    assert button.is_enabled()
    button.click()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=task-row][data-task=sleeper]")
         .get_attribute("data-status") == "cancelled")
    wait(browser, lambda d: not d.find_element(By.CSS_SELECTOR, "[data-testid=cancel]").is_enabled())
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=retry]").is_enabled()


def thousand_task_spec():
    groups = [{"name": f"g{g}"} for g in range(10)]
    tasks = []
    for g in range(10):
        for i in range(100):
            task = {"name": f"g{g}-{i}", "command": "true", "group": f"g{g}"}
            if g:
                task["depends_on"] = [f"g{g - 1}-{i}"]
            tasks.append(task)
    return {"name": "thousand", "groups": groups, "tasks": tasks}


def test_graph_and_timeline_are_there_for_a_thousand_task_run(server, browser):
    run = server.submit(thousand_task_spec())
    server.wait_for_run(run["id"], limit=120)
    started = time.monotonic()
    browser.get(server.base + f"/#/runs/{run['id']}")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-testid=task-row]")) == 1000)
    assert time.monotonic() - started < 2.5, "run detail of 1,000 tasks interactive quickly"
    browser.find_element(By.CSS_SELECTOR, "[data-testid=tab-graph]").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-testid=graph] svg .node")) == 10)
    groups = browser.find_elements(By.CSS_SELECTOR, "[data-testid=graph] svg .node.group")
    assert len(groups) == 10, "1,000 tasks fold into one node per group"
    assert all("status-succeeded" in g.get_attribute("class") for g in groups)
    browser.find_element(By.XPATH, "//button[text()='Draw every task']").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-testid=graph] svg .node[data-task]")) == 1000)
    browser.find_element(By.CSS_SELECTOR, "[data-testid=tab-timeline]").click()
    bars = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=timeline] .bar"))
    assert 10 < len(bars) < 1000, "only the rows in view are drawn"
    assert severe_errors(browser) == []


def axe_violations(driver):
    with open(AXE) as f:
        driver.execute_script(f.read())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations)).catch(e => done(String(e)));")
    assert not isinstance(result, str), result
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violations(server, browser, theme):
    server.request("PUT", "/v1/workflows/nightly", {"spec": {"name": "nightly", "tasks": [{"name": "a", "command": "true"}]},
                                                    "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Paris"}})
    run = server.submit({"name": "a11y", "tasks": [{"name": "a", "command": "true"}, {"name": "b", "command": "exit 1"}]})
    server.wait_for_run(run["id"])
    browser.get(server.base + "/#/runs")
    browser.execute_script(f"localStorage.setItem('baton.theme', '{theme}')")
    for page, ready in [("#/runs", "[data-testid=run-row]"), (f"#/runs/{run['id']}", "[data-testid=task-row]"),
                        ("#/workflows", "[data-testid=workflow-row]"), ("#/workflows/nightly", "[data-testid=run-now]")]:
        browser.get(server.base + "/" + page)
        browser.refresh()
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ready))
        assert browser.execute_script("return document.documentElement.dataset.theme") == theme
        violations = axe_violations(browser)
        assert violations == [], f"{page} ({theme}): {json.dumps(violations, indent=1)[:3000]}"


def test_keyboard_reaches_cancel(server, browser):
    run = server.submit({"name": "keys", "tasks": [{"name": "s", "command": "sleep 60"}]})
    browser.get(server.base + f"/#/runs/{run['id']}")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=cancel]").is_enabled())
    for _ in range(40):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element.get_attribute("data-testid") == "cancel":
            break
    assert browser.switch_to.active_element.get_attribute("data-testid") == "cancel"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=task-row][data-task=s]")
         .get_attribute("data-status") == "cancelled")


def test_with_a_token_the_page_works_after_login_and_the_token_is_never_logged(make_server, browser):
    token = "browser-s3cret-token"
    server = make_server(token=token)
    run = server.submit({"name": "private", "tasks": [{"name": "a", "command": "true"}]})
    browser.get(server.base + "/#/runs")
    field = wait(browser, EC.element_to_be_clickable((By.ID, "token")))
    field.send_keys(token + Keys.ENTER)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"[data-run-id='{run['id']}']"))
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=live]").text == "live")
    assert token not in request_log(server)


def test_a_child_run_links_back_to_its_parent(server, browser):
    """A task that runs a workflow: its child run's page names the parent run and task."""
    run = server.submit({"name": "parent", "tasks": [
        {"name": "nested", "tasks": [{"name": "inner", "command": "true"}]}]})
    assert server.wait_for_run(run["id"])["status"] == "succeeded"
    status, _, body = server.request("GET", "/v1/runs?limit=10")
    assert status == 200
    child = next(r for r in json.loads(body)["runs"] if r["trigger"]["type"] == "task")
    browser.get(server.base + f"/#/runs/{child['id']}")
    link = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"a[href='#/runs/{run['id']}']"))
    assert "task nested" in link.find_element(By.XPATH, "..").text
    link.click()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=task-row][data-task=nested]"))
    assert severe_errors(browser) == []
