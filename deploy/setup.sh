#!/usr/bin/env bash
# Set up ticket-router on a Debian 12 or 13 machine (Python 3.11+): installs RabbitMQ, Redis and
# the Python venv when missing, starts RabbitMQ and Redis when they are not running, and
# builds the shipped default model once. Safe to run again; it only does what is missing.
#
#   deploy/setup.sh          runtime only
#   deploy/setup.sh --test   also the test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# Server binaries live in /usr/sbin, which a normal user's PATH often lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# The Python that makes the venv: python3 (3.11 on Debian 12, 3.13 on Debian 13).
PY=${PYTHON:-python3}

log() { printf '==> %s\n' "$*" >&2; }

port_open() {  # host port
  python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('$1', $2)))" 2>/dev/null
}

# 1. System packages (only what is missing).
missing=()
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
"$PY" -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  log "ticket-router needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)"; exit 1; }

# 2. Redis and RabbitMQ on this machine, started only if not already answering.
# Redis keeps every claim, token and config version: it runs with the append-only file
# (fsync every second) in a data folder that survives a restart.
REDIS_DIR=${ROUTER_REDIS_DIR:-/var/lib/redis}
if ! port_open 127.0.0.1 6379; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] \
      && [ -f /etc/redis/redis.conf ]; then
    log "starting Debian's redis-server service with appendonly yes"
    $SUDO sed -i -e 's/^appendonly no/appendonly yes/' -e 's/^# *appendfsync everysec/appendfsync everysec/' \
      /etc/redis/redis.conf
    $SUDO systemctl restart redis-server
  else
    log "starting redis-server (append-only file in $REDIS_DIR)"
    $SUDO mkdir -p "$REDIS_DIR"
    $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --appendonly yes \
      --appendfsync everysec --dir "$REDIS_DIR" --logfile "$REDIS_DIR/ticket-router-redis.log"
  fi
fi
if ! port_open 127.0.0.1 5672; then
  log "starting rabbitmq-server"
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl start rabbitmq-server
  else
    $SUDO rabbitmq-server -detached
  fi
fi
for _ in $(seq 1 120); do
  port_open 127.0.0.1 5672 && port_open 127.0.0.1 6379 && break
  sleep 1
done
port_open 127.0.0.1 6379 || { log "redis did not start"; exit 1; }
port_open 127.0.0.1 5672 || { log "rabbitmq did not start"; exit 1; }
if [ "$(redis-cli -p 6379 config get appendonly 2>/dev/null | tail -n 1)" = "no" ]; then
  log "WARNING: the Redis on 127.0.0.1:6379 runs without its append-only file: a restart of it"
  log "         loses every claim, token and config version (the service warns about it too)"
fi

# 3. Python environment.
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
stamp=".venv/.installed${extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing ticket-router${extras} into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".${extras}"
  touch "$stamp"
fi

# 4. The shipped default model, built from the repo's synthetic ticket generator; built
#    again when this version of the code can no longer load it (a newer model format).
.venv/bin/ticket-router build-default-model --if-needed
log "set-up done"
