#!/bin/sh
# integration.agent_kiosk: llavero-agent's kiosk mode (issue 6): HTTP on
# 127.0.0.1, Host and Origin allow-lists, the per-boot pairing secret, and
# the card pulled ending the session. Inside the pcsc harness, llavero-vcard
# with the persona física in 9A and 9C, the scripted pinentry, curl:
#   - the secret is in $XDG_RUNTIME_DIR/llavero/kiosk-secret, mode 0600 in a
#     0700 directory; the server listens on 127.0.0.1 only
#   - wrong Host (DNS rebinding) and a non-allowed Origin: 403; no or a wrong
#     secret: 401; none of them sends an APDU to the card
#   - POST /v1/authenticate from the allowed Origin: a Web eID token for that
#     origin (libllavero-verify accepts it) and X-Llavero-Session; without
#     Origin, arguments.origin must be allowed
#   - llavero-vcard remove: /v1/session says the session ended and the
#     caches were wiped; the old session gets 409 session-ended; card back:
#     a new session with another ID
#   - `kiosk = true` in the config starts kiosk mode without --kiosk; SIGTERM
#     ends it cleanly and removes the secret
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
AGENT=${LLAVERO_AGENT:-$LLAVERO_BUILD/middleware/llavero-agent}
CHECK=$LLAVERO_BUILD/tests/integration/agent-webeid-check
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
AD=$LLAVERO_SRC/tests/integration/agent
KO=https://kiosco.llavero.test
# shellcheck disable=SC1091
. "$LLAVERO_HARNESS/testlib.sh"

# post PATH BODY [curl args...]: HTTP status in $code, body in $T/body,
# headers in $T/hdr.
post() {
    _p=$1 _b=$2
    shift 2
    code=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT$_p" \
        -H 'Content-Type: application/json' --data "$_b" "$@") || code=000
}
apdus() { "$LLAVERO_VCARD" stats --state "$LLAVERO_VCARD_STATE" | sed -n 's/^apdus=//p'; }
session_field() { post /v1/session '{}' -H "X-Llavero-Secret: $SECRET"; jq -r "$1" "$T/body"; }

inside() {
    trap _tl_cleanup EXIT
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    T=$KW
    export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_RUNTIME_DIR=$T/run
    mkdir -p "$HOME" "$T/run"
    chmod 700 "$T/run"
    export LLAVERO_AGENT_PKCS11=$P11 LLAVERO_PINENTRY=$AD/pinentry-script
    export PINENTRY_SCRIPT_ANSWERS=$T/answers PINENTRY_SCRIPT_LOG=$T/pe.log
    printf 'kiosk-origin = %s\n' "$KO" > "$T/agent.conf"
    export LLAVERO_AGENT_CONF=$T/agent.conf
    card_ready || fail "the card is not ready"

    LLAVERO_LOG=info "$AGENT" --kiosk --port 0 < /dev/null 2> "$T/agent.log" &
    APID=$!
    track_pid $APID
    TL_FAIL_LOG=$T/agent.log
    wait_for '[ -s "$T/run/llavero/kiosk-port" ]' 10 || fail "the kiosk did not start"
    PORT=$(cat "$T/run/llavero/kiosk-port")
    SECRET=$(cat "$T/run/llavero/kiosk-secret")
    [ "$(stat -c %a "$T/run/llavero/kiosk-secret")" = 600 ] && [ "$(stat -c %a "$T/run/llavero")" = 700 ] ||
        fail "secret file/dir modes: $(stat -c '%a %n' "$T/run/llavero" "$T/run/llavero/kiosk-secret")"
    [ "${#SECRET}" -eq 64 ] || fail "the secret is not 32 bytes in hex"
    ss -ltnH 2>/dev/null | grep -q ":$PORT " && {
        ss -ltnH | grep ":$PORT " | grep -q "127.0.0.1:$PORT" || fail "not bound to 127.0.0.1 only: $(ss -ltnH | grep ":$PORT ")"
    }
    ok "kiosk on 127.0.0.1:$PORT; pairing secret in \$XDG_RUNTIME_DIR/llavero/kiosk-secret (0600, directory 0700)"

    NONCE=$(openssl rand -base64 32)
    AUTH=$(printf '{"challengeNonce":"%s"}' "$NONCE")
    a0=$(apdus)
    post /v1/authenticate "$AUTH" -H "X-Llavero-Secret: $SECRET" -H "Origin: $KO" -H "Host: evil.example:$PORT"
    [ "$code" = 403 ] && [ "$(jq -r .error.code "$T/body")" = host-not-allowed ] || fail "wrong Host: $code $(cat "$T/body")"
    post /v1/authenticate "$AUTH" -H "X-Llavero-Secret: $SECRET" -H "Origin: https://evil.example"
    [ "$code" = 403 ] && [ "$(jq -r .error.code "$T/body")" = origin-not-allowed ] || fail "wrong Origin: $code $(cat "$T/body")"
    post /v1/authenticate "$AUTH" -H "Origin: $KO"
    [ "$code" = 401 ] || fail "no secret: $code $(cat "$T/body")"
    post /v1/authenticate "$AUTH" -H "X-Llavero-Secret: 00$SECRET" -H "Origin: $KO"
    [ "$code" = 401 ] || fail "wrong secret: $code"
    post /v1/authenticate "$(printf '{"challengeNonce":"%s","origin":"https://evil.example"}' "$NONCE")" \
        -H "X-Llavero-Secret: $SECRET"
    [ "$code" = 403 ] || fail "an app naming a non-allowed origin: $code $(cat "$T/body")"
    a1=$(apdus)
    [ "$a0" = "$a1" ] || fail "refused requests sent $((a1 - a0)) APDUs to the card"
    ok "wrong Host 403, non-allowed Origin 403 (also as arguments.origin), no or wrong secret 401; no APDU sent"

    printf '123456\n' > "$T/answers"
    post /v1/authenticate "$AUTH" -H "X-Llavero-Secret: $SECRET" -H "Origin: $KO"
    [ "$code" = 200 ] || fail "authenticate: $code $(cat "$T/body")"
    grep -qi "^access-control-allow-origin: $KO" "$T/hdr" || fail "no CORS header for the allowed origin"
    S1=$(sed -n 's/^[Xx]-[Ll]lavero-[Ss]ession: *\([0-9a-f]*\).*/\1/p' "$T/hdr")
    [ -n "$S1" ] || { cat "$T/hdr" >&2; fail "no X-Llavero-Session"; }
    out=$("$CHECK" "$T/body" "$KO" "$NONCE" "$FIX_CHAIN_PEM") || fail "the kiosk token does not verify: $out"
    grep -q "El sitio $KO solicita" "$T/pe.log" || fail "pinentry did not show the kiosk origin"
    [ "$(session_field .session)" = "$S1" ] && [ "$(jq -r .cardPresent "$T/body")" = true ] ||
        fail "session status: $(cat "$T/body")"
    ok "POST /v1/authenticate from $KO: $out; session $S1"

    printf '123456\n' > "$T/answers"
    post /v1/get-signing-certificate "{\"origin\":\"$KO\"}" -H "X-Llavero-Secret: $SECRET" -H "X-Llavero-Session: $S1"
    [ "$code" = 200 ] && jq -e .certificate "$T/body" > /dev/null || fail "app request in the session: $code $(cat "$T/body")"
    ok "an app without Origin (arguments.origin allowed) works in the same session"

    "$LLAVERO_VCARD" remove --state "$LLAVERO_VCARD_STATE" > /dev/null || fail "remove failed"
    # shellcheck disable=SC2016
    wait_for '[ "$(session_field .session)" = null ] && [ "$(jq -r .sessionsEnded "$T/body")" = 1 ]' 10 ||
        fail "the session did not end when the card was pulled: $(cat "$T/body")"
    [ "$(jq -r .cardPresent "$T/body")" = false ] && [ "$(jq -r .wipes "$T/body")" -ge 1 ] ||
        fail "after the pull: $(cat "$T/body")"
    post /v1/get-signing-certificate "{\"origin\":\"$KO\"}" -H "X-Llavero-Secret: $SECRET" -H "X-Llavero-Session: $S1"
    [ "$code" = 409 ] && [ "$(jq -r .error.code "$T/body")" = session-ended ] || fail "old session: $code $(cat "$T/body")"
    grep -q "sesión terminada" "$T/agent.log" || fail "the agent did not log the end of the session"
    ok "card pulled: session ended, caches wiped; its session ID gets 409 session-ended"

    "$LLAVERO_VCARD" insert --state "$LLAVERO_VCARD_STATE" > /dev/null || fail "insert failed"
    card_ready || fail "the card did not come back"
    printf '123456\n' > "$T/answers"
    post /v1/authenticate "$AUTH" -H "X-Llavero-Secret: $SECRET" -H "Origin: $KO"
    [ "$code" = 200 ] && ! jq -e .error "$T/body" > /dev/null || fail "authenticate after re-insert: $code $(cat "$T/body")"
    S2=$(sed -n 's/^[Xx]-[Ll]lavero-[Ss]ession: *\([0-9a-f]*\).*/\1/p' "$T/hdr")
    [ -n "$S2" ] && [ "$S2" != "$S1" ] || fail "no new session after re-insert ($S1 / $S2)"
    ok "card back: a new session ($S2)"

    stop_pid $APID || true
    [ ! -e "$T/run/llavero/kiosk-secret" ] || fail "the secret outlived the agent"
    KPORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'kiosk = true\nkiosk-port = %s\nkiosk-origin = %s\n' "$KPORT" "$KO" > "$T/agent.conf"
    "$AGENT" < /dev/null 2> "$T/agent2.log" &
    APID=$!
    track_pid $APID
    wait_for '[ -s "$T/run/llavero/kiosk-port" ]' 10 || fail "kiosk = true did not start kiosk mode"
    [ "$(cat "$T/run/llavero/kiosk-port")" = "$KPORT" ] || fail "kiosk-port not honoured"
    [ "$(cat "$T/run/llavero/kiosk-secret")" != "$SECRET" ] || fail "the same secret at the next start"
    PORT=$KPORT SECRET=$(cat "$T/run/llavero/kiosk-secret")
    post /v1/version '{}' -H "X-Llavero-Secret: $SECRET"
    [ "$code" = 200 ] || fail "version on the configured kiosk: $code"
    stop_pid $APID || true
    ok "kiosk = true (config) starts it on kiosk-port with a new secret; SIGTERM removes the secret"
}

case ${1:-} in
    inside) inside; exit 0 ;;
esac

command -v curl > /dev/null || fail "curl not installed"
command -v jq > /dev/null || fail "jq not installed (scripts/deps.sh)"
scratch_dir llavero-agent-kiosk
KW=$SCRATCH
gen_fixtures
vcard_init "$KW/card.state"
vcard_provision "$KW/card.state" 9a:fisica 9c:fisica
export KW FIXDIR
pcsc_ns "$KW/card.state" --log "$KW/log" -- sh "$0" inside || fail "agent_kiosk checks failed"
echo "PASS: agent_kiosk"
