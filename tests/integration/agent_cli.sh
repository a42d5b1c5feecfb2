#!/bin/sh
# `llavero tokens` and `llavero sign` (issue 6, acceptance 4), and the agent
# on e.firma files.
#   card part: the SAT test e.firma (../shared/testdata/sat, EKU9003173C9) in
#              9A and 9C when that folder exists, else the fixture persona
#              física; `llavero tokens --json` lists both with RFC and uses;
#              `llavero sign --cms` makes a detached CAdES-BES that
#              `openssl cms -verify -binary -content FILE -CAfile chain`
#              accepts (SAT: AC UAT 2022 + ARC UAT 2022); `llavero sign` (raw)
#              verifies with openssl dgst; the PIN dialog showed the file and
#              its SHA-256; a wrong --pin-file exits 4, cancelling exits 5.
#   import part: a blank card; `llavero efirma import` (APDUs: 3DES management
#              key, IMPORT ASYMMETRIC KEY, PUT DATA) puts the e.firma in 9C
#              and 9A; wrong management key / password exit 4; then tokens
#              lists it and sign --cms verifies.
#   files part: LLAVERO_EFIRMA_DIR with an e.firma and a CSD: tokens says
#              which is which; the agent signs in with the e.firma (its .key
#              password as PIN) and the token verifies; with only the CSD the
#              agent answers no-token (a CSD never signs in).
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
AGENT=${LLAVERO_AGENT:-$LLAVERO_BUILD/middleware/llavero-agent}
LLAVERO=${LLAVERO_CLI:-$LLAVERO_BUILD/middleware/llavero}
CHECK=$LLAVERO_BUILD/tests/integration/agent-webeid-check
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
AD=$LLAVERO_SRC/tests/integration/agent
SAT=${LLAVERO_SAT_DIR:-}
PY=/usr/bin/python3

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

common_env() {
    export LLAVERO_AGENT_PKCS11=$P11 LLAVERO_AGENT_CONF=/dev/null
    export LLAVERO_PINENTRY=$AD/pinentry-script
    export PINENTRY_SCRIPT_ANSWERS=$T/answers PINENTRY_SCRIPT_LOG=$T/pe.log
    export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config
    mkdir -p "$HOME"
}

card() {
    T=$WORK/card
    mkdir -p "$T"
    common_env
    unset LLAVERO_EFIRMA_DIR || true
    printf '123456\n' > "$T/pin"
    printf '999999\n' > "$T/badpin"

    "$LLAVERO" tokens --json > "$T/tokens.json" || fail "llavero tokens --json failed"
    [ "$(jq '.certificates | length' "$T/tokens.json")" -eq 2 ] || { cat "$T/tokens.json" >&2; fail "not 2 certificates"; }
    jq -e --arg r "$RFC" '[.certificates[] | select(.rfc == $r)] | length == 2' "$T/tokens.json" > /dev/null ||
        { cat "$T/tokens.json" >&2; fail "tokens does not show RFC $RFC twice"; }
    jq -e '[.certificates[] | select(.uses == ["authenticate"])] | length == 1' "$T/tokens.json" > /dev/null &&
    jq -e '[.certificates[] | select(.uses == ["sign"])] | length == 1' "$T/tokens.json" > /dev/null ||
        { cat "$T/tokens.json" >&2; fail "9A is not 'authenticate' and 9C 'sign'"; }
    "$LLAVERO" tokens > "$T/tokens.txt" || fail "llavero tokens failed"
    grep -q "RFC: $RFC" "$T/tokens.txt" && grep -q "Titular: $NAME" "$T/tokens.txt" ||
        { cat "$T/tokens.txt" >&2; fail "llavero tokens does not show holder and RFC"; }
    ok "llavero tokens (text and --json): 9A for authentication, 9C for signing, holder $NAME, RFC $RFC"

    printf '||1.1|%s|cadena original de prueba||\n' "$RFC" > "$T/doc.txt"
    "$LLAVERO" sign "$T/doc.txt" --cms --pin-file "$T/pin" > "$T/sign.out" || fail "llavero sign --cms failed"
    [ -s "$T/doc.txt.p7s" ] || fail "no doc.txt.p7s"
    openssl cms -verify -binary -inform DER -in "$T/doc.txt.p7s" -content "$T/doc.txt" \
        -CAfile "$CHAIN" -purpose any -out /dev/null 2> "$T/cms.err" ||
        { cat "$T/cms.err" >&2; fail "openssl cms -verify refuses llavero sign --cms"; }
    openssl cms -cmsout -print -inform DER -in "$T/doc.txt.p7s" > "$T/cms.txt"
    grep -q id-smime-aa-signingCertificateV2 "$T/cms.txt" || fail "no signing-certificate-v2"
    ok "llavero sign --cms: openssl cms -verify -binary -content accepts it against $CHAIN_NAME ($(cat "$T/sign.out"))"

    "$LLAVERO" sign "$T/doc.txt" --out "$T/doc.sig" --pin-file "$T/pin" > /dev/null || fail "llavero sign failed"
    openssl x509 -inform DER -in "$CER" -pubkey -noout > "$T/pub.pem"
    openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/doc.sig" "$T/doc.txt" > /dev/null ||
        fail "the raw signature does not verify"
    ok "llavero sign (raw) verifies with openssl dgst -sha256 -verify"

    st=0; "$LLAVERO" sign "$T/doc.txt" --pin-file "$T/badpin" --json > "$T/bad.json" 2>/dev/null || st=$?
    [ "$st" -eq 4 ] && [ "$(jq -r .error.code "$T/bad.json")" = pin-incorrect ] ||
        fail "a wrong --pin-file: exit $st, $(cat "$T/bad.json")"
    ok "a wrong PIN from --pin-file: exit 4, pin-incorrect, not retried"

    : > "$T/pe.log"
    printf '123456\n' > "$T/answers"
    "$LLAVERO" sign "$T/doc.txt" --out "$T/doc2.sig" > /dev/null || fail "sign through pinentry failed"
    HEX=$(openssl dgst -sha256 -r "$T/doc.txt" | cut -d' ' -f1)
    grep -q "doc.txt" "$T/pe.log" && grep -q "$HEX" "$T/pe.log" && grep -q "RFC: $RFC" "$T/pe.log" ||
        { cat "$T/pe.log" >&2; fail "pinentry did not show the file, its hash and the RFC"; }
    printf 'CANCEL\n' > "$T/answers"
    st=0; "$LLAVERO" sign "$T/doc.txt" --out "$T/doc3.sig" 2>/dev/null || st=$?
    [ "$st" -eq 5 ] || fail "cancel at pinentry: exit $st"
    ok "llavero sign through pinentry shows the file, its SHA-256 and the RFC; cancelling exits 5"
}

files() {
    T=$WORK/files
    mkdir -p "$T" "$T/both" "$T/csd"
    common_env
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    cp "$FIX_FISICA_CER" "$FIX_FISICA_KEY" "$FIX_CSD_CER" "$FIX_CSD_KEY" "$T/both/"
    cp "$FIX_CSD_CER" "$FIX_CSD_KEY" "$T/csd/"
    export LLAVERO_EFIRMA_DIR=$T/both
    "$LLAVERO" tokens --json > "$T/tokens.json" || fail "llavero tokens (files) failed"
    jq -e '[.certificates[] | select(.kind == "csd" and (.uses | index("authenticate") | not))] | length == 1' \
        "$T/tokens.json" > /dev/null || { cat "$T/tokens.json" >&2; fail "the CSD is not marked csd / offered for sign-in"; }
    jq -e --arg r "$FIX_FISICA_RFC" '[.certificates[] | select(.kind == "efirma" and .rfc == $r)] | length == 1' \
        "$T/tokens.json" > /dev/null || { cat "$T/tokens.json" >&2; fail "the e.firma file is not listed"; }
    ok "llavero tokens on e.firma files: the e.firma signs in and signs, the CSD is marked csd and never signs in"
    NONCE=$(openssl rand -base64 32)
    printf '%s\n' "$FIX_FISICA_PASSWORD" > "$T/answers"
    printf '{"command":"authenticate","arguments":{"challengeNonce":"%s","origin":"https://portal.llavero.test"}}\n' "$NONCE" |
        $PY "$AD/nm_client.py" "$AGENT" > "$T/resp" 2> "$T/agent.err"
    head -n 1 "$T/resp" | jq -c 'del(.requestId)' > "$T/token.json"
    out=$("$CHECK" "$T/token.json" https://portal.llavero.test "$NONCE" "$FIX_CHAIN_PEM") ||
        { cat "$T/resp" "$T/agent.err" >&2; fail "the e.firma file token does not verify: $out"; }
    ok "agent authenticate with the e.firma files (password as PIN): $out"
    export LLAVERO_EFIRMA_DIR=$T/csd
    printf '%s\n' "$FIX_CSD_PASSWORD" > "$T/answers"
    printf '{"command":"authenticate","arguments":{"challengeNonce":"%s","origin":"https://portal.llavero.test"}}\n' "$NONCE" |
        $PY "$AD/nm_client.py" "$AGENT" > "$T/resp" 2> "$T/agent.err"
    [ "$(head -n 1 "$T/resp" | jq -r .error.code)" = no-token ] || fail "a CSD alone: $(cat "$T/resp")"
    ok "with only a CSD the agent answers no-token to authenticate"
}

# A blank card: llavero efirma import puts the e.firma in 9C and 9A; then the
# agent's tokens and sign use it.
import_part() {
    T=$WORK/import
    mkdir -p "$T"
    common_env
    unset LLAVERO_EFIRMA_DIR || true
    st=0; "$LLAVERO" efirma import --cer "$CER" --key "$KEY" --password-file "$PASSFILE" \
        --mgmt-key 000000000000000000000000000000000000000000000000 > "$T/bad.out" 2>&1 || st=$?
    [ "$st" -eq 4 ] || { cat "$T/bad.out" >&2; fail "a wrong management key: exit $st"; }
    printf 'malaclave' > "$T/badpass"
    st=0; "$LLAVERO" efirma import --cer "$CER" --key "$KEY" --password-file "$T/badpass" > "$T/bad.out" 2>&1 || st=$?
    [ "$st" -eq 4 ] || { cat "$T/bad.out" >&2; fail "a wrong .key password: exit $st"; }
    "$LLAVERO" efirma import --cer "$CER" --key "$KEY" --password-file "$PASSFILE" > "$T/imp.out" 2>&1 ||
        { cat "$T/imp.out" >&2; fail "llavero efirma import failed"; }
    grep -q "ranura 9C" "$T/imp.out" && grep -q "ranura 9A" "$T/imp.out" && grep -q "shred -u" "$T/imp.out" ||
        { cat "$T/imp.out" >&2; fail "import output lacks the slots or how to retire the files"; }
    ok "llavero efirma import: wrong management key and wrong password exit 4; then 9C and 9A imported, with how to retire the files"
    "$LLAVERO" tokens --json > "$T/tokens.json" || fail "tokens after import failed"
    jq -e --arg r "$RFC" '[.certificates[] | select(.rfc == $r)] | length == 2' "$T/tokens.json" > /dev/null ||
        { cat "$T/tokens.json" >&2; fail "tokens does not show the imported e.firma twice"; }
    printf 'documento\n' > "$T/doc"
    printf '123456\n' > "$T/pin"
    "$LLAVERO" sign "$T/doc" --cms --pin-file "$T/pin" > /dev/null || fail "sign after import failed"
    openssl cms -verify -binary -inform DER -in "$T/doc.p7s" -content "$T/doc" \
        -CAfile "$CHAIN" -purpose any -out /dev/null 2> "$T/cms.err" ||
        { cat "$T/cms.err" >&2; fail "the CMS made with the imported key does not verify"; }
    ok "after import: llavero tokens lists it in 9A and 9C and llavero sign --cms verifies"
}

case ${1:-} in
    card) card; exit 0 ;;
    import) import_part; exit 0 ;;
    files) files; exit 0 ;;
esac

[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
[ -x "$LLAVERO" ] || fail "llavero not built: $LLAVERO"
command -v jq > /dev/null || fail "jq not installed (scripts/deps.sh)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-agent-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PASSFILE=$WORK/pass
FIXDIR=${LLAVERO_FIXTURES_DIR:-$LLAVERO_BUILD/fixtures}
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null || fail "fixture generation failed"
# shellcheck disable=SC1091
. "$FIXDIR/fixtures.env"

S=$WORK/card.state
"$VCARD" init --state "$S" >/dev/null || fail "init failed"
if [ -n "$SAT" ] && [ -r "$SAT/fiel-EKU9003173C9/EKU9003173C9.key" ]; then
    CER=$SAT/fiel-EKU9003173C9/EKU9003173C9.cer
    KEY=$SAT/fiel-EKU9003173C9/EKU9003173C9.key
    printf '12345678a' > "$WORK/pass"
    RFC=EKU9003173C9 NAME="ESCUELA KEMPER URGATE SA DE CV"
    cat "$SAT/ca/AC_UAT_2022.crt" "$SAT/ca/ARC_UAT_2022.crt" > "$WORK/chain.pem"
    CHAIN=$WORK/chain.pem CHAIN_NAME="the SAT test chain (AC UAT 2022, ARC UAT 2022)"
    ok "the SAT test e.firma (EKU9003173C9) goes into 9A and 9C"
else
    echo "NOTE: ../shared/testdata/sat not found: the fixture e.firma stands in for the SAT one"
    CER=$FIX_FISICA_CER KEY=$FIX_FISICA_KEY
    cp "$FIX_FISICA_PASS_FILE" "$WORK/pass"
    RFC=$FIX_FISICA_RFC NAME=$FIX_FISICA_NAME
    CHAIN=$FIX_CHAIN_PEM CHAIN_NAME="the fixture chain"
fi
for slot in 9a 9c; do
    "$VCARD" provision --state "$S" --efirma "$CER" "$KEY" --password-file "$PASSFILE" \
        --slot $slot > /dev/null || fail "provision $slot failed"
done

export WORK FIXDIR CER KEY RFC NAME CHAIN CHAIN_NAME PASSFILE
LLAVERO_VCARD=$VCARD sh "$LLAVERO_HARNESS/pcsc-ns.sh" --state "$S" --log "$WORK/log" \
    -- sh "$0" card || fail "card checks failed"
S2=$WORK/blank.state
"$VCARD" init --state "$S2" >/dev/null || fail "init of the blank card failed"
LLAVERO_VCARD=$VCARD sh "$LLAVERO_HARNESS/pcsc-ns.sh" --state "$S2" --log "$WORK/log3" \
    -- sh "$0" import || fail "efirma import checks failed"
sh "$LLAVERO_HARNESS/pcsc-ns.sh" --no-vcard --log "$WORK/log2" -- sh "$0" files ||
    fail "e.firma file checks failed"
echo "PASS: agent_cli"
