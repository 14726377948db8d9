#!/usr/bin/env bash
# The test command: installs what the tests need (ffmpeg, PostgreSQL, the MNIST digits), starts the embedded PostgreSQL,
# builds, and runs every test project of FoldCluster.sln. Exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$FC_ROOT"

# The dashboard's browser tests drive Debian's Chromium through Playwright; Playwright never downloads a browser.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  apt_install "for the dashboard's browser tests" chromium
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is still missing after installation"
}
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

ensure_dotnet
ensure_system_packages
ensure_chromium
ensure_mnist
build_solution

step "starting the embedded PostgreSQL"
FOLDCLUSTER_TEST_DB="$(fc db up)"
export FOLDCLUSTER_TEST_DB
# Connection details through the environment; the password itself stays in the state folder (Passfile=).
FOLDCLUSTER_DB="$FOLDCLUSTER_TEST_DB" fc db migrate

step "running the tests"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
# -m:1: one test assembly at a time; the multi-process cluster tests and the training tests both want the CPUs.
dotnet test FoldCluster.sln -c "$FC_CONFIGURATION" --no-build -m:1 --blame-hang-timeout 10m 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
