#!/usr/bin/env bash
# Runs a command beside a throw-away PostgreSQL 15 server and Azurite's queue service.
#
# Usage: scripts/with-services.sh [--no-postgres] [--no-azurite] [--] command [args...]
#
# Both services listen on 127.0.0.1 only, on free ports, with their data in one temporary
# directory. The command sees:
#   POWERFILL_TEST_PG_URL   postgresql+psycopg://postgres@127.0.0.1:PORT/postgres (trust auth)
#   POWERFILL_TEST_AZURITE  an Azurite connection string with QueueEndpoint=http://127.0.0.1:PORT/...
# Whatever happens (command failure, Ctrl-C, SIGTERM), both services are stopped and the directory
# is removed; the exit code is the command's (130/143 when interrupted). A SIGTERM sent to this
# script alone takes effect when the command returns (bash waits for its foreground child); a run
# killed outright (SIGKILL) is cleaned up by the next run, which stops whatever it left behind.
#
# Environment: PG_BIN (default /usr/lib/postgresql/15/bin), AZURITE_QUEUE (default
# node_modules/.bin/azurite-queue under the repo), SERVICES_START_TIMEOUT seconds (default 60).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
AZURITE_QUEUE=${AZURITE_QUEUE:-$ROOT/node_modules/.bin/azurite-queue}
START_TIMEOUT=${SERVICES_START_TIMEOUT:-60}
# The well-known development account of Azurite and the storage emulator (public, not a secret).
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

want_pg=1
want_azurite=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-postgres) want_pg=0; shift ;;
        --no-azurite) want_azurite=0; shift ;;
        --) shift; break ;;
        -*) echo "with-services: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[[ $# -gt 0 ]] || { echo "usage: $0 [--no-postgres] [--no-azurite] [--] command [args...]" >&2; exit 2; }

log() { echo "with-services: $*" >&2; }

workdir=""
azurite_pid=""
azurite_port=""

# Runs a PostgreSQL binary as the `postgres` user when we are root (initdb and postgres refuse
# to run as root), as ourselves otherwise.
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        # From a directory the postgres user can read (it may not be able to read ours).
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# stop_services DIR: stops the Azurite and PostgreSQL started in DIR (if running) and removes DIR.
stop_services() {
    local dir=$1 pid
    pid=$(cat "$dir/azurite.pid" 2>/dev/null || true)
    # Check the command line too: after a crash the pid may have been reused by something else.
    if [[ -n "$pid" ]] && process_alive "$pid" && grep -q azurite "/proc/$pid/cmdline" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait_for_exit "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    fi
    if [[ -f "$dir/pg/postmaster.pid" ]]; then
        # Fast shutdown: roll back open transactions, disconnect clients, stop. Fall back to
        # killing the postmaster if it does not stop in time.
        if ! as_pg "$PG_BIN/pg_ctl" -D "$dir/pg" -m fast -w -t 20 stop >/dev/null 2>&1; then
            pid=$(head -n1 "$dir/pg/postmaster.pid" 2>/dev/null || true)
            [[ -z "$pid" ]] || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -z "$workdir" ]] || stop_services "$workdir"
    exit "$rc"
}

# process_alive PID: running, and not a zombie waiting for its parent to reap it.
process_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
    [[ "$state" != Z ]]
}

# A run killed with SIGKILL cannot clean up after itself; the next run does it instead.
sweep_stale_runs() {
    local dir owner
    for dir in "${POWERFILL_SERVICES_TMP:-/tmp}"/powerfill-services.*; do
        [[ -f "$dir/owner.pid" ]] || continue
        owner=$(cat "$dir/owner.pid" 2>/dev/null || true)
        if [[ -n "$owner" ]] && ! process_alive "$owner"; then
            log "cleaning up after an earlier run that was killed ($dir)"
            stop_services "$dir"
        fi
    done
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_exit PID SECONDS: true once PID is gone, false if it is still there at the deadline.
wait_for_exit() {
    local pid=$1 deadline=$((SECONDS + $2))
    while process_alive "$pid"; do
        [[ $SECONDS -lt $deadline ]] || return 1
        sleep 0.1
    done
    # Reap it if it is our child, so it does not linger as a zombie.
    wait "$pid" 2>/dev/null || true
    return 0
}

free_port() {
    # Ask the kernel for an unused port. Another process could take it before the service binds;
    # the starts below then fail fast with a clear log, and a rerun picks another port.
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

sweep_stale_runs
workdir=$(mktemp -d "${POWERFILL_SERVICES_TMP:-/tmp}/powerfill-services.XXXXXX")
chmod 755 "$workdir"
echo $$ >"$workdir/owner.pid"

start_postgres() {
    [[ -x "$PG_BIN/initdb" ]] || { log "no PostgreSQL binaries in $PG_BIN (run scripts/ensure-system-packages.sh postgres)"; exit 1; }
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        if getent group postgres >/dev/null; then
            useradd --system --gid postgres --no-create-home --shell /usr/sbin/nologin postgres
        else
            useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
        fi
    fi
    local pg_data="$workdir/pg"
    mkdir -p "$pg_data"
    [[ $(id -u) -ne 0 ]] || chown postgres: "$pg_data"
    chmod 700 "$pg_data"
    as_pg "$PG_BIN/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
        >"$workdir/initdb.log" 2>&1 || { cat "$workdir/initdb.log" >&2; log "initdb failed"; exit 1; }
    local port
    port=$(free_port)
    # Durability off: the server lives for one test run. The socket directory is ours too, so
    # nothing touches /var/run/postgresql.
    if ! as_pg "$PG_BIN/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t "$START_TIMEOUT" \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $pg_data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null; then
        cat "$pg_data/server.log" >&2 || true
        log "PostgreSQL did not start on port $port"
        exit 1
    fi
    local deadline=$((SECONDS + START_TIMEOUT))
    until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
        [[ $SECONDS -lt $deadline ]] || { log "PostgreSQL did not accept TCP connections on $port"; exit 1; }
        sleep 0.1
    done
    export POWERFILL_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

# Azurite starts in two halves so that it boots while initdb runs.
launch_azurite() {
    [[ -x "$AZURITE_QUEUE" ]] || { log "no $AZURITE_QUEUE (run npm ci in $ROOT)"; exit 1; }
    azurite_port=$(free_port)
    mkdir -p "$workdir/azurite"
    # --skipApiVersionCheck: the current SDK speaks a newer API version than Azurite accepts.
    # In memory, so no --location; run it from the temp dir so any stray file lands there.
    (cd "$workdir/azurite" && exec "$AZURITE_QUEUE" --skipApiVersionCheck --inMemoryPersistence \
        --disableTelemetry --silent --queueHost 127.0.0.1 --queuePort "$azurite_port") \
        >"$workdir/azurite.log" 2>&1 &
    azurite_pid=$!
    echo "$azurite_pid" >"$workdir/azurite.pid"
}

await_azurite() {
    local port=$azurite_port deadline=$((SECONDS + START_TIMEOUT))
    until port_open "$port"; do
        if ! kill -0 "$azurite_pid" 2>/dev/null; then
            cat "$workdir/azurite.log" >&2
            log "Azurite exited before listening on $port"
            exit 1
        fi
        [[ $SECONDS -lt $deadline ]] || { log "Azurite did not listen on $port within ${START_TIMEOUT}s"; exit 1; }
        sleep 0.1
    done
    local endpoint="http://127.0.0.1:$port/$AZURITE_ACCOUNT"
    export POWERFILL_TEST_AZURITE="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;QueueEndpoint=$endpoint;"
    log "Azurite queue service on 127.0.0.1:$port"
}

[[ $want_azurite -eq 0 ]] || launch_azurite
[[ $want_pg -eq 0 ]] || start_postgres
[[ $want_azurite -eq 0 ]] || await_azurite

# Run the command as a child (not exec) so the traps above still clean up after it.
set +e
"$@"
rc=$?
set -e
exit "$rc"
