#!/bin/sh
# PINs through llavero-pkcs11.so and pkcs11-tool behave as the card does
# (issue 4, acceptance 1): two wrong PINs give CKR_PIN_INCORRECT with
# CKF_USER_PIN_COUNT_LOW then FINAL_TRY, the third blocks (CKR_PIN_LOCKED,
# CKF_USER_PIN_LOCKED, the right PIN no longer works); the SO (PUK) logs in
# and C_InitPIN unblocks with a new PIN (RESET RETRY COUNTER), which signs;
# C_SetPIN changes it back; a wrong PUK is counted (CKF_SO_PIN_COUNT_LOW);
# pkcs11-tool --test-fork passes.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
PIN=123456 PUK=12345678 NEWPIN=654321

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

p11() {
    timeout 60 pkcs11-tool --module "$P11" "$@" > "$T/p11.out" 2>&1
}

flags() {
    p11 -T || { cat "$T/p11.out" >&2; fail "pkcs11-tool -T failed"; }
    sed -n 's/^ *token flags *: //p' "$T/p11.out"
}

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    openssl x509 -inform DER -in "$FIX_FISICA_CER" -pubkey -noout > "$T/9a.pub"
    printf 'tramite\n' > "$T/doc"

    p11 --test-fork --login --pin "$PIN" || { cat "$T/p11.out" >&2; fail "pkcs11-tool --test-fork failed"; }
    ok "pkcs11-tool --test-fork"

    if p11 --login --pin 999999 -O; then fail "a wrong PIN logged in"; fi
    grep -q CKR_PIN_INCORRECT "$T/p11.out" || { cat "$T/p11.out" >&2; fail "1st wrong PIN: not CKR_PIN_INCORRECT"; }
    case $(flags) in *"user PIN count low"*) ;; *) fail "no 'user PIN count low' after one wrong PIN: $(flags)" ;; esac
    if p11 --login --pin 999999 -O; then fail "a wrong PIN logged in"; fi
    case $(flags) in *"final user PIN try"*) ;; *) fail "no 'final user PIN try' after two wrong PINs: $(flags)" ;; esac
    if p11 --login --pin 999999 -O; then fail "a wrong PIN logged in"; fi
    grep -q CKR_PIN_LOCKED "$T/p11.out" || { cat "$T/p11.out" >&2; fail "3rd wrong PIN: not CKR_PIN_LOCKED"; }
    case $(flags) in *"user PIN locked"*) ;; *) fail "no 'user PIN locked' after three wrong PINs: $(flags)" ;; esac
    if p11 --login --pin "$PIN" -O; then fail "the right PIN logged in on a blocked card"; fi
    grep -q CKR_PIN_LOCKED "$T/p11.out" || { cat "$T/p11.out" >&2; fail "blocked card: not CKR_PIN_LOCKED"; }
    ok "wrong PINs: INCORRECT (count low), INCORRECT (final try), LOCKED; the right PIN is refused once blocked"

    p11 --login --login-type so --so-pin "$PUK" --init-pin --new-pin "$NEWPIN" ||
        { cat "$T/p11.out" >&2; fail "SO login + C_InitPIN failed"; }
    case $(flags) in *"locked"*|*"count low"*|*"final"*) fail "flags after unblock: $(flags)" ;; esac
    p11 --login --pin "$NEWPIN" --sign --id 01 -m SHA256-RSA-PKCS -i "$T/doc" -o "$T/sig" ||
        { cat "$T/p11.out" >&2; fail "the new PIN does not sign"; }
    openssl dgst -sha256 -verify "$T/9a.pub" -signature "$T/sig" "$T/doc" >/dev/null ||
        fail "signature after unblock does not verify"
    ok "C_Login(CKU_SO, PUK) + C_InitPIN unblocks; the new PIN signs"

    p11 --change-pin --pin "$NEWPIN" --new-pin "$PIN" || { cat "$T/p11.out" >&2; fail "C_SetPIN failed"; }
    p11 --login --pin "$PIN" -O || { cat "$T/p11.out" >&2; fail "the changed PIN does not log in"; }
    ok "C_SetPIN changes the PIN"

    if p11 --login --login-type so --so-pin 11111111 --init-pin --new-pin "$NEWPIN"; then
        fail "a wrong PUK logged in"
    fi
    grep -q CKR_PIN_INCORRECT "$T/p11.out" || { cat "$T/p11.out" >&2; fail "wrong PUK: not CKR_PIN_INCORRECT"; }
    case $(flags) in *"SO PIN count low"*) ;; *) fail "no 'SO PIN count low' after a wrong PUK: $(flags)" ;; esac
    ok "a wrong PUK: CKR_PIN_INCORRECT and CKF_SO_PIN_COUNT_LOW"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-pkcs11-pin.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FIXDIR=${LLAVERO_FIXTURES_DIR:-$LLAVERO_BUILD/fixtures}
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null || fail "fixture generation failed"
# shellcheck disable=SC1091
. "$FIXDIR/fixtures.env"
S=$WORK/card.state
"$VCARD" init --state "$S" >/dev/null || fail "init failed"
"$VCARD" provision --state "$S" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
    --password-file "$FIX_FISICA_PASS_FILE" --slot 9a >/dev/null || fail "provision 9a failed"
export WORK FIXDIR P11
LLAVERO_VCARD=$VCARD sh "$LLAVERO_HARNESS/pcsc-ns.sh" --state "$S" --log "$WORK/log" \
    -- sh "$0" inner || fail "PIN checks failed"
echo "PASS: pkcs11_pin"
