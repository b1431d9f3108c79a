#!/usr/bin/env bash
# Baton core benchmark: Baton vs the spawn floor (xargs) vs ninja on three DAG shapes.
# See bench/README.md.
#
#   bench/core.sh [--no-build] [--repeat N] [--shapes wide,chain,layered] [other core_bench.py options]
#
# Builds the release binary (`swift build -c release --product baton`, incremental, so a
# no-op when it is current) unless --no-build is given or --baton PATH points elsewhere,
# then runs bench/core_bench.py, which prints the table and writes
# bench/results/core-<UTC date-time>.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

build=1
custom_baton=0
tools="baton,xargs,ninja"
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-build) build=0; shift ;;
        --baton) custom_baton=1; args+=("$1" "$2"); shift 2 ;;
        --baton=*) custom_baton=1; args+=("$1"); shift ;;
        --tools) tools="$2"; args+=("$1" "$2"); shift 2 ;;
        --tools=*) tools="${1#--tools=}"; args+=("$1"); shift ;;
        -h|--help)
            sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            echo
            exec python3 "$here/core_bench.py" --help ;;
        *) args+=("$1"); shift ;;
    esac
done

for cmd in python3 xargs ninja /usr/bin/time; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "core.sh: $cmd is required (apt-get install python3 findutils ninja-build time)" >&2
        exit 2
    fi
done

if [[ $build -eq 1 && $custom_baton -eq 0 && ",$tools," == *",baton,"* ]]; then
    echo "# building: swift build -c release --product baton" >&2
    if ! (cd "$repo" && swift build -c release --product baton >&2); then
        echo "core.sh: the release build failed; fix it (or pass --no-build / --baton PATH)" >&2
        exit 2
    fi
fi

cd "$repo"
exec python3 "$here/core_bench.py" "${args[@]}"
