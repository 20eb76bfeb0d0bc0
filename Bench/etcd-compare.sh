#!/usr/bin/env bash
# Side-by-side etcd client benchmark: starts a throwaway single-member etcd on loopback, runs our .NET client
# (`Bench etcd`) and the npm etcd3 client (Bench/node/etcd-bench.js) with the same workload, prints both.
# Usage: Bench/etcd-compare.sh [--ops N] [--concurrency C] [--latency-ops L]
set -euo pipefail
cd "$(dirname "$0")/.."

OPS=20000; CONC=64; LAT=2000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ops) OPS="$2"; shift 2 ;;
    --concurrency) CONC="$2"; shift 2 ;;
    --latency-ops) LAT="$2"; shift 2 ;;
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

echo "# etcd $(etcd --version | head -1 | awk '{print $3}') at 127.0.0.1:$CLIENT_PORT, ops=$OPS concurrency=$CONC latency-ops=$LAT"
echo "# .NET ControlPlane.Etcd"
dotnet run -c Release --no-build --project Bench -- etcd --endpoints "127.0.0.1:$CLIENT_PORT" --ops "$OPS" --concurrency "$CONC" --latency-ops "$LAT"
echo "# Node $(node --version) etcd3 $(node -p 'require("./Bench/node/node_modules/etcd3/package.json").version')"
node Bench/node/etcd-bench.js --endpoints "127.0.0.1:$CLIENT_PORT" --ops "$OPS" --concurrency "$CONC" --latency-ops "$LAT"
