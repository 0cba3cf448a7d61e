#!/usr/bin/env bash
# Drives the component's SCIM endpoint, served by `wasmtime serve`, with an
# independent SCIM client library (scim2-client) and an independent
# conformance probe (scim2-tester), against the local GitBook stand-in. Runs
# in a virtualenv of its own (examples/scim/.venv).
# Needs the component, the stand-in (examples/run-tests.sh builds both) and
# the wasmtime CLI on PATH.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m pytest -v -s test_scim_client.py test_conformance.py "$@"
