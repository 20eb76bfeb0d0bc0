#!/usr/bin/env bash
# Runs every test: installs what is missing (ZooKeeper, etcd, Chromium for the dashboard's tests, promtool for the
# alert rules), builds in Release with warnings as errors,
# runs each test project, and ends with one line "N passed, N failed, N skipped".
# Quiet on success; on failure prints the failing output and exits non-zero.
#   ./test.sh                 everything
#   ./test.sh --filter EXPR   only matching tests (dotnet test --filter syntax)
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

filter=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) filter=(--filter "$2"); shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) cp_die "unknown option $1 (see ./test.sh --help)" ;;
  esac
done

cp_require_dotnet
cp_ensure_store_packages
cp_ensure_browser_packages
cp_ensure_promtool
# A broken docker-compose.yml fails the run before anything is built: it ships with the repository.
cp_validate_compose docker-compose.yml || {
  echo "0 passed, 1 failed (docker-compose.yml is invalid: docker-compose config says so above)"
  exit 1
}

results=.test-results
rm -rf "$results"
mkdir -p "$results"

# Servers and directories left by an earlier aborted run: removed now, so they cannot skew this one.
stale=$(cp_orphan_servers)
[ -z "$stale" ] || kill -9 $stale 2>/dev/null || true
cp_orphan_dirs | xargs -r rm -rf

if ! dotnet build ControlPlane.sln -c Release -nologo -v q -clp:NoSummary >"$results/build.log" 2>&1; then
  grep -E 'error|warning' "$results/build.log" | sort -u >&2 || cat "$results/build.log" >&2
  echo "0 passed, 1 failed (the build failed)"
  exit 1
fi

status=0
for project in UnitTests IntegrationTests; do
  # --blame-hang-timeout turns a hung test into a failure with a dump instead of a stalled CI run.
  if ! timeout 40m dotnet test "$project" -c Release --no-build -nologo \
      --logger "trx;LogFileName=$project.trx" --results-directory "$results" \
      --blame-hang-timeout 5m "${filter[@]}" >"$results/$project.log" 2>&1; then
    status=1
    grep -E '^\s+(Failed|Error Message|Stack Trace|  )|^\s+at |\[FAIL\]|error|aborted' "$results/$project.log" | head -300 >&2 || true
    echo "--- full output: $results/$project.log" >&2
  fi
done

count() { # sums one attribute of the TRX <Counters> element over every project
  cat "$results"/*.trx 2>/dev/null | grep -o "<Counters [^>]*" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' |
    awk '{ s += $1 } END { print s + 0 }'
}
passed=$(count passed)
failed=$(( $(count failed) + $(count error) + $(count timeout) + $(count aborted) ))
skipped=$(count notExecuted)

# Nothing may outlive the run: a server still running or a directory still there is a fixture bug.
orphans=$(cp_orphan_servers)
if [ -n "$orphans" ]; then
  echo "Fixture servers left running after the tests (now killed):" >&2
  ps -o pid=,args= -p $orphans | cut -c1-160 >&2 || true
  kill -9 $orphans 2>/dev/null || true
  status=1
fi
leftover=$(cp_orphan_dirs)
if [ -n "$leftover" ]; then
  echo "Fixture directories left behind after the tests (now removed):" >&2
  echo "$leftover" >&2
  echo "$leftover" | xargs -r rm -rf
  status=1
fi

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # a crashed test host or a leak counts as a failure even when no test reported one
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
