#!/bin/sh
# run-opensc-vcard.sh: the signing client sequence (bench/p11-sign-bench:
# C_Initialize -> find certificate -> C_Login -> C_SignInit [-> context
# login for 9C] -> C_Sign SHA256-RSA-PKCS -> C_Finalize) against a PKCS#11
# module talking to llavero-vcard on a private pcscd (tests/harness).
# Counts the APDUs each run costs (llavero-vcard stats, apdus=N, read before
# and after) and times it.
#
#   bench/run-opensc-vcard.sh [--module SO] [--runs N] [--slot 9a|9c]
#                             [--build DIR] [--label NAME]
#
#   --module SO   the PKCS#11 module (default: OpenSC's opensc-pkcs11.so);
#                 run it again with ours to compare in the same way
#   --runs N      how many client sequences (default 20), one process each
#   --slot        9c (default: digital signature, PIN per signature) or 9a
# The card holds the persona física test e.firma (tests/fixtures) in 9A and
# 9C. Prints one line per run and a summary:
#   RESULT module=... slot=9c runs=N apdus_median=A apdus_min=.. apdus_max=..
#          ms_median=M ms_min=m ms_max=..
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "run-opensc-vcard: $*" >&2; exit 1; }

if [ "${1:-}" = inner ]; then
    # Inside the harness. $T, $MODULE, $RUNS, $ID, $BENCH come from outside.
    apdus() { "$LLAVERO_VCARD" stats --state "$LLAVERO_VCARD_STATE" | sed -n 's/^apdus=//p'; }
    # One warm-up run (first dlopen, pcscd's first connection) not counted.
    "$BENCH" --module "$MODULE" --pin-file "$T/pin" --id "$ID" --mech sha256-rsa \
        --iterations 1 > "$T/warm.out" 2>&1 || { cat "$T/warm.out" >&2; exit 1; }
    : > "$T/runs"
    i=1
    while [ "$i" -le "$RUNS" ]; do
        a0=$(apdus)
        "$BENCH" --module "$MODULE" --pin-file "$T/pin" --id "$ID" --mech sha256-rsa \
            --iterations 1 --signature-out "$T/sig" > "$T/run.out" 2>&1 ||
            { cat "$T/run.out" >&2; exit 1; }
        a1=$(apdus)
        ms=$(sed -n 's/^iter 0: total_ms=//p' "$T/run.out")
        openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig" "$T/msg" >/dev/null ||
            { echo "run $i: the signature does not verify" >&2; exit 1; }
        printf 'run %2d: apdus=%d ms=%s\n' "$i" $((a1 - a0)) "$ms"
        echo "$((a1 - a0)) $ms" >> "$T/runs"
        i=$((i + 1))
    done
    exit 0
fi

BUILD=${LLAVERO_BUILD:-$ROOT/build}
MODULE=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
RUNS=20 SLOT=9c LABEL=""
while [ $# -gt 0 ]; do
    case $1 in
        --module) MODULE=$2; shift 2 ;;
        --runs|--iterations) RUNS=$2; shift 2 ;;
        --slot) SLOT=$2; shift 2 ;;
        --build) BUILD=$2; shift 2 ;;
        --label) LABEL=$2; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
case $SLOT in 9a|9A) ID=01 ;; 9c|9C) ID=02 ;; *) die "--slot is 9a or 9c" ;; esac
case $RUNS in ''|*[!0-9]*|0) die "--runs needs a positive number" ;; esac
[ -r "$MODULE" ] || die "module not found: $MODULE"
case $MODULE in /*) ;; *) MODULE=$(pwd)/$MODULE ;; esac
VCARD=$BUILD/firmware-test/vcard/llavero-vcard
BENCH=$BUILD/bench/p11-sign-bench
[ -x "$VCARD" ] || die "llavero-vcard not built in $BUILD (scripts/build.sh)"
[ -x "$BENCH" ] || die "p11-sign-bench not built in $BUILD (scripts/build.sh)"

T=$(mktemp -d "${TMPDIR:-/tmp}/llavero-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
FIX=$BUILD/fixtures
sh "$ROOT/tests/fixtures/gen-fixtures.sh" "$FIX" >/dev/null || die "fixture generation failed"
# shellcheck disable=SC1091
. "$FIX/fixtures.env"
"$VCARD" init --state "$T/card.state" >/dev/null
for s in 9a 9c; do
    "$VCARD" provision --state "$T/card.state" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
        --password-file "$FIX_FISICA_PASS_FILE" --slot $s >/dev/null || die "provision $s failed"
done
printf '123456\n' > "$T/pin"
# The message p11-sign-bench signs (see run_once in p11_sign_bench.c).
printf 'Llavero benchmark: firma de un tramite' > "$T/msg"
openssl x509 -inform DER -in "$FIX_FISICA_CER" -pubkey -noout > "$T/pub.pem"

export T MODULE RUNS ID BENCH
LLAVERO_VCARD=$VCARD sh "$ROOT/tests/harness/pcsc-ns.sh" --state "$T/card.state" --log "$T/log" \
    -- sh "$0" inner || die "bench failed (logs in the harness output above)"

# median of column $1 of $T/runs
stat() {
    sort -n -k"$1","$1" "$T/runs" | awk -v c="$1" '{v[NR]=$c} END {
        printf "median=%s min=%s max=%s", v[int((NR+1)/2)], v[1], v[NR] }'
}
a=$(stat 1) m=$(stat 2)
echo "RESULT ${LABEL:+label=$LABEL }module=$(basename "$MODULE") slot=$SLOT runs=$RUNS" \
    "apdus_$(echo "$a" | sed 's/ / apdus_/g')" "ms_$(echo "$m" | sed 's/ / ms_/g')"
