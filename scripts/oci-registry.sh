# Sourced: a throwaway OCI registry on 127.0.0.1 with HTTPS, for the
# release's round trip (scripts/oci-roundtrip.sh) and the Obelisk example
# that pulls the release from it (examples/obelisk/oci.sh).
#
#   source scripts/oci-registry.sh
#   registry_start DIR   # sets REGISTRY (127.0.0.1:<port>), CA (its CA, PEM)
#   ...
#   registry_stop        # also on EXIT if the caller traps it
#
# The server is Debian's `docker-registry` (the CNCF distribution registry,
# which serves the OCI distribution API), installed with apt when missing
# (as root). Its certificate for 127.0.0.1 is signed by a CA made for the
# run, so clients verify TLS as they would against a real registry: curl with
# --cacert, wash with --ca-path, oras-py with REQUESTS_CA_BUNDLE, Obelisk
# with SSL_CERT_FILE.

REGISTRY_PID=''

registry_install() {
    command -v docker-registry >/dev/null && return 0
    if [[ $(id -u) != 0 ]]; then
        echo "error: docker-registry is not installed: apt-get install docker-registry (as root)" >&2
        return 1
    fi
    local started=$SECONDS
    echo "installing docker-registry with apt"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null || {
            echo "error: apt-get install docker-registry failed" >&2
            return 1
        }
    fi
    echo "installed docker-registry in $((SECONDS - started)) s"
}

registry_start() { # DIR
    local dir=$1 port
    registry_install || return 1
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=gitbook-directory-sync test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$dir/registry.key" -out "$dir/registry.csr" 2>/dev/null
    openssl x509 -req -in "$dir/registry.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') \
        -out "$dir/registry.pem" 2>/dev/null
    CA=$dir/ca.pem
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$dir/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $dir/registry.pem
    key: $dir/registry.key
YAML
    docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
    REGISTRY_PID=$!
    REGISTRY=127.0.0.1:$port
    local _
    for _ in $(seq 100); do
        curl -sf --cacert "$CA" "https://$REGISTRY/v2/" >/dev/null && break
        if ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
            echo "error: the registry stopped: $(cat "$dir/registry.log")" >&2
            return 1
        fi
        sleep 0.1
    done
    curl -sf --cacert "$CA" "https://$REGISTRY/v2/" >/dev/null || {
        echo "error: the registry did not answer: $(cat "$dir/registry.log")" >&2
        return 1
    }
    echo "registry: https://$REGISTRY ($(docker-registry --version | awk '{print $1, $3}'), TLS from the run's CA)"
}

registry_stop() {
    # It ends by the signal: its status (143) is not a failure of the caller.
    if [[ -n $REGISTRY_PID ]]; then
        kill "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" 2>/dev/null || true
    fi
    REGISTRY_PID=''
}
