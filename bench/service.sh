#!/usr/bin/env bash
# Every row of the service-speed table in one command: bench/http.sh (GET vs nginx,
# submissions, the polled 10,000-task DAG vs ninja, cold start and idle memory), then
# bench/cron.sh (1,000 every-second workflows). Builds the release binary once.
#
#   bench/service.sh [--no-build | --baton PATH]
#
# Each driver prints its table and writes bench/results/{http,cron}-<UTC date-time>.json.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/http.sh" "$@"
# http.sh built the binary (unless told not to): cron.sh uses it as it is.
rest=()
for arg in "$@"; do [[ "$arg" == --no-build ]] || rest+=("$arg"); done
"$here/cron.sh" --no-build ${rest[@]+"${rest[@]}"}
