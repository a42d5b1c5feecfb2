#!/bin/sh
# integration.idp_conformance: llavero-idp in FIDO conformance mode on a free
# loopback port, driven through the conformance-tools server API by a
# software authenticator (tests/integration/idp/conformance_api.py: ES256,
# EdDSA, RS256; none and packed attestation), then a portal's OAuth flow with
# a passkey sign-in.
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
IDP=$LLAVERO_BUILD/verify/idp/llavero-idp

T=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat > "$T/config.json" <<JSON
{
  "conformance": true,
  "clients": [{"client_id": "portal-prueba", "name": "Portal de prueba",
               "redirect_uris": ["http://127.0.0.1:9/portal/callback"]}]
}
JSON
LLAVERO_LOG=info "$IDP" --listen 127.0.0.1:0 --db "$T/idp.db" --config "$T/config.json" \
    --port-file "$T/port" 2>"$T/idp.log" &
PID=$!
i=0
while [ ! -s "$T/port" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "llavero-idp no arrancó:" >&2
        cat "$T/idp.log" >&2
        exit 1
    fi
    sleep 0.1
done
rc=0
/usr/bin/python3 "$LLAVERO_SRC/tests/integration/idp/conformance_api.py" "http://localhost:$(cat "$T/port")" || rc=$?
[ $rc -eq 0 ] || { echo "--- registro de llavero-idp ---" >&2; tail -40 "$T/idp.log" >&2; }
exit $rc
