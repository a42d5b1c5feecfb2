#!/bin/sh
# Acceptance test 1 of llavero-vkey: Debian's unmodified libfido2 through
# custom io functions over the SOCK_SEQPACKET socket (tests/integration/vkey/
# fido2_client.c), the UDP transport, the control channel, state handling,
# and the attestation chain checked by OpenSSL.
set -eu
: "${LLAVERO_BUILD:?}"
. "${LLAVERO_HARNESS:-$(dirname "$0")/../../harness}/testlib.sh"
VKEY="$LLAVERO_BUILD/firmware-test/vkey/llavero-vkey"
CLIENT="$LLAVERO_BUILD/tests/integration/vkey_fido2_client"
scratch_dir llv-vkey
T=$SCRATCH
trap 'exit 1' INT TERM
TL_FAIL_WORD=FALLA TL_FAIL_LOG="$T/vkey.log" TL_FAIL_LINES=40

S="$T/vkey.state"
"$VKEY" --help >/dev/null || fail "--help"
"$VKEY" init --state "$S" || fail "init"
rc=0; "$VKEY" init --state "$S" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "init sobre un estado existente devolvió $rc (se esperaba 2)"
"$VKEY" init --state "$T/other.state" --force || fail "init --force"

# A corrupt state is refused with a clear message and left untouched.
cp "$S" "$T/corrupt.state"
printf 'X' | dd of="$T/corrupt.state" bs=1 seek=40 conv=notrunc 2>/dev/null
cp "$T/corrupt.state" "$T/corrupt.orig"
rc=0; "$VKEY" run --state "$T/corrupt.state" --socket "$T/c.sock" 2>"$T/corrupt.err" || rc=$?
[ "$rc" = 2 ] || fail "estado dañado: código $rc (se esperaba 2)"
grep -q "no es válido" "$T/corrupt.err" || fail "estado dañado: mensaje poco claro: $(cat "$T/corrupt.err")"
cmp -s "$T/corrupt.state" "$T/corrupt.orig" || fail "el estado dañado fue modificado"
rc=0; "$VKEY" run --state "$T/missing.state" --socket "$T/c.sock" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "estado inexistente: código $rc"
rc=0; "$VKEY" up --state "$S" touch 2>/dev/null || rc=$?
[ "$rc" = 4 ] || fail "up sin proceso en marcha: código $rc (se esperaba 4)"

# Random UDP ports, so parallel runs do not collide.
DEV=$(( 20000 + $$ % 20000 ))
HOST=$(( DEV + 1 ))
start_vkey "$S" "$T/vkey.sock" "$T/vkey.log" --udp-ports "$DEV:$HOST" -v
# A second process on the same state is refused.
rc=0; "$VKEY" run --state "$S" --socket "$T/vkey2.sock" 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "segundo proceso sobre el mismo estado: código $rc (se esperaba 3)"
"$VKEY" up --state "$S" status >/dev/null || fail "up status"

# The exact count, as in vkey_conformance.sh: a check that silently stops
# running (a branch skipped, a run cut short) fails the test too.
"$CLIENT" --socket "$T/vkey.sock" --vkey "$VKEY" --state "$S" --outdir "$T" --udp "$DEV:$HOST" \
	>"$T/client.out" 2>&1 || { cat "$T/client.out"; fail "fido2_client"; }
cat "$T/client.out"
grep -qx "181 passed, 0 failed" "$T/client.out" || fail "fido2_client: se esperaba «181 passed, 0 failed»"

# The packed attestation's x5c chains to the CA that llavero-vkey exports.
"$VKEY" attestation-ca --state "$S" >"$T/ca.pem" || fail "attestation-ca"
openssl x509 -in "$T/ca.pem" -noout || fail "la CA no es un certificado PEM"
openssl x509 -inform DER -in "$T/x5c-packed.der" -out "$T/batch.pem" || fail "x5c ilegible"
openssl verify -CAfile "$T/ca.pem" "$T/batch.pem" || fail "el certificado de lote no encadena con la CA"

grep -q "clientPIN: contenido omitido" "$T/vkey.log" || fail "-v no registró las tramas clientPIN (omitidas)"
stop_pid "$VKEY_PID"
[ ! -e "$S.ctl" ] || fail "el socket de control quedó tras terminar"
# The state written by the run still loads.
"$VKEY" attestation-ca --state "$S" >/dev/null || fail "el estado guardado no carga"
echo "vkey_libfido2: bien"
