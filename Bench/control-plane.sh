#!/usr/bin/env bash
# Control-plane figures of docs/performance.md ("Control plane"): every scenario on both backends, with the
# parameters the documented figures were taken with. Each scenario starts its own store (ZooKeeper or etcd on
# loopback), directors and agents as processes of the real builds, and stops them when it ends.
# Usage: Bench/control-plane.sh [--quick] [--backends "zookeeper etcd"] [--only "e2e api ..."] [--log FILE]
#   --quick  small parameters, to check that everything runs (not for figures).
# Output: the scenarios' JSON lines and tables, each preceded by the time and the load average, on stdout and in
# the log (default control-plane-<UTC time>.log). Exit code: the number of scenarios that failed.
set -uo pipefail
cd "$(dirname "$0")/.."

QUICK=0; BACKENDS="zookeeper etcd"; ONLY="e2e failover failover-graceful reassign scale scale-cells api api-leaderless"
LOG="control-plane-$(date -u +%Y%m%dT%H%M%SZ).log"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --log) LOG="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# The scenarios run the director and agent builds from <Project>/bin/Release/net10.0/: build the whole solution.
dotnet build ControlPlane.sln -c Release -v quiet -nologo >/dev/null || { echo "build failed" >&2; exit 100; }

if [[ $QUICK == 1 ]]; then
  declare -A ARGS=(
    [e2e]="--directors 2 --agents 2 --jobs 100 --concurrency 8"
    [failover]="--rounds 1 --session-timeout 4"
    [failover-graceful]="--rounds 1 --session-timeout 4 --graceful"
    [reassign]="--jobs 4 --session-timeout 4"
    [scale]="--directors 2 --agents 100 --rounds 1 --list-requests 2"
    [scale-cells]="--cells 1,2 --directors 2 --agents 100 --agents-per-session 100 --jobs 500 --warmup 100"
    [api]="--directors 3 --kills 1 --seconds 15 --session-timeout 4 --concurrency 8 --store-requests 500 --max-requests 150000"
    [api-leaderless]="--directors 3 --seconds 10 --concurrency 8 --store-requests 500 --leaderless"
  )
else
  # The documented parameters (docs/performance.md).
  declare -A ARGS=(
    [e2e]="--directors 3 --agents 4 --slots 16 --jobs 2000 --concurrency 32"
    [failover]="--rounds 3 --session-timeout 10"
    [failover-graceful]="--rounds 3 --session-timeout 10 --graceful"
    [reassign]="--jobs 20 --session-timeout 10"
    [scale]="--directors 3 --agents 2000 --agents-per-session 1 --rounds 5 --list-requests 5"
    [scale-cells]="--cells 1,2,4,1 --directors 3 --agents 2000 --agents-per-session 100 --jobs 10000"
    [api]="--directors 3 --kills 2 --seconds 30 --session-timeout 4 --concurrency 32 --store-requests 5000 --max-requests 150000"
    [api-leaderless]="--directors 3 --seconds 30 --concurrency 32 --store-requests 5000 --max-requests 150000 --leaderless"
  )
fi

failures=0
for scenario in $ONLY; do
  for backend in $BACKENDS; do
    command="${scenario%-graceful}"; command="${command%-leaderless}"; command="${command%-cells}"
    line="dotnet run --no-build -c Release --project Bench -- $command --backend $backend ${ARGS[$scenario]}"
    { echo; echo "### $(date -u +%H:%M:%SZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"; echo "\$ $line"; } | tee -a "$LOG"
    # Every scenario bounds itself; the timeout is a backstop against a hang.
    timeout 900 $line 2>&1 | tee -a "$LOG"
    rc=${PIPESTATUS[0]}
    if [[ $rc != 0 ]]; then
      echo "!!! $scenario on $backend exited with $rc" | tee -a "$LOG"
      failures=$((failures + 1))
    fi
  done
done
echo "log: $LOG; failed scenarios: $failures"
exit $failures
