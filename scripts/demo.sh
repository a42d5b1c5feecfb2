#!/bin/sh
# Llavero demo: a person signs in to a portal with the e.firma on a smart card
# and with a security key, then signs a document with the card; all simulated
# on this machine, nothing to plug in.
#
#   ./scripts/demo.sh [--no-build]
#
# 1. installs missing Debian packages (Chromium, node and npm too) and builds
#    (scripts/build.sh); `npm ci` in tests/e2e when its node_modules is
#    missing. --no-build or LLAVERO_DEMO_NO_BUILD=1 skips packages and build
#    (the build directory must be built already);
# 2. generates a local test CA and a SAT-shaped persona física e.firma
#    (.cer + .key, password 12345678a);
# 3. creates a simulated PIV card (llavero-vcard, PIN 123456) with the e.firma
#    in slot 9A (sign-in) and 9C (signing);
# 4. in a private namespace (tests/harness/pcsc-ns.sh): pcscd with a virtual
#    reader holding the card, a simulated security key (llavero-vkey, PIN
#    4321) and the identity server llavero-idp on 127.0.0.1 (a free port);
# 5-7. headless Chromium with the Llavero extension and llavero-agent opens
#    the demo portal "Registro a la Beca Rita Cetina", clicks "Entrar con
#    e.firma" and signs in (PIN typed by the test pinentry, not a person), then
#    signs in again with the security key through the agent's FIDO bridge;
#    prints who the portal shows as signed in (read from the page) and saves
#    a screenshot to BUILD/demo/portal.png;
# 8-9. signs a document on the card through OpenSC's PKCS#11 module and
#    verifies the signature with OpenSSL.
# Everything it starts is stopped by PID; scratch, TMPDIR and XDG dirs stay in
# BUILD/demo (BUILD: $LLAVERO_BUILD_DIR, else $LLAVERO_BUILD, else build/).
# Exit status 0 when all of it worked.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LLAVERO_BUILD_DIR:-${LLAVERO_BUILD:-$ROOT/build}}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
DEMO=$BUILD/demo
E2E=$ROOT/tests/e2e
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

# ---- inside the harness: the card on pcscd, the browser, OpenSC ------------
# A failure here is written to $DEMO/fallo.txt for the outer part to report
# (the harness would bury it under pcscd's log).
inner_die() {
    printf '%s\n' "$*" > "$DEMO/fallo.txt"
    exit 0
}
inner() {
    die() { inner_die "$@"; }
    name=$(opensc-tool -n 2>/dev/null | tail -n 1)
    [ "$name" = "Personal Identity Verification Card" ] || die "OpenSC no reconoce la tarjeta como PIV: $name"
    okmsg "pcscd: la tarjeta PIV está en el lector «$LLAVERO_READER» (card in the reader)"

    # llavero-vkey and llavero-idp, then demo.mjs in Chromium (tests/e2e).
    sh "$E2E/inside.sh" demo || die "la parte del navegador falló (browser part failed)"

    step "8. Firma de un documento con la tarjeta (signing a document through OpenSC's PKCS#11)"
    pkcs11-tool --module "$P11" --list-objects --type cert > "$DEMO/objetos.txt" 2>&1 ||
        die "pkcs11-tool no pudo leer la tarjeta (see $DEMO/objetos.txt)"
    grep -q 'Certificate for Digital Signature' "$DEMO/objetos.txt" ||
        die "no hay certificado de firma en la ranura 9C"
    okmsg "OpenSC lee el certificado de firma de la ranura 9C (signing certificate in slot 9C)"
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

NO_BUILD=${LLAVERO_DEMO_NO_BUILD:-0}
case ${1:-} in
    --no-build) NO_BUILD=1 ;;
    "") ;;
    -h|--help) sed -n '2,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "uso / usage: $0 [--no-build]" >&2; exit 2 ;;
esac

# Everything this script starts, stopped by PID: the harness and what runs
# under it (pcscd, llavero-vcard, llavero-vkey, llavero-idp, node, Chromium,
# llavero-agent), deepest first. They stop themselves on a normal exit.
HPID=""
descendants() {
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$c"
        echo "$c"
    done
}
stop_all() {
    [ -n "$HPID" ] || return 0
    pids="$(descendants "$HPID") $HPID"
    HPID=""
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    i=0
    for p in $pids; do
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
}
trap stop_all EXIT
trap 'stop_all; printf "\n  interrumpida (interrupted)\n" >&2; exit 130' INT
trap 'stop_all; exit 143' TERM

say "Llavero — demostración: entrar a un portal con la e.firma y con una llave de"
say "seguridad, y firmar un documento (demo: sign in with an e.firma and with a"
say "security key, then sign a document; simulated card and key, nothing to plug in)"

step "1. Dependencias y compilación (packages and build)"
if [ "$NO_BUILD" = 0 ]; then
    "$ROOT/scripts/deps.sh" --test || die "no se pudieron instalar los paquetes (package install failed)"
    LLAVERO_BUILD_DIR=$BUILD "$ROOT/scripts/build.sh" || die "la compilación falló (build failed)"
fi
for b in "$VCARD" "$BUILD/firmware-test/vkey/llavero-vkey" "$BUILD/middleware/llavero-agent" \
    "$BUILD/middleware/llavero" "$BUILD/verify/idp/llavero-idp" "$BUILD/pkcs11/llavero-pkcs11.so"; do
    [ -e "$b" ] || die "no está construido / not built: $b (scripts/build.sh)"
done
for c in node npm /usr/bin/chromium; do
    command -v "$c" >/dev/null 2>&1 || die "falta / missing: $c (scripts/deps.sh --test)"
done
[ -r "$P11" ] || die "falta el módulo PKCS#11 de OpenSC: $P11"
mkdir -p "$DEMO"
# Pinned by tests/e2e/package-lock.json, installed once (the e2e tests share it).
flock "$E2E/package.json" sh -c '
    cd "$1"
    [ -d node_modules/playwright-core ] && [ -d node_modules/@simplewebauthn/server ] && exit 0
    echo "  npm ci (tests/e2e) ..."
    npm_config_cache=$2/npm-cache npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
' sh "$E2E" "$DEMO" || die "npm ci falló en tests/e2e (¿se alcanza el registro de npm? / npm registry reachable?)"
# From here on nothing goes to $HOME: scratch, TMPDIR and XDG dirs in $DEMO.
for d in tmp config cache data state home; do mkdir -p "$DEMO/$d"; done
export HOME="$DEMO"/home TMPDIR="$DEMO"/tmp XDG_CONFIG_HOME="$DEMO"/config XDG_CACHE_HOME="$DEMO"/cache \
    XDG_DATA_HOME="$DEMO"/data XDG_STATE_HOME="$DEMO"/state
okmsg "listo en $BUILD (built; Chromium $(/usr/bin/chromium --version 2>/dev/null | sed 's/[^0-9.]*//' | cut -d' ' -f1), node $(node --version))"

rm -f "$DEMO/portal.png" "$DEMO/portal-llave.png" "$DEMO/quien-entro.txt"

step "2. Una e.firma de prueba (a test e.firma)"
sh "$ROOT/tests/fixtures/gen-fixtures.sh" "$DEMO/fixtures" >/dev/null ||
    die "no se pudieron generar los certificados de prueba (fixture generation failed)"
# shellcheck disable=SC1091
. "$DEMO/fixtures/fixtures.env"
CER=$FIX_FISICA_CER
HOLDER=$(subject_field "$CER" CN)
RFC=$(subject_field "$CER" x500UniqueIdentifier)
CURP=$(subject_field "$CER" serialNumber)
okmsg "e.firma persona física de prueba (SAT-shaped test e.firma): $(basename "$CER") + $(basename "$FIX_FISICA_KEY")"
say "    emitida por una AC de pruebas local (issued by a local test CA)"
say "    titular / holder: $HOLDER · RFC $RFC · CURP $CURP"

step "3. La tarjeta inteligente simulada (the simulated smart card: llavero-vcard)"
STATE=$DEMO/tarjeta.state
"$VCARD" init --state "$STATE" --pin "$PIN" --force >/dev/null || die "llavero-vcard init falló"
for slot in 9a 9c; do
    "$VCARD" provision --state "$STATE" --efirma "$CER" "$FIX_FISICA_KEY" \
        --password-file "$FIX_FISICA_PASS_FILE" --slot $slot > "$DEMO/provision-$slot.log" 2>&1 ||
        die "no se pudo importar la e.firma en $slot (see $DEMO/provision-$slot.log)"
done
okmsg "e.firma importada en la ranura 9A (para entrar / sign-in) y 9C (para firmar / signing)"
say "    PIN de la tarjeta / card PIN: $PIN (la contraseña del .key era 12345678a)"

step "4. Lector, llave de seguridad y servidor de identidad (reader, security key, identity server)"
DOC=$DEMO/documento.txt
printf 'Solicitud de trámite de prueba\nRFC: %s\nFecha: %s\n' "$RFC" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$DOC"
rm -rf "$DEMO/web"
mkdir -p "$DEMO/web"
DEMO_COLOR=0
[ -z "$B" ] || DEMO_COLOR=1
export DEMO DOC P11 PIN
export LLAVERO_SRC="$ROOT" LLAVERO_BUILD="$BUILD" LLAVERO_DEMO_DIR="$DEMO" LLAVERO_DEMO_COLOR="$DEMO_COLOR"
export LLAVERO_E2E_SCRATCH="$DEMO"/web LLAVERO_E2E_FIXTURES="$DEMO"/fixtures/fixtures.env
export LLAVERO_VCARD="$VCARD" LLAVERO_VKEY="$BUILD"/firmware-test/vkey/llavero-vkey
export LLAVERO_IDP="$BUILD"/verify/idp/llavero-idp LLAVERO_CLI="$BUILD"/middleware/llavero
export LLAVERO_AGENT="$BUILD"/middleware/llavero-agent
rm -f "$DEMO/fallo.txt"
rc=0
sh "$ROOT/tests/harness/pcsc-ns.sh" --state "$STATE" --log "$DEMO/log" --timeout 30 \
    -- sh "$0" inner &
HPID=$!
wait "$HPID" || rc=$?
HPID=""
[ ! -s "$DEMO/fallo.txt" ] || die "$(cat "$DEMO/fallo.txt") (logs: $DEMO/web, $DEMO/log)"
[ "$rc" = 0 ] || die "la demostración falló (demo failed; logs: $DEMO/log, $DEMO/web)"

step "9. Verificación con OpenSSL (verification)"
openssl x509 -inform DER -in "$CER" -pubkey -noout > "$DEMO/llave-publica.pem"
openssl dgst -sha256 -verify "$DEMO/llave-publica.pem" -signature "$DEMO/documento.sig" "$DOC" >/dev/null ||
    die "la firma NO es válida (signature does NOT verify)"
okmsg "firma válida con el certificado $(basename "$CER") (signature verified OK)"
if openssl verify -CAfile "$FIX_CHAIN_PEM" -purpose any "$FIX_FISICA_CERT_PEM" >/dev/null 2>&1; then
    okmsg "certificado emitido por la AC de pruebas local (chain to the local test CA OK)"
fi

[ -s "$DEMO/quien-entro.txt" ] || die "no se sabe quién entró (no sign-in result in $DEMO/quien-entro.txt)"
say ""
say "${B}Quién entró, según el portal (who signed in, as the portal shows it):${N}"
cat "$DEMO/quien-entro.txt"
say "  Captura del portal / portal screenshot: $DEMO/portal.png"
say ""
say "Listo: entró al portal con la e.firma y con la llave de seguridad, y firmó un"
say "documento con la tarjeta. (Done: signed in with the e.firma and with the"
say "security key, and signed a document with the card.)"
say "En un navegador de verdad / in a real browser: README.md, «Probarlo en su navegador»."
