#!/usr/bin/env bash
# Baton cron benchmark: 1,000 workflows firing every second on one server for 30 s:
# fire lag (p50/p99/max), missed and doubled fires, the server's CPU busy and idle.
# 127.0.0.1 only. See bench/README.md.
#
#   bench/cron.sh [--no-build] [--workflows N] [--window S] [other cron_bench.py options]
#
# Builds the release binary (`swift build -c release --product baton`, incremental, so a
# no-op when it is current) unless --no-build is given or --baton PATH points elsewhere,
# then runs bench/cron_bench.py, which prints the table and writes
# bench/results/cron-<UTC date-time>.json.
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
            sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            echo
            exec python3 "$here/cron_bench.py" --help ;;
        *) args+=("$1"); shift ;;
    esac
done

if ! command -v python3 >/dev/null 2>&1; then
    echo "cron.sh: python3 is required" >&2
    exit 2
fi

if [[ $build -eq 1 && $custom_baton -eq 0 ]]; then
    echo "# building: swift build -c release --product baton" >&2
    if ! (cd "$repo" && swift build -c release --product baton >&2); then
        echo "cron.sh: the release build failed; fix it (or pass --no-build / --baton PATH)" >&2
        exit 2
    fi
fi

cd "$repo"
exec python3 "$here/cron_bench.py" "${args[@]}"
