#!/usr/bin/env bash
# Resilience probes of two .NET etcd clients, ours (`Bench etcd-probes`) and dotnet-etcd (Bench/DotnetEtcd), each
# against real etcd 3.4 servers that the probes start on free 127.0.0.1 ports (one per probe, removed after it):
#   lease-outage      a 10 s lease kept alive across a 3 s outage (server killed, restarted on its data directory)
#   watch-compaction  a watcher cut off while the store moves on and is compacted past it, then one more blip
#   write-retry       a put and a txn whose answer is lost (request forwarded, answer dropped, connection reset)
# Prints one line per client and probe, "probe CLIENT NAME PASS|FAIL details", then a table. What each checks and why
# is in docs/etcd-client.md ("Why not dotnet-etcd"). The probes take about 70 s after the builds; each client's run is
# bounded by `timeout`.
# Usage: Bench/etcd-probes.sh [--only NAME[,NAME]]
# Exits non-zero when our client fails a probe (dotnet-etcd's results are reported, not enforced).
set -euo pipefail
cd "$(dirname "$0")/.."

ONLY=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) ONLY=(--only "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x /usr/bin/etcd && -x /usr/bin/etcdctl ]] || { echo "etcd is not installed (apt-get install etcd-server etcd-client)" >&2; exit 1; }

dotnet build Bench -c Release -v q -nologo >/dev/null
dotnet build Bench/DotnetEtcd -c Release -v q -nologo >/dev/null

OUT=$(mktemp /tmp/etcd-probes.XXXXXX)
trap 'rm -f "$OUT"' EXIT
DOTNET_ETCD=$(sed -n 's/.*Include="dotnet-etcd" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)
echo "# etcd $(etcd --version | head -1 | awk '{print $3}'), dotnet-etcd $DOTNET_ETCD, $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
ours=0
# dotnet-etcd prints its own "Watch stream connection lost" notes on the console between the probe lines.
timeout 300 dotnet Bench/bin/Release/net10.0/ControlPlane.Bench.dll etcd-probes "${ONLY[@]}" | tee -a "$OUT" || ours=$?
timeout 300 dotnet Bench/DotnetEtcd/bin/Release/net10.0/ControlPlane.DotnetEtcd.dll probes "${ONLY[@]}" | tee -a "$OUT" || true

python3 - "$OUT" <<'PY'
import re, sys
results = {}
for line in open(sys.argv[1]):
    m = re.match(r"probe (\S+) (\S+) (PASS|FAIL)", line)
    if m:
        results.setdefault(m[2], {})[m[1]] = m[3]
clients = ["ControlPlane.Etcd", "dotnet-etcd"]
print("| probe | " + " | ".join(clients) + " |")
print("|---|" + "---|" * len(clients))
for probe, by_client in results.items():
    print(f"| {probe} | " + " | ".join(by_client.get(c, "not run") for c in clients) + " |")
PY
exit "$ours"
