#!/bin/sh
# integration.agent_p11kit: p11-kit's module list in the agent and the CLI
# (issue 6: "p11-kit's module list honoured"). llavero-vcard with the
# persona física in 9A and 9C; a p11-kit module config directory
# (LLAVERO_P11KIT_CONFIG_DIRS) naming OpenSC's opensc-pkcs11.so, plus a
# trust-policy module and one disabled for llavero (both left out).
#   - pkcs11-modules = p11-kit: llavero-pkcs11.so and OpenSC's both see the
#     card; `llavero tokens --json` lists each certificate once (dedupe by
#     certificate), from llavero-pkcs11.so (configured modules first)
#   - llavero-pkcs11.so missing (default auto: p11-kit's list as the
#     fallback): the same two certificates through OpenSC's module, and the
#     agent signs in through it (Web eID token verified by libllavero-verify)
#   - pkcs11-modules = configured: no fallback, `llavero tokens` exits 3
#   - the system's own p11-kit config (no override) loads without trouble
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
AGENT=${LLAVERO_AGENT:-$LLAVERO_BUILD/middleware/llavero-agent}
LLAVERO=${LLAVERO_CLI:-$LLAVERO_BUILD/middleware/llavero}
CHECK=$LLAVERO_BUILD/tests/integration/agent-webeid-check
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
AD=$LLAVERO_SRC/tests/integration/agent
OPENSC=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
# shellcheck disable=SC1091
. "$LLAVERO_HARNESS/testlib.sh"

inside() {
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    T=$PW
    export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config
    mkdir -p "$HOME" "$T/mods"
    export LLAVERO_PINENTRY=$AD/pinentry-script
    export PINENTRY_SCRIPT_ANSWERS=$T/answers PINENTRY_SCRIPT_LOG=$T/pe.log
    printf 'module: %s\n' "$OPENSC" > "$T/mods/opensc.module"
    printf 'module: p11-kit-trust.so\ntrust-policy: yes\n' > "$T/mods/trust.module"
    printf 'module: %s\ndisable-in: llavero-agent llavero\n' "$T/nothere.so" > "$T/mods/off.module"
    export LLAVERO_P11KIT_CONFIG_DIRS=$T/mods
    card_ready || fail "the card is not ready"

    printf 'pkcs11-module = %s\npkcs11-modules = p11-kit\n' "$P11" > "$T/both.conf"
    LLAVERO_LOG=info LLAVERO_AGENT_CONF=$T/both.conf "$LLAVERO" tokens --json > "$T/both.json" 2> "$T/both.err" ||
        { cat "$T/both.err" >&2; fail "llavero tokens with p11-kit's modules"; }
    grep -q "p11-kit's module $OPENSC" "$T/both.err" || { cat "$T/both.err" >&2; fail "OpenSC's module was not loaded"; }
    jq -e --arg r "$FIX_FISICA_RFC" '(.certificates | length) == 2 and
        ([.certificates[] | select(.rfc == $r and (.module | endswith("llavero-pkcs11.so")))] | length) == 2' \
        "$T/both.json" > /dev/null || { cat "$T/both.json" "$T/both.err" >&2; fail "not 2 certificates from llavero-pkcs11.so"; }
    ! grep -q "nothere.so\|p11-kit-trust" "$T/both.err" || { cat "$T/both.err" >&2; fail "a disabled or trust-policy module was loaded"; }
    ok "pkcs11-modules = p11-kit: llavero-pkcs11.so and OpenSC's module see the card, each certificate listed once"

    printf 'pkcs11-module = %s/missing-pkcs11.so\n' "$T" > "$T/fallback.conf"
    LLAVERO_AGENT_CONF=$T/fallback.conf "$LLAVERO" tokens --json > "$T/osc.json" 2> "$T/osc.err" ||
        { cat "$T/osc.err" >&2; fail "llavero tokens through p11-kit's fallback"; }
    jq -e --arg r "$FIX_FISICA_RFC" --arg m "$OPENSC" '(.certificates | length) == 2 and
        ([.certificates[] | select(.rfc == $r and .module == $m)] | length) == 2 and
        ([.certificates[] | select(.uses == ["authenticate"])] | length) == 1' \
        "$T/osc.json" > /dev/null || { cat "$T/osc.json" "$T/osc.err" >&2; fail "OpenSC's view of the card"; }
    NONCE=$(openssl rand -base64 32)
    printf '123456\n' > "$T/answers"
    printf '{"command":"authenticate","arguments":{"challengeNonce":"%s","origin":"https://portal.llavero.test"}}\n' "$NONCE" |
        LLAVERO_AGENT_CONF=$T/fallback.conf /usr/bin/python3 "$AD/nm_client.py" "$AGENT" > "$T/resp" 2> "$T/agent.err"
    head -n 1 "$T/resp" | jq -c 'del(.requestId)' > "$T/token.json"
    out=$("$CHECK" "$T/token.json" https://portal.llavero.test "$NONCE" "$FIX_CHAIN_PEM") ||
        { cat "$T/resp" "$T/agent.err" >&2; fail "the token made through OpenSC's module does not verify: $out"; }
    ok "llavero-pkcs11.so missing: p11-kit's list (OpenSC) as the fallback; the agent signs in through it: $out"

    printf 'pkcs11-module = %s/missing-pkcs11.so\npkcs11-modules = configured\n' "$T" > "$T/off.conf"
    st=0; LLAVERO_AGENT_CONF=$T/off.conf "$LLAVERO" tokens > /dev/null 2>&1 || st=$?
    [ "$st" -eq 3 ] || fail "pkcs11-modules = configured with a missing module: exit $st, expected 3"
    ok "pkcs11-modules = configured: no fallback (exit 3)"

    unset LLAVERO_P11KIT_CONFIG_DIRS
    LLAVERO_AGENT_CONF=$T/both.conf "$LLAVERO" tokens --json > "$T/sys.json" 2> "$T/sys.err" ||
        { cat "$T/sys.err" >&2; fail "llavero tokens with the system's p11-kit config"; }
    jq -e '(.certificates | length) == 2' "$T/sys.json" > /dev/null ||
        { cat "$T/sys.json" "$T/sys.err" >&2; fail "the system's p11-kit config changed what is listed"; }
    ok "the system's p11-kit module config: still the 2 certificates, once each"
}

case ${1:-} in
    inside) inside; exit 0 ;;
esac

[ -r "$OPENSC" ] || { echo "SKIP: $OPENSC not installed (opensc)"; exit 77; }
command -v jq > /dev/null || fail "jq not installed (scripts/deps.sh)"
scratch_dir llavero-agent-p11kit
PW=$SCRATCH
gen_fixtures
vcard_init "$PW/card.state"
vcard_provision "$PW/card.state" 9a:fisica 9c:fisica
export PW FIXDIR
pcsc_ns "$PW/card.state" --log "$PW/log" -- sh "$0" inside || fail "agent_p11kit checks failed"
echo "PASS: agent_p11kit"
