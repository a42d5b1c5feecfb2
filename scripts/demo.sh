#!/bin/sh
# Llavero demo: a simulated e.firma smart card on a real pcscd, used through
# OpenSC, verified with OpenSSL.
#
#   ./scripts/demo.sh [--no-build]
#
# 1. installs missing Debian packages and builds (scripts/build.sh; skipped
#    with --no-build when the build directory is already built);
# 2. generates a local test CA and a SAT-shaped persona física e.firma
#    (.cer + .key, password 12345678a) into build/demo/;
# 3. creates a simulated PIV card (llavero-vcard, PIN 123456) and imports the
#    e.firma into slot 9C (digital signature);
# 4. inside a private namespace with its own pcscd and virtual reader:
#    OpenSC detects the card, reads the certificate, signs a document
#    (SHA256-RSA-PKCS, slot 9C, through opensc-pkcs11.so) and OpenSSL
#    verifies the signature against the .cer.
# Exit status 0 when the signature verifies.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LLAVERO_BUILD_DIR:-$ROOT/build}
DEMO=$BUILD/demo
P11=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
VCARD=$BUILD/firmware-test/vcard/llavero-vcard
PIN=123456

B="" G="" R="" N=""
if [ -t 1 ]; then B=$(printf '\033[1m') G=$(printf '\033[32m') R=$(printf '\033[31m') N=$(printf '\033[0m'); fi
say() { printf '%s\n' "$*"; }
step() { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
okmsg() { printf '  %s✔%s %s\n' "$G" "$N" "$*"; }
die() {
    printf '  %s✘ %s%s\n' "$R" "$*" "$N" >&2
    exit 1
}

# subject_field CER SHORTNAME: one attribute of the certificate's subject.
subject_field() {
    openssl x509 -inform DER -in "$1" -noout -subject -nameopt sep_multiline,sname,utf8,-esc_msb |
        sed -n "s/^ *$2=//p" | head -n 1
}

# ---- inside the harness: the card on pcscd --------------------------------
inner() {
    step "3. La tarjeta en el lector (the card in the reader)"
    name=$(opensc-tool -n 2>/dev/null | tail -n 1)
    [ "$name" = "Personal Identity Verification Card" ] || die "OpenSC no reconoce la tarjeta como PIV: $name"
    okmsg "OpenSC detecta una tarjeta PIV en «$LLAVERO_READER» (card detected as PIV)"
    pkcs11-tool --module "$P11" --list-objects --type cert > "$DEMO/objetos.txt" 2>&1 ||
        die "pkcs11-tool no pudo leer la tarjeta (see $DEMO/objetos.txt)"
    grep -q 'Certificate for Digital Signature' "$DEMO/objetos.txt" ||
        die "no hay certificado de firma en la ranura 9C"
    okmsg "certificado de firma en la ranura 9C (signing certificate in slot 9C)"

    step "4. Firma con la e.firma de la tarjeta (signing through OpenSC's PKCS#11)"
    say "  documento / document: $DOC"
    say "  SHA-256: $(openssl dgst -sha256 -r "$DOC" | cut -d' ' -f1)"
    rm -f "$DEMO/documento.sig"
    pkcs11-tool --module "$P11" --login --pin "$PIN" --sign --id 02 --mechanism SHA256-RSA-PKCS \
        --input-file "$DOC" --output-file "$DEMO/documento.sig" > "$DEMO/firma.log" 2>&1 ||
        die "la firma falló (signing failed; see $DEMO/firma.log)"
    okmsg "firmado con SHA256-RSA-PKCS, PIN $PIN ($(wc -c < "$DEMO/documento.sig") bytes: $DEMO/documento.sig)"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

NO_BUILD=0
case ${1:-} in
    --no-build) NO_BUILD=1 ;;
    "") ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "uso / usage: $0 [--no-build]" >&2; exit 2 ;;
esac

say "Llavero — demostración: e.firma en una tarjeta inteligente simulada"
say "          (demo: an e.firma on a simulated smart card)"

step "1. Dependencias y compilación (packages and build)"
if [ "$NO_BUILD" = 0 ]; then
    "$ROOT/scripts/build.sh" || die "la compilación falló (build failed)"
fi
[ -x "$VCARD" ] || die "no se encontró llavero-vcard en $VCARD (run scripts/build.sh)"
[ -r "$P11" ] || die "falta el módulo PKCS#11 de OpenSC: $P11"
okmsg "listo en $BUILD (built)"

step "2. Una e.firma de prueba en la tarjeta (a test e.firma on the card)"
mkdir -p "$DEMO"
sh "$ROOT/tests/fixtures/gen-fixtures.sh" "$DEMO/fixtures" >/dev/null ||
    die "no se pudieron generar los certificados de prueba (fixture generation failed)"
# shellcheck disable=SC1091
. "$DEMO/fixtures/fixtures.env"
CER=$FIX_FISICA_CER
HOLDER=$(subject_field "$CER" CN)
RFC=$(subject_field "$CER" x500UniqueIdentifier)
CURP=$(subject_field "$CER" serialNumber)
okmsg "e.firma persona física de prueba (SAT-shaped test e.firma): $(basename "$CER") + $(basename "$FIX_FISICA_KEY")"
say "    titular / holder: $HOLDER"
say "    RFC: $RFC    CURP: $CURP"
STATE=$DEMO/tarjeta.state
"$VCARD" init --state "$STATE" --pin "$PIN" --force >/dev/null || die "llavero-vcard init falló"
"$VCARD" provision --state "$STATE" --efirma "$CER" "$FIX_FISICA_KEY" \
    --password-file "$FIX_FISICA_PASS_FILE" --slot 9c > "$DEMO/provision.log" 2>&1 ||
    die "no se pudo importar la e.firma (see $DEMO/provision.log)"
okmsg "importada en la ranura 9C de la tarjeta simulada (imported into slot 9C; .key password 12345678a)"

DOC=$DEMO/documento.txt
printf 'Solicitud de trámite de prueba\nRFC: %s\nFecha: %s\n' "$RFC" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$DOC"
export DEMO DOC P11 PIN
LLAVERO_VCARD=$VCARD sh "$ROOT/tests/harness/pcsc-ns.sh" --state "$STATE" --log "$DEMO/log" \
    -- sh "$0" inner || die "la demostración falló (logs: $DEMO/log)"

step "5. Verificación con OpenSSL (verification)"
openssl x509 -inform DER -in "$CER" -pubkey -noout > "$DEMO/llave-publica.pem"
openssl dgst -sha256 -verify "$DEMO/llave-publica.pem" -signature "$DEMO/documento.sig" "$DOC" >/dev/null ||
    die "la firma NO es válida (signature does NOT verify)"
okmsg "firma válida con el certificado $(basename "$CER") (signature verified OK)"
if openssl verify -CAfile "$FIX_CHAIN_PEM" -purpose any "$FIX_FISICA_CERT_PEM" >/dev/null 2>&1; then
    okmsg "certificado emitido por la AC de pruebas local (chain to the local test CA OK)"
fi
say ""
say "Listo: $HOLDER ($RFC) firmó el documento con su e.firma en la tarjeta."
say "(Done: the document was signed on the card and verified.)"
