#!/bin/sh
# Installs the Debian packages that Llavero's build, demo and tests need.
# Idempotent and quiet: prints nothing and touches nothing when all are present.
#   deps.sh          what the build needs
#   deps.sh --test   also what only the test step needs (a browser)
set -eu

PACKAGES="
build-essential cmake pkg-config clang libclang-rt-14-dev
libssl-dev openssl
libpcsclite-dev pcscd vsmartcard-vpcd
libp11-kit-dev
libcmocka-dev
libjansson-dev
libcbor-dev libfido2-dev fido2-tools python3-fido2 python3-pyscard
libpsl-dev publicsuffix libusb-1.0-0-dev
opensc yubico-piv-tool
libnss3-tools libengine-pkcs11-openssl gnutls-bin p11-kit
python3-pykcs11 softhsm2
iproute2 util-linux procps
libmicrohttpd-dev libsqlite3-dev libcurl4-openssl-dev
"
# llavero-idp's end-to-end test drives headless Chromium (acceptance 1 of the
# server side), and the extension's tests headless Chromium and Firefox ESR
# (integration.firefox_version): big, so only for the test step.
TEST_PACKAGES="chromium firefox-esr"
[ "${1:-}" = "--test" ] && PACKAGES="$PACKAGES $TEST_PACKAGES"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $p"
done
# node and npm run @simplewebauthn/server in the FIDO bridge tests; a machine
# may already have them from elsewhere (e.g. NodeSource's nodejs with npm
# inside), so Debian's packages are only asked for when the commands are absent.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

echo "llavero: instalando paquetes / installing packages:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
