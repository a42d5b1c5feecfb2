#!/bin/sh
# bench/efirma-vs-softhsm.sh [BUILD_DIR] [SECONDS]
#
# Signatures per second with one RSA-2048 key (the generated e.firma of a
# persona fisica, tests/fixtures/gen-fixtures.sh), in the same run:
#   efirma   llavero-pkcs11.so's e.firma soft token over fisica.cer/.key
#   softhsm  SoftHSMv2 (Debian softhsm2) holding the same key
#            (softhsm2-util --import of the unencrypted PKCS#8)
#   openssl  raw OpenSSL, EVP_DigestSign with the same key (bench/ossl_sign_loop.c)
#   speed    `openssl speed rsa2048` (another key; a second reference)
# Both PKCS#11 modules are driven by p11-sign-bench --sign-loop: one login,
# then C_SignInit + C_Sign (CKM_SHA256_RSA_PKCS, the same 38-byte message)
# for SECONDS; every module's last signature is verified with the .cer.
# Each measurement is taken ROUNDS times (default 3), alternating, and the
# best is kept. Targets (issue 4): efirma >= 1.5x softhsm, >= 0.9x openssl.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd -P)
BUILD=$(cd "${1:-${LLAVERO_BUILD:-$SRC/build}}" && pwd -P)
SECS=${2:-3}
ROUNDS=${ROUNDS:-3}
MODULE=$BUILD/pkcs11/llavero-pkcs11.so
BENCH=$BUILD/bench/p11-sign-bench
OSSL=$BUILD/bench/ossl-sign-loop
SOFTHSM=${SOFTHSM_MODULE:-}
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
    [ -n "$SOFTHSM" ] || { [ -f "$m" ] && SOFTHSM=$m; }
done
for f in "$MODULE" "$BENCH" "$OSSL"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "missing $f (build first)" >&2; exit 1; }
done
[ -n "$SOFTHSM" ] || { echo "SoftHSMv2 not installed (apt-get install softhsm2)" >&2; exit 1; }
command -v softhsm2-util >/dev/null || { echo "softhsm2-util missing" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/efirma-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

sh "$SRC/tests/fixtures/gen-fixtures.sh" "$BUILD/fixtures" >/dev/null
. "$BUILD/fixtures/fixtures.env"
PIN=$(cat "$FIX_FISICA_PASS_FILE")

# e.firma soft token: just the pair in its own directory.
mkdir "$WORK/efirma"
cp "$FIX_FISICA_CER" "$WORK/efirma/fisica.cer"
cp "$FIX_FISICA_KEY" "$WORK/efirma/fisica.key"
EFIRMA_LABEL="e.firma $FIX_FISICA_RFC"

# SoftHSM: a private token directory holding the same key.
mkdir "$WORK/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$WORK/tokens" >"$WORK/softhsm2.conf"
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
softhsm2-util --init-token --free --label llavero-bench --so-pin 87654321 --pin "$PIN" >/dev/null
softhsm2-util --import "$FIX_FISICA_KEY_PEM" --token llavero-bench --label efirma --id 01 \
    --pin "$PIN" >/dev/null

openssl x509 -inform DER -in "$FIX_FISICA_CER" -pubkey -noout >"$WORK/pub.pem"
MSG="$WORK/msg"
printf 'Llavero benchmark: firma de un tramite' >"$MSG"

rate() { sed -n 's/.*signs_per_sec=\([0-9.]*\).*/\1/p'; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
verify() { # NAME SIGFILE
    openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$2" "$MSG" >/dev/null ||
        { echo "$1: signature does not verify" >&2; exit 1; }
}

E=0 S=0 O=0 SP=0
r=0
while [ "$r" -lt "$ROUNDS" ]; do
    r=$((r + 1))
    e=$(LLAVERO_EFIRMA_DIR="$WORK/efirma" "$BENCH" --module "$MODULE" \
        --pin-file "$FIX_FISICA_PASS_FILE" --token-label "$EFIRMA_LABEL" \
        --sign-loop "$SECS" --signature-out "$WORK/sig.efirma" | rate)
    verify efirma "$WORK/sig.efirma"
    s=$("$BENCH" --module "$SOFTHSM" --pin-file "$FIX_FISICA_PASS_FILE" \
        --token-label llavero-bench --sign-loop "$SECS" --signature-out "$WORK/sig.softhsm" | rate)
    verify softhsm "$WORK/sig.softhsm"
    o=$("$OSSL" --key "$FIX_FISICA_KEY_PEM" --seconds "$SECS" | rate)
    sp=$(openssl speed -seconds "$SECS" rsa2048 2>/dev/null | awk '$1 == "rsa" && $2 == "2048" { print $6 }')
    echo "round $r: efirma=$e softhsm=$s openssl=$o openssl-speed=${sp:-?} signs/s"
    E=$(best "$E" "$e"); S=$(best "$S" "$s"); O=$(best "$O" "$o"); SP=$(best "$SP" "${sp:-0}")
done

awk -v e="$E" -v s="$S" -v o="$O" -v sp="$SP" 'BEGIN {
    printf "best of rounds (signatures/s): efirma=%.1f softhsm=%.1f openssl=%.1f openssl-speed=%.1f\n", e, s, o, sp
    printf "efirma/softhsm=%.2f (target >= 1.5)  efirma/openssl=%.2f (target >= 0.9)", e / s, e / o
    if (sp > 0) printf "  efirma/openssl-speed=%.2f", e / sp
    printf "\n"
    exit !(e / s >= 1.5 && e / o >= 0.9)
}'
