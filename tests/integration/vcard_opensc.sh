#!/bin/sh
# Acceptance 1: OpenSC, a client we did not write, treats llavero-vcard as a
# PIV card.
#   outer part: fixtures; a card with the persona física e.firma (SAT-format
#               .key) in 9A, the persona moral e.firma in 9C, EC P-256 in 9D
#               and EC P-384 in 9E; then the inner part under pcsc-ns.sh
#   inner part: opensc-tool -n names it PIV; pkcs11-tool lists the 9A/9C
#               certificates and keys; logs in with the PIN and signs with
#               RSA-PKCS, SHA256-RSA-PKCS, RSA-PKCS-PSS, SHA256-RSA-PKCS-PSS,
#               ECDSA, ECDSA-SHA256 and ECDSA-SHA384; openssl verifies every
#               signature against the provisioned certificate; pkcs15-tool
#               --read-certificate returns the provisioned DER byte for byte.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_HARNESS/testlib.sh"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
PIN=123456

# pkcs11-tool on OpenSC's module (testlib.sh's p11, p11_sign, p11_sign_inputs).
# shellcheck disable=SC2034  # read by testlib.sh's p11
P11_TIMEOUT=30

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    p11_sign_inputs

    # 1. OpenSC names the card PIV.
    name=$(opensc-tool -n 2>/dev/null | tail -n 1)
    case $name in
        "Personal Identity Verification Card") ;;
        *) fail "opensc-tool -n names the card '$name', not PIV" ;;
    esac
    ok "opensc-tool -n: $name"

    # 2. Objects: certificates and public keys of 9A (ID 01) and 9C (ID 02)
    # before login; their private keys after login.
    p11 --list-objects || { cat "$T/p11.out" >&2; fail "pkcs11-tool -O failed"; }
    for want in "Certificate for PIV Authentication" "Certificate for Digital Signature" \
                "PIV AUTH pubkey" "SIGN pubkey" "subject:    DN: CN=$FIX_FISICA_NAME" \
                "subject:    DN: CN=$FIX_MORAL_NAME"; do
        grep -Fq "$want" "$T/p11.out" || { cat "$T/p11.out" >&2; fail "pkcs11-tool -O lacks '$want'"; }
    done
    ok "pkcs11-tool -O lists the 9A and 9C certificates and public keys"
    p11 --login --pin "$PIN" --list-objects --type privkey ||
        { cat "$T/p11.out" >&2; fail "pkcs11-tool --login -O failed"; }
    for want in "PIV AUTH key" "SIGN key" "KEY MAN key" "CARD AUTH key"; do
        grep -Fq "label:      $want" "$T/p11.out" ||
            { cat "$T/p11.out" >&2; fail "no private key '$want' after login"; }
    done
    grep -A3 'label:      PIV AUTH key' "$T/p11.out" | grep -q 'ID:         01' || fail "PIV AUTH key is not ID 01"
    grep -A3 'label:      SIGN key' "$T/p11.out" | grep -q 'ID:         02' || fail "SIGN key is not ID 02"
    ok "after login pkcs11-tool lists the private keys of 9A, 9C, 9D and 9E"

    # 3. RSA signatures with 9A and 9C (9C is always-authenticate: pkcs11-tool
    # does the CKU_CONTEXT_SPECIFIC login with --pin).
    for pair in 01:9a 02:9c; do
        id=${pair%%:*} s=${pair#*:}
        # RSA-PKCS: PKCS#1 v1.5 over caller data (here a DigestInfo would also
        # do; any short data must come back from verifyrecover unchanged).
        p11_sign "$id" RSA-PKCS "$T/doc.sha256" "$T/sig"
        openssl pkeyutl -verifyrecover -pubin -inkey "$T/$s.pub" -in "$T/sig" \
            -out "$T/rec" 2>/dev/null || fail "$s RSA-PKCS signature does not verify"
        cmp -s "$T/rec" "$T/doc.sha256" || fail "$s RSA-PKCS signature recovers other data"
        ok "$s RSA-PKCS signs; openssl recovers the signed bytes"

        p11_sign "$id" SHA256-RSA-PKCS "$T/doc" "$T/sig"
        [ "$(wc -c < "$T/sig")" -eq 256 ] || fail "$s SHA256-RSA-PKCS signature is not 256 bytes"
        openssl dgst -sha256 -verify "$T/$s.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
            fail "$s SHA256-RSA-PKCS signature does not verify"
        ok "$s SHA256-RSA-PKCS verifies with openssl dgst -verify"

        p11_sign "$id" RSA-PKCS-PSS "$T/doc.sha256" "$T/sig" \
            --hash-algorithm SHA256 --mgf MGF1-SHA256 --salt-len 32
        openssl pkeyutl -verify -pubin -inkey "$T/$s.pub" -in "$T/doc.sha256" -sigfile "$T/sig" \
            -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 \
            -pkeyopt rsa_mgf1_md:sha256 >/dev/null || fail "$s RSA-PKCS-PSS signature does not verify"
        ok "$s RSA-PKCS-PSS (SHA-256, MGF1-SHA256, salt 32) verifies with openssl pkeyutl"

        p11_sign "$id" SHA256-RSA-PKCS-PSS "$T/doc" "$T/sig" --mgf MGF1-SHA256 --salt-len 32
        openssl dgst -sha256 -verify "$T/$s.pub" -signature "$T/sig" \
            -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "$T/doc" >/dev/null ||
            fail "$s SHA256-RSA-PKCS-PSS signature does not verify"
        ok "$s SHA256-RSA-PKCS-PSS verifies with openssl dgst -verify"
    done
    # A signature from 9A must not verify with 9C's certificate.
    p11_sign 01 SHA256-RSA-PKCS "$T/doc" "$T/sig"
    if openssl dgst -sha256 -verify "$T/9c.pub" -signature "$T/sig" "$T/doc" >/dev/null 2>&1; then
        fail "a 9A signature verifies with the 9C certificate"
    fi
    ok "a 9A signature does not verify with the 9C certificate"

    # 4. ECDSA: P-256 in 9D (ID 03), P-384 in 9E (ID 04); DER output.
    p11_sign 03 ECDSA "$T/doc.sha256" "$T/sig" --signature-format openssl
    openssl pkeyutl -verify -pubin -inkey "$T/9d.pub" -in "$T/doc.sha256" -sigfile "$T/sig" >/dev/null ||
        fail "9d ECDSA (P-256) signature does not verify"
    ok "9d ECDSA P-256 over a SHA-256 hash verifies with openssl pkeyutl"
    p11_sign 03 ECDSA-SHA256 "$T/doc" "$T/sig" --signature-format openssl
    openssl dgst -sha256 -verify "$T/9d.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
        fail "9d ECDSA-SHA256 signature does not verify"
    ok "9d ECDSA-SHA256 verifies with openssl dgst -verify"
    # Raw r||s (pkcs11-tool's default): 64 bytes for P-256.
    p11_sign 03 ECDSA "$T/doc.sha256" "$T/sig"
    [ "$(wc -c < "$T/sig")" -eq 64 ] || fail "9d raw ECDSA signature is $(wc -c < "$T/sig") bytes, not 64"
    p11_sign 04 ECDSA "$T/doc.sha384" "$T/sig" --signature-format openssl
    openssl pkeyutl -verify -pubin -inkey "$T/9e.pub" -in "$T/doc.sha384" -sigfile "$T/sig" >/dev/null ||
        fail "9e ECDSA (P-384) signature does not verify"
    p11_sign 04 ECDSA-SHA384 "$T/doc" "$T/sig" --signature-format openssl
    openssl dgst -sha384 -verify "$T/9e.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
        fail "9e ECDSA-SHA384 signature does not verify"
    ok "9e ECDSA and ECDSA-SHA384 (P-384) verify with openssl"

    # 5. pkcs15-tool returns the provisioned certificates byte for byte.
    for pair in 01:"$FIX_FISICA_CER" 02:"$FIX_MORAL_CER" 03:"$FIX_EC256_CERT_DER" 04:"$FIX_EC384_CERT_DER"; do
        id=${pair%%:*} cer=${pair#*:}
        timeout 30 pkcs15-tool --read-certificate "$id" > "$T/cert.pem" 2>"$T/p15.err" ||
            { cat "$T/p15.err" >&2; fail "pkcs15-tool --read-certificate $id failed"; }
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$T/cert.pem" |
            sed '/-----/d' | base64 -d > "$T/cert.der" || fail "certificate $id is not PEM"
        cmp "$T/cert.der" "$cer" || fail "certificate $id differs from the provisioned DER"
    done
    ok "pkcs15-tool --read-certificate 01..04 returns exactly the provisioned DER"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
[ -r "$P11" ] || fail "OpenSC's PKCS#11 module not found: $P11 (scripts/deps.sh)"
scratch_dir llavero-vcard-opensc
WORK=$SCRATCH
gen_fixtures

S=$WORK/card.state
vcard_init "$S"
vcard_provision "$S" 9a:fisica 9c:moral 9d:ec256 9e:ec384
ok "card provisioned: 9A persona física, 9C persona moral (SAT .key), 9D P-256, 9E P-384"

export WORK FIXDIR
pcsc_ns "$S" --log "$WORK/log" -- sh "$0" inner || fail "OpenSC checks failed"
echo "PASS: vcard_opensc"
