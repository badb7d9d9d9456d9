#!/usr/bin/env bash
# Install what is missing, start RabbitMQ and Redis if needed, and run the service
# (HTTP on ROUTER_HTTP_PORT, default 8080). Stop it with Ctrl-C (it drains first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
exec .venv/bin/ticket-router serve
