#!/usr/bin/env bash
# Set up ticket-router on a Debian machine with Python 3.11: installs RabbitMQ, Redis and
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

log() { printf '==> %s\n' "$*" >&2; }

port_open() {  # host port
  python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('$1', $2)))" 2>/dev/null
}

# 1. System packages (only what is missing).
missing=()
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
python3.11 -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. Redis and RabbitMQ on this machine, started only if not already answering.
if ! port_open 127.0.0.1 6379; then
  log "starting redis-server"
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/ticket-router-redis.log
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

# 3. Python environment.
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3.11 -m venv .venv
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
