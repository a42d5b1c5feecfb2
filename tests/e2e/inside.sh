#!/bin/sh
# Runs inside tests/harness/pcsc-ns.sh (started by run.sh, or by
# scripts/demo.sh for NAME=demo): llavero-idp and, for the sign-in test and
# the demo, llavero-vkey on loopback in this private namespace,
# then the node test NAME.mjs. Everything started here is stopped by PID.
set -eu
NAME=$1
E2E=$(cd "$(dirname "$0")" && pwd)
T=$LLAVERO_E2E_SCRATCH
# shellcheck disable=SC1090
. "$LLAVERO_E2E_FIXTURES"

IDP_PID="" VKEY_PID=""
cleanup() {
    for pid in $VKEY_PID $IDP_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

wait_for() {  # wait_for PID WHAT test-args...
    pid=$1 what=$2
    shift 2
    i=0
    until test "$@"; do
        i=$((i + 1))
        if [ $i -gt 150 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "FALLA: $what no arrancó" >&2
            exit 1
        fi
        sleep 0.1
    done
}

# The identity server with its development defaults (http://localhost:PORT,
# RP ID localhost, the demo portal), trusting the generated test CA.
if [ -x "${LLAVERO_IDP:-}" ]; then
    cat >"$T/idp.json" <<JSON
{ "trusted_cas": ["$FIX_CA_ISSUER_PEM"] }
JSON
    LLAVERO_LOG=info "$LLAVERO_IDP" --listen 127.0.0.1:0 --db "$T/idp.db" --config "$T/idp.json" \
        --port-file "$T/idp.port" 2>"$T/idp.log" &
    IDP_PID=$!
    wait_for "$IDP_PID" llavero-idp -s "$T/idp.port"
    LLAVERO_E2E_IDP_URL="http://localhost:$(cat "$T/idp.port")"
    export LLAVERO_E2E_IDP_URL
fi

# The security key for the sign-in test and scripts/demo.sh's browser part.
if [ "$NAME" = signin ] || [ "$NAME" = demo ]; then
    "$LLAVERO_VKEY" init --state "$T/vkey.state" >/dev/null
    "$LLAVERO_VKEY" run --state "$T/vkey.state" --socket "$T/vkey.sock" --up auto 2>"$T/vkey.log" &
    VKEY_PID=$!
    wait_for "$VKEY_PID" llavero-vkey -S "$T/vkey.sock"
    export LLAVERO_E2E_VKEY_SOCKET="$T/vkey.sock"
    # The key's PIN (user verification), as its owner would have set it.
    printf '4321\n' >"$T/vkey.pin"
    "$LLAVERO_CLI" fido set-pin --device "vkey:$T/vkey.sock" --new-pin-file "$T/vkey.pin" --json \
        >"$T/vkey-set-pin.json" 2>&1 || { cat "$T/vkey-set-pin.json" >&2; echo "FALLA: llavero fido set-pin" >&2; exit 1; }
fi

cd "$E2E"
# The Firefox tests speak WebDriver BiDi over the global WebSocket: node 20
# has it behind --experimental-websocket.
NODE_FLAGS=""
case $NAME in
firefox_*)
    node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' ||
        NODE_FLAGS=--experimental-websocket ;;
esac
# shellcheck disable=SC2086
timeout 240 node $NODE_FLAGS "$E2E/$NAME.mjs" "$T"
