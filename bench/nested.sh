#!/usr/bin/env bash
# Baton nested-workflow benchmark: 100 tasks that each run a 100-task workflow vs the same
# 10,000 tasks flat, both through `baton run`. See bench/README.md.
#
#   bench/nested.sh [--no-build] [--repeat N] [--children 100] [--tasks 100] [other nested_bench.py options]
#
# Builds the release binary unless --no-build or --baton PATH, then runs
# bench/nested_bench.py, which prints the table and writes bench/results/nested-<UTC>.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/launcher.sh"
bench_main nested.sh nested_bench.py 9 "python3" "python3" "$@"
