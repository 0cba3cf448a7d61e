#!/usr/bin/env bash
# The release pulled by Obelisk from an OCI registry, as a platform team
# deploys it: `location = "oci://…"` instead of a file next to the TOML.
#
#   bash examples/obelisk/oci.sh
#
# Builds the release (scripts/release.sh), starts the local registry with
# HTTPS from a CA of the run's own (scripts/oci-registry.sh), pushes the
# component with `wash oci push`, then runs examples/obelisk/run.sh's guide
# run with the deployment's activity at
# oci://127.0.0.1:<port>/gitbook/directory-sync:<version>@sha256:<manifest>
# (pinned by digest) and SSL_CERT_FILE pointing at the CA: Obelisk pulls over
# HTTPS only. The workflow must return its result and the stand-in must see
# the guide's requests, as in run.sh.
#
# Needs obelisk 0.41 on PATH: building it takes 80 minutes and more on 2
# cores, so this script is skipped with a notice when it is absent (CI does
# not build it; examples/obelisk/run.sh installs it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

OBELISK=${OBELISK:-$(command -v obelisk || true)}
if [[ -z $OBELISK ]] || [[ $("$OBELISK" --version 2>/dev/null) != *0.41.* ]]; then
    echo "SKIPPED examples/obelisk/oci.sh: obelisk 0.41 is not on PATH (examples/obelisk/run.sh installs it;"
    echo "  about 80 minutes on 2 cores). docs/release.md shows the deployment and the commands."
    exit 0
fi
fail() {
    echo "FAILED: $*" >&2
    exit 1
}

# shellcheck source=../../scripts/release-tools.sh
source scripts/release-tools.sh
[[ -s dist/SHA256SUMS ]] || bash scripts/release.sh --allow-dirty
VERSION=$(awk '{print $2}' dist/SHA256SUMS | sed -n 's/^gitbook-directory-sync-\([0-9][^ ]*\)\.wasm$/\1/p')
COMPONENT=dist/gitbook-directory-sync-$VERSION.wasm
[[ -f $COMPONENT ]] || fail "dist/ does not hold a release: run scripts/release.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gds-obelisk-oci.XXXXXX")
# shellcheck source=../../scripts/oci-registry.sh
source scripts/oci-registry.sh
trap 'registry_stop; rm -rf "$WORK"' EXIT
registry_start "$WORK/registry" || fail "could not start the registry"

REF=$REGISTRY/gitbook/directory-sync:$VERSION
XDG_CONFIG_HOME=$WORK/xdg XDG_CACHE_HOME=$WORK/xdg XDG_DATA_HOME=$WORK/xdg \
    wash --non-interactive oci push --ca-path "$CA" "$REF" "$COMPONENT"
DIGEST=$(curl -sfI --cacert "$CA" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "https://$REGISTRY/v2/gitbook/directory-sync/manifests/$VERSION" |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p')
[[ $DIGEST == sha256:* ]] || fail "the registry gave no digest for $REF"
echo "pushed $REF ($DIGEST)"

OBELISK=$OBELISK OBELISK_ACTIVITY_LOCATION="oci://$REF@$DIGEST" OBELISK_RUNS=guide SSL_CERT_FILE=$CA \
    bash examples/obelisk/run.sh
echo "Obelisk ran the release pulled from oci://$REF@$DIGEST"
