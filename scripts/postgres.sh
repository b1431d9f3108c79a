#!/usr/bin/env bash
# A throwaway PostgreSQL for the cluster tests: `start DIR [--durable]` initialises a cluster in DIR,
# starts it on a free loopback port (no unix socket outside DIR, trust auth on loopback
# only) and prints its URL; `stop DIR` stops it. Uses Debian's postgresql binaries; as root
# the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2
    exit 2
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "${1:-}" in
start)
    dir=${2:?usage: postgres.sh start DIR}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U baton --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1
    port=$(free_port)
    # Tests: fsync off (a database thrown away; the tests check logic, not durability).
    # --durable (benchmarks): fsync on, commits not waited for, like Baton's SQLite store
    # (synchronous=NORMAL in WAL mode).
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ "${3:-}" = "--durable" ]; then durability="-c synchronous_commit=off"; fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/data \
         -c max_connections=400 $durability ${BATON_POSTGRES_OPTIONS:-}" >/dev/null
    echo "postgres://baton@127.0.0.1:$port/postgres"
    ;;
stop)
    dir=${2:?usage: postgres.sh stop DIR}
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: postgres.sh start DIR | stop DIR" >&2
    exit 2
    ;;
esac
