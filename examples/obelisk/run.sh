#!/usr/bin/env bash
# The gitbook-directory-sync component as Obelisk activities, driven by a
# workflow that runs the directory-sync guide (someone joins, joins a team,
# leaves) against the local GitBook stand-in; checked at both ends.
#
#   bash examples/obelisk/run.sh
#
# Four runs, each with a fresh stand-in and Obelisk server:
#   guide      no faults: the workflow returns the user ID and `deleted`, and
#              the stand-in saw the three requests once each;
#   absorbed   the first two invites answer 503: the component retries within
#              its policy, the workflow succeeds, one member was invited;
#   outage     the first 7 team updates answer 503: the component gives up
#              after its 5 attempts, Obelisk does not run the activity again
#              (max_retries = 0), the workflow sleeps durably and calls the
#              step again, which succeeds on its third attempt;
#   outlasting every team update answers 503: three calls of 5 attempts, then
#              the workflow ends with `join-team(server-error)` and the
#              removal is never sent.
# Installs Obelisk 0.41.4 when `obelisk` is missing or another version
# (cargo +1.96.0 install obelisk@0.41.4 --locked: needs protoc and the 1.96.0
# toolchain, about 25 minutes on 2 cores). Needs cargo, curl and jq. Uses
# 127.0.0.1:5005 for Obelisk's API; keeps its state in target/obelisk-example.
#
# OBELISK_ACTIVITY_LOCATION=oci://<registry>/<repository>:<tag>[@sha256:…]
# makes the deployment pull the activity from that OCI reference instead of
# the .wasm built here (examples/obelisk/oci.sh sets it, with SSL_CERT_FILE
# for the registry's CA); OBELISK_RUNS=guide runs only the first run.
set -euo pipefail

OBELISK_VERSION=0.41.4
OBELISK_TOOLCHAIN=1.96.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/examples/obelisk
WORK=$ROOT/target/obelisk-example
API=http://127.0.0.1:5005
GUIDE=gitbook:directory-sync-guide/guide@0.1.0.join-team-leave
ORG=acme
TOKEN=gb_test_token # the stand-in's test token: not a real one
EMAIL=dana@acme.test

say() { printf '\n== %s\n' "$*"; }
fail() {
    printf 'FAILED: %s\n' "$*" >&2
    exit 1
}

for tool in cargo curl jq; do
    command -v "$tool" >/dev/null || fail "$tool is needed on PATH"
done

# --- Obelisk -----------------------------------------------------------------
OBELISK=${OBELISK:-$(command -v obelisk || echo "$HOME/.cargo/bin/obelisk")}
if [[ ! -x $OBELISK ]] || [[ $("$OBELISK" --version 2>/dev/null) != *"$OBELISK_VERSION"* ]]; then
    say "installing Obelisk $OBELISK_VERSION (cargo +$OBELISK_TOOLCHAIN install --locked)"
    command -v protoc >/dev/null || fail "protoc is needed to build Obelisk (Debian: apt-get install protobuf-compiler)"
    rustup toolchain list | grep -q "^$OBELISK_TOOLCHAIN" ||
        rustup toolchain install "$OBELISK_TOOLCHAIN" --profile minimal
    started=$(date +%s)
    cargo "+$OBELISK_TOOLCHAIN" install "obelisk@$OBELISK_VERSION" --locked
    echo "installed Obelisk in $(($(date +%s) - started)) s"
    OBELISK=$HOME/.cargo/bin/obelisk
fi
echo "obelisk: $("$OBELISK" --version)"

# --- Build -------------------------------------------------------------------
say "building the component, the workflow and the stand-in"
cd "$ROOT"
cargo build --release --target wasm32-wasip2 -p gitbook-directory-sync
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo build --release --target wasm32-unknown-unknown -p obelisk-guide-workflow
cargo build -p host-test --bin host-test
HOST_TEST=$ROOT/target/debug/host-test

# The deployment folder Obelisk reads: the TOML and the two .wasm beside it.
rm -rf "$WORK"/run-* "$WORK/deployment"
mkdir -p "$WORK/deployment" "$WORK/cache"
cp "$HERE/deployment.toml" "$HERE/server.toml" "$WORK/deployment/"
if [[ -n ${OBELISK_ACTIVITY_LOCATION:-} ]]; then
    [[ $OBELISK_ACTIVITY_LOCATION == oci://* ]] || fail "OBELISK_ACTIVITY_LOCATION must be an oci:// reference"
    sed -i "s|^location = \"gitbook_directory_sync.wasm\"$|location = \"$OBELISK_ACTIVITY_LOCATION\"|" \
        "$WORK/deployment/deployment.toml"
    grep -qF "location = \"$OBELISK_ACTIVITY_LOCATION\"" "$WORK/deployment/deployment.toml" ||
        fail "could not point the deployment's activity at $OBELISK_ACTIVITY_LOCATION"
    echo "the activity comes from $OBELISK_ACTIVITY_LOCATION"
else
    cp target/wasm32-wasip2/release/gitbook_directory_sync.wasm "$WORK/deployment/"
fi
cp target/wasm32-unknown-unknown/release/obelisk_guide_workflow.wasm "$WORK/deployment/"
ls -l "$WORK/deployment"/*.wasm

if (exec 3<>"/dev/tcp/127.0.0.1/5005") 2>/dev/null; then
    fail "something already listens on ${API#http://}: stop it first (Obelisk's API uses that address)"
fi

STANDIN_PID='' SERVER_PID=''
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    [[ -n $STANDIN_PID ]] && kill "$STANDIN_PID" 2>/dev/null && wait "$STANDIN_PID" 2>/dev/null
    true
}
trap cleanup EXIT

# --- One run -----------------------------------------------------------------
# run NAME [--fail METHOD:PATH:STATUS:TIMES]...: starts the stand-in (faults
# as given) and the server, runs the workflow, stops both. Leaves in
# $WORK/run-NAME: result.json (the execution's result), requests.jsonl (the
# stand-in's log), team (the team ID), server.log.
run() {
    local name=$1
    shift
    local dir=$WORK/run-$name
    mkdir -p "$dir"
    say "run '$name' ${*:-(no faults)}"

    # The stand-in serves until its stdin (a FIFO held open on fd 3) closes,
    # then prints its request log and exits.
    mkfifo "$dir/standin.in"
    "$HOST_TEST" standin --org "$ORG" --token "$TOKEN" --until-stdin-closes "$@" \
        <"$dir/standin.in" >"$dir/standin.out" 2>"$dir/standin.err" &
    STANDIN_PID=$!
    exec 3>"$dir/standin.in"
    for _ in $(seq 100); do
        [[ -s $dir/standin.out ]] && break
        sleep 0.1
    done
    local url
    url=$(head -n1 "$dir/standin.out")
    [[ $url == http://127.0.0.1:* ]] || fail "the stand-in did not start: $(cat "$dir/standin.err")"
    echo "GitBook stand-in: $url"

    # The team to join, found the way a user would: GET /teams.
    curl -sf -H "Authorization: Bearer $TOKEN" "$url/v1/orgs/$ORG/teams" |
        jq -er '.items[] | select(.title == "Engineering") | .id' >"$dir/team"
    local team
    team=$(cat "$dir/team")

    # The server reads the token into its secret store and drops it from its
    # environment; the component sees a placeholder.
    GITBOOK_API_URL=$url GITBOOK_ORG=$ORG GITBOOK_ALLOW_INSECURE_HTTP=1 GITBOOK_TOKEN=$TOKEN \
        XDG_DATA_HOME=$dir/data XDG_CACHE_HOME=$WORK/cache \
        "$OBELISK" server run --server-config "$WORK/deployment/server.toml" \
        --deployment "$WORK/deployment/deployment.toml" --allow-unauthenticated-api \
        >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    local started=$SECONDS
    until "$OBELISK" component list >"$dir/components.txt" 2>/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server stopped: $(tail -n 20 "$dir/server.log")"
        ((SECONDS - started < 300)) || fail "the server did not answer in 300 s: $(tail -n 20 "$dir/server.log")"
        sleep 0.5
    done
    echo "server up in $((SECONDS - started)) s"

    local id
    id=$("$OBELISK" generate execution-id)
    started=$SECONDS
    "$OBELISK" execution submit --execution-id "$id" "$GUIDE" "[\"$EMAIL\", \"$team\"]" >"$dir/submit.txt" ||
        fail "submitting the workflow failed: $(tail -n 20 "$dir/server.log")"
    "$OBELISK" execution result --follow --json "$id" >"$dir/result.json" ||
        fail "no result for $id: $(tail -n 20 "$dir/server.log")"
    echo "execution $id finished in $((SECONDS - started)) s"
    "$OBELISK" execution list --show-derived --json --limit 50 >"$dir/executions.json"

    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=''
    exec 3>&- # end of the stand-in's stdin: it prints its log and exits
    wait "$STANDIN_PID" || fail "the stand-in failed: $(cat "$dir/standin.err")"
    STANDIN_PID=''
    tail -n +2 "$dir/standin.out" >"$dir/requests.jsonl"
}

# --- Checks ------------------------------------------------------------------
# One line per request the stand-in received: method, path, body, whether it
# carried the real token (never the placeholder), the injected fault.
requests() {
    jq -r '"\(.method) \(.path)\(if .body then " \(.body | tojson)" else "" end) auth=\(.authorization)\(if .fault then " fault=\(.fault)" else "" end)"' \
        "$WORK/run-$1/requests.jsonl"
}

# repeat N LINE: LINE, N times, one a line.
repeat() { for _ in $(seq "$1"); do printf '%s\n' "$2"; done; }

expect_requests() {
    local name=$1 expected=$2
    if ! diff <(printf '%s\n' "$expected") <(requests "$name") >"$WORK/run-$name/requests.diff"; then
        cat "$WORK/run-$name/requests.diff" >&2
        fail "run '$name': the stand-in's requests differ from the expected ones (< expected, > received)"
    fi
    echo "stand-in requests, as expected:"
    requests "$name" | sed 's/^/  /'
}

# The workflow's return value from `obelisk execution result --json`, keys in
# snake case (Obelisk may print WIT names either way): `ok` or `err`.
outcome() {
    jq -ce '[.. | objects | select(has("ok") or has("err"))][0]
        | walk(if type == "object" then with_entries(.key |= gsub("-"; "_")) else . end)' \
        "$WORK/run-$1/result.json" || fail "run '$1': no result in $(cat "$WORK/run-$1/result.json")"
}

# expect_outcome NAME JQ-TEST: the outcome passes the test.
expect_outcome() {
    local got
    got=$(outcome "$1")
    jq -e "$2" <<<"$got" >/dev/null || fail "run '$1': the workflow returned $got, expected $2"
    echo "workflow result, as expected: $got"
}

# expect_activities NAME FUNCTION...: the activity executions Obelisk ran for
# the workflow, by function, in any order; each ran once (created, locked,
# finished: version 2), none was retried by the engine.
expect_activities() {
    local name=$1 list=$WORK/run-$1/executions.json
    shift
    local got expected
    got=$(jq -r '.[] | select(.component_type == "activity") | .ffqn | sub(".*[.]"; "")' "$list" | sort | paste -sd' ')
    expected=$(printf '%s\n' "$@" | sort | paste -sd' ')
    [[ $got == "$expected" ]] || fail "run '$name': activity executions $got, expected $expected"
    jq -e '[.[] | select(.component_type == "activity") | .pending_state.version == 2] | all' "$list" >/dev/null ||
        fail "run '$name': an activity execution ran more than once: $(jq -c . "$list")"
    echo "activity executions, each run once by Obelisk: $got"
}

OK_DELETED='.ok.invited == 1 and .ok.removal == "deleted" and (.ok.user_id | length > 0)'
run guide
expect_outcome guide "$OK_DELETED"
expect_activities guide invite update-team-members remove-member
TEAM=$(cat "$WORK/run-guide/team")
USER_ID=$(outcome guide | jq -r .ok.user_id)
INVITE='POST /v1/orgs/acme/invites {"emails":["dana@acme.test"],"role":"read","sso":true} auth=token'
JOIN="PUT /v1/orgs/acme/teams/$TEAM/members {\"add\":[\"$USER_ID\"],\"remove\":[]} auth=token"
LEAVE="DELETE /v1/orgs/acme/members/$USER_ID auth=token"
LOOKUP="GET /v1/orgs/acme/teams auth=token"
expect_requests guide "$LOOKUP
$INVITE
$JOIN
$LEAVE"
if [[ ${OBELISK_RUNS:-all} == guide ]]; then
    say "the guide run behaved as designed (OBELISK_RUNS=guide: the other three not run)"
    exit 0
fi

run absorbed --fail POST:/invites:503:2
expect_outcome absorbed "$OK_DELETED"
expect_activities absorbed invite update-team-members remove-member
FAULT=' fault=server error 503'
expect_requests absorbed "$LOOKUP
$INVITE$FAULT
$INVITE$FAULT
$INVITE
$JOIN
$LEAVE"

run outage --fail PUT:/members:503:7
expect_outcome outage "$OK_DELETED"
expect_activities outage invite update-team-members update-team-members remove-member
expect_requests outage "$LOOKUP
$INVITE
$(repeat 7 "$JOIN$FAULT")
$JOIN
$LEAVE"

run outlasting --fail PUT:/members:503:1000
expect_outcome outlasting '.err.join_team.server_error | .status == 503 and .attempts == 5'
expect_activities outlasting invite update-team-members update-team-members update-team-members
expect_requests outlasting "$LOOKUP
$INVITE
$(repeat 15 "$JOIN$FAULT")"

say "all four runs behaved as designed"
