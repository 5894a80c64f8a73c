#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests or for trying the app on PostgreSQL (issue 13), in a temp
# folder, on 127.0.0.1 only, with trust auth and no durability (fsync off): nothing here is worth keeping.
#
#   eval "$(scripts/pg.sh start [PORT])"   # PORT: default the first free one from 55432
#   …                                      # WEBHOOKHUB_TEST_POSTGRES='Host=127.0.0.1;Port=…;Username=postgres'
#   scripts/pg.sh stop [PORT]              # stops it and deletes its folder (PORT: default $WEBHOOKHUB_PG_DIR's)
#
# `start` prints only `export` lines on stdout (the server connection string, without a database, and the
# cluster's folder); progress goes to stderr. Installs Debian's `postgresql` when no initdb is found (as root).
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail

first_port=55432

say() { echo "pg.sh: $*" >&2; }
die() { say "$*"; exit 1; }

bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
  return 1
}

install_postgres() {
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed and only root can apt-get install it"
  say "installing PostgreSQL (apt)…"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; } >&2 || die "could not install postgresql"
}

# As root, everything the cluster touches runs as the postgres user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local port=${1:-}
  if [ -z "$port" ]; then
    port=$first_port
    while port_in_use "$port"; do
      port=$((port + 1))
      [ "$port" -lt $((first_port + 100)) ] || die "no free port in $first_port-$((first_port + 99))"
    done
  elif port_in_use "$port"; then
    die "port $port is already in use"
  fi

  local bin
  bin=$(bin_dir) || { install_postgres; bin=$(bin_dir) || die "initdb not found after installing postgresql"; }

  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/webhookhub-pg-$port.XXXXXX")
  # mktemp's folder is 700; the postgres user has to get through it to its own cluster folder inside.
  chmod 711 "$dir"
  mkdir "$dir/cluster"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/cluster"

  say "initdb in $dir ($bin)"
  as_owner "$bin/initdb" -D "$dir/cluster/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }
  # Each app under test holds an EF pool and Hangfire's connections, and a test may run two apps at once.
  cat >>"$dir/cluster/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/cluster'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  as_owner "$bin/pg_ctl" -D "$dir/cluster/data" -l "$dir/cluster/postgres.log" -w -t 60 start >/dev/null \
    || { cat "$dir/cluster/postgres.log" >&2; rm -rf "$dir"; die "the server did not start on port $port"; }

  say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (psql -h 127.0.0.1 -p $port -U postgres)"
  echo "export WEBHOOKHUB_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres'"
  echo "export WEBHOOKHUB_PG_DIR='$dir'"
}

stop() {
  local dir
  if [ -n "${1:-}" ]; then
    dir=$(ls -d "${TMPDIR:-/tmp}/webhookhub-pg-$1".* 2>/dev/null | head -1)
    [ -n "$dir" ] || die "no cluster of this script on port $1"
  else
    dir=${WEBHOOKHUB_PG_DIR:-}
    [ -n "$dir" ] || die "which cluster? give its port, or set WEBHOOKHUB_PG_DIR (start's output does)"
  fi
  [ -d "$dir" ] || { say "$dir is already gone"; return; }
  [ -d "$dir/cluster/data" ] || die "$dir is not a cluster of this script"
  local bin
  bin=$(bin_dir) || die "pg_ctl not found"
  # Nothing to keep: an immediate stop skips the shutdown checkpoint.
  if as_owner "$bin/pg_ctl" -D "$dir/cluster/data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$dir/cluster/data" -m immediate -w stop >/dev/null
  fi
  rm -rf "$dir"
  say "stopped and deleted $dir"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) die "usage: eval \"\$(scripts/pg.sh start [PORT])\" | scripts/pg.sh stop [PORT]" ;;
esac
