#!/bin/sh
# A card llavero-pkcs11.so does not drive (dumb_card.py: an ISO 7816 card
# that answers 6A82 to everything, on vpcd) shows as a present token that is
# not recognized: pkcs11-tool -L prints "(token not recognized)"
# (C_GetTokenInfo = CKR_TOKEN_NOT_RECOGNIZED, not CKR_TOKEN_NOT_PRESENT) and
# C_OpenSession answers CKR_TOKEN_NOT_RECOGNIZED.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
PY=/usr/bin/python3

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

inner() {
    "$PY" "$LLAVERO_SRC/tests/integration/dumb_card.py" "$LLAVERO_VCARD_PORT" &
    card=$!
    trap 'kill $card 2>/dev/null; true' EXIT
    i=0
    until opensc-tool -l 2>/dev/null | grep -Eq '^0 +Yes '; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "the dumb card did not appear"
        sleep 0.1
    done
    sleep 0.3
    out=$(timeout 30 pkcs11-tool --module "$P11" -L 2>&1) || { echo "$out" >&2; fail "pkcs11-tool -L failed"; }
    echo "$out" | grep -q "(token not recognized)" || { echo "$out" >&2; fail "-L does not say 'token not recognized'"; }
    ok "pkcs11-tool -L: the non-PIV card is a token not recognized"
    if out=$(timeout 30 pkcs11-tool --module "$P11" -O 2>&1); then
        fail "pkcs11-tool -O worked on a card we do not drive"
    fi
    echo "$out" | grep -q CKR_TOKEN_NOT_RECOGNIZED || { echo "$out" >&2; fail "C_OpenSession: not CKR_TOKEN_NOT_RECOGNIZED"; }
    ok "C_OpenSession: CKR_TOKEN_NOT_RECOGNIZED"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi
[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
[ -x "$PY" ] || fail "$PY is missing"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-pkcs11-unrec.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export P11
sh "$LLAVERO_HARNESS/pcsc-ns.sh" --no-vcard --log "$WORK/log" -- sh "$0" inner ||
    fail "unrecognized-card checks failed"
echo "PASS: pkcs11_unrecognized"
