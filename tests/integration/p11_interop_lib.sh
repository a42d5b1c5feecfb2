# p11_interop_lib.sh: shared by the interoperability tests of llavero-pkcs11.so
# (pkcs11_tool.sh, pkcs11_nss.sh, pkcs11_openssl.sh, pkcs11_p11kit_pykcs11.sh,
# pkcs11_pull_restart.sh). Sourced, not run. Needs LLAVERO_SRC/LLAVERO_BUILD/
# LLAVERO_HARNESS; brings in tests/harness/testlib.sh (fail, ok, ...).
#   fail MSG / ok MSG      FAIL: line on stderr and exit 1 / "ok - MSG"
#   p11_fixtures           generates the fixtures and sources fixtures.env
#   p11_provision_card F   a fresh vcard state F: persona física e.firma in 9A,
#                          persona moral in 9C (always-authenticate), EC P-256
#                          in 9D, EC P-384 in 9E; PIN 123456, PUK 12345678
#   p11_efirma_dir D       D holds fisica.cer/.key and moral.cer/.key
#   in_harness F -- cmd    runs cmd in pcsc-ns.sh with the card state F
. "$LLAVERO_HARNESS/testlib.sh"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
OPENSC_P11=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
PIN=123456
PUK=12345678

p11_fixtures() { gen_fixtures; }

p11_provision_card() {
    [ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
    rm -f "$1"
    vcard_init "$1"
    vcard_provision "$1" 9a:fisica 9c:moral 9d:ec256 9e:ec384
}

p11_efirma_dir() {
    mkdir -p "$1"
    cp "$FIX_FISICA_CER" "$1/fisica.cer"; cp "$FIX_FISICA_KEY" "$1/fisica.key"
    cp "$FIX_MORAL_CER" "$1/moral.cer";   cp "$FIX_MORAL_KEY" "$1/moral.key"
}

in_harness() {
    st=$1
    shift
    pcsc_ns "$st" --log "$WORK/log" "$@"
}
