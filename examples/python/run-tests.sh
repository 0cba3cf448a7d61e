#!/usr/bin/env bash
# Runs the Python example's tests in a virtualenv of its own (examples/python/.venv).
# Needs the component and the stand-in built first (examples/run-tests.sh does both).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m pytest -v test_sync.py "$@"
