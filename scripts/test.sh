#!/usr/bin/env bash
# Runs every test: installs Chromium for the browser tests when it is missing, builds, runs the unit
# tests (WebhookHub.Tests: seconds, no app) and then the integration tests (WebhookHub.IntegrationTests:
# the real app, receivers, browser, crash), and ends with the line CI reads:
# "tests: N passed, N failed[, N skipped]". Extra arguments go to both `dotnet test` runs.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium for the browser tests (apt)…"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || { echo "could not install chromium"; exit 1; }
fi

dotnet build WebhookHub.sln -c Release -nologo -v quiet || { echo "tests: 0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0 status=0
for project in WebhookHub.Tests WebhookHub.IntegrationTests; do
  log=$(mktemp)
  started=$(date +%s)
  dotnet test "$project" -c Release --no-build --nologo "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  [ "$code" -eq 0 ] || status=1
  # vstest's summary: "Passed!  - Failed:     0, Passed:    15, Skipped:     0, Total: …"
  summary=$(grep -E "(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+" "$log" | tail -1)
  if [ -z "$summary" ]; then
    # A --filter that matches nothing in this project exits 0 without a summary; anything else is a failure.
    [ "$code" -eq 0 ] || { echo "$project: no test summary (host failure)"; failed=$((failed + 1)); }
    continue
  fi
  failed=$((failed + $(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")))
  passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$summary")))
  skipped=$((skipped + $(sed -E 's/.*Skipped: +([0-9]+),.*/\1/' <<<"$summary")))
  echo "$project: $(( $(date +%s) - started )) s"
done

if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
exit "$status"
