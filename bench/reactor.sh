#!/usr/bin/env bash
# Baton reactor benchmark: thousands of concurrently running tasks (`sleep 5` each, as many
# workers as tasks), for this binary and optionally a reference build of older code. See
# bench/README.md.
#
#   bench/reactor.sh [--no-build] [--sizes 500,1000,2000,5000] [--reference PATH] [other reactor_bench.py options]
#
# Builds the release binary unless --no-build or --baton PATH, then runs
# bench/reactor_bench.py, which prints the table and writes bench/results/reactor-<UTC>.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/launcher.sh"
bench_main reactor.sh reactor_bench.py 9 "python3 sleep" "python3 coreutils" "$@"
