#!/usr/bin/env bash
# Side-by-side etcd client benchmark: starts a throwaway single-member etcd on loopback, runs our .NET client
# (`Bench etcd`) and the npm etcd3 client (Bench/node/etcd-bench.js) with the same workload, prints both.
# Usage: Bench/etcd-compare.sh [--ops N] [--concurrency C] [--latency-ops L] [--rounds R]
# With R > 1 the two clients alternate R times and a summary gives each client's median ops/s per operation,
# the ratio, and the client processes' CPU time: on a shared machine single runs vary by a factor of two.
set -euo pipefail
cd "$(dirname "$0")/.."

OPS=20000; CONC=64; LAT=2000; ROUNDS=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ops) OPS="$2"; shift 2 ;;
    --concurrency) CONC="$2"; shift 2 ;;
    --latency-ops) LAT="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# Free loopback ports chosen by the kernel, so parallel runs do not collide.
read -r CLIENT_PORT PEER_PORT < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
DATA=$(mktemp -d /tmp/etcd-compare.XXXXXX)
etcd --name bench --data-dir "$DATA/data" \
  --listen-client-urls "http://127.0.0.1:$CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$CLIENT_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "bench=http://127.0.0.1:$PEER_PORT" >"$DATA/etcd.log" 2>&1 &
ETCD_PID=$!
trap 'kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null; rm -rf "$DATA"' EXIT

for _ in $(seq 1 50); do
  ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$CLIENT_PORT" endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done

[[ -d Bench/node/node_modules ]] || (cd Bench/node && npm ci --no-audit --no-fund >/dev/null)
dotnet build Bench -c Release -v q -nologo >/dev/null

echo "# etcd $(etcd --version | head -1 | awk '{print $3}') at 127.0.0.1:$CLIENT_PORT, ops=$OPS concurrency=$CONC latency-ops=$LAT rounds=$ROUNDS"
OUT="$DATA/results.txt"
: >"$OUT"
for round in $(seq 1 "$ROUNDS"); do
  echo "# round $round: .NET ControlPlane.Etcd"
  /usr/bin/time -f "cpu dotnet %U %S" -a -o "$OUT" \
    dotnet Bench/bin/Release/net10.0/ControlPlane.Bench.dll etcd --endpoints "127.0.0.1:$CLIENT_PORT" --ops "$OPS" --concurrency "$CONC" --latency-ops "$LAT" | tee -a "$OUT"
  echo "# round $round: Node $(node --version) etcd3 $(node -p 'require("./Bench/node/node_modules/etcd3/package.json").version')"
  /usr/bin/time -f "cpu node %U %S" -a -o "$OUT" \
    node Bench/node/etcd-bench.js --endpoints "127.0.0.1:$CLIENT_PORT" --ops "$OPS" --concurrency "$CONC" --latency-ops "$LAT" | tee -a "$OUT"
done

python3 - "$OUT" <<'PY'
import re, statistics, sys
rates, cpu = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"(etcd|etcd3-node) (\w+) ops=\d+ window=\d+ seconds=\S+ ops_per_s=(\d+)", line)
    if m:
        rates.setdefault((m[1], m[2]), []).append(int(m[3]))
    m = re.match(r"cpu (\w+) (\S+) (\S+)", line)
    if m:
        cpu.setdefault(m[1], []).append(float(m[2]) + float(m[3]))
print("# summary: median ops/s over rounds (ours / node = ratio)")
for op in ("put", "get", "txn", "delete"):
    ours, node = statistics.median(rates[("etcd", op)]), statistics.median(rates[("etcd3-node", op)])
    print(f"summary {op} dotnet={ours:.0f} node={node:.0f} ratio={ours / node:.2f}")
for name, values in cpu.items():
    print(f"summary client-cpu {name} median_seconds={statistics.median(values):.2f} (user+sys per run)")
PY
