#!/usr/bin/env bash
# Quickstart: installs what is missing, builds, and starts a local store on loopback.
#   ./quickstart.sh            ZooKeeper (standalone) on 127.0.0.1:12181, until Ctrl-C
#   ./quickstart.sh --etcd     etcd (single member) on 127.0.0.1:12379 instead
#   ./quickstart.sh --once     start, check it answers, stop, exit 0 on success
# At this stage of the project only the store starts; directors and agents join the demo as they land.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

store=zookeeper
once=false
while [ $# -gt 0 ]; do
  case "$1" in
    --etcd) store=etcd ;;
    --zookeeper) store=zookeeper ;;
    --once) once=true ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) cp_die "unknown option $1 (see ./quickstart.sh --help)" ;;
  esac
  shift
done

zk_port=${CP_QUICKSTART_ZK_PORT:-12181}
etcd_port=${CP_QUICKSTART_ETCD_PORT:-12379}
work="$PWD/.quickstart"
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits up to $2 seconds for command $1 to succeed.
wait_for() {
  local deadline=$((SECONDS + $2))
  until eval "$1" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

cp_require_dotnet
cp_ensure_store_packages
echo "Building (Release)..."
build_log=$(mktemp)
dotnet build ControlPlane.sln -c Release -nologo -v q -clp:NoSummary >"$build_log" 2>&1 || {
  cat "$build_log" >&2; rm -f "$build_log"; cp_die "build failed"; }
rm -f "$build_log"

rm -rf "$work"
mkdir -p "$work"
# The store dies with this script even if the script itself is killed (parent-death signal).
launch() { setpriv --pdeathsig TERM -- "$@" >"$work/$store.log" 2>&1 & pids+=($!); }

if [ "$store" = zookeeper ]; then
  port_free "$zk_port" || cp_die "port $zk_port is in use; set CP_QUICKSTART_ZK_PORT"
  mkdir -p "$work/zk-data"
  cat >"$work/zoo.cfg" <<CFG
tickTime=2000
dataDir=$work/zk-data
clientPort=$zk_port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,mntr,cons,stat
CFG
  launch java -Xmx256m -Dzookeeper.extendedTypesEnabled=true \
    -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/zoo.cfg"
  ruok() { exec 3<>"/dev/tcp/127.0.0.1/$zk_port" && printf ruok >&3 && grep -q imok <&3; }
  wait_for ruok 60 || { tail -20 "$work/$store.log" >&2; cp_die "ZooKeeper did not start"; }
  cat <<MSG

ZooKeeper 3.8 is running on 127.0.0.1:$zk_port (data in $work, log in $work/$store.log).
  Inspect it:   /usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:$zk_port ls /
  Health:       bash -c 'exec 3<>/dev/tcp/127.0.0.1/$zk_port; printf srvr >&3; cat <&3'
MSG
else
  port_free "$etcd_port" || cp_die "port $etcd_port is in use; set CP_QUICKSTART_ETCD_PORT"
  peer_port=$((etcd_port + 1))
  launch etcd --name quickstart --data-dir "$work/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "quickstart=http://127.0.0.1:$peer_port"
  wait_for "ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:$etcd_port endpoint health" 60 ||
    { tail -20 "$work/$store.log" >&2; cp_die "etcd did not start"; }
  cat <<MSG

etcd 3.4 is running on 127.0.0.1:$etcd_port (data in $work, log in $work/$store.log).
  Inspect it:   ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:$etcd_port get --prefix /
  Health:       ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:$etcd_port endpoint status -w table
MSG
fi

cat <<MSG

This is the store the control plane runs on. Directors, agents and a demo job join this script as the
project grows (see README.md); for now, ./test.sh exercises real servers like this one.
MSG

if $once; then
  echo "--once: the store answered; stopping."
  exit 0
fi
echo "Press Ctrl-C to stop; everything started here is stopped and removed."
wait "${pids[@]}"
