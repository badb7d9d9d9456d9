#!/usr/bin/env bash
# Set up ticket-router on a Debian 12 or 13 machine (Python 3.11+), as root or as a user
# with sudo: installs RabbitMQ, Redis and the Python venv when missing, starts RabbitMQ
# and Redis when they are not answering (Debian's services where there are), and builds
# the shipped default model once. Safe to run again; it only does what is missing, and
# never stops or restarts a server that answers (but for a Redis that its own apt-get
# install has just started with Debian's `appendonly no`).
#
#   deploy/setup.sh          the service and the packages that build its default model
#   deploy/setup.sh --test   also the test and lint tools
#   PYTHON=python3.12 deploy/setup.sh   another interpreter for the venv (3.11 or newer)
set -euo pipefail
cd "$(dirname "$0")/.."

# build: what builds the shipped default model (step 4); test: the test and lint tools.
testing=""
[ "${1:-}" = "--test" ] && testing=1
extras="[build${testing:+,test}]"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# Server binaries live in /usr/sbin, which a normal user's PATH often lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# The Python that makes the venv: python3 (3.11 on Debian 12, 3.13 on Debian 13).
PY=${PYTHON:-python3}
LOG=$(mktemp "${TMPDIR:-/tmp}/ticket-router-setup.XXXXXX")
trap 'rm -f "$LOG"' EXIT

log() { printf '==> %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

# step LABEL COMMAND...: one line when it starts and one when it ends (with the time it
# took); the command's own output goes to a log, shown only if it fails. A step that runs
# longer than 10 s says so every 10 s, with the last line of its output.
step() {
  local label=$1 started=$SECONDS next=10 pid last
  shift
  log "$label"
  "$@" >"$LOG" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - started)) -ge "$next" ]; then
      last=$(tail -n 1 "$LOG" | tr -d '\r' | cut -c1-90)
      printf '    ... %ss%s\n' "$next" "${last:+: $last}" >&2
      next=$((next + 10))
    fi
    sleep 1
  done
  if ! wait "$pid"; then
    log "FAILED after $((SECONDS - started))s: $label; its last lines:"
    tail -n 25 "$LOG" >&2
    exit 1
  fi
  printf '    done in %ss\n' "$((SECONDS - started))" >&2
}

# root_ready: for a user, sudo's password asked once, in the foreground (a step's command
# runs in the background with its output in the log, where a prompt would be lost).
sudo_checked=""
root_ready() {
  if [ -n "$SUDO" ] && [ -z "$sudo_checked" ]; then
    # `sudo -n true` first: a user whose sudo needs no password (NOPASSWD) may still be
    # asked for one by `sudo -v` (sudoers' verifypw: every entry of the user must be
    # NOPASSWD, and membership of group sudo adds one that is not), which fails where
    # there is no terminal (CI, a container, a script).
    if ! sudo -n true 2>/dev/null; then
      log "the next steps need root: sudo may ask for your password"
      sudo -v || fail "sudo failed: run as root, or as a user who may use sudo"
    fi
    sudo_checked=1
  fi
}
as_root() { root_ready; $SUDO "$@"; }

port_open() {  # host port; bash's /dev/tcp: no Python needed, and fast
  timeout 2 bash -c ": >/dev/tcp/$1/$2" 2>/dev/null
}

# Debian's services where something runs them: systemd's unit while systemd is the init
# (PID 1), else the package's init.d script. A container, a chroot or WSL without systemd
# has no `systemctl` that works and often no `service`: the init.d script is run directly
# there, and a server whose package has none, or whose script fails, is started by hand.
systemd_runs() { command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; }
has_service() {
  if systemd_runs; then
    [ -f "/lib/systemd/system/$1.service" ] || [ -f "/usr/lib/systemd/system/$1.service" ] \
      || [ -f "/etc/init.d/$1" ]
  else
    [ -x "/etc/init.d/$1" ]
  fi
}
service_do() {  # name action (start, restart)
  if systemd_runs; then
    as_root systemctl "$2" "$1"
  else
    as_root "/etc/init.d/$1" "$2"
  fi
}
# as_daemon_user USER COMMAND...: as that system user when it exists (the Debian
# package's), so that the files the server writes stay its own; else as root.
as_daemon_user() {
  local user=$1
  shift
  if id -u "$user" >/dev/null 2>&1; then
    as_root runuser -u "$user" -- "$@"
  else
    as_root "$@"
  fi
}

venv_ready() { [ -x .venv/bin/python ] && [ -x .venv/bin/pip ]; }
# Debian ships venv's ensurepip in python3.X-venv: without it `python3 -m venv` fails.
can_make_venv() { "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; }
venv_package() { "$PY" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])'; }

# 1. System packages (only what is missing).
missing=()
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
installed_redis=""
command -v redis-server >/dev/null 2>&1 || { missing+=(redis-server); installed_redis=1; }
if ! command -v "$PY" >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
elif ! venv_ready && ! can_make_venv; then
  missing+=("$(venv_package)")
fi
# The dashboard's browser tests (tests/browser) drive Debian's Chromium with Playwright.
if [ -n "$testing" ] && ! [ -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ "${#missing[@]}" -gt 0 ]; then
  root_ready
  step "apt-get update" as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  step "installing Debian packages: ${missing[*]}" as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -o Dpkg::Use-Pty=0 "${missing[@]}"
fi
command -v "$PY" >/dev/null 2>&1 || fail "no $PY: set PYTHON to a Python 3.11 or newer"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "ticket-router needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)"
# Checked again after the install: a package that did not help fails here, once, loudly
# (rather than being installed again on every run).
if ! venv_ready && ! can_make_venv; then
  fail "$PY cannot create a venv: install its venv package (on Debian:" \
    "$(venv_package))"
fi

# 2. Redis and RabbitMQ on this machine, started only if not already answering.
# Redis keeps every claim, token and config version: it runs with the append-only file
# (fsync every second) in a data folder that survives a restart.
REDIS_DIR=${ROUTER_REDIS_DIR:-/var/lib/redis}
# Debian's config, read as root: /etc/redis is readable by group redis only, so a sudo
# user's own test never saw it and started Redis by hand instead of through the service.
redis_conf() { as_root test -f /etc/redis/redis.conf; }
redis_aof_config() {
  as_root sed -i -e 's/^appendonly no/appendonly yes/' \
    -e 's/^# *appendfsync everysec/appendfsync everysec/' /etc/redis/redis.conf
}
start_redis_by_hand() {
  log "redis: starting redis-server (append-only file in $REDIS_DIR)"
  as_root mkdir -p "$REDIS_DIR"
  if id -u redis >/dev/null 2>&1; then as_root chown redis: "$REDIS_DIR"; fi
  as_daemon_user redis redis-server --daemonize yes --bind 127.0.0.1 --port 6379 \
    --appendonly yes --appendfsync everysec --dir "$REDIS_DIR" \
    --logfile "$REDIS_DIR/ticket-router-redis.log"
}
if port_open 127.0.0.1 6379; then
  if [ -n "$installed_redis" ] && redis_conf && has_service redis-server; then
    # Started by the package just installed, with Debian's `appendonly no`: nothing uses it
    # yet, so it is restarted with the append-only file.
    log "redis: restarting the redis-server just installed, with appendonly yes"
    redis_aof_config
    service_do redis-server restart
  else
    log "redis: answering on 127.0.0.1:6379"
  fi
elif has_service redis-server && redis_conf; then
  log "redis: starting Debian's redis-server service with appendonly yes"
  redis_aof_config
  service_do redis-server start || start_redis_by_hand
else
  start_redis_by_hand
fi
start_rabbitmq_by_hand() {
  # Debian's /usr/sbin/rabbitmq-server, run by root, runs the node as user rabbitmq.
  log "rabbitmq: starting rabbitmq-server -detached"
  as_root rabbitmq-server -detached
}
if port_open 127.0.0.1 5672; then
  log "rabbitmq: answering on 127.0.0.1:5672"
elif has_service rabbitmq-server; then
  log "rabbitmq: starting Debian's rabbitmq-server service"
  service_do rabbitmq-server start || start_rabbitmq_by_hand
else
  start_rabbitmq_by_hand
fi
waited=0
until port_open 127.0.0.1 5672 && port_open 127.0.0.1 6379; do
  [ "$waited" -ge 120 ] && break
  [ $((waited % 10)) -eq 9 ] && log "waiting for RabbitMQ and Redis to answer (${waited}s)"
  sleep 1
  waited=$((waited + 1))
done
port_open 127.0.0.1 6379 || fail "redis did not start"
port_open 127.0.0.1 5672 || fail "rabbitmq did not start"
if [ "$(redis-cli -p 6379 config get appendonly 2>/dev/null | tail -n 1)" = "no" ]; then
  log "WARNING: the Redis on 127.0.0.1:6379 runs without its append-only file: a restart of it"
  log "         loses every claim, token and config version (the service warns about it too)"
fi

# 3. Python environment.
if ! venv_ready; then
  step "creating .venv with $("$PY" --version 2>&1)" "$PY" -m venv .venv
fi
stamp=".venv/.installed${extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  step "upgrading pip in .venv" .venv/bin/pip install --progress-bar off --upgrade pip
  step "installing ticket-router${extras} and its dependencies into .venv" \
    .venv/bin/pip install --progress-bar off -e ".${extras}"
  touch "$stamp"
else
  log "python: .venv is up to date with pyproject.toml"
fi

# 4. The shipped default model, built from the repo's synthetic ticket generator; built
#    again when this version of the code can no longer load it (a newer model format).
.venv/bin/ticket-router build-default-model --if-needed
log "set-up done"
