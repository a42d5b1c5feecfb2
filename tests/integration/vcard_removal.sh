#!/bin/sh
# Acceptance 5: pulling the card in the middle of signing, and kill -9 while
# the vcard writes its state.
#   a) a loop of 50 `pkcs11-tool --sign` (9A, SHA256-RSA-PKCS), each bounded
#      by `timeout 20`; `llavero-vcard remove` lands mid-loop: the calls made
#      while the card is out fail with an error (never a timeout, exit 124),
#      `insert` brings it back and the calls after it sign again (openssl
#      verifies them);
#   b) one process signing in a loop (bench/p11-sign-bench, 1000 rounds of
#      C_Initialize..C_Sign..C_Finalize through OpenSC): `remove` makes it
#      stop with a PKCS#11 error within the timeout; after `insert` it signs;
#   c) kill -9 of the vcard at random moments while yubico-piv-tool writes
#      certificates (PUT DATA, ~1.3 KB state writes) and wrong PINs are
#      counted: the state file always loads, holding either certificate.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_HARNESS/testlib.sh"
VCARD=${LLAVERO_VCARD:-$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard}
BENCH=${LLAVERO_P11_BENCH:-$LLAVERO_BUILD/bench/p11-sign-bench}
P11=${LLAVERO_OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
LOOP=50

# start_vcard: runs llavero-vcard again on the same state and port.
start_vcard() {
    vcard_start
    card_ready || { kill -0 "$VPID" 2>/dev/null || echo "vcard $VPID exited" >&2; return 1; }
}

# wait_lines FILE N: waits (bounded, 30 s) until FILE has N lines.
wait_lines() {
    i=0
    while [ $i -lt 300 ]; do
        [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# sign_loop: LOOP signatures, one pkcs11-tool process each; appends
# "i rc phase" to $T/loop.log (phase = what the test had done before the call).
sign_loop() {
    i=1
    while [ $i -le $LOOP ]; do
        phase=$(cat "$T/phase")
        set +e
        timeout 20 pkcs11-tool --module "$P11" --login --pin 123456 --sign --id 01 \
            --mechanism SHA256-RSA-PKCS --input-file "$T/doc" --output-file "$T/sig.$i" \
            > "$T/out.$i" 2>&1
        rc=$?
        set -e
        echo "$i $rc $phase $(cat "$T/phase")" >> "$T/loop.log"
        i=$((i + 1))
    done
}

random_ms() {
    n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    echo $((n % $1))
}

inner() {
    T=$WORK/inner
    mkdir -p "$T"
    printf 'firma durante el retiro de la tarjeta\n' > "$T/doc"
    openssl x509 -inform DER -in "$FIX_FISICA_CER" -pubkey -noout > "$T/pub.pem"
    VPID=$LLAVERO_VCARD_PID

    # a) pkcs11-tool loop with remove/insert in the middle.
    echo in > "$T/phase"
    : > "$T/loop.log"
    sign_loop &
    loop=$!
    wait_lines "$T/loop.log" 10 || fail "the signing loop made no progress"
    echo removing > "$T/phase"
    "$LLAVERO_VCARD" remove --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "remove failed"
    echo out > "$T/phase"
    card_state no || fail "the card is still in the reader after remove"
    i=0
    while [ "$(awk '$3 == "out" && $4 == "out"' "$T/loop.log" | wc -l)" -lt 3 ]; do
        [ $i -lt 300 ] || fail "the signing loop hangs with the card out"
        sleep 0.1
        i=$((i + 1))
    done
    echo inserting > "$T/phase"
    "$LLAVERO_VCARD" insert --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "insert failed"
    card_ready || fail "the card did not come back after insert"
    echo in > "$T/phase"
    wait "$loop" || fail "the signing loop failed"
    [ "$(wc -l < "$T/loop.log")" -eq $LOOP ] || fail "the loop ran $(wc -l < "$T/loop.log") of $LOOP rounds"
    if awk '$2 == 124' "$T/loop.log" | grep -q .; then
        cat "$T/loop.log" >&2
        fail "a pkcs11-tool call hung (timeout 20 s)"
    fi
    # Calls that started and ended with the card out must fail.
    errs=$(awk '$3 == "out" && $4 == "out" && $2 != 0' "$T/loop.log" | wc -l)
    outs=$(awk '$3 == "out" && $4 == "out"' "$T/loop.log" | wc -l)
    [ "$outs" -ge 3 ] || { cat "$T/loop.log" >&2; fail "only $outs calls ran with the card out"; }
    [ "$errs" -eq "$outs" ] || { cat "$T/loop.log" >&2; fail "a call succeeded with the card out"; }
    first_out=$(awk '$3 == "out" && $4 == "out" {print $1; exit}' "$T/loop.log")
    grep -Eq 'No slot with a token|CKR_TOKEN_NOT_PRESENT|CKR_DEVICE_REMOVED|CKR_DEVICE_ERROR|CKR_SESSION_HANDLE_INVALID|CKR_TOKEN_NOT_RECOGNIZED' \
        "$T/out.$first_out" || { cat "$T/out.$first_out" >&2; fail "unexpected error text with the card out"; }
    # Calls made entirely while the card was in sign, and verify.
    good=0
    for i in $(awk '$3 == "in" && $4 == "in" {print $1}' "$T/loop.log"); do
        [ "$(sed -n "${i}p" "$T/loop.log" | cut -d' ' -f2)" = 0 ] ||
            { cat "$T/out.$i" >&2; fail "call $i failed with the card in"; }
        openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig.$i" "$T/doc" >/dev/null ||
            fail "signature $i does not verify"
        good=$((good + 1))
    done
    last=$(tail -n 1 "$T/loop.log")
    case $last in "$LOOP 0 in in") ;; *) fail "the last call after insert did not sign: $last" ;; esac
    ok "pkcs11-tool loop: $outs calls with the card out failed fast (no timeouts), $good before/after signed and verify; $(awk '$3 != $4 || ($3 != "in" && $3 != "out")' "$T/loop.log" | wc -l) calls straddled remove/insert"

    # b) one process, many signatures: remove stops it with an error.
    printf '123456\n' > "$T/pin"
    set +e
    timeout 20 "$BENCH" --module "$P11" --pin-file "$T/pin" --id 01 --mech sha256-rsa \
        --iterations 1000 > "$T/bench.out" 2> "$T/bench.err" &
    bpid=$!
    set -e
    wait_lines "$T/bench.out" 5 || { cat "$T/bench.out" >&2; fail "p11-sign-bench made no progress"; }
    "$LLAVERO_VCARD" remove --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "remove failed"
    set +e
    wait "$bpid"
    rc=$?
    set -e
    [ $rc -ne 124 ] || fail "p11-sign-bench hung after remove"
    [ $rc -ne 0 ] || { tail -n 3 "$T/bench.out" >&2; fail "p11-sign-bench finished 1000 rounds with the card out"; }
    err=$(grep -E -m1 'failed: CKR|no token present|no object of class' "$T/bench.err" || true)
    [ -n "$err" ] || { tail -n 5 "$T/bench.out" "$T/bench.err" >&2; fail "p11-sign-bench stopped without a PKCS#11 error"; }
    rounds=$(grep -c '^iter' "$T/bench.out" || true)
    # The card stays out for a moment, as a hand would keep it: a card
    # back within one pcscd poll after an exchange was cut is not seen
    # as a new insertion (pcscd keeps the old, unpowered card).
    card_state no || fail "the card is still in the reader after remove"
    sleep 1
    "$LLAVERO_VCARD" insert --state "$LLAVERO_VCARD_STATE" >/dev/null || fail "insert failed"
    card_ready || fail "the card did not come back after insert"
    timeout 20 "$BENCH" --module "$P11" --pin-file "$T/pin" --id 01 --mech sha256-rsa \
        --iterations 1 --signature-out "$T/bench.sig" > "$T/bench2.out" 2>&1 ||
        { cat "$T/bench2.out" >&2; fail "p11-sign-bench cannot sign after insert"; }
    ok "p11-sign-bench: remove after $rounds rounds -> exit $rc ($(echo "$err" | sed 's/^p11-sign-bench: //')); signs again after insert"

    # c) kill -9 at random moments during state writes.
    round=1
    while [ $round -le 5 ]; do
        rm -f "$T/stop"
        (
            k=0
            while [ $k -lt 40 ] && [ ! -e "$T/stop" ]; do
                if [ $((k % 2)) -eq 0 ]; then
                    cert=$FIX_FISICA_CERT_PEM
                else
                    cert=$FIX_MORAL_CERT_PEM
                fi
                timeout 10 yubico-piv-tool -r "$LLAVERO_READER" -a import-certificate -s 9a \
                    -i "$cert" >/dev/null 2>&1 || true
                timeout 10 opensc-tool -r "$LLAVERO_READER" -s 00A4040005A000000308 \
                    -s 0020008008393939393939FFFF -s 0020008008313233343536FFFF >/dev/null 2>&1 || true
                k=$((k + 1))
            done
        ) &
        writer=$!
        sleep "0.$(printf '%03d' $((100 + $(random_ms 800))))"
        saves=$("$LLAVERO_VCARD" stats --state "$LLAVERO_VCARD_STATE" 2>/dev/null | sed -n 's/^saves=//p')
        kill -KILL "$VPID"
        wait "$VPID" 2>/dev/null || true
        # The writer's clients now fail fast (bounded by timeout 10 anyway).
        touch "$T/stop"
        wait "$writer" 2>/dev/null || true
        out=$("$LLAVERO_VCARD" status --state "$LLAVERO_VCARD_STATE" 2>&1) ||
            { echo "$out" >&2; fail "the state does not load after kill -9 (round $round)"; }
        echo "$out" | grep -Eq '^Ranura 9A.*(JUAN PEREZ PRUEBA|EMPRESA DE PRUEBAS)' ||
            { echo "$out" >&2; fail "9A lost its certificate after kill -9 (round $round)"; }
        echo "$out" | grep -Eq '^PIN: [23] de 3' || { echo "$out" >&2; fail "PIN counter after kill -9: round $round"; }
        [ -n "$saves" ] && [ "$saves" -gt 0 ] || fail "no state writes happened before kill -9 (round $round)"
        ok "kill -9 after $saves state writes (round $round): the state loads ($(echo "$out" | grep '^PIN'))"
        card_state no || fail "the card stayed in the reader after kill -9"
        # When the kill cut an exchange short, pcscd may show "no card" before
        # vpcd's presence poll has dropped the dead connection; a new vcard
        # joining within that moment is never seen as a fresh insertion
        # (pcscd keeps the old, unpowered card for seconds). Let it settle.
        sleep 1
        start_vcard || fail "the restarted vcard did not come back (round $round)"
        round=$((round + 1))
    done
    # The key in 9A still signs after all this.
    timeout 20 pkcs11-tool --module "$P11" --login --pin 123456 --sign --id 01 \
        --mechanism SHA256-RSA-PKCS --input-file "$T/doc" --output-file "$T/sig.end" > "$T/out.end" 2>&1 ||
        { cat "$T/out.end" >&2; fail "no signature after the kill -9 rounds"; }
    openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig.end" "$T/doc" >/dev/null ||
        fail "the signature after the kill -9 rounds does not verify"
    ok "after 5 kill -9 rounds 9A still signs and openssl verifies"
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
# bench/ is built with the tests (CMakeLists.txt): part b never skips.
[ -x "$BENCH" ] || fail "p11-sign-bench not built: $BENCH"
scratch_dir llavero-vcard-removal
WORK=$SCRATCH
gen_fixtures
S=$WORK/card.state
vcard_init "$S"
vcard_provision "$S" 9a:fisica

export WORK FIXDIR BENCH
pcsc_ns "$S" --log "$WORK/log" -- sh "$0" inner || fail "removal checks failed"
echo "PASS: vcard_removal"
