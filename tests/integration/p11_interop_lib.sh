# p11_interop_lib.sh: shared by the interoperability tests of llavero-pkcs11.so
# (pkcs11_tool.sh, pkcs11_nss.sh, pkcs11_openssl.sh, pkcs11_p11kit_pykcs11.sh,
# pkcs11_pull_restart.sh). Sourced, not run. Needs LLAVERO_SRC/LLAVERO_BUILD.
#   fail MSG / ok MSG      FAIL: line on stderr and exit 1 / "ok - MSG"
#   p11_fixtures           generates the fixtures and sources fixtures.env
#   p11_provision_card F   a fresh vcard state F: persona física e.firma in 9A,
#                          persona moral in 9C (always-authenticate), EC P-256
#                          in 9D, EC P-384 in 9E; PIN 123456, PUK 12345678
#   p11_efirma_dir D       D holds fisica.cer/.key and moral.cer/.key
#   in_harness F -- cmd    runs cmd in pcsc-ns.sh with the card state F
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
OPENSC_P11=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
PIN=123456
PUK=12345678

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

p11_fixtures() {
    FIXDIR=${LLAVERO_FIXTURES_DIR:-$LLAVERO_BUILD/fixtures}
    sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null || fail "fixture generation failed"
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
}

p11_provision_card() {
    [ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
    rm -f "$1"
    "$VCARD" init --state "$1" >/dev/null || fail "vcard init failed"
    "$VCARD" provision --state "$1" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
        --password-file "$FIX_FISICA_PASS_FILE" --slot 9a >/dev/null || fail "provision 9a failed"
    "$VCARD" provision --state "$1" --efirma "$FIX_MORAL_CER" "$FIX_MORAL_KEY" \
        --password-file "$FIX_MORAL_PASS_FILE" --slot 9c >/dev/null || fail "provision 9c failed"
    "$VCARD" provision --state "$1" --cert "$FIX_EC256_CERT_DER" --key "$FIX_EC256_KEY_PEM" \
        --slot 9d >/dev/null || fail "provision 9d failed"
    "$VCARD" provision --state "$1" --cert "$FIX_EC384_CERT_DER" --key "$FIX_EC384_KEY" \
        --password-file "$FIX_EC384_PASS_FILE" --slot 9e >/dev/null || fail "provision 9e failed"
}

p11_efirma_dir() {
    mkdir -p "$1"
    cp "$FIX_FISICA_CER" "$1/fisica.cer"; cp "$FIX_FISICA_KEY" "$1/fisica.key"
    cp "$FIX_MORAL_CER" "$1/moral.cer";   cp "$FIX_MORAL_KEY" "$1/moral.key"
}

in_harness() {
    st=$1
    shift 2
    LLAVERO_VCARD=$VCARD sh "$LLAVERO_HARNESS/pcsc-ns.sh" --state "$st" --log "$WORK/log" -- "$@"
}
