#!/usr/bin/env bash
# Runs an official client library of each directory against its stand-in,
# so the stand-ins are known to speak the real API:
# - Google: google-api-python-client (built from the admin directory_v1
#   discovery document it ships) with google-auth's service-account
#   credentials, in a virtualenv under target/ (a few MB from PyPI);
# - Microsoft Graph: @microsoft/microsoft-graph-client, and the stand-in's
#   user and group JSON checked by `tsc` against
#   @microsoft/microsoft-graph-types, from npm into target/;
# - Okta: okta-sdk-python (the `okta` package), in the same virtualenv.
# Versions are pinned so that a new release cannot change what CI checks.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/official-clients-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# `python -m pip`, not bin/pip: a venv copied from elsewhere keeps its
# scripts' old interpreter path.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "google-api-python-client>=2.100,<3" "google-auth>=2.20,<3" "okta==2.9.13"

npm_dir=target/official-clients-npm
mkdir -p "$npm_dir/capture"
[ -f "$npm_dir/package.json" ] || echo '{"private": true}' >"$npm_dir/package.json"
(cd "$npm_dir" && npm install --no-audit --no-fund --silent \
    @microsoft/microsoft-graph-client@3.0.7 @microsoft/microsoft-graph-types@2.40.0 typescript@5.6.3)

cargo build --quiet -p host-test --bin host-test

# run_against API REQUESTS CLIENT-COMMAND...: start API's stand-in (25
# users in 2 groups; with THROTTLE_NTH=N its Nth API request is throttled
# the API's way), run the client with the stand-in's URL as its last
# argument, stop the stand-in, and check it answered REQUESTS requests
# (token requests included): a retry that did not happen, or one too many,
# fails.
run_against() {
    local api=$1 expected=$2
    shift 2
    local log
    log=$(mktemp)
    coproc STANDIN {
        exec target/debug/host-test directory-standin "$api" --users 25 --groups 2 \
            ${THROTTLE_NTH:+--throttle-nth "$THROTTLE_NTH"} 2>"$log"
    }
    local url
    read -r url <&"${STANDIN[0]}"
    local status=0
    "$@" "$url" || status=$?
    eval "exec ${STANDIN[1]}>&-"
    wait "$STANDIN_PID"
    local answered
    answered=$(sed -n 's/^directory stand-in: \([0-9]*\) requests answered$/\1/p' "$log")
    rm -f "$log"
    if [ "$status" -eq 0 ] && [ "$answered" != "$expected" ]; then
        echo "official clients: the $api stand-in answered ${answered:-no} requests, not $expected" >&2
        status=1
    fi
    return "$status"
}

google() { "$venv/bin/python" examples/directories/google_client.py "$1" src/sources/testdata/TEST-ONLY-service-account-key.pem; }
okta() { "$venv/bin/python" examples/directories/okta_client.py "$1"; }
graph() { NODE_PATH="$npm_dir/node_modules" node examples/directories/graph_client.cjs "$1" "$npm_dir/capture"; }

run_against google 8 google
run_against entra 11 graph
run_against okta 10 okta
# Throttled on the second API request: the SDK's own retry waits it out
# (Graph's RetryHandler from Retry-After; okta-sdk-python from
# X-Rate-Limit-Reset against the answer's Date) and reads the same.
THROTTLE_NTH=2 run_against entra 12 graph
THROTTLE_NTH=2 run_against okta 11 okta
# The captured users and group, as object literals typed User[] and Group[]:
# a field Graph's published types do not have fails the check.
(cd "$npm_dir" && node_modules/.bin/tsc --noEmit --strict --moduleResolution node capture/graph-responses.ts)
echo "microsoft-graph-types: the stand-in's users and groups type-check"
