#!/usr/bin/env bash
# Quickstart: installs what is missing, builds, and runs a whole control plane on loopback: a local store,
# 3 directors and 2 agents; submits demo jobs (one succeeds, one fails, one FIFO group) and a workflow (the ETL
# diamond of examples/), creates a schedule that fires every 5 seconds, and shows where to look.
#   ./quickstart.sh            on ZooKeeper (standalone, 127.0.0.1:12181), until Ctrl-C
#   ./quickstart.sh --etcd     on etcd (single member, 127.0.0.1:12379) instead
#   ./quickstart.sh --once     run the demo, check its outcome, stop everything; exit 0 on success
# Ports and places: CP_QUICKSTART_ZK_PORT, CP_QUICKSTART_ETCD_PORT, CP_QUICKSTART_API_PORT (first of 3),
# CP_QUICKSTART_DIR (default ./.quickstart); CP_QUICKSTART_NO_BUILD=1 skips the build; CONTROLPLANE_TOKEN
# sets the API token (default: a random one, printed).
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
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) cp_die "unknown option $1 (see ./quickstart.sh --help)" ;;
  esac
  shift
done

zk_port=${CP_QUICKSTART_ZK_PORT:-12181}
etcd_port=${CP_QUICKSTART_ETCD_PORT:-12379}
api_port=${CP_QUICKSTART_API_PORT:-5080}
work=${CP_QUICKSTART_DIR:-$PWD/.quickstart}
token=${CONTROLPLANE_TOKEN:-qs-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
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
if [ "${CP_QUICKSTART_NO_BUILD:-0}" != 1 ]; then
  echo "Building (Release)..."
  build_log=$(mktemp)
  dotnet build ControlPlane.sln -c Release -nologo -v q -clp:NoSummary >"$build_log" 2>&1 || {
    cat "$build_log" >&2; rm -f "$build_log"; cp_die "build failed"; }
  rm -f "$build_log"
fi

rm -rf "$work"
mkdir -p "$work"
# Everything started here dies with this script even if the script itself is killed (parent-death signal).
# $1 names the log file; the rest is the command.
launch() { local log="$work/$1.log"; shift; setpriv --pdeathsig TERM -- "$@" >"$log" 2>&1 & pids+=($!); }

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
  launch "$store" java -Xmx256m -Dzookeeper.extendedTypesEnabled=true \
    -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/zoo.cfg"
  # Each probe reads for at most 2 s: a peer that accepts and never answers (not ZooKeeper) must not hang the wait.
  ruok() { local reply=; exec 3<>"/dev/tcp/127.0.0.1/$zk_port" && printf ruok >&3 && { read -r -t 2 reply <&3 || true; } && [[ $reply == imok* ]]; }
  wait_for ruok 60 || { tail -20 "$work/$store.log" >&2; cp_die "ZooKeeper did not start"; }
  endpoints="127.0.0.1:$zk_port"
  inspect="/usr/share/zookeeper/bin/zkCli.sh -server $endpoints"
else
  port_free "$etcd_port" || cp_die "port $etcd_port is in use; set CP_QUICKSTART_ETCD_PORT"
  peer_port=$((etcd_port + 1))
  launch "$store" etcd --name quickstart --data-dir "$work/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "quickstart=http://127.0.0.1:$peer_port"
  wait_for "ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:$etcd_port endpoint health" 60 ||
    { tail -20 "$work/$store.log" >&2; cp_die "etcd did not start"; }
  endpoints="127.0.0.1:$etcd_port"
  inspect="ETCDCTL_API=3 etcdctl --endpoints=$endpoints"
fi

echo "$store is up on $endpoints (log: $work/$store.log)."

# --- directors and agents ------------------------------------------------------------------------------
bin=Release/net10.0
director_dll=ControlPlane/bin/$bin/ControlPlane.Director.dll
agent_dll=Agents/bin/$bin/ControlPlane.Agents.dll
cpctl_dll=Cli/bin/$bin/cpctl.dll
for dll in "$director_dll" "$agent_dll" "$cpctl_dll"; do [ -f "$dll" ] || cp_die "$dll is not built"; done
store_args=(--Store:Backend="$store" --Store:Endpoints="$endpoints" --Store:Root=controlplane)
export Logging__Console__FormatterName=simple Logging__Console__FormatterOptions__SingleLine=true \
  Logging__Console__FormatterOptions__TimestampFormat="HH:mm:ss.fff "
for i in 1 2 3; do
  port=$((api_port + i - 1))
  port_free "$port" || cp_die "port $port is in use; set CP_QUICKSTART_API_PORT"
  launch "director-$i" dotnet "$director_dll" --urls "http://127.0.0.1:$port" --Director:Id="director-$i" \
    --Auth:Tokens:0="$token" "${store_args[@]}"
done
for i in 1 2; do
  # The shell executor is off unless enabled; the allow-list names the only programs jobs may start.
  launch "agent-$i" dotnet "$agent_dll" --Agent:Id="agent-$i" --Agent:Slots=4 --Agent:Labels:demo=true \
    --Executors:Shell:Enabled=true --Executors:Shell:Allow:0=/bin/echo --Executors:Shell:Allow:1=/bin/sh \
    "${store_args[@]}"
done

url="http://127.0.0.1:$api_port"
# All three directors: cpctl goes on to the next when one is down.
urls="$url,http://127.0.0.1:$((api_port + 1)),http://127.0.0.1:$((api_port + 2))"
export CONTROLPLANE_URL="$urls" CONTROLPLANE_TOKEN="$token"
cpctl() { dotnet "$cpctl_dll" "$@"; }
# Reads the status line for at most 2 s, so a peer that never answers cannot hang the wait.
healthy() { local status=; exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 && read -r -t 2 status <&3 && [[ $status == *" 200 "* ]]; }
workers_ready() { [ "$(cpctl workers -o json | grep -c '"id"')" -ge 2 ]; }
leader_ready() { cpctl leader >/dev/null 2>&1; }
for i in 1 2 3; do
  wait_for "healthy $((api_port + i - 1))" 90 ||
    { tail -20 "$work/director-$i.log" >&2; cp_die "director-$i did not start"; }
done
wait_for leader_ready 60 || { tail -20 "$work/director-1.log" >&2; cp_die "no director became leader"; }
wait_for workers_ready 60 || { tail -20 "$work/agent-1.log" >&2; cp_die "the agents did not register"; }

# --- the demo --------------------------------------------------------------------------------------------
echo
echo "Submitting demo jobs..."
ok=$(cpctl submit shell -q --name demo-hello -- /bin/echo "hello from the control plane")
bad=$(cpctl submit shell -q --name demo-fails --max-attempts 1 -- /bin/sh -c 'echo "about to fail"; exit 3')
fifo=()
for n in 1 2 3; do
  fifo+=("$(cpctl submit sleep -q --name "demo-fifo-$n" --group demo-fifo --args '{"seconds":1}')")
done
# A recurring job: every 5 seconds, exactly once per tick, whichever director leads.
schedule=$(cpctl schedule create --cron '*/5 * * * * *' --catch-up skip -k demo-every-5s -n demo-every-5s -o json \
  shell -- /bin/echo "tick" | sed -n 's/^  "id": "\([0-9a-f]*\)".*/\1/p')
# A workflow: extract, then two transforms, then load, all submitted at once.
workflow=$(cpctl workflow submit -f examples/etl-diamond.json -k demo-etl -q)
cpctl wait --timeout 2m "$ok" "${fifo[@]}" >/dev/null || true
cpctl wait --timeout 2m "$bad" >/dev/null 2>&1 || true

echo
cpctl list
echo
cpctl leader
echo
cpctl workers
echo
fired() { cpctl schedule get -o json "$schedule" | grep -q '"fired": [1-9]'; }
wait_for fired 30 || true
cpctl schedule list
echo
workflow_done() { cpctl workflow get -o json "$workflow" | grep -q '"finished": true'; }
wait_for workflow_done 60 || true
cpctl workflow get "$workflow"

# The demo's outcome, checked: --once exits non-zero when it is not what the demo promises.
state_of() { cpctl get -o json "$1" | sed -n 's/^  "state": "\([A-Za-z]*\)".*/\1/p'; }
outcome=ok
[ "$(state_of "$ok")" = Succeeded ] || outcome="demo-hello did not succeed"
[ "$(state_of "$bad")" = Failed ] || outcome="demo-fails did not fail"
for id in "${fifo[@]}"; do [ "$(state_of "$id")" = Succeeded ] || outcome="a FIFO job did not succeed"; done
fired || outcome="the demo schedule did not fire"
[ "$(cpctl workflow get -o json "$workflow" | grep -c '"state": "Succeeded"')" = 4 ] || outcome="the demo workflow did not succeed"

if [ "$store" = zookeeper ]; then
  look="$inspect ls -R /controlplane
  $inspect get /controlplane/jobs/${ok: -2}/$ok"
else
  look="$inspect get --prefix /controlplane/ --keys-only
  $inspect get /controlplane/jobs/${ok: -2}/$ok --print-value-only"
fi
cat <<MSG

The control plane is running on loopback:
  Dashboard:           $url/ui/  (every director serves it; paste the token below when it asks)
  API (any director):  $url  (also :$((api_port + 1)) and :$((api_port + 2)))
  Token:               $token
  cpctl:               export CONTROLPLANE_URL=$urls CONTROLPLANE_TOKEN=$token
                       dotnet $cpctl_dll list     (submit, get, explain, cancel, wait, workers, drain, leader,
                                                   cluster, doctor, schedule, workflow)
  REST:                curl -H "Authorization: Bearer $token" $url/v1/jobs/$ok
  OpenAPI, metrics:    $url/openapi/v1.json   $url/metrics
  The same state in the store:
  $look
  Logs:                $work/*.log
MSG

if $once; then
  if [ "$outcome" = ok ]; then
    echo "--once: the demo did what it promises; stopping everything."
    exit 0
  fi
  echo "--once: $outcome" >&2
  exit 1
fi
echo "Press Ctrl-C to stop; everything started here is stopped and removed."
wait "${pids[@]}"
