#!/bin/sh
# llavero-pkcs11.so with OpenSC's pkcs11-tool on llavero-vcard (issue 4,
# acceptance 1, first part).
#   outer part: fixtures; a card with the persona física e.firma in 9A, the
#               persona moral e.firma in 9C (always-authenticate), EC P-256 in
#               9D and EC P-384 in 9E; then the inner part under pcsc-ns.sh
#   inner part: pkcs11-tool -L / -O before and after login; --sign with
#               RSA-PKCS, SHA256-RSA-PKCS, RSA-PKCS-PSS, SHA256-RSA-PKCS-PSS on
#               9A and 9C (9C through CKU_CONTEXT_SPECIFIC), ECDSA,
#               ECDSA-SHA256, ECDSA-SHA384 on 9D/9E; openssl verifies each
#               signature with the provisioned certificate; --test passes; a
#               wrong PIN gives CKR_PIN_INCORRECT and the token shows it.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
PIN=123456
# fail, ok and the pkcs11-tool helpers p11, p11_sign, p11_sign_inputs
# (bounded by P11_TIMEOUT, 60 s by default) come from testlib.sh.
. "$LLAVERO_HARNESS/testlib.sh"

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    p11_sign_inputs

    # 1. Slots and token
    p11 -L || { cat "$T/p11.out" >&2; fail "pkcs11-tool -L failed"; }
    grep -q "token label" "$T/p11.out" || { cat "$T/p11.out" >&2; fail "-L shows no token"; }
    grep -q "token model *: Llavero vcard" "$T/p11.out" || { cat "$T/p11.out" >&2; fail "-L: model is not 'Llavero vcard'"; }
    ok "pkcs11-tool -L lists the reader slots and the PIV token"

    # 2. Objects before login: certificates and public keys, no private keys
    p11 -O || { cat "$T/p11.out" >&2; fail "pkcs11-tool -O failed"; }
    for want in "Certificate Object" "Public Key Object; RSA 2048" "Public Key Object; EC" \
                "$FIX_FISICA_NAME"; do
        grep -Fq "$want" "$T/p11.out" || { cat "$T/p11.out" >&2; fail "-O lacks '$want'"; }
    done
    if grep -q "Private Key Object" "$T/p11.out"; then
        cat "$T/p11.out" >&2; fail "private keys are visible before login"
    fi
    [ "$(grep -c 'Certificate Object' "$T/p11.out")" -eq 4 ] || { cat "$T/p11.out" >&2; fail "not 4 certificates"; }
    ok "pkcs11-tool -O: 4 certificates and their public keys before login, no private keys"
    p11 --login --pin "$PIN" -O --type privkey || { cat "$T/p11.out" >&2; fail "--login -O failed"; }
    [ "$(grep -c 'Private Key Object' "$T/p11.out")" -eq 4 ] || { cat "$T/p11.out" >&2; fail "not 4 private keys after login"; }
    grep -A8 'label: *SIGN key' "$T/p11.out" | grep -q 'Access: *always authenticate' ||
        { cat "$T/p11.out" >&2; fail "the 9C key is not always-authenticate"; }
    ok "after login: 4 private keys; 9C is always-authenticate"

    # 3. RSA on 9A (ID 01) and 9C (ID 02, CKU_CONTEXT_SPECIFIC)
    for pair in 01:9a 02:9c; do
        id=${pair%%:*} s=${pair#*:}
        p11_sign "$id" RSA-PKCS "$T/doc.sha256" "$T/sig"
        openssl pkeyutl -verifyrecover -pubin -inkey "$T/$s.pub" -in "$T/sig" \
            -out "$T/rec" 2>/dev/null || fail "$s RSA-PKCS signature does not verify"
        cmp -s "$T/rec" "$T/doc.sha256" || fail "$s RSA-PKCS signature recovers other data"
        ok "$s RSA-PKCS: openssl recovers the signed bytes"

        p11_sign "$id" SHA256-RSA-PKCS "$T/doc" "$T/sig"
        openssl dgst -sha256 -verify "$T/$s.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
            fail "$s SHA256-RSA-PKCS signature does not verify"
        ok "$s SHA256-RSA-PKCS verifies"

        p11_sign "$id" RSA-PKCS-PSS "$T/doc.sha256" "$T/sig" \
            --hash-algorithm SHA256 --mgf MGF1-SHA256 --salt-len 32
        openssl pkeyutl -verify -pubin -inkey "$T/$s.pub" -in "$T/doc.sha256" -sigfile "$T/sig" \
            -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 \
            -pkeyopt rsa_mgf1_md:sha256 >/dev/null || fail "$s RSA-PKCS-PSS signature does not verify"
        ok "$s RSA-PKCS-PSS verifies"

        p11_sign "$id" SHA256-RSA-PKCS-PSS "$T/doc" "$T/sig" --mgf MGF1-SHA256 --salt-len 32
        openssl dgst -sha256 -verify "$T/$s.pub" -signature "$T/sig" \
            -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "$T/doc" >/dev/null ||
            fail "$s SHA256-RSA-PKCS-PSS signature does not verify"
        ok "$s SHA256-RSA-PKCS-PSS verifies"
    done

    # 4. ECDSA on 9D (P-256, ID 03) and 9E (P-384, ID 04)
    p11_sign 03 ECDSA "$T/doc.sha256" "$T/sig" --signature-format openssl
    openssl pkeyutl -verify -pubin -inkey "$T/9d.pub" -in "$T/doc.sha256" -sigfile "$T/sig" >/dev/null ||
        fail "9d ECDSA signature does not verify"
    p11_sign 03 ECDSA-SHA256 "$T/doc" "$T/sig" --signature-format openssl
    openssl dgst -sha256 -verify "$T/9d.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
        fail "9d ECDSA-SHA256 signature does not verify"
    p11_sign 03 ECDSA "$T/doc.sha256" "$T/sig"
    [ "$(wc -c < "$T/sig")" -eq 64 ] || fail "9d raw ECDSA signature is not 64 bytes"
    ok "9d ECDSA and ECDSA-SHA256 (P-256) verify"
    p11_sign 04 ECDSA "$T/doc.sha384" "$T/sig" --signature-format openssl
    openssl pkeyutl -verify -pubin -inkey "$T/9e.pub" -in "$T/doc.sha384" -sigfile "$T/sig" >/dev/null ||
        fail "9e ECDSA signature does not verify"
    p11_sign 04 ECDSA-SHA384 "$T/doc" "$T/sig" --signature-format openssl
    openssl dgst -sha384 -verify "$T/9e.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
        fail "9e ECDSA-SHA384 signature does not verify"
    ok "9e ECDSA and ECDSA-SHA384 (P-384) verify"

    # 5. pkcs11-tool's own test suite
    p11 --login --pin "$PIN" --test || { cat "$T/p11.out" >&2; fail "pkcs11-tool --test failed"; }
    grep -q "No errors" "$T/p11.out" || { cat "$T/p11.out" >&2; fail "pkcs11-tool --test reported errors"; }
    ok "pkcs11-tool --test: no errors"

    # 6. A wrong PIN: CKR_PIN_INCORRECT, and the token says a try was used
    if p11 --login --pin 999999 -O; then
        fail "a wrong PIN logged in"
    fi
    grep -q CKR_PIN_INCORRECT "$T/p11.out" || { cat "$T/p11.out" >&2; fail "wrong PIN: not CKR_PIN_INCORRECT"; }
    p11 -T || fail "pkcs11-tool -T failed"
    grep -q "user PIN count low" "$T/p11.out" || { cat "$T/p11.out" >&2; fail "no CKF_USER_PIN_COUNT_LOW after a wrong PIN"; }
    p11 --login --pin "$PIN" -O >/dev/null || fail "the right PIN no longer logs in"
    p11 -T || fail "pkcs11-tool -T failed"
    if grep -q "user PIN count low" "$T/p11.out"; then
        fail "CKF_USER_PIN_COUNT_LOW stays after a good PIN"
    fi
    ok "wrong PIN: CKR_PIN_INCORRECT and CKF_USER_PIN_COUNT_LOW, cleared by the right PIN"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
command -v pkcs11-tool >/dev/null || fail "pkcs11-tool (opensc) is missing"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-pkcs11-basic.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FIXDIR=${LLAVERO_FIXTURES_DIR:-$LLAVERO_BUILD/fixtures}
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null || fail "fixture generation failed"
# shellcheck disable=SC1091
. "$FIXDIR/fixtures.env"

S=$WORK/card.state
"$VCARD" init --state "$S" >/dev/null || fail "init failed"
"$VCARD" provision --state "$S" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
    --password-file "$FIX_FISICA_PASS_FILE" --slot 9a >/dev/null || fail "provision 9a failed"
"$VCARD" provision --state "$S" --efirma "$FIX_MORAL_CER" "$FIX_MORAL_KEY" \
    --password-file "$FIX_MORAL_PASS_FILE" --slot 9c >/dev/null || fail "provision 9c failed"
"$VCARD" provision --state "$S" --cert "$FIX_EC256_CERT_DER" --key "$FIX_EC256_KEY_PEM" \
    --slot 9d >/dev/null || fail "provision 9d failed"
"$VCARD" provision --state "$S" --cert "$FIX_EC384_CERT_DER" --key "$FIX_EC384_KEY" \
    --password-file "$FIX_EC384_PASS_FILE" --slot 9e >/dev/null || fail "provision 9e failed"
ok "card provisioned: 9A persona física, 9C persona moral, 9D P-256, 9E P-384"

export WORK FIXDIR P11
LLAVERO_VCARD=$VCARD sh "$LLAVERO_HARNESS/pcsc-ns.sh" --state "$S" --log "$WORK/log" \
    --port "${LLAVERO_VCARD_PORT:-35983}" -- sh "$0" inner || fail "pkcs11-tool checks failed"
echo "PASS: pkcs11_basic"
