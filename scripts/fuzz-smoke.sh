#!/usr/bin/env bash
# Fuzz smoke test for CI: builds every cargo-fuzz target in fuzz/ once, then
# runs each one for a short time (FUZZ_SECONDS, default 20) from the committed
# seed corpus, one after the other. Fails on any crash, panic, property
# violation, timeout or out-of-memory; the failing input is kept in
# fuzz/artifacts/<target>/ and the log in fuzz/target/smoke-logs/<target>.log.
#
# Needs a nightly toolchain (cargo-fuzz uses sanitizer flags). Without one it
# prints "skipped: no nightly toolchain" and exits 0; without cargo-fuzz it
# installs it (`cargo install cargo-fuzz --locked`, a few minutes, once).
#
# Usage: scripts/fuzz-smoke.sh [target...]      (default: every target)
# A fixed seed keeps CI reproducible: a run explores the same inputs in the
# same order, so CI on a slower machine sees a prefix of what passed here.
# Env:   FUZZ_SECONDS=20   time per target
#        FUZZ_SEED=1       libFuzzer's -seed; 0 picks a fresh random seed (for
#                          long local campaigns: FUZZ_SECONDS=600 FUZZ_SEED=0)
#        FUZZ_SKIP_KNOWN=1 skip the checks for findings already reported
#                          (see fuzz/findings/README.md)
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-20}"
seed="${FUZZ_SEED:-1}"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz-smoke: skipped: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "fuzz-smoke: building ${#targets[@]} targets"
cargo +nightly fuzz build

logs=fuzz/target/smoke-logs
mkdir -p "$logs"
failed=()
for target in "${targets[@]}"; do
    # New inputs go to a scratch corpus; the committed seeds stay as they are.
    scratch="fuzz/target/smoke-corpus/$target"
    mkdir -p "$scratch"
    log="$logs/$target.log"
    dict=()
    if [ -f "fuzz/dict/$target.dict" ]; then
        dict=(-dict="fuzz/dict/$target.dict")
    fi
    if cargo +nightly fuzz run "$target" "$scratch" "fuzz/corpus/$target" -- "${dict[@]}" \
        -seed="$seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
        cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]*' | tail -1 || true)
        echo "fuzz-smoke: ok   $target: $runs runs in ${seconds}s, $cov"
    else
        echo "fuzz-smoke: FAIL $target (log: $log)"
        grep -E -A12 "panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer" "$log" | head -40 || tail -40 "$log"
        grep -E "Test unit written to|Reproduce with|cargo fuzz run" "$log" | head -4 || true
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz-smoke: ${#failed[@]} target(s) failed: ${failed[*]}"
    exit 1
fi
echo "fuzz-smoke: all ${#targets[@]} targets ran ${seconds}s each without a finding"
