#!/bin/sh
# run-p11-vs-opensc.sh: issue 4's bench, llavero-pkcs11.so against OpenSC's
# opensc-pkcs11.so on the same llavero-vcard card, one after the other in the
# same run: C_Initialize -> find certificate -> C_Login -> C_Sign
# (SHA256-RSA-PKCS) -> C_Finalize, one process per run
# (bench/run-opensc-vcard.sh, p11-sign-bench), APDUs from llavero-vcard stats.
#
#   bench/run-p11-vs-opensc.sh [--runs N] [--slot 9a|9c] [--build DIR]
#                              [--opensc SO]
# Prints both RESULT lines and the ratios (ours / OpenSC's) of the median APDU
# count and median time; target <= 0.5 for both. Exit 0 when measured (the
# target is reported, not enforced).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${LLAVERO_BUILD:-$ROOT/build}
OPENSC=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
RUNS=20 SLOT=9c
while [ $# -gt 0 ]; do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --slot) SLOT=$2; shift 2 ;;
        --build) BUILD=$2; shift 2 ;;
        --opensc) OPENSC=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "run-p11-vs-opensc: unknown option $1" >&2; exit 1 ;;
    esac
done
OURS=$BUILD/pkcs11/llavero-pkcs11.so
[ -r "$OURS" ] || { echo "run-p11-vs-opensc: $OURS not built" >&2; exit 1; }

out=$(mktemp "${TMPDIR:-/tmp}/llavero-p11-vs-opensc.XXXXXX")
trap 'rm -f "$out"' EXIT
for m in "$OPENSC" "$OURS"; do
    LLAVERO_BUILD=$BUILD sh "$ROOT/bench/run-opensc-vcard.sh" --module "$m" --runs "$RUNS" \
        --slot "$SLOT" --build "$BUILD" | tee -a "$out" | grep '^RESULT'
done
awk '
    /^RESULT/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if (v["module"] == "llavero-pkcs11.so") { oa = v["apdus_median"]; om = v["ms_median"] }
        else { sa = v["apdus_median"]; sm = v["ms_median"] }
    }
    END {
        if (sa == 0 || sm == 0) { print "run-p11-vs-opensc: no OpenSC result" > "/dev/stderr"; exit 1 }
        ra = oa / sa; rm = om / sm
        printf "RATIO llavero/opensc apdus=%d/%d=%.2f ms=%s/%s=%.2f target<=0.50 %s\n",
            oa, sa, ra, om, sm, rm, (ra <= 0.5 && rm <= 0.5) ? "MET" : "NOT MET"
    }' "$out"
