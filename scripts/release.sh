#!/usr/bin/env bash
# Builds the release of the version in Cargo.toml, the same way locally and
# in CI:
#
#   bash scripts/release.sh [--out DIR] [--allow-dirty]
#
# Writes to DIR (default dist/):
#   gitbook-directory-sync-<version>.wasm      the component, with its
#       metadata embedded as `wasm-tools metadata add` writes it (name,
#       version, description, licence, source repository, git revision);
#   gitbook-directory-sync-wit-<version>.wasm  the WIT package
#       gitbook:directory-sync@<version>, binary-encoded
#       (`wasm-tools component wit wit/ --wasm`, with the same metadata), for
#       hosts and workflows that compile against the interface;
#   SHA256SUMS                                 both files' SHA-256
#       (`sha256sum -c SHA256SUMS` checks them).
#
# Reproducible: the build runs with fixed flags (no RUSTFLAGS of the caller),
# the checkout's and cargo's paths remapped to fixed ones, in a target
# directory of its own, from Cargo.lock; nothing in it depends on the time or
# the machine beyond the Rust toolchain (printed, and named in the docs). Two
# clean clones of one commit in different directories give byte-identical
# files (scripts/release-reproducible.sh checks it).
#
# Refuses a checkout with uncommitted changes (the revision embedded would
# not describe the file) unless --allow-dirty, which marks the revision
# `<commit>-dirty`. Refuses to build when the crate and the WIT package
# disagree on the version.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

OUT=$ROOT/dist
ALLOW_DIRTY=0
while (($#)); do
    case $1 in
    --out)
        [[ $# -ge 2 ]] || { echo "error: --out needs a directory" >&2; exit 2; }
        OUT=$2
        shift 2
        ;;
    --allow-dirty) ALLOW_DIRTY=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (usage: scripts/release.sh [--out DIR] [--allow-dirty])" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

fail() {
    echo "error: $*" >&2
    exit 1
}

export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=release-tools.sh
source "$ROOT/scripts/release-tools.sh"

# --- What is released ------------------------------------------------------
# Name, version, description, licence and repository come from Cargo.toml,
# the one place they are written.
manifest=$(cargo metadata --no-deps --format-version 1 --locked --manifest-path "$ROOT/Cargo.toml")
field() {
    python3 -c '
import json, sys
meta = json.load(sys.stdin)
package = next(p for p in meta["packages"] if p["name"] == "gitbook-directory-sync")
value = package.get(sys.argv[1])
if not value:
    sys.exit("Cargo.toml sets no package." + sys.argv[1] + " for gitbook-directory-sync")
print(value)' "$1" <<<"$manifest"
}
NAME=$(field name)
VERSION=$(field version)
DESCRIPTION=$(field description)
LICENSE=$(field license)
REPOSITORY=$(field repository)

# The WIT package's version, as wasm-tools reads it (not a grep of the text).
wit_package=$(wasm-tools component wit wit/ | sed -n 's/^package \(.*\);$/\1/p' | head -n1)
[[ $wit_package == "gitbook:directory-sync@$VERSION" ]] ||
    fail "Cargo.toml says version $VERSION but wit/ is the package '$wit_package': one version for both (docs/release.md, \"Versions\")"

REVISION=$(git rev-parse HEAD 2>/dev/null) || fail "not a git checkout: the release embeds the commit it was built from"
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
    ((ALLOW_DIRTY)) || fail "the checkout has uncommitted changes (git status): commit them, or pass --allow-dirty for a build marked $REVISION-dirty"
    REVISION=$REVISION-dirty
fi

echo "release $NAME $VERSION (revision $REVISION)"
echo "toolchain: $(rustc --version) / $(cargo --version); $(wasm-tools --version)"

# --- The build ---------------------------------------------------------------
# Paths that end up in the binary (panic locations of our code and of the
# dependencies) are remapped: the checkout to /build/<name>, cargo's home
# (the registry sources) to /cargo, the toolchain to /rust. The caller's
# RUSTFLAGS are dropped: the release is built with these flags only.
CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
SYSROOT=$(rustc --print sysroot)
TARGET_DIR=$ROOT/target/release-build
# Each path both as given and with symbolic links resolved: which form
# reaches rustc depends on how the directory was named.
remap() { # FROM TO
    local logical physical
    logical=$(cd "$1" && pwd -L)
    physical=$(cd "$1" && pwd -P)
    flags+=("--remap-path-prefix=$logical=$2")
    [[ $physical == "$logical" ]] || flags+=("--remap-path-prefix=$physical=$2")
}
flags=()
remap "$SYSROOT" /rust
remap "$CARGO_HOME_DIR" /cargo
remap "$ROOT" "/build/$NAME"
encoded=$(printf '%s\x1f' "${flags[@]}")
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_TARGET
env CARGO_ENCODED_RUSTFLAGS="${encoded%$'\x1f'}" CARGO_TARGET_DIR="$TARGET_DIR" CARGO_INCREMENTAL=0 \
    SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" \
    cargo build --release --locked --target wasm32-wasip2 -p "$NAME" --lib
built=$TARGET_DIR/wasm32-wasip2/release/${NAME//-/_}.wasm

# --- The artifacts -----------------------------------------------------------
COMPONENT=$NAME-$VERSION.wasm
WIT=$NAME-wit-$VERSION.wasm
rm -f "$OUT/$NAME"-*.wasm "$OUT/SHA256SUMS" "$OUT/.built-from"
wasm-tools metadata add "$built" -o "$OUT/$COMPONENT" \
    --name "$NAME" --version "$VERSION" --description "$DESCRIPTION" \
    --licenses "$LICENSE" --source "$REPOSITORY" --revision "$REVISION"
wasm-tools validate "$OUT/$COMPONENT"
# The WIT package carries the same metadata (hosts decoding it ignore custom
# sections), so its OCI annotations say what it is too.
wasm-tools component wit wit/ --wasm -o "$TARGET_DIR/wit-package.wasm"
wasm-tools metadata add "$TARGET_DIR/wit-package.wasm" -o "$OUT/$WIT" \
    --name "$wit_package" --version "$VERSION" \
    --description "WIT package $wit_package: the interface of $NAME, for hosts and workflows that compile against it" \
    --licenses "$LICENSE" --source "$REPOSITORY" --revision "$REVISION"
wasm-tools validate "$OUT/$WIT"
[[ $(wasm-tools component wit "$OUT/$WIT" | sed -n 's/^package \(.*\);$/\1/p') == "$wit_package" ]] ||
    fail "$WIT does not decode as the WIT package $wit_package"
(cd "$OUT" && sha256sum "$COMPONENT" "$WIT" >SHA256SUMS)
# What dist/ was built from, for scripts that reuse it.
echo "revision $REVISION" >"$OUT/.built-from"

echo "wrote ${OUT#"$ROOT"/}:"
(cd "$OUT" && while read -r sum file; do
    printf '  %-45s %9s bytes  sha256:%s\n' "$file" "$(stat -c %s "$file")" "$sum"
done <SHA256SUMS)
