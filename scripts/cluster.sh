#!/usr/bin/env bash
# A local cluster to try several nodes (issue 14): a throwaway PostgreSQL (scripts/pg.sh), one build, and three
# nodes from its output on one database: a web node (UI, API, hubs) and two workers (fan-out, Hangfire, sweeps).
#
#   scripts/cluster.sh start    # prints the URLs, the admin's credentials, where the logs are
#   scripts/cluster.sh stop     # stops the nodes and deletes the PostgreSQL cluster, data and all (logs stay)
#
# Ports: web 5000, workers 5001 and 5002 (WEBHOOKHUB_CLUSTER_PORT=6000 moves them to 6000-6002). The nodes run in
# the Development environment (plain-http receivers on this machine allowed) unless ASPNETCORE_ENVIRONMENT says
# otherwise. The first admin comes from bootstrap settings: WEBHOOKHUB_ADMIN_EMAIL, _PASSWORD and _API_KEY if set,
# else made up here and printed. State of the running cluster: $TMPDIR/webhookhub-cluster.current.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
current="${TMPDIR:-/tmp}/webhookhub-cluster.current"
first_port=${WEBHOOKHUB_CLUSTER_PORT:-5000}
nodes=("web-1 web $first_port" "worker-1 worker $((first_port + 1))" "worker-2 worker $((first_port + 2))")

say() { echo "cluster.sh: $*" >&2; }
die() { say "$*"; exit 1; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
random() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }

psql_bin() {
  command -v psql 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1
}

healthy() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$1/health"; }

start() {
  if [ -f "$current" ]; then
    die "a cluster is already running (state in $(cat "$current")): scripts/cluster.sh stop first"
  fi
  command -v curl >/dev/null || die "curl is needed to wait for the nodes' /health"
  for node in "${nodes[@]}"; do
    set -- $node
    ! port_in_use "$3" || die "port $3 is in use (WEBHOOKHUB_CLUSTER_PORT moves the nodes)"
  done

  local run
  run=$(mktemp -d "${TMPDIR:-/tmp}/webhookhub-cluster.XXXXXX")
  echo "$run" >"$current"

  eval "$("$repo/scripts/pg.sh" start)"
  echo "WEBHOOKHUB_PG_DIR='$WEBHOOKHUB_PG_DIR'" >"$run/state"
  local pg_port=${WEBHOOKHUB_TEST_POSTGRES##*Port=}
  pg_port=${pg_port%%;*}
  local psql
  psql=$(psql_bin) || die "psql not found"
  "$psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c 'CREATE DATABASE webhookhub' >&2
  local connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=webhookhub"

  say "building (Release)…"
  dotnet build "$repo/WebhookHub.Web" -c Release -nologo -v quiet >"$run/build.log" 2>&1 \
    || { tail -30 "$run/build.log" >&2; die "the build failed (whole log: $run/build.log); scripts/cluster.sh stop cleans up"; }
  local app="$repo/WebhookHub.Web/bin/Release/net10.0"

  local email=${WEBHOOKHUB_ADMIN_EMAIL:-admin@cluster.local}
  local password=${WEBHOOKHUB_ADMIN_PASSWORD:-Cluster-$(random 16)}
  local api_key=${WEBHOOKHUB_ADMIN_API_KEY:-whk_$(random 40)}

  # All three at once: on PostgreSQL nodes take turns through the start (migrations, first key, first admin).
  for node in "${nodes[@]}"; do
    set -- $node
    mkdir -p "$run/$1"
    (
      cd "$app"
      export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
      export ASPNETCORE_URLS="http://127.0.0.1:$3"
      export WebhookHub__Database__Provider=Postgres
      export ConnectionStrings__WebhookHub="$connection"
      export WebhookHub__Role="$2"
      export WebhookHub__NodeId="$1"
      export WebhookHub__DataDirectory="$run/$1"
      export WebhookHub__Bootstrap__AdminEmail="$email"
      export WebhookHub__Bootstrap__AdminPassword="$password"
      export WebhookHub__Bootstrap__AdminApiKey="$api_key"
      exec nohup dotnet WebhookHub.Web.dll >"$run/$1.log" 2>&1 </dev/null
    ) &
    echo "$1 $!" >>"$run/pids"
  done

  say "waiting for the nodes' /health…"
  for node in "${nodes[@]}"; do
    set -- $node
    local waited=0
    until healthy "$3"; do
      local pid
      pid=$(awk -v n="$1" '$1 == n {print $2}' "$run/pids")
      kill -0 "$pid" 2>/dev/null || { tail -20 "$run/$1.log" >&2; die "$1 exited (log: $run/$1.log); scripts/cluster.sh stop cleans up"; }
      [ "$waited" -lt 180 ] || die "$1 is not healthy after 180 s (log: $run/$1.log)"
      sleep 1
      waited=$((waited + 1))
    done
  done

  cat <<EOF
WebhookHub cluster on PostgreSQL 127.0.0.1:$pg_port (database webhookhub; psql -h 127.0.0.1 -p $pg_port -U postgres webhookhub)
  web-1     http://127.0.0.1:$first_port   UI, API, /hubs, /hangfire (role web)
  worker-1  http://127.0.0.1:$((first_port + 1))   /health, /metrics only (role worker)
  worker-2  http://127.0.0.1:$((first_port + 2))   /health, /metrics only (role worker)
Sign in as $email with password $password; API key: $api_key
Logs: $run/<node>.log (build: $run/build.log)
Stop: scripts/cluster.sh stop
EOF
}

stop() {
  [ -f "$current" ] || die "no cluster is running (no $current)"
  local run
  run=$(cat "$current")
  if [ -f "$run/pids" ]; then
    while read -r name pid; do
      kill "$pid" 2>/dev/null && say "stopping $name (pid $pid)" || true
    done <"$run/pids"
    # Graceful first (the nodes finish what they hold and leave their claims), then no longer.
    for _ in $(seq 1 20); do
      local alive=0
      while read -r _ pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$run/pids"
      [ "$alive" -eq 1 ] || break
      sleep 0.5
    done
    while read -r name pid; do kill -9 "$pid" 2>/dev/null && say "killed $name (pid $pid)" || true; done <"$run/pids"
  fi
  if [ -f "$run/state" ]; then
    # shellcheck disable=SC1091
    . "$run/state"
    WEBHOOKHUB_PG_DIR=$WEBHOOKHUB_PG_DIR "$repo/scripts/pg.sh" stop
  fi
  rm -f "$current"
  say "stopped; logs kept in $run"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) die "usage: scripts/cluster.sh start | scripts/cluster.sh stop" ;;
esac
