#!/usr/bin/env bash
# Baton HTTP benchmark: GET /v1/runs/{id} vs nginx, POST /v1/runs throughput, the
# 10,000-task DAG through the API vs ninja, cold start and idle memory. 127.0.0.1 only. See bench/README.md.
#
#   bench/http.sh [--no-build] [--parts get,submit,dag,idle] [--repeat N] [other http_bench.py options]
#
# Builds the release binary (`swift build -c release --product baton --static-swift-stdlib`, incremental, so a
# no-op when it is current) unless --no-build is given or --baton PATH points elsewhere,
# then runs bench/http_bench.py, which prints the table and writes
# bench/results/http-<UTC date-time>.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/launcher.sh"
bench_main http.sh http_bench.py 10 "python3 wrk nginx ninja /usr/bin/time" "python3 wrk nginx ninja-build time" "$@"
