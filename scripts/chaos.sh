#!/usr/bin/env bash
# The long chaos run (docs/chaos.md): builds the solution, then runs the chaos suite on both backends with
# 300 s of faults and 1000 jobs each (about 6 minutes per backend), printing each run's report.
#   scripts/chaos.sh                                  both backends, a fresh seed each
#   scripts/chaos.sh --backend etcd --seed 12345      replay one run
#   scripts/chaos.sh --seconds 600 --jobs 2000        longer
# Output and logs: .chaos-results/<backend>.log; exits non-zero when a check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

backends=(ZooKeeper Etcd)
export CP_CHAOS_SECONDS=${CP_CHAOS_SECONDS:-300} CP_CHAOS_JOBS=${CP_CHAOS_JOBS:-1000}
while [ $# -gt 0 ]; do
  case "$1" in
    --backend)
      case "$2" in
        zookeeper) backends=(ZooKeeper) ;;
        etcd) backends=(Etcd) ;;
        *) cp_die "--backend is zookeeper or etcd" ;;
      esac
      shift 2 ;;
    --seed) export CP_CHAOS_SEED="$2"; shift 2 ;;
    --seconds) export CP_CHAOS_SECONDS="$2"; shift 2 ;;
    --jobs) export CP_CHAOS_JOBS="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) cp_die "unknown option $1 (see scripts/chaos.sh --help)" ;;
  esac
done

cp_require_dotnet
cp_ensure_store_packages
results=.chaos-results
mkdir -p "$results"
if ! dotnet build ControlPlane.sln -c Release -nologo -v q -clp:NoSummary >"$results/build.log" 2>&1; then
  grep -E 'error|warning' "$results/build.log" | sort -u >&2 || cat "$results/build.log" >&2
  cp_die "the build failed"
fi

status=0
for backend in "${backends[@]}"; do
  name=$(echo "$backend" | tr '[:upper:]' '[:lower:]')
  echo "== chaos on $name: ${CP_CHAOS_SECONDS} s, ${CP_CHAOS_JOBS} jobs, seed ${CP_CHAOS_SEED:-random}"
  # The test prints its report (seed, faults, the four checks) as standard output; detailed verbosity shows it.
  if dotnet test IntegrationTests -c Release --no-build -nologo --filter "FullyQualifiedName~${backend}ChaosTests" \
      --logger "console;verbosity=detailed" >"$results/$name.log" 2>&1; then
    result=passed
  else
    result=FAILED
    status=1
  fi
  # The report lines, without the test runner's banner.
  sed -n '/Standard Output Messages:/,/^Test Run\|^Total tests/p' "$results/$name.log" | grep -v '^\s*$' | sed '1d;$d' || true
  grep -E '^\s+(Error Message|Failed )' -A 40 "$results/$name.log" | head -80 || true
  echo "== $name: $result (full output: $results/$name.log)"
done
exit "$status"
