#!/bin/sh
# integration.demo: runs scripts/demo.sh on this build (no packages, no
# build) and checks what it says: who signed in, as the portal showed it, is
# the fixture persona física (RFC, CURP, name) with both the e.firma and the
# security key; the signature verified; the screenshot is a PNG; nothing it
# started is still running.
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
fail() { echo "FALLA: $*" >&2; exit 1; }

OUT=$LLAVERO_BUILD/demo-test.out
rc=0
LLAVERO_DEMO_NO_BUILD=1 LLAVERO_BUILD_DIR=$LLAVERO_BUILD \
    sh "$LLAVERO_SRC/scripts/demo.sh" >"$OUT" 2>&1 </dev/null || rc=$?
cat "$OUT"
[ "$rc" = 0 ] || fail "scripts/demo.sh terminó con $rc"

# The fixture the demo generated (tests/fixtures/gen-fixtures.sh).
# shellcheck disable=SC1091
. "$LLAVERO_BUILD/demo/fixtures/fixtures.env"
{ [ -n "${FIX_FISICA_RFC:-}" ] && [ -n "${FIX_FISICA_CURP:-}" ]; } || fail "fixtures.env sin RFC/CURP"

# The closing block, after "Quién entró, según el portal".
sed -n '/^Quién entró, según el portal/,$p' "$OUT" > "$OUT.quien"
grep -qx "  RFC:    $FIX_FISICA_RFC" "$OUT.quien" || fail "la salida no dice RFC: $FIX_FISICA_RFC"
grep -qx "  CURP:   $FIX_FISICA_CURP" "$OUT.quien" || fail "la salida no dice CURP: $FIX_FISICA_CURP"
grep -q "^  Nombre: .*$FIX_FISICA_NAME" "$OUT.quien" || fail "la salida no dice el nombre $FIX_FISICA_NAME"
grep -qx "  Entró con / signed in with: e.firma, llave de seguridad" "$OUT.quien" ||
    fail "no entró con la e.firma y con la llave"
# Each sign-in on its own, as the portal showed it.
[ "$(grep -c "^      RFC:    $FIX_FISICA_RFC\$" "$OUT")" = 2 ] || fail "no hay dos entradas con el RFC"
grep -q "Cómo entró: e.firma$" "$OUT" || fail "no entró con la e.firma"
grep -q "Cómo entró: llave de seguridad$" "$OUT" || fail "no entró con la llave de seguridad"
grep -q "PIN 123456 (pinentry de prueba / scripted)" "$OUT" || fail "no dice que el PIN es del pinentry de prueba"
grep -q "firma válida con el certificado" "$OUT" || fail "la firma no se verificó"

PNG=$LLAVERO_BUILD/demo/portal.png
[ "$(head -c 8 "$PNG" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$PNG no es un PNG"
grep -q "$PNG" "$OUT" || fail "la salida no menciona $PNG"

# Nothing the demo started is left: no process runs from its scratch dir or
# the build's binaries it used.
left=""
for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null || true)
    case $cmd in
        *"$LLAVERO_BUILD/demo/"*) left="$left ${p#/proc/}:$cmd" ;;
    esac
done
[ -z "$left" ] || fail "procesos que siguen vivos:$left"
echo "ok: la demostración dice quién entró ($FIX_FISICA_RFC, $FIX_FISICA_CURP)"
