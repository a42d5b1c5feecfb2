#!/bin/sh
# Acceptance test 2 of the simulated security key: Debian's python3-fido2 (an
# independent CTAP implementation, only loadable by /usr/bin/python3)
#  (a) finds the FIDO applet of llavero-vcard through pcscd (CtapPcscDevice,
#      inside the pcscd/vpcd namespace harness), and
#  (b) drives `llavero-vkey run --socket` through a custom CtapHidConnection;
# on both it sets a PIN, makes a credential with a pinUvAuthToken, gets
# assertions and verifies every signature (tests/integration/vkey/
# fido2_python.py). Also: an old vcard state without a "fido" section is
# upgraded (PIV kept), and --fido-up deny makes the applet refuse presence.
set -eu
: "${LLAVERO_BUILD:?}" "${LLAVERO_SRC:?}"
PY=/usr/bin/python3
HERE="$LLAVERO_SRC/tests/integration/vkey"
VCARD="$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard"
VKEY="$LLAVERO_BUILD/firmware-test/vkey/llavero-vkey"
HARNESS="${LLAVERO_HARNESS:-$LLAVERO_SRC/tests/harness}/pcsc-ns.sh"
. "${HARNESS%/*}/testlib.sh"
scratch_dir llv-pyfido2
T=$SCRATCH
trap 'exit 1' INT TERM
TL_FAIL_WORD=FALLA TL_FAIL_LOG="$T/vkey.log"

"$PY" -c 'import fido2, fido2.pcsc' || fail "python3-fido2 / python3-pyscard no cargan en $PY (scripts/deps.sh)"

# (a) PC/SC: the FIDO applet of a freshly initialised card.
S="$T/card.state"
"$VCARD" init --state "$S" >/dev/null || fail "llavero-vcard init"
"$VCARD" fido-attestation-ca --state "$S" >"$T/card-ca.pem" || fail "fido-attestation-ca"
openssl x509 -in "$T/card-ca.pem" -noout || fail "la CA FIDO de la tarjeta no es un certificado PEM"
sh "$HARNESS" --state "$S" --log "$T/log-a" -- \
	sh -c '"$0" "$1" --pcsc "$LLAVERO_READER" --ca "$2"' "$PY" "$HERE/fido2_python.py" "$T/card-ca.pem" \
	>"$T/pcsc.out" 2>&1 || { cat "$T/pcsc.out" | grep -v '^[0-9]\{8\} ' >&2; fail "python3-fido2 por PC/SC"; }
grep -v '^[0-9]\{8\} ' "$T/pcsc.out"
grep -qx "45 passed, 0 failed" "$T/pcsc.out" || fail "PC/SC: faltan comprobaciones"
# The PIN, the credentials and the counter were saved in the state file.
"$VCARD" status --state "$S" >"$T/status.out" || fail "status"
grep -q "FIDO: AAGUID .*, PIN fijado (8 intentos restantes), 1 credenciales residentes" "$T/status.out" \
	|| fail "el estado no guardó el PIN o la credencial residente: $(grep FIDO "$T/status.out")"

# An old card state (no "fido" section) is upgraded, not reset. Build one by
# rewriting the state file without that section (python reads the LLVS
# container: header, sections, SHA-256 trailer).
"$PY" "$HERE/strip_section.py" "$S" fido "$T/old.state" || fail "no se pudo quitar la sección fido"
"$VCARD" status --state "$T/old.state" >"$T/old.out" 2>"$T/old.err" || fail "status del estado antiguo: $(cat "$T/old.err")"
grep -q "actualización" "$T/old.err" || fail "la actualización no se anunció: $(cat "$T/old.err")"
grep -q "FIDO: AAGUID .*, sin PIN, 0 credenciales residentes" "$T/old.out" || fail "FIDO tras actualizar: $(cat "$T/old.out")"
"$PY" "$HERE/strip_section.py" "$T/old.state" fido "$T/old2.state" 2>/dev/null \
	|| fail "la sección fido no quedó guardada tras la actualización"
"$VCARD" status --state "$T/old.state" 2>"$T/old2.err" >/dev/null || fail "status tras actualizar"
! grep -q "actualización" "$T/old2.err" || fail "se actualizó dos veces"

# --fido-up deny: presence refused (CTAP2_ERR_OPERATION_DENIED 0x27).
S2="$T/deny.state"
"$VCARD" init --state "$S2" >/dev/null || fail "init (deny)"
cat >"$T/vcard-deny" <<EOS
#!/bin/sh
exec "$VCARD" "\$@" --fido-up deny
EOS
chmod +x "$T/vcard-deny"
LLAVERO_VCARD="$T/vcard-deny" sh "$HARNESS" --state "$S2" --log "$T/log-b" -- \
	"$PY" -c '
import sys, hashlib
from fido2.pcsc import CtapPcscDevice
from fido2.ctap2 import Ctap2
from fido2.ctap import CtapError
dev = list(CtapPcscDevice.list_devices(sys.argv[1]))[0]
try:
    Ctap2(dev).make_credential(hashlib.sha256(b"x").digest(), {"id": "a.example"}, {"id": b"u"},
                               [{"type": "public-key", "alg": -7}])
except CtapError as e:
    print("code 0x%02x" % e.code)
    sys.exit(0 if e.code == 0x27 else 1)
print("makeCredential succeeded with presence denied")
sys.exit(1)
' "" >"$T/deny.out" 2>&1 || { grep -v '^[0-9]\{8\} ' "$T/deny.out" >&2; fail "--fido-up deny"; }
grep -q "code 0x27" "$T/deny.out" || fail "--fido-up deny: $(grep -v '^[0-9]\{8\} ' "$T/deny.out")"
echo "PASS pcsc --fido-up deny -> OPERATION_DENIED"

# (b) the socket transport of llavero-vkey.
K="$T/vkey.state"
"$VKEY" init --state "$K" || fail "llavero-vkey init"
"$VKEY" attestation-ca --state "$K" >"$T/vkey-ca.pem" || fail "attestation-ca"
start_vkey "$K" "$T/vkey.sock" "$T/vkey.log"
"$PY" "$HERE/fido2_python.py" --socket "$T/vkey.sock" --ca "$T/vkey-ca.pem" >"$T/sock.out" 2>&1 \
	|| { cat "$T/sock.out" >&2; fail "python3-fido2 por el socket"; }
cat "$T/sock.out"
grep -qx "45 passed, 0 failed" "$T/sock.out" || fail "socket: faltan comprobaciones"
# The socket key's CA must not verify the card's attestations (distinct CAs).
! cmp -s "$T/vkey-ca.pem" "$T/card-ca.pem" || fail "la tarjeta y la llave comparten CA"
echo "vkey_python_fido2: bien"
