#!/usr/bin/env bash
# Install what is missing, start RabbitMQ and Redis if needed, then lint, type-check and
# run the whole test suite (unit + integration against the real RabbitMQ and Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh --test
# The suite (servers, browsers, many connections) needs more open files than a login
# session's soft limit of 1024: up to the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
.venv/bin/ruff check router classifiers queues tests
.venv/bin/ruff format --check router classifiers queues tests
.venv/bin/mypy --strict
.venv/bin/lint-imports
# The image, compose and Kubernetes files, offline (docs/kubernetes.md); .venv/bin first on
# PATH for the kubectl of the test extra (Debian has no recent one).
PATH="$PWD/.venv/bin:$PATH" bash deploy/check.sh
exec .venv/bin/pytest "$@"
