#!/bin/sh
# integration.idp_oauth: acceptance 3 of the server side. llavero-idp on a
# free loopback port (its own temp dir and database, stopped by PID), a config
# trusting the generated test CA and naming two test portals, and a test
# client (tests/integration/idp/oauth_flow.py, Python standard library)
# driving authorize -> e.firma sign-in -> code -> token (PKCE right and
# wrong, code reuse) -> userinfo.
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
IDP=$LLAVERO_BUILD/verify/idp/llavero-idp
FIXDIR=$LLAVERO_BUILD/fixtures
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null
. "$FIXDIR/fixtures.env"

T=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat > "$T/config.json" <<JSON
{
  "trusted_cas": ["$FIX_CA_ISSUER_PEM"],
  "rate_limit_ip": 40,
  "clients": [
    {"client_id": "portal-prueba", "name": "Portal de prueba",
     "redirect_uris": ["http://127.0.0.1:9/portal/callback"]},
    {"client_id": "portal-confidencial", "name": "Portal confidencial",
     "client_secret": "secreto-de-prueba-no-real",
     "redirect_uris": ["http://127.0.0.1:9/confidencial/callback"]}
  ]
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
PORT=$(cat "$T/port")

rc=0
/usr/bin/python3 "$LLAVERO_SRC/tests/integration/idp/oauth_flow.py" "http://localhost:$PORT" \
    "$FIXDIR/fixtures.env" || rc=$?
# Nothing secret in the log: no session IDs, codes, tokens or nonces.
if grep -E -q '[A-Za-z0-9_-]{43}' "$T/idp.log"; then
    echo "FALLA: el registro de llavero-idp contiene algo con forma de secreto:" >&2
    grep -E '[A-Za-z0-9_-]{43}' "$T/idp.log" | head -5 >&2
    rc=1
else
    echo "ok: el registro del servidor no contiene IDs de sesión, códigos ni tokens"
fi
[ $rc -eq 0 ] || { echo "--- registro de llavero-idp ---" >&2; tail -40 "$T/idp.log" >&2; }
exit $rc
