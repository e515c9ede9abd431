#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and the benchmarks, on 127.0.0.1 only.
#
#   .ci/postgres.sh start [DIR]   initdb + start in DIR (default /tmp/dentare-pg), print the DSN
#   .ci/postgres.sh stop  [DIR]   stop it (pg_ctl, fast) and remove DIR
#   .ci/postgres.sh dsn   [DIR]   print the DSN of a running cluster
#
# Installs Debian's postgresql (without its system cluster) when no initdb is
# found. As root, the server runs as the `postgres` user. The port is
# $DENTARE_PG_PORT (default 55432). Authentication is `trust`, which is safe
# only because the server listens on 127.0.0.1 and a socket inside DIR.
# Use:  export DENTARE_TEST_POSTGRES_DSN=$(.ci/postgres.sh start)  ...  .ci/postgres.sh stop
set -euo pipefail

command=${1:-}
dir=${2:-${DENTARE_PG_DIR:-/tmp/dentare-pg}}
port=${DENTARE_PG_PORT:-55432}
database=dentare

find_bin() {
  local found
  if found=$(command -v initdb 2>/dev/null); then dirname "$(readlink -f "$found")"; return; fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; return; fi
  return 1
}

install_postgres() {
  echo "--- apt-get install postgresql (no system cluster)" >&2
  mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null 2>&1 \
    || apt-get install -y -qq --no-install-recommends postgresql >&2
}

as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dsn() { echo "postgresql://postgres@127.0.0.1:${port}/${database}"; }

case "$command" in
  start)
    bin=$(find_bin) || { install_postgres; bin=$(find_bin); }
    if [ -f "$dir/data/postmaster.pid" ] && as_server_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "a cluster is already running in $dir (stop it first)" >&2
      exit 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_server_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # Throwaway data: no fsync; the rest sized for a 2-core machine holding a million patients.
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
      "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off \
       -c full_page_writes=off -c max_connections=200 -c shared_buffers=512MB -c work_mem=16MB \
       -c maintenance_work_mem=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min" >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_server_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
    dsn
    ;;
  stop)
    # A pid file left by a machine that went down names no server: nothing to stop.
    if [ -f "$dir/data/postmaster.pid" ] && bin=$(find_bin) \
        && as_server_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
    ;;
  dsn)
    dsn
    ;;
  *)
    echo "usage: $0 start|stop|dsn [DIR]" >&2
    exit 2
    ;;
esac
