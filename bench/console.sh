#!/usr/bin/env bash
# Baton console benchmark: the run detail of a 10,000-task run in headless Chromium, time
# until interactive (tasks, graph and timeline views; median and p90 over --repeat cold
# loads) and the bytes of the console's own files. 127.0.0.1 only. See bench/README.md.
#
#   bench/console.sh [--no-build] [--repeat N] [--no-groups] [other console_bench.py options]
#
# Builds the release binary (`swift build -c release --product baton --static-swift-stdlib`, incremental, so a
# no-op when it is current) unless --no-build is given or --baton PATH points elsewhere,
# then runs bench/console_bench.py, which prints the table and writes
# bench/results/console-<UTC date-time>.json. Needs chromium, chromium-driver and the
# selenium package (pip install -r Tests/requirements.txt).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/launcher.sh"
bench_main console.sh console_bench.py 12 "python3 chromium chromedriver" "python3 chromium chromium-driver" "$@"
