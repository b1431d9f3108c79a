#!/usr/bin/env bash
# Baton cluster benchmark (issue 9): one node on PostgreSQL vs SQLite on the core shapes,
# dispatch latency between 2 nodes, throughput scaling to 4 nodes, round trips per attempt.
# See bench/README.md.
#
#   bench/cluster.sh [--no-build] [--parts single,dispatch,scaling] [--repeat N] [other cluster_bench.py options]
#
# Starts its own throwaway PostgreSQL (scripts/postgres.sh, Debian package postgresql).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/launcher.sh"
bench_main cluster.sh cluster_bench.py 7 "python3 psql" "python3 postgresql" "$@"
