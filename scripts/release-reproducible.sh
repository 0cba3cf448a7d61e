#!/usr/bin/env bash
# The release is reproducible: built from two clean clones of the same
# commit in two different directories, it is byte for byte the same.
#
#   bash scripts/release-reproducible.sh
#
# Clone A is this checkout when it has no uncommitted changes (CI's clean
# clone; its dist/ from scripts/release.sh is reused when it matches HEAD),
# otherwise a clone of HEAD; clone B is always a fresh clone of HEAD under
# another, longer path, with another cargo home. Both builds share only
# cargo's download cache (linked in; in CI warm from the main build) and the
# release tools; each has its own target directory, so nothing compiled is
# shared. Compares the component,
# the WIT package and SHA256SUMS. Keeps the clones when they differ.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
fail() {
    echo "FAILED: $*" >&2
    exit 1
}
# The release tools are installed once, shared by both builds.
# shellcheck source=release-tools.sh
source "$ROOT/scripts/release-tools.sh"
export RELEASE_TOOLS_DIR=${RELEASE_TOOLS_DIR:-$ROOT/target/release-tools}

HEAD=$(git rev-parse HEAD)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gds-reproducible.XXXXXX")
keep=0
trap '((keep)) || rm -rf "$WORK"' EXIT

clone() { # DIR: a clean clone of HEAD (a worktree's HEAD, not the origin's)
    git clone --quiet --no-checkout --no-hardlinks "$ROOT" "$1"
    git -C "$1" checkout --quiet --detach "$HEAD"
}

started=$SECONDS
if [[ -z $(git status --porcelain --untracked-files=no) ]]; then
    A=$ROOT
    if ! grep -q "revision $HEAD" dist/.built-from 2>/dev/null; then
        bash scripts/release.sh
    fi
    echo "build A: this checkout ($ROOT)"
else
    echo "this checkout has uncommitted changes: build A in a clone of $HEAD"
    A=$WORK/a/gitbook-directory-sync
    clone "$A"
    (cd "$A" && bash scripts/release.sh)
fi
B=$WORK/b/a/longer/path/than/the/other/gitbook-directory-sync-second-clone
clone "$B"
echo "build B: a clone in $B"
b_started=$SECONDS
# Build B also has another cargo home (the same downloads, linked in), so a
# path of cargo's that escaped the remapping would show as a difference.
home=${CARGO_HOME:-$HOME/.cargo}
mkdir -p "$WORK/cargo-home-b"
for shared in registry git; do
    [[ -e $home/$shared ]] && ln -s "$(cd "$home/$shared" && pwd -P)" "$WORK/cargo-home-b/$shared"
done
(cd "$B" && CARGO_HOME=$WORK/cargo-home-b bash scripts/release.sh)
echo "build B took $((SECONDS - b_started)) s"

for file in $(awk '{print $2}' "$A/dist/SHA256SUMS") SHA256SUMS; do
    if ! cmp "$A/dist/$file" "$B/dist/$file"; then
        keep=1
        ls -l "$A/dist/$file" "$B/dist/$file" >&2
        fail "$file differs between the two builds (kept in $WORK)"
    fi
done
echo "reproducible: the two builds are byte-identical ($((SECONDS - started)) s):"
sed 's/^/  /' "$A/dist/SHA256SUMS"
