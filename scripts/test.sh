#!/usr/bin/env bash
# Runs every test: installs Chromium for the browser tests when it is missing, builds, runs the unit
# tests (WebhookHub.Tests: seconds, no app; its PostgreSQL writer tests on the cluster below), then the integration tests (WebhookHub.IntegrationTests:
# the real app, receivers, browser, crash) on SQLite, then the integration tests but the page tests again on PostgreSQL, in
# a throwaway cluster from scripts/pg.sh (each app gets its own database; SQLite-only tests skip). Ends
# with the line CI reads, over all three runs: "tests: N passed, N failed[, N skipped]". Extra arguments
# go to every `dotnet test` run.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium for the browser tests (apt)…"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || { echo "could not install chromium"; exit 1; }
fi

dotnet build WebhookHub.sln -c Release -nologo -v quiet || { echo "tests: 0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0 status=0

# run LABEL PROJECT [dotnet test arguments…]: one `dotnet test`, its counts added to the totals.
run() {
  local label=$1 project=$2 log started code summary
  shift 2
  log=$(mktemp)
  started=$(date +%s)
  dotnet test "$project" -c Release --no-build --nologo "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  [ "$code" -eq 0 ] || status=1
  # vstest's summary: "Passed!  - Failed:     0, Passed:    15, Skipped:     0, Total: …"
  summary=$(grep -E "(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+" "$log" | tail -1)
  rm -f "$log"
  if [ -z "$summary" ]; then
    # A --filter that matches nothing in this project exits 0 without a summary; anything else is a failure.
    [ "$code" -eq 0 ] || { echo "$label: no test summary (host failure)"; failed=$((failed + 1)); }
  else
    failed=$((failed + $(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")))
    # A run whose tests all passed can still fail (a class fixture's cleanup threw): count it, so the last line agrees with the exit code.
    if [ "$code" -ne 0 ] && grep -qE "Failed: +0," <<<"$summary"; then
      echo "$label: every test passed but the run failed (see 'Cleanup Failure' above)"; failed=$((failed + 1))
    fi
    passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$summary")))
    skipped=$((skipped + $(sed -E 's/.*Skipped: +([0-9]+),.*/\1/' <<<"$summary")))
  fi
  timings+=("$label: $(( $(date +%s) - started )) s")
}
timings=()

# PostgreSQL is part of the suite: if it cannot be installed or started, that is a failure, not a skip.
postgres=""
if cluster=$(scripts/pg.sh start); then
  eval "$cluster"
  postgres=$WEBHOOKHUB_TEST_POSTGRES
  # Stopped before the totals, so the count stays the last line; the trap covers an interrupt.
  trap 'scripts/pg.sh stop' EXIT
  trap 'exit 130' INT TERM
else
  echo "no PostgreSQL server (scripts/pg.sh start failed): the PostgreSQL tests count as failed"
  failed=$((failed + 1)) status=1
fi

# Unit tests: the PostgreSQL writer tests use the server (and skip without one, already counted failed).
WEBHOOKHUB_TEST_POSTGRES=$postgres run "WebhookHub.Tests" WebhookHub.Tests "$@"
# Without the variable the apps under test run on SQLite.
WEBHOOKHUB_TEST_POSTGRES= run "WebhookHub.IntegrationTests on SQLite" WebhookHub.IntegrationTests "$@"
if [ -n "$postgres" ]; then
  # The browser tests (Browser/, and the sign-in and CSP ones in Security/) check pages, which read through the same
  # services on either database (the API tests cover those on PostgreSQL): run once, on SQLite, unless the caller
  # chose the tests. The multi-node dashboard test (MultiNode/) still runs a browser on PostgreSQL, where it must.
  pg_args=("$@")
  [[ " $* " == *" --filter "* ]] || pg_args+=(--filter "FullyQualifiedName!~WebhookHub.IntegrationTests.Browser.&FullyQualifiedName!~.SecurityBrowserTests.")
  WEBHOOKHUB_TEST_POSTGRES=$postgres run "WebhookHub.IntegrationTests on PostgreSQL" WebhookHub.IntegrationTests "${pg_args[@]}"
  scripts/pg.sh stop
  trap - EXIT INT TERM
fi

printf '%s\n' "${timings[@]}"
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
exit "$status"
