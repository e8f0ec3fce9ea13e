#!/usr/bin/env bash
# Stops a server started by scripts/postgres-start.sh and deletes its directory.
#
# Usage: scripts/postgres-stop.sh [DIR]   (DIR defaults to $LATCH_TEST_POSTGRES_DIR)
set -euo pipefail

DIR="${1:-${LATCH_TEST_POSTGRES_DIR:-}}"
if [[ -z "$DIR" || ! -d "$DIR/data" ]]; then
    echo "postgres-stop: no cluster directory given (argument or LATCH_TEST_POSTGRES_DIR)" >&2
    exit 1
fi
PGBIN=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
    if [[ -x "$dir/pg_ctl" ]]; then PGBIN="$dir"; break; fi
done
[[ -n "$PGBIN" ]] || { echo "postgres-stop: pg_ctl not found" >&2; exit 1; }
if [[ "$(id -u)" == 0 ]]; then RUN_AS=(runuser -u postgres --); else RUN_AS=(); fi
"${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
rm -rf -- "$DIR"
