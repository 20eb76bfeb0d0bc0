# Shared by ./test.sh and ./quickstart.sh: checks and installs what the project needs.
# Sourced, not run. Every function is quiet when there is nothing to do.

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false

cp_die() { echo "error: $*" >&2; exit 1; }

cp_require_dotnet() {
  command -v dotnet >/dev/null 2>&1 ||
    cp_die "the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian); dotnet is not on PATH"
  local major
  major=$(dotnet --version 2>/dev/null | cut -d. -f1)
  [ "${major:-0}" -ge 10 ] || cp_die "the .NET 10 SDK is required; found $(dotnet --version 2>/dev/null || echo none)"
}

# Installs Debian packages "$@" (after the first argument, the advice shown where apt-get is missing),
# with sudo when not root; prints apt's output only when it fails.
cp_apt_install() {
  local advice=$1
  shift
  command -v apt-get >/dev/null 2>&1 || cp_die "missing $*: $advice"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || cp_die "missing $*; run as root or install sudo"
    sudo=(sudo)
  fi
  echo "Installing $* (Debian packages)..." >&2
  local log
  log=$(mktemp)
  if ! { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    cp_die "could not install $*"
  fi
  rm -f "$log"
}

# Installs ZooKeeper 3.8 (with a JRE) and etcd 3.4 from Debian packages when any piece is missing.
cp_ensure_store_packages() {
  local missing=()
  [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null 2>&1 || missing+=(zookeeper)
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
  # Schedules resolve IANA time zones from the system's database (docs/schedules.md).
  [ -f /usr/share/zoneinfo/Europe/Berlin ] || missing+=(tzdata)
  [ ${#missing[@]} -eq 0 ] && return 0

  cp_apt_install "install ZooKeeper 3.8, etcd 3.4 and the time-zone database (Debian/Ubuntu packages zookeeper, etcd-server, etcd-client, tzdata)" "${missing[@]}"
}

# Installs Debian's chromium and chromium-driver when either is missing: the dashboard's browser tests drive
# /usr/bin/chromium through /usr/bin/chromedriver (docs/testing.md); nothing is downloaded at test time.
cp_ensure_browser_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  [ ${#missing[@]} -eq 0 ] && return 0

  cp_apt_install "install Chromium and its driver for the dashboard's browser tests (Debian packages chromium, chromium-driver)" "${missing[@]}"
}

# Installs Debian's prometheus package when promtool is missing: the tests check the shipped alert rules with
# `promtool check rules` and `promtool test rules` (deploy/prometheus, docs/operations.md section 4). Only promtool
# is used; the package's server is not started by the tests.
cp_ensure_promtool() {
  command -v promtool >/dev/null 2>&1 && return 0
  # Without recommends: the node exporter and the web assets are not needed for promtool.
  cp_apt_install "install Debian's prometheus package for promtool (it checks deploy/prometheus/controlplane-rules.yml)" --no-install-recommends prometheus
}

# Checks docker-compose.yml with `docker-compose config` (parsing, anchors, interpolation; no engine needed),
# installing Debian's docker-compose package when the command is missing. The file requires
# CONTROLPLANE_TOKEN, so a placeholder is set for the check unless the caller has one.
cp_validate_compose() {
  local file=${1:-docker-compose.yml}
  command -v docker-compose >/dev/null 2>&1 ||
    cp_apt_install "docker-compose is needed to check $file (Debian/Ubuntu package docker-compose)" docker-compose
  local out
  if ! out=$(CONTROLPLANE_TOKEN=${CONTROLPLANE_TOKEN:-compose-check} docker-compose -f "$file" config -q 2>&1); then
    echo "$out" >&2
    return 1
  fi
}

# Fixture servers carry their directory (under $TMPDIR/cp-fixtures/<owner pid>-...) in their command
# line. Prints the pids of servers whose owning test process is gone: servers a run left behind.
cp_orphan_servers() {
  local pid cmd owner
  for pid in $(pgrep -f 'cp-fixtures/[0-9]+-' 2>/dev/null); do
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    owner=$(printf '%s' "$cmd" | sed -n 's#.*cp-fixtures/\([0-9][0-9]*\)-.*#\1#p')
    if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then echo "$pid"; fi
  done
  return 0 # a live owner is not an error (set -e callers)
}

# Prints fixture directories whose owning test process is gone.
cp_orphan_dirs() {
  local root="${TMPDIR:-/tmp}/cp-fixtures" dir owner
  [ -d "$root" ] || return 0
  for dir in "$root"/*/; do
    [ -d "$dir" ] || continue
    owner=$(basename "$dir" | cut -d- -f1)
    kill -0 "$owner" 2>/dev/null || echo "${dir%/}"
  done
}
