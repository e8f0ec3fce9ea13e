#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for Latch's store tests and prints how to reach it.
#
# Usage:   eval "$(scripts/postgres-start.sh)"
# Prints (stdout, nothing else):
#   export LATCH_TEST_POSTGRES_URL=postgres://latch:<password>@127.0.0.1:<port>/latch_test
#   export LATCH_TEST_POSTGRES_DIR=<dir>      (pass to scripts/postgres-stop.sh)
# Progress goes to stderr.
#
# On a fresh Debian machine (as root) it installs `postgresql` from Debian's packages if no server
# binaries are present. The cluster lives in a new temporary directory (or $LATCH_PG_DIR if set),
# owned by the `postgres` user when run as root (PostgreSQL refuses to run as root), listening on
# 127.0.0.1 only, on a free port (or $LATCH_PG_PORT). Connections over TCP need the password
# (SCRAM-SHA-256); the superuser is reachable only through the cluster's own unix socket directory.
# fsync stays on (the default): the durability tests reopen the store and must see acknowledged
# writes.
set -euo pipefail

log() { printf 'postgres-start: %s\n' "$*" >&2; }

find_bin() {
    local dir
    # Highest installed major version first.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    return 1
}

if ! PGBIN="$(find_bin)"; then
    if [[ "$(id -u)" != 0 ]]; then
        log "no PostgreSQL server binaries under /usr/lib/postgresql and not root: install 'postgresql' first"
        exit 1
    fi
    log "installing postgresql from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    PGBIN="$(find_bin)" || { log "postgresql installed but no initdb found"; exit 1; }
fi
log "using $PGBIN ($("$PGBIN/postgres" --version))"

if [[ "$(id -u)" == 0 ]]; then
    RUN_AS=(runuser -u postgres --)
    id postgres >/dev/null 2>&1 || { log "no 'postgres' user (the Debian package creates it)"; exit 1; }
else
    RUN_AS=()
fi

DIR="${LATCH_PG_DIR:-$(mktemp -d /tmp/latch-pg.XXXXXX)}"
mkdir -p "$DIR"
DATA="$DIR/data"
SOCKETS="$DIR/sockets"
mkdir -p "$SOCKETS"
if [[ "$(id -u)" == 0 ]]; then chown -R postgres:postgres "$DIR"; fi
chmod 0700 "$DIR"

if [[ -n "${LATCH_PG_PORT:-}" ]]; then
    PORT="$LATCH_PG_PORT"
else
    # Ask the kernel for a free port. Another process could take it before the server binds; the
    # start below fails loudly if so.
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi

PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
PWFILE="$DIR/superuser-password"
printf '%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" > "$PWFILE"
if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "$PWFILE"; fi
chmod 0600 "$PWFILE"

log "initialising a cluster in $DATA"
"${RUN_AS[@]}" "$PGBIN/initdb" -D "$DATA" -U postgres --pwfile="$PWFILE" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }

log "starting on 127.0.0.1:$PORT"
"${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCKETS -c max_connections=200" start >&2 \
    || { cat "$DIR/server.log" >&2; exit 1; }

PSQL=("${RUN_AS[@]}" "$PGBIN/psql" -h "$SOCKETS" -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -d postgres -c "CREATE ROLE latch LOGIN PASSWORD '$PASSWORD'" >&2
"${PSQL[@]}" -d postgres -c "CREATE DATABASE latch_test OWNER latch" >&2

URL="postgres://latch:$PASSWORD@127.0.0.1:$PORT/latch_test"
printf '%s\n' "$URL" > "$DIR/url"
if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "$DIR/url"; fi
log "ready: database latch_test, user latch, data in $DIR (stop with scripts/postgres-stop.sh $DIR)"
printf 'export LATCH_TEST_POSTGRES_URL=%q\n' "$URL"
printf 'export LATCH_TEST_POSTGRES_DIR=%q\n' "$DIR"
