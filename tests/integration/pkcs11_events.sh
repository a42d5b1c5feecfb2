#!/bin/sh
# What real clients trip over in other modules, on llavero-vcard (issue 4):
# tests/integration/pkcs11_events.c (p11-events) loads llavero-pkcs11.so and
#   - uses a slot ID without a prior C_GetSlotList;
#   - C_WaitForSlotEvent with CKF_DONT_BLOCK (CKR_NO_EVENT) and blocking, woken
#     by removal and insertion of the card;
#   - card pulled: CKR_TOKEN_NOT_PRESENT, sessions get CKR_DEVICE_REMOVED then
#     CKR_SESSION_HANDLE_INVALID; re-inserted card signs; slot IDs stay;
#   - card reset by another application (opensc-tool --reset): the session
#     falls back to public (C_Sign: CKR_USER_NOT_LOGGED_IN), logs in again, signs;
#   - pcscd killed and started again: the module recovers and signs;
#   - C_Finalize wakes a thread blocked in C_WaitForSlotEvent;
#   - a forked child calls C_Initialize again and signs.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_PKCS11:-$LLAVERO_BUILD/pkcs11/llavero-pkcs11.so}
EVENTS=${LLAVERO_P11_EVENTS:-$LLAVERO_BUILD/tests/integration/p11-events}
PIN=123456

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    # card_state yes|no: bounded wait for the reader to show the card (or not)
    cat > "$T/lib.sh" <<LIB
card_state() {
    case \$1 in yes) pat='^0 +Yes ' ;; *) pat='^0 +No ' ;; esac
    i=0
    while [ \$i -lt 150 ]; do
        opensc-tool -l 2>/dev/null | grep -Eq "\$pat" && { [ \$1 = no ] || sleep 0.3; return 0; }
        sleep 0.1
        i=\$((i + 1))
    done
    echo "card did not become \$1" >&2
    return 1
}
LIB
    cat > "$T/remove.sh" <<SH
. "$T/lib.sh"
"$LLAVERO_VCARD" remove --state "$LLAVERO_VCARD_STATE" >/dev/null && card_state no
SH
    cat > "$T/insert.sh" <<SH
. "$T/lib.sh"
"$LLAVERO_VCARD" insert --state "$LLAVERO_VCARD_STATE" >/dev/null && card_state yes
SH
    # pcscd again with the harness's arguments; the new one is ours to stop
    cmdline=$(tr '\0' ' ' < "/proc/$LLAVERO_PCSCD_PID/cmdline")
    cat > "$T/restart.sh" <<SH
. "$T/lib.sh"
kill $LLAVERO_PCSCD_PID
i=0
while kill -0 $LLAVERO_PCSCD_PID 2>/dev/null && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
$cmdline >> "$LLAVERO_HARNESS_LOG/pcscd-restarted.log" 2>&1 &
echo \$! > "$T/pcscd.pid"
card_state yes
SH
    trap '[ -f "$T/pcscd.pid" ] && kill "$(cat "$T/pcscd.pid")" 2>/dev/null; true' EXIT
    LLV_REMOVE="sh $T/remove.sh" LLV_INSERT="sh $T/insert.sh" \
    LLV_RESTART_PCSCD="sh $T/restart.sh" LLV_RESET_CARD="opensc-tool -r 0 --reset >/dev/null" \
        timeout 150 "$EVENTS" "$P11" "$PIN" ||
        fail "p11-events failed"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
[ -x "$EVENTS" ] || fail "p11-events not built: $EVENTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-pkcs11-events.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FIXDIR=${LLAVERO_FIXTURES_DIR:-$LLAVERO_BUILD/fixtures}
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null || fail "fixture generation failed"
# shellcheck disable=SC1091
. "$FIXDIR/fixtures.env"

S=$WORK/card.state
"$VCARD" init --state "$S" >/dev/null || fail "init failed"
"$VCARD" provision --state "$S" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
    --password-file "$FIX_FISICA_PASS_FILE" --slot 9a >/dev/null || fail "provision 9a failed"
ok "card provisioned: 9A persona física"

export WORK EVENTS P11
LLAVERO_VCARD=$VCARD sh "$LLAVERO_HARNESS/pcsc-ns.sh" --state "$S" --log "$WORK/log" \
    -- sh "$0" inner || fail "event checks failed"
echo "PASS: pkcs11_events"
