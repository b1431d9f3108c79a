# Shared by core.sh, http.sh, cron.sh, events.sh and console.sh (sourced): parse the common
# flags, check the tools, build the release binary once, run the Python driver.
#
#   bench_main NAME DRIVER HELP_LAST_LINE "REQUIRED COMMANDS" "APT PACKAGES" "$@"
bench_main() {
    local name=$1 driver=$2 help_last=$3 required=$4 packages=$5
    shift 5
    local script="${BASH_SOURCE[1]}"
    local here repo
    here="$(cd "$(dirname "$script")" && pwd)"
    repo="$(cd "$here/.." && pwd)"

    local build=1 custom_baton=0 tools="baton"
    local args=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --no-build) build=0; shift ;;
            --baton) custom_baton=1; args+=("$1" "$2"); shift 2 ;;
            --baton=*) custom_baton=1; args+=("$1"); shift ;;
            --tools) tools="$2"; args+=("$1" "$2"); shift 2 ;;
            --tools=*) tools="${1#--tools=}"; args+=("$1"); shift ;;
            -h|--help)
                sed -n "2,${help_last}p" "$script" | sed 's/^# \{0,1\}//'
                echo
                exec python3 "$here/$driver" --help ;;
            *) args+=("$1"); shift ;;
        esac
    done

    export PATH="$PATH:/usr/sbin:/sbin"
    local cmd
    for cmd in $required; do
        if ! command -v "$cmd" >/dev/null 2>&1; then
            echo "$name: $cmd is required (apt-get install $packages)" >&2
            exit 2
        fi
    done

    if [[ $build -eq 1 && $custom_baton -eq 0 && ",$tools," == *",baton,"* ]]; then
        # As README.md builds it: the Swift runtime and Foundation linked statically (a third
        # less start-up time and 4-5 MiB less RSS than the shared libraries; needs libcurl4-openssl-dev).
        echo "# building: swift build -c release --product baton --static-swift-stdlib" >&2
        if ! (cd "$repo" && swift build -c release --product baton --static-swift-stdlib >&2); then
            echo "$name: the release build failed; fix it (or pass --no-build / --baton PATH)" >&2
            exit 2
        fi
    fi

    cd "$repo"
    exec python3 "$here/$driver" "${args[@]}"
}
