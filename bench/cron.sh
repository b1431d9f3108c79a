#!/usr/bin/env bash
# Baton cron benchmark: 1,000 workflows firing every second on one server for 30 s:
# fire lag (p50/p99/max), missed and doubled fires, the server's CPU busy and idle.
# 127.0.0.1 only. See bench/README.md.
#
#   bench/cron.sh [--no-build] [--workflows N] [--window S] [other cron_bench.py options]
#
# Builds the release binary (`swift build -c release --product baton --static-swift-stdlib`, incremental, so a
# no-op when it is current) unless --no-build is given or --baton PATH points elsewhere,
# then runs bench/cron_bench.py, which prints the table and writes
# bench/results/cron-<UTC date-time>.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/launcher.sh"
bench_main cron.sh cron_bench.py 11 "python3" "python3" "$@"
