#!/usr/bin/env bash
# Baton live-events benchmark: scheduling throughput with 500 open event streams vs none,
# run.created delivery latency (p50/p99/max), a stalled stream, and GET /metrics with
# 10,000 finished runs in the store. 127.0.0.1 only. See bench/README.md.
#
#   bench/events.sh [--no-build] [--parts streams,metrics] [--streams N] [other events_bench.py options]
#
# Builds the release binary (`swift build -c release --product baton --static-swift-stdlib`, incremental, so a
# no-op when it is current) unless --no-build is given or --baton PATH points elsewhere,
# then runs bench/events_bench.py, which prints the table and writes
# bench/results/events-<UTC date-time>.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/launcher.sh"
bench_main events.sh events_bench.py 11 "python3" "python3" "$@"
