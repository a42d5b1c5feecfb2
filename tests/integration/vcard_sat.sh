#!/bin/sh
# Acceptance 4: the real SAT test e.firma (fiel-EKU9003173C9, password
# 12345678a, in $LLAVERO_SAT_DIR = ../shared/testdata/sat) imported into 9C
# with `llavero-vcard provision --efirma`, signs through OpenSC
# (SHA256-RSA-PKCS; 9C asks for the PIN again: always-authenticate) and the
# signature verifies with its .cer; pkcs15-tool reads the .cer back byte for
# byte. Exits 77 (ctest: skipped) with a loud message when the SAT folder is
# absent.
set -eu

: "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_HARNESS/testlib.sh"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
SAT=${LLAVERO_SAT_DIR:-}
FIEL=$SAT/fiel-EKU9003173C9
CER=$FIEL/EKU9003173C9.cer
KEY=$FIEL/EKU9003173C9.key

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    timeout 30 pkcs11-tool --module "$P11" --list-objects --type cert > "$T/objs" 2>&1 ||
        { cat "$T/objs" >&2; fail "pkcs11-tool -O failed"; }
    grep -A4 'Certificate for Digital Signature' "$T/objs" | grep -q 'ID:         02' ||
        { cat "$T/objs" >&2; fail "OpenSC does not list the 9C certificate"; }
    grep -q "$RFC" "$T/objs" || { cat "$T/objs" >&2; fail "the 9C certificate does not show RFC $RFC"; }
    ok "OpenSC lists the SAT certificate in 9C (RFC $RFC)"

    printf '||1.1|EKU9003173C9|cadena original de prueba||\n' > "$T/doc"
    timeout 30 pkcs11-tool --module "$P11" --login --pin 123456 --sign --id 02 \
        --mechanism SHA256-RSA-PKCS --input-file "$T/doc" --output-file "$T/sig" > "$T/p11.out" 2>&1 ||
        { cat "$T/p11.out" >&2; fail "pkcs11-tool could not sign with the SAT key in 9C"; }
    openssl x509 -inform DER -in "$CER" -pubkey -noout > "$T/pub.pem"
    openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig" "$T/doc" ||
        fail "the signature does not verify with EKU9003173C9.cer"
    # The same signature as the .key makes in software (PKCS#1 v1.5 is
    # deterministic).
    openssl dgst -sha256 -sign "$KEY_PEM" -out "$T/sig.soft" "$T/doc"
    cmp -s "$T/sig" "$T/sig.soft" || fail "the card's signature differs from the .key's own signature"
    ok "SHA256-RSA-PKCS through OpenSC verifies with the .cer and equals the .key's software signature"

    timeout 30 pkcs15-tool --read-certificate 02 2>/dev/null |
        sed '/-----/d' | base64 -d > "$T/cert.der" || fail "pkcs15-tool --read-certificate 02 failed"
    cmp -s "$T/cert.der" "$CER" || fail "the certificate read back differs from EKU9003173C9.cer"
    ok "pkcs15-tool --read-certificate 02 returns EKU9003173C9.cer byte for byte"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

if [ -z "$SAT" ] || [ ! -d "$SAT" ]; then
    echo "########################################################################"
    echo "SKIPPED: ../shared/testdata/sat not found (LLAVERO_SAT_DIR='$SAT')"
    echo "         the real SAT e.firma test was NOT run"
    echo "########################################################################"
    exit 77
fi
[ -r "$CER" ] && [ -r "$KEY" ] || fail "SAT folder present but $FIEL lacks the .cer/.key"
[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
scratch_dir llavero-vcard-sat
WORK=$SCRATCH
printf '12345678a' > "$WORK/pass"
chmod 600 "$WORK/pass"
# The RFC from the certificate subject (2.5.4.45, x500UniqueIdentifier).
RFC=$(openssl x509 -inform DER -in "$CER" -noout -subject -nameopt sep_multiline,sname |
    sed -n 's/^ *x500UniqueIdentifier=\([A-Z0-9&]*\).*/\1/p' | head -n 1)
[ "$RFC" = EKU9003173C9 ] || fail "RFC in the certificate is '$RFC', expected EKU9003173C9"
KEY_PEM=$WORK/key.pem
openssl pkcs8 -inform DER -in "$KEY" -passin "file:$WORK/pass" -out "$KEY_PEM" 2>/dev/null ||
    fail "openssl cannot decrypt EKU9003173C9.key with 12345678a"

S=$WORK/card.state
vcard_init "$S"
"$VCARD" provision --state "$S" --efirma "$CER" "$KEY" --password-file "$WORK/pass" --slot 9c \
    > "$WORK/prov.out" 2>&1 || { cat "$WORK/prov.out" >&2; fail "provision of the SAT e.firma into 9c failed"; }
"$VCARD" status --state "$S" | grep -q '^Ranura 9C.*RSA-2048.*EKU9003173C9' ||
    { "$VCARD" status --state "$S" >&2; fail "status does not show the SAT e.firma in 9C"; }
ok "llavero-vcard provision --efirma imported the SAT e.firma (RFC $RFC) into 9C"

export WORK RFC CER KEY KEY_PEM
pcsc_ns "$S" --log "$WORK/log" -- sh "$0" inner || fail "SAT e.firma checks failed"
echo "PASS: vcard_sat"
