#!/bin/sh
# The udev rules of udev/: syntax and matching against recorded device
# properties (fido_udev_check.py, which evaluates the keys the rules use and
# runs their PROGRAM against a scratch sysfs tree), plus `udevadm verify`
# where this machine's udev has it (systemd >= 254), and `cmake --install`
# putting them where udev, sysusers and polkit read them.
set -eu
: "${LLAVERO_BUILD:?}" "${LLAVERO_SRC:?}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" "$LLAVERO_SRC/tests/integration/fido_udev_check.py" "$LLAVERO_SRC/udev" \
	"$LLAVERO_SRC/tests/integration/fido_udev/devices.json"
# The checker itself notices a broken rule (unknown key, bad operator, quote,
# GOTO without LABEL).
T0=$(mktemp -d "${TMPDIR:-/tmp}/llv-udevbad.XXXXXX")
printf 'SUBSYSTEM=="hidraw", ENV{X}=="1", GOTO="nowhere"\nKERNAL=="hidraw*", MODE="0660"\nSUBSYSTEM="usb", TAG+="x"\nENV{A}=="1 TAG+="y"\n' >"$T0/99-bad.rules"
printf '{"devices": []}' >"$T0/none.json"
if "$PY" "$LLAVERO_SRC/tests/integration/fido_udev_check.py" "$T0" "$T0/none.json" >"$T0/out" 2>&1; then
	cat "$T0/out"; rm -rf "$T0"; echo "FALLA: el analizador aceptó reglas rotas" >&2; exit 1
fi
for what in nowhere KERNAL "SUBSYSTEM no admite =" "no se entiende"; do
	grep -q "$what" "$T0/out" || { cat "$T0/out"; rm -rf "$T0"; echo "FALLA: no señaló $what" >&2; exit 1; }
done
rm -rf "$T0"
echo "ok: el analizador rechaza reglas rotas"
if command -v udevadm >/dev/null && udevadm verify --help >/dev/null 2>&1; then
	udevadm verify "$LLAVERO_SRC"/udev/*.rules
	echo "ok: udevadm verify"
else
	echo "info: udevadm verify no está disponible aquí; basta el analizador"
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/llv-udev.XXXXXX")
trap 'rm -rf "$T"' EXIT
cmake --install "$LLAVERO_BUILD" --prefix "$T/prefix" --component Unspecified >/dev/null
for f in lib/udev/rules.d/61-llavero-fido-fallback.rules lib/udev/rules.d/70-llavero.rules \
	 lib/sysusers.d/llavero.conf share/polkit-1/rules.d/50-llavero-kiosk-pcsc.rules bin/llavero; do
	[ -e "$T/prefix/$f" ] || { echo "FALLA: cmake --install no instaló $f" >&2; exit 1; }
done
echo "ok: cmake --install instala reglas udev, sysusers.d, polkit y llavero"
