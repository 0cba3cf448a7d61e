#!/usr/bin/env bash
# Calls the component from Node.js and from Python, and drives its SCIM
# endpoint (under `wasmtime serve`) with a SCIM client library, against the
# local GitBook stand-in: builds the component and the stand-in, then runs
# each example's tests. Run from anywhere; CI runs it after `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if command -v rustup >/dev/null; then
    rustup target add wasm32-wasip2
fi
cargo build --locked --release --target wasm32-wasip2   # → target/wasm32-wasip2/release/gitbook_directory_sync.wasm
cargo build --locked -p host-test                       # → target/debug/host-test (the stand-in)

echo "== Node.js (jco + preview2-shim) =="
(
    cd examples/node
    npm ci --no-audit --no-fund
    npm run transpile
    npm test
)

echo "== Python (wasmtime-py) =="
bash examples/python/run-tests.sh

echo "== SCIM (scim2-client against wasmtime serve) =="
bash examples/scim/run-tests.sh
