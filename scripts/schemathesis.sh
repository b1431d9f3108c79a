#!/usr/bin/env bash
# Holds the server's answers against openapi.yaml with Schemathesis (property-based API
# testing): it starts `baton serve` on a free loopback port with a token, lets
# Schemathesis generate requests for every documented operation (examples, coverage,
# fuzzing and stateful phases; positive and negative data), and fails on the first
# mismatch class it finds.
#
#   scripts/schemathesis.sh                 # expects .build/debug/baton (swift build --product baton)
#   BATON=/path/to/baton scripts/schemathesis.sh
#   MAX_EXAMPLES=100 SEED=42 scripts/schemathesis.sh
#   OPENAPI=/tmp/other.yaml scripts/schemathesis.sh   # another copy of the document
#   KEEP_WORKDIR=1 scripts/schemathesis.sh            # keep the server's data and log
#   CHECKS=all scripts/schemathesis.sh                 # other Schemathesis checks
#
# Checks: not_a_server_error, status_code_conformance, content_type_conformance,
# response_headers_conformance, response_schema_conformance, and unsupported_method (an
# undocumented method answers 405 with Allow) and ignored_auth (a /v1 request without the
# token answers 401).
# Exit status: 0 when every check passed, non-zero otherwise (2: could not start).
#
# SAFETY: POST /v1/runs runs the posted commands, and Schemathesis generates arbitrary
# strings for `command`. We still fuzz that operation (it is the most important one,
# and the stateful phase needs the runs it creates to reach the Run, log and graph
# answers), made harmless in three layers:
#   1. A hook rewrites every generated spec before it is sent: each `command`,
#      `on_timeout`, `Command` and `RunCommandOnTimeout` that is a string or a list
#      becomes `/bin/sleep 1` (long enough for cancels to find runs still going);
#      `notify` URLs and `ssh` targets point at a closed loopback port;
#      loader variables (LD_*, BASH_ENV, ENV) are dropped from `env`. The shape of the
#      spec (names, groups, dependencies, numbers, nulls, wrong types) stays fuzzed.
#   2. A guard below the hook, on the wire (requests' HTTPAdapter.send, which every
#      request Schemathesis makes goes through, including the extra requests of checks
#      and the stateful phase), re-parses every request body as the server would read
#      it (JSON, else YAML), applies the same rewrite and sends its own canonical JSON
#      serialization of the result (valid JSON and YAML, so the server reads exactly
#      what was inspected); a body it cannot parse is replaced by `[]`, which the server
#      rejects with 400 in either syntax. The run fails if the guard saw no request.
#   3. The server runs as `nobody` (when this script runs as root) in an empty
#      throwaway working directory with HOME there, `--workers 1`, and its data in a
#      fresh temporary directory (removed at exit; kept, with the server's log, when
#      the run fails).
# Positive end-to-end tests of real commands live in Tests/BatonEndToEndTests.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
baton=${BATON:-"$repo/.build/debug/baton"}
schema=${OPENAPI:-"$repo/openapi.yaml"}
max_examples=${MAX_EXAMPLES:-30}
seed=${SEED:-}
checks=${CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method,ignored_auth}
# Hard bound on the whole Schemathesis run (seconds).
budget=${BUDGET_SECONDS:-240}

if [[ ! -x "$baton" ]]; then
    echo "schemathesis.sh: $baton not found; run 'swift build --product baton' first" >&2
    exit 2
fi
if ! command -v schemathesis >/dev/null 2>&1; then
    echo "schemathesis.sh: installing schemathesis with pip" >&2
    python3 -m pip install --quiet schemathesis >&2
fi
version=$(schemathesis --version 2>/dev/null | grep -Eo '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1)
if [[ ${version%%.*} -lt 4 ]]; then
    echo "schemathesis.sh: needs Schemathesis 4.x (found ${version:-none}); pip install -U schemathesis" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/baton-schemathesis.XXXXXX")
server_pid=
cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "${KEEP_WORKDIR:-}" ]]; then
        echo "schemathesis.sh: kept $work" >&2
        return
    fi
    if [[ $status -ne 0 && -s "$work/server.err" ]]; then
        echo "--- last lines of the server's log ($work kept) ---" >&2
        tail -n 40 "$work/server.err" >&2
        return
    fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/cwd" "$work/data" "$work/hooks"
token="schemathesis-$RANDOM$RANDOM$RANDOM"
printf '%s\n' "$token" >"$work/token"
run_as=()
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null 2>&1; then
    chmod 0755 "$work"
    chmod 0777 "$work/cwd" "$work/data"
    chmod 0644 "$work/token"
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
else
    echo "schemathesis.sh: not root (or no setpriv): the server runs as $(id -un)" >&2
fi

(
    cd "$work/cwd"
    exec env HOME="$work/cwd" "${run_as[@]}" "$baton" serve --listen 127.0.0.1:0 \
        --data-dir "$work/data" --token-file "$work/token" --workers 1
) >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

port=
for _ in $(seq 1 200); do
    port=$(sed -n 's#^baton: listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$#\1#p' "$work/server.out" | head -n 1)
    [[ -n "$port" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "schemathesis.sh: the server exited before listening" >&2
        exit 2
    fi
    sleep 0.1
done
if [[ -z "$port" ]]; then
    echo "schemathesis.sh: the server did not print its port within 20 s" >&2
    exit 2
fi
base="http://127.0.0.1:$port"
echo "schemathesis.sh: baton serve on $base (data in $work/data)" >&2

# A workflow with a webhook, so that the webhook operation (example name `ci`) reaches
# the signature check instead of only 404s; the guard signs unsigned calls to it, so
# that `202` answers are checked too. Its one command is ours and harmless.
curl -fsS -o /dev/null -X PUT "$base/v1/workflows/ci" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d '{"spec": {"tasks": [{"name": "noop", "command": ["true"]}]}, "webhook": {"secret": "ci-secret"}}'

# The hooks of layers 1 and 2 (see the top of this file).
cat >"$work/hooks/baton_schemathesis_hooks.py" <<'PYTHON'
"""Makes every spec Schemathesis sends to Baton harmless (see scripts/schemathesis.sh)."""
import atexit
import hashlib
import hmac
import json
import os
from urllib.parse import unquote, urlsplit

import requests.adapters
import schemathesis
import yaml

COMMAND_KEYS = {"command", "on_timeout", "Command", "RunCommandOnTimeout"}
HARMLESS_COMMAND = "/bin/sleep 1"
HARMLESS_URL = "http://127.0.0.1:9/baton-schemathesis"
# Remote tasks go nowhere: ssh to a closed loopback port fails at once.
HARMLESS_SSH = {"host": "127.0.0.1", "port": 9}
LOADER_VARIABLES = {"BASH_ENV", "ENV"}
STATS = {"requests": 0, "bodies": 0, "rewritten": 0, "replaced": 0, "signed": 0}
SIGNATURE_HEADERS = ("X-Baton-Signature-256", "X-Hub-Signature-256", "X-Gitlab-Token")


def sanitize(value):
    """`value` with every runnable command replaced by HARMLESS_COMMAND (recursively)."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            name = str(key)
            if name in COMMAND_KEYS and isinstance(item, (str, list)):
                result[key] = HARMLESS_COMMAND
            elif name == "url" and isinstance(item, str):
                result[key] = HARMLESS_URL
            elif name == "ssh" and isinstance(item, dict):
                result[key] = dict(HARMLESS_SSH)
            elif name == "ssh_hosts" and isinstance(item, dict):
                result[key] = {k: dict(HARMLESS_SSH) for k in item}
            elif name == "env" and isinstance(item, dict):
                result[key] = {
                    k: sanitize(v)
                    for k, v in item.items()
                    if not (str(k).startswith("LD_") or str(k) in LOADER_VARIABLES)
                }
            else:
                result[key] = sanitize(item)
        return result
    if isinstance(value, list):
        return [sanitize(item) for item in value]
    return value


@schemathesis.hook
def before_call(context, case, **kwargs):
    """Layer 1: rewrite the generated body, so reports show what was sent. Long-polls
    (`wait`) would hold a request for up to 60 s against a 10 s request timeout: the
    parameter is dropped (tests in Tests/BatonEndToEndTests cover it)."""
    if isinstance(case.body, (dict, list)):
        case.body = sanitize(case.body)
    if isinstance(case.query, dict):
        case.query.pop("wait", None)


def _reject_duplicates(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def guard(body):
    """Layer 2: the bytes to send instead of `body`, canonical JSON of a sanitized value."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if not isinstance(body, (bytes, bytearray)):
        return b"[]"
    text = bytes(body).decode("utf-8", "replace")
    try:
        value = json.loads(text, object_pairs_hook=_reject_duplicates)
    except ValueError:
        try:
            value = yaml.safe_load(text)
        except Exception:
            return b"[]"
    try:
        return json.dumps(sanitize(value), allow_nan=False).encode()
    except (TypeError, ValueError):
        return b"[]"


_send = requests.adapters.HTTPAdapter.send


def _guarded_send(self, request, *args, **kwargs):
    STATS["requests"] += 1
    if request.body is not None and len(request.body or b"") > 0:
        STATS["bodies"] += 1
        safe = guard(request.body)
        if safe == b"[]":
            STATS["replaced"] += 1
        if safe != request.body:
            STATS["rewritten"] += 1
            request.body = safe
            request.prepare_content_length(safe)
    _sign_seeded_webhook(request)
    return _send(self, request, *args, **kwargs)


def _sign_seeded_webhook(request):
    """Signs an unsigned call to the seeded webhook with the final bytes of its body."""
    secret = os.environ.get("BATON_HOOK_SECRET")
    path = unquote(urlsplit(request.url).path)
    if not secret or request.method != "POST" or path != "/v1/hooks/ci":
        return
    if any(name in request.headers for name in SIGNATURE_HEADERS):
        return
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request.headers["X-Baton-Signature-256"] = "sha256=" + digest
    STATS["signed"] += 1


requests.adapters.HTTPAdapter.send = _guarded_send


@atexit.register
def _write_stats():
    path = os.environ.get("BATON_GUARD_STATS")
    if path:
        with open(path, "w") as handle:
            json.dump(STATS, handle)
PYTHON
PYTHONPATH="$work/hooks" python3 -c 'import baton_schemathesis_hooks' >/dev/null

# One Schemathesis worker: with two, Hypothesis's lambda-source parsing races in CPython
# 3.11 ("AST constructor recursion depth mismatch", a runtime error of the tool).
seed_args=()
[[ -n "$seed" ]] && seed_args=(--seed "$seed")
status=0
(
    cd "$work"
    export SCHEMATHESIS_HOOKS=baton_schemathesis_hooks PYTHONPATH="$work/hooks" \
        BATON_GUARD_STATS="$work/guard-stats.json" BATON_HOOK_SECRET=ci-secret
    exec timeout --signal=INT --kill-after=10 "$budget" schemathesis run "$schema" \
        --url "$base" \
        --header "Authorization: Bearer $token" \
        --checks "$checks" \
        --max-examples "$max_examples" \
        --workers 1 \
        --request-timeout 10 \
        --exclude-path /v1/events \
        --no-color \
        "${seed_args[@]}"
) || status=$?

if ! python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["requests"] == 0)' \
    "$work/guard-stats.json" 2>/dev/null; then
    echo "schemathesis.sh: the request guard saw no request; treating the run as failed" >&2
    exit 1
fi
echo "schemathesis.sh: request guard: $(cat "$work/guard-stats.json")" >&2
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis.sh: the server died during the run" >&2
    exit 1
fi
if [[ $status -eq 124 ]]; then
    echo "schemathesis.sh: Schemathesis did not finish within ${budget}s" >&2
fi
exit "$status"
