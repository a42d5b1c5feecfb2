#!/bin/sh
# llavero-agent on llavero-vcard through pcscd and llavero-pkcs11.so (issue 6,
# acceptance 2 and the protocol of middleware/PROTOCOL.md), driven like a
# browser drives it (4-byte length + JSON on stdin/stdout, nm_client.py), with
# a scripted pinentry (agent/pinentry-script) standing in for the person.
#   outer part: fixtures; a card with the persona física e.firma in 9A and 9C
#               and EC P-256 in 9D; then the inner part under pcsc-ns.sh
#   inner part: version; authenticate -> a Web eID token libllavero-verify
#               accepts for that origin and nonce and refuses for another;
#               the PIN dialog showed the origin, name and RFC;
#               http://evil.example gets origin-not-allowed and the card sees
#               no APDU; wrong PINs are re-asked with SETERROR and the retries
#               left; giving up after wrong PINs is pin-incorrect with
#               retriesLeft; cancelling is user-cancelled; get-signing-
#               certificate is the 9C certificate; sign raw verifies with
#               openssl pkeyutl, sign format cms with openssl cms -verify
#               against the fixture chain; malformed and oversized frames get
#               bad-argument and the agent keeps serving.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
AGENT=${LLAVERO_AGENT:-$LLAVERO_BUILD/middleware/llavero-agent}
CHECK=$LLAVERO_BUILD/tests/integration/agent-webeid-check
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
AD=$LLAVERO_SRC/tests/integration/agent
PY=/usr/bin/python3

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# req JSON [more JSON lines...]: one agent process, answers in $T/resp (one
# line each, then "exit N"); the answer to the first request in $T/r1.
req() {
    : > "$T/pe.log"
    printf '%s\n' "$@" | timeout 60 $PY "$AD/nm_client.py" "$AGENT" > "$T/resp" 2> "$T/agent.err" ||
        { cat "$T/agent.err" >&2; fail "nm_client failed"; }
    head -n 1 "$T/resp" > "$T/r1"
}
jr() { jq -r "$1" "$T/r1"; }
answers() { printf '%s\n' "$@" > "$T/answers"; }
apdus() { "$VCARD" stats --state "$LLAVERO_VCARD_STATE" | tr ' ' '\n' | sed -n 's/^apdus=//p'; }

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    export LLAVERO_AGENT_PKCS11=$P11 LLAVERO_AGENT_CONF=/dev/null
    export LLAVERO_PINENTRY=$AD/pinentry-script
    export PINENTRY_SCRIPT_ANSWERS=$T/answers PINENTRY_SCRIPT_LOG=$T/pe.log
    export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config
    unset LLAVERO_EFIRMA_DIR || true
    mkdir -p "$HOME"
    ORIGIN=https://portal.llavero.test
    NONCE=$(openssl rand -base64 32)

    # 1. version
    req '{"command":"version","requestId":"v1"}'
    [ "$(jr .requestId)" = v1 ] ||
        fail "version: $(cat "$T/r1")"
    jr .version | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || fail "version: $(cat "$T/r1")"
    ok "version answers $(jr .version) and echoes requestId"

    # 2. authenticate: the token verifies for this origin and nonce only.
    answers 123456
    req "{\"command\":\"authenticate\",\"arguments\":{\"challengeNonce\":\"$NONCE\",\"origin\":\"$ORIGIN\"}}"
    [ "$(jr .format)" = web-eid:1.1 ] || { cat "$T/r1" "$T/agent.err" >&2; fail "authenticate: no web-eid:1.1 token"; }
    [ "$(jr .algorithm)" = RS256 ] || fail "authenticate: algorithm $(jr .algorithm)"
    jr .unverifiedCertificate | base64 -d > "$T/auth.der"
    cmp -s "$T/auth.der" "$FIX_FISICA_CER" || fail "the token's certificate is not the 9A certificate"
    jq -c 'del(.requestId)' "$T/r1" > "$T/token.json"
    out=$("$CHECK" "$T/token.json" "$ORIGIN" "$NONCE" "$FIX_CHAIN_PEM") ||
        fail "libllavero-verify refuses the token: $out"
    case $out in "ok RS256 $FIX_FISICA_RFC web-eid:1.1") ;; *) fail "verify says '$out'" ;; esac
    ok "authenticate: Web eID 1.1 token (RS256, 9A) verifies with libllavero-verify: $out"
    if out=$("$CHECK" "$T/token.json" https://other.llavero.test "$NONCE" "$FIX_CHAIN_PEM"); then
        fail "the token verifies for another origin"
    fi
    if out2=$("$CHECK" "$T/token.json" "$ORIGIN" "$(openssl rand -base64 32)" "$FIX_CHAIN_PEM"); then
        fail "the token verifies for another nonce"
    fi
    ok "the same token is refused for another origin ($out) and another nonce ($out2)"
    grep -q "^SETDESC: .*$ORIGIN" "$T/pe.log" || { cat "$T/pe.log" >&2; fail "pinentry did not show the origin"; }
    grep -q "RFC: $FIX_FISICA_RFC" "$T/pe.log" || { cat "$T/pe.log" >&2; fail "pinentry did not show the RFC"; }
    grep -Fq "Titular: $FIX_FISICA_NAME" "$T/pe.log" || { cat "$T/pe.log" >&2; fail "pinentry did not show the holder"; }
    [ "$(grep -c '^GETPIN' "$T/pe.log")" -eq 1 ] || fail "the PIN was asked more than once"
    ok "pinentry showed the origin, the holder and the RFC; the PIN was asked once"

    # 3. A non-allowed origin: refused before any token is touched.
    for bad in http://evil.example https://evil.example/path "https://EVIL.example" \
               "null" "chrome-extension://abc" "http://localhost.evil.example"; do
        before=$(apdus)
        answers 123456
        req "{\"command\":\"authenticate\",\"arguments\":{\"challengeNonce\":\"$NONCE\",\"origin\":\"$bad\"}}" \
            "{\"command\":\"sign\",\"arguments\":{\"origin\":\"$bad\",\"certificate\":\"AA==\",\"hash\":\"AA==\",\"hashFunction\":\"SHA-256\"}}"
        after=$(apdus)
        [ "$(jr .error.code)" = origin-not-allowed ] || fail "$bad: $(cat "$T/r1")"
        sed -n 2p "$T/resp" | grep -q '"origin-not-allowed"' || fail "$bad (sign): $(cat "$T/resp")"
        [ "$before" = "$after" ] || fail "$bad: the card saw $((after - before)) APDUs"
        [ ! -s "$T/pe.log" ] || fail "$bad: pinentry was started"
    done
    ok "non-allowed origins (http, path, upper case, null, extension) get origin-not-allowed; the card saw no APDU (apdus=$after) and no PIN was asked"

    # 4. Wrong PINs: re-asked with the retries left; the person's own attempts.
    answers 000000 111111 123456
    req "{\"command\":\"authenticate\",\"arguments\":{\"challengeNonce\":\"$NONCE\",\"origin\":\"$ORIGIN\"}}"
    [ "$(jr .format)" = web-eid:1.1 ] || { cat "$T/r1" >&2; fail "authenticate after 2 wrong PINs failed"; }
    [ "$(grep -c '^GETPIN' "$T/pe.log")" -eq 3 ] || { cat "$T/pe.log" >&2; fail "not 3 PIN dialogs"; }
    grep -q '^SETERROR: PIN incorrecto, queda 1 intento' "$T/pe.log" || { cat "$T/pe.log" >&2; fail "no 'queda 1 intento'"; }
    ok "two wrong PINs: re-asked with SETERROR ($(grep '^SETERROR' "$T/pe.log" | sed 's/SETERROR: //' | paste -sd '|')), then signed in"
    answers 000000 111111 CANCEL
    req "{\"command\":\"authenticate\",\"arguments\":{\"challengeNonce\":\"$NONCE\",\"origin\":\"$ORIGIN\"}}"
    [ "$(jr .error.code)" = pin-incorrect ] && [ "$(jr .error.retriesLeft)" = 1 ] ||
        fail "giving up after wrong PINs: $(cat "$T/r1")"
    ok "giving up after two wrong PINs: pin-incorrect, retriesLeft 1 ($(jr .error.message))"
    answers 123456
    req "{\"command\":\"authenticate\",\"arguments\":{\"challengeNonce\":\"$NONCE\",\"origin\":\"$ORIGIN\"}}"
    [ "$(jr .format)" = web-eid:1.1 ] || fail "the right PIN does not reset the counter: $(cat "$T/r1")"

    # 5. Cancel at pinentry.
    answers CANCEL
    req "{\"command\":\"authenticate\",\"arguments\":{\"challengeNonce\":\"$NONCE\",\"origin\":\"http://localhost:8443\"}}"
    [ "$(jr .error.code)" = user-cancelled ] || fail "cancel: $(cat "$T/r1")"
    ok "cancel at pinentry: user-cancelled (http://localhost:8443 accepted for development)"

    # 6. get-signing-certificate and sign (raw, cms).
    req "{\"command\":\"get-signing-certificate\",\"arguments\":{\"origin\":\"$ORIGIN\"}}"
    jr .certificate | base64 -d > "$T/sign.der"
    cmp -s "$T/sign.der" "$FIX_FISICA_CER" || fail "get-signing-certificate: $(cat "$T/r1")"
    [ "$(jr '.supportedSignatureAlgorithms[0].cryptoAlgorithm')" = RSA ] || fail "no RSA algorithm"
    [ ! -s "$T/pe.log" ] || fail "get-signing-certificate asked for a PIN"
    ok "get-signing-certificate: the 9C certificate, no PIN"
    CERT=$(jr .certificate)
    printf 'Contrato de prueba %s\n' "$NONCE" > "$T/doc"
    HASH=$(openssl dgst -sha256 -binary "$T/doc" | base64 -w0)
    HEX=$(openssl dgst -sha256 -r "$T/doc" | cut -d' ' -f1)
    openssl x509 -inform DER -in "$T/sign.der" -pubkey -noout > "$T/sign.pub"
    answers 123456
    req "{\"command\":\"sign\",\"arguments\":{\"origin\":\"$ORIGIN\",\"certificate\":\"$CERT\",\"hash\":\"$HASH\",\"hashFunction\":\"SHA-256\"}}"
    jr .signature | base64 -d > "$T/sig"
    openssl dgst -sha256 -verify "$T/sign.pub" -signature "$T/sig" "$T/doc" > /dev/null ||
        fail "sign raw does not verify: $(cat "$T/r1")"
    [ "$(jr .signatureAlgorithm.paddingScheme)" = PKCS1.5 ] || fail "signatureAlgorithm: $(cat "$T/r1")"
    grep -q "$HEX" "$T/pe.log" || { cat "$T/pe.log" >&2; fail "pinentry did not show the hash"; }
    [ "$(grep -c '^GETPIN' "$T/pe.log")" -eq 1 ] || fail "9C (always-authenticate) asked the PIN twice"
    ok "sign raw (9C, always-authenticate, one PIN dialog showing the hash) verifies with openssl dgst"
    answers 123456
    req "{\"command\":\"sign\",\"arguments\":{\"origin\":\"$ORIGIN\",\"certificate\":\"$CERT\",\"hash\":\"$HASH\",\"hashFunction\":\"SHA-256\",\"format\":\"cms\"}}"
    [ "$(jr .format)" = cms ] || fail "sign cms: $(cat "$T/r1")"
    jr .signature | base64 -d > "$T/doc.p7s"
    openssl cms -verify -binary -inform DER -in "$T/doc.p7s" -content "$T/doc" \
        -CAfile "$FIX_CHAIN_PEM" -purpose any -out /dev/null 2> "$T/cms.err" ||
        { cat "$T/cms.err" >&2; fail "the CMS does not verify"; }
    openssl cms -cmsout -print -inform DER -in "$T/doc.p7s" > "$T/cms.txt"
    for attr in contentType messageDigest signingTime id-smime-aa-signingCertificateV2; do
        grep -q "$attr" "$T/cms.txt" || fail "the CMS lacks $attr"
    done
    printf 'otro\n' > "$T/doc2"
    if openssl cms -verify -binary -inform DER -in "$T/doc.p7s" -content "$T/doc2" \
        -CAfile "$FIX_CHAIN_PEM" -purpose any -out /dev/null 2>/dev/null; then
        fail "the CMS verifies for other content"
    fi
    ok "sign format cms: detached CAdES-BES (content-type, message-digest, signing-time, signing-certificate-v2) verifies with openssl cms -verify, not for other content"
    answers 123456
    req "{\"command\":\"sign\",\"arguments\":{\"origin\":\"$ORIGIN\",\"certificate\":\"$(base64 -w0 "$FIX_MORAL_CER")\",\"hash\":\"$HASH\",\"hashFunction\":\"SHA-256\"}}"
    [ "$(jr .error.code)" = no-token ] || fail "a certificate not on the card: $(cat "$T/r1")"
    req "{\"command\":\"sign\",\"arguments\":{\"origin\":\"$ORIGIN\",\"certificate\":\"$CERT\",\"hash\":\"AAAA\",\"hashFunction\":\"SHA-256\"}}"
    [ "$(jr .error.code)" = bad-argument ] || fail "a short hash: $(cat "$T/r1")"
    ok "sign refuses a certificate not on the card (no-token) and a hash of the wrong length (bad-argument)"

    # 7. Malformed and oversized frames: bad-argument, the agent keeps serving.
    req 'not json' '@len 1048577' '[1,2]' '{"command":42}' '@raw 0300000022ff22' \
        '{"command":"authenticate","arguments":{"origin":"https://a.example"}}' \
        '{"command":"version"}'
    n=$(grep -c '"bad-argument"' "$T/resp")
    [ "$n" -eq 6 ] || { cat "$T/resp" >&2; fail "$n bad-argument answers, not 6"; }
    sed -n 7p "$T/resp" | grep -q '"version"' || fail "the agent stopped serving"
    grep -q '^exit 0$' "$T/resp" || fail "the agent did not exit 0 at EOF"
    ok "malformed JSON, 1 MiB + 1 frame, non-objects, bad UTF-8, missing nonce: bad-argument; the agent serves on and exits 0 at EOF"
    printf '\001\000' | timeout 10 "$AGENT" > /dev/null 2>&1 && fail "a truncated header exits 0"
    st=0; printf '\010\000\000\000{"co' | timeout 10 "$AGENT" > /dev/null 2>&1 || st=$?
    [ "$st" -eq 1 ] || fail "a truncated body: exit $st"
    ok "truncated frames end the agent with status 1 (no hang, no crash)"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
[ -x "$AGENT" ] || fail "llavero-agent not built: $AGENT"
command -v jq > /dev/null || fail "jq not installed (scripts/deps.sh)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-agent-vcard.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FIXDIR=${LLAVERO_FIXTURES_DIR:-$LLAVERO_BUILD/fixtures}
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null || fail "fixture generation failed"
# shellcheck disable=SC1091
. "$FIXDIR/fixtures.env"

S=$WORK/card.state
"$VCARD" init --state "$S" >/dev/null || fail "init failed"
for slot in 9a 9c; do
    "$VCARD" provision --state "$S" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
        --password-file "$FIX_FISICA_PASS_FILE" --slot $slot >/dev/null || fail "provision $slot failed"
done
"$VCARD" provision --state "$S" --cert "$FIX_EC256_CERT_DER" --key "$FIX_EC256_KEY_PEM" \
    --slot 9d >/dev/null || fail "provision 9d failed"
ok "card provisioned: persona física e.firma in 9A and 9C, P-256 in 9D"

export WORK FIXDIR
LLAVERO_VCARD=$VCARD sh "$LLAVERO_HARNESS/pcsc-ns.sh" --state "$S" --log "$WORK/log" \
    -- sh "$0" inner || fail "agent checks failed"
echo "PASS: agent_vcard"
