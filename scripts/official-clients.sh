#!/usr/bin/env bash
# Runs an official client library against a directory stand-in, so the
# stand-ins are known to speak the real API: Google's
# google-api-python-client (built from the admin directory_v1 discovery
# document it ships) with google-auth's service-account credentials.
# Installs them into a virtualenv under target/ (a few MB from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/official-clients-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    "google-api-python-client>=2.100,<3" "google-auth>=2.20,<3"

cargo build --quiet -p host-test --bin host-test
coproc STANDIN { exec target/debug/host-test directory-standin google --users 25 --groups 2; }
read -r url <&"${STANDIN[0]}"
"$venv/bin/python" examples/directories/google_client.py "$url" src/sources/testdata/TEST-ONLY-service-account-key.pem
eval "exec ${STANDIN[1]}>&-"
wait "$STANDIN_PID"
