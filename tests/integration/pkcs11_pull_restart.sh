#!/bin/sh
# Issue 4, acceptance 5, with an independent long-lived client: one
# python3-pykcs11 process (pkcs11_longlived.py, C_Initialize once) signs with
# the vcard's 9A in a loop through llavero-pkcs11.so while the test
#   1. pulls the card (llavero-vcard remove) mid-loop: the client's calls fail
#      with CKR_DEVICE_REMOVED / CKR_SESSION_HANDLE_INVALID /
#      CKR_TOKEN_NOT_PRESENT (nothing else, no call longer than 5 s), then
#      re-inserts it: the same process signs again (verified);
#   2. kills pcscd and starts a new one with the harness's command line in
#      the namespace: the client's calls fail with those errors (or
#      CKR_DEVICE_ERROR while pcscd is away) and, once pcscd is back, the same
#      process signs again without a new C_Initialize.
set -eu

: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}" "${LLAVERO_HARNESS:?}"
. "$LLAVERO_SRC/tests/integration/p11_interop_lib.sh"

# wait_phase PATTERN PHASE: bounded (30 s) wait for a log line of PHASE matching PATTERN
wait_phase() {
    i=0
    while [ $i -lt 300 ]; do
        grep -Eq "^[0-9]+ $2 $1[^ ]* " "$D/log" 2>/dev/null && return 0
        kill -0 "$CP" 2>/dev/null || { cat "$D/client.err" >&2; fail "the client died"; }
        sleep 0.1
        i=$((i + 1))
    done
    tail -n 20 "$D/log" >&2
    fail "no '$1' in phase $2 within 30 s"
}

card_state() {
    case $1 in yes) pat='^0 +Yes ' ;; *) pat='^0 +No ' ;; esac
    i=0
    while [ $i -lt 150 ]; do
        opensc-tool -l 2>/dev/null | grep -Eq "$pat" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    fail "the card did not become '$1'"
}

inner() {
    T=$WORK/inner
    D=$T/client
    mkdir -p "$D"
    . "$FIXDIR/fixtures.env"
    CP="" NEWPCSCD=""
    trap '[ -n "$CP" ] && kill "$CP" 2>/dev/null; [ -n "$NEWPCSCD" ] && kill "$NEWPCSCD" 2>/dev/null; true' EXIT
    echo start > "$D/phase"
    /usr/bin/python3 "$LLAVERO_SRC/tests/integration/pkcs11_longlived.py" "$P11" "$PIN" \
        "$FIX_FISICA_CER" "$D" 2> "$D/client.err" &
    CP=$!
    wait_phase OK start
    sleep 0.5

    echo removed > "$D/phase"
    "$LLAVERO_VCARD" remove --state "$LLAVERO_VCARD_STATE" > /dev/null || fail "remove"
    card_state no
    wait_phase 'CKR_[A-Z_]+' removed
    sleep 1
    echo inserted > "$D/phase"
    "$LLAVERO_VCARD" insert --state "$LLAVERO_VCARD_STATE" > /dev/null || fail "insert"
    card_state yes
    wait_phase OK inserted
    sleep 0.5
    bad=$(awk '$2 == "removed" && $3 != "OK" && $3 !~ /^CKR_DEVICE_REMOVED@/ && $3 !~ /^CKR_SESSION_HANDLE_INVALID@/ && $3 !~ /^CKR_TOKEN_NOT_PRESENT@/' "$D/log")
    [ -z "$bad" ] || { sort "$D/client.err" | uniq -c >&2; fail "unexpected results with the card out: $bad"; }
    errs=$(awk '$2 == "removed" && $3 != "OK" { print $3 }' "$D/log" | sort | uniq -c | tr -s ' \n' ' ')
    ok "card pulled mid-loop: the client got$errs; re-inserted, the same process signs again"

    cmdline=$(tr '\0' ' ' < "/proc/$LLAVERO_PCSCD_PID/cmdline")
    echo pcscd-down > "$D/phase"
    kill "$LLAVERO_PCSCD_PID"
    i=0
    while kill -0 "$LLAVERO_PCSCD_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 "$LLAVERO_PCSCD_PID" 2>/dev/null && fail "pcscd did not stop"
    wait_phase 'CKR_[A-Z_]+' pcscd-down
    sleep 1
    echo pcscd-back > "$D/phase"
    # shellcheck disable=SC2086
    $cmdline >> "$LLAVERO_HARNESS_LOG/pcscd-restarted.log" 2>&1 &
    NEWPCSCD=$!
    card_state yes
    wait_phase OK pcscd-back
    sleep 0.5
    touch "$D/stop"
    i=0
    while kill -0 "$CP" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 "$CP" 2>/dev/null && fail "the client did not stop"
    wait "$CP" || { cat "$D/client.err" >&2; fail "the client exited with an error"; }
    CP=""
    bad=$(awk '$2 == "pcscd-down" && $3 != "OK" && $3 !~ /^CKR_DEVICE_REMOVED@/ && $3 !~ /^CKR_SESSION_HANDLE_INVALID@/ && $3 !~ /^CKR_TOKEN_NOT_PRESENT@/ && $3 !~ /^CKR_DEVICE_ERROR@/' "$D/log")
    [ -z "$bad" ] || fail "unexpected results with pcscd away: $bad"
    slow=$(awk '$4 > 5' "$D/log")
    [ -z "$slow" ] || fail "calls took more than 5 s: $slow"
    errs=$(awk '$2 == "pcscd-down" && $3 != "OK" { print $3 }' "$D/log" | sort | uniq -c | tr -s ' \n' ' ')
    n=$(grep -c ' OK ' "$D/log")
    ok "pcscd killed: the client got$errs; pcscd restarted, the same process signs again ($n signatures verified in all, no call over 5 s)"
    kill "$NEWPCSCD" 2>/dev/null || true
    NEWPCSCD=""
}

if [ "${1:-}" = inner ]; then
    inner
    exit 0
fi

[ -r "$P11" ] || fail "llavero-pkcs11.so not built: $P11"
/usr/bin/python3 -c 'import PyKCS11, cryptography' 2>/dev/null || fail "python3-pykcs11 / python3-cryptography missing"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llavero-p11pull.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
p11_fixtures
S=$WORK/card.state
p11_provision_card "$S"
LLAVERO_PKCS11_CONF=$WORK/empty.conf
: > "$LLAVERO_PKCS11_CONF"
export WORK FIXDIR P11 LLAVERO_PKCS11_CONF XDG_CONFIG_HOME="$WORK/xdg"
ok "card provisioned"
in_harness "$S" -- timeout 80 sh "$0" inner || fail "card pull / pcscd restart checks failed"
echo "PASS: pkcs11_pull_restart"
