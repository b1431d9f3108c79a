#!/usr/bin/env bash
# Baton core benchmark: Baton vs the spawn floor (xargs) vs ninja on three DAG shapes.
# See bench/README.md.
#
#   bench/core.sh [--no-build] [--repeat N] [--shapes wide,chain,layered] [other core_bench.py options]
#
# Builds the release binary (`swift build -c release --product baton --static-swift-stdlib`, incremental, so a
# no-op when it is current) unless --no-build is given or --baton PATH points elsewhere,
# then runs bench/core_bench.py, which prints the table and writes
# bench/results/core-<UTC date-time>.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/launcher.sh"
bench_main core.sh core_bench.py 10 "python3 xargs ninja /usr/bin/time" "python3 findutils ninja-build time" "$@"
