#!/bin/sh
# End-to-end tests of the browser extension (web/extension), llavero.js and
# llavero-agent in Debian's headless Chromium (new headless mode, playwright-core
# over the DevTools protocol, no browser download):
#
#   run.sh version   a page on http://localhost:PORT asks llavero.version()
#                    through the extension and llavero-agent answers
#   run.sh signin    acceptance 1: the llavero-idp demo portal signs in with
#                    the e.firma on llavero-vcard (pcscd, llavero-pkcs11.so)
#                    and with llavero-vkey through the agent's FIDO bridge
#   run.sh errors    acceptance 2: non-allowed origins get origin-not-allowed
#                    and the card is never touched; a wrong PIN shows the
#                    retries left; cancelling at pinentry gives user-cancelled
#   run.sh firefox_version
#                    the version test in Debian's headless Firefox ESR (the
#                    extension as a temporary add-on over WebDriver BiDi,
#                    tests/e2e/firefox.mjs)
#   run.sh firefox_signin
#                    the demo portal's e.firma sign-in in Firefox ESR
#
# Everything runs inside tests/harness/pcsc-ns.sh (private mount and network
# namespaces, loopback only): pcscd, llavero-vcard, llavero-vkey, llavero-idp,
# Chromium and the agent it starts. Scratch (logs, the browser profile, the
# screenshot of the demo portal) stays in $LLAVERO_BUILD/e2e/NAME.
# Needs LLAVERO_SRC, LLAVERO_BUILD (set by ctest), node, npm, /usr/bin/chromium
# (/usr/bin/firefox-esr for firefox_*).
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
NAME=${1:?usage: run.sh version|signin|errors|firefox_version|firefox_signin}
E2E=$LLAVERO_SRC/tests/e2e
HARNESS=${LLAVERO_HARNESS:-$LLAVERO_SRC/tests/harness}/pcsc-ns.sh
VCARD=$LLAVERO_BUILD/firmware-test/vcard/llavero-vcard
VKEY=$LLAVERO_BUILD/firmware-test/vkey/llavero-vkey
AGENT=$LLAVERO_BUILD/middleware/llavero-agent
IDP=$LLAVERO_BUILD/verify/idp/llavero-idp
CLI=$LLAVERO_BUILD/middleware/llavero

fail() { echo "FALLA: $*" >&2; exit 1; }

BROWSER=/usr/bin/chromium
case $NAME in firefox_*) BROWSER=/usr/bin/firefox-esr ;; esac
for c in node npm "$BROWSER"; do
    command -v "$c" >/dev/null 2>&1 || fail "falta $c (scripts/deps.sh --test)"
done
for b in "$VCARD" "$AGENT"; do
    [ -x "$b" ] || fail "no está construido: $b"
done
# npm packages pinned by package-lock.json; installed only when missing
# (shared with the idp browser test: one installs, the other waits).
flock "$E2E/package.json" sh -c '
    cd "$1"
    [ -d node_modules/playwright-core ] && [ -d node_modules/@simplewebauthn/server ] && exit 0
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
' sh "$E2E" || fail "npm ci falló en tests/e2e (¿se alcanza el registro de npm?)"

T=$LLAVERO_BUILD/e2e/$NAME
rm -rf "$T"
mkdir -p "$T"

FIXDIR=$LLAVERO_BUILD/fixtures
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null || fail "no se generaron los fixtures"

# The card: persona física e.firma in 9A (authentication) and 9C (signing),
# PIN 123456 (llavero-vcard's default).
STATE=$T/card.state
# shellcheck disable=SC1091
. "$FIXDIR/fixtures.env"
"$VCARD" init --state "$STATE" >/dev/null || fail "vcard init"
for slot in 9a 9c; do
    "$VCARD" provision --state "$STATE" --efirma "$FIX_FISICA_CER" "$FIX_FISICA_KEY" \
        --password-file "$FIX_FISICA_PASS_FILE" --slot $slot >/dev/null || fail "vcard provision $slot"
done

export LLAVERO_E2E_SCRATCH=$T LLAVERO_E2E_FIXTURES=$FIXDIR/fixtures.env
export LLAVERO_VKEY=$VKEY LLAVERO_IDP=$IDP LLAVERO_CLI=$CLI LLAVERO_AGENT=$AGENT
export LLAVERO_VCARD=$VCARD
rc=0
sh "$HARNESS" --state "$STATE" --log "$T/harness" --timeout 30 -- \
    sh "$E2E/inside.sh" "$NAME" >"$T/output.txt" 2>&1 || rc=$?
cat "$T/output.txt"
if [ $rc -ne 0 ]; then
    for f in "$T"/*.log "$T"/profile/agent.log "$T"/host/agent.log; do
        [ -s "$f" ] || continue
        echo "----- $f (últimas 40 líneas) -----"
        tail -n 40 "$f"
    done
fi
exit $rc
