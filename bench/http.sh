#!/usr/bin/env bash
# Baton HTTP benchmark: GET /v1/runs/{id} vs nginx, POST /v1/runs throughput, and the
# 10,000-task DAG through the API vs ninja. 127.0.0.1 only. See bench/README.md.
#
#   bench/http.sh [--no-build] [--parts get,submit,dag] [--repeat N] [other http_bench.py options]
#
# Builds the release binary (`swift build -c release --product baton`, incremental, so a
# no-op when it is current) unless --no-build is given or --baton PATH points elsewhere,
# then runs bench/http_bench.py, which prints the table and writes
# bench/results/http-<UTC date-time>.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

build=1
custom_baton=0
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-build) build=0; shift ;;
        --baton) custom_baton=1; args+=("$1" "$2"); shift 2 ;;
        --baton=*) custom_baton=1; args+=("$1"); shift ;;
        -h|--help)
            sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            echo
            exec python3 "$here/http_bench.py" --help ;;
        *) args+=("$1"); shift ;;
    esac
done

export PATH="$PATH:/usr/sbin:/sbin"
for cmd in python3 wrk nginx ninja /usr/bin/time; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "http.sh: $cmd is required (apt-get install python3 wrk nginx ninja-build time)" >&2
        exit 2
    fi
done

if [[ $build -eq 1 && $custom_baton -eq 0 ]]; then
    echo "# building: swift build -c release --product baton" >&2
    if ! (cd "$repo" && swift build -c release --product baton >&2); then
        echo "http.sh: the release build failed; fix it (or pass --no-build / --baton PATH)" >&2
        exit 2
    fi
fi

cd "$repo"
exec python3 "$here/http_bench.py" "${args[@]}"
