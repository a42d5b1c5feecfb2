#!/bin/sh
# Issue 4, "a reader plugged in appears on the next C_GetSlotList(NULL); a
# removed one disappears without breaking other sessions": one long-lived
# python3-pykcs11 client (pkcs11_hotplug.py) inside pcsc-ns.sh while pcscd is
# restarted with one more vpcd reader (a second llavero-vcard in it) and then
# one fewer. The pcscd 1.9.9 limitation this works around (serial/vpcd readers
# only change when pcscd restarts, which ends every card session) is described
# at the top of pkcs11_hotplug.py.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_SRC/tests/integration/p11_interop_lib.sh"

inner() {
    # pcscd's configuration directory, from the harness's pcscd command line
    confdir=$(tr '\0' '\n' < "/proc/$LLAVERO_PCSCD_PID/cmdline" | sed -n '/^-c$/{n;p;}')
    [ -d "$confdir" ] || fail "no pcscd configuration directory"
    /usr/bin/python3 "$LLAVERO_SRC/tests/integration/pkcs11_hotplug.py" "$P11" "$PIN" \
        "$confdir" "$S2" "$FIX_FISICA_PASSWORD"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
/usr/bin/python3 -c 'import PyKCS11' 2>/dev/null || fail "python3-pykcs11 missing"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-p11hotplug.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
p11_fixtures
S=$WORK/card.state
p11_provision_card "$S"
S2=$WORK/card-b.state
vcard_init "$S2"
vcard_provision "$S2" 9a:moral
p11_efirma_dir "$WORK/efirma"
rm -f "$WORK/efirma/moral.cer" "$WORK/efirma/moral.key"
LLAVERO_PKCS11_CONF=$WORK/empty.conf
: > "$LLAVERO_PKCS11_CONF"
export WORK S2 P11 PIN FIX_FISICA_PASSWORD LLAVERO_PKCS11_CONF
export LLAVERO_EFIRMA_DIR="$WORK/efirma" XDG_CONFIG_HOME="$WORK/xdg"
ok "cards provisioned"
in_harness "$S" -- timeout 100 sh "$0" inner || fail "reader hot-plug checks failed"
echo "PASS: pkcs11_hotplug"
