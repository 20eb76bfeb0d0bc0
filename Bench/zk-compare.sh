#!/usr/bin/env bash
# Runs the `zk` benchmark with this repository's .NET client and with the official Java client
# (/usr/share/java/zookeeper.jar, async API, same window) against one freshly started standalone
# ZooKeeper, alternating the two for --rounds rounds, and prints both sets of lines.
#   Bench/zk-compare.sh [--ops N] [--window W] [--rounds R]
set -euo pipefail
cd "$(dirname "$0")/.."

ops=100000 window=1000 rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --ops) ops=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

jars=/usr/share/java
cp="$jars/zookeeper.jar:$jars/zookeeper-jute.jar:$jars/slf4j-api.jar:$jars/netty-all.jar:$jars/metrics-core.jar:$jars/commons-cli.jar"
[ -f "$jars/zookeeper.jar" ] || { echo "ZooKeeper is not installed (apt-get install zookeeper)" >&2; exit 1; }

work=$(mktemp -d /tmp/zk-compare.XXXXXX)
server_pid=
cleanup() {
  [ -z "$server_pid" ] || kill -9 "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port, then a standalone server with stock settings (tickTime 2 s, fsync on).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/data"
cat > "$work/zoo.cfg" <<CFG
tickTime=2000
dataDir=$work/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok
CFG
java -Xmx1g -cp "$cp:$jars/slf4j-nop.jar" org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/zoo.cfg" >"$work/server.log" 2>&1 &
server_pid=$!
disown "$server_pid"  # no "Killed" job report when cleanup ends it

# Wait (bounded) until the server answers "imok".
for _ in $(seq 1 100); do
  if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    printf ruok >&3
    answer=$(timeout 2 cat <&3 || true)
    exec 3>&-
    [ "$answer" = imok ] && break
  fi
  sleep 0.2
done
[ "${answer:-}" = imok ] || { echo "server did not start; log:" >&2; cat "$work/server.log" >&2; exit 1; }

dotnet build Bench -c Release -nologo -v q -clp:NoSummary >/dev/null
mkdir -p "$work/classes"
javac -d "$work/classes" -cp "$cp" Bench/java/ZkBench.java

echo "# server 127.0.0.1:$port, ops=$ops window=$window, $(nproc) cores"
for round in $(seq 1 "$rounds"); do
  echo "# round $round: .NET client"
  dotnet Bench/bin/Release/net10.0/ControlPlane.Bench.dll zk --servers "127.0.0.1:$port" --ops "$ops" --window "$window"
  echo "# round $round: Java client"
  java -cp "$work/classes:$cp:$jars/slf4j-nop.jar" ZkBench --servers "127.0.0.1:$port" --ops "$ops" --window "$window"
done
