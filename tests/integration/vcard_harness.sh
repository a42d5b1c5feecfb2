#!/bin/sh
# Proves the test rig: llavero-vcard on a private pcscd through vpcd.
#   outer part: corrupt state files are refused (and left untouched), then
#               the inner part runs under tests/harness/pcsc-ns.sh
#   inner part: OpenSC lists the reader with the card and reads our ATR;
#               remove/insert pull and re-insert the card; kill -9 of the
#               vcard while it writes its state leaves a loadable file.
set -eu

: "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_HARNESS/testlib.sh"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
ATR_EXPECTED="3b:8d:80:01:80:73:c0:21:c0:57:4c:6c:61:76:65:72:6f:c6"
SELECT="00 A4 04 00 05 A0 00 00 03 08"
PIN_OK="00 20 00 80 08 31 32 33 34 35 36 FF FF"
PIN_BAD="00 20 00 80 08 39 39 39 39 39 39 FF FF"

start_vcard() {
    vcard_start
    card_state yes || fail "restarted vcard did not come back"
}

inner() {
    # 1. The reader and the card, as OpenSC sees them.
    opensc-tool -l | grep -Eq '^0 +Yes +Virtual PCD' || fail "opensc-tool -l does not list the card"
    ok "opensc-tool -l lists $LLAVERO_READER with the card"
    atr=$(opensc-tool -r "$LLAVERO_READER" -a 2>/dev/null | tr -d '\r' | tail -n 1)
    [ "$atr" = "$ATR_EXPECTED" ] || fail "ATR is '$atr', expected '$ATR_EXPECTED'"
    ok "opensc-tool -a prints our ATR"
    name=$(opensc-tool -n 2>/dev/null | tail -n 1)
    case $name in
        *Yubi*|*yubi*) fail "OpenSC took the card for a YubiKey: $name" ;;
    esac
    ok "OpenSC names the card: $name"

    # 2. Pull and re-insert without stopping the process.
    "$LLAVERO_VCARD" remove --state "$LLAVERO_VCARD_STATE" || fail "remove failed"
    card_state no || fail "card still present after remove"
    if opensc-tool -r "$LLAVERO_READER" -a >/dev/null 2>&1; then
        fail "opensc-tool -a still reads an ATR after remove"
    fi
    kill -0 "$LLAVERO_VCARD_PID" || fail "vcard process died on remove"
    ok "remove: the card is absent, the process lives"
    "$LLAVERO_VCARD" insert --state "$LLAVERO_VCARD_STATE" || fail "insert failed"
    card_state yes || fail "card not back after insert"
    atr=$(opensc-tool -r "$LLAVERO_READER" -a 2>/dev/null | tail -n 1)
    [ "$atr" = "$ATR_EXPECTED" ] || fail "ATR after insert is '$atr'"
    ok "insert: the card is back"

    # 3. The APDU counter through the control channel.
    n=$("$LLAVERO_VCARD" stats --state "$LLAVERO_VCARD_STATE" | sed -n 's/^apdus=//p')
    [ -n "$n" ] && [ "$n" -gt 0 ] || fail "stats gives no APDU count"
    ok "stats: apdus=$n"

    # 4. kill -9 while the card writes its state: each wrong PIN and each
    # right PIN changes the retry counter, so every VERIFY is a state write.
    args="-s"
    cmds=""
    i=0
    while [ $i -lt 60 ]; do
        cmds="$cmds -s '$PIN_BAD' -s '$PIN_OK'"
        i=$((i + 1))
    done
    VPID=$LLAVERO_VCARD_PID
    round=1
    while [ $round -le 4 ]; do
        saves0=$("$LLAVERO_VCARD" stats --state "$LLAVERO_VCARD_STATE" | sed -n 's/^saves=//p')
        eval "opensc-tool -r \"\$LLAVERO_READER\" -s \"\$SELECT\" $cmds" >/dev/null 2>&1 &
        client=$!
        # Wait until writes are under way, then pull the plug.
        j=0
        while [ $j -lt 100 ]; do
            s=$("$LLAVERO_VCARD" stats --state "$LLAVERO_VCARD_STATE" 2>/dev/null | sed -n 's/^saves=//p')
            [ -n "$s" ] && [ "$s" -ge $((saves0 + 3 + 7 * round)) ] && break
            sleep 0.02
            j=$((j + 1))
        done
        kill -KILL "$VPID"
        wait "$VPID" 2>/dev/null || true
        wait "$client" 2>/dev/null || true
        out=$("$LLAVERO_VCARD" status --state "$LLAVERO_VCARD_STATE") ||
            fail "state file does not load after kill -9 (round $round)"
        echo "$out" | grep -Eq '^PIN: [23] de 3' || fail "unexpected PIN counter after kill -9: $out"
        ok "kill -9 during writes (round $round, after $s saves): state loads ($(echo "$out" | grep '^PIN'))"
        start_vcard
        round=$((round + 1))
    done
    # Leftover temporary files must not be mistaken for the state.
    "$LLAVERO_VCARD" status --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "final state does not load"
    "$LLAVERO_VCARD" stop --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "stop failed"
    wait "$VPID" 2>/dev/null || true
    ok "restarted vcard stops through the control channel"
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
scratch_dir llavero-vcard-harness
WORK=$SCRATCH

# Corrupt and truncated state files are refused, with the reason, untouched.
vcard_init "$WORK/good.state"
"$VCARD" init --state "$WORK/good.state" 2>/dev/null && fail "init overwrote an existing state"
size=$(wc -c < "$WORK/good.state")
cp "$WORK/good.state" "$WORK/flipped.state"
printf '\377' | dd of="$WORK/flipped.state" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
head -c $((size - 7)) "$WORK/good.state" > "$WORK/truncated.state"
for f in flipped truncated; do
    cp "$WORK/$f.state" "$WORK/$f.orig"
    for cmd in run status provision; do
        set +e
        case $cmd in
            run) err=$("$VCARD" run --state "$WORK/$f.state" --port 1 2>&1 >/dev/null) ;;
            status) err=$("$VCARD" status --state "$WORK/$f.state" 2>&1 >/dev/null) ;;
            provision) err=$("$VCARD" provision --state "$WORK/$f.state" --cert /dev/null --key /dev/null --slot 9a 2>&1 >/dev/null) ;;
        esac
        rc=$?
        set -e
        [ $rc -eq 3 ] || fail "$cmd on a $f state exited $rc, expected 3 ($err)"
        echo "$err" | grep -Eq 'dañado|truncado' || fail "$cmd on a $f state gave no reason: $err"
        cmp -s "$WORK/$f.state" "$WORK/$f.orig" || fail "$cmd modified the $f state file"
    done
    ok "a $f state file is refused by run/status/provision and left as it was: $err"
done

vcard_init "$WORK/card.state"
pcsc_ns "$WORK/card.state" --port 35963 --log "$WORK/log" -- sh "$0" inner
echo "PASS: vcard harness"
