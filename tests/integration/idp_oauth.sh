#!/bin/sh
# integration.idp_oauth: acceptance 3 of the server side. llavero-idp on a
# free loopback port (its own temp dir and database, stopped by PID), a config
# trusting the generated test CA and naming two test portals, and a test
# client (tests/integration/idp/oauth_flow.py, Python standard library)
# driving authorize -> e.firma sign-in -> code -> token (PKCE right and
# wrong, code reuse) -> userinfo. Revocation comes from a local `openssl
# ocsp` responder; OpenSSL 3.0's responder binds every interface, so the whole
# test runs in a private network namespace holding only a loopback.
set -eu
: "${LLAVERO_SRC:?}" "${LLAVERO_BUILD:?}"
if [ -z "${LLAVERO_IDP_OAUTH_NS:-}" ]; then
    command -v unshare >/dev/null || { echo "FALLA: falta unshare (util-linux)"; exit 1; }
    userns=""
    [ "$(id -u)" -eq 0 ] || userns="-r"
    LLAVERO_IDP_OAUTH_NS=1 exec unshare $userns -n sh "$0" "$@"
fi
ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null || { echo "FALLA: no se pudo levantar lo"; exit 1; }
FIXDIR=$LLAVERO_BUILD/fixtures
sh "$LLAVERO_SRC/tests/fixtures/gen-fixtures.sh" "$FIXDIR" >/dev/null
. "$FIXDIR/fixtures.env"

. "$LLAVERO_SRC/tests/integration/idp_lib.sh"

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A local OCSP responder (openssl ocsp) signed by the test issuing CA: the
# personas fisica and moral are good, the EC P-256 e.firma revoked.
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
printf 'V\t301231235959Z\t\t%s\tunknown\t/CN=fisica\n' "$(serial "$FIX_FISICA_CERT_PEM")" > "$T/index.txt"
printf 'V\t301231235959Z\t\t%s\tunknown\t/CN=moral\n' "$(serial "$FIX_MORAL_CERT_PEM")" >> "$T/index.txt"
printf 'R\t301231235959Z\t240101000000Z\t%s\tunknown\t/CN=ec256\n' "$(serial "$FIX_EC256_CERT_PEM")" >> "$T/index.txt"
printf 'V\t301231235959Z\t\t%s\tunknown\t/CN=csd\n' "$(serial "$FIX_CSD_CERT_PEM")" >> "$T/index.txt"
OPORT=$(free_port)
openssl ocsp -index "$T/index.txt" -port "$OPORT" -rsigner "$FIX_CA_ISSUER_PEM" \
    -rkey "$FIX_CA_ISSUER_KEY_PEM" -CA "$FIX_CA_ISSUER_PEM" -ndays 1 >"$T/ocsp.log" 2>&1 &
OPID=$!
i=0
# (its log says when it listens: a probe connection would block it, it
# serves one connection at a time)
until grep -q 'waiting for OCSP client connections' "$T/ocsp.log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 50 ] || ! kill -0 "$OPID" 2>/dev/null; then
        echo "openssl ocsp no arrancó:" >&2
        cat "$T/ocsp.log" >&2
        exit 1
    fi
    sleep 0.1
done

cat > "$T/config.json" <<JSON
{
  "trusted_cas": ["$FIX_CA_ISSUER_PEM"],
  "ocsp_url": "http://127.0.0.1:$OPORT/",
  "rate_limit_ip": 60,
  "clients": [
    {"client_id": "portal-prueba", "name": "Portal de prueba",
     "redirect_uris": ["http://127.0.0.1:9/portal/callback"]},
    {"client_id": "portal-confidencial", "name": "Portal confidencial",
     "client_secret": "secreto-de-prueba-no-real",
     "redirect_uris": ["http://127.0.0.1:9/confidencial/callback"]}
  ]
}
JSON
idp_start "$T/port" --db "$T/idp.db" --config "$T/config.json"
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
