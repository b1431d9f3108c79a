"""Saves screenshots of the console's main pages (1280x800, light and dark) into
docs/screenshots/, against a fresh server with a small fixture workload.

    BATON_BIN=.build/debug/baton python3 Tests/Browser/screenshots.py
"""
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Python"))
from baton_server import Server  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "docs", "screenshots")


def main():
    os.makedirs(OUT, exist_ok=True)
    server = Server()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1280,800", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        server.request("PUT", "/v1/workflows/nightly", {
            "spec": {"name": "nightly build", "tasks": [{"name": "build", "command": "true"}]},
            "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Paris"}, "webhook": {"secret": "s"}})
        groups = [{"name": "build"}, {"name": "test"}, {"name": "deploy"}]
        tasks = []
        for g, group in enumerate(groups):
            for i in range(4):
                task = {"name": f"{group['name']}-{i}", "group": group["name"],
                        "command": f"for n in 1 2 3; do echo {group['name']} step $n; sleep 0.1; done"}
                if g:
                    task["depends_on"] = [f"{groups[g - 1]['name']}-{i}"]
                tasks.append(task)
        tasks[-1]["command"] = "echo deploying; exit 3"
        run = server.submit({"name": "release", "groups": groups, "tasks": tasks})
        for name in ("lint", "docs"):
            server.submit({"name": name, "tasks": [{"name": "a", "command": "true"}]})
        server.wait_for_run(run["id"])
        time.sleep(0.3)
        pages = [
            ("runs", "#/runs", "[data-testid=run-row]"),
            ("run-detail", f"#/runs/{run['id']}", "[data-testid=task-row]"),
            ("graph", f"#/runs/{run['id']}?tab=graph", "[data-testid=graph] svg"),
            ("timeline", f"#/runs/{run['id']}?tab=timeline", "[data-testid=timeline] .bar"),
            ("log", f"#/runs/{run['id']}/tasks/build-0", "[data-testid=log]"),
            ("workflows", "#/workflows/nightly", "[data-testid=run-now]"),
        ]
        driver.get(server.base + "/")
        for theme in ("light", "dark"):
            driver.execute_script(f"localStorage.setItem('baton.theme', '{theme}')")
            for name, page, ready in pages:
                driver.get(server.base + "/" + page)
                driver.refresh()
                WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ready))
                time.sleep(0.3)
                target = os.path.join(OUT, f"{name}-{theme}.png")
                driver.save_screenshot(target)
                print(target)
    finally:
        driver.quit()
        server.stop()


if __name__ == "__main__":
    main()
