#!/bin/sh
# Acceptance 2: PIN and PUK retry counters of llavero-vcard's PIV applet.
#   - three wrong PINs (pkcs11-tool --login): CKR_PIN_INCORRECT, and the
#     VERIFY status query (00 20 00 80, no data) reads 63C2, 63C1, then 6983;
#     the right PIN is then refused (6983, CKR_PIN_LOCKED);
#   - the counters survive a restart of the vcard (SIGTERM, and kill -9);
#   - a wrong PUK in RESET RETRY COUNTER counts (63C2) and survives a restart;
#   - the PUK unblocks the PIN (pkcs15-tool --unblock-pin) and resets its own
#     counter; the new PIN signs (pkcs11-tool) and openssl verifies;
#   - three wrong PUKs block the PUK (63C1, 63C0, then 6983), across a restart.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_HARNESS/testlib.sh"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
P11=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
SELECT=00A4040005A000000308
STATUS=0020008000                           # VERIFY PIN, no data: retries left
PIN_OK=0020008008313233343536FFFF          # VERIFY 123456, padded with FF
NEWPIN_OK=0020008008363534333231FFFF       # VERIFY 654321
PUK_OK_HEX=3132333435363738                 # 12345678
PUK_BAD_HEX=3837363534333231                # 87654321
NEWPIN_HEX=313131313131FFFF                 # 111111

# sw APDU...: selects the PIV applet, sends the APDUs (one opensc-tool
# session), prints the last status word as 4 hex digits.
sw() {
    args="-s $SELECT"
    for a in "$@"; do args="$args -s $a"; done
    # shellcheck disable=SC2086
    out=$(timeout 20 opensc-tool -r "$LLAVERO_READER" $args 2>&1) ||
        { echo "$out" >&2; fail "opensc-tool $args failed"; }
    echo "$out" | sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/\1\2/p' | tail -n 1 |
        tr 'a-f' 'A-F'
}

# expect_sw WANT WHAT APDU...
expect_sw() {
    want=$1 what=$2
    shift 2
    got=$(sw "$@")
    [ "$got" = "$want" ] || fail "$what: status word $got, expected $want"
}

# login PIN: pkcs11-tool --login; prints the CKR_ name of a failure, or OK.
login() {
    if out=$(timeout 20 pkcs11-tool --module "$P11" --login --pin "$1" --list-objects --type privkey 2>&1); then
        echo "$out" | grep -q 'PIV AUTH key' || { echo "$out" >&2; fail "no private key after login"; }
        echo OK
    else
        [ $? -ne 124 ] || fail "pkcs11-tool --login timed out"
        echo "$out" | sed -n 's/.*rv = \(CKR_[A-Z_]*\).*/\1/p' | head -n 1
    fi
}

# counters: "PIN n/PUK m" from llavero-vcard status (reads the state file).
counters() {
    out=$("$LLAVERO_VCARD" status --state "$LLAVERO_VCARD_STATE") || fail "status does not load the state"
    pin=$(echo "$out" | sed -n 's/^PIN: \([0-9]*\) de .*/\1/p')
    puk=$(echo "$out" | sed -n 's/^PUK: \([0-9]*\) de .*/\1/p')
    echo "PIN $pin/PUK $puk"
}

# restart SIGNAL: stops the running vcard by PID, starts it again on the
# same state file and port.
restart() {
    kill "-$1" "$VPID" || fail "cannot signal the vcard ($VPID)"
    wait "$VPID" 2>/dev/null || true
    j=0
    while kill -0 "$VPID" 2>/dev/null && [ $j -lt 50 ]; do sleep 0.1; j=$((j + 1)); done
    kill -0 "$VPID" 2>/dev/null && fail "vcard $VPID did not stop"
    # pcscd must see the card gone before the new process joins vpcd.
    card_state no || fail "the card stayed in the reader after the vcard stopped"
    sleep 0.5   # let vpcd's presence poll drop the old connection first
    vcard_start
    card_state yes || fail "restarted vcard did not come back"
}

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    VPID=$LLAVERO_VCARD_PID

    expect_sw 63C3 "fresh card, PIN status" "$STATUS"
    [ "$(counters)" = "PIN 3/PUK 3" ] || fail "fresh counters: $(counters)"
    ok "fresh card: VERIFY status 63C3 (PIN 3/PUK 3)"

    # Three wrong PINs through OpenSC.
    n=1
    for want in 63C2 63C1 6983; do
        r=$(login 999999)
        [ "$r" = CKR_PIN_INCORRECT ] || fail "wrong PIN #$n: $r, expected CKR_PIN_INCORRECT"
        expect_sw "$want" "after wrong PIN #$n" "$STATUS"
        ok "wrong PIN #$n: CKR_PIN_INCORRECT, status $want"
        n=$((n + 1))
    done
    expect_sw 6983 "right PIN on a blocked card" "$PIN_OK"
    r=$(login 123456)
    [ "$r" = CKR_PIN_LOCKED ] || fail "right PIN on a blocked card via pkcs11-tool: $r, expected CKR_PIN_LOCKED"
    ok "blocked: the right PIN gets 6983 and CKR_PIN_LOCKED"

    # The block survives a restart (SIGTERM, then kill -9).
    restart TERM
    expect_sw 6983 "PIN status after SIGTERM restart" "$STATUS"
    restart KILL
    expect_sw 6983 "PIN status after kill -9 restart" "$STATUS"
    [ "$(counters)" = "PIN 0/PUK 3" ] || fail "counters after restarts: $(counters)"
    ok "PIN still blocked after SIGTERM and kill -9 restarts (PIN 0/PUK 3)"

    # A wrong PUK counts, and the count survives a restart.
    expect_sw 63C2 "wrong PUK #1" "002C008010${PUK_BAD_HEX}${NEWPIN_HEX}"
    restart KILL
    [ "$(counters)" = "PIN 0/PUK 2" ] || fail "counters after a wrong PUK and a restart: $(counters)"
    expect_sw 6983 "PIN status after a wrong PUK" "$STATUS"
    ok "wrong PUK: 63C2; after kill -9 restart the card still says PIN 0/PUK 2"

    # The PUK unblocks (OpenSC's pkcs15-tool), the new PIN signs.
    timeout 20 pkcs15-tool --unblock-pin --auth-id 01 --puk 12345678 --new-pin 654321 \
        > "$T/unblock.out" 2>&1 || { cat "$T/unblock.out" >&2; fail "pkcs15-tool --unblock-pin failed"; }
    expect_sw 63C3 "PIN status after unblock" "$STATUS"
    [ "$(counters)" = "PIN 3/PUK 3" ] || fail "counters after unblock: $(counters)"
    r=$(login 123456)
    [ "$r" = CKR_PIN_INCORRECT ] || fail "old PIN after unblock: $r"
    printf 'documento firmado tras desbloquear\n' > "$T/doc"
    timeout 20 pkcs11-tool --module "$P11" --login --pin 654321 --sign --id 01 \
        --mechanism SHA256-RSA-PKCS --input-file "$T/doc" --output-file "$T/sig" > "$T/p11.out" 2>&1 ||
        { cat "$T/p11.out" >&2; fail "signing with the new PIN failed"; }
    openssl x509 -inform DER -in "$FIX_FISICA_CER" -pubkey -noout > "$T/pub.pem"
    openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig" "$T/doc" >/dev/null ||
        fail "signature with the new PIN does not verify"
    expect_sw 9000 "raw VERIFY of the new PIN" "$NEWPIN_OK"
    expect_sw 63C2 "raw VERIFY of the old (now wrong) PIN" "$PIN_OK"
    expect_sw 9000 "raw VERIFY of the new PIN after a wrong one" "$NEWPIN_OK"
    expect_sw 63C3 "PIN status after a right VERIFY" "$STATUS"
    ok "PUK unblocks (pkcs15-tool --unblock-pin): PIN 3/PUK 3, old PIN refused, new PIN signs, openssl verifies"

    # Three wrong PUKs block the PUK; the right one is refused afterwards.
    n=1
    for want in 63C2 63C1 63C0; do
        expect_sw "$want" "wrong PUK #$n" "002C008010${PUK_BAD_HEX}${NEWPIN_HEX}"
        n=$((n + 1))
    done
    expect_sw 6983 "right PUK on a blocked PUK" "002C008010${PUK_OK_HEX}${NEWPIN_HEX}"
    expect_sw 63C3 "PIN status with a blocked PUK" "$STATUS"
    restart KILL
    expect_sw 6983 "right PUK after restart" "002C008010${PUK_OK_HEX}${NEWPIN_HEX}"
    [ "$(counters)" = "PIN 3/PUK 0" ] || fail "counters with a blocked PUK: $(counters)"
    r=$(login 654321)
    [ "$r" = OK ] || fail "the PIN stopped working when the PUK blocked: $r"
    ok "wrong PUKs: 63C2, 63C1, 63C0, then 6983 for the right PUK, also after a restart; the PIN still works"

    "$LLAVERO_VCARD" stop --state "$LLAVERO_VCARD_STATE" >/dev/null 2>&1 || true
    wait "$VPID" 2>/dev/null || true
}

if [ "${1:-}" = inner ]; then
    # shellcheck disable=SC1091
    . "$FIXDIR/fixtures.env"
    inner
    exit 0
fi

[ -x "$VCARD" ] || fail "llavero-vcard not built: $VCARD"
scratch_dir llavero-vcard-pin
WORK=$SCRATCH
gen_fixtures
S=$WORK/card.state
vcard_init "$S" --pin 123456 --puk 12345678
vcard_provision "$S" 9a:fisica

export WORK FIXDIR
pcsc_ns "$S" --log "$WORK/log" -- sh "$0" inner || fail "PIN/PUK checks failed"
echo "PASS: vcard_pin"
