#!/usr/bin/env bash
# CI's smoke run of `sala bench` (issue #8): a 1,000-learner country on SQLite and on PostgreSQL. It checks
# that the harness works and that every figure equals its raw-SQL lower bound (the bench stops otherwise),
# and prints the figures into the CI log. Not a timed test: nothing here fails on a slow figure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
mkdir -p var/bench artifacts
echo "== sala bench --learners 1000 (SQLite)"
env -u SALA_DATABASE_URL "$BIN/sala" bench --learners 1000 --runs 3 --sessions 10 --fresh \
    --db var/bench/smoke-1000.db --json artifacts/bench-1000-sqlite.json

if [ "$(id -u)" = 0 ] && command -v pg_createcluster >/dev/null; then
    # Stop the cluster afterwards only if it was not already running (a test run may be using it).
    if ! pg_lsclusters -h | awk '$2 == "'"${SALA_PG_CLUSTER:-ci}"'" && $4 == "online"' | grep -q .; then
        trap 'scripts/pg-cluster.sh stop >/dev/null 2>&1 || true' EXIT
    fi
    server=$(scripts/pg-cluster.sh start | tail -1)
elif [ "${CI:-}" = true ]; then
    echo "bench-smoke: PostgreSQL is needed under CI=true (run as root with the postgresql packages)" >&2
    exit 1
else
    echo "bench-smoke: no PostgreSQL here (not root, or no server packages): SQLite only"
    exit 0
fi
database=sala_bench_smoke
"$BIN/python" - "$server" "$database" <<'PY'
import sys
from sqlalchemy import create_engine, text
admin = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with admin.connect() as c:
    c.execute(text(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)'))
    c.execute(text(f"CREATE DATABASE \"{sys.argv[2]}\" ENCODING 'UTF8' TEMPLATE template0"))
PY
echo "== sala bench --learners 1000 (PostgreSQL)"
SALA_DATABASE_URL="${server%/*}/$database" "$BIN/sala" bench --learners 1000 --runs 3 --sessions 0 --no-pages \
    --json artifacts/bench-1000-postgresql.json
