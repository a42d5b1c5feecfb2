#!/bin/sh
# Acceptance 3: yubico-piv-tool, another independent client, drives
# llavero-vcard:
#   -a status reads the card (version, CHUID, CCC, the 9A slot, PIN tries);
#   -a verify-pin works with 123456 and reports the retries left on a wrong
#   PIN; -a import-key / -a import-certificate (default management key) put
#   an RSA key and certificate into 9c and an EC P-256 one into 9d; -a status
#   then shows both with the certificate's SHA-256 fingerprint; OpenSC's
#   pkcs11-tool signs with the imported keys and openssl verifies with the
#   imported certificates.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_HARNESS/testlib.sh"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}

# ypt ARGS...: yubico-piv-tool on the harness reader (its default reader
# filter is "Yubikey"); output in $T/ypt.out.
ypt() {
    timeout 30 yubico-piv-tool -r "$LLAVERO_READER" "$@" > "$T/ypt.out" 2>&1
}

# fingerprint DER: SHA-256 of the certificate, lowercase hex.
fingerprint() {
    openssl dgst -sha256 -r "$1" | cut -d' ' -f1
}

inner() {
    T=$WORK/inner
    mkdir -p "$T"

    # 1. -a status
    ypt -a status || { cat "$T/ypt.out" >&2; fail "yubico-piv-tool -a status failed"; }
    for want in "Version:" "CHUID:" "CCC:" "Slot 9a:" "Algorithm:	RSA2048" \
                "Fingerprint:	$(fingerprint "$FIX_FISICA_CER")" "PIN tries left:	3"; do
        grep -Fq "$want" "$T/ypt.out" || { cat "$T/ypt.out" >&2; fail "-a status lacks '$want'"; }
    done
    grep -q '^Slot 9c:' "$T/ypt.out" && fail "-a status shows a 9c slot on a card without one"
    ok "yubico-piv-tool -a status: version, CHUID, CCC, slot 9a with the provisioned certificate, PIN tries 3"

    # 2. -a verify-pin
    ypt -a verify-pin -P 123456 || { cat "$T/ypt.out" >&2; fail "-a verify-pin -P 123456 failed"; }
    grep -q 'Successfully verified PIN' "$T/ypt.out" || { cat "$T/ypt.out" >&2; fail "verify-pin: no success message"; }
    if ypt -a verify-pin -P 999999; then
        fail "-a verify-pin accepted a wrong PIN"
    fi
    grep -q '2 tries left' "$T/ypt.out" || { cat "$T/ypt.out" >&2; fail "wrong PIN: no '2 tries left'"; }
    ypt -a verify-pin -P 123456 || fail "-a verify-pin after a wrong PIN failed"
    ypt -a status
    grep -Fq "PIN tries left:	3" "$T/ypt.out" || fail "a right PIN did not reset the retry counter"
    ok "yubico-piv-tool -a verify-pin: right PIN ok, wrong PIN reports 2 tries left, right PIN resets"

    # 3. import a key and a certificate into 9c (RSA) and 9d (EC P-256),
    # with the default management key.
    ypt -a import-key -s 9c -i "$FIX_MORAL_KEY_PEM" ||
        { cat "$T/ypt.out" >&2; fail "-a import-key -s 9c failed"; }
    ypt -a import-certificate -s 9c -i "$FIX_MORAL_CERT_PEM" ||
        { cat "$T/ypt.out" >&2; fail "-a import-certificate -s 9c failed"; }
    ypt -a import-key -s 9d -i "$FIX_EC256_KEY_PEM" ||
        { cat "$T/ypt.out" >&2; fail "-a import-key -s 9d failed"; }
    ypt -a import-certificate -s 9d -i "$FIX_EC256_CERT_PEM" ||
        { cat "$T/ypt.out" >&2; fail "-a import-certificate -s 9d failed"; }
    # A wrong management key is refused.
    if ypt -a import-certificate -s 9d -i "$FIX_EC256_CERT_PEM" \
            --key=0102030405060708010203040506070801020304050607ff; then
        fail "import with a wrong management key succeeded"
    fi
    grep -q 'Failed authentication with the application' "$T/ypt.out" ||
        { cat "$T/ypt.out" >&2; fail "wrong management key: unexpected failure"; }
    grep -q '< 6982' "$LLAVERO_HARNESS_LOG/vcard.log" ||
        fail "wrong management key: the card did not answer 6982"
    ypt -a status || fail "-a status after import failed"
    grep -A5 '^Slot 9c:' "$T/ypt.out" | grep -Fq "Fingerprint:	$(fingerprint "$FIX_MORAL_CER")" ||
        { cat "$T/ypt.out" >&2; fail "-a status does not show the imported 9c certificate"; }
    grep -A5 '^Slot 9d:' "$T/ypt.out" | grep -Fq "Algorithm:	ECCP256" ||
        { cat "$T/ypt.out" >&2; fail "-a status does not show an ECCP256 9d"; }
    "$LLAVERO_VCARD" status --state "$LLAVERO_VCARD_STATE" | grep -q '^Ranura 9C.*RSA-2048' ||
        fail "the vcard state has no RSA key in 9C"
    ok "yubico-piv-tool imports key+certificate into 9c (RSA-2048) and 9d (P-256); a wrong management key is refused"

    # 4. OpenSC signs with the imported keys; openssl verifies.
    printf 'trámite firmado con la llave importada\n' > "$T/doc"
    openssl x509 -inform DER -in "$FIX_MORAL_CER" -pubkey -noout > "$T/9c.pub"
    openssl x509 -inform DER -in "$FIX_EC256_CERT_DER" -pubkey -noout > "$T/9d.pub"
    timeout 30 pkcs11-tool --module "$P11" --login --pin 123456 --sign --id 02 \
        --mechanism SHA256-RSA-PKCS --input-file "$T/doc" --output-file "$T/sig" > "$T/p11.out" 2>&1 ||
        { cat "$T/p11.out" >&2; fail "pkcs11-tool could not sign with the imported 9c key"; }
    openssl dgst -sha256 -verify "$T/9c.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
        fail "the 9c signature does not verify with the imported certificate"
    timeout 30 pkcs11-tool --module "$P11" --login --pin 123456 --sign --id 03 \
        --mechanism ECDSA-SHA256 --signature-format openssl --input-file "$T/doc" \
        --output-file "$T/sig" > "$T/p11.out" 2>&1 ||
        { cat "$T/p11.out" >&2; fail "pkcs11-tool could not sign with the imported 9d key"; }
    openssl dgst -sha256 -verify "$T/9d.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
        fail "the 9d signature does not verify with the imported certificate"
    ok "OpenSC signs with the imported 9c (SHA256-RSA-PKCS) and 9d (ECDSA-SHA256) keys; openssl verifies"
}

if [ "${1:-}" = inner ]; then
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    inner
    exit 0
fi

command -v yubico-piv-tool >/dev/null || fail "yubico-piv-tool is missing (scripts/deps.sh)"
[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
scratch_dir llavero-vcard-yubico
WORK=$SCRATCH
gen_fixtures
S=$WORK/card.state
vcard_init "$S"
vcard_provision "$S" 9a:fisica

export WORK FIXDIR
pcsc_ns "$S" --log "$WORK/log" --verbose -- sh "$0" inner || fail "yubico-piv-tool checks failed"
echo "PASS: vcard_yubico"
