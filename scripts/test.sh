#!/usr/bin/env bash
# Runs every test: installs Chromium for the browser tests when it is missing, builds, runs the
# suite, and ends with the line CI reads: "tests: N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium for the browser tests (apt)…"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || { echo "could not install chromium"; exit 1; }
fi

dotnet build WebhookHub.sln -c Release -nologo -v quiet || { echo "tests: 0 passed, 1 failed"; exit 1; }

log=$(mktemp)
dotnet test WebhookHub.Tests -c Release --no-build --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# vstest's summary: "Passed!  - Failed:     0, Passed:    15, Skipped:     0, Total: …"
summary=$(grep -E "(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+" "$log" | tail -1)
if [ -z "$summary" ]; then
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
failed=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")
passed=$(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$summary")
skipped=$(sed -E 's/.*Skipped: +([0-9]+),.*/\1/' <<<"$summary")
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
exit "$status"
