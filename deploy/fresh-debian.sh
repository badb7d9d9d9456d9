#!/usr/bin/env bash
# Runs the README's two commands (deploy/run.sh, then deploy/test.sh) on a fresh, minimal
# Debian: a debootstrap'd root file system in a chroot, in a network namespace of its own,
# so that its RabbitMQ (5672, epmd 4369) and Redis (6379) listen inside the namespace and
# never meet the host's. The chroot reaches nothing but its own loopback and, through NAT,
# the package mirrors (Debian's and PyPI), on ports 80 and 443.
#
#   sudo bash deploy/fresh-debian.sh SUITE MODE [REPO]
#     SUITE  trixie (Debian 13) or bookworm (Debian 12)
#     MODE   root: the commands run as root; sudo: as the user "dev", who has sudo
#            without a password
#     REPO   the git repository cloned into the chroot (default: this one; its committed
#            HEAD, never the working tree or .venv)
#
# It prints, and writes to $FRESH_DIR/SUITE-MODE/summary.txt: the wall time of each
# command (run.sh: until /readyz answers 200; it is then stopped with SIGTERM and must
# exit 0), test.sh's exit code and pytest's closing line. Exit 0 when both commands
# succeeded. Needs root on a Linux host with debootstrap, nftables and iproute2 (installed
# with apt-get when missing). About 15-30 min a run on 2 cores.
#
# Environment:
#   FRESH_DIR=/srv/fresh  the debootstrap'd bases (kept, reused: SUITE-base) and each run's
#                         copy (SUITE-MODE, made anew from the base every run)
#   FRESH_KEEP=1          keep the run's copy afterwards (default: deleted)
#   FRESH_MIRROR=URL      the Debian mirror (default http://deb.debian.org/debian)
#   FRESH_NET=10.213.0    the first three octets of the veth pair's /30 (.1 host, .2 chroot);
#                         runs side by side need one each
#   FRESH_CA="FILE..."    CA certificates pip in the chroot trusts besides its own, for a
#                         network whose TLS goes through an intercepting proxy (default:
#                         the files in /usr/local/share/ca-certificates of the host)
#   FRESH_TIMEOUT=5400    seconds each of the two commands may take
#
# On exit (also Ctrl-C or an error) it stops every process of the namespace (only those),
# unmounts what it mounted, deletes its nftables table, the veth pair and the namespace,
# and puts net.ipv4.ip_forward back as it was.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
SUITE=$1 MODE=$2
REPO=${3:-$(cd "$(dirname "$0")/.." && pwd)}
case "$SUITE" in trixie | bookworm) ;; *) usage ;; esac
case "$MODE" in root | sudo) ;; *) usage ;; esac
[ "$(id -u)" -eq 0 ] || { echo "fresh-debian.sh: run it as root" >&2; exit 2; }

FRESH_DIR=${FRESH_DIR:-/srv/fresh}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
NET=${FRESH_NET:-10.213.0}
TIMEOUT=${FRESH_TIMEOUT:-5400}
NS="trfresh-$SUITE-$MODE"
VH="trf${SUITE:0:1}${MODE:0:1}h" VC="trf${SUITE:0:1}${MODE:0:1}c"  # veth names: <= 15 chars
TABLE="trfresh_${SUITE}_$MODE"
BASE="$FRESH_DIR/$SUITE-base"
ROOT="$FRESH_DIR/$SUITE-$MODE"
OUT="$ROOT.log.d"
if [ "$MODE" = sudo ]; then USER_NAME=dev HOME_DIR=/home/dev; else USER_NAME=root HOME_DIR=/root; fi
REGISTRIES=(deb.debian.org pypi.org files.pythonhosted.org)

log() { printf '[fresh %s %s %(%H:%M:%S)T] %s\n' "$SUITE" "$MODE" -1 "$*" >&2; }

for tool in debootstrap:debootstrap nft:nftables ip:iproute2 git:git; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || {
    log "installing ${tool#*:}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null
  }
done

# Another run of this script (another SUITE or MODE, with its own FRESH_NET) may be
# going on: the value from before the first of them is the one to put back.
forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
if ip netns list 2>/dev/null | grep -q '^trfresh-'; then
  forward_before=$(cat "$FRESH_DIR/.ip_forward_before" 2>/dev/null || echo "$forward_before")
else
  mkdir -p "$FRESH_DIR"
  echo "$forward_before" >"$FRESH_DIR/.ip_forward_before"
fi
mounted=()
cleanup() {
  local rc=$? pids i
  trap - EXIT INT TERM
  # Only what runs in our namespace or inside our chroot: nothing of the host's.
  if ip netns list 2>/dev/null | grep -qw "^$NS"; then
    pids=$(ip netns pids "$NS" 2>/dev/null || true)
    if [ -n "$pids" ]; then
      log "stopping the namespace's processes: $(echo "$pids" | wc -l)"
      kill -TERM $pids 2>/dev/null || true
      for i in $(seq 1 20); do
        pids=$(ip netns pids "$NS" 2>/dev/null || true)
        [ -z "$pids" ] && break
        sleep 0.5
      done
      [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
    fi
  fi
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
  done
  nft delete table ip "$TABLE" 2>/dev/null || true
  ip link del "$VH" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  # Forwarding back as it was, unless another run of this script still needs it.
  if ! ip netns list 2>/dev/null | grep -q '^trfresh-'; then
    cat "$FRESH_DIR/.ip_forward_before" 2>/dev/null >/proc/sys/net/ipv4/ip_forward \
      || echo "$forward_before" >/proc/sys/net/ipv4/ip_forward
    rm -f "$FRESH_DIR/.ip_forward_before"
  fi
  if [ -z "${FRESH_KEEP:-}" ] && [ -d "$ROOT" ]; then
    if findmnt -rn -o TARGET | grep -q "^$ROOT/"; then
      log "not deleting $ROOT: something is still mounted under it"
    else
      rm -rf "$ROOT"
    fi
  fi
  log "cleaned up (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The base system, debootstrap'd once (minbase: what a slim container image has).
if [ ! -f "$BASE/.complete" ]; then
  log "debootstrap --variant=minbase $SUITE (once)"
  rm -rf "$BASE"
  debootstrap --variant=minbase "$SUITE" "$BASE" "$MIRROR" >"$FRESH_DIR/$SUITE-base.log" 2>&1
  touch "$BASE/.complete"
fi
rm -rf "$ROOT" "$OUT"
mkdir -p "$OUT"
log "copying the base to $ROOT"
cp -a "$BASE" "$ROOT"
rm -f "$ROOT/.complete"

# 2. What a freshly installed machine has around the base: its apt sources, host name,
#    resolver, and (on an intercepted network) the proxy's CA for pip.
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
grep '^nameserver' /etc/resolv.conf >"$ROOT/etc/resolv.conf"
mapfile -t dns < <(awk '/^nameserver/ && $2 ~ /^[0-9.]+$/ {print $2}' /etc/resolv.conf)
for ip in "${dns[@]}"; do
  case "$ip" in 127.*) log "the host's resolver $ip is on its loopback: unreachable from the namespace"; exit 1 ;; esac
done
# The registries by the addresses the firewall lets through (a CDN may answer another
# address to the next lookup).
declare -A registry_ip=()
for name in "${REGISTRIES[@]}"; do
  registry_ip[$name]=$(getent ahostsv4 "$name" | awk 'NR == 1 {print $1}')
  [ -n "${registry_ip[$name]}" ] || { log "cannot resolve $name"; exit 1; }
done
{
  echo "127.0.0.1 localhost"
  echo "127.0.1.1 $(hostname)"
  echo "::1 localhost ip6-localhost ip6-loopback"
  for name in "${REGISTRIES[@]}"; do echo "${registry_ip[$name]} $name"; done
} >"$ROOT/etc/hosts"
ca_files=${FRESH_CA-$(ls /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)}
if [ -n "$ca_files" ]; then
  # pip's own CA bundle plus these; read through pip.conf, as on the host.
  cat $ca_files >"$ROOT/etc/pip-extra-ca.pem"
  printf '[global]\ncert = /etc/pip-extra-ca.pem\n' >"$ROOT/etc/pip.conf"
fi

# 3. The network namespace: a veth pair on a /30, NAT on the host side, and a filter that
#    passes only the registries (80, 443) and the resolver (53); nothing to the host.
log "network namespace $NS ($NET.0/30)"
ip netns add "$NS"
ip link add "$VH" type veth peer name "$VC"
ip link set "$VC" netns "$NS"
ip addr add "$NET.1/30" dev "$VH"
ip link set "$VH" up
ip netns exec "$NS" ip addr add "$NET.2/30" dev "$VC"
ip netns exec "$NS" ip link set "$VC" up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip route add default via "$NET.1"
reg_set=$(IFS=,; echo "${registry_ip[*]}")
dns_set=$(IFS=,; echo "${dns[*]}")
nft -f - <<EOF
table ip $TABLE {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "$VH" counter drop
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "$VH" ip daddr { $reg_set } tcp dport { 80, 443 } counter accept
    iifname "$VH" ip daddr { $dns_set } meta l4proto { tcp, udp } th dport 53 counter accept
    iifname "$VH" counter drop
    oifname "$VH" ct state established,related counter accept
    oifname "$VH" counter drop
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    ip saddr $NET.0/30 oifname != "$VH" counter masquerade
  }
}
EOF
echo 1 >/proc/sys/net/ipv4/ip_forward

# 4. The mounts a chroot needs; each made private so nothing propagates back to the host.
mount_in() {  # target mount-arguments...
  local target=$1
  shift
  mount "$@" "$target"
  mounted+=("$target")
  mount --make-private "$target"
}
mount_in "$ROOT/proc" -t proc proc
mount_in "$ROOT/sys" -t sysfs sysfs
mount_in "$ROOT/dev" --bind /dev
mount_in "$ROOT/dev/pts" --bind /dev/pts
mount_in "$ROOT/dev/shm" -t tmpfs -o mode=1777,size=512m shm

# in_chroot COMMAND: runs a shell command in the namespace and the chroot, as root, with
# a clean login environment.
in_chroot() {
  ip netns exec "$NS" chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    /bin/bash -c "$1"
}
# as_user COMMAND: the same as the user of MODE, through a login shell (`su -`).
as_user() {
  if [ "$MODE" = sudo ]; then
    in_chroot "su - dev -c $(printf '%q' "$1")"
  else
    in_chroot "cd /root && $1"
  fi
}

# 5. The sudo user: what an administrator does before handing the machine over.
if [ "$MODE" = sudo ]; then
  log "installing sudo, adding user dev (sudo without a password)"
  in_chroot "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo" \
    >"$OUT/sudo-install.log" 2>&1
  in_chroot "useradd --create-home --shell /bin/bash --groups sudo dev \
    && echo 'dev ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/dev && chmod 0440 /etc/sudoers.d/dev"
fi

# 6. The repository's committed state.
git clone --quiet "$REPO" "$ROOT$HOME_DIR/ticket-router"
git -C "$ROOT$HOME_DIR/ticket-router" log -1 --format='commit %h %s' | tee "$OUT/commit.txt"
[ "$MODE" = sudo ] && in_chroot "chown -R dev:dev /home/dev/ticket-router"

http_status() {  # path: the status of GET 127.0.0.1:8080/path inside the namespace, or 000
  ip netns exec "$NS" python3 - "$1" <<'EOF' 2>/dev/null || echo 000
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen("http://127.0.0.1:8080" + sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print("000")
EOF
}

# 7. Command 1: bash deploy/run.sh, until /readyz is 200; then SIGTERM (it must exit 0).
log "command 1: bash deploy/run.sh (log: $OUT/run.log)"
started=$SECONDS
as_user 'cd ticket-router && echo $$ >/tmp/run.pid && exec bash deploy/run.sh' \
  >"$OUT/run.log" 2>&1 &
runner=$!
health_s="" ready_s=""
while kill -0 "$runner" 2>/dev/null; do
  if [ -z "$health_s" ] && [ "$(http_status /healthz)" = 200 ]; then
    health_s=$((SECONDS - started))
    log "/healthz 200 after ${health_s}s"
  fi
  if [ -n "$health_s" ] && [ "$(http_status /readyz)" = 200 ]; then
    ready_s=$((SECONDS - started))
    log "/readyz 200 after ${ready_s}s"
    break
  fi
  [ $((SECONDS - started)) -ge "$TIMEOUT" ] && break
  sleep 1
done
run_rc=""
if [ -n "$ready_s" ]; then
  kill -TERM "$(cat "$ROOT/tmp/run.pid")"
  run_rc=0
  wait "$runner" || run_rc=$?
  log "run.sh after SIGTERM: exit $run_rc"
else
  kill -TERM "$(cat "$ROOT/tmp/run.pid" 2>/dev/null)" 2>/dev/null || true
  wait "$runner" || run_rc=$?
  log "run.sh never became ready (exit ${run_rc:-?}); its last lines:"
  tail -n 30 "$OUT/run.log" >&2
fi

# 8. Command 2: bash deploy/test.sh (the servers run.sh started are still up, as they
#    would be on the machine).
log "command 2: bash deploy/test.sh (log: $OUT/test.log)"
started=$SECONDS
test_rc=0
as_user "cd ticket-router && timeout $TIMEOUT bash deploy/test.sh" >"$OUT/test.log" 2>&1 \
  || test_rc=$?
test_s=$((SECONDS - started))
closing=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$OUT/test.log" | tail -n 1 || true)
log "test.sh: exit $test_rc after ${test_s}s"
[ "$test_rc" -ne 0 ] && tail -n 40 "$OUT/test.log" >&2

{
  echo "distro: $(. "$ROOT/etc/os-release" && echo "$PRETTY_NAME"), python: $(in_chroot 'python3 --version 2>&1 || echo none')"
  echo "user: $USER_NAME"
  cat "$OUT/commit.txt"
  echo "command 1 bash deploy/run.sh: /healthz 200 after ${health_s:-never}s, /readyz 200 after ${ready_s:-never}s; exit after SIGTERM: ${run_rc:-none}"
  echo "command 2 bash deploy/test.sh: ${test_s}s, exit $test_rc"
  echo "pytest: ${closing:-no closing line}"
  echo "dropped by the namespace's firewall (input, forward): $(nft list table ip "$TABLE" \
    | grep -E "iifname \"$VH\" counter packets [0-9]+ bytes [0-9]+ drop" | grep -oE 'packets [0-9]+' \
    | awk '{print $2}' | paste -sd, -)"
} | tee "$OUT/summary.txt"
[ -n "$ready_s" ] && [ "$run_rc" = 0 ] && [ "$test_rc" -eq 0 ]
