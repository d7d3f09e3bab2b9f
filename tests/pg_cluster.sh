#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: initdb into a new folder under /tmp, a free
# port on 127.0.0.1 (and a Unix socket in the folder), password authentication, fsync off (it
# is thrown away). Run as root, the server runs as the unprivileged `postgres` user that
# Debian's postgresql-15 package creates (PostgreSQL refuses to run as root).
#   tests/pg_cluster.sh start STATE   starts one; writes its connection URL to STATE/url and
#                                     its folder to STATE/dir (STATE is created)
#   tests/pg_cluster.sh stop STATE    stops it and removes its folder
# ctest starts one before the tests that need it and stops it after them (a fixture in
# CMakeLists.txt); the tests read RELBOT_TEST_PG_URL_FILE and make their own databases in it.
set -euo pipefail

usage() { echo "usage: tests/pg_cluster.sh start|stop STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
state=$2

bin=${RELBOT_PG_BIN:-}
if [ -z "$bin" ]; then
    for candidate in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [ -x "$candidate/initdb" ]; then bin=$candidate; break; fi
    done
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "pg_cluster.sh: no PostgreSQL server found (install postgresql-15: deploy/setup.sh --test)" >&2
    exit 1
fi

as_server=()
if [ "$(id -u)" -eq 0 ]; then
    as_server=(runuser -u postgres --)
fi

stop() {
    [ -f "$state/dir" ] || return 0
    local dir
    dir=$(cat "$state/dir")
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    rm -f "$state/dir" "$state/url"
}

case "$action" in
stop)
    stop
    exit 0
    ;;
start) ;;
*) usage ;;
esac

mkdir -p "$state"
stop  # one left by an interrupted run
dir=$(mktemp -d /tmp/relbot-pg-XXXXXX)
echo "$dir" >"$state/dir"
password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$password" >"$dir/pwfile"
chmod 600 "$dir/pwfile"
if [ ${#as_server[@]} -gt 0 ]; then
    chown -R postgres:postgres "$dir"
fi
"${as_server[@]}" "$bin/initdb" -D "$dir/data" -U relbot --pwfile="$dir/pwfile" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    echo "pg_cluster.sh: initdb failed" >&2
    exit 1
}
rm -f "$dir/pwfile"

# A free port: ask the kernel for one, then start on it; another program may take it in
# between, so try a few.
for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=on -c full_page_writes=off -c max_connections=200" \
        start >/dev/null 2>&1; then
        echo "postgresql://relbot:$password@127.0.0.1:$port/postgres" >"$state/url"
        chmod 600 "$state/url"
        echo "pg_cluster.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
        exit 0
    fi
done
tail -20 "$dir/server.log" >&2 || true
echo "pg_cluster.sh: the server did not start" >&2
exit 1
