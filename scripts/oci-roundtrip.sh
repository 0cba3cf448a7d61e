#!/usr/bin/env bash
# The release through a real OCI registry and back, as a platform team gets
# it:
#
#   bash scripts/oci-roundtrip.sh
#
# 1. starts Debian's `docker-registry` (the CNCF distribution registry) on
#    127.0.0.1 with HTTPS from a CA made for the run (installed with apt when
#    missing, as root);
# 2. pushes dist/ (scripts/release.sh; built when missing) with `wash oci
#    push`: the component as gitbook/directory-sync:<version>, the WIT package
#    as gitbook/directory-sync-wit:<version>;
# 3. checks the manifest is the standard Wasm OCI artifact: config
#    application/vnd.wasm.config.v0+json (created, architecture wasm, os
#    wasip2, layerDigests), one application/wasm layer whose digest is the
#    file's SHA-256, org.opencontainers.image.* annotations matching the
#    embedded metadata; the registry's digest is the manifest's SHA-256;
# 4. pulls the component back with two clients: oras-py by manifest digest
#    (pinned) and `wash oci pull` by tag; both byte-identical to dist/, and
#    `sha256sum -c SHA256SUMS` passes on the pulled file;
# 5. runs the pulled file under the wasmtime CLI: `members list` against the
#    in-repo GitBook stand-in, which must have answered its request.
#
# Needs: python3 (the release tools), openssl, curl, wasmtime 48.x and cargo
# (the stand-in). Prints the time each step took (docs/release.md records it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

fail() {
    echo "FAILED: $*" >&2
    exit 1
}
step_started=$SECONDS
step() {
    printf '\n== %s (previous step: %d s)\n' "$*" $((SECONDS - step_started))
    step_started=$SECONDS
}

for tool in openssl curl python3 wasmtime cargo; do
    command -v "$tool" >/dev/null || fail "$tool is needed on PATH"
done

# --- The registry server -------------------------------------------------
# shellcheck source=release-tools.sh
source "$ROOT/scripts/release-tools.sh"
[[ -s dist/SHA256SUMS ]] || bash scripts/release.sh --allow-dirty
VERSION=$(awk '{print $2}' dist/SHA256SUMS | sed -n 's/^gitbook-directory-sync-\([0-9][^ ]*\)\.wasm$/\1/p')
COMPONENT=dist/gitbook-directory-sync-$VERSION.wasm
WIT=dist/gitbook-directory-sync-wit-$VERSION.wasm
[[ -n $VERSION && -f $COMPONENT && -f $WIT ]] || fail "dist/ does not hold a release: run scripts/release.sh"
(cd dist && sha256sum --quiet -c SHA256SUMS) || fail "dist/ does not match its SHA256SUMS: run scripts/release.sh again"
CARGO_VERSION=$(cargo metadata --no-deps --format-version 1 --locked |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "gitbook-directory-sync"))')
[[ $VERSION == "$CARGO_VERSION" ]] || fail "dist/ holds $VERSION but Cargo.toml says $CARGO_VERSION: run scripts/release.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gds-oci.XXXXXX")
STANDIN_PID=''
# shellcheck source=oci-registry.sh
source "$ROOT/scripts/oci-registry.sh"
cleanup() {
    if [[ -n $STANDIN_PID ]]; then
        kill "$STANDIN_PID" 2>/dev/null && wait "$STANDIN_PID" 2>/dev/null || true
    fi
    registry_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
step "the registry (docker-registry)"
registry_start "$WORK/registry" || fail "could not start the registry"

# wash keeps its configuration and caches in the run's directory.
wash_() { XDG_CONFIG_HOME=$WORK/xdg/config XDG_CACHE_HOME=$WORK/xdg/cache XDG_DATA_HOME=$WORK/xdg/data \
    wash --non-interactive "$@"; }

# --- Push --------------------------------------------------------------------
step "push with wash oci push"
REF=$REGISTRY/gitbook/directory-sync:$VERSION
WIT_REF=$REGISTRY/gitbook/directory-sync-wit:$VERSION
wash_ oci push --ca-path "$CA" "$REF" "$COMPONENT"
wash_ oci push --ca-path "$CA" "$WIT_REF" "$WIT"

# --- The manifest ------------------------------------------------------------
step "the manifest: a standard Wasm OCI artifact"
check_manifest() { # REPOSITORY FILE
    local repo=$1 file=$2 dir=$WORK/manifest-${1//\//_}
    mkdir -p "$dir"
    curl -sf --cacert "$CA" -H 'Accept: application/vnd.oci.image.manifest.v1+json' -D "$dir/headers" \
        -o "$dir/manifest.json" "https://$REGISTRY/v2/$repo/manifests/$VERSION" || fail "no manifest for $repo:$VERSION"
    local config
    config=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$dir/manifest.json")
    curl -sf --cacert "$CA" -o "$dir/config.json" "https://$REGISTRY/v2/$repo/blobs/$config" || fail "no config blob $config"
    wasm-tools metadata show --json "$file" >"$dir/metadata.json"
    python3 - "$dir" "$file" "$VERSION" <<'PY' || fail "$repo:$VERSION is not the expected Wasm OCI artifact"
import hashlib, json, sys
d, path, version = sys.argv[1:]
raw = open(f"{d}/manifest.json", "rb").read()
manifest = json.loads(raw)
config_raw = open(f"{d}/config.json", "rb").read()
config = json.loads(config_raw)
headers = {k.strip().lower(): v.strip() for k, _, v in
           (line.partition(":") for line in open(f"{d}/headers") if ":" in line)}
wasm = open(path, "rb").read()
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
problems = []
def expect(what, got, want):
    if got != want:
        problems.append(f"{what}: {got!r}, expected {want!r}")
expect("manifest media type", manifest.get("mediaType"), "application/vnd.oci.image.manifest.v1+json")
expect("registry's digest (Docker-Content-Digest)", headers.get("docker-content-digest"), sha(raw))
expect("config media type", manifest["config"]["mediaType"], "application/vnd.wasm.config.v0+json")
expect("config digest", manifest["config"]["digest"], sha(config_raw))
layers = manifest["layers"]
expect("layer media types", [l["mediaType"] for l in layers], ["application/wasm"])
expect("layer digest", layers[0]["digest"], sha(wasm))
expect("layer size", layers[0]["size"], len(wasm))
expect("config architecture", config.get("architecture"), "wasm")
expect("config os", config.get("os"), "wasip2")
expect("config layerDigests", config.get("layerDigests"), [sha(wasm)])
if not config.get("created"):
    problems.append("config has no `created`")
# The annotations say what the embedded metadata says (the outer
# component's, as `wasm-tools metadata show --json` gives it).
meta = json.load(open(f"{d}/metadata.json"))
meta = meta.get("component", {}).get("metadata", {})
find = meta.get
annotations = manifest.get("annotations", {})
for annotation, key in [("title", "name"), ("version", "version"), ("revision", "revision"),
                        ("source", "source"), ("licenses", "licenses"), ("description", "description")]:
    want = find(key)
    if not want:
        problems.append(f"the file embeds no {key}")
    expect(f"annotation org.opencontainers.image.{annotation}", annotations.get(f"org.opencontainers.image.{annotation}"), want)
expect("embedded version", find("version"), version)
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"  {manifest['config']['mediaType']}, one {layers[0]['mediaType']} layer of {len(wasm):,} bytes, "
      f"annotations {', '.join(sorted(k.rsplit('.', 1)[1] for k in annotations))}")
print(f"  manifest {sha(raw)}")
PY
    sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *\(sha256:[0-9a-f]*\).*/\1/p' "$dir/headers" | tr -d '\r' >"$dir/digest"
}
check_manifest gitbook/directory-sync "$COMPONENT"
check_manifest gitbook/directory-sync-wit "$WIT"
DIGEST=$(cat "$WORK/manifest-gitbook_directory-sync/digest")
wasm-tools component wit "$WIT" | grep -qx "package gitbook:directory-sync@$VERSION;" ||
    fail "the WIT artifact is not the package gitbook:directory-sync@$VERSION"

# --- Pull back -----------------------------------------------------------------
step "pull by digest with oras-py, by tag with wash oci pull"
mkdir -p "$WORK/pulled"
REQUESTS_CA_BUNDLE=$CA "$RELEASE_TOOLS_PYTHON" - "$REGISTRY/gitbook/directory-sync@$DIGEST" "$WORK/pulled/oras" <<'PY'
import sys, oras.client
ref, out = sys.argv[1:]
client = oras.client.OrasClient(hostname=ref.split("/")[0], tls_verify=True)
files = client.pull(target=ref, outdir=out)
if len(files) != 1:
    sys.exit(f"expected one layer, oras pulled {files}")
print(f"  oras-py pulled {ref}")
PY
mv "$WORK"/pulled/oras/* "$WORK/pulled/by-digest.wasm"
wash_ oci pull --ca-path "$CA" "$REF" "$WORK/pulled/by-tag.wasm"
for pulled in "$WORK/pulled/by-digest.wasm" "$WORK/pulled/by-tag.wasm"; do
    cmp "$COMPONENT" "$pulled" || fail "$(basename "$pulled") differs from $COMPONENT"
done
mkdir -p "$WORK/verify"
cp "$WORK/pulled/by-digest.wasm" "$WORK/verify/${COMPONENT#dist/}"
cp dist/SHA256SUMS "$WORK/verify/"
(cd "$WORK/verify" && sha256sum -c --ignore-missing SHA256SUMS) || fail "the pulled file fails SHA256SUMS"
echo "  both pulls byte-identical to $COMPONENT"

# --- Run what was pulled ---------------------------------------------------------
step "run the pulled component under wasmtime"
cargo build --quiet --locked -p host-test --bin host-test
mkfifo "$WORK/standin.in"
target/debug/host-test standin --until-stdin-closes <"$WORK/standin.in" >"$WORK/standin.out" 2>"$WORK/standin.err" &
STANDIN_PID=$!
exec 3>"$WORK/standin.in"
for _ in $(seq 100); do
    [[ -s $WORK/standin.out ]] && break
    sleep 0.1
done
URL=$(head -n1 "$WORK/standin.out")
[[ $URL == http://127.0.0.1:* ]] || fail "the stand-in did not start: $(cat "$WORK/standin.err")"
GITBOOK_TOKEN=gb_test_token GITBOOK_ORG=acme GITBOOK_API_URL=$URL GITBOOK_ALLOW_INSECURE_HTTP=1 \
    wasmtime run -S http --env GITBOOK_TOKEN --env GITBOOK_ORG --env GITBOOK_API_URL --env GITBOOK_ALLOW_INSECURE_HTTP \
    "$WORK/pulled/by-digest.wasm" members list --json >"$WORK/members.jsonl" 2>"$WORK/members.err" ||
    fail "the pulled component failed: $(cat "$WORK/members.err")"
exec 3>&-
wait "$STANDIN_PID" || fail "the stand-in failed: $(cat "$WORK/standin.err")"
STANDIN_PID=''
python3 - "$WORK/members.jsonl" "$WORK/standin.out" <<'PY' || fail "the pulled component did not list the stand-in's members"
import json, sys
members = json.load(open(sys.argv[1]))  # `members list --json`: one array, a member a line
emails = sorted(m["user"]["email"] for m in members)
want = sorted(["alice@acme.test", "bob@acme.test", "carol@acme.test", "dave@acme.test",
               "erin@acme.test", "frank@acme.test", "gina@partner.test"])
if emails != want:
    sys.exit(f"listed {emails}, expected {want}")
requests = [json.loads(line) for line in open(sys.argv[2]).readlines()[1:] if line.strip()]
gets = [r for r in requests if r["method"] == "GET" and r["path"].startswith("/v1/orgs/acme/members")]
if len(gets) != 1 or len(requests) != 1:
    sys.exit(f"the stand-in saw {[(r['method'], r['path']) for r in requests]}, expected one GET of the members")
print(f"  listed {len(members)} members in one GET {gets[0]['path']}")
PY
step "done"
echo "OCI round trip passed: $REF ($DIGEST)"
