#!/bin/sh
# Acceptance test 3 of the simulated security key: llavero-ctap-conformance
# (firmware-test/conformance) against one transport, given as $1:
#   socket  llavero-vkey run --socket (CTAPHID checks + CTAP2 checks)
#   udp     llavero-vkey run --udp on the fixed ports 127.0.0.1:8111 <-> 7112,
#           inside `unshare -n` (a private loopback) so parallel tests and a
#           host process on those ports cannot collide
#   pcsc    the FIDO applet of llavero-vcard through pcscd (tests/harness)
#   selftest  the runner against a fake device that echoes every report: it
#           must report failures and exit 1 (the runner can fail)
# Every check's line is printed; the test asserts the exact "N passed, 0
# failed" line, so a check that silently stops running fails the test too.
set -eu
: "${LLAVERO_BUILD:?}" "${LLAVERO_SRC:?}"
MODE=${1:?socket, udp, pcsc or selftest}
RUNNER="$LLAVERO_BUILD/firmware-test/conformance/llavero-ctap-conformance"
VKEY="$LLAVERO_BUILD/firmware-test/vkey/llavero-vkey"
VCARD="$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard"
HARNESS="${LLAVERO_HARNESS:-$LLAVERO_SRC/tests/harness}/pcsc-ns.sh"
. "${HARNESS%/*}/testlib.sh"
HID_CHECKS=58
PCSC_CHECKS=31
scratch_dir llv-conf
T=$SCRATCH
trap 'exit 1' INT TERM
TL_FAIL_WORD=FALLA TL_FAIL_LOG="$T/vkey.log"

check_summary() { # OUT EXPECTED_PASSED
	grep -v '^[0-9]\{8\} ' "$1"
	grep -qx "$2 passed, 0 failed" "$1" || fail "se esperaba «$2 passed, 0 failed»"
}

case $MODE in
socket)
	"$VKEY" init --state "$T/k.state" || fail "init"
	start_vkey "$T/k.state" "$T/k.sock" "$T/vkey.log"
	"$RUNNER" --socket "$T/k.sock" >"$T/out" 2>&1 || { cat "$T/out"; fail "el runner falló (socket)"; }
	check_summary "$T/out" $HID_CHECKS
	;;
udp)
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: unshare -n necesita root"; exit 77; }
	"$VKEY" init --state "$T/k.state" || fail "init"
	# Everything on the fixed ports happens in a private network namespace.
	unshare -n sh -c '
		set -eu
		ip link set lo up
		"$1" run --state "$2/k.state" --udp 2>"$2/vkey.log" &
		vp=$!
		trap "kill $vp 2>/dev/null || true; wait $vp 2>/dev/null || true" EXIT
		i=0
		while ! [ -S "$2/k.state.ctl" ]; do
			kill -0 $vp 2>/dev/null || { echo "llavero-vkey terminó al arrancar" >&2; exit 3; }
			i=$((i + 1)); [ "$i" -lt 100 ] || exit 3
			sleep 0.1
		done
		"$3" --udp 127.0.0.1:8111
	' sh "$VKEY" "$T" "$RUNNER" >"$T/out" 2>&1 || { cat "$T/out"; fail "el runner falló (UDP)"; }
	check_summary "$T/out" $HID_CHECKS
	grep -q "^# device: CTAPHID over UDP 127.0.0.1:8111" "$T/out" || fail "no se usó UDP"
	;;
pcsc)
	"$VCARD" init --state "$T/card.state" >/dev/null || fail "llavero-vcard init"
	sh "$HARNESS" --state "$T/card.state" --log "$T/log" -- \
		sh -c '"$0" --pcsc "$LLAVERO_READER"' "$RUNNER" >"$T/out" 2>&1 \
		|| { grep -v '^[0-9]\{8\} ' "$T/out"; fail "el runner falló (PC/SC)"; }
	check_summary "$T/out" $PCSC_CHECKS
	;;
selftest)
	# A fake "device" that sends every report straight back.
	/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept()
while True:
    r = c.recv(64)
    if not r:
        break
    c.send(r)
' "$T/echo.sock" &
	track_pid $!
	# shellcheck disable=SC2016  # expanded by wait_for at each try
	wait_for '[ -e "$T/echo.sock.ready" ]' 10 || fail "el dispositivo falso no arrancó"
	rc=0
	"$RUNNER" --socket "$T/echo.sock" >"$T/out" 2>&1 || rc=$?
	cat "$T/out"
	[ "$rc" = 1 ] || fail "contra un eco el runner salió con $rc (se esperaba 1)"
	grep -q "^FAIL hid.init.broadcast_response: expected INIT with 17 bytes got cmd 0x86 len 8" "$T/out" \
		|| fail "no detectó la respuesta INIT corta"
	grep -q "^FAIL hid.cid0.invalid_channel: expected ERROR 0x0b got command 0x81 with 4 bytes$" "$T/out" || fail "no detectó el CID 0 aceptado"
	grep -qE "^[0-9]+ passed, [1-9][0-9]* failed$" "$T/out" || fail "falta la línea de resumen con fallos"
	;;
*)
	fail "modo desconocido: $MODE"
	;;
esac
echo "vkey_conformance_$MODE: bien"
