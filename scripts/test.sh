#!/usr/bin/env bash
# Every test of Baton, the command README.md and .ci/run give:
#   1. the Swift suites (unit, HTTP, storage, runner, end-to-end against real servers);
#   2. the Python suites against the built binary: Tests/Python (/metrics through
#      Prometheus' own parser) and Tests/Browser (the console in headless Chromium with
#      selenium and axe-core; needs the Debian packages chromium and chromium-driver).
# Set BATON_REQUIRE_BROWSER=1 (CI does) to fail instead of skip when Chromium is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
swift test --skip-build

# PyPI packages of the Python suites (pinned in Tests/requirements.txt). Debian's Python
# refuses a global pip install without --break-system-packages; a pyenv or venv Python
# takes it plainly.
python3 -m pip install -q -r Tests/requirements.txt 2>/dev/null \
    || python3 -m pip install -q --break-system-packages -r Tests/requirements.txt
BATON_BIN="$PWD/.build/debug/baton" python3 -m pytest -q -p no:cacheprovider Tests/Python Tests/Browser
