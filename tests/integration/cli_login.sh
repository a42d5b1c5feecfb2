#!/bin/sh
# integration.cli_login: `llavero login --server` signs in against
# llavero-idp from the command line (issue 6, acceptance 3).
#   Inside the pcsc harness (private mount + network namespace): llavero-idp
#   on 127.0.0.1 (free port, temp database, config trusting the fixture CA),
#   llavero-vcard with the fixture persona física in 9A and 9C, llavero-vkey
#   on a Unix socket (LLAVERO_VKEY_SOCKETS, PIN 4321), the scripted pinentry.
#   - e.firma on the card: exit 0, prints nombre, RFC and CURP; --json too
#   - wrong PIN (then cancel at the re-ask): exit 4, "queda"/"quedan" shown;
#     wrong --pin-file: exit 4 with pin-incorrect; cancel at pinentry: exit 5
#   - --fido with no credential yet: exit 7; --fido --register: e.firma
#     sign-in, the key joins that account, then a sign-in with the key
#     alone; later `--fido` alone: RFC/CURP of the persona física;
#     cancelling the key's PIN: exit 5
#   - http://example.test: exit 6 (origin not allowed) before anything;
#     nobody listening: exit 10
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
VKEY=${LLAVERO_VKEY:-$LLAVERO_BUILD/firmware-test/vkey/llavero-vkey}
IDP=${LLAVERO_IDP:-$LLAVERO_BUILD/verify/idp/llavero-idp}
LLAVERO=${LLAVERO_CLI:-$LLAVERO_BUILD/middleware/llavero}
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
AD=$LLAVERO_SRC/tests/integration/agent
# shellcheck disable=SC1091
. "$LLAVERO_HARNESS/testlib.sh"

# login EXPECTED-EXIT OUT-FILE ARGS...: runs llavero login, checks the exit.
login() {
    _want=$1 _out=$2
    shift 2
    _st=0
    "$LLAVERO" login --server "$URL" "$@" > "$_out" 2> "$_out.err" || _st=$?
    [ "$_st" -eq "$_want" ] || {
        cat "$_out" "$_out.err" >&2
        tail -n 20 "$LW/idp.log" >&2
        fail "llavero login $*: exit $_st, expected $_want"
    }
}

answers() { printf '%s\n' "$@" > "$LW/answers"; : > "$LW/pe.log"; }

inside() {
    trap _tl_cleanup EXIT
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    export LLAVERO_AGENT_PKCS11=$P11 LLAVERO_AGENT_CONF=/dev/null
    export LLAVERO_PINENTRY=$AD/pinentry-script
    export PINENTRY_SCRIPT_ANSWERS=$LW/answers PINENTRY_SCRIPT_LOG=$LW/pe.log
    export HOME=$LW/home XDG_CONFIG_HOME=$LW/home/.config
    mkdir -p "$HOME"
    cat > "$LW/idp.json" <<JSON
{ "trusted_cas": ["$FIX_CA_ISSUER_PEM"] }
JSON
    LLAVERO_LOG=info "$IDP" --listen 127.0.0.1:0 --db "$LW/idp.db" --config "$LW/idp.json" \
        --port-file "$LW/idp.port" 2> "$LW/idp.log" &
    track_pid $!
    wait_for '[ -s "$LW/idp.port" ]' 10 || { cat "$LW/idp.log" >&2; fail "llavero-idp did not start"; }
    URL="http://localhost:$(cat "$LW/idp.port")"
    TL_FAIL_LOG=$LW/vkey.log
    start_vkey "$LW/vkey.state" "$LW/vkey.sock" "$LW/vkey.log" --up auto
    TL_FAIL_LOG=
    export LLAVERO_VKEY_SOCKETS=$LW/vkey.sock
    printf '4321\n' > "$LW/vkey.pin"
    "$LLAVERO" fido set-pin --device "vkey:$LW/vkey.sock" --new-pin-file "$LW/vkey.pin" \
        > "$LW/setpin.out" 2>&1 || { cat "$LW/setpin.out" >&2; fail "llavero fido set-pin"; }
    card_ready || fail "the card is not ready"
    T=$LW

    # e.firma on the card through pinentry.
    answers 123456
    login 0 "$T/efirma.out"
    grep -q "RFC: $FIX_FISICA_RFC" "$T/efirma.out" && grep -q "CURP: $FIX_FISICA_CURP" "$T/efirma.out" &&
        grep -q "Sesión iniciada en $URL" "$T/efirma.out" ||
        { cat "$T/efirma.out" >&2; fail "login does not print the RFC/CURP of the persona física"; }
    grep -q "El sitio $URL solicita que inicies sesión" "$T/pe.log" && grep -q "RFC: $FIX_FISICA_RFC" "$T/pe.log" ||
        { cat "$T/pe.log" >&2; fail "pinentry did not show the server's origin and the RFC"; }
    ok "llavero login (e.firma on llavero-vcard): $(tr '\n' ' ' < "$T/efirma.out")"

    printf '123456\n' > "$T/pin"
    LC_ALL=en_US.UTF-8 login 0 "$T/efirma.json" --json --pin-file "$T/pin"
    jq -e --arg r "$FIX_FISICA_RFC" --arg c "$FIX_FISICA_CURP" \
        '.status == "ok" and .rfc == $r and .curp == $c and .metodo == "efirma" and (.nombre | length > 0)' \
        "$T/efirma.json" > /dev/null || { cat "$T/efirma.json" >&2; fail "login --json"; }
    LC_ALL=en_US.UTF-8 login 0 "$T/efirma.en" --pin-file "$T/pin"
    grep -q "Signed in to $URL" "$T/efirma.en" || { cat "$T/efirma.en" >&2; fail "English output"; }
    ok "llavero login --json --pin-file: $(cat "$T/efirma.json"); English by locale"

    # Wrong PIN, re-asked with the tries left, then cancelled: exit 4.
    answers 999999 CANCEL
    login 4 "$T/badpin.out"
    grep -q "SETERROR: PIN incorrecto, qued" "$T/pe.log" || { cat "$T/pe.log" >&2; fail "no retries left shown"; }
    printf '999999\n' > "$T/badpin"
    login 4 "$T/badpin.json" --json --pin-file "$T/badpin"
    [ "$(jq -r .error.code "$T/badpin.json")" = pin-incorrect ] || fail "wrong --pin-file: $(cat "$T/badpin.json")"
    answers CANCEL
    login 5 "$T/cancel.out"
    ok "wrong PIN: exit 4 (retries left shown, pin-incorrect in --json); cancel at pinentry: exit 5"

    # The key has no credential for this server yet.
    answers 4321
    login 7 "$T/nocred.out" --fido
    ok "llavero login --fido before registering: exit 7 ($(tail -n 1 "$T/nocred.out.err"))"

    # Register the key on the e.firma account, then sign in with it.
    answers 123456 4321 4321
    login 0 "$T/reg.out" --fido --register
    grep -q "Llave de seguridad registrada" "$T/reg.out" && grep -q "RFC: $FIX_FISICA_RFC" "$T/reg.out" &&
        grep -q "CURP: $FIX_FISICA_CURP" "$T/reg.out" || { cat "$T/reg.out" >&2; fail "login --fido --register"; }
    grep -q "solicita usar tu llave de seguridad" "$T/pe.log" || { cat "$T/pe.log" >&2; fail "no key PIN dialog"; }
    ok "llavero login --fido --register: e.firma sign-in, the key added to that account, signed in with it"
    answers 4321
    login 0 "$T/fido.json" --fido --json
    jq -e --arg r "$FIX_FISICA_RFC" --arg c "$FIX_FISICA_CURP" \
        '.status == "ok" and .rfc == $r and .curp == $c and .metodo == "llave de seguridad"' \
        "$T/fido.json" > /dev/null || { cat "$T/fido.json" >&2; fail "login --fido --json"; }
    ! grep -q "inicies sesión con tu certificado" "$T/pe.log" || fail "the card was asked for in a --fido sign-in"
    ok "llavero login --fido (llavero-vkey alone): $(cat "$T/fido.json")"
    answers CANCEL
    login 5 "$T/fidocancel.out" --fido
    ok "cancelling the key's PIN: exit 5"

    # Origin rules and an unreachable server.
    URL=http://example.test
    login 6 "$T/origin.out"
    URL=http://127.0.0.1:1
    login 10 "$T/down.out" --pin-file "$T/pin"
    ok "http://example.test: exit 6 (origin not allowed); nobody listening: exit 10"
}

case ${1:-} in
    inside) inside; exit 0 ;;
esac

for b in "$VCARD" "$VKEY" "$IDP" "$LLAVERO"; do
    [ -x "$b" ] || fail "not built: $b"
done
command -v jq > /dev/null || fail "jq not installed (scripts/deps.sh)"
scratch_dir llavero-cli-login
LW=$SCRATCH
gen_fixtures
vcard_init "$LW/card.state"
vcard_provision "$LW/card.state" 9a:fisica 9c:fisica
"$VKEY" init --state "$LW/vkey.state" > /dev/null || fail "vkey init failed"
export LW FIXDIR VCARD VKEY IDP LLAVERO P11
pcsc_ns "$LW/card.state" --log "$LW/log" -- sh "$0" inside || fail "cli_login checks failed"
echo "PASS: cli_login"
