#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, on the newest installed PostgreSQL. Run as root.
#   scripts/pg-cluster.sh start   create (or start, if it exists and is stopped) the cluster and print its URL
#   scripts/pg-cluster.sh stop    stop and drop it, data and all
# SALA_PG_CLUSTER and SALA_PG_PORT override the name (ci) and the port (55432).
set -euo pipefail

name=${SALA_PG_CLUSTER:-ci}
port=${SALA_PG_PORT:-55432}
url="postgresql+psycopg://postgres@127.0.0.1:${port}/postgres"

if ! command -v pg_createcluster >/dev/null; then
    echo "pg-cluster: pg_createcluster not found; install the postgresql server packages" >&2
    exit 1
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if [ -z "$version" ]; then
    echo "pg-cluster: no PostgreSQL under /usr/lib/postgresql" >&2
    exit 1
fi

# The status column of `pg_lsclusters -h` for our cluster, empty when it does not exist.
status() { pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $4 }'; }

case "${1:-}" in
start)
    case "$(status)" in
    "") pg_createcluster "$version" "$name" --port "$port" --encoding UTF8 --locale C.UTF-8 --start \
            -- --auth=trust >&2 ;;
    online) ;;
    *) pg_ctlcluster "$version" "$name" start >&2 ;;
    esac
    for _ in $(seq 50); do
        pg_isready -q -h 127.0.0.1 -p "$port" && break
        sleep 0.2
    done
    pg_isready -q -h 127.0.0.1 -p "$port" || { echo "pg-cluster: $name did not accept connections on $port" >&2; exit 1; }
    echo "$url"
    ;;
stop)
    if [ -n "$(status)" ]; then
        pg_dropcluster --stop "$version" "$name"
    fi
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
