#!/usr/bin/env bash
# Thin wrapper so the broker can be managed without activating the venv:
#   deploy/kafka/broker.sh start|stop|status|fetch [--port N] [--state-dir DIR]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="$REPO/.venv/bin/python"
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3)"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" -m streams.broker "$@"
