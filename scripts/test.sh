#!/usr/bin/env bash
# Every test of Baton, the command README.md and .ci/run give:
#   1. the Swift suites (unit, HTTP, storage, runner, end-to-end against real servers);
#   2. the Python suites against the built binary: Tests/Python (/metrics through
#      Prometheus' own parser) and Tests/Browser (the console in headless Chromium with
#      selenium and axe-core; needs the Debian packages chromium and chromium-driver).
# Set BATON_REQUIRE_BROWSER=1 (CI does) to fail instead of skip when Chromium is missing.
# The PostgreSQL store and cluster tests use BATON_TEST_POSTGRES_URL, else a throwaway
# server this script starts (Debian package postgresql); BATON_REQUIRE_POSTGRES=1 (CI)
# fails instead of skipping them when there is none.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${BATON_TEST_POSTGRES_URL:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    postgres_dir=$(mktemp -d /tmp/baton-test-postgres.XXXXXX)
    trap 'bash scripts/postgres.sh stop "$postgres_dir"' EXIT
    BATON_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start "$postgres_dir")
    export BATON_TEST_POSTGRES_URL
    echo "test PostgreSQL: $BATON_TEST_POSTGRES_URL"
fi

swift build --build-tests
swift test --skip-build

# PyPI packages of the Python suites (pinned in Tests/requirements.txt). Debian's Python
# refuses a global pip install without --break-system-packages; a pyenv or venv Python
# takes it plainly.
python3 -m pip install -q -r Tests/requirements.txt 2>/dev/null \
    || python3 -m pip install -q --break-system-packages -r Tests/requirements.txt
BATON_BIN="$PWD/.build/debug/baton" python3 -m pytest -q -p no:cacheprovider Tests/Python Tests/Browser
