#!/usr/bin/env bash
# Side-by-side etcd client benchmark: starts a throwaway single-member etcd on loopback and runs three clients with
# the same workload against it: our .NET client (`Bench etcd`), the npm etcd3 client (Bench/node/etcd-bench.js) and
# dotnet-etcd (Bench/DotnetEtcd, Grpc.Net.Client with generated stubs).
# Usage: Bench/etcd-compare.sh [--ops N] [--concurrency C] [--latency-ops L] [--rounds R] [--clients ours,node,dotnet-etcd]
# --clients may also name grpc-net: dotnet-etcd's generated stubs on a plain Grpc.Net.Client channel (no library
# around them, no retry policy), which tells what the gRPC stack itself costs.
# Each round runs the clients one after the other, the order rotating from round to round. The summary gives each
# client's median ops/s per operation, the ratios to ours, and CPU: each client process's own CPU time over its four
# throughput phases per operation (start-up, warm-up and latency runs excluded; the "cpu throughput" line), and the
# whole process's user+sys from /usr/bin/time. On a shared machine single runs vary by a factor of two, CPU per
# operation much less. The load average is printed with every round.
set -euo pipefail
cd "$(dirname "$0")/.."

OPS=20000; CONC=64; LAT=2000; ROUNDS=1; CLIENT_LIST=ours,node,dotnet-etcd
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) CLIENT_LIST="$2"; shift 2 ;;
    --ops) OPS="$2"; shift 2 ;;
    --concurrency) CONC="$2"; shift 2 ;;
    --latency-ops) LAT="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for value in "$OPS" "$CONC" "$LAT" "$ROUNDS"; do
  [[ "$value" =~ ^[1-9][0-9]*$ ]] || { echo "options take positive integers, got '$value'" >&2; exit 2; }
done
IFS=, read -r -a CLIENTS <<<"$CLIENT_LIST"
for client in "${CLIENTS[@]}"; do
  [[ "$client" =~ ^(ours|node|dotnet-etcd|grpc-net)$ ]] || { echo "--clients takes ours, node, dotnet-etcd, grpc-net; got '$client'" >&2; exit 2; }
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
# set -e is still on in the trap: wait's 143 (etcd ended by SIGTERM) must not cut it short.
trap 'kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT

for _ in $(seq 1 50); do
  ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$CLIENT_PORT" endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done

[[ -d Bench/node/node_modules ]] || (cd Bench/node && npm ci --no-audit --no-fund >/dev/null)
dotnet build Bench -c Release -v q -nologo >/dev/null
dotnet build Bench/DotnetEtcd -c Release -v q -nologo >/dev/null

ARGS=(--endpoints "127.0.0.1:$CLIENT_PORT" --ops "$OPS" --concurrency "$CONC" --latency-ops "$LAT")
NODE_ETCD3=$(node -p 'require("./Bench/node/node_modules/etcd3/package.json").version')
DOTNET_ETCD=$(sed -n 's/.*Include="dotnet-etcd" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)
GRPC_NET=$(sed -n 's/.*Include="Grpc.Net.Client" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)
run_client() {  # $1 = ours | node | dotnet-etcd | grpc-net; appends the client's lines and its CPU line to $OUT
  case "$1" in
    ours)
      echo "# round $round: .NET ControlPlane.Etcd"
      /usr/bin/time -f "cpu dotnet %U %S" -a -o "$OUT" \
        dotnet Bench/bin/Release/net10.0/ControlPlane.Bench.dll etcd "${ARGS[@]}" | tee -a "$OUT" ;;
    node)
      echo "# round $round: Node $(node --version) etcd3 $NODE_ETCD3"
      /usr/bin/time -f "cpu node %U %S" -a -o "$OUT" \
        node Bench/node/etcd-bench.js "${ARGS[@]}" | tee -a "$OUT" ;;
    dotnet-etcd)
      echo "# round $round: .NET dotnet-etcd $DOTNET_ETCD"
      /usr/bin/time -f "cpu dotnet-etcd %U %S" -a -o "$OUT" \
        dotnet Bench/DotnetEtcd/bin/Release/net10.0/ControlPlane.DotnetEtcd.dll bench "${ARGS[@]}" | tee -a "$OUT" ;;
    grpc-net)
      echo "# round $round: .NET Grpc.Net.Client $GRPC_NET, plain channel, generated stubs"
      /usr/bin/time -f "cpu grpc-net %U %S" -a -o "$OUT" \
        dotnet Bench/DotnetEtcd/bin/Release/net10.0/ControlPlane.DotnetEtcd.dll bench-grpc "${ARGS[@]}" | tee -a "$OUT" ;;
  esac
}

echo "# etcd $(etcd --version | head -1 | awk '{print $3}') at 127.0.0.1:$CLIENT_PORT, ops=$OPS concurrency=$CONC latency-ops=$LAT rounds=$ROUNDS, $(nproc) cores"
OUT="$DATA/results.txt"
: >"$OUT"
for round in $(seq 1 "$ROUNDS"); do
  echo "# round $round: $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for i in "${!CLIENTS[@]}"; do
    run_client "${CLIENTS[$(( (round - 1 + i) % ${#CLIENTS[@]} ))]}"
  done
done
echo "# done: $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Operations per client run: 4 throughput phases, 4 latency phases, 400 warm-up calls.
python3 - "$OUT" "$(( 4 * OPS + 4 * LAT + 400 ))" <<'PY'
import re, statistics, sys
rates, phase_cpu, cpu = {}, {}, {}
names = {"etcd": "dotnet", "etcd3-node": "node", "dotnet-etcd": "dotnet-etcd", "grpc-net": "grpc-net"}
for line in open(sys.argv[1]):
    m = re.match(r"(etcd|etcd3-node|dotnet-etcd|grpc-net) (\w+) ops=\d+ window=\d+ seconds=\S+ ops_per_s=(\d+)", line)
    if m:
        rates.setdefault((names[m[1]], m[2]), []).append(int(m[3]))
    m = re.match(r"(etcd|etcd3-node|dotnet-etcd|grpc-net) cpu throughput ops=\d+ cpu_seconds=\S+ us_per_op=(\S+)", line)
    if m:
        phase_cpu.setdefault(names[m[1]], []).append(float(m[2]))
    m = re.match(r"cpu (\S+) (\S+) (\S+)", line)
    if m:
        cpu.setdefault(m[1], []).append(float(m[2]) + float(m[3]))
ops_per_run = int(sys.argv[2])
clients = [c for c in ("dotnet", "node", "dotnet-etcd", "grpc-net") if c in cpu]
others = [c for c in clients if c != "dotnet"]
print("# summary: median ops/s over rounds; ratio = ours / other")
for op in ("put", "get", "txn", "delete"):
    med = {c: statistics.median(rates[(c, op)]) for c in clients}
    ratios = " ".join(f"ratio_{c}={med['dotnet'] / med[c]:.2f}" for c in others if "dotnet" in med)
    print(f"summary {op} " + " ".join(f"{c}={med[c]:.0f}" for c in clients) + (" " + ratios if ratios else ""))
print("# summary: client CPU per operation over the throughput phases (median, min-max over rounds), and per whole run")
for c in clients:
    per_op = phase_cpu[c]
    med = statistics.median(per_op)
    versus = f" vs_ours={med / statistics.median(phase_cpu['dotnet']) - 1:+.0%}" if "dotnet" in phase_cpu and c != "dotnet" else ""
    run = statistics.median(cpu[c])
    print(f"summary client-cpu {c} us_per_op={med:.1f} range={min(per_op):.1f}-{max(per_op):.1f}{versus}"
          f" run_seconds={run:.2f} run_us_per_op={run / ops_per_run * 1e6:.1f} (user+sys per run, start-up and latency runs included)")
PY
