#!/bin/sh
# integration.idp_browser: acceptance 1 of the server side. llavero-idp with
# no config (development defaults: http://localhost:PORT, RP ID localhost)
# on a free loopback port, headless Chromium with its WebAuthn virtual
# authenticator driven by tests/e2e/idp_webauthn.mjs (playwright-core), and
# @simplewebauthn/server checking the same responses. npm packages are
# pinned in tests/e2e/package-lock.json (npm ci only when node_modules is
# missing).
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
E2E=$LLAVERO_SRC/tests/e2e

for c in node npm /usr/bin/chromium; do
    command -v "$c" >/dev/null 2>&1 || { echo "falta $c (scripts/deps.sh --test)" >&2; exit 1; }
done
if [ ! -d "$E2E/node_modules/playwright-core" ] || [ ! -d "$E2E/node_modules/@simplewebauthn/server" ]; then
    (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
fi

. "$LLAVERO_SRC/tests/integration/idp_lib.sh"

idp_start "$T/port" --db "$T/idp.db"
PORT=$(cat "$T/port")

rc=0
(cd "$E2E" && timeout 240 node idp_webauthn.mjs "http://localhost:$PORT" "$T/chromium") || rc=$?
[ $rc -eq 0 ] || { echo "--- registro de llavero-idp ---" >&2; tail -40 "$T/idp.log" >&2; }
exit $rc
